// A job of several batches: an input over the provider's limits per batch,
// cut into parts (core/part_plan.hpp), each part run by a Job of its own (on
// its own thread, with its own journal row), and the parts' results merged
// into one output and one error file in input order.
//
// Parts start as the provider's queue allows: at most max_running_batches
// at once, and the estimated prompt tokens of one model's running parts
// within its enqueued-token limit (max_enqueued_tokens, else learned from a
// batch that fails with token_limit_exceeded). Such a failure is not the
// part's end: it is created again from the file it uploaded, once a part of
// its model ends (or after a back-off when none runs). Any other failure of
// a part's batch fails that part and the job goes on; an error of the job
// itself (a refused key, a network that stays down) stops it, and the same
// command resumes it from the journal.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/job.hpp"
#include "engine/snapshot_board.hpp"

namespace obatch {

struct PartInput {
  std::string path;  // its JSONL file
  PartInfo info;
};

// The limit a token_limit_exceeded message states ("Limit: 90,000 enqueued
// tokens"), or 0 when it states none.
uint64_t stated_token_limit(const std::string &message);

class PartedJob : public Runner {
 public:
  // `spec` as for a Job of the whole input (input_ids: every request, in
  // order); `parts` in the order of their first requests.
  PartedJob(JobSpec spec, std::vector<PartInput> parts);
  ~PartedJob() override;  // stops every part; their batches go on

  void start() override;
  JobSnapshot wait_change(uint64_t seen, int timeout_ms) override;
  JobSnapshot snapshot() override;
  void request_cancel() override;
  ResultsIndex *results() override;

 private:
  enum class State { kPending, kRunning, kEnded, kFailed, kAbandoned };
  struct Part {
    PartInput input;
    PartRecord rec;  // as journaled
    State state = State::kPending;
    std::unique_ptr<Job> job;  // while it runs
    JobSnapshot last;          // the job's last snapshot (kept once it ends)
    bool ever_created = false;
    // After a token-limit failure: wait for a part of its model to end,
    // or (none running) until not_before.
    bool waits_for_room = false;
    std::chrono::steady_clock::time_point not_before{};
    uint64_t ends_seen = 0;     // ends_ of its model when it started
    bool tokens_exact = false;  // input.info.tokens counted, not estimated from bytes
  };

  void run();
  void follow();
  void load_parts();
  void take_done_part(Part &p);
  void schedule();
  bool may_start(Part &p);
  // Counts a part's prompt tokens exactly (tokens/request_tokens.hpp) the
  // first time a token budget is compared with them.
  void count_exactly(Part &p);
  void start_part(Part &p);
  void observe(Part &p);
  void token_limit_failure(Part &p, const JobSnapshot &s);
  void merge();
  void finish();
  void publish();
  void note(const std::string &message);
  void journal_job(const std::vector<std::pair<std::string, std::string>> &cols);
  void journal_part(const Part &p, const std::vector<std::pair<std::string, std::string>> &cols);
  void add_part_results(const std::string &path, const std::string &label, bool errors);
  std::string key_of(const Part &p) const { return p.input.info.model; }
  uint64_t limit_for(const std::string &model) const;

  JobSpec spec_;
  std::vector<Part> parts_;
  Transport transport_;  // only to sleep, woken by a cancel
  std::thread thread_;
  std::atomic<bool> cancel_requested_{false};
  bool cancel_sent_ = false;
  bool holds_job_ = false;
  uint64_t max_enqueued_ = 0;                      // config; 0: unknown
  size_t max_running_ = 0;                         // config; 0: no cap
  std::map<std::string, uint64_t> learned_limit_;  // model -> limit stated by the provider
  std::map<std::string, uint64_t> ends_;           // model -> parts of it that ended
  std::string parts_dir_;                          // the parts' downloads
  std::string note_;                               // the latest thing the user should know
  std::chrono::steady_clock::time_point note_until_{};

  std::mutex results_mu_;                       // parts add their downloads from their threads
  std::unique_ptr<ResultsIndex> part_results_;  // the parts' downloads
  std::vector<bool> error_file_;                // per file of part_results_
  std::unique_ptr<ResultsIndex> results_;       // the job's merged files

  SnapshotBoard board_;
};

}  // namespace obatch
