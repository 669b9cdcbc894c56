// The deferred queue's states: the names the store and the commands use,
// and the C API's numbers (obatch_queue_state). Header-only: the library,
// the command and `obatch serve` share it.
#pragma once

#include <string_view>

#include "obatch/obatch.h"

namespace obatch {

struct QueueStateName {
  int code;
  const char *name;
};

inline constexpr QueueStateName kQueueStates[] = {{OBATCH_QUEUE_QUEUED, "queued"},
                                                  {OBATCH_QUEUE_SUBMITTED, "submitted"},
                                                  {OBATCH_QUEUE_COMPLETED, "completed"},
                                                  {OBATCH_QUEUE_FAILED, "failed"},
                                                  {OBATCH_QUEUE_EXPIRED, "expired"}};

// "queued" ... "expired"; "unknown" for another number.
inline const char *queue_state_name(int code) {
  for (const QueueStateName &s : kQueueStates)
    if (s.code == code) return s.name;
  return "unknown";
}

// The number of a state's name; 0 for another name.
inline int queue_state_code(std::string_view name) {
  for (const QueueStateName &s : kQueueStates)
    if (name == s.name) return s.code;
  return 0;
}

}  // namespace obatch
