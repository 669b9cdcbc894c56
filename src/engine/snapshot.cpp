#include "engine/snapshot.hpp"

#include <cstdlib>

namespace obatch {

void apply_batch_fields(const Fields &f, JobSnapshot *s) {
  auto text = [&](const char *key, std::string *out) {
    auto it = f.find(key);
    if (it != f.end() && !it->second.empty()) *out = it->second;
  };
  auto i64 = [&](const char *key, int64_t *out) {
    auto it = f.find(key);
    if (it != f.end() && !it->second.empty()) *out = std::strtoll(it->second.c_str(), nullptr, 10);
  };
  auto u64 = [&](const char *key, uint64_t *out) {
    auto it = f.find(key);
    if (it != f.end() && !it->second.empty()) *out = std::strtoull(it->second.c_str(), nullptr, 10);
  };
  text("batch_id", &s->batch_id);
  text("status", &s->remote_status);
  text("endpoint", &s->endpoint);
  text("input_file_id", &s->input_file_id);
  text("output_file_id", &s->output_file_id);
  text("error_file_id", &s->error_file_id);
  text("completion_window", &s->completion_window);
  text("error_message", &s->error_message);
  text("batch_json", &s->batch_json);
  text("failure_code", &s->failure_code);
  if (s->model.empty()) text("model", &s->model);
  i64("created_at", &s->created_at);
  i64("in_progress_at", &s->in_progress_at);
  i64("finalizing_at", &s->finalizing_at);
  i64("completed_at", &s->completed_at);
  i64("failed_at", &s->failed_at);
  i64("expired_at", &s->expired_at);
  i64("cancelling_at", &s->cancelling_at);
  i64("cancelled_at", &s->cancelled_at);
  i64("expires_at", &s->expires_at);
  u64("requests_total", &s->requests_total);
  u64("requests_completed", &s->requests_completed);
  u64("requests_failed", &s->requests_failed);
  u64("input_tokens", &s->input_tokens);
  u64("output_tokens", &s->output_tokens);
  u64("total_tokens", &s->total_tokens);
}

}  // namespace obatch
