// What `obatch run` and `obatch download` show while they wait:
// - on a terminal: one line redrawn in place (phase, a bar for bytes or
//   requests, remote status, completed / failed / total, elapsed);
// - otherwise: one log line per change of phase, status or counts;
// - --json: one JSON object per change on stdout (machine-readable);
// - --quiet: nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "obatch/obatch.h"

namespace obatch::cli {

enum class ProgressMode { kAuto, kQuiet, kJson };

class Progress {
 public:
  explicit Progress(ProgressMode mode);
  ~Progress();

  // Shows what changed since the last call.
  void update(const obatch_info_t &info);
  // A message for the user (stderr), printed above the progress line.
  void message(const std::string &text);
  // A JSON event (only in JSON mode): `fields` is the inside of an object,
  // e.g. "\"batch_id\":\"b1\"". The event name and elapsed time are added.
  void event(const char *name, const std::string &fields);
  // Ends the progress line (terminal mode) before the final output.
  void finish();

  bool json() const { return mode_ == ProgressMode::kJson; }
  bool quiet() const { return mode_ == ProgressMode::kQuiet; }
  double elapsed() const;

 private:
  void draw(const obatch_info_t &info);
  void log_changes(const obatch_info_t &info);
  void log_job_changes(const obatch_info_t &info);
  void log_direct_changes(const obatch_info_t &info);
  void json_changes(const obatch_info_t &info);
  void clear_line();

  ProgressMode mode_;
  bool tty_ = false;
  bool line_shown_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
  // What was shown last.
  int phase_ = -1;
  std::string status_, batch_id_;
  uint64_t completed_ = UINT64_MAX, failed_ = UINT64_MAX, total_ = UINT64_MAX;
  uint64_t bytes_ = UINT64_MAX;
  std::string error_;
  std::string parts_;                               // part counts as last shown (JSON)
  std::chrono::steady_clock::time_point last_log_;  // direct mode: a log line at most every 2 s
};

const char *phase_name(int phase);

}  // namespace obatch::cli
