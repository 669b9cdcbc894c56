// `obatch jobs`: the local job journal, newest first; --prune forgets the
// jobs that have ended.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "cli/commands/commands.hpp"

namespace obatch::cli {

namespace {

struct JobsOptions {
  std::string state;
  bool json = false;
  bool prune = false;
};

std::string job_json(const obatch_job_t &j) {
  std::string s = "{";
  auto text = [&](const char *k, const char *v) { s += json_quote(k) + ":" + json_quote(v) + ","; };
  auto number = [&](const char *k, long long v) {
    s += json_quote(k) + ":" + std::to_string(v) + ",";
  };
  text("id", j.id);
  text("step", j.step);
  text("provider", j.provider);
  text("base_url", j.base_url);
  text("endpoint", j.endpoint);
  text("model", j.model);
  text("input", j.source_path);
  text("input_sha256", j.input_sha256);
  text("input_file_id", j.input_file_id);
  text("batch_id", j.batch_id);
  text("remote_status", j.remote_status);
  text("output_file_id", j.output_file_id);
  text("error_file_id", j.error_file_id);
  text("output_path", j.output_path);
  text("error_path", j.error_path);
  text("error", j.error_message);
  text("retry_of", j.retry_of);
  number("requests", static_cast<long long>(j.requests));
  number("input_bytes", static_cast<long long>(j.input_bytes));
  number("created_at", j.created_at);
  number("updated_at", j.updated_at);
  number("pid", j.pid);
  number("batches", static_cast<long long>(j.parts ? j.parts : 1));
  s += "\"parts\":" + std::string(j.parts_json) + ",";
  s += "\"running\":" + std::string(j.running ? "true" : "false") + "}";
  return s;
}

int jobs(const JobsOptions &o) {
  Config conf;
  if (!o.state.empty()) conf.set("state", o.state);
  char err[512] = "";
  if (o.prune) {
    uint64_t pruned = 0;
    int rc = obatch_jobs_prune(conf.get(), &pruned, err, sizeof err);
    if (rc != OBATCH_OK) fail(rc, err);
    std::fprintf(stderr, "forgot %llu ended job(s); their result files stay\n",
                 static_cast<unsigned long long>(pruned));
  }
  obatch_jobs_t *list = nullptr;
  int rc = obatch_jobs_open(&list, conf.get(), err, sizeof err);
  if (rc != OBATCH_OK) fail(rc, err);
  std::unique_ptr<obatch_jobs_t, void (*)(obatch_jobs_t *)> holder(list, obatch_jobs_destroy);
  obatch_job_t j = OBATCH_JOB_INIT;
  uint64_t n = 0;
  while (obatch_jobs_next(list, &j) == OBATCH_OK) {
    if (o.json) {
      std::printf("%s\n", job_json(j).c_str());
      n++;
      continue;
    }
    if (n++ == 0)
      std::printf("%-24s %-11s %-10s %-32s %8s %-19s %s\n", "JOB", "STEP", "STATUS", "BATCH",
                  "REQUESTS", "UPDATED", "INPUT");
    std::string step = j.step;
    if (j.running) step += "*";
    const std::string batch = j.parts ? std::to_string(j.parts) + " batches (--json lists them)"
                              : j.batch_id[0] ? j.batch_id
                                              : "-";
    std::printf("%-24s %-11s %-10s %-32s %8llu %-19s %s\n", j.id, step.c_str(),
                j.remote_status[0] ? j.remote_status : "-", batch.c_str(),
                static_cast<unsigned long long>(j.requests), format_time(j.updated_at).c_str(),
                j.source_path[0] ? j.source_path : "-");
  }
  if (!o.json) {
    if (n == 0)
      std::fprintf(stderr, "no jobs in %s\n", obatch_jobs_path(list));
    else
      std::fprintf(stderr, "%llu job(s) in %s (* = a running process holds it)\n",
                   static_cast<unsigned long long>(n), obatch_jobs_path(list));
  }
  std::fflush(stdout);
  return kExitCompleted;
}

}  // namespace

void add_jobs_command(CLI::App &app, Commands &out) {
  auto opts = std::make_shared<JobsOptions>();
  CLI::App *cmd = app.add_subcommand(
      "jobs", "List the local job journal: every submission, its step and its batch");
  cmd->add_option("--state", opts->state,
                  "The job journal (default $OBATCH_STATE, else "
                  "$XDG_STATE_HOME/obatch/jobs.db, else ~/.local/state/obatch/jobs.db)");
  cmd->add_flag("--json", opts->json, "One JSON object per job");
  cmd->add_flag("--prune", opts->prune,
                "First forget the jobs that ended (done, failed, abandoned); result files stay");
  out.push_back({cmd, [opts] { return jobs(*opts); }});
}

}  // namespace obatch::cli
