// Just enough URL handling to enforce the transport rules: https anywhere,
// plain http only to loopback, and a key only ever sent to its own host.
#pragma once

#include <string>

namespace obatch {

struct UrlParts {
  std::string scheme;  // lower case
  std::string host;    // lower case, without brackets for IPv6
  std::string port;    // "" when absent
};

// Splits an absolute http(s) URL; false if it is not one.
bool parse_url(const std::string &url, UrlParts *out);

// 127.0.0.0/8, ::1 or localhost.
bool is_loopback_host(const std::string &host);

// Throws Error(ECONFIG / EINSECURE) unless `base_url` is https, or http to a
// loopback host. Returns it without a trailing slash.
std::string check_base_url(const std::string &base_url);

// True if `url` has the same scheme, host and port as `base_url`.
bool same_origin(const std::string &url, const std::string &base_url);

}  // namespace obatch
