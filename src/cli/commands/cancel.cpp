// `obatch cancel BATCH_ID`: ask the provider to cancel a batch.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "cli/batch_wait.hpp"
#include "cli/commands/commands.hpp"
#include "cli/remote_batch.hpp"

namespace obatch::cli {

namespace {

struct CancelOptions {
  std::string batch_id;
  ApiOptions api;
  bool json = false;
};

int cancel(const CancelOptions &o) {
  RemoteBatch r = cancel_batch(o.api, o.batch_id);
  const obatch_info_t &i = r.info;
  if (o.json) {
    std::printf("%s\n", i.batch_json[0] ? i.batch_json : "{}");
    return kExitCompleted;
  }
  std::string status = i.remote_status;
  std::string download = "obatch download " + shell_quote(o.batch_id) + " -p " + r.provider;
  if (status == "cancelling" || status == "cancelled")
    std::printf(
        "batch %s is %s. Results that finished before the cancel can still be "
        "downloaded: %s --wait\n",
        i.batch_id, status.c_str(), download.c_str());
  else
    std::printf("batch %s had already ended (%s); nothing to cancel. Its results: %s\n", i.batch_id,
                status.c_str(), download.c_str());
  return kExitCompleted;
}

}  // namespace

void add_cancel_command(CLI::App &app, Commands &out) {
  auto opts = std::make_shared<CancelOptions>();
  CLI::App *cmd =
      app.add_subcommand("cancel", "Cancel a batch (what finished before stays downloadable)");
  cmd->add_option("batch_id", opts->batch_id, "The batch id")->required();
  add_api_options(cmd, opts->api);
  cmd->add_flag("--json", opts->json, "Print the provider's answer (the batch object) as JSON");
  out.push_back({cmd, [opts] { return cancel(*opts); }});
}

}  // namespace obatch::cli
