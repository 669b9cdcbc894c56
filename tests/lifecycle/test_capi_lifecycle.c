/* Lifecycle of a batch through the public C API, against the fake server:
 * submit -> wait -> fetch, failures, expiry, cancel, resume, faults, lost
 * answers, auth, providers, validation, listing. Public API only. */
#define _GNU_SOURCE
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fake_server.h"
#include "obatch/obatch.h"
#include "temp_dir.h"
#include "test_main.h"

#define N_REQ 20
#define MAX_HANDLES 4
#define CHAT_BODY(model) \
  "{\"model\":\"" model "\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"

typedef struct {
  fake_server_t server;
  char work_dir[256];
  obatch_config_t *conf;
  obatch_t *b[MAX_HANDLES];
  obatch_list_t *list;
} fixture_t;

/* Environment the library reads; saved once, restored after every case. */
static const char *const kEnvNames[] = {"OPENAI_API_KEY", "OPENAI_BASE_URL", "PARASAIL_API_KEY",
                                        "PARASAIL_BASE_URL", "OBATCH_STATE"};
#define N_ENV (sizeof kEnvNames / sizeof kEnvNames[0])
static char *saved_env[N_ENV];

/* ---- helpers ------------------------------------------------------------- */

static void set_conf(obatch_config_t *conf, const char *key, const char *value) {
  char err[256] = "";
  int rc = obatch_config_set(conf, key, value, err, sizeof err);
  if (rc != OBATCH_OK) fail_msg("config %s: %s", key, err);
}

/* The usual test config: openai at the fake server, fast polling. */
static obatch_config_t *base_conf(fixture_t *f, int with_provider) {
  obatch_config_t *conf = NULL;
  assert_int_equal(obatch_config_new(&conf), OBATCH_OK);
  if (with_provider) {
    set_conf(conf, "provider", "openai");
    set_conf(conf, "base_url", f->server.base_url);
    set_conf(conf, "api_key", "test-key");
  }
  set_conf(conf, "work_dir", f->work_dir);
  set_conf(conf, "poll_interval_ms", "5");
  set_conf(conf, "poll_max_interval_ms", "20");
  set_conf(conf, "max_retries", "5");
  return conf;
}

/* A new handle, kept in the fixture so teardown frees it on any exit path. */
static obatch_t *new_batch(fixture_t *f, const obatch_config_t *conf) {
  for (int i = 0; i < MAX_HANDLES; i++) {
    if (f->b[i]) continue;
    assert_int_equal(obatch_create(&f->b[i], conf), OBATCH_OK);
    assert_non_null(f->b[i]);
    return f->b[i];
  }
  fail_msg("too many handles");
  return NULL;
}

/* A handle with the usual config and these keys set: {"key", "value", ...,
 * NULL}. */
static obatch_t *new_batch_with(fixture_t *f, const char *const *pairs) {
  obatch_config_t *conf = base_conf(f, 1);
  for (; pairs[0]; pairs += 2) set_conf(conf, pairs[0], pairs[1]);
  obatch_t *b = new_batch(f, conf);
  obatch_config_destroy(conf);
  return b;
}

static void drop_batch(fixture_t *f, obatch_t *b) {
  for (int i = 0; i < MAX_HANDLES; i++)
    if (f->b[i] == b) f->b[i] = NULL;
  obatch_destroy(b);
}

static void add_chat(obatch_t *b, const char *model, int n, const char *custom_id) {
  char body[256];
  snprintf(body, sizeof body,
           "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"hello %d\"}]}", model,
           n);
  int rc = obatch_add(b, body, custom_id, NULL);
  if (rc != OBATCH_OK) fail_msg("add %d: %d %s", n, rc, obatch_last_error(b));
}

/* N_REQ chat requests: even ones with explicit ids, odd ones auto. */
static void add_mixed(obatch_t *b, char ids[][32]) {
  for (int i = 0; i < N_REQ; i++) {
    if (i % 2 == 0) {
      snprintf(ids[i], 32, "item-%02d", i);
      add_chat(b, "gpt-4o-mini", i, ids[i]);
    } else {
      snprintf(ids[i], 32, "request-%d", i + 1); /* prefix-N, N 1-based */
      add_chat(b, "gpt-4o-mini", i, NULL);
    }
  }
}

static void auto_ids(char ids[][32], int n) {
  for (int i = 0; i < n; i++) snprintf(ids[i], 32, "request-%d", i + 1);
}

/* Polls (bounded) until the handle knows its batch id. */
static void wait_batch_id(obatch_t *b, obatch_info_t *info, char *id, size_t size) {
  long deadline = test_now_ms() + 10000;
  do {
    assert_int_equal(obatch_poll(b, 50, info), OBATCH_OK);
    if (info->phase == OBATCH_PHASE_FAILED) fail_msg("failed: %s", info->error_message);
    if (info->batch_id[0] && info->phase >= OBATCH_PHASE_WAITING) {
      snprintf(id, size, "%s", info->batch_id);
      return;
    }
  } while (test_now_ms() < deadline);
  fail_msg("no batch id after 10 s");
}

static char *read_text(const char *path) {
  FILE *fp = fopen(path, "rb");
  char *buf;
  long n;
  if (!fp) return NULL;
  fseek(fp, 0, SEEK_END);
  n = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) n = 0;
  if (buf) buf[n] = '\0';
  fclose(fp);
  return buf;
}

static int count_lines(const char *text) {
  int n = 0;
  for (const char *p = text; *p; p++)
    if (*p == '\n') n++;
  return n;
}

static int file_exists(const char *path) {
  struct stat st;
  return path && path[0] && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Files in the work dir whose name contains `needle`. */
static int count_files(const char *dir, const char *needle) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  assert_non_null(d);
  while ((e = readdir(d)) != NULL)
    if (strstr(e->d_name, needle)) n++;
  closedir(d);
  return n;
}

static void check_success(const obatch_result_t *r, const char *cid) {
  char echo[64];
  assert_int_equal(r->kind, OBATCH_RESULT_SUCCEEDED);
  assert_int_equal(r->status_code, 200);
  assert_non_null(r->body);
  assert_int_equal(strlen(r->body), r->body_len);
  snprintf(echo, sizeof echo, "echo: %s\"", cid);
  if (!strstr(r->body, echo)) fail_msg("%s: body lacks %s: %s", cid, echo, r->body);
  assert_non_null(r->request_id);
  assert_null(r->error_code);
  assert_non_null(r->line);
  assert_non_null(strstr(r->line, cid));
}

static void check_http_error(const obatch_result_t *r, const char *cid) {
  assert_int_equal(r->kind, OBATCH_RESULT_HTTP_ERROR);
  assert_int_equal(r->status_code, 400);
  assert_non_null(r->error_code);
  assert_string_equal(r->error_code, "fake_failure");
  assert_non_null(r->error_message);
  assert_non_null(strstr(r->error_message, cid));
  assert_non_null(r->line);
}

static void check_missing(const obatch_result_t *r) {
  assert_int_equal(r->kind, OBATCH_RESULT_MISSING);
  assert_int_equal(r->status_code, 0);
  assert_null(r->body);
  assert_null(r->line);
}

/* Fetches every result: in input order, each as expected. `fail_every`
 * marks HTTP errors (1-based positions), from `missing_from` on none. */
static void check_all(obatch_t *b, char ids[][32], int n, int fail_every, int missing_from) {
  obatch_result_t r = OBATCH_RESULT_INIT;
  for (int i = 0; i < n; i++) {
    int rc = obatch_fetch(b, &r);
    if (rc != OBATCH_OK) fail_msg("fetch %d: %d %s", i, rc, obatch_last_error(b));
    assert_int_equal(r.index, (uint64_t)i);
    assert_non_null(r.custom_id);
    assert_string_equal(r.custom_id, ids[i]);
    if (i >= missing_from)
      check_missing(&r);
    else if (fail_every && (i + 1) % fail_every == 0)
      check_http_error(&r, ids[i]);
    else
      check_success(&r, ids[i]);
  }
  assert_int_equal(obatch_fetch(b, &r), OBATCH_END);
  assert_int_equal(obatch_fetch(b, &r), OBATCH_END);
}

/* ---- fixture -------------------------------------------------------------- */

static int group_setup(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ENV; i++) {
    const char *v = getenv(kEnvNames[i]);
    saved_env[i] = v ? strdup(v) : NULL;
  }
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ENV; i++) free(saved_env[i]);
  return 0;
}

/* The common scenario: `config_json` on the server, the mixed batch of
 * N_REQ requests submitted, waited for (must complete) and every result
 * checked. Returns the handle for the case's own checks. */
static obatch_t *complete_batch_under(fixture_t *f, const char *config_json, char ids[][32]) {
  obatch_info_t info = OBATCH_INFO_INIT;
  if (config_json) assert_int_equal(fake_server_config(&f->server, config_json), 0);
  obatch_t *b = new_batch(f, f->conf);
  add_mixed(b, ids);
  assert_int_equal(obatch_submit(b), OBATCH_OK);
  int rc = obatch_wait(b, 20000, &info);
  if (rc != OBATCH_OK) fail_msg("wait: %d %s", rc, obatch_last_error(b));
  check_all(b, ids, N_REQ, 0, N_REQ);
  return b;
}

static int setup(void **state) {
  fixture_t *f = calloc(1, sizeof *f);
  if (!f) return -1;
  *state = f;
  /* The library must not pick up a developer's real keys or URLs. */
  for (size_t i = 0; i < N_ENV; i++) unsetenv(kEnvNames[i]);
  if (test_temp_dir(f->work_dir, sizeof f->work_dir, "life") != 0) return -1;
  /* A job journal of the case's own: the same input sent to a server that
   * reuses a port of an earlier case must not be taken for that job. */
  char journal[300];
  snprintf(journal, sizeof journal, "%s/jobs.db", f->work_dir);
  setenv("OBATCH_STATE", journal, 1);
  if (fake_server_start(&f->server, NULL) != 0) return -1;
  f->conf = base_conf(f, 1);
  return 0;
}

