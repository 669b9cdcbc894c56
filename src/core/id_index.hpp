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
  // Appends `id`, which the caller knows is not present (an id generated so
  // that it cannot collide), without looking for it: it enters the table
  // with the next ones, kPending at a time, their table slots fetched ahead
  // together. Per id, that lookup was one cache miss over a large index.
  // Every other call sees it at once.
  void add_new(std::string_view id);
  // Puts the ids add_new kept back into the table (before a move).
  void place_pending();
  // The 0-based position of `id`, or npos.
  uint64_t find(std::string_view id) const;
  // find() of each of ids[0..n) into pos[0..n), the memory each needs
  // fetched ahead for all of them first: over a large index every lookup is
  // a few cache misses, which this overlaps instead of waiting for each.
  void find_many(const std::string_view *ids, size_t n, uint64_t *pos) const;
  // Asks the cache for the table slot of `id` (an add or find of it soon
  // after then waits less).
  void prefetch(std::string_view id) const {
    if (!table_.empty()) __builtin_prefetch(&table_[hash_of(id) & (table_.size() - 1)]);
  }
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
  // through an open-addressing table: about 12 bytes per id plus its text
  // plus the table, instead of a string and a hash node each.
  struct Entry {
    uint32_t block, offset, length;
  };
  // A table slot: the id's hash in the high half, its position + 1 in the
  // low half (0: empty). A probe that meets another id's slot is told apart
  // by the hash alone, without a cache miss on the entry and its text: with
  // a million ids those misses were most of the time of add and of open.
  static uint64_t slot_value(uint32_t h, uint64_t pos) { return uint64_t(h) << 32 | (pos + 1); }
  static constexpr size_t kBlockBytes = size_t(1) << 20;
  static constexpr uint32_t kPending = 64;
  static constexpr size_t kFirstBlockBytes = size_t(4) << 10;
  static uint32_t hash_of(std::string_view id);
  // The table slot holding `id` (hash `h`), or the empty slot where it goes.
  size_t slot_of(std::string_view id, uint32_t h) const;
  void grow();
  // Puts position `pos` (hash `h`) into the table, known not to hold it.
  void place(uint32_t h, uint64_t pos);
  // Stores the text and entry of a new id (not the table slot).
  void append(std::string_view id);
  // The position of `id` among the last pending_ ids (not yet in the
  // table), or npos.
  uint64_t find_pending(std::string_view id) const;

  std::vector<std::vector<char>> blocks_;  // offsets, not pointers, refer here
  std::vector<Entry> entries_;
  std::vector<uint64_t> table_;  // slot_value()s; 0: empty. Size: a power of 2
  uint32_t pending_ = 0;         // the last entries, added by add_new, not in table_
};

}  // namespace obatch
