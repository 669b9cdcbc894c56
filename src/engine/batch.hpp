// The object behind obatch_t: the input being built, the provider chosen for
// it, and once submitted the Job that runs it. Used by one caller thread at
// a time (the Job has its own thread).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/batch_input.hpp"
#include "core/config.hpp"
#include "core/results_index.hpp"
#include "engine/job.hpp"
#include "providers/provider.hpp"

namespace obatch {

// Result files already on disk, for a batch opened without the network.
struct ResultFiles {
  std::string input_path;               // gives the order; "" for file order
  std::string output_path, error_path;  // "" for none (not both)
};

class Batch {
 public:
  explicit Batch(const Config &conf);
  // Attaches to a remote batch (provider must be configured).
  Batch(const Config &conf, const std::string &batch_id);
  // Opens result files: phase DONE at once, nothing is sent.
  Batch(const Config &conf, const ResultFiles &files);
  ~Batch();

  void add(const char *body_json, const char *custom_id, const char *endpoint);
  // Adds one body per line of `bodies` (JSONL), all or nothing; returns
  // how many. Errors start with "line N".
  uint64_t add_many(std::string_view bodies, const char *endpoint);
  void add_line(const char *line);
  void add_file(const char *path);
  void submit();
  void cancel();

  // Waits up to timeout_ms for progress (0: no wait) and returns the state.
  JobSnapshot poll(int timeout_ms);

  // Results (phase DONE only; throws Error(ESTATE) before).
  ResultsIndex &results();
  uint64_t cursor = 0;  // obatch_fetch position

  // The input file being built, or the one an opened batch was given.
  // Pushes what was added so far into the input file (no fsync).
  void flush_input();
  const std::string &input_path() const {
    return opened_results_ ? opened_input_path_ : input_path_;
  }

  const Config &config() const { return conf_; }

  // Marks this batch as the resubmission of job `job_id`'s missing requests.
  void set_retry_of(const std::string &job_id) { retry_of_ = job_id; }

 private:
  void open_work_dir();
  void check_result_paths() const;
  void resolve_provider(const std::string &model);
  void check_building(const char *what) const;
  JobSpec job_spec();
  void claim_job(JobSpec *spec, const std::string &digest, size_t parts, bool direct);

  Config conf_;
  std::shared_ptr<const Provider> provider_;
  std::string work_dir_;
  bool own_work_dir_ = false;
  std::string input_path_;
  std::string tag_;
  // The user's file, when the whole input came from one obatch_add_file
  // (journaled, so that --retry-missing can read the requests again).
  std::string source_path_, source_digest_;
  std::string retry_of_;
  std::unique_ptr<BatchInput> input_;
  std::string default_endpoint_;         // the config's "endpoint" (read once, not per add)
  Request request_;                      // obatch_add's, reused
  std::string where_;                    // obatch_add's "request N", reused
  std::unique_ptr<Runner> job_;          // a Job, or a PartedJob for an input cut into parts
  std::vector<std::string> part_paths_;  // the parts' input files (ours)
  JobSnapshot last_;
  std::string mode_ = "batch", mode_reason_;  // how it was sent, and why
  // An opened batch: its input order and results (no input, no job).
  std::unique_ptr<IdIndex> opened_order_;
  std::unique_ptr<ResultsIndex> opened_results_;
  std::string opened_input_path_;  // the caller's; never deleted
};

}  // namespace obatch
