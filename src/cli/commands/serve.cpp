// `obatch serve`: the deferred queue over HTTP (POST /v1/chat/completions
// and friends answer 202 with an id, then the completion), and with
// --upstream a Batch API (/v1/files, /v1/batches) for an OpenAI-compatible
// server that has none. The pieces are in src/serve/.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <thread>

#include "cli/commands/commands.hpp"
#include "cli/interrupt.hpp"
#include "serve/client_keys.hpp"
#include "serve/deferred.hpp"
#include "serve/gateway.hpp"
#include "serve/http_server.hpp"
#include "serve/serve_store.hpp"
#include "serve/server.hpp"

namespace obatch::cli {

namespace {

struct ServeOptions {
  std::string listen = "127.0.0.1:8088";
  std::string store, data_dir, upstream, upstream_key_env = "OBATCH_UPSTREAM_API_KEY";
  std::string client_keys, add_client, port_file;
  unsigned threads = 4, concurrency = 0;
  bool defer_to_upstream = false;
  uint64_t rpm = 0, tpm = 0, max_upload_mb = 200;
  ApiOptions api;
  QueueWorkerOptions worker;
};

bool loopback(const std::string &host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

void make_dirs(const std::string &path) {
  for (size_t at = 1; at != std::string::npos;) {
    at = path.find('/', at + 1);
    const std::string part = path.substr(0, at);
    if (mkdir(part.c_str(), 0700) != 0 && errno != EEXIST)
      throw CliError(kExitLocalIo, "cannot make " + part);
  }
}

std::string default_data_dir() {
  const char *state = std::getenv("XDG_STATE_HOME");
  const char *home = std::getenv("HOME");
  if (state && *state) return std::string(state) + "/obatch/serve";
  if (home && *home) return std::string(home) + "/.local/state/obatch/serve";
  throw CliError(kExitUsage, "no --data-dir, and neither XDG_STATE_HOME nor HOME is set");
}

// One server per data directory: two would run the same batches twice. The
// lock goes with the process (kill -9 included); the descriptor stays open.
void lock_data_dir(const std::string &dir) {
  const std::string path = dir + "/serve.lock";
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw CliError(kExitLocalIo, "cannot open " + path);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0)
    throw CliError(kExitUsage, "another obatch serve uses " + dir + " (--data-dir)");
}

// Uploads a stopped server was receiving are not files anyone has.
void remove_partial_uploads(const std::string &dir) {
  DIR *d = opendir(dir.c_str());
  if (!d) return;
  while (const dirent *e = readdir(d))
    if (std::string(e->d_name).rfind("upload-", 0) == 0) unlink((dir + "/" + e->d_name).c_str());
  closedir(d);
}

int add_client(const ServeOptions &o) {
  if (o.client_keys.empty()) throw CliError(kExitUsage, "--add-client needs --client-keys FILE");
  try {
    const std::string key = serve::ClientKeys::add(o.client_keys, o.add_client);
    std::fprintf(stderr,
                 "obatch serve: client %s added to %s (its key's SHA-256 only); the key, shown "
                 "this once:\n",
                 o.add_client.c_str(), o.client_keys.c_str());
    std::printf("%s\n", key.c_str());
  } catch (const std::runtime_error &e) {
    throw CliError(kExitLocalIo, e.what());
  }
  return kExitCompleted;
}

int serve_until_stopped(const ServeOptions &o) {
  if (!o.add_client.empty()) return add_client(o);
  serve::HttpOptions http;
  const size_t colon = o.listen.rfind(':');
  if (colon == std::string::npos) throw CliError(kExitUsage, "--listen is HOST:PORT");
  http.host = o.listen.substr(0, colon);
  if (http.host.size() > 2 && http.host.front() == '[' && http.host.back() == ']')
    http.host = http.host.substr(1, http.host.size() - 2);
  const std::string port = o.listen.substr(colon + 1);
  char *end = nullptr;
  const unsigned long port_n = std::strtoul(port.c_str(), &end, 10);
  if (port.empty() || *end || port_n > 65535) throw CliError(kExitUsage, "--listen: bad port");
  http.port = static_cast<uint16_t>(port_n);
  http.threads = o.threads ? o.threads : 1;
  http.max_upload = o.max_upload_mb << 20;
  if (!loopback(http.host) && o.client_keys.empty())
    throw CliError(kExitUsage, "listening on " + http.host +
                                   " (not loopback) needs --client-keys: anyone could send "
                                   "requests paid with the provider's key");
  serve::ClientKeys keys;
  try {
    if (!o.client_keys.empty()) keys = serve::ClientKeys(o.client_keys);
  } catch (const std::runtime_error &e) {
    throw CliError(kExitUsage, e.what());
  }

  const std::string data_dir = o.data_dir.empty() ? default_data_dir() : o.data_dir;
  make_dirs(data_dir);
  lock_data_dir(data_dir);
  http.upload_dir = data_dir + "/files/tmp";
  remove_partial_uploads(http.upload_dir);
  // --defer-to-upstream: the queue's worker sends its batches to this
  // server's own gateway, on loopback, with a key of its own.
  std::string self_host, internal_key;
  if (o.defer_to_upstream) {
    if (o.upstream.empty()) throw CliError(kExitUsage, "--defer-to-upstream needs --upstream");
    if (!o.api.provider.empty() || !o.api.base_url.empty())
      throw CliError(kExitUsage,
                     "--defer-to-upstream sends the deferred requests upstream: "
                     "leave out -p and --base-url");
    if (http.host == "0.0.0.0" || (loopback(http.host) && http.host != "::1"))
      self_host = "127.0.0.1";
    else if (http.host == "::" || http.host == "::1")
      self_host = "[::1]";
    else
      throw CliError(kExitUsage,
                     "--defer-to-upstream needs --listen on loopback or a wildcard "
                     "address (the server calls itself)");
    internal_key = "obk_" + serve::random_hex(24);
    keys.add_internal("_deferred", internal_key);
  }
  try {
    serve::ServeStore store(data_dir + "/serve.db");
    serve::Metrics metrics;
    Config conf(o.api);
    conf.set_queue_worker(o.worker);
    std::unique_ptr<serve::Gateway> gateway;
    if (!o.upstream.empty()) {
      serve::GatewayOptions g;
      g.upstream = o.upstream;
      const char *key = std::getenv(o.upstream_key_env.c_str());
      g.api_key = key ? key : "";
      g.data_dir = data_dir;
      g.concurrency = o.concurrency;
      g.rpm = o.rpm;
      g.tpm = o.tpm;
      gateway = std::make_unique<serve::Gateway>(g, store, metrics);
    } else {
      make_dirs(http.upload_dir);
    }
    serve::Routes routes(std::move(keys), gateway.get(), store, metrics);
    InterruptWatch interrupts;
    // Declared before the server, so it closes after it: no handler runs
    // on a closed queue.
    std::unique_ptr<serve::Deferred> deferred;
    serve::HttpServer server(
        http, [&](serve::HttpRequest &r) { return routes.gate(r); },
        [&](serve::HttpRequest &r) { return routes.handle(r); });
    if (o.defer_to_upstream) {
      conf.set("provider", "openai");
      conf.set("base_url", "http://" + self_host + ":" + std::to_string(server.port()) + "/v1");
      conf.set("api_key", internal_key);
    }
    deferred = std::make_unique<serve::Deferred>(
        conf.get(), o.store.empty() ? nullptr : o.store.c_str(), store);
    routes.set_deferred(deferred.get());
    if (gateway) gateway->resume();
    if (!o.port_file.empty()) {
      const std::string tmp = o.port_file + ".tmp";
      std::ofstream(tmp) << server.port() << "\n";
      std::rename(tmp.c_str(), o.port_file.c_str());
    }
    const std::string host =
        http.host.find(':') != std::string::npos ? "[" + http.host + "]" : http.host;
    std::fprintf(stderr, "obatch serve: listening on http://%s:%u (pid %d)%s%s\n", host.c_str(),
                 server.port(), static_cast<int>(getpid()),
                 gateway ? "; batches run upstream at " : "", gateway ? o.upstream.c_str() : "");
    while (!interrupts.terminated() && !interrupts.interrupts())
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::fprintf(stderr, "obatch serve: stopping; running batches go on at the next start\n");
    deferred->stop_worker();
  } catch (const std::runtime_error &e) {
    if (dynamic_cast<const CliError *>(&e)) throw;
    throw CliError(kExitLocalIo, e.what());
  }
  return kExitCompleted;
}

}  // namespace

void add_serve_command(CLI::App &app, Commands &out) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App *cmd = app.add_subcommand(
      "serve",
      "An HTTP service: deferred requests (POST /v1/chat/completions answers 202, then the "
      "completion), and with --upstream a Batch API for a server that has none");
  cmd->add_option("--listen", o->listen,
                  "HOST:PORT to listen on (127.0.0.1:8088; port 0: any free one); a host that "
                  "is not loopback needs --client-keys");
  cmd->add_option("--data-dir", o->data_dir,
                  "Where the server keeps its files, batches and results (default "
                  "$XDG_STATE_HOME/obatch/serve)");
  cmd->add_option("--store", o->store,
                  "The deferred queue: a SQLite file or a postgresql:// URI (default "
                  "$OBATCH_QUEUE, else $XDG_STATE_HOME/obatch/queue.db)");
  cmd->add_option("--upstream", o->upstream,
                  "Base URL of an OpenAI-compatible server (http://127.0.0.1:8000/v1): serve "
                  "/v1/files and /v1/batches, running each batch there in direct mode");
  cmd->add_flag("--defer-to-upstream", o->defer_to_upstream,
                "Run the deferred requests' batches through this server's own Batch API on "
                "--upstream (no provider key needed)");
  cmd->add_option("--upstream-key-env", o->upstream_key_env,
                  "The variable holding the upstream's API key (OBATCH_UPSTREAM_API_KEY)");
  cmd->add_option("--client-keys", o->client_keys,
                  "File of client names and their keys' SHA-256 (make entries with "
                  "--add-client); without it only loopback, and no key is checked");
  cmd->add_option("--add-client", o->add_client,
                  "Make a key for the client NAME, add it to --client-keys, print it, exit");
  cmd->add_option("--threads", o->threads, "HTTP threads (4)");
  cmd->add_option("--max-upload-mb", o->max_upload_mb, "Largest upload, in MiB (200)");
  cmd->add_option("--concurrency", o->concurrency,
                  "Requests a batch has in flight upstream at once (64)");
  cmd->add_option("--rpm", o->rpm, "Requests per minute to keep under, per batch, upstream");
  cmd->add_option("--tpm", o->tpm, "Tokens per minute to keep under, per batch, upstream");
  cmd->add_option("--port-file", o->port_file,
                  "Write the port listened on to this file once listening (scripts, --listen "
                  "HOST:0)");
  add_api_options(cmd, o->api);
  add_queue_worker_options(cmd, o->worker);
  out.push_back({cmd, [o] { return serve_until_stopped(*o); }});
}

}  // namespace obatch::cli
