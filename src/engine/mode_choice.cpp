#include "engine/mode_choice.hpp"

#include "core/config.hpp"
#include "util/duration.hpp"

namespace obatch {

ModeChoice choose_mode(const Config &conf, uint64_t requests) {
  const std::string mode = conf.get("mode", "batch");
  if (mode == "direct") return {true, "mode direct"};
  if (mode != "auto") return {false, "mode batch"};
  const std::string deadline = conf.get("deadline");
  double ms = 0;
  if (!deadline.empty() && parse_duration_ms(deadline, &ms) && ms < kCompletionWindowMs)
    return {true, "the deadline " + deadline +
                      " is shorter than the Batch API's completion window (24h)"};
  const uint64_t below = static_cast<uint64_t>(conf.get_int("direct_below", kDefaultDirectBelow));
  const std::string n = std::to_string(requests) + " request" + (requests == 1 ? "" : "s");
  if (requests < below)
    return {true, n + ", fewer than direct_below " + std::to_string(below) +
                      ": results in minutes at full price"};
  return {false,
          n + ", at least direct_below " + std::to_string(below) + ": the Batch API costs half"};
}

}  // namespace obatch
