/* Every call that waits on the network ends within 100 ms of
 * obatch_abort_trigger from another thread (OBATCH_EABORTED), against a
 * server that accepts and never answers and against a refused port (where
 * the call sits in its back-off between retries). Public API only; real
 * sockets on 127.0.0.1. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "obatch/obatch.h"
#include "temp_dir.h"
#include "test_main.h"

typedef enum { SILENT, REFUSED } server_kind;
typedef enum { CALL_LIST, CALL_RETRIEVE, CALL_CANCEL, CALL_WAIT, CALL_CHECK } call_kind;

typedef struct {
  call_kind kind;
  obatch_config_t *conf;
  obatch_t *batch; /* CALL_WAIT */
  char path[300];  /* CALL_CHECK */
  int rc;
  char err[512];
  atomic_int done;
} call_t;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The bound, stretched under valgrind (scripts/memcheck.sh), which runs
 * everything 10 to 30 times slower. */
static double bound_ms(void) { return getenv("OBATCH_TEST_VALGRIND") ? 3000.0 : 100.0; }

/* A listening socket on a free loopback port that never accepts: the kernel
 * completes the handshake and takes the request, nobody answers. For
 * REFUSED the socket is closed again, so connecting is refused. */
static int open_server(server_kind kind, int *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  socklen_t len = sizeof a;
  assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  *port = ntohs(a.sin_port);
  if (kind == REFUSED) {
    close(fd);
    return -1;
  }
  assert_int_equal(listen(fd, 16), 0);
  return fd;
}

static obatch_config_t *conf_for(int port, obatch_abort_t *abort, char *work_dir) {
  obatch_config_t *conf = NULL;
  char url[64], err[256] = "";
  snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", port);
  assert_int_equal(obatch_config_new(&conf), OBATCH_OK);
  const char *kv[][2] = {{"provider", "openai"}, {"base_url", url},      {"api_key", "test-key"},
                         {"state", "off"},       {"work_dir", work_dir}, {"max_retries", "8"}};
  for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
    if (obatch_config_set(conf, kv[i][0], kv[i][1], err, sizeof err) != OBATCH_OK)
      fail_msg("config %s: %s", kv[i][0], err);
  assert_int_equal(obatch_config_set_abort(conf, abort), OBATCH_OK);
  return conf;
}

static void *run_call(void *arg) {
  call_t *c = arg;
  obatch_list_t *list = NULL;
  switch (c->kind) {
    case CALL_LIST: c->rc = obatch_list(&list, c->conf, NULL, 0, c->err, sizeof c->err); break;
    case CALL_RETRIEVE:
      c->rc = obatch_retrieve(&list, c->conf, "batch_1", c->err, sizeof c->err);
      break;
    case CALL_CANCEL:
      c->rc = obatch_cancel_id(&list, c->conf, "batch_1", c->err, sizeof c->err);
      break;
    case CALL_WAIT:
      c->rc = obatch_wait(c->batch, -1, NULL);
      snprintf(c->err, sizeof c->err, "%s", obatch_last_error(c->batch));
      break;
    case CALL_CHECK: {
      obatch_check_t *check = NULL;
      c->rc = obatch_check_file(&check, c->conf, c->path, 0, c->err, sizeof c->err);
      if (check) obatch_check_destroy(check);
      break;
    }
  }
  if (list) obatch_list_destroy(list);
  atomic_store(&c->done, 1);
  return NULL;
}

/* Runs `c` on a thread of its own, checks it is still running after
 * `delay_ms`, triggers `abort`, and returns how many ms after the trigger
 * the call returned (given up on after 10 s). */
static double trigger_while_running(call_t *c, obatch_abort_t *abort, int delay_ms) {
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, run_call, c), 0);
  usleep((useconds_t)delay_ms * 1000);
  assert_int_equal(atomic_load(&c->done), 0); /* still running */
  double t0 = now_ms();
  obatch_abort_trigger(abort);
  while (!atomic_load(&c->done) && now_ms() - t0 < 10000) usleep(1000);
  double took = now_ms() - t0;
  assert_int_equal(pthread_join(t, NULL), 0);
  return took;
}

/* Starts the call, lets it block for 300 ms, triggers, and checks that it
 * was still running then and returned EABORTED within the bound. */
static void check_abort(server_kind kind, call_kind call) {
  int port = 0;
  int fd = open_server(kind, &port);
  char work_dir[256];
  assert_int_equal(test_temp_dir(work_dir, sizeof work_dir, "abort"), 0);
  obatch_abort_t *abort = NULL;
  assert_int_equal(obatch_abort_new(&abort), OBATCH_OK);
  call_t c = {.kind = call, .rc = 12345};
  c.conf = conf_for(port, abort, work_dir);
  if (call == CALL_WAIT) {
    assert_int_equal(obatch_create(&c.batch, c.conf), OBATCH_OK);
    assert_int_equal(obatch_add(c.batch,
                                "{\"model\":\"gpt-4o-mini\",\"messages\":"
                                "[{\"role\":\"user\",\"content\":\"x\"}]}",
                                NULL, NULL),
                     OBATCH_OK);
    assert_int_equal(obatch_submit(c.batch), OBATCH_OK);
  }
  /* The token belongs to the config (and the handle) from here on. */
  double took = trigger_while_running(&c, abort, 300);
  print_message("      call %d, %s server: returned %.1f ms after the trigger (%s)\n", call,
                kind == SILENT ? "silent" : "refusing", took, c.err);
  assert_int_equal(c.rc, OBATCH_EABORTED);
  assert_non_null(strstr(c.err, "aborted"));
  assert_null(strstr(c.err, "test-key"));
  if (took > bound_ms()) fail_msg("took %.1f ms after the trigger (bound %.0f)", took, bound_ms());

  /* Later calls end at once until the token is reset. */
  c.done = 0;
  run_call(&c);
  assert_int_equal(c.rc, OBATCH_EABORTED);
  assert_int_equal(obatch_abort_triggered(abort), 1);
  obatch_abort_reset(abort);
  assert_int_equal(obatch_abort_triggered(abort), 0);

  obatch_abort_destroy(abort); /* the config still holds it */
  if (c.batch) obatch_destroy(c.batch);
  obatch_config_destroy(c.conf);
  if (fd >= 0) close(fd);
  test_remove_tree(work_dir);
}

