#include "core/request.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstring>

#include "core/json_escape.hpp"
#include "core/minified_json.hpp"
#include "core/one_line_json.hpp"
#include "obatch/obatch.h"
#include "util/error.hpp"
#include "util/json_write.hpp"

namespace obatch {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

bool contains(const std::string &s, const char *part) { return s.find(part) != std::string::npos; }

// s == lit, with the literal's length known: an inlined compare rather than
// a strlen and a memcmp call (these run for every field of every body).
template <size_t N>
inline bool is(std::string_view s, const char (&lit)[N]) {
  return s.size() == N - 1 && std::memcmp(s.data(), lit, N - 1) == 0;
}

// infer_endpoint without a string made per call.
std::string_view inferred_endpoint(bool has_messages, bool has_input, bool has_prompt,
                                   const std::string &model) {
  // Claude models take "messages" at Anthropic's Messages API.
  if (has_messages)
    return model.compare(0, 7, "claude-") == 0 ? "/v1/messages" : "/v1/chat/completions";
  if (has_input) {
    if (contains(model, "embed")) return "/v1/embeddings";
    if (contains(model, "moderation")) return "/v1/moderations";
    return "/v1/responses";
  }
  if (has_prompt) {
    if (contains(model, "image") || contains(model, "dall-e")) return "/v1/images/generations";
    return "/v1/completions";
  }
  return "";
}

std::string type_name(element_type t) {
  switch (t) {
    case element_type::ARRAY: return "an array";
    case element_type::OBJECT: return "an object";
    case element_type::STRING: return "a string";
    case element_type::BOOL: return "a boolean";
    case element_type::NULL_VALUE: return "null";
    default: return "a number";
  }
}

[[noreturn]] void fail(int code, const std::string &where, const std::string &what) {
  throw Error(code, where + ": " + what);
}

std::string json_error_text(simdjson::error_code e) {
  switch (e) {
    case simdjson::DEPTH_ERROR: return "JSON nested deeper than 1024 levels";
    case simdjson::UTF8_ERROR: return "text that is not valid UTF-8";
    case simdjson::EMPTY: return "an empty line where a JSON object belongs";
    case simdjson::UNCLOSED_STRING:
      return "invalid JSON: a string is never closed (is the text cut short?)";
    case simdjson::STRING_ERROR:
      return "invalid JSON: a string has a bad escape sequence (an unknown escape such as "
             "\\x, or a lone UTF-16 surrogate such as \\ud800)";
    case simdjson::UNESCAPED_CHARS:
      return "invalid JSON: a string holds a raw control character (a tab, newline or other "
             "byte below 0x20 must be written as an escape such as \\t)";
    case simdjson::NUMBER_ERROR:
      return "invalid JSON: a number is malformed or out of range (such as 1e999)";
    case simdjson::CAPACITY: return "a document too large to parse";
    default: return std::string("invalid JSON (") + simdjson::error_message(e) + ")";
  }
}

// What is wrong with `text` when the cause is its encoding rather than its
// syntax; "" if none of these. Looked for only once the parser has failed,
// so good input pays nothing.
std::string encoding_problem(std::string_view text) {
  auto starts = [&](const char *prefix, size_t n) {
    return text.size() >= n && text.compare(0, n, prefix, n) == 0;
  };
  if (starts("\xEF\xBB\xBF", 3))
    return "starts with a UTF-8 byte order mark; save the file without one";
  if (starts("\xFF\xFE", 2) || starts("\xFE\xFF", 2))
    return "is UTF-16 text (it starts with a UTF-16 byte order mark); save the file as UTF-8";
  size_t nul = text.find('\0');
  if (nul != std::string_view::npos)
    return "contains a NUL byte (byte " + std::to_string(nul + 1) +
           "); JSON text has none (is the file UTF-16 or binary?)";
  return "";
}

element parse_json(simdjson::dom::parser &parser, std::string_view text, const std::string &where,
                   const char *what) {
  element doc;
  auto err = parser.parse(text.data(), text.size()).get(doc);
  if (err) {
    std::string problem = encoding_problem(text);
    if (!problem.empty()) fail(OBATCH_EJSON, where, std::string(what) + " " + problem);
    fail(OBATCH_EJSON, where, std::string(what) + " is " + json_error_text(err));
  }
  return doc;
}

// Checks the body object and fills the request's url and model.
void check_body(element body, Request *r, const std::string &where) {
  if (!body.is_object())
    fail(OBATCH_EREQUEST, where, "the body must be a JSON object, not " + type_name(body.type()));
  object obj = body.get_object().value_unsafe();
  // One pass over the fields (the first of two equal keys counts, as with
  // obj["key"]) rather than a scan of every key per field looked up.
  element model, stream, messages, input, prompt;
  bool has_model = false, has_stream = false, has_messages = false, has_input = false,
       has_prompt = false;
  for (auto field : obj) {
    std::string_view k = field.key;
    bool *seen = nullptr;
    element *slot = nullptr;
    if (is(k, "model"))
      seen = &has_model, slot = &model;
    else if (is(k, "messages"))
      seen = &has_messages, slot = &messages;
    else if (is(k, "input"))
      seen = &has_input, slot = &input;
    else if (is(k, "prompt"))
      seen = &has_prompt, slot = &prompt;
    else if (is(k, "stream"))
      seen = &has_stream, slot = &stream;
    if (seen && !*seen) {
      *seen = true;
      *slot = field.value;
    }
  }
  if (has_model) {
    if (!model.is_string())
      fail(OBATCH_EREQUEST, where,
           "body field \"model\" must be a string, not " + type_name(model.type()));
    std::string_view name = model.get_string().value_unsafe();
    if (name.empty()) fail(OBATCH_EREQUEST, where, "body field \"model\" is empty");
    r->model.assign(name.data(), name.size());
  }
  if (has_stream && !stream.is_null() && !(stream.is_bool() && !stream.get_bool().value_unsafe()))
    fail(OBATCH_EREQUEST, where,
         "body field \"stream\" must be false or absent; batch requests cannot stream "
         "(remove it)");

  if (r->url.empty()) {
    r->url.assign(inferred_endpoint(has_messages, has_input, has_prompt, r->model));
    if (r->url.empty())
      fail(OBATCH_EREQUEST, where,
           "cannot tell the endpoint from the body (no \"messages\", \"input\" "
           "or \"prompt\" field); pass the endpoint explicitly");
  }
  const std::string &url = r->url;
  if (is(url, "/v1/chat/completions") || is(url, "/v1/messages")) {
    if (!has_messages) fail(OBATCH_EREQUEST, where, "a chat request needs \"messages\"");
    if (!messages.is_array() || messages.get_array().value_unsafe().size() == 0)
      fail(OBATCH_EREQUEST, where, "\"messages\" must be a non-empty array");
  } else if (is(url, "/v1/embeddings")) {
    if (!has_input) fail(OBATCH_EREQUEST, where, "an embeddings request needs \"input\"");
    r->embedding_inputs = input.is_array() ? input.get_array().value_unsafe().size() : 1;
  } else if (is(url, "/v1/completions")) {
    if (!has_prompt) fail(OBATCH_EREQUEST, where, "a completions request needs \"prompt\"");
  } else if (is(url, "/v1/responses") || is(url, "/v1/moderations")) {
    if (!has_input) fail(OBATCH_EREQUEST, where, "this endpoint needs \"input\"");
  }
  bool model_optional = is(url, "/v1/moderations");
  if (r->model.empty() && !model_optional)
    fail(OBATCH_EREQUEST, where, "the body has no \"model\"");
}

// Starts `r` as a request with `custom_id` ("": one is generated later)
// to `endpoint` ("": inferred) and checks `body`, its parsed body, into it.
void check_body_request(element body, std::string_view custom_id, std::string_view endpoint,
                        Request *r, const std::string &where) {
  r->custom_id.assign(custom_id.data(), custom_id.size());
  r->url.assign(endpoint.data(), endpoint.size());
  r->model.clear();
  r->embedding_inputs = 0;
  check_body(body, r, where);
}

// One line per request: the body text without the whitespace a
// pretty-printed body has; the text itself when it has none, else its
// minified copy in r->body.
std::string_view body_one_line(std::string_view body_text, Request *r, const std::string &where,
                               bool padded = false) {
  std::string_view body = one_line_json(body_text, &r->body, padded);
  if (body.empty()) fail(OBATCH_EJSON, where, "the body could not be minified");
  return body;
}

// The body of a line checked by check_line, as one line of text: its
// element serialised (minified by construction), as obatch always wrote a
// file's lines (the input file's digest names its job: the same file must
// give the same bytes, also across versions). A line in the layout obatch
// writes ({"custom_id":"ID","method":"POST","url":"URL","body":BODY}, no
// escape in ID or URL) whose BODY is already that form (is_minified_form)
// gives BODY's slice instead, without writing it again.
std::string_view line_body_text(std::string_view line, element body, Request *r) {
  static constexpr std::string_view k1 = "{\"custom_id\":\"",
                                    k2 = "\",\"method\":\"POST\",\"url\":\"", k3 = "\",\"body\":";
  const std::string &id = r->custom_id, &url = r->url;
  const size_t head = k1.size() + id.size() + k2.size() + url.size() + k3.size();
  if (line.size() > head + 1 && line.back() == '}' &&
      json_first_escape(id.data(), id.size()) == id.size() &&
      json_first_escape(url.data(), url.size()) == url.size()) {
    const char *p = line.data();
    if (line.compare(0, k1.size(), k1) == 0 && line.compare(k1.size(), id.size(), id) == 0 &&
        line.compare(k1.size() + id.size(), k2.size(), k2) == 0 &&
        line.compare(k1.size() + id.size() + k2.size(), url.size(), url) == 0 &&
        line.compare(head - k3.size(), k3.size(), k3) == 0) {
      const std::string_view slice(p + head, line.size() - 1 - head);
      if (is_minified_form(body, slice)) return slice;
    }
  }
  r->body.clear();
  append_minified(r->body, body);
  return r->body;
}

// Checks a whole input line's object {"custom_id","method","url","body"}
// into `r` and returns its body as one line of text.
std::string_view check_line(element doc, std::string_view line, Request *r,
                            const std::string &where) {
  if (!doc.is_object())
    fail(OBATCH_EREQUEST, where, "the line must be a JSON object, not " + type_name(doc.type()));
  object obj = doc.get_object().value_unsafe();
  // One pass over the fields (the first of two equal keys counts, as with
  // obj["key"]); the checks then run in the order they always have, so the
  // first problem of a line is the one it always was.
  element slot[4];
  int seen[4] = {0, 0, 0, 0};
  std::string_view unknown, twice;
  bool has_unknown = false, has_twice = false;
  for (auto field : obj) {
    const std::string_view k = field.key;
    int i = is(k, "custom_id") ? 0 : is(k, "method") ? 1 : is(k, "url") ? 2 : is(k, "body") ? 3 : 4;
    if (i == 4) {
      if (!has_unknown && !has_twice) has_unknown = true, unknown = k;
      continue;
    }
    if (seen[i]++ == 0)
      slot[i] = field.value;
    else if (!has_unknown && !has_twice)
      has_twice = true, twice = k;
  }
  if (!seen[0]) fail(OBATCH_EREQUEST, where, "field \"custom_id\" is missing");
  element v = slot[0];
  if (!v.is_string())
    fail(OBATCH_EREQUEST, where,
         "field \"custom_id\" must be a string, not " + type_name(v.type()));
  const std::string_view id = v.get_string().value_unsafe();
  r->custom_id.assign(id.data(), id.size());
  check_custom_id(r->custom_id, where);
  if (!seen[1]) fail(OBATCH_EREQUEST, where, "field \"method\" is missing (it must be \"POST\")");
  v = slot[1];
  if (!v.is_string() || v.get_string().value_unsafe() != "POST")
    fail(OBATCH_EREQUEST, where, "field \"method\" must be \"POST\"");
  if (!seen[2]) fail(OBATCH_EREQUEST, where, "field \"url\" is missing");
  v = slot[2];
  if (!v.is_string() || v.get_string().value_unsafe().empty())
    fail(OBATCH_EREQUEST, where, "field \"url\" must be a non-empty string");
  const std::string_view url = v.get_string().value_unsafe();
  r->url.assign(url.data(), url.size());
  r->model.clear();
  r->embedding_inputs = 0;
  if (!seen[3]) fail(OBATCH_EREQUEST, where, "field \"body\" is missing");
  element body = slot[3];
  if (has_unknown)
    fail(OBATCH_EREQUEST, where,
         "unknown field " + message_quote(unknown) +
             " in the line (a line has custom_id, method, url and body only)");
  // Parsers disagree on which of two equal keys wins: refuse to guess.
  if (has_twice)
    fail(OBATCH_EREQUEST, where, "field \"" + std::string(twice) + "\" appears twice in the line");
  check_body(body, r, where);
  return line_body_text(line, body, r);
}

thread_local simdjson::dom::parser tl_parser;
// The document streams' (its own: a stream's documents live in its parser,
// and the per-line parse of a fallback must not overwrite them).
thread_local simdjson::dom::parser tl_stream_parser;

}  // namespace

