// Remote batches asked for synchronously, on the caller's thread: a page of
// the list, one batch by id, or a cancel by id. All read with
// obatch_list_next.
#include "capi/guard.hpp"
#include "capi/handles.hpp"
#include "capi/info.hpp"
#include "engine/api_client.hpp"
#include "engine/remote_status.hpp"
#include "util/url.hpp"

using obatch::guarded;

namespace {

// The provider named in the config, and a client for it with the usual
// retries. `what` starts error messages ("list", "retrieve", ...).
struct SyncClient {
  std::shared_ptr<const obatch::Provider> provider;
  std::string base_url;
  obatch::Transport transport;
  std::unique_ptr<obatch::ApiClient> client;
  // The config's abort token stops the transport: a transfer or a back-off
  // in progress ends at once.
  std::shared_ptr<obatch::AbortToken> abort;
  obatch::AbortToken::Watch watch;

  SyncClient(const obatch::Config &c, const char *what)
      : abort(c.abort()), watch(abort, [this] { transport.stop(); }) {
    obatch::throw_if_aborted(abort, what);
    if (c.get("provider").empty())
      throw obatch::Error(OBATCH_EPROVIDER,
                          std::string(what) + ": say which provider to ask (provider)");
    provider = obatch::find_provider(c.get("provider"));
    // The key first: a provider without one is "not this one" to a caller
    // that asks each (a declared host may have no base URL either).
    std::string key = provider->api_key(c);
    base_url = obatch::check_base_url(provider->base_url(c));
    client = std::make_unique<obatch::ApiClient>(provider, base_url, std::move(key),
                                                 obatch::client_settings(c), &transport);
  }

  obatch::Remote call(int op, const obatch::Fields &args, const char *what) {
    try {
      return client->call(op, args);
    } catch (const obatch::Stopped &) {
      obatch::throw_if_aborted(abort, what);
      throw obatch::Error(OBATCH_EINTERNAL, std::string(what) + ": interrupted");
    }
  }

  // "no batch ID at openai (URL)": what a 404 on a batch means.
  obatch::Error not_found(const std::string &batch_id, const obatch::Error &e) const {
    return obatch::Error(OBATCH_ENOTFOUND, "no batch " + batch_id + " at " + provider->name() +
                                               " (" + base_url + "): " + e.what());
  }
};

// A page of one: the batch object the answer held.
obatch_list_t *page_of_one(obatch::Remote r) {
  auto list = std::make_unique<obatch_batch_list>();
  list->page.items.push_back(std::move(r.page));
  list->page.page["last_id"] = list->page.items.back()["batch_id"];
  return list.release();
}

// Runs `f` for a by-id call with the common argument checks and errstr.
template <class F>
int by_id(obatch_list_t **out, const obatch_config_t *conf, const char *batch_id, char *errstr,
          size_t errstr_size, const char *what, F &&f) {
  if (!out || !conf || !batch_id || !*batch_id) {
    obatch::copy_errstr(errstr, errstr_size,
                        std::string(what) + ": NULL argument or empty batch id");
    if (out) *out = nullptr;
    return OBATCH_EINVAL;
  }
  *out = nullptr;
  std::string msg;
  int rc = guarded(&msg, [&] {
    SyncClient sc(conf->conf, what);
    *out = page_of_one(f(sc));
  });
  if (rc != OBATCH_OK) obatch::copy_errstr(errstr, errstr_size, msg);
  return rc;
}

obatch::Remote retrieve(SyncClient &sc, const std::string &id) {
  try {
    return sc.call(OBATCH_OP_RETRIEVE, {{"batch_id", id}}, "retrieve");
  } catch (const obatch::Error &e) {
    if (e.code() == OBATCH_ENOTFOUND) throw sc.not_found(id, e);
    throw;
  }
}

}  // namespace

extern "C" {

int obatch_list(obatch_list_t **out, const obatch_config_t *conf, const char *after, unsigned limit,
                char *errstr, size_t errstr_size) {
  if (!out || !conf) {
    obatch::copy_errstr(errstr, errstr_size, "obatch_list: NULL argument");
    return OBATCH_EINVAL;
  }
  *out = nullptr;
  std::string msg;
  int rc = guarded(&msg, [&] {
    if (limit > 100) throw obatch::Error(OBATCH_EINVAL, "list: limit is 1..100 (0: 20)");
    SyncClient sc(conf->conf, "list");
    obatch::Fields args{{"limit", std::to_string(limit ? limit : 20)}};
    if (after && *after) args["after"] = after;
    auto list = std::make_unique<obatch_batch_list>();
    list->page = sc.call(OBATCH_OP_LIST, args, "list");
    *out = list.release();
  });
  if (rc != OBATCH_OK) obatch::copy_errstr(errstr, errstr_size, msg);
  return rc;
}

int obatch_retrieve(obatch_list_t **out, const obatch_config_t *conf, const char *batch_id,
                    char *errstr, size_t errstr_size) {
  return by_id(out, conf, batch_id, errstr, errstr_size, "retrieve",
               [&](SyncClient &sc) { return retrieve(sc, batch_id); });
}

int obatch_cancel_id(obatch_list_t **out, const obatch_config_t *conf, const char *batch_id,
                     char *errstr, size_t errstr_size) {
  return by_id(out, conf, batch_id, errstr, errstr_size, "cancel", [&](SyncClient &sc) {
    try {
      return sc.call(OBATCH_OP_CANCEL, {{"batch_id", batch_id}}, "cancel");
    } catch (const obatch::Error &e) {
      if (e.code() == OBATCH_ENOTFOUND) throw sc.not_found(batch_id, e);
      if (e.code() != OBATCH_EHTTP) throw;
      // The API refuses to cancel a batch that has ended (400): then its
      // current state is the answer. Any other refusal stays an error.
      obatch::Remote now;
      try {
        now = retrieve(sc, batch_id);
      } catch (const obatch::Error &) {
        throw e;  // the cancel's own failure says more
      }
      std::string status = now.get("status");
      if (obatch::is_terminal_status(status) || status == "cancelling") return now;
      throw;
    }
  });
}

int obatch_list_next(obatch_list_t *list, obatch_info_t *info) {
  if (!list || !info || info->version < 1) return OBATCH_EINVAL;
  if (list->next >= list->page.items.size()) return OBATCH_END;
  return guarded(nullptr, [&] {
    list->current = obatch::JobSnapshot();
    obatch::apply_batch_fields(list->page.items[list->next++], &list->current);
    list->current.phase = obatch::phase_for_status(list->current.remote_status);
    obatch::fill_info(list->current, info);
  });
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
