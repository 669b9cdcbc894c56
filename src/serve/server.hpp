// `obatch serve`'s routes: who is asking (client keys), /healthz, /metrics,
// the deferred endpoints and, with an upstream, the batch gateway.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "serve/client_keys.hpp"
#include "serve/http_server.hpp"
#include "serve/metrics.hpp"

namespace obatch::serve {

class Deferred;
class Gateway;
class ServeStore;

class Routes {
 public:
  // `gateway` may be NULL (no --upstream: no Batch API here).
  Routes(ClientKeys keys, Gateway *gateway, ServeStore &store, Metrics &metrics)
      : keys_(std::move(keys)), gateway_(gateway), store_(store), metrics_(metrics) {}

  // The deferred endpoints answer 503 until they are set (the queue may
  // need the server's own port first).
  void set_deferred(Deferred *deferred) { deferred_ = deferred; }

  // Before the body: refuses a missing or wrong key (401) under /v1/.
  std::optional<HttpResponse> gate(HttpRequest &req);
  HttpResponse handle(HttpRequest &req);

 private:
  HttpResponse route(HttpRequest &req);
  std::string metrics_text();

  ClientKeys keys_;
  std::atomic<Deferred *> deferred_{nullptr};
  Gateway *gateway_;
  ServeStore &store_;
  Metrics &metrics_;
};

}  // namespace obatch::serve
