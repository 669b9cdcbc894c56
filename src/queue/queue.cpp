#include "queue/queue.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "core/batch_input.hpp"
#include "core/canonical_json.hpp"
#include "core/request.hpp"
#include "engine/batch.hpp"
#include "obatch/obatch.h"
#include "providers/provider.hpp"
#include "queue/sql_db.hpp"
#include "store/journal.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/sha256.hpp"

namespace obatch {

namespace {

constexpr int kSchemaVersion = 1;
constexpr const char *kChannel = "obatch_queue";  // NOTIFY when results are stored
constexpr int64_t kPruneEveryMs = 60000;
constexpr int64_t kFailedFlushBackoffMs = 30000;  // a flush whose run failed, tried again
constexpr int kTakeOverPerStep = 4;

// Both dialects: the SQL differs only in the key of the requests table.
std::string schema(bool postgres) {
  const std::string seq =
      postgres ? "seq BIGSERIAL PRIMARY KEY" : "seq INTEGER PRIMARY KEY AUTOINCREMENT";
  return "CREATE TABLE IF NOT EXISTS obatch_queue_meta ("
         " key TEXT PRIMARY KEY, value TEXT NOT NULL);"
         "CREATE TABLE IF NOT EXISTS obatch_queue_requests (" +
         seq +
         ", ticket TEXT NOT NULL UNIQUE,"
         " provider TEXT NOT NULL, endpoint TEXT NOT NULL, model TEXT NOT NULL DEFAULT '',"
         " body TEXT NOT NULL, bytes BIGINT NOT NULL,"
         " state TEXT NOT NULL, flush_id TEXT, attempts INTEGER NOT NULL DEFAULT 0,"
         " status_code INTEGER NOT NULL DEFAULT 0, response TEXT,"
         " error_code TEXT NOT NULL DEFAULT '', error_message TEXT NOT NULL DEFAULT '',"
         " created_ms BIGINT NOT NULL, submitted_ms BIGINT NOT NULL DEFAULT 0,"
         " ended_ms BIGINT NOT NULL DEFAULT 0);"
         "CREATE INDEX IF NOT EXISTS obatch_queue_requests_by_state"
         " ON obatch_queue_requests (state, provider, endpoint, seq);"
         "CREATE INDEX IF NOT EXISTS obatch_queue_requests_by_flush"
         " ON obatch_queue_requests (flush_id);"
         "CREATE TABLE IF NOT EXISTS obatch_queue_flushes ("
         " id TEXT PRIMARY KEY, provider TEXT NOT NULL, endpoint TEXT NOT NULL,"
         " state TEXT NOT NULL, owner TEXT NOT NULL DEFAULT '', lease_until BIGINT NOT NULL,"
         " batch_id TEXT NOT NULL DEFAULT '', remote_status TEXT NOT NULL DEFAULT '',"
         " requests BIGINT NOT NULL, error TEXT NOT NULL DEFAULT '',"
         " created_ms BIGINT NOT NULL, ended_ms BIGINT NOT NULL DEFAULT 0);"
         "CREATE INDEX IF NOT EXISTS obatch_queue_flushes_by_state"
         " ON obatch_queue_flushes (state, lease_until);";
}

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// A duration key: Config::set refused a value that is not one.
int64_t duration_ms(const Config &conf, const char *key, const char *fallback) {
  double ms = 0;
  parse_duration_ms(conf.get(key, fallback), &ms);
  return static_cast<int64_t>(ms);
}

std::string num(int64_t n) { return std::to_string(n); }

// Where a flush's batch is journaled: the config's journal, else one next
// to a SQLite store, else the default place (the queue needs one: it is
// how a batch is found again after a worker dies).
std::string queue_journal(const Config &conf, const std::string &store) {
  std::string path = journal_path(conf);
  if (!path.empty()) return path;
  if (!is_postgres_uri(store)) return store + "-jobs.db";
  Config defaults = conf;
  defaults.set("state", nullptr);
  path = journal_path(defaults);
  if (path.empty()) {
    const char *env = getenv("OBATCH_STATE");
    throw Error(OBATCH_ECONFIG,
                std::string("the queue needs a job journal for its batches: set state to a file (") +
                    (env && std::string(env) == "off"
                         ? "the default one is off: OBATCH_STATE is \"off\""
                         : "with no HOME or XDG_STATE_HOME there is no default place") +
                    ")");
  }
  return path;
}

}  // namespace

std::string queue_store_path(const std::string &store) {
  if (!store.empty()) return store;
  if (const char *env = getenv("OBATCH_QUEUE"); env && *env) return env;
  if (const char *xdg = getenv("XDG_STATE_HOME"); xdg && *xdg == '/')
    return path_join(path_join(xdg, "obatch"), "queue.db");
  if (const char *home = getenv("HOME"); home && *home == '/')
    return path_join(path_join(path_join(home, ".local/state"), "obatch"), "queue.db");
  throw Error(OBATCH_ECONFIG, "no queue store given, and no HOME or XDG_STATE_HOME for the "
                              "default one: name a SQLite file or a postgresql:// URI");
}

std::string derived_ticket(const std::string &provider, const std::string &endpoint,
                           const std::string &canonical_body) {
  Sha256 sha;
  sha.update(provider.data(), provider.size());
  sha.update("", 1);
  sha.update(endpoint.data(), endpoint.size());
  sha.update("", 1);
  sha.update(canonical_body.data(), canonical_body.size());
  return "obq_" + sha.hex().substr(0, 32);
}

// A flush this worker runs: its batch, submitted.
struct Queue::Flush {
  std::unique_ptr<Batch> batch;
  std::string batch_id;  // as stored
};

Queue::Queue(const Config &conf, const std::string &store) : conf_(conf), store_(store) {
  flush_requests_ = conf_.get_int("flush_requests", 10000);
  flush_bytes_ = conf_.get_int("flush_bytes", 100000000);
  flush_age_ms_ = duration_ms(conf_, "flush_age", "10m");
  lease_ms_ = duration_ms(conf_, "lease", "2m");
  retention_ms_ = duration_ms(conf_, "retention", "168h");
  max_attempts_ = conf_.get_int("max_attempts", 3);
  if (lease_ms_ < 1000) throw Error(OBATCH_ECONFIG, "lease must be at least 1s");
  // An unknown provider fails at open, not at the first put.
  if (!conf_.get("provider").empty()) provider_for("");
  // Before the store is opened: a PostgreSQL store without a journal fails
  // without connecting to the server.
  journal_ = queue_journal(conf_, store_);
  db_ = open_store(store_);
  {
    SqlTransaction t(*db_);
    // Workers starting together would race on CREATE TABLE IF NOT EXISTS.
    if (db_->postgres()) db_->run("SELECT pg_advisory_xact_lock(7305870437)");
    db_->script(schema(db_->postgres()));
    SqlResult v = db_->run("SELECT value FROM obatch_queue_meta WHERE key = 'schema'");
    if (!v.rows.empty() && v.number(0, 0) > kSchemaVersion)
      throw Error(OBATCH_EIO, "the queue " + db_->name() + " was made by a newer obatch (schema " +
                                  v.text(0, 0) + ")");
    if (v.rows.empty())
      db_->run("INSERT INTO obatch_queue_meta (key, value) VALUES ('schema', $1)",
               {num(kSchemaVersion)});
    t.commit();
  }
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  worker_id_ = std::string(host) + ":" + num(getpid()) + ":" + random_hex(6);
}

Queue::~Queue() {
  std::lock_guard<std::mutex> lock(work_mu_);
  held_.clear();  // stops their engines; the batches run on at the provider
  if (!work_db_) return;
  try {
    work_db_->run("UPDATE obatch_queue_flushes SET lease_until = 0 WHERE owner = $1 AND "
                  "state = 'running'",
                  {worker_id_});
  } catch (const Error &) {
    // The leases run out by themselves.
  }
}

std::shared_ptr<const Provider> Queue::provider_for(const std::string &model) {
  auto it = providers_.find(model);
  if (it != providers_.end()) return it->second;
  auto p = provider_for_batch(conf_, model);
  providers_.emplace(model, p);
  return p;
}

std::string Queue::put(const std::string &endpoint, const std::string &body_json,
                       const std::string &client_id) {
  std::lock_guard<std::mutex> lock(api_mu_);
  const std::string where = client_id.empty() ? "request" : "request " + message_quote(client_id);
  Request r = parse_request_body(body_json, client_id,
                                 endpoint.empty() ? conf_.get("endpoint") : endpoint, where);
  std::shared_ptr<const Provider> provider = provider_for(r.model);
  r.body = canonical_json(r.body, where);
  const std::string ticket =
      client_id.empty() ? derived_ticket(provider->name(), r.url, r.body) : client_id;
  // The checks obatch_add makes, against the provider's rules for a batch.
  BatchInput check("", "request");
  check.set_rules(provider->rules(conf_));
  Request copy = r;
  copy.custom_id = ticket;
  check.append(std::move(copy), where);
  const uint64_t bytes = check.bytes();
  SqlResult ins = db_->run(
      std::string("INSERT INTO obatch_queue_requests (ticket, provider, endpoint, model, body, "
                  "bytes, state, created_ms) VALUES ($1, $2, $3, $4, $5, $6, 'queued', ") +
          db_->now_ms_sql() + ") ON CONFLICT (ticket) DO NOTHING",
      {ticket, provider->name(), r.url, r.model, r.body, num(static_cast<int64_t>(bytes))});
  if (ins.changed == 0) {
    SqlResult was = db_->run(
        "SELECT provider, endpoint, body FROM obatch_queue_requests WHERE ticket = $1", {ticket});
    if (!was.rows.empty() && (was.text(0, 0) != provider->name() || was.text(0, 1) != r.url ||
                              was.text(0, 2) != r.body))
      throw Error(OBATCH_EDUPLICATE, where + ": the ticket " + message_quote(ticket) +
                                         " is already another request's; a client id must be "
                                         "unique (leave it out to get a ticket from the request)");
  }
  return ticket;
}

namespace {

const char kEntryColumns[] =
    "r.ticket, r.state, r.provider, r.endpoint, r.model, r.status_code, r.response,"
    " r.error_code, r.error_message, COALESCE(f.batch_id, ''), r.attempts, r.created_ms,"
    " r.submitted_ms, r.ended_ms";

QueueEntry read_entry(SqlDb &db, const std::string &ticket) {
  SqlResult res = db.run(std::string("SELECT ") + kEntryColumns +
                             " FROM obatch_queue_requests r LEFT JOIN obatch_queue_flushes f"
                             " ON f.id = r.flush_id WHERE r.ticket = $1",
                         {ticket});
  if (res.rows.empty())
    throw Error(OBATCH_ENOTFOUND, "no request with the ticket " + message_quote(ticket) +
                                      " in the queue " + db.name() +
                                      " (never put there, or removed after the retention)");
  QueueEntry e;
  e.ticket = res.text(0, 0);
  e.state = res.text(0, 1);
  e.provider = res.text(0, 2);
  e.endpoint = res.text(0, 3);
  e.model = res.text(0, 4);
  e.status_code = static_cast<int>(res.number(0, 5));
  e.response = res.text(0, 6);
  e.error_code = res.text(0, 7);
  e.error_message = res.text(0, 8);
  e.batch_id = res.text(0, 9);
  e.attempts = static_cast<uint32_t>(res.number(0, 10));
  e.created_ms = res.number(0, 11);
  e.submitted_ms = res.number(0, 12);
  e.ended_ms = res.number(0, 13);
  return e;
}

}  // namespace

QueueEntry Queue::get(const std::string &ticket) {
  std::lock_guard<std::mutex> lock(api_mu_);
  return read_entry(*db_, ticket);
}

bool Queue::wait(const std::string &ticket, int timeout_ms, QueueEntry *out) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (int round = 0;; round++) {
    *out = get(ticket);
    if (out->ended()) return true;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          end - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) return false;
    // PostgreSQL wakes the waiters when results are stored; SQLite is
    // polled, often at first. Slices, so that waits on other threads take
    // turns on the listening connection.
    const int64_t slice = std::min<int64_t>(left, round < 20 ? 100 : 250);
    std::lock_guard<std::mutex> lock(listen_mu_);
    if (!listen_db_) {
      listen_db_ = open_store(store_);
      listen_db_->listen(kChannel);
      continue;  // stored while it was being opened?
    }
    listen_db_->wait_notify(static_cast<int>(slice));
  }
}

