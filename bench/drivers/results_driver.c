/*
 * results_driver INPUT_JSONL OUTPUT_JSONL
 *
 * obatch_open(input, output) + obatch_fetch over every result, in input
 * order, through the public C API. Touches every body (sums body_len) so
 * nothing is skipped. Prints one JSON line:
 * {"n", "succeeded", "open_s", "fetch_s", "total_s", "body_bytes"}.
 * Run it as a whole process to see its peak RSS.
 */
#include "driver_common.h"

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s INPUT_JSONL OUTPUT_JSONL\n", argv[0]);
    return 2;
  }
  double t0 = bench_now();
  obatch_t *b;
  int rc = obatch_open(&b, NULL, argv[1], argv[2], NULL);
  if (rc != OBATCH_OK) bench_die("obatch_open", rc, NULL);
  double t1 = bench_now();
  obatch_result_t r = OBATCH_RESULT_INIT;
  unsigned long long n = 0, ok = 0, body_bytes = 0;
  while ((rc = obatch_fetch(b, &r)) == OBATCH_OK) {
    n++;
    if (r.kind == OBATCH_RESULT_SUCCEEDED && r.status_code == 200) ok++;
    body_bytes += r.body_len;
  }
  double t2 = bench_now();
  if (rc != OBATCH_END) bench_die("obatch_fetch", rc, b);
  printf("{\"n\":%llu,\"succeeded\":%llu,\"open_s\":%.6f,\"fetch_s\":%.6f,"
         "\"total_s\":%.6f,\"body_bytes\":%llu}\n",
         n, ok, t1 - t0, t2 - t1, t2 - t0, body_bytes);
  obatch_destroy(b);
  return 0;
}
