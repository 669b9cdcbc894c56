// Checking one batch request (a body, or a whole input line) and working out
// its endpoint. Pure functions: no I/O, no provider state.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace obatch {

// The longest custom_id obatch accepts (the API does not publish one; a
// longer id is almost always a mistake, such as a whole prompt).
constexpr size_t kMaxCustomIdBytes = 512;

// A request that passed the checks that need no provider.
struct Request {
  std::string custom_id;   // "" when the caller left it to obatch
  std::string url;         // "/v1/chat/completions"
  std::string model;       // "" when the body names none
  std::string body;        // the body, minified to one line
  uint64_t embedding_inputs = 0;  // inputs in an embeddings request
};

// OpenAI's batch endpoints (the enum of POST /batches).
const std::vector<std::string> &openai_endpoints();

// Validates `body_json` (an object) for `endpoint` (may be empty: inferred).
// Throws Error(EJSON / EREQUEST) with a message that starts with `where`.
Request parse_request_body(std::string_view body_json, const std::string &custom_id,
                           const std::string &endpoint, const std::string &where);
// The same into `out`, reusing its buffers: one request after another
// without an allocation each (obatch_add).
void parse_request_body(std::string_view body_json, std::string_view custom_id,
                        std::string_view endpoint, const std::string &where, Request *out);

// The same, returning the body as one line of text without copying it
// where it needs no minify: a view of `body_json` itself, or of out->body
// (out->body is then not the body). It lives as long as both do, unchanged.
std::string_view parse_request_body_text(std::string_view body_json, std::string_view custom_id,
                                         std::string_view endpoint, const std::string &where,
                                         Request *out);

// Validates a whole input line {"custom_id","method","url","body"}.
Request parse_request_line(std::string_view line, const std::string &where);
// The same into `out`, returning the body as parse_request_body_text does
// (a view of `line`, or of out->body).
std::string_view parse_request_line_text(std::string_view line, const std::string &where,
                                         Request *out);

// What each line of a JSONL text holds.
enum class JsonlKind {
  kBody,    // a request body (obatch_add_many): parse_request_body_text's checks
  kRequest  // a whole input line (a file): parse_request_line_text's checks
};

// The bytes a text given to for_each_jsonl_request must have readable (and
// unused) after its end: simdjson reads that far.
constexpr size_t kJsonlPadding = 64;

// One request per line of `text`, with the checks of a line of a JSONL file
// (check_jsonl_framing, then those of `kind`), called back in order as
// each(r, body, line) with `body` as parse_request_*_text returns it (valid
// during the call). The lines are parsed as one simdjson document stream;
// from the first line that is not exactly one document (or that the stream
// cannot parse) on, one parse per line, so that every error is the one a
// line on its own gets. Errors start with `where_prefix` + "line N" (`line`
// counts from `first_line`); *where holds that text during each call. A
// blank last line (a trailing newline) ends the text when `ends_input`; for
// a text that does not end its input, every line must end in LF. `endpoint`:
// for kBody, as parse_request_body_text's. Returns the number of the line
// after the last one read.
uint64_t for_each_jsonl_request(
    std::string_view text, JsonlKind kind, std::string_view endpoint, uint64_t first_line,
    bool ends_input, const std::string &where_prefix, Request *r, std::string *where,
    const std::function<void(Request &, std::string_view, uint64_t)> &each);

// The checks a line of a JSONL input gets before its JSON is read: no byte
// order mark (line 1: UTF-8, or UTF-16 for a file in the wrong encoding), no
// CR LF, not blank. Returns false for a blank last line (a trailing newline:
// the input ends there); throws Error(EJSON) starting with `where` for the
// others.
bool check_jsonl_framing(std::string_view line, uint64_t lineno, bool last,
                         const std::string &where);

// Appends n in decimal (no allocation once `out` is large enough).
void append_decimal(std::string *out, uint64_t n);

// The endpoint a body is meant for, from its fields and model; "" if unclear.
std::string infer_endpoint(bool has_messages, bool has_input, bool has_prompt,
                           const std::string &model);

// Throws Error(EREQUEST) if `id` is not an acceptable custom_id.
void check_custom_id(std::string_view id, const std::string &where);

// `s` as a JSON string literal for an error message: control characters
// escaped, and cut after about `max` bytes (on a UTF-8 character boundary)
// with the full size named, so a 10 MB value never floods a terminal.
std::string message_quote(std::string_view s, size_t max = 80);

}  // namespace obatch