void Queue::count(SqlDb &db, QueueStats *st) {
  SqlResult res = db.run(
      "SELECT state, COUNT(*), MIN(created_ms) FROM obatch_queue_requests GROUP BY state");
  for (size_t i = 0; i < res.rows.size(); i++) {
    const std::string state = res.text(i, 0);
    const uint64_t n = static_cast<uint64_t>(res.number(i, 1));
    if (state == "queued") {
      st->queued = n;
      st->oldest_queued_ms = res.number(i, 2);
    } else if (state == "submitted") {
      st->submitted = n;
    } else if (state == "completed") {
      st->completed = n;
    } else if (state == "failed") {
      st->failed = n;
    } else if (state == "expired") {
      st->expired = n;
    }
  }
  SqlResult f = db.run("SELECT COUNT(*) FROM obatch_queue_flushes WHERE state = 'running'");
  st->flushes_running = static_cast<uint64_t>(f.number(0, 0));
}

QueueStats Queue::stats() {
  std::lock_guard<std::mutex> lock(api_mu_);
  QueueStats st;
  count(*db_, &st);
  return st;
}

QueueStats Queue::work(int timeout_ms) {
  std::lock_guard<std::mutex> lock(work_mu_);
  if (!work_db_) work_db_ = open_store(store_);
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  QueueStats st;
  while (!step(&st)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          end - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(left, 200)));
  }
  count(*work_db_, &st);
  st.held = held_.size();
  return st;
}

