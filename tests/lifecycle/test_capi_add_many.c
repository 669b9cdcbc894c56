/* obatch_add_many: many bodies in one buffer add exactly what one obatch_add
 * per body adds, all or nothing, with errors that name the body's line.
 * Public API only; nothing is sent. */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "obatch/obatch.h"
#include "temp_dir.h"
#include "test_main.h"

typedef struct {
  char dir[256];
  obatch_t *a, *b;
} fixture_t;

static int setup(void **state) {
  fixture_t *f = calloc(1, sizeof *f);
  if (!f) return -1;
  *state = f;
  if (test_temp_dir(f->dir, sizeof f->dir, "many") != 0) return -1;
  return 0;
}

static int teardown(void **state) {
  fixture_t *f = *state;
  obatch_destroy(f->a);
  obatch_destroy(f->b);
  test_remove_tree(f->dir);
  free(f);
  return 0;
}

/* A batch (OpenAI rules, split off so that limits are errors) writing into
 * its own work dir; `max_requests` / `max_bytes` may be NULL. */
static obatch_t *new_batch(fixture_t *f, const char *name, const char *max_requests,
                           const char *max_bytes) {
  char dir[320], err[256] = "";
  snprintf(dir, sizeof dir, "%s/%s", f->dir, name);
  assert_int_equal(mkdir(dir, 0700), 0);
  obatch_config_t *conf;
  assert_int_equal(obatch_config_new(&conf), OBATCH_OK);
  assert_int_equal(obatch_config_set(conf, "provider", "openai", err, sizeof err), OBATCH_OK);
  assert_int_equal(obatch_config_set(conf, "work_dir", dir, err, sizeof err), OBATCH_OK);
  assert_int_equal(obatch_config_set(conf, "split", "off", err, sizeof err), OBATCH_OK);
  if (max_requests)
    assert_int_equal(obatch_config_set(conf, "max_requests", max_requests, err, sizeof err),
                     OBATCH_OK);
  if (max_bytes)
    assert_int_equal(obatch_config_set(conf, "max_bytes", max_bytes, err, sizeof err), OBATCH_OK);
  obatch_t *b = NULL;
  assert_int_equal(obatch_create(&b, conf), OBATCH_OK);
  obatch_config_destroy(conf);
  return b;
}

/* The input file's bytes (flushed first), malloc'd; *n its size. */
static char *input_bytes(obatch_t *b, size_t *n) {
  const char *path = obatch_input_path(b);
  assert_non_null(path);
  FILE *fp = fopen(path, "rb");
  assert_non_null(fp);
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  size_t got;
  while ((got = fread(buf + len, 1, cap - len, fp)) > 0) {
    len += got;
    if (len == cap) buf = realloc(buf, cap *= 2);
  }
  fclose(fp);
  *n = len;
  return buf;
}

static void assert_same_input(obatch_t *a, obatch_t *b) {
  size_t na, nb;
  char *x = input_bytes(a, &na), *y = input_bytes(b, &nb);
  assert_int_equal(na, nb);
  assert_memory_equal(x, y, na);
  free(x);
  free(y);
  obatch_info_t ia = OBATCH_INFO_INIT, ib = OBATCH_INFO_INIT;
  assert_int_equal(obatch_info(a, &ia), OBATCH_OK);
  assert_int_equal(obatch_info(b, &ib), OBATCH_OK);
  assert_int_equal(ia.requests_added, ib.requests_added);
  assert_int_equal(ia.bytes_total, ib.bytes_total);
  assert_int_equal(ia.tokens_estimated, ib.tokens_estimated);
  assert_string_equal(ia.endpoint, ib.endpoint);
  assert_string_equal(ia.model, ib.model);
  assert_string_equal(ia.provider, ib.provider);
}

/* Body i: plain, pretty (whitespace outside strings), and with escapes. */
static void body(int i, char *out, size_t size) {
  switch (i % 4) {
    case 0:
      snprintf(out, size,
               "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":"
               "\"Summarize item %d in one line.\"}],\"max_tokens\":64}",
               i);
      break;
    case 1:
      snprintf(out, size,
               "{ \"model\" : \"gpt-4o-mini\", \"messages\": [ {\"role\": \"user\", "
               "\"content\": \"say \\\"%d\\\" \\\\ twice\\\\\"} ] }",
               i);
      break;
    case 2:
      snprintf(out, size,
               "{\"model\":\"gpt-4o-mini\",\"temperature\":1.50,\"messages\":[{\"role\":"
               "\"user\",\"content\":\"caf\\u00e9 %d \\/ tab\\t\"}]}",
               i);
      break;
    default:
      snprintf(out, size,
               "{\"model\":\"gpt-4o-mini\",\t\"messages\":[{\"role\":\"user\",\"content\":"
               "\"%d   spaces   inside\"}]}   ",
               i);
  }
}

