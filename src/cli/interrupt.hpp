// Ctrl-C (SIGINT) and SIGTERM while a command waits: counted, never fatal,
// so the wait loop can decide what an interrupt means (leave the batch
// running, offer to cancel it, or cancel it).
#pragma once

namespace obatch::cli {

class InterruptWatch {
 public:
  InterruptWatch();   // installs the handlers
  ~InterruptWatch();  // restores the previous ones
  InterruptWatch(const InterruptWatch &) = delete;
  InterruptWatch &operator=(const InterruptWatch &) = delete;

  // Ctrl-C presses so far.
  int interrupts() const;
  // True once SIGTERM arrived (no one is there to answer a question).
  bool terminated() const;
};

}  // namespace obatch::cli
