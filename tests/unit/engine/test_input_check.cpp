// InputCheck: every problem of an input file in one pass, by the same rules
// as obatch_add_file, and nothing written to disk.
#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include <vector>

#include "engine/input_check.hpp"
#include "unit_support.hpp"

using obatch::Config;
using obatch::InputCheck;
using obatch::InputProblem;

static std::string line(const std::string &custom_id, const std::string &model = "gpt-4o-mini",
                        const std::string &url = "/v1/chat/completions") {
  std::string body =
      url == "/v1/embeddings"
          ? R"({"model":")" + model + R"(","input":"x"})"
          : R"({"model":")" + model + R"(","messages":[{"role":"user","content":"x"}]})";
  return R"({"custom_id":")" + custom_id + R"(","method":"POST","url":")" + url + R"(","body":)" +
         body + "}";
}

static Config openai(std::initializer_list<std::pair<const char *, const char *>> extra = {}) {
  Config c;
  c.set("provider", "openai");
  for (auto &kv : extra) c.set(kv.first, kv.second);
  return c;
}

static void expect_problem(const InputProblem &p, uint64_t line, int code,
                           const std::string &part) {
  if (p.line != line || p.code != code)
    fail_msg("problem at line %llu code %d (%s); expected line %llu code %d",
             (unsigned long long)p.line, p.code, p.message.c_str(), (unsigned long long)line, code);
  assert_contains(p.message, part);
}

static void every_bad_line_is_reported(void **) {
  unit::TempDir tmp;
  std::string path = tmp.file("in.jsonl");
  const std::vector<std::string> lines = {
      line("a"),                                                      // 1 good
      R"({"custom_id": "x", "method": )",                             // 2 not JSON
      line("a"),                                                      // 3 duplicate
      line("b"),                                                      // 4 good
      line("e", "text-embedding-3-small", "/v1/embeddings"),          // 5 other endpoint
      line("m", "gpt-4o"),                                            // 6 second model
      "",                                                             // 7 blank
      line("r") + "\r",                                               // 8 CR LF
      R"({"method":"POST","url":"/v1/chat/completions","body":{}})",  // 9 no custom_id
      line("c"),                                                      // 10 good
  };
  std::string text;
  for (auto &l : lines) text += l + "\n";
  unit::write_all(path, text);
  InputCheck check(openai(), 100);
  check.run(path);
  const auto &p = check.problems();
  assert_int_equal(check.problem_count(), 7);
  assert_int_equal(p.size(), 7);
  expect_problem(p[0], 2, OBATCH_EJSON, path + " line 2");
  expect_problem(p[1], 3, OBATCH_EDUPLICATE, "custom_id \"a\" is already used by line 1");
  expect_problem(p[2], 5, OBATCH_EREQUEST, "differs from the batch's endpoint");
  expect_problem(p[3], 6, OBATCH_EMODEL, "model \"gpt-4o\" differs from \"gpt-4o-mini\" (line 1)");
  expect_problem(p[4], 7, OBATCH_EJSON, "the line is empty");
  expect_problem(p[5], 8, OBATCH_EJSON, "CR LF");
  expect_problem(p[6], 9, OBATCH_EREQUEST, "field \"custom_id\" is missing");

  const obatch::JobSnapshot &s = check.summary();
  assert_int_equal(s.phase, OBATCH_PHASE_BUILDING);
  assert_str_eq(s.provider, "openai");
  assert_str_eq(s.endpoint, "/v1/chat/completions");
  assert_str_eq(s.model, "gpt-4o-mini");
  assert_int_equal(s.requests_added, 3);  // a, b, c
  std::string good = line("a") + "\n" + line("b") + "\n" + line("c") + "\n";
  assert_int_equal(s.bytes_total, good.size());
}

