// One batch's life at the provider, run on its own I/O thread:
// upload -> create -> wait (adaptive polling) -> download -> done.
// The caller's thread only reads snapshots and asks for a cancel or a stop.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "core/config.hpp"
#include "core/id_index.hpp"
#include "core/results_index.hpp"
#include "engine/api_client.hpp"
#include "engine/snapshot.hpp"
#include "engine/snapshot_board.hpp"
#include "store/journal.hpp"

namespace obatch {

struct JobSpec {
  std::shared_ptr<const Provider> provider;
  std::string base_url, api_key;
  Config config;
  std::string work_dir;
  // A new batch: the finished input file and its ids (in order).
  std::string input_path;
  uint64_t input_bytes = 0;
  IdIndex input_ids;
  std::string endpoint;
  std::string model;  // the requests' model(s), for obatch_info_t
  std::string tag;  // obatch_job metadata value and upload file name stem
  // A resumed batch: its id (input_path empty, unless a journaled job
  // that got as far as its batch is taken up again).
  std::string batch_id;
  // The job journal (null: off), the job's row as claimed, and whether a
  // live process holds it (then this one follows: see Job::follow).
  std::shared_ptr<Journal> journal;
  JobRecord record;
  int origin = 0;  // obatch_job_origin
  // A new job whose id is derived from its input: ask the provider for a
  // batch made through another journal first (input_twin.hpp).
  bool look_for_twin = false;
  uint64_t tokens_estimated = 0;
  // One part of a job of several batches (PartedJob runs it): its 0-based
  // index (-1: this job is the whole input), and how many of its creates
  // failed on the token limit before (each try is tagged apart). Its
  // journal row is the part's; its downloads go to `add_results` (with
  // whether the file is an error file) instead of results of its own.
  int part = -1;
  uint32_t attempt = 0;
  std::function<void(const std::string &path, const std::string &label, bool errors)> add_results;
  bool is_part() const { return part >= 0; }
  // The batch's obatch_part metadata: "3", then "3.1", "3.2" for the tries
  // after a token-limit failure.
  std::string part_label() const {
    return std::to_string(part) + (attempt ? "." + std::to_string(attempt) : "");
  }
};

// What Batch runs once submitted: one batch (Job) or several (PartedJob).
class Runner {
 public:
  virtual ~Runner() = default;
  virtual void start() = 0;
  // Waits up to timeout_ms for a generation newer than `seen`.
  virtual JobSnapshot wait_change(uint64_t seen, int timeout_ms) = 0;
  virtual JobSnapshot snapshot() = 0;
  virtual void request_cancel() = 0;
  // After phase DONE: the results (owned by the runner).
  virtual ResultsIndex *results() = 0;
};

class Job : public Runner {
 public:
  explicit Job(JobSpec spec);
  ~Job() override;  // stops and joins the thread; the remote batch keeps running
  Job(const Job &) = delete;
  Job &operator=(const Job &) = delete;

  void start() override;
  JobSnapshot wait_change(uint64_t seen, int timeout_ms) override;
  JobSnapshot snapshot() override;
  void request_cancel() override;
  ResultsIndex *results() override;

 private:
  void run();
  void follow();
  // Writes columns of the job's journal row (when this process holds it).
  void journal(const std::vector<std::pair<std::string, std::string>> &cols);
  void take_up_twin();
  void upload();
  void create();
  void wait_remote();
  void download_results();
  void download_file(const std::string &file_id, const std::string &final_path,
                     const std::string &label, bool into_results);
  // Downloads `file_id` into `fd` with the retries of a download: `check`
  // reads what arrived and returns "" or what is wrong with it (then it is
  // fetched again); `final_path` names where it goes, for messages.
  void download_retrying(const std::string &file_id, int fd, const std::string &label,
                         const std::string &final_path, const std::function<std::string()> &check);
  // Results in the provider's own format: downloaded, then converted into
  // the output and error files (either path "" when it has no line).
  void download_converted(std::string *out_path, std::string *err_path);
  // The custom_id map of this batch as JSON ("" when nothing is mapped).
  std::string custom_id_map();
  // For a provider without metadata: the one listed batch that a create
  // sent at `sent_at` (unix seconds) may have made; throws when several can
  // be it (a second create could be paid twice).
  std::optional<Remote> find_created_without_tag(int64_t sent_at);
  void load_remote_input_order();
  void adopt_batch(const Fields &f);
  void send_cancel(const std::string &batch_id);
  // A problem the job survives, shown in error_message until the next
  // successful status check.
  void note(const std::string &message);
  // The first item of a paged list `op` that `match` accepts. With
  // `unserved`: a server without the listing (404, 405, 501) sets it and
  // finds nothing, rather than failing.
  std::optional<Remote> find_listed(int op, Fields args, const std::function<bool(Fields &)> &match,
                                    bool *unserved = nullptr);
  void set_phase(int phase);
  void fail(int code, const std::string &message);

  JobSpec spec_;
  Transport transport_;
  ApiClient client_;
  std::thread thread_;
  std::atomic<bool> cancel_requested_{false};
  bool cancel_sent_ = false;
  bool holds_job_ = false;  // this process writes the job's journal row
  bool noted_ = false;
  std::unique_ptr<ResultsIndex> results_;
  std::string output_file_id_, error_file_id_;
  std::chrono::steady_clock::time_point created_at_;

  SnapshotBoard board_;
  std::atomic<uint64_t> bytes_up_{0}, bytes_down_{0};
};

}  // namespace obatch
