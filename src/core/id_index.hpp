// The custom_ids of a batch in input order, with a hash index for duplicate
// checks and lookups. The only per-request memory obatch keeps.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

namespace obatch {

class IdIndex {
 public:
  static constexpr uint64_t npos = UINT64_MAX;

  // Appends `id`; returns false (and adds nothing) if it is already present.
  bool add(std::string_view id);
  // The 0-based position of `id`, or npos.
  uint64_t find(std::string_view id) const;
  const std::string &at(uint64_t pos) const { return ids_[pos]; }
  uint64_t size() const { return ids_.size(); }
  // Drops every id from position `n` on (rolls back a failed file add).
  void truncate(uint64_t n);
  void clear();

 private:
  // A deque never moves its elements, so the views in pos_ stay valid.
  std::deque<std::string> ids_;
  std::unordered_map<std::string_view, uint64_t> pos_;
};

}  // namespace obatch
