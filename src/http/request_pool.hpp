// Many POSTs in flight at once over one libcurl multi handle, driven by one
// thread (no thread per request): keep-alive connections are shared by all,
// and HTTP/2 streams multiplexed over one connection where an https server
// offers it. Direct mode sends its requests through this.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "http/transport.hpp"

struct curl_slist;

namespace obatch {

struct PoolResponse {
  uint64_t tag = 0;
  long status = 0;  // 0 when no HTTP answer came
  std::string body;
  Headers headers;  // lower-case names
  int curl_code = 0;
  std::string curl_error;
  bool too_large = false;    // the body passed kMaxBody and was cut
  std::string request_body;  // what was sent, given back (to send again)
};

class RequestPool {
 public:
  static constexpr size_t kMaxBody = 64u << 20;

  // `bearer`: the key for the Authorization header (never logged, sent only
  // to the URLs given to start()).
  RequestPool(const std::string &bearer, TransferOptions opts, size_t max_in_flight);
  ~RequestPool();
  RequestPool(const RequestPool &) = delete;
  RequestPool &operator=(const RequestPool &) = delete;

  size_t in_flight() const { return busy_; }
  bool full() const { return busy_ >= max_; }

  // Starts POST `body` (JSON) to `url`; `tag` comes back with the answer.
  void start(uint64_t tag, const std::string &url, std::string body);
  // Moves the transfers on for up to `wait_ms` (less when one ends, or on
  // wake()); the ended ones are appended to `done`.
  void run(int wait_ms, std::vector<PoolResponse> *done);
  // Ends every transfer in flight now; their answers are lost.
  void drop_all();
  // Thread-safe: makes a run() in progress return.
  void wake();

 private:
  struct Slot;
  Slot *free_slot();

  TransferOptions opts_;
  size_t max_;
  size_t busy_ = 0;
  CURLM *multi_;
  ::curl_slist *headers_ = nullptr;
  std::vector<std::unique_ptr<Slot>> slots_;
};

}  // namespace obatch
