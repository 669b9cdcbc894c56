/*
 * figures_driver: the C side of bench/figures/04_lifecycle.py, 05_polling.py
 * and 06_bindings.py (issue 6, figures 4-6). Public C API only.
 *
 *   figures_driver add BODIES_FILE
 *       Reads every line of BODIES_FILE (one request body, JSON text) into
 *       memory, then times obatch_add of each (custom_id and endpoint NULL:
 *       what the bindings' idiomatic add does), 50,000 per batch handle (the
 *       OpenAI limit; handles made outside the timing). No network.
 *       Prints {"requests":N,"seconds":S,"per_s":R}.
 *
 *   figures_driver lifecycle BODIES_FILE BASE_URL API_KEY [KEY=VALUE...]
 *       Adds the bodies (untimed), then times submit -> obatch_wait -> every
 *       result fetched. The phases are timed from obatch_poll wake-ups.
 *       Prints {"requests","seconds","upload_s","create_s","wait_s",
 *       "download_s","fetch_s","results","input_path","input_bytes",
 *       "output_file_id","error_file_id","batch_id"}.
 *
 *   figures_driver poll BASE_URL API_KEY [KEY=VALUE...]
 *       Submits a 3-request batch and watches it with obatch_poll. Prints
 *       (stdout, flushed) "created BATCH_ID T_NS" when the batch exists and
 *       "noticed STATUS T_NS" when a status check first sees it ended
 *       (T_NS: CLOCK_MONOTONIC, the clock Python's time.monotonic_ns reads),
 *       then "done PHASE" once the results are in.
 *
 * Extra KEY=VALUE pairs are set on the config (poll_interval_ms, work_dir...).
 * Exit 0 on success, 1 on any failure (the message goes to stderr).
 */
#define _POSIX_C_SOURCE 200809L
#include <obatch/obatch.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#define ADD_CHUNK 50000 /* requests per batch in `add` */

static double secs(int64_t a, int64_t b) { return (double)(b - a) / 1e9; }

static void die(const char *what, int rc, const obatch_t *b) {
  fprintf(stderr, "figures_driver: %s: %s (%d): %s\n", what, obatch_strerror(rc), rc,
          obatch_last_error(b));
  exit(1);
}

/* ---- bodies ------------------------------------------------------------- */

struct bodies {
  char **line;
  size_t n;
};

static struct bodies read_bodies(const char *path) {
  struct bodies out = {NULL, 0};
  FILE *f = fopen(path, "r");
  if (!f) {
    perror(path);
    exit(1);
  }
  size_t cap = 0;
  char *buf = NULL;
  size_t bufcap = 0;
  ssize_t len;
  while ((len = getline(&buf, &bufcap, f)) > 0) {
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) buf[--len] = 0;
    if (len == 0) continue;
    if (out.n == cap) {
      cap = cap ? cap * 2 : 1024;
      out.line = realloc(out.line, cap * sizeof *out.line);
      if (!out.line) exit(1);
    }
    out.line[out.n] = malloc((size_t)len + 1);
    if (!out.line[out.n]) exit(1);
    memcpy(out.line[out.n], buf, (size_t)len + 1);
    out.n++;
  }
  free(buf);
  fclose(f);
  return out;
}

/* ---- config ------------------------------------------------------------- */

static obatch_config_t *make_config(const char *base_url, const char *api_key, int argc,
                                    char **argv) {
  obatch_config_t *conf = NULL;
  char err[256];
  if (obatch_config_new(&conf) != OBATCH_OK) exit(1);
  obatch_config_set(conf, "provider", "openai", NULL, 0);
  if (base_url && obatch_config_set(conf, "base_url", base_url, err, sizeof err) != OBATCH_OK) {
    fprintf(stderr, "figures_driver: base_url: %s\n", err);
    exit(1);
  }
  if (api_key) obatch_config_set(conf, "api_key", api_key, NULL, 0);
  for (int i = 0; i < argc; i++) {
    char *eq = strchr(argv[i], '=');
    if (!eq) {
      fprintf(stderr, "figures_driver: expected KEY=VALUE, got %s\n", argv[i]);
      exit(1);
    }
    *eq = 0;
    if (obatch_config_set(conf, argv[i], eq + 1, err, sizeof err) != OBATCH_OK) {
      fprintf(stderr, "figures_driver: %s: %s\n", argv[i], err);
      exit(1);
    }
    *eq = '=';
  }
  return conf;
}

