// The JobSnapshot of a runner (Job, PartedJob): changed by the runner's own
// thread, read by the caller's, which may also wait for it to change.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

#include "engine/snapshot.hpp"
#include "obatch/obatch.h"

namespace obatch {

class SnapshotBoard {
 public:
  // Changes the snapshot under the lock, counts a generation and wakes the
  // waiters.
  template <class F>
  void update(F &&f) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      f(snap_);
      snap_.generation++;
    }
    cv_.notify_all();
  }

  // The run stopped: phase FAILED with the code and message of why.
  void fail(int code, const std::string &message) {
    update([&](JobSnapshot &s) {
      s.phase = OBATCH_PHASE_FAILED;
      s.error_code = code;
      s.error_message = message;
      s.requests_in_flight = 0;
    });
  }

  // f(snapshot) under the lock: for what must be read with it at once.
  template <class F>
  auto read(F &&f) const {
    std::lock_guard<std::mutex> lock(mu_);
    return f(snap_);
  }

  JobSnapshot get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return snap_;
  }

  // Waits up to timeout_ms for a generation newer than `seen`, or for the
  // run to end.
  void wait(uint64_t seen, int timeout_ms) const {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
      return snap_.generation != seen || snap_.phase == OBATCH_PHASE_DONE ||
             snap_.phase == OBATCH_PHASE_FAILED;
    });
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  JobSnapshot snap_;
};

}  // namespace obatch
