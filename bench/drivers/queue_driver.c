/* Figure 10's driver (issue 14), public C API only:
 *
 *   queue_driver puts STORE N CLIENTS
 *     N chat requests (~300 B bodies, all different) put by CLIENTS threads,
 *     each with its own handle; prints {"puts", "seconds"} timed from the
 *     first put to the last one's return (the handles opened before)
 *   queue_driver flush STORE N
 *     puts N requests (not timed), then runs worker steps with flush_requests
 *     N from the moment the rule can fire until the store has the batch's id
 *     (claimed, input written, uploaded, batch created at the provider);
 *     prints {"requests", "seconds"}. The provider is openai, its key and
 *     base URL from OPENAI_API_KEY / OPENAI_BASE_URL (the fake server).
 */
#define _POSIX_C_SOURCE 200809L
#include <obatch/obatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, int rc, const obatch_queue_t *q) {
  fprintf(stderr, "queue_driver: %s: %s (%d): %s\n", what, obatch_strerror(rc), rc,
          obatch_queue_last_error(q));
  exit(1);
}

static obatch_queue_t *open_queue(const char *store, const char *flush_requests) {
  obatch_config_t *conf = NULL;
  obatch_queue_t *q = NULL;
  char err[256];
  if (obatch_config_new(&conf) != OBATCH_OK) exit(1);
  if (obatch_config_set(conf, "provider", "openai", err, sizeof err) != OBATCH_OK ||
      (flush_requests &&
       obatch_config_set(conf, "flush_requests", flush_requests, err, sizeof err) != OBATCH_OK) ||
      obatch_config_set(conf, "poll_interval_ms", "20", err, sizeof err) != OBATCH_OK) {
    fprintf(stderr, "queue_driver: %s\n", err);
    exit(1);
  }
  int rc = obatch_queue_open(&q, conf, store);
  obatch_config_destroy(conf);
  if (rc != OBATCH_OK) die("open", rc, NULL);
  return q;
}

/* ~300 bytes, different for every i. */
static void body(long i, char *out, size_t size) {
  snprintf(out, size,
           "{\"model\":\"gpt-4o-mini\",\"max_tokens\":64,\"temperature\":0.2,\"messages\":["
           "{\"role\":\"system\",\"content\":\"You classify support tickets into one of "
           "billing, bug, feature or other. Answer with the label only.\"},"
           "{\"role\":\"user\",\"content\":\"Ticket %ld: the export button does nothing "
           "since the update, please help.\"}]}",
           i);
}

typedef struct {
  obatch_queue_t *q;
  long first, count;
  pthread_barrier_t *start;
} client;

static void *put_loop(void *arg) {
  client *c = arg;
  char b[512];
  pthread_barrier_wait(c->start);
  for (long i = c->first; i < c->first + c->count; i++) {
    body(i, b, sizeof b);
    const char *ticket = NULL;
    int rc = obatch_queue_put(c->q, NULL, b, NULL, &ticket);
    if (rc != OBATCH_OK) die("put", rc, c->q);
  }
  return NULL;
}

static int puts_bench(const char *store, long n, int clients) {
  client *cs = calloc((size_t)clients, sizeof *cs);
  pthread_t *ids = calloc((size_t)clients, sizeof *ids);
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, (unsigned)clients + 1);
  long per = (n + clients - 1) / clients;
  for (int c = 0; c < clients; c++) {
    long left = n - c * per;
    cs[c] = (client){open_queue(store, NULL), c * per, left < 0 ? 0 : left < per ? left : per,
                     &start};
    pthread_create(&ids[c], NULL, put_loop, &cs[c]);
  }
  pthread_barrier_wait(&start);
  double t0 = now();
  for (int c = 0; c < clients; c++) pthread_join(ids[c], NULL);
  double t = now() - t0;
  for (int c = 0; c < clients; c++) obatch_queue_close(cs[c].q);
  printf("{\"puts\": %ld, \"seconds\": %.6f}\n", n, t);
  free(cs);
  free(ids);
  return 0;
}

static int flush_bench(const char *store, long n) {
  char flush[32], b[512];
  snprintf(flush, sizeof flush, "%ld", n);
  obatch_queue_t *q = open_queue(store, flush);
  const char *t = NULL;
  char first[128] = "";
  for (long i = 0; i < n; i++) {
    body(i, b, sizeof b);
    int rc = obatch_queue_put(q, NULL, b, NULL, &t);
    if (rc != OBATCH_OK) die("put", rc, q);
    if (i == 0) snprintf(first, sizeof first, "%s", t);
  }
  double t0 = now();
  for (;;) {
    obatch_queue_stats_t s = OBATCH_QUEUE_STATS_INIT;
    int rc = obatch_queue_work(q, 5, &s);
    if (rc != OBATCH_OK) die("work", rc, q);
    obatch_queue_entry_t e = OBATCH_QUEUE_ENTRY_INIT;
    rc = obatch_queue_get(q, first, &e);
    if (rc != OBATCH_OK) die("get", rc, q);
    if (e.batch_id[0]) break;
    if (now() - t0 > 300) {
      fprintf(stderr, "queue_driver: no batch after 300 s\n");
      return 1;
    }
  }
  printf("{\"requests\": %ld, \"seconds\": %.6f}\n", n, now() - t0);
  obatch_queue_close(q);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "puts") == 0)
    return puts_bench(argv[2], atol(argv[3]), atoi(argv[4]));
  if (argc == 4 && strcmp(argv[1], "flush") == 0) return flush_bench(argv[2], atol(argv[3]));
  fprintf(stderr, "usage: queue_driver puts STORE N CLIENTS | flush STORE N\n");
  return 2;
}