static obatch_t *make_batch(obatch_config_t *conf) {
  obatch_t *b = NULL;
  int rc = obatch_create(&b, conf);
  if (rc != OBATCH_OK) die("create", rc, NULL);
  obatch_config_destroy(conf);
  return b;
}

/* ---- add ---------------------------------------------------------------- */

static int cmd_add(int argc, char **argv) {
  if (argc < 1) return 2;
  struct bodies bs = read_bodies(argv[0]);
  int64_t spent = 0;
  /* One batch holds at most 50,000 requests (OpenAI's limit): a new handle for each
   * 50,000, made and destroyed outside the timed loops. */
  for (size_t start = 0; start < bs.n; start += ADD_CHUNK) {
    size_t end = start + ADD_CHUNK < bs.n ? start + ADD_CHUNK : bs.n;
    obatch_t *b = make_batch(make_config(NULL, NULL, argc - 1, argv + 1));
    int64_t t0 = now_ns();
    for (size_t i = start; i < end; i++) {
      int rc = obatch_add(b, bs.line[i], NULL, NULL);
      if (rc != OBATCH_OK) die("add", rc, b);
    }
    spent += now_ns() - t0;
    obatch_destroy(b);
  }
  printf("{\"requests\":%zu,\"seconds\":%.6f,\"per_s\":%.1f}\n", bs.n, spent / 1e9,
         bs.n / (spent / 1e9));
  return 0;
}

/* ---- lifecycle ---------------------------------------------------------- */

static int cmd_lifecycle(int argc, char **argv) {
  if (argc < 3) return 2;
  struct bodies bs = read_bodies(argv[0]);
  obatch_t *b = make_batch(make_config(argv[1], argv[2], argc - 3, argv + 3));
  for (size_t i = 0; i < bs.n; i++) {
    int rc = obatch_add(b, bs.line[i], NULL, NULL);
    if (rc != OBATCH_OK) die("add", rc, b);
  }
  obatch_info_t info = OBATCH_INFO_INIT;
  obatch_info(b, &info);
  uint64_t input_bytes = info.bytes_total;
  char input_path[4096];
  snprintf(input_path, sizeof input_path, "%s", obatch_input_path(b));

  /* First time each phase is seen (ns); obatch_poll wakes on every change. */
  int64_t seen[7] = {0};
  int64_t t0 = now_ns();
  int rc = obatch_submit(b);
  if (rc != OBATCH_OK) die("submit", rc, b);
  seen[OBATCH_PHASE_UPLOADING] = t0;
  for (;;) {
    rc = obatch_poll(b, 1000, &info);
    if (rc != OBATCH_OK) die("poll", rc, b);
    int64_t t = now_ns();
    if (info.phase >= 0 && info.phase < 7 && !seen[info.phase]) seen[info.phase] = t;
    if (info.phase == OBATCH_PHASE_DONE || info.phase == OBATCH_PHASE_FAILED) break;
  }
  rc = obatch_wait(b, -1, &info);
  if (rc != OBATCH_OK) die("wait", rc, b);
  int64_t t_done = now_ns();
  obatch_result_t r = OBATCH_RESULT_INIT;
  uint64_t results = 0, body_bytes = 0;
  while ((rc = obatch_fetch(b, &r)) == OBATCH_OK) {
    results++;
    body_bytes += r.body_len;
  }
  if (rc != OBATCH_END) die("fetch", rc, b);
  int64_t t1 = now_ns();
  /* Phases missed by a wake-up (e.g. CREATING between two polls) take the next one's time. */
  for (int p = OBATCH_PHASE_DONE - 1; p >= OBATCH_PHASE_UPLOADING; p--)
    if (!seen[p]) seen[p] = seen[p + 1] ? seen[p + 1] : t_done;
  printf("{\"requests\":%zu,\"seconds\":%.6f,\"upload_s\":%.6f,\"create_s\":%.6f,"
         "\"wait_s\":%.6f,\"download_s\":%.6f,\"fetch_s\":%.6f,\"results\":%llu,"
         "\"body_bytes\":%llu,\"input_path\":\"%s\",\"input_bytes\":%llu,"
         "\"output_file_id\":\"%s\",\"error_file_id\":\"%s\",\"batch_id\":\"%s\"}\n",
         bs.n, secs(t0, t1), secs(seen[1], seen[2]), secs(seen[2], seen[3]),
         secs(seen[3], seen[4]), secs(seen[4], t_done), secs(t_done, t1),
         (unsigned long long)results, (unsigned long long)body_bytes, input_path,
         (unsigned long long)input_bytes, info.output_file_id, info.error_file_id,
         info.batch_id);
  obatch_destroy(b);
  return 0;
}

