// libFuzzer target: the JSONL input validator. The input is a JSONL input
// file, taken through the library's own entry points:
//   obatch_check_file  -> InputCheck::run
//   obatch_add_file    -> Batch::add_file (framing, parse_request_line,
//                         provider from line 1, BatchInput::append_file)
//   obatch_add_line    -> Batch::add_line, line by line
//   obatch_add         -> parse_request_body, on each accepted body
// with one of four configurations, chosen by the input's size % 4 (so an
// input always reproduces): none (provider from the model), provider=openai,
// provider=parasail, or low limits (max_requests=3, max_bytes=600).
//
// obatch::Error is an expected answer. A finding is anything else: a crash,
// an ASan/UBSan report, another exception type (std::terminate), or one of
// the library's promises failing (FUZZ_CHECK):
//   - the check and the add agree: no problem found <=> the add succeeds,
//     with the same request count, bytes, endpoint and models;
//   - what the add wrote is valid input that reads back as the same
//     requests (and checks clean);
//   - a body accepted in a line is accepted alone, as the same request.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "core/config.hpp"
#include "core/request.hpp"
#include "engine/batch.hpp"
#include "engine/input_check.hpp"
#include "fuzz_support.hpp"
#include "util/error.hpp"

using obatch::Error;
using obatch::Request;

namespace {

constexpr size_t kMaxLines = 64;  // add_line calls per input

obatch::Config config_for(size_t size) {
  obatch::Config conf;
  conf.set("work_dir", fuzz::scratch_dir().c_str());
  switch (size % 4) {
    case 1: conf.set("provider", "openai"); break;
    case 2: conf.set("provider", "parasail"); break;
    case 3:
      conf.set("max_requests", "3");
      conf.set("max_bytes", "600");
      break;
  }
  return conf;
}

std::string read_all(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool same_request(const Request &a, const Request &b) {
  return a.custom_id == b.custom_id && a.url == b.url && a.model == b.model &&
         a.body == b.body && a.embedding_inputs == b.embedding_inputs;
}

std::string describe(const Request &r) {
  return "custom_id=" + r.custom_id + " url=" + r.url + " model=" + r.model +
         " inputs=" + std::to_string(r.embedding_inputs) + " body=" + r.body;
}

// The add's input file: one line per request, each the same request as the
// original line it came from, and the whole file checks clean.
void check_written(obatch::Batch &batch, const obatch::Config &conf, std::string_view text,
                   uint64_t requests) {
  batch.flush_input();
  std::string written = read_all(batch.input_path());
  auto out = fuzz::split_lines(written);
  FUZZ_CHECK(out.size() == requests, "the input file has " + std::to_string(out.size()) +
                                         " lines for " + std::to_string(requests) + " requests");
  FUZZ_CHECK(written.empty() || written.back() == '\n', "the input file's last line is cut off");
  auto in = fuzz::split_lines(text);
  for (size_t i = 0; i < out.size(); i++) {
    Request again;
    try {
      again = obatch::parse_request_line(out[i], "written");
    } catch (const Error &e) {
      FUZZ_CHECK(false, std::string("a written line does not parse: ") + e.what() + "\n  " +
                            std::string(out[i]));
    }
    Request original = obatch::parse_request_line(in[i], "original");
    FUZZ_CHECK(same_request(again, original),
               "written " + describe(again) + "\n  original " + describe(original));
  }
  obatch::InputCheck recheck(conf, 1);
  recheck.run(batch.input_path());
  FUZZ_CHECK(recheck.problem_count() == 0 || requests == 0,
             "the written input does not check clean: " +
                 (recheck.problems().empty() ? std::string() : recheck.problems()[0].message));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static fuzz::MemFile file;
  const std::string_view text(reinterpret_cast<const char *>(data), size);
  file.set(text);
  const obatch::Config conf = config_for(size);

  // obatch_check_file: every problem of the file, nothing written. It
  // throws only when the file cannot be read (never here).
  obatch::InputCheck check(conf, 0);
  try {
    check.run(file.path());
  } catch (const Error &e) {
    FUZZ_CHECK(false, std::string("InputCheck::run threw: ") + e.what());
  }

  // obatch_add_file: all or nothing.
  {
    obatch::Batch batch(conf);
    bool added = false;
    try {
      batch.add_file(file.path().c_str());
      added = true;
    } catch (const Error &) {
    }
    std::string first_problem =
        check.problems().empty() ? std::string("none") : check.problems()[0].message;
    FUZZ_CHECK(added == (check.problem_count() == 0),
               std::string("add_file ") + (added ? "succeeded" : "failed") + " but the check found " +
                   std::to_string(check.problem_count()) + " problems (first: " + first_problem + ")");
    obatch::JobSnapshot got = batch.poll(0);
    if (added) {
      const obatch::JobSnapshot &want = check.summary();
      FUZZ_CHECK(got.requests_added == want.requests_added && got.bytes_total == want.bytes_total &&
                     got.endpoint == want.endpoint && got.model == want.model,
                 "add_file: " + std::to_string(got.requests_added) + " requests, " +
                     std::to_string(got.bytes_total) + " bytes, " + got.endpoint + ", " +
                     got.model + "; check: " + std::to_string(want.requests_added) +
                     " requests, " + std::to_string(want.bytes_total) + " bytes, " +
                     want.endpoint + ", " + want.model);
      check_written(batch, conf, text, got.requests_added);
    } else {
      FUZZ_CHECK(got.requests_added == 0 && got.bytes_total == 0,
                 "a failed add_file left " + std::to_string(got.requests_added) + " requests");
    }
  }

  // obatch_add_line (a C string: up to a NUL) and obatch_add.
  obatch::Batch batch(conf);
  size_t n = 0;
  for (std::string_view line : fuzz::split_lines(text)) {
    if (++n > kMaxLines) break;
    const std::string c_line(line.substr(0, line.find('\0')));
    try {
      batch.add_line(c_line.c_str());
    } catch (const Error &) {
    }
    Request r;
    try {
      r = obatch::parse_request_line(c_line, "line");
    } catch (const Error &) {
      continue;
    }
    // The body as obatch_add takes it, with the line's id and url: the same
    // request. (A minified body is a C string too: JSON escapes any NUL.)
    try {
      Request alone = obatch::parse_request_body(r.body, r.custom_id, r.url, "body");
      FUZZ_CHECK(same_request(alone, r), "body alone " + describe(alone) + "\n  in a line " + describe(r));
    } catch (const Error &e) {
      FUZZ_CHECK(false, std::string("a body accepted in a line is refused alone: ") + e.what() +
                            "\n  " + describe(r));
    }
    // Without the url: the endpoint is inferred (may fail).
    try {
      obatch::parse_request_body(r.body, "", "", "body");
    } catch (const Error &) {
    }
  }
  return 0;
}
