/* The C API calls that never touch the network: obatch_open over result
 * files on disk, and obatch_check_* over an input file. Public API only. */
#define _GNU_SOURCE
#include <dirent.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "obatch/obatch.h"
#include "temp_dir.h"
#include "test_main.h"

#define CHAT_LINE(id, model)                                 \
  "{\"custom_id\":\"" id                                     \
  "\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\"," \
  "\"body\":{\"model\":\"" model "\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}}"
#define OK_LINE(id)                       \
  "{\"id\":\"r\",\"custom_id\":\"" id     \
  "\",\"response\":{\"status_code\":200," \
  "\"request_id\":\"req\",\"body\":{\"echo\":\"" id "\"}},\"error\":null}"
#define FAILED_LINE(id)                                                                 \
  "{\"id\":\"r\",\"custom_id\":\"" id                                                   \
  "\",\"response\":{\"status_code\":400,"                                               \
  "\"request_id\":\"req\",\"body\":{\"error\":{\"code\":\"bad\",\"message\":\"no\"}}}," \
  "\"error\":null}"

typedef struct {
  char dir[256];
  char path[4][320];
  obatch_t *b;
  obatch_check_t *check;
  obatch_config_t *conf;
} fixture_t;

static const char *write_file(fixture_t *f, int slot, const char *name, const char *text) {
  snprintf(f->path[slot], sizeof f->path[slot], "%s/%s", f->dir, name);
  FILE *fp = fopen(f->path[slot], "wb");
  assert_non_null(fp);
  fputs(text, fp);
  fclose(fp);
  return f->path[slot];
}

static int setup(void **state) {
  fixture_t *f = calloc(1, sizeof *f);
  if (!f) return -1;
  *state = f;
  if (test_temp_dir(f->dir, sizeof f->dir, "local") != 0) return -1;
  return 0;
}

static int teardown(void **state) {
  fixture_t *f = *state;
  obatch_destroy(f->b);
  obatch_check_destroy(f->check);
  obatch_config_destroy(f->conf);
  test_remove_tree(f->dir);
  free(f);
  return 0;
}

/* ---- obatch_open ----------------------------------------------------------- */

static void open_in_input_order(void **state) {
  fixture_t *f = *state;
  obatch_result_t r = OBATCH_RESULT_INIT;
  obatch_info_t info = OBATCH_INFO_INIT;
  const char *in = write_file(
      f, 0, "in.jsonl", CHAT_LINE("a", "m") "\n" CHAT_LINE("b", "m") "\n" CHAT_LINE("c", "m") "\n");
  const char *out =
      write_file(f, 1, "out.jsonl", OK_LINE("c") "\n" OK_LINE("zz") "\n" OK_LINE("a") "\n");
  const char *err = write_file(f, 2, "err.jsonl", FAILED_LINE("b") "\n");
  assert_int_equal(obatch_open(&f->b, NULL, in, out, err), OBATCH_OK);

  assert_int_equal(obatch_info(f->b, &info), OBATCH_OK);
  assert_int_equal(info.phase, OBATCH_PHASE_DONE);
  assert_int_equal(info.requests_added, 3);
  assert_string_equal(info.output_path, out);
  assert_string_equal(info.error_path, err);
  assert_string_equal(obatch_input_path(f->b), in);

  const char *want[] = {"a", "b", "c", "zz"};
  const int kinds[] = {OBATCH_RESULT_SUCCEEDED, OBATCH_RESULT_HTTP_ERROR, OBATCH_RESULT_SUCCEEDED,
                       OBATCH_RESULT_SUCCEEDED};
  for (int i = 0; i < 4; i++) {
    assert_int_equal(obatch_fetch(f->b, &r), OBATCH_OK);
    assert_string_equal(r.custom_id, want[i]);
    assert_int_equal(r.kind, kinds[i]);
    assert_int_equal(r.index, i < 3 ? (uint64_t)i : UINT64_MAX);
  }
  assert_int_equal(obatch_fetch(f->b, &r), OBATCH_END);
  assert_int_equal(obatch_lookup(f->b, "b", &r), OBATCH_OK);
  assert_string_equal(r.error_code, "bad");
  assert_int_equal(obatch_lookup(f->b, "nope", &r), OBATCH_ENOTFOUND);
  assert_int_equal(obatch_rewind(f->b), OBATCH_OK);
  assert_int_equal(obatch_fetch(f->b, &r), OBATCH_OK);
  assert_string_equal(r.custom_id, "a");

  assert_int_equal(obatch_add(f->b, "{}", NULL, NULL), OBATCH_ESTATE);
  assert_int_equal(obatch_add_line(f->b, "{}"), OBATCH_ESTATE);
  assert_int_equal(obatch_submit(f->b), OBATCH_ESTATE);
  assert_int_equal(obatch_cancel(f->b), OBATCH_ESTATE);
  assert_int_equal(obatch_wait(f->b, 0, &info), OBATCH_OK);
}

