#include "core/canonical_json.hpp"

#include <simdjson.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "obatch/obatch.h"
#include "util/error.hpp"
#include "util/json_write.hpp"

namespace obatch {

namespace {

void write(simdjson::dom::element e, std::string &out) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::OBJECT: {
      simdjson::dom::object object;
      if (e.get(object)) return;  // an object by its type: cannot fail
      std::vector<std::pair<std::string_view, simdjson::dom::element>> fields;
      for (auto field : object) fields.emplace_back(field.key, field.value);
      std::stable_sort(fields.begin(), fields.end(),
                       [](const auto &a, const auto &b) { return a.first < b.first; });
      out += '{';
      for (size_t i = 0; i < fields.size(); i++) {
        if (i) out += ',';
        json_append_string(out, fields[i].first);
        out += ':';
        write(fields[i].second, out);
      }
      out += '}';
      return;
    }
    case element_type::ARRAY: {
      simdjson::dom::array array;
      if (e.get(array)) return;
      out += '[';
      bool first = true;
      for (auto item : array) {
        if (!first) out += ',';
        first = false;
        write(item, out);
      }
      out += ']';
      return;
    }
    case element_type::STRING: {
      std::string_view text;
      if (!e.get(text)) json_append_string(out, text);
      return;
    }
    default:
      out += simdjson::minify(e);
  }
}

}  // namespace

std::string canonical_json(std::string_view json, const std::string &where) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(json.data(), json.size()).get(doc))
    throw Error(OBATCH_EJSON, where + ": not valid JSON (" + simdjson::error_message(err) + ")");
  std::string out;
  out.reserve(json.size());
  write(doc, out);
  return out;
}

}  // namespace obatch
