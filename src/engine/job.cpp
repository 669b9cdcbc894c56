#include "engine/job.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <tuple>

#include "core/id_map.hpp"
#include "engine/input_twin.hpp"
#include "engine/poll_schedule.hpp"
#include "engine/remote_status.hpp"
#include "obatch/obatch.h"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/json_write.hpp"

namespace obatch {

namespace {

constexpr const char *kTagKey = "obatch_job";
constexpr const char *kPartKey = "obatch_part";  // a part's index (and try)
constexpr int kReconcilePages = 5;  // newest 500 files / batches
// A provider's clock and ours may differ: a batch made by a create sent at
// T is looked for among those created from T - this on.
constexpr int64_t kClockSkewSeconds = 300;

// A failure an upload would meet as well (a refused key, an unsafe
// transport, a cancel, no memory): a failed lookup before one ends the job
// with it rather than sending the file into it.
bool upload_would_fail_too(const Error &e) {
  return e.code() == OBATCH_EAUTH || e.code() == OBATCH_EINSECURE ||
         e.code() == OBATCH_ECANCELLED || e.code() == OBATCH_ENOMEM;
}

}  // namespace

Job::Job(JobSpec spec)
    : spec_(std::move(spec)),
      client_(spec_.provider, spec_.base_url, spec_.api_key, client_settings(spec_.config),
              &transport_) {
  board_.update([&](JobSnapshot &s) {
    s.provider = spec_.provider->name();
    s.endpoint = spec_.endpoint;
    s.batch_id = spec_.batch_id;
    s.requests_added = spec_.input_ids.size();
    s.bytes_total = spec_.input_bytes;
    s.model = spec_.model;
    s.tokens_estimated = spec_.tokens_estimated;
    s.parts_total = 1;
    if (spec_.batch_id.empty())
      s.completion_window = spec_.config.get("completion_window", "24h");
    s.phase = spec_.batch_id.empty() ? OBATCH_PHASE_UPLOADING : OBATCH_PHASE_WAITING;
    if (spec_.journal) {
      s.job_id = spec_.tag;
      s.job_journal = spec_.journal->path();
      s.job_origin = spec_.origin;
    }
    s.input_file_id = spec_.record.input_file_id;  // also a part created again
  });
  holds_job_ = spec_.journal && spec_.origin != OBATCH_JOB_FOLLOWING;
}

Job::~Job() {
  transport_.stop();
  if (thread_.joinable()) thread_.join();
  if (holds_job_ && !spec_.is_part()) {  // a part's job is released by its PartedJob
    try {
      spec_.journal->release(spec_.tag);
    } catch (const Error &) {
      // The process's death releases it too.
    }
  }
}

void Job::journal(const std::vector<std::pair<std::string, std::string>> &cols) {
  if (!holds_job_) return;
  if (spec_.is_part())
    spec_.journal->update_part(spec_.tag, static_cast<uint32_t>(spec_.part), cols);
  else
    spec_.journal->update(spec_.tag, cols);
}

void Job::start() { thread_ = std::thread([this] { run(); }); }

JobSnapshot Job::snapshot() {
  JobSnapshot s = board_.get();
  s.bytes_uploaded = bytes_up_;
  s.bytes_downloaded = bytes_down_;
  const bool submitted = !s.batch_id.empty(), ended = is_terminal_status(s.remote_status);
  s.parts_submitted = submitted;
  s.parts_failed = s.remote_status == "failed";
  s.parts_ended = s.phase == OBATCH_PHASE_DONE;
  s.parts_running = s.phase >= OBATCH_PHASE_UPLOADING && s.phase <= OBATCH_PHASE_DOWNLOADING;
  s.tokens_enqueued = submitted && !ended ? s.tokens_estimated : 0;
  return s;
}

JobSnapshot Job::wait_change(uint64_t seen, int timeout_ms) {
  board_.wait(seen, timeout_ms);
  return snapshot();
}

void Job::request_cancel() {
  cancel_requested_ = true;
  transport_.wake();
}

ResultsIndex *Job::results() {
  return board_.read(
      [&](const JobSnapshot &s) { return s.phase == OBATCH_PHASE_DONE ? results_.get() : nullptr; });
}

void Job::set_phase(int phase) {
  board_.update([&](JobSnapshot &s) { s.phase = phase; });
}

void Job::fail(int code, const std::string &message) {
  try {
    journal({{"error", message}});
  } catch (const Error &) {
    // The failure itself is what the caller needs to hear about.
  }
  board_.fail(code, message);
}

void Job::run() {
  try {
    // A part's PartedJob follows for the whole job.
    if (spec_.origin == OBATCH_JOB_FOLLOWING && !spec_.is_part()) follow();
    // A twin is found by its tag: a provider without metadata has none.
    if (spec_.batch_id.empty() && spec_.look_for_twin && !spec_.provider->no_metadata())
      take_up_twin();
    if (spec_.batch_id.empty()) {
      if (spec_.record.input_file_id.empty()) upload();
      if (cancel_requested_) {
        journal({{"step", step::kAbandoned}});
        throw Error(OBATCH_ECANCELLED,
                    "cancelled before the batch was created: nothing was created (the "
                    "uploaded input file " + snapshot().input_file_id + " remains)");
      }
      create();
    }
    wait_remote();
    download_results();
    journal({{"step", step::kDone}});
    set_phase(OBATCH_PHASE_DONE);
  } catch (const Stopped &) {
    // The handle is going away; the remote batch goes on.
  } catch (const Error &e) {
    fail(e.code(), e.what());
  } catch (const std::bad_alloc &) {
    fail(OBATCH_ENOMEM, "out of memory");
  } catch (const std::exception &e) {
    fail(OBATCH_EINTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    fail(OBATCH_EINTERNAL, "internal error: unknown exception");
  }
}

// ---- following another process ---------------------------------------------

// Another live process holds the same job: sending it again could make a
// second batch. Wait until that process has the batch (then watch it and
// fetch the results here too), or until it is gone (then take the job over
// from its last journaled step).
void Job::follow() {
  bool told = false;
  for (;;) {
    JobRecord r;
    if (!spec_.journal->find(spec_.tag, &r))
      throw Error(OBATCH_ESTATE, "job " + spec_.tag + " was removed from the job journal " +
                                     spec_.journal->path() + " while this process waited for it");
    if (!r.batch_id.empty()) {
      spec_.batch_id = r.batch_id;
      board_.update([&](JobSnapshot &s) {
        s.batch_id = r.batch_id;
        s.input_file_id = r.input_file_id;
        s.error_message.clear();
      });
      return;
    }
    if (r.step == step::kFailed || r.step == step::kAbandoned)
      throw Error(OBATCH_ESTATE, "job " + spec_.tag + ", run by another process, ended before a "
                                 "batch was created" + (r.error.empty() ? "" : ": " + r.error));
    if (!r.running && spec_.journal->take_over(spec_.tag, &r)) {
      spec_.record = r;
      holds_job_ = true;
      board_.update([&](JobSnapshot &s) {
        s.job_origin = OBATCH_JOB_RESUMED;
        s.input_file_id = r.input_file_id;
        s.error_message.clear();
      });
      return;
    }
    if (cancel_requested_)
      throw Error(OBATCH_ECANCELLED, "cancelled while waiting for process " +
                                         std::to_string(r.owner_pid) + " to create the batch of job " +
                                         spec_.tag + ": this process sent nothing");
    if (!told) {
      note("process " + std::to_string(r.owner_pid) + " is submitting the same input (job " +
           spec_.tag + "); waiting for its batch");
      told = true;
    }
    if (!transport_.sleep_ms(200, [this] { return cancel_requested_.load(); })) throw Stopped{};
  }
}

// ---- a batch of the same input made through another journal ----------------

// A listing the provider does not answer well (an HTTP error, a strange
// answer, the network after every retry) leaves the job to go on as a new
// one, as it would without this look. A refused key, an unsafe transport
// or a cancel end it here: the upload would meet the same.
void Job::take_up_twin() {
  set_phase(OBATCH_PHASE_UPLOADING);
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  std::optional<Remote> found;
  try {
    found = find_listed(OBATCH_OP_LIST, {}, [&](Fields &b) {
      if (!is_twin_batch(b, spec_.tag, spec_.endpoint, now)) return false;
      if (!spec_.is_part()) return b.find("metadata.obatch_part") == b.end();
      // Any try of this part (its label before the dot).
      const std::string label = b["metadata.obatch_part"];
      return label.substr(0, label.find('.')) == std::to_string(spec_.part);
    });
  } catch (const Error &e) {
    if (upload_would_fail_too(e)) throw;
    return;
  }
  if (!found) return;
  const std::string batch_id = found->get("batch_id"), file_id = found->get("input_file_id");
  if (batch_id.empty()) return;
  journal({{"step", step::kCreated}, {"batch_id", batch_id}, {"input_file_id", file_id}});
  spec_.batch_id = batch_id;  // from here on, like a resumed batch
  board_.update([&](JobSnapshot &s) {
    s.batch_id = batch_id;
    s.input_file_id = file_id;
    s.job_origin = OBATCH_JOB_ADOPTED;
  });
  adopt_batch(found->page);
}

// ---- upload ----------------------------------------------------------------

std::optional<Remote> Job::find_listed(int op, Fields args,
                                       const std::function<bool(Fields &)> &match, bool *unserved) {
  // Newest first: what an unanswered attempt made a moment ago is on the
  // first page; a few more pages cover a busy account.
  args["limit"] = "100";
  for (int page = 0; page < kReconcilePages; page++) {
    Remote r;
    if (!unserved) {
      r = client_.call(op, args);
    } else if (std::optional<Remote> served = client_.call_if_served(op, args)) {
      r = std::move(*served);
    } else {
      *unserved = true;
      return std::nullopt;
    }
    for (auto &item : r.items)
      if (match(item)) {
        Remote found;
        found.page = item;
        return found;
      }
    std::string last = r.get("last_id");
    if (r.get("has_more") != "true" || last.empty()) break;
    args["after"] = last;
  }
  return std::nullopt;
}

void Job::upload() {
  set_phase(OBATCH_PHASE_UPLOADING);
  if (spec_.provider->inline_requests()) return;  // sent with the create call
  const std::string filename =
      "obatch-" + spec_.tag + (spec_.is_part() ? "-p" + std::to_string(spec_.part) : "") + ".jsonl";
  const std::string size = std::to_string(spec_.input_bytes);
  Fields args{{"input_path", spec_.input_path}, {"filename", filename}, {"bytes", size}};

  // An upload whose answer was lost may still have created the file: look
  // for our unique file name with the same size before sending it again.
  // When the files cannot be listed (an OpenAI-compatible server without
  // GET /v1/files, or a listing that keeps failing), the file is sent again
  // all the same, and the user is told: a spare file costs nothing, a run
  // that gives up costs the user's time. (A batch is another matter: see
  // create().) A refused key or a cancel still ends the job.
  bool unlisted = false;  // the server has no file listing: do not ask again
  auto find_existing = [&]() -> std::optional<Remote> {
    if (unlisted) return std::nullopt;
    try {
      std::optional<Remote> found = find_listed(
          OBATCH_OP_LIST_FILES, {{"purpose", "batch"}},
          [&](Fields &f) { return f["filename"] == filename && f["file_bytes"] == size; },
          &unlisted);
      if (unlisted)
        note(
            "an earlier upload may have arrived, but the server has no file listing to look "
            "for it in (list files: no such endpoint); a spare copy costs nothing, so the "
            "input is uploaded again");
      return found;
    } catch (const Error &e) {
      if (upload_would_fail_too(e)) throw;
      note(std::string("an earlier upload may have arrived, but looking for it failed (") +
           e.what() + "); a spare copy costs nothing, so the input is uploaded again");
      return std::nullopt;
    }
  };
  // A job taken up again after its upload was sent: the file may exist.
  std::optional<Remote> found;
  if (spec_.record.step == step::kUploading) found = find_existing();
  journal({{"step", step::kUploading}});
  Remote r;
  try {
    r = found ? *found
              : client_.create(OBATCH_OP_UPLOAD, args, find_existing,
                               [this](uint64_t up, uint64_t) { bytes_up_ = up; },
                               [this] { return cancel_requested_.load(); });
  } catch (const Error &e) {
    if (e.code() != OBATCH_ECANCELLED) throw;
    throw Error(OBATCH_ECANCELLED, "cancelled during the upload: nothing was created");
  }
  bytes_up_ = spec_.input_bytes;
  std::string file_id = r.get("file_id");
  journal({{"step", step::kUploaded}, {"input_file_id", file_id}});
  board_.update([&](JobSnapshot &s) { s.input_file_id = file_id; });
}

// ---- create ----------------------------------------------------------------

void Job::create() {
  set_phase(OBATCH_PHASE_CREATING);
  std::string metadata = "{";
  for (auto &kv : spec_.config.metadata()) {
    json_append_string(metadata, kv.first);
    metadata += ":";
    json_append_string(metadata, kv.second);
    metadata += ",";
  }
  json_append_string(metadata, kTagKey);
  metadata += ":";
  json_append_string(metadata, spec_.tag);
  if (spec_.is_part()) {
    metadata += ",";
    json_append_string(metadata, kPartKey);
    metadata += ":";
    json_append_string(metadata, spec_.part_label());
  }
  metadata += "}";
  Fields args{{"input_file_id", snapshot().input_file_id},
              {"input_path", spec_.input_path},
              {"endpoint", spec_.endpoint},
              {"completion_window", spec_.config.get("completion_window", "24h")},
              {"metadata", metadata}};
  if (args["input_file_id"].empty()) args.erase("input_file_id");
  const std::string id_map = custom_id_map();
  if (!id_map.empty()) {
    args["id_map"] = id_map;
    if (!spec_.is_part()) journal({{"id_map", id_map}});
  }

  // A create whose answer was lost may have made the batch (and the user
  // would pay twice): find it by the tag in its metadata first (without
  // metadata: by its request count and time). Unlike the upload's, this
  // lookup never gives way: when it fails, so does the job.
  const int64_t sent_at = spec_.record.step == step::kCreating && spec_.record.updated_at > 0
                              ? spec_.record.updated_at
                              : static_cast<int64_t>(std::time(nullptr));
  auto find_existing = [&]() -> std::optional<Remote> {
    if (spec_.provider->no_metadata()) return find_created_without_tag(sent_at);
    return find_listed(OBATCH_OP_LIST, {}, [&](Fields &b) {
      auto it = b.find(std::string("metadata.") + kTagKey);
      if (it == b.end() || it->second != spec_.tag) return false;
      auto part = b.find(std::string("metadata.") + kPartKey);
      return spec_.is_part() ? part != b.end() && part->second == spec_.part_label()
                             : part == b.end();
    });
  };
  // A job taken up again after its create was sent: the batch may exist.
  // Only the listing can tell; a blind second create could be paid twice.
  std::optional<Remote> found;
  if (spec_.record.step == step::kCreating) found = find_existing();
  journal({{"step", step::kCreating}});
  Remote r = found ? *found : client_.create(OBATCH_OP_CREATE, args, find_existing);
  created_at_ = std::chrono::steady_clock::now();
  const std::string batch_id = r.get("batch_id");
  if (batch_id.empty())
    throw Error(OBATCH_EPROTOCOL, "create batch: the answer has no batch id");
  journal({{"step", step::kCreated}, {"batch_id", batch_id}});
  adopt_batch(r.page);
}

std::optional<Remote> Job::find_created_without_tag(int64_t sent_at) {
  const std::string count = std::to_string(spec_.input_ids.size() ? spec_.input_ids.size()
                                                                  : spec_.record.requests);
  std::vector<Fields> candidates;
  find_listed(OBATCH_OP_LIST, {}, [&](Fields &b) {
    auto created = b.find("created_at");
    auto total = b.find("requests_total");
    if (created == b.end() || total == b.end() || total->second != count) return false;
    if (std::strtoll(created->second.c_str(), nullptr, 10) < sent_at - kClockSkewSeconds)
      return false;
    // A batch the journal knows belongs to another job, or another part.
    JobRecord known;
    if (spec_.journal && spec_.journal->find(b["batch_id"], &known)) return false;
    if (spec_.journal)
      for (const PartRecord &p : spec_.journal->parts(spec_.tag))
        if (p.batch_id == b["batch_id"]) return false;
    candidates.push_back(b);
    return false;  // look at every page: two candidates must not pass for one
  });
  if (candidates.empty()) return std::nullopt;
  if (candidates.size() > 1) {
    std::string ids;
    for (auto &c : candidates) ids += (ids.empty() ? "" : ", ") + c["batch_id"];
    throw Error(OBATCH_ESTATE,
                "the answer to the create call was lost, and " + spec_.provider->name() +
                    " has " + std::to_string(candidates.size()) + " batches of " + count +
                    " requests created since then (" + ids + "); it keeps no metadata to tell "
                    "which is this job's, so none is created again (a second batch is paid "
                    "twice): follow the right one (obatch run --resume BATCH_ID -p " +
                    spec_.provider->name() + "), or cancel them "
                    "and run again with --force-new");
  }
  Remote found;
  found.page = candidates.front();
  return found;
}

std::string Job::custom_id_map() {
  if (!spec_.provider->maps_custom_ids()) return "";
  if (!spec_.is_part() && !spec_.record.id_map.empty()) return spec_.record.id_map;
  IdIndex loaded;
  const IdIndex *ids = &spec_.input_ids;
  if (ids->size() == 0 && !spec_.input_path.empty()) {
    load_input_order(spec_.input_path, spec_.input_path, &loaded);
    ids = &loaded;
  }
  return id_map_json(map_custom_ids(
      *ids, [&](const std::string &id) { return spec_.provider->accepts_custom_id(id); }));
}

void Job::adopt_batch(const Fields &f) {
  // Journaled only when something the journal keeps changed (not at every
  // status check of a day-long wait).
  bool changed = false;
  std::string status;
  board_.update([&](JobSnapshot &s) {
    const std::string old_status = s.remote_status, old_out = s.output_file_id,
                      old_err = s.error_file_id;
    apply_batch_fields(f, &s);
    changed = s.remote_status != old_status || s.output_file_id != old_out ||
              s.error_file_id != old_err;
    status = s.remote_status;
  });
  auto get = [&](const char *k) {
    auto it = f.find(k);
    return it == f.end() ? std::string() : it->second;
  };
  output_file_id_ = get("output_file_id");
  error_file_id_ = get("error_file_id");
  if (changed)
    journal({{"remote_status", status},
             {"output_file_id", output_file_id_},
             {"error_file_id", error_file_id_}});
}

// ---- wait ------------------------------------------------------------------

void Job::note(const std::string &message) {
  board_.update([&](JobSnapshot &snap) { snap.error_message = message; });
  noted_ = true;
}

void Job::send_cancel(const std::string &batch_id) {
  cancel_sent_ = true;
  try {
    Remote r = client_.call(OBATCH_OP_CANCEL, {{"batch_id", batch_id}});
    adopt_batch(r.page);
  } catch (const Error &e) {
    // The batch may have ended meanwhile (the API answers 400), or the
    // network is down: either way it goes on, and its results are still
    // downloaded when it ends.
    note(std::string("the cancel was not accepted: ") + e.what());
  }
}

void Job::wait_remote() {
  set_phase(OBATCH_PHASE_WAITING);
  PollSchedule schedule(spec_.config.get_int("poll_interval_ms", 1000),
                        spec_.config.get_int("poll_max_interval_ms", 60000));
  const std::string batch_id = snapshot().batch_id;
  const bool resumed = !spec_.batch_id.empty();
  bool check_now = resumed;  // a resume checks at once
  bool age_known = !resumed;
  if (resumed) created_at_ = std::chrono::steady_clock::now();
  for (;;) {
    if (cancel_requested_ && !cancel_sent_) send_cancel(batch_id);
    if (!check_now) {
      if (is_terminal_status(snapshot().remote_status)) break;
      long age = static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::steady_clock::now() - created_at_)
                                       .count());
      // Wake early for a cancel request; otherwise sleep the whole interval.
      if (!transport_.sleep_ms(schedule.next_delay_ms(age),
                               [this] { return cancel_requested_ && !cancel_sent_; }))
        throw Stopped{};
      if (cancel_requested_ && !cancel_sent_) continue;
    }
    check_now = false;
    Remote r;
    try {
      r = client_.call(OBATCH_OP_RETRIEVE, {{"batch_id", batch_id}});
    } catch (const Error &e) {
      if (e.code() == OBATCH_ENOTFOUND && spec_.journal)
        throw Error(OBATCH_ENOTFOUND,
                    "job " + spec_.tag + " of the job journal " + spec_.journal->path() +
                        " names batch " + batch_id + ", which " + spec_.provider->name() +
                        " does not have (" + e.what() +
                        "); to submit the input again as a new batch, use force_new "
                        "(obatch run --force-new)");
      // An outage or a 5xx while the provider works must not end a wait
      // that can last a day: keep checking on the schedule.
      if (!e.transient()) throw;
      note(std::string("checking the status failed; trying again: ") + e.what());
      continue;
    }
    if (noted_) {
      board_.update([&](JobSnapshot &snap) { snap.error_message.clear(); });
      noted_ = false;
    }
    adopt_batch(r.page);
    if (!age_known) {
      // A resumed batch is as old as the provider says: its polls space out
      // as if this process had watched it from the start.
      int64_t created = snapshot().created_at;
      int64_t age_s = created > 0 ? static_cast<int64_t>(std::time(nullptr)) - created : 0;
      if (age_s > 0) created_at_ -= std::chrono::seconds(age_s);
      age_known = true;
    }
    if (is_terminal_status(r.get("status"))) break;
  }
  JobSnapshot s = snapshot();
  if (s.remote_status == "failed") {
    if (spec_.is_part())
      journal({{"step", step::kFailed}, {"failure", s.failure_code}});
    else
      journal({{"step", step::kFailed}});  // nothing ran: never resumed
    throw Error(OBATCH_EFAILED, "batch " + s.batch_id + " failed: " +
                                    (s.error_message.empty() ? "no reason given" : s.error_message));
  }
}

