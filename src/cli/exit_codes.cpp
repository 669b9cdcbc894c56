#include "cli/exit_codes.hpp"

#include "obatch/obatch.h"

namespace obatch::cli {

int exit_code_for(int code) {
  switch (code) {
    case OBATCH_OK: return kExitCompleted;
    case OBATCH_EJSON:
    case OBATCH_EREQUEST:
    case OBATCH_EDUPLICATE:
    case OBATCH_ELIMIT:
    case OBATCH_EMODEL: return kExitBadInput;
    case OBATCH_EAUTH:
    case OBATCH_ECONFIG:
    case OBATCH_EPROVIDER:
    case OBATCH_EINSECURE: return kExitAuth;
    case OBATCH_ENETWORK:
    case OBATCH_EHTTP:
    case OBATCH_EPROTOCOL:
    case OBATCH_ENOTFOUND: return kExitNetwork;
    case OBATCH_EFAILED: return kExitFailed;
    case OBATCH_EEXPIRED: return kExitExpired;
    case OBATCH_ECANCELLED: return kExitCancelled;
    case OBATCH_EIO: return kExitLocalIo;
  }
  return kExitInternal;
}

}  // namespace obatch::cli
