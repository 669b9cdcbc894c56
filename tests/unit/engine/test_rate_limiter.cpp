// The direct-mode limiter, over a clock the test moves.
#include <algorithm>
#include <vector>

#include "engine/rate_limiter.hpp"
#include "unit_support.hpp"

using obatch::RateLimiter;

// Sends whenever allowed from t=0 to `until` ms; returns the send times.
static std::vector<int64_t> send_all(RateLimiter &l, int64_t until, uint64_t tokens = 1) {
  std::vector<int64_t> at;
  for (int64_t now = 0; now < until;) {
    const int64_t w = l.wait_ms(now, tokens);
    if (w > 0) {
      now += w;
      continue;
    }
    l.sent(now, tokens);
    at.push_back(now);
  }
  return at;
}

static size_t most_in_window(const std::vector<int64_t> &at, int64_t window) {
  size_t best = 0, j = 0;
  for (size_t i = 0; i < at.size(); i++) {
    while (at[i] - at[j] >= window) j++;
    best = std::max(best, i - j + 1);
  }
  return best;
}

static void no_limit_never_waits(void **) {
  RateLimiter l(0, 0);
  for (int i = 0; i < 1000; i++) {
    assert_int_equal(l.wait_ms(0, 100), 0);
    l.sent(0, 100);
  }
}

static void rpm_is_kept_over_every_minute_and_second(void **) {
  RateLimiter l(120, 0);  // 2 a second
  std::vector<int64_t> at = send_all(l, 180000);
  assert_true(most_in_window(at, 60000) <= 120);
  assert_true(most_in_window(at, 1000) <= 3);  // one second's worth, plus the edge
  // And it does use the limit: close to 2 a second over 3 minutes.
  assert_in_range(at.size(), 340, 362);
}

static void tpm_paces_by_tokens(void **) {
  RateLimiter l(0, 6000);  // 100 tokens a second
  std::vector<int64_t> at = send_all(l, 10000, 50);
  assert_in_range(at.size(), 18, 22);  // 50 tokens each: 2 a second
}

static void a_request_over_the_bucket_goes_when_it_is_full(void **) {
  RateLimiter l(0, 600);  // 10 tokens a second; a 100-token request
  assert_int_equal(l.wait_ms(0, 100), 0);
  l.sent(0, 100);
  const int64_t w = l.wait_ms(0, 100);
  assert_true(w >= 10000);  // the debt is paid back first
}

static void server_headers_lower_the_limit(void **) {
  RateLimiter l(1000, 0);
  assert_int_equal(l.rpm(), 1000);
  l.observe(0, {{"x-ratelimit-limit-requests", "60"},
                {"x-ratelimit-remaining-requests", "59"},
                {"x-ratelimit-reset-requests", "1s"}});
  assert_int_equal(l.rpm(), 60);
  assert_true(l.server_rpm());
  // A server limit above the user's does not raise it.
  RateLimiter m(30, 0);
  m.observe(0, {{"x-ratelimit-limit-requests", "60"}});
  assert_int_equal(m.rpm(), 30);
}

static void nothing_remaining_waits_for_the_reset(void **) {
  RateLimiter l(0, 0);
  l.observe(1000, {{"x-ratelimit-limit-requests", "60"},
                   {"x-ratelimit-remaining-requests", "0"},
                   {"x-ratelimit-reset-requests", "6m0s"}});
  // One of 60 comes back in 6 s of a 6 min reset.
  const int64_t w = l.wait_ms(1000, 1);
  assert_in_range(w, 5900, 6100);
  l.observe(1000, {{"x-ratelimit-limit-tokens", "1000"},
                   {"x-ratelimit-remaining-tokens", "5"},
                   {"x-ratelimit-reset-tokens", "12ms"}});
  assert_true(l.wait_ms(1000, 1) >= 5900);
}

static void a_429_pauses_everything(void **) {
  RateLimiter l(0, 0);
  l.pause_until(5000);
  assert_int_equal(l.wait_ms(1000, 1), 4000);
  l.pause_until(3000);  // never shortened
  assert_int_equal(l.wait_ms(1000, 1), 4000);
  assert_int_equal(l.wait_ms(6000, 1), 0);
}

static const struct CMUnitTest rate_limiter_tests[] = {
    cmocka_unit_test(no_limit_never_waits),
    cmocka_unit_test(rpm_is_kept_over_every_minute_and_second),
    cmocka_unit_test(tpm_paces_by_tokens),
    cmocka_unit_test(a_request_over_the_bucket_goes_when_it_is_full),
    cmocka_unit_test(server_headers_lower_the_limit),
    cmocka_unit_test(nothing_remaining_waits_for_the_reset),
    cmocka_unit_test(a_429_pauses_everything),
};

OBATCH_TEST_MAIN(rate_limiter_tests, nullptr, nullptr)
