// `obatch run`: submit a JSONL file (or attach to a batch), wait, download.
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cli/batch_wait.hpp"
#include "cli/commands/commands.hpp"
#include "cli/progress.hpp"
#include "cli/result_files.hpp"

namespace obatch::cli {

namespace {

struct RunOptions {
  std::string input;
  ApiOptions api;
  std::string output_file, error_file;
  std::string resume;
  std::string retry_missing;
  std::string state;
  bool force_new = false;
  bool create_only = false;
  bool dry_run = false;
  std::vector<std::string> metadata;
  std::string completion_window;
  double poll_interval = 0;
  bool quiet = false, json = false;
  bool cancel_on_interrupt = false;
  double grace = 5;
  // A job of several batches.
  BatchSizeOptions sizes;
  uint64_t max_enqueued_tokens = 0, max_running_batches = 0;
  bool one_batch = false;
  bool translate = false;
  // Direct mode.
  std::string mode, deadline;
  uint64_t direct_below = 0, concurrency = 0, rpm = 0, tpm = 0;
};

int run(const RunOptions &o);

}  // namespace

void add_run_command(CLI::App &app, Commands &out) {
  auto opts = std::make_shared<RunOptions>();
  RunOptions &o = *opts;
  CLI::App *cmd = app.add_subcommand(
      "run", "Submit a JSONL batch file, wait for it, download the results (or --resume a batch)");
  cmd->add_option("input", o.input, "Input JSONL file, one request per line (\"-\": stdin)");
  add_api_options(cmd, o.api);
  cmd->add_option("-o,--output-file", o.output_file,
                  "Where the output goes (default <batch_id>-output.jsonl; \"-\": stdout)");
  cmd->add_option("-e,--error-file", o.error_file,
                  "Where the errors go (default <batch_id>-errors.jsonl; \"-\": stderr)");
  cmd->add_flag("-c,--create", o.create_only,
                "Create the batch, print its id and exit (resume it later with --resume)");
  cmd->add_option("--resume", o.resume,
                  "Attach to an existing batch id, wait and download (the provider is found "
                  "by asking each one when -p is not given)");
  cmd->add_option("--retry-missing", o.retry_missing,
                  "Submit, as a new batch, the requests of an ended job (expired or cancelled) "
                  "that have no result; JOB is a job id from `obatch jobs` or its batch id")
      ->type_name("JOB");
  cmd->add_option("--state", o.state,
                  "The job journal that makes a rerun resume instead of paying twice (default "
                  "$OBATCH_STATE, else $XDG_STATE_HOME/obatch/jobs.db, else "
                  "~/.local/state/obatch/jobs.db; \"off\": none)");
  cmd->add_flag("--force-new", o.force_new,
                "Submit as a new batch even when the journal has a job for the same input "
                "(which would be resumed)");
  cmd->add_flag("-n,--dry-run", o.dry_run,
                "Check the file and show what would be sent (provider, endpoint, models, "
                "requests, bytes); nothing is sent");
  cmd->add_option("--metadata", o.metadata,
                  "KEY=VALUE metadata for the batch (repeatable; up to 15 pairs, keys <= 64, "
                  "values <= 512 characters)")
      ->type_name("KEY=VALUE");
  cmd->add_option("--completion-window", o.completion_window,
                  "Completion window (default 24h; hours or days where the provider takes "
                  "them, e.g. groq: 24h to 7d)");
  cmd->add_option("--poll-interval", o.poll_interval,
                  "Longest wait between status checks, in seconds (default 60; checks start "
                  "at 1 s and slow down as the batch ages)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("-q,--quiet", o.quiet, "Print only the result file paths");
  cmd->add_flag("--json", o.json,
                "Print JSON status objects (one per line) on stdout instead of progress");
  cmd->add_flag("--cancel-on-interrupt", o.cancel_on_interrupt,
                "Ctrl-C cancels the batch (and still downloads what finished) instead of "
                "leaving it running");
  cmd->add_option("--grace", o.grace,
                  "Seconds in which a second Ctrl-C cancels the batch (default 5)")
      ->check(CLI::NonNegativeNumber);
  add_batch_size_options(cmd, o.sizes, true);
  cmd->add_option("--max-enqueued-tokens", o.max_enqueued_tokens,
                  "Your organisation's enqueued-token limit per model: batches of one model run "
                  "together only while their estimated prompt tokens fit (default: learned from "
                  "a batch that fails with token_limit_exceeded, which is then created again)")
      ->type_name("N")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-running-batches", o.max_running_batches,
                  "Run at most N of the job's batches at once (default: no cap)")
      ->type_name("N")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--translate", o.translate,
                "With -p anthropic: send /v1/chat/completions lines as Messages requests "
                "(system, roles, max_tokens, stop, temperature, top_p, function tools); a "
                "line that cannot be translated is refused with the reason");
  cmd->add_flag("--one-batch", o.one_batch,
                "Never cut the input: one batch, and an input over the provider's limits is "
                "refused");
  cmd->add_option("--mode", o.mode,
                  "batch (the Batch API: half price, results within 24h; the default), direct "
                  "(each request as a normal request: full price, results in minutes, also to "
                  "a server without a Batch API) or auto (direct for a small job or a short "
                  "--deadline)")
      ->check(CLI::IsMember({"batch", "direct", "auto"}));
  cmd->add_option("--direct-below", o.direct_below,
                  "With --mode auto: run direct when the job has fewer requests (default 100)")
      ->type_name("N")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--deadline", o.deadline,
                  "With --mode auto: when the results are needed (2h, 90m, 1h30m); direct when "
                  "shorter than the batch completion window")
      ->type_name("DURATION");
  cmd->add_option("--concurrency", o.concurrency, "Direct mode: requests in flight (default 64)")
      ->type_name("N")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--rpm", o.rpm,
                  "Direct mode: requests per minute to stay under (the server's x-ratelimit "
                  "headers lower it)")
      ->type_name("N")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--tpm", o.tpm,
                  "Direct mode: prompt tokens per minute to stay under (counted with the "
                  "model's tokenizer)")
      ->type_name("N")
      ->check(CLI::PositiveNumber);
  out.push_back({cmd, [opts] { return run(*opts); }});
}

