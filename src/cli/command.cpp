#include "cli/command.hpp"

#include <algorithm>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sstream>

#include "obatch/sys/provider.h"

namespace obatch::cli {

void fail(int obatch_code, const std::string &message) {
  throw CliError(exit_code_for(obatch_code), message);
}

void add_api_options(CLI::App *cmd, ApiOptions &o) {
  cmd->add_option("-p,--provider", o.provider,
                  "openai, parasail, anthropic, azure, azure-v1, groq, deepinfra, or one "
                  "declared with --providers (default: chosen by model, or found by asking "
                  "each)");
  cmd->add_option("--base-url", o.base_url,
                  "API base URL (default: the provider's *_BASE_URL variable, else its own)");
  // Certificates are always verified; this only says which CA to trust.
  cmd->add_option("--ca-file", o.ca_file,
                  "PEM file of the CA certificates to trust for the API server (a private "
                  "CA); certificate checks cannot be turned off")
      ->type_name("PATH");
}

void add_batch_size_options(CLI::App *cmd, BatchSizeOptions &o, bool cuts) {
  cmd->add_option("--max-requests-per-batch", o.max_requests,
                  cuts ? "Cut the input into batches of at most N requests (default: the "
                         "provider's limit, e.g. 50000); smaller batches give partial results "
                         "sooner"
                       : "As obatch run: the batches would hold at most N requests")
      ->type_name("N")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-bytes-per-batch", o.max_bytes,
                  cuts ? "Cut the input into batch files of at most N bytes (default: the "
                         "provider's limit, e.g. 200 MB)"
                       : "As obatch run: the batch files would be at most N bytes")
      ->type_name("N")
      ->check(CLI::PositiveNumber);
}

void Config::set_batch_size(const BatchSizeOptions &o) {
  if (o.max_requests) set("max_requests", std::to_string(o.max_requests));
  if (o.max_bytes) set("max_bytes", std::to_string(o.max_bytes));
}

void Config::set_poll_interval(double seconds) {
  if (seconds <= 0) return;
  long max_ms = static_cast<long>(seconds * 1000);
  if (max_ms < 1) max_ms = 1;
  set("poll_max_interval_ms", std::to_string(max_ms));
  set("poll_interval_ms", std::to_string(std::min(1000L, max_ms)));
}

void add_queue_worker_options(CLI::App *cmd, QueueWorkerOptions &o) {
  cmd->add_option("--flush-requests", o.flush_requests, "Make a batch once this many wait (10000)");
  cmd->add_option("--flush-bytes", o.flush_bytes, "...or their lines reach this size (100000000)");
  cmd->add_option("--flush-age", o.flush_age, "...or the oldest has waited this long (10m)");
  cmd->add_option("--lease", o.lease,
                  "How long a stopped worker's batches wait before another takes them (2m)");
  cmd->add_option("--retention", o.retention, "Remove ended requests after this long (168h)");
  cmd->add_option("--max-attempts", o.max_attempts,
                  "Batches a request is sent in before it expires (3)");
  cmd->add_option("--state", o.state, "The job journal of its batches");
  cmd->add_option("--poll-interval", o.poll_interval,
                  "The longest wait between status checks of a batch, in seconds (60)");
}

void Config::set_queue_worker(const QueueWorkerOptions &o) {
  if (o.flush_requests) set("flush_requests", std::to_string(o.flush_requests));
  if (o.flush_bytes) set("flush_bytes", std::to_string(o.flush_bytes));
  if (o.max_attempts) set("max_attempts", std::to_string(o.max_attempts));
  if (!o.flush_age.empty()) set("flush_age", o.flush_age);
  if (!o.lease.empty()) set("lease", o.lease);
  if (!o.retention.empty()) set("retention", o.retention);
  if (!o.state.empty()) set("state", o.state);
  set_poll_interval(o.poll_interval);
}

Config::Config() {
  if (obatch_config_new(&conf_) != OBATCH_OK) fail(OBATCH_ENOMEM, "out of memory");
}

Config::Config(const ApiOptions &api) : Config() {
  if (!api.provider.empty()) set("provider", api.provider);
  if (!api.base_url.empty()) set("base_url", api.base_url);
  if (!api.ca_file.empty()) set("ca_file", api.ca_file);
}

Config::~Config() { obatch_config_destroy(conf_); }

void Config::set(const std::string &key, const std::string &value) {
  char buf[512];
  if (obatch_config_set(conf_, key.c_str(), value.c_str(), buf, sizeof buf) != OBATCH_OK)
    throw CliError(kExitUsage, buf);
}

std::vector<std::string> provider_names() {
  std::vector<std::string> names;
  std::stringstream in(obatch_provider_names());
  std::string name;
  while (std::getline(in, name, ','))
    if (!name.empty()) names.push_back(name);
  return names;
}

std::string provider_for_batch(const ApiOptions &api, const std::string &batch_id,
                               obatch_list_t **found) {
  if (found) *found = nullptr;
  if (!api.provider.empty()) return api.provider;
  if (!api.base_url.empty())
    throw CliError(kExitUsage,
                   "--base-url needs --provider: obatch will not try every "
                   "provider's key on one host");
  std::string tried;
  int worst = OBATCH_ENOTFOUND;
  for (const std::string &name : provider_names()) {
    ApiOptions one = api;  // keeps --ca-file
    one.provider = name;
    Config conf(one);
    obatch_list_t *page = nullptr;
    char err[512] = "";
    int rc = obatch_retrieve(&page, conf.get(), batch_id.c_str(), err, sizeof err);
    if (rc == OBATCH_OK && found) {
      *found = page;  // the caller's: asking once is enough
      return name;
    }
    obatch_list_destroy(page);
    if (rc == OBATCH_OK) return name;
    tried += "\n  " + name + ": " + err;
    // A missing key only means "not this one"; anything else is worth showing.
    if (rc != OBATCH_EAUTH && rc != OBATCH_ENOTFOUND) worst = rc;
  }
  throw CliError(exit_code_for(worst),
                 "no provider knows batch " + batch_id + " (name it with --provider):" + tried);
}

