// Reading one line of a batch output or error file.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace obatch {

struct ResultLine {
  int kind = 0;  // obatch_result_kind
  std::string custom_id;
  int status_code = 0;
  std::string body;  // response body JSON, "" when none
  std::string request_id;
  std::string error_code;
  std::string error_message;
  bool has_body = false, has_request_id = false, has_error = false;
};

// Parses a whole result line; throws Error(EPROTOCOL) starting with `where`
// when it is not one.
ResultLine parse_result_line(std::string_view line, const std::string &where);

// The `where` of an error message, built only when one is thrown (a line
// number formatted per line costs more than reading most lines).
using WhereFn = std::function<std::string()>;

// parse_result_line into `out`, reusing its buffers (one result after
// another without an allocation each). `padded`: SIMDJSON_PADDING (64)
// readable bytes follow the line, so it is parsed where it lies, without a
// copy.
void parse_result_line(std::string_view line, const WhereFn &where, ResultLine *out,
                       bool padded = false);

// Empties `r` as ResultLine() would, keeping its buffers.
void reset_result_line(ResultLine *r);

// The custom_id of any JSON line that has one (result or input line);
// throws Error(EPROTOCOL) starting with `where` otherwise.
std::string result_line_custom_id(std::string_view line, const std::string &where);

// result_line_custom_id without a copy: the view lives until the calling
// thread parses its next line.
// `padded` as for parse_result_line.
std::string_view result_line_custom_id_view(std::string_view line, const WhereFn &where,
                                            bool padded = false);

// The custom_id of a line that is not valid JSON, found by a plain scan for
// "custom_id":"..." (so an unreadable result still reaches its request);
// "" when there is none.
std::string scan_custom_id(std::string_view line);

// Checks that `line` is a complete result line (custom_id, and a response
// object or an error) without building its parts; returns the custom_id.
std::string check_result_line(std::string_view line, const std::string &where);

// The custom_id of a line that starts as OpenAI writes result lines:
// {"k":"v",...,"custom_id":"id" with plain keys and string values (no
// escapes, no whitespace) up to the first "custom_id". For such a line the
// custom_id is the same whether the line is a valid result line
// (check_result_line) or not (scan_custom_id), so indexing it needs no
// parse. Returns false when the line does not start so.
bool plain_custom_id(std::string_view line, std::string_view *id);

// One line of a run read by stream_result_lines.
struct StreamedLine {
  size_t offset = 0, length = 0;  // in the run; the line without its newline
  // check_result_line accepts the line; custom_id is then its id (valid
  // during the call). When false, the line needs the per-line reading.
  bool result_line = false;
  std::string_view custom_id;
  // read_plain_result reads the line exactly as parse_result_line would,
  // from its text alone: a 2xx result in OpenAI's layout whose body is
  // already in the form parse_result_line writes.
  bool plain = false;
};

// Reads the whole lines of `text` (each ending in '\n', followed by
// SIMDJSON_PADDING readable bytes) as one document stream, parsing and
// checking each line once, and calls take() for each. Returns the bytes
// read: it stops at the first line that is not exactly one JSON document
// (not valid JSON, blank, indented, two documents), which the caller reads
// line by line from there, so what such a line gets is the per-line
// reading's.
size_t stream_result_lines(std::string_view text,
                           const std::function<void(const StreamedLine &)> &take);

// For a line stream_result_lines found plain: fills `out` as
// parse_result_line would, without a parse. False (`out` untouched) when
// the line is not in that layout after all: then parse it.
bool read_plain_result(std::string_view line, ResultLine *out);

}  // namespace obatch
