// input_twin: the job id derived from an input, and which listed batch of
// another journal is taken up as this input's batch.
#include "engine/input_twin.hpp"
#include "unit_support.hpp"

using obatch::Fields;

static const int64_t kNow = 1800000000;

static Fields batch(const std::string &status, int64_t created_at) {
  return {{"batch_id", "batch_1"},
          {"status", status},
          {"endpoint", "/v1/chat/completions"},
          {"created_at", std::to_string(created_at)},
          {"metadata.obatch_job", "0123456789abcdef01234567"}};
}

static void derived_id_is_stable_and_keyed(void **) {
  const std::string d = obatch::derived_job_id("ab", "openai", "https://x/v1", "/v1/e");
  assert_int_equal(d.size(), 24);
  assert_true(d.find_first_not_of("0123456789abcdef") == std::string::npos);
  assert_str_eq(d, obatch::derived_job_id("ab", "openai", "https://x/v1", "/v1/e"));
  // Each part of the key counts, and parts do not run into each other.
  assert_true(d != obatch::derived_job_id("ac", "openai", "https://x/v1", "/v1/e"));
  assert_true(d != obatch::derived_job_id("ab", "parasail", "https://x/v1", "/v1/e"));
  assert_true(d != obatch::derived_job_id("ab", "openai", "https://y/v1", "/v1/e"));
  assert_true(d != obatch::derived_job_id("ab", "openai", "https://x/v1", "/v1/f"));
  assert_true(obatch::derived_job_id("a", "bopenai", "u", "e") !=
              obatch::derived_job_id("ab", "openai", "u", "e"));
}

static void running_or_completed_recent_batch_of_the_job_is_a_twin(void **) {
  const std::string tag = "0123456789abcdef01234567", ep = "/v1/chat/completions";
  for (const char *status : {"validating", "in_progress", "finalizing", "completed"})
    assert_true(obatch::is_twin_batch(batch(status, kNow - 3600), tag, ep, kNow));
  assert_true(
      obatch::is_twin_batch(batch("completed", kNow - obatch::kTwinMaxAgeSeconds), tag, ep, kNow));
}

static void other_batches_are_not(void **) {
  const std::string tag = "0123456789abcdef01234567", ep = "/v1/chat/completions";
  // Runs to do again, not to take up.
  for (const char *status : {"failed", "expired", "cancelling", "cancelled", "", "weird"})
    assert_false(obatch::is_twin_batch(batch(status, kNow - 60), tag, ep, kNow));
  // Too old: an earlier run, not a lost one.
  assert_false(obatch::is_twin_batch(batch("completed", kNow - obatch::kTwinMaxAgeSeconds - 1), tag,
                                     ep, kNow));
  // Another job, another endpoint, no tag.
  assert_false(
      obatch::is_twin_batch(batch("completed", kNow), "ffffffffffffffffffffffff", ep, kNow));
  assert_false(obatch::is_twin_batch(batch("completed", kNow), tag, "/v1/embeddings", kNow));
  assert_false(obatch::is_twin_batch(batch("completed", kNow), "", ep, kNow));
  Fields untagged = batch("completed", kNow);
  untagged.erase("metadata.obatch_job");
  assert_false(obatch::is_twin_batch(untagged, tag, ep, kNow));
  // Age unknown or not a number: not taken.
  for (const char *created : {"", "0", "-5", "12x", "soon"}) {
    Fields b = batch("completed", kNow);
    b["created_at"] = created;
    assert_false(obatch::is_twin_batch(b, tag, ep, kNow));
  }
}

static const struct CMUnitTest input_twin_tests[] = {
    cmocka_unit_test(derived_id_is_stable_and_keyed),
    cmocka_unit_test(running_or_completed_recent_batch_of_the_job_is_a_twin),
    cmocka_unit_test(other_batches_are_not),
};

OBATCH_TEST_MAIN(input_twin_tests, nullptr, nullptr)
