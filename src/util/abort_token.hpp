// What obatch_abort_t is: a flag that another thread sets to end the calls
// that run with it. A call that may wait (a transfer, a back-off, a wait on
// a batch) registers how to wake itself while it runs, so that a trigger
// ends it at once rather than at its next check.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "util/error.hpp"

namespace obatch {

class AbortToken {
 public:
  // Sets the flag and wakes every call registered now. Thread-safe; not
  // async-signal-safe (it takes a mutex).
  void trigger();
  bool triggered() const { return triggered_.load(std::memory_order_acquire); }
  // Clears the flag: later calls run again.
  void reset() { triggered_.store(false, std::memory_order_release); }

  // Registers `wake` (which must not block) for as long as the Watch lives; if the token was
  // already triggered, `wake` is called at once (no trigger is missed in between).
  class Watch {
   public:
    Watch() = default;
    Watch(std::shared_ptr<AbortToken> token, std::function<void()> wake);
    ~Watch();
    Watch(Watch &&other) noexcept;
    Watch &operator=(Watch &&other) noexcept;
    Watch(const Watch &) = delete;
    Watch &operator=(const Watch &) = delete;

   private:
    void release();
    std::shared_ptr<AbortToken> token_;
    uint64_t id_ = 0;
  };

 private:
  std::atomic<bool> triggered_{false};
  std::mutex mu_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::function<void()>> wakers_;
};

// Throws Error(OBATCH_EABORTED, "<what>: aborted") when `token` is set and
// triggered.
void throw_if_aborted(const std::shared_ptr<AbortToken> &token, const std::string &what);

}  // namespace obatch
