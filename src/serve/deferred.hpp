// The deferred endpoints of `obatch serve`: POST /v1/chat/completions (and
// embeddings, responses, completions, moderations) puts the request on the
// deferred queue (src/queue, through obatch_queue_*) and answers 202 with
// its id; the same request again answers 202 while it waits and the
// provider's own answer once it ran. GET /v1/deferred/{id} reads its state.
// A queue worker runs in the server; `obatch queue worker` processes may
// share the store (PostgreSQL).
#pragma once

#include <atomic>
#include <string>
#include <thread>

#include "obatch/obatch.h"
#include "serve/http_server.hpp"

namespace obatch::serve {

class ServeStore;

class Deferred {
 public:
  // `conf`: the provider and the worker's settings (copied); `store`: the
  // queue (NULL: obatch_queue_open's default). Throws std::runtime_error.
  Deferred(const obatch_config_t *conf, const char *store, ServeStore &owners);
  ~Deferred();  // stops the worker (its batches run on; the next worker takes them)
  // Stops the worker now, ending its step (while the server it may be
  // calling still answers).
  void stop_worker();
  Deferred(const Deferred &) = delete;
  Deferred &operator=(const Deferred &) = delete;

  static bool is_endpoint(const std::string &path);
  HttpResponse put(const HttpRequest &req);
  HttpResponse get(const HttpRequest &req, const std::string &id);
  // The queue's counts; false when the store cannot be read.
  bool stats(obatch_queue_stats_t *s);

 private:
  void work();

  ServeStore &owners_;
  obatch_queue_t *q_ = nullptr;       // the handlers' (its calls take turns)
  obatch_queue_t *worker_ = nullptr;  // the worker thread's
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace obatch::serve
