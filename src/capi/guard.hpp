// The C boundary's catch-all: no C++ exception ever leaves the library.
#pragma once

#include <cstring>
#include <new>
#include <string>

#include "obatch/obatch.h"
#include "util/error.hpp"

namespace obatch {

// Copies `msg` into a caller's error buffer (may be NULL).
inline void copy_errstr(char *errstr, size_t size, const std::string &msg) {
  if (!errstr || size == 0) return;
  size_t n = msg.size() < size - 1 ? msg.size() : size - 1;
  std::memcpy(errstr, msg.data(), n);
  errstr[n] = '\0';
}

// Why the calling thread's last call without a handle failed (an
// obatch_create, obatch_resume, obatch_open, obatch_provider_load_file):
// what obatch_last_error(NULL) says.
std::string &thread_last_error();

// Runs `f`; turns any exception into a code, with its message in `*message`.
template <class F>
int guarded(std::string *message, F &&f) {
  try {
    if (message) message->clear();
    f();
    return OBATCH_OK;
  } catch (const Error &e) {
    if (message) *message = e.what();
    return e.code();
  } catch (const std::bad_alloc &) {
    if (message) *message = "out of memory";
    return OBATCH_ENOMEM;
  } catch (const std::exception &e) {
    if (message) *message = std::string("internal error: ") + e.what();
    return OBATCH_EINTERNAL;
  } catch (...) {
    if (message) *message = "internal error: unknown exception";
    return OBATCH_EINTERNAL;
  }
}

}  // namespace obatch
