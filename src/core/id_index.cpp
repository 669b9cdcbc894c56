#include "core/id_index.hpp"

namespace obatch {

bool IdIndex::add(std::string_view id) {
  if (pos_.count(id)) return false;
  ids_.emplace_back(id);
  pos_.emplace(ids_.back(), ids_.size() - 1);
  return true;
}

uint64_t IdIndex::find(std::string_view id) const {
  auto it = pos_.find(id);
  return it == pos_.end() ? npos : it->second;
}

void IdIndex::truncate(uint64_t n) {
  while (ids_.size() > n) {
    pos_.erase(ids_.back());
    ids_.pop_back();
  }
}

void IdIndex::clear() {
  pos_.clear();
  ids_.clear();
}

}  // namespace obatch
