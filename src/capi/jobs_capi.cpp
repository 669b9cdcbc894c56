// The job journal as read by `obatch jobs`: its rows, and pruning.
#include <vector>

#include "capi/guard.hpp"
#include "capi/handles.hpp"
#include "core/config.hpp"
#include "store/journal.hpp"

using obatch::guarded;

struct obatch_jobs {
  std::string path;
  std::vector<obatch::JobRecord> rows;
  size_t next = 0;
};

namespace {

std::string path_of(const obatch_config_t *conf) {
  std::string path = obatch::journal_path(conf ? conf->conf : obatch::Config());
  if (path.empty())
    throw obatch::Error(OBATCH_ESTATE, "the job journal is off (state = off, or no $HOME)");
  return path;
}

}  // namespace

int obatch_jobs_open(obatch_jobs_t **out, const obatch_config_t *conf, char *errstr,
                     size_t errstr_size) {
  if (!out) return OBATCH_EINVAL;
  *out = nullptr;
  std::string msg;
  int rc = guarded(&msg, [&] {
    auto jobs = std::make_unique<obatch_jobs>();
    jobs->path = path_of(conf);
    obatch::Journal journal(jobs->path);
    jobs->rows = journal.list();
    *out = jobs.release();
  });
  if (rc != OBATCH_OK) obatch::copy_errstr(errstr, errstr_size, msg);
  return rc;
}

int obatch_jobs_next(obatch_jobs_t *jobs, obatch_job_t *job) {
  if (!jobs || !job || job->version < 1) return OBATCH_EINVAL;
  if (jobs->next >= jobs->rows.size()) return OBATCH_END;
  const obatch::JobRecord &r = jobs->rows[jobs->next++];
  job->id = r.id.c_str();
  job->step = r.step.c_str();
  job->provider = r.provider.c_str();
  job->base_url = r.base_url.c_str();
  job->endpoint = r.endpoint.c_str();
  job->model = r.model.c_str();
  job->source_path = r.source_path.c_str();
  job->input_sha256 = r.digest.c_str();
  job->input_file_id = r.input_file_id.c_str();
  job->batch_id = r.batch_id.c_str();
  job->remote_status = r.remote_status.c_str();
  job->output_file_id = r.output_file_id.c_str();
  job->error_file_id = r.error_file_id.c_str();
  job->output_path = r.output_path.c_str();
  job->error_path = r.error_path.c_str();
  job->error_message = r.error.c_str();
  job->retry_of = r.retry_of.c_str();
  job->requests = r.requests;
  job->input_bytes = r.input_bytes;
  job->created_at = r.created_at;
  job->updated_at = r.updated_at;
  job->running = r.running ? 1 : 0;
  job->pid = r.running ? r.owner_pid : 0;
  return OBATCH_OK;
}

const char *obatch_jobs_path(const obatch_jobs_t *jobs) { return jobs ? jobs->path.c_str() : ""; }

void obatch_jobs_destroy(obatch_jobs_t *jobs) { delete jobs; }

int obatch_jobs_prune(const obatch_config_t *conf, uint64_t *pruned, char *errstr,
                      size_t errstr_size) {
  if (pruned) *pruned = 0;
  std::string msg;
  int rc = guarded(&msg, [&] {
    obatch::Journal journal(path_of(conf));
    uint64_t n = journal.prune();
    if (pruned) *pruned = n;
  });
  if (rc != OBATCH_OK) obatch::copy_errstr(errstr, errstr_size, msg);
  return rc;
}
