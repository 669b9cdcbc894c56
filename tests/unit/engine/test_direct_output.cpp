// Direct mode's result files: appended to .partial, taken up after a kill,
// renamed once complete.
#include <unistd.h>

#include "engine/direct_output.hpp"
#include "unit_support.hpp"

using obatch::DirectOutput;
using obatch::IdIndex;

static std::string result(const std::string &id, int status) {
  return "{\"id\":\"d\",\"custom_id\":\"" + id +
         "\",\"response\":{\"status_code\":" + std::to_string(status) +
         ",\"request_id\":\"\",\"body\":{}},\"error\":null}";
}

static void resumes_what_the_files_hold_and_cuts_a_torn_line(void **) {
  unit::TempDir dir;
  const std::string out = dir.path() + "/o.jsonl", err = dir.path() + "/e.jsonl";
  IdIndex ids;
  for (const char *id : {"a", "b", "c", "d"}) ids.add(id);
  // A killed run: two whole lines, one cut in the middle; one error line.
  unit::write_all(out + ".partial", result("a", 200) + "\n" + result("c", 200) + "\n" +
                                        result("d", 200).substr(0, 20));
  unit::write_all(err + ".partial", result("b", 400) + "\n");
  DirectOutput o(out, err, out + ".partial", err + ".partial");
  std::vector<bool> done(4);
  uint64_t ok = 0, failed = 0;
  o.open(true, ids, &done, &ok, &failed);
  assert_int_equal(ok, 2);
  assert_int_equal(failed, 1);
  assert_true(done[0] && done[1] && done[2] && !done[3]);
  o.append(false, result("d", 200));
  std::string o_path, e_path;
  o.publish(&o_path, &e_path);
  assert_str_eq(o_path, out);
  assert_str_eq(e_path, err);
  assert_str_eq(unit::read_all(out),
                result("a", 200) + "\n" + result("c", 200) + "\n" + result("d", 200) + "\n");
  assert_true(access((out + ".partial").c_str(), F_OK) != 0);
}

static void a_new_job_never_takes_old_lines(void **) {
  unit::TempDir dir;
  const std::string out = dir.path() + "/o.jsonl", err = dir.path() + "/e.jsonl";
  IdIndex ids;
  ids.add("a");
  unit::write_all(out + ".partial", result("a", 200) + "\n");
  DirectOutput o(out, err, out + ".partial", err + ".partial");
  std::vector<bool> done(1);
  uint64_t ok = 0, failed = 0;
  o.open(false, ids, &done, &ok, &failed);
  assert_false(done[0]);
  std::string o_path, e_path;
  o.publish(&o_path, &e_path);
  // Nothing written: no files, and no paths.
  assert_str_eq(o_path, "");
  assert_str_eq(e_path, "");
  assert_true(access(out.c_str(), F_OK) != 0);
}

static void a_line_for_another_input_ends_the_file(void **) {
  unit::TempDir dir;
  const std::string out = dir.path() + "/o.jsonl", err = dir.path() + "/e.jsonl";
  IdIndex ids;
  ids.add("a");
  ids.add("b");
  unit::write_all(out + ".partial",
                  result("a", 200) + "\n" + result("zzz", 200) + "\n" + result("b", 200) + "\n");
  DirectOutput o(out, err, out + ".partial", err + ".partial");
  std::vector<bool> done(2);
  uint64_t ok = 0, failed = 0;
  o.open(true, ids, &done, &ok, &failed);
  assert_int_equal(ok, 1);
  assert_false(done[1]);
  assert_str_eq(unit::read_all(out + ".partial"), result("a", 200) + "\n");
}

static const struct CMUnitTest direct_output_tests[] = {
    cmocka_unit_test(resumes_what_the_files_hold_and_cuts_a_torn_line),
    cmocka_unit_test(a_new_job_never_takes_old_lines),
    cmocka_unit_test(a_line_for_another_input_ends_the_file),
};

OBATCH_TEST_MAIN(direct_output_tests, nullptr, nullptr)