static void list_ends_on_a_silent_server(void **s) {
  (void)s;
  check_abort(SILENT, CALL_LIST);
}
static void list_ends_in_its_back_off(void **s) {
  (void)s;
  check_abort(REFUSED, CALL_LIST);
}
static void retrieve_ends_on_a_silent_server(void **s) {
  (void)s;
  check_abort(SILENT, CALL_RETRIEVE);
}
static void retrieve_ends_in_its_back_off(void **s) {
  (void)s;
  check_abort(REFUSED, CALL_RETRIEVE);
}
static void cancel_id_ends_on_a_silent_server(void **s) {
  (void)s;
  check_abort(SILENT, CALL_CANCEL);
}
static void cancel_id_ends_in_its_back_off(void **s) {
  (void)s;
  check_abort(REFUSED, CALL_CANCEL);
}
static void wait_ends_on_a_silent_server(void **s) {
  (void)s;
  check_abort(SILENT, CALL_WAIT);
}

/* A long obatch_check_file ends too: the check looks at the token every
 * 64 lines. The file is big enough that the check is still running
 * 20 ms in (checked below). */
static void check_file_ends_when_triggered(void **s) {
  (void)s;
  char work_dir[256];
  assert_int_equal(test_temp_dir(work_dir, sizeof work_dir, "abort"), 0);
  obatch_abort_t *abort = NULL;
  assert_int_equal(obatch_abort_new(&abort), OBATCH_OK);
  call_t c = {.kind = CALL_CHECK, .rc = 12345};
  c.conf = conf_for(1, abort, work_dir);
  snprintf(c.path, sizeof c.path, "%s/big.jsonl", work_dir);
  FILE *f = fopen(c.path, "w");
  assert_non_null(f);
  for (int i = 0; i < 400000; i++)
    fprintf(f,
            "{\"custom_id\":\"r%d\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
            "\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"%0300d\"}]}}\n",
            i, 0);
  assert_int_equal(fclose(f), 0);
  double took = trigger_while_running(&c, abort, 20);
  print_message("      check_file: returned %.1f ms after the trigger (%s)\n", took, c.err);
  assert_int_equal(c.rc, OBATCH_EABORTED);
  if (took > bound_ms()) fail_msg("took %.1f ms after the trigger (bound %.0f)", took, bound_ms());
  obatch_abort_destroy(abort);
  obatch_config_destroy(c.conf);
  test_remove_tree(work_dir);
}

/* No token, or an untriggered one: the call behaves as before. */
static void a_token_never_triggered_changes_nothing(void **s) {
  (void)s;
  int port = 0;
  open_server(REFUSED, &port);
  char work_dir[256];
  assert_int_equal(test_temp_dir(work_dir, sizeof work_dir, "abort"), 0);
  obatch_abort_t *abort = NULL;
  assert_int_equal(obatch_abort_new(&abort), OBATCH_OK);
  obatch_config_t *conf = conf_for(port, abort, work_dir);
  char err[256] = "";
  assert_int_equal(obatch_config_set(conf, "max_retries", "0", err, sizeof err), OBATCH_OK);
  obatch_list_t *list = NULL;
  assert_int_equal(obatch_list(&list, conf, NULL, 0, err, sizeof err), OBATCH_ENETWORK);
  assert_int_equal(obatch_config_set_abort(conf, NULL), OBATCH_OK);
  assert_int_equal(obatch_list(&list, conf, NULL, 0, err, sizeof err), OBATCH_ENETWORK);
  assert_int_equal(obatch_config_set_abort(NULL, abort), OBATCH_EINVAL);
  assert_int_equal(obatch_abort_new(NULL), OBATCH_EINVAL);
  assert_int_equal(obatch_abort_triggered(NULL), 0);
  obatch_abort_trigger(NULL); /* no-ops */
  obatch_abort_reset(NULL);
  assert_string_equal(obatch_strerror(OBATCH_EABORTED), "the call was aborted");
  obatch_abort_destroy(abort);
  obatch_config_destroy(conf);
  test_remove_tree(work_dir);
}

static const struct CMUnitTest abort_tests[] = {
    cmocka_unit_test(list_ends_on_a_silent_server),
    cmocka_unit_test(list_ends_in_its_back_off),
    cmocka_unit_test(retrieve_ends_on_a_silent_server),
    cmocka_unit_test(retrieve_ends_in_its_back_off),
    cmocka_unit_test(cancel_id_ends_on_a_silent_server),
    cmocka_unit_test(cancel_id_ends_in_its_back_off),
    cmocka_unit_test(wait_ends_on_a_silent_server),
    cmocka_unit_test(check_file_ends_when_triggered),
    cmocka_unit_test(a_token_never_triggered_changes_nothing),
};

OBATCH_TEST_MAIN(abort_tests, NULL, NULL)
