#include "engine/poll_schedule.hpp"

#include <algorithm>

namespace obatch {

PollSchedule::PollSchedule(long min_ms, long max_ms)
    : min_ms_(std::max(1L, min_ms)), max_ms_(std::max(std::max(1L, min_ms), max_ms)) {}

long PollSchedule::next_delay_ms(long age_ms) const {
  return std::clamp(age_ms / 10, min_ms_, max_ms_);
}

}  // namespace obatch
