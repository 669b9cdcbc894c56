#include "obatch/obatch.h"

extern "C" {

unsigned obatch_version_number(void) { return OBATCH_VERSION_NUMBER; }

const char *obatch_version(void) { return OBATCH_VERSION_STRING; }

const char *obatch_strerror(int code) {
  switch (code) {
    case OBATCH_OK: return "success";
    case OBATCH_END: return "no more items";
    case OBATCH_EINVAL: return "invalid argument";
    case OBATCH_ENOMEM: return "out of memory";
    case OBATCH_ECONFIG: return "bad configuration";
    case OBATCH_EJSON: return "invalid JSON";
    case OBATCH_EREQUEST: return "invalid request";
    case OBATCH_EDUPLICATE: return "duplicate custom_id";
    case OBATCH_ELIMIT: return "batch limit exceeded";
    case OBATCH_EMODEL: return "more than one model in the batch";
    case OBATCH_ESTATE: return "not allowed in the batch's current phase";
    case OBATCH_EIO: return "local file error";
    case OBATCH_EPROVIDER: return "unknown or unsuitable provider";
    case OBATCH_EAUTH: return "missing or refused API key";
    case OBATCH_ENETWORK: return "network error";
    case OBATCH_EHTTP: return "the API returned an error";
    case OBATCH_EPROTOCOL: return "unexpected answer from the API";
    case OBATCH_EINSECURE: return "insecure URL";
    case OBATCH_ETIMEOUT: return "timed out";
    case OBATCH_ENOTFOUND: return "not found";
    case OBATCH_EFAILED: return "the batch failed";
    case OBATCH_EEXPIRED: return "the batch expired";
    case OBATCH_ECANCELLED: return "the batch was cancelled";
    case OBATCH_EINTERNAL: return "internal error";
    case OBATCH_EABORTED: return "the call was aborted";
  }
  return "unknown status code";
}

}  // extern "C"
