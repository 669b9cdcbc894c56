// The copied, checked key/value settings behind obatch_config_t.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace obatch {

class AbortToken;

class Config {
 public:
  // Sets or (value == nullptr) removes a key; throws Error(ECONFIG) naming
  // the key and the accepted values.
  void set(const std::string &key, const char *value);

  // The value or `fallback`.
  std::string get(const std::string &key, const std::string &fallback = "") const;
  bool has(const std::string &key) const;
  // A whole-number setting, or `fallback` when absent.
  int64_t get_int(const std::string &key, int64_t fallback) const;

  // metadata.KEY pairs, in key order.
  std::vector<std::pair<std::string, std::string>> metadata() const;

  const std::map<std::string, std::string> &values() const { return values_; }

  // The token that ends the calls made with this config (obatch_abort_t);
  // not a setting: it is never hashed, journaled or shown.
  const std::shared_ptr<AbortToken> &abort() const { return abort_; }
  void set_abort(std::shared_ptr<AbortToken> token) { abort_ = std::move(token); }

 private:
  std::map<std::string, std::string> values_;
  std::shared_ptr<AbortToken> abort_;
};

// The Batch API allows 16 metadata pairs; obatch writes one (obatch_job) to
// find its own batch again after a lost answer, so the user has 15.
constexpr size_t kUserMetadataPairs = 15;

// Checks the metadata limits (kUserMetadataPairs pairs, keys <= 64, values
// <= 512 chars); throws Error(ECONFIG) naming the pair and the limit.
void check_metadata(const std::vector<std::pair<std::string, std::string>> &md);

}  // namespace obatch
