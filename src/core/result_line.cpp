#include "core/result_line.hpp"

#include <emmintrin.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstring>

#include "core/json_escape.hpp"
#include "obatch/obatch.h"
#include "util/error.hpp"

namespace obatch {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

thread_local simdjson::dom::parser tl_parser;

[[noreturn]] void bad(const std::string &where, const std::string &what) {
  throw Error(OBATCH_EPROTOCOL, where + ": " + what);
}

// ---- minified JSON, byte for byte what simdjson::minify(element) writes --
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

// ---- a body handed back as it is in the line ----------------------------
// append_minified walks every element of a body to write it again; for a
// body that is already byte for byte what it would write, the line's own
// bytes are the answer. Two cheap proofs decide it, else the walk runs:
// openai_body_text() finds the body's text in a line of OpenAI's layout,
// canonical_text() checks that text has nothing append_minified changes.

// Bit i set where byte i of the 64 in v is one the classifier picks.
template <class F>
inline uint64_t mask_of(const __m128i v[4], F &&pick) {
  auto m = [&](int j) { return uint64_t(static_cast<uint32_t>(_mm_movemask_epi8(pick(v[j])))); };
  return m(0) | m(1) << 16 | m(2) << 32 | m(3) << 48;
}

inline __m128i eq(__m128i x, char c) { return _mm_cmpeq_epi8(x, _mm_set1_epi8(c)); }

// Bit i: an odd number of set bits in m[0..i].
inline uint64_t prefix_xor(uint64_t m) {
  m ^= m << 1;
  m ^= m << 2;
  m ^= m << 4;
  m ^= m << 8;
  m ^= m << 16;
  m ^= m << 32;
  return m;
}

// True when `text`, a JSON value that parsed and holds no backslash, is what
// append_minified writes for it: strings without escapes come back as they
// are, so only what lies outside strings can differ: whitespace (dropped),
// a number with a fraction or exponent (written as simdjson prints a
// double), -0 (written 0) and an integer of 16 digits or more (beyond
// int64 it is a double). The same bytes otherwise: keys, literals, plain
// integers and structure are copied in order.
bool canonical_text(std::string_view text) {
  uint64_t in_string = 0;                   // all ones when a string runs over from the last block
  uint64_t last_minus = 0, last_digit = 0;  // bit 0: the last block's last byte
  unsigned digits_run = 0;                  // digits ending the last block, outside strings
  char tail[64];
  for (size_t at = 0; at < text.size(); at += 64) {
    const char *p = text.data() + at;
    const size_t n = std::min<size_t>(64, text.size() - at);
    if (n < 64) {  // never read past the text: the last block is copied
      std::memset(tail, 'a', sizeof tail);
      std::memcpy(tail, p, n);
      p = tail;
    }
    const __m128i *q = reinterpret_cast<const __m128i *>(p);
    const __m128i v[4] = {_mm_loadu_si128(q), _mm_loadu_si128(q + 1), _mm_loadu_si128(q + 2),
                          _mm_loadu_si128(q + 3)};
    const uint64_t quotes = mask_of(v, [](__m128i x) { return eq(x, '"'); });
    const uint64_t inside = prefix_xor(quotes) ^ in_string;
    in_string = static_cast<uint64_t>(static_cast<int64_t>(inside) >> 63);
    const uint64_t out = ~inside & ~quotes;
    // Whitespace and '.', which never stand outside strings in canonical text.
    const uint64_t never = mask_of(v, [](__m128i x) {
      return _mm_or_si128(_mm_or_si128(_mm_or_si128(eq(x, ' '), eq(x, '\t')),
                                       _mm_or_si128(eq(x, '\n'), eq(x, '\r'))),
                          eq(x, '.'));
    });
    const uint64_t digit = out & mask_of(v, [](__m128i x) {
                             const __m128i d = _mm_sub_epi8(x, _mm_set1_epi8('0'));
                             return _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
                           });
    const uint64_t exponent = (digit << 1 | last_digit) & mask_of(v, [](__m128i x) {
                                return _mm_or_si128(eq(x, 'e'), eq(x, 'E'));
                              });
    const uint64_t minus = out & mask_of(v, [](__m128i x) { return eq(x, '-'); });
    const uint64_t minus_zero =
        (minus << 1 | last_minus) & mask_of(v, [](__m128i x) { return eq(x, '0'); });
    if (((never | exponent) & out) | minus_zero) return false;
    // 16 digits in a row, within the block or across its start.
    uint64_t run = digit & digit >> 1;  // bit i: digits i .. i+1
    run &= run >> 2;                    // i .. i+3
    run &= run >> 4;                    // i .. i+7
    run &= run >> 8;                    // i .. i+15
    if (run) return false;
    const unsigned lead = digit == ~uint64_t(0) ? 64 : __builtin_ctzll(~digit);
    if (digits_run + lead >= 16) return false;
    digits_run = lead == 64 ? digits_run + 64 : (digit >> 63 ? __builtin_clzll(~digit) : 0);
    last_minus = minus >> 63;
    last_digit = digit >> 63;
  }
  return true;
}

// The text of the body in a line written as OpenAI writes result lines,
// {"id":"..","custom_id":"..","response":{"status_code":N,"request_id":"..",
// "body":BODY},"error":null}, with no backslash anywhere; false otherwise.
// The caller has parsed the line and checked it has four keys and its
// response three: then BODY is exactly the body's value (the final "}"
// closes the line, "null" is its last key's value, the "}" before closes
// the response, whose last key is "body").
bool openai_body_text(std::string_view line, std::string_view *body) {
  static constexpr std::string_view kSuffix = "},\"error\":null}";
  const size_t n = line.size();
  if (n < kSuffix.size() || line.substr(n - kSuffix.size()) != kSuffix) return false;
  if (std::memchr(line.data(), '\\', n)) return false;
  size_t i = 0;
  auto lit = [&](std::string_view s) {
    if (line.compare(i, s.size(), s) != 0) return false;
    i += s.size();
    return true;
  };
  auto str = [&] {  // no escapes: it ends at the next quote
    if (i >= n || line[i] != '"') return false;
    const size_t end = line.find('"', i + 1);
    if (end == std::string_view::npos) return false;
    i = end + 1;
    return true;
  };
  auto digits = [&] {
    const size_t start = i;
    while (i < n && line[i] >= '0' && line[i] <= '9') i++;
    return i > start;
  };
  if (!(lit("{\"id\":") && str() && lit(",\"custom_id\":") && str() &&
        lit(",\"response\":{\"status_code\":") && digits() && lit(",\"request_id\":") && str() &&
        lit(",\"body\":")))
    return false;
  const size_t end = n - kSuffix.size();
  if (i >= end) return false;
  *body = line.substr(i, end - i);
  return true;
}

simdjson::dom::object parse_object(std::string_view line, const WhereFn &where,
                                   bool padded = false) {
  element doc;
  // `padded`: SIMDJSON_PADDING readable bytes follow the line, so the
  // parser reads it in place instead of copying it first.
  auto err = tl_parser.parse(line.data(), line.size(), !padded).get(doc);
  if (err)
    bad(where(), std::string("not a JSON result line (") + simdjson::error_message(err) + ")");
  if (!doc.is_object()) bad(where(), "a result line must be a JSON object");
  return doc.get_object().value_unsafe();
}

void string_field(simdjson::dom::object obj, const char *key, std::string *out) {
  element v;
  if (obj[key].get(v) != simdjson::SUCCESS || !v.is_string()) {
    out->clear();
    return;
  }
  std::string_view s = v.get_string().value_unsafe();
  out->assign(s.data(), s.size());
}

// code + message of an {"code","message"} object (code may be a number).
// An error object without a "code" key at all (Anthropic's {"type",
// "message"}) gives its "type" as the code.
void read_error(element err, ResultLine *r) {
  if (!err.is_object()) return;
  auto obj = err.get_object().value_unsafe();
  element code;
  if (obj["code"].get(code) == simdjson::SUCCESS ||
      (obj["type"].get(code) == simdjson::SUCCESS && code.is_string())) {
    if (code.is_string()) {
      std::string_view s = code.get_string().value_unsafe();
      r->error_code.assign(s.data(), s.size());
    } else if (!code.is_null()) {
      r->error_code.clear();
      append_minified(r->error_code, code);
    }
  }
  string_field(obj, "message", &r->error_message);
  r->has_error = true;
}

std::string_view custom_id_of(simdjson::dom::object obj, const WhereFn &where) {
  element id;
  if (obj["custom_id"].get(id) != simdjson::SUCCESS || !id.is_string())
    bad(where(), "the result line has no string \"custom_id\"");
  return id.get_string().value_unsafe();
}

WhereFn fixed(const std::string &where) {
  return [&where] { return where; };
}

}  // namespace

