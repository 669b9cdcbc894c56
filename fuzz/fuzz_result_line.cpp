// libFuzzer target: the output/error file line parser. The input is a
// downloaded result file (JSONL); each line goes through every reader of
// src/core/result_line.hpp, then (for one input size in 8) the whole file
// through ResultsIndex (what obatch_open and a finished batch's obatch_fetch
// use), with the input order read by load_input_order from the same text.
//
// obatch::Error is an expected answer. A finding is anything else: a crash,
// an ASan/UBSan report, another exception type (std::terminate), or one of
// the promises of result_line.hpp failing (FUZZ_CHECK):
//   - parse_result_line and check_result_line accept the same lines, with
//     the same custom_id, which result_line_custom_id also reads;
//   - the buffer-reusing parse gives what a fresh parse gives;
//   - the body is byte for byte what simdjson::minify writes for it;
//   - plain_custom_id's id is scan_custom_id's, and the parse's when the
//     line parses;
//   - stream_result_lines takes a line as a result line exactly when
//     check_result_line accepts it, with its id, and a line it calls plain
//     is read by read_plain_result as the parse reads it;
//   - ResultsIndex::get returns, for a line that parses, that parse.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/id_index.hpp"
#include "core/result_line.hpp"
#include "core/results_index.hpp"
#include "fuzz_support.hpp"
#include "obatch/obatch.h"
#include "util/error.hpp"

using obatch::Error;
using obatch::ResultLine;