// ---- download --------------------------------------------------------------

void Job::load_remote_input_order() {
  // A resumed batch: its input file at the provider gives the order and
  // tells which requests have no result.
  JobSnapshot s = snapshot();
  if (s.input_file_id.empty()) return;
  std::string path = path_join(spec_.work_dir, s.batch_id + "-input.jsonl");
  try {
    download_file(s.input_file_id, path, "input file " + s.input_file_id, false);
  } catch (const Error &e) {
    if (e.code() == OBATCH_ENOTFOUND) return;  // input files expire; use file order
    throw;
  }
  try {
    load_input_order(path, "input file " + s.input_file_id, &spec_.input_ids);
  } catch (...) {
    unlink(path.c_str());
    throw;
  }
  unlink(path.c_str());  // only the order was needed; the provider keeps the file
  board_.update([&](JobSnapshot &snap) { snap.requests_added = spec_.input_ids.size(); });
}

void Job::download_retrying(const std::string &file_id, int fd, const std::string &label,
                            const std::string &final_path,
                            const std::function<std::string()> &check) {
  const int max_retries = client_.settings().max_retries;
  for (int attempt = 0;; attempt++) {
    bytes_down_ = 0;
    HttpResponse resp = client_.download_once(OBATCH_OP_DOWNLOAD, {{"file_id", file_id}}, fd,
                                              [this](uint64_t, uint64_t down) { bytes_down_ = down; });
    bool ok = resp.curl_code == 0 && resp.status >= 200 && resp.status < 300;
    std::string problem = ok ? check() : "";
    if (ok && problem.empty()) return;
    if (resp.curl_code == 23)
      throw Error(OBATCH_EIO, label + ": cannot write " + final_path + ": " +
                                  errno_text(resp.write_errno ? resp.write_errno : EIO) +
                                  " (nothing is lost: the batch keeps its results; run the "
                                  "same command again once there is room)");
    bool retry = !ok ? (resp.curl_code != 0 || should_retry(resp.status, resp.headers)) : true;
    if (!retry || attempt >= max_retries) {
      if (!problem.empty()) throw Error(OBATCH_EPROTOCOL, problem + " (after " +
                                                             std::to_string(attempt + 1) + " attempts)");
      throw client_.failure(OBATCH_OP_DOWNLOAD, resp, attempt + 1);
    }
    client_.back_off(attempt, resp);
  }
}

