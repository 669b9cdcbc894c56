/* Links obatch::obatch from the installed CMake package and checks that the
 * library loaded at run time is the one the header describes. */
#include <obatch/obatch.h>

#include <stdio.h>
#include <string.h>

int main(void) {
  const char *v = obatch_version();
  printf("obatch_version() = %s, OBATCH_VERSION_STRING = %s\n", v ? v : "(null)",
         OBATCH_VERSION_STRING);
  if (v == NULL || strcmp(v, OBATCH_VERSION_STRING) != 0) return 1;
  if (obatch_version_number() != OBATCH_VERSION_NUMBER) {
    printf("obatch_version_number() = %u, OBATCH_VERSION_NUMBER = %d\n",
           obatch_version_number(), OBATCH_VERSION_NUMBER);
    return 1;
  }
  return 0;
}
