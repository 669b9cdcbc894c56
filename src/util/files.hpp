// Small filesystem helpers: private temp directories, atomic publish of a
// finished file (temp name + fsync + rename), random names.
#pragma once

#include <cstdint>
#include <string>

namespace obatch {

// A new private (0700) directory under $TMPDIR or /tmp.
std::string make_private_dir(const std::string &prefix);

// Creates the directory (and parents) if missing; throws Error(EIO).
void ensure_dir(const std::string &path);

// Creates a unique temp file next to `final_path` (same filesystem, so the
// rename is atomic), named <final>.part-<pid>-XXXXXX; returns its path and
// an open fd. First removes such files whose process is gone (killed).
std::string make_temp_beside(const std::string &final_path, int *fd_out);

// fsyncs `fd`, closes it and renames `temp` to `final_path`; throws on error.
void publish_file(int fd, const std::string &temp,
                  const std::string &final_path);

// Size of a file in bytes; throws Error(EIO).
uint64_t file_size(const std::string &path);

// `n` random bytes as lower-case hex (from /dev/urandom).
std::string random_hex(size_t n);

// The absolute path with symlinks resolved (realpath), or "" when the file
// does not exist or cannot be resolved.
std::string real_path(const std::string &path);

// The directory part of a path ("." when none).
std::string dir_of(const std::string &path);

// `dir` + "/" + `name`, without doubling the slash.
std::string path_join(const std::string &dir, const std::string &name);

// strerror(errno) as a string.
std::string errno_text(int err);

}  // namespace obatch
