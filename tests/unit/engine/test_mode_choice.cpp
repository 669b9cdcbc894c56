// Batch or direct, and why.
#include "core/config.hpp"
#include "engine/direct_job.hpp"
#include "engine/mode_choice.hpp"
#include "unit_support.hpp"

using obatch::choose_mode;
using obatch::Config;

static void batch_is_the_default(void **) {
  Config c;
  assert_false(choose_mode(c, 1).direct);
  c.set("mode", "direct");
  assert_true(choose_mode(c, 1000000).direct);
}

static void auto_goes_direct_below_the_threshold(void **) {
  Config c;
  c.set("mode", "auto");
  assert_true(choose_mode(c, 99).direct);
  assert_false(choose_mode(c, 100).direct);
  assert_contains(choose_mode(c, 100).reason, "at least direct_below 100");
  c.set("direct_below", "10");
  assert_false(choose_mode(c, 50).direct);
  assert_contains(choose_mode(c, 5).reason, "5 requests, fewer than direct_below 10");
}

static void auto_goes_direct_for_a_short_deadline(void **) {
  Config c;
  c.set("mode", "auto");
  c.set("deadline", "2h");
  assert_true(choose_mode(c, 1000000).direct);
  assert_contains(choose_mode(c, 1000000).reason, "deadline 2h");
  c.set("deadline", "48h");
  assert_false(choose_mode(c, 1000000).direct);
}

static void config_refuses_bad_values(void **) {
  Config c;
  EXPECT_ERROR(OBATCH_ECONFIG, "mode is", c.set("mode", "fast"));
  EXPECT_ERROR(OBATCH_ECONFIG, "deadline is a duration", c.set("deadline", "tomorrow"));
  EXPECT_ERROR(OBATCH_ECONFIG, "concurrency is 1 to 4096", c.set("concurrency", "0"));
  EXPECT_ERROR(OBATCH_ECONFIG, "concurrency is 1 to 4096", c.set("concurrency", "5000"));
}

static void direct_urls_do_not_double_v1(void **) {
  assert_str_eq(obatch::direct_url("https://api.openai.com/v1", "/v1/chat/completions"),
                "https://api.openai.com/v1/chat/completions");
  assert_str_eq(obatch::direct_url("http://127.0.0.1:8000/v1/", "/v1/embeddings"),
                "http://127.0.0.1:8000/v1/embeddings");
  assert_str_eq(obatch::direct_url("http://127.0.0.1:8000", "/v1/embeddings"),
                "http://127.0.0.1:8000/v1/embeddings");
}

static const struct CMUnitTest mode_choice_tests[] = {
    cmocka_unit_test(batch_is_the_default),
    cmocka_unit_test(auto_goes_direct_below_the_threshold),
    cmocka_unit_test(auto_goes_direct_for_a_short_deadline),
    cmocka_unit_test(config_refuses_bad_values),
    cmocka_unit_test(direct_urls_do_not_double_v1),
};

OBATCH_TEST_MAIN(mode_choice_tests, nullptr, nullptr)