// One round of everything a worker does; true when something changed.
bool Queue::step(QueueStats *st) {
  const QueueStats before = *st;
  renew_leases();
  for (auto it = held_.begin(); it != held_.end();)
    it = check_flush(it->first, *it->second, st) ? held_.erase(it) : std::next(it);
  take_over(st);
  while (flush_due(st)) {
  }
  prune(st);
  return st->flushed != before.flushed || st->stored != before.stored ||
         st->requeued != before.requeued || st->taken_over != before.taken_over;
}

void Queue::renew_leases() {
  // Often enough that a lease never runs out while this worker runs.
  const int64_t now = now_ms();
  if (held_.empty() || now - last_renew_ms_ < lease_ms_ / 4) return;
  last_renew_ms_ = now;
  SqlResult mine = work_db_->run(
      std::string("UPDATE obatch_queue_flushes SET lease_until = ") + work_db_->now_ms_sql() +
          " + " + num(lease_ms_) + " WHERE owner = $1 AND state = 'running' RETURNING id",
      {worker_id_});
  std::map<std::string, bool> still;
  for (size_t i = 0; i < mine.rows.size(); i++) still[mine.text(i, 0)] = true;
  // A lease lost (this process stalled past it): another worker has the
  // flush now and finds the same batch.
  for (auto it = held_.begin(); it != held_.end();)
    it = still.count(it->first) ? std::next(it) : held_.erase(it);
}

