// The `obatch` command's exit codes (documented in --help and README).
#pragma once

namespace obatch::cli {

enum ExitCode {
  kExitCompleted = 0,
  kExitInternal = 1,       // a bug, or an error nothing else describes
  kExitUsage = 2,          // bad command line
  kExitBadInput = 3,       // the input file has a problem; nothing was sent
  kExitAuth = 4,           // missing/refused key, unknown provider, bad URL
  kExitNetwork = 5,        // network or API error after retries
  kExitFailed = 6,         // the batch ended "failed"
  kExitExpired = 7,        // the batch ended "expired" (partial results saved)
  kExitCancelled = 8,      // the batch ended "cancelled" (partial results saved)
  kExitLocalIo = 9,        // a local file could not be read or written
  kExitNotEnded = 10,      // download: the batch is still running
  kExitInterrupted = 130,  // Ctrl-C: the batch keeps running (resume it)
};

// The exit code for an obatch_code.
int exit_code_for(int obatch_code);

}  // namespace obatch::cli
