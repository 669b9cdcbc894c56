#include "capi/guard.hpp"
#include "capi/handles.hpp"
#include "capi/info.hpp"
#include "engine/remote_status.hpp"
#include "engine/retry_missing.hpp"

using obatch::guarded;

namespace {

// Runs `f` on a handle, keeping the message as the handle's last error.
template <class F>
int on_batch(obatch_t *b, F &&f) {
  if (!b) return OBATCH_EINVAL;
  return guarded(&b->last_error, [&] { f(*b->batch); });
}

void fill_info(obatch_t *b, obatch_info_t *info) {
  if (info && info->version >= 1) obatch::fill_info(b->info, info);
}

bool ended(const obatch::JobSnapshot &s) {
  return s.phase == OBATCH_PHASE_DONE || s.phase == OBATCH_PHASE_FAILED;
}

}  // namespace

std::string &obatch::thread_last_error() {
  thread_local std::string message;
  return message;
}

namespace {

// Makes a handle around the Batch `make` returns.
template <class F>
int new_handle(obatch_t **out, F &&make) {
  std::string &msg = obatch::thread_last_error();
  msg.clear();
  obatch_t *b = nullptr;
  int rc = guarded(&msg, [&] {
    auto h = std::make_unique<obatch_batch>();
    h->batch = make();
    h->info = h->batch->poll(0);
    b = h.release();
  });
  *out = b;
  return rc;
}

int create_handle(obatch_t **out, const obatch_config_t *conf, const char *batch_id) {
  if (!out) return OBATCH_EINVAL;
  *out = nullptr;
  if (!conf) return OBATCH_EINVAL;
  return new_handle(out, [&] {
    return batch_id ? std::make_unique<obatch::Batch>(conf->conf, batch_id)
                    : std::make_unique<obatch::Batch>(conf->conf);
  });
}

}  // namespace

