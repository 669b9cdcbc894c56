// The batch gateway of `obatch serve --upstream URL`: the OpenAI Files and
// Batches API in front of a server that has only the normal endpoints
// (vLLM, llama.cpp, Ollama, TGI). Each batch runs in direct mode against the
// upstream (obatch_create with mode "direct": concurrency, rate limits,
// retries), with a job journal of its own, so every result line is on disk
// as it arrives and a batch taken up after a restart (or kill -9) sends only
// the requests that have no result. What has not run when the completion
// window ends is expired, as OpenAI does.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "serve/http_server.hpp"
#include "serve/metrics.hpp"
#include "serve/serve_store.hpp"

namespace obatch::serve {

struct GatewayOptions {
  std::string upstream;      // the upstream's base URL ("http://127.0.0.1:8000/v1")
  std::string api_key;       // the upstream's key, "" for none; never answered or logged
  std::string data_dir;      // files/ and batches/ go here
  unsigned concurrency = 0;  // 0: direct mode's default
  uint64_t rpm = 0, tpm = 0;
};

class Gateway {
 public:
  Gateway(GatewayOptions options, ServeStore &store, Metrics &metrics);
  ~Gateway();  // stops every batch where it is (it goes on at the next start)
  Gateway(const Gateway &) = delete;
  Gateway &operator=(const Gateway &) = delete;

  // Takes up the batches that had not ended when the server stopped.
  void resume();
  // The answer for /v1/files... and /v1/batches...; nullopt for other paths.
  std::optional<HttpResponse> handle(HttpRequest &req);
  // Requests sent upstream in the last minute, over every running batch.
  uint64_t requests_per_minute();

 private:
  class Runner;

  HttpResponse upload(HttpRequest &req);
  HttpResponse file_call(HttpRequest &req, const std::string &id, bool content);
  HttpResponse list_files(HttpRequest &req);
  HttpResponse create_batch(HttpRequest &req);
  HttpResponse list_batches(HttpRequest &req);
  HttpResponse get_batch(HttpRequest &req, const std::string &id);
  HttpResponse cancel_batch(HttpRequest &req, const std::string &id);
  void start(const BatchRow &row, bool cancel);

  GatewayOptions options_;
  ServeStore &store_;
  Metrics &metrics_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Runner>> runners_;
};

// The Batch object of OpenAI's API for a row.
std::string batch_json(const BatchRow &b);

}  // namespace obatch::serve