static int teardown(void **state) {
  fixture_t *f = *state;
  for (int i = 0; i < MAX_HANDLES; i++) obatch_destroy(f->b[i]);
  obatch_list_destroy(f->list);
  obatch_config_destroy(f->conf);
  fake_server_stop(&f->server);
  test_remove_tree(f->work_dir);
  for (size_t i = 0; i < N_ENV; i++) {
    if (saved_env[i])
      setenv(kEnvNames[i], saved_env[i], 1);
    else
      unsetenv(kEnvNames[i]);
  }
  free(f);
  return 0;
}

/* ---- cases ---------------------------------------------------------------- */

static void completed_batch(void **state) {
  fixture_t *f = *state;
  char ids[N_REQ][32];
  obatch_info_t info = OBATCH_INFO_INIT;
  obatch_result_t r = OBATCH_RESULT_INIT;
  obatch_t *b = new_batch(f, f->conf);
  add_mixed(b, ids);
  assert_int_equal(obatch_info(b, &info), OBATCH_OK);
  assert_int_equal(info.phase, OBATCH_PHASE_BUILDING);
  assert_int_equal(info.requests_added, N_REQ);
  assert_int_equal(obatch_submit(b), OBATCH_OK);
  int rc = obatch_wait(b, 15000, &info);
  if (rc != OBATCH_OK) fail_msg("wait: %d %s", rc, obatch_last_error(b));
  assert_int_equal(info.phase, OBATCH_PHASE_DONE);
  assert_string_equal(info.remote_status, "completed");
  assert_string_equal(info.provider, "openai");
  assert_string_equal(info.endpoint, "/v1/chat/completions");
  assert_int_equal(strncmp(info.batch_id, "batch_", 6), 0);
  assert_int_equal(strncmp(info.input_file_id, "file-", 5), 0);
  assert_int_equal(info.requests_total, N_REQ);
  assert_int_equal(info.requests_completed, N_REQ);
  assert_int_equal(info.requests_failed, 0);
  assert_int_equal(info.error_code, 0);

  check_all(b, ids, N_REQ, 0, N_REQ);

  assert_int_equal(obatch_lookup(b, "item-04", &r), OBATCH_OK);
  assert_int_equal(r.index, 4);
  assert_string_equal(r.custom_id, "item-04");
  check_success(&r, "item-04");
  assert_int_equal(obatch_lookup(b, "request-8", &r), OBATCH_OK);
  assert_int_equal(r.index, 7);
  assert_int_equal(obatch_lookup(b, "no-such-id", &r), OBATCH_ENOTFOUND);
  assert_non_null(strstr(obatch_last_error(b), "no-such-id"));

  assert_int_equal(obatch_rewind(b), OBATCH_OK);
  assert_int_equal(obatch_fetch(b, &r), OBATCH_OK);
  assert_int_equal(r.index, 0);
  assert_string_equal(r.custom_id, ids[0]);

  assert_int_equal(fake_server_stats_int(&f->server, "uploads"), 1);
  assert_int_equal(fake_server_stats_int(&f->server, "batches_created"), 1);
  assert_int_equal(fake_server_stats_int(&f->server, "downloads"), 1); /* no error file */
  assert_int_equal(fake_server_count_requests(&f->server, "POST", "/v1/files", NULL), 1);

  assert_true(file_exists(info.output_path));
  assert_string_equal(info.error_path, "");
  char *out = read_text(info.output_path);
  assert_non_null(out);
  assert_int_equal(count_lines(out), N_REQ);
  for (int i = 0; i < N_REQ; i++) {
    char quoted[48];
    snprintf(quoted, sizeof quoted, "\"%.40s\"", ids[i]);
    if (!strstr(out, quoted)) {
      free(out);
      fail_msg("%s not in the output file", ids[i]);
    }
  }
  free(out);
  assert_int_equal(count_files(f->work_dir, ".part-"), 0);
}

static void failed_lines(void **state) {
  fixture_t *f = *state;
  char ids[N_REQ][32];
  obatch_info_t info = OBATCH_INFO_INIT;
  obatch_result_t r = OBATCH_RESULT_INIT;
  assert_int_equal(fake_server_config(&f->server, "{\"fail_every\": 3}"), 0);
  obatch_t *b = new_batch(f, f->conf);
  for (int i = 0; i < N_REQ; i++) add_chat(b, "gpt-4o-mini", i, NULL);
  auto_ids(ids, N_REQ);
  assert_int_equal(obatch_submit(b), OBATCH_OK);
  assert_int_equal(obatch_wait(b, 15000, &info), OBATCH_OK);
  assert_int_equal(info.requests_completed, N_REQ - N_REQ / 3);
  assert_int_equal(info.requests_failed, N_REQ / 3);
  assert_true(file_exists(info.output_path));
  assert_true(file_exists(info.error_path));
  assert_string_not_equal(info.output_path, info.error_path);

  check_all(b, ids, N_REQ, 3, N_REQ);

  /* Each failure's raw line is a line of the error file, not the output. */
  char *errors = read_text(info.error_path);
  char *output = read_text(info.output_path);
  assert_non_null(errors);
  assert_non_null(output);
  assert_int_equal(count_lines(errors), N_REQ / 3);
  assert_int_equal(obatch_rewind(b), OBATCH_OK);
  int failures = 0;
  while (obatch_fetch(b, &r) == OBATCH_OK) {
    const char *expected = r.kind == OBATCH_RESULT_HTTP_ERROR ? errors : output;
    const char *other = r.kind == OBATCH_RESULT_HTTP_ERROR ? output : errors;
    int ok = strstr(expected, r.line) != NULL && strstr(other, r.line) == NULL;
    failures += r.kind == OBATCH_RESULT_HTTP_ERROR;
    if (!ok) {
      free(errors);
      free(output);
      fail_msg("%s: line not in the right file", r.custom_id);
    }
  }
  free(errors);
  free(output);
  assert_int_equal(failures, N_REQ / 3);
  assert_int_equal(fake_server_stats_int(&f->server, "downloads"), 2);
}

static void expired_batch(void **state) {
  fixture_t *f = *state;
  char ids[N_REQ][32];
  obatch_info_t info = OBATCH_INFO_INIT;
  obatch_result_t r = OBATCH_RESULT_INIT;
  assert_int_equal(
      fake_server_config(&f->server, "{\"final_status\": \"expired\", \"partial_fraction\": 0.5}"),
      0);
  obatch_t *b = new_batch(f, f->conf);
  add_mixed(b, ids);
  assert_int_equal(obatch_submit(b), OBATCH_OK);
  assert_int_equal(obatch_wait(b, 15000, &info), OBATCH_EEXPIRED);
  assert_int_equal(info.phase, OBATCH_PHASE_DONE);
  assert_string_equal(info.remote_status, "expired");
  assert_non_null(strstr(obatch_last_error(b), "expired"));
  assert_true(file_exists(info.output_path));

  check_all(b, ids, N_REQ, 0, N_REQ / 2);

  int missing = 0;
  assert_int_equal(obatch_rewind(b), OBATCH_OK);
  while (obatch_fetch(b, &r) == OBATCH_OK) missing += r.kind == OBATCH_RESULT_MISSING;
  assert_int_equal(missing, N_REQ / 2);
  assert_int_equal(obatch_lookup(b, ids[N_REQ - 1], &r), OBATCH_OK);
  check_missing(&r);
  assert_string_equal(r.custom_id, ids[N_REQ - 1]);
}

static void cancelled_batch(void **state) {
  fixture_t *f = *state;
  char ids[N_REQ][32], batch_id[128], cancel_path[200];
  obatch_info_t info = OBATCH_INFO_INIT;
  /* The batch stays in its stage until the cancel has arrived. */
  assert_int_equal(fake_server_config(&f->server, "{\"steps\": 100000}"), 0);
  obatch_t *b = new_batch(f, f->conf);
  add_mixed(b, ids);
  assert_int_equal(obatch_submit(b), OBATCH_OK);
  wait_batch_id(b, &info, batch_id, sizeof batch_id);
  assert_int_equal(obatch_cancel(b), OBATCH_OK);
  long deadline = test_now_ms() + 10000;
  while (fake_server_stats_int(&f->server, "cancels") < 1 && test_now_ms() < deadline) test_sleep_ms(10);
  assert_int_equal(fake_server_stats_int(&f->server, "cancels"), 1);
  assert_int_equal(fake_server_config(&f->server, "{\"steps\": 1}"), 0);

  assert_int_equal(obatch_wait(b, 15000, &info), OBATCH_ECANCELLED);
  assert_int_equal(info.phase, OBATCH_PHASE_DONE);
  assert_string_equal(info.remote_status, "cancelled");
  snprintf(cancel_path, sizeof cancel_path, "/v1/batches/%s/cancel", batch_id);
  assert_int_equal(fake_server_count_requests(&f->server, "POST", cancel_path, NULL), 1);
  assert_int_equal(fake_server_stats_int(&f->server, "cancels"), 1);

  check_all(b, ids, N_REQ, 0, N_REQ / 2);
  assert_int_equal(obatch_cancel(b), OBATCH_ESTATE); /* already ended */
}

static void cancel_before_create(void **state) {
  fixture_t *f = *state;
  char ids[N_REQ][32];
  obatch_info_t info = OBATCH_INFO_INIT;
  obatch_result_t r = OBATCH_RESULT_INIT;
  /* Two failed uploads hold the job in its back-off (0.5 s + 1 s) while the
   * cancel arrives. */
  assert_int_equal(fake_server_config(&f->server,
                                      "{\"faults\": [{\"method\": \"POST\", \"path\": "
                                      "\"/v1/files\", \"kind\": \"500\", \"count\": 2}]}"),
                   0);
  obatch_t *b = new_batch(f, f->conf);
  add_mixed(b, ids);
  assert_int_equal(obatch_submit(b), OBATCH_OK);
  assert_int_equal(obatch_cancel(b), OBATCH_OK);
  assert_int_equal(obatch_wait(b, 15000, &info), OBATCH_ECANCELLED);
  assert_int_equal(info.phase, OBATCH_PHASE_FAILED);
  assert_int_equal(info.error_code, OBATCH_ECANCELLED);
  assert_string_equal(info.batch_id, "");
  assert_non_null(strstr(obatch_last_error(b), "nothing was created"));
  assert_int_equal(obatch_fetch(b, &r), OBATCH_ESTATE);
  assert_int_equal(fake_server_stats_int(&f->server, "batches_created"), 0);
  assert_int_equal(fake_server_count_requests(&f->server, "POST", "/v1/batches", NULL), 0);
  assert_int_equal(fake_server_stats_int(&f->server, "cancels"), 0);
}

