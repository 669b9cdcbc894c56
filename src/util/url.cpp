#include "util/url.hpp"

#include <algorithm>
#include <cctype>

#include "obatch/obatch.h"
#include "util/error.hpp"

namespace obatch {

static std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool parse_url(const std::string &url, UrlParts *out) {
  auto sep = url.find("://");
  if (sep == std::string::npos) return false;
  UrlParts p;
  p.scheme = lower(url.substr(0, sep));
  if (p.scheme != "http" && p.scheme != "https") return false;
  size_t start = sep + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (authority.find('@') != std::string::npos) return false;  // no userinfo
  if (authority.empty()) return false;
  if (authority[0] == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos) return false;
    p.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return false;
      p.port = authority.substr(close + 2);
    }
  } else {
    auto colon = authority.find(':');
    p.host = authority.substr(0, colon);
    if (colon != std::string::npos) p.port = authority.substr(colon + 1);
  }
  if (p.host.empty()) return false;
  for (char c : p.port)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  p.host = lower(p.host);
  *out = p;
  return true;
}

bool is_loopback_host(const std::string &host) {
  if (host == "localhost" || host == "::1") return true;
  if (host.rfind("127.", 0) != 0) return false;
  // 127.a.b.c with digits only
  int dots = 0;
  for (char c : host) {
    if (c == '.') dots++;
    else if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return dots == 3;
}

std::string check_base_url(const std::string &base_url) {
  UrlParts p;
  if (!parse_url(base_url, &p))
    throw Error(OBATCH_ECONFIG, "base URL '" + base_url +
                                    "' is not an absolute http(s) URL");
  if (p.scheme == "http" && !is_loopback_host(p.host))
    throw Error(OBATCH_EINSECURE,
                "base URL '" + base_url +
                    "' uses plain http to a host that is not loopback; the API "
                    "key would travel unencrypted. Use https://");
  std::string out = base_url;
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out;
}

bool same_origin(const std::string &url, const std::string &base_url) {
  UrlParts a, b;
  if (!parse_url(url, &a) || !parse_url(base_url, &b)) return false;
  return a.scheme == b.scheme && a.host == b.host && a.port == b.port;
}

}  // namespace obatch
