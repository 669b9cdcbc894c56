#include "capi/guard.hpp"
#include "capi/handles.hpp"

using obatch::guarded;

extern "C" {

int obatch_config_new(obatch_config_t **out) {
  if (!out) return OBATCH_EINVAL;
  *out = nullptr;
  return guarded(nullptr, [&] { *out = new obatch_config(); });
}

int obatch_config_set(obatch_config_t *conf, const char *key, const char *value, char *errstr,
                      size_t errstr_size) {
  if (!conf || !key) {
    obatch::copy_errstr(errstr, errstr_size, "obatch_config_set: NULL config or key");
    return OBATCH_EINVAL;
  }
  std::string msg;
  int rc = guarded(&msg, [&] { conf->conf.set(key, value); });
  if (rc != OBATCH_OK) obatch::copy_errstr(errstr, errstr_size, msg);
  return rc;
}

const char *obatch_config_get(const obatch_config_t *conf, const char *key) {
  if (!conf || !key || std::strcmp(key, "api_key") == 0) return nullptr;
  auto &values = conf->conf.values();
  auto it = values.find(key);
  return it == values.end() ? nullptr : it->second.c_str();
}

void obatch_config_destroy(obatch_config_t *conf) { delete conf; }

int obatch_config_set_abort(obatch_config_t *conf, obatch_abort_t *abort) {
  if (!conf) return OBATCH_EINVAL;
  conf->conf.set_abort(abort ? abort->token : nullptr);
  return OBATCH_OK;
}

int obatch_abort_new(obatch_abort_t **out) {
  if (!out) return OBATCH_EINVAL;
  *out = nullptr;
  return guarded(nullptr, [&] {
    auto a = std::make_unique<obatch_abort>();
    a->token = std::make_shared<obatch::AbortToken>();
    *out = a.release();
  });
}

void obatch_abort_trigger(obatch_abort_t *abort) {
  if (abort) abort->token->trigger();
}

int obatch_abort_triggered(const obatch_abort_t *abort) {
  return abort && abort->token->triggered() ? 1 : 0;
}

void obatch_abort_reset(obatch_abort_t *abort) {
  if (abort) abort->token->reset();
}

void obatch_abort_destroy(obatch_abort_t *abort) { delete abort; }

}  // extern "C"
