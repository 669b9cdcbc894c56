#include "http/retry_policy.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace obatch {

namespace {
const std::string *header(const Headers &h, const char *name) {
  auto it = h.find(name);
  return it == h.end() ? nullptr : &it->second;
}
}  // namespace

bool should_retry(long status, const Headers &headers) {
  if (const std::string *v = header(headers, "x-should-retry")) {
    if (*v == "true") return true;
    if (*v == "false") return false;
  }
  return status == 0 || status == 408 || status == 409 || status == 429 || status >= 500;
}

long server_retry_after_ms(const Headers &headers, time_t now) {
  double ms = -1;
  if (const std::string *v = header(headers, "retry-after-ms")) {
    char *end = nullptr;
    double d = std::strtod(v->c_str(), &end);
    if (end != v->c_str() && *end == '\0') ms = d;
  }
  if (ms < 0) {
    if (const std::string *v = header(headers, "retry-after")) {
      char *end = nullptr;
      double d = std::strtod(v->c_str(), &end);
      if (end != v->c_str() && *end == '\0') {
        ms = d * 1000;
      } else {
        time_t when = curl_getdate(v->c_str(), nullptr);
        if (when > 0) ms = std::difftime(when, now) * 1000;
      }
    }
  }
  if (ms <= 0 || ms > 60000) return -1;
  return static_cast<long>(ms);
}

long backoff_ms(int attempt, double jitter) {
  double s = std::min(0.5 * std::pow(2.0, attempt), 8.0);
  return static_cast<long>(s * (1.0 - 0.25 * jitter) * 1000);
}

long retry_delay_ms(int attempt, const Headers &headers, time_t now, double jitter) {
  long server = server_retry_after_ms(headers, now);
  return server >= 0 ? server : backoff_ms(attempt, jitter);
}

}  // namespace obatch
