// `obatch validate`: every problem of a batch input file in one pass, with
// the provider's own rules and limits, before anything is sent (no key
// needed).
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "cli/commands/commands.hpp"
#include "obatch/obatch.h"

namespace obatch::cli {

namespace {

struct ValidateOptions {
  std::string input;
  std::string provider;
  unsigned max_problems = 100;
  bool json = false;
  bool quiet = false;
  bool one_batch = false;
  BatchSizeOptions sizes;
};

int validate_command(const ValidateOptions &o);

}  // namespace

void add_validate_command(CLI::App &app, Commands &out) {
  auto opts = std::make_shared<ValidateOptions>();
  ValidateOptions &o = *opts;
  CLI::App *cmd = app.add_subcommand(
      "validate",
      "Check a batch input file (JSON, fields, custom_ids, endpoint, model, limits); "
      "nothing is sent, no key needed");
  cmd->add_option("input", o.input, "Input JSONL file (- = stdin)")->required();
  cmd->add_option("-p,--provider", o.provider,
                  "openai or parasail: whose rules and limits apply (default: chosen by model)");
  cmd->add_option("--max-problems", o.max_problems,
                  "Print at most N problems (default 100); all are counted")
      ->check(CLI::Range(1u, 1000000u));
  cmd->add_flag("--one-batch", o.one_batch,
                "Check it as one batch (obatch run --one-batch): the provider's limits per "
                "batch are problems rather than cut points");
  add_batch_size_options(cmd, o.sizes, false);
  auto *json =
      cmd->add_flag("--json", o.json, "One JSON object per line: each problem, then a summary");
  cmd->add_flag("-q,--quiet", o.quiet, "Print nothing; the exit code says (0 good, 3 problems)")
      ->excludes(json);
  out.push_back({cmd, [opts] { return validate_command(*opts); }});
}

namespace {

struct CheckDeleter {
  void operator()(obatch_check_t *c) const { obatch_check_destroy(c); }
};

// Stable names for --json (the C enum's numbers are not meant for people).
const char *code_name(int code) {
  switch (code) {
    case OBATCH_EJSON: return "json";
    case OBATCH_EREQUEST: return "request";
    case OBATCH_EDUPLICATE: return "duplicate";
    case OBATCH_ELIMIT: return "limit";
    case OBATCH_EMODEL: return "model";
    case OBATCH_EPROVIDER: return "provider";
    case OBATCH_ECONFIG: return "config";
    case OBATCH_EIO: return "io";
    default: return "other";
  }
}

// Lines as the check counts them: a last line without '\n' counts too.
uint64_t count_lines(const std::string &path) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) return 0;
  char buf[1 << 16];
  uint64_t lines = 0;
  size_t n;
  char last = '\n';
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    for (size_t i = 0; i < n; i++) lines += buf[i] == '\n';
    last = buf[n - 1];
  }
  std::fclose(f);
  return lines + (last != '\n');
}

std::string plural(uint64_t n, const char *word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string json_uint(uint64_t n) { return std::to_string(n); }

int validate_command(const ValidateOptions &o) {
  std::unique_ptr<StdinFile> stdin_copy;
  std::string path = o.input, name = o.input;
  if (o.input == "-") {
    stdin_copy = std::make_unique<StdinFile>();
    path = stdin_copy->path();
    name = "<stdin>";
  }
  auto shown = [&](const std::string &message) { return rename_in_message(message, path, name); };

  Config conf;
  if (!o.provider.empty()) conf.set("provider", o.provider);
  if (o.one_batch) conf.set("split", "off");
  conf.set_batch_size(o.sizes);
  obatch_check_t *raw = nullptr;
  char err[1024] = "";
  int rc = obatch_check_file(&raw, conf.get(), path.c_str(), o.max_problems, err, sizeof err);
  std::unique_ptr<obatch_check_t, CheckDeleter> check(raw);
  if (rc != OBATCH_OK) fail(rc, err[0] ? shown(err) : std::string(obatch_strerror(rc)));

  uint64_t total = obatch_check_problems(check.get());
  obatch_info_t info = OBATCH_INFO_INIT;
  rc = obatch_check_info(check.get(), &info);
  if (rc != OBATCH_OK) fail(rc, obatch_strerror(rc));
  uint64_t lines = count_lines(path);

  if (o.quiet) return total ? kExitBadInput : kExitCompleted;
  uint64_t printed = 0;
  obatch_problem_t p = OBATCH_PROBLEM_INIT;
  while (obatch_check_next(check.get(), &p) == OBATCH_OK) {
    printed++;
    std::string message = shown(p.message);
    if (o.json)
      std::printf("{\"line\":%s,\"code\":\"%s\",\"message\":%s}\n", json_uint(p.line).c_str(),
                  code_name(p.code), json_quote(message).c_str());
    else
      std::printf("%s\n", message.c_str());
  }
  if (o.json) {
    std::printf(
        "{\"file\":%s,\"ok\":%s,\"problems\":%s,\"shown\":%s,\"lines\":%s,\"provider\":%s,"
        "\"endpoint\":%s,\"model\":%s,\"requests\":%s,\"bytes\":%s,\"batches\":%s,"
        "\"tokens_estimated\":%s}\n",
        json_quote(name).c_str(), total ? "false" : "true", json_uint(total).c_str(),
        json_uint(printed).c_str(), json_uint(lines).c_str(), json_quote(info.provider).c_str(),
        json_quote(info.endpoint).c_str(), json_quote(info.model).c_str(),
        json_uint(info.requests_added).c_str(), json_uint(info.bytes_total).c_str(),
        json_uint(info.parts_total).c_str(), json_uint(info.tokens_estimated).c_str());
  } else if (total) {
    if (total > printed)
      std::printf("... and %llu more problem%s\n", static_cast<unsigned long long>(total - printed),
                  total - printed == 1 ? "" : "s");
    std::printf("%s: %s in %s; nothing was sent\n", name.c_str(), plural(total, "problem").c_str(),
                plural(lines, "line").c_str());
  } else {
    std::string model = info.model;
    std::string models =
        model.find(',') == std::string::npos ? "model " + model : "models " + model;
    std::string batches = info.parts_total > 1
                              ? "; obatch run sends it as " + std::to_string(info.parts_total) +
                                    " batches (the limits of one batch)"
                              : "";
    std::printf("%s: OK: %s for %s (%s, %s), %s%s\n", name.c_str(),
                plural(info.requests_added, "request").c_str(), info.endpoint, info.provider,
                models.c_str(), format_bytes(info.bytes_total).c_str(), batches.c_str());
  }
  if (std::fflush(stdout) != 0)
    fail(OBATCH_EIO, std::string("cannot write to standard output: ") + std::strerror(errno));
  return total ? kExitBadInput : kExitCompleted;
}

}  // namespace

}  // namespace obatch::cli