std::string result_line_custom_id(std::string_view line, const std::string &where) {
  return std::string(result_line_custom_id_view(line, fixed(where)));
}

std::string_view result_line_custom_id_view(std::string_view line, const WhereFn &where,
                                            bool padded) {
  return custom_id_of(parse_object(line, where, padded), where);
}

std::string scan_custom_id(std::string_view line) {
  static constexpr std::string_view kKey = "\"custom_id\"";
  size_t at = line.find(kKey);
  if (at == std::string_view::npos) return "";
  at = line.find_first_not_of(" \t", at + kKey.size());
  if (at == std::string_view::npos || line[at] != ':') return "";
  at = line.find_first_not_of(" \t", at + 1);
  if (at == std::string_view::npos || line[at] != '"') return "";
  std::string id;
  for (size_t i = at + 1; i < line.size(); i++) {
    char c = line[i];
    if (c == '"') return id;
    if (c == '\\') {
      if (++i == line.size()) return "";
      char e = line[i];
      // Simple escapes only; an id with \u escapes is left unmatched.
      if (e == '"' || e == '\\' || e == '/')
        id.push_back(e);
      else
        return "";
    } else {
      id.push_back(c);
    }
  }
  return "";
}

bool plain_custom_id(std::string_view line, std::string_view *id) {
  static constexpr std::string_view kKey = "custom_id";
  const size_t n = line.size();
  // One plain string starting at `i` (a '"'): its text, `i` past its end.
  auto plain_string = [&](size_t &i, std::string_view *text) {
    if (i >= n || line[i] != '"') return false;
    const size_t start = ++i;
    while (i < n && line[i] != '"' && line[i] != '\\') i++;
    if (i >= n || line[i] != '"') return false;
    *text = line.substr(start, i - start);
    i++;
    return true;
  };
  if (n == 0 || line[0] != '{') return false;
  size_t i = 1;
  for (;;) {
    std::string_view key, value;
    if (!plain_string(i, &key) || i >= n || line[i++] != ':' || !plain_string(i, &value))
      return false;
    // The first "custom_id" key: the parse finds it (earlier keys differ, and
    // nothing is escaped), and so does scan_custom_id (no earlier text reads
    // "custom_id" followed by a quote; see below).
    if (key == kKey) {
      *id = value;
      return true;
    }
    // A value "custom_id" is where scan_custom_id would stop: leave such a
    // line to the parse.
    if (value == kKey) return false;
    if (i >= n || line[i++] != ',') return false;
  }
}

