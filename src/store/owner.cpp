#include "store/owner.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

namespace obatch {

namespace {

// Field 22 of /proc/<pid>/stat; the name (field 2) may hold spaces and
// parentheses, so count from its closing parenthesis.
std::string start_time(int64_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t close = text.rfind(')');
  if (close == std::string::npos) return "";
  std::istringstream rest(text.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; i++)
    if (i == 22) return field;
  return "";
}

}  // namespace

ProcessId this_process() {
  static const ProcessId me{static_cast<int64_t>(getpid()), start_time(getpid())};
  ProcessId p = me;
  if (p.pid != getpid()) p = {static_cast<int64_t>(getpid()), start_time(getpid())};  // forked
  return p;
}

bool process_alive(const ProcessId &p) {
  if (p.pid <= 0) return false;
  if (kill(static_cast<pid_t>(p.pid), 0) != 0 && errno != EPERM) return false;
  std::string start = start_time(p.pid);
  return p.start.empty() || start.empty() || start == p.start;
}

}  // namespace obatch
