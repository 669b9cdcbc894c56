// JSON written minified, byte for byte as simdjson::minify(element) writes
// it, and the proof that a text already is that form (so it can be kept as
// it stands instead of being written again).
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>

namespace obatch {

// Appends `e` minified: no whitespace, strings with simdjson's escapes,
// numbers as simdjson writes them.
void append_minified(std::string &out, simdjson::dom::element e);

// True when `text`, the text `e` was parsed from, is byte for byte what
// append_minified writes for `e`. Never for a text with a double in it (it
// may be written otherwise) or a "\u" escape with uppercase hex.
bool is_minified_form(simdjson::dom::element e, std::string_view text);

}  // namespace obatch
