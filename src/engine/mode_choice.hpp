// Batch or direct: how a job's requests are sent (config mode, direct_below,
// deadline), and why, in words for the user.
#pragma once

#include <cstdint>
#include <string>

namespace obatch {

class Config;

struct ModeChoice {
  bool direct = false;
  std::string reason;
};

// The Batch API's only completion window.
constexpr int64_t kCompletionWindowMs = 24LL * 3600 * 1000;
constexpr uint64_t kDefaultDirectBelow = 100;

// mode "batch" (the default: nobody pays full price by surprise), "direct",
// or "auto": direct for fewer than direct_below requests, or when the
// deadline is shorter than the completion window.
ModeChoice choose_mode(const Config &conf, uint64_t requests);

}  // namespace obatch