static void open_reports_missing(void **state) {
  fixture_t *f = *state;
  obatch_result_t r = OBATCH_RESULT_INIT;
  const char *in = write_file(f, 0, "in.jsonl", CHAT_LINE("a", "m") "\n" CHAT_LINE("b", "m") "\n");
  const char *out = write_file(f, 1, "out.jsonl", OK_LINE("b") "\n");
  assert_int_equal(obatch_open(&f->b, NULL, in, out, NULL), OBATCH_OK);
  assert_int_equal(obatch_fetch(f->b, &r), OBATCH_OK);
  assert_string_equal(r.custom_id, "a");
  assert_int_equal(r.kind, OBATCH_RESULT_MISSING);
  assert_null(r.line);
  assert_int_equal(obatch_fetch(f->b, &r), OBATCH_OK);
  assert_int_equal(r.kind, OBATCH_RESULT_SUCCEEDED);
  assert_int_equal(obatch_fetch(f->b, &r), OBATCH_END);
}

static void open_errors(void **state) {
  fixture_t *f = *state;
  obatch_t *b = (obatch_t *)&b; /* must be overwritten */
  char missing[340];
  const char *out = write_file(f, 1, "out.jsonl", OK_LINE("a") "\n");
  snprintf(missing, sizeof missing, "%s/missing.jsonl", f->dir);
  assert_int_equal(obatch_open(&b, NULL, NULL, NULL, NULL), OBATCH_EINVAL);
  assert_null(b);
  assert_int_equal(obatch_open(NULL, NULL, NULL, out, NULL), OBATCH_EINVAL);
  assert_int_equal(obatch_open(&b, NULL, NULL, missing, NULL), OBATCH_EIO);
  assert_null(b);
  assert_int_equal(obatch_open(&b, NULL, missing, out, NULL), OBATCH_EIO);
  assert_int_equal(obatch_open(&b, NULL, NULL, out, missing), OBATCH_EIO);
  const char *dup =
      write_file(f, 0, "dup.jsonl", CHAT_LINE("a", "m") "\n" CHAT_LINE("a", "m") "\n");
  assert_int_equal(obatch_open(&b, NULL, dup, out, NULL), OBATCH_EDUPLICATE);
  assert_null(b);
  const char *cut = write_file(f, 2, "cut.jsonl", OK_LINE("a") "\n{\"custom_id\":\"b\",\"resp");
  assert_int_equal(obatch_open(&b, NULL, NULL, cut, NULL), OBATCH_EPROTOCOL);
  assert_null(b);
}

/* ---- obatch_check_* -------------------------------------------------------- */

static void expect_problem(obatch_check_t *check, uint64_t line, int code, const char *part) {
  obatch_problem_t p = OBATCH_PROBLEM_INIT;
  assert_int_equal(obatch_check_next(check, &p), OBATCH_OK);
  if (p.line != line || p.code != code || !strstr(p.message, part))
    fail_msg("line %llu code %d \"%s\"; expected line %llu code %d with \"%s\"",
             (unsigned long long)p.line, p.code, p.message, (unsigned long long)line, code, part);
}

