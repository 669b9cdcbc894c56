#include "store/journal.hpp"

#include <sqlite3.h>

#include <cstdlib>
#include <ctime>
#include <functional>
#include <set>

#include "core/config.hpp"
#include "obatch/obatch.h"
#include "store/owner.hpp"
#include "store/sqlite_open.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

namespace obatch {

namespace {

constexpr int kSchemaVersion = 4;  // 2: parts; 3: direct mode (mode, results_done); 4: id_map
constexpr int kBusyTimeoutMs = 30000;  // another process's step is short

const char kSchema[] =
    "CREATE TABLE IF NOT EXISTS jobs ("
    " id TEXT PRIMARY KEY,"
    " digest TEXT NOT NULL, provider TEXT NOT NULL, base_url TEXT NOT NULL,"
    " endpoint TEXT NOT NULL, model TEXT NOT NULL DEFAULT '',"
    " source_path TEXT NOT NULL DEFAULT '', source_digest TEXT NOT NULL DEFAULT '',"
    " retry_of TEXT NOT NULL DEFAULT '',"
    " requests INTEGER NOT NULL DEFAULT 0, input_bytes INTEGER NOT NULL DEFAULT 0,"
    " step TEXT NOT NULL,"
    " input_file_id TEXT NOT NULL DEFAULT '', batch_id TEXT NOT NULL DEFAULT '',"
    " remote_status TEXT NOT NULL DEFAULT '',"
    " output_file_id TEXT NOT NULL DEFAULT '', error_file_id TEXT NOT NULL DEFAULT '',"
    " output_path TEXT NOT NULL DEFAULT '', error_path TEXT NOT NULL DEFAULT '',"
    " error TEXT NOT NULL DEFAULT '',"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    " owner_pid INTEGER NOT NULL DEFAULT 0, owner_start TEXT NOT NULL DEFAULT '',"
    " mode TEXT NOT NULL DEFAULT 'batch', results_done INTEGER NOT NULL DEFAULT 0,"
    " id_map TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX IF NOT EXISTS jobs_by_input ON jobs (digest, provider, base_url, endpoint);"
    "CREATE INDEX IF NOT EXISTS jobs_by_batch ON jobs (batch_id);"
    "CREATE TABLE IF NOT EXISTS parts ("
    " job_id TEXT NOT NULL, idx INTEGER NOT NULL,"
    " model TEXT NOT NULL DEFAULT '',"
    " requests INTEGER NOT NULL DEFAULT 0, input_bytes INTEGER NOT NULL DEFAULT 0,"
    " tokens INTEGER NOT NULL DEFAULT 0, attempt INTEGER NOT NULL DEFAULT 0,"
    " step TEXT NOT NULL,"
    " input_file_id TEXT NOT NULL DEFAULT '', batch_id TEXT NOT NULL DEFAULT '',"
    " remote_status TEXT NOT NULL DEFAULT '',"
    " output_file_id TEXT NOT NULL DEFAULT '', error_file_id TEXT NOT NULL DEFAULT '',"
    " output_path TEXT NOT NULL DEFAULT '', error_path TEXT NOT NULL DEFAULT '',"
    " failure TEXT NOT NULL DEFAULT '', error TEXT NOT NULL DEFAULT '',"
    " updated_at INTEGER NOT NULL,"
    " PRIMARY KEY (job_id, idx));"
    "CREATE INDEX IF NOT EXISTS parts_by_batch ON parts (batch_id);";

const char kColumns[] =
    "id, digest, provider, base_url, endpoint, model, source_path, source_digest, retry_of,"
    " requests,"
    " input_bytes, step, input_file_id, batch_id, remote_status, output_file_id,"
    " error_file_id, output_path, error_path, error, created_at, updated_at, owner_pid,"
    " owner_start, (SELECT COUNT(*) FROM parts WHERE parts.job_id = jobs.id), mode, results_done,"
    " id_map";

const char kPartColumns[] =
    "job_id, idx, model, requests, input_bytes, tokens, attempt, step, input_file_id, batch_id,"
    " remote_status, output_file_id, error_file_id, output_path, error_path, failure, error";

// Columns update() may set: text written by the engine as a job moves on.
const std::set<std::string> kUpdatable = {
    "step",        "input_file_id", "batch_id", "remote_status", "output_file_id", "error_file_id",
    "output_path", "error_path",    "error",    "model",         "results_done", "id_map"};
const std::set<std::string> kPartUpdatable = {
    "step",          "input_file_id", "batch_id",   "remote_status", "output_file_id",
    "error_file_id", "output_path",   "error_path", "error",         "attempt",
    "failure"};

int64_t now() { return static_cast<int64_t>(std::time(nullptr)); }

}  // namespace

std::string journal_path(const Config &conf) {
  std::string p;
  if (conf.has("state")) {
    p = conf.get("state");
  } else if (const char *env = getenv("OBATCH_STATE"); env && *env) {
    p = env;
  } else if (const char *xdg = getenv("XDG_STATE_HOME"); xdg && *xdg == '/') {
    p = path_join(path_join(xdg, "obatch"), "jobs.db");
  } else if (const char *home = getenv("HOME"); home && *home == '/') {
    p = path_join(path_join(path_join(home, ".local/state"), "obatch"), "jobs.db");
  }
  return p == "off" ? "" : p;
}

// A prepared statement, finalized when it goes out of scope.
class Journal::Stmt {
 public:
  Stmt(Journal *j, const std::string &sql) : j_(j) {
    if (sqlite3_prepare_v2(j->db_, sql.c_str(), -1, &s_, nullptr) != SQLITE_OK)
      j->fail("cannot prepare a query");
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt &bind(int i, const std::string &v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt &bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  // True while there is a row.
  bool step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) j_->fail("cannot read or write");
    return false;
  }
  std::string text(int i) {
    const unsigned char *t = sqlite3_column_text(s_, i);
    return t ? std::string(reinterpret_cast<const char *>(t),
                           static_cast<size_t>(sqlite3_column_bytes(s_, i)))
             : std::string();
  }
  int64_t integer(int i) { return sqlite3_column_int64(s_, i); }

