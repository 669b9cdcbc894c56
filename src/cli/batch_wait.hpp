// The wait of `obatch run` and `obatch download --wait`: poll the batch,
// show progress, and answer Ctrl-C without ever losing or re-paying for it.
//
// Ctrl-C while waiting leaves the remote batch running and prints the exact
// command that resumes it; a second Ctrl-C within the grace period cancels
// it (--cancel-on-interrupt: the first one does, and the partial results are
// still downloaded). During the upload nothing exists yet, so Ctrl-C stops
// it and nothing is created. While the create call is on its way the batch
// may already exist: obatch waits for its id before it lets go.
#pragma once

#include <string>

#include "cli/command.hpp"
#include "cli/progress.hpp"

namespace obatch::cli {

struct WaitSettings {
  ApiOptions api;           // to cancel by id after letting go
  std::string resume_args;  // what follows "obatch run --resume ID"
  bool cancel_on_interrupt = false;
  double grace_seconds = 5;
  bool create_only = false;  // stop once the batch exists (run -c)
  bool new_batch = false;    // announce the batch (with its resume command) once created
};

// Polls until the batch ends (returns -1: ask obatch_wait for the outcome),
// or until the command must exit early (returns that exit code). May
// destroy the handle (a cancel after letting go): then *b is set to NULL.
int wait_for_batch(obatch_t **b, Progress &progress, const WaitSettings &settings);

// `obatch run --resume ID ...` for a message.
std::string resume_command(const std::string &batch_id, const std::string &provider,
                           const std::string &args);

// Quotes a word for a POSIX shell when it needs quoting.
std::string shell_quote(const std::string &word);

}  // namespace obatch::cli
