#include "cli/progress.hpp"

#include <cstdio>

namespace obatch::cli {

const char *phase_name(int phase) {
  switch (phase) {
    case OBATCH_PHASE_BUILDING: return "building";
    case OBATCH_PHASE_UPLOADING: return "uploading";
    case OBATCH_PHASE_CREATING: return "creating";
    case OBATCH_PHASE_WAITING: return "waiting";
    case OBATCH_PHASE_DOWNLOADING: return "downloading";
    case OBATCH_PHASE_DONE: return "done";
    case OBATCH_PHASE_FAILED: return "failed";
  }
  return "unknown";
}

void Progress::update(const obatch_info_t &info) {
  if (quiet_) return;
  if (batch_id_.empty() && info.batch_id[0]) {
    batch_id_ = info.batch_id;
    std::fprintf(stderr, "obatch: batch %s created at %s\n", info.batch_id, info.provider);
  }
  if (info.phase != phase_) {
    phase_ = info.phase;
    if (info.phase == OBATCH_PHASE_UPLOADING)
      std::fprintf(stderr, "obatch: uploading %llu requests (%llu bytes)\n",
                   static_cast<unsigned long long>(info.requests_added),
                   static_cast<unsigned long long>(info.bytes_total));
    else if (info.phase != OBATCH_PHASE_WAITING)
      std::fprintf(stderr, "obatch: %s\n", phase_name(info.phase));
  }
  // While the provider works: one line per change of status or counts.
  if (info.phase != OBATCH_PHASE_WAITING || !info.remote_status[0]) return;
  if (status_ == info.remote_status && info.requests_completed == completed_ &&
      info.requests_failed == failed_)
    return;
  status_ = info.remote_status;
  completed_ = info.requests_completed;
  failed_ = info.requests_failed;
  std::fprintf(stderr, "obatch: %s: %llu completed, %llu failed of %llu\n", info.remote_status,
               static_cast<unsigned long long>(info.requests_completed),
               static_cast<unsigned long long>(info.requests_failed),
               static_cast<unsigned long long>(info.requests_total));
}

}  // namespace obatch::cli
