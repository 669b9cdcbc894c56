// A JSON text as one line without whitespace between its tokens (what
// simdjson::minify gives), without copying it when it already is one: most
// bodies are written that way, and a check of the whitespace outside the
// strings costs less than the minify and its copy.
#pragma once

#include <string>
#include <string_view>

namespace obatch {

// Whether `json` (a valid JSON text) has whitespace (space, tab, LF, CR)
// outside its strings: the bytes minify would drop. Reads 64 bytes at a
// time; the in-string state follows the quotes that no backslash escapes.
bool json_has_outer_whitespace(std::string_view json);
// The same, reading up to 63 bytes past the end of `json` (which must be
// readable: the padding of a simdjson input): no copy of the last bytes.
bool json_has_outer_whitespace_padded(std::string_view json);
// The same without AVX2 (SSE2 or plain C): what other CPUs run (for tests).
bool json_has_outer_whitespace_generic(std::string_view json);

// `json` (a valid JSON text) minified: `json` itself when it has no
// whitespace outside its strings, else its minified copy in `*scratch`.
// Returns an empty view if simdjson::minify refuses the text. `padded`: the
// 63 bytes after `json` are readable (json_has_outer_whitespace_padded).
std::string_view one_line_json(std::string_view json, std::string *scratch, bool padded = false);

}  // namespace obatch
