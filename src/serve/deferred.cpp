#include "serve/deferred.hpp"

#include <cstdio>
#include <stdexcept>

#include "queue/state_names.hpp"
#include "serve/client_keys.hpp"
#include "serve/serve_store.hpp"
#include "util/json_write.hpp"

namespace obatch::serve {

namespace {

const char *const kEndpoints[] = {"/v1/chat/completions", "/v1/embeddings", "/v1/responses",
                                  "/v1/completions", "/v1/moderations"};

std::string seconds(int64_t ms) { return ms ? std::to_string(ms / 1000) : "null"; }

// {"id", "object": "deferred_request", "status", ...} of an entry.
std::string entry_json(const obatch_queue_entry_t &e) {
  std::string out =
      "{\"id\":" + json_quote(e.ticket) +
      ",\"object\":\"deferred_request\",\"status\":" + json_quote(queue_state_name(e.state)) +
      ",\"endpoint\":" + json_quote(e.endpoint) + ",\"model\":" + json_quote(e.model) +
      ",\"created_at\":" + seconds(e.created_ms) + ",\"submitted_at\":" + seconds(e.submitted_ms) +
      ",\"ended_at\":" + seconds(e.ended_ms) + ",\"response\":";
  if (e.status_code)
    out += "{\"status_code\":" + std::to_string(e.status_code) +
           ",\"body\":" + (e.body[0] ? e.body : "null") + "}";
  else
    out += "null";
  out += ",\"error\":";
  if (e.error_code[0] || e.error_message[0])
    out += "{\"code\":" + json_quote(e.error_code) + ",\"message\":" + json_quote(e.error_message) +
           "}";
  else
    out += "null";
  return out + "}";
}

// The answer to a put (the first or a later one) of the request `e`.
HttpResponse answer(const obatch_queue_entry_t &e) {
  HttpResponse r;
  r.headers.push_back({"obatch-deferred-id", e.ticket});
  if ((e.state == OBATCH_QUEUE_COMPLETED || e.state == OBATCH_QUEUE_FAILED) && e.status_code &&
      e.body[0]) {
    r.status = e.status_code;  // the provider's own answer, byte for byte
    r.body = e.body;
    return r;
  }
  if (e.state == OBATCH_QUEUE_FAILED || e.state == OBATCH_QUEUE_EXPIRED) {
    const bool expired = e.state == OBATCH_QUEUE_EXPIRED;
    HttpResponse err = HttpServer::error(
        expired ? 504 : 502,
        e.error_message[0] ? e.error_message
                           : (expired ? "The request expired before its batch ran."
                                      : "The request's batch failed."),
        "deferred_error", e.error_code[0] ? e.error_code : (expired ? "expired" : "failed"));
    err.headers = r.headers;
    return err;
  }
  r.status = 202;
  r.body = "{\"id\":" + json_quote(e.ticket) +
           ",\"object\":\"deferred_request\",\"status\":" + json_quote(queue_state_name(e.state)) +
           ",\"created_at\":" + seconds(e.created_ms) + "}";
  return r;
}

}  // namespace

Deferred::Deferred(const obatch_config_t *conf, const char *store, ServeStore &owners)
    : owners_(owners) {
  if (obatch_queue_open(&q_, conf, store) != OBATCH_OK ||
      obatch_queue_open(&worker_, conf, store) != OBATCH_OK) {
    const std::string why = obatch_queue_last_error(nullptr);
    obatch_queue_close(q_);
    throw std::runtime_error("the deferred queue: " + why);
  }
  thread_ = std::thread([this] { work(); });
}

Deferred::~Deferred() {
  stop_worker();
  obatch_queue_close(worker_);
  obatch_queue_close(q_);
}

void Deferred::stop_worker() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

bool Deferred::is_endpoint(const std::string &path) {
  for (const char *e : kEndpoints)
    if (path == e) return true;
  return false;
}

void Deferred::work() {
  std::string last_error;
  while (!stop_) {
    obatch_queue_stats_t s = OBATCH_QUEUE_STATS_INIT;
    const int rc = obatch_queue_work(worker_, 250, &s);
    if (rc == OBATCH_OK) {
      last_error.clear();
      continue;
    }
    // Said once per kind of failure (a store away for a while, a missing key).
    const std::string why = obatch_queue_last_error(worker_);
    if (why != last_error) std::fprintf(stderr, "obatch serve: deferred worker: %s\n", why.c_str());
    last_error = why;
    for (int i = 0; i < 10 && !stop_; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

HttpResponse Deferred::put(const HttpRequest &req) {
  if (req.body.empty())
    return HttpServer::error(400, "The request has no body: send the request as JSON.",
                             "invalid_request_error");
  // An Idempotency-Key names the request instead of its body, per client.
  const std::string key = req.header("idempotency-key");
  const std::string client_id =
      key.empty() ? "" : "obq_" + sha256_hex(req.client + "\n" + key).substr(0, 32);
  const char *ticket = nullptr;
  const int rc = obatch_queue_put(q_, req.path.c_str(), req.body.c_str(),
                                  client_id.empty() ? nullptr : client_id.c_str(), &ticket);
  if (rc != OBATCH_OK) {
    const std::string why = obatch_queue_last_error(q_);
    switch (rc) {
      case OBATCH_EJSON:
        return HttpServer::error(400,
                                 "We could not parse the JSON body of your request. (" + why + ")",
                                 "invalid_request_error");
      case OBATCH_EDUPLICATE:
        return HttpServer::error(400, "This Idempotency-Key was used with another request body.",
                                 "invalid_request_error", "idempotency_key_reused");
      case OBATCH_EREQUEST:
      case OBATCH_ELIMIT:
      case OBATCH_EMODEL:
      case OBATCH_EPROVIDER: return HttpServer::error(400, why, "invalid_request_error");
      default:
        std::fprintf(stderr, "obatch serve: deferred put: %s\n", why.c_str());
        return HttpServer::error(503, "The deferred queue cannot store the request now.",
                                 "server_error");
    }
  }
  const std::string id = ticket;
  owners_.add_owner(req.client, id);
  obatch_queue_entry_t e = OBATCH_QUEUE_ENTRY_INIT;
  if (obatch_queue_get(q_, id.c_str(), &e) != OBATCH_OK)
    return HttpServer::error(503, "The deferred queue cannot be read now.", "server_error");
  return answer(e);
}

HttpResponse Deferred::get(const HttpRequest &req, const std::string &id) {
  obatch_queue_entry_t e = OBATCH_QUEUE_ENTRY_INIT;
  if (!owners_.owns(req.client, id) || obatch_queue_get(q_, id.c_str(), &e) != OBATCH_OK)
    return HttpServer::error(404, "No deferred request with the id " + json_quote(id) + ".",
                             "invalid_request_error", "not_found", "id");
  HttpResponse r;
  r.body = entry_json(e);
  return r;
}

bool Deferred::stats(obatch_queue_stats_t *s) { return obatch_queue_stats(q_, s) == OBATCH_OK; }

}  // namespace obatch::serve
