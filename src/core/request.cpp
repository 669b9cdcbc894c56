#include "core/request.hpp"

#include <simdjson.h>

#include <algorithm>

#include "obatch/obatch.h"
#include "util/error.hpp"
#include "util/json_write.hpp"

namespace obatch {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

bool contains(const std::string &s, const char *part) { return s.find(part) != std::string::npos; }

// infer_endpoint without a string made per call.
std::string_view inferred_endpoint(bool has_messages, bool has_input, bool has_prompt,
                                   const std::string &model) {
  // Claude models take "messages" at Anthropic's Messages API.
  if (has_messages) return model.rfind("claude-", 0) == 0 ? "/v1/messages" : "/v1/chat/completions";
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

// Checks the body object and fills the request's url, model and body.
void check_body(element body, std::string_view body_text, Request *r, const std::string &where) {
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
    if (k == "model")
      seen = &has_model, slot = &model;
    else if (k == "messages")
      seen = &has_messages, slot = &messages;
    else if (k == "input")
      seen = &has_input, slot = &input;
    else if (k == "prompt")
      seen = &has_prompt, slot = &prompt;
    else if (k == "stream")
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
  if (url == "/v1/chat/completions" || url == "/v1/messages") {
    if (!has_messages) fail(OBATCH_EREQUEST, where, "a chat request needs \"messages\"");
    if (!messages.is_array() || messages.get_array().value_unsafe().size() == 0)
      fail(OBATCH_EREQUEST, where, "\"messages\" must be a non-empty array");
  } else if (url == "/v1/embeddings") {
    if (!has_input) fail(OBATCH_EREQUEST, where, "an embeddings request needs \"input\"");
    r->embedding_inputs = input.is_array() ? input.get_array().value_unsafe().size() : 1;
  } else if (url == "/v1/completions") {
    if (!has_prompt) fail(OBATCH_EREQUEST, where, "a completions request needs \"prompt\"");
  } else if (url == "/v1/responses" || url == "/v1/moderations") {
    if (!has_input) fail(OBATCH_EREQUEST, where, "this endpoint needs \"input\"");
  }
  bool model_optional = url == "/v1/moderations";
  if (r->model.empty() && !model_optional)
    fail(OBATCH_EREQUEST, where, "the body has no \"model\"");

  // One line per request: drop the whitespace a pretty-printed body has.
  // (resize of a reused buffer: no allocation once it is large enough.)
  r->body.resize(body_text.size());
  size_t out_len = 0;
  if (simdjson::minify(body_text.data(), body_text.size(), r->body.data(), out_len))
    fail(OBATCH_EJSON, where, "the body could not be minified");
  r->body.resize(out_len);
}

thread_local simdjson::dom::parser tl_parser;

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

void parse_request_body(std::string_view body_json, std::string_view custom_id,
                        std::string_view endpoint, const std::string &where, Request *out) {
  Request &r = *out;
  if (!custom_id.empty()) check_custom_id(custom_id, where);
  r.custom_id.assign(custom_id.data(), custom_id.size());
  r.url.assign(endpoint.data(), endpoint.size());
  r.model.clear();
  r.embedding_inputs = 0;
  element body = parse_json(tl_parser, body_json, where, "the body");
  check_body(body, body_json, &r, where);
}

Request parse_request_line(std::string_view line, const std::string &where) {
  element doc = parse_json(tl_parser, line, where, "the line");
  if (!doc.is_object())
    fail(OBATCH_EREQUEST, where, "the line must be a JSON object, not " + type_name(doc.type()));
  object obj = doc.get_object().value_unsafe();
  Request r;
  element v;
  if (obj["custom_id"].get(v) != simdjson::SUCCESS)
    fail(OBATCH_EREQUEST, where, "field \"custom_id\" is missing");
  if (!v.is_string())
    fail(OBATCH_EREQUEST, where,
         "field \"custom_id\" must be a string, not " + type_name(v.type()));
  r.custom_id = std::string(v.get_string().value_unsafe());
  check_custom_id(r.custom_id, where);
  if (obj["method"].get(v) != simdjson::SUCCESS)
    fail(OBATCH_EREQUEST, where, "field \"method\" is missing (it must be \"POST\")");
  if (!v.is_string() || v.get_string().value_unsafe() != "POST")
    fail(OBATCH_EREQUEST, where, "field \"method\" must be \"POST\"");
  if (obj["url"].get(v) != simdjson::SUCCESS)
    fail(OBATCH_EREQUEST, where, "field \"url\" is missing");
  if (!v.is_string() || v.get_string().value_unsafe().empty())
    fail(OBATCH_EREQUEST, where, "field \"url\" must be a non-empty string");
  r.url = std::string(v.get_string().value_unsafe());
  element body;
  if (obj["body"].get(body) != simdjson::SUCCESS)
    fail(OBATCH_EREQUEST, where, "field \"body\" is missing");
  int seen[4] = {0, 0, 0, 0};
  static const char *const kFields[] = {"custom_id", "method", "url", "body"};
  for (auto field : obj) {
    auto k = field.key;
    int i = 0;
    while (i < 4 && k != kFields[i]) i++;
    if (i == 4)
      fail(OBATCH_EREQUEST, where,
           "unknown field " + message_quote(k) +
               " in the line (a line has custom_id, method, url and body only)");
    // Parsers disagree on which of two equal keys wins: refuse to guess.
    if (++seen[i] > 1)
      fail(OBATCH_EREQUEST, where, "field \"" + std::string(k) + "\" appears twice in the line");
  }
  // Serialise the body element on its own; it is minified by construction.
  std::string body_text = simdjson::minify(body);
  check_body(body, body_text, &r, where);
  return r;
}

}  // namespace obatch
