#include "core/part_plan.hpp"

namespace obatch {

bool PartCutter::fits(const PartInfo &p, uint64_t bytes, uint64_t embedding_inputs) const {
  return (!limits_.max_requests || p.requests + 1 <= limits_.max_requests) &&
         (!limits_.max_bytes || p.bytes + bytes <= limits_.max_bytes) &&
         (!limits_.max_embedding_inputs ||
          p.embedding_inputs + embedding_inputs <= limits_.max_embedding_inputs);
}

uint32_t PartCutter::count(uint32_t part, uint64_t bytes, uint64_t embedding_inputs) {
  PartInfo &p = parts_[part];
  p.requests++;
  p.bytes += bytes;
  p.embedding_inputs += embedding_inputs;
  p.tokens += estimated_tokens(bytes);
  return part;
}

uint32_t PartCutter::place(uint64_t index, const std::string &model, uint64_t bytes,
                           uint64_t embedding_inputs) {
  const std::string &key = limits_.one_model ? model : std::string();
  // The usual request goes where the one before it went: no hash lookup.
  if (last_part_ != kNone && key == last_key_ && fits(parts_[last_part_], bytes, embedding_inputs))
    return count(last_part_, bytes, embedding_inputs);
  auto it = open_.find(key);
  if (it != open_.end() && !fits(parts_[it->second], bytes, embedding_inputs)) {
    open_.erase(it);
    it = open_.end();
  }
  if (it == open_.end()) {
    PartInfo fresh;
    fresh.model = key;
    fresh.first = index;
    parts_.push_back(std::move(fresh));
    it = open_.emplace(key, static_cast<uint32_t>(parts_.size() - 1)).first;
  }
  last_key_ = key;
  last_part_ = it->second;
  return count(it->second, bytes, embedding_inputs);
}

}  // namespace obatch
