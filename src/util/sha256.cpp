#include "util/sha256.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "obatch/obatch.h"
#include "util/error.hpp"
#include "util/files.hpp"

namespace obatch {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
    throw Error(OBATCH_EINTERNAL, "SHA-256 is not available");
}

void Sha256::update(const void *data, size_t n) {
  if (n) EVP_DigestUpdate(ctx_.get(), data, n);
}

std::string Sha256::hex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx_.get(), md, &len);
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; i++) {
    out += digits[md[i] >> 4];
    out += digits[md[i] & 15];
  }
  return out;
}

std::string sha256_file_hex(const std::string &path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(OBATCH_EIO, "cannot read " + path + ": " + errno_text(errno));
  Sha256 sha;
  std::vector<unsigned char> buf(1 << 20);
  for (;;) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      throw Error(OBATCH_EIO, "cannot read " + path + ": " + errno_text(err));
    }
    if (n == 0) break;
    sha.update(buf.data(), static_cast<size_t>(n));
  }
  close(fd);
  return sha.hex();
}

}  // namespace obatch