static void check_reports_every_line(void **state) {
  fixture_t *f = *state;
  char err[256] = "";
  const char *in = write_file(f, 0, "in.jsonl",
                              CHAT_LINE("a", "gpt-4o-mini") "\n"
                              "{not json\n"
                              CHAT_LINE("a", "gpt-4o-mini") "\n"
                              CHAT_LINE("b", "gpt-4o") "\n"
                              "\n"
                              CHAT_LINE("c", "gpt-4o-mini") "\r\n"
                              CHAT_LINE("d", "gpt-4o-mini") "\n");
  int rc = obatch_check_file(&f->check, NULL, in, 0, err, sizeof err);
  if (rc != OBATCH_OK) fail_msg("check: %d %s", rc, err);
  /* A second model is no problem: it makes a batch of its own. */
  assert_int_equal(obatch_check_problems(f->check), 4);
  expect_problem(f->check, 2, OBATCH_EJSON, "line 2");
  expect_problem(f->check, 3, OBATCH_EDUPLICATE, "custom_id \"a\"");
  expect_problem(f->check, 5, OBATCH_EJSON, "empty");
  expect_problem(f->check, 6, OBATCH_EJSON, "CR LF");
  obatch_problem_t p = OBATCH_PROBLEM_INIT;
  assert_int_equal(obatch_check_next(f->check, &p), OBATCH_END);

  obatch_info_t info = OBATCH_INFO_INIT;
  assert_int_equal(obatch_check_info(f->check, &info), OBATCH_OK);
  assert_int_equal(info.phase, OBATCH_PHASE_BUILDING);
  assert_string_equal(info.provider, "openai"); /* by the first good line's model */
  assert_string_equal(info.endpoint, "/v1/chat/completions");
  assert_string_equal(info.model, "gpt-4o-mini,gpt-4o");
  assert_int_equal(info.requests_added, 3);
  const uint64_t mini = strlen(CHAT_LINE("a", "gpt-4o-mini")) + 1;
  const uint64_t other = strlen(CHAT_LINE("b", "gpt-4o")) + 1;
  assert_int_equal(info.bytes_total, 2 * mini + other);
  assert_int_equal(info.parts_total, 2);
  assert_int_equal(info.tokens_estimated, 2 * ((mini + 3) / 4) + (other + 3) / 4);
  obatch_info_t part = OBATCH_INFO_INIT;
  assert_int_equal(obatch_check_part(f->check, 0, &part), OBATCH_OK);
  assert_string_equal(part.model, "gpt-4o-mini");
  assert_int_equal(part.requests_added, 2);
  assert_int_equal(part.bytes_total, 2 * mini);
  assert_int_equal(obatch_check_part(f->check, 1, &part), OBATCH_OK);
  assert_string_equal(part.model, "gpt-4o");
  assert_int_equal(part.requests_added, 1);
  assert_int_equal(obatch_check_part(f->check, 2, &part), OBATCH_ENOTFOUND);
}

/* A limit is one problem, its message completed with the file's total; the
 * lines past it still get every other check (c's duplicate on line 5); the
 * cap keeps the first problems, the count has them all. */
/* ---- tokens and cost ------------------------------------------------------ */

/* The counting guide's figures through the C API: "hello world" is 2 tokens
 * of o200k_base; a chat of one user message "x" is 3 + 1 + 1 + 3. */
static void count_tokens(void **state) {
  (void)state;
  uint64_t n = 0;
  assert_int_equal(obatch_count_text_tokens("o200k_base", "hello world", 11, &n), OBATCH_OK);
  assert_int_equal(n, 2);
  assert_int_equal(obatch_count_text_tokens("p50k_base", "x", 1, &n), OBATCH_EINVAL);
  obatch_tokens_t t = OBATCH_TOKENS_INIT;
  char err[256] = "";
  assert_int_equal(obatch_count_tokens("/v1/chat/completions",
                                       "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\","
                                       "\"content\":\"x\"}],\"max_completion_tokens\":5}",
                                       &t, err, sizeof err),
                   OBATCH_OK);
  assert_string_equal(t.encoding, "o200k_base");
  assert_int_equal(t.prompt_tokens, 8);
  assert_int_equal(t.output_tokens, 5);
  assert_int_equal(t.output_assumed, 0);
  assert_int_equal(obatch_count_tokens("/v1/embeddings", "[]", &t, err, sizeof err), OBATCH_EJSON);
  assert_non_null(strstr(err, "not a JSON object"));
}

/* Per model and in total, with the built-in prices (half for batch) and a
 * table of one's own; a model without a price costs "unknown". */
