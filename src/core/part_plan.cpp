#include "core/part_plan.hpp"

namespace obatch {

uint32_t PartCutter::place(uint64_t index, const std::string &model, uint64_t bytes,
                           uint64_t embedding_inputs) {
  const std::string &key = limits_.one_model ? model : std::string();
  // The usual request goes where the one before it went: no hash lookup.
  if (last_part_ != kNone && key == last_key_) {
    PartInfo &p = parts_[last_part_];
    const bool fits = (!limits_.max_requests || p.requests + 1 <= limits_.max_requests) &&
                      (!limits_.max_bytes || p.bytes + bytes <= limits_.max_bytes) &&
                      (!limits_.max_embedding_inputs ||
                       p.embedding_inputs + embedding_inputs <= limits_.max_embedding_inputs);
    if (fits) {
      p.requests++;
      p.bytes += bytes;
      p.embedding_inputs += embedding_inputs;
      p.tokens += estimated_tokens(bytes);
      return last_part_;
    }
  }
  auto it = open_.find(key);
  if (it != open_.end()) {
    const PartInfo &p = parts_[it->second];
    const bool fits = (!limits_.max_requests || p.requests + 1 <= limits_.max_requests) &&
                      (!limits_.max_bytes || p.bytes + bytes <= limits_.max_bytes) &&
                      (!limits_.max_embedding_inputs ||
                       p.embedding_inputs + embedding_inputs <= limits_.max_embedding_inputs);
    if (!fits) {
      open_.erase(it);
      it = open_.end();
    }
  }
  if (it == open_.end()) {
    PartInfo fresh;
    fresh.model = key;
    fresh.first = index;
    parts_.push_back(std::move(fresh));
    it = open_.emplace(key, static_cast<uint32_t>(parts_.size() - 1)).first;
  }
  PartInfo &p = parts_[it->second];
  p.requests++;
  p.bytes += bytes;
  p.embedding_inputs += embedding_inputs;
  p.tokens += estimated_tokens(bytes);
  last_key_ = key;
  last_part_ = it->second;
  return it->second;
}

}  // namespace obatch