/* The batch ends before the cancel arrives: the cancel is refused (400),
 * and the results are still downloaded. */
static void cancel_after_completion_keeps_results(void **state) {
  fixture_t *f = *state;
  char ids[N_REQ][32], batch_id[128];
  obatch_info_t info = OBATCH_INFO_INIT;
  assert_int_equal(fake_server_config(&f->server, "{\"steps\": 100000}"), 0);
  obatch_t *b = new_batch(f, f->conf);
  add_mixed(b, ids);
  assert_int_equal(obatch_submit(b), OBATCH_OK);
  wait_batch_id(b, &info, batch_id, sizeof batch_id);
  assert_int_equal(fake_server_advance(&f->server, batch_id, "completed"), 0);
  assert_int_equal(obatch_cancel(b), OBATCH_OK);
  assert_int_equal(obatch_wait(b, 15000, &info), OBATCH_OK);
  assert_string_equal(info.remote_status, "completed");
  check_all(b, ids, N_REQ, 0, N_REQ);
}

/* A create sent on a kept-alive connection that the server resets after
 * acting: libcurl would send it again by itself on a reused connection,
 * so creates go on fresh ones and the search finds the batch. */
static void create_reset_after_acting_makes_one_batch(void **state) {
  fixture_t *f = *state;
  char ids[N_REQ][32];
  complete_batch_under(f,
                       "{\"faults\": [{\"method\": \"POST\", \"path\": "
                       "\"/v1/batches\", \"kind\": \"reset_after\"}]}",
                       ids);
  assert_int_equal(fake_server_count_requests(&f->server, "POST", "/v1/batches", NULL), 1);
  assert_int_equal(fake_server_stats_int(&f->server, "batches_created"), 1);
  assert_true(fake_server_stats_int(&f->server, "list_calls") >= 1);
}

/* "200" and then a cut-off body: the batch exists and must be found, not
 * reported as never made. */
static void create_answer_cut_off_makes_one_batch(void **state) {
  fixture_t *f = *state;
  char ids[N_REQ][32];
  complete_batch_under(f,
                       "{\"faults\": [{\"method\": \"POST\", \"path\": "
                       "\"/v1/batches\", \"kind\": \"truncate\"}]}",
                       ids);
  assert_int_equal(fake_server_stats_int(&f->server, "batches_created"), 1);
  assert_int_equal(fake_server_count_requests(&f->server, "POST", "/v1/batches", NULL), 1);
}

/* Status checks failing for longer than one call's retries (an outage while
 * the provider works) do not end the wait. */
static void outage_while_waiting_is_survived(void **state) {
  fixture_t *f = *state;
  char ids[N_REQ][32];
  set_conf(f->conf, "max_retries", "2");
  obatch_t *b = complete_batch_under(f,
                                     "{\"retry_after_ms\": \"5\", \"faults\": [{\"method\": "
                                     "\"GET\", \"path_prefix\": \"/v1/batches/\", \"kind\": "
                                     "\"429\", \"count\": 9}]}",
                                     ids);
  obatch_info_t info = OBATCH_INFO_INIT;
  assert_int_equal(obatch_info(b, &info), OBATCH_OK);
  assert_string_equal(info.error_message, "");  /* the note is gone once checks work */
  assert_int_equal(fake_server_stats_int(&f->server, "faults_injected"), 9);
  assert_int_equal(fake_server_stats_int(&f->server, "batches_created"), 1);
}

/* A result path that cannot be written fails at submit, not a day later. */
static void unwritable_output_dir_fails_at_submit(void **state) {
  fixture_t *f = *state;
  set_conf(f->conf, "output_path", "/nonexistent-obatch-dir/out.jsonl");
  obatch_t *b = new_batch(f, f->conf);
  add_chat(b, "gpt-4o-mini", 1, NULL);
  assert_int_equal(obatch_submit(b), OBATCH_EIO);
  assert_non_null(strstr(obatch_last_error(b), "output_path: cannot write into /nonexistent-obatch-dir"));
  assert_int_equal(fake_server_count_requests(&f->server, NULL, NULL, NULL), 0);
}

static void failed_batch(void **state) {
  fixture_t *f = *state;
  char ids[N_REQ][32];
  obatch_info_t info = OBATCH_INFO_INIT;
  obatch_result_t r = OBATCH_RESULT_INIT;
  assert_int_equal(fake_server_config(&f->server, "{\"final_status\": \"failed\"}"), 0);
  obatch_t *b = new_batch(f, f->conf);
  add_mixed(b, ids);
  assert_int_equal(obatch_submit(b), OBATCH_OK);
  assert_int_equal(obatch_wait(b, 15000, &info), OBATCH_EFAILED);
  assert_int_equal(info.phase, OBATCH_PHASE_FAILED);
  assert_int_equal(info.error_code, OBATCH_EFAILED);
  assert_string_equal(info.remote_status, "failed");
  if (!strstr(info.error_message, "fake validation failure"))
    fail_msg("error message: %s", info.error_message);
  assert_non_null(strstr(obatch_last_error(b), "fake validation failure"));
  assert_non_null(strstr(obatch_last_error(b), info.batch_id));
  assert_int_equal(obatch_fetch(b, &r), OBATCH_ESTATE);
  assert_int_equal(fake_server_stats_int(&f->server, "batches_created"), 1);
  assert_int_equal(fake_server_stats_int(&f->server, "downloads"), 0);
}

static void resume_batch(void **state) {
  fixture_t *f = *state;
  char ids[N_REQ][32], batch_id[128];
  obatch_info_t info = OBATCH_INFO_INIT;
  obatch_t *resumed = NULL;
  assert_int_equal(fake_server_config(&f->server, "{\"steps\": 3}"), 0);
  obatch_t *b = new_batch(f, f->conf);
  add_mixed(b, ids);
  assert_int_equal(obatch_submit(b), OBATCH_OK);
  wait_batch_id(b, &info, batch_id, sizeof batch_id);
  drop_batch(f, b); /* the remote batch goes on */

  assert_int_equal(obatch_resume(&resumed, f->conf, batch_id), OBATCH_OK);
  f->b[0] = resumed;
  int rc = obatch_wait(resumed, 15000, &info);
  if (rc != OBATCH_OK) fail_msg("wait: %d %s", rc, obatch_last_error(resumed));
  assert_string_equal(info.batch_id, batch_id);
  assert_int_equal(info.requests_added, N_REQ);
  check_all(resumed, ids, N_REQ, 0, N_REQ);
  assert_int_equal(fake_server_stats_int(&f->server, "uploads"), 1);
  assert_int_equal(fake_server_stats_int(&f->server, "batches_created"), 1);
}

static void resume_without_input_file(void **state) {
  fixture_t *f = *state;
  char ids[N_REQ][32], batch_id[128], path[200];
  obatch_info_t info = OBATCH_INFO_INIT;
  obatch_result_t r = OBATCH_RESULT_INIT;
  obatch_t *resumed = NULL;
  int seen[N_REQ] = {0};
  assert_int_equal(fake_server_config(&f->server, "{\"steps\": 3}"), 0);
  obatch_t *b = new_batch(f, f->conf);
  add_mixed(b, ids);
  assert_int_equal(obatch_submit(b), OBATCH_OK);
  wait_batch_id(b, &info, batch_id, sizeof batch_id);
  /* Input files expire at the provider: resume must still get every result. */
  snprintf(path, sizeof path, "/v1/files/%s", info.input_file_id);
  drop_batch(f, b);
  assert_int_equal(fake_server_http(&f->server, "DELETE", path, NULL, "test-key", NULL), 200);

  assert_int_equal(obatch_resume(&resumed, f->conf, batch_id), OBATCH_OK);
  f->b[0] = resumed;
  int rc = obatch_wait(resumed, 15000, &info);
  if (rc != OBATCH_OK) fail_msg("wait: %d %s", rc, obatch_last_error(resumed));
  for (int n = 0; n < N_REQ; n++) {
    int found = -1;
    assert_int_equal(obatch_fetch(resumed, &r), OBATCH_OK);
    assert_int_equal(r.index, UINT64_MAX); /* the input order is unknown */
    for (int i = 0; i < N_REQ; i++)
      if (strcmp(r.custom_id, ids[i]) == 0) found = i;
    if (found < 0 || seen[found]++) fail_msg("unexpected or repeated %s", r.custom_id);
    check_success(&r, ids[found]);
  }
  assert_int_equal(obatch_fetch(resumed, &r), OBATCH_END);
  assert_int_equal(obatch_lookup(resumed, ids[5], &r), OBATCH_OK);
  assert_string_equal(r.custom_id, ids[5]);
}

static void resume_needs_provider(void **state) {
  fixture_t *f = *state;
  obatch_t *b = NULL;
  obatch_config_t *conf = base_conf(f, 0);
  int rc = obatch_resume(&b, conf, "batch_whatever");
  obatch_config_destroy(conf);
  assert_int_equal(rc, OBATCH_EPROVIDER);
  assert_null(b);
}

static void random_faults(void **state) {
  fixture_t *f = *state;
  char ids[N_REQ][32];
  obatch_info_t info = OBATCH_INFO_INIT;
  assert_int_equal(
      fake_server_config(&f->server,
                         "{\"fault_rate\": 0.2, \"fault_kinds\": [\"429\", \"500\", \"503\", "
                         "\"reset\"], \"retry_after\": \"0\", \"truncate_rate\": 0.2, "
                         "\"seed\": 7, \"fail_every\": 4}"),
      0);
  set_conf(f->conf, "max_retries", "10");
  obatch_t *b = new_batch(f, f->conf);
  add_mixed(b, ids);
  long start = test_now_ms();
  assert_int_equal(obatch_submit(b), OBATCH_OK);
  int rc = obatch_wait(b, 20000, &info);
  if (rc != OBATCH_OK) fail_msg("wait: %d %s", rc, obatch_last_error(b));
  check_all(b, ids, N_REQ, 4, N_REQ);
  assert_int_equal(fake_server_stats_int(&f->server, "uploads"), 1);
  assert_int_equal(fake_server_stats_int(&f->server, "batches_created"), 1);
  /* The scenario really injected faults. */
  long faults = fake_server_stats_int(&f->server, "faults_injected");
  print_message("random_faults: %ld faults, %ld ms\n", faults, test_now_ms() - start);
  assert_true(faults >= 3);
}

