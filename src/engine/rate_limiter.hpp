// When the next direct request may go: request and token limits per minute,
// the user's (--rpm, --tpm) and the server's (x-ratelimit-* headers), and a
// pause for the whole dispatcher after a 429. Pure logic over a clock the
// caller passes in (ms), so it is tested without a network or a wait.
//
// A limit of L per minute is kept two ways at once, as providers enforce it:
// no more than L in any minute (a log of what was sent in the last 61 s: a
// second for the way to the server), and paced over shorter periods (a
// bucket of one second's worth, refilled at L/60 a second), because
// OpenAI and Anthropic say a per-minute limit may be enforced per second.
#pragma once

#include <cstdint>
#include <deque>
#include <utility>

#include "http/retry_policy.hpp"

namespace obatch {

class RateLimiter {
 public:
  static constexpr int64_t kWindowMs = 61000;

  // rpm, tpm: the user's limits (0: none).
  RateLimiter(uint64_t rpm, uint64_t tpm);

  // How long (ms) before a request of `tokens` may be sent; 0: now.
  int64_t wait_ms(int64_t now, uint64_t tokens);
  // Records a request sent at `now`.
  void sent(int64_t now, uint64_t tokens);
  // Follows the server's x-ratelimit-limit/remaining/reset-{requests,tokens}.
  void observe(int64_t now, const Headers &headers);
  // Nothing is sent before `until` (a 429's retry-after).
  void pause_until(int64_t until);
  int64_t paused_until() const { return paused_until_; }

  // The limits in force: the lower of the user's and the server's.
  uint64_t rpm() const { return requests_.limit(); }
  uint64_t tpm() const { return tokens_.limit(); }
  // Whether the server told its limits (then they are followed).
  bool server_rpm() const { return requests_.server != 0; }
  bool server_tpm() const { return tokens_.server != 0; }

 private:
  struct Lane {
    uint64_t configured = 0, server = 0;           // per minute; 0: none / not told
    std::deque<std::pair<int64_t, uint64_t>> log;  // (sent at, amount), last kWindowMs
    uint64_t in_window = 0;
    double level = 0;           // the pacing bucket at level_at...
    int64_t level_at = -1;      // ...(-1: not used yet: full)
    int64_t blocked_until = 0;  // the server said too few remain until then
    uint64_t limit() const;
    double capacity() const;
    double level_now(int64_t now) const;
    int64_t wait_ms(int64_t now, uint64_t amount);
    void sent(int64_t now, uint64_t amount);
    void observe(int64_t now, const Headers &h, const char *suffix);
  };
  Lane requests_, tokens_;
  int64_t paused_until_ = 0;
};

}  // namespace obatch
