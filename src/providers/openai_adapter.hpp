// The OpenAI-compatible request builders and response parsers: the default
// hooks of every provider (pure functions, no I/O).
#pragma once

#include <string_view>

#include "providers/wire_types.hpp"

namespace obatch {

// Throws Error(EINVAL) for an op it does not know or a missing argument.
void openai_build(int op, const Fields &args, HttpRequest *req);

// Reads a 2xx JSON answer; throws Error(EPROTOCOL) when it is not the
// object the op returns.
void openai_parse(int op, std::string_view body, Remote *out);

// Percent-encodes a path segment (ids are opaque to us).
std::string escape_segment(std::string_view s);

}  // namespace obatch