static void lost_upload_answer(void **state) {
  fixture_t *f = *state;
  char ids[N_REQ][32];
  complete_batch_under(f,
                       "{\"faults\": [{\"method\": \"POST\", \"path\": "
                       "\"/v1/files\", \"kind\": \"reset_after\"}]}",
                       ids);
  assert_int_equal(fake_server_stats_int(&f->server, "faults_injected"), 1);
  assert_int_equal(fake_server_stats_int(&f->server, "uploads"), 1);
  assert_int_equal(fake_server_stats_int(&f->server, "batches_created"), 1);
  /* Found by listing, not sent again. */
  assert_int_equal(fake_server_count_requests(&f->server, "POST", "/v1/files", NULL), 1);
  assert_true(fake_server_count_requests(&f->server, "GET", "/v1/files", "purpose=batch") >= 1);
}

static void lost_create_answer(void **state) {
  fixture_t *f = *state;
  char ids[N_REQ][32];
  complete_batch_under(f,
                       "{\"faults\": [{\"method\": \"POST\", \"path\": "
                       "\"/v1/batches\", \"kind\": \"500_after\"}]}",
                       ids);
  assert_int_equal(fake_server_stats_int(&f->server, "faults_injected"), 1);
  assert_int_equal(fake_server_stats_int(&f->server, "uploads"), 1);
  assert_int_equal(fake_server_stats_int(&f->server, "batches_created"), 1);
  assert_int_equal(fake_server_count_requests(&f->server, "POST", "/v1/batches", NULL), 1);
  assert_true(fake_server_stats_int(&f->server, "list_calls") >= 1);
}

/* A 429 means the server refused the create: it is sent again without a
 * search for what it might have made. */
static void refused_create_is_retried_without_search(void **state) {
  fixture_t *f = *state;
  char ids[N_REQ][32];
  complete_batch_under(f,
                       "{\"retry_after_ms\": \"10\", \"faults\": [{\"method\": "
                       "\"POST\", \"path\": \"/v1/batches\", \"kind\": \"429\"}]}",
                       ids);
  assert_int_equal(fake_server_stats_int(&f->server, "faults_injected"), 1);
  assert_int_equal(fake_server_count_requests(&f->server, "POST", "/v1/batches", NULL), 2);
  assert_int_equal(fake_server_stats_int(&f->server, "batches_created"), 1);
  /* One listing, before the upload (the look for a batch of this input made
   * through another journal); none after the refused create. */
  assert_int_equal(fake_server_stats_int(&f->server, "list_calls"), 1);
}

static void retry_after_honoured(void **state) {
  fixture_t *f = *state;
  char ids[N_REQ][32];
  obatch_info_t info = OBATCH_INFO_INIT;
  /* Retry-After 2 twice: >= 4 s; the own back-off would be 0.5 s + 1 s at
   * most, so the bound tells the two apart. */
  assert_int_equal(fake_server_config(&f->server,
                                      "{\"retry_after\": \"2\", \"faults\": [{\"method\": "
                                      "\"GET\", \"path_prefix\": \"/v1/batches/\", \"kind\": "
                                      "\"429\", \"count\": 2}]}"),
                   0);
  obatch_t *b = new_batch(f, f->conf);
  add_mixed(b, ids);
  long start = test_now_ms();
  assert_int_equal(obatch_submit(b), OBATCH_OK);
  assert_int_equal(obatch_wait(b, 15000, &info), OBATCH_OK);
  long elapsed = test_now_ms() - start;
  check_all(b, ids, N_REQ, 0, N_REQ);
  assert_int_equal(fake_server_stats_int(&f->server, "faults_injected"), 2);
  assert_int_equal(fake_server_count_requests(&f->server, "GET", "/v1/batches/", "\"status\": 429"),
                   2);
  /* Under valgrind (scripts/memcheck.sh) everything runs 10 to 30 times
   * slower: only the lower bound, the honoured waits, still says something. */
  long upper = getenv("OBATCH_TEST_VALGRIND") ? 120000 : 10000;
  if (elapsed < 3800 || elapsed > upper) fail_msg("took %ld ms, expected about 4 s", elapsed);
}

static void poll_timing(void **state) {
  fixture_t *f = *state;
  char ids[N_REQ][32], batch_id[128];
  obatch_info_t info = OBATCH_INFO_INIT;
  assert_int_equal(fake_server_config(&f->server, "{\"steps\": 100000}"), 0);
  /* Slow status checks: nothing changes while we measure. */
  set_conf(f->conf, "poll_interval_ms", "5000");
  set_conf(f->conf, "poll_max_interval_ms", "5000");
  obatch_t *b = new_batch(f, f->conf);
  add_mixed(b, ids);
  /* The upper bounds only tell "returned at once / after its timeout" from
   * "waited for the 5 s status check": generous, as CI machines are loaded. */
  long t = test_now_ms();
  assert_int_equal(obatch_poll(b, 0, &info), OBATCH_OK); /* building */
  assert_true(test_now_ms() - t < 1000);
  assert_int_equal(obatch_submit(b), OBATCH_OK);
  wait_batch_id(b, &info, batch_id, sizeof batch_id);

  t = test_now_ms();
  assert_int_equal(obatch_poll(b, 0, &info), OBATCH_OK);
  assert_true(test_now_ms() - t < 1000);
  assert_int_equal(info.phase, OBATCH_PHASE_WAITING);

  t = test_now_ms();
  assert_int_equal(obatch_poll(b, 200, &info), OBATCH_OK);
  long elapsed = test_now_ms() - t;
  if (elapsed < 150 || elapsed > 2500) fail_msg("poll(200) took %ld ms", elapsed);

  t = test_now_ms();
  assert_int_equal(obatch_wait(b, 100, &info), OBATCH_ETIMEOUT);
  elapsed = test_now_ms() - t;
  if (elapsed < 80 || elapsed > 2500) fail_msg("wait(100) took %ld ms", elapsed);
  assert_int_equal(info.phase, OBATCH_PHASE_WAITING);
}

static void missing_key(void **state) {
  fixture_t *f = *state;
  obatch_info_t info = OBATCH_INFO_INIT;
  set_conf(f->conf, "api_key", NULL);
  obatch_t *b = new_batch(f, f->conf);
  add_chat(b, "gpt-4o-mini", 1, NULL);
  assert_int_equal(obatch_submit(b), OBATCH_EAUTH);
  assert_non_null(strstr(obatch_last_error(b), "OPENAI_API_KEY"));
  assert_int_equal(obatch_info(b, &info), OBATCH_OK);
  assert_int_equal(info.phase, OBATCH_PHASE_BUILDING);
  assert_int_equal(fake_server_count_requests(&f->server, NULL, NULL, NULL), 0);
}

static void wrong_key(void **state) {
  fixture_t *f = *state;
  const char *key = "sk-wrong-0123456789abcdef";
  obatch_info_t info = OBATCH_INFO_INIT;
  set_conf(f->conf, "api_key", key);
  assert_null(obatch_config_get(f->conf, "api_key"));
  obatch_t *b = new_batch(f, f->conf);
  add_chat(b, "gpt-4o-mini", 1, NULL);
  assert_int_equal(obatch_submit(b), OBATCH_OK);
  assert_int_equal(obatch_wait(b, 15000, &info), OBATCH_EAUTH);
  assert_int_equal(info.phase, OBATCH_PHASE_FAILED);
  assert_int_equal(info.error_code, OBATCH_EAUTH);
  assert_null(strstr(obatch_last_error(b), key));
  assert_null(strstr(info.error_message, key));
  assert_non_null(strstr(obatch_last_error(b), "OPENAI_API_KEY"));
  /* A refused key is not retried, and nothing follows it: the first call (the
   * look for a batch of this input made through another journal) ends it. */
  assert_int_equal(fake_server_count_requests(&f->server, NULL, NULL, NULL), 1);
  assert_int_equal(fake_server_count_requests(&f->server, "GET", "/v1/batches", "\"status\": 401"),
                   1);
  assert_int_equal(fake_server_stats_int(&f->server, "uploads"), 0);
}

static void insecure_url(void **state) {
  fixture_t *f = *state;
  obatch_info_t info = OBATCH_INFO_INIT;
  set_conf(f->conf, "base_url", "http://example.com/v1");
  obatch_t *b = new_batch(f, f->conf);
  add_chat(b, "gpt-4o-mini", 1, NULL);
  assert_int_equal(obatch_submit(b), OBATCH_EINSECURE);
  assert_non_null(strstr(obatch_last_error(b), "example.com"));
  assert_null(strstr(obatch_last_error(b), "test-key"));
  assert_int_equal(obatch_info(b, &info), OBATCH_OK);
  assert_int_equal(info.phase, OBATCH_PHASE_BUILDING);
  assert_int_equal(fake_server_count_requests(&f->server, NULL, NULL, NULL), 0);
}

static void parasail_by_model(void **state) {
  fixture_t *f = *state;
  const char *openai_key = "sk-openai-secret-must-not-leak";
  char ids[10][32];
  obatch_info_t info = OBATCH_INFO_INIT;
  setenv("PARASAIL_API_KEY", "test-key", 1);
  setenv("PARASAIL_BASE_URL", f->server.base_url, 1);
  /* If the OpenAI key were used, it would reach the same server's log. */
  setenv("OPENAI_API_KEY", openai_key, 1);
  setenv("OPENAI_BASE_URL", f->server.base_url, 1);
  obatch_config_t *conf = base_conf(f, 0);
  obatch_t *b = new_batch(f, conf);
  obatch_config_destroy(conf);
  for (int i = 0; i < 10; i++) {
    add_chat(b, i % 2 ? "Qwen/Qwen2.5-7B-Instruct" : "meta-llama/Llama-3.1-8B-Instruct", i, NULL);
    snprintf(ids[i], 32, "request-%d", i + 1);
  }
  assert_int_equal(obatch_info(b, &info), OBATCH_OK);
  assert_string_equal(info.provider, "parasail");
  assert_int_equal(obatch_submit(b), OBATCH_OK);
  int rc = obatch_wait(b, 15000, &info);
  if (rc != OBATCH_OK) fail_msg("wait: %d %s", rc, obatch_last_error(b));
  assert_string_equal(info.provider, "parasail");
  check_all(b, ids, 10, 0, 10);

  long all = fake_server_count_requests(&f->server, NULL, NULL, NULL);
  assert_true(all >= 5); /* upload, create, retrieves, download */
  assert_int_equal(
      fake_server_count_requests(&f->server, NULL, NULL, "\"authorization\": \"Bearer test-key\""),
      all);
  assert_null(strstr(fake_server_stats_json(&f->server), openai_key));
}

