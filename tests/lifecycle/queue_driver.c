/* The queue tests' client (test_cli_queue.py), over the public C API only:
 *
 *   queue_driver put STORE N THREADS PREFIX
 *     puts N chat requests ("PREFIX i", i = 0..N-1) from THREADS threads,
 *     each with its own handle, and prints "i TICKET" per request in i order
 *   queue_driver wait STORE TICKETS_FILE TIMEOUT_S
 *     waits for every ticket of a file of "i TICKET" lines; checks each
 *     completed with its own answer (the fake server echoes the custom_id,
 *     which is the ticket); prints one JSON line {"completed", "wrong", "first_wrong"};
 *     exit 0 when all completed with their own answers
 *
 * The environment gives the provider's key and base URL (OPENAI_*).
 */
#include <obatch/obatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  const char *store, *prefix;
  long first, count;
  char (*tickets)[64];
  int failed;
} put_job;

static obatch_queue_t *open_queue(const char *store) {
  obatch_config_t *conf = NULL;
  obatch_queue_t *q = NULL;
  if (obatch_config_new(&conf) != OBATCH_OK) return NULL;
  if (obatch_queue_open(&q, conf, store) != OBATCH_OK)
    fprintf(stderr, "queue_driver: open %s: %s\n", store, obatch_queue_last_error(NULL));
  obatch_config_destroy(conf);
  return q;
}

static void *put_thread(void *arg) {
  put_job *job = arg;
  obatch_queue_t *q = open_queue(job->store);
  if (!q) {
    job->failed = 1;
    return NULL;
  }
  char body[256];
  for (long i = job->first; i < job->first + job->count; i++) {
    snprintf(body, sizeof body,
             "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"%s %ld\"}]}",
             job->prefix, i);
    const char *ticket = NULL;
    int rc = obatch_queue_put(q, NULL, body, NULL, &ticket);
    if (rc != OBATCH_OK) {
      fprintf(stderr, "queue_driver: put %ld: %s\n", i, obatch_queue_last_error(q));
      job->failed = 1;
      break;
    }
    snprintf(job->tickets[i], sizeof job->tickets[i], "%s", ticket);
  }
  obatch_queue_close(q);
  return NULL;
}

static int put(const char *store, long n, int threads, const char *prefix) {
  char(*tickets)[64] = calloc((size_t)n, sizeof *tickets);
  pthread_t *ids = calloc((size_t)threads, sizeof *ids);
  put_job *jobs = calloc((size_t)threads, sizeof *jobs);
  if (!tickets || !ids || !jobs) return 1;
  long per = (n + threads - 1) / threads;
  for (int t = 0; t < threads; t++) {
    jobs[t] = (put_job){store, prefix, t * per, 0, tickets, 0};
    long left = n - t * per;
    jobs[t].count = left < 0 ? 0 : (left < per ? left : per);
    pthread_create(&ids[t], NULL, put_thread, &jobs[t]);
  }
  int failed = 0;
  for (int t = 0; t < threads; t++) {
    pthread_join(ids[t], NULL);
    failed |= jobs[t].failed;
  }
  for (long i = 0; i < n && !failed; i++) printf("%ld %s\n", i, tickets[i]);
  free(tickets);
  free(ids);
  free(jobs);
  return failed;
}

static int wait_all(const char *store, const char *path, int timeout_s) {
  FILE *f = fopen(path, "r");
  obatch_queue_t *q = open_queue(store);
  if (!f || !q) return 2;
  time_t end = time(NULL) + timeout_s;
  long i = 0, completed = 0, wrong = 0;
  char ticket[128], first_wrong[512] = "";
  while (fscanf(f, "%ld %127s", &i, ticket) == 2) {
    obatch_queue_entry_t e = OBATCH_QUEUE_ENTRY_INIT;
    long left = (long)(end - time(NULL));
    int rc = obatch_queue_wait(q, ticket, left > 0 ? (int)(left * 1000) : 0, &e);
    char want[160];
    snprintf(want, sizeof want, "\"content\":\"echo: %s\"", ticket);
    if (rc == OBATCH_OK && e.state == OBATCH_QUEUE_COMPLETED && e.status_code == 200 &&
        strstr(e.body, want) && strcmp(e.ticket, ticket) == 0 && e.batch_id[0]) {
      completed++;
      continue;
    }
    if (!wrong++)
      snprintf(first_wrong, sizeof first_wrong, "%s: rc %d state %d status %d: %.200s", ticket,
               rc, e.state, e.status_code, rc == OBATCH_OK ? e.body : obatch_queue_last_error(q));
  }
  fclose(f);
  obatch_queue_close(q);
  printf("{\"completed\": %ld, \"wrong\": %ld, \"first_wrong\": \"", completed, wrong);
  for (const char *p = first_wrong; *p; p++)
    if (*p != '"' && *p != '\\') putchar(*p);
  printf("\"}\n");
  return wrong ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc == 6 && strcmp(argv[1], "put") == 0)
    return put(argv[2], atol(argv[3]), atoi(argv[4]), argv[5]);
  if (argc == 5 && strcmp(argv[1], "wait") == 0) return wait_all(argv[2], argv[3], atoi(argv[4]));
  fprintf(stderr,
          "usage: queue_driver put STORE N THREADS PREFIX | wait STORE TICKETS_FILE TIMEOUT_S\n");
  return 2;
}
