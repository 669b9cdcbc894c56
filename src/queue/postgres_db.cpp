// The queue store on PostgreSQL (libpq): any number of workers on any
// number of machines share it; claims lock rows with SKIP LOCKED, and
// waiters hear of stored results through LISTEN / NOTIFY.
#include <libpq-fe.h>
#include <poll.h>

#include <chrono>
#include <cstring>

#include "obatch/obatch.h"
#include "queue/sql_db.hpp"
#include "util/error.hpp"

namespace obatch {

namespace {

// "postgresql://user:secret@host:5432/db?x=y" -> "user@host:5432/db": what
// a message may show (never the password, never the query's options).
std::string printable_uri(const std::string &uri) {
  std::string rest = uri.substr(uri.find("://") + 3);
  const size_t q = rest.find('?');
  if (q != std::string::npos) rest.erase(q);
  const size_t at = rest.rfind('@');
  if (at != std::string::npos) {
    std::string user = rest.substr(0, at);
    const size_t colon = user.find(':');
    if (colon != std::string::npos) user.erase(colon);
    rest = user + "@" + rest.substr(at + 1);
  }
  return rest;
}

// libpq's message, on one line.
std::string pq_message(const char *m) {
  std::string s = m ? m : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  // One line: libpq's continuation lines start with a tab.
  std::string line;
  for (char c : s) {
    if (c == '\n' || c == '\t') c = ' ';
    if (!(c == ' ' && !line.empty() && line.back() == ' ')) line += c;
  }
  return line;
}

class PostgresDb : public SqlDb {
 public:
  explicit PostgresDb(const std::string &uri) : name_("PostgreSQL " + printable_uri(uri)) {
    conn_ = PQconnectdb(uri.c_str());
    if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
      std::string msg = conn_ ? pq_message(PQerrorMessage(conn_)) : "out of memory";
      PQfinish(conn_);
      conn_ = nullptr;
      throw Error(OBATCH_EIO, "cannot connect to the queue " + name_ + ": " + msg);
    }
    // Our own messages name the store; the server's notices are not ours
    // to print.
    PQsetNoticeProcessor(conn_, [](void *, const char *) {}, nullptr);
  }
  ~PostgresDb() override { PQfinish(conn_); }

  SqlResult run(const std::string &sql, const std::vector<SqlValue> &params) override {
    std::vector<const char *> values(params.size());
    for (size_t i = 0; i < params.size(); i++) values[i] = params[i] ? params[i]->c_str() : nullptr;
    PGresult *res = PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                                 values.data(), nullptr, nullptr, 0);
    return take(res, sql);
  }

  void script(const std::string &sql) override { take(PQexec(conn_, sql.c_str()), sql); }

  void begin() override { script("BEGIN"); }
  void commit() override { script("COMMIT"); }
  void rollback() noexcept override { PQclear(PQexec(conn_, "ROLLBACK")); }

  bool postgres() const override { return true; }
  const std::string &name() const override { return name_; }
  const char *now_ms_sql() const override {
    return "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)";
  }
  const char *skip_locked_sql() const override { return " FOR UPDATE SKIP LOCKED"; }

  void listen(const std::string &channel) override { script("LISTEN " + channel); }
  void notify(const std::string &channel, const std::string &payload) override {
    run("SELECT pg_notify($1, $2)", {channel, payload});
  }
  bool wait_notify(int timeout_ms) override {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      PQconsumeInput(conn_);
      if (PGnotify *n = PQnotifies(conn_)) {
        // Several may have come: one wake-up is enough.
        while (n) {
          PQfreemem(n);
          n = PQnotifies(conn_);
        }
        return true;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            end - std::chrono::steady_clock::now())
                            .count();
      if (left <= 0) return false;
      pollfd p{PQsocket(conn_), POLLIN, 0};
      if (p.fd < 0) return false;
      poll(&p, 1, static_cast<int>(left));
    }
  }

 private:
  SqlResult take(PGresult *res, const std::string &sql) {
    const ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      std::string msg = pq_message(res ? PQresultErrorMessage(res) : PQerrorMessage(conn_));
      if (msg.empty()) msg = pq_message(PQerrorMessage(conn_));
      PQclear(res);
      throw Error(OBATCH_EIO, "queue " + name_ + ": cannot run " + sql.substr(0, 40) + ": " + msg);
    }
    SqlResult r;
    const int rows = PQntuples(res), cols = PQnfields(res);
    r.rows.reserve(static_cast<size_t>(rows));
    for (int i = 0; i < rows; i++) {
      SqlRow row(static_cast<size_t>(cols));
      for (int c = 0; c < cols; c++)
        if (!PQgetisnull(res, i, c))
          row[static_cast<size_t>(c)] =
              std::string(PQgetvalue(res, i, c), static_cast<size_t>(PQgetlength(res, i, c)));
      r.rows.push_back(std::move(row));
    }
    const char *n = PQcmdTuples(res);
    r.changed = n && *n ? std::strtoull(n, nullptr, 10) : 0;
    PQclear(res);
    return r;
  }

  std::string name_;
  PGconn *conn_ = nullptr;
};

}  // namespace

std::unique_ptr<SqlDb> open_postgres(const std::string &uri) {
  return std::make_unique<PostgresDb>(uri);
}

}  // namespace obatch
