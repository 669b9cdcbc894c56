/*
 * The job journal through the C API, against the fake server: the same
 * input submitted again is taken up (one batch, not two), a second handle
 * on the same input follows the first, force_new really submits again, and
 * an expired job's missing requests become a new batch of just those.
 */
#define _XOPEN_SOURCE 700 /* nftw, mkdtemp */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../support/fake_server.h"
#include "../support/temp_dir.h"
#include "../support/test_main.h"
#include "obatch/obatch.h"

#define N_REQ 6

typedef struct {
  fake_server_t server;
  char dir[256];
  char input[300];
  obatch_config_t *conf;
} fixture_t;

static void set_conf(obatch_config_t *conf, const char *key, const char *value) {
  char err[256] = "";
  if (obatch_config_set(conf, key, value, err, sizeof err) != OBATCH_OK)
    fail_msg("config %s: %s", key, err);
}

static int setup(void **state) {
  fixture_t *f = calloc(1, sizeof *f);
  char journal[320];
  if (!f) return -1;
  *state = f;
  if (test_temp_dir(f->dir, sizeof f->dir, "journal") != 0) return -1;
  if (fake_server_start(&f->server, "{\"steps\": 1}") != 0) return -1;
  snprintf(f->input, sizeof f->input, "%s/input.jsonl", f->dir);
  FILE *in = fopen(f->input, "w");
  if (!in) return -1;
  for (int i = 0; i < N_REQ; i++)
    fprintf(in,
            "{\"custom_id\":\"req-%d\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
            "\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":"
            "\"hi %d\"}]}}\n",
            i, i);
  fclose(in);
  if (obatch_config_new(&f->conf) != OBATCH_OK) return -1;
  snprintf(journal, sizeof journal, "%s/state/jobs.db", f->dir);
  set_conf(f->conf, "state", journal);
  set_conf(f->conf, "provider", "openai");
  set_conf(f->conf, "base_url", f->server.base_url);
  set_conf(f->conf, "api_key", "test-key");
  set_conf(f->conf, "work_dir", f->dir);
  set_conf(f->conf, "poll_interval_ms", "5");
  set_conf(f->conf, "poll_max_interval_ms", "20");
  return 0;
}

static int teardown(void **state) {
  fixture_t *f = *state;
  obatch_config_destroy(f->conf);
  fake_server_stop(&f->server);
  test_remove_tree(f->dir);
  free(f);
  return 0;
}

/* Submits the fixture's input file; returns the handle. */
static obatch_t *submit_input(fixture_t *f, const obatch_config_t *conf) {
  obatch_t *b = NULL;
  assert_int_equal(obatch_create(&b, conf), OBATCH_OK);
  assert_int_equal(obatch_add_file(b, f->input), OBATCH_OK);
  assert_int_equal(obatch_submit(b), OBATCH_OK);
  return b;
}

/* Submits the input to a batch that expires with the first half of its
 * requests done; returns the handle, `info` filled. */
static obatch_t *submit_expiring(fixture_t *f, obatch_info_t *info) {
  assert_int_equal(fake_server_config(&f->server,
                                      "{\"final_status\": \"expired\", "
                                      "\"partial_fraction\": 0.5, \"shuffle\": false}"),
                   0);
  obatch_t *b = submit_input(f, f->conf);
  assert_int_equal(obatch_wait(b, 20000, info), OBATCH_EEXPIRED);
  return b;
}

static int count_results(obatch_t *b, int kind) {
  obatch_result_t r = OBATCH_RESULT_INIT;
  int n = 0;
  obatch_rewind(b);
  while (obatch_fetch(b, &r) == OBATCH_OK)
    if (r.kind == kind) n++;
  return n;
}

