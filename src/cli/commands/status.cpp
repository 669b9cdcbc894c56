// `obatch status BATCH_ID`: one batch's status, counts, timestamps and usage.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <memory>

#include "cli/commands/commands.hpp"
#include "cli/remote_batch.hpp"

namespace obatch::cli {

namespace {

struct StatusOptions {
  std::string batch_id;
  ApiOptions api;
  bool json = false;
};

void line(const char *label, const std::string &value) {
  if (!value.empty() && value != "-") std::printf("  %-12s %s\n", label, value.c_str());
}

std::string when(int64_t t, int64_t now) {
  if (t <= 0) return "";
  std::string s = format_time(t);
  if (now >= t)
    s += " (" + format_duration(now - t) + " ago)";
  else
    s += " (in " + format_duration(t - now) + ")";
  return s;
}

int status(const StatusOptions &o) {
  RemoteBatch r = retrieve_batch(o.api, o.batch_id);
  const obatch_info_t &i = r.info;
  if (o.json) {
    std::printf("%s\n", i.batch_json[0] ? i.batch_json : "{}");
    return kExitCompleted;
  }
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  std::printf("%s  %s  (%s)\n", i.batch_id, i.remote_status, r.provider.c_str());
  line("endpoint", i.endpoint);
  line("model", i.model);
  char counts[200];
  std::snprintf(counts, sizeof counts, "%llu total, %llu completed, %llu failed",
                static_cast<unsigned long long>(i.requests_total),
                static_cast<unsigned long long>(i.requests_completed),
                static_cast<unsigned long long>(i.requests_failed));
  line("requests", counts);
  line("window", i.completion_window);
  line("created", when(i.created_at, now));
  line("in progress", when(i.in_progress_at, now));
  line("finalizing", when(i.finalizing_at, now));
  line("completed", when(i.completed_at, now));
  line("failed", when(i.failed_at, now));
  line("expired", when(i.expired_at, now));
  line("cancelling", when(i.cancelling_at, now));
  line("cancelled", when(i.cancelled_at, now));
  bool ended = i.phase != OBATCH_PHASE_WAITING;
  if (!ended) line("expires", when(i.expires_at, now));
  line("input file", i.input_file_id);
  line("output file", i.output_file_id);
  line("error file", i.error_file_id);
  if (i.total_tokens || i.input_tokens || i.output_tokens) {
    char usage[200];
    std::snprintf(usage, sizeof usage, "%llu input + %llu output = %llu tokens",
                  static_cast<unsigned long long>(i.input_tokens),
                  static_cast<unsigned long long>(i.output_tokens),
                  static_cast<unsigned long long>(i.total_tokens));
    line("usage", usage);
  }
  line("errors", i.error_message);
  if (!ended)
    std::printf("Wait for it and download the results: %s\n",
                ("obatch run --resume " + o.batch_id + " -p " + r.provider).c_str());
  else if (i.output_file_id[0] || i.error_file_id[0])
    std::printf("Download the results: obatch download %s -p %s\n", o.batch_id.c_str(),
                r.provider.c_str());
  return kExitCompleted;
}

}  // namespace

void add_status_command(CLI::App &app, Commands &out) {
  auto opts = std::make_shared<StatusOptions>();
  CLI::App *cmd = app.add_subcommand("status", "Show a batch: status, counts, timestamps, usage");
  cmd->add_option("batch_id", opts->batch_id, "The batch id")->required();
  add_api_options(cmd, opts->api);
  cmd->add_flag("--json", opts->json, "Print the provider's batch object as JSON");
  out.push_back({cmd, [opts] { return status(*opts); }});
}

}  // namespace obatch::cli
