#include "cli/result_files.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace obatch::cli {

TempDir::TempDir() {
  const char *t = std::getenv("TMPDIR");
  std::string tmpl = std::string(t && *t ? t : "/tmp") + "/obatch-run-XXXXXX";
  if (!mkdtemp(tmpl.data()))
    fail(OBATCH_EIO, "cannot create a temporary directory under " +
                         tmpl.substr(0, tmpl.rfind('/')) + ": " + std::strerror(errno));
  path_ = tmpl;
}

TempDir::~TempDir() {
  for (const char *name : {"/output.jsonl", "/errors.jsonl"}) unlink((path_ + name).c_str());
  rmdir(path_.c_str());
}

void set_result_paths(Config &conf, const std::string &output_file, const std::string &error_file,
                      const TempDir *tmp) {
  conf.set("results_dir", ".");
  if (output_file == "-")
    conf.set("output_path", tmp->path() + "/output.jsonl");
  else if (!output_file.empty())
    conf.set("output_path", output_file);
  if (error_file == "-")
    conf.set("error_path", tmp->path() + "/errors.jsonl");
  else if (!error_file.empty())
    conf.set("error_path", error_file);
}

namespace {

// The requests that got no result: how many, and the first few ids.
uint64_t missing_requests(obatch_t *b, std::vector<std::string> *first) {
  uint64_t n = 0;
  obatch_result_t r = OBATCH_RESULT_INIT;
  while (obatch_fetch(b, &r) == OBATCH_OK)
    if (r.kind == OBATCH_RESULT_MISSING && n++ < 10) first->push_back(r.custom_id);
  obatch_rewind(b);
  return n;
}

void tell_missing(obatch_t *b, Progress &progress, const obatch_info_t &info,
                  const std::string &retry_args) {
  std::vector<std::string> first;
  uint64_t n = missing_requests(b, &first);
  if (n == 0) return;
  std::string job = info.job_id;
  std::string retry = job.empty() ? "" : "obatch run --retry-missing " + job + retry_args;
  std::string ids;
  for (const auto &id : first) ids += (ids.empty() ? "" : ", ") + id;
  if (n > first.size()) ids += ", ...";
  progress.event("missing", "\"count\":" + std::to_string(n) + ",\"job_id\":" + json_quote(job) +
                                ",\"retry\":" + json_quote(retry));
  if (progress.json()) return;
  progress.message(std::to_string(n) + " request(s) have no result (" + ids + ")" +
                   (retry.empty() ? "" : "; submit just those with: " + retry));
}

}  // namespace

int finish_batch(obatch_t *b, Progress &progress, const std::string &output_file,
                 const std::string &error_file, const std::string &retry_args) {
  obatch_info_t info = OBATCH_INFO_INIT;
  int outcome = obatch_wait(b, 0, &info);
  progress.finish();
  std::string batch_id = info.batch_id, status = info.remote_status;
  std::string exit_code = std::to_string(exit_code_for(outcome));
  if (info.phase == OBATCH_PHASE_FAILED) {
    std::string msg = info.error_message;
    progress.event("done", "\"batch_id\":" + json_quote(batch_id) +
                               ",\"status\":" + json_quote(status) +
                               ",\"error\":" + json_quote(msg) + ",\"exit_code\":" + exit_code);
    fail(outcome, msg);
  }
  std::string out = info.output_path, err = info.error_path;
  uint64_t total = info.requests_total, completed = info.requests_completed,
           failed = info.requests_failed;
  std::string last = obatch_last_error(b);
  if (output_file == "-" && !out.empty()) copy_to_stream(out, stdout);
  if (error_file == "-" && !err.empty()) copy_to_stream(err, stderr);
  if (progress.json()) {
    progress.event(
        "done", "\"batch_id\":" + json_quote(batch_id) + ",\"status\":" + json_quote(status) +
                    ",\"job_id\":" + json_quote(info.job_id) +
                    ",\"parts_total\":" + std::to_string(info.parts_total) +
                    ",\"output_file\":" + json_quote(output_file == "-" ? "" : out) +
                    ",\"error_file\":" + json_quote(error_file == "-" ? "" : err) +
                    ",\"requests_total\":" + std::to_string(total) + ",\"requests_completed\":" +
                    std::to_string(completed) + ",\"requests_failed\":" + std::to_string(failed) +
                    ",\"input_tokens\":" + std::to_string(info.input_tokens) +
                    ",\"output_tokens\":" + std::to_string(info.output_tokens) +
                    ",\"total_tokens\":" + std::to_string(info.total_tokens) +
                    ",\"exit_code\":" + exit_code);
  } else {
    if (!out.empty() && output_file != "-") std::printf("output: %s\n", out.c_str());
    if (!err.empty() && error_file != "-") std::printf("errors: %s\n", err.c_str());
    if (out.empty() && err.empty() && !progress.quiet())
      std::printf("no result files (no request finished)\n");
    std::fflush(stdout);
    const bool direct = std::string(info.mode) == "direct";
    std::string what = direct ? "direct job" + (info.job_id[0] ? " " + std::string(info.job_id) : "")
                       : info.parts_total > 1
                           ? "job " + std::string(info.job_id) + (info.job_id[0] ? " " : "") +
                                 "(" + std::to_string(info.parts_total) + " batches)"
                           : "batch " + batch_id;
    progress.message(what + " " + status + ": " + std::to_string(completed) + " completed, " +
                     std::to_string(failed) + " failed of " + std::to_string(total));
  }
  // A job of several batches ends "failed" with the results of the parts
  // that did not fail; the failed parts' requests are missing.
  if (outcome == OBATCH_EEXPIRED || outcome == OBATCH_ECANCELLED ||
      (outcome == OBATCH_EFAILED && info.parts_total > 1))
    tell_missing(b, progress, info, retry_args);
  if (outcome != OBATCH_OK) fail(outcome, last);
  return kExitCompleted;
}

}  // namespace obatch::cli
