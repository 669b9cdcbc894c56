// One row of the job journal: what is known locally about one submission.
#pragma once

#include <cstdint>
#include <string>

namespace obatch {

// Lifecycle steps, written before a step starts and after it ends.
namespace step {
constexpr const char *kNew = "new";              // journaled; nothing sent
constexpr const char *kUploading = "uploading";  // the upload may have been sent
constexpr const char *kUploaded = "uploaded";    // input_file_id known
constexpr const char *kCreating = "creating";    // the create may have been sent
constexpr const char *kCreated = "created";      // batch_id known; waiting
constexpr const char *kDownloading = "downloading";
constexpr const char *kDone = "done";            // result files on disk
constexpr const char *kFailed = "failed";        // the batch failed; not resumed
constexpr const char *kAbandoned = "abandoned";  // cancelled before a batch existed
// Direct mode (requests sent one by one): results are being written to the
// .partial files named by output_path / error_path, then renamed.
constexpr const char *kSending = "sending";
constexpr const char *kFinishing = "finishing";  // every request has its result
}  // namespace step

struct JobRecord {
  std::string id;  // 24 hex: also the batch's obatch_job metadata value
  std::string digest, provider, base_url, endpoint;  // the resume key
  std::string model, source_path, retry_of;
  std::string source_digest;  // of the source file as read (not the sent copy)
  uint64_t requests = 0, input_bytes = 0;
  std::string step;
  std::string input_file_id, batch_id, remote_status;
  std::string output_file_id, error_file_id, output_path, error_path;
  std::string error;  // the last failure, for `obatch jobs`
  int64_t created_at = 0, updated_at = 0;
  int64_t owner_pid = 0;  // 0: no process holds the job
  std::string owner_start;
  bool running = false;       // computed on read: the owner is alive
  uint64_t parts = 0;         // computed on read: rows in the parts table (0: one batch)
  std::string mode;           // "batch" or "direct" (requests sent one by one)
  uint64_t results_done = 0;  // direct: results durably written so far
  // Custom ids sent as others ({"user's id":"id sent"}; "" for none): a
  // provider that refuses some ids (Anthropic) gets mapped ones.
  std::string id_map;
};

// One part of a job of several batches: its own batch's life, with the same
// steps as a job of one. Written by the process that holds the job.
struct PartRecord {
  std::string job_id;
  uint32_t index = 0;  // 0-based, in the order of the parts' first requests
  std::string model;
  uint64_t requests = 0, input_bytes = 0, tokens = 0;
  uint32_t attempt = 0;  // creates that failed on the token limit so far
  std::string step;
  std::string input_file_id, batch_id, remote_status, output_file_id, error_file_id;
  std::string output_path, error_path;  // its downloaded files (not the job's)
  std::string failure;  // errors.data[0].code of its last failed batch
  std::string error;
};

}  // namespace obatch
