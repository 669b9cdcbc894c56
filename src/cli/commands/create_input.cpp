// `obatch create-input`: a batch input file from a file of prompts, one per
// line (like `python -m openai_batch.create_batch_input`). Every request goes
// through obatch_add, so the provider's rules and limits apply exactly as
// they would on `obatch run`; nothing is sent.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "cli/commands/commands.hpp"
#include "util/utf8.hpp"
#include "obatch/obatch.h"

namespace obatch::cli {

namespace {

struct CreateInputOptions {
  std::string model;
  bool embedding = false;
  std::string provider;
  std::string system;
  int max_tokens = 0;
  std::string id_prefix = "line";
  std::string input = "-";
  std::string output = "-";
  bool quiet = false;
};

int create_input_command(const CreateInputOptions &o);

}  // namespace

void add_create_input_command(CLI::App &app, Commands &out) {
  auto opts = std::make_shared<CreateInputOptions>();
  CreateInputOptions &o = *opts;
  CLI::App *cmd = app.add_subcommand(
      "create-input",
      "Make a batch input file (JSONL) from prompts, one per line; nothing is sent");
  cmd->add_option("-m,--model", o.model, "Model of every request, e.g. gpt-4o-mini")->required();
  cmd->add_flag("-e,--embedding", o.embedding,
                "Embedding requests ({\"model\",\"input\"}) instead of chat completions");
  cmd->add_option("-p,--provider", o.provider,
                  "openai or parasail: whose rules and limits apply (default: chosen by model)");
  cmd->add_option("--system", o.system, "A system message before each prompt (chat only)");
  cmd->add_option("--max-tokens", o.max_tokens, "max_tokens of each request (chat only)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--id-prefix", o.id_prefix,
                  "custom_id is PREFIX-N, N the prompt's line number (default: line)");
  cmd->add_option("input", o.input,
                  "Prompts, one per line; blank lines are skipped (default: - = stdin)");
  cmd->add_option("output", o.output, "The JSONL file to write (default: - = stdout)");
  cmd->add_flag("-q,--quiet", o.quiet, "No summary on stderr");
  out.push_back({cmd, [opts] { return create_input_command(*opts); }});
}

namespace {

struct BatchDeleter {
  void operator()(obatch_t *b) const { obatch_destroy(b); }
};
using BatchPtr = std::unique_ptr<obatch_t, BatchDeleter>;

struct FileCloser {
  void operator()(FILE *f) const {
    if (f != stdin) std::fclose(f);
  }
};

// Where the first invalid UTF-8 sequence starts (1-based byte), or 0.
// Strict: no overlong forms, surrogates or code points past U+10FFFF, as the
// JSON the provider parses must be.
size_t invalid_utf8_at(const std::string &s) {
  const auto *p = reinterpret_cast<const unsigned char *>(s.data());
  size_t invalid = 0;
  for (size_t i = 0, len; i < s.size(); i += len)
    if (!(len = utf8_char(p + i, s.size() - i, &invalid))) return i + 1;
  return 0;
}

// getline(3): lines of any length, NUL bytes included.
class LineReader {
 public:
  explicit LineReader(FILE *f) : f_(f) {}
  ~LineReader() { std::free(buf_); }
  LineReader(const LineReader &) = delete;
  LineReader &operator=(const LineReader &) = delete;
  bool next(std::string *line) {
    ssize_t got = getline(&buf_, &cap_, f_);
    if (got < 0) return false;
    line->assign(buf_, static_cast<size_t>(got));
    return true;
  }