/* One batch (split "off"): OpenAI's one model per batch is an error of the
 * add. By default a second model makes a part of its own. */
static void openai_one_model(void **state) {
  fixture_t *f = *state;
  obatch_info_t info = OBATCH_INFO_INIT;
  obatch_t *b = new_batch_with(f, (const char *const[]){"split", "off", NULL});
  add_chat(b, "gpt-4o-mini", 1, NULL);
  assert_int_equal(obatch_add(b, CHAT_BODY("gpt-4o"), NULL, NULL), OBATCH_EMODEL);
  assert_non_null(strstr(obatch_last_error(b), "gpt-4o"));

  b = new_batch(f, f->conf);
  add_chat(b, "gpt-4o-mini", 1, NULL);
  assert_int_equal(obatch_add(b, CHAT_BODY("gpt-4o"), NULL, NULL), OBATCH_OK);
  assert_int_equal(obatch_info(b, &info), OBATCH_OK);
  assert_string_equal(info.model, "gpt-4o-mini,gpt-4o");
}

/* ---- jobs of several batches ---------------------------------------------- */

/* The ids of the output file's lines, in file order, as one string. */
static void output_order(const char *path, char *out, size_t size) {
  char *text = read_text(path);
  assert_non_null(text);
  out[0] = '\0';
  for (char *p = text; (p = strstr(p, "\"custom_id\"")) != NULL;) {
    p = strchr(p + strlen("\"custom_id\""), '"'); /* the value's opening quote */
    assert_non_null(p);
    p++;
    char *end = strchr(p, '"');
    assert_non_null(end);
    strncat(out, p, (size_t)(end - p) < size - strlen(out) - 2 ? (size_t)(end - p) : 0);
    strncat(out, ",", size - strlen(out) - 1);
    p = end;
  }
  free(text);
}

/* An input over the server's 3 requests per file: 7 batches of at most 3,
 * every result in input order through fetch, lookup and the merged output
 * file; each part visible through obatch_part_info. */
static void parted_job_in_input_order(void **state) {
  fixture_t *f = *state;
  char ids[N_REQ][32];
  obatch_info_t info = OBATCH_INFO_INIT, part = OBATCH_INFO_INIT;
  obatch_result_t r = OBATCH_RESULT_INIT;
  assert_int_equal(fake_server_config(&f->server, "{\"max_requests_per_file\": 3}"), 0);
  obatch_t *b = new_batch_with(f, (const char *const[]){"max_requests", "3", NULL});
  add_mixed(b, ids);
  assert_int_equal(obatch_submit(b), OBATCH_OK);
  assert_int_equal(obatch_info(b, &info), OBATCH_OK);
  assert_int_equal(info.parts_total, 7);
  int rc = obatch_wait(b, 30000, &info);
  if (rc != OBATCH_OK) fail_msg("wait: %d %s", rc, obatch_last_error(b));
  assert_int_equal(info.phase, OBATCH_PHASE_DONE);
  assert_string_equal(info.remote_status, "completed");
  assert_string_equal(info.batch_id, "");
  assert_int_equal(info.parts_total, 7);
  assert_int_equal(info.parts_submitted, 7);
  assert_int_equal(info.parts_ended, 7);
  assert_int_equal(info.parts_failed, 0);
  assert_int_equal(info.parts_running, 0);
  assert_int_equal(info.requests_total, N_REQ);
  assert_int_equal(info.requests_completed, N_REQ);
  assert_true(info.tokens_estimated > 0);
  check_all(b, ids, N_REQ, 0, N_REQ);
  assert_int_equal(obatch_lookup(b, "item-18", &r), OBATCH_OK);
  assert_int_equal(r.index, 18);
  check_success(&r, "item-18");

  char order[2048], want[2048] = "";
  output_order(info.output_path, order, sizeof order);
  for (int i = 0; i < N_REQ; i++) {
    strncat(want, ids[i], sizeof want - strlen(want) - 2);
    strncat(want, ",", sizeof want - strlen(want) - 1);
  }
  assert_string_equal(order, want);
  assert_string_equal(info.error_path, "");

  for (uint64_t i = 0; i < 7; i++) {
    assert_int_equal(obatch_part_info(b, i, &part), OBATCH_OK);
    assert_int_equal(strncmp(part.batch_id, "batch_", 6), 0);
    assert_string_equal(part.remote_status, "completed");
    assert_int_equal(part.phase, OBATCH_PHASE_DONE);
    assert_int_equal(part.requests_added, i < 6 ? 3 : 2);
  }
  assert_int_equal(obatch_part_info(b, 7, &part), OBATCH_ENOTFOUND);
  assert_int_equal(fake_server_stats_int(&f->server, "uploads"), 7);
  assert_int_equal(fake_server_stats_int(&f->server, "batches_created"), 7);
  /* The parts' downloads are gone (only the merged file), and with the
   * handle their input files. */
  assert_int_equal(count_files(f->work_dir, "-parts"), 0);
  assert_int_equal(count_files(f->work_dir, "-output.jsonl"), 1);
  assert_int_equal(count_files(f->work_dir, "-p1.jsonl"), 1);
  drop_batch(f, b);
  assert_int_equal(count_files(f->work_dir, "-p1.jsonl"), 0);
  assert_int_equal(count_files(f->work_dir, ".jsonl"), 1);
}

/* A server that takes one model per batch: an input that alternates two
 * models runs as a batch per model and comes back in input order. */
static void parted_mixed_models(void **state) {
  fixture_t *f = *state;
  char ids[10][32];
  obatch_info_t info = OBATCH_INFO_INIT, part = OBATCH_INFO_INIT;
  assert_int_equal(fake_server_config(&f->server, "{\"one_model_per_batch\": true}"), 0);
  obatch_t *b = new_batch(f, f->conf);
  for (int i = 0; i < 10; i++) add_chat(b, i % 2 ? "gpt-4o" : "gpt-4o-mini", i, NULL);
  auto_ids(ids, 10);
  assert_int_equal(obatch_submit(b), OBATCH_OK);
  int rc = obatch_wait(b, 30000, &info);
  if (rc != OBATCH_OK) fail_msg("wait: %d %s", rc, obatch_last_error(b));
  assert_int_equal(info.parts_total, 2);
  check_all(b, ids, 10, 0, 10);
  assert_int_equal(obatch_part_info(b, 0, &part), OBATCH_OK);
  assert_string_equal(part.model, "gpt-4o-mini");
  assert_int_equal(obatch_part_info(b, 1, &part), OBATCH_OK);
  assert_string_equal(part.model, "gpt-4o");
  assert_int_equal(part.requests_added, 5);
}

/* An enqueued-token limit at the server that holds one part at a time: the
 * parts that fail with token_limit_exceeded are created again from their
 * uploaded files (no second upload) until each has run once, and the
 * server's queue is never over its limit. */
static void parted_token_limit(void **state) {
  fixture_t *f = *state;
  char ids[N_REQ][32];
  obatch_info_t info = OBATCH_INFO_INIT;
  /* A request's body is about 80 bytes: ~20 tokens at the server; a part
   * of 5 is ~100. */
  assert_int_equal(fake_server_config(&f->server, "{\"enqueued_token_limit\": 150}"), 0);
  obatch_t *b = new_batch_with(f, (const char *const[]){"max_requests", "5", NULL});
  add_mixed(b, ids);
  assert_int_equal(obatch_submit(b), OBATCH_OK);
  int rc = obatch_wait(b, 60000, &info);
  if (rc != OBATCH_OK) fail_msg("wait: %d %s", rc, obatch_last_error(b));
  assert_int_equal(info.parts_total, 4);
  assert_int_equal(info.parts_ended, 4);
  check_all(b, ids, N_REQ, 0, N_REQ);
  assert_int_equal(fake_server_stats_int(&f->server, "uploads"), 4);
  assert_true(fake_server_stats_int(&f->server, "token_limit_failures") >= 1);
  assert_int_equal(fake_server_stats_int(&f->server, "enqueued_over_limit"), 0);
  assert_int_equal(fake_server_stats_int(&f->server, "batches_created"),
                   4 + fake_server_stats_int(&f->server, "token_limit_failures"));
}

/* Cancelling a job cancels every running part and creates no more; what
 * finished is still merged, the rest is missing. */
static void parted_cancel(void **state) {
  fixture_t *f = *state;
  char ids[N_REQ][32];
  obatch_info_t info = OBATCH_INFO_INIT;
  assert_int_equal(fake_server_config(&f->server, "{\"steps\": 100000, \"partial_fraction\": 0.5}"), 0);
  obatch_t *b = new_batch_with(
      f, (const char *const[]){"max_requests", "5", "max_running_batches", "2", NULL});
  add_mixed(b, ids);
  assert_int_equal(obatch_submit(b), OBATCH_OK);
  long deadline = test_now_ms() + 10000;
  do {
    assert_int_equal(obatch_poll(b, 50, &info), OBATCH_OK);
  } while (info.parts_submitted < 2 && test_now_ms() < deadline);
  assert_int_equal(info.parts_submitted, 2);
  assert_int_equal(info.parts_running, 2);
  assert_int_equal(obatch_cancel(b), OBATCH_OK);
  deadline = test_now_ms() + 10000;
  while (fake_server_stats_int(&f->server, "cancels") < 2 && test_now_ms() < deadline)
    test_sleep_ms(10);
  assert_int_equal(fake_server_config(&f->server, "{\"steps\": 1}"), 0);
  int rc = obatch_wait(b, 30000, &info);
  if (rc != OBATCH_ECANCELLED) fail_msg("wait: %d %s", rc, obatch_last_error(b));
  assert_int_equal(info.phase, OBATCH_PHASE_DONE);
  assert_string_equal(info.remote_status, "cancelled");
  assert_int_equal(fake_server_stats_int(&f->server, "batches_created"), 2);
  assert_int_equal(fake_server_stats_int(&f->server, "cancels"), 2);
  /* Half of each cancelled part of 5 finished (2 each), the rest is missing. */
  obatch_result_t r = OBATCH_RESULT_INIT;
  int missing = 0, got = 0;
  while (obatch_fetch(b, &r) == OBATCH_OK) {
    if (r.kind == OBATCH_RESULT_MISSING)
      missing++;
    else
      got++;
  }
  assert_int_equal(got + missing, N_REQ);
  assert_int_equal(got, 4);
}

