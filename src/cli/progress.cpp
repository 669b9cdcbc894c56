#include "cli/progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "cli/command.hpp"

namespace obatch::cli {

using clock = std::chrono::steady_clock;

const char *phase_name(int phase) {
  switch (phase) {
    case OBATCH_PHASE_BUILDING: return "building";
    case OBATCH_PHASE_UPLOADING: return "uploading";
    case OBATCH_PHASE_CREATING: return "creating";
    case OBATCH_PHASE_WAITING: return "waiting";
    case OBATCH_PHASE_DOWNLOADING: return "downloading";
    case OBATCH_PHASE_DONE: return "done";
    case OBATCH_PHASE_FAILED: return "failed";
  }
  return "unknown";
}

namespace {

unsigned long long ull(uint64_t v) { return static_cast<unsigned long long>(v); }

int terminal_width() {
  struct winsize ws;
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20) return ws.ws_col;
  return 80;
}

std::string bar(uint64_t done, uint64_t total, int width) {
  int filled = total ? static_cast<int>(static_cast<double>(done) / total * width) : 0;
  if (filled > width) filled = width;
  return "[" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
}

}  // namespace

Progress::Progress(ProgressMode mode) : mode_(mode), start_(clock::now()) {
  const char *term = std::getenv("TERM");
  tty_ = mode == ProgressMode::kAuto && isatty(STDERR_FILENO) &&
         !(term && std::string(term) == "dumb");
}

Progress::~Progress() { finish(); }

double Progress::elapsed() const {
  return std::chrono::duration<double>(clock::now() - start_).count();
}

void Progress::update(const obatch_info_t &info) {
  switch (mode_) {
    case ProgressMode::kQuiet: return;
    case ProgressMode::kJson: json_changes(info); return;
    case ProgressMode::kAuto: break;
  }
  if (tty_)
    draw(info);
  else
    log_changes(info);
}

void Progress::clear_line() {
  if (!line_shown_) return;
  std::fputs("\r\033[K", stderr);
  line_shown_ = false;
}

void Progress::message(const std::string &text) {
  if (mode_ == ProgressMode::kQuiet) return;
  clear_line();
  std::fprintf(stderr, "obatch: %s\n", text.c_str());
  std::fflush(stderr);
}

void Progress::event(const char *name, const std::string &fields) {
  if (mode_ != ProgressMode::kJson) return;
  std::printf("{\"event\":\"%s\",\"elapsed_s\":%.1f%s%s}\n", name, elapsed(),
              fields.empty() ? "" : ",", fields.c_str());
  std::fflush(stdout);
}

void Progress::finish() {
  if (tty_) clear_line();
}

// A job of several batches: its parts and requests, on one line.
static std::string job_line(const obatch_info_t &info) {
  uint64_t done = info.requests_completed + info.requests_failed;
  std::string line = std::to_string(info.parts_total) + " batches: " +
                     std::to_string(info.parts_running) + " running, " +
                     std::to_string(info.parts_ended) + " ended";
  if (info.parts_failed) line += ", " + std::to_string(info.parts_failed) + " failed";
  uint64_t waiting = info.parts_total - info.parts_running - info.parts_ended - info.parts_failed;
  if (waiting) line += ", " + std::to_string(waiting) + " to come";
  line += "; " + std::to_string(done) + "/" + std::to_string(info.requests_total) +
          " requests done";
  if (info.requests_failed) line += " (" + std::to_string(info.requests_failed) + " failed)";
  if (info.tokens_enqueued)
    line += "; ~" + std::to_string(info.tokens_enqueued) + " tokens enqueued";
  return line;
}

// Direct mode: results, requests in flight, the rates and the limits.
static std::string direct_line(const obatch_info_t &info) {
  const uint64_t done = info.requests_completed + info.requests_failed;
  std::string line =
      "direct " + std::to_string(done) + "/" + std::to_string(info.requests_total) + " done";
  if (info.requests_failed) line += " (" + std::to_string(info.requests_failed) + " failed)";
  line += ", " + std::to_string(info.requests_in_flight) + " in flight, " +
          std::to_string(info.requests_per_minute) + " req/min, " +
          std::to_string(info.tokens_per_minute) + " tok/min";
  if (info.rpm_limit) line += ", limit " + std::to_string(info.rpm_limit) + " rpm";
  if (info.tpm_limit)
    line += (info.rpm_limit ? "/" : ", limit ") + std::to_string(info.tpm_limit) + " tpm";
  if (info.responses_429) line += ", " + std::to_string(info.responses_429) + " 429s";
  if (info.requests_per_minute && done < info.requests_total) {
    const uint64_t left = info.requests_total - done;
    line += ", ETA " + format_duration(static_cast<int64_t>(left * 60 / info.requests_per_minute));
  }
  return line;
}

