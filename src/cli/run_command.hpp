// `obatch run`: submit a JSONL file (or attach to a batch), wait, download.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace obatch::cli {

struct RunOptions {
  std::string input;
  std::string provider;
  std::string base_url;
  std::string output_file;
  std::string error_file;
  std::string resume;
  double poll_interval = 0;  // seconds; 0: the library's adaptive default
  bool quiet = false;
};

// Adds the subcommand; `opts` receives the parsed values.
CLI::App *add_run_command(CLI::App &app, RunOptions &opts);

// Runs it; returns the process exit code.
int run_command(const RunOptions &opts);

}  // namespace obatch::cli
