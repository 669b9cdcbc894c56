// A job sent as normal requests (direct mode): every input line is POSTed to
// its url at the provider's base URL, `concurrency` at a time over one
// libcurl multi handle, within the request and token limits (the user's and
// the server's), and each answer is written as a line of the Batch API's
// output format: 2xx to the output file, the rest to the error file. Full
// price, results in minutes, and any OpenAI-compatible server will do.
//
// Durable like a batch: results go to "<final>.partial" files, fsynced and
// journaled in groups; a process killed at any point leaves them, and the
// same job run again sends only the requests without a result (at most the
// ones in flight are sent twice). The input is streamed, never held.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "engine/job.hpp"

namespace obatch {

class DirectOutput;
class RequestPool;

class DirectJob : public Runner {
 public:
  explicit DirectJob(JobSpec spec);
  ~DirectJob() override;  // stops: the requests in flight are dropped, the results kept
  DirectJob(const DirectJob &) = delete;
  DirectJob &operator=(const DirectJob &) = delete;

  void start() override;
  JobSnapshot wait_change(uint64_t seen, int timeout_ms) override;
  JobSnapshot snapshot() override;
  // Stops sending; the requests in flight are waited for, then the job ends
  // ECANCELLED with its results so far kept for a rerun.
  void request_cancel() override;
  ResultsIndex *results() override;

 private:
  struct Sender;  // the send loop's state (direct_job.cpp)

  void run();
  // Another live process runs the job: wait for it to end (or die).
  bool follow();
  void journal(const std::vector<std::pair<std::string, std::string>> &cols);
  void fail(int code, const std::string &message);
  void finish(DirectOutput *out);
  std::string stopped_note(DirectOutput *out, uint64_t have);
  // Indexes the result files and ends DONE; `recount`: the counts and usage
  // are read from the files (results this handle did not write).
  void load_results(const std::string &output_path, const std::string &error_path, bool recount);

  JobSpec spec_;
  std::string output_final_, error_final_;
  std::unique_ptr<RequestPool> pool_;
  std::thread thread_;
  std::atomic<bool> cancel_requested_{false}, stop_{false}, started_{false};
  bool holds_job_ = false;
  std::unique_ptr<ResultsIndex> results_;
  SnapshotBoard board_;
};

// The URL of a request line's `url` ("/v1/chat/completions") at `base_url`
// ("https://api.openai.com/v1": the /v1 is not doubled).
std::string direct_url(const std::string &base_url, const std::string &url);

}  // namespace obatch