static void add_validation(void **state) {
  fixture_t *f = *state;
  obatch_info_t info = OBATCH_INFO_INIT;
  obatch_result_t r = OBATCH_RESULT_INIT;
  char path[320];
  assert_int_equal(fake_server_config(&f->server, "{\"steps\": 100000}"), 0);
  obatch_t *b = new_batch(f, f->conf);
  add_chat(b, "gpt-4o-mini", 1, "dup");
  assert_int_equal(obatch_add(b, CHAT_BODY("gpt-4o-mini"), "dup", NULL), OBATCH_EDUPLICATE);
  assert_non_null(strstr(obatch_last_error(b), "dup"));
  assert_int_equal(obatch_add(b, "{\"model\": \"gpt-4o-mini\", \"messages\": [", NULL, NULL),
                   OBATCH_EJSON);
  assert_int_equal(obatch_add(b, "{\"model\":\"gpt-4o-mini\",\"messages\":[]}", NULL, NULL),
                   OBATCH_EREQUEST);
  assert_non_null(strstr(obatch_last_error(b), "messages"));
  assert_int_equal(obatch_add_line(b, "{\"custom_id\": \"x\", \"method\": \"POST\""), OBATCH_EJSON);

  /* A file with a bad third line adds nothing at all. */
  snprintf(path, sizeof path, "%s/input.jsonl", f->work_dir);
  FILE *fp = fopen(path, "w");
  assert_non_null(fp);
  fputs(
      "{\"custom_id\":\"f1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
      "\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}}\n"
      "{\"custom_id\":\"f2\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
      "\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}}\n"
      "{\"custom_id\":\"f3\",\"method\":\"POST\",\"url\":\n",
      fp);
  fclose(fp);
  int rc = obatch_add_file(b, path);
  assert_true(rc < 0);
  if (!strstr(obatch_last_error(b), "line 3")) fail_msg("error: %s", obatch_last_error(b));
  assert_non_null(strstr(obatch_last_error(b), "input.jsonl"));
  assert_int_equal(obatch_info(b, &info), OBATCH_OK);
  assert_int_equal(info.requests_added, 1);
  add_chat(b, "gpt-4o-mini", 2, "f1"); /* f1 was not added: no duplicate */

  assert_int_equal(obatch_fetch(b, &r), OBATCH_ESTATE);
  assert_int_equal(obatch_wait(b, 0, &info), OBATCH_ESTATE);
  assert_int_equal(obatch_cancel(b), OBATCH_ESTATE);
  assert_int_equal(obatch_submit(b), OBATCH_OK);
  assert_int_equal(obatch_submit(b), OBATCH_ESTATE);
  assert_int_equal(obatch_add(b, CHAT_BODY("gpt-4o-mini"), NULL, NULL), OBATCH_ESTATE);
  assert_int_equal(obatch_add_line(b, "{}"), OBATCH_ESTATE);
  assert_int_equal(obatch_add_file(b, path), OBATCH_ESTATE);
  assert_int_equal(obatch_fetch(b, &r), OBATCH_ESTATE); /* not done yet */
  assert_int_equal(obatch_lookup(b, "dup", &r), OBATCH_ESTATE);
  assert_int_equal(obatch_rewind(b), OBATCH_ESTATE);
}

static void empty_submit(void **state) {
  fixture_t *f = *state;
  obatch_t *b = new_batch(f, f->conf);
  assert_int_equal(obatch_submit(b), OBATCH_EREQUEST);
  assert_int_equal(fake_server_count_requests(&f->server, NULL, NULL, NULL), 0);
}

static void null_arguments(void **state) {
  fixture_t *f = *state;
  obatch_t *b = (obatch_t *)&b; /* must be overwritten */
  obatch_list_t *l = (obatch_list_t *)&l;
  obatch_info_t info = OBATCH_INFO_INIT;
  obatch_result_t r = OBATCH_RESULT_INIT;
  char err[128] = "";
  assert_int_equal(obatch_create(NULL, f->conf), OBATCH_EINVAL);
  assert_int_equal(obatch_create(&b, NULL), OBATCH_EINVAL);
  assert_null(b);
  assert_int_equal(obatch_resume(&b, f->conf, NULL), OBATCH_EINVAL);
  assert_int_equal(obatch_add(NULL, "{}", NULL, NULL), OBATCH_EINVAL);
  assert_int_equal(obatch_add_line(NULL, "{}"), OBATCH_EINVAL);
  assert_int_equal(obatch_add_file(NULL, "x"), OBATCH_EINVAL);
  assert_int_equal(obatch_submit(NULL), OBATCH_EINVAL);
  assert_int_equal(obatch_poll(NULL, 0, &info), OBATCH_EINVAL);
  assert_int_equal(obatch_wait(NULL, 0, &info), OBATCH_EINVAL);
  assert_int_equal(obatch_info(NULL, &info), OBATCH_EINVAL);
  assert_int_equal(obatch_cancel(NULL), OBATCH_EINVAL);
  assert_int_equal(obatch_fetch(NULL, &r), OBATCH_EINVAL);
  assert_int_equal(obatch_rewind(NULL), OBATCH_EINVAL);
  assert_int_equal(obatch_lookup(NULL, "x", &r), OBATCH_EINVAL);
  assert_non_null(obatch_last_error(NULL));
  assert_string_equal(obatch_input_path(NULL), "");
  assert_int_equal(obatch_config_set(NULL, "provider", "openai", err, sizeof err), OBATCH_EINVAL);
  assert_int_equal(obatch_config_new(NULL), OBATCH_EINVAL);
  assert_int_equal(obatch_list(NULL, f->conf, NULL, 0, NULL, 0), OBATCH_EINVAL);
  assert_int_equal(obatch_list(&l, NULL, NULL, 0, NULL, 0), OBATCH_EINVAL);
  assert_int_equal(obatch_list_next(NULL, &info), OBATCH_EINVAL);
  assert_int_equal(obatch_list_has_more(NULL), 0);
  assert_string_equal(obatch_list_last_id(NULL), "");
  assert_non_null(obatch_strerror(-12345));
  obatch_destroy(NULL);
  obatch_config_destroy(NULL);
  obatch_list_destroy(NULL);

  obatch_t *h = new_batch(f, f->conf);
  assert_int_equal(obatch_add(h, NULL, NULL, NULL), OBATCH_EINVAL);
  assert_int_equal(obatch_add_line(h, NULL), OBATCH_EINVAL);
  assert_int_equal(obatch_add_file(h, NULL), OBATCH_EINVAL);
  assert_int_equal(obatch_fetch(h, NULL), OBATCH_EINVAL);
  assert_int_equal(obatch_lookup(h, NULL, &r), OBATCH_EINVAL);
  assert_int_equal(obatch_poll(h, 0, NULL), OBATCH_OK); /* info may be NULL */
}

static void embeddings_endpoint(void **state) {
  fixture_t *f = *state;
  char ids[5][32], body[128];
  obatch_info_t info = OBATCH_INFO_INIT;
  obatch_result_t r = OBATCH_RESULT_INIT;
  obatch_t *b = new_batch(f, f->conf);
  for (int i = 0; i < 5; i++) {
    snprintf(body, sizeof body, "{\"model\":\"text-embedding-3-small\",\"input\":\"text %d\"}", i);
    snprintf(ids[i], 32, "emb-%d", i);
    assert_int_equal(obatch_add(b, body, ids[i], NULL), OBATCH_OK);
  }
  assert_int_equal(obatch_info(b, &info), OBATCH_OK);
  assert_string_equal(info.endpoint, "/v1/embeddings");
  assert_int_equal(obatch_submit(b), OBATCH_OK);
  assert_int_equal(obatch_wait(b, 15000, &info), OBATCH_OK);
  assert_string_equal(info.endpoint, "/v1/embeddings");
  for (int i = 0; i < 5; i++) {
    assert_int_equal(obatch_fetch(b, &r), OBATCH_OK);
    assert_string_equal(r.custom_id, ids[i]);
    assert_int_equal(r.kind, OBATCH_RESULT_SUCCEEDED);
    assert_non_null(strstr(r.body, "\"embedding\""));
  }
  assert_int_equal(obatch_fetch(b, &r), OBATCH_END);

  /* The server's own record of the batch says so too. */
  char err[256] = "";
  int rc = obatch_list(&f->list, f->conf, NULL, 1, err, sizeof err);
  if (rc != OBATCH_OK) fail_msg("list: %d %s", rc, err);
  assert_int_equal(obatch_list_next(f->list, &info), OBATCH_OK);
  assert_string_equal(info.endpoint, "/v1/embeddings");
  /* Every input line went to /v1/embeddings as well. */
  char *input = NULL;
  char path[200];
  snprintf(path, sizeof path, "/v1/files/%s/content", info.input_file_id);
  assert_int_equal(fake_server_http(&f->server, "GET", path, NULL, "test-key", &input), 200);
  int lines = count_lines(input), urls = 0;
  for (const char *p = input; (p = strstr(p, "\"url\":\"/v1/embeddings\"")) != NULL; p++) urls++;
  free(input);
  assert_int_equal(lines, 5);
  assert_int_equal(urls, 5);
}

