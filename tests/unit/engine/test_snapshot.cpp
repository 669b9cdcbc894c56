// apply_batch_fields: a parse hook's fields into what obatch_info_t shows.
#include "engine/snapshot.hpp"
#include "unit_support.hpp"

using obatch::Fields;
using obatch::JobSnapshot;

static void every_field_is_copied(void **) {
  Fields f{{"batch_id", "batch_1"},
           {"status", "completed"},
           {"endpoint", "/v1/embeddings"},
           {"input_file_id", "file-in"},
           {"output_file_id", "file-out"},
           {"error_file_id", "file-err"},
           {"completion_window", "24h"},
           {"model", "text-embedding-3-small"},
           {"created_at", "100"},
           {"in_progress_at", "101"},
           {"finalizing_at", "102"},
           {"completed_at", "103"},
           {"failed_at", "104"},
           {"expired_at", "105"},
           {"cancelling_at", "106"},
           {"cancelled_at", "107"},
           {"expires_at", "200"},
           {"requests_total", "3"},
           {"requests_completed", "2"},
           {"requests_failed", "1"},
           {"input_tokens", "1500"},
           {"output_tokens", "500"},
           {"total_tokens", "2000"},
           {"error_message", "line 1: bad"},
           {"batch_json", R"({"id":"batch_1"})"}};
  JobSnapshot s;
  obatch::apply_batch_fields(f, &s);
  assert_str_eq(s.batch_id, "batch_1");
  assert_str_eq(s.remote_status, "completed");
  assert_str_eq(s.endpoint, "/v1/embeddings");
  assert_str_eq(s.input_file_id, "file-in");
  assert_str_eq(s.output_file_id, "file-out");
  assert_str_eq(s.error_file_id, "file-err");
  assert_str_eq(s.completion_window, "24h");
  assert_str_eq(s.model, "text-embedding-3-small");
  assert_int_equal(s.created_at, 100);
  assert_int_equal(s.in_progress_at, 101);
  assert_int_equal(s.finalizing_at, 102);
  assert_int_equal(s.completed_at, 103);
  assert_int_equal(s.failed_at, 104);
  assert_int_equal(s.expired_at, 105);
  assert_int_equal(s.cancelling_at, 106);
  assert_int_equal(s.cancelled_at, 107);
  assert_int_equal(s.expires_at, 200);
  assert_int_equal(s.requests_total, 3);
  assert_int_equal(s.requests_completed, 2);
  assert_int_equal(s.requests_failed, 1);
  assert_int_equal(s.input_tokens, 1500);
  assert_int_equal(s.output_tokens, 500);
  assert_int_equal(s.total_tokens, 2000);
  assert_str_eq(s.error_message, "line 1: bad");
  assert_str_eq(s.batch_json, R"({"id":"batch_1"})");
}

// A later answer without a field keeps what an earlier one said; a local
// batch keeps its own model(s).
static void absent_fields_keep_their_value(void **) {
  JobSnapshot s;
  s.model = "a/m1,b/m2";
  s.completed_at = 9;
  s.output_file_id = "file-out";
  obatch::apply_batch_fields({{"status", "completed"}, {"model", "a/m1"}}, &s);
  assert_str_eq(s.remote_status, "completed");
  assert_str_eq(s.model, "a/m1,b/m2");
  assert_int_equal(s.completed_at, 9);
  assert_str_eq(s.output_file_id, "file-out");
}

static const struct CMUnitTest snapshot_tests[] = {
    cmocka_unit_test(every_field_is_copied),
    cmocka_unit_test(absent_fields_keep_their_value),
};

OBATCH_TEST_MAIN(snapshot_tests, nullptr, nullptr)
