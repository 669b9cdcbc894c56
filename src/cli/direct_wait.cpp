#include "cli/direct_wait.hpp"

#include <string>

namespace obatch::cli {

int wait_for_direct(obatch_t *b, Progress &progress, InterruptWatch &signals) {
  obatch_info_t info = OBATCH_INFO_INIT;
  obatch_info(b, &info);
  const std::string job = info.job_id;
  const std::string again =
      job.empty()
          ? std::string(" (without a job journal, --state, a rerun sends every request again)")
          : "; run the same command again to send the rest";
  progress.event("direct", "\"job_id\":" + json_quote(job) +
                               ",\"reason\":" + json_quote(info.mode_reason) +
                               ",\"requests\":" + std::to_string(info.requests_added) +
                               ",\"origin\":" + std::to_string(info.job_origin));
  if (!progress.json()) {
    std::string text = "direct mode (" + std::string(info.mode_reason) +
                       "): " + std::to_string(info.requests_added) + " requests to " +
                       info.provider + " as normal requests, at full price";
    if (info.job_origin == OBATCH_JOB_RESUMED)
      text += "; job " + job + " was started before: only the requests without a result are sent";
    else if (info.job_origin == OBATCH_JOB_FOLLOWING)
      text += "; another obatch process is sending job " + job + ": waiting for it";
    else if (!job.empty())
      text +=
          ". If this stops, run the same command again: only the requests without a result "
          "are sent";
    progress.message(text);
  }
  int handled = 0;
  for (;;) {
    obatch_poll(b, 200, &info);
    progress.update(info);
    if (info.phase == OBATCH_PHASE_DONE || info.phase == OBATCH_PHASE_FAILED) return -1;
    const int presses = signals.interrupts() + (signals.terminated() ? 1 : 0);
    if (presses <= handled) continue;
    const bool second = handled > 0;
    handled = presses;
    if (!second) {
      obatch_cancel(b);
      progress.message("stopping: no more requests are sent; waiting for the " +
                       std::to_string(info.requests_in_flight) +
                       " in flight (Ctrl-C again to drop them: they are sent again later)");
      progress.event("interrupted", "\"job_id\":" + json_quote(job) + ",\"dropped\":false");
      continue;
    }
    // The caller destroys the handle: the requests in flight are dropped,
    // every result written so far is kept.
    progress.message("stopped; the results so far are kept" + again);
    progress.event("interrupted", "\"job_id\":" + json_quote(job) + ",\"dropped\":true");
    return kExitInterrupted;
  }
}

}  // namespace obatch::cli
