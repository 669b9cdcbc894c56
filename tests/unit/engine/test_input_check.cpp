// InputCheck: every problem of an input file in one pass, by the same rules
// as obatch_add_file, and nothing written to disk.
#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include <vector>

#include "core/batch_input.hpp"
#include "engine/input_check.hpp"
#include "providers/provider.hpp"
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

// One batch (split "off"): the limits and the one-model rule are problems.
// The tests of split inputs set "split" back to "auto".
static Config openai(std::initializer_list<std::pair<const char *, const char *>> extra = {}) {
  Config c;
  c.set("provider", "openai");
  c.set("split", "off");
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

  // One problem, not one per line past the limit; the lines past it count.
  InputCheck by_count(openai({{"max_requests", "3"}}), 0);
  by_count.run(path);
  assert_int_equal(by_count.problem_count(), 1);
  assert_int_equal(by_count.problems().size(), 1);
  expect_problem(by_count.problems()[0], 4, OBATCH_ELIMIT,
                 path +
                     " line 4: the batch would have 4 requests; openai allows 3 (the file has 5 "
                     "requests)");
  assert_int_equal(by_count.summary().requests_added, 5);

  const size_t one = line("r1").size() + 1;
  std::string limit = std::to_string(2 * one + 1);
  InputCheck by_bytes(openai({{"max_bytes", limit.c_str()}}), 0);
  by_bytes.run(path);
  assert_int_equal(by_bytes.problem_count(), 1);
  expect_problem(by_bytes.problems()[0], 3, OBATCH_ELIMIT,
                 "the input file would be " + std::to_string(3 * one) + " bytes; openai allows " +
                     limit + " bytes");
  assert_contains(by_bytes.problems()[0].message,
                  "; the whole file would be " + std::to_string(5 * one) + " bytes (");
  assert_int_equal(by_bytes.summary().requests_added, 5);
  assert_int_equal(by_bytes.summary().bytes_total, 5 * one);
}

// Past a limit every line still gets every other check: its JSON, its
// fields, its custom_id against every earlier line (those past the limit
// too), the model and the endpoint.
static void lines_past_a_limit_get_every_other_check(void **) {
  unit::TempDir tmp;
  std::string path = tmp.file("in.jsonl");
  const std::vector<std::string> lines = {
      line("r1"),                                             // 1
      line("r2"),                                             // 2
      line("r3"),                                             // 3
      line("r4"),                                             // 4 the 4th request: over 3
      line("r5"),                                             // 5
      "{bad",                                                 // 6 not JSON
      line("r2"),                                             // 7 duplicate of line 2
      line("r5"),                                             // 8 duplicate of line 5
      line("r9", "gpt-4o"),                                   // 9 a second model
      line("e", "text-embedding-3-small", "/v1/embeddings"),  // 10 another endpoint
      line("r11"),                                            // 11
  };
  std::string text;
  for (auto &l : lines) text += l + "\n";
  unit::write_all(path, text);
  InputCheck check(openai({{"max_requests", "3"}}), 100);
  check.run(path);
  const auto &p = check.problems();
  assert_int_equal(check.problem_count(), 6);
  assert_int_equal(p.size(), 6);
  expect_problem(p[0], 4, OBATCH_ELIMIT, "allows 3 (the file has 6 requests)");
  expect_problem(p[1], 6, OBATCH_EJSON, path + " line 6");
  expect_problem(p[2], 7, OBATCH_EDUPLICATE, "custom_id \"r2\" is already used by line 2");
  expect_problem(p[3], 8, OBATCH_EDUPLICATE, "custom_id \"r5\" is already used by line 5");
  expect_problem(p[4], 9, OBATCH_EMODEL, "differs from \"gpt-4o-mini\" (line 1)");
  expect_problem(p[5], 10, OBATCH_EREQUEST, "differs from the batch's endpoint");
  assert_int_equal(check.summary().requests_added, 6);  // r1..r5, r11
}