std::string last_error(const obatch_t *b, int code) {
  if (b) return obatch_last_error(b);
  // No handle: a failed create / resume / open keeps its reason per thread.
  std::string why = obatch_last_error(nullptr);
  return why == "NULL handle" ? obatch_strerror(code) : why;
}

std::string format_bytes(uint64_t n) {
  char buf[32];
  if (n < 1000)
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  else if (n < 1000 * 1000)
    std::snprintf(buf, sizeof buf, "%.1f kB", n / 1e3);
  else if (n < 1000ull * 1000 * 1000)
    std::snprintf(buf, sizeof buf, "%.1f MB", n / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.2f GB", n / 1e9);
  return buf;
}

std::string format_duration(int64_t s) {
  if (s < 0) s = 0;
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60));
  return buf;
}

std::string format_time(int64_t t) {
  if (t <= 0) return "-";
  time_t tt = static_cast<time_t>(t);
  struct tm tm;
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

namespace {

std::string temp_root() {
  const char *t = std::getenv("TMPDIR");
  return t && *t ? t : "/tmp";
}

}  // namespace

StdinFile::StdinFile() {
  std::string tmpl = temp_root() + "/obatch-stdin-XXXXXX";
  if (!mkdtemp(tmpl.data()))
    fail(OBATCH_EIO,
         "cannot create a temporary directory under " + temp_root() + ": " + std::strerror(errno));
  dir_ = tmpl;
  path_ = dir_ + "/stdin.jsonl";
  int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) fail(OBATCH_EIO, "cannot create " + path_ + ": " + std::strerror(errno));
  char buf[1 << 16];
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || write(fd, buf, static_cast<size_t>(n)) != n) {
      int e = errno;
      close(fd);
      fail(OBATCH_EIO, std::string("cannot copy standard input: ") + std::strerror(e));
    }
  }
  if (close(fd) != 0) fail(OBATCH_EIO, "cannot write " + path_ + ": " + std::strerror(errno));
}

StdinFile::~StdinFile() {
  if (!path_.empty()) unlink(path_.c_str());
  if (!dir_.empty()) rmdir(dir_.c_str());
}

std::string rename_in_message(std::string message, const std::string &path,
                              const std::string &display) {
  for (size_t at = message.find(path); at != std::string::npos;
       at = message.find(path, at + display.size()))
    message.replace(at, path.size(), display);
  return message;
}

void copy_to_stream(const std::string &path, FILE *stream) {
  FILE *in = std::fopen(path.c_str(), "rb");
  if (!in) fail(OBATCH_EIO, "cannot open " + path + ": " + std::strerror(errno));
  char buf[1 << 16];
  size_t n;
  bool ok = true;
  while ((n = std::fread(buf, 1, sizeof buf, in)) > 0)
    if (std::fwrite(buf, 1, n, stream) != n) {
      ok = false;
      break;
    }
  ok = ok && !std::ferror(in);
  std::fclose(in);
  if (std::fflush(stream) != 0 || !ok)
    fail(OBATCH_EIO, "cannot copy " + path + ": " + std::strerror(errno));
}

OutputFile::OutputFile(const std::string &path) : path_(path) {
  if (path == "-") {
    f_ = stdout;
    return;
  }
  std::string dir = ".";
  size_t slash = path.rfind('/');
  if (slash != std::string::npos) dir = slash == 0 ? "/" : path.substr(0, slash);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  tmp_ = dir + "/." + base + ".part-XXXXXX";
  int fd = mkstemp(tmp_.data());
  if (fd < 0) {
    tmp_.clear();
    fail(OBATCH_EIO, "cannot write into " + dir + ": " + std::strerror(errno));
  }
  mode_t mask = umask(0);  // mkstemp makes 0600; give the file what the umask allows
  umask(mask);
  fchmod(fd, 0666 & ~mask);
  f_ = fdopen(fd, "wb");
  if (!f_) {
    close(fd);
    fail(OBATCH_EIO, "cannot write " + tmp_ + ": " + std::strerror(errno));
  }
}

OutputFile::~OutputFile() {
  if (tmp_.empty()) return;  // stdout, or committed
  if (f_) std::fclose(f_);
  unlink(tmp_.c_str());
}

void OutputFile::commit() {
  if (tmp_.empty()) {
    if (std::fflush(f_) != 0)
      fail(OBATCH_EIO, std::string("cannot write: ") + std::strerror(errno));
    return;
  }
  FILE *f = f_;
  f_ = nullptr;
  bool ok = std::fflush(f) == 0 && fsync(fileno(f)) == 0;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    int e = errno;
    unlink(tmp_.c_str());
    tmp_.clear();
    fail(OBATCH_EIO, "cannot write " + path_ + ": " + std::strerror(e));
  }
  tmp_.clear();
}

}  // namespace obatch::cli
