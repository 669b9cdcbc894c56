// PollSchedule: a tenth of the batch's age, within [min, max].
#include "engine/poll_schedule.hpp"
#include "unit_support.hpp"

using obatch::PollSchedule;

static void young_batch_waits_the_minimum(void **) {
  PollSchedule s(1000, 60000);
  assert_int_equal(s.next_delay_ms(0), 1000);
  assert_int_equal(s.next_delay_ms(5000), 1000);
  assert_int_equal(s.next_delay_ms(10000), 1000);
}

static void tenth_of_age_in_between(void **) {
  PollSchedule s(1000, 60000);
  assert_int_equal(s.next_delay_ms(20000), 2000);
  assert_int_equal(s.next_delay_ms(123450), 12345);
  assert_int_equal(s.next_delay_ms(600000), 60000);
}

static void old_batch_waits_the_maximum(void **) {
  PollSchedule s(1000, 60000);
  assert_int_equal(s.next_delay_ms(600001 * 10L), 60000);
  assert_int_equal(s.next_delay_ms(24L * 3600 * 1000), 60000);  // a day-long batch
}

static void bad_bounds_are_repaired(void **) {
  // min below 1 ms would spin; max below min is raised to min.
  PollSchedule zero(0, 0);
  assert_int_equal(zero.next_delay_ms(0), 1);
  assert_int_equal(zero.next_delay_ms(100000), 1);
  PollSchedule inverted(5000, 10);
  assert_int_equal(inverted.next_delay_ms(0), 5000);
  assert_int_equal(inverted.next_delay_ms(1000000), 5000);
}

static void negative_age_waits_the_minimum(void **) {
  PollSchedule s(200, 1000);
  assert_int_equal(s.next_delay_ms(-5000), 200);  // clock skew
}

// One case a line, as clang-format would not.
// clang-format off
static const struct CMUnitTest poll_schedule_tests[] = {
    cmocka_unit_test(young_batch_waits_the_minimum),
    cmocka_unit_test(tenth_of_age_in_between),
    cmocka_unit_test(old_batch_waits_the_maximum),
    cmocka_unit_test(bad_bounds_are_repaired),
    cmocka_unit_test(negative_age_waits_the_minimum),
};
// clang-format on

OBATCH_TEST_MAIN(poll_schedule_tests, nullptr, nullptr)
