#include "store/sqlite_open.hpp"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "obatch/obatch.h"
#include "util/error.hpp"
#include "util/files.hpp"

namespace obatch {

namespace {

std::string mode_of(sqlite3 *db) {
  std::string mode;
  sqlite3_stmt *s = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, nullptr) == SQLITE_OK &&
      sqlite3_step(s) == SQLITE_ROW) {
    const unsigned char *t = sqlite3_column_text(s, 0);
    if (t) mode = reinterpret_cast<const char *>(t);
  }
  sqlite3_finalize(s);
  return mode;
}

// A new file's first connections race to turn WAL on: the switch answers
// SQLITE_BUSY at once (without the busy handler), so it is retried for the
// busy timeout.
void set_wal(sqlite3 *db, const std::string &where, int busy_timeout_ms) {
  for (int waited_ms = 0;; waited_ms += 10) {
    if (mode_of(db) == "wal") return;
    const int rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) {
      if (mode_of(db) == "wal") return;
      throw Error(OBATCH_EIO, where + ": cannot turn on WAL (the file system may not allow it)");
    }
    if (((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) ||
        waited_ms >= busy_timeout_ms)
      throw Error(OBATCH_EIO, where + ": cannot turn on WAL: " + sqlite_failure(db));
    usleep(10 * 1000);
  }
}

}  // namespace

std::string sqlite_failure(sqlite3 *db) {
  std::string msg = sqlite3_errmsg(db);
  const int rc = sqlite3_extended_errcode(db);
  if ((rc & 0xff) == SQLITE_BUSY) msg += " (another process held it for too long)";
  if ((rc & 0xff) == SQLITE_FULL) msg += " (the disk is full)";
  return msg;
}

sqlite3 *open_shared_sqlite(const std::string &path, const std::string &what, int busy_timeout_ms,
                            int mutex_flag) {
  const std::string where = what + " " + path;
  ensure_dir(dir_of(path));
  struct stat st;
  const bool is_new = stat(path.c_str(), &st) != 0 && errno == ENOENT;
  sqlite3 *db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | mutex_flag,
                      nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw Error(OBATCH_EIO, "cannot open " + where + ": " + msg);
  }
  try {
    // SQLite creates the file with the umask's mode; it is empty until the
    // first write below, so nothing can be read from it before this.
    if (is_new && chmod(path.c_str(), 0600) != 0)
      throw Error(OBATCH_EIO, "cannot make " + where + " private: " + errno_text(errno));
    sqlite3_busy_timeout(db, busy_timeout_ms);
    sqlite3_extended_result_codes(db, 1);
    set_wal(db, where, busy_timeout_ms);
    // FULL: what a call wrote is on disk before the call returns.
    if (sqlite3_exec(db, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr) != SQLITE_OK)
      throw Error(OBATCH_EIO, where + ": " + sqlite_failure(db));
  } catch (...) {
    sqlite3_close(db);
    throw;
  }
  return db;
}

}  // namespace obatch