namespace {

constexpr size_t kMaxLines = 256;  // per-line checks per input

bool same_result(const ResultLine &a, const ResultLine &b) {
  return a.kind == b.kind && a.custom_id == b.custom_id && a.status_code == b.status_code &&
         a.body == b.body && a.request_id == b.request_id && a.error_code == b.error_code &&
         a.error_message == b.error_message && a.has_body == b.has_body &&
         a.has_request_id == b.has_request_id && a.has_error == b.has_error;
}

std::string describe(const ResultLine &r) {
  return "kind=" + std::to_string(r.kind) + " id=" + r.custom_id +
         " status=" + std::to_string(r.status_code) + " body=" + r.body +
         " request_id=" + r.request_id + " error=" + r.error_code + "/" + r.error_message;
}

// simdjson's own minification of response.body, "" when there is none.
std::string reference_body(std::string_view line) {
  static simdjson::dom::parser parser;
  simdjson::dom::element doc, body;
  if (parser.parse(line.data(), line.size()).get(doc) || !doc.is_object()) return "";
  if (doc["response"]["body"].get(body) || body.is_null()) return "";
  return simdjson::minify(body);
}

void check_line(std::string_view line, ResultLine *reused) {
  const std::string where = "line";
  ResultLine fresh;
  bool parsed = false, checked = false;
  std::string check_id;
  try {
    fresh = obatch::parse_result_line(line, where);
    parsed = true;
  } catch (const Error &e) {
    FUZZ_CHECK(e.code() == OBATCH_EPROTOCOL, std::string("not EPROTOCOL: ") + e.what());
  }
  try {
    check_id = obatch::check_result_line(line, where);
    checked = true;
  } catch (const Error &) {
  }
  FUZZ_CHECK(parsed == checked, std::string("parse ") + (parsed ? "accepts" : "refuses") +
                                    " the line, check " + (checked ? "accepts" : "refuses") + " it");

  bool reparsed = false;
  try {
    obatch::parse_result_line(line, [&] { return where; }, reused);
    reparsed = true;
  } catch (const Error &) {
  }
  FUZZ_CHECK(reparsed == parsed, "the reusing parse disagrees with the fresh one");

  std::string id;
  bool has_id = false;
  try {
    id = obatch::result_line_custom_id(line, where);
    has_id = true;
  } catch (const Error &) {
  }

  if (parsed) {
    FUZZ_CHECK(same_result(fresh, *reused), "reused " + describe(*reused) + "\n  fresh " + describe(fresh));
    FUZZ_CHECK(check_id == fresh.custom_id, "check's id " + check_id + ", parse's " + fresh.custom_id);
    FUZZ_CHECK(has_id && id == fresh.custom_id, "result_line_custom_id " + id + ", parse's " + fresh.custom_id);
    FUZZ_CHECK(fresh.kind >= OBATCH_RESULT_SUCCEEDED && fresh.kind <= OBATCH_RESULT_ERROR,
               "kind " + std::to_string(fresh.kind));
    if (fresh.has_body) {
      std::string want = reference_body(line);
      FUZZ_CHECK(fresh.body == want, "body " + fresh.body + "\n  simdjson::minify " + want);
    }
  }

  // The line alone as a run of the stream reading (padded, as indexing
  // hands it over).
  std::string run(line);
  run.push_back('\n');
  run.reserve(run.size() + simdjson::SIMDJSON_PADDING);
  bool streamed = false;
  obatch::StreamedLine got;
  std::string got_id;
  obatch::stream_result_lines(run, [&](const obatch::StreamedLine &s) {
    streamed = true;
    got = s;
    got_id.assign(s.custom_id.data(), s.custom_id.size());
  });
  if (streamed) {
    FUZZ_CHECK(got.result_line == checked,
               std::string("the stream ") + (got.result_line ? "takes" : "leaves") +
                   " the line, check " + (checked ? "accepts" : "refuses") + " it");
    if (got.result_line && checked)
      FUZZ_CHECK(got_id == check_id, "the stream's id " + got_id + ", check's " + check_id);
    if (got.plain) {
      ResultLine plain_read;
      FUZZ_CHECK(parsed && obatch::read_plain_result(line, &plain_read),
                 "a plain line that read_plain_result cannot read");
      FUZZ_CHECK(same_result(plain_read, fresh),
                 "plain " + describe(plain_read) + "\n  parsed " + describe(fresh));
    }
  }

  std::string scanned = obatch::scan_custom_id(line);
  std::string_view plain;
  if (obatch::plain_custom_id(line, &plain)) {
    FUZZ_CHECK(scanned == plain, "plain_custom_id " + std::string(plain) + ", scan_custom_id " + scanned);
    if (checked)
      FUZZ_CHECK(check_id == plain, "plain_custom_id " + std::string(plain) + ", check's " + check_id);
  }
}

// The file as ResultsIndex reads it: as an output file and again as the
// error file (an id in both keeps its first line).
void check_index(const std::string &path) {
  obatch::IdIndex order;
  bool have_order = false;
  try {
    obatch::load_input_order(path, "input", &order);
    have_order = true;
  } catch (const Error &) {
  }
  obatch::ResultsIndex index(have_order ? &order : nullptr);
  try {
    index.add_file(path, "output");
    index.add_file(path, "errors");
  } catch (const Error &e) {
    FUZZ_CHECK(e.code() == OBATCH_EPROTOCOL, std::string("add_file: ") + e.what());
  }
  FUZZ_CHECK(index.missing() <= index.size(), "more missing than results");
  ResultLine r;
  std::string raw;
  uint64_t input_index = 0;
  const uint64_t n = index.size();
  for (uint64_t i = 0; i < n && i < 4 * kMaxLines; i++) {
    index.get(i, &r, &input_index, &raw);
    FUZZ_CHECK(r.kind >= OBATCH_RESULT_SUCCEEDED && r.kind <= OBATCH_RESULT_MISSING,
               "kind " + std::to_string(r.kind));
    FUZZ_CHECK(have_order ? (i < order.size()) == (input_index == i)
                          : input_index == obatch::IdIndex::npos,
               "input index " + std::to_string(input_index) + " for result " + std::to_string(i));
    if (r.kind == OBATCH_RESULT_MISSING) {
      FUZZ_CHECK(raw.empty(), "a missing result has a line");
      continue;
    }
    ResultLine direct;
    try {
      direct = obatch::parse_result_line(raw, "raw");
    } catch (const Error &) {
      FUZZ_CHECK(r.kind == OBATCH_RESULT_ERROR && r.error_code == "unreadable_result_line",
                 "an unreadable line came back as " + describe(r));
      continue;
    }
    FUZZ_CHECK(same_result(r, direct), "fetched " + describe(r) + "\n  parsed " + describe(direct));
    // A line read by its input position names that input's id.
    if (input_index != obatch::IdIndex::npos)
      FUZZ_CHECK(order.at(input_index) == r.custom_id, "result " + r.custom_id + " at input " + order.at(input_index));
    // find() gives this result, or an earlier one of the same id (an id in
    // both files keeps its first line). An empty custom_id names nothing.
    if (!r.custom_id.empty()) {
      uint64_t at = index.find(r.custom_id);
      FUZZ_CHECK(at <= i, "find(" + r.custom_id + ") = " + std::to_string(at) +
                              ", but it is result " + std::to_string(i));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static fuzz::MemFile file;
  const std::string_view text(reinterpret_cast<const char *>(data), size);
  ResultLine reused;  // one buffer for every line, as a fetch loop has
  size_t n = 0;
  for (std::string_view line : fuzz::split_lines(text)) {
    if (++n > kMaxLines) break;
    check_line(line, &reused);
  }
  // ResultsIndex reads each file through a fresh 1 MB buffer (three per
  // input here), which under ASan costs about 20 times the line checks: it
  // runs for one input size in 8 (as the size decides, an input always
  // reproduces).
  if (size % 8 == 0) {
    file.set(text);
    check_index(file.path());
  }
  return 0;
}