namespace {

void check_usage(const RunOptions &o) {
  int sources = !o.input.empty() + !o.resume.empty() + !o.retry_missing.empty();
  if (sources != 1)
    throw CliError(kExitUsage,
                   "give one of: an input file, --resume BATCH_ID, --retry-missing JOB");
  if (!o.resume.empty() && (o.create_only || o.dry_run || o.force_new))
    throw CliError(kExitUsage,
                   "--resume attaches to a batch that exists: -c, -n and --force-new do not apply");
  if (!o.retry_missing.empty() && o.dry_run)
    throw CliError(kExitUsage, "--retry-missing does not go with -n");
  if (o.create_only && o.dry_run) throw CliError(kExitUsage, "-c and -n do not go together");
  if (o.create_only && (o.mode == "direct" || o.mode == "auto"))
    throw CliError(kExitUsage, "-c creates a batch and exits; --mode " + o.mode +
                                   " may send the requests directly, which has no batch to leave");
  if (!o.resume.empty() && (o.mode == "direct" || o.mode == "auto"))
    throw CliError(kExitUsage,
                   "--resume attaches to a batch; a direct job is taken up by "
                   "running the same command again");
  if (o.quiet && o.json) throw CliError(kExitUsage, "--quiet and --json do not go together");
  if (o.json && o.output_file == "-")
    throw CliError(kExitUsage, "--json prints status objects on stdout: give -o a file");
}

// The options that say where the API and the journal are.
std::string api_args(const RunOptions &o) {
  std::string a;
  if (!o.api.base_url.empty()) a += " --base-url " + shell_quote(o.api.base_url);
  if (!o.api.ca_file.empty()) a += " --ca-file " + shell_quote(o.api.ca_file);
  if (!o.state.empty()) a += " --state " + shell_quote(o.state);
  return a;
}

// The options a resume command must repeat.
std::string resume_args(const RunOptions &o) {
  std::string a = api_args(o);
  if (!o.output_file.empty()) a += " -o " + shell_quote(o.output_file);
  if (!o.error_file.empty()) a += " -e " + shell_quote(o.error_file);
  return a;
}

void apply_options(const RunOptions &o, Config &conf, const TempDir *tmp) {
  set_result_paths(conf, o.output_file, o.error_file, tmp);
  if (!o.state.empty()) conf.set("state", o.state);
  if (o.force_new) conf.set("force_new", "1");
  for (const std::string &pair : o.metadata) {
    size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0)
      throw CliError(kExitUsage, "--metadata " + pair + ": write KEY=VALUE");
    conf.set("metadata." + pair.substr(0, eq), pair.substr(eq + 1));
  }
  if (!o.completion_window.empty()) conf.set("completion_window", o.completion_window);
  auto count = [&](const char *key, uint64_t v) {
    if (v) conf.set(key, std::to_string(v));
  };
  conf.set_batch_size(o.sizes);
  count("max_enqueued_tokens", o.max_enqueued_tokens);
  count("max_running_batches", o.max_running_batches);
  if (o.one_batch) conf.set("split", "off");
  if (o.translate) conf.set("translate", "on");
  if (!o.mode.empty()) conf.set("mode", o.mode);
  if (!o.deadline.empty()) conf.set("deadline", o.deadline);
  count("direct_below", o.direct_below);
  count("concurrency", o.concurrency);
  count("rpm", o.rpm);
  count("tpm", o.tpm);
  conf.set_poll_interval(o.poll_interval);
}

