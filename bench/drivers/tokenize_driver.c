/*
 * tokenize_driver FILE CHUNK_BYTES ENCODING...
 *
 * Figure 8: reads FILE into memory (not timed), cuts it into pieces of at
 * most CHUNK_BYTES ending at a line end (bench_next_chunk: the same cut as
 * peers/tokenize_tiktoken.js; 0 = the whole file in one piece) and, for each
 * ENCODING ("o200k_base", "cl100k_base"), times obatch_count_text_tokens over
 * every piece, on this thread only. The encoding is loaded by one untimed
 * call on a short text first. Prints one JSON line per encoding:
 * {"encoding", "bytes", "chunks", "tokens", "first_chunk_tokens", "seconds",
 *  "cpu_seconds", "init_seconds"}. Public C API only.
 */
#include "driver_common.h"

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The end of the piece starting at `pos`: pos + chunk, moved back to just
 * after the last '\n' before it; forward to just after the next '\n' when
 * there is none; the end of the text at the last piece. */
static size_t bench_next_chunk(const char *text, size_t len, size_t pos, size_t chunk) {
  if (chunk == 0 || len - pos <= chunk) return len;
  size_t end = pos + chunk;
  for (size_t i = end; i > pos; i--)
    if (text[i - 1] == '\n') return i;
  for (size_t i = end; i < len; i++)
    if (text[i] == '\n') return i + 1;
  return len;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s FILE CHUNK_BYTES ENCODING...\n", argv[0]);
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) { perror(argv[1]); return 1; }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *text = malloc(size > 0 ? (size_t)size : 1);
  if (!text || fread(text, 1, (size_t)size, f) != (size_t)size) { perror("read"); return 1; }
  fclose(f);
  const size_t len = (size_t)size, chunk = strtoull(argv[2], NULL, 10);

  for (int e = 3; e < argc; e++) {
    const char *enc = argv[e];
    uint64_t n = 0, total = 0, first = 0, chunks = 0;
    double i0 = bench_now();
    int rc = obatch_count_text_tokens(enc, "hello world", 11, &n);
    double i1 = bench_now();
    if (rc != OBATCH_OK) bench_die("obatch_count_text_tokens", rc, NULL);
    double t0 = bench_now(), c0 = cpu_now();
    for (size_t pos = 0; pos < len;) {
      size_t end = bench_next_chunk(text, len, pos, chunk);
      rc = obatch_count_text_tokens(enc, text + pos, end - pos, &n);
      if (rc != OBATCH_OK) bench_die("obatch_count_text_tokens", rc, NULL);
      if (chunks == 0) first = n;
      total += n;
      chunks++;
      pos = end;
    }
    double t1 = bench_now(), c1 = cpu_now();
    printf("{\"encoding\":\"%s\",\"bytes\":%zu,\"chunks\":%llu,\"tokens\":%llu,"
           "\"first_chunk_tokens\":%llu,\"seconds\":%.6f,\"cpu_seconds\":%.6f,"
           "\"init_seconds\":%.6f}\n",
           enc, len, (unsigned long long)chunks, (unsigned long long)total,
           (unsigned long long)first, t1 - t0, c1 - c0, i1 - i0);
    fflush(stdout);
  }
  free(text);
  return 0;
}
