#include "core/id_index.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <stdexcept>

namespace obatch {

uint32_t IdIndex::hash_of(std::string_view id) {
  uint64_t h = std::hash<std::string_view>()(id);
  return static_cast<uint32_t>(h ^ (h >> 32));
}

size_t IdIndex::slot_of(std::string_view id, uint32_t h) const {
  const size_t mask = table_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const uint64_t t = table_[i];
    if (t == 0) return i;
    if (static_cast<uint32_t>(t >> 32) != h) continue;
    const Entry &e = entries_[static_cast<uint32_t>(t) - 1];
    if (e.length == id.size() &&
        std::memcmp(blocks_[e.block].data() + e.offset, id.data(), id.size()) == 0)
      return i;
  }
}

void IdIndex::place(uint32_t h, uint64_t pos) {
  const size_t mask = table_.size() - 1;
  size_t i = h & mask;
  while (table_[i] != 0) i = (i + 1) & mask;
  table_[i] = slot_value(h, pos);
}

void IdIndex::grow() {
  std::vector<uint64_t> old(table_.empty() ? 64 : table_.size() * 2, 0);
  old.swap(table_);
  for (uint64_t t : old)
    if (t != 0) place(static_cast<uint32_t>(t >> 32), static_cast<uint32_t>(t) - 1);
}

void IdIndex::append(std::string_view id) {
  if (entries_.size() >= UINT32_MAX - 1 || id.size() > UINT32_MAX)
    throw std::length_error("too many custom_ids");
  if (blocks_.empty() || blocks_.back().capacity() - blocks_.back().size() < id.size()) {
    // Blocks double from 4 kB up to kBlockBytes: a batch of ten requests
    // must not cost a megabyte (programs keep many small batches open).
    size_t want =
        blocks_.empty() ? kFirstBlockBytes : std::min(kBlockBytes, blocks_.back().capacity() * 2);
    blocks_.emplace_back();
    blocks_.back().reserve(std::max(want, id.size()));
  }
  std::vector<char> &block = blocks_.back();
  entries_.push_back({static_cast<uint32_t>(blocks_.size() - 1),
                      static_cast<uint32_t>(block.size()), static_cast<uint32_t>(id.size())});
  block.insert(block.end(), id.begin(), id.end());
}

void IdIndex::place_pending() {
  if (pending_ == 0) return;
  // Keep the table at most half full: probes stay short.
  while (entries_.size() * 2 > table_.size()) grow();
  const uint64_t first = entries_.size() - pending_;
  const size_t mask = table_.size() - 1;
  uint32_t hashes[kPending];
  for (uint32_t k = 0; k < pending_; k++) {
    hashes[k] = hash_of(view(first + k));
    __builtin_prefetch(&table_[hashes[k] & mask]);
  }
  for (uint32_t k = 0; k < pending_; k++) place(hashes[k], first + k);
  pending_ = 0;
}

uint64_t IdIndex::find_pending(std::string_view id) const {
  for (uint64_t p = entries_.size() - pending_; p < entries_.size(); p++)
    if (view(p) == id) return p;
  return npos;
}

bool IdIndex::add(std::string_view id) {
  place_pending();
  if ((entries_.size() + 1) * 2 > table_.size()) grow();
  const uint32_t h = hash_of(id);
  const size_t slot = slot_of(id, h);
  if (table_[slot] != 0) return false;
  append(id);
  table_[slot] = slot_value(h, entries_.size() - 1);
  return true;
}

void IdIndex::add_new(std::string_view id) {
  append(id);
  if (++pending_ == kPending) place_pending();
}

uint64_t IdIndex::find(std::string_view id) const {
  const uint64_t t = table_.empty() ? 0 : table_[slot_of(id, hash_of(id))];
  return t == 0 ? find_pending(id) : static_cast<uint32_t>(t) - 1;
}

void IdIndex::find_many(const std::string_view *ids, size_t n, uint64_t *pos) const {
  if (table_.empty()) {
    for (size_t k = 0; k < n; k++) pos[k] = find_pending(ids[k]);
    return;
  }
  constexpr size_t kGroup = 32;
  const size_t mask = table_.size() - 1;
  uint32_t hashes[kGroup];
  for (size_t base = 0; base < n; base += kGroup) {
    const size_t m = std::min(kGroup, n - base);
    // Three rounds, each touching what the next one reads: the table slot,
    // then the entry it names, then the id's text.
    for (size_t k = 0; k < m; k++) {
      hashes[k] = hash_of(ids[base + k]);
      __builtin_prefetch(&table_[hashes[k] & mask]);
    }
    for (size_t k = 0; k < m; k++) {
      const uint64_t t = table_[hashes[k] & mask];
      if (t != 0 && static_cast<uint32_t>(t >> 32) == hashes[k])
        __builtin_prefetch(&entries_[static_cast<uint32_t>(t) - 1]);
    }
    for (size_t k = 0; k < m; k++) {
      const uint64_t t = table_[hashes[k] & mask];
      if (t != 0 && static_cast<uint32_t>(t >> 32) == hashes[k]) {
        const Entry &e = entries_[static_cast<uint32_t>(t) - 1];
        __builtin_prefetch(blocks_[e.block].data() + e.offset);
      }
    }
    for (size_t k = 0; k < m; k++) {
      const uint64_t t = table_[slot_of(ids[base + k], hashes[k])];
      pos[base + k] = t == 0 ? find_pending(ids[base + k]) : static_cast<uint32_t>(t) - 1;
    }
  }
}

void IdIndex::truncate(uint64_t n) {
  if (n >= entries_.size()) return;
  if (n == 0) {
    clear();
    return;
  }
  // Ids are stored in order: the text of the dropped ones is the tail of
  // the blocks.
  const Entry &last = entries_[n - 1];
  blocks_.resize(last.block + 1);
  blocks_.back().resize(last.offset + last.length);
  entries_.resize(n);
  pending_ = 0;  // the table is rebuilt from every entry
  // Rare (a rolled-back file): rebuild the table rather than delete from it.
  // (It may hold fewer slots than the entries need: ids add_new kept back.)
  size_t slots = std::max<size_t>(table_.size(), 64);
  while (entries_.size() * 2 > slots) slots *= 2;
  table_.assign(slots, 0);
  for (uint64_t p = 0; p < entries_.size(); p++) place(hash_of(view(p)), p);
}

void IdIndex::clear() {
  blocks_.clear();
  entries_.clear();
  table_.clear();
  pending_ = 0;
}

}  // namespace obatch
