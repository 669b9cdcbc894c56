// The custom_ids of a batch in input order, with a hash index for duplicate
// checks and lookups. The only per-request memory obatch keeps.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace obatch {

class IdIndex {
 public:
  static constexpr uint64_t npos = UINT64_MAX;

  // Appends `id`; returns false (and adds nothing) if it is already present.
  bool add(std::string_view id);
  // The 0-based position of `id`, or npos.
  uint64_t find(std::string_view id) const;
  // The id at `pos`; the view lives until the index changes.
  std::string_view view(uint64_t pos) const {
    const Entry &e = entries_[pos];
    return std::string_view(blocks_[e.block].data() + e.offset, e.length);
  }
  std::string at(uint64_t pos) const { return std::string(view(pos)); }
  uint64_t size() const { return entries_.size(); }
  // Drops every id from position `n` on (rolls back a failed file add).
  void truncate(uint64_t n);
  void clear();

 private:
  // Ids are packed into large blocks (no allocation per id) and found
  // through an open-addressing table of positions: about 16 bytes per id
  // plus its text plus the table, instead of a string and a hash node each.
  struct Entry {
    uint32_t block, offset, length, hash;
  };
  static constexpr size_t kBlockBytes = size_t(1) << 20;
  static constexpr size_t kFirstBlockBytes = size_t(4) << 10;
  static uint32_t hash_of(std::string_view id);
  // The table slot holding `id` (hash `h`), or the empty slot where it goes.
  size_t slot_of(std::string_view id, uint32_t h) const;
  void grow();

  std::vector<std::vector<char>> blocks_;  // offsets, not pointers, refer here
  std::vector<Entry> entries_;
  std::vector<uint32_t> table_;  // position + 1; 0: empty. Size: a power of 2
};

}  // namespace obatch