const std::vector<std::string> &openai_endpoints() {
  static const std::vector<std::string> list = {
      "/v1/responses",   "/v1/chat/completions",   "/v1/embeddings",   "/v1/completions",
      "/v1/moderations", "/v1/images/generations", "/v1/images/edits", "/v1/videos"};
  return list;
}

std::string infer_endpoint(bool has_messages, bool has_input, bool has_prompt,
                           const std::string &model) {
  return std::string(inferred_endpoint(has_messages, has_input, has_prompt, model));
}

void check_custom_id(std::string_view id, const std::string &where) {
  if (id.empty()) fail(OBATCH_EREQUEST, where, "custom_id is empty");
  if (id.size() > kMaxCustomIdBytes)
    fail(OBATCH_EREQUEST, where,
         "custom_id is " + std::to_string(id.size()) + " bytes; the limit is " +
             std::to_string(kMaxCustomIdBytes));
  for (unsigned char c : id)
    if (c < 0x20 || c == 0x7f)
      fail(OBATCH_EREQUEST, where, "custom_id contains a control character");
}

std::string message_quote(std::string_view s, size_t max) {
  if (s.size() <= max) return json_quote(s);
  size_t cut = max;
  // Back up to the start of a UTF-8 character.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) cut--;
  std::string out = json_quote(s.substr(0, cut));
  out.insert(out.size() - 1, "...");
  return out + " (" + std::to_string(s.size()) + " bytes)";
}

