#include "core/config.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>

#include "obatch/obatch.h"
#include "util/duration.hpp"
#include "util/error.hpp"

namespace obatch {
namespace {

const std::set<std::string> kStringKeys = {
    "provider",   "base_url",    "api_key",          "endpoint",
    "completion_window", "work_dir", "results_dir", "output_path",
    "error_path", "custom_id_prefix", "state", "ca_file", "split", "mode", "deadline",
    "flush_age", "lease", "retention", "translate"};

const std::set<std::string> kNumberKeys = {
    "poll_interval_ms", "poll_max_interval_ms", "max_retries",
    "connect_timeout_ms", "request_timeout_ms", "max_requests", "max_bytes", "force_new",
    "max_enqueued_tokens", "max_running_batches", "direct_below", "concurrency", "rpm", "tpm",
    "flush_requests", "flush_bytes", "max_attempts"};

const char kMetadataPrefix[] = "metadata.";

// ca_file names the CA certificates to trust (a private CA; certificates
// are always verified). It must be a file obatch can read now, so a typo
// fails here and not as a certificate error later.
void check_ca_file(const std::string &path) {
  struct stat st;
  int err = 0;
  if (stat(path.c_str(), &st) != 0)
    err = errno;
  else if (!S_ISREG(st.st_mode))
    err = EISDIR;
  else if (access(path.c_str(), R_OK) != 0)
    err = errno;
  if (err)
    throw Error(OBATCH_ECONFIG, "ca_file '" + path + "' cannot be read: " + std::strerror(err) +
                                    " (it names a PEM file of CA certificates to trust)");
}

bool parse_count(const std::string &v, int64_t *out) {
  if (v.empty() || v.size() > 18) return false;
  for (char c : v)
    if (c < '0' || c > '9') return false;
  *out = std::strtoll(v.c_str(), nullptr, 10);
  return true;
}

}  // namespace

void Config::set(const std::string &key, const char *value) {
  bool is_meta = key.rfind(kMetadataPrefix, 0) == 0;
  if (!is_meta && !kStringKeys.count(key) && !kNumberKeys.count(key)) {
    std::string known;
    for (auto &k : kStringKeys) known += " " + k;
    for (auto &k : kNumberKeys) known += " " + k;
    throw Error(OBATCH_ECONFIG, "unknown configuration key '" + key +
                                    "'; known keys:" + known + " metadata.KEY");
  }
  if (!value) {
    values_.erase(key);
    return;
  }
  std::string v = value;
  if (kNumberKeys.count(key)) {
    int64_t n = 0;
    if (!parse_count(v, &n))
      throw Error(OBATCH_ECONFIG, "configuration key '" + key +
                                      "' takes a whole number >= 0, not '" + v + "'");
    if (key == "force_new" && n > 1)
      throw Error(OBATCH_ECONFIG, "force_new is 0 or 1, not " + v);
    if (key == "max_retries" && n > 100)
      throw Error(OBATCH_ECONFIG, "max_retries is at most 100, not " + v);
  }
  if (is_meta) {
    std::string mk = key.substr(sizeof(kMetadataPrefix) - 1);
    if (mk.empty())
      throw Error(OBATCH_ECONFIG, "metadata key is empty in '" + key + "'");
    auto md = metadata();
    if (!values_.count(key)) md.emplace_back(mk, v);
    for (auto &p : md)
      if (p.first == mk) p.second = v;
    check_metadata(md);
  }
  // Hours or days; which windows a provider takes is checked at submit
  // (OpenAI's Batch API: only 24h; Groq: 24h to 7d).
  if (key == "completion_window" &&
      (v.size() < 2 || (v.back() != 'h' && v.back() != 'd') ||
       v.find_first_not_of("0123456789") != v.size() - 1 || v[0] == '0'))
    throw Error(OBATCH_ECONFIG,
                "completion_window must be a number of hours or days such as \"24h\" (the "
                "only window OpenAI's Batch API offers) or \"7d\", not '" + v + "'");
  if (key == "ca_file" && !v.empty()) check_ca_file(v);
  if (key == "translate" && v != "on" && v != "off")
    throw Error(OBATCH_ECONFIG, "translate is \"on\" (send /v1/chat/completions requests to "
                                "Anthropic as Messages requests) or \"off\", not '" + v + "'");
  if (key == "split" && v != "auto" && v != "off")
    throw Error(OBATCH_ECONFIG, "split is \"auto\" (cut an input the provider's limits do not "
                                "take into several batches) or \"off\" (one batch; a larger "
                                "input is refused), not '" + v + "'");
  if (key == "mode" && v != "batch" && v != "direct" && v != "auto")
    throw Error(OBATCH_ECONFIG,
                "mode is \"batch\" (the Batch API: half price, results within 24h), \"direct\" "
                "(normal requests: full price, results in minutes) or \"auto\" (direct for a "
                "small job or a deadline shorter than 24h), not '" +
                    v + "'");
  // Durations: direct mode's deadline, the queue's flush_age, lease, retention.
  if (key == "deadline" || key == "flush_age" || key == "lease" || key == "retention") {
    double ms = 0;
    if (!parse_duration_ms(v, &ms) || ms <= 0)
      throw Error(OBATCH_ECONFIG,
                  key + " is a duration such as " +
                      (key == "deadline" ? "2h, 90m or 1h30m" : "90s, 10m or 2h") + ", not '" +
                      v + "'");
  }
  if ((key == "flush_requests" || key == "max_attempts") && v == "0")
    throw Error(OBATCH_ECONFIG, key + " is at least 1, not 0");
  if (key == "concurrency" && (v == "0" || std::strtoll(v.c_str(), nullptr, 10) > 4096))
    throw Error(OBATCH_ECONFIG, "concurrency is 1 to 4096 requests in flight, not " + v);
  if (key == "custom_id_prefix" && v.empty())
    throw Error(OBATCH_ECONFIG, "custom_id_prefix must not be empty");
  values_[key] = v;
}

std::string Config::get(const std::string &key, const std::string &fallback) const {
  auto it = values_.find(key);
  return it == values_.end() ? fallback : it->second;
}

bool Config::has(const std::string &key) const { return values_.count(key) != 0; }

int64_t Config::get_int(const std::string &key, int64_t fallback) const {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  return std::strtoll(it->second.c_str(), nullptr, 10);
}

std::vector<std::pair<std::string, std::string>> Config::metadata() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto it = values_.lower_bound(kMetadataPrefix);
       it != values_.end() && it->first.rfind(kMetadataPrefix, 0) == 0; ++it)
    out.emplace_back(it->first.substr(sizeof(kMetadataPrefix) - 1), it->second);
  return out;
}

void check_metadata(const std::vector<std::pair<std::string, std::string>> &md) {
  if (md.size() > kUserMetadataPairs)
    throw Error(OBATCH_ECONFIG, "metadata has " + std::to_string(md.size()) +
                                    " pairs; the limit is 15 (the Batch API "
                                    "allows 16 and obatch uses one, obatch_job)");
  for (auto &p : md) {
    if (p.first.size() > 64)
      throw Error(OBATCH_ECONFIG, "metadata key '" + p.first.substr(0, 70) +
                                      "...' is " + std::to_string(p.first.size()) +
                                      " characters; the limit is 64");
    if (p.second.size() > 512)
      throw Error(OBATCH_ECONFIG, "metadata value of '" + p.first + "' is " +
                                      std::to_string(p.second.size()) +
                                      " characters; the limit is 512");
  }
}

}  // namespace obatch
