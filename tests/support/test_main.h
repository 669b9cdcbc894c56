/* A cmocka main that runs one case when its name is given (CTest registers
 * each case on its own), or all of them. */
#ifndef OBATCH_TEST_MAIN_H
#define OBATCH_TEST_MAIN_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka 1.1.5 declares its functions without extern "C". */
#ifdef __cplusplus
extern "C" {
#endif
#include <cmocka.h>
#ifdef __cplusplus
}
#endif

#define OBATCH_TEST_MAIN(group, setup, teardown)                   \
  int main(int argc, char **argv) {                                \
    if (argc > 1) cmocka_set_test_filter(argv[1]);                 \
    return cmocka_run_group_tests(group, setup, teardown);         \
  }

#endif
