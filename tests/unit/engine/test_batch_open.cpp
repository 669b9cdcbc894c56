// A Batch opened over result files already on disk (obatch_open): results
// in input order, missing and extra ones, and the errors of the files.
#include "engine/batch.hpp"
#include "unit_support.hpp"

using obatch::Batch;
using obatch::Config;
using obatch::ResultFiles;
using obatch::ResultLine;

static std::string input_line(const std::string &id) {
  return R"({"custom_id":")" + id +
         R"(","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[]}})";
}

static std::string ok_line(const std::string &id) {
  return R"({"id":"r","custom_id":")" + id +
         R"(","response":{"status_code":200,"request_id":"q","body":{"echo":")" + id +
         R"("}},"error":null})";
}

static std::string failed_line(const std::string &id) {
  return R"({"id":"r","custom_id":")" + id +
         R"(","response":{"status_code":400,"request_id":"q","body":{"error":{"code":"bad","message":"no"}}},"error":null})";
}

struct Got {
  ResultLine r;
  uint64_t index;
  std::string line;
};

static Got get(Batch &b, uint64_t i) {
  Got g;
  b.results().get(i, &g.r, &g.index, &g.line);
  return g;
}

static ResultFiles files(const std::string &in, const std::string &out, const std::string &err) {
  ResultFiles f;
  f.input_path = in;
  f.output_path = out;
  f.error_path = err;
  return f;
}

static void results_in_input_order(void **) {
  unit::TempDir tmp;
  unit::write_all(tmp.file("in.jsonl"), input_line("a") + "\n" + input_line("b") + "\n\n" +
                                            input_line("c") + "\n" + input_line("d") + "\n");
  unit::write_all(tmp.file("out.jsonl"),
                  ok_line("c") + "\n" + ok_line("extra") + "\n" + ok_line("a") + "\n");
  unit::write_all(tmp.file("err.jsonl"), failed_line("b") + "\n");
  Batch b(Config(), files(tmp.file("in.jsonl"), tmp.file("out.jsonl"), tmp.file("err.jsonl")));

  obatch::JobSnapshot s = b.poll(0);
  assert_int_equal(s.phase, OBATCH_PHASE_DONE);
  assert_int_equal(s.requests_added, 4);
  assert_str_eq(s.output_path, tmp.file("out.jsonl"));
  assert_str_eq(s.error_path, tmp.file("err.jsonl"));
  assert_str_eq(b.input_path(), tmp.file("in.jsonl"));

  assert_int_equal(b.results().size(), 5);  // 4 inputs + 1 extra
  const char *ids[] = {"a", "b", "c", "d"};
  const int kinds[] = {OBATCH_RESULT_SUCCEEDED, OBATCH_RESULT_HTTP_ERROR, OBATCH_RESULT_SUCCEEDED,
                       OBATCH_RESULT_MISSING};
  for (uint64_t i = 0; i < 4; i++) {
    Got g = get(b, i);
    assert_int_equal(g.index, i);
    assert_str_eq(g.r.custom_id, ids[i]);
    assert_int_equal(g.r.kind, kinds[i]);
  }
  assert_true(get(b, 3).line.empty());
  Got extra = get(b, 4);
  assert_str_eq(extra.r.custom_id, "extra");
  assert_int_equal(extra.index, obatch::IdIndex::npos);
  assert_int_equal(b.results().find("b"), 1);
  assert_int_equal(b.results().missing(), 1);
}

static void without_input_file_order(void **) {
  unit::TempDir tmp;
  unit::write_all(tmp.file("out.jsonl"), ok_line("z") + "\n" + ok_line("y") + "\n");
  unit::write_all(tmp.file("err.jsonl"), failed_line("x") + "\n");
  Batch b(Config(), files("", tmp.file("out.jsonl"), tmp.file("err.jsonl")));
  assert_int_equal(b.poll(0).requests_added, 0);
  assert_int_equal(b.results().size(), 3);
  assert_str_eq(get(b, 0).r.custom_id, "z");  // output file first
  assert_str_eq(get(b, 1).r.custom_id, "y");
  assert_str_eq(get(b, 2).r.custom_id, "x");
  // Only an error file is fine too.
  Batch e(Config(), files("", "", tmp.file("err.jsonl")));
  assert_int_equal(e.results().size(), 1);
  assert_str_eq(e.poll(0).output_path, "");
}

