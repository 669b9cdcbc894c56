// Helpers shared by the libFuzzer targets (fuzz/README.md): the input as a
// file the library can open by name, a scratch directory, and a check that
// turns a broken promise of the library into a finding.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

// A property the library promises that does not hold: a finding, like a
// crash (libFuzzer saves the input as crash-*).
#define FUZZ_CHECK(cond, what)                                                   \
  do {                                                                           \
    if (!(cond)) {                                                               \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s\n  %s\n", __FILE__,   \
                   __LINE__, #cond, std::string(what).c_str());                  \
      std::abort();                                                              \
    }                                                                            \
  } while (0)

namespace fuzz {

// An in-memory file (memfd) reached by path, /proc/self/fd/N: the library
// reads input and result files by name. Made once, rewritten per input.
class MemFile {
 public:
  MemFile() {
    fd_ = memfd_create("obatch-fuzz", 0);
    if (fd_ < 0) {
      std::perror("memfd_create");
      std::abort();
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemFile() { close(fd_); }
  MemFile(const MemFile &) = delete;
  MemFile &operator=(const MemFile &) = delete;

  void set(std::string_view data) {
    if (ftruncate(fd_, 0) != 0) std::abort();
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(done));
      if (n <= 0) std::abort();
      done += static_cast<size_t>(n);
    }
  }
  const std::string &path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

// A private directory for what a target must write (the batch input file);
// removed at exit when empty.
inline const std::string &scratch_dir() {
  static const std::string dir = [] {
    const char *tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/obatch-fuzz-XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) {
      std::perror("mkdtemp");
      std::abort();
    }
    std::string d = buf.data();
    static std::string keep = d;
    std::atexit([] { rmdir(keep.c_str()); });
    return d;
  }();
  return dir;
}

// The lines of a JSONL text as std::getline splits them: on '\n', no empty
// piece after a final '\n'.
inline std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

}  // namespace fuzz