// The limit belongs to the first good line past it: a bad line there is
// reported as what it is, and the next good line crosses the limit.
static void the_limit_is_on_the_first_good_line_past_it(void **) {
  unit::TempDir tmp;
  std::string path = tmp.file("in.jsonl");
  unit::write_all(path, line("a") + "\n" + line("b") + "\n" + line("a") + "\n" + line("c") + "\n" +
                            line("d") + "\n");
  InputCheck check(openai({{"max_requests", "2"}}), 0);
  check.run(path);
  const auto &p = check.problems();
  assert_int_equal(check.problem_count(), 2);
  expect_problem(p[0], 3, OBATCH_EDUPLICATE, "custom_id \"a\" is already used by line 1");
  expect_problem(p[1], 4, OBATCH_ELIMIT,
                 "the batch would have 3 requests; openai allows 2 (the file has 4 requests)");
}

// Each limit once, each on its own first line past it.
static void each_limit_is_one_problem(void **) {
  unit::TempDir tmp;
  std::string path = tmp.file("in.jsonl");
  std::string text;
  for (int i = 1; i <= 6; i++) text += line("r" + std::to_string(i)) + "\n";
  unit::write_all(path, text);
  const size_t one = line("r1").size() + 1;
  std::string bytes = std::to_string(3 * one + 1);
  InputCheck check(openai({{"max_requests", "2"}, {"max_bytes", bytes.c_str()}}), 0);
  check.run(path);
  const auto &p = check.problems();
  assert_int_equal(check.problem_count(), 2);
  expect_problem(p[0], 3, OBATCH_ELIMIT, "the batch would have 3 requests");
  expect_problem(p[1], 4, OBATCH_ELIMIT, "the input file would be " + std::to_string(4 * one));
  assert_int_equal(check.summary().requests_added, 6);
}

static std::string embeddings_line(const std::string &custom_id, size_t inputs) {
  std::string list;
  for (size_t i = 0; i < inputs; i++) list += i ? ",\"x\"" : "\"x\"";
  return R"({"custom_id":")" + custom_id +
         R"(","method":"POST","url":"/v1/embeddings","body":{"model":"text-embedding-3-small",)" +
         R"("input":[)" + list + "]}}";
}

// OpenAI's 50000 inputs per embeddings batch: one problem too.
static void embedding_inputs_limit_is_one_problem(void **) {
  unit::TempDir tmp;
  std::string path = tmp.file("in.jsonl");
  unit::write_all(path, embeddings_line("e1", 30000) + "\n" + embeddings_line("e2", 20001) + "\n" +
                            embeddings_line("e3", 10) + "\n" + embeddings_line("e4", 5) + "\n" +
                            embeddings_line("e3", 1) + "\n");
  InputCheck check(openai(), 0);
  check.run(path);
  const auto &p = check.problems();
  assert_int_equal(check.problem_count(), 2);
  expect_problem(p[0], 2, OBATCH_ELIMIT,
                 path +
                     " line 2: the batch would embed 50001 inputs; openai allows 50000 per "
                     "embeddings batch (the file has 50016 inputs to embed)");
  expect_problem(p[1], 5, OBATCH_EDUPLICATE, "custom_id \"e3\" is already used by line 3");
  assert_int_equal(check.summary().requests_added, 4);
}

// A limit problem not kept (max_problems reached) is still counted once.
static void an_unkept_limit_counts_once(void **) {
  unit::TempDir tmp;
  std::string path = tmp.file("in.jsonl");
  std::string text = "{bad\n";
  for (int i = 1; i <= 5; i++) text += line("r" + std::to_string(i)) + "\n";
  unit::write_all(path, text);
  InputCheck check(openai({{"max_requests", "1"}}), 1);
  check.run(path);
  assert_int_equal(check.problem_count(), 2);
  assert_int_equal(check.problems().size(), 1);
  expect_problem(check.problems()[0], 1, OBATCH_EJSON, "line 1");
}

