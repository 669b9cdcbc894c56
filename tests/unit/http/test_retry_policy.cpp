// The official SDKs' retry policy (WIRE.md), as pure functions.
#include <curl/curl.h>

#include "http/retry_policy.hpp"
#include "unit_support.hpp"

using obatch::Headers;

static const Headers kNone;

static void retries_transient_statuses(void **) {
  for (long status : {0L, 408L, 409L, 429L, 500L, 502L, 503L, 504L, 599L})
    if (!obatch::should_retry(status, kNone)) fail_msg("status %ld should be retried", status);
}

static void does_not_retry_client_errors(void **) {
  for (long status : {200L, 400L, 401L, 403L, 404L, 422L})
    if (obatch::should_retry(status, kNone)) fail_msg("status %ld should not be retried", status);
}

static void x_should_retry_overrides(void **) {
  assert_false(obatch::should_retry(503, {{"x-should-retry", "false"}}));
  assert_false(obatch::should_retry(429, {{"x-should-retry", "false"}}));
  assert_true(obatch::should_retry(400, {{"x-should-retry", "true"}}));
  assert_true(obatch::should_retry(404, {{"x-should-retry", "true"}}));
  // Anything else is no opinion.
  assert_true(obatch::should_retry(500, {{"x-should-retry", "maybe"}}));
  assert_false(obatch::should_retry(400, {{"x-should-retry", "1"}}));
}

static void retry_after_ms_header(void **) {
  assert_int_equal(obatch::server_retry_after_ms({{"retry-after-ms", "1500"}}, 0), 1500);
  assert_int_equal(obatch::server_retry_after_ms({{"retry-after-ms", "250.5"}}, 0), 250);
  // It wins over Retry-After.
  assert_int_equal(
      obatch::server_retry_after_ms({{"retry-after-ms", "100"}, {"retry-after", "5"}}, 0), 100);
  // Unreadable: Retry-After is asked instead.
  assert_int_equal(
      obatch::server_retry_after_ms({{"retry-after-ms", "soon"}, {"retry-after", "5"}}, 0), 5000);
}

static void retry_after_seconds(void **) {
  assert_int_equal(obatch::server_retry_after_ms({{"retry-after", "3"}}, 0), 3000);
  assert_int_equal(obatch::server_retry_after_ms({{"retry-after", "60"}}, 0), 60000);
  assert_int_equal(obatch::server_retry_after_ms({{"retry-after", "0.5"}}, 0), 500);
}

static void retry_after_http_date(void **) {
  const char *date = "Wed, 21 Oct 2015 07:28:00 GMT";
  time_t when = curl_getdate(date, nullptr);
  assert_true(when > 0);
  assert_int_equal(obatch::server_retry_after_ms({{"retry-after", date}}, when - 30), 30000);
  // A date in the past or too far ahead is no wish.
  assert_int_equal(obatch::server_retry_after_ms({{"retry-after", date}}, when + 10), -1);
  assert_int_equal(obatch::server_retry_after_ms({{"retry-after", date}}, when - 61), -1);
}

static void retry_after_out_of_range_ignored(void **) {
  assert_int_equal(obatch::server_retry_after_ms({{"retry-after", "61"}}, 0), -1);
  assert_int_equal(obatch::server_retry_after_ms({{"retry-after-ms", "60001"}}, 0), -1);
  assert_int_equal(obatch::server_retry_after_ms({{"retry-after", "0"}}, 0), -1);
  assert_int_equal(obatch::server_retry_after_ms({{"retry-after-ms", "0"}}, 0), -1);
  assert_int_equal(obatch::server_retry_after_ms({{"retry-after", "-5"}}, 0), -1);
  assert_int_equal(obatch::server_retry_after_ms({{"retry-after", "garbage"}}, 0), -1);
  assert_int_equal(obatch::server_retry_after_ms(kNone, 0), -1);
}

static void backoff_doubles_to_8s(void **) {
  const long want[] = {500, 1000, 2000, 4000, 8000, 8000, 8000};
  for (int attempt = 0; attempt < 7; attempt++)
    assert_int_equal(obatch::backoff_ms(attempt, 0.0), want[attempt]);
}

static void backoff_jitter_takes_up_to_a_quarter(void **) {
  const long full[] = {500, 1000, 2000, 4000, 8000, 8000};
  for (int attempt = 0; attempt < 6; attempt++) {
    long got = obatch::backoff_ms(attempt, 0.999999);
    assert_in_range(got, full[attempt] * 3 / 4, full[attempt] * 3 / 4 + 1);
  }
  assert_int_equal(obatch::backoff_ms(1, 0.5), 875);
}

static void retry_delay_prefers_the_server(void **) {
  assert_int_equal(obatch::retry_delay_ms(0, {{"retry-after", "7"}}, 0, 0.0), 7000);
  assert_int_equal(obatch::retry_delay_ms(2, kNone, 0, 0.0), 2000);
  assert_int_equal(obatch::retry_delay_ms(2, {{"retry-after", "600"}}, 0, 0.0), 2000);
}

static const struct CMUnitTest retry_policy_tests[] = {
    cmocka_unit_test(retries_transient_statuses),
    cmocka_unit_test(does_not_retry_client_errors),
    cmocka_unit_test(x_should_retry_overrides),
    cmocka_unit_test(retry_after_ms_header),
    cmocka_unit_test(retry_after_seconds),
    cmocka_unit_test(retry_after_http_date),
    cmocka_unit_test(retry_after_out_of_range_ignored),
    cmocka_unit_test(backoff_doubles_to_8s),
    cmocka_unit_test(backoff_jitter_takes_up_to_a_quarter),
    cmocka_unit_test(retry_delay_prefers_the_server),
};

OBATCH_TEST_MAIN(retry_policy_tests, nullptr, nullptr)
