// One connection to a queue store, SQLite or PostgreSQL, behind one small
// interface: statements with $1..$n text parameters, rows of text. Every
// value crosses as text (PostgreSQL infers the column types; SQLite stores
// what the column's affinity makes of it), so the queue's SQL is written
// once for both.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace obatch {

using SqlValue = std::optional<std::string>;  // nullopt: NULL
using SqlRow = std::vector<SqlValue>;

struct SqlResult {
  std::vector<SqlRow> rows;
  uint64_t changed = 0;  // rows an INSERT / UPDATE / DELETE touched

  // Row r's column c as text ("" for NULL) or as a number (0 for NULL).
  std::string text(size_t r, size_t c) const { return rows.at(r).at(c).value_or(""); }
  int64_t number(size_t r, size_t c) const;
};

class SqlDb {
 public:
  virtual ~SqlDb() = default;

  // Runs one statement. Throws Error(EIO) naming the store and what failed.
  virtual SqlResult run(const std::string &sql, const std::vector<SqlValue> &params = {}) = 0;
  // Runs statements without parameters (the schema).
  virtual void script(const std::string &sql) = 0;

  // A write transaction. SQLite takes the write lock at once (BEGIN
  // IMMEDIATE), so a read-then-write cannot interleave with another
  // process's; PostgreSQL locks rows as the statements touch them.
  virtual void begin() = 0;
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;

  virtual bool postgres() const = 0;
  // "SQLite /path/queue.db", "PostgreSQL user@host:port/db": never a password.
  virtual const std::string &name() const = 0;
  // The store's clock in unix ms as an SQL expression: leases are compared
  // on one clock, whichever machine a worker runs on.
  virtual const char *now_ms_sql() const = 0;
  // Row locks that other workers skip rather than wait for ("" on SQLite,
  // where the transaction already holds the whole store).
  virtual const char *skip_locked_sql() const = 0;

  // Notifications (PostgreSQL LISTEN / NOTIFY; SQLite has none: wait_notify
  // only sleeps). notify() is sent when the current transaction commits.
  virtual void listen(const std::string &channel) = 0;
  virtual void notify(const std::string &channel, const std::string &payload) = 0;
  // Waits up to timeout_ms for a notification; true when one came.
  virtual bool wait_notify(int timeout_ms) = 0;
};

// The store a queue is kept in: "postgresql://..." or "postgres://..." (a
// libpq URI), else the path of a SQLite file (created 0600 with its folder).
std::unique_ptr<SqlDb> open_store(const std::string &store);
bool is_postgres_uri(const std::string &store);

std::unique_ptr<SqlDb> open_sqlite(const std::string &path);
std::unique_ptr<SqlDb> open_postgres(const std::string &uri);

// Rolls back unless commit() was called.
class SqlTransaction {
 public:
  explicit SqlTransaction(SqlDb &db) : db_(db) { db_.begin(); }
  ~SqlTransaction() {
    if (!done_) db_.rollback();
  }
  SqlTransaction(const SqlTransaction &) = delete;
  SqlTransaction &operator=(const SqlTransaction &) = delete;
  void commit() {
    db_.commit();
    done_ = true;
  }

 private:
  SqlDb &db_;
  bool done_ = false;
};

}  // namespace obatch
