// SHA-256, as the job journal's key for "the same input again".
#pragma once

#include <cstddef>
#include <memory>
#include <string>

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace obatch {

// A digest taken while the bytes go by, so that what is hashed is exactly
// what was read (a second read of a file could see other bytes).
class Sha256 {
 public:
  Sha256();  // throws Error(EINTERNAL) without SHA-256 in libcrypto
  void update(const void *data, size_t n);
  // Lower-case hex; the digest is finished (no update after it).
  std::string hex();

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX *)> ctx_;
};

// Lower-case hex digest of the file's bytes; throws Error(EIO).
std::string sha256_file_hex(const std::string &path);

}  // namespace obatch