static void same_input_again_is_resumed_not_paid_twice(void **state) {
  fixture_t *f = *state;
  obatch_info_t info = OBATCH_INFO_INIT;
  obatch_t *b = submit_input(f, f->conf);
  assert_int_equal(obatch_wait(b, 20000, &info), OBATCH_OK);
  assert_int_equal(info.job_origin, OBATCH_JOB_NEW);
  assert_int_equal(strlen(info.job_id), 24);
  char job[32], batch[64];
  snprintf(job, sizeof job, "%s", info.job_id);
  snprintf(batch, sizeof batch, "%s", info.batch_id);
  obatch_destroy(b);

  b = submit_input(f, f->conf);
  assert_int_equal(obatch_wait(b, 20000, &info), OBATCH_OK);
  assert_int_equal(info.job_origin, OBATCH_JOB_RESUMED);
  assert_string_equal(info.job_id, job);
  assert_string_equal(info.batch_id, batch);
  assert_int_equal(count_results(b, OBATCH_RESULT_SUCCEEDED), N_REQ);
  obatch_destroy(b);
  assert_int_equal(fake_server_stats_int(&f->server, "uploads"), 1);
  assert_int_equal(fake_server_stats_int(&f->server, "batches_created"), 1);

  /* force_new: a second batch, on purpose. */
  obatch_config_t *again = NULL;
  assert_int_equal(obatch_config_new(&again), OBATCH_OK);
  const char *keys[] = {"state", "provider", "base_url", "work_dir", "poll_interval_ms",
                        "poll_max_interval_ms"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    set_conf(again, keys[i], obatch_config_get(f->conf, keys[i]));
  set_conf(again, "api_key", "test-key");
  set_conf(again, "force_new", "1");
  b = submit_input(f, again);
  assert_int_equal(obatch_wait(b, 20000, &info), OBATCH_OK);
  assert_int_equal(info.job_origin, OBATCH_JOB_NEW);
  assert_string_not_equal(info.job_id, job);
  obatch_destroy(b);
  obatch_config_destroy(again);
  assert_int_equal(fake_server_stats_int(&f->server, "batches_created"), 2);

  /* Both jobs are listed, newest first, without a key anywhere. */
  obatch_jobs_t *jobs = NULL;
  char err[256] = "";
  assert_int_equal(obatch_jobs_open(&jobs, f->conf, err, sizeof err), OBATCH_OK);
  obatch_job_t j = OBATCH_JOB_INIT;
  int n = 0;
  while (obatch_jobs_next(jobs, &j) == OBATCH_OK) {
    n++;
    assert_string_equal(j.step, "done");
    assert_string_equal(j.remote_status, "completed");
    assert_string_equal(j.source_path + strlen(j.source_path) - strlen("/input.jsonl"),
                        "/input.jsonl");
    assert_int_equal(j.requests, N_REQ);
    assert_int_equal(j.running, 0);
    assert_int_equal(strlen(j.input_sha256), 64);
    if (n == 2) assert_string_equal(j.id, job);
  }
  assert_int_equal(n, 2);
  obatch_jobs_destroy(jobs);
  uint64_t pruned = 0;
  assert_int_equal(obatch_jobs_prune(f->conf, &pruned, err, sizeof err), OBATCH_OK);
  assert_int_equal(pruned, 2);
}

static void second_handle_on_same_input_follows_the_first(void **state) {
  fixture_t *f = *state;
  obatch_info_t info = OBATCH_INFO_INIT, info2 = OBATCH_INFO_INIT;
  assert_int_equal(fake_server_config(&f->server, "{\"steps\": 3}"), 0);
  obatch_t *b1 = submit_input(f, f->conf);
  obatch_t *b2 = submit_input(f, f->conf);
  assert_int_equal(obatch_info(b2, &info2), OBATCH_OK);
  assert_int_equal(info2.job_origin, OBATCH_JOB_FOLLOWING);
  assert_int_equal(obatch_wait(b1, 20000, &info), OBATCH_OK);
  assert_int_equal(obatch_wait(b2, 20000, &info2), OBATCH_OK);
  assert_string_equal(info.job_id, info2.job_id);
  assert_string_equal(info.batch_id, info2.batch_id);
  assert_int_equal(count_results(b1, OBATCH_RESULT_SUCCEEDED), N_REQ);
  assert_int_equal(count_results(b2, OBATCH_RESULT_SUCCEEDED), N_REQ);
  obatch_destroy(b2);
  obatch_destroy(b1);
  assert_int_equal(fake_server_stats_int(&f->server, "uploads"), 1);
  assert_int_equal(fake_server_stats_int(&f->server, "batches_created"), 1);
}

static void follower_takes_over_when_the_first_handle_goes(void **state) {
  fixture_t *f = *state;
  obatch_info_t info = OBATCH_INFO_INIT;
  /* The first handle's create hangs; it is destroyed before its batch
   * exists, so the follower takes the job over from the journal. */
  assert_int_equal(fake_server_config(&f->server,
                                      "{\"faults\": [{\"method\": \"POST\", \"path\": "
                                      "\"/v1/batches\", \"kind\": \"500\", \"count\": 1}]}"),
                   0);
  obatch_t *b1 = submit_input(f, f->conf);
  obatch_t *b2 = submit_input(f, f->conf);
  obatch_destroy(b1);
  assert_int_equal(obatch_wait(b2, 20000, &info), OBATCH_OK);
  assert_int_equal(info.job_origin, OBATCH_JOB_RESUMED);
  assert_int_equal(count_results(b2, OBATCH_RESULT_SUCCEEDED), N_REQ);
  obatch_destroy(b2);
  assert_true(fake_server_stats_int(&f->server, "batches_created") == 1);
  assert_true(fake_server_stats_int(&f->server, "uploads") == 1);
}

static void expired_job_missing_requests_are_resubmitted(void **state) {
  fixture_t *f = *state;
  obatch_info_t info = OBATCH_INFO_INIT;
  obatch_t *b = submit_expiring(f, &info);
  char job[32], partial[400];
  snprintf(job, sizeof job, "%s", info.job_id);
  snprintf(partial, sizeof partial, "%s", info.output_path);
  int missing = count_results(b, OBATCH_RESULT_MISSING);
  assert_true(missing > 0 && missing < N_REQ);
  obatch_destroy(b);

  /* The retry must not write over the partial results it completes. */
  obatch_t *clobber = NULL;
  set_conf(f->conf, "output_path", partial);
  assert_int_equal(obatch_retry_missing(&clobber, f->conf, job), OBATCH_EINVAL);
  assert_non_null(strstr(obatch_last_error(NULL), "another file"));
  assert_int_equal(obatch_config_set(f->conf, "output_path", NULL, NULL, 0), OBATCH_OK);

  assert_int_equal(fake_server_config(&f->server, "{\"final_status\": \"completed\"}"), 0);
  obatch_t *retry = NULL;
  assert_int_equal(obatch_retry_missing(&retry, f->conf, job), OBATCH_OK);
  assert_int_equal(obatch_info(retry, &info), OBATCH_OK);
  assert_int_equal(info.phase, OBATCH_PHASE_BUILDING);
  assert_int_equal(info.requests_added, (uint64_t)missing);
  assert_int_equal(obatch_submit(retry), OBATCH_OK);
  assert_int_equal(obatch_wait(retry, 20000, &info), OBATCH_OK);
  assert_int_equal(count_results(retry, OBATCH_RESULT_SUCCEEDED), missing);
  char retry_job[32];
  snprintf(retry_job, sizeof retry_job, "%s", info.job_id);
  obatch_destroy(retry);
  assert_int_equal(fake_server_stats_int(&f->server, "batches_created"), 2);

  /* The retry job names its origin; a job with nothing missing is refused. */
  obatch_jobs_t *jobs = NULL;
  char err[256] = "";
  assert_int_equal(obatch_jobs_open(&jobs, f->conf, err, sizeof err), OBATCH_OK);
  obatch_job_t j = OBATCH_JOB_INIT;
  assert_int_equal(obatch_jobs_next(jobs, &j), OBATCH_OK);
  assert_string_equal(j.id, retry_job);
  assert_string_equal(j.retry_of, job);
  obatch_jobs_destroy(jobs);
  assert_int_equal(obatch_retry_missing(&retry, f->conf, retry_job), OBATCH_ESTATE);
  assert_null(retry);
  assert_non_null(strstr(obatch_last_error(NULL), "nothing to retry"));
  assert_int_equal(obatch_retry_missing(&retry, f->conf, "ffffffffffff"), OBATCH_ENOTFOUND);
}

/* Points the fixture's config at another journal (another machine's). */
static void use_journal(fixture_t *f, const char *name) {
  char path[400];
  snprintf(path, sizeof path, "%s/%s/jobs.db", f->dir, name);
  set_conf(f->conf, "state", path);
}

/* Through another journal (another machine, a lost jobs.db), the same input
 * finds its batch at the provider instead of paying for it again. */
static void fresh_journal_takes_up_the_batch_at_the_provider(void **state) {
  fixture_t *f = *state;
  obatch_info_t info = OBATCH_INFO_INIT;
  obatch_t *b = submit_input(f, f->conf);
  assert_int_equal(obatch_wait(b, 20000, &info), OBATCH_OK);
  assert_int_equal(info.job_origin, OBATCH_JOB_NEW);
  char job[32], batch[64];
  snprintf(job, sizeof job, "%s", info.job_id);
  snprintf(batch, sizeof batch, "%s", info.batch_id);
  obatch_destroy(b);

  use_journal(f, "elsewhere");
  b = submit_input(f, f->conf);
  assert_int_equal(obatch_wait(b, 20000, &info), OBATCH_OK);
  assert_int_equal(info.job_origin, OBATCH_JOB_ADOPTED);
  assert_string_equal(info.job_id, job); /* derived from the input: the same */
  assert_string_equal(info.batch_id, batch);
  assert_int_equal(count_results(b, OBATCH_RESULT_SUCCEEDED), N_REQ);
  obatch_destroy(b);
  assert_int_equal(fake_server_stats_int(&f->server, "uploads"), 1);
  assert_int_equal(fake_server_stats_int(&f->server, "batches_created"), 1);

  /* That journal now knows the job: next time it resumes it, asking no list. */
  long lists = fake_server_stats_int(&f->server, "list_calls");
  b = submit_input(f, f->conf);
  assert_int_equal(obatch_wait(b, 20000, &info), OBATCH_OK);
  assert_int_equal(info.job_origin, OBATCH_JOB_RESUMED);
  obatch_destroy(b);
  assert_int_equal(fake_server_stats_int(&f->server, "list_calls"), lists);

  /* force_new through a third journal: a second batch, on purpose. */
  use_journal(f, "third");
  set_conf(f->conf, "force_new", "1");
  b = submit_input(f, f->conf);
  assert_int_equal(obatch_wait(b, 20000, &info), OBATCH_OK);
  assert_int_equal(info.job_origin, OBATCH_JOB_NEW);
  assert_true(strcmp(info.job_id, job) != 0);
  obatch_destroy(b);
  assert_int_equal(fake_server_stats_int(&f->server, "batches_created"), 2);
}

/* An expired (or failed, or cancelled) batch is a run to do again: a fresh
 * journal does not take it up. */
static void fresh_journal_does_not_take_up_an_expired_batch(void **state) {
  fixture_t *f = *state;
  obatch_info_t info = OBATCH_INFO_INIT;
  obatch_destroy(submit_expiring(f, &info));
  assert_int_equal(fake_server_config(&f->server, "{\"final_status\": \"completed\"}"), 0);
  use_journal(f, "elsewhere");
  obatch_t *b = submit_input(f, f->conf);
  assert_int_equal(obatch_wait(b, 20000, &info), OBATCH_OK);
  assert_int_equal(info.job_origin, OBATCH_JOB_NEW);
  assert_int_equal(count_results(b, OBATCH_RESULT_SUCCEEDED), N_REQ);
  obatch_destroy(b);
  assert_int_equal(fake_server_stats_int(&f->server, "batches_created"), 2);
}

/* Counts each request req-K with a successful result in `b` into seen[K]. */
static void count_succeeded(obatch_t *b, int seen[N_REQ]) {
  obatch_result_t r = OBATCH_RESULT_INIT;
  int k = -1;
  obatch_rewind(b);
  while (obatch_fetch(b, &r) == OBATCH_OK)
    if (r.kind == OBATCH_RESULT_SUCCEEDED && sscanf(r.custom_id, "req-%d", &k) == 1 && k >= 0 &&
        k < N_REQ)
      seen[k]++;
}

/* A retry that expires in turn is retried from the first job's input file,
 * through the chain: every request gets exactly one result in the end. */
static void expired_retry_is_retried_through_the_chain(void **state) {
  fixture_t *f = *state;
  obatch_info_t info = OBATCH_INFO_INIT;
  int seen[N_REQ] = {0};
  char job[32];
  obatch_t *b = submit_expiring(f, &info);
  snprintf(job, sizeof job, "%s", info.job_id);
  const int missing0 = count_results(b, OBATCH_RESULT_MISSING);
  count_succeeded(b, seen);
  obatch_destroy(b);

  obatch_t *retry = NULL;
  assert_int_equal(obatch_retry_missing(&retry, f->conf, job), OBATCH_OK);
  assert_int_equal(obatch_info(retry, &info), OBATCH_OK);
  assert_int_equal(info.requests_added, (uint64_t)missing0);
  assert_int_equal(obatch_submit(retry), OBATCH_OK);
  assert_int_equal(obatch_wait(retry, 20000, &info), OBATCH_EEXPIRED);
  snprintf(job, sizeof job, "%s", info.job_id);
  const int missing1 = count_results(retry, OBATCH_RESULT_MISSING);
  assert_true(missing1 > 0 && missing1 < missing0);
  count_succeeded(retry, seen);
  obatch_destroy(retry);

  assert_int_equal(fake_server_config(&f->server, "{\"final_status\": \"completed\"}"), 0);
  assert_int_equal(obatch_retry_missing(&retry, f->conf, job), OBATCH_OK);
  assert_int_equal(obatch_info(retry, &info), OBATCH_OK);
  assert_int_equal(info.requests_added, (uint64_t)missing1);
  assert_int_equal(obatch_submit(retry), OBATCH_OK);
  assert_int_equal(obatch_wait(retry, 20000, &info), OBATCH_OK);
  count_succeeded(retry, seen);
  obatch_destroy(retry);
  for (int k = 0; k < N_REQ; k++) assert_int_equal(seen[k], 1);
  assert_int_equal(fake_server_stats_int(&f->server, "batches_created"), 3);
}

static void changed_input_file_cannot_be_retried(void **state) {
  fixture_t *f = *state;
  obatch_info_t info = OBATCH_INFO_INIT;
  assert_int_equal(fake_server_config(&f->server, "{\"final_status\": \"cancelled\"}"), 0);
  obatch_t *b = submit_input(f, f->conf);
  assert_int_equal(obatch_wait(b, 20000, &info), OBATCH_ECANCELLED);
  char job[32];
  snprintf(job, sizeof job, "%s", info.job_id);
  obatch_destroy(b);
  FILE *in = fopen(f->input, "a");
  assert_non_null(in);
  fputs("\n", in);
  fclose(in);
  obatch_t *retry = NULL;
  assert_int_equal(obatch_retry_missing(&retry, f->conf, job), OBATCH_EIO);
  assert_non_null(strstr(obatch_last_error(NULL), "has changed"));
  assert_null(retry);
  // Gone altogether: the message names the job and the file.
  assert_int_equal(unlink(f->input), 0);
  assert_int_equal(obatch_retry_missing(&retry, f->conf, job), OBATCH_EIO);
  assert_null(retry);
  assert_non_null(strstr(obatch_last_error(NULL), "cannot open its input file"));
  assert_non_null(strstr(obatch_last_error(NULL), job));
  assert_int_equal(fake_server_stats_int(&f->server, "batches_created"), 1);
}

static void journal_off_keeps_nothing(void **state) {
  fixture_t *f = *state;
  obatch_info_t info = OBATCH_INFO_INIT;
  set_conf(f->conf, "state", "off");
  obatch_t *b = submit_input(f, f->conf);
  assert_int_equal(obatch_wait(b, 20000, &info), OBATCH_OK);
  assert_string_equal(info.job_id, "");
  assert_int_equal(info.job_origin, OBATCH_JOB_NONE);
  obatch_destroy(b);
  b = submit_input(f, f->conf);
  assert_int_equal(obatch_wait(b, 20000, &info), OBATCH_OK);
  obatch_destroy(b);
  assert_int_equal(fake_server_stats_int(&f->server, "batches_created"), 2);
  obatch_jobs_t *jobs = NULL;
  assert_int_equal(obatch_jobs_open(&jobs, f->conf, NULL, 0), OBATCH_ESTATE);
}

static const struct CMUnitTest journal_tests[] = {
    cmocka_unit_test_setup_teardown(same_input_again_is_resumed_not_paid_twice, setup, teardown),
    cmocka_unit_test_setup_teardown(second_handle_on_same_input_follows_the_first, setup, teardown),
    cmocka_unit_test_setup_teardown(follower_takes_over_when_the_first_handle_goes, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(expired_job_missing_requests_are_resubmitted, setup, teardown),
    cmocka_unit_test_setup_teardown(fresh_journal_takes_up_the_batch_at_the_provider, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(fresh_journal_does_not_take_up_an_expired_batch, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(expired_retry_is_retried_through_the_chain, setup, teardown),
    cmocka_unit_test_setup_teardown(changed_input_file_cannot_be_retried, setup, teardown),
    cmocka_unit_test_setup_teardown(journal_off_keeps_nothing, setup, teardown),
};

OBATCH_TEST_MAIN(journal_tests, NULL, NULL)
