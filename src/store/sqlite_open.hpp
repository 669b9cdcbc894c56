// Opening a SQLite file that several processes share (the job journal, the
// queue's SQLite store): created 0600, WAL, a busy timeout.
#pragma once

#include <string>

struct sqlite3;

namespace obatch {

// Opens `path` (its folder and the file created, the file 0600: its -wal
// and -shm files take the same mode), with extended result codes, the busy
// timeout, WAL and FULL sync. `what` names the file in messages ("the job
// journal"). `mutex_flag`: SQLITE_OPEN_FULLMUTEX or SQLITE_OPEN_NOMUTEX.
// Throws Error(EIO).
//
// No file descriptor of `path` is ever closed here: closing one drops every
// POSIX lock this process holds on the file, those of its other SQLite
// connections too, and another process could then take the WAL away from
// under them.
sqlite3 *open_shared_sqlite(const std::string &path, const std::string &what, int busy_timeout_ms,
                            int mutex_flag);

// Why the last call on `db` failed, for a message: SQLite's words, plus a
// hint for a busy or full file.
std::string sqlite_failure(sqlite3 *db);

}  // namespace obatch
