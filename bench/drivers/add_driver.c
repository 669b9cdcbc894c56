/*
 * add_driver BODIES_FILE N WORK_DIR
 *
 * Adds N chat requests to one batch through the public C API (obatch_add,
 * auto custom_ids, endpoint inferred), cycling over the bodies in
 * BODIES_FILE (one JSON body per line), then exits without submitting.
 * Prints one JSON line: {"n", "add_s", "bytes", "requests_per_s", "mb_per_s"}
 * where add_s times the obatch_add loop plus the final flush (obatch_info
 * after obatch_input_path) and bytes is the JSONL input file's size.
 * Run it as a whole process to see its peak RSS.
 */
#include "driver_common.h"

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s BODIES_FILE N WORK_DIR\n", argv[0]);
    return 2;
  }
  char **bodies;
  size_t nbodies = bench_read_lines(argv[1], &bodies, 65536);
  if (nbodies == 0) { fprintf(stderr, "no bodies in %s\n", argv[1]); return 1; }
  unsigned long long n = strtoull(argv[2], NULL, 10);

  bench_register_provider();
  obatch_config_t *conf;
  obatch_config_new(&conf);
  char err[256] = "";
  if (obatch_config_set(conf, "provider", "bench", err, sizeof err) ||
      obatch_config_set(conf, "work_dir", argv[3], err, sizeof err)) {
    fprintf(stderr, "config: %s\n", err);
    return 1;
  }
  obatch_t *b;
  int rc = obatch_create(&b, conf);
  obatch_config_destroy(conf);
  if (rc != OBATCH_OK) bench_die("obatch_create", rc, NULL);

  double t0 = bench_now();
  for (unsigned long long i = 0; i < n; i++) {
    rc = obatch_add(b, bodies[i % nbodies], NULL, NULL);
    if (rc != OBATCH_OK) bench_die("obatch_add", rc, b);
  }
  (void)obatch_input_path(b); /* flushes the input file */
  obatch_info_t info = OBATCH_INFO_INIT;
  rc = obatch_info(b, &info);
  double t1 = bench_now();
  if (rc != OBATCH_OK) bench_die("obatch_info", rc, b);
  if (info.requests_added != n) {
    fprintf(stderr, "requests_added %llu != %llu\n",
            (unsigned long long)info.requests_added, n);
    return 1;
  }
  double s = t1 - t0;
  printf("{\"n\":%llu,\"add_s\":%.6f,\"bytes\":%llu,\"requests_per_s\":%.1f,"
         "\"mb_per_s\":%.2f}\n",
         n, s, (unsigned long long)info.bytes_total, (double)n / s,
         (double)info.bytes_total / s / 1e6);
  obatch_destroy(b);
  for (size_t i = 0; i < nbodies; i++) free(bodies[i]);
  free(bodies);
  return 0;
}
