// The `obatch` command.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/exit_codes.hpp"
#include "cli/run_command.hpp"
#include "obatch/obatch.h"

static const char kExitCodes[] =
    "Exit codes: 0 completed, 1 internal error, 2 usage, 3 bad input (nothing sent),\n"
    "4 key/provider/URL problem, 5 network or API error, 6 batch failed,\n"
    "7 batch expired, 8 batch cancelled (7 and 8 still save partial results),\n"
    "9 local file error.\n"
    "Environment: OPENAI_API_KEY, OPENAI_BASE_URL, PARASAIL_API_KEY, PARASAIL_BASE_URL.";

int main(int argc, char **argv) {
  CLI::App app{"obatch: run OpenAI-style Batch API jobs (half price, results within 24 h)"};
  app.footer(kExitCodes);
  app.set_version_flag("-V,--version", std::string("obatch ") + obatch_version());
  app.require_subcommand(1);
  obatch::cli::RunOptions run_opts;
  CLI::App *run = obatch::cli::add_run_command(app, run_opts);
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
    return obatch::cli::kExitUsage;
  }
  if (run->parsed()) return obatch::cli::run_command(run_opts);
  return obatch::cli::kExitUsage;
}