static void bom_on_line_one(void **) {
  unit::TempDir tmp;
  std::string path = tmp.file("bom.jsonl");
  unit::write_all(path, "\xEF\xBB\xBF" + line("a") + "\n" + line("b") + "\n");
  InputCheck check(openai(), 0);
  check.run(path);
  assert_int_equal(check.problem_count(), 1);
  expect_problem(check.problems()[0], 1, OBATCH_EJSON, "byte order mark");
  assert_int_equal(check.summary().requests_added, 1);
}

// The rules come from the provider the first good line's model picks.
static void provider_from_the_first_good_model(void **) {
  unit::TempDir tmp;
  std::string path = tmp.file("in.jsonl");
  unit::write_all(path, "not json\n" + line("a", "meta-llama/Llama-3.1-8B-Instruct") + "\n" +
                            line("b", "Qwen/Qwen2.5-7B-Instruct") + "\n");
  InputCheck check(Config(), 0);
  check.run(path);
  assert_int_equal(check.problem_count(), 1);
  assert_int_equal(check.problems()[0].line, 1);
  assert_str_eq(check.summary().provider, "parasail");
  // Parasail allows mixing: both models are named.
  assert_str_eq(check.summary().model, "meta-llama/Llama-3.1-8B-Instruct,Qwen/Qwen2.5-7B-Instruct");
  assert_int_equal(check.summary().requests_added, 2);
}

static void request_and_byte_limits(void **) {
  unit::TempDir tmp;
  std::string path = tmp.file("in.jsonl");
  std::string text;
  for (int i = 1; i <= 5; i++) text += line("r" + std::to_string(i)) + "\n";
  unit::write_all(path, text);

  InputCheck by_count(openai({{"max_requests", "3"}}), 0);
  by_count.run(path);
  assert_int_equal(by_count.problem_count(), 2);
  expect_problem(by_count.problems()[0], 4, OBATCH_ELIMIT, "allows 3");
  expect_problem(by_count.problems()[1], 5, OBATCH_ELIMIT, "the batch would have 4 requests");
  assert_int_equal(by_count.summary().requests_added, 3);

  std::string limit = std::to_string(2 * (line("r1").size() + 1) + 1);
  InputCheck by_bytes(openai({{"max_bytes", limit.c_str()}}), 0);
  by_bytes.run(path);
  assert_int_equal(by_bytes.problem_count(), 3);
  expect_problem(by_bytes.problems()[0], 3, OBATCH_ELIMIT, "allows " + limit + " bytes");
  assert_int_equal(by_bytes.summary().requests_added, 2);
}

static void max_problems_keeps_the_first(void **) {
  unit::TempDir tmp;
  std::string path = tmp.file("in.jsonl");
  std::string text = line("ok") + "\n";
  for (int i = 0; i < 10; i++) text += "{bad\n";
  unit::write_all(path, text);
  InputCheck check(openai(), 4);
  check.run(path);
  assert_int_equal(check.problem_count(), 10);
  assert_int_equal(check.problems().size(), 4);
  assert_int_equal(check.problems()[0].line, 2);
  assert_int_equal(check.problems()[3].line, 5);
}

static void empty_file_is_one_problem(void **) {
  unit::TempDir tmp;
  std::string path = tmp.file("empty.jsonl");
  unit::write_all(path, "");
  InputCheck check(openai(), 0);
  check.run(path);
  assert_int_equal(check.problem_count(), 1);
  expect_problem(check.problems()[0], 0, OBATCH_EREQUEST, path + ": the file has no requests");
  assert_int_equal(check.summary().requests_added, 0);
}

static void trailing_blank_line_is_fine(void **) {
  unit::TempDir tmp;
  std::string path = tmp.file("in.jsonl");
  unit::write_all(path, line("a") + "\n\n");
  InputCheck check(openai(), 0);
  check.run(path);
  assert_int_equal(check.problem_count(), 0);
  assert_int_equal(check.summary().requests_added, 1);
}

