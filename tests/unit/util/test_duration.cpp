// Go durations, as OpenAI's x-ratelimit-reset-* headers and --deadline write them.
#include "unit_support.hpp"
#include "util/duration.hpp"

static double ms_of(const char *text) {
  double ms = -1;
  if (!obatch::parse_duration_ms(text, &ms)) fail_msg("'%s' should parse", text);
  return ms;
}

static void parses_go_durations(void **) {
  assert_true(ms_of("0") == 0);
  assert_true(ms_of("0s") == 0);
  assert_true(ms_of("12ms") == 12);
  assert_true(ms_of("1s") == 1000);
  assert_true(ms_of("6m0s") == 360000);
  assert_true(ms_of("1m30.5s") == 90500);
  assert_true(ms_of("2h") == 7200000);
  assert_true(ms_of("1h30m") == 5400000);
  assert_true(ms_of("1500us") == 1.5);
  assert_true(ms_of("2000000ns") == 2);
}

static void refuses_anything_else(void **) {
  double ms = 0;
  for (const char *bad : {"", "s", "5", "1d", "-1s", "1.2.3s", "1 s", "1s ", "abc", "1m30"})
    if (obatch::parse_duration_ms(bad, &ms)) fail_msg("'%s' should not parse", bad);
}

static const struct CMUnitTest duration_tests[] = {
    cmocka_unit_test(parses_go_durations),
    cmocka_unit_test(refuses_anything_else),
};

OBATCH_TEST_MAIN(duration_tests, nullptr, nullptr)
