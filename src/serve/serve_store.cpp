#include "serve/serve_store.hpp"

#include <sqlite3.h>

#include <stdexcept>
#include <variant>

namespace obatch::serve {

namespace {

using Value = std::variant<std::string, int64_t>;

const char kSchema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS deferred_owners (client TEXT NOT NULL, ticket TEXT NOT NULL,"
    " PRIMARY KEY (client, ticket));"
    "CREATE TABLE IF NOT EXISTS files (id TEXT PRIMARY KEY, client TEXT NOT NULL,"
    " filename TEXT NOT NULL, purpose TEXT NOT NULL, path TEXT NOT NULL, bytes INTEGER NOT NULL,"
    " created_at INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS batches (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " id TEXT NOT NULL UNIQUE, client TEXT NOT NULL, input_file_id TEXT NOT NULL,"
    " endpoint TEXT NOT NULL, completion_window TEXT NOT NULL, window_s INTEGER NOT NULL,"
    " metadata TEXT NOT NULL, status TEXT NOT NULL, errors TEXT NOT NULL,"
    " output_file_id TEXT NOT NULL, error_file_id TEXT NOT NULL, created_at INTEGER NOT NULL,"
    " in_progress_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
    " finalizing_at INTEGER NOT NULL, completed_at INTEGER NOT NULL,"
    " failed_at INTEGER NOT NULL, expired_at INTEGER NOT NULL, cancelling_at INTEGER NOT NULL,"
    " cancelled_at INTEGER NOT NULL, total INTEGER NOT NULL, completed INTEGER NOT NULL,"
    " failed INTEGER NOT NULL);";

const char kFileColumns[] = "id, client, filename, purpose, path, bytes, created_at";

const char kBatchColumns[] =
    "id, client, input_file_id, endpoint, completion_window, window_s, metadata, status, errors,"
    " output_file_id, error_file_id, created_at, in_progress_at, expires_at, finalizing_at,"
    " completed_at, failed_at, expired_at, cancelling_at, cancelled_at, total, completed, failed";

}  // namespace

// One statement: bound, stepped, finalized.
struct ServeStore::Stmt {
  Stmt(sqlite3 *db, const std::string &sql, const std::vector<Value> &args) : db(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("serve store: ") + sqlite3_errmsg(db));
    int i = 1;
    for (const Value &v : args) {
      if (const auto *s = std::get_if<std::string>(&v))
        sqlite3_bind_text(st, i++, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
      else
        sqlite3_bind_int64(st, i++, std::get<int64_t>(v));
    }
  }
  ~Stmt() { sqlite3_finalize(st); }
  bool row() {
    const int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE)
      throw std::runtime_error(std::string("serve store: ") + sqlite3_errmsg(db));
    return false;
  }
  std::string text(int col) {
    const auto *p = reinterpret_cast<const char *>(sqlite3_column_text(st, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(st, col))) : "";
  }
  int64_t num(int col) { return sqlite3_column_int64(st, col); }

  FileRow file() {
    return FileRow{text(0), text(1), text(2), text(3), text(4), static_cast<uint64_t>(num(5)),
                   num(6)};
  }

  BatchRow batch() {
    BatchRow b;
    int c = 0;
    for (std::string *s : {&b.id, &b.client, &b.input_file_id, &b.endpoint, &b.completion_window})
      *s = text(c++);
    b.window_s = num(c++);
    for (std::string *s : {&b.metadata, &b.status, &b.errors, &b.output_file_id, &b.error_file_id})
      *s = text(c++);
    for (int64_t *t :
         {&b.created_at, &b.in_progress_at, &b.expires_at, &b.finalizing_at, &b.completed_at,
          &b.failed_at, &b.expired_at, &b.cancelling_at, &b.cancelled_at})
      *t = num(c++);
    for (uint64_t *n : {&b.total, &b.completed, &b.failed}) *n = static_cast<uint64_t>(num(c++));
    return b;
  }

  sqlite3 *db;
  sqlite3_stmt *st = nullptr;
};

bool batch_ended(const std::string &status) {
  return status == "completed" || status == "failed" || status == "expired" ||
         status == "cancelled";
}

ServeStore::ServeStore(const std::string &path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw std::runtime_error("cannot open " + path + ": " + why);
  }
  sqlite3_busy_timeout(db_, 10000);
  char *err = nullptr;
  if (sqlite3_exec(db_, kSchema, nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string why = err ? err : "?";
    sqlite3_free(err);
    sqlite3_close(db_);
    throw std::runtime_error("cannot set up " + path + ": " + why);
  }
}

ServeStore::~ServeStore() { sqlite3_close(db_); }

void ServeStore::add_owner(const std::string &client, const std::string &ticket) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt(db_, "INSERT OR IGNORE INTO deferred_owners (client, ticket) VALUES (?, ?)",
       {client, ticket})
      .row();
}