/* n bodies, one per line (a final newline when `final_nl`), malloc'd. */
static char *bodies_text(int first, int n, int final_nl, size_t *len) {
  size_t cap = (size_t)n * 256 + 16, at = 0;
  char *text = malloc(cap);
  for (int i = 0; i < n; i++) {
    body(first + i, text + at, cap - at);
    at += strlen(text + at);
    if (i + 1 < n || final_nl) text[at++] = '\n';
  }
  text[at] = '\0';
  *len = at;
  return text;
}

static void many_adds_what_add_adds(void **state) {
  fixture_t *f = *state;
  f->a = new_batch(f, "a", NULL, NULL);
  f->b = new_batch(f, "b", NULL, NULL);
  char one[256];
  for (int i = 0; i < 40; i++) {
    body(i, one, sizeof one);
    assert_int_equal(obatch_add(f->a, one, NULL, NULL), OBATCH_OK);
  }
  size_t len, added = 99;
  char *text = bodies_text(0, 25, 1, &len);
  /* Exactly len bytes (no NUL): a read past them is a memory error that
   * valgrind or ASan reports. */
  char *exact = malloc(len);
  memcpy(exact, text, len);
  free(text);
  assert_int_equal(obatch_add_many(f->b, exact, len, NULL, &added), OBATCH_OK);
  assert_int_equal(added, 25);
  free(exact);
  /* No final newline; NULL `added`. */
  text = bodies_text(25, 15, 0, &len);
  assert_int_equal(obatch_add_many(f->b, text, len, NULL, NULL), OBATCH_OK);
  free(text);
  /* len 0 adds nothing. */
  assert_int_equal(obatch_add_many(f->b, "", 0, NULL, &added), OBATCH_OK);
  assert_int_equal(added, 0);
  assert_same_input(f->a, f->b);
  /* A body with whitespace before it: the per-line parse, the same bytes. */
  body(40, one, sizeof one);
  assert_int_equal(obatch_add(f->a, one, NULL, "/v1/chat/completions"), OBATCH_OK);
  char spaced[300];
  snprintf(spaced, sizeof spaced, "  %s\n", one);
  assert_int_equal(obatch_add_many(f->b, spaced, strlen(spaced), "/v1/chat/completions", &added),
                   OBATCH_OK);
  assert_int_equal(added, 1);
  assert_same_input(f->a, f->b);
}

static void huge_buffer_across_batches(void **state) {
  fixture_t *f = *state;
  f->a = new_batch(f, "a", NULL, NULL);
  f->b = new_batch(f, "b", NULL, NULL);
  const int n = 45000; /* about 5 MB: more than one 4 MB piece (one simdjson batch each) */
  size_t len, added;
  char *text = bodies_text(0, n, 1, &len);
  assert_true(len > (size_t)(4 << 20));
  char one[256];
  for (int i = 0; i < n; i++) {
    body(i, one, sizeof one);
    assert_int_equal(obatch_add(f->a, one, NULL, NULL), OBATCH_OK);
  }
  assert_int_equal(obatch_add_many(f->b, text, len, NULL, &added), OBATCH_OK);
  assert_int_equal(added, n);
  assert_same_input(f->a, f->b);
  /* A bad body past the first batch: named by its line, nothing added. */
  size_t at = len - 3 * 200; /* in one of the last lines */
  while (text[at - 1] != '\n') at--;
  int line = 1;
  for (size_t k = 0; k < at; k++) line += text[k] == '\n';
  text[at] = '[';
  char want[32];
  snprintf(want, sizeof want, "line %d: ", line);
  obatch_destroy(f->a);
  f->a = new_batch(f, "c", NULL, NULL);
  assert_int_equal(obatch_add_many(f->a, text, len, NULL, &added), OBATCH_EJSON);
  assert_int_equal(added, 0);
  assert_non_null(strstr(obatch_last_error(f->a), want));
  obatch_info_t info = OBATCH_INFO_INIT;
  assert_int_equal(obatch_info(f->a, &info), OBATCH_OK);
  assert_int_equal(info.requests_added, 0);
  size_t size;
  free(input_bytes(f->a, &size));
  assert_int_equal(size, 0); /* the lines written before the bad one are gone */
  free(text);
}

/* Adds `text` to a batch holding 2 requests; expects `code` and a message
 * starting with `start` and holding `part`; then checks that nothing of the
 * call stayed and that a following add works. */
