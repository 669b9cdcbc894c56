#include "capi/guard.hpp"
#include "capi/handles.hpp"
#include "engine/api_client.hpp"
#include "engine/remote_status.hpp"
#include "util/url.hpp"

using obatch::guarded;

extern "C" {

int obatch_list(obatch_list_t **out, const obatch_config_t *conf, const char *after,
                unsigned limit, char *errstr, size_t errstr_size) {
  if (!out || !conf) {
    obatch::copy_errstr(errstr, errstr_size, "obatch_list: NULL argument");
    return OBATCH_EINVAL;
  }
  *out = nullptr;
  std::string msg;
  int rc = guarded(&msg, [&] {
    if (limit > 100) throw obatch::Error(OBATCH_EINVAL, "list: limit is 1..100 (0: 20)");
    const obatch::Config &c = conf->conf;
    if (c.get("provider").empty())
      throw obatch::Error(OBATCH_EPROVIDER, "list: say which provider to ask (provider)");
    auto provider = obatch::find_provider(c.get("provider"));
    obatch::Transport transport;
    obatch::ApiClient client(provider, obatch::check_base_url(provider->base_url(c)),
                             provider->api_key(c), obatch::client_settings(c), &transport);
    obatch::Fields args{{"limit", std::to_string(limit ? limit : 20)}};
    if (after && *after) args["after"] = after;
    auto list = std::make_unique<obatch_batch_list>();
    try {
      list->page = client.call(OBATCH_OP_LIST, args);
    } catch (const obatch::Stopped &) {
      throw obatch::Error(OBATCH_EINTERNAL, "list: interrupted");
    }
    *out = list.release();
  });
  if (rc != OBATCH_OK) obatch::copy_errstr(errstr, errstr_size, msg);
  return rc;
}

int obatch_list_next(obatch_list_t *list, obatch_info_t *info) {
  if (!list || !info || info->version < 1) return OBATCH_EINVAL;
  if (list->next >= list->page.items.size()) return OBATCH_END;
  list->current = list->page.items[list->next++];
  auto &f = list->current;
  static const std::string empty;
  auto str = [&](const char *k) -> const char * {
    auto it = f.find(k);
    return it == f.end() ? empty.c_str() : it->second.c_str();
  };
  auto num = [&](const char *k) -> uint64_t {
    auto it = f.find(k);
    return it == f.end() ? 0 : std::strtoull(it->second.c_str(), nullptr, 10);
  };
  obatch_info_t blank = OBATCH_INFO_INIT;
  blank.version = info->version;
  *info = blank;
  info->phase = obatch::phase_for_status(str("status"));
  info->batch_id = str("batch_id");
  info->remote_status = str("status");
  info->endpoint = str("endpoint");
  info->input_file_id = str("input_file_id");
  info->requests_total = num("requests_total");
  info->requests_completed = num("requests_completed");
  info->requests_failed = num("requests_failed");
  info->created_at = static_cast<int64_t>(num("created_at"));
  info->error_message = str("error_message");
  return OBATCH_OK;
}

int obatch_list_has_more(const obatch_list_t *list) {
  return list && list->page.get("has_more") == "true";
}

const char *obatch_list_last_id(const obatch_list_t *list) {
  if (!list) return "";
  auto it = list->page.page.find("last_id");
  return it == list->page.page.end() ? "" : it->second.c_str();
}

void obatch_list_destroy(obatch_list_t *list) { delete list; }

}  // extern "C"
