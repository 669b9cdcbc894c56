// Custom ids a provider does not take as they are (Anthropic allows
// ^[a-zA-Z0-9_-]{1,64}$), mapped to ids it does and back, so that a user's
// ids always come back as they were. The map is a pure function of the
// input's ids in order: a resumed job rebuilds the same one.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "core/id_index.hpp"

namespace obatch {

// User's id -> id sent, for the ids that are mapped only.
using IdMap = std::map<std::string, std::string>;

// Maps every id of `ids` that `accepts` refuses to "obm-" + the first 16 hex
// digits of its SHA-256; an id taken already (by an id sent as it is, or an
// earlier mapped one) gets "-2", "-3", ... appended. Throws Error(EINVAL)
// when `accepts` refuses a mapped id as well.
IdMap map_custom_ids(const IdIndex &ids, const std::function<bool(const std::string &)> &accepts);

// {"user's id":"id sent",...}; "" for an empty map.
std::string id_map_json(const IdMap &map);
// The map id_map_json wrote ("" gives an empty map); throws
// Error(EPROTOCOL) naming `where` for anything else.
IdMap parse_id_map(std::string_view json, const std::string &where);

// Sent id -> user's id.
std::map<std::string, std::string> invert_id_map(const IdMap &map);

}  // namespace obatch