void Job::download_file(const std::string &file_id, const std::string &final_path,
                        const std::string &label, bool into_results) {
  Remote info = client_.call(OBATCH_OP_FILE_INFO, {{"file_id", file_id}});
  const std::string expect = info.get("file_bytes");
  int fd = -1;
  std::string temp = make_temp_beside(final_path, &fd);
  try {
    download_retrying(file_id, fd, label, final_path, [&]() -> std::string {
      // What counts is what reached the disk, not what curl reported.
      uint64_t on_disk = file_size(temp);
      if (!expect.empty() && std::to_string(on_disk) != expect)
        return label + ": got " + std::to_string(on_disk) + " of " + expect + " bytes";
      if (!into_results) return "";
      try {
        if (spec_.add_results)
          spec_.add_results(temp, label, label.rfind("error file", 0) == 0);
        else
          results_->add_file(temp, label);
      } catch (const Error &e) {
        if (e.code() != OBATCH_EPROTOCOL) throw;
        return e.what();  // a corrupt or cut download: fetch it again
      }
      return "";
    });
    int done_fd = fd;
    fd = -1;  // publish_file closes it, also when it fails
    publish_file(done_fd, temp, final_path);
  } catch (...) {
    if (fd >= 0) {
      close(fd);
      unlink(temp.c_str());
    }
    throw;
  }
}