// Terminal: one line, redrawn at most 5 times a second.
void Progress::draw(const obatch_info_t &info) {
  auto now = clock::now();
  bool changed = info.phase != phase_ || status_ != info.remote_status;
  if (!changed && line_shown_ && now - last_draw_ < std::chrono::milliseconds(200)) return;
  phase_ = info.phase;
  status_ = info.remote_status;
  last_draw_ = now;
  std::string line;
  std::string t = format_duration(static_cast<int64_t>(elapsed()));
  const bool parted = info.parts_total > 1 && info.phase >= OBATCH_PHASE_UPLOADING &&
                      info.phase <= OBATCH_PHASE_WAITING;
  switch (parted ? -1 : info.phase) {
    case -1: line = job_line(info); break;
    case OBATCH_PHASE_UPLOADING:
      line = "uploading " + bar(info.bytes_uploaded, info.bytes_total, 24) + " " +
             format_bytes(info.bytes_uploaded) + " / " + format_bytes(info.bytes_total);
      break;
    case OBATCH_PHASE_CREATING: line = "creating the batch"; break;
    case OBATCH_PHASE_WAITING: {
      if (std::string(info.mode) == "direct") {
        line = direct_line(info);
        break;
      }
      line = std::string(info.batch_id) + " " +
             (info.remote_status[0] ? info.remote_status : "waiting");
      if (info.requests_total) {
        uint64_t done = info.requests_completed + info.requests_failed;
        line += " " + bar(done, info.requests_total, 24) + " " + std::to_string(done) + "/" +
                std::to_string(info.requests_total) + " done";
        if (info.requests_failed) line += ", " + std::to_string(info.requests_failed) + " failed";
      }
      break;
    }
    case OBATCH_PHASE_DOWNLOADING:
      line = "downloading results " + format_bytes(info.bytes_downloaded);
      break;
    default: line = phase_name(info.phase);
  }
  if (info.error_message[0] && info.phase != OBATCH_PHASE_FAILED)
    line += " (" + std::string(info.error_message) + ")";
  line += "  " + t;
  size_t width = static_cast<size_t>(terminal_width()) - 1;
  if (line.size() > width) line.resize(width);
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
  line_shown_ = true;
}

// Not a terminal: a line per change, nothing redrawn.
void Progress::log_changes(const obatch_info_t &info) {
  if (std::string(info.mode) == "direct") return log_direct_changes(info);
  if (info.parts_total > 1) return log_job_changes(info);
  if (batch_id_.empty() && info.batch_id[0]) batch_id_ = info.batch_id;
  if (info.phase != phase_) {
    // An upload quicker than the poll interval is never seen as a phase: say
    // it happened all the same, once the next phase shows it did.
    const bool upload_unseen = phase_ <= OBATCH_PHASE_BUILDING &&
                               info.phase > OBATCH_PHASE_UPLOADING &&
                               info.phase != OBATCH_PHASE_FAILED && info.bytes_uploaded > 0;
    phase_ = info.phase;
    if (info.phase == OBATCH_PHASE_UPLOADING || upload_unseen)
      std::fprintf(stderr, "obatch: uploading %llu requests (%s)\n", ull(info.requests_added),
                   format_bytes(info.bytes_total).c_str());
    if (info.phase == OBATCH_PHASE_CREATING)
      std::fprintf(stderr, "obatch: creating the batch\n");
    else if (info.phase == OBATCH_PHASE_DOWNLOADING)
      std::fprintf(stderr, "obatch: batch %s %s; downloading the results\n", info.batch_id,
                   info.remote_status);
  }
  if (info.error_message[0] && error_ != info.error_message && info.phase != OBATCH_PHASE_FAILED) {
    error_ = info.error_message;
    std::fprintf(stderr, "obatch: %s (retrying)\n", info.error_message);
  }
  if (info.phase != OBATCH_PHASE_WAITING || !info.remote_status[0]) return;
  if (status_ == info.remote_status && info.requests_completed == completed_ &&
      info.requests_failed == failed_ && info.requests_total == total_)
    return;
  status_ = info.remote_status;
  completed_ = info.requests_completed;
  failed_ = info.requests_failed;
  total_ = info.requests_total;
  std::fprintf(stderr, "obatch: %s %s: %llu completed, %llu failed of %llu (%s)\n", info.batch_id,
               info.remote_status, ull(info.requests_completed), ull(info.requests_failed),
               ull(info.requests_total), format_duration(static_cast<int64_t>(elapsed())).c_str());
  std::fflush(stderr);
}

