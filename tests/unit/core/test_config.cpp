// Config: known keys only, numbers checked, metadata within the Batch API's
// limits (minus the pair obatch keeps for itself).
#include "core/config.hpp"
#include "unit_support.hpp"

using obatch::Config;

static std::string key_of(int i) { return "metadata.k" + std::to_string(i); }

static void set_and_get_string_keys(void **) {
  Config c;
  c.set("provider", "openai");
  c.set("base_url", "https://example.com/v1");
  assert_true(c.has("provider"));
  assert_str_eq(c.get("provider"), "openai");
  assert_str_eq(c.get("base_url"), "https://example.com/v1");
  assert_false(c.has("api_key"));
  assert_str_eq(c.get("api_key", "fallback"), "fallback");
  c.set("provider", "parasail");  // overwrite
  assert_str_eq(c.get("provider"), "parasail");
}

static void unknown_key_names_the_key(void **) {
  Config c;
  std::string msg = EXPECT_ERROR(OBATCH_ECONFIG, "'model_name'", c.set("model_name", "x"));
  // The message lists what is accepted.
  assert_contains(msg, "provider");
  assert_contains(msg, "metadata.KEY");
  assert_false(c.has("model_name"));
}

static void unknown_key_rejected_even_when_removing(void **) {
  Config c;
  EXPECT_ERROR(OBATCH_ECONFIG, "'nope'", c.set("nope", nullptr));
}

static void numbers_are_validated(void **) {
  Config c;
  c.set("poll_interval_ms", "1500");
  assert_int_equal(c.get_int("poll_interval_ms", 0), 1500);
  c.set("max_requests", "0");
  assert_int_equal(c.get_int("max_requests", 7), 0);
  assert_int_equal(c.get_int("max_bytes", 42), 42);

  EXPECT_ERROR(OBATCH_ECONFIG, "'poll_interval_ms' takes a whole number >= 0, not '-1'",
               c.set("poll_interval_ms", "-1"));
  EXPECT_ERROR(OBATCH_ECONFIG, "not '1.5'", c.set("max_bytes", "1.5"));
  EXPECT_ERROR(OBATCH_ECONFIG, "not ''", c.set("max_bytes", ""));
  EXPECT_ERROR(OBATCH_ECONFIG, "not '12abc'", c.set("connect_timeout_ms", "12abc"));
  EXPECT_ERROR(OBATCH_ECONFIG, "'request_timeout_ms'",
               c.set("request_timeout_ms", "1234567890123456789"));  // 19 digits
  // A rejected value leaves the old one.
  assert_int_equal(c.get_int("poll_interval_ms", 0), 1500);
}

static void max_retries_is_at_most_100(void **) {
  Config c;
  c.set("max_retries", "100");
  assert_int_equal(c.get_int("max_retries", 0), 100);
  EXPECT_ERROR(OBATCH_ECONFIG, "at most 100, not 101", c.set("max_retries", "101"));
  assert_int_equal(c.get_int("max_retries", 0), 100);
}

static void fifteen_metadata_pairs_ok_sixteenth_rejected(void **) {
  Config c;
  for (int i = 0; i < 15; i++) c.set(key_of(i), "v");
  assert_int_equal(c.metadata().size(), 15);
  std::string msg = EXPECT_ERROR(OBATCH_ECONFIG, "15", c.set(key_of(15), "v"));
  assert_contains(msg, "16 pairs");
  assert_contains(msg, "obatch_job");
  assert_int_equal(c.metadata().size(), 15);
  assert_false(c.has(key_of(15)));
  // Changing an existing pair is not a new one.
  c.set(key_of(3), "changed");
  assert_str_eq(c.get(key_of(3)), "changed");
}

static void metadata_key_longer_than_64_rejected(void **) {
  Config c;
  c.set("metadata." + std::string(64, 'k'), "v");
  std::string msg = EXPECT_ERROR(OBATCH_ECONFIG, "the limit is 64",
                                 c.set("metadata." + std::string(65, 'k'), "v"));
  assert_contains(msg, "65 characters");
  assert_int_equal(c.metadata().size(), 1);
}

static void metadata_value_longer_than_512_rejected(void **) {
  Config c;
  c.set("metadata.note", std::string(512, 'v').c_str());
  std::string msg = EXPECT_ERROR(OBATCH_ECONFIG, "the limit is 512",
                                 c.set("metadata.note", std::string(513, 'v').c_str()));
  assert_contains(msg, "'note'");
  assert_contains(msg, "513 characters");
  assert_int_equal(c.get("metadata.note").size(), 512);
}

static void metadata_empty_key_rejected(void **) {
  Config c;
  EXPECT_ERROR(OBATCH_ECONFIG, "metadata key is empty", c.set("metadata.", "v"));
}

static void metadata_comes_in_key_order(void **) {
  Config c;
  c.set("metadata.zeta", "3");
  c.set("provider", "openai");  // not metadata
  c.set("metadata.alpha", "1");
  c.set("metadata.mid", "2");
  auto md = c.metadata();
  assert_int_equal(md.size(), 3);
  assert_str_eq(md[0].first, "alpha");
  assert_str_eq(md[0].second, "1");
  assert_str_eq(md[1].first, "mid");
  assert_str_eq(md[2].first, "zeta");
  assert_str_eq(md[2].second, "3");
}

