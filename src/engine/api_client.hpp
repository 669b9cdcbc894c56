// The provider's API as calls that retry like the official SDKs: provider
// hooks build and read, the transport moves bytes, this decides what a
// failure means. Calls that create something (upload, create batch) first
// look for what an earlier, unanswered attempt may have created.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "http/transport.hpp"
#include "providers/provider.hpp"
#include "util/error.hpp"

namespace obatch {

class Config;

// Thrown when the transport was stopped (the handle is being destroyed).
struct Stopped {};

struct ClientSettings {
  int max_retries = 5;
  long connect_timeout_ms = 5000;
  long request_timeout_ms = 60000;
  std::string ca_file;  // config ca_file: a private CA to trust ("" = default)
};

ClientSettings client_settings(const Config &conf);

class ApiClient {
 public:
  ApiClient(std::shared_ptr<const Provider> provider, std::string base_url,
            std::string api_key, ClientSettings settings, Transport *transport);

  // A call with retries; throws Error (or Stopped).
  Remote call(int op, const Fields &args);

  // A call to an endpoint an OpenAI-compatible server may not have (a file
  // listing): nullopt when the server answers 404, 405 or 501, at once (a
  // missing endpoint does not come back on a retry); else as call().
  std::optional<Remote> call_if_served(int op, const Fields &args);

  // A call that creates something. Before every retry `find_existing` is
  // asked whether the earlier attempt took effect; its answer is used as is.
  // `abort` may end the transfer (then Error(ECANCELLED)).
  Remote create(int op, const Fields &args,
                const std::function<std::optional<Remote>()> &find_existing,
                const std::function<void(uint64_t, uint64_t)> &progress = {},
                const std::function<bool()> &abort = {});

  // Streams the answer body of `op` into `fd` (truncated first); one try.
  // Returns the response; throws Error for a non-retryable failure.
  HttpResponse download_once(int op, const Fields &args, int fd,
                             const std::function<void(uint64_t, uint64_t)> &progress);

  // Error for a failed response (after the retries).
  Error failure(int op, const HttpResponse &resp, int attempts) const;

  // Waits the back-off before retry `attempt`; throws Stopped.
  void back_off(int attempt, const HttpResponse &resp);

  const ClientSettings &settings() const { return settings_; }
  Transport &transport() { return *transport_; }

 private:
  HttpResponse perform(int op, const Fields &args, const TransferOptions &opts);
  // create(), and call_if_served() when `if_served`.
  std::optional<Remote> send(int op, const Fields &args,
                             const std::function<std::optional<Remote>()> &find_existing,
                             const std::function<void(uint64_t, uint64_t)> &progress,
                             const std::function<bool()> &abort, bool if_served);
  std::string redact(std::string text) const;

  std::shared_ptr<const Provider> provider_;
  std::string base_url_, api_key_;
  ClientSettings settings_;
  Transport *transport_;
};

}  // namespace obatch
