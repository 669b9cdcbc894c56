// What a Batch API status ("validating" ... "cancelled") means to obatch:
// whether the batch has ended, which local phase it belongs to, and the
// code a finished wait reports. One place, for the engine and the C API.
#pragma once

#include <string>

#include "obatch/obatch.h"

namespace obatch {

inline bool is_terminal_status(const std::string &status) {
  return status == "completed" || status == "failed" || status == "expired" ||
         status == "cancelled";
}

// The phase a batch with this remote status is in, seen from outside a job
// (a listed batch): ended with results, failed, or still running.
inline int phase_for_status(const std::string &status) {
  if (status == "failed") return OBATCH_PHASE_FAILED;
  return is_terminal_status(status) ? OBATCH_PHASE_DONE : OBATCH_PHASE_WAITING;
}

// What obatch_wait returns for a batch that ended with results.
inline int code_for_status(const std::string &status) {
  if (status == "expired") return OBATCH_EEXPIRED;
  if (status == "cancelled") return OBATCH_ECANCELLED;
  if (status == "failed") return OBATCH_EFAILED;
  return OBATCH_OK;
}

}  // namespace obatch
