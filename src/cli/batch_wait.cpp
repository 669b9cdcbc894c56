#include "cli/batch_wait.hpp"

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/direct_wait.hpp"
#include "cli/interrupt.hpp"

namespace obatch::cli {

std::string shell_quote(const std::string &w) {
  if (!w.empty() && w.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789_-./:=,@+") == std::string::npos)
    return w;
  std::string out = "'";
  for (char c : w) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string resume_command(const std::string &batch_id, const std::string &provider,
                           const std::string &args) {
  return "obatch run --resume " + shell_quote(batch_id) + " -p " + shell_quote(provider) + args;
}

namespace {

using clock = std::chrono::steady_clock;

bool ended_phase(const obatch_info_t &info) {
  return info.phase == OBATCH_PHASE_DONE || info.phase == OBATCH_PHASE_FAILED;
}

// After the handle is gone: ask the provider to cancel, and say what happened.
int cancel_after_leaving(const WaitSettings &w, const std::string &batch_id,
                         const std::string &provider, Progress &progress) {
  ApiOptions api = w.api;
  api.provider = provider;
  Config conf(api);
  obatch_list_t *page = nullptr;
  char err[512] = "";
  int rc = obatch_cancel_id(&page, conf.get(), batch_id.c_str(), err, sizeof err);
  obatch_info_t info = OBATCH_INFO_INIT;
  std::string status;
  if (rc == OBATCH_OK && obatch_list_next(page, &info) == OBATCH_OK) status = info.remote_status;
  obatch_list_destroy(page);
  if (rc != OBATCH_OK) {
    progress.message("could not cancel batch " + batch_id + ": " + err +
                     "; it keeps running. Cancel it with: obatch cancel " + shell_quote(batch_id) +
                     " -p " + shell_quote(provider));
    progress.event("interrupted", "\"batch_id\":" + json_quote(batch_id) + ",\"cancelled\":false");
    return kExitInterrupted;
  }
  progress.message("batch " + batch_id + " is " + status +
                   ". Results that finished before the cancel can still be downloaded: "
                   "obatch download " +
                   shell_quote(batch_id) + " -p " + shell_quote(provider) + " --wait");
  progress.event("interrupted", "\"batch_id\":" + json_quote(batch_id) +
                                    ",\"cancelled\":true,\"status\":" + json_quote(status));
  return kExitCancelled;
}

// Says when the journal made this run take up a job instead of paying for
// the same input twice.
void tell_job(Progress &progress, const obatch_info_t &info) {
  std::string job = info.job_id;
  const char *origin = info.job_origin == OBATCH_JOB_RESUMED     ? "resumed"
                       : info.job_origin == OBATCH_JOB_FOLLOWING ? "following"
                       : info.job_origin == OBATCH_JOB_ADOPTED   ? "adopted"
                                                                 : "new";
  progress.event("job", "\"job_id\":" + json_quote(job) + ",\"origin\":" + json_quote(origin) +
                            ",\"journal\":" + json_quote(info.journal_path));
  if (progress.json() || info.job_origin == OBATCH_JOB_NEW) return;
  if (info.job_origin == OBATCH_JOB_RESUMED)
    progress.message("job " + job + ": this input was submitted before; going on from where it "
                     "stopped (journal " + std::string(info.journal_path) +
                     "; --force-new submits it again)");
  else if (info.job_origin == OBATCH_JOB_ADOPTED)
    progress.message("job " + job + ": " + std::string(info.provider) + " already has batch " +
                     std::string(info.batch_id) +
                     " of this same input, submitted through another journal (another machine, "
                     "or a lost jobs.db); taking it up instead of paying twice (--force-new "
                     "submits it again)");
  else
    progress.message("job " + job + ": another obatch process is submitting this input; "
                     "waiting for its batch instead of paying twice");
}

// The parts' batch ids so far, for a message: "batch_a, batch_b, ...".
std::string part_batches(obatch_t *b, const obatch_info_t &info) {
  std::string ids;
  for (uint64_t i = 0; i < info.parts_total; i++) {
    obatch_info_t part = OBATCH_INFO_INIT;
    if (obatch_part_info(b, i, &part) == OBATCH_OK && part.batch_id[0])
      ids += (ids.empty() ? "" : ", ") + std::string(part.batch_id);
  }
  return ids;
}

// A job of several batches. It has no one id to resume by: the journal
// resumes it when the same command runs again. Ctrl-C leaves the created
// batches running (a second one within the grace period, or the first with
// --cancel-on-interrupt, cancels them all and still downloads what
// finished).
int wait_for_parts(obatch_t *b, Progress &progress, const WaitSettings &w, InterruptWatch &signals) {
  obatch_info_t info = OBATCH_INFO_INIT;
  obatch_info(b, &info);
  const uint64_t total = info.parts_total;
  std::vector<std::string> created(total), ended(total);
  int handled = 0;
  bool cancelling = false;
  int job_origin = -1;
  clock::time_point grace_end{};
  const std::string again = "run the same command again to go on from where it stopped";
  {
    std::string job = info.job_id;
    progress.event("parts", "\"job_id\":" + json_quote(job) +
                                ",\"parts_total\":" + std::to_string(total) +
                                ",\"requests\":" + std::to_string(info.requests_added) +
                                ",\"tokens_estimated\":" + std::to_string(info.tokens_estimated));
    if (!progress.json())
      progress.message(std::to_string(info.requests_added) + " requests go to " + info.provider +
                       " as " + std::to_string(total) +
                       " batches (its limits per batch, or yours); one output in input order" +
                       (job.empty() ? "" : ". If this stops, " + again));
  }
  for (;;) {
    obatch_poll(b, 200, &info);
    if (w.new_batch && info.job_id[0] && info.job_origin != job_origin) {
      job_origin = info.job_origin;
      tell_job(progress, info);
    }
    for (uint64_t i = 0; i < total; i++) {
      obatch_info_t part = OBATCH_INFO_INIT;
      if (obatch_part_info(b, i, &part) != OBATCH_OK) continue;
      std::string id = part.batch_id, status = part.remote_status;
      const std::string n = std::to_string(i + 1);
      if (!id.empty() && created[i] != id) {
        created[i] = id;
        progress.event("part_created", "\"part\":" + n + ",\"batch_id\":" + json_quote(id) +
                                           ",\"model\":" + json_quote(part.model) +
                                           ",\"requests\":" + std::to_string(part.requests_added));
        if (!progress.json() && !progress.quiet())
          progress.message("part " + n + " of " + std::to_string(total) + ": batch " + id + " (" +
                           std::to_string(part.requests_added) + " requests" +
                           (part.model[0] ? ", " + std::string(part.model) : "") + ")");
      }
      const bool over = part.phase == OBATCH_PHASE_DONE || part.phase == OBATCH_PHASE_FAILED;
      if (over && ended[i].empty()) {
        ended[i] = status.empty() ? phase_name(part.phase) : status;
        progress.event("part_ended", "\"part\":" + n + ",\"batch_id\":" + json_quote(id) +
                                         ",\"status\":" + json_quote(ended[i]) + ",\"error\":" +
                                         json_quote(part.error_message));
      }
    }
    if (w.create_only && info.parts_submitted == total) {
      // Every part was created once; a part whose batch the token limit
      // failed is created again by the same command without -c.
      if (!progress.json())
        for (const std::string &id : created) std::printf("%s\n", id.c_str());
      progress.message("the job's " + std::to_string(total) +
                       " batches were created; they run on at the provider. " +
                       (info.job_id[0] ? "To wait and merge their results, " + again
                                       : std::string("obatch download each one")));
      return kExitCompleted;
    }
    progress.update(info);
    if (ended_phase(info)) return -1;

    int presses = signals.interrupts() + (signals.terminated() ? 1000 : 0);
    if (presses > handled) {
      bool second = handled > 0;
      handled = presses;
      const std::string running = part_batches(b, info);
      if (cancelling) {
        progress.message("stopped waiting; the cancel goes on at the provider. " +
                         (info.job_id[0] ? "To download what finished, " + again
                                         : std::string("The batches: ") + running));
        progress.event("interrupted",
                       "\"job_id\":" + json_quote(info.job_id) + ",\"cancelled\":true");
        return kExitInterrupted;
      }
      if (w.cancel_on_interrupt || (second && clock::now() < grace_end)) {
        cancelling = true;
        obatch_cancel(b);
        progress.message("cancelling every batch of the job (and creating no more); waiting for "
                         "the results that finished (Ctrl-C again to stop waiting)");
        continue;
      }
      std::string keep = running.empty() ? "no batch was created yet"
                                         : "the created batches keep running at " +
                                               std::string(info.provider) + " (" + running + ")";
      std::string how = info.job_id[0] ? "; " + again
                                       : "; without a journal (--state) the job cannot be "
                                         "resumed as one: obatch download each batch";
      progress.message("interrupted; " + keep + how);
      progress.event("interrupted",
                     "\"job_id\":" + json_quote(info.job_id) + ",\"cancelled\":false");
      if (signals.terminated()) return kExitInterrupted;
      char grace[128];
      std::snprintf(grace, sizeof grace,
                    "press Ctrl-C again within %g s to cancel the job's batches instead",
                    w.grace_seconds);
      progress.message(grace);
      grace_end =
          clock::now() + std::chrono::milliseconds(static_cast<long>(w.grace_seconds * 1000));
      continue;
    }
    if (handled > 0 && !cancelling && clock::now() >= grace_end) return kExitInterrupted;
  }
}

}  // namespace

int wait_for_batch(obatch_t **handle, Progress &progress, const WaitSettings &w) {
  obatch_t *b = *handle;
  InterruptWatch signals;
  {
    obatch_info_t first = OBATCH_INFO_INIT;
    obatch_info(b, &first);
    if (std::string(first.mode) == "direct") return wait_for_direct(b, progress, signals);
    if (first.parts_total > 1) return wait_for_parts(b, progress, w, signals);
  }
  int handled = 0;
  bool announced = false;
  bool cancelling = false;      // obatch_cancel was asked for
  bool waiting_for_id = false;  // interrupted while the create was on its way
  bool leave_on_id = false;
  clock::time_point grace_end{};
  obatch_info_t info = OBATCH_INFO_INIT;
  int job_origin = -1;  // as last told
  for (;;) {
    obatch_poll(b, 200, &info);
    std::string batch_id = info.batch_id, provider = info.provider, job = info.job_id;
    if (w.new_batch && !job.empty() && info.job_origin != job_origin) {
      job_origin = info.job_origin;
      tell_job(progress, info);
    }
    if (!announced && !batch_id.empty()) {
      announced = true;
      std::string resume = resume_command(batch_id, provider, w.resume_args);
      if (w.new_batch)
        progress.event("created", "\"batch_id\":" + json_quote(batch_id) + ",\"provider\":" +
                                      json_quote(provider) + ",\"resume\":" + json_quote(resume) +
                                      ",\"job_id\":" + json_quote(job) + ",\"resumed\":" +
                                      (info.job_origin == OBATCH_JOB_NEW ? "false" : "true"));
      if (w.new_batch && !progress.json())
        progress.message("batch " + batch_id +
                         (info.job_origin == OBATCH_JOB_NEW ? " created at " : " at ") + provider +
                         "; if this stops, run the same command again, or resume with: " + resume);
      if (w.create_only) return kExitCompleted;
      if (leave_on_id) {
        progress.message("batch " + batch_id + " keeps running. Resume with: " + resume);
        return kExitInterrupted;
      }
    }
    progress.update(info);
    if (ended_phase(info)) return -1;

    // SIGTERM: nobody to ask; leave the batch running (or cancel as asked).
    int presses = signals.interrupts() + (signals.terminated() ? 1000 : 0);
    if (presses > handled) {
      bool again = handled > 0;
      handled = presses;
      if (batch_id.empty()) {
        if (info.phase <= OBATCH_PHASE_UPLOADING) {
          obatch_cancel(b);
          progress.message(
              "interrupted during the upload: no batch was created, nothing is billed");
          progress.event("interrupted", "\"batch_id\":\"\",\"created\":false");
          return kExitInterrupted;
        }
        if (w.cancel_on_interrupt && !cancelling) {
          cancelling = true;
          obatch_cancel(b);  // the engine creates, then cancels at once
          progress.message(
              "interrupted while the batch is being created: it will be cancelled "
              "as soon as it exists");
        } else if (waiting_for_id) {
          progress.message(
              "stopped waiting for the batch id. The batch may exist: "
              "`obatch list` shows it");
          return kExitInterrupted;
        } else {
          waiting_for_id = leave_on_id = true;
          progress.message(
              "interrupted while the batch is being created; waiting for its id "
              "so it can be resumed (Ctrl-C again to stop waiting)");
        }
        continue;
      }
      std::string resume = resume_command(batch_id, provider, w.resume_args);
      if (cancelling) {
        progress.message("stopped waiting; the cancel of " + batch_id +
                         " goes on at the provider. Download what finished with: " + resume);
        progress.event("interrupted",
                       "\"batch_id\":" + json_quote(batch_id) + ",\"cancelled\":true");
        return kExitInterrupted;
      }
      if (w.cancel_on_interrupt) {
        cancelling = true;
        obatch_cancel(b);
        progress.message("cancelling batch " + batch_id +
                         "; waiting for the results that finished (Ctrl-C again to stop waiting)");
        continue;
      }
      if (again && clock::now() < grace_end) {
        // Let go of the handle first: its engine must not race the cancel.
        obatch_destroy(b);
        *handle = nullptr;
        return cancel_after_leaving(w, batch_id, provider, progress);
      }
      if (signals.terminated()) {
        progress.message("terminated; batch " + batch_id +
                         " keeps running. Resume with: " + resume);
        progress.event("interrupted", "\"batch_id\":" + json_quote(batch_id) +
                                          ",\"cancelled\":false,\"resume\":" + json_quote(resume));
        return kExitInterrupted;
      }
      progress.message("interrupted; batch " + batch_id + " keeps running at " + provider +
                       ". Resume with: " + resume);
      char grace[128];
      std::snprintf(grace, sizeof grace,
                    "press Ctrl-C again within %g s to cancel the batch instead", w.grace_seconds);
      progress.message(grace);
      grace_end =
          clock::now() + std::chrono::milliseconds(static_cast<long>(w.grace_seconds * 1000));
      continue;
    }
    if (handled > 0 && !cancelling && !waiting_for_id && !batch_id.empty() &&
        clock::now() >= grace_end) {
      progress.event("interrupted",
                     "\"batch_id\":" + json_quote(batch_id) + ",\"cancelled\":false,\"resume\":" +
                         json_quote(resume_command(batch_id, provider, w.resume_args)));
      return kExitInterrupted;
    }
  }
}

}  // namespace obatch::cli