static void null_value_removes_key(void **) {
  Config c;
  c.set("api_key", "sk-1");
  c.set("metadata.a", "1");
  c.set("metadata.b", "2");
  c.set("api_key", nullptr);
  c.set("metadata.a", nullptr);
  assert_false(c.has("api_key"));
  auto md = c.metadata();
  assert_int_equal(md.size(), 1);
  assert_str_eq(md[0].first, "b");
  c.set("max_retries", nullptr);  // removing an absent key is fine
  assert_false(c.has("max_retries"));
}

static void removing_metadata_frees_a_slot(void **) {
  Config c;
  for (int i = 0; i < 15; i++) c.set(key_of(i), "v");
  c.set(key_of(0), nullptr);
  c.set(key_of(99), "v");
  assert_int_equal(c.metadata().size(), 15);
}

// Which windows a provider takes is its own (checked at submit): the
// setting only has to be a number of hours or days.
static void completion_window_is_hours_or_days(void **) {
  Config c;
  c.set("completion_window", "24h");
  assert_str_eq(c.get("completion_window"), "24h");
  c.set("completion_window", "7d");
  assert_str_eq(c.get("completion_window"), "7d");
  for (const char *bad : {"48", "h", "0h", "24 h", "1w", "-24h", "24hh"})
    EXPECT_ERROR(OBATCH_ECONFIG, std::string("not '") + bad + "'", c.set("completion_window", bad));
  assert_str_eq(c.get("completion_window"), "7d");
}

static void custom_id_prefix_not_empty(void **) {
  Config c;
  c.set("custom_id_prefix", "req");
  EXPECT_ERROR(OBATCH_ECONFIG, "custom_id_prefix", c.set("custom_id_prefix", ""));
  assert_str_eq(c.get("custom_id_prefix"), "req");
}

static void check_metadata_directly(void **) {
  std::vector<std::pair<std::string, std::string>> md;
  for (int i = 0; i < 15; i++) md.emplace_back("k" + std::to_string(i), "v");
  EXPECT_NO_ERROR(obatch::check_metadata(md));
  md.emplace_back("k15", "v");
  EXPECT_ERROR(OBATCH_ECONFIG, "the limit is 15", obatch::check_metadata(md));
}

static void ca_file_must_be_a_readable_file(void **) {
  Config c;
  unit::TempDir dir;
  std::string pem = dir.path() + "/ca.pem";
  unit::write_all(pem, "-----BEGIN CERTIFICATE-----\n");
  c.set("ca_file", pem.c_str());
  assert_str_eq(c.get("ca_file"), pem);
  std::string missing = dir.path() + "/missing.pem";
  EXPECT_ERROR(OBATCH_ECONFIG, "ca_file '" + missing + "' cannot be read: No such file",
               c.set("ca_file", missing.c_str()));
  EXPECT_ERROR(OBATCH_ECONFIG, "ca_file '" + dir.path() + "' cannot be read",
               c.set("ca_file", dir.path().c_str()));
  assert_str_eq(c.get("ca_file"), pem);  // a rejected value leaves the old one
  c.set("ca_file", "");                  // empty: libcurl's default bundle
  assert_str_eq(c.get("ca_file", "x"), "");
}

static void nothing_turns_tls_checks_off(void **) {
  // Certificate checks have no switch: such keys are unknown, not ignored.
  Config c;
  for (const char *key : {"ssl_verify_peer", "verify_tls", "insecure", "tls_verify"})
    EXPECT_ERROR(OBATCH_ECONFIG, "unknown configuration key", c.set(key, "0"));
}

static const struct CMUnitTest config_tests[] = {
    cmocka_unit_test(set_and_get_string_keys),
    cmocka_unit_test(unknown_key_names_the_key),
    cmocka_unit_test(unknown_key_rejected_even_when_removing),
    cmocka_unit_test(numbers_are_validated),
    cmocka_unit_test(max_retries_is_at_most_100),
    cmocka_unit_test(fifteen_metadata_pairs_ok_sixteenth_rejected),
    cmocka_unit_test(metadata_key_longer_than_64_rejected),
    cmocka_unit_test(metadata_value_longer_than_512_rejected),
    cmocka_unit_test(metadata_empty_key_rejected),
    cmocka_unit_test(metadata_comes_in_key_order),
    cmocka_unit_test(null_value_removes_key),
    cmocka_unit_test(removing_metadata_frees_a_slot),
    cmocka_unit_test(completion_window_is_hours_or_days),
    cmocka_unit_test(custom_id_prefix_not_empty),
    cmocka_unit_test(check_metadata_directly),
    cmocka_unit_test(ca_file_must_be_a_readable_file),
    cmocka_unit_test(nothing_turns_tls_checks_off),
};

OBATCH_TEST_MAIN(config_tests, nullptr, nullptr)