static void unreadable_file_is_eio(void **) {
  unit::TempDir tmp;
  InputCheck check(openai(), 0);
  EXPECT_ERROR(OBATCH_EIO, tmp.file("missing.jsonl"), check.run(tmp.file("missing.jsonl")));
  InputCheck dir(openai(), 0);
  EXPECT_ERROR(OBATCH_EIO, tmp.path(), dir.run(tmp.path()));
}

static void unknown_provider_is_an_error_of_the_call(void **) {
  Config c;
  c.set("provider", "no-such-provider");
  EXPECT_ERROR(OBATCH_EPROVIDER, "no-such-provider", InputCheck(c, 0));
}

// Nothing is written: not in $TMPDIR, not in a configured work_dir.
static void writes_nothing(void **) {
  unit::TempDir tmp, tmpdir;
  std::string path = tmp.file("in.jsonl");
  unit::write_all(path, line("a") + "\n" + line("b") + "\n");
  const char *old = getenv("TMPDIR");
  std::string saved = old ? old : "";
  setenv("TMPDIR", tmpdir.path().c_str(), 1);
  {
    InputCheck check(openai({{"work_dir", tmp.file("work").c_str()}}), 0);
    check.run(path);
    assert_int_equal(check.summary().requests_added, 2);
  }
  if (old)
    setenv("TMPDIR", saved.c_str(), 1);
  else
    unsetenv("TMPDIR");
  DIR *d = opendir(tmpdir.path().c_str());
  assert_non_null(d);
  int entries = 0;
  while (struct dirent *e = readdir(d)) entries += e->d_name[0] != '.';
  closedir(d);
  assert_int_equal(entries, 0);
  assert_int_equal(access(tmp.file("work").c_str(), F_OK), -1);
}

// Earlier requests are named by their line, not by how many good requests
// came before them (bad lines are skipped, so the two differ).
static void earlier_requests_are_named_by_line(void **) {
  unit::TempDir tmp;
  std::string path = tmp.file("in.jsonl");
  unit::write_all(path, "not json\n" + line("a") + "\n" + "\n" + line("b", "gpt-4o") + "\n" +
                            line("a") + "\n");
  InputCheck check(openai(), 100);
  check.run(path);
  const auto &p = check.problems();
  assert_int_equal(p.size(), 4);
  expect_problem(p[2], 4, OBATCH_EMODEL, "differs from \"gpt-4o-mini\" (line 2)");
  expect_problem(p[3], 5, OBATCH_EDUPLICATE, path + " line 5: custom_id \"a\" is already used by line 2");
}

// A line whose model no provider serves: the problem names the line.
static void unknown_model_names_the_line(void **) {
  unit::TempDir tmp;
  std::string path = tmp.file("in.jsonl");
  unit::write_all(path, "\n" + line("a", "my-local-llama") + "\n");
  InputCheck check(Config(), 100);
  check.run(path);
  const auto &p = check.problems();
  assert_int_equal(p.size(), 2);
  expect_problem(p[0], 1, OBATCH_EJSON, "the line is empty");
  expect_problem(p[1], 2, OBATCH_EPROVIDER, path + " line 2: no provider serves model");
}

static const struct CMUnitTest input_check_tests[] = {
    cmocka_unit_test(earlier_requests_are_named_by_line),
    cmocka_unit_test(unknown_model_names_the_line),
    cmocka_unit_test(every_bad_line_is_reported),
    cmocka_unit_test(bom_on_line_one),
    cmocka_unit_test(provider_from_the_first_good_model),
    cmocka_unit_test(request_and_byte_limits),
    cmocka_unit_test(max_problems_keeps_the_first),
    cmocka_unit_test(empty_file_is_one_problem),
    cmocka_unit_test(trailing_blank_line_is_fine),
    cmocka_unit_test(unreadable_file_is_eio),
    cmocka_unit_test(unknown_provider_is_an_error_of_the_call),
    cmocka_unit_test(writes_nothing),
};

OBATCH_TEST_MAIN(input_check_tests, nullptr, nullptr)
