// `obatch queue put|get|wait|worker|stats`: the deferred-request queue.
// Put single requests now (each gets a ticket), let workers batch them at
// half the price, read each answer later by its ticket.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <unistd.h>

#include "cli/commands/commands.hpp"
#include "cli/interrupt.hpp"
#include "queue/state_names.hpp"

namespace obatch::cli {

namespace {

struct QueueOptions {
  std::string store;  // "" : the default (obatch_queue_open's)
  ApiOptions api;
  // put
  std::string body_path, client_id, endpoint;
  // get / wait
  std::string ticket;
  double timeout_s = 0;  // wait: 0 = no limit
  bool json = false;
  // worker
  QueueWorkerOptions worker;
  bool once = false;
};

// An open queue that closes itself; errors become CliErrors.
class OpenQueue {
 public:
  OpenQueue(const QueueOptions &o, const Config &conf) {
    int rc = obatch_queue_open(&q_, conf.get(), o.store.empty() ? nullptr : o.store.c_str());
    if (rc != OBATCH_OK) fail(rc, obatch_queue_last_error(nullptr));
  }
  ~OpenQueue() { obatch_queue_close(q_); }
  OpenQueue(const OpenQueue &) = delete;
  OpenQueue &operator=(const OpenQueue &) = delete;
  obatch_queue_t *get() const { return q_; }
  [[noreturn]] void fail_with(int rc) const { fail(rc, obatch_queue_last_error(q_)); }

 private:
  obatch_queue_t *q_ = nullptr;
};

// completed 0, failed 6, expired 7, not ended yet 10.
int exit_for_state(int state) {
  switch (state) {
    case OBATCH_QUEUE_COMPLETED: return kExitCompleted;
    case OBATCH_QUEUE_FAILED: return kExitFailed;
    case OBATCH_QUEUE_EXPIRED: return kExitExpired;
    default: return kExitNotEnded;
  }
}

void print_entry(const obatch_queue_entry_t &e, bool json) {
  if (json) {
    std::printf(
        "{\"ticket\":%s,\"state\":%s,\"provider\":%s,\"endpoint\":%s,\"model\":%s,"
        "\"status_code\":%d,\"body\":%s,\"error\":%s,\"batch_id\":%s,\"attempts\":%u,"
        "\"created_ms\":%lld,\"submitted_ms\":%lld,\"ended_ms\":%lld}\n",
        json_quote(e.ticket).c_str(), json_quote(queue_state_name(e.state)).c_str(),
        json_quote(e.provider).c_str(), json_quote(e.endpoint).c_str(),
        json_quote(e.model).c_str(), e.status_code, e.body[0] ? e.body : "null",
        e.error_code[0] || e.error_message[0]
            ? ("{\"code\":" + json_quote(e.error_code) +
               ",\"message\":" + json_quote(e.error_message) + "}")
                  .c_str()
            : "null",
        json_quote(e.batch_id).c_str(), e.attempts, static_cast<long long>(e.created_ms),
        static_cast<long long>(e.submitted_ms), static_cast<long long>(e.ended_ms));
    return;
  }
  std::fprintf(stderr, "obatch: %s %s", e.ticket, queue_state_name(e.state));
  if (e.batch_id[0]) std::fprintf(stderr, " (batch %s)", e.batch_id);
  if (e.status_code) std::fprintf(stderr, ", HTTP %d", e.status_code);
  if (e.error_message[0]) std::fprintf(stderr, ": %s", e.error_message);
  std::fprintf(stderr, "\n");
  // The answer itself on stdout, so that `obatch queue get T > answer.json` works.
  if (e.body[0]) std::printf("%s\n", e.body);
}

std::string read_body(const std::string &path) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw CliError(kExitLocalIo, "cannot read " + path);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return text;
}

int put(const QueueOptions &o) {
  Config conf(o.api);
  OpenQueue q(o, conf);
  const std::string body = read_body(o.body_path);
  const char *ticket = nullptr;
  int rc = obatch_queue_put(q.get(), o.endpoint.empty() ? nullptr : o.endpoint.c_str(),
                            body.c_str(), o.client_id.empty() ? nullptr : o.client_id.c_str(),
                            &ticket);
  if (rc != OBATCH_OK) q.fail_with(rc);
  std::printf("%s\n", ticket);
  return kExitCompleted;
}

int get(const QueueOptions &o) {
  Config conf(o.api);
  OpenQueue q(o, conf);
  obatch_queue_entry_t e = OBATCH_QUEUE_ENTRY_INIT;
  int rc = obatch_queue_get(q.get(), o.ticket.c_str(), &e);
  if (rc == OBATCH_ENOTFOUND) throw CliError(kExitBadInput, obatch_queue_last_error(q.get()));
  if (rc != OBATCH_OK) q.fail_with(rc);
  print_entry(e, o.json);
  return exit_for_state(e.state);
}

int wait(const QueueOptions &o) {
  Config conf(o.api);
  OpenQueue q(o, conf);
  InterruptWatch interrupts;
  obatch_queue_entry_t e = OBATCH_QUEUE_ENTRY_INIT;
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    int slice = 1000;
    if (o.timeout_s > 0) {
      const double left =
          o.timeout_s * 1000 - std::chrono::duration<double, std::milli>(
                                   std::chrono::steady_clock::now() - start)
                                   .count();
      slice = left < slice ? static_cast<int>(left > 0 ? left : 0) : slice;
    }
    int rc = obatch_queue_wait(q.get(), o.ticket.c_str(), slice, &e);
    if (rc == OBATCH_OK) break;
    if (rc == OBATCH_ENOTFOUND) throw CliError(kExitBadInput, obatch_queue_last_error(q.get()));
    if (rc != OBATCH_ETIMEOUT) q.fail_with(rc);
    if (interrupts.interrupts() || interrupts.terminated()) {
      std::fprintf(stderr, "obatch: %s is still %s; the queue keeps it\n", e.ticket,
                   queue_state_name(e.state));
      return kExitInterrupted;
    }
    if (o.timeout_s > 0 && slice == 0) break;
  }
  print_entry(e, o.json);
  return exit_for_state(e.state);
}