// Moves a held flush on; true when it is over for this worker.
bool Queue::check_flush(const std::string &id, Flush &f, QueueStats *st) {
  JobSnapshot s = f.batch->poll(0);
  if (!s.batch_id.empty() && s.batch_id != f.batch_id) {
    work_db_->run("UPDATE obatch_queue_flushes SET batch_id = $2 WHERE id = $1 AND owner = $3",
                  {id, s.batch_id, worker_id_});
    f.batch_id = s.batch_id;
  }
  if (s.phase == OBATCH_PHASE_DONE) {
    store_results(id, f, s, st);
    // The store has the answers now: the downloaded files (in the batch's
    // work dir) are not needed any more.
    for (const std::string &path : {s.output_path, s.error_path})
      if (!path.empty()) unlink(path.c_str());
    return true;
  }
  if (s.phase == OBATCH_PHASE_FAILED) {
    fail_flush(id, s.error_code, s.error_message);
    return true;
  }
  return false;
}

void Queue::store_results(const std::string &id, Flush &f, const JobSnapshot &s,
                          QueueStats *st) {
  ResultsIndex &results = f.batch->results();
  SqlDb &db = *work_db_;
  SqlTransaction t(db);
  SqlResult ours = db.run(std::string("UPDATE obatch_queue_flushes SET state = 'done', ended_ms = ") +
                              db.now_ms_sql() +
                              ", remote_status = $3 WHERE id = $1 AND owner = $2 AND state = "
                              "'running'",
                          {id, worker_id_, s.remote_status});
  if (ours.changed == 0) return;  // taken over meanwhile: the new holder stores them
  const std::string store_sql =
      std::string("UPDATE obatch_queue_requests SET state = $2, status_code = $3, response = $4,"
                  " error_code = $5, error_message = $6, ended_ms = ") +
      db.now_ms_sql() + " WHERE ticket = $1 AND flush_id = $7 AND state = 'submitted'";
  const std::string requeue_sql =
      "UPDATE obatch_queue_requests SET state = CASE WHEN attempts >= $3 THEN 'expired' ELSE "
      "'queued' END, flush_id = CASE WHEN attempts >= $3 THEN flush_id ELSE NULL END,"
      " error_code = $4, error_message = $5, ended_ms = CASE WHEN attempts >= $3 THEN " +
      std::string(db.now_ms_sql()) +
      " ELSE 0 END WHERE ticket = $1 AND flush_id = $2 AND state = 'submitted'";
  ResultLine r;
  uint64_t input_index = 0;
  std::string line;
  for (uint64_t i = 0; i < results.size(); i++) {
    results.get(i, &r, &input_index, &line);
    if (r.kind == OBATCH_RESULT_MISSING) {
      const std::string why = "the batch " + f.batch_id + " ended " + s.remote_status +
                              " before this request had a result";
      SqlResult q = db.run(requeue_sql, {r.custom_id, id, num(max_attempts_),
                                         "batch_" + s.remote_status, why});
      st->requeued += q.changed;
      continue;
    }
    const char *state = r.kind == OBATCH_RESULT_SUCCEEDED ? "completed" : "failed";
    SqlResult u = db.run(store_sql, {r.custom_id, state, num(r.status_code),
                                     r.has_body ? SqlValue(r.body) : SqlValue(), r.error_code,
                                     r.error_message, id});
    st->stored += u.changed;
  }
  db.notify(kChannel, id);
  t.commit();
}