static void estimate_a_file(void **state) {
  fixture_t *f = *state;
  char err[512] = "";
  const char *in = write_file(f, 0, "in.jsonl",
                              CHAT_LINE("a", "gpt-4o-mini") "\n" CHAT_LINE("b", "gpt-4o-mini") "\n"
                              CHAT_LINE("c", "gpt-4o") "\n");
  obatch_estimate_t *e = NULL;
  assert_int_equal(obatch_estimate_file(&e, NULL, in, NULL, err, sizeof err), OBATCH_OK);
  obatch_estimate_row_t r = OBATCH_ESTIMATE_ROW_INIT;
  assert_int_equal(obatch_estimate_next(e, &r), OBATCH_OK);
  assert_string_equal(r.model, "gpt-4o-mini");
  assert_int_equal(r.requests, 2);
  assert_int_equal(r.prompt_tokens, 16);
  assert_int_equal(r.output_tokens, 2000); /* no max: 1000 assumed each */
  assert_int_equal(r.output_assumed, 2);
  assert_int_equal(r.batches, 1);
  assert_int_equal(r.has_cost, 1);
  assert_true(r.direct_cost_usd > 0 && fabs(r.batch_cost_usd * 2 - r.direct_cost_usd) < 1e-12);
  assert_int_equal(obatch_estimate_next(e, &r), OBATCH_OK);
  assert_string_equal(r.model, "gpt-4o");
  assert_int_equal(obatch_estimate_next(e, &r), OBATCH_OK);
  assert_string_equal(r.model, ""); /* the total */
  assert_int_equal(r.requests, 3);
  assert_int_equal(r.batches, 2); /* OpenAI: one model per batch */
  assert_int_equal(obatch_estimate_next(e, &r), OBATCH_END);
  assert_non_null(strstr(obatch_estimate_prices(e), "built in, 20"));
  obatch_estimate_destroy(e);

  const char *prices = write_file(f, 1, "prices.tsv",
                                  "# date: 2030-01-01\n"
                                  "gpt-4o-mini\t1000000\t-\t0\t500000\t0\n");
  assert_int_equal(obatch_estimate_file(&e, NULL, in, prices, err, sizeof err), OBATCH_OK);
  r = (obatch_estimate_row_t)OBATCH_ESTIMATE_ROW_INIT;
  assert_int_equal(obatch_estimate_next(e, &r), OBATCH_OK);
  assert_true(fabs(r.direct_cost_usd - 16.0) < 1e-9); /* 16 tokens at $1 each */
  assert_true(fabs(r.batch_cost_usd - 8.0) < 1e-9);
  assert_int_equal(obatch_estimate_next(e, &r), OBATCH_OK);
  assert_int_equal(r.has_cost, 0); /* gpt-4o is not in this table */
  assert_int_equal(obatch_estimate_next(e, &r), OBATCH_OK);
  assert_int_equal(r.has_cost, 0);
  assert_non_null(strstr(obatch_estimate_prices(e), "2030-01-01"));
  obatch_estimate_destroy(e);

  const char *bad = write_file(f, 2, "bad.tsv", "gpt-4o\t1\t2\n");
  assert_int_equal(obatch_estimate_file(&e, NULL, in, bad, err, sizeof err), OBATCH_EIO);
  assert_non_null(strstr(err, "bad.tsv line 1: 3 columns, not 6"));
  assert_null(e);
  const char *broken = write_file(f, 3, "broken.jsonl", CHAT_LINE("a", "gpt-4o-mini") "\n{oops\n");
  assert_int_equal(obatch_estimate_file(&e, NULL, broken, NULL, err, sizeof err), OBATCH_EJSON);
  assert_non_null(strstr(err, "line 2"));
}

static void check_limits_and_cap(void **state) {
  fixture_t *f = *state;
  char err[256] = "";
  const char *in = write_file(f, 0, "in.jsonl",
                              CHAT_LINE("a", "gpt-4o-mini") "\n"
                              CHAT_LINE("b", "gpt-4o-mini") "\n"
                              CHAT_LINE("c", "gpt-4o-mini") "\n"
                              "{not json\n"
                              CHAT_LINE("c", "gpt-4o-mini") "\n"
                              CHAT_LINE("d", "gpt-4o-mini") "\n");
  assert_int_equal(obatch_config_new(&f->conf), OBATCH_OK);
  assert_int_equal(obatch_config_set(f->conf, "provider", "openai", err, sizeof err), OBATCH_OK);
  assert_int_equal(obatch_config_set(f->conf, "max_requests", "1", err, sizeof err), OBATCH_OK);
  /* One batch: the limit is a problem, not a cut. */
  assert_int_equal(obatch_config_set(f->conf, "split", "off", err, sizeof err), OBATCH_OK);
  assert_int_equal(obatch_check_file(&f->check, f->conf, in, 2, err, sizeof err), OBATCH_OK);
  assert_int_equal(obatch_check_problems(f->check), 3); /* all counted... */
  expect_problem(f->check, 2, OBATCH_ELIMIT,
                 "line 2: the batch would have 2 requests; openai allows 1 (the file has 4 "
                 "requests)");
  expect_problem(f->check, 4, OBATCH_EJSON, "line 4");
  obatch_problem_t p = OBATCH_PROBLEM_INIT;
  assert_int_equal(obatch_check_next(f->check, &p), OBATCH_END); /* ...two kept */
  obatch_info_t info = OBATCH_INFO_INIT;
  assert_int_equal(obatch_check_info(f->check, &info), OBATCH_OK);
  assert_int_equal(info.requests_added, 4); /* a, b, c, d */

  obatch_check_destroy(f->check);
  f->check = NULL;
  assert_int_equal(obatch_check_file(&f->check, f->conf, in, 0, err, sizeof err), OBATCH_OK);
  assert_int_equal(obatch_check_problems(f->check), 3);
  expect_problem(f->check, 2, OBATCH_ELIMIT, "openai allows 1");
  expect_problem(f->check, 4, OBATCH_EJSON, "line 4");
  expect_problem(f->check, 5, OBATCH_EDUPLICATE, "custom_id \"c\" is already used by line 3");
  assert_int_equal(obatch_check_next(f->check, &p), OBATCH_END);
}