static void expect_bad(fixture_t *f, const char *max_requests, const char *max_bytes,
                       const char *text, int code, const char *start, const char *part) {
  obatch_destroy(f->b);
  f->b = NULL;
  static int round = 0;
  char name[32];
  snprintf(name, sizeof name, "bad%d", round++);
  f->b = new_batch(f, name, max_requests, max_bytes);
  char one[256];
  body(0, one, sizeof one);
  assert_int_equal(obatch_add(f->b, one, NULL, NULL), OBATCH_OK);
  assert_int_equal(obatch_add(f->b, one, NULL, NULL), OBATCH_OK);
  size_t n0, n1, added = 7;
  char *before = input_bytes(f->b, &n0);
  int rc = obatch_add_many(f->b, text, strlen(text), NULL, &added);
  const char *msg = obatch_last_error(f->b);
  if (rc != code || strncmp(msg, start, strlen(start)) != 0 || !strstr(msg, part))
    fail_msg("got %d \"%s\"; wanted %d \"%s...%s\"", rc, msg, code, start, part);
  assert_int_equal(added, 0);
  char *after = input_bytes(f->b, &n1);
  assert_int_equal(n0, n1);
  assert_memory_equal(before, after, n0);
  free(before);
  free(after);
  obatch_info_t info = OBATCH_INFO_INIT;
  assert_int_equal(obatch_info(f->b, &info), OBATCH_OK);
  assert_int_equal(info.requests_added, 2);
  assert_int_equal(info.bytes_total, n0);
  assert_int_equal(obatch_add(f->b, one, NULL, NULL), OBATCH_OK);
  assert_int_equal(obatch_info(f->b, &info), OBATCH_OK);
  assert_int_equal(info.requests_added, 3);
}

#define GOOD "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"

static void bad_bodies_name_their_line(void **state) {
  fixture_t *f = *state;
  expect_bad(f, NULL, NULL, GOOD "\n" GOOD "\n{\"model\":\"gpt-4o-mini\",\"messages\":[}\n" GOOD,
             OBATCH_EJSON, "line 3: ", "the body is invalid JSON");
  expect_bad(f, NULL, NULL, GOOD "\n[1,2]\n" GOOD "\n", OBATCH_EREQUEST,
             "line 2: ", "the body must be a JSON object, not an array");
  expect_bad(f, NULL, NULL, GOOD "\n" GOOD "\n" GOOD "\n{\"messages\":[{\"role\":\"user\"}]}\n",
             OBATCH_EREQUEST, "line 4: ", "the body has no \"model\"");
  expect_bad(f, NULL, NULL,
             GOOD
             "\n{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\"}]}",
             OBATCH_EREQUEST, "line 2: ", "\"stream\" must be false");
  expect_bad(f, NULL, NULL, GOOD "\n{\"model\":\"text-embedding-3-small\",\"input\":\"x\"}\n",
             OBATCH_EREQUEST, "line 2: ", "differs from the batch's endpoint");
  expect_bad(f, "4", NULL, GOOD "\n" GOOD "\n" GOOD "\n", OBATCH_ELIMIT,
             "line 3: ", "the batch would have 5 requests; openai allows 4");
  expect_bad(f, NULL, "600", GOOD "\n" GOOD "\n" GOOD "\n" GOOD "\n", OBATCH_ELIMIT, "line ",
             "the input file would be");
  expect_bad(f, NULL, NULL, GOOD "\n\n" GOOD "\n", OBATCH_EJSON, "line 2: ", "the line is empty");
  expect_bad(f, NULL, NULL, GOOD "\r\n" GOOD "\r\n", OBATCH_EJSON, "line 1: ", "CR LF");
  expect_bad(f, NULL, NULL, GOOD "\n{\"model\":\"gpt-4o-mini\",\n\"messages\":[]}\n", OBATCH_EJSON,
             "line 2: ", "invalid JSON");
  expect_bad(f, NULL, NULL, "\xEF\xBB\xBF" GOOD "\n", OBATCH_EJSON, "line 1: ", "byte order mark");
}

static void null_arguments(void **state) {
  fixture_t *f = *state;
  size_t added = 5;
  assert_int_equal(obatch_add_many(NULL, GOOD, strlen(GOOD), NULL, &added), OBATCH_EINVAL);
  assert_int_equal(added, 0);
  f->b = new_batch(f, "b", NULL, NULL);
  added = 5;
  assert_int_equal(obatch_add_many(f->b, NULL, 10, NULL, &added), OBATCH_EINVAL);
  assert_int_equal(added, 0);
  assert_non_null(strstr(obatch_last_error(f->b), "bodies is NULL"));
  /* Not read past len: the same text with a bad tail outside it is fine. */
  const char *text = GOOD "\nnot json";
  assert_int_equal(obatch_add_many(f->b, text, strlen(GOOD) + 1, NULL, &added), OBATCH_OK);
  assert_int_equal(added, 1);
  /* A trailing blank line ends the text; two are an error. */
  const char *two = GOOD "\n\n";
  assert_int_equal(obatch_add_many(f->b, two, strlen(two), NULL, &added), OBATCH_OK);
  assert_int_equal(added, 1);
  const char *three = GOOD "\n\n\n";
  assert_int_equal(obatch_add_many(f->b, three, strlen(three), NULL, &added), OBATCH_EJSON);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(many_adds_what_add_adds, setup, teardown),
    cmocka_unit_test_setup_teardown(huge_buffer_across_batches, setup, teardown),
    cmocka_unit_test_setup_teardown(bad_bodies_name_their_line, setup, teardown),
    cmocka_unit_test_setup_teardown(null_arguments, setup, teardown),
};

OBATCH_TEST_MAIN(tests, NULL, NULL)
