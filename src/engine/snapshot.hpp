// What the C API reports about a batch (obatch_info_t): the local side (phase,
// paths, bytes) and what the provider last said about its batch object.
#pragma once

#include <cstdint>
#include <string>

#include <vector>

#include "core/part_plan.hpp"
#include "providers/wire_types.hpp"

namespace obatch {

struct JobSnapshot {
  int phase = 0;  // obatch_phase
  std::string provider, endpoint, batch_id, remote_status, input_file_id;
  std::string output_path, error_path;
  uint64_t requests_added = 0, requests_total = 0, requests_completed = 0, requests_failed = 0;
  uint64_t bytes_total = 0, bytes_uploaded = 0, bytes_downloaded = 0;
  int64_t created_at = 0;
  int error_code = 0;
  std::string error_message;
  // Version 2 of obatch_info_t.
  std::string model;  // local requests' model(s), else the batch object's
  std::string output_file_id, error_file_id, completion_window;
  int64_t in_progress_at = 0, finalizing_at = 0, completed_at = 0, failed_at = 0, expired_at = 0,
          cancelling_at = 0, cancelled_at = 0, expires_at = 0;
  uint64_t input_tokens = 0, output_tokens = 0, total_tokens = 0;
  std::string batch_json;
  // Version 3: the job journal.
  std::string job_id, job_journal;
  int job_origin = 0;  // obatch_job_origin
  // Version 4: a job of several batches (parts); a job of one has 1.
  uint64_t parts_total = 0, parts_submitted = 0, parts_running = 0, parts_ended = 0,
           parts_failed = 0;
  uint64_t tokens_estimated = 0, tokens_enqueued = 0;
  std::string failure_code;  // errors.data[0].code of a failed batch
  // Per part (a job of several), what the provider last said of its batch.
  struct Part {
    PartInfo info;
    int phase = 0;  // obatch_phase of the part; FAILED also when its batch failed
    std::string batch_id, remote_status, error_message;
    uint64_t requests_completed = 0, requests_failed = 0;
  };
  std::vector<Part> part_states;  // also an input check's cut (info only)
  // Version 5: how the requests are sent (direct mode: one by one).
  std::string mode = "batch", mode_reason;
  uint64_t requests_in_flight = 0, requests_retried = 0, responses_429 = 0;
  uint64_t requests_per_minute = 0, tokens_per_minute = 0;  // sent in the last minute
  uint64_t rpm_limit = 0, tpm_limit = 0;  // the limits followed (0: none known)
  uint64_t generation = 0;  // grows with every change
};

// Copies the fields a parse hook reported for a batch object (see
// include/obatch/sys/provider.h) into `s`. Absent fields leave `s` as it is;
// `model` is taken only when `s` has none (a local batch knows its own).
void apply_batch_fields(const Fields &f, JobSnapshot *s);

}  // namespace obatch