Request parse_request_body(std::string_view body_json, const std::string &custom_id,
                           const std::string &endpoint, const std::string &where) {
  Request r;
  parse_request_body(body_json, custom_id, endpoint, where, &r);
  return r;
}

std::string_view parse_request_body_text(std::string_view body_json, std::string_view custom_id,
                                         std::string_view endpoint, const std::string &where,
                                         Request *out) {
  if (!custom_id.empty()) check_custom_id(custom_id, where);
  element body = parse_json(tl_parser, body_json, where, "the body");
  check_body_request(body, custom_id, endpoint, out, where);
  return body_one_line(body_json, out, where);
}

void parse_request_body(std::string_view body_json, std::string_view custom_id,
                        std::string_view endpoint, const std::string &where, Request *out) {
  std::string_view body = parse_request_body_text(body_json, custom_id, endpoint, where, out);
  if (body.data() != out->body.data()) out->body.assign(body.data(), body.size());
}

std::string_view parse_request_line_text(std::string_view line, const std::string &where,
                                         Request *out) {
  element doc = parse_json(tl_parser, line, where, "the line");
  return check_line(doc, line, out, where);
}

Request parse_request_line(std::string_view line, const std::string &where) {
  Request r;
  std::string_view body = parse_request_line_text(line, where, &r);
  if (body.data() != r.body.data()) r.body.assign(body.data(), body.size());
  return r;
}