/* ---- poll --------------------------------------------------------------- */

static int is_terminal(const char *s) {
  return !strcmp(s, "completed") || !strcmp(s, "failed") || !strcmp(s, "expired") ||
         !strcmp(s, "cancelled");
}

static int cmd_poll(int argc, char **argv) {
  if (argc < 2) return 2;
  obatch_t *b = make_batch(make_config(argv[0], argv[1], argc - 2, argv + 2));
  for (int i = 0; i < 3; i++) {
    char body[160];
    snprintf(body, sizeof body,
             "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"q%d\"}]}", i);
    int rc = obatch_add(b, body, NULL, NULL);
    if (rc != OBATCH_OK) die("add", rc, b);
  }
  int rc = obatch_submit(b);
  if (rc != OBATCH_OK) die("submit", rc, b);
  obatch_info_t info = OBATCH_INFO_INIT;
  int created = 0, noticed = 0;
  for (;;) {
    rc = obatch_poll(b, 1000, &info);
    if (rc != OBATCH_OK) die("poll", rc, b);
    int64_t t = now_ns();
    if (!created && info.batch_id[0]) {
      printf("created %s %lld\n", info.batch_id, (long long)t);
      fflush(stdout);
      created = 1;
    }
    if (!noticed && is_terminal(info.remote_status)) {
      printf("noticed %s %lld\n", info.remote_status, (long long)t);
      fflush(stdout);
      noticed = 1;
    }
    if (info.phase == OBATCH_PHASE_DONE || info.phase == OBATCH_PHASE_FAILED) break;
  }
  printf("done %d\n", info.phase);
  fflush(stdout);
  if (info.phase == OBATCH_PHASE_FAILED) {
    fprintf(stderr, "figures_driver: the batch failed: %s\n", info.error_message);
    obatch_destroy(b);
    return 1;
  }
  obatch_destroy(b);
  return 0;
}

int main(int argc, char **argv) {
  int rc = 2;
  if (argc >= 2 && !strcmp(argv[1], "add")) rc = cmd_add(argc - 2, argv + 2);
  else if (argc >= 2 && !strcmp(argv[1], "lifecycle")) rc = cmd_lifecycle(argc - 2, argv + 2);
  else if (argc >= 2 && !strcmp(argv[1], "poll")) rc = cmd_poll(argc - 2, argv + 2);
  if (rc == 2)
    fprintf(stderr, "usage: figures_driver add BODIES [K=V...] | lifecycle BODIES BASE_URL KEY "
                    "[K=V...] | poll BASE_URL KEY [K=V...]\n");
  return rc;
}
