#include <strings.h>

#include "capi/guard.hpp"
#include "providers/openai_adapter.hpp"
#include "providers/provider.hpp"

using obatch::guarded;

extern "C" {

const char *obatch_op_arg(const obatch_op_args_t *args, const char *key) {
  if (!args || !key) return nullptr;
  auto it = args->values.find(key);
  return it == args->values.end() ? nullptr : it->second.c_str();
}

int obatch_http_request_set(obatch_http_request_t *req, const char *method, const char *target) {
  if (!req || !method || !target) return OBATCH_EINVAL;
  return guarded(nullptr, [&] {
    req->req.method = method;
    req->req.target = target;
  });
}

int obatch_http_request_add_header(obatch_http_request_t *req, const char *name,
                                   const char *value) {
  if (!req || !name || !value) return OBATCH_EINVAL;
  // The engine owns Authorization: a provider must not route the key.
  if (strcasecmp(name, "authorization") == 0) return OBATCH_EINVAL;
  return guarded(nullptr, [&] { req->req.headers.emplace_back(name, value); });
}

int obatch_http_request_set_body(obatch_http_request_t *req, const char *content_type,
                                 const char *data, size_t len) {
  if (!req || !content_type || (!data && len)) return OBATCH_EINVAL;
  return guarded(nullptr, [&] {
    req->req.content_type = content_type;
    req->req.body.assign(data ? data : "", len);
  });
}

int obatch_http_request_set_body_file(obatch_http_request_t *req, const char *content_type,
                                      const char *path) {
  if (!req || !content_type || !path) return OBATCH_EINVAL;
  return guarded(nullptr, [&] {
    req->req.content_type = content_type;
    req->req.body_file = path;
  });
}

int obatch_http_request_add_form_field(obatch_http_request_t *req, const char *name,
                                       const char *value) {
  if (!req || !name || !value) return OBATCH_EINVAL;
  return guarded(nullptr, [&] { req->req.form.push_back({name, value, "", "", ""}); });
}

int obatch_http_request_add_form_file(obatch_http_request_t *req, const char *name,
                                      const char *path, const char *filename,
                                      const char *content_type) {
  if (!req || !name || !path || !filename) return OBATCH_EINVAL;
  return guarded(nullptr, [&] {
    req->req.form.push_back({name, "", path, filename, content_type ? content_type : ""});
  });
}

int obatch_remote_set(obatch_remote_t *remote, const char *field, const char *value) {
  if (!remote || !field || !value) return OBATCH_EINVAL;
  return guarded(nullptr, [&] {
    std::string f = field;
    bool page_level = f == "has_more" || f == "last_id";
    auto &r = remote->remote;
    if (r.in_item && !page_level) r.items.back()[f] = value;
    else r.page[f] = value;
  });
}

int obatch_remote_next_item(obatch_remote_t *remote) {
  if (!remote) return OBATCH_EINVAL;
  return guarded(nullptr, [&] {
    remote->remote.items.emplace_back();
    remote->remote.in_item = true;
  });
}

int obatch_provider_init(obatch_provider_t *provider, unsigned version) {
  if (!provider || version < 1 || version > OBATCH_PROVIDER_VERSION) return OBATCH_EINVAL;
  // A caller built against an older header has a shorter struct.
  std::memset(provider, 0, obatch::provider_table_size(version));
  provider->version = version;
  return OBATCH_OK;
}

int obatch_provider_register(const obatch_provider_t *provider) {
  if (!provider) return OBATCH_EINVAL;
  return guarded(nullptr, [&] { obatch::register_provider(*provider); });
}

int obatch_provider_load_file(const char *path) {
  std::string &msg = obatch::thread_last_error();
  if (!path) {
    msg = "obatch_provider_load_file: path is NULL";
    return OBATCH_EINVAL;
  }
  return guarded(&msg, [&] { obatch::load_providers_file(path); });
}

const char *obatch_provider_names(void) {
  // Per thread: two threads asking at once do not share a buffer.
  static thread_local std::string names;
  std::string current;
  if (guarded(nullptr, [&] { current = obatch::provider_names(); }) != OBATCH_OK) return "";
  names = current;
  return names.c_str();
}

int obatch_openai_build_request(int op, const obatch_op_args_t *args,
                                obatch_http_request_t *req, void *) {
  if (!args || !req) return OBATCH_EINVAL;
  return guarded(nullptr, [&] { obatch::openai_build(op, args->values, &req->req); });
}

int obatch_openai_parse_response(int op, int, const char *body, size_t body_len,
                                 obatch_remote_t *remote, void *) {
  if (!remote || (!body && body_len)) return OBATCH_EINVAL;
  return guarded(nullptr, [&] {
    obatch::openai_parse(op, std::string_view(body ? body : "", body_len), &remote->remote);
  });
}

}  // extern "C"