static void list_batches(void **state) {
  fixture_t *f = *state;
  char ids[3][128], err[256] = "";
  obatch_info_t info = OBATCH_INFO_INIT;
  assert_int_equal(fake_server_config(&f->server, "{\"steps\": 100000}"), 0);
  for (int i = 0; i < 3; i++) {
    obatch_t *b = new_batch(f, f->conf);
    add_chat(b, "gpt-4o-mini", i, NULL);
    assert_int_equal(obatch_submit(b), OBATCH_OK);
    wait_batch_id(b, &info, ids[i], sizeof ids[i]);
  }
  int rc = obatch_list(&f->list, f->conf, NULL, 2, err, sizeof err);
  if (rc != OBATCH_OK) fail_msg("list: %d %s", rc, err);
  /* Newest first. */
  assert_int_equal(obatch_list_next(f->list, &info), OBATCH_OK);
  assert_string_equal(info.batch_id, ids[2]);
  assert_string_equal(info.endpoint, "/v1/chat/completions");
  assert_int_equal(info.requests_total, 1);
  assert_int_equal(obatch_list_next(f->list, &info), OBATCH_OK);
  assert_string_equal(info.batch_id, ids[1]);
  assert_int_equal(obatch_list_next(f->list, &info), OBATCH_END);
  assert_int_equal(obatch_list_has_more(f->list), 1);
  char last[128];
  snprintf(last, sizeof last, "%s", obatch_list_last_id(f->list));
  assert_string_equal(last, ids[1]);
  obatch_list_destroy(f->list);
  f->list = NULL;

  rc = obatch_list(&f->list, f->conf, last, 2, err, sizeof err);
  if (rc != OBATCH_OK) fail_msg("list: %d %s", rc, err);
  assert_int_equal(obatch_list_next(f->list, &info), OBATCH_OK);
  assert_string_equal(info.batch_id, ids[0]);
  assert_int_equal(obatch_list_next(f->list, &info), OBATCH_END);
  assert_int_equal(obatch_list_has_more(f->list), 0);
  assert_string_equal(obatch_list_last_id(f->list), ids[0]);
  char after[160];
  snprintf(after, sizeof after, "after=%s", last);
  assert_int_equal(fake_server_count_requests(&f->server, "GET", "/v1/batches", after), 1);
}

/* ---- info version 2, retrieve and cancel by id ---------------------------- */

/* The layout of obatch_info_t version 1, as a program built against it has
 * it, followed by bytes the library must never touch. */
typedef struct {
  unsigned version;
  int phase;
  const char *provider, *endpoint, *batch_id, *remote_status, *input_file_id;
  const char *output_path, *error_path;
  uint64_t requests_added, requests_total, requests_completed, requests_failed;
  uint64_t bytes_total, bytes_uploaded, bytes_downloaded;
  int64_t created_at;
  int error_code;
  const char *error_message;
} info_v1_t;

typedef struct {
  info_v1_t info;
  unsigned char guard[256];
} guarded_v1_t;

static void init_v1(guarded_v1_t *g) {
  memset(g, 0xAB, sizeof *g);
  g->info.version = 1;
}

static void check_guard(const guarded_v1_t *g) {
  for (size_t i = 0; i < sizeof g->guard; i++)
    if (g->guard[i] != 0xAB) fail_msg("byte %zu after a version-1 obatch_info_t was written", i);
}

/* The one batch of a page of one, checked to be the only one. */
static void only_item(obatch_list_t *list, obatch_info_t *info, const char *batch_id) {
  assert_int_equal(obatch_list_next(list, info), OBATCH_OK);
  assert_string_equal(info->batch_id, batch_id);
  assert_int_equal(obatch_list_has_more(list), 0);
  assert_string_equal(obatch_list_last_id(list), batch_id);
  obatch_info_t after = OBATCH_INFO_INIT;
  assert_int_equal(obatch_list_next(list, &after), OBATCH_END);
}

/* The remote fields of a completed batch of N_REQ gpt-4o-mini requests. */
static void check_completed_remote(const obatch_info_t *info, const char *batch_id) {
  char quoted_id[160];
  assert_int_equal(info->phase, OBATCH_PHASE_DONE);
  assert_string_equal(info->remote_status, "completed");
  assert_string_equal(info->endpoint, "/v1/chat/completions");
  assert_string_equal(info->model, "gpt-4o-mini");
  assert_string_equal(info->completion_window, "24h");
  assert_int_equal(strncmp(info->output_file_id, "file-", 5), 0);
  assert_string_equal(info->error_file_id, "");
  assert_true(info->created_at > 0);
  assert_true(info->in_progress_at >= info->created_at);
  assert_true(info->finalizing_at >= info->in_progress_at);
  assert_true(info->completed_at >= info->finalizing_at);
  assert_true(info->expires_at > info->created_at);
  assert_int_equal(info->failed_at, 0);
  assert_int_equal(info->cancelled_at, 0);
  assert_int_equal(info->requests_completed, N_REQ);
  assert_true(info->input_tokens > 0);
  assert_true(info->output_tokens > 0);
  assert_int_equal(info->total_tokens, info->input_tokens + info->output_tokens);
  snprintf(quoted_id, sizeof quoted_id, "\"id\":\"%s\"", batch_id);
  if (!strstr(info->batch_json, quoted_id)) fail_msg("batch_json: %s", info->batch_json);
  assert_non_null(strstr(info->batch_json, "\"metadata\":{"));
  assert_null(strchr(info->batch_json, '\n'));
}

static void info_v2_after_completion(void **state) {
  fixture_t *f = *state;
  char ids[N_REQ][32], batch_id[128];
  obatch_info_t info = OBATCH_INFO_INIT;
  obatch_t *b = complete_batch_under(f, NULL, ids);
  assert_int_equal(obatch_info(b, &info), OBATCH_OK);
  snprintf(batch_id, sizeof batch_id, "%s", info.batch_id);
  check_completed_remote(&info, batch_id);
  assert_true(file_exists(info.output_path));

  /* A listed batch has them too. */
  char err[256] = "";
  int rc = obatch_list(&f->list, f->conf, NULL, 1, err, sizeof err);
  if (rc != OBATCH_OK) fail_msg("list: %d %s", rc, err);
  obatch_info_t listed = OBATCH_INFO_INIT;
  assert_int_equal(obatch_list_next(f->list, &listed), OBATCH_OK);
  check_completed_remote(&listed, batch_id);
}

/* Before submitting, the model is the requests' own; mixed models (a
 * provider that allows them) are all named. */
static void info_v2_model_while_building(void **state) {
  fixture_t *f = *state;
  obatch_info_t info = OBATCH_INFO_INIT;
  obatch_config_t *conf = base_conf(f, 0);
  set_conf(conf, "provider", "parasail");
  obatch_t *b = new_batch(f, conf);
  obatch_config_destroy(conf);
  add_chat(b, "org/a", 1, NULL);
  add_chat(b, "org/b", 2, NULL);
  add_chat(b, "org/a", 3, NULL);
  assert_int_equal(obatch_info(b, &info), OBATCH_OK);
  assert_string_equal(info.model, "org/a,org/b");
  assert_string_equal(info.output_file_id, "");
  assert_string_equal(info.batch_json, "");
  assert_int_equal(info.completed_at, 0);
}

static void retrieve_known_batch(void **state) {
  fixture_t *f = *state;
  char ids[N_REQ][32], batch_id[128], err[256] = "";
  obatch_info_t info = OBATCH_INFO_INIT;
  obatch_t *b = complete_batch_under(f, NULL, ids);
  assert_int_equal(obatch_info(b, &info), OBATCH_OK);
  snprintf(batch_id, sizeof batch_id, "%s", info.batch_id);
  drop_batch(f, b);

  int rc = obatch_retrieve(&f->list, f->conf, batch_id, err, sizeof err);
  if (rc != OBATCH_OK) fail_msg("retrieve: %d %s", rc, err);
  obatch_info_t got = OBATCH_INFO_INIT;
  only_item(f->list, &got, batch_id);
  check_completed_remote(&got, batch_id);
  char path[200];
  snprintf(path, sizeof path, "/v1/batches/%s", batch_id);
  assert_true(fake_server_count_requests(&f->server, "GET", path, NULL) >= 1);
}

static void retrieve_unknown_batch(void **state) {
  fixture_t *f = *state;
  char err[512] = "";
  obatch_list_t *list = (obatch_list_t *)&list; /* must be overwritten */
  assert_int_equal(obatch_retrieve(&list, f->conf, "batch_nope", err, sizeof err),
                   OBATCH_ENOTFOUND);
  assert_null(list);
  if (!strstr(err, "batch_nope") || !strstr(err, f->server.base_url) || !strstr(err, "openai"))
    fail_msg("message: %s", err);
  assert_null(strstr(err, "test-key"));
  /* A 404 is an answer: not retried. */
  assert_int_equal(fake_server_count_requests(&f->server, "GET", "/v1/batches/batch_nope", NULL),
                   1);

  assert_int_equal(obatch_cancel_id(&list, f->conf, "batch_nope", err, sizeof err),
                   OBATCH_ENOTFOUND);
  assert_null(list);
  assert_non_null(strstr(err, "batch_nope"));

  assert_int_equal(obatch_retrieve(NULL, f->conf, "x", err, sizeof err), OBATCH_EINVAL);
  assert_int_equal(obatch_retrieve(&list, NULL, "x", err, sizeof err), OBATCH_EINVAL);
  assert_int_equal(obatch_retrieve(&list, f->conf, NULL, NULL, 0), OBATCH_EINVAL);
  assert_int_equal(obatch_cancel_id(&list, f->conf, "", err, sizeof err), OBATCH_EINVAL);
  obatch_config_t *no_provider = base_conf(f, 0);
  assert_int_equal(obatch_retrieve(&list, no_provider, "batch_x", err, sizeof err),
                   OBATCH_EPROVIDER);
  obatch_config_destroy(no_provider);
  assert_non_null(strstr(err, "provider"));
}

