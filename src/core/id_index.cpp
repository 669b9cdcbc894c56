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
    uint32_t t = table_[i];
    if (t == 0) return i;
    const Entry &e = entries_[t - 1];
    if (e.hash == h && e.length == id.size() &&
        std::memcmp(blocks_[e.block].data() + e.offset, id.data(), id.size()) == 0)
      return i;
  }
}

void IdIndex::grow() {
  size_t cap = table_.empty() ? 64 : table_.size() * 2;
  table_.assign(cap, 0);
  const size_t mask = cap - 1;
  for (size_t p = 0; p < entries_.size(); p++) {
    size_t i = entries_[p].hash & mask;
    while (table_[i] != 0) i = (i + 1) & mask;
    table_[i] = static_cast<uint32_t>(p + 1);
  }
}

bool IdIndex::add(std::string_view id) {
  if (entries_.size() >= UINT32_MAX - 1 || id.size() > UINT32_MAX)
    throw std::length_error("too many custom_ids");
  // Keep the table at most half full: probes stay short.
  if ((entries_.size() + 1) * 2 > table_.size()) grow();
  const uint32_t h = hash_of(id);
  const size_t slot = slot_of(id, h);
  if (table_[slot] != 0) return false;
  if (blocks_.empty() || blocks_.back().capacity() - blocks_.back().size() < id.size()) {
    // Blocks double from 4 kB up to kBlockBytes: a batch of ten requests
    // must not cost a megabyte (programs keep many small batches open).
    size_t want = blocks_.empty() ? kFirstBlockBytes
                                  : std::min(kBlockBytes, blocks_.back().capacity() * 2);
    blocks_.emplace_back();
    blocks_.back().reserve(std::max(want, id.size()));
  }
  std::vector<char> &block = blocks_.back();
  entries_.push_back({static_cast<uint32_t>(blocks_.size() - 1),
                      static_cast<uint32_t>(block.size()), static_cast<uint32_t>(id.size()), h});
  block.insert(block.end(), id.begin(), id.end());
  table_[slot] = static_cast<uint32_t>(entries_.size());
  return true;
}

uint64_t IdIndex::find(std::string_view id) const {
  if (table_.empty()) return npos;
  uint32_t t = table_[slot_of(id, hash_of(id))];
  return t == 0 ? npos : t - 1;
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
  // Rare (a rolled-back file): rebuild the table rather than delete from it.
  std::fill(table_.begin(), table_.end(), 0);
  const size_t mask = table_.size() - 1;
  for (size_t p = 0; p < entries_.size(); p++) {
    size_t i = entries_[p].hash & mask;
    while (table_[i] != 0) i = (i + 1) & mask;
    table_[i] = static_cast<uint32_t>(p + 1);
  }
}

void IdIndex::clear() {
  blocks_.clear();
  entries_.clear();
  table_.clear();
}

}  // namespace obatch
