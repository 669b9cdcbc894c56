// Anthropic's Message Batches API behind the provider vtable: requests sent
// inline with the create call (no upload), x-api-key, RFC 3339 times, its
// own statuses and result lines. The pure parts are here for the tests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/id_map.hpp"
#include "providers/wire_types.hpp"

namespace obatch {

// ^[a-zA-Z0-9_-]{1,64}$
bool anthropic_accepts_custom_id(std::string_view id);

// Unix seconds of an RFC 3339 time ("2024-09-24T18:37:24.100435Z",
// "...+02:00"); -1 when it is not one.
int64_t rfc3339_to_unix(std::string_view text);

// The OpenAI status name of an Anthropic batch: in_progress -> in_progress,
// canceling -> cancelling; ended -> cancelled when a cancel was initiated,
// else expired when any request expired, else completed.
std::string anthropic_status(std::string_view processing_status, bool cancel_initiated,
                             uint64_t expired);

// The HTTP status Anthropic answers with an error of this type (500 for one
// it does not document).
int anthropic_error_status(std::string_view error_type);

// What convert_results found.
struct ConvertCounts {
  uint64_t succeeded = 0, errored = 0, canceled = 0, expired = 0;
};

// Reads Anthropic result lines from `raw_path` and writes `output_path`
// (succeeded: status 200, body = the message) and `error_path` (errored:
// the error's status, body = {"type":"error","error":{type, message}};
// an unknown result type: a top-level error) as OpenAI batch output lines,
// with the user's custom_ids (`sent_to_user` maps back the mapped ones).
// canceled and expired requests get no line: they are missing. Throws
// Error(EPROTOCOL) for a line that is not a result, Error(EIO).
ConvertCounts convert_anthropic_results(const std::string &raw_path, const std::string &output_path,
                                        const std::string &error_path,
                                        const std::map<std::string, std::string> &sent_to_user);

// A /v1/chat/completions body as a /v1/messages body: system and developer
// messages -> system, user/assistant text, max_completion_tokens or
// max_tokens -> max_tokens, stop -> stop_sequences, temperature, top_p,
// function tools and tool_choice, user -> metadata.user_id. Returns "" and
// sets *why when it cannot be translated without losing something.
std::string translate_chat_to_messages(std::string_view chat_body, std::string *why);

}  // namespace obatch