static void errors_name_the_file(void **) {
  unit::TempDir tmp;
  unit::write_all(tmp.file("out.jsonl"), ok_line("a") + "\n");
  EXPECT_ERROR(OBATCH_EINVAL, "an output file, an error file or both",
               Batch(Config(), files(tmp.file("out.jsonl"), "", "")));
  EXPECT_ERROR(OBATCH_EIO, tmp.file("nope.jsonl"),
               Batch(Config(), files("", tmp.file("nope.jsonl"), "")));
  EXPECT_ERROR(OBATCH_EIO, tmp.file("nope-in.jsonl"),
               Batch(Config(), files(tmp.file("nope-in.jsonl"), tmp.file("out.jsonl"), "")));
  EXPECT_ERROR(OBATCH_EIO, tmp.file("nope-err.jsonl"),
               Batch(Config(), files("", tmp.file("out.jsonl"), tmp.file("nope-err.jsonl"))));

  unit::write_all(tmp.file("dup.jsonl"),
                  input_line("a") + "\n" + input_line("b") + "\n" + input_line("a") + "\n");
  std::string msg =
      EXPECT_ERROR(OBATCH_EDUPLICATE, tmp.file("dup.jsonl") + " line 3",
                   Batch(Config(), files(tmp.file("dup.jsonl"), tmp.file("out.jsonl"), "")));
  assert_contains(msg, "custom_id \"a\" is already used by line 1");

  unit::write_all(tmp.file("cut.jsonl"), ok_line("a") + "\n" + ok_line("b").substr(0, 20));
  EXPECT_ERROR(OBATCH_EPROTOCOL, "cut off", Batch(Config(), files("", tmp.file("cut.jsonl"), "")));
}

static void odd_line_is_an_error_result(void **) {
  unit::TempDir tmp;
  unit::write_all(tmp.file("in.jsonl"), input_line("a") + "\n" + input_line("b") + "\n");
  unit::write_all(tmp.file("out.jsonl"), R"({"custom_id":"a","oops":1})"
                                         "\n" +
                                             ok_line("b") + "\n");
  Batch b(Config(), files(tmp.file("in.jsonl"), tmp.file("out.jsonl"), ""));
  Got g = get(b, 0);
  assert_str_eq(g.r.custom_id, "a");
  assert_int_equal(g.r.kind, OBATCH_RESULT_ERROR);
  assert_int_equal(get(b, 1).r.kind, OBATCH_RESULT_SUCCEEDED);
}

static void nothing_runs_on_an_opened_batch(void **) {
  unit::TempDir tmp;
  unit::write_all(tmp.file("in.jsonl"), input_line("a") + "\n");
  unit::write_all(tmp.file("out.jsonl"), ok_line("a") + "\n");
  { Batch opened(Config(), files(tmp.file("in.jsonl"), tmp.file("out.jsonl"), "")); }
  // The caller's files stay when the handle goes.
  assert_int_equal(obatch::file_size(tmp.file("in.jsonl")), input_line("a").size() + 1);
  Batch b(Config(), files("", tmp.file("out.jsonl"), ""));
  EXPECT_ERROR(OBATCH_ESTATE, "opened from result files", b.submit());
  EXPECT_ERROR(OBATCH_ESTATE, "opened", b.add("{}", nullptr, nullptr));
  EXPECT_ERROR(OBATCH_ESTATE, "opened", b.add_line("{}"));
  EXPECT_ERROR(OBATCH_ESTATE, "opened", b.add_file(tmp.file("out.jsonl").c_str()));
  EXPECT_ERROR(OBATCH_ESTATE, "nothing runs", b.cancel());
  assert_int_equal(b.poll(100).phase, OBATCH_PHASE_DONE);
  // The caller's files stay.
  assert_int_equal(obatch::file_size(tmp.file("out.jsonl")), ok_line("a").size() + 1);
}

static const struct CMUnitTest batch_open_tests[] = {
    cmocka_unit_test(results_in_input_order),
    cmocka_unit_test(without_input_file_order),
    cmocka_unit_test(errors_name_the_file),
    cmocka_unit_test(odd_line_is_an_error_result),
    cmocka_unit_test(nothing_runs_on_an_opened_batch),
};

OBATCH_TEST_MAIN(batch_open_tests, nullptr, nullptr)
