/* Shared bits of the bench drivers: public C API only (obatch.h, sys/provider.h). */
#ifndef OBATCH_BENCH_DRIVER_COMMON_H
#define OBATCH_BENCH_DRIVER_COMMON_H

#define _POSIX_C_SOURCE 200809L
#include <obatch/obatch.h>
#include <obatch/sys/provider.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_provider.h"

static inline double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void bench_die(const char *what, int rc, const obatch_t *b) {
  fprintf(stderr, "%s: %s (%d): %s\n", what, obatch_strerror(rc), rc,
          obatch_last_error(b));
  exit(1);
}

static inline void bench_register_provider(void) {
  int rc = bench_provider_register();
  if (rc != OBATCH_OK) bench_die("obatch_provider_register", rc, NULL);
}

/* Reads a file of one request body per line (at most `max` lines) into
 * NUL-terminated strings. Returns the count. */
static inline size_t bench_read_lines(const char *path, char ***out, size_t max) {
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); exit(1); }
  char **lines = calloc(max, sizeof *lines);
  size_t n = 0, cap = 0;
  char *line = NULL;
  ssize_t len;
  while (n < max && (len = getline(&line, &cap, f)) > 0) {
    if (line[len - 1] == '\n') line[--len] = '\0';
    if (len == 0) continue;
    lines[n++] = strdup(line);
  }
  free(line);
  fclose(f);
  *out = lines;
  return n;
}

#endif