// -n: every problem of the file, or what would be sent.
int dry_run(const RunOptions &o, Config &conf, const std::string &path, const std::string &shown) {
  obatch_check_t *check = nullptr;
  char err[512] = "";
  int rc = obatch_check_file(&check, conf.get(), path.c_str(), 20, err, sizeof err);
  if (rc != OBATCH_OK) fail(rc, rename_in_message(err, path, shown));
  uint64_t problems = obatch_check_problems(check);
  obatch_problem_t p = OBATCH_PROBLEM_INIT;
  uint64_t listed = 0;
  while (obatch_check_next(check, &p) == OBATCH_OK) {
    std::fprintf(stderr, "%s\n", rename_in_message(p.message, path, shown).c_str());
    listed++;
  }
  obatch_info_t info = OBATCH_INFO_INIT;
  obatch_check_info(check, &info);
  std::string provider = info.provider, endpoint = info.endpoint, model = info.model;
  uint64_t requests = info.requests_added, bytes = info.bytes_total;
  const bool direct = std::string(info.mode) == "direct";
  const std::string mode_reason = info.mode_reason;
  const uint64_t parts = info.parts_total, tokens = info.tokens_estimated;
  std::vector<std::string> part_lines;
  for (uint64_t i = 0; parts > 1 && i < parts; i++) {
    obatch_info_t part = OBATCH_INFO_INIT;
    if (obatch_check_part(check, i, &part) != OBATCH_OK) break;
    char line[256];
    std::snprintf(line, sizeof line, "    %3llu  %8llu requests  %10s%s%s",
                  static_cast<unsigned long long>(i + 1),
                  static_cast<unsigned long long>(part.requests_added),
                  format_bytes(part.bytes_total).c_str(), part.model[0] ? "  " : "", part.model);
    part_lines.push_back(line);
  }
  obatch_check_destroy(check);
  if (problems) {
    if (problems > listed)
      std::fprintf(stderr, "... and %llu more (obatch validate lists them all)\n",
                   static_cast<unsigned long long>(problems - listed));
    throw CliError(kExitBadInput,
                   shown + ": " + std::to_string(problems) + " problem(s); nothing was sent");
  }
  const char *window = conf.get("completion_window");
  std::printf("dry run: nothing was sent\n");
  std::printf("  mode        %s (%s)\n", direct ? "direct" : "batch", mode_reason.c_str());
  std::printf("  provider    %s\n", provider.c_str());
  if (!o.api.base_url.empty()) std::printf("  base URL    %s\n", o.api.base_url.c_str());
  std::printf("  endpoint    %s\n", endpoint.c_str());
  std::printf("  model       %s\n", model.c_str());
  std::printf("  requests    %llu\n", static_cast<unsigned long long>(requests));
  std::printf("  bytes       %llu (%s)\n", static_cast<unsigned long long>(bytes),
              format_bytes(bytes).c_str());
  // Exact tokens and the cost (obatch estimate says more, per model).
  obatch_estimate_t *est = nullptr;
  char est_err[512] = "";
  if (obatch_estimate_file(&est, conf.get(), path.c_str(), nullptr, est_err, sizeof est_err) ==
      OBATCH_OK) {
    obatch_estimate_row_t row = OBATCH_ESTIMATE_ROW_INIT;
    while (obatch_estimate_next(est, &row) == OBATCH_OK && row.model[0]) {
    }
    std::printf("  tokens      %llu prompt, at most %llu output%s\n",
                static_cast<unsigned long long>(row.prompt_tokens),
                static_cast<unsigned long long>(row.output_tokens),
                row.output_assumed ? " (1000 assumed where no max is given)" : "");
    if (row.has_cost)
      std::printf("  cost        $%.4f in %s mode ($%.4f in %s mode; %s prices)\n",
                  direct ? row.direct_cost_usd : row.batch_cost_usd, direct ? "direct" : "batch",
                  direct ? row.batch_cost_usd : row.direct_cost_usd, direct ? "batch" : "direct",
                  obatch_estimate_prices(est));
    else
      std::printf("  cost        unknown (a model has no price; obatch estimate --prices FILE)\n");
    obatch_estimate_destroy(est);
  } else {
    std::printf("  tokens      ~%llu (prompt, estimated at 4 bytes a token)\n",
                static_cast<unsigned long long>(tokens));
  }
  if (parts > 1 && !direct) {
    std::printf("  batches     %llu (the provider's limits per batch, or yours)\n",
                static_cast<unsigned long long>(parts));
    for (const std::string &l : part_lines) std::printf("%s\n", l.c_str());
  }
  if (direct) {
    const char *c = conf.get("concurrency");
    std::printf("  concurrency %s\n", c ? c : "64");
    if (o.rpm || o.tpm)
      std::printf("  limits      %s rpm, %s tpm (and the server's)\n",
                  o.rpm ? std::to_string(o.rpm).c_str() : "-",
                  o.tpm ? std::to_string(o.tpm).c_str() : "-");
  } else {
    std::printf("  window      %s\n", window ? window : "24h");
  }
  for (const std::string &pair : o.metadata) std::printf("  metadata    %s\n", pair.c_str());
  const char *stem = parts > 1 || direct ? "<job_id>" : "<batch_id>";
  std::printf("  output      %s\n",
              o.output_file.empty() ? (stem + std::string("-output.jsonl")).c_str()
                                    : o.output_file.c_str());
  std::printf("  errors      %s\n",
              o.error_file.empty() ? (stem + std::string("-errors.jsonl")).c_str()
                                   : o.error_file.c_str());
  return kExitCompleted;
}

