// SHA-256 of a file, as the job journal's key for "the same input again".
#pragma once

#include <string>

namespace obatch {

// Lower-case hex digest of the file's bytes; throws Error(EIO).
std::string sha256_file_hex(const std::string &path);

}  // namespace obatch
