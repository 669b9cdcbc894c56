// The deferred-request queue's C API (obatch_queue_*). A handle may be used
// by several threads: the strings a call returns live in thread-local
// storage until the same thread's next call.
#include <climits>
#include <memory>
#include <string>

#include "capi/guard.hpp"
#include "capi/handles.hpp"
#include "obatch/obatch.h"
#include "queue/queue.hpp"
#include "queue/state_names.hpp"

struct obatch_queue {
  std::unique_ptr<obatch::Queue> queue;
};

namespace {

struct ThreadStrings {
  std::string error, ticket;
  obatch::QueueEntry entry;
};
thread_local ThreadStrings t_queue;

void fill_entry(const obatch::QueueEntry &e, obatch_queue_entry_t *out) {
  out->version = OBATCH_QUEUE_ENTRY_VERSION;
  out->state = obatch::queue_state_code(e.state);
  out->ticket = e.ticket.c_str();
  out->provider = e.provider.c_str();
  out->endpoint = e.endpoint.c_str();
  out->model = e.model.c_str();
  out->status_code = e.status_code;
  out->body = e.response.c_str();
  out->error_code = e.error_code.c_str();
  out->error_message = e.error_message.c_str();
  out->batch_id = e.batch_id.c_str();
  out->attempts = e.attempts;
  out->created_ms = e.created_ms;
  out->submitted_ms = e.submitted_ms;
  out->ended_ms = e.ended_ms;
}

void fill_stats(const obatch::QueueStats &s, obatch_queue_stats_t *out) {
  out->version = OBATCH_QUEUE_STATS_VERSION;
  out->queued = s.queued;
  out->submitted = s.submitted;
  out->completed = s.completed;
  out->failed = s.failed;
  out->expired = s.expired;
  out->batches_running = s.flushes_running;
  out->oldest_queued_ms = s.oldest_queued_ms;
  out->flushed = s.flushed;
  out->stored = s.stored;
  out->requeued = s.requeued;
  out->taken_over = s.taken_over;
  out->pruned = s.pruned;
  out->held = s.held;
}

bool version_ok(unsigned version, unsigned current) { return version >= 1 && version <= current; }

int bad(const char *what) {
  t_queue.error = what;
  return OBATCH_EINVAL;
}

}  // namespace

extern "C" {

int obatch_queue_open(obatch_queue_t **out, const obatch_config_t *conf, const char *store) {
  if (!out) return bad("obatch_queue_open: out is NULL");
  *out = nullptr;
  if (!conf) return bad("obatch_queue_open: conf is NULL");
  obatch_queue_t *q = nullptr;
  int rc = obatch::guarded(&t_queue.error, [&] {
    auto h = std::make_unique<obatch_queue>();
    h->queue = std::make_unique<obatch::Queue>(conf->conf, obatch::queue_store_path(
                                                               store ? store : ""));
    q = h.release();
  });
  *out = q;
  return rc;
}

int obatch_queue_put(obatch_queue_t *q, const char *endpoint, const char *body_json,
                     const char *client_id, const char **ticket) {
  if (ticket) *ticket = "";
  if (!q || !body_json) return bad("obatch_queue_put: the queue or the body is NULL");
  if (client_id && !*client_id) return bad("obatch_queue_put: the client id is empty (NULL: none)");
  int rc = obatch::guarded(&t_queue.error, [&] {
    t_queue.ticket = q->queue->put(endpoint ? endpoint : "", body_json, client_id ? client_id : "");
  });
  if (rc == OBATCH_OK && ticket) *ticket = t_queue.ticket.c_str();
  return rc;
}

int obatch_queue_get(obatch_queue_t *q, const char *ticket, obatch_queue_entry_t *entry) {
  if (!q || !ticket || !entry) return bad("obatch_queue_get: an argument is NULL");
  if (!version_ok(entry->version, OBATCH_QUEUE_ENTRY_VERSION))
    return bad("obatch_queue_get: the entry was not made with OBATCH_QUEUE_ENTRY_INIT");
  int rc = obatch::guarded(&t_queue.error, [&] { t_queue.entry = q->queue->get(ticket); });
  if (rc == OBATCH_OK) fill_entry(t_queue.entry, entry);
  return rc;
}

int obatch_queue_wait(obatch_queue_t *q, const char *ticket, int timeout_ms,
                      obatch_queue_entry_t *entry) {
  if (!q || !ticket || !entry) return bad("obatch_queue_wait: an argument is NULL");
  if (!version_ok(entry->version, OBATCH_QUEUE_ENTRY_VERSION))
    return bad("obatch_queue_wait: the entry was not made with OBATCH_QUEUE_ENTRY_INIT");
  bool ended = false;
  int rc = obatch::guarded(&t_queue.error, [&] {
    ended = q->queue->wait(ticket, timeout_ms < 0 ? 0 : timeout_ms, &t_queue.entry);
  });
  if (rc != OBATCH_OK) return rc;
  fill_entry(t_queue.entry, entry);
  if (ended) return OBATCH_OK;
  t_queue.error = "the request " + t_queue.entry.ticket + " is still " + t_queue.entry.state;
  return OBATCH_ETIMEOUT;
}

int obatch_queue_work(obatch_queue_t *q, int timeout_ms, obatch_queue_stats_t *stats) {
  if (!q) return bad("obatch_queue_work: the queue is NULL");
  if (stats && !version_ok(stats->version, OBATCH_QUEUE_STATS_VERSION))
    return bad("obatch_queue_work: the stats were not made with OBATCH_QUEUE_STATS_INIT");
  obatch::QueueStats s;
  int rc = obatch::guarded(&t_queue.error,
                           [&] { s = q->queue->work(timeout_ms < 0 ? 0 : timeout_ms); });
  if (rc == OBATCH_OK && stats) fill_stats(s, stats);
  return rc;
}

int obatch_queue_stats(obatch_queue_t *q, obatch_queue_stats_t *stats) {
  if (!q || !stats) return bad("obatch_queue_stats: an argument is NULL");
  if (!version_ok(stats->version, OBATCH_QUEUE_STATS_VERSION))
    return bad("obatch_queue_stats: the stats were not made with OBATCH_QUEUE_STATS_INIT");
  obatch::QueueStats s;
  int rc = obatch::guarded(&t_queue.error, [&] { s = q->queue->stats(); });
  if (rc == OBATCH_OK) fill_stats(s, stats);
  return rc;
}

const char *obatch_queue_last_error(const obatch_queue_t *) { return t_queue.error.c_str(); }

void obatch_queue_close(obatch_queue_t *q) {
  if (!q) return;
  try {
    delete q;
  } catch (...) {
  }
}

}  // extern "C"