int run(const RunOptions &o) {
  check_usage(o);
  ProgressMode mode = o.json    ? ProgressMode::kJson
                      : o.quiet ? ProgressMode::kQuiet
                                : ProgressMode::kAuto;
  std::unique_ptr<TempDir> tmp;
  if (o.output_file == "-" || o.error_file == "-") tmp = std::make_unique<TempDir>();
  std::unique_ptr<StdinFile> stdin_copy;
  std::string path = o.input, shown = o.input;
  if (o.input == "-") {
    stdin_copy = std::make_unique<StdinFile>();
    path = stdin_copy->path();
    shown = "<stdin>";
  }

  ApiOptions api = o.api;
  if (!o.resume.empty()) api.provider = provider_for_batch(o.api, o.resume);
  Config conf(api);
  apply_options(o, conf, tmp.get());
  if (o.dry_run) return dry_run(o, conf, path, shown);

  obatch_t *b = nullptr;
  struct Holder {
    obatch_t **b;
    ~Holder() { obatch_destroy(*b); }
  } holder{&b};
  int rc = !o.resume.empty()          ? obatch_resume(&b, conf.get(), o.resume.c_str())
           : !o.retry_missing.empty() ? obatch_retry_missing(&b, conf.get(), o.retry_missing.c_str())
                                      : obatch_create(&b, conf.get());
  if (rc != OBATCH_OK) fail(rc, last_error(b, rc));
  if (!o.retry_missing.empty()) {
    obatch_info_t info = OBATCH_INFO_INIT;
    obatch_info(b, &info);
    if (!o.json)
      std::fprintf(stderr, "obatch: %llu request(s) of job %s have no result; submitting them\n",
                   static_cast<unsigned long long>(info.requests_added), o.retry_missing.c_str());
    rc = obatch_submit(b);
    if (rc != OBATCH_OK) fail(rc, std::string(obatch_last_error(b)) + "; nothing was sent");
  } else if (o.resume.empty()) {
    rc = obatch_add_file(b, path.c_str());
    if (rc == OBATCH_OK) rc = obatch_submit(b);
    if (rc != OBATCH_OK) {
      std::string msg = rename_in_message(obatch_last_error(b), path, shown) + "; nothing was sent";
      if (rc == OBATCH_EJSON || rc == OBATCH_EREQUEST || rc == OBATCH_EDUPLICATE ||
          rc == OBATCH_ELIMIT || rc == OBATCH_EMODEL)
        msg += ". `obatch validate " + shell_quote(o.input) + "` lists every problem";
      fail(rc, msg);
    }
  }

  Progress progress(mode);
  WaitSettings w;
  w.api = o.api;
  w.resume_args = resume_args(o);
  w.cancel_on_interrupt = o.cancel_on_interrupt;
  w.grace_seconds = o.grace;
  w.create_only = o.create_only;
  w.new_batch = o.resume.empty();
  int early = wait_for_batch(&b, progress, w);
  if (early >= 0) {
    progress.finish();
    if (o.create_only && early == kExitCompleted) {
      obatch_info_t info = OBATCH_INFO_INIT;
      obatch_info(b, &info);
      if (!progress.json()) std::printf("%s\n", info.batch_id);
      std::fflush(stdout);
    }
    return early;
  }
  // Not -o/-e: the retry's results must not replace the partial ones.
  return finish_batch(b, progress, o.output_file, o.error_file, api_args(o));
}

}  // namespace

}  // namespace obatch::cli