void Job::download_converted(std::string *out_path, std::string *err_path) {
  const JobSnapshot s = snapshot();
  const std::string dir = spec_.config.get("results_dir", spec_.work_dir);
  const std::string final_out =
      spec_.config.get("output_path", path_join(dir, s.batch_id + "-output.jsonl"));
  const std::string final_err =
      spec_.config.get("error_path", path_join(dir, s.batch_id + "-errors.jsonl"));
  const std::string label = "results of batch " + s.batch_id;
  Fields args{{"id_map", custom_id_map()}};
  int raw_fd = -1, out_fd = -1, err_fd = -1;
  std::string raw, out, err;
  auto drop = [](int &fd, const std::string &path) {
    if (fd < 0) return;
    close(fd);
    unlink(path.c_str());
    fd = -1;
  };
  try {
    raw = make_temp_beside(final_out, &raw_fd);
    out = make_temp_beside(final_out, &out_fd);
    err = make_temp_beside(final_err, &err_fd);
    args["raw_path"] = raw;
    args["output_path"] = out;
    args["error_path"] = err;
    download_retrying(output_file_id_, raw_fd, label, final_out, [&]() -> std::string {
      try {
        spec_.provider->convert_results(args);
      } catch (const Error &e) {
        if (e.code() != OBATCH_EPROTOCOL) throw;
        return label + ": " + e.what();  // a cut download: fetch it again
      }
      return "";
    });
    drop(raw_fd, raw);
    // A file with no line is not written (as a provider sends no file).
    const bool has_out = file_size(out) > 0, has_err = file_size(err) > 0;
    for (auto [has, path, label_of, fd, final_path, kept] :
         {std::make_tuple(has_out, out, "output of batch ", &out_fd, final_out, out_path),
          std::make_tuple(has_err, err, "errors of batch ", &err_fd, final_err, err_path)}) {
      if (!has) {
        drop(*fd, path);
        continue;
      }
      const std::string name = label_of + s.batch_id;
      if (spec_.add_results)
        spec_.add_results(path, name, fd == &err_fd);
      else
        results_->add_file(path, name);
      int done_fd = *fd;
      *fd = -1;  // publish_file closes it, also when it fails
      publish_file(done_fd, path, final_path);
      *kept = final_path;
    }
  } catch (...) {
    drop(raw_fd, raw);
    drop(out_fd, out);
    drop(err_fd, err);
    throw;
  }
}