// validate and run name a limit alike: the run's error (BatchInput) starts
// the check's problem, which adds the file's total.
static void a_limit_reads_as_the_run_says_it(void **) {
  unit::TempDir tmp;
  const size_t one = line("r1").size() + 1;
  const std::string bytes = std::to_string(2 * one);
  struct Case {
    Config conf;
    std::string text;
  } cases[] = {
      {openai({{"max_requests", "2"}}), line("r1") + "\n" + line("r2") + "\n" + line("r3") + "\n"},
      {openai({{"max_bytes", bytes.c_str()}}),
       line("r1") + "\n" + line("r2") + "\n" + line("r3") + "\n"},
      {openai(), embeddings_line("e1", 50000) + "\n" + embeddings_line("e2", 1) + "\n"},
  };
  for (auto &c : cases) {
    std::string path = tmp.file("in.jsonl");
    unit::write_all(path, c.text);
    obatch::BatchInput run("", "request");
    run.set_rules(obatch::provider_for_batch(c.conf, "")->rules(c.conf));
    std::string said = EXPECT_ERROR(OBATCH_ELIMIT, path + " line ", run.append_file(path));
    InputCheck check(c.conf, 0);
    check.run(path);
    assert_int_equal(check.problem_count(), 1);
    const std::string &message = check.problems()[0].message;
    if (message.compare(0, said.size(), said) != 0)
      fail_msg("validate says \"%s\"; run says \"%s\"", message.c_str(), said.c_str());
    assert_true(message.size() > said.size());
  }
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
// Split (the default): an input over the limits is cut into parts, not
// refused; mixed models make per-model parts. Only a request no part can
// hold is a problem.
static void split_input_has_parts_not_problems(void **) {
  unit::TempDir tmp;
  std::string path = tmp.file("in.jsonl");
  std::string text;
  for (int i = 0; i < 7; i++)
    text += line("r" + std::to_string(i), i % 2 ? "gpt-4o" : "gpt-4o-mini") + "\n";
  unit::write_all(path, text);
  InputCheck check(openai({{"split", "auto"}, {"max_requests", "2"}}), 0);
  check.run(path);
  assert_int_equal(check.problem_count(), 0);
  const auto &s = check.summary();
  // In the order their first requests come: gpt-4o-mini r0 r2, gpt-4o
  // r1 r3, gpt-4o-mini r4 r6, gpt-4o r5.
  assert_int_equal(s.parts_total, 4);
  assert_int_equal(s.part_states.size(), 4);
  assert_string_equal(s.part_states[0].info.model.c_str(), "gpt-4o-mini");
  assert_string_equal(s.part_states[1].info.model.c_str(), "gpt-4o");
  assert_string_equal(s.part_states[2].info.model.c_str(), "gpt-4o-mini");
  assert_int_equal(s.part_states[0].info.requests, 2);
  assert_int_equal(s.part_states[3].info.requests, 1);
  assert_int_equal(s.part_states[3].info.first, 5);
  assert_true(s.tokens_estimated > 0);
}

static void split_refuses_a_request_no_part_can_hold(void **) {
  unit::TempDir tmp;
  std::string path = tmp.file("in.jsonl");
  const std::string one = line("a");
  unit::write_all(path, one + "\n" + line("big") + "\n" + line("b") + "\n");
  const std::string limit = std::to_string(one.size() + 1);
  InputCheck check(openai({{"split", "auto"}, {"max_bytes", limit.c_str()}}), 0);
  check.run(path);
  assert_int_equal(check.problem_count(), 1);
  expect_problem(check.problems()[0], 2, OBATCH_ELIMIT, "so no batch can hold it");
  assert_int_equal(check.summary().parts_total, 2);
}

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
    cmocka_unit_test(split_input_has_parts_not_problems),
    cmocka_unit_test(split_refuses_a_request_no_part_can_hold),
    cmocka_unit_test(unknown_model_names_the_line),
    cmocka_unit_test(every_bad_line_is_reported),
    cmocka_unit_test(bom_on_line_one),
    cmocka_unit_test(provider_from_the_first_good_model),
    cmocka_unit_test(request_and_byte_limits),
    cmocka_unit_test(lines_past_a_limit_get_every_other_check),
    cmocka_unit_test(the_limit_is_on_the_first_good_line_past_it),
    cmocka_unit_test(each_limit_is_one_problem),
    cmocka_unit_test(embedding_inputs_limit_is_one_problem),
    cmocka_unit_test(an_unkept_limit_counts_once),
    cmocka_unit_test(a_limit_reads_as_the_run_says_it),
    cmocka_unit_test(max_problems_keeps_the_first),
    cmocka_unit_test(empty_file_is_one_problem),
    cmocka_unit_test(trailing_blank_line_is_fine),
    cmocka_unit_test(unreadable_file_is_eio),
    cmocka_unit_test(unknown_provider_is_an_error_of_the_call),
    cmocka_unit_test(writes_nothing),
};

OBATCH_TEST_MAIN(input_check_tests, nullptr, nullptr)
