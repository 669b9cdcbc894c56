#include "engine/api_client.hpp"

#include <fcntl.h>
#include <simdjson.h>
#include <unistd.h>

#include <ctime>
#include <random>

#include "core/config.hpp"
#include "obatch/obatch.h"
#include "util/error.hpp"
#include "util/url.hpp"

namespace obatch {

namespace {

double jitter() {
  static thread_local std::mt19937 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

bool is_long_transfer(int op) { return op == OBATCH_OP_UPLOAD || op == OBATCH_OP_DOWNLOAD; }

// libcurl codes for a certificate that is not trusted, or a CA file that
// cannot be used: trying again cannot help.
constexpr int kCurlPeerFailedVerification = 60;
constexpr int kCurlCaCertBadFile = 77;
bool tls_trust_failure(int curl_code) {
  return curl_code == kCurlPeerFailedVerification || curl_code == kCurlCaCertBadFile;
}

// "host" or "host:port" of an absolute http(s) URL; "" when it is not one.
std::string authority_of(const std::string &url) {
  UrlParts u;
  if (!parse_url(url, &u)) return "";
  std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  return u.port.empty() ? host : host + ":" + u.port;
}

// False when the server surely did not act on the request: it was never
// connected to, or it answered in full with a client error (4xx: refused,
// rate-limited, timed out waiting for the request).
bool may_have_acted(const HttpResponse &resp) {
  if (resp.curl_code == 6 /* COULDNT_RESOLVE_HOST */ || resp.curl_code == 7 /* COULDNT_CONNECT */)
    return false;
  return resp.curl_code != 0 || resp.status >= 500;
}

// The answers of a server that has no such endpoint at all: not found, this
// method not allowed, not implemented.
bool endpoint_missing(long status) { return status == 404 || status == 405 || status == 501; }

// "message (code)" from an OpenAI-style error body, or a short excerpt.
std::string error_text(const std::string &body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc, err;
  if (!parser.parse(body).get(doc) && doc.is_object() &&
      !doc.get_object().value_unsafe()["error"].get(err)) {
    if (err.is_string()) return std::string(err.get_string().value_unsafe());
    if (err.is_object()) {
      auto o = err.get_object().value_unsafe();
      std::string msg, code;
      simdjson::dom::element v;
      if (!o["message"].get(v) && v.is_string()) msg = std::string(v.get_string().value_unsafe());
      if (!o["code"].get(v) && v.is_string()) code = std::string(v.get_string().value_unsafe());
      if (!msg.empty()) return code.empty() ? msg : msg + " (" + code + ")";
    }
  }
  std::string excerpt = body.substr(0, 200);
  for (char &c : excerpt)
    if (c == '\n' || c == '\r') c = ' ';
  return excerpt;
}

}  // namespace

ClientSettings client_settings(const Config &conf) {
  ClientSettings s;
  s.max_retries = static_cast<int>(conf.get_int("max_retries", s.max_retries));
  s.connect_timeout_ms = conf.get_int("connect_timeout_ms", s.connect_timeout_ms);
  s.request_timeout_ms = conf.get_int("request_timeout_ms", s.request_timeout_ms);
  s.ca_file = conf.get("ca_file");
  return s;
}

ApiClient::ApiClient(std::shared_ptr<const Provider> provider, std::string base_url,
                     std::string api_key, ClientSettings settings, Transport *transport)
    : provider_(std::move(provider)),
      base_url_(std::move(base_url)),
      api_key_(std::move(api_key)),
      settings_(settings),
      transport_(transport) {}

std::string ApiClient::redact(std::string text) const {
  if (api_key_.size() >= 4)
    for (size_t at; (at = text.find(api_key_)) != std::string::npos;)
      text.replace(at, api_key_.size(), "[redacted]");
  return text;
}

HttpResponse ApiClient::perform(int op, const Fields &args, const TransferOptions &opts) {
  HttpRequest req;
  provider_->build(op, args, &req);
  bool absolute = req.target.rfind("http://", 0) == 0 || req.target.rfind("https://", 0) == 0;
  if (!absolute && req.target.rfind("/", 0) != 0)
    throw Error(OBATCH_EINVAL, std::string(op_name(op)) +
                                   ": the provider's request target must start with / or be an "
                                   "absolute URL");
  std::string url = absolute ? req.target : base_url_ + req.target;
  // A key goes only to its own provider's host: checked on the final URL,
  // so no target can splice in another authority.
  if (!same_origin(url, base_url_))
    throw Error(OBATCH_EINSECURE, std::string(op_name(op)) +
                                      ": the provider asked to send the key to another host");
  TransferOptions with_ca = opts;
  with_ca.ca_file = settings_.ca_file;
  with_ca.auth_header = provider_->auth_header();
  HttpResponse resp = transport_->perform(req, url, api_key_, with_ca);
  if (resp.interrupted) throw Stopped{};
  return resp;
}

Error ApiClient::failure(int op, const HttpResponse &resp, int attempts) const {
  std::string what = op_name(op);
  std::string tries = attempts > 1 ? " (after " + std::to_string(attempts) + " attempts)" : "";
  if (resp.curl_code == 23 /* CURLE_WRITE_ERROR */)
    return Error(OBATCH_EIO, what + ": " + resp.curl_error);
  UrlParts u;
  parse_url(base_url_, &u);
  if (resp.curl_code == kCurlCaCertBadFile)
    return Error(OBATCH_ECONFIG, what + ": cannot use the CA file '" + settings_.ca_file +
                                     "' (ca_file): " + redact(resp.curl_error));
  if (resp.curl_code == kCurlPeerFailedVerification)
    return Error(OBATCH_EINSECURE,
                 what + ": the TLS certificate of " + u.host + " is not trusted (" +
                     redact(resp.curl_error) + "); nothing was sent. obatch always verifies " +
                     "certificates: for a server with a private CA, give that CA's PEM file " +
                     "as ca_file (obatch --ca-file PATH)" +
                     (settings_.ca_file.empty() ? "" : "; ca_file is '" + settings_.ca_file + "'"));
  if (resp.status == 0 || resp.curl_code != 0) {
    std::string how = resp.status == 0
                          ? "no answer from " + u.host
                          : "the answer from " + u.host + " (HTTP " +
                                std::to_string(resp.status) + ") was cut off";
    return Error(OBATCH_ENETWORK, what + ": " + how + ": " + redact(resp.curl_error) + tries,
                 true);
  }
  // Redact before error_text cuts the body short: a cut key is not found.
  std::string detail = redact(error_text(redact(resp.body)));
  std::string status = "HTTP " + std::to_string(resp.status);
  if (resp.status >= 300 && resp.status < 400) {
    // Never followed: the key would go along. Name the host only: a path
    // or query string may hold anything.
    auto loc = resp.headers.find("location");
    std::string target = loc == resp.headers.end() ? "" : loc->second;
    std::string where = authority_of(target);
    bool same_host = where == authority_of(base_url_) ||
                     (target.rfind("/", 0) == 0 && target.rfind("//", 0) != 0);
    if (same_host)
      where = "another path on " + u.host;
    else if (where.empty())
      where = "another address";
    return Error(OBATCH_EHTTP,
                 what + ": the server redirected (" + status + ") to " + redact(where) +
                     "; obatch does not follow redirects (a key is sent only to its own "
                     "provider's address): set the base URL to where the API really is");
  }
  if (resp.status == 401 || resp.status == 403)
    return Error(OBATCH_EAUTH, what + ": the server refused the API key for " +
                                   provider_->name() + " (" + status + ": " + detail +
                                   "); check " + provider_->api_key_env());
  if (resp.status == 404) return Error(OBATCH_ENOTFOUND, what + ": not found (" + detail + ")");
  return Error(OBATCH_EHTTP, what + ": " + status + ": " + detail + tries,
               should_retry(resp.status, resp.headers));
}

void ApiClient::back_off(int attempt, const HttpResponse &resp) {
  long ms = retry_delay_ms(attempt, resp.headers, std::time(nullptr), jitter());
  if (!transport_->sleep_ms(ms, {})) throw Stopped{};
}

Remote ApiClient::call(int op, const Fields &args) {
  return create(op, args, {});
}

std::optional<Remote> ApiClient::call_if_served(int op, const Fields &args) {
  return send(op, args, {}, {}, {}, true);
}

Remote ApiClient::create(int op, const Fields &args,
                         const std::function<std::optional<Remote>()> &find_existing,
                         const std::function<void(uint64_t, uint64_t)> &progress,
                         const std::function<bool()> &abort) {
  return *send(op, args, find_existing, progress, abort, false);
}

std::optional<Remote> ApiClient::send(int op, const Fields &args,
                                      const std::function<std::optional<Remote>()> &find_existing,
                                      const std::function<void(uint64_t, uint64_t)> &progress,
                                      const std::function<bool()> &abort, bool if_served) {
  TransferOptions opts;
  opts.connect_timeout_ms = settings_.connect_timeout_ms;
  opts.timeout_ms = settings_.request_timeout_ms;
  opts.long_transfer = is_long_transfer(op);
  opts.progress = progress;
  opts.abort = abort;
  opts.fresh_connection = static_cast<bool>(find_existing);
  for (int attempt = 0;; attempt++) {
    HttpResponse resp = perform(op, args, opts);
    if (resp.aborted)
      throw Error(OBATCH_ECANCELLED, std::string(op_name(op)) + ": cancelled while it ran");
    if (resp.curl_code == 0 && resp.status >= 200 && resp.status < 300) {
      Remote out;
      provider_->parse(op, static_cast<int>(resp.status), resp.body, &out);
      return out;
    }
    if (if_served && resp.curl_code == 0 && endpoint_missing(resp.status)) return std::nullopt;
    // Any transport failure may be retried, even after a status line: a
    // create answered "200" and then cut off did create something, and
    // only the search before the retry can tell.
    bool retry = resp.curl_code != 0 ? resp.curl_code != 23 /* CURLE_WRITE_ERROR */ &&
                                           !tls_trust_failure(resp.curl_code)
                                     : should_retry(resp.status, resp.headers);
    if (!retry || attempt >= settings_.max_retries) {
      // Out of tries: still, a create that may have happened must be found
      // rather than reported as never made (the user would submit again).
      if (find_existing && may_have_acted(resp)) {
        std::optional<Remote> existing;
        try {
          existing = find_existing();
        } catch (const Error &) {
          // The original failure says more than the failed search.
        }
        if (existing) return *existing;
      }
      throw failure(op, resp, attempt + 1);
    }
    back_off(attempt, resp);
    if (find_existing && may_have_acted(resp)) {
      std::optional<Remote> existing;
      try {
        existing = find_existing();
      } catch (const Error &e) {
        // Say what the user was doing, not only which lookup failed.
        throw Error(e.code(), std::string(failure(op, resp, attempt + 1).what()) +
                                  "; then, looking for what that attempt may have created: " +
                                  e.what());
      }
      if (existing) return *existing;
    }
  }
}

HttpResponse ApiClient::download_once(int op, const Fields &args, int fd,
                                      const std::function<void(uint64_t, uint64_t)> &progress) {
  if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
    throw Error(OBATCH_EIO, "cannot write the download: disk or permission problem");
  TransferOptions opts;
  opts.connect_timeout_ms = settings_.connect_timeout_ms;
  opts.timeout_ms = settings_.request_timeout_ms;
  opts.long_transfer = true;
  opts.sink_fd = fd;
  opts.progress = progress;
  return perform(op, args, opts);
}

}  // namespace obatch
