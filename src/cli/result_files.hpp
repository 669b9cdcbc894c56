// Where a batch's result files go, and the end of a wait: the files moved
// to their places ("-" is stdout / stderr), a summary, the exit code.
#pragma once

#include <string>

#include "cli/command.hpp"
#include "cli/progress.hpp"

namespace obatch::cli {

// A private directory for result files that go to stdout or stderr.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  const std::string &path() const { return path_; }

 private:
  std::string path_;
};

// Sets results_dir "." (like openai-batch: files land in the current
// directory) and output_path / error_path; "-" goes through `tmp`.
void set_result_paths(Config &conf, const std::string &output_file, const std::string &error_file,
                      const TempDir *tmp);

// After the batch ended: results to their places, a summary (or a JSON
// "done" event), and the exit code (throws CliError for a failure). For a
// batch that expired or was cancelled, the requests without a result are
// listed with the command that resubmits them (`retry_args` follows it).
int finish_batch(obatch_t *b, Progress &progress, const std::string &output_file,
                 const std::string &error_file, const std::string &retry_args = "");

}  // namespace obatch::cli