extern "C" {

int obatch_create(obatch_t **out, const obatch_config_t *conf) {
  return create_handle(out, conf, nullptr);
}

int obatch_resume(obatch_t **out, const obatch_config_t *conf, const char *batch_id) {
  if (!batch_id) return OBATCH_EINVAL;
  return create_handle(out, conf, batch_id);
}

int obatch_retry_missing(obatch_t **out, const obatch_config_t *conf, const char *job) {
  if (!out) return OBATCH_EINVAL;
  *out = nullptr;
  if (!conf || !job || !*job) return OBATCH_EINVAL;
  return new_handle(out, [&] { return obatch::batch_of_missing(conf->conf, job); });
}

int obatch_open(obatch_t **out, const obatch_config_t *conf, const char *input_path,
                const char *output_path, const char *error_path) {
  if (!out) return OBATCH_EINVAL;
  *out = nullptr;
  if (!output_path && !error_path) return OBATCH_EINVAL;
  return new_handle(out, [&] {
    obatch::ResultFiles files;
    files.input_path = input_path ? input_path : "";
    files.output_path = output_path ? output_path : "";
    files.error_path = error_path ? error_path : "";
    return std::make_unique<obatch::Batch>(conf ? conf->conf : obatch::Config(), files);
  });
}

int obatch_add(obatch_t *b, const char *body_json, const char *custom_id, const char *endpoint) {
  if (b && !body_json) {
    b->last_error = "obatch_add: body_json is NULL";
    return OBATCH_EINVAL;
  }
  return on_batch(b, [&](obatch::Batch &x) { x.add(body_json, custom_id, endpoint); });
}

int obatch_add_many(obatch_t *b, const char *bodies, size_t len, const char *endpoint,
                    size_t *added) {
  if (added) *added = 0;
  if (b && !bodies) {
    b->last_error = "obatch_add_many: bodies is NULL";
    return OBATCH_EINVAL;
  }
  return on_batch(b, [&](obatch::Batch &x) {
    const uint64_t n = x.add_many(std::string_view(bodies, len), endpoint);
    if (added) *added = static_cast<size_t>(n);
  });
}

int obatch_add_line(obatch_t *b, const char *line) {
  if (b && !line) {
    b->last_error = "obatch_add_line: line is NULL";
    return OBATCH_EINVAL;
  }
  return on_batch(b, [&](obatch::Batch &x) { x.add_line(line); });
}

int obatch_add_file(obatch_t *b, const char *path) {
  if (b && !path) {
    b->last_error = "obatch_add_file: path is NULL";
    return OBATCH_EINVAL;
  }
  return on_batch(b, [&](obatch::Batch &x) { x.add_file(path); });
}

int obatch_submit(obatch_t *b) {
  // b->info is left alone: the strings of an earlier obatch_info_t stay
  // valid until the next poll, as the header promises.
  return on_batch(b, [&](obatch::Batch &x) { x.submit(); });
}

int obatch_poll(obatch_t *b, int timeout_ms, obatch_info_t *info) {
  return on_batch(b, [&](obatch::Batch &x) {
    b->info = x.poll(timeout_ms < 0 ? 0 : timeout_ms);
    fill_info(b, info);
  });
}

int obatch_info(obatch_t *b, obatch_info_t *info) { return obatch_poll(b, 0, info); }

int obatch_part_info(obatch_t *b, uint64_t index, obatch_info_t *info) {
  return on_batch(b, [&](obatch::Batch &) {
    if (!info || info->version < 1) throw obatch::Error(OBATCH_EINVAL, "part_info: no info");
    const obatch::JobSnapshot &s = b->info;
    if (s.part_states.empty() && index == 0 && s.phase != OBATCH_PHASE_BUILDING) {
      // A job of one batch: its one part is the job.
      obatch::fill_info(s, info);
      return;
    }
    if (index >= s.part_states.size())
      throw obatch::Error(OBATCH_ENOTFOUND, "part " + std::to_string(index) + ": the job has " +
                                                std::to_string(s.part_states.size()) + " parts");
    obatch::fill_part_info(s, static_cast<size_t>(index), info);
  });
}

int obatch_wait(obatch_t *b, int timeout_ms, obatch_info_t *info) {
  if (!b) return OBATCH_EINVAL;
  int outcome = OBATCH_OK;
  int rc = on_batch(b, [&](obatch::Batch &x) {
    using clock = std::chrono::steady_clock;
    auto deadline = clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
    b->info = x.poll(0);
    if (b->info.phase == OBATCH_PHASE_BUILDING)
      throw obatch::Error(OBATCH_ESTATE, "wait: the batch was not submitted");
    // With an abort token the wait looks at it every 50 ms (the batch's own
    // condition variable is not the token's to wake).
    const auto &abort = x.config().abort();
    while (!ended(b->info)) {
      obatch::throw_if_aborted(abort, "wait");
      long slice = abort ? 50 : 1000;
      if (timeout_ms >= 0) {
        auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
        if (left <= 0) break;
        slice = std::min<long>(slice, left);
      }
      b->info = x.poll(static_cast<int>(slice));
    }
    fill_info(b, info);
    const obatch::JobSnapshot &s = b->info;
    if (!ended(s)) {
      outcome = OBATCH_ETIMEOUT;
      b->last_error = "wait: the batch has not ended yet (it goes on)";
    } else if (s.phase == OBATCH_PHASE_FAILED) {
      outcome = s.error_code ? s.error_code : OBATCH_EINTERNAL;
      b->last_error = s.error_message;
    } else if ((outcome = obatch::code_for_status(s.remote_status)) != OBATCH_OK) {
      // "expired" / "was cancelled", as before.
      std::string how = s.remote_status == "expired" ? "expired" : "was " + s.remote_status;
      if (s.parts_total > 1)
        b->last_error = s.error_message.empty()
                            ? "the job " + how + "; the finished results were downloaded"
                            : s.error_message;
      else
        b->last_error =
            "batch " + s.batch_id + " " + how + "; the finished results were downloaded";
    }
  });
  return rc != OBATCH_OK ? rc : outcome;
}

int obatch_cancel(obatch_t *b) {
  return on_batch(b, [&](obatch::Batch &x) { x.cancel(); });
}

const char *obatch_last_error(const obatch_t *b) {
  if (!b) {
    const std::string &msg = obatch::thread_last_error();
    return msg.empty() ? "NULL handle" : msg.c_str();
  }
  return b->last_error.c_str();
}

const char *obatch_input_path(const obatch_t *b) {
  if (!b) return "";
  try {
    b->batch->flush_input();  // so the caller can read what was added so far
  } catch (...) {
    // A failed flush is reported by the next add or the submit.
  }
  return b->batch->input_path().c_str();
}

void obatch_destroy(obatch_t *b) {
  if (!b) return;
  try {
    delete b;
  } catch (...) {
    // A destructor must not throw across the C boundary.
  }
}

}  // extern "C"
