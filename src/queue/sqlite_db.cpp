// The queue store on SQLite: one file on one machine, shared by its
// processes (WAL, a busy timeout, FULL sync: a put is on disk when the call
// returns).
#include <sqlite3.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <map>
#include <thread>

#include "obatch/obatch.h"
#include "queue/sql_db.hpp"
#include "store/sqlite_open.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

namespace obatch {

namespace {

constexpr int kBusyTimeoutMs = 30000;

// "$3" -> "?3": the queue's SQL names parameters the PostgreSQL way.
std::string sqlite_params(const std::string &sql) {
  std::string out;
  out.reserve(sql.size());
  for (size_t i = 0; i < sql.size(); i++) {
    const bool param = sql[i] == '$' && i + 1 < sql.size() &&
                       std::isdigit(static_cast<unsigned char>(sql[i + 1]));
    out += param ? '?' : sql[i];
  }
  return out;
}

class SqliteDb : public SqlDb {
 public:
  explicit SqliteDb(const std::string &path)
      : name_("SQLite " + path),
        path_(path),
        db_(open_shared_sqlite(path, "the queue", kBusyTimeoutMs, SQLITE_OPEN_NOMUTEX)) {}
  ~SqliteDb() override {
    for (auto &[sql, stmt] : stmts_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }

  SqlResult run(const std::string &sql, const std::vector<SqlValue> &params) override {
    sqlite3_stmt *s = prepare(sql);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    for (size_t i = 0; i < params.size(); i++) {
      const int at = static_cast<int>(i + 1);
      if (params[i])
        sqlite3_bind_text(s, at, params[i]->data(), static_cast<int>(params[i]->size()),
                          SQLITE_TRANSIENT);
      else
        sqlite3_bind_null(s, at);
    }
    SqlResult r;
    const int cols = sqlite3_column_count(s);
    for (;;) {
      const int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        sqlite3_reset(s);
        fail("cannot run " + sql.substr(0, 40));
      }
      SqlRow row(static_cast<size_t>(cols));
      for (int c = 0; c < cols; c++) {
        if (sqlite3_column_type(s, c) == SQLITE_NULL) continue;
        const auto *t = reinterpret_cast<const char *>(sqlite3_column_text(s, c));
        row[static_cast<size_t>(c)] =
            std::string(t, static_cast<size_t>(sqlite3_column_bytes(s, c)));
      }
      r.rows.push_back(std::move(row));
    }
    r.changed = static_cast<uint64_t>(sqlite3_changes(db_));
    sqlite3_reset(s);
    return r;
  }

  void script(const std::string &sql) override {
    char *err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      sqlite3_free(err);
      fail("cannot run " + sql.substr(0, 40));
    }
  }

  void begin() override { script("BEGIN IMMEDIATE"); }
  void commit() override { script("COMMIT"); }
  void rollback() noexcept override { sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); }

  bool postgres() const override { return false; }
  const std::string &name() const override { return name_; }
  const char *now_ms_sql() const override {
    return "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";
  }
  const char *skip_locked_sql() const override { return ""; }

  void listen(const std::string &) override {}
  void notify(const std::string &, const std::string &) override {}
  bool wait_notify(int timeout_ms) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
    return false;
  }

 private:
  sqlite3_stmt *prepare(const std::string &sql) {
    auto it = stmts_.find(sql);
    if (it != stmts_.end()) return it->second;
    sqlite3_stmt *s = nullptr;
    if (sqlite3_prepare_v2(db_, sqlite_params(sql).c_str(), -1, &s, nullptr) != SQLITE_OK)
      fail("cannot prepare " + sql.substr(0, 40));
    stmts_.emplace(sql, s);
    return s;
  }

  [[noreturn]] void fail(const std::string &what) {
    throw Error(OBATCH_EIO, "queue " + path_ + ": " + what + ": " + sqlite_failure(db_));
  }

  std::string name_, path_;
  sqlite3 *db_ = nullptr;
  std::map<std::string, sqlite3_stmt *> stmts_;
};

}  // namespace

std::unique_ptr<SqlDb> open_sqlite(const std::string &path) {
  return std::make_unique<SqliteDb>(path);
}

}  // namespace obatch
