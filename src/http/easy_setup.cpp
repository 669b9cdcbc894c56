#include "http/easy_setup.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>

#include "obatch/obatch.h"
#include "util/url.hpp"

namespace obatch {

void setup_easy(CURL *e, const std::string &url, const TransferOptions &opts) {
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);  // never carry the key elsewhere
  // TLS: the peer's certificate and host name are always checked (libcurl's
  // defaults, set anyway so that no default elsewhere can change them). The
  // only knob says which CAs to trust: a private CA's file (config ca_file).
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!opts.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, opts.ca_file.c_str());
  // Proxies: our headers (the key) go only to the server, never to a proxy
  // (it sees a CONNECT); and loopback or plain http (allowed only to
  // loopback) never goes through one, or http_proxy would get the key in
  // clear.
  curl_easy_setopt(e, CURLOPT_HEADEROPT, CURLHEADER_SEPARATE);
  UrlParts where;
  if (!parse_url(url, &where) || where.scheme == "http" || is_loopback_host(where.host))
    curl_easy_setopt(e, CURLOPT_PROXY, "");
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "obatch/" OBATCH_VERSION_STRING);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, opts.connect_timeout_ms);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  if (opts.fresh_connection) curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
  if (opts.long_transfer) {
    // Hundreds of MB may take long; give up only when nothing moves.
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, std::max(1L, opts.timeout_ms / 1000));
  } else {
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, opts.timeout_ms);
  }
}

void add_header_line(std::string_view line, Headers *headers) {
  if (line.rfind("HTTP/", 0) == 0) {
    headers->clear();
    return;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const size_t start = line.find_first_not_of(" \t", colon + 1);
  const size_t end = line.find_last_not_of(" \t\r\n");
  (*headers)[name] = start == std::string_view::npos || end < start
                         ? std::string()
                         : std::string(line.substr(start, end - start + 1));
}

}  // namespace obatch