/* The check's info to a version-1 caller: nothing past its struct. */
static void check_info_v1_caller(void **state) {
  fixture_t *f = *state;
  struct {
    unsigned version;
    int phase;
    const char *s[7];
    uint64_t n[7];
    int64_t created_at;
    int error_code;
    const char *error_message;
    unsigned char guard[128];
  } v1;
  memset(&v1, 0xAB, sizeof v1);
  v1.version = 1;
  const char *in = write_file(f, 0, "in.jsonl", CHAT_LINE("a", "gpt-4o-mini") "\n");
  assert_int_equal(obatch_check_file(&f->check, NULL, in, 0, NULL, 0), OBATCH_OK);
  assert_int_equal(obatch_check_info(f->check, (obatch_info_t *)&v1), OBATCH_OK);
  assert_int_equal(v1.n[0], 1); /* requests_added */
  for (size_t i = 0; i < sizeof v1.guard; i++)
    if (v1.guard[i] != 0xAB) fail_msg("byte %zu after a version-1 struct was written", i);
}

static void check_file_errors(void **state) {
  fixture_t *f = *state;
  char err[512] = "", missing[340];
  obatch_check_t *c = (obatch_check_t *)&c;
  snprintf(missing, sizeof missing, "%s/missing.jsonl", f->dir);
  assert_int_equal(obatch_check_file(&c, NULL, missing, 0, err, sizeof err), OBATCH_EIO);
  assert_null(c);
  assert_non_null(strstr(err, missing));
  assert_int_equal(obatch_check_file(NULL, NULL, missing, 0, err, sizeof err), OBATCH_EINVAL);
  assert_int_equal(obatch_check_file(&c, NULL, NULL, 0, err, sizeof err), OBATCH_EINVAL);
  assert_int_equal(obatch_check_problems(NULL), 0);
  obatch_problem_t p = OBATCH_PROBLEM_INIT;
  obatch_info_t info = OBATCH_INFO_INIT;
  assert_int_equal(obatch_check_next(NULL, &p), OBATCH_EINVAL);
  assert_int_equal(obatch_check_info(NULL, &info), OBATCH_EINVAL);
  obatch_check_destroy(NULL);

  /* An empty file: one problem about the whole file. */
  const char *empty = write_file(f, 0, "empty.jsonl", "");
  assert_int_equal(obatch_check_file(&f->check, NULL, empty, 0, err, sizeof err), OBATCH_OK);
  assert_int_equal(obatch_check_problems(f->check), 1);
  expect_problem(f->check, 0, OBATCH_EREQUEST, "the file has no requests");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(open_in_input_order, setup, teardown),
    cmocka_unit_test_setup_teardown(open_reports_missing, setup, teardown),
    cmocka_unit_test_setup_teardown(open_errors, setup, teardown),
    cmocka_unit_test_setup_teardown(check_reports_every_line, setup, teardown),
    cmocka_unit_test_setup_teardown(check_limits_and_cap, setup, teardown),
    cmocka_unit_test_setup_teardown(count_tokens, setup, teardown),
    cmocka_unit_test_setup_teardown(estimate_a_file, setup, teardown),
    cmocka_unit_test_setup_teardown(check_info_v1_caller, setup, teardown),
    cmocka_unit_test_setup_teardown(check_file_errors, setup, teardown),
};

OBATCH_TEST_MAIN(tests, NULL, NULL)
