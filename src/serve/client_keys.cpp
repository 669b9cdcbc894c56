#include "serve/client_keys.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace obatch::serve {

namespace {

std::string hex(const unsigned char *data, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 15];
  }
  return out;
}

bool is_hex64(const std::string &s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool valid_name(const std::string &name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

}  // namespace

std::string sha256_hex(const std::string &text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(text.data(), text.size(), md, &n, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 is not available");
  return hex(md, n);
}

std::string random_hex(size_t bytes) {
  std::string raw(bytes, '\0');
  auto *p = reinterpret_cast<unsigned char *>(raw.data());
  if (RAND_bytes(p, static_cast<int>(bytes)) != 1)
    throw std::runtime_error("no random bytes from the system");
  return hex(p, bytes);
}

ClientKeys::ClientKeys(const std::string &path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read the client keys file " + path);
  std::string line;
  for (int no = 1; std::getline(in, line); ++no) {
    const size_t hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    std::istringstream words(line);
    std::string name, digest, extra;
    if (!(words >> name)) continue;
    if (!(words >> digest) || (words >> extra) || !valid_name(name) || !is_hex64(digest))
      throw std::runtime_error(path + " line " + std::to_string(no) +
                               ": not \"NAME SHA256-HEX\" (make entries with --add-client)");
    clients_.push_back({name, digest});
  }
  if (clients_.empty()) throw std::runtime_error(path + " has no client keys");
}

std::optional<std::string> ClientKeys::client_for(const std::string &bearer) const {
  const std::string digest = sha256_hex(bearer);
  if (internal_ && CRYPTO_memcmp(internal_->sha256_hex.data(), digest.data(), digest.size()) == 0)
    return internal_->name;
  if (clients_.empty()) return std::string();
  if (bearer.empty()) return std::nullopt;
  std::optional<std::string> found;
  for (const Client &c : clients_)  // every entry compared: the time does not tell which
    if (CRYPTO_memcmp(c.sha256_hex.data(), digest.data(), digest.size()) == 0 && !found)
      found = c.name;
  return found;
}

void ClientKeys::add_internal(const std::string &name, const std::string &key) {
  internal_ = Client{name, sha256_hex(key)};
}

std::string ClientKeys::add(const std::string &path, const std::string &name) {
  if (!valid_name(name))
    throw std::runtime_error("a client name is 1-64 letters, digits, '-', '_' or '.'");
  const std::string key = "obk_" + random_hex(24);
  const int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  const std::string line = name + " " + sha256_hex(key) + "\n";
  const bool ok =
      write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && fsync(fd) == 0;
  close(fd);
  if (!ok) throw std::runtime_error("cannot write " + path);
  return key;
}

}  // namespace obatch::serve
