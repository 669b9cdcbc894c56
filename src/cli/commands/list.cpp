// `obatch list`: the provider's batches, newest first, page by page.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "cli/commands/commands.hpp"

namespace obatch::cli {

namespace {

struct ListOptions {
  ApiOptions api;
  unsigned limit = 20;
  bool all = false;
  bool json = false;
};

// Lists one provider's batches; returns how many were shown.
uint64_t list_provider(const ListOptions &o, const std::string &provider, bool show_provider) {
  ApiOptions api = o.api;
  api.provider = provider;
  Config conf(api);
  std::string after;
  uint64_t shown = 0;
  static bool header = false;
  if (!o.json && !header) {
    header = true;
    std::printf("%-40s %-11s %-23s %-22s %9s%s\n", "BATCH", "STATUS", "CREATED", "ENDPOINT", "DONE",
                show_provider ? "  PROVIDER" : "");
  }
  for (;;) {
    uint64_t left = o.all ? 100 : o.limit - shown;
    if (left == 0) break;
    obatch_list_t *page = nullptr;
    char err[512] = "";
    int rc = obatch_list(&page, conf.get(), after.empty() ? nullptr : after.c_str(),
                         static_cast<unsigned>(left > 100 ? 100 : left), err, sizeof err);
    if (rc != OBATCH_OK) fail(rc, provider + ": " + err);
    obatch_info_t i = OBATCH_INFO_INIT;
    while (obatch_list_next(page, &i) == OBATCH_OK) {
      shown++;
      if (o.json) {
        std::printf("%s\n", i.batch_json[0] ? i.batch_json : "{}");
        continue;
      }
      char counts[64];
      std::snprintf(counts, sizeof counts, "%llu/%llu",
                    static_cast<unsigned long long>(i.requests_completed + i.requests_failed),
                    static_cast<unsigned long long>(i.requests_total));
      std::printf("%-40s %-11s %-23s %-22s %9s%s%s\n", i.batch_id, i.remote_status,
                  format_time(i.created_at).c_str(), i.endpoint, counts, show_provider ? "  " : "",
                  show_provider ? provider.c_str() : "");
    }
    bool more = obatch_list_has_more(page);
    after = obatch_list_last_id(page);
    obatch_list_destroy(page);
    if (!more || after.empty()) break;
  }
  return shown;
}

int list(const ListOptions &o) {
  if (o.limit == 0) throw CliError(kExitUsage, "--limit must be at least 1");
  if (!o.api.provider.empty()) {
    list_provider(o, o.api.provider, false);
    return kExitCompleted;
  }
  if (!o.api.base_url.empty())
    throw CliError(kExitUsage,
                   "--base-url needs --provider: obatch will not try every "
                   "provider's key on one host");
  // Every provider the user has a key for.
  int asked = 0;
  std::string skipped;
  for (const std::string &name : provider_names()) {
    try {
      list_provider(o, name, true);
      asked++;
    } catch (const CliError &e) {
      if (e.exit_code != kExitAuth) throw;
      skipped += "\n  " + std::string(e.what());
    }
  }
  if (asked == 0) throw CliError(kExitAuth, "no provider could be asked:" + skipped);
  return kExitCompleted;
}

}  // namespace

void add_list_command(CLI::App &app, Commands &out) {
  auto opts = std::make_shared<ListOptions>();
  CLI::App *cmd = app.add_subcommand(
      "list", "List batches, newest first (every provider you have a key for, or -p)");
  add_api_options(cmd, opts->api);
  cmd->add_option("-l,--limit", opts->limit, "How many batches to show (default 20)");
  cmd->add_flag("-a,--all", opts->all, "Show every batch, page after page");
  cmd->add_flag("--json", opts->json, "One provider batch object (JSON) per line");
  out.push_back({cmd, [opts] { return list(*opts); }});
}

}  // namespace obatch::cli
