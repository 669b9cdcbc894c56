// Which process holds a job: its pid and start time (so a reused pid is
// not mistaken for the process that died).
#pragma once

#include <cstdint>
#include <string>

namespace obatch {

struct ProcessId {
  int64_t pid = 0;
  std::string start;  // /proc/<pid>/stat start time; "" when unknown
};

ProcessId this_process();
bool process_alive(const ProcessId &p);

}  // namespace obatch