bool check_jsonl_framing(std::string_view line, uint64_t lineno, bool last,
                         const std::string &where) {
  auto starts = [&](std::string_view prefix) { return line.substr(0, prefix.size()) == prefix; };
  if (lineno == 1 && starts("\xEF\xBB\xBF"))
    throw Error(OBATCH_EJSON, where +
                                  ": the file starts with a UTF-8 byte order "
                                  "mark; save it without one");
  if (lineno == 1 && (starts("\xFF\xFE") || starts("\xFE\xFF")))
    throw Error(OBATCH_EJSON, where +
                                  ": the file is UTF-16 text (it starts with a UTF-16 byte "
                                  "order mark); save it as UTF-8");
  if (!line.empty() && line.back() == '\r')
    throw Error(OBATCH_EJSON, where + ": the line ends in CR LF; JSONL lines end in LF");
  if (line.find_first_not_of(" \t") == std::string_view::npos) {
    // A blank last line is what a trailing newline looks like; a blank
    // line in the middle is a mistake.
    if (last) return false;
    throw Error(OBATCH_EJSON, where + ": the line is empty");
  }
  return true;
}

void append_decimal(std::string *out, uint64_t n) {
  char digits[20];
  char *p = digits + sizeof digits;
  do {
    *--p = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n);
  out->append(p, static_cast<size_t>(digits + sizeof digits - p));
}