void print_stats(const obatch_queue_stats_t &s, bool json, bool step) {
  const auto ull = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  if (json) {
    std::printf(
        "{\"queued\":%llu,\"submitted\":%llu,\"completed\":%llu,\"failed\":%llu,"
        "\"expired\":%llu,\"batches_running\":%llu,\"oldest_queued_ms\":%lld,\"flushed\":%llu,"
        "\"stored\":%llu,\"requeued\":%llu,\"taken_over\":%llu,\"pruned\":%llu,\"held\":%llu}\n",
        ull(s.queued), ull(s.submitted), ull(s.completed), ull(s.failed), ull(s.expired),
        ull(s.batches_running), static_cast<long long>(s.oldest_queued_ms), ull(s.flushed),
        ull(s.stored), ull(s.requeued), ull(s.taken_over), ull(s.pruned), ull(s.held));
  } else {
    std::printf("queued %llu, submitted %llu, completed %llu, failed %llu, expired %llu; "
                "%llu batches running",
                ull(s.queued), ull(s.submitted), ull(s.completed), ull(s.failed), ull(s.expired),
                ull(s.batches_running));
    if (s.oldest_queued_ms) {
      const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
      std::printf("; the oldest queued request waits %s",
                  format_duration(now - s.oldest_queued_ms / 1000).c_str());
    }
    if (step)
      std::printf(" | this step: %llu batched, %llu stored, %llu queued again, %llu taken over",
                  ull(s.flushed), ull(s.stored), ull(s.requeued), ull(s.taken_over));
    std::printf("\n");
  }
  std::fflush(stdout);
}

int stats(const QueueOptions &o) {
  Config conf(o.api);
  OpenQueue q(o, conf);
  obatch_queue_stats_t s = OBATCH_QUEUE_STATS_INIT;
  int rc = obatch_queue_stats(q.get(), &s);
  if (rc != OBATCH_OK) q.fail_with(rc);
  print_stats(s, o.json, false);
  return kExitCompleted;
}

