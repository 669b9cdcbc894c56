// One spelling for equal JSON documents: object keys sorted (by bytes), no
// whitespace, numbers and strings as simdjson writes them. Two bodies that
// mean the same request get the same text, so they get the same ticket.
#pragma once

#include <string>
#include <string_view>

namespace obatch {

// Throws Error(EJSON) starting with `where` when `json` is not JSON text.
std::string canonical_json(std::string_view json, const std::string &where);

}  // namespace obatch
