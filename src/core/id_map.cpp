#include "core/id_map.hpp"

#include <simdjson.h>

#include <unordered_set>

#include "obatch/obatch.h"
#include "util/error.hpp"
#include "util/json_write.hpp"
#include "util/sha256.hpp"

namespace obatch {

IdMap map_custom_ids(const IdIndex &ids, const std::function<bool(const std::string &)> &accepts) {
  IdMap map;
  std::unordered_set<std::string> taken;  // every id that will be sent
  for (uint64_t i = 0; i < ids.size(); i++) {
    std::string id = ids.at(i);
    if (accepts(id)) taken.insert(std::move(id));
  }
  for (uint64_t i = 0; i < ids.size(); i++) {
    std::string id = ids.at(i);
    if (accepts(id)) continue;
    Sha256 h;
    h.update(id.data(), id.size());
    const std::string base = "obm-" + h.hex().substr(0, 16);
    std::string sent = base;
    for (int n = 2; taken.count(sent); n++) sent = base + "-" + std::to_string(n);
    if (!accepts(sent))
      throw Error(OBATCH_EINVAL, "custom_id " + json_quote(id) +
                                     " cannot be sent, and its mapped "
                                     "form " +
                                     sent + " is refused as well");
    taken.insert(sent);
    map.emplace(std::move(id), std::move(sent));
  }
  return map;
}

std::string id_map_json(const IdMap &map) {
  if (map.empty()) return "";
  std::string out = "{";
  for (auto &kv : map) {
    if (out.size() > 1) out += ",";
    json_append_string(out, kv.first);
    out += ":";
    json_append_string(out, kv.second);
  }
  return out + "}";
}

IdMap parse_id_map(std::string_view json, const std::string &where) {
  IdMap map;
  if (json.empty()) return map;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc) || !doc.is_object())
    throw Error(OBATCH_EPROTOCOL, where + ": the custom_id map is not a JSON object");
  simdjson::dom::object pairs = doc.get_object().value_unsafe();
  for (auto kv : pairs) {
    if (!kv.value.is_string())
      throw Error(OBATCH_EPROTOCOL, where + ": the custom_id map has a value that is not a string");
    map.emplace(std::string(kv.key), std::string(kv.value.get_string().value_unsafe()));
  }
  return map;
}

std::map<std::string, std::string> invert_id_map(const IdMap &map) {
  std::map<std::string, std::string> back;
  for (auto &kv : map) back.emplace(kv.second, kv.first);
  return back;
}

}  // namespace obatch
