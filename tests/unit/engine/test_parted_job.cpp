// parted_job: the limit a token_limit_exceeded failure states, which the
// scheduler learns as the model's enqueued-token budget. (Parts running
// against a server: tests/lifecycle test_capi_lifecycle parted_*,
// test_cli_parts.py.)
#include "engine/parted_job.hpp"
#include "unit_support.hpp"

static void limit_as_openai_writes_it(void **) {
  assert_int_equal(obatch::stated_token_limit(
                       "Enqueued token limit reached for gpt-4o-mini in organization org-x. "
                       "Limit: 90,000 enqueued tokens. Please try submitting your batch again "
                       "later."),
                   90000);
  assert_int_equal(obatch::stated_token_limit("... Limit: 2,000,000,000 enqueued tokens."),
                   2000000000ULL);
  assert_int_equal(obatch::stated_token_limit("Limit: 300 enqueued tokens"), 300);
}

static void no_limit_stated(void **) {
  assert_int_equal(obatch::stated_token_limit(""), 0);
  assert_int_equal(obatch::stated_token_limit("Enqueued token limit reached"), 0);
  assert_int_equal(obatch::stated_token_limit("Limit: lots"), 0);
  assert_int_equal(obatch::stated_token_limit("Limit: ,100"), 0);  // no leading digit
}

static const struct CMUnitTest parted_job_tests[] = {
    cmocka_unit_test(limit_as_openai_writes_it),
    cmocka_unit_test(no_limit_stated),
};

OBATCH_TEST_MAIN(parted_job_tests, nullptr, nullptr)
