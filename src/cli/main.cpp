// The `obatch` command.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands/commands.hpp"
#include "cli/exit_codes.hpp"
#include "obatch/obatch.h"
#include "obatch/sys/provider.h"

static const char kFooter[] =
    "Exit codes: 0 completed, 1 internal error, 2 usage, 3 bad input (nothing sent),\n"
    "4 key/provider/URL problem, 5 network or API error, 6 batch failed,\n"
    "7 batch expired, 8 batch cancelled (7 and 8 still save partial results),\n"
    "9 local file error, 10 batch not ended yet (download), 130 interrupted\n"
    "(the batch keeps running; resume it).\n"
    "Environment: OPENAI_API_KEY, OPENAI_BASE_URL, PARASAIL_API_KEY, PARASAIL_BASE_URL,\n"
    "ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL, and each declared provider's own variables\n"
    "(AZURE_OPENAI_API_KEY, GROQ_API_KEY, DEEPINFRA_API_KEY, ...); OBATCH_PROVIDERS names a\n"
    "providers file, read as well as $XDG_CONFIG_HOME/obatch/providers.json.\n"
    "Run `obatch COMMAND --help` for a command's options; `man obatch` for examples.";

int main(int argc, char **argv) {
  using namespace obatch::cli;
  CLI::App app{"obatch: run OpenAI-style Batch API jobs (half price, results within 24 h)"};
  app.footer(kFooter);
  app.set_version_flag("-V,--version", std::string("obatch ") + obatch_version());
  app.require_subcommand(1);
  // Options of the app may follow the command's name too.
  app.fallthrough();
  std::string providers_file;
  app.add_option("--providers", providers_file,
                 "JSON file declaring more OpenAI-compatible providers (README: \"Providers "
                 "declared in a file\")")
      ->type_name("FILE");
  Commands commands;
  add_run_command(app, commands);
  add_status_command(app, commands);
  add_cancel_command(app, commands);
  add_download_command(app, commands);
  add_list_command(app, commands);
  add_create_input_command(app, commands);
  add_validate_command(app, commands);
  add_estimate_command(app, commands);
  add_results_command(app, commands);
  add_jobs_command(app, commands);
  add_queue_command(app, commands);
  add_serve_command(app, commands);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    app.exit(e);
    return kExitUsage;
  }
  if (!providers_file.empty() &&
      obatch_provider_load_file(providers_file.c_str()) != OBATCH_OK) {
    std::fprintf(stderr, "obatch: error: %s\n", obatch_last_error(nullptr));
    return kExitUsage;
  }
  for (const Command &c : commands) {
    if (!c.app->parsed()) continue;
    try {
      return c.run();
    } catch (const CliError &e) {
      std::fprintf(stderr, "obatch %s: error: %s\n", c.app->get_name().c_str(), e.what());
      return e.exit_code;
    } catch (const std::exception &e) {
      std::fprintf(stderr, "obatch %s: internal error: %s\n", c.app->get_name().c_str(), e.what());
      return kExitInternal;
    }
  }
  return kExitUsage;
}
