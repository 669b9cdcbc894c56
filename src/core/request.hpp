// Checking one batch request (a body, or a whole input line) and working out
// its endpoint. Pure functions: no I/O, no provider state.
#pragma once

#include <cstdint>
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

// Validates a whole input line {"custom_id","method","url","body"}.
Request parse_request_line(std::string_view line, const std::string &where);

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
