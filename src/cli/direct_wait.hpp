// The wait of `obatch run` for a job in direct mode: its requests go one by
// one, so Ctrl-C stops sending and waits for the requests in flight (their
// answers are kept); a second Ctrl-C drops them too (a rerun sends them
// again). Either way the results so far stay, and with the job journal the
// same command goes on from there.
#pragma once

#include "cli/batch_wait.hpp"
#include "cli/interrupt.hpp"

namespace obatch::cli {

// As wait_for_batch (returns -1 when the job ended, else the exit code).
int wait_for_direct(obatch_t *b, Progress &progress, InterruptWatch &signals);

}  // namespace obatch::cli
