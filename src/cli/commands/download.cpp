// `obatch download BATCH_ID`: the output and error files of a batch that
// ended (or, with --wait, once it ends).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "cli/batch_wait.hpp"
#include "cli/commands/commands.hpp"
#include "cli/remote_batch.hpp"
#include "cli/result_files.hpp"

namespace obatch::cli {

namespace {

struct DownloadOptions {
  std::string batch_id;
  ApiOptions api;
  std::string output_file, error_file;
  bool wait = false;
  bool quiet = false, json = false;
};

int download(const DownloadOptions &o) {
  if (o.quiet && o.json) throw CliError(kExitUsage, "--quiet and --json do not go together");
  if (o.json && o.output_file == "-")
    throw CliError(kExitUsage, "--json prints status objects on stdout: give -o a file");
  ApiOptions api = o.api;
  std::string provider;
  {
    RemoteBatch r = retrieve_batch(o.api, o.batch_id);
    provider = r.provider;
    if (r.info.phase == OBATCH_PHASE_WAITING && !o.wait) {
      char counts[160];
      std::snprintf(
          counts, sizeof counts, "%llu of %llu done",
          static_cast<unsigned long long>(r.info.requests_completed + r.info.requests_failed),
          static_cast<unsigned long long>(r.info.requests_total));
      throw CliError(kExitNotEnded, "batch " + o.batch_id + " is still " + r.info.remote_status +
                                        " (" + counts + "); add --wait, or come back later");
    }
  }
  api.provider = provider;
  std::unique_ptr<TempDir> tmp;
  if (o.output_file == "-" || o.error_file == "-") tmp = std::make_unique<TempDir>();
  Config conf(api);
  set_result_paths(conf, o.output_file, o.error_file, tmp.get());
  obatch_t *b = nullptr;
  struct Holder {
    obatch_t **b;
    ~Holder() { obatch_destroy(*b); }
  } holder{&b};
  int rc = obatch_resume(&b, conf.get(), o.batch_id.c_str());
  if (rc != OBATCH_OK) fail(rc, last_error(b, rc));
  Progress progress(o.json    ? ProgressMode::kJson
                    : o.quiet ? ProgressMode::kQuiet
                              : ProgressMode::kAuto);
  WaitSettings w;
  w.api = o.api;
  if (!o.api.base_url.empty()) w.resume_args += " --base-url " + shell_quote(o.api.base_url);
  if (!o.output_file.empty()) w.resume_args += " -o " + shell_quote(o.output_file);
  if (!o.error_file.empty()) w.resume_args += " -e " + shell_quote(o.error_file);
  int early = wait_for_batch(&b, progress, w);
  if (early >= 0) return early;
  return finish_batch(b, progress, o.output_file, o.error_file);
}

}  // namespace

void add_download_command(CLI::App &app, Commands &out) {
  auto opts = std::make_shared<DownloadOptions>();
  CLI::App *cmd = app.add_subcommand("download", "Download the results of a batch that ended");
  cmd->add_option("batch_id", opts->batch_id, "The batch id")->required();
  add_api_options(cmd, opts->api);
  cmd->add_option("-o,--output-file", opts->output_file,
                  "Where the output goes (default <batch_id>-output.jsonl; \"-\": stdout)");
  cmd->add_option("-e,--error-file", opts->error_file,
                  "Where the errors go (default <batch_id>-errors.jsonl; \"-\": stderr)");
  cmd->add_flag("-w,--wait", opts->wait, "Wait for a running batch to end, then download");
  cmd->add_flag("-q,--quiet", opts->quiet, "Print only the result file paths");
  cmd->add_flag("--json", opts->json, "Print JSON status objects on stdout instead of progress");
  out.push_back({cmd, [opts] { return download(*opts); }});
}

}  // namespace obatch::cli