// The batch stopped without results. Failed at the provider: its requests
// fail with the reason. Anything else (network, key, a crash of the
// engine): the flush waits a while, then is taken over again (the same
// batch is found again).
void Queue::fail_flush(const std::string &id, int code, const std::string &message) {
  SqlDb &db = *work_db_;
  SqlTransaction t(db);
  if (code == OBATCH_EFAILED) {
    SqlResult ours = db.run(
        std::string("UPDATE obatch_queue_flushes SET state = 'done', remote_status = 'failed',"
                    " error = $3, ended_ms = ") +
            db.now_ms_sql() + " WHERE id = $1 AND owner = $2 AND state = 'running'",
        {id, worker_id_, message});
    if (ours.changed)
      db.run(std::string("UPDATE obatch_queue_requests SET state = 'failed', error_code = "
                         "'batch_failed', error_message = $2, ended_ms = ") +
                 db.now_ms_sql() + " WHERE flush_id = $1 AND state = 'submitted'",
             {id, message});
    db.notify(kChannel, id);
  } else {
    db.run(std::string("UPDATE obatch_queue_flushes SET owner = '', error = $3, lease_until = ") +
               db.now_ms_sql() + " + " + num(kFailedFlushBackoffMs) +
               " WHERE id = $1 AND owner = $2 AND state = 'running'",
           {id, worker_id_, message});
  }
  t.commit();
}

// Flushes whose worker stopped renewing its lease.
bool Queue::take_over(QueueStats *st) {
  SqlDb &db = *work_db_;
  SqlResult due = db.run(std::string("SELECT id, provider FROM obatch_queue_flushes WHERE state = "
                                     "'running' AND lease_until < ") +
                         db.now_ms_sql() + " ORDER BY created_ms LIMIT " +
                         num(kTakeOverPerStep));
  bool any = false;
  for (size_t i = 0; i < due.rows.size(); i++) {
    const std::string id = due.text(i, 0);
    if (held_.count(id)) continue;
    SqlResult got = db.run(std::string("UPDATE obatch_queue_flushes SET owner = $2, lease_until = ") +
                               db.now_ms_sql() + " + " + num(lease_ms_) +
                               " WHERE id = $1 AND state = 'running' AND lease_until < " +
                               db.now_ms_sql(),
                           {id, worker_id_});
    if (got.changed == 0) continue;  // another worker was quicker
    start_flush(id, due.text(i, 1));
    st->taken_over++;
    any = true;
  }
  return any;
}

