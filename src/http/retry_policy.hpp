// When and how long to wait before trying an HTTP call again: the official
// SDKs' policy (WIRE.md), as pure functions so it is tested without a network.
#pragma once

#include <ctime>
#include <map>
#include <string>

namespace obatch {

using Headers = std::map<std::string, std::string>;  // lower-case names

// True for connection failures (status 0), 408, 409, 429 and >= 500, unless
// the server's x-should-retry header says otherwise.
bool should_retry(long status, const Headers &headers);

// The server's wish from retry-after-ms, then Retry-After (seconds or an
// HTTP date relative to `now`), in ms; -1 when absent or not in (0, 60] s.
long server_retry_after_ms(const Headers &headers, time_t now);

// min(0.5 * 2^attempt, 8) s * (1 - 0.25 * jitter), jitter in [0, 1).
long backoff_ms(int attempt, double jitter);

// The wait before retry number `attempt` (0-based).
long retry_delay_ms(int attempt, const Headers &headers, time_t now, double jitter);

}  // namespace obatch
