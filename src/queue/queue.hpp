// The deferred-request queue behind obatch_queue_t: single requests put now
// and stored (SQLite or PostgreSQL), collected into batches by workers when
// a flush rule fires, their results stored for whoever asks later.
//
// Exactly once: a request moves from "queued" to a flush in one
// transaction (PostgreSQL: rows locked with SKIP LOCKED, so workers never
// wait on each other); a flush is run by the worker holding its lease,
// which renews it every step. A worker that dies loses the lease, and the
// next worker to take the flush submits the same input again: the job
// journal resumes it, or finds its batch at the provider by the input's
// derived job id (input_twin), so no second batch is created.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/config.hpp"

namespace obatch {

class Batch;
struct JobSnapshot;
class SqlDb;
class Provider;

struct QueueEntry {
  std::string ticket;
  std::string state;  // queued, submitted, completed, failed, expired
  std::string provider, endpoint, model;
  int status_code = 0;                    // the answer's HTTP status; 0: none yet
  std::string response;                   // its body (JSON text); "" when none
  std::string error_code, error_message;  // why it failed or expired
  std::string batch_id;                   // the batch it was (last) sent in
  uint32_t attempts = 0;                  // batches it was sent in
  int64_t created_ms = 0, submitted_ms = 0, ended_ms = 0;  // unix ms; 0: not yet
  bool ended() const { return state == "completed" || state == "failed" || state == "expired"; }
};

struct QueueStats {
  // The store, as of the call.
  uint64_t queued = 0, submitted = 0, completed = 0, failed = 0, expired = 0;
  uint64_t flushes_running = 0;  // batches being run, by any worker
  int64_t oldest_queued_ms = 0;  // unix ms of the oldest queued request; 0: none
  // What this call's work step did.
  uint64_t flushed = 0;    // requests put into new batches
  uint64_t stored = 0;     // results stored
  uint64_t requeued = 0;   // requests of expired / cancelled batches queued again
  uint64_t taken_over = 0; // batches taken over from a worker whose lease ran out
  uint64_t pruned = 0;     // ended requests removed after the retention
  uint64_t held = 0;       // batches this worker runs now
};

class Queue {
 public:
  // Opens (creates or migrates) the store. Throws Error.
  Queue(const Config &conf, const std::string &store);
  ~Queue();  // gives up this worker's leases: another worker takes them at once

  // Checks the request as obatch_add does and stores it; returns its
  // ticket. With client_id "" the ticket comes from the request itself
  // (provider, endpoint, canonical body): the same request again gets the
  // same ticket and is not stored twice. A client_id is the ticket; used
  // again for another request it is Error(EDUPLICATE).
  std::string put(const std::string &endpoint, const std::string &body_json,
                  const std::string &client_id);
  // Throws Error(ENOTFOUND) for an unknown ticket.
  QueueEntry get(const std::string &ticket);
  // Waits up to timeout_ms for the request to end; true when it has.
  bool wait(const std::string &ticket, int timeout_ms, QueueEntry *out);
  // One worker step (see obatch_queue_work); waits up to timeout_ms for
  // something to do when there was nothing.
  QueueStats work(int timeout_ms);
  QueueStats stats();

 private:
  struct Flush;

  bool step(QueueStats *st);
  void renew_leases();
  bool check_flush(const std::string &id, Flush &f, QueueStats *st);
  void store_results(const std::string &id, Flush &f, const JobSnapshot &s, QueueStats *st);
  void fail_flush(const std::string &id, int code, const std::string &message);
  bool take_over(QueueStats *st);
  bool flush_due(QueueStats *st);
  void start_flush(const std::string &id, const std::string &provider);
  void prune(QueueStats *st);
  void count(SqlDb &db, QueueStats *st);
  std::shared_ptr<const Provider> provider_for(const std::string &model);

  Config conf_;
  std::string store_, worker_id_, work_dir_, journal_;
  int64_t flush_requests_, flush_bytes_, flush_age_ms_, lease_ms_, retention_ms_;
  int64_t max_attempts_;
  std::mutex api_mu_;  // put, get, stats: one connection
  std::unique_ptr<SqlDb> db_;
  std::mutex listen_mu_;  // wait: its own connection (LISTEN on PostgreSQL)
  std::unique_ptr<SqlDb> listen_db_;
  std::mutex work_mu_;  // work: its own connection and the batches it runs
  std::unique_ptr<SqlDb> work_db_;
  std::map<std::string, std::unique_ptr<Flush>> held_;  // by flush id
  int64_t last_prune_ms_ = 0, last_renew_ms_ = 0;
  std::map<std::string, std::shared_ptr<const Provider>> providers_;  // by model
};

// The store to open: `store`, else $OBATCH_QUEUE, else
// $XDG_STATE_HOME/obatch/queue.db, else ~/.local/state/obatch/queue.db.
std::string queue_store_path(const std::string &store);

// The ticket of a request without a client id: "obq_" and 32 hex digits of
// SHA-256 over provider, endpoint and the canonical body.
std::string derived_ticket(const std::string &provider, const std::string &endpoint,
                           const std::string &canonical_body);

}  // namespace obatch