void Job::download_results() {
  set_phase(OBATCH_PHASE_DOWNLOADING);
  journal({{"step", step::kDownloading}});
  if (spec_.input_path.empty()) load_remote_input_order();
  if (!spec_.add_results) results_ = std::make_unique<ResultsIndex>(&spec_.input_ids);
  const JobSnapshot s = snapshot();
  const std::string dir = spec_.config.get("results_dir", spec_.work_dir);
  if (!spec_.config.get("results_dir").empty()) ensure_dir(dir);
  std::string out_path, err_path;
  if (spec_.provider->converts_results()) {
    if (!output_file_id_.empty()) download_converted(&out_path, &err_path);
  } else if (!output_file_id_.empty()) {
    out_path = spec_.config.get("output_path", path_join(dir, s.batch_id + "-output.jsonl"));
    download_file(output_file_id_, out_path, "output file " + output_file_id_, true);
  }
  if (!error_file_id_.empty() && !spec_.provider->converts_results()) {
    err_path = spec_.config.get("error_path", path_join(dir, s.batch_id + "-errors.jsonl"));
    download_file(error_file_id_, err_path, "error file " + error_file_id_, true);
  }
  // Absolute in the journal: --retry-missing may run from another directory.
  auto absolute = [](const std::string &p) {
    std::string real = p.empty() ? p : real_path(p);
    return real.empty() ? p : real;
  };
  journal({{"output_path", absolute(out_path)}, {"error_path", absolute(err_path)}});
  board_.update([&](JobSnapshot &snap) {
    snap.output_path = out_path;
    snap.error_path = err_path;
  });
}

}  // namespace obatch