// Runs worker steps until SIGTERM or Ctrl-C, then ends its step and gives
// up its leases (another worker takes its batches over at once).
int worker(const QueueOptions &o) {
  Config conf(o.api);
  conf.set_queue_worker(o.worker);
  OpenQueue q(o, conf);
  InterruptWatch interrupts;
  if (!o.json)
    std::fprintf(stderr, "obatch: queue worker started (pid %d); SIGTERM or Ctrl-C stops it\n",
                 static_cast<int>(getpid()));
  for (;;) {
    obatch_queue_stats_t s = OBATCH_QUEUE_STATS_INIT;
    int rc = obatch_queue_work(q.get(), 500, &s);
    if (rc != OBATCH_OK) {
      // A store that went away for a moment: say so, try again.
      std::fprintf(stderr, "obatch: queue worker: %s\n", obatch_queue_last_error(q.get()));
      if (rc != OBATCH_EIO && rc != OBATCH_ENETWORK) q.fail_with(rc);
    } else if (s.flushed || s.stored || s.requeued || s.taken_over || s.pruned) {
      print_stats(s, o.json, true);
    }
    if (o.once || interrupts.interrupts() || interrupts.terminated()) break;
    if (rc != OBATCH_OK) sleep(1);
  }
  if (!o.json) std::fprintf(stderr, "obatch: queue worker stopped; its batches run on\n");
  return kExitCompleted;
}

}  // namespace

void add_queue_command(CLI::App &app, Commands &out) {
  auto o = std::make_shared<QueueOptions>();
  CLI::App *queue = app.add_subcommand(
      "queue", "Deferred requests: put one now, a worker batches them, read the answer later");
  queue->require_subcommand(1);
  auto store = [&](CLI::App *cmd) {
    cmd->add_option("--store", o->store,
                    "The queue: a SQLite file or a postgresql:// URI (default $OBATCH_QUEUE, else "
                    "$XDG_STATE_HOME/obatch/queue.db)");
    add_api_options(cmd, o->api);
  };

  CLI::App *p = queue->add_subcommand("put", "Store one request; print its ticket");
  p->add_option("body", o->body_path, "The request body (JSON file; -: standard input)")
      ->required();
  p->add_option("--id", o->client_id, "Your own ticket for it (unique); default: from the request");
  p->add_option("--endpoint", o->endpoint, "/v1/chat/completions, ... (default: from the body)");
  store(p);

  CLI::App *g = queue->add_subcommand(
      "get", "A request's state; its answer on stdout (exit 0 completed, 6 failed, 7 expired, "
             "10 not ended)");
  g->add_option("ticket", o->ticket, "The ticket put printed")->required();
  g->add_flag("--json", o->json, "One JSON object: state, status_code, body, error, times");
  store(g);

  CLI::App *w = queue->add_subcommand("wait", "Wait for a request to end, then as get");
  w->add_option("ticket", o->ticket, "The ticket put printed")->required();
  w->add_option("--timeout", o->timeout_s, "Give up after this many seconds (exit 10)");
  w->add_flag("--json", o->json, "As get --json");
  store(w);

  CLI::App *k = queue->add_subcommand(
      "worker", "Batch queued requests and store their answers, until SIGTERM");
  add_queue_worker_options(k, o->worker);
  k->add_flag("--once", o->once, "One step, then exit");
  k->add_flag("--json", o->json, "One JSON object per step that did something");
  store(k);

  CLI::App *s = queue->add_subcommand("stats", "Requests by state, batches running");
  s->add_flag("--json", o->json, "One JSON object");
  store(s);

  out.push_back({queue, [o, p, g, w, k] {
                   if (p->parsed()) return put(*o);
                   if (g->parsed()) return get(*o);
                   if (w->parsed()) return wait(*o);
                   if (k->parsed()) return worker(*o);
                   return stats(*o);
                 }});
}

}  // namespace obatch::cli