void Progress::log_job_changes(const obatch_info_t &info) {
  if (info.error_message[0] && error_ != info.error_message && info.phase != OBATCH_PHASE_FAILED &&
      info.phase != OBATCH_PHASE_DONE) {
    error_ = info.error_message;
    std::fprintf(stderr, "obatch: %s\n", info.error_message);
  }
  if (info.phase == OBATCH_PHASE_DOWNLOADING && phase_ != info.phase)
    std::fprintf(stderr, "obatch: every batch ended; merging the results in input order\n");
  phase_ = info.phase;
  if (info.phase < OBATCH_PHASE_UPLOADING || info.phase > OBATCH_PHASE_WAITING) return;
  std::string line = job_line(info);
  if (line == status_) return;
  status_ = line;
  std::fprintf(stderr, "obatch: %s (%s)\n", line.c_str(),
               format_duration(static_cast<int64_t>(elapsed())).c_str());
  std::fflush(stderr);
}

void Progress::log_direct_changes(const obatch_info_t &info) {
  if (info.error_message[0] && error_ != info.error_message && info.phase != OBATCH_PHASE_FAILED) {
    error_ = info.error_message;
    std::fprintf(stderr, "obatch: %s\n", info.error_message);
  }
  if (info.phase != OBATCH_PHASE_WAITING) return;
  const auto now = clock::now();
  const uint64_t done = info.requests_completed + info.requests_failed;
  if (done == completed_ || now - last_log_ < std::chrono::seconds(2)) return;
  completed_ = done;
  last_log_ = now;
  std::fprintf(stderr, "obatch: %s (%s)\n", direct_line(info).c_str(),
               format_duration(static_cast<int64_t>(elapsed())).c_str());
  std::fflush(stderr);
}

// JSON: an object per change; byte counts at most once a second.
void Progress::json_changes(const obatch_info_t &info) {
  auto now = clock::now();
  uint64_t bytes =
      info.phase == OBATCH_PHASE_UPLOADING ? info.bytes_uploaded : info.bytes_downloaded;
  const std::string parts = std::to_string(info.parts_submitted) + "/" +
                           std::to_string(info.parts_running) + "/" +
                           std::to_string(info.parts_ended) + "/" +
                           std::to_string(info.parts_failed);
  bool changed = info.phase != phase_ || status_ != info.remote_status ||
                 info.requests_completed != completed_ || info.requests_failed != failed_ ||
                 info.requests_total != total_ || batch_id_ != info.batch_id || parts != parts_;
  parts_ = parts;
  bool bytes_moved = bytes != bytes_ && now - last_draw_ >= std::chrono::seconds(1);
  // Direct mode: thousands of results a second; counts at most once a second.
  const bool direct = std::string(info.mode) == "direct";
  if (direct && info.phase == phase_ && now - last_draw_ < std::chrono::seconds(1)) return;
  if (!changed && !bytes_moved) return;
  phase_ = info.phase;
  status_ = info.remote_status;
  completed_ = info.requests_completed;
  failed_ = info.requests_failed;
  total_ = info.requests_total;
  batch_id_ = info.batch_id;
  bytes_ = bytes;
  last_draw_ = now;
  char counts[768];
  std::snprintf(counts, sizeof counts,
                ",\"requests_total\":%llu,\"requests_completed\":%llu,\"requests_failed\":%llu,"
                "\"bytes_total\":%llu,\"bytes_uploaded\":%llu,\"bytes_downloaded\":%llu,"
                "\"parts_total\":%llu,\"parts_submitted\":%llu,\"parts_running\":%llu,"
                "\"parts_ended\":%llu,\"parts_failed\":%llu,\"tokens_enqueued\":%llu,"
                "\"mode\":\"%s\",\"requests_in_flight\":%llu,\"responses_429\":%llu,"
                "\"requests_per_minute\":%llu,\"tokens_per_minute\":%llu",
                ull(info.requests_total), ull(info.requests_completed), ull(info.requests_failed),
                ull(info.bytes_total), ull(info.bytes_uploaded), ull(info.bytes_downloaded),
                ull(info.parts_total), ull(info.parts_submitted), ull(info.parts_running),
                ull(info.parts_ended), ull(info.parts_failed), ull(info.tokens_enqueued),
                direct ? "direct" : "batch", ull(info.requests_in_flight), ull(info.responses_429),
                ull(info.requests_per_minute), ull(info.tokens_per_minute));
  event("progress", "\"phase\":" + json_quote(phase_name(info.phase)) + ",\"provider\":" +
                        json_quote(info.provider) + ",\"batch_id\":" + json_quote(info.batch_id) +
                        ",\"status\":" + json_quote(info.remote_status) + counts);
}

}  // namespace obatch::cli