bool ServeStore::owns(const std::string &client, const std::string &ticket) {
  std::lock_guard<std::mutex> lock(mu_);
  return Stmt(db_, "SELECT 1 FROM deferred_owners WHERE client = ? AND ticket = ?",
              {client, ticket})
      .row();
}

void ServeStore::add_file(const FileRow &f) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt(db_,
       "INSERT INTO files (id, client, filename, purpose, path, bytes, created_at)"
       " VALUES (?, ?, ?, ?, ?, ?, ?)",
       {f.id, f.client, f.filename, f.purpose, f.path, static_cast<int64_t>(f.bytes), f.created_at})
      .row();
}

std::optional<FileRow> ServeStore::file(const std::optional<std::string> &client,
                                        const std::string &id) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_,
         std::string("SELECT ") + kFileColumns +
             " FROM files WHERE id = ? AND deleted = 0 AND (? = 0 OR client = ?)",
         {id, int64_t{client ? 1 : 0}, client.value_or("")});
  if (!s.row()) return std::nullopt;
  return s.file();
}

std::vector<FileRow> ServeStore::files(const std::string &client, const std::string &purpose,
                                       const std::string &after, unsigned limit) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_,
         std::string("SELECT ") + kFileColumns +
             " FROM files WHERE client = ? AND deleted = 0 AND (? = '' OR purpose = ?) AND"
             " (? = '' OR rowid < (SELECT rowid FROM files WHERE id = ? AND client = ?))"
             " ORDER BY rowid DESC LIMIT ?",
         {client, purpose, purpose, after, after, client, static_cast<int64_t>(limit)});
  std::vector<FileRow> out;
  while (s.row()) out.push_back(s.file());
  return out;
}

bool ServeStore::delete_file(const std::string &client, const std::string &id) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt(db_, "UPDATE files SET deleted = 1 WHERE id = ? AND client = ? AND deleted = 0",
       {id, client})
      .row();
  return sqlite3_changes(db_) == 1;
}

void ServeStore::put_batch(const BatchRow &b) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt(db_,
       std::string("INSERT INTO batches (") + kBatchColumns +
           ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
           " ON CONFLICT (id) DO UPDATE SET status = excluded.status, errors = excluded.errors,"
           " output_file_id = excluded.output_file_id, error_file_id = excluded.error_file_id,"
           " in_progress_at = excluded.in_progress_at, finalizing_at = excluded.finalizing_at,"
           " completed_at = excluded.completed_at, failed_at = excluded.failed_at,"
           " expired_at = excluded.expired_at, cancelling_at = excluded.cancelling_at,"
           " cancelled_at = excluded.cancelled_at, total = excluded.total,"
           " completed = excluded.completed, failed = excluded.failed",
       {b.id,
        b.client,
        b.input_file_id,
        b.endpoint,
        b.completion_window,
        b.window_s,
        b.metadata,
        b.status,
        b.errors,
        b.output_file_id,
        b.error_file_id,
        b.created_at,
        b.in_progress_at,
        b.expires_at,
        b.finalizing_at,
        b.completed_at,
        b.failed_at,
        b.expired_at,
        b.cancelling_at,
        b.cancelled_at,
        static_cast<int64_t>(b.total),
        static_cast<int64_t>(b.completed),
        static_cast<int64_t>(b.failed)})
      .row();
}

std::optional<BatchRow> ServeStore::batch(const std::optional<std::string> &client,
                                          const std::string &id) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_,
         std::string("SELECT ") + kBatchColumns +
             " FROM batches WHERE id = ? AND (? = 0 OR client = ?)",
         {id, int64_t{client ? 1 : 0}, client.value_or("")});
  if (!s.row()) return std::nullopt;
  return s.batch();
}

std::vector<BatchRow> ServeStore::batches(const std::string &client, const std::string &after,
                                          unsigned limit) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_,
         std::string("SELECT ") + kBatchColumns +
             " FROM batches WHERE client = ? AND (? = '' OR seq < (SELECT seq FROM batches"
             " WHERE id = ? AND client = ?)) ORDER BY seq DESC LIMIT ?",
         {client, after, after, client, static_cast<int64_t>(limit)});
  std::vector<BatchRow> out;
  while (s.row()) out.push_back(s.batch());
  return out;
}

std::vector<BatchRow> ServeStore::unfinished() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_,
         std::string("SELECT ") + kBatchColumns +
             " FROM batches WHERE status NOT IN ('completed', 'failed', 'expired', 'cancelled')"
             " ORDER BY seq",
         {});
  std::vector<BatchRow> out;
  while (s.row()) out.push_back(s.batch());
  return out;
}

std::map<std::string, uint64_t> ServeStore::batches_by_status() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_, "SELECT status, COUNT(*) FROM batches GROUP BY status", {});
  std::map<std::string, uint64_t> out;
  while (s.row()) out[s.text(0)] = static_cast<uint64_t>(s.num(1));
  return out;
}

}  // namespace obatch::serve
