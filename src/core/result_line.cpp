#include "core/result_line.hpp"

#include <simdjson.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "core/json_escape.hpp"
#include "core/minified_json.hpp"
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

// ---- a body handed back as it stands in the line ------------------------
// append_minified writes a body again from its parse; when the line's own
// bytes already are what it would write (is_minified_form), they are the
// answer, and a line found so when indexed needs no parse when fetched.

// The parts of a line written as OpenAI writes result lines,
// {"id":"..","custom_id":"..","response":{"status_code":N,"request_id":"..",
// "body":BODY},"error":null}, with no backslash before BODY; false
// otherwise. The caller has parsed the line and checked it has four keys
// and its response three: then BODY is exactly the body's value (the line
// ends in "}", closing it, after "null", the value of a last key "error"
// (its quotes are not escaped: a comma stands before it); the "}" before
// closes the third key's value, the response, whose last key is "body";
// a body that closed the response early would give it or the line more
// keys), and the strings before it, having no escapes, are their own text.
struct OpenaiLayout {
  std::string_view custom_id, status_code, request_id, body;
};

bool openai_layout(std::string_view line, OpenaiLayout *out) {
  static constexpr std::string_view kSuffix = "},\"error\":null}";
  const size_t n = line.size();
  if (n < kSuffix.size() || line.substr(n - kSuffix.size()) != kSuffix) return false;
  size_t i = 0;
  auto lit = [&](std::string_view s) {
    if (line.compare(i, s.size(), s) != 0) return false;
    i += s.size();
    return true;
  };
  auto str = [&](std::string_view *text) {  // no escapes: it ends at the next quote
    if (i >= n || line[i] != '"') return false;
    const char *q = static_cast<const char *>(std::memchr(line.data() + i + 1, '"', n - i - 1));
    if (!q) return false;
    const size_t end = static_cast<size_t>(q - line.data());
    if (text) *text = line.substr(i + 1, end - i - 1);
    i = end + 1;
    return true;
  };
  auto digits = [&](std::string_view *text) {
    const size_t start = i;
    while (i < n && line[i] >= '0' && line[i] <= '9') i++;
    *text = line.substr(start, i - start);
    return i > start;
  };
  if (!(lit("{\"id\":") && str(nullptr) && lit(",\"custom_id\":") && str(&out->custom_id) &&
        lit(",\"response\":{\"status_code\":") && digits(&out->status_code) &&
        lit(",\"request_id\":") && str(&out->request_id) && lit(",\"body\":")))
    return false;
  // A string with an escape was read wrongly above: none before the body.
  if (std::memchr(line.data(), '\\', i)) return false;
  const size_t end = n - kSuffix.size();
  if (i >= end) return false;
  out->body = line.substr(i, end - i);
  return true;
}

// A 2xx status of at most three digits (what a plain line has), else 0.
int success_status(std::string_view digits) {
  if (digits.size() != 3 || digits[0] != '2') return 0;
  return 200 + (digits[1] - '0') * 10 + (digits[2] - '0');
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
      OpenaiLayout layout;
      if (obj.size() == 4 && resp.size() == 3 && openai_layout(line, &layout) &&
          is_minified_form(body, layout.body))
        r.body.assign(layout.body.data(), layout.body.size());
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

namespace {
thread_local simdjson::dom::parser tl_stream_parser;
}  // namespace

size_t stream_result_lines(std::string_view text,
                           const std::function<void(const StreamedLine &)> &take) {
  simdjson::dom::document_stream stream;
  // The whole run as one batch: no document is cut at a batch's end.
  if (tl_stream_parser.parse_many(text.data(), text.size(), std::max(text.size(), size_t(1) << 16))
          .get(stream))
    return 0;
  size_t at = 0;  // where the next line starts
  StreamedLine s;
  for (auto it = stream.begin(); it != stream.end(); ++it) {
    element doc;
    if ((*it).get(doc) != simdjson::SUCCESS) break;
    const std::string_view src = it.source();
    const size_t nl = text.find('\n', at);
    // Exactly one line: from here on the per-line reading decides.
    if (src.data() != text.data() + at || nl != at + src.size()) break;
    const std::string_view line = text.substr(at, src.size());
    s = StreamedLine{};
    s.offset = at;
    s.length = line.size();
    simdjson::dom::object obj;
    OpenaiLayout layout;
    if (doc.get_object().get(obj) != simdjson::SUCCESS) {
      // Not a result line.
    } else if (obj.size() == 4 && openai_layout(line, &layout)) {
      // The keys are the layout's, in its order (four of them, and the
      // response's three: see openai_layout), so they need no lookup. The
      // custom_id has no escape: its text is its value.
      auto field = obj.begin();
      ++ ++field;  // "response"
      simdjson::dom::object resp = field.value().get_object().value_unsafe();
      s.result_line = true;
      s.custom_id = layout.custom_id;
      // Plain: what parse_result_line would hand back is the line's own
      // text (see is_minified_form), a 2xx without error.
      if (resp.size() == 3 && success_status(layout.status_code) != 0) {
        auto last = resp.begin();
        ++ ++last;  // "body"
        const element body = last.value();
        s.plain = !body.is_null() && is_minified_form(body, layout.body);
      }
    } else {
      // What check_result_line accepts, and no more.
      element id, response, error;
      if (obj["custom_id"].get(id) == simdjson::SUCCESS && id.is_string() &&
          ((obj["response"].get(response) == simdjson::SUCCESS && response.is_object()) ||
           (obj["error"].get(error) == simdjson::SUCCESS && !error.is_null()))) {
        s.result_line = true;
        s.custom_id = id.get_string().value_unsafe();
      }
    }
    take(s);
    at = nl + 1;
  }
  return at;
}

bool read_plain_result(std::string_view line, ResultLine *out) {
  OpenaiLayout layout;
  if (!openai_layout(line, &layout) || layout.body == "null") return false;
  const int status = success_status(layout.status_code);
  if (!status) return false;
  ResultLine &r = *out;
  reset_result_line(&r);
  r.kind = OBATCH_RESULT_SUCCEEDED;
  r.custom_id.assign(layout.custom_id.data(), layout.custom_id.size());
  r.status_code = status;
  r.request_id.assign(layout.request_id.data(), layout.request_id.size());
  r.has_request_id = true;
  r.body.assign(layout.body.data(), layout.body.size());
  r.has_body = true;
  return true;
}

}  // namespace obatch
