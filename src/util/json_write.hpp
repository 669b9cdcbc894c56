// Writing JSON text by hand where a document is small and its shape fixed
// (request lines, create-batch bodies): quoting is the only subtle part.
#pragma once

#include <string>
#include <string_view>

namespace obatch {

// Appends `s` as a JSON string literal (with quotes) to `out`.
void json_append_string(std::string &out, std::string_view s);

// `s` as a JSON string literal.
std::string json_quote(std::string_view s);

}  // namespace obatch
