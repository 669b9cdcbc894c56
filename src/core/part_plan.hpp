// Cutting one job's input into parts, each one batch the provider takes: at
// most max_requests requests, max_bytes bytes of JSONL, max_embedding_inputs
// inputs to embed and, where the provider wants it, one model. A request
// goes into the open part of its model (one open part per model, so a mixed
// input becomes per-model parts) until it would not fit; then that part is
// closed and a new one opened. The cut depends only on the input and the
// limits: the same command cuts the same parts again (resume relies on it).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace obatch {

struct PartLimits {
  uint64_t max_requests = 0;          // 0: no limit
  uint64_t max_bytes = 0;             // of the part's JSONL file; 0: no limit
  uint64_t max_embedding_inputs = 0;  // 0: no limit
  bool one_model = false;
};

struct PartInfo {
  std::string model;  // "" when the provider takes mixed models (or none is named)
  uint64_t requests = 0, bytes = 0, embedding_inputs = 0;
  // Prompt tokens, estimated from the bytes (4 per token, rounded up per
  // request): never less than the JSON text the provider counts.
  uint64_t tokens = 0;
  uint64_t first = 0;  // 0-based input position of its first request
};

// An estimate of one request's prompt tokens from its JSONL line's size.
inline uint64_t estimated_tokens(uint64_t line_bytes) { return (line_bytes + 3) / 4; }

class PartCutter {
 public:
  explicit PartCutter(PartLimits limits = {}) : limits_(limits) {}

  // Places the request at input position `index` and returns its part (an
  // index into parts()). A request larger than a limit on its own must be
  // refused by the caller first: here it gets a part of its own.
  uint32_t place(uint64_t index, const std::string &model, uint64_t bytes,
                 uint64_t embedding_inputs);

  const std::vector<PartInfo> &parts() const { return parts_; }
  const PartLimits &limits() const { return limits_; }

 private:
  // Whether a request of `bytes` and `embedding_inputs` fits in `p`.
  bool fits(const PartInfo &p, uint64_t bytes, uint64_t embedding_inputs) const;
  // Counts the request in `part`; returns `part`.
  uint32_t count(uint32_t part, uint64_t bytes, uint64_t embedding_inputs);

  PartLimits limits_;
  std::vector<PartInfo> parts_;
  std::unordered_map<std::string, uint32_t> open_;  // model (or "") -> its open part
  // The part the last request went to (open_[last_key_]), or kNone.
  static constexpr uint32_t kNone = UINT32_MAX;
  std::string last_key_;
  uint32_t last_part_ = kNone;
};

}  // namespace obatch
