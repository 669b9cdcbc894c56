// The job journal as read by `obatch jobs`: its rows, and pruning.
#include <vector>

#include "capi/guard.hpp"
#include "capi/handles.hpp"
#include "core/config.hpp"
#include "store/journal.hpp"
#include "util/json_write.hpp"

using obatch::guarded;

struct obatch_jobs {
  std::string path;
  std::vector<obatch::JobRecord> rows;
  std::vector<std::string> parts_json;  // per row
  size_t next = 0;
};

namespace {

std::string path_of(const obatch_config_t *conf) {
  std::string path = obatch::journal_path(conf ? conf->conf : obatch::Config());
  if (path.empty())
    throw obatch::Error(OBATCH_ESTATE, "the job journal is off (state = off, or no $HOME)");
  return path;
}

std::string parts_json(const std::vector<obatch::PartRecord> &parts) {
  std::string s = "[";
  for (const obatch::PartRecord &p : parts) {
    if (s.size() > 1) s += ",";
    s += "{\"index\":" + std::to_string(p.index) + ",\"model\":";
    obatch::json_append_string(s, p.model);
    s += ",\"requests\":" + std::to_string(p.requests) + ",\"step\":";
    obatch::json_append_string(s, p.step);
    s += ",\"batch_id\":";
    obatch::json_append_string(s, p.batch_id);
    s += ",\"remote_status\":";
    obatch::json_append_string(s, p.remote_status);
    s += ",\"attempt\":" + std::to_string(p.attempt) + ",\"error\":";
    obatch::json_append_string(s, p.error);
    s += "}";
  }
  return s + "]";
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
    for (const obatch::JobRecord &r : jobs->rows)
      jobs->parts_json.push_back(r.parts ? parts_json(journal.parts(r.id)) : "[]");
    *out = jobs.release();
  });
  if (rc != OBATCH_OK) obatch::copy_errstr(errstr, errstr_size, msg);
  return rc;
}

int obatch_jobs_next(obatch_jobs_t *jobs, obatch_job_t *job) {
  if (!jobs || !job || job->version < 1) return OBATCH_EINVAL;
  if (jobs->next >= jobs->rows.size()) return OBATCH_END;
  const size_t at = jobs->next++;
  const obatch::JobRecord &r = jobs->rows[at];
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
  if (job->version < 2) return OBATCH_OK;
  job->parts = r.parts;
  job->parts_json = jobs->parts_json[at].c_str();
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
