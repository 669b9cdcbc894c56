/* A C test's own temporary directory, and its removal with everything in
 * it. The including file defines _GNU_SOURCE or _XOPEN_SOURCE 700 first
 * (mkdtemp, nftw). */
#ifndef OBATCH_TEST_TEMP_DIR_H
#define OBATCH_TEST_TEMP_DIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* Makes "$TMPDIR/obatch-<name>-XXXXXX" (/tmp without TMPDIR) in `dir`;
 * 0, or -1 when it cannot. */
static inline int test_temp_dir(char *dir, size_t size, const char *name) {
  const char *tmp = getenv("TMPDIR");
  int n = snprintf(dir, size, "%s/obatch-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
  if (n < 0 || (size_t)n >= size) return -1;
  return mkdtemp(dir) ? 0 : -1;
}

static inline int test_remove_entry(const char *path, const struct stat *st, int flag,
                                    struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* Removes `dir` and everything under it. */
static inline void test_remove_tree(const char *dir) {
  nftw(dir, test_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
