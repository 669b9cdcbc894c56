// Filling a caller's obatch_info_t from a snapshot: only the fields of the
// version the caller set, so a struct of an older, smaller layout is never
// written past its end.
#pragma once

#include "engine/snapshot.hpp"
#include "obatch/obatch.h"

namespace obatch {

// `info` must be non-NULL with version >= 1. The strings point into `s`.
inline void fill_info(const JobSnapshot &s, obatch_info_t *info) {
  info->phase = s.phase;
  info->provider = s.provider.c_str();
  info->endpoint = s.endpoint.c_str();
  info->batch_id = s.batch_id.c_str();
  info->remote_status = s.remote_status.c_str();
  info->input_file_id = s.input_file_id.c_str();
  info->output_path = s.output_path.c_str();
  info->error_path = s.error_path.c_str();
  info->requests_added = s.requests_added;
  info->requests_total = s.requests_total;
  info->requests_completed = s.requests_completed;
  info->requests_failed = s.requests_failed;
  info->bytes_total = s.bytes_total;
  info->bytes_uploaded = s.bytes_uploaded;
  info->bytes_downloaded = s.bytes_downloaded;
  info->created_at = s.created_at;
  info->error_code = s.error_code;
  info->error_message = s.error_message.c_str();
  if (info->version < 2) return;
  info->model = s.model.c_str();
  info->output_file_id = s.output_file_id.c_str();
  info->error_file_id = s.error_file_id.c_str();
  info->completion_window = s.completion_window.c_str();
  info->in_progress_at = s.in_progress_at;
  info->finalizing_at = s.finalizing_at;
  info->completed_at = s.completed_at;
  info->failed_at = s.failed_at;
  info->expired_at = s.expired_at;
  info->cancelling_at = s.cancelling_at;
  info->cancelled_at = s.cancelled_at;
  info->expires_at = s.expires_at;
  info->input_tokens = s.input_tokens;
  info->output_tokens = s.output_tokens;
  info->total_tokens = s.total_tokens;
  info->batch_json = s.batch_json.c_str();
  if (info->version < 3) return;
  info->job_id = s.job_id.c_str();
  info->job_origin = s.job_origin;
  info->journal_path = s.job_journal.c_str();
  if (info->version < 4) return;
  info->parts_total = s.parts_total;
  info->parts_submitted = s.parts_submitted;
  info->parts_running = s.parts_running;
  info->parts_ended = s.parts_ended;
  info->parts_failed = s.parts_failed;
  info->tokens_estimated = s.tokens_estimated;
  info->tokens_enqueued = s.tokens_enqueued;
  if (info->version < 5) return;
  info->mode = s.mode.c_str();
  info->mode_reason = s.mode_reason.c_str();
  info->requests_in_flight = s.requests_in_flight;
  info->requests_retried = s.requests_retried;
  info->responses_429 = s.responses_429;
  info->requests_per_minute = s.requests_per_minute;
  info->tokens_per_minute = s.tokens_per_minute;
  info->rpm_limit = s.rpm_limit;
  info->tpm_limit = s.tpm_limit;
}

// One part of a job (`index` < s.part_states.size()), as obatch_part_info
// gives it: the fields a part has, the rest empty.
inline void fill_part_info(const JobSnapshot &s, size_t index, obatch_info_t *info) {
  static const JobSnapshot empty;
  fill_info(empty, info);
  const JobSnapshot::Part &p = s.part_states[index];
  info->phase = p.phase;
  info->provider = s.provider.c_str();
  info->endpoint = s.endpoint.c_str();
  info->batch_id = p.batch_id.c_str();
  info->remote_status = p.remote_status.c_str();
  info->requests_added = p.info.requests;
  info->requests_total = p.info.requests;
  info->requests_completed = p.requests_completed;
  info->requests_failed = p.requests_failed;
  info->bytes_total = p.info.bytes;
  info->error_message = p.error_message.c_str();
  if (info->version < 2) return;
  info->model = p.info.model.c_str();
  if (info->version < 4) return;
  info->parts_total = 1;
  info->parts_submitted = p.batch_id.empty() ? 0 : 1;
  info->tokens_estimated = p.info.tokens;
}

}  // namespace obatch