 private:
  Journal *j_;
  sqlite3_stmt *s_ = nullptr;
};

// One IMMEDIATE transaction: the write lock is taken first, so a
// read-then-write cannot interleave with another process's.
class Transaction {
 public:
  explicit Transaction(std::function<void(const char *)> exec) : exec_(std::move(exec)) {
    exec_("BEGIN IMMEDIATE");
  }
  ~Transaction() {
    if (!done_) {
      try {
        exec_("ROLLBACK");
      } catch (...) {
      }
    }
  }
  void commit() {
    exec_("COMMIT");
    done_ = true;
  }

 private:
  std::function<void(const char *)> exec_;
  bool done_ = false;
};

Journal::Journal(std::string path) : path_(std::move(path)) {
  // WAL: readers (obatch jobs) never block the writer; FULL: a step
  // written is on disk before the call it announces is sent.
  db_ = open_shared_sqlite(path_, "the job journal", kBusyTimeoutMs, SQLITE_OPEN_FULLMUTEX);
  try {
    Transaction t([this](const char *sql) { exec(sql); });
    Stmt v(this, "PRAGMA user_version");
    int version = v.step() ? static_cast<int>(v.integer(0)) : 0;
    if (version > kSchemaVersion)
      throw Error(OBATCH_EIO, "the job journal " + path_ +
                                  " was written by a newer obatch (schema " +
                                  std::to_string(version) + ")");
    exec(kSchema);
    // Columns of later schemas, on a journal made before them.
    bool missing = false;
    {
      Stmt has_mode(this, "SELECT COUNT(*) FROM pragma_table_info('jobs') WHERE name = 'mode'");
      missing = has_mode.step() && has_mode.integer(0) == 0;
    }
    if (missing)
      exec("ALTER TABLE jobs ADD COLUMN mode TEXT NOT NULL DEFAULT 'batch';"
           "ALTER TABLE jobs ADD COLUMN results_done INTEGER NOT NULL DEFAULT 0;");
    {
      Stmt has_map(this, "SELECT COUNT(*) FROM pragma_table_info('jobs') WHERE name = 'id_map'");
      missing = has_map.step() && has_map.integer(0) == 0;
    }
    if (missing) exec("ALTER TABLE jobs ADD COLUMN id_map TEXT NOT NULL DEFAULT '';");
    exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
    t.commit();
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

Journal::~Journal() { sqlite3_close(db_); }

void Journal::fail(const std::string &what) {
  throw Error(OBATCH_EIO, "job journal " + path_ + ": " + what + ": " + sqlite_failure(db_));
}

void Journal::exec(const char *sql) {
  char *err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    sqlite3_free(err);
    fail(std::string("cannot run ") + std::string(sql).substr(0, 24));
  }
}

std::vector<JobRecord> Journal::select(const std::string &where,
                                       const std::vector<std::string> &args) {
  Stmt s(this, std::string("SELECT ") + kColumns + " FROM jobs " + where);
  for (size_t i = 0; i < args.size(); i++) s.bind(static_cast<int>(i + 1), args[i]);
  std::vector<JobRecord> out;
  while (s.step()) {
    JobRecord r;
    int c = 0;
    r.id = s.text(c++);
    r.digest = s.text(c++);
    r.provider = s.text(c++);
    r.base_url = s.text(c++);
    r.endpoint = s.text(c++);
    r.model = s.text(c++);
    r.source_path = s.text(c++);
    r.source_digest = s.text(c++);
    r.retry_of = s.text(c++);
    r.requests = static_cast<uint64_t>(s.integer(c++));
    r.input_bytes = static_cast<uint64_t>(s.integer(c++));
    r.step = s.text(c++);
    r.input_file_id = s.text(c++);
    r.batch_id = s.text(c++);
    r.remote_status = s.text(c++);
    r.output_file_id = s.text(c++);
    r.error_file_id = s.text(c++);
    r.output_path = s.text(c++);
    r.error_path = s.text(c++);
    r.error = s.text(c++);
    r.created_at = s.integer(c++);
    r.updated_at = s.integer(c++);
    r.owner_pid = s.integer(c++);
    r.owner_start = s.text(c++);
    r.parts = static_cast<uint64_t>(s.integer(c++));
    r.mode = s.text(c++);
    r.results_done = static_cast<uint64_t>(s.integer(c++));
    r.id_map = s.text(c++);
    r.running = process_alive({r.owner_pid, r.owner_start});
    out.push_back(std::move(r));
  }
  return out;
}

Journal::Claim Journal::claim(const JobRecord &fresh, bool force_new,
                              const std::string &fallback_id, JobRecord *out) {
  Transaction t([this](const char *sql) { exec(sql); });
  const ProcessId me = this_process();
  if (!force_new) {
    auto found = select(
        "WHERE digest = ?1 AND provider = ?2 AND base_url = ?3 AND endpoint = ?4"
        " AND step NOT IN ('failed', 'abandoned') ORDER BY created_at DESC, rowid DESC LIMIT 1",
        {fresh.digest, fresh.provider, fresh.base_url, fresh.endpoint});
    if (!found.empty()) {
      *out = found.front();
      if (out->running) return Claim::kFollow;
      hold(out);
      t.commit();
      return Claim::kResumed;
    }
  }
  JobRecord r = fresh;
  if (!select("WHERE id = ?1", {r.id}).empty()) r.id = fallback_id;
  r.step = step::kNew;
  r.created_at = r.updated_at = now();
  r.owner_pid = me.pid;
  r.owner_start = me.start;
  Stmt(this,
       "INSERT INTO jobs (id, digest, provider, base_url, endpoint, model, source_path, retry_of,"
       " requests, input_bytes, step, created_at, updated_at, owner_pid, owner_start,"
       " source_digest, mode)"
       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)")
      .bind(1, r.id)
      .bind(2, r.digest)
      .bind(3, r.provider)
      .bind(4, r.base_url)
      .bind(5, r.endpoint)
      .bind(6, r.model)
      .bind(7, r.source_path)
      .bind(8, r.retry_of)
      .bind(9, static_cast<int64_t>(r.requests))
      .bind(10, static_cast<int64_t>(r.input_bytes))
      .bind(11, r.step)
      .bind(12, r.created_at)
      .bind(13, r.updated_at)
      .bind(14, r.owner_pid)
      .bind(15, r.owner_start)
      .bind(16, r.source_digest)
      .bind(17, r.mode.empty() ? std::string("batch") : r.mode)
      .step();
  t.commit();
  r.running = true;
  *out = r;
  return Claim::kNew;
}

bool Journal::take_over(const std::string &id, JobRecord *out) {
  Transaction t([this](const char *sql) { exec(sql); });
  auto found = select("WHERE id = ?1", {id});
  if (found.empty()) return false;
  *out = found.front();
  const ProcessId me = this_process();
  if (out->running && !(out->owner_pid == me.pid && out->owner_start == me.start)) return false;
  hold(out);
  t.commit();
  return true;
}

void Journal::hold(JobRecord *r) {
  const ProcessId me = this_process();
  Stmt(this, "UPDATE jobs SET owner_pid = ?1, owner_start = ?2, updated_at = ?3 WHERE id = ?4")
      .bind(1, me.pid)
      .bind(2, me.start)
      .bind(3, now())
      .bind(4, r->id)
      .step();
  r->owner_pid = me.pid;
  r->owner_start = me.start;
  r->running = true;
}

void Journal::update(const std::string &id,
                     const std::vector<std::pair<std::string, std::string>> &cols) {
  set_columns("jobs", kUpdatable, "id = ?2", 1, [&](Stmt &s) { s.bind(2, id); }, cols);
}

// UPDATE `table` SET updated_at and `cols` (each in `allowed`) WHERE
// `where` (its keys are ?2 .. ?(1 + keys), bound by `bind_keys`): one
// statement, its own transaction.
void Journal::set_columns(const char *table, const std::set<std::string> &allowed,
                          const char *where, int keys, const std::function<void(Stmt &)> &bind_keys,
                          const std::vector<std::pair<std::string, std::string>> &cols) {
  const int first = 2 + keys;
  std::string sql = std::string("UPDATE ") + table + " SET updated_at = ?1";
  for (size_t i = 0; i < cols.size(); i++) {
    if (!allowed.count(cols[i].first))
      throw Error(OBATCH_EINTERNAL, std::string("job journal: column ") + table + "." +
                                        cols[i].first + " is not updatable");
    sql += ", " + cols[i].first + " = ?" + std::to_string(static_cast<int>(i) + first);
  }
  sql += std::string(" WHERE ") + where;
  Stmt s(this, sql);
  s.bind(1, now());
  bind_keys(s);
  for (size_t i = 0; i < cols.size(); i++) s.bind(static_cast<int>(i) + first, cols[i].second);
  s.step();
}

void Journal::release(const std::string &id) {
  const ProcessId me = this_process();
  Stmt(this,
       "UPDATE jobs SET owner_pid = 0, owner_start = '' WHERE id = ?1 AND owner_pid = ?2"
       " AND owner_start = ?3")
      .bind(1, id)
      .bind(2, me.pid)
      .bind(3, me.start)
      .step();
}

std::vector<PartRecord> Journal::parts(const std::string &job_id) {
  Stmt s(this, std::string("SELECT ") + kPartColumns + " FROM parts WHERE job_id = ?1 ORDER BY idx");
  s.bind(1, job_id);
  std::vector<PartRecord> out;
  while (s.step()) {
    PartRecord p;
    int c = 0;
    p.job_id = s.text(c++);
    p.index = static_cast<uint32_t>(s.integer(c++));
    p.model = s.text(c++);
    p.requests = static_cast<uint64_t>(s.integer(c++));
    p.input_bytes = static_cast<uint64_t>(s.integer(c++));
    p.tokens = static_cast<uint64_t>(s.integer(c++));
    p.attempt = static_cast<uint32_t>(s.integer(c++));
    p.step = s.text(c++);
    p.input_file_id = s.text(c++);
    p.batch_id = s.text(c++);
    p.remote_status = s.text(c++);
    p.output_file_id = s.text(c++);
    p.error_file_id = s.text(c++);
    p.output_path = s.text(c++);
    p.error_path = s.text(c++);
    p.failure = s.text(c++);
    p.error = s.text(c++);
    out.push_back(std::move(p));
  }
  return out;
}

void Journal::add_parts(const std::vector<PartRecord> &parts) {
  Transaction t([this](const char *sql) { exec(sql); });
  for (const PartRecord &p : parts)
    Stmt(this,
         "INSERT OR IGNORE INTO parts (job_id, idx, model, requests, input_bytes, tokens, step,"
         " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
        .bind(1, p.job_id)
        .bind(2, static_cast<int64_t>(p.index))
        .bind(3, p.model)
        .bind(4, static_cast<int64_t>(p.requests))
        .bind(5, static_cast<int64_t>(p.input_bytes))
        .bind(6, static_cast<int64_t>(p.tokens))
        .bind(7, p.step.empty() ? std::string(step::kNew) : p.step)
        .bind(8, now())
        .step();
  t.commit();
}

void Journal::update_part(const std::string &job_id, uint32_t index,
                          const std::vector<std::pair<std::string, std::string>> &cols) {
  set_columns(
      "parts", kPartUpdatable, "job_id = ?2 AND idx = ?3", 2,
      [&](Stmt &s) { s.bind(2, job_id).bind(3, static_cast<int64_t>(index)); }, cols);
}

bool Journal::find(const std::string &ref, JobRecord *out) {
  if (ref.empty()) return false;
  auto found = select("WHERE id = ?1 OR batch_id = ?1 ORDER BY created_at DESC LIMIT 1", {ref});
  if (found.empty()) {
    // A part's batch id names its job.
    Stmt s(this, "SELECT job_id FROM parts WHERE batch_id = ?1 LIMIT 1");
    s.bind(1, ref);
    if (s.step()) found = select("WHERE id = ?1", {s.text(0)});
  }
  if (found.empty() && ref.size() >= 4) {
    found = select("WHERE substr(id, 1, length(?1)) = ?1 LIMIT 2", {ref});
    if (found.size() > 1)
      throw Error(OBATCH_EINVAL, "job " + ref + " is ambiguous: give more of its id");
  }
  if (found.empty()) return false;
  *out = found.front();
  return true;
}

std::vector<JobRecord> Journal::list() {
  return select("ORDER BY created_at DESC, rowid DESC", {});
}

uint64_t Journal::prune() {
  Transaction t([this](const char *sql) { exec(sql); });
  uint64_t n = 0;
  for (auto &r : select("WHERE step IN ('done', 'failed', 'abandoned')", {})) {
    if (r.running) continue;
    Stmt(this, "DELETE FROM jobs WHERE id = ?1").bind(1, r.id).step();
    Stmt(this, "DELETE FROM parts WHERE job_id = ?1").bind(1, r.id).step();
    n++;
  }
  t.commit();
  return n;
}

}  // namespace obatch
