#include "engine/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "util/duration.hpp"

namespace obatch {

namespace {

bool header_count(const Headers &h, const std::string &name, uint64_t *out) {
  auto it = h.find(name);
  if (it == h.end() || it->second.empty()) return false;
  char *end = nullptr;
  const unsigned long long v = std::strtoull(it->second.c_str(), &end, 10);
  if (!end || *end != '\0') return false;
  *out = v;
  return true;
}

}  // namespace

RateLimiter::RateLimiter(uint64_t rpm, uint64_t tpm) {
  requests_.configured = rpm;
  tokens_.configured = tpm;
}

uint64_t RateLimiter::Lane::limit() const {
  if (configured && server) return std::min(configured, server);
  return configured ? configured : server;
}

// One second's worth, and at least one request (or one token).
double RateLimiter::Lane::capacity() const {
  return std::max(1.0, static_cast<double>(limit()) / 60.0);
}

double RateLimiter::Lane::level_now(int64_t now) const {
  const double cap = capacity();
  if (level_at < 0) return cap;
  const double rate = static_cast<double>(limit()) / 60000.0;  // per ms
  return std::min(cap, level + rate * static_cast<double>(now - level_at));
}

int64_t RateLimiter::Lane::wait_ms(int64_t now, uint64_t amount) {
  int64_t wait = std::max<int64_t>(0, blocked_until - now);
  const uint64_t l = limit();
  if (l == 0) return wait;
  while (!log.empty() && log.front().first <= now - kWindowMs) {
    in_window -= log.front().second;
    log.pop_front();
  }
  // The minute: wait for enough of the log to leave it (for a request over
  // the whole limit, for all of it: it goes alone).
  if (in_window + amount > l && !log.empty()) {
    uint64_t left = in_window;
    for (const auto &e : log) {
      left -= e.second;
      if (left + amount <= l || left == 0) {
        wait = std::max(wait, e.first + kWindowMs - now);
        break;
      }
    }
  }
  // The pace: a request larger than the bucket waits for a full one.
  const double need = std::min(static_cast<double>(amount), capacity());
  const double have = level_now(now);
  if (have < need) {
    const double rate = static_cast<double>(l) / 60000.0;
    wait = std::max(wait, static_cast<int64_t>(std::ceil((need - have) / rate)));
  }
  return wait;
}

void RateLimiter::Lane::sent(int64_t now, uint64_t amount) {
  if (limit() == 0) {
    level_at = -1;
    return;
  }
  level = level_now(now) - static_cast<double>(amount);
  level_at = now;
  log.emplace_back(now, amount);
  in_window += amount;
}

void RateLimiter::Lane::observe(int64_t now, const Headers &h, const char *suffix) {
  uint64_t told = 0, remaining = 0;
  if (header_count(h, std::string("x-ratelimit-limit-") + suffix, &told) && told > 0) {
    if (level_at >= 0 && told != server) level = std::min(level, std::max(1.0, told / 60.0));
    server = told;
  }
  if (!header_count(h, std::string("x-ratelimit-remaining-") + suffix, &remaining)) return;
  auto reset = h.find(std::string("x-ratelimit-reset-") + suffix);
  double reset_ms = 0;
  if (reset == h.end() || !parse_duration_ms(reset->second, &reset_ms)) reset_ms = 1000;
  const uint64_t l = server ? server : limit();
  // Too few left for one more request (or one second's tokens): wait for the
  // server's bucket to refill that much (reset is when it is full again).
  const double want = suffix[0] == 'r' ? 1.0 : capacity();
  if (static_cast<double>(remaining) >= want) return;
  double ms = reset_ms;
  if (l > remaining)
    ms = reset_ms * (want - static_cast<double>(remaining)) / static_cast<double>(l - remaining);
  ms = std::min(ms, reset_ms);
  blocked_until = std::max(blocked_until, now + static_cast<int64_t>(std::ceil(ms)));
}

int64_t RateLimiter::wait_ms(int64_t now, uint64_t tokens) {
  int64_t wait = std::max<int64_t>(0, paused_until_ - now);
  wait = std::max(wait, requests_.wait_ms(now, 1));
  wait = std::max(wait, tokens_.wait_ms(now, tokens));
  return wait;
}

void RateLimiter::sent(int64_t now, uint64_t tokens) {
  requests_.sent(now, 1);
  tokens_.sent(now, tokens);
}

void RateLimiter::observe(int64_t now, const Headers &headers) {
  requests_.observe(now, headers, "requests");
  tokens_.observe(now, headers, "tokens");
}

void RateLimiter::pause_until(int64_t until) { paused_until_ = std::max(paused_until_, until); }

}  // namespace obatch
