#include "serve/server.hpp"

#include "serve/deferred.hpp"
#include "serve/gateway.hpp"
#include "serve/serve_store.hpp"

namespace obatch::serve {

namespace {

bool under_v1(const std::string &path) { return path.rfind("/v1/", 0) == 0; }

std::string bearer(const HttpRequest &req) {
  const std::string auth = req.header("authorization");
  static const std::string kPrefix = "Bearer ";
  return auth.size() > kPrefix.size() && auth.compare(0, kPrefix.size(), kPrefix) == 0
             ? auth.substr(kPrefix.size())
             : std::string();
}

}  // namespace

std::optional<HttpResponse> Routes::gate(HttpRequest &req) {
  if (!under_v1(req.path)) return std::nullopt;
  const std::optional<std::string> client = keys_.client_for(bearer(req));
  if (!client) {
    HttpResponse r =
        HttpServer::error(401,
                          bearer(req).empty() ? "You didn't provide an API key: send it as "
                                                "\"Authorization: Bearer KEY\"."
                                              : "Incorrect API key provided.",
                          "invalid_request_error", "invalid_api_key");
    metrics_.count_response(r.status);
    return r;
  }
  req.client = *client;
  return std::nullopt;
}

HttpResponse Routes::handle(HttpRequest &req) {
  HttpResponse r = route(req);
  metrics_.count_response(r.status);
  return r;
}

HttpResponse Routes::route(HttpRequest &req) {
  if (req.path == "/healthz" && req.method == "GET") {
    HttpResponse r;
    r.body = "{\"status\":\"ok\"}";
    return r;
  }
  if (req.path == "/metrics" && req.method == "GET") {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = metrics_text();
    return r;
  }
  static const std::string kDeferred = "/v1/deferred/";
  const bool put = req.method == "POST" && Deferred::is_endpoint(req.path);
  const bool get = req.method == "GET" && req.path.size() > kDeferred.size() &&
                   req.path.compare(0, kDeferred.size(), kDeferred) == 0;
  if (put || get) {
    Deferred *deferred = deferred_;
    if (!deferred)
      return HttpServer::error(503, "The deferred queue is not open yet; try again.",
                               "server_error");
    return put ? deferred->put(req) : deferred->get(req, req.path.substr(kDeferred.size()));
  }
  if (gateway_) {
    if (auto r = gateway_->handle(req)) return *r;
  } else if (req.path.rfind("/v1/files", 0) == 0 || req.path.rfind("/v1/batches", 0) == 0) {
    return HttpServer::error(404,
                             "This server has no Batch API: start obatch serve with --upstream.",
                             "invalid_request_error", "unknown_url");
  }
  return HttpServer::error(404, "Unknown request URL: " + req.method + " " + req.path + ".",
                           "invalid_request_error", "unknown_url");
}

std::string Routes::metrics_text() {
  std::string out;
  metric_head(out, "obatch_serve_http_responses_total", "counter",
              "HTTP responses by status code.");
  for (const auto &[status, n] : metrics_.responses_by_status())
    out += "obatch_serve_http_responses_total{code=\"" + std::to_string(status) + "\"} " +
           std::to_string(n) + "\n";
  obatch_queue_stats_t s = OBATCH_QUEUE_STATS_INIT;
  Deferred *deferred = deferred_;
  if (deferred && deferred->stats(&s)) {
    metric_head(out, "obatch_serve_deferred_requests", "gauge",
                "Deferred requests in the queue by state.");
    const std::pair<const char *, uint64_t> states[] = {{"queued", s.queued},
                                                        {"submitted", s.submitted},
                                                        {"completed", s.completed},
                                                        {"failed", s.failed},
                                                        {"expired", s.expired}};
    for (const auto &[name, n] : states)
      out += std::string("obatch_serve_deferred_requests{state=\"") + name + "\"} " +
             std::to_string(n) + "\n";
    metric_head(out, "obatch_serve_deferred_batches_running", "gauge",
                "Batches of deferred requests running at the provider.");
    out += "obatch_serve_deferred_batches_running " + std::to_string(s.batches_running) + "\n";
  }
  if (gateway_) {
    metric_head(out, "obatch_serve_batches", "gauge", "Gateway batches by status.");
    const auto by_status = store_.batches_by_status();
    for (const char *status : {"validating", "in_progress", "finalizing", "completed", "failed",
                               "expired", "cancelling", "cancelled"}) {
      const auto it = by_status.find(status);
      out += std::string("obatch_serve_batches{status=\"") + status + "\"} " +
             std::to_string(it == by_status.end() ? 0 : it->second) + "\n";
    }
    metric_head(out, "obatch_serve_upstream_requests_total", "counter",
                "Requests the gateway sent upstream (retries included).");
    out += "obatch_serve_upstream_requests_total " +
           std::to_string(metrics_.upstream_requests.load()) + "\n";
    metric_head(out, "obatch_serve_upstream_errors_total", "counter",
                "Upstream answers that were errors, or sent again (429, 5xx, no answer).");
    out += "obatch_serve_upstream_errors_total " + std::to_string(metrics_.upstream_errors.load()) +
           "\n";
    metric_head(out, "obatch_serve_upstream_requests_per_second", "gauge",
                "Requests sent upstream per second, over the last minute.");
    char rate[32];
    std::snprintf(rate, sizeof rate, "%.3f",
                  static_cast<double>(gateway_->requests_per_minute()) / 60.0);
    out += std::string("obatch_serve_upstream_requests_per_second ") + rate + "\n";
  }
  return out;
}

}  // namespace obatch::serve
