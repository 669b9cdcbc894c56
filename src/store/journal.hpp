// The durable job journal: one SQLite row per submission, written before
// and after each step of its life, so that a process killed at any point
// can resume without a second upload or a second batch (a second batch is
// paid twice). Several processes may share one journal: every
// read-then-write runs in one IMMEDIATE transaction, and a job is held by
// one live process at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "store/job_record.hpp"

struct sqlite3;

namespace obatch {

class Config;

// Where the journal is: config `state`, else $OBATCH_STATE, else
// $XDG_STATE_HOME/obatch/jobs.db, else $HOME/.local/state/obatch/jobs.db.
// "" when journaling is off (`state` = "off", or no home at all).
std::string journal_path(const Config &conf);

class Journal {
 public:
  // Opens the journal, creating it (0600, parent directories 0700).
  // Throws Error(EIO) naming the path.
  explicit Journal(std::string path);
  ~Journal();
  Journal(const Journal &) = delete;
  Journal &operator=(const Journal &) = delete;

  const std::string &path() const { return path_; }

  enum class Claim {
    kNew,      // `fresh` was inserted, held by this process
    kResumed,  // an unfinished job with the same key, now held by this process
    kFollow,   // an unfinished job with the same key that a live process holds
  };
  // Looks for the newest job with the same input digest, provider, base URL
  // and endpoint that is not final (unless force_new) and inserts `fresh`
  // when there is none, with the id `fallback_id` if a job has fresh.id
  // already. *out gets the job's row.
  Claim claim(const JobRecord &fresh, bool force_new, const std::string &fallback_id,
              JobRecord *out);

  // Takes a job whose holder is gone. False when a live process holds it.
  bool take_over(const std::string &id, JobRecord *out);

  // Sets text columns of one job, and updated_at, in one transaction.
  void update(const std::string &id, const std::vector<std::pair<std::string, std::string>> &cols);

  // Lets go of a job this process holds (a follower may then take it).
  void release(const std::string &id);

  // A job by id, unique id prefix (4+ characters) or batch id.
  bool find(const std::string &ref, JobRecord *out);
  // Every job, newest first.
  std::vector<JobRecord> list();
  // Forgets final jobs (done, failed, abandoned) that no live process holds,
  // and their parts.
  uint64_t prune();

  // The parts of a job of several batches, by index; none for a job of one.
  std::vector<PartRecord> parts(const std::string &job_id);
  // Records a job's parts (step "new"), all in one transaction.
  void add_parts(const std::vector<PartRecord> &parts);
  // Sets columns of one part (the names of update(), and "attempt", "failure").
  void update_part(const std::string &job_id, uint32_t index,
                   const std::vector<std::pair<std::string, std::string>> &cols);

 private:
  class Stmt;
  // Marks `r` as held by this process (inside the caller's transaction).
  void hold(JobRecord *r);
  void exec(const char *sql);
  void set_columns(const char *table, const std::set<std::string> &allowed, const char *where,
                   int keys, const std::function<void(Stmt &)> &bind_keys,
                   const std::vector<std::pair<std::string, std::string>> &cols);
  [[noreturn]] void fail(const std::string &what);
  std::vector<JobRecord> select(const std::string &where, const std::vector<std::string> &args);

  std::string path_;
  sqlite3 *db_ = nullptr;
};

}  // namespace obatch
