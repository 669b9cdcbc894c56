#include "core/minified_json.hpp"

#include <charconv>
#include <cstdint>
#include <cstring>

#include "core/json_escape.hpp"

namespace obatch {

using simdjson::dom::element;
using simdjson::dom::element_type;

namespace {

// (simdjson's string_builder inserts into a std::vector<char> per token and
// per escaped byte; this appends runs.)
void append_json_string(std::string &out, std::string_view s) {
  static const char *const kControl[32] = {
      "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
      "\\b",     "\\t",     "\\n",     "\\u000b", "\\f",     "\\r",     "\\u000e", "\\u000f",
      "\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
      "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f"};
  const char *p = s.data();
  const size_t n = s.size();
  out.push_back('"');
  size_t i = 0;
  while (i < n) {
    size_t j = i + json_first_escape(p + i, n - i);
    out.append(p + i, j - i);
    if (j == n) break;
    unsigned char c = static_cast<unsigned char>(p[j]);
    if (c == '"')
      out.append("\\\"", 2);
    else if (c == '\\')
      out.append("\\\\", 2);
    else
      out.append(kControl[c]);
    i = j + 1;
  }
  out.push_back('"');
}

size_t decimal_digits(uint64_t v) {
  size_t n = 1;
  while (v >= 10000) v /= 10000, n += 4;
  return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

// What append_json_string adds to a string's length beyond its quotes: an
// escape of two bytes for '"', '\\' and \b \t \n \f \r, of six for the other
// control characters.
size_t escape_bytes(std::string_view s) {
  size_t extra = 0;
  for (size_t i = json_first_escape(s.data(), s.size()); i < s.size();
       i += 1 + json_first_escape(s.data() + i + 1, s.size() - i - 1)) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    extra += c == '"' || c == '\\' || c == '\b' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
                 ? 1
                 : 5;
  }
  return extra;
}

// How long append_minified writes `e`, parsed from a text in which every
// string escape (`escaped`: there are some) is "\u" with lowercase hex or
// one of two bytes; SIZE_MAX once that passes `limit` or `e` holds a
// double. Equal to the text's length exactly when the text is what
// append_minified writes: every string is written no longer than it
// stands (what needs no escape is written as it is; an escape is written
// as the same two bytes, or as the same "\u00xx" for a control character
// without a short one, or shorter: "\/", "\u00e9", "\u000a" ...), and so
// are literals and punctuation; an integer is written as its own digits
// (JSON has no leading zeros or '+'), except -0, written 0; a double may be
// written otherwise and is not counted. So no token is written longer than
// it stands and whitespace is dropped: the lengths are equal only when
// nothing is dropped or shortened. (Counted from the parse rather than by
// scanning the text: a body is mostly long strings, a few dozen elements,
// and without escapes a string's length is all it takes.)
size_t minified_length(element e, size_t limit, bool escaped) {
  constexpr size_t kNo = SIZE_MAX;
  size_t n = 0;
  switch (e.type()) {
    case element_type::ARRAY: {
      n = 2;
      bool first = true;
      simdjson::dom::array array = e.get_array().value_unsafe();
      for (element child : array) {
        n += !first;
        first = false;
        if (n > limit) return kNo;
        const size_t c = minified_length(child, limit - n, escaped);
        if (c == kNo) return kNo;
        n += c;
      }
      break;
    }
    case element_type::OBJECT: {
      n = 2;
      bool first = true;
      simdjson::dom::object object = e.get_object().value_unsafe();
      for (auto field : object) {
        n += !first + field.key.size() + 3;  // "key":
        if (escaped) n += escape_bytes(field.key);
        first = false;
        if (n > limit) return kNo;
        const size_t c = minified_length(field.value, limit - n, escaped);
        if (c == kNo) return kNo;
        n += c;
      }
      break;
    }
    case element_type::STRING: {
      const std::string_view v = e.get_string().value_unsafe();
      n = v.size() + 2 + (escaped ? escape_bytes(v) : 0);
      break;
    }
    case element_type::INT64: {
      const int64_t v = e.get_int64().value_unsafe();
      n = v < 0 ? 1 + decimal_digits(0 - static_cast<uint64_t>(v))
                : decimal_digits(static_cast<uint64_t>(v));
      break;
    }
    case element_type::UINT64: n = decimal_digits(e.get_uint64().value_unsafe()); break;
    case element_type::DOUBLE: return kNo;
    case element_type::BOOL: n = e.get_bool().value_unsafe() ? 4 : 5; break;
    case element_type::NULL_VALUE: n = 4; break;
  }
  return n > limit ? kNo : n;
}

}  // namespace

void append_minified(std::string &out, element e) {
  switch (e.type()) {
    case element_type::ARRAY: {
      out.push_back('[');
      bool first = true;
      simdjson::dom::array array = e.get_array().value_unsafe();
      for (element child : array) {
        if (!first) out.push_back(',');
        first = false;
        append_minified(out, child);
      }
      out.push_back(']');
      return;
    }
    case element_type::OBJECT: {
      out.push_back('{');
      bool first = true;
      simdjson::dom::object object = e.get_object().value_unsafe();
      for (auto field : object) {
        if (!first) out.push_back(',');
        first = false;
        append_json_string(out, field.key);
        out.push_back(':');
        append_minified(out, field.value);
      }
      out.push_back('}');
      return;
    }
    case element_type::STRING: append_json_string(out, e.get_string().value_unsafe()); return;
    case element_type::INT64: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, e.get_int64().value_unsafe());
      out.append(buf, static_cast<size_t>(r.ptr - buf));
      return;
    }
    case element_type::UINT64: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, e.get_uint64().value_unsafe());
      out.append(buf, static_cast<size_t>(r.ptr - buf));
      return;
    }
    case element_type::DOUBLE: {
      char buf[32];  // simdjson's own formatting of doubles
      char *end = simdjson::internal::to_chars(buf, nullptr, e.get_double().value_unsafe());
      out.append(buf, static_cast<size_t>(end - buf));
      return;
    }
    case element_type::BOOL: out.append(e.get_bool().value_unsafe() ? "true" : "false"); return;
    case element_type::NULL_VALUE: out.append("null", 4); return;
  }
}

// True when `text` is byte for byte what append_minified writes for `e`,
// the value parsed from it. A "\u" escape with uppercase hex ("\u001B",
// written "\u001b") is the one kind that is written as long as it stands
// but otherwise, so it never passes.
bool is_minified_form(element e, std::string_view text) {
  const bool escaped = std::memchr(text.data(), '\\', text.size()) != nullptr;
  if (escaped)
    for (size_t i = text.find("\\u"); i != std::string_view::npos; i = text.find("\\u", i + 2))
      for (size_t k = i + 2; k < i + 6 && k < text.size(); k++)
        if (text[k] >= 'A' && text[k] <= 'F') return false;
  return minified_length(e, text.size(), escaped) == text.size();
}

}  // namespace obatch