// Claims the queued requests of the first provider and endpoint whose rule
// fires (requests, bytes or the oldest one's age) as a new flush, and
// submits them; false when no rule fires.
bool Queue::flush_due(QueueStats *st) {
  SqlDb &db = *work_db_;
  SqlResult groups = db.run(
      std::string("SELECT provider, endpoint, COUNT(*), SUM(bytes), ") + db.now_ms_sql() +
      " - MIN(created_ms) FROM obatch_queue_requests WHERE state = 'queued'"
      " GROUP BY provider, endpoint");
  for (size_t g = 0; g < groups.rows.size(); g++) {
    const bool due = groups.number(g, 2) >= flush_requests_ ||
                     groups.number(g, 3) >= flush_bytes_ || groups.number(g, 4) >= flush_age_ms_;
    if (!due) continue;
    const std::string provider = groups.text(g, 0), endpoint = groups.text(g, 1);
    const std::string id = random_hex(12);
    uint64_t claimed = 0;
    {
      SqlTransaction t(db);
      SqlResult rows =
          db.run("SELECT seq, bytes FROM obatch_queue_requests WHERE state = 'queued' AND "
                 "provider = $1 AND endpoint = $2 ORDER BY seq LIMIT " +
                     num(flush_requests_) + db.skip_locked_sql(),
                 {provider, endpoint});
      std::string seqs;
      int64_t bytes = 0;
      for (size_t i = 0; i < rows.rows.size(); i++) {
        bytes += rows.number(i, 1);
        if (claimed && bytes > flush_bytes_) break;
        seqs += (claimed ? "," : "") + rows.text(i, 0);
        claimed++;
      }
      if (!claimed) continue;  // another worker took them
      db.run(std::string("INSERT INTO obatch_queue_flushes (id, provider, endpoint, state, owner,"
                         " lease_until, requests, created_ms) VALUES ($1, $2, $3, 'running', $4, ") +
                 db.now_ms_sql() + " + " + num(lease_ms_) + ", $5, " + db.now_ms_sql() + ")",
             {id, provider, endpoint, worker_id_, num(static_cast<int64_t>(claimed))});
      db.run(std::string("UPDATE obatch_queue_requests SET state = 'submitted', flush_id = $1,"
                         " attempts = attempts + 1, error_code = '', error_message = '',"
                         " submitted_ms = ") +
                 db.now_ms_sql() + " WHERE seq IN (" + seqs + ")",
             {id});
      t.commit();
    }
    start_flush(id, provider);
    st->flushed += claimed;
    return true;
  }
  return false;
}

// Submits a flush's requests, in seq order: the same input each time, so a
// worker taking it over finds the batch already made for it.
void Queue::start_flush(const std::string &id, const std::string &provider) {
  SqlResult rows = work_db_->run(
      "SELECT ticket, endpoint, body FROM obatch_queue_requests WHERE flush_id = $1 AND state = "
      "'submitted' ORDER BY seq",
      {id});
  auto f = std::make_unique<Flush>();
  if (rows.rows.empty()) {
    // Nothing left to send (stored by a worker that lost its lease late).
    work_db_->run(std::string("UPDATE obatch_queue_flushes SET state = 'done', ended_ms = ") +
                      work_db_->now_ms_sql() + " WHERE id = $1 AND owner = $2",
                  {id, worker_id_});
    return;
  }
  Config conf = conf_;
  conf.set("provider", provider.c_str());
  conf.set("state", journal_.c_str());
  conf.set("metadata.obatch_flush", id.c_str());
  conf.set("force_new", nullptr);
  // Results go to the batch's own work dir; they are removed once stored.
  for (const char *key : {"output_path", "error_path", "results_dir"}) conf.set(key, nullptr);
  try {
    f->batch = std::make_unique<Batch>(conf);
    for (size_t i = 0; i < rows.rows.size(); i++)
      f->batch->add(rows.text(i, 2).c_str(), rows.text(i, 0).c_str(), rows.text(i, 1).c_str());
    f->batch->submit();
  } catch (const Error &e) {
    fail_flush(id, e.code(), e.what());
    return;
  }
  held_[id] = std::move(f);
}

void Queue::prune(QueueStats *st) {
  const int64_t now = now_ms();
  if (now - last_prune_ms_ < kPruneEveryMs) return;
  last_prune_ms_ = now;
  SqlDb &db = *work_db_;
  const std::string before = std::string(db.now_ms_sql()) + " - " + num(retention_ms_);
  SqlResult r = db.run("DELETE FROM obatch_queue_requests WHERE state IN ('completed', 'failed',"
                       " 'expired') AND ended_ms < " + before);
  st->pruned += r.changed;
  db.run("DELETE FROM obatch_queue_flushes WHERE state = 'done' AND ended_ms < " + before +
         " AND NOT EXISTS (SELECT 1 FROM obatch_queue_requests r WHERE r.flush_id ="
         " obatch_queue_flushes.id)");
}

}  // namespace obatch
