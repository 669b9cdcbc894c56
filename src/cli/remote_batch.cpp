#include "cli/remote_batch.hpp"

namespace obatch::cli {

RemoteBatch::RemoteBatch(RemoteBatch &&other) noexcept
    : provider(std::move(other.provider)), info(other.info), page(other.page) {
  other.page = nullptr;
}

namespace {

using ByIdCall = int (*)(obatch_list_t **, const obatch_config_t *, const char *, char *, size_t);

RemoteBatch by_id(ByIdCall call, const ApiOptions &api, const std::string &batch_id) {
  RemoteBatch r;
  ApiOptions one = api;
  one.provider = provider_for_batch(api, batch_id, &r.page);
  r.provider = one.provider;
  // Finding the provider retrieved the batch already; a retrieve needs no
  // second call.
  if (!(r.page && call == obatch_retrieve)) {
    obatch_list_destroy(r.page);
    r.page = nullptr;
    Config conf(one);
    char err[512] = "";
    int rc = call(&r.page, conf.get(), batch_id.c_str(), err, sizeof err);
    if (rc != OBATCH_OK) fail(rc, err);
  }
  if (obatch_list_next(r.page, &r.info) != OBATCH_OK)
    fail(OBATCH_EPROTOCOL, "the provider answered without the batch " + batch_id);
  return r;
}

}  // namespace

RemoteBatch retrieve_batch(const ApiOptions &api, const std::string &batch_id) {
  return by_id(obatch_retrieve, api, batch_id);
}

RemoteBatch cancel_batch(const ApiOptions &api, const std::string &batch_id) {
  return by_id(obatch_cancel_id, api, batch_id);
}

}  // namespace obatch::cli
