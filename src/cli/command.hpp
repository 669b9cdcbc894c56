// What every `obatch` subcommand shares: how it is registered, the options
// that pick a provider, a config built from them, and errors that carry an
// exit code. The command is a client of the public C API only.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/exit_codes.hpp"
#include "obatch/obatch.h"
#include "util/json_write.hpp"  // json_quote: the library's own, compiled in

namespace CLI {
class App;
}

namespace obatch::cli {

// A registered subcommand and what runs it (returns the exit code).
struct Command {
  CLI::App *app;
  std::function<int()> run;
};
using Commands = std::vector<Command>;

// A failure the command reports and exits with.
struct CliError : std::runtime_error {
  CliError(int exit_code, const std::string &message)
      : std::runtime_error(message), exit_code(exit_code) {}
  int exit_code;
};

// Throws the CliError for an obatch_code with `message`.
[[noreturn]] void fail(int obatch_code, const std::string &message);

// The options that say where the API is.
struct ApiOptions {
  std::string provider;
  std::string base_url;
  std::string ca_file;  // --ca-file: a private CA to trust (config ca_file)
};
void add_api_options(CLI::App *cmd, ApiOptions &o);

// How big the batches an input is cut into may be (config max_requests /
// max_bytes): --max-requests-per-batch, --max-bytes-per-batch. `cuts`: the
// command sends the input (obatch run), else it says what run would do.
struct BatchSizeOptions {
  uint64_t max_requests = 0, max_bytes = 0;  // 0: the provider's limits
};
void add_batch_size_options(CLI::App *cmd, BatchSizeOptions &o, bool cuts);

// How a deferred-queue worker batches and keeps requests (config
// flush_requests, flush_bytes, flush_age, lease, retention, max_attempts,
// state, and the poll interval): `obatch queue worker` and `obatch serve`.
struct QueueWorkerOptions {
  uint64_t flush_requests = 0, flush_bytes = 0, max_attempts = 0;
  std::string flush_age, lease, retention, state;
  double poll_interval = 0;
};
void add_queue_worker_options(CLI::App *cmd, QueueWorkerOptions &o);

// An obatch_config_t that frees itself; set() throws CliError(usage).
class Config {
 public:
  Config();
  explicit Config(const ApiOptions &api);
  ~Config();
  Config(const Config &) = delete;
  Config &operator=(const Config &) = delete;
  void set(const std::string &key, const std::string &value);
  void set_batch_size(const BatchSizeOptions &o);
  // --poll-interval SECONDS: the longest wait between status checks (the
  // first checks come sooner, up to 1 s apart); 0 leaves the default.
  void set_poll_interval(double seconds);
  void set_queue_worker(const QueueWorkerOptions &o);
  const char *get(const char *key) const { return obatch_config_get(conf_, key); }
  obatch_config_t *get() const { return conf_; }

 private:
  obatch_config_t *conf_ = nullptr;
};

// The registered provider names ("openai", "parasail", ...).
std::vector<std::string> provider_names();

// The provider that runs `batch_id`: --provider when given, else the first
// provider (with a key) that knows the batch. Refuses to guess with
// --base-url alone: that would send every provider's key to one host.
// When the provider was found by asking and `found` is not NULL, *found
// receives the batch as that provider answered (obatch_retrieve's page; the
// caller destroys it); else it is set to NULL.
std::string provider_for_batch(const ApiOptions &api, const std::string &batch_id,
                               obatch_list_t **found = nullptr);

// Message of an obatch_t's last error, or of the code when there is no handle.
std::string last_error(const obatch_t *b, int code);

// Text helpers.
std::string format_bytes(uint64_t n);           // "12.3 MB"
std::string format_duration(int64_t seconds);   // "1h02m", "42s"
std::string format_time(int64_t unix_seconds);  // "2026-11-22 10:00:00 UTC", "-" for 0

// Reads standard input into a private temporary file and returns its path
// (removed by the returned guard's destructor).
class StdinFile {
 public:
  StdinFile();
  ~StdinFile();
  const std::string &path() const { return path_; }

 private:
  std::string dir_, path_;
};

// Puts the display name in place of a temporary path inside a message.
std::string rename_in_message(std::string message, const std::string &path,
                              const std::string &display);

// Copies a file to stdout (or stderr); throws CliError on failure.
void copy_to_stream(const std::string &path, FILE *stream);

// A file written under a temporary name in its directory and renamed into
// place by commit(); "-" is standard output. Without commit() (an error on
// the way), the temporary file is removed and nothing appears.
class OutputFile {
 public:
  explicit OutputFile(const std::string &path);
  ~OutputFile();
  OutputFile(const OutputFile &) = delete;
  OutputFile &operator=(const OutputFile &) = delete;
  FILE *stream() const { return f_; }
  void commit();

 private:
  std::string path_, tmp_;
  FILE *f_ = nullptr;
};

}  // namespace obatch::cli