 private:
  FILE *f_;
  char *buf_ = nullptr;
  size_t cap_ = 0;
};

bool blank(const std::string &s) { return s.find_first_not_of(" \t\f\v") == std::string::npos; }

std::string body_for(const CreateInputOptions &o, const std::string &prompt) {
  std::string body = "{\"model\":" + json_quote(o.model);
  if (o.embedding) return body + ",\"input\":" + json_quote(prompt) + "}";
  body += ",\"messages\":[";
  if (!o.system.empty()) body += "{\"role\":\"system\",\"content\":" + json_quote(o.system) + "},";
  body += "{\"role\":\"user\",\"content\":" + json_quote(prompt) + "}]";
  if (o.max_tokens > 0) body += ",\"max_tokens\":" + std::to_string(o.max_tokens);
  return body + "}";
}

// The library names a rejected request "request K"; the user knows lines.
std::string at_line(std::string message, uint64_t request, const std::string &where) {
  std::string tag = "request " + std::to_string(request);
  if (message.compare(0, tag.size(), tag) == 0 &&
      (message.size() == tag.size() ||
       !std::isdigit(static_cast<unsigned char>(message[tag.size()]))))
    return where + message.substr(tag.size());
  return where + ": " + message;
}

// What to do next, in the command's terms.
std::string add_failed(int rc, const std::string &message) {
  if (rc != OBATCH_EPROVIDER) return message;
  const std::string api = "set the provider explicitly";
  if (message.find(api) == std::string::npos) return message + "; name the provider with -p";
  return rename_in_message(message, api, "name the provider with -p");
}

int create_input_command(const CreateInputOptions &o) {
  if (o.embedding && (!o.system.empty() || o.max_tokens > 0))
    throw CliError(kExitUsage,
                   "--system and --max-tokens are for chat requests, not -e/--embedding");
  if (o.id_prefix.empty()) throw CliError(kExitUsage, "--id-prefix must not be empty");
  for (unsigned char c : o.id_prefix)
    if (c < 0x20) throw CliError(kExitUsage, "--id-prefix must not hold control characters");
  const bool from_stdin = o.input == "-";
  const std::string name = from_stdin ? "<stdin>" : o.input;

  Config conf;
  if (!o.provider.empty()) conf.set("provider", o.provider);
  obatch_t *raw = nullptr;
  int rc = obatch_create(&raw, conf.get());
  BatchPtr b(raw);
  if (rc != OBATCH_OK) fail(rc, last_error(raw, rc));

  std::unique_ptr<FILE, FileCloser> in(from_stdin ? stdin : std::fopen(o.input.c_str(), "rb"));
  if (!in) fail(OBATCH_EIO, "cannot open " + o.input + ": " + std::strerror(errno));
  LineReader reader(in.get());
  std::string prompt;
  uint64_t lineno = 0, added = 0;
  errno = 0;
  while (reader.next(&prompt)) {
    lineno++;
    // Prompt files from Windows editors often have CR LF and a BOM.
    if (!prompt.empty() && prompt.back() == '\n') prompt.pop_back();
    if (!prompt.empty() && prompt.back() == '\r') prompt.pop_back();
    if (lineno == 1 && prompt.compare(0, 3, "\xEF\xBB\xBF") == 0) prompt.erase(0, 3);
    if (blank(prompt)) continue;
    std::string where = name + " line " + std::to_string(lineno);
    if (size_t at = invalid_utf8_at(prompt))
      throw CliError(kExitBadInput, where + ": invalid UTF-8 at byte " + std::to_string(at) +
                                        "; save the prompts as UTF-8");
    // The line number, not a count of prompts: the same file always gives
    // the same ids, a result leads straight back to its prompt's line, and
    // the ids are unique because line numbers are.
    std::string custom_id = o.id_prefix + "-" + std::to_string(lineno);
    std::string body = body_for(o, prompt);
    rc = obatch_add(b.get(), body.c_str(), custom_id.c_str(), nullptr);
    if (rc != OBATCH_OK)
      fail(rc, add_failed(rc, at_line(obatch_last_error(b.get()), added + 1, where)));
    added++;
    errno = 0;
  }
  if (std::ferror(in.get()))
    fail(OBATCH_EIO, "cannot read " + name + ": " + std::strerror(errno ? errno : EIO));
  if (added == 0)
    throw CliError(kExitBadInput, name + " has no prompts (one per line; blank lines are skipped)");

  // The library's own input file is what OUTPUT gets: the lines exactly as
  // a batch would upload them.
  obatch_info_t info = OBATCH_INFO_INIT;
  obatch_info(b.get(), &info);
  OutputFile out(o.output);
  copy_to_stream(obatch_input_path(b.get()), out.stream());
  out.commit();
  const std::string batches =
      info.parts_total > 1 ? "; obatch run sends it as " + std::to_string(info.parts_total) +
                                 " batches (the limits of one batch)"
                           : "";
  if (!o.quiet)
    std::fprintf(stderr, "obatch: wrote %llu request%s (%s, %s, %s) to %s%s\n",
                 static_cast<unsigned long long>(added), added == 1 ? "" : "s", info.model,
                 info.endpoint, format_bytes(info.bytes_total).c_str(),
                 o.output == "-" ? "standard output" : o.output.c_str(), batches.c_str());
  return kExitCompleted;
}

}  // namespace

}  // namespace obatch::cli
