#include "util/files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "obatch/obatch.h"
#include "util/error.hpp"

namespace obatch {

std::string errno_text(int err) { return std::strerror(err); }

std::string make_private_dir(const std::string &prefix) {
  const char *tmp = std::getenv("TMPDIR");
  std::string base = (tmp && *tmp) ? tmp : "/tmp";
  std::string templ = path_join(base, prefix + "-XXXXXX");
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data()))
    throw Error(OBATCH_EIO, "cannot create a directory under " + base + ": " +
                                errno_text(errno));
  return buf.data();
}

void ensure_dir(const std::string &path) {
  if (path.empty()) return;
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode))
      throw Error(OBATCH_EIO, path + " exists and is not a directory");
    return;
  }
  std::string parent = dir_of(path);
  if (parent != path && parent != "." && parent != "/") ensure_dir(parent);
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
    throw Error(OBATCH_EIO,
                "cannot create directory " + path + ": " + errno_text(errno));
}

namespace {

// Removes what a killed process left beside `final_path`: temp files of
// ours whose writer (the pid in the name) is gone. A live writer's file
// (another process fetching the same results) is left alone.
void remove_stale_temps(const std::string &final_path) {
  const std::string dir = dir_of(final_path);
  const std::string prefix = final_path.substr(final_path.rfind('/') + 1) + ".part-";
  DIR *d = opendir(dir.c_str());
  if (!d) return;
  while (struct dirent *e = readdir(d)) {
    std::string name = e->d_name;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    char *end = nullptr;
    long pid = std::strtol(name.c_str() + prefix.size(), &end, 10);
    if (pid <= 0 || !end || *end != '-') continue;
    if (kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    unlink(path_join(dir, name).c_str());
  }
  closedir(d);
}

}  // namespace

std::string make_temp_beside(const std::string &final_path, int *fd_out) {
  remove_stale_temps(final_path);
  std::string templ = final_path + ".part-" + std::to_string(getpid()) + "-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  int fd = mkstemp(buf.data());
  if (fd < 0)
    throw Error(OBATCH_EIO, "cannot create a file beside " + final_path +
                                ": " + errno_text(errno));
  *fd_out = fd;
  return buf.data();
}

void publish_file(int fd, const std::string &temp,
                  const std::string &final_path) {
  if (fsync(fd) != 0) {
    int err = errno;
    close(fd);
    unlink(temp.c_str());
    throw Error(OBATCH_EIO, "cannot write " + final_path + ": " + errno_text(err));
  }
  // 0644 like any file the user would write; mkstemp made it 0600.
  fchmod(fd, 0644);
  if (close(fd) != 0 || rename(temp.c_str(), final_path.c_str()) != 0) {
    int err = errno;
    unlink(temp.c_str());
    throw Error(OBATCH_EIO, "cannot write " + final_path + ": " + errno_text(err));
  }
}

uint64_t file_size(const std::string &path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0)
    throw Error(OBATCH_EIO, "cannot read " + path + ": " + errno_text(errno));
  return static_cast<uint64_t>(st.st_size);
}

std::string random_hex(size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  std::vector<unsigned char> bytes(n);
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  size_t got = 0;
  if (fd >= 0) {
    while (got < n) {
      ssize_t r = read(fd, bytes.data() + got, n - got);
      if (r <= 0) break;
      got += static_cast<size_t>(r);
    }
    close(fd);
  }
  if (got < n) {  // no /dev/urandom: still unique enough for names
    std::random_device rd;
    for (size_t i = got; i < n; i++) bytes[i] = static_cast<unsigned char>(rd());
  }
  for (unsigned char b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

std::string real_path(const std::string &path) {
  char real[PATH_MAX];
  return realpath(path.c_str(), real) ? std::string(real) : std::string();
}

std::string dir_of(const std::string &path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string path_join(const std::string &dir, const std::string &name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

}  // namespace obatch
