// Who may call `obatch serve`: clients with bearer keys of their own. The
// keys file holds, one a line, "NAME SHA256-HEX-OF-THE-KEY" (blank lines and
// "#" comments allowed): a key itself is never written down at the server,
// only shown once, when `obatch serve --add-client NAME` makes it.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace obatch::serve {

class ClientKeys {
 public:
  ClientKeys() = default;                        // no keys: every caller is let in
  explicit ClientKeys(const std::string &path);  // throws std::runtime_error

  bool empty() const { return clients_.empty(); }
  // The client whose key `bearer` is, compared in constant time; nullopt for
  // none. Without keys, "" (the one anonymous client).
  std::optional<std::string> client_for(const std::string &bearer) const;

  // Makes a new random key for `name`, appends its hash to `path` (created
  // 0600) and returns the key.
  static std::string add(const std::string &path, const std::string &name);

  // A key of the server's own, never written anywhere, for the client
  // `name` (the deferred worker calling the server's own gateway); taken
  // with or without a keys file.
  void add_internal(const std::string &name, const std::string &key);

 private:
  struct Client {
    std::string name, sha256_hex;
  };
  std::vector<Client> clients_;
  std::optional<Client> internal_;
};

// Lower-case hex SHA-256 of `text`.
std::string sha256_hex(const std::string &text);
// `bytes` random bytes from the system's generator, in lower-case hex.
std::string random_hex(size_t bytes);

}  // namespace obatch::serve
