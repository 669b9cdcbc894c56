// Durations as Go writes them ("6m0s", "1.5s", "12ms", "1h30m"): the format
// of OpenAI's x-ratelimit-reset-* headers, and of obatch's --deadline.
#pragma once

#include <string_view>

namespace obatch {

// Parses a Go duration (units h, m, s, ms, us, ns; "0" alone is allowed) into
// milliseconds. False for anything else, or a negative value.
bool parse_duration_ms(std::string_view text, double *ms);

}  // namespace obatch
