// What every obatch transfer sets on its libcurl handle, for one call at a
// time (Transport) and for many at once (RequestPool): the same rules for
// redirects, TLS, proxies and timeouts wherever a key is sent.
#pragma once

#include <string>
#include <string_view>

#include "http/transport.hpp"

namespace obatch {

// URL, protocols, no redirects, TLS verification, proxy rules, user agent,
// compression, keep-alive and the timeouts of `opts`.
void setup_easy(CURL *e, const std::string &url, const TransferOptions &opts);

// One header line as libcurl hands it over: a status line ("HTTP/...": a new
// response, after a 100 Continue) clears `headers`, "Name: value" sets the
// lower-case name.
void add_header_line(std::string_view line, Headers *headers);

}  // namespace obatch
