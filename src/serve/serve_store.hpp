// What `obatch serve` keeps of its own, in one SQLite file under its data
// directory: the gateway's files and batches, and which client put which
// deferred request. Rows are written before an answer says they exist.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace obatch::serve {

struct FileRow {
  std::string id, client, filename, purpose, path;
  uint64_t bytes = 0;
  int64_t created_at = 0;
};

struct BatchRow {
  std::string id, client, input_file_id, endpoint, completion_window;
  std::string metadata = "null";  // JSON object text, or null
  std::string status = "validating";
  std::string errors = "null";  // JSON {"object": "list", "data": [...]} or null
  std::string output_file_id, error_file_id;
  int64_t window_s = 0;
  int64_t created_at = 0, in_progress_at = 0, expires_at = 0, finalizing_at = 0, completed_at = 0,
          failed_at = 0, expired_at = 0, cancelling_at = 0, cancelled_at = 0;
  uint64_t total = 0, completed = 0, failed = 0;
};

bool batch_ended(const std::string &status);  // completed, failed, expired, cancelled

class ServeStore {
 public:
  explicit ServeStore(const std::string &path);  // throws std::runtime_error
  ~ServeStore();
  ServeStore(const ServeStore &) = delete;
  ServeStore &operator=(const ServeStore &) = delete;

  void add_owner(const std::string &client, const std::string &ticket);
  bool owns(const std::string &client, const std::string &ticket);

  void add_file(const FileRow &f);
  // A file of `client` (every client's with client nullopt); deleted ones are gone.
  std::optional<FileRow> file(const std::optional<std::string> &client, const std::string &id);
  bool delete_file(const std::string &client, const std::string &id);
  // `client`'s files (of `purpose`, "" any), newest first, after the file
  // `after` ("" from the newest).
  std::vector<FileRow> files(const std::string &client, const std::string &purpose,
                             const std::string &after, unsigned limit);

  void put_batch(const BatchRow &b);  // insert or replace
  std::optional<BatchRow> batch(const std::optional<std::string> &client, const std::string &id);
  // `client`'s batches, newest first, after the batch `after` ("" from the newest).
  std::vector<BatchRow> batches(const std::string &client, const std::string &after,
                                unsigned limit);
  std::vector<BatchRow> unfinished();
  std::map<std::string, uint64_t> batches_by_status();

 private:
  struct Stmt;
  sqlite3 *db_ = nullptr;
  std::mutex mu_;
};

}  // namespace obatch::serve