std::string check_result_line(std::string_view line, const std::string &where) {
  WhereFn w = fixed(where);
  auto obj = parse_object(line, w);
  std::string id(custom_id_of(obj, w));
  element response, error;
  bool has_response = obj["response"].get(response) == simdjson::SUCCESS && response.is_object();
  bool has_error = obj["error"].get(error) == simdjson::SUCCESS && !error.is_null();
  if (!has_response && !has_error)
    bad(where, "the result line has neither \"response\" nor \"error\"");
  return id;
}

void reset_result_line(ResultLine *r) {
  r->kind = 0;
  r->custom_id.clear();
  r->status_code = 0;
  r->body.clear();
  r->request_id.clear();
  r->error_code.clear();
  r->error_message.clear();
  r->has_body = r->has_request_id = r->has_error = false;
}

ResultLine parse_result_line(std::string_view line, const std::string &where) {
  ResultLine r;
  parse_result_line(line, fixed(where), &r);
  return r;
}

void parse_result_line(std::string_view line, const WhereFn &where, ResultLine *out, bool padded) {
  ResultLine &r = *out;
  reset_result_line(&r);
  auto obj = parse_object(line, where, padded);
  std::string_view id = custom_id_of(obj, where);
  r.custom_id.assign(id.data(), id.size());
  element response, error;
  bool has_response = obj["response"].get(response) == simdjson::SUCCESS && response.is_object();
  if (has_response) {
    auto resp = response.get_object().value_unsafe();
    element status, body;
    // A number beyond int is no HTTP status: it stays 0 (an HTTP error
    // result) rather than wrapping around (2^32 + 200 must not read as 200).
    if (resp["status_code"].get(status) == simdjson::SUCCESS && status.is_int64()) {
      int64_t s = status.get_int64().value_unsafe();
      if (s >= INT_MIN && s <= INT_MAX) r.status_code = static_cast<int>(s);
    }
    element rid;
    if (resp["request_id"].get(rid) == simdjson::SUCCESS && rid.is_string()) {
      std::string_view s = rid.get_string().value_unsafe();
      r.request_id.assign(s.data(), s.size());
      r.has_request_id = true;
    }
    if (resp["body"].get(body) == simdjson::SUCCESS && !body.is_null()) {
      // The body is at most as long as the line.
      if (r.body.capacity() < line.size()) r.body.reserve(line.size());
      std::string_view text;
      if (obj.size() == 4 && resp.size() == 3 && openai_body_text(line, &text) &&
          canonical_text(text))
        r.body.assign(text.data(), text.size());
      else
        append_minified(r.body, body);
      r.has_body = true;
      element body_error;
      if (r.status_code >= 300 && body.is_object() &&
          body.get_object().value_unsafe()["error"].get(body_error) == simdjson::SUCCESS)
        read_error(body_error, &r);
    }
  }
  if (obj["error"].get(error) == simdjson::SUCCESS && !error.is_null()) {
    read_error(error, &r);
    r.kind = OBATCH_RESULT_ERROR;
    if (has_response && r.status_code >= 300) r.kind = OBATCH_RESULT_HTTP_ERROR;
    return;
  }
  if (!has_response) bad(where(), "the result line has neither \"response\" nor \"error\"");
  if (r.status_code >= 200 && r.status_code < 300)
    r.kind = OBATCH_RESULT_SUCCEEDED;
  else
    r.kind = OBATCH_RESULT_HTTP_ERROR;
}

}  // namespace obatch
