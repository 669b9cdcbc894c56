/*
 * add_driver [--many | --file] BODIES_FILE N WORK_DIR
 *
 * Adds N chat requests to one batch through the public C API (auto
 * custom_ids, endpoint inferred), cycling over the bodies in BODIES_FILE
 * (one JSON body per line), then exits without submitting:
 *   (default)  one obatch_add per body;
 *   --many     obatch_add_many over buffers of about 1 MB of bodies (whole
 *              lines), made before the clock starts;
 *   --file     obatch_add_file of a JSONL input file of N full lines
 *              ({"custom_id","method","url","body"}), written before the
 *              clock starts (and removed after).
 * Prints one JSON line: {"n", "add_s", "bytes", "requests_per_s", "mb_per_s"}
 * where add_s times the add calls plus the final flush (obatch_info after
 * obatch_input_path) and bytes is the JSONL input file's size.
 * Run it as a whole process to see its peak RSS.
 */
#include <unistd.h>

#include "driver_common.h"

int main(int argc, char **argv) {
  int many = argc == 5 && strcmp(argv[1], "--many") == 0;
  int file = argc == 5 && strcmp(argv[1], "--file") == 0;
  if (many || file) {
    argv++;
    argc--;
  }
  if (argc != 4) {
    fprintf(stderr, "usage: %s [--many | --file] BODIES_FILE N WORK_DIR\n", argv[0]);
    return 2;
  }
  char **bodies;
  size_t nbodies = bench_read_lines(argv[1], &bodies, 65536);
  if (nbodies == 0) { fprintf(stderr, "no bodies in %s\n", argv[1]); return 1; }
  unsigned long long n = strtoull(argv[2], NULL, 10);

  /* --many: the N bodies as whole lines in buffers of about 1 MB. */
  char **bufs = NULL;
  size_t *lens = NULL, nbufs = 0;
  if (many) {
    const size_t target = 1 << 20;
    size_t cap = 0;
    for (unsigned long long i = 0; i < n;) {
      if (nbufs == cap) {
        cap = cap ? cap * 2 : 64;
        bufs = realloc(bufs, cap * sizeof *bufs);
        lens = realloc(lens, cap * sizeof *lens);
      }
      size_t len = 0, room = target + 65536;
      char *buf = malloc(room);
      while (i < n) {
        const char *body = bodies[i % nbodies];
        size_t m = strlen(body);
        if (len + m + 1 > target && len > 0) break;
        if (len + m + 1 > room) buf = realloc(buf, room = len + m + 1);
        memcpy(buf + len, body, m);
        buf[len + m] = '\n';
        len += m + 1;
        i++;
      }
      bufs[nbufs] = buf;
      lens[nbufs++] = len;
    }
  }
  /* --file: the N requests as an input file. */
  char input[4096] = "";
  if (file) {
    snprintf(input, sizeof input, "%s/add-driver-input.jsonl", argv[3]);
    FILE *fp = fopen(input, "wb");
    if (!fp) {
      perror(input);
      return 1;
    }
    for (unsigned long long i = 0; i < n; i++)
      fprintf(fp,
              "{\"custom_id\":\"r-%llu\",\"method\":\"POST\",\"url\":"
              "\"/v1/chat/completions\",\"body\":%s}\n",
              i + 1, bodies[i % nbodies]);
    if (fclose(fp) != 0) {
      perror(input);
      return 1;
    }
  }

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
  if (many) {
    for (size_t k = 0; k < nbufs; k++) {
      rc = obatch_add_many(b, bufs[k], lens[k], NULL, NULL);
      if (rc != OBATCH_OK) bench_die("obatch_add_many", rc, b);
    }
  } else if (file) {
    rc = obatch_add_file(b, input);
    if (rc != OBATCH_OK) bench_die("obatch_add_file", rc, b);
  } else {
    for (unsigned long long i = 0; i < n; i++) {
      rc = obatch_add(b, bodies[i % nbodies], NULL, NULL);
      if (rc != OBATCH_OK) bench_die("obatch_add", rc, b);
    }
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
  if (file) unlink(input);
  for (size_t k = 0; k < nbufs; k++) free(bufs[k]);
  free(bufs);
  free(lens);
  for (size_t i = 0; i < nbodies; i++) free(bodies[i]);
  free(bodies);
  return 0;
}
