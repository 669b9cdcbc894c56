// What `obatch run` tells the user while it waits: one line per change of
// phase or remote status on stderr (a full progress display is issue 3).
#pragma once

#include <string>

#include "obatch/obatch.h"

namespace obatch::cli {

class Progress {
 public:
  explicit Progress(bool quiet) : quiet_(quiet) {}
  // Prints what changed since the last call.
  void update(const obatch_info_t &info);

 private:
  bool quiet_;
  int phase_ = -1;
  std::string status_;
  uint64_t completed_ = UINT64_MAX, failed_ = UINT64_MAX;
  std::string batch_id_;
};

const char *phase_name(int phase);

}  // namespace obatch::cli
