#include "engine/input_twin.hpp"

#include <cstdlib>

#include "util/sha256.hpp"

namespace obatch {

std::string derived_job_id(const std::string &digest, const std::string &provider,
                           const std::string &base_url, const std::string &endpoint) {
  Sha256 sha;
  // NUL-separated: no two different keys give the same bytes.
  for (const std::string *part : {&digest, &provider, &base_url, &endpoint}) {
    sha.update(part->data(), part->size());
    sha.update("", 1);
  }
  return sha.hex().substr(0, 24);
}

bool is_twin_batch(const Fields &batch, const std::string &tag, const std::string &endpoint,
                   int64_t now) {
  auto get = [&](const char *key) {
    auto it = batch.find(key);
    return it == batch.end() ? std::string() : it->second;
  };
  if (tag.empty() || get("metadata.obatch_job") != tag) return false;
  if (get("endpoint") != endpoint) return false;
  const std::string status = get("status");
  if (status != "validating" && status != "in_progress" && status != "finalizing" &&
      status != "completed")
    return false;
  const std::string created = get("created_at");
  char *end = nullptr;
  const long long at = created.empty() ? 0 : std::strtoll(created.c_str(), &end, 10);
  if (created.empty() || *end != '\0' || at <= 0) return false;  // age unknown: not taken
  return now - at <= kTwinMaxAgeSeconds;
}

}  // namespace obatch
