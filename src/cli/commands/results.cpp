// `obatch results`: the output and error files of a batch merged into one
// JSON line per request, in input order, with requests that never ran
// (expired or cancelled batches) listed as missing. Reads local files only.
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands/commands.hpp"
#include "obatch/obatch.h"

namespace obatch::cli {

namespace {

struct ResultsOptions {
  std::string output;
  std::string errors;
  std::string input;
  std::string output_file = "-";
  bool quiet = false;
};

int results_command(const ResultsOptions &o);

}  // namespace

void add_results_command(CLI::App &app, Commands &out) {
  auto opts = std::make_shared<ResultsOptions>();
  ResultsOptions &o = *opts;
  CLI::App *cmd = app.add_subcommand(
      "results",
      "Merge a batch's output and error files into one JSON line per request, in input order");
  cmd->add_option("output", o.output,
                  "The batch's output file (\"\" when it has none: every request failed)")
      ->required();
  cmd->add_option("errors", o.errors, "The batch's error file, if any");
  cmd->add_option("-i,--input", o.input,
                  "The batch's input file: results in its order, and requests without a "
                  "result listed as missing (default: file order, output first)");
  cmd->add_option("-o,--output-file", o.output_file,
                  "Where to write the merged lines (default: - = stdout; a file appears "
                  "only when complete)");
  cmd->add_flag("-q,--quiet", o.quiet, "No summary on stderr");
  out.push_back({cmd, [opts] { return results_command(*opts); }});
}

namespace {

struct BatchDeleter {
  void operator()(obatch_t *b) const { obatch_destroy(b); }
};

std::string quote_or_null(const char *s) { return s ? json_quote(s) : "null"; }

// The merged line of one result. Every line has custom_id, index and
// status_code (null when there is no HTTP status or index); a success has
// "body"; everything else has "error": {code, message}, and an HTTP error
// keeps its response "body" too (providers put details there).
std::string merged_line(const obatch_result_t &r) {
  std::string line =
      "{\"custom_id\":" + quote_or_null(r.custom_id) +
      ",\"index\":" + (r.index == UINT64_MAX ? "null" : std::to_string(r.index)) +
      ",\"status_code\":" + (r.status_code ? std::to_string(r.status_code) : std::string("null"));
  if (r.request_id) line += ",\"request_id\":" + json_quote(r.request_id);
  std::string body = r.body && r.body_len ? std::string(r.body, r.body_len) : "";
  if (r.kind == OBATCH_RESULT_SUCCEEDED)
    return line + ",\"body\":" + (body.empty() ? "null" : body) + "}";
  std::string code, message;
  if (r.kind == OBATCH_RESULT_MISSING) {
    code = json_quote("missing");
    message = json_quote("no result: the batch ended before this request ran");
  } else {
    code = quote_or_null(r.error_code);
    message = quote_or_null(r.error_message);
  }
  line += ",\"error\":{\"code\":" + code + ",\"message\":" + message + "}";
  if (!body.empty()) line += ",\"body\":" + body;
  return line + "}";
}

bool ends_with_newline(const std::string &path) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) return true;
  bool ok = std::fseek(f, -1, SEEK_END) != 0 || std::fgetc(f) == '\n';  // empty files are fine
  std::fclose(f);
  return ok;
}

// obatch_open gives no handle (and so no message) when it fails: say which
// file is at fault from what can be seen here.
[[noreturn]] void open_failed(int rc, const std::vector<std::string> &files) {
  for (const std::string &f : files) {
    FILE *in = std::fopen(f.c_str(), "rb");
    if (!in) fail(OBATCH_EIO, "cannot open " + f + ": " + std::strerror(errno));
    std::fclose(in);
  }
  std::string names;
  for (const std::string &f : files) names += (names.empty() ? "" : ", ") + f;
  if (rc == OBATCH_EPROTOCOL) {
    std::string which;
    for (const std::string &f : files)
      if (!ends_with_newline(f)) which += (which.empty() ? "" : ", ") + f;
    if (!which.empty())
      fail(OBATCH_EIO, which +
                           ": the last line is cut off; the file looks truncated (download it "
                           "again with `obatch download BATCH_ID`)");
    fail(OBATCH_EIO, "cannot read " + names +
                         ": a line is cut off or not JSON (check the input file with "
                         "`obatch validate`; download result files again)");
  }
  fail(rc, "cannot read " + names + ": " + obatch_strerror(rc));
}

int results_command(const ResultsOptions &o) {
  if (o.output.empty() && o.errors.empty())
    throw CliError(kExitUsage, "give the output file, the error file or both");
  std::vector<std::string> files;
  if (!o.input.empty()) files.push_back(o.input);
  if (!o.output.empty()) files.push_back(o.output);
  if (!o.errors.empty()) files.push_back(o.errors);

  obatch_t *raw = nullptr;
  int rc = obatch_open(&raw, nullptr, o.input.empty() ? nullptr : o.input.c_str(),
                       o.output.empty() ? nullptr : o.output.c_str(),
                       o.errors.empty() ? nullptr : o.errors.c_str());
  std::unique_ptr<obatch_t, BatchDeleter> b(raw);
  if (rc != OBATCH_OK) {
    if (raw) fail(rc == OBATCH_EPROTOCOL ? OBATCH_EIO : rc, obatch_last_error(raw));
    open_failed(rc, files);
  }

  OutputFile out(o.output_file);
  uint64_t counts[4] = {0, 0, 0, 0};
  obatch_result_t r = OBATCH_RESULT_INIT;
  while ((rc = obatch_fetch(b.get(), &r)) == OBATCH_OK) {
    std::string line = merged_line(r) + "\n";
    if (std::fwrite(line.data(), 1, line.size(), out.stream()) != line.size())
      fail(OBATCH_EIO, "cannot write " + o.output_file + ": " + std::strerror(errno));
    if (r.kind >= 0 && r.kind < 4) counts[r.kind]++;
  }
  if (rc != OBATCH_END) {
    std::string msg = obatch_last_error(b.get());
    if (rc == OBATCH_EPROTOCOL) msg += "; the file looks truncated (download it again)";
    fail(rc == OBATCH_EPROTOCOL ? OBATCH_EIO : rc, msg);
  }
  out.commit();
  if (!o.quiet) {
    uint64_t total = counts[0] + counts[1] + counts[2] + counts[3];
    std::fprintf(stderr,
                 "results: %llu (succeeded %llu, HTTP error %llu, error %llu, missing %llu)%s\n",
                 static_cast<unsigned long long>(total),
                 static_cast<unsigned long long>(counts[OBATCH_RESULT_SUCCEEDED]),
                 static_cast<unsigned long long>(counts[OBATCH_RESULT_HTTP_ERROR]),
                 static_cast<unsigned long long>(counts[OBATCH_RESULT_ERROR]),
                 static_cast<unsigned long long>(counts[OBATCH_RESULT_MISSING]),
                 o.output_file == "-" ? "" : (" written to " + o.output_file).c_str());
  }
  return kExitCompleted;
}

}  // namespace

}  // namespace obatch::cli