uint64_t for_each_jsonl_request(
    std::string_view text, JsonlKind kind, std::string_view endpoint, uint64_t first_line,
    bool ends_input, const std::string &where_prefix, Request *r, std::string *where,
    const std::function<void(Request &, std::string_view, uint64_t)> &each) {
  static_assert(kJsonlPadding >= simdjson::SIMDJSON_PADDING, "simdjson reads further");
  // "PREFIX line " once; per line only its number changes.
  where->assign(where_prefix);
  where->append("line ");
  const size_t where_head = where->size();
  auto set_where = [&](uint64_t line) {
    where->resize(where_head);
    append_decimal(where, line);
  };
  uint64_t line = first_line;
  size_t at = 0;  // where `line` starts
  // A byte order mark is refused by the framing of line 1, which the
  // stream (it skips a UTF-8 one) would not see.
  const bool bom = first_line == 1 && !text.empty() &&
                   (text[0] == '\xEF' || text[0] == '\xFF' || text[0] == '\xFE');
  // The text goes through the stream in pieces of whole lines of up to
  // 4 MB, each one simdjson batch: no document cut at a batch's end, and no
  // second thread (simdjson parses the next batch's stage 1 on one when
  // there is a next batch). A line larger than that is a piece of its own.
  constexpr size_t kPiece = size_t(4) << 20;
  bool streaming = !text.empty() && !bom;
  while (streaming && at < text.size()) {
    size_t piece_end = text.size();
    if (text.size() - at > kPiece) {
      const void *nl = memrchr(text.data() + at, '\n', kPiece);
      if (nl) piece_end = static_cast<size_t>(static_cast<const char *>(nl) - text.data()) + 1;
    }
    const size_t piece_size = piece_end - at;
    simdjson::dom::document_stream stream;
    if (tl_stream_parser
            .parse_many(text.data() + at, piece_size, std::max(piece_size, size_t(1) << 16))
            .get(stream))
      break;
    for (auto it = stream.begin(); it != stream.end(); ++it) {
      element doc;
      if ((*it).get(doc) != simdjson::SUCCESS || !doc.is_object()) break;
      const std::string_view src = it.source();
      if (src.data() != text.data() + at) break;
      const size_t end = at + src.size();
      // A document without whitespace outside its strings holds no LF (a
      // raw LF inside a string is invalid JSON): its line is exactly it
      // when an LF (or the end of the input) follows. For a body one scan
      // of the text answers this and whether it needs a minify; a whole
      // line (written as its body's serialisation or slice) needs only
      // its LF looked for.
      const bool is_body = kind == JsonlKind::kBody;
      const bool spaced = is_body && json_has_outer_whitespace_padded(src);
      if (!is_body || spaced) {
        size_t nl = text.find('\n', at);
        if (nl == std::string_view::npos) nl = text.size();
        if (nl != end) break;
      }
      if (end < text.size() ? text[end] != '\n' : !ends_input) break;
      set_where(line);
      std::string_view body;
      if (is_body) {
        check_body_request(doc, {}, endpoint, r, *where);
        body = spaced ? body_one_line(src, r, *where, true) : src;
      } else {
        body = check_line(doc, src, r, *where);
      }
      each(*r, body, line);
      line++;
      at = end + 1;
    }
    // Every line of the piece taken, or from `at` on one at a time.
    streaming = at >= piece_end;
  }
  // One parse per line from here on.
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    if (nl == std::string_view::npos) {
      if (!ends_input)
        throw Error(OBATCH_EINTERNAL,
                    "for_each_jsonl_request: a text that does not end its "
                    "input ends in the middle of a line");
      nl = text.size();
    }
    const std::string_view one = text.substr(at, nl - at);
    const bool last = ends_input && nl + 1 >= text.size();
    set_where(line);
    if (!check_jsonl_framing(one, line, last, *where)) return line;
    std::string_view body = kind == JsonlKind::kBody
                                ? parse_request_body_text(one, {}, endpoint, *where, r)
                                : parse_request_line_text(one, *where, r);
    each(*r, body, line);
    line++;
    at = nl + 1;
  }
  return line;
}

}  // namespace obatch
