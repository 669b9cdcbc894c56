// One HTTP call at a time over libcurl's multi interface, so that every wait
// (a transfer, a back-off, the gap between status checks) can be cut short
// from another thread. Connections are kept alive between calls.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "http/retry_policy.hpp"
#include "providers/wire_types.hpp"

typedef void CURLM;
typedef void CURL;

namespace obatch {

struct HttpResponse {
  long status = 0;       // 0 when no HTTP answer came
  std::string body;      // empty for calls streamed to a file
  Headers headers;       // lower-case names
  int curl_code = 0;     // CURLcode; 0 when the transfer completed
  std::string curl_error;
  bool interrupted = false;  // Transport::stop()
  bool aborted = false;      // TransferOptions::abort said so
  uint64_t bytes_received = 0;
  int write_errno = 0;  // why writing to TransferOptions::sink_fd failed
};

struct TransferOptions {
  long connect_timeout_ms = 5000;
  long timeout_ms = 60000;     // whole call; for long transfers: no progress
  bool long_transfer = false;  // uploads and downloads
  int sink_fd = -1;            // stream the answer body to this fd (2xx only)
  // Called with (bytes sent, bytes received) as the transfer moves.
  std::function<void(uint64_t, uint64_t)> progress;
  // Asked as the transfer moves; true ends it (HttpResponse::aborted).
  std::function<bool()> abort;
  // Open a new connection. For calls that create something: libcurl sends
  // a request again by itself when a reused connection turns out closed,
  // and a create sent twice is a batch paid twice.
  bool fresh_connection = false;
  // A PEM file of CA certificates to trust in place of the default bundle
  // (config ca_file), for a server with a private CA. Certificates and host
  // names are always verified: nothing turns that off.
  std::string ca_file;
  // The header that carries the key as is ("x-api-key"); "" for
  // "Authorization: Bearer KEY".
  std::string auth_header;
};

// The header line that carries `key` (see TransferOptions::auth_header).
std::string auth_header_line(const std::string &auth_header, const std::string &key);

class Transport {
 public:
  Transport();
  ~Transport();
  Transport(const Transport &) = delete;
  Transport &operator=(const Transport &) = delete;

  // Performs `req` against `url`, with the key `bearer` in the header
  // opts.auth_header names (never logged, never sent anywhere but `url`).
  HttpResponse perform(const HttpRequest &req, const std::string &url,
                       const std::string &bearer, const TransferOptions &opts);

  // Waits `ms`, or less when woken and `done()` says so. False if stopped.
  bool sleep_ms(long ms, const std::function<bool()> &done);

  // Thread-safe: stop() ends the current and every later wait for good;
  // wake() only makes the current wait look at its condition again.
  void stop();
  void wake();
  bool stopped() const { return stop_.load(); }

 private:
  CURLM *multi_;
  CURL *easy_;
  std::atomic<bool> stop_{false};
};

// Makes sure curl_global_init ran (thread-safe, once per process).
void http_global_init();

}  // namespace obatch
