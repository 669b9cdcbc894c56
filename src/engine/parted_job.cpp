#include "engine/parted_job.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "core/request.hpp"
#include "engine/remote_status.hpp"
#include "obatch/obatch.h"
#include "tokens/request_tokens.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

namespace obatch {

namespace {

constexpr int kTickMs = 200;
// A part that fails on the token limit while no other part of its model
// runs waits for the organisation's other batches: 10 s, doubling, at most
// 5 minutes, and gives up after this many tries (the part may simply be
// larger than the limit).
constexpr uint32_t kLoneTokenRetries = 6;
constexpr long kNoteMs = 30000;  // how long a note stays in error_message

bool is_token_limit(const JobSnapshot &s) {
  return s.failure_code == "token_limit_exceeded" ||
         s.error_message.find("token_limit_exceeded") != std::string::npos;
}

std::string part_name(uint32_t index, size_t total) {
  return "part " + std::to_string(index + 1) + " of " + std::to_string(total);
}

JobRecord as_job_record(const PartRecord &p) {
  JobRecord r;
  r.id = p.job_id;
  r.step = p.step;
  r.input_file_id = p.input_file_id;
  r.batch_id = p.batch_id;
  r.remote_status = p.remote_status;
  r.output_file_id = p.output_file_id;
  r.error_file_id = p.error_file_id;
  return r;
}

// A part whose batch was created (and not failed): its job resumes by id.
bool has_live_batch(const PartRecord &p) {
  return !p.batch_id.empty() &&
         (p.step == step::kCreated || p.step == step::kDownloading || p.step == step::kDone);
}

}  // namespace

uint64_t stated_token_limit(const std::string &message) {
  size_t at = message.find("Limit: ");
  if (at == std::string::npos) return 0;
  uint64_t n = 0;
  bool any = false;
  for (size_t i = at + 7; i < message.size(); i++) {
    char c = message[i];
    if (c >= '0' && c <= '9') {
      n = n * 10 + static_cast<uint64_t>(c - '0');
      any = true;
    } else if (c != ',' || !any) {
      break;
    }
  }
  return any ? n : 0;
}

PartedJob::PartedJob(JobSpec spec, std::vector<PartInput> parts) : spec_(std::move(spec)) {
  for (size_t i = 0; i < parts.size(); i++) {
    Part p;
    p.input = std::move(parts[i]);
    p.rec.job_id = spec_.tag;
    p.rec.index = static_cast<uint32_t>(i);
    p.rec.model = p.input.info.model;
    p.rec.requests = p.input.info.requests;
    p.rec.input_bytes = p.input.info.bytes;
    p.rec.tokens = p.input.info.tokens;
    p.rec.step = step::kNew;
    parts_.push_back(std::move(p));
  }
  max_enqueued_ = static_cast<uint64_t>(spec_.config.get_int("max_enqueued_tokens", 0));
  max_running_ = static_cast<size_t>(spec_.config.get_int("max_running_batches", 0));
  // Beside the results, not in the private work directory: a part that was
  // downloaded before a kill -9 is found again by the next run.
  parts_dir_ =
      path_join(spec_.config.get("results_dir", spec_.work_dir), ".obatch-" + spec_.tag + "-parts");
  board_.update([&](JobSnapshot &s) {
    s.provider = spec_.provider->name();
    s.endpoint = spec_.endpoint;
    s.model = spec_.model;
    s.requests_added = spec_.input_ids.size();
    s.requests_total = spec_.input_ids.size();
    s.bytes_total = spec_.input_bytes;
    s.completion_window = spec_.config.get("completion_window", "24h");
    s.phase = OBATCH_PHASE_UPLOADING;
    s.parts_total = parts_.size();
    s.tokens_estimated = spec_.tokens_estimated;
    if (spec_.journal) {
      s.job_id = spec_.tag;
      s.job_journal = spec_.journal->path();
      s.job_origin = spec_.origin;
    }
  });
  holds_job_ = spec_.journal && spec_.origin != OBATCH_JOB_FOLLOWING;
}

PartedJob::~PartedJob() {
  transport_.stop();
  if (thread_.joinable()) thread_.join();
  for (Part &p : parts_) p.job.reset();  // each stops; its batch goes on
  if (holds_job_) {
    try {
      spec_.journal->release(spec_.tag);
    } catch (const Error &) {
      // The process's death releases it too.
    }
  }
}

void PartedJob::start() {
  thread_ = std::thread([this] { run(); });
}

JobSnapshot PartedJob::snapshot() { return board_.get(); }

JobSnapshot PartedJob::wait_change(uint64_t seen, int timeout_ms) {
  board_.wait(seen, timeout_ms);
  return board_.get();
}

void PartedJob::request_cancel() {
  cancel_requested_ = true;
  transport_.wake();
}

ResultsIndex *PartedJob::results() {
  return board_.read([&](const JobSnapshot &s) {
    return s.phase == OBATCH_PHASE_DONE ? results_.get() : nullptr;
  });
}

void PartedJob::journal_job(const std::vector<std::pair<std::string, std::string>> &cols) {
  if (holds_job_) spec_.journal->update(spec_.tag, cols);
}

void PartedJob::journal_part(const Part &p,
                             const std::vector<std::pair<std::string, std::string>> &cols) {
  if (holds_job_) spec_.journal->update_part(spec_.tag, p.rec.index, cols);
}

void PartedJob::note(const std::string &message) {
  note_ = message;
  note_until_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(kNoteMs);
}

void PartedJob::run() {
  int code = 0;
  std::string message;
  try {
    if (spec_.origin == OBATCH_JOB_FOLLOWING) follow();
    load_parts();
    if (holds_job_) journal_job({{"step", step::kUploading}});
    schedule();
    finish();
    return;
  } catch (const Stopped &) {
    return;  // the handle is going away; the parts' batches go on
  } catch (const Error &e) {
    code = e.code();
    message = e.what();
  } catch (const std::bad_alloc &) {
    code = OBATCH_ENOMEM;
    message = "out of memory";
  } catch (const std::exception &e) {
    code = OBATCH_EINTERNAL;
    message = std::string("internal error: ") + e.what();
  }
  for (Part &p : parts_) p.job.reset();  // their batches go on; a rerun resumes them
  try {
    journal_job({{"error", message}});
  } catch (const Error &) {
    // The failure itself is what the caller needs to hear about.
  }
  publish();
  board_.fail(code, message);
}

// Another live process holds the same job: wait until it is done (then the
// parts' files are in the journal) or gone (then take the job over).
void PartedJob::follow() {
  bool told = false;
  for (;;) {
    JobRecord r;
    if (!spec_.journal->find(spec_.tag, &r))
      throw Error(OBATCH_ESTATE, "job " + spec_.tag + " was removed from the job journal " +
                                     spec_.journal->path() + " while this process waited for it");
    if (r.step == step::kDone) return;
    if (r.step == step::kFailed || r.step == step::kAbandoned)
      throw Error(OBATCH_ESTATE, "job " + spec_.tag + ", run by another process, ended" +
                                     (r.error.empty() ? "" : ": " + r.error));
    if (!r.running && spec_.journal->take_over(spec_.tag, &r)) {
      holds_job_ = true;
      board_.update([](JobSnapshot &s) { s.job_origin = OBATCH_JOB_RESUMED; });
      return;
    }
    if (cancel_requested_)
      throw Error(OBATCH_ECANCELLED, "cancelled while waiting for process " +
                                         std::to_string(r.owner_pid) + ", which runs job " +
                                         spec_.tag + ": this process sent nothing");
    if (!told) {
      note("process " + std::to_string(r.owner_pid) + " is running the same job (" + spec_.tag +
           "); waiting for it");
      publish();
      told = true;
    }
    if (!transport_.sleep_ms(kTickMs, [this] { return cancel_requested_.load(); })) throw Stopped{};
  }
}

void PartedJob::load_parts() {
  if (!spec_.journal) return;  // nothing to resume
  std::vector<PartRecord> rows = spec_.journal->parts(spec_.tag);
  if (rows.empty()) {
    std::vector<PartRecord> fresh;
    for (const Part &p : parts_) fresh.push_back(p.rec);
    if (holds_job_) spec_.journal->add_parts(fresh);
    return;
  }
  bool same = rows.size() == parts_.size();
  for (size_t i = 0; same && i < rows.size(); i++)
    same = rows[i].requests == parts_[i].rec.requests &&
           rows[i].input_bytes == parts_[i].rec.input_bytes && rows[i].model == parts_[i].rec.model;
  if (!same)
    throw Error(OBATCH_ECONFIG,
                "job " + spec_.tag + " of the job journal " + spec_.journal->path() +
                    " was cut into " + std::to_string(rows.size()) +
                    " batches when it was submitted, and this run cuts the same input into " +
                    std::to_string(parts_.size()) +
                    "; nothing was sent. Run it with the limits it had then "
                    "(--max-requests-per-batch, --max-bytes-per-batch), or submit it again "
                    "as a new job with force_new (obatch run --force-new)");
  for (size_t i = 0; i < rows.size(); i++) {
    Part &p = parts_[i];
    p.rec = rows[i];
    p.ever_created = !p.rec.batch_id.empty() || p.rec.attempt > 0;
    p.last.batch_id = p.rec.batch_id;
    p.last.remote_status = p.rec.remote_status;
    if (p.rec.step == step::kDone) {
      take_done_part(p);
    } else if (p.rec.step == step::kFailed && p.rec.failure == "token_limit_exceeded" &&
               !p.rec.input_file_id.empty()) {
      // Killed before it was created again: it waits its turn like any part.
      p.rec.step = step::kUploaded;
      p.rec.batch_id.clear();
      journal_part(p, {{"step", step::kUploaded}, {"batch_id", ""}, {"remote_status", ""}});
    } else if (p.rec.step == step::kFailed) {
      p.state = State::kFailed;
      p.last.phase = OBATCH_PHASE_FAILED;
      p.last.error_message = p.rec.error;
    } else if (p.rec.step == step::kAbandoned) {
      p.state = State::kAbandoned;
    }
  }
}

// A part downloaded by an earlier run: its files are taken as they are when
// they still read whole; otherwise the part is downloaded again.
void PartedJob::take_done_part(Part &p) {
  try {
    if (!p.rec.output_path.empty())
      add_part_results(p.rec.output_path, "output file of " + part_name(p.rec.index, parts_.size()),
                       false);
    if (!p.rec.error_path.empty())
      add_part_results(p.rec.error_path, "error file of " + part_name(p.rec.index, parts_.size()),
                       true);
    p.state = State::kEnded;
    p.last.phase = OBATCH_PHASE_DONE;
  } catch (const Error &) {
    // Gone or cut: its job resumes the batch (done at the provider) and
    // downloads it. An output file kept from it is read twice; the first
    // line of an id wins, and both are the same.
    p.state = State::kPending;
  }
}

uint64_t PartedJob::limit_for(const std::string &model) const {
  if (max_enqueued_) return max_enqueued_;
  auto it = learned_limit_.find(model);
  return it == learned_limit_.end() ? 0 : it->second;
}

void PartedJob::count_exactly(Part &p) {
  if (p.tokens_exact) return;
  p.tokens_exact = true;
  std::ifstream in(p.input.path, std::ios::binary);
  std::string line;
  uint64_t tokens = 0;
  try {
    while (std::getline(in, line))
      if (!line.empty()) {
        const Request r = parse_request_line(line, p.input.path);
        tokens += count_request_tokens(r.url, r.body).prompt;
      }
  } catch (const Error &) {
    return;  // the estimate stays (the file was checked when it was written)
  }
  if (in.bad()) return;
  p.input.info.tokens = tokens;
}

bool PartedJob::may_start(Part &p) {
  if (std::chrono::steady_clock::now() < p.not_before) return false;
  size_t running = 0, same = 0;
  for (const Part &q : parts_) {
    if (q.state != State::kRunning) continue;
    running++;
    same += key_of(q) == key_of(p);
  }
  if (max_running_ && running >= max_running_) return false;
  if (same == 0) return true;  // one part of a model always runs
  if (p.waits_for_room) return false;
  const uint64_t limit = limit_for(key_of(p));
  if (!limit) return true;
  // The budget is in the provider's tokens: count them exactly (once a
  // part) rather than trust the estimate from bytes.
  count_exactly(p);
  uint64_t tokens = 0;
  for (Part &q : parts_)
    if (q.state == State::kRunning && key_of(q) == key_of(p)) {
      count_exactly(q);
      tokens += q.input.info.tokens;
    }
  return tokens + p.input.info.tokens <= limit;
}

void PartedJob::start_part(Part &p) {
  ensure_dir(parts_dir_);
  const std::string stem = path_join(parts_dir_, "part-" + std::to_string(p.rec.index + 1));
  JobSpec c;
  c.provider = spec_.provider;
  c.base_url = spec_.base_url;
  c.api_key = spec_.api_key;
  c.config = spec_.config;
  c.config.set("output_path", (stem + "-output.jsonl").c_str());
  c.config.set("error_path", (stem + "-errors.jsonl").c_str());
  c.work_dir = spec_.work_dir;
  c.input_path = p.input.path;
  c.input_bytes = p.input.info.bytes;
  c.endpoint = spec_.endpoint;
  c.model = p.input.info.model.empty() ? spec_.model : p.input.info.model;
  c.tag = spec_.tag;
  c.journal = spec_.journal;
  c.record = as_job_record(p.rec);
  c.origin = !spec_.journal ? OBATCH_JOB_NONE
             : holds_job_   ? (spec_.origin == OBATCH_JOB_NEW ? OBATCH_JOB_NEW : OBATCH_JOB_RESUMED)
                            : OBATCH_JOB_FOLLOWING;
  c.look_for_twin = spec_.look_for_twin && p.rec.step == step::kNew && p.rec.attempt == 0;
  if (has_live_batch(p.rec)) c.batch_id = p.rec.batch_id;
  c.tokens_estimated = p.input.info.tokens;
  c.part = static_cast<int>(p.rec.index);
  c.attempt = p.rec.attempt;
  c.add_results = [this](const std::string &path, const std::string &label, bool errors) {
    add_part_results(path, label, errors);
  };
  p.ends_seen = ends_[key_of(p)];
  p.job = std::make_unique<Job>(std::move(c));
  p.job->start();
  p.state = State::kRunning;
  p.waits_for_room = false;
  p.last = p.job->snapshot();
}

void PartedJob::add_part_results(const std::string &path, const std::string &label, bool errors) {
  std::lock_guard<std::mutex> lock(results_mu_);
  if (!part_results_) part_results_ = std::make_unique<ResultsIndex>(&spec_.input_ids);
  part_results_->add_file(path, label);  // all or nothing
  error_file_.push_back(errors);
}

void PartedJob::observe(Part &p) {
  JobSnapshot s = p.job->snapshot();
  s.part_states.clear();
  p.last = s;
  if (!s.batch_id.empty()) p.ever_created = true;
  if (s.phase != OBATCH_PHASE_DONE && s.phase != OBATCH_PHASE_FAILED) return;
  p.job.reset();
  const std::string name = part_name(p.rec.index, parts_.size());
  if (s.phase == OBATCH_PHASE_DONE) {
    p.state = State::kEnded;
  } else if (s.remote_status == "failed" && is_token_limit(s)) {
    token_limit_failure(p, s);
  } else if (s.remote_status == "failed") {
    p.state = State::kFailed;
    journal_part(p, {{"error", s.error_message}});
    note(name + ": " + s.error_message);
  } else if (cancel_requested_ && s.error_code == OBATCH_ECANCELLED) {
    p.state = State::kAbandoned;
  } else {
    // Not the batch but the job (a refused key, a network that stays down,
    // a full disk): the other parts would meet it too.
    throw Error(s.error_code ? s.error_code : OBATCH_EINTERNAL,
                name + ": " + s.error_message +
                    (spec_.journal ? " (the parts that were created go on at the provider; "
                                     "run the same command again to go on from here)"
                                   : ""));
  }
  // A part of this model ended: one that waits for room may try again.
  if (p.state != State::kPending) ends_[key_of(p)]++;
  for (Part &q : parts_)
    if (q.state == State::kPending && key_of(q) == key_of(p)) q.waits_for_room = false;
}

void PartedJob::token_limit_failure(Part &p, const JobSnapshot &s) {
  const std::string model = key_of(p);
  if (uint64_t stated = stated_token_limit(s.error_message)) learned_limit_[model] = stated;
  // Room may come from a part of its model that still runs, or already
  // came from one that ended while this one was created.
  bool others = ends_[model] > p.ends_seen;
  for (const Part &q : parts_)
    others |= &q != &p && q.state == State::kRunning && key_of(q) == model;
  p.rec.attempt++;
  const std::string name = part_name(p.rec.index, parts_.size());
  const std::string shown_model = model.empty() ? spec_.model : model;
  if (!others && p.rec.attempt > kLoneTokenRetries) {
    p.state = State::kFailed;
    p.last.error_message = "batch " + s.batch_id + " failed on the enqueued-token limit " +
                           std::to_string(p.rec.attempt) + " times with no other part of " +
                           shown_model + " running (this part has about " +
                           std::to_string(p.input.info.tokens) +
                           " prompt tokens): cut smaller parts with max_requests (obatch run "
                           "--max-requests-per-batch); last error: " +
                           s.error_message;
    journal_part(p, {{"error", p.last.error_message}, {"attempt", std::to_string(p.rec.attempt)}});
    note(name + ": " + p.last.error_message);
    return;
  }
  p.state = State::kPending;
  p.waits_for_room = others;
  long wait_s = 0;
  if (!others) wait_s = std::min(300L, 10L << std::min<uint32_t>(p.rec.attempt - 1, 5));
  p.not_before = std::chrono::steady_clock::now() + std::chrono::seconds(wait_s);
  p.rec.step = step::kUploaded;
  p.rec.batch_id.clear();
  p.rec.input_file_id = s.input_file_id;
  p.rec.failure = "token_limit_exceeded";
  journal_part(p, {{"step", step::kUploaded},
                   {"attempt", std::to_string(p.rec.attempt)},
                   {"batch_id", ""},
                   {"remote_status", ""},
                   {"failure", p.rec.failure},
                   {"input_file_id", s.input_file_id}});
  const uint64_t limit = limit_for(model);
  note(name + ": " + shown_model + "'s queue of enqueued tokens is full" +
       (limit ? " (limit " + std::to_string(limit) + ")" : "") + "; batch " + s.batch_id +
       " failed without cost, and the part is created again from its uploaded file " +
       (others ? "when a running part of that model ends" : "in " + std::to_string(wait_s) + " s"));
}

void PartedJob::schedule() {
  bool created_told = false;
  for (;;) {
    if (cancel_requested_ && !cancel_sent_) {
      cancel_sent_ = true;
      for (Part &p : parts_) {
        if (p.state == State::kRunning) p.job->request_cancel();
        if (p.state == State::kPending) {
          p.state = State::kAbandoned;
          journal_part(p, {{"step", step::kAbandoned}});
        }
      }
    }
    bool created = false;
    for (Part &p : parts_) {
      if (p.state == State::kRunning) observe(p);
      created |= p.ever_created;
    }
    if (created && !created_told) {
      created_told = true;
      journal_job({{"step", step::kCreated}});
    }
    if (!cancel_requested_)
      for (Part &p : parts_)
        if (p.state == State::kPending && may_start(p)) start_part(p);
    publish();
    bool active = false;
    for (const Part &p : parts_) active |= p.state == State::kPending || p.state == State::kRunning;
    if (!active) return;
    if (!transport_.sleep_ms(kTickMs, [this] { return cancel_requested_ && !cancel_sent_; }))
      throw Stopped{};
  }
}

void PartedJob::publish() {
  JobSnapshot agg = board_.get();
  agg.part_states.clear();
  agg.parts_submitted = agg.parts_running = agg.parts_ended = agg.parts_failed = 0;
  agg.requests_completed = agg.requests_failed = 0;
  agg.bytes_uploaded = agg.bytes_downloaded = 0;
  agg.tokens_enqueued = 0;
  agg.input_tokens = agg.output_tokens = agg.total_tokens = 0;
  agg.created_at = 0;
  int running_phase = -1;
  bool any_waiting = false, any_in_progress = false, any_validating = false;
  for (const Part &p : parts_) {
    const JobSnapshot &s = p.last;
    JobSnapshot::Part ps;
    ps.info = p.input.info;
    ps.batch_id = s.batch_id;
    ps.remote_status = s.remote_status;
    ps.error_message = s.error_message;
    ps.requests_completed = s.requests_completed;
    ps.requests_failed = s.requests_failed;
    ps.phase = p.state == State::kPending     ? OBATCH_PHASE_UPLOADING
               : p.state == State::kEnded     ? OBATCH_PHASE_DONE
               : p.state == State::kFailed    ? OBATCH_PHASE_FAILED
               : p.state == State::kAbandoned ? OBATCH_PHASE_FAILED
                                              : s.phase;
    if (p.state == State::kPending && p.rec.step == step::kNew && !p.ever_created)
      ps.phase = OBATCH_PHASE_BUILDING;  // not started yet
    agg.part_states.push_back(ps);
    agg.parts_submitted += p.ever_created;
    agg.parts_ended += p.state == State::kEnded;
    agg.parts_failed += p.state == State::kFailed;
    agg.requests_completed += s.requests_completed;
    agg.requests_failed += s.requests_failed;
    agg.bytes_uploaded += p.state == State::kEnded ? p.input.info.bytes : s.bytes_uploaded;
    agg.bytes_downloaded += s.bytes_downloaded;
    agg.input_tokens += s.input_tokens;
    agg.output_tokens += s.output_tokens;
    agg.total_tokens += s.total_tokens;
    if (s.created_at && (!agg.created_at || s.created_at < agg.created_at))
      agg.created_at = s.created_at;
    if (p.state == State::kRunning) {
      agg.parts_running++;
      if (!s.batch_id.empty() && !is_terminal_status(s.remote_status))
        agg.tokens_enqueued += p.input.info.tokens;
      running_phase = std::max(running_phase, s.phase);
      any_in_progress |= s.remote_status == "in_progress" || s.remote_status == "finalizing";
      any_validating |= s.remote_status == "validating";
    }
    any_waiting |= p.ever_created;
  }
  if (agg.phase != OBATCH_PHASE_DOWNLOADING && agg.phase != OBATCH_PHASE_DONE &&
      agg.phase != OBATCH_PHASE_FAILED) {
    if (any_waiting || running_phase >= OBATCH_PHASE_WAITING || running_phase < 0)
      agg.phase = OBATCH_PHASE_WAITING;
    else
      agg.phase = running_phase;
    agg.remote_status = cancel_requested_ && agg.parts_running ? "cancelling"
                        : any_in_progress                      ? "in_progress"
                        : any_validating                       ? "validating"
                                                               : "";
  }
  if (!note_.empty() && std::chrono::steady_clock::now() < note_until_)
    agg.error_message = note_;
  else if (agg.phase != OBATCH_PHASE_DONE && agg.phase != OBATCH_PHASE_FAILED)
    agg.error_message.clear();
  // Only this thread changes the rest; the caller's thread changes nothing.
  board_.update([&](JobSnapshot &s) {
    agg.generation = s.generation;
    agg.job_origin = s.job_origin;
    s = std::move(agg);
  });
}

void PartedJob::merge() {
  std::lock_guard<std::mutex> lock(results_mu_);
  const std::string dir = spec_.config.get("results_dir", spec_.work_dir);
  if (!spec_.config.get("results_dir").empty()) ensure_dir(dir);
  const std::string out_path =
      spec_.config.get("output_path", path_join(dir, spec_.tag + "-output.jsonl"));
  const std::string err_path =
      spec_.config.get("error_path", path_join(dir, spec_.tag + "-errors.jsonl"));
  struct Out {
    std::string path, temp;
    FILE *f = nullptr;
    uint64_t lines = 0;
  };
  Out out, err;
  out.path = out_path;
  err.path = err_path;
  auto open_temp = [](Out &o) {
    int fd = -1;
    o.temp = make_temp_beside(o.path, &fd);
    o.f = fdopen(fd, "wb");
    if (!o.f) {
      close(fd);
      unlink(o.temp.c_str());
      throw Error(OBATCH_EIO, "cannot write " + o.temp + ": " + errno_text(errno));
    }
    setvbuf(o.f, nullptr, _IOFBF, 1 << 20);
  };
  auto drop = [](Out &o) {
    if (o.f) fclose(o.f);
    o.f = nullptr;
    if (!o.temp.empty()) unlink(o.temp.c_str());
  };
  try {
    open_temp(out);
    open_temp(err);
    std::string buf;
    const uint64_t n = part_results_ ? part_results_->size() : 0;
    if (part_results_) part_results_->set_mapping(false);
    for (uint64_t i = 0; i < n; i++) {
      std::string_view line;
      uint32_t file = 0;
      if (!part_results_->raw(i, &line, &file, &buf)) continue;
      Out &o = file < error_file_.size() && error_file_[file] ? err : out;
      if (fwrite(line.data(), 1, line.size(), o.f) != line.size() || fputc('\n', o.f) == EOF)
        throw Error(OBATCH_EIO, "cannot write " + o.path + ": " + errno_text(errno) +
                                    " (nothing is lost: the parts' batches keep their results; "
                                    "run the same command again once there is room)");
      o.lines++;
    }
    for (Out *o : {&out, &err}) {
      if (o->lines == 0) {
        drop(*o);
        continue;
      }
      if (fflush(o->f) != 0)
        throw Error(OBATCH_EIO, "cannot write " + o->path + ": " + errno_text(errno));
      int fd = dup(fileno(o->f));
      fclose(o->f);
      o->f = nullptr;
      publish_file(fd, o->temp, o->path);  // closes fd
      o->temp.clear();
    }
  } catch (...) {
    drop(out);
    drop(err);
    throw;
  }
  // The job's results stay the parts' downloads, already indexed (reading
  // the merged files again would cost a parse and a second index); their
  // files go now: the index holds them open, and the disk space comes back
  // when the handle goes.
  auto results = std::move(part_results_);
  if (!results) results = std::make_unique<ResultsIndex>(&spec_.input_ids);
  results->set_mapping(true);
  for (const Part &p : parts_) {
    const std::string stem = path_join(parts_dir_, "part-" + std::to_string(p.rec.index + 1));
    unlink((stem + "-output.jsonl").c_str());
    unlink((stem + "-errors.jsonl").c_str());
  }
  rmdir(parts_dir_.c_str());
  auto absolute = [](const std::string &p) {
    std::string real = p.empty() ? p : real_path(p);
    return real.empty() ? p : real;
  };
  journal_job({{"output_path", out.lines ? absolute(out.path) : ""},
               {"error_path", err.lines ? absolute(err.path) : ""}});
  board_.update([&](JobSnapshot &s) {
    results_ = std::move(results);  // read with the phase (results())
    s.output_path = out.lines ? out.path : "";
    s.error_path = err.lines ? err.path : "";
    s.requests_completed = out.lines;
    s.requests_failed = err.lines;
  });
}

void PartedJob::finish() {
  size_t ended = 0, failed = 0, abandoned = 0, expired = 0, cancelled = 0;
  std::string failures;
  for (const Part &p : parts_) {
    ended += p.state == State::kEnded;
    abandoned += p.state == State::kAbandoned;
    if (p.state == State::kFailed) {
      failed++;
      failures += (failures.empty() ? "" : "; ") + part_name(p.rec.index, parts_.size()) +
                  (p.last.batch_id.empty() ? "" : " (batch " + p.last.batch_id + ")") + ": " +
                  (p.last.error_message.empty() ? "failed" : p.last.error_message);
    }
    if (p.state == State::kEnded) {
      expired += p.last.remote_status == "expired";
      cancelled += p.last.remote_status == "cancelled";
    }
  }
  if (ended == 0) {
    if (failed == 0) {
      journal_job({{"step", step::kAbandoned}});
      throw Error(OBATCH_ECANCELLED, "cancelled before a batch was created: nothing was created");
    }
    journal_job({{"step", step::kFailed}});
    throw Error(OBATCH_EFAILED, "every part of the job failed: " + failures);
  }
  board_.update([](JobSnapshot &s) { s.phase = OBATCH_PHASE_DOWNLOADING; });
  journal_job({{"step", step::kDownloading}});
  merge();
  std::string status = failed                                        ? "failed"
                       : cancel_requested_ || cancelled || abandoned ? "cancelled"
                       : expired                                     ? "expired"
                                                                     : "completed";
  std::string summary;
  if (status != "completed") {
    summary = std::to_string(ended) + " of " + std::to_string(parts_.size()) +
              " parts ended with results";
    if (failed) summary += "; " + std::to_string(failed) + " failed: " + failures;
    if (expired) summary += "; " + std::to_string(expired) + " expired";
    if (cancelled) summary += "; " + std::to_string(cancelled) + " cancelled";
    if (abandoned) summary += "; " + std::to_string(abandoned) + " never created (cancelled)";
    summary += "; the finished results were downloaded";
  }
  journal_job({{"step", step::kDone}, {"remote_status", status}, {"error", summary}});
  board_.update([&](JobSnapshot &s) {
    s.remote_status = status;
    s.error_message = summary;
    s.phase = OBATCH_PHASE_DONE;
  });
}

}  // namespace obatch
