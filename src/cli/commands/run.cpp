#include "cli/run_command.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "cli/exit_codes.hpp"
#include "cli/progress.hpp"
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

CLI::App *add_run_command(CLI::App &app, RunOptions &o) {
  CLI::App *run = app.add_subcommand("run", "Submit a JSONL batch file, wait for it, download the results");
  run->add_option("input", o.input, "Input JSONL file (one request per line)");
  run->add_option("-p,--provider", o.provider, "openai or parasail (default: chosen by model)");
  run->add_option("--base-url", o.base_url, "API base URL (default: the provider's *_BASE_URL or its own)");
  run->add_option("-o,--output-file", o.output_file, "Where to write the output (default: <batch_id>-output.jsonl)");
  run->add_option("-e,--error-file", o.error_file, "Where to write the errors (default: <batch_id>-errors.jsonl)");
  run->add_option("--poll-interval", o.poll_interval,
                  "Longest wait between status checks, in seconds (default 60; checks start at 1 s and slow down as the batch ages)")
      ->check(CLI::PositiveNumber);
  run->add_option("--resume", o.resume, "Attach to an existing batch id instead of submitting");
  run->add_flag("-q,--quiet", o.quiet, "Print only the result file paths");
  return run;
}

namespace {

int fail(int code, const std::string &msg) {
  std::fprintf(stderr, "obatch: error: %s\n", msg.c_str());
  return exit_code_for(code);
}

bool set(obatch_config_t *conf, const char *key, const std::string &value, std::string *err) {
  char buf[512];
  if (obatch_config_set(conf, key, value.c_str(), buf, sizeof buf) != OBATCH_OK) {
    *err = buf;
    return false;
  }
  return true;
}

}  // namespace

int run_command(const RunOptions &o) {
  if (o.input.empty() == o.resume.empty()) {
    std::fprintf(stderr, "obatch: error: give an input file, or --resume BATCH_ID (not both)\n");
    return kExitUsage;
  }
  obatch_config_t *conf = nullptr;
  if (obatch_config_new(&conf) != OBATCH_OK) return fail(OBATCH_ENOMEM, "out of memory");
  std::string err;
  bool ok = true;
  if (!o.provider.empty()) ok = ok && set(conf, "provider", o.provider, &err);
  if (!o.base_url.empty()) ok = ok && set(conf, "base_url", o.base_url, &err);
  if (!o.output_file.empty()) ok = ok && set(conf, "output_path", o.output_file, &err);
  if (!o.error_file.empty()) ok = ok && set(conf, "error_path", o.error_file, &err);
  ok = ok && set(conf, "results_dir", ".", &err);  // like openai-batch: files land here
  if (o.poll_interval > 0) {
    long max_ms = static_cast<long>(o.poll_interval * 1000);
    if (max_ms < 1) max_ms = 1;
    ok = ok && set(conf, "poll_max_interval_ms", std::to_string(max_ms), &err);
    ok = ok && set(conf, "poll_interval_ms", std::to_string(std::min(1000L, max_ms)), &err);
  }
  if (!ok) {
    obatch_config_destroy(conf);
    return fail(OBATCH_ECONFIG, err);
  }

  obatch_t *b = nullptr;
  int rc;
  if (!o.resume.empty()) {
    if (o.provider.empty()) {
      obatch_config_destroy(conf);
      return fail(OBATCH_EPROVIDER, "--resume needs --provider (openai or parasail)");
    }
    rc = obatch_resume(&b, conf, o.resume.c_str());
  } else {
    rc = obatch_create(&b, conf);
  }
  obatch_config_destroy(conf);
  if (rc != OBATCH_OK) {
    std::string msg = b ? obatch_last_error(b) : obatch_strerror(rc);
    obatch_destroy(b);
    return fail(rc, msg);
  }

  if (o.resume.empty()) {
    rc = obatch_add_file(b, o.input.c_str());
    if (rc == OBATCH_OK) rc = obatch_submit(b);
    if (rc != OBATCH_OK) {
      std::string msg = obatch_last_error(b);
      obatch_destroy(b);
      return fail(rc, msg + "; nothing was sent");
    }
  }

  Progress progress(o.quiet);
  obatch_info_t info = OBATCH_INFO_INIT;
  bool announced = false;
  for (;;) {
    obatch_poll(b, 500, &info);
    progress.update(info);
    if (!announced && info.batch_id[0] && o.resume.empty() && !o.quiet) {
      std::fprintf(stderr, "obatch: if this stops, resume with: obatch run --resume %s -p %s\n",
                   info.batch_id, info.provider);
      announced = true;
    }
    if (info.phase == OBATCH_PHASE_DONE || info.phase == OBATCH_PHASE_FAILED) break;
  }
  int outcome = obatch_wait(b, 0, &info);
  if (info.phase == OBATCH_PHASE_FAILED) {
    std::string msg = info.error_message;
    obatch_destroy(b);
    return fail(outcome, msg);
  }
  if (info.output_path[0]) std::printf("output: %s\n", info.output_path);
  if (info.error_path[0]) std::printf("errors: %s\n", info.error_path);
  if (!info.output_path[0] && !info.error_path[0]) std::printf("no result files (no request finished)\n");
  std::fflush(stdout);
  if (!o.quiet)
    std::fprintf(stderr, "obatch: batch %s %s: %llu completed, %llu failed of %llu\n", info.batch_id,
                 info.remote_status, static_cast<unsigned long long>(info.requests_completed),
                 static_cast<unsigned long long>(info.requests_failed),
                 static_cast<unsigned long long>(info.requests_total));
  std::string msg = obatch_last_error(b);
  obatch_destroy(b);
  if (outcome != OBATCH_OK) return fail(outcome, msg);
  return kExitCompleted;
}

}  // namespace obatch::cli