static void cancel_id_of_running_batch(void **state) {
  fixture_t *f = *state;
  char ids[N_REQ][32], batch_id[128], err[256] = "", cancel_path[200];
  obatch_info_t info = OBATCH_INFO_INIT;
  assert_int_equal(fake_server_config(&f->server, "{\"steps\": 100000}"), 0);
  obatch_t *b = new_batch(f, f->conf);
  add_mixed(b, ids);
  assert_int_equal(obatch_submit(b), OBATCH_OK);
  wait_batch_id(b, &info, batch_id, sizeof batch_id);

  int rc = obatch_cancel_id(&f->list, f->conf, batch_id, err, sizeof err);
  if (rc != OBATCH_OK) fail_msg("cancel_id: %d %s", rc, err);
  obatch_info_t got = OBATCH_INFO_INIT;
  only_item(f->list, &got, batch_id);
  assert_string_equal(got.remote_status, "cancelling");
  assert_int_equal(got.phase, OBATCH_PHASE_WAITING);
  assert_true(got.cancelling_at > 0);
  assert_int_equal(got.cancelled_at, 0);
  snprintf(cancel_path, sizeof cancel_path, "/v1/batches/%s/cancel", batch_id);
  assert_int_equal(fake_server_count_requests(&f->server, "POST", cancel_path, NULL), 1);
  obatch_list_destroy(f->list);
  f->list = NULL;

  /* The server then ends it cancelled; the handle that runs it sees so. */
  assert_int_equal(fake_server_config(&f->server, "{\"steps\": 1}"), 0);
  assert_int_equal(obatch_wait(b, 15000, &info), OBATCH_ECANCELLED);
  assert_string_equal(info.remote_status, "cancelled");
  assert_true(info.cancelled_at >= info.cancelling_at && info.cancelling_at > 0);
  check_all(b, ids, N_REQ, 0, N_REQ / 2);

  rc = obatch_retrieve(&f->list, f->conf, batch_id, err, sizeof err);
  if (rc != OBATCH_OK) fail_msg("retrieve: %d %s", rc, err);
  only_item(f->list, &got, batch_id);
  assert_string_equal(got.remote_status, "cancelled");
  assert_int_equal(got.phase, OBATCH_PHASE_DONE);
  assert_true(got.cancelled_at > 0);
}

/* A batch that has ended cannot be cancelled (the API answers 400): the
 * answer is its current state, with OBATCH_OK. */
static void cancel_id_of_completed_batch(void **state) {
  fixture_t *f = *state;
  char ids[N_REQ][32], batch_id[128], err[256] = "", cancel_path[200];
  obatch_info_t info = OBATCH_INFO_INIT;
  obatch_t *b = complete_batch_under(f, NULL, ids);
  assert_int_equal(obatch_info(b, &info), OBATCH_OK);
  snprintf(batch_id, sizeof batch_id, "%s", info.batch_id);

  int rc = obatch_cancel_id(&f->list, f->conf, batch_id, err, sizeof err);
  if (rc != OBATCH_OK) fail_msg("cancel_id: %d %s", rc, err);
  obatch_info_t got = OBATCH_INFO_INIT;
  only_item(f->list, &got, batch_id);
  check_completed_remote(&got, batch_id);
  snprintf(cancel_path, sizeof cancel_path, "/v1/batches/%s/cancel", batch_id);
  /* One refused cancel (not retried), then one retrieve. */
  assert_int_equal(fake_server_count_requests(&f->server, "POST", cancel_path, "\"status\": 400"),
                   1);
  assert_int_equal(fake_server_count_requests(&f->server, "POST", cancel_path, NULL), 1);
  assert_int_equal(fake_server_stats_int(&f->server, "cancels"), 0);
}

/* A program built against version 1 of obatch_info_t passes a smaller
 * struct: nothing after it may be written. */
static void info_v1_caller_is_not_overrun(void **state) {
  fixture_t *f = *state;
  char ids[N_REQ][32], err[256] = "";
  guarded_v1_t g;
  obatch_t *b = complete_batch_under(f, NULL, ids);

  init_v1(&g);
  assert_int_equal(obatch_info(b, (obatch_info_t *)&g.info), OBATCH_OK);
  check_guard(&g);
  assert_int_equal(g.info.version, 1);
  assert_int_equal(g.info.phase, OBATCH_PHASE_DONE);
  assert_string_equal(g.info.remote_status, "completed");
  assert_int_equal(g.info.requests_added, N_REQ);
  assert_string_equal(g.info.error_message, "");

  init_v1(&g);
  assert_int_equal(obatch_wait(b, 1000, (obatch_info_t *)&g.info), OBATCH_OK);
  check_guard(&g);

  int rc = obatch_list(&f->list, f->conf, NULL, 5, err, sizeof err);
  if (rc != OBATCH_OK) fail_msg("list: %d %s", rc, err);
  init_v1(&g);
  assert_int_equal(obatch_list_next(f->list, (obatch_info_t *)&g.info), OBATCH_OK);
  check_guard(&g);
  assert_string_equal(g.info.remote_status, "completed");
  char batch_id[128];
  snprintf(batch_id, sizeof batch_id, "%s", g.info.batch_id);
  obatch_list_destroy(f->list);
  f->list = NULL;

  rc = obatch_retrieve(&f->list, f->conf, batch_id, err, sizeof err);
  if (rc != OBATCH_OK) fail_msg("retrieve: %d %s", rc, err);
  init_v1(&g);
  assert_int_equal(obatch_list_next(f->list, (obatch_info_t *)&g.info), OBATCH_OK);
  check_guard(&g);
}

/* The files a finished batch left, opened again without the network: the
 * same results, in the same order. */
static void open_downloaded_results(void **state) {
  fixture_t *f = *state;
  char ids[N_REQ][32];
  obatch_info_t info = OBATCH_INFO_INIT;
  obatch_t *opened = NULL;
  assert_int_equal(fake_server_config(&f->server, "{\"fail_every\": 4}"), 0);
  obatch_t *b = new_batch(f, f->conf);
  add_mixed(b, ids);
  assert_int_equal(obatch_submit(b), OBATCH_OK);
  assert_int_equal(obatch_wait(b, 15000, &info), OBATCH_OK);
  long before = fake_server_count_requests(&f->server, NULL, NULL, NULL);

  assert_int_equal(
      obatch_open(&opened, NULL, obatch_input_path(b), info.output_path, info.error_path),
      OBATCH_OK);
  f->b[MAX_HANDLES - 1] = opened;
  check_all(opened, ids, N_REQ, 4, N_REQ);
  obatch_info_t o = OBATCH_INFO_INIT;
  assert_int_equal(obatch_info(opened, &o), OBATCH_OK);
  assert_int_equal(o.phase, OBATCH_PHASE_DONE);
  assert_int_equal(o.requests_added, N_REQ);
  assert_string_equal(o.output_path, info.output_path);
  assert_string_equal(o.error_path, info.error_path);
  assert_int_equal(obatch_submit(opened), OBATCH_ESTATE);
  assert_int_equal(obatch_cancel(opened), OBATCH_ESTATE);
  assert_int_equal(fake_server_count_requests(&f->server, NULL, NULL, NULL), before);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(completed_batch, setup, teardown),
    cmocka_unit_test_setup_teardown(failed_lines, setup, teardown),
    cmocka_unit_test_setup_teardown(expired_batch, setup, teardown),
    cmocka_unit_test_setup_teardown(cancelled_batch, setup, teardown),
    cmocka_unit_test_setup_teardown(cancel_before_create, setup, teardown),
    cmocka_unit_test_setup_teardown(failed_batch, setup, teardown),
    cmocka_unit_test_setup_teardown(resume_batch, setup, teardown),
    cmocka_unit_test_setup_teardown(resume_without_input_file, setup, teardown),
    cmocka_unit_test_setup_teardown(resume_needs_provider, setup, teardown),
    cmocka_unit_test_setup_teardown(random_faults, setup, teardown),
    cmocka_unit_test_setup_teardown(lost_upload_answer, setup, teardown),
    cmocka_unit_test_setup_teardown(lost_create_answer, setup, teardown),
    cmocka_unit_test_setup_teardown(refused_create_is_retried_without_search, setup, teardown),
    cmocka_unit_test_setup_teardown(cancel_after_completion_keeps_results, setup, teardown),
    cmocka_unit_test_setup_teardown(create_reset_after_acting_makes_one_batch, setup, teardown),
    cmocka_unit_test_setup_teardown(create_answer_cut_off_makes_one_batch, setup, teardown),
    cmocka_unit_test_setup_teardown(outage_while_waiting_is_survived, setup, teardown),
    cmocka_unit_test_setup_teardown(unwritable_output_dir_fails_at_submit, setup, teardown),
    cmocka_unit_test_setup_teardown(retry_after_honoured, setup, teardown),
    cmocka_unit_test_setup_teardown(poll_timing, setup, teardown),
    cmocka_unit_test_setup_teardown(missing_key, setup, teardown),
    cmocka_unit_test_setup_teardown(wrong_key, setup, teardown),
    cmocka_unit_test_setup_teardown(insecure_url, setup, teardown),
    cmocka_unit_test_setup_teardown(parasail_by_model, setup, teardown),
    cmocka_unit_test_setup_teardown(openai_one_model, setup, teardown),
    cmocka_unit_test_setup_teardown(parted_job_in_input_order, setup, teardown),
    cmocka_unit_test_setup_teardown(parted_mixed_models, setup, teardown),
    cmocka_unit_test_setup_teardown(parted_token_limit, setup, teardown),
    cmocka_unit_test_setup_teardown(parted_cancel, setup, teardown),
    cmocka_unit_test_setup_teardown(add_validation, setup, teardown),
    cmocka_unit_test_setup_teardown(empty_submit, setup, teardown),
    cmocka_unit_test_setup_teardown(null_arguments, setup, teardown),
    cmocka_unit_test_setup_teardown(embeddings_endpoint, setup, teardown),
    cmocka_unit_test_setup_teardown(list_batches, setup, teardown),
    cmocka_unit_test_setup_teardown(info_v2_after_completion, setup, teardown),
    cmocka_unit_test_setup_teardown(info_v2_model_while_building, setup, teardown),
    cmocka_unit_test_setup_teardown(retrieve_known_batch, setup, teardown),
    cmocka_unit_test_setup_teardown(retrieve_unknown_batch, setup, teardown),
    cmocka_unit_test_setup_teardown(cancel_id_of_running_batch, setup, teardown),
    cmocka_unit_test_setup_teardown(cancel_id_of_completed_batch, setup, teardown),
    cmocka_unit_test_setup_teardown(info_v1_caller_is_not_overrun, setup, teardown),
    cmocka_unit_test_setup_teardown(open_downloaded_results, setup, teardown),
};

OBATCH_TEST_MAIN(tests, group_setup, group_teardown)
