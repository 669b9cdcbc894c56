/*
 * The Node (V8) part of the obatch SWIG interface; included by ../obatch.i.
 *
 * The raw layer this makes is deliberately small and never throws for a
 * library error: every wrapped function returns its int status code, and
 * out-parameters come back appended to it, as an array:
 *
 *   obatch_create(conf)          -> [rc, handle | null]
 *   obatch_config_set(c, k, v)   -> [rc, errstr]
 *   obatch_poll(b, timeout_ms)   -> [rc, info object]
 *   obatch_part_info(b, index)   -> [rc, info object]
 *   obatch_check_part(check, i)  -> [rc, info object]
 *   obatch_fetch(b)              -> [rc, result object | null]
 *   obatch_list_next(list)       -> [rc, info object]
 *   obatch_check_next(check)     -> [rc, problem object | null]
 *   obatch_retry_missing(c, job) -> [rc, handle | null, errstr]
 *   obatch_jobs_open(conf)       -> [rc, jobs handle | null, errstr]
 *   obatch_jobs_next(jobs)       -> [rc, job object | null]
 *   obatch_jobs_prune(conf)      -> [rc, pruned, errstr]
 *   obatch_count_tokens(url, body) -> [rc, tokens object | null, errstr]
 *   obatch_count_text_tokens(encoding, text) -> [rc, count] (the text's
 *                                   UTF-8 bytes, its length from JS)
 *   obatch_estimate_file(conf, path, prices | null)
 *                                -> [rc, estimate handle | null, errstr]
 *   obatch_estimate_next(e)      -> [rc, row object | null]
 *
 * The deferred-request queue, the same shapes:
 *   obatch_queue_open(conf, store | null) -> [rc, queue handle | null, errstr]
 *   obatch_queue_put(q, endpoint | null, body, client_id | null) -> [rc, ticket]
 *   obatch_queue_get(q, ticket)  -> [rc, entry object | null]
 *   obatch_queue_wait(q, ticket, timeout_ms) -> [rc, entry object | null]
 *                                   (the entry also with ETIMEOUT)
 *   obatch_queue_work(q, timeout_ms) -> [rc, stats object | null]
 *   obatch_queue_stats(q)        -> [rc, stats object | null]
 * These run on the calling (main) thread; obatch_queue_last_error(q) reads
 * the message there. Each but close also has an _async twin that runs the C
 * call on libuv's thread pool and returns a Promise of the same array with
 * the message last ([rc, out, errstr]; the message is thread-local, so it is
 * read on the pool thread right after the call), so that a wait, a worker
 * step or a put to a remote PostgreSQL never blocks the event loop:
 *   obatch_queue_open_async(conf, store | null), obatch_queue_put_async(q,
 *   endpoint | null, body, client_id | null), obatch_queue_get_async(q,
 *   ticket), obatch_queue_wait_async(q, ticket, timeout_ms),
 *   obatch_queue_work_async(q, timeout_ms), obatch_queue_stats_async(q)
 * The caller keeps the handle (and the config of open) alive until the
 * Promise settles: the JS layer (lib/queue.js) closes a queue only when no
 * call is in flight.
 *
 * The calls that may wait on the network, a file or the journal have the
 * same kind of _async twin, which the JS layer always uses, with the
 * config's abort token (obatch_abort_new/trigger/destroy,
 * obatch_config_set_abort) for an AbortSignal:
 *   obatch_list_async(conf, after | null, limit), obatch_retrieve_async(conf,
 *   id), obatch_cancel_id_async(conf, id) -> Promise [rc, list | null, errstr]
 *   obatch_check_file_async(conf, path, max) -> Promise [rc, check | null, errstr]
 *   obatch_jobs_open_async(conf) -> Promise [rc, jobs | null, errstr]
 *   obatch_jobs_prune_async(conf) -> Promise [rc, pruned, errstr]
 *   obatch_estimate_file_async(conf, path, prices | null)
 *                                -> Promise [rc, estimate | null, errstr]
 *
 * The hand-written layer (index.js) turns codes into ObatchError. Handles are
 * plain pointers that SWIG does not own: only the JS layer destroys them,
 * once (no %newobject, so no SWIG finalizer can free a handle a second time).
 * obatch_info_t / obatch_result_t / obatch_problem_t / obatch_job_t /
 * obatch_tokens_t / obatch_estimate_row_t are never exposed as SWIG structs:
 * their strings live only until the next call on the handle, so they are
 * copied into plain JS objects inside the same wrapper call.
 *
 * Typemaps apply only to declarations after them: keep them above the
 * %include of the header at the bottom.
 */

%include <stdint.i>

%{
#include <stdio.h>
#include <string.h>

/* Plain-object builders; every string is copied into a JS string now. */
static void obatch_node_set(SWIGV8_OBJECT obj, const char *key, SWIGV8_VALUE v) {
  SWIGV8_MAYBE_CHECK(obj->Set(SWIGV8_CURRENT_CONTEXT(), SWIGV8_SYMBOL_NEW(key), v));
}

static SWIGV8_VALUE obatch_node_null(void) { return SWIGV8_NULL(); }

static SWIGV8_VALUE obatch_node_str(const char *s) {
  if (!s) return SWIGV8_NULL();
  return SWIGV8_STRING_NEW2(s, (int)strlen(s));
}

static SWIGV8_VALUE obatch_node_strn(const char *s, size_t n) {
  if (!s) return SWIGV8_NULL();
  if (n > (size_t)INT32_MAX / 2) n = strlen(s); /* never trust a wild length */
  return SWIGV8_STRING_NEW2(s, (int)n);
}

static SWIGV8_VALUE obatch_node_u64(uint64_t v) {
  return SWIGV8_NUMBER_NEW((double)v); /* counts and sizes: exact below 2^53 */
}

static SWIGV8_VALUE obatch_node_i64(int64_t v) { return SWIGV8_NUMBER_NEW((double)v); }

static SWIGV8_VALUE obatch_node_info_to_js(const obatch_info_t *i) {
  SWIGV8_OBJECT o = SWIGV8_OBJECT_NEW();
  obatch_node_set(o, "phase", SWIGV8_INTEGER_NEW(i->phase));
  obatch_node_set(o, "provider", obatch_node_str(i->provider));
  obatch_node_set(o, "endpoint", obatch_node_str(i->endpoint));
  obatch_node_set(o, "batchId", obatch_node_str(i->batch_id));
  obatch_node_set(o, "remoteStatus", obatch_node_str(i->remote_status));
  obatch_node_set(o, "inputFileId", obatch_node_str(i->input_file_id));
  obatch_node_set(o, "outputPath", obatch_node_str(i->output_path));
  obatch_node_set(o, "errorPath", obatch_node_str(i->error_path));
  obatch_node_set(o, "requestsAdded", obatch_node_u64(i->requests_added));
  obatch_node_set(o, "requestsTotal", obatch_node_u64(i->requests_total));
  obatch_node_set(o, "requestsCompleted", obatch_node_u64(i->requests_completed));
  obatch_node_set(o, "requestsFailed", obatch_node_u64(i->requests_failed));
  obatch_node_set(o, "bytesTotal", obatch_node_u64(i->bytes_total));
  obatch_node_set(o, "bytesUploaded", obatch_node_u64(i->bytes_uploaded));
  obatch_node_set(o, "bytesDownloaded", obatch_node_u64(i->bytes_downloaded));
  obatch_node_set(o, "createdAt", obatch_node_i64(i->created_at));
  obatch_node_set(o, "errorCode", SWIGV8_INTEGER_NEW(i->error_code));
  obatch_node_set(o, "errorMessage", obatch_node_str(i->error_message));
  /* version 2 */
  obatch_node_set(o, "model", obatch_node_str(i->model));
  obatch_node_set(o, "outputFileId", obatch_node_str(i->output_file_id));
  obatch_node_set(o, "errorFileId", obatch_node_str(i->error_file_id));
  obatch_node_set(o, "completionWindow", obatch_node_str(i->completion_window));
  obatch_node_set(o, "inProgressAt", obatch_node_i64(i->in_progress_at));
  obatch_node_set(o, "finalizingAt", obatch_node_i64(i->finalizing_at));
  obatch_node_set(o, "completedAt", obatch_node_i64(i->completed_at));
  obatch_node_set(o, "failedAt", obatch_node_i64(i->failed_at));
  obatch_node_set(o, "expiredAt", obatch_node_i64(i->expired_at));
  obatch_node_set(o, "cancellingAt", obatch_node_i64(i->cancelling_at));
  obatch_node_set(o, "cancelledAt", obatch_node_i64(i->cancelled_at));
  obatch_node_set(o, "expiresAt", obatch_node_i64(i->expires_at));
  obatch_node_set(o, "inputTokens", obatch_node_u64(i->input_tokens));
  obatch_node_set(o, "outputTokens", obatch_node_u64(i->output_tokens));
  obatch_node_set(o, "totalTokens", obatch_node_u64(i->total_tokens));
  obatch_node_set(o, "batchJson", obatch_node_str(i->batch_json));
  /* version 3 */
  obatch_node_set(o, "jobId", obatch_node_str(i->job_id));
  obatch_node_set(o, "jobOrigin", SWIGV8_INTEGER_NEW(i->job_origin));
  obatch_node_set(o, "journalPath", obatch_node_str(i->journal_path));
  /* version 4: jobs of several batches ("parts") */
  obatch_node_set(o, "partsTotal", obatch_node_u64(i->parts_total));
  obatch_node_set(o, "partsSubmitted", obatch_node_u64(i->parts_submitted));
  obatch_node_set(o, "partsRunning", obatch_node_u64(i->parts_running));
  obatch_node_set(o, "partsEnded", obatch_node_u64(i->parts_ended));
  obatch_node_set(o, "partsFailed", obatch_node_u64(i->parts_failed));
  obatch_node_set(o, "tokensEstimated", obatch_node_u64(i->tokens_estimated));
  obatch_node_set(o, "tokensEnqueued", obatch_node_u64(i->tokens_enqueued));
  /* version 5: direct mode */
  obatch_node_set(o, "mode", obatch_node_str(i->mode));
  obatch_node_set(o, "modeReason", obatch_node_str(i->mode_reason));
  obatch_node_set(o, "requestsInFlight", obatch_node_u64(i->requests_in_flight));
  obatch_node_set(o, "requestsRetried", obatch_node_u64(i->requests_retried));
  obatch_node_set(o, "responses429", obatch_node_u64(i->responses_429));
  obatch_node_set(o, "requestsPerMinute", obatch_node_u64(i->requests_per_minute));
  obatch_node_set(o, "tokensPerMinute", obatch_node_u64(i->tokens_per_minute));
  obatch_node_set(o, "rpmLimit", obatch_node_u64(i->rpm_limit));
  obatch_node_set(o, "tpmLimit", obatch_node_u64(i->tpm_limit));
  return o;
}

static SWIGV8_VALUE obatch_node_result_to_js(const obatch_result_t *r) {
  SWIGV8_OBJECT o = SWIGV8_OBJECT_NEW();
  obatch_node_set(o, "kind", SWIGV8_INTEGER_NEW(r->kind));
  obatch_node_set(o, "index",
                  obatch_node_i64(r->index == UINT64_MAX ? -1 : (int64_t)r->index));
  obatch_node_set(o, "customId", obatch_node_str(r->custom_id));
  obatch_node_set(o, "statusCode", SWIGV8_INTEGER_NEW(r->status_code));
  obatch_node_set(o, "bodyJson", obatch_node_strn(r->body, r->body_len));
  obatch_node_set(o, "requestId", obatch_node_str(r->request_id));
  obatch_node_set(o, "errorCode", obatch_node_str(r->error_code));
  obatch_node_set(o, "errorMessage", obatch_node_str(r->error_message));
  obatch_node_set(o, "line", obatch_node_strn(r->line, r->line_len));
  return o;
}

static SWIGV8_VALUE obatch_node_job_to_js(const obatch_job_t *j) {
  SWIGV8_OBJECT o = SWIGV8_OBJECT_NEW();
  obatch_node_set(o, "id", obatch_node_str(j->id));
  obatch_node_set(o, "step", obatch_node_str(j->step));
  obatch_node_set(o, "provider", obatch_node_str(j->provider));
  obatch_node_set(o, "baseUrl", obatch_node_str(j->base_url));
  obatch_node_set(o, "endpoint", obatch_node_str(j->endpoint));
  obatch_node_set(o, "model", obatch_node_str(j->model));
  obatch_node_set(o, "sourcePath", obatch_node_str(j->source_path));
  obatch_node_set(o, "inputSha256", obatch_node_str(j->input_sha256));
  obatch_node_set(o, "inputFileId", obatch_node_str(j->input_file_id));
  obatch_node_set(o, "batchId", obatch_node_str(j->batch_id));
  obatch_node_set(o, "remoteStatus", obatch_node_str(j->remote_status));
  obatch_node_set(o, "outputFileId", obatch_node_str(j->output_file_id));
  obatch_node_set(o, "errorFileId", obatch_node_str(j->error_file_id));
  obatch_node_set(o, "outputPath", obatch_node_str(j->output_path));
  obatch_node_set(o, "errorPath", obatch_node_str(j->error_path));
  obatch_node_set(o, "errorMessage", obatch_node_str(j->error_message));
  obatch_node_set(o, "retryOf", obatch_node_str(j->retry_of));
  obatch_node_set(o, "requests", obatch_node_u64(j->requests));
  obatch_node_set(o, "inputBytes", obatch_node_u64(j->input_bytes));
  obatch_node_set(o, "createdAt", obatch_node_i64(j->created_at));
  obatch_node_set(o, "updatedAt", obatch_node_i64(j->updated_at));
  obatch_node_set(o, "running", SWIGV8_BOOLEAN_NEW(j->running != 0));
  obatch_node_set(o, "pid", obatch_node_i64(j->pid));
  /* version 2 */
  obatch_node_set(o, "parts", obatch_node_u64(j->parts));
  obatch_node_set(o, "partsJson", obatch_node_str(j->parts_json));
  return o;
}

static SWIGV8_VALUE obatch_node_tokens_to_js(const obatch_tokens_t *t) {
  SWIGV8_OBJECT o = SWIGV8_OBJECT_NEW();
  obatch_node_set(o, "encoding", obatch_node_str(t->encoding));
  obatch_node_set(o, "encodingAssumed", SWIGV8_BOOLEAN_NEW(t->encoding_assumed != 0));
  obatch_node_set(o, "promptTokens", obatch_node_u64(t->prompt_tokens));
  obatch_node_set(o, "outputTokens", obatch_node_u64(t->output_tokens));
  obatch_node_set(o, "outputAssumed", SWIGV8_BOOLEAN_NEW(t->output_assumed != 0));
  obatch_node_set(o, "images", obatch_node_u64(t->images));
  obatch_node_set(o, "imagesAssumed", SWIGV8_BOOLEAN_NEW(t->images_assumed != 0));
  obatch_node_set(o, "approximate", SWIGV8_BOOLEAN_NEW(t->approximate != 0));
  return o;
}

/* Costs are null without a price (has_cost 0): never a guessed 0. */
static SWIGV8_VALUE obatch_node_cost(int has_cost, double usd) {
  if (!has_cost) return SWIGV8_NULL();
  return SWIGV8_NUMBER_NEW(usd);
}

static SWIGV8_VALUE obatch_node_estimate_row_to_js(const obatch_estimate_row_t *r) {
  SWIGV8_OBJECT o = SWIGV8_OBJECT_NEW();
  obatch_node_set(o, "model", obatch_node_str(r->model));
  obatch_node_set(o, "encoding", obatch_node_str(r->encoding));
  obatch_node_set(o, "requests", obatch_node_u64(r->requests));
  obatch_node_set(o, "promptTokens", obatch_node_u64(r->prompt_tokens));
  obatch_node_set(o, "outputTokens", obatch_node_u64(r->output_tokens));
  obatch_node_set(o, "encodingAssumed", obatch_node_u64(r->encoding_assumed));
  obatch_node_set(o, "outputAssumed", obatch_node_u64(r->output_assumed));
  obatch_node_set(o, "images", obatch_node_u64(r->images));
  obatch_node_set(o, "imagesAssumed", obatch_node_u64(r->images_assumed));
  obatch_node_set(o, "approximate", obatch_node_u64(r->approximate));
  obatch_node_set(o, "batches", obatch_node_u64(r->batches));
  obatch_node_set(o, "hasCost", SWIGV8_BOOLEAN_NEW(r->has_cost != 0));
  obatch_node_set(o, "batchCostUsd", obatch_node_cost(r->has_cost, r->batch_cost_usd));
  obatch_node_set(o, "directCostUsd", obatch_node_cost(r->has_cost, r->direct_cost_usd));
  return o;
}

static SWIGV8_VALUE obatch_node_problem_to_js(const obatch_problem_t *p) {
  SWIGV8_OBJECT o = SWIGV8_OBJECT_NEW();
  obatch_node_set(o, "line", obatch_node_u64(p->line));
  obatch_node_set(o, "code", SWIGV8_INTEGER_NEW(p->code));
  obatch_node_set(o, "message", obatch_node_str(p->message));
  return o;
}
%}

/* ---- handles out: [rc, handle | null]; SWIG does not own them ---------- */
%define OBATCH_NODE_OUT_HANDLE(TYPE)
%typemap(in, numinputs=0) TYPE **out (TYPE *tmp = NULL) { $1 = &tmp; }
%typemap(argout) TYPE **out {
  $result = SWIG_AppendOutput($result,
                              tmp$argnum ? SWIG_NewPointerObj(tmp$argnum, $*1_descriptor, 0)
                                         : obatch_node_null());
}
%enddef
OBATCH_NODE_OUT_HANDLE(obatch_config_t)
OBATCH_NODE_OUT_HANDLE(obatch_t)
OBATCH_NODE_OUT_HANDLE(obatch_list_t)
OBATCH_NODE_OUT_HANDLE(obatch_check_t)
OBATCH_NODE_OUT_HANDLE(obatch_jobs_t)
OBATCH_NODE_OUT_HANDLE(obatch_estimate_t)
OBATCH_NODE_OUT_HANDLE(obatch_abort_t)

/* ---- the caller's error buffer: [rc, ..., errstr] ------------------------ */
%typemap(in, numinputs=0) (char *errstr, size_t errstr_size) (char buf[1024]) {
  buf[0] = '\0';
  $1 = buf;
  $2 = sizeof buf;
}
%typemap(argout) (char *errstr, size_t errstr_size) {
  buf$argnum[sizeof buf$argnum - 1] = '\0';
  $result = SWIG_AppendOutput($result, obatch_node_str(buf$argnum));
}

/* ---- structs filled by the library, copied at once: [rc, object] -------- */
%typemap(in, numinputs=0) obatch_info_t *info (obatch_info_t tmp) {
  obatch_info_t init = OBATCH_INFO_INIT;
  tmp = init;
  $1 = &tmp;
}
/* Always converted: INIT strings are "", and obatch_wait fills the info
 * also when it returns EEXPIRED / ECANCELLED / EFAILED. */
%typemap(argout) obatch_info_t *info {
  $result = SWIG_AppendOutput($result, obatch_node_info_to_js($1));
}

%typemap(in, numinputs=0) obatch_result_t *result (obatch_result_t tmp) {
  obatch_result_t init = OBATCH_RESULT_INIT;
  tmp = init;
  $1 = &tmp;
}
%typemap(argout) obatch_result_t *result {
  $result = SWIG_AppendOutput($result,
                              result == OBATCH_OK ? obatch_node_result_to_js($1) : obatch_node_null());
}

%typemap(in, numinputs=0) obatch_problem_t *problem (obatch_problem_t tmp) {
  obatch_problem_t init = OBATCH_PROBLEM_INIT;
  tmp = init;
  $1 = &tmp;
}
%typemap(argout) obatch_problem_t *problem {
  $result = SWIG_AppendOutput($result,
                              result == OBATCH_OK ? obatch_node_problem_to_js($1) : obatch_node_null());
}

%typemap(in, numinputs=0) obatch_job_t *job (obatch_job_t tmp) {
  obatch_job_t init = OBATCH_JOB_INIT;
  tmp = init;
  $1 = &tmp;
}
%typemap(argout) obatch_job_t *job {
  $result = SWIG_AppendOutput($result,
                              result == OBATCH_OK ? obatch_node_job_to_js($1) : obatch_node_null());
}

/* obatch_count_tokens: [rc, tokens | null, errstr] */
%typemap(in, numinputs=0) obatch_tokens_t *out (obatch_tokens_t tmp) {
  obatch_tokens_t init = OBATCH_TOKENS_INIT;
  tmp = init;
  $1 = &tmp;
}
%typemap(argout) obatch_tokens_t *out {
  $result = SWIG_AppendOutput($result,
                              result == OBATCH_OK ? obatch_node_tokens_to_js($1) : obatch_node_null());
}

/* obatch_estimate_next: [rc, row | null]; its strings live as long as the
 * estimate, but are copied now all the same. */
%typemap(in, numinputs=0) obatch_estimate_row_t *row (obatch_estimate_row_t tmp) {
  obatch_estimate_row_t init = OBATCH_ESTIMATE_ROW_INIT;
  tmp = init;
  $1 = &tmp;
}
%typemap(argout) obatch_estimate_row_t *row {
  $result = SWIG_AppendOutput($result,
                              result == OBATCH_OK ? obatch_node_estimate_row_to_js($1)
                                                  : obatch_node_null());
}

/* obatch_count_text_tokens' text: a JS string as its UTF-8 bytes, the
 * length from JS (so a NUL inside is counted, not an end). */
%typemap(in, fragment="SWIG_AsCharPtrAndSize") (const char *text, size_t len) (char *buf = 0, size_t size = 0, int alloc = 0) {
  if (!$input->IsString()) {
    SWIG_exception_fail(SWIG_TypeError, "in method '$symname', argument $argnum (the text) must be a string");
  }
  int res = SWIG_AsCharPtrAndSize($input, &buf, &size, &alloc);
  if (!SWIG_IsOK(res)) {
    SWIG_exception_fail(SWIG_ArgError(res), "in method '$symname', argument $argnum (the text) must be a string");
  }
  $1 = buf;
  $2 = size ? size - 1 : 0;
}
%typemap(freearg) (const char *text, size_t len) {
  if (alloc$argnum == SWIG_NEWOBJ) %delete_array(buf$argnum);
}

/* obatch_add_many's bodies: a Buffer (any ArrayBufferView: its bytes, read
 * in place) or a string (its UTF-8 bytes); never NULL, so that no bytes add
 * nothing rather than being EINVAL. */
%typemap(in, fragment="SWIG_AsCharPtrAndSize") (const char *bodies, size_t len) (char *buf = 0, size_t size = 0, int alloc = 0) {
  if ($input->IsArrayBufferView()) {
    v8::Local<v8::ArrayBufferView> view = v8::Local<v8::ArrayBufferView>::Cast($input);
    char *data = (char *)view->Buffer()->GetBackingStore()->Data();
    $1 = data ? data + view->ByteOffset() : (char *)"";
    $2 = view->ByteLength();
  } else if ($input->IsString()) {
    int res = SWIG_AsCharPtrAndSize($input, &buf, &size, &alloc);
    if (!SWIG_IsOK(res)) {
      SWIG_exception_fail(SWIG_ArgError(res), "in method '$symname', argument $argnum (the bodies) must be a Buffer or a string");
    }
    $1 = buf ? buf : (char *)"";
    $2 = size ? size - 1 : 0;
  } else {
    SWIG_exception_fail(SWIG_TypeError, "in method '$symname', argument $argnum (the bodies) must be a Buffer or a string");
  }
}
%typemap(freearg) (const char *bodies, size_t len) {
  if (alloc$argnum == SWIG_NEWOBJ) %delete_array(buf$argnum);
}

/* obatch_add_many's count: [rc, added] */
%typemap(in, numinputs=0) size_t *added (size_t tmp) {
  tmp = 0;
  $1 = &tmp;
}
%typemap(argout) size_t *added {
  $result = SWIG_AppendOutput($result, obatch_node_u64(tmp$argnum));
}

/* obatch_count_text_tokens' count: [rc, count] */
%typemap(in, numinputs=0) uint64_t *count (uint64_t tmp) {
  tmp = 0;
  $1 = &tmp;
}
%typemap(argout) uint64_t *count {
  $result = SWIG_AppendOutput($result, obatch_node_u64(tmp$argnum));
}

/* obatch_jobs_prune's count: [rc, pruned, errstr] */
%typemap(in, numinputs=0) uint64_t *pruned (uint64_t tmp) {
  tmp = 0;
  $1 = &tmp;
}
%typemap(argout) uint64_t *pruned {
  $result = SWIG_AppendOutput($result, obatch_node_u64(tmp$argnum));
}

/* ---- optional strings: null / undefined -> NULL -------------------------- */
%typemap(in, fragment="SWIG_AsCharPtrAndSize") const char *OBATCH_NULLABLE (char *buf = 0, int alloc = 0) {
  if ($input->IsNull() || $input->IsUndefined()) {
    $1 = NULL;
  } else {
    int res = SWIG_AsCharPtrAndSize($input, &buf, NULL, &alloc);
    if (!SWIG_IsOK(res)) {
      SWIG_exception_fail(SWIG_ArgError(res), "in method '$symname', argument $argnum of type '$type' (a string, null or undefined)");
    }
    $1 = buf;
  }
}
%typemap(freearg) const char *OBATCH_NULLABLE {
  if (alloc$argnum == SWIG_NEWOBJ) %delete_array(buf$argnum);
}
%apply const char *OBATCH_NULLABLE {
  const char *value,        /* obatch_config_set: NULL removes the key */
  const char *custom_id,    /* obatch_add (obatch_lookup rejects NULL itself) */
  const char *endpoint,     /* obatch_add */
  const char *after,        /* obatch_list */
  const char *input_path,   /* obatch_open */
  const char *output_path,
  const char *error_path,
  const char *prices_path,  /* obatch_estimate_file: NULL, the built-in table */
  const char *client_id,    /* obatch_queue_put: NULL, a ticket from the request */
  const char *store         /* obatch_queue_open: NULL, the default store */
};

/* ---- out-parameters first: shims that move the handle out last ----------
 * SWIG 4.1's JavaScript module does not renumber the JS arguments after a
 * numinputs=0 typemap (argument 2 is read from args[1] even when argument 1
 * takes no input), so an out-parameter can only be dropped from the end.
 * These shims take the same arguments with the out-parameter(s) moved last,
 * under a suffixed name (no clash with the real C functions), renamed back
 * to the C name in JS. */
%rename(obatch_create) obatch_node_create;
%rename(obatch_resume) obatch_node_resume;
%rename(obatch_open) obatch_node_open;
%rename(obatch_check_file) obatch_node_check_file;
%rename(obatch_list) obatch_node_list;
%rename(obatch_retrieve) obatch_node_retrieve;
%rename(obatch_cancel_id) obatch_node_cancel_id;
%rename(obatch_retry_missing) obatch_node_retry_missing;
%rename(obatch_jobs_open) obatch_node_jobs_open;
%rename(obatch_estimate_file) obatch_node_estimate_file;
%ignore obatch_create;
%ignore obatch_resume;
%ignore obatch_open;
%ignore obatch_check_file;
%ignore obatch_list;
%ignore obatch_retrieve;
%ignore obatch_cancel_id;
%ignore obatch_retry_missing;
%ignore obatch_jobs_open;
%ignore obatch_estimate_file;

%inline %{
static int obatch_node_create(const obatch_config_t *conf, obatch_t **out) {
  return obatch_create(out, conf);
}
static int obatch_node_resume(const obatch_config_t *conf, const char *batch_id, obatch_t **out) {
  return obatch_resume(out, conf, batch_id);
}
static int obatch_node_open(const obatch_config_t *conf, const char *input_path,
                            const char *output_path, const char *error_path, obatch_t **out) {
  return obatch_open(out, conf, input_path, output_path, error_path);
}
static int obatch_node_check_file(const obatch_config_t *conf, const char *path,
                                  unsigned max_problems, obatch_check_t **out, char *errstr,
                                  size_t errstr_size) {
  return obatch_check_file(out, conf, path, max_problems, errstr, errstr_size);
}
static int obatch_node_list(const obatch_config_t *conf, const char *after, unsigned limit,
                            obatch_list_t **out, char *errstr, size_t errstr_size) {
  return obatch_list(out, conf, after, limit, errstr, errstr_size);
}
static int obatch_node_retrieve(const obatch_config_t *conf, const char *batch_id,
                                obatch_list_t **out, char *errstr, size_t errstr_size) {
  return obatch_retrieve(out, conf, batch_id, errstr, errstr_size);
}
static int obatch_node_cancel_id(const obatch_config_t *conf, const char *batch_id,
                                 obatch_list_t **out, char *errstr, size_t errstr_size) {
  return obatch_cancel_id(out, conf, batch_id, errstr, errstr_size);
}
/* Its message is the thread's last error (obatch_last_error(NULL)): copied
 * here, in the same call, into the usual errstr slot. */
static int obatch_node_retry_missing(const obatch_config_t *conf, const char *job, obatch_t **out,
                                     char *errstr, size_t errstr_size) {
  int rc = obatch_retry_missing(out, conf, job);
  if (rc != OBATCH_OK) snprintf(errstr, errstr_size, "%s", obatch_last_error(NULL));
  return rc;
}
static int obatch_node_jobs_open(const obatch_config_t *conf, obatch_jobs_t **out, char *errstr,
                                 size_t errstr_size) {
  return obatch_jobs_open(out, conf, errstr, errstr_size);
}
static int obatch_node_estimate_file(const obatch_config_t *conf, const char *path,
                                     const char *prices_path, obatch_estimate_t **out,
                                     char *errstr, size_t errstr_size) {
  return obatch_estimate_file(out, conf, path, prices_path, errstr, errstr_size);
}
%}

/* ---- the deferred-request queue ------------------------------------------ */
%{
#include <string>
#include <uv.h>

/* An entry copied out of the library's thread-local strings (on the thread
 * that made the call), so that it can become a JS object later. */
struct obatch_node_entry {
  int state = 0;
  std::string ticket, provider, endpoint, model;
  int status_code = 0;
  std::string body, error_code, error_message, batch_id;
  uint32_t attempts = 0;
  int64_t created_ms = 0, submitted_ms = 0, ended_ms = 0;
};

static std::string obatch_node_copy(const char *s) { return s ? std::string(s) : std::string(); }

static void obatch_node_entry_copy(const obatch_queue_entry_t *e, obatch_node_entry *out) {
  out->state = e->state;
  out->ticket = obatch_node_copy(e->ticket);
  out->provider = obatch_node_copy(e->provider);
  out->endpoint = obatch_node_copy(e->endpoint);
  out->model = obatch_node_copy(e->model);
  out->status_code = e->status_code;
  out->body = obatch_node_copy(e->body);
  out->error_code = obatch_node_copy(e->error_code);
  out->error_message = obatch_node_copy(e->error_message);
  out->batch_id = obatch_node_copy(e->batch_id);
  out->attempts = e->attempts;
  out->created_ms = e->created_ms;
  out->submitted_ms = e->submitted_ms;
  out->ended_ms = e->ended_ms;
}

static SWIGV8_VALUE obatch_node_string(const std::string &s) {
  return obatch_node_strn(s.data(), s.size());
}

static SWIGV8_VALUE obatch_node_entry_to_js(const obatch_node_entry &e) {
  SWIGV8_OBJECT o = SWIGV8_OBJECT_NEW();
  obatch_node_set(o, "state", SWIGV8_INTEGER_NEW(e.state));
  obatch_node_set(o, "ticket", obatch_node_string(e.ticket));
  obatch_node_set(o, "provider", obatch_node_string(e.provider));
  obatch_node_set(o, "endpoint", obatch_node_string(e.endpoint));
  obatch_node_set(o, "model", obatch_node_string(e.model));
  obatch_node_set(o, "statusCode", SWIGV8_INTEGER_NEW(e.status_code));
  obatch_node_set(o, "bodyJson", obatch_node_string(e.body));
  obatch_node_set(o, "errorCode", obatch_node_string(e.error_code));
  obatch_node_set(o, "errorMessage", obatch_node_string(e.error_message));
  obatch_node_set(o, "batchId", obatch_node_string(e.batch_id));
  obatch_node_set(o, "attempts", obatch_node_u64(e.attempts));
  obatch_node_set(o, "createdMs", obatch_node_i64(e.created_ms));
  obatch_node_set(o, "submittedMs", obatch_node_i64(e.submitted_ms));
  obatch_node_set(o, "endedMs", obatch_node_i64(e.ended_ms));
  return o;
}

static SWIGV8_VALUE obatch_node_queue_stats_to_js(const obatch_queue_stats_t *s) {
  SWIGV8_OBJECT o = SWIGV8_OBJECT_NEW();
  obatch_node_set(o, "queued", obatch_node_u64(s->queued));
  obatch_node_set(o, "submitted", obatch_node_u64(s->submitted));
  obatch_node_set(o, "completed", obatch_node_u64(s->completed));
  obatch_node_set(o, "failed", obatch_node_u64(s->failed));
  obatch_node_set(o, "expired", obatch_node_u64(s->expired));
  obatch_node_set(o, "batchesRunning", obatch_node_u64(s->batches_running));
  obatch_node_set(o, "oldestQueuedMs", obatch_node_i64(s->oldest_queued_ms));
  obatch_node_set(o, "flushed", obatch_node_u64(s->flushed));
  obatch_node_set(o, "stored", obatch_node_u64(s->stored));
  obatch_node_set(o, "requeued", obatch_node_u64(s->requeued));
  obatch_node_set(o, "takenOver", obatch_node_u64(s->taken_over));
  obatch_node_set(o, "pruned", obatch_node_u64(s->pruned));
  obatch_node_set(o, "held", obatch_node_u64(s->held));
  return o;
}

/* One queue call run on libuv's thread pool, settled on the loop's thread.
 * Everything the pool thread reads is copied in first and everything it
 * produces is copied out before it returns: the library's strings are
 * thread-local, and no V8 object is touched off the loop's thread. */
enum obatch_node_job_kind {
  OBATCH_NODE_QUEUE_OPEN, OBATCH_NODE_QUEUE_PUT, OBATCH_NODE_QUEUE_GET,
  OBATCH_NODE_QUEUE_WAIT, OBATCH_NODE_QUEUE_WORK, OBATCH_NODE_QUEUE_STATS,
  /* the calls with a config and an errstr (see the _async shims below) */
  OBATCH_NODE_LIST, OBATCH_NODE_RETRIEVE, OBATCH_NODE_CANCEL_ID, OBATCH_NODE_CHECK_FILE,
  OBATCH_NODE_JOBS_OPEN, OBATCH_NODE_JOBS_PRUNE, OBATCH_NODE_ESTIMATE_FILE
};

struct obatch_node_job {
  uv_work_t req;
  obatch_node_job_kind kind;
  /* in */
  obatch_queue_t *q = nullptr;
  const obatch_config_t *conf = nullptr;
  std::string s1, s2, s3;
  bool has1 = false, has2 = false, has3 = false;
  int timeout_ms = 0;
  unsigned number = 0; /* list's limit, check_file's max_problems */
  /* out */
  int rc = OBATCH_EINTERNAL;
  obatch_queue_t *opened = nullptr;
  obatch_list_t *list = nullptr;
  obatch_check_t *check = nullptr;
  obatch_jobs_t *jobs = nullptr;
  obatch_estimate_t *estimate = nullptr;
  uint64_t pruned = 0;
  char errstr[1024] = "";
  std::string ticket, error;
  bool has_entry = false, has_stats = false;
  obatch_node_entry entry;
  obatch_queue_stats_t stats;
  /* the Promise, and the async context its settling runs in */
  v8::Isolate *isolate = nullptr;
  v8::Global<v8::Context> context;
  v8::Global<v8::Promise::Resolver> resolver;
  v8::Global<v8::Object> resource;
  node::async_context async = {0, 0};

  explicit obatch_node_job(obatch_node_job_kind k) : kind(k) {
    obatch_queue_stats_t init = OBATCH_QUEUE_STATS_INIT;
    stats = init;
    req.data = this;
  }
  void arg(int i, const char *s) {
    std::string &dst = i == 1 ? s1 : i == 2 ? s2 : s3;
    bool &has = i == 1 ? has1 : i == 2 ? has2 : has3;
    has = s != nullptr;
    if (s) dst = s;
  }
  const char *c(int i) const {
    if (i == 1) return has1 ? s1.c_str() : nullptr;
    if (i == 2) return has2 ? s2.c_str() : nullptr;
    return has3 ? s3.c_str() : nullptr;
  }
};
typedef obatch_node_job *obatch_node_promise;

static void obatch_node_job_run(uv_work_t *req) {
  obatch_node_job *j = static_cast<obatch_node_job *>(req->data);
  obatch_queue_entry_t e = OBATCH_QUEUE_ENTRY_INIT;
  switch (j->kind) {
    case OBATCH_NODE_QUEUE_OPEN:
      j->rc = obatch_queue_open(&j->opened, j->conf, j->c(1));
      break;
    case OBATCH_NODE_QUEUE_PUT: {
      const char *ticket = "";
      j->rc = obatch_queue_put(j->q, j->c(1), j->c(2), j->c(3), &ticket);
      if (j->rc == OBATCH_OK) j->ticket = obatch_node_copy(ticket);
      break;
    }
    case OBATCH_NODE_QUEUE_GET:
      j->rc = obatch_queue_get(j->q, j->c(1), &e);
      j->has_entry = j->rc == OBATCH_OK;
      break;
    case OBATCH_NODE_QUEUE_WAIT:
      j->rc = obatch_queue_wait(j->q, j->c(1), j->timeout_ms, &e);
      j->has_entry = j->rc == OBATCH_OK || j->rc == OBATCH_ETIMEOUT;
      break;
    case OBATCH_NODE_QUEUE_WORK:
      j->rc = obatch_queue_work(j->q, j->timeout_ms, &j->stats);
      j->has_stats = j->rc == OBATCH_OK;
      break;
    case OBATCH_NODE_QUEUE_STATS:
      j->rc = obatch_queue_stats(j->q, &j->stats);
      j->has_stats = j->rc == OBATCH_OK;
      break;
    case OBATCH_NODE_LIST:
      j->rc = obatch_list(&j->list, j->conf, j->c(1), j->number, j->errstr, sizeof j->errstr);
      break;
    case OBATCH_NODE_RETRIEVE:
      j->rc = obatch_retrieve(&j->list, j->conf, j->c(1), j->errstr, sizeof j->errstr);
      break;
    case OBATCH_NODE_CANCEL_ID:
      j->rc = obatch_cancel_id(&j->list, j->conf, j->c(1), j->errstr, sizeof j->errstr);
      break;
    case OBATCH_NODE_CHECK_FILE:
      j->rc = obatch_check_file(&j->check, j->conf, j->c(1), j->number, j->errstr,
                                sizeof j->errstr);
      break;
    case OBATCH_NODE_JOBS_OPEN:
      j->rc = obatch_jobs_open(&j->jobs, j->conf, j->errstr, sizeof j->errstr);
      break;
    case OBATCH_NODE_JOBS_PRUNE:
      j->rc = obatch_jobs_prune(j->conf, &j->pruned, j->errstr, sizeof j->errstr);
      break;
    case OBATCH_NODE_ESTIMATE_FILE:
      j->rc = obatch_estimate_file(&j->estimate, j->conf, j->c(1), j->c(2), j->errstr,
                                   sizeof j->errstr);
      break;
  }
  if (j->has_entry) obatch_node_entry_copy(&e, &j->entry);
  if (j->kind >= OBATCH_NODE_LIST)
    j->error = j->errstr;
  else if (j->rc != OBATCH_OK)
    j->error = obatch_node_copy(obatch_queue_last_error(j->opened ? j->opened : j->q));
}

/* [rc, out, errstr] of a finished job. */
static SWIGV8_VALUE obatch_node_job_result(obatch_node_job *j) {
  SWIGV8_ARRAY a = SWIGV8_ARRAY_NEW(3);
  SWIGV8_VALUE out = obatch_node_null();
  switch (j->kind) {
    case OBATCH_NODE_QUEUE_OPEN:
      if (j->opened) out = SWIG_NewPointerObj(j->opened, SWIGTYPE_p_obatch_queue, 0);
      break;
    case OBATCH_NODE_QUEUE_PUT:
      if (j->rc == OBATCH_OK) out = obatch_node_string(j->ticket);
      break;
    case OBATCH_NODE_QUEUE_GET:
    case OBATCH_NODE_QUEUE_WAIT:
      if (j->has_entry) out = obatch_node_entry_to_js(j->entry);
      break;
    case OBATCH_NODE_QUEUE_WORK:
    case OBATCH_NODE_QUEUE_STATS:
      if (j->has_stats) out = obatch_node_queue_stats_to_js(&j->stats);
      break;
    case OBATCH_NODE_LIST:
    case OBATCH_NODE_RETRIEVE:
    case OBATCH_NODE_CANCEL_ID:
      if (j->list) out = SWIG_NewPointerObj(j->list, SWIGTYPE_p_obatch_batch_list, 0);
      break;
    case OBATCH_NODE_CHECK_FILE:
      if (j->check) out = SWIG_NewPointerObj(j->check, SWIGTYPE_p_obatch_check, 0);
      break;
    case OBATCH_NODE_JOBS_OPEN:
      if (j->jobs) out = SWIG_NewPointerObj(j->jobs, SWIGTYPE_p_obatch_jobs, 0);
      break;
    case OBATCH_NODE_JOBS_PRUNE:
      out = obatch_node_u64(j->pruned);
      break;
    case OBATCH_NODE_ESTIMATE_FILE:
      if (j->estimate) out = SWIG_NewPointerObj(j->estimate, SWIGTYPE_p_obatch_estimate, 0);
      break;
  }
  SWIGV8_ARRAY_SET(a, 0, SWIGV8_INTEGER_NEW(j->rc));
  SWIGV8_ARRAY_SET(a, 1, out);
  SWIGV8_ARRAY_SET(a, 2, obatch_node_string(j->error));
  return a;
}

/* On the loop's thread: settle the Promise inside a callback scope, so that
 * the reactions to it (the awaiting code) run now, as after any callback. */
static void obatch_node_job_done(uv_work_t *req, int status) {
  obatch_node_job *j = static_cast<obatch_node_job *>(req->data);
  v8::Isolate *isolate = j->isolate;
  {
    v8::HandleScope handles(isolate);
    v8::Local<v8::Context> context = j->context.Get(isolate);
    v8::Context::Scope in_context(context);
    if (status != 0) { /* UV_ECANCELED: never ran */
      j->rc = OBATCH_EINTERNAL;
      j->error = std::string("the call was not run: ") + uv_strerror(status);
    }
    node::CallbackScope callback(isolate, j->resource.Get(isolate), j->async);
    v8::Local<v8::Promise::Resolver> resolver = j->resolver.Get(isolate);
    (void)resolver->Resolve(context, obatch_node_job_result(j)).IsJust();
  }
  node::EmitAsyncDestroy(isolate, j->async);
  delete j; /* an opened or returned handle now belongs to the JS layer */
}

/* Queues the job and returns its Promise. */
static SWIGV8_VALUE obatch_node_job_start(obatch_node_job *j) {
  v8::Isolate *isolate = v8::Isolate::GetCurrent();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::Promise::Resolver> resolver = v8::Promise::Resolver::New(context).ToLocalChecked();
  v8::Local<v8::Object> resource = SWIGV8_OBJECT_NEW();
  j->isolate = isolate;
  j->context.Reset(isolate, context);
  j->resolver.Reset(isolate, resolver);
  j->resource.Reset(isolate, resource);
  j->async = node::EmitAsyncInit(isolate, resource, "obatch:call");
  int rc = uv_queue_work(node::GetCurrentEventLoop(isolate), &j->req, obatch_node_job_run,
                         obatch_node_job_done);
  if (rc != 0) {
    j->rc = OBATCH_EINTERNAL;
    j->error = std::string("cannot queue the call on libuv's thread pool: ") + uv_strerror(rc);
    (void)resolver->Resolve(context, obatch_node_job_result(j)).IsJust();
    node::EmitAsyncDestroy(isolate, j->async);
    delete j;
  }
  return resolver->GetPromise();
}
%}

/* The async shims return a job, which the out typemap starts: a Promise.
 * (The typedef is for SWIG, which has not seen the %{ %} block above.) */
typedef struct obatch_node_job *obatch_node_promise;
%typemap(out) obatch_node_promise %{ $result = obatch_node_job_start($1); %}

/* The sync calls: [rc, ticket], [rc, entry | null], [rc, stats | null]. */
%typemap(in, numinputs=0) const char **ticket (const char *tmp = "") { $1 = ($1_ltype)&tmp; }
%typemap(argout) const char **ticket {
  $result = SWIG_AppendOutput($result, result == OBATCH_OK ? obatch_node_str(tmp$argnum)
                                                           : obatch_node_null());
}
%typemap(in, numinputs=0) obatch_queue_entry_t *entry (obatch_queue_entry_t tmp) {
  obatch_queue_entry_t init = OBATCH_QUEUE_ENTRY_INIT;
  tmp = init;
  $1 = &tmp;
}
/* obatch_queue_wait fills the entry also when it returns ETIMEOUT. */
%typemap(argout) obatch_queue_entry_t *entry {
  if (result == OBATCH_OK || result == OBATCH_ETIMEOUT) {
    obatch_node_entry copy;
    obatch_node_entry_copy($1, &copy);
    $result = SWIG_AppendOutput($result, obatch_node_entry_to_js(copy));
  } else {
    $result = SWIG_AppendOutput($result, obatch_node_null());
  }
}
%typemap(in, numinputs=0) obatch_queue_stats_t *stats (obatch_queue_stats_t tmp) {
  obatch_queue_stats_t init = OBATCH_QUEUE_STATS_INIT;
  tmp = init;
  $1 = &tmp;
}
%typemap(argout) obatch_queue_stats_t *stats {
  $result = SWIG_AppendOutput($result, result == OBATCH_OK ? obatch_node_queue_stats_to_js($1)
                                                           : obatch_node_null());
}

%rename(obatch_queue_open) obatch_node_queue_open;
%ignore obatch_queue_open;

%inline %{
/* Its message is the thread's (obatch_queue_last_error(NULL)): copied here. */
static int obatch_node_queue_open(const obatch_config_t *conf, const char *store,
                                  obatch_queue_t **out, char *errstr, size_t errstr_size) {
  int rc = obatch_queue_open(out, conf, store);
  if (rc != OBATCH_OK) snprintf(errstr, errstr_size, "%s", obatch_queue_last_error(NULL));
  return rc;
}

static obatch_node_promise obatch_queue_open_async(const obatch_config_t *conf, const char *store) {
  obatch_node_job *j = new obatch_node_job(OBATCH_NODE_QUEUE_OPEN);
  j->conf = conf;
  j->arg(1, store);
  return j;
}
static obatch_node_promise obatch_queue_put_async(obatch_queue_t *q, const char *endpoint,
                                                  const char *body_json, const char *client_id) {
  obatch_node_job *j = new obatch_node_job(OBATCH_NODE_QUEUE_PUT);
  j->q = q;
  j->arg(1, endpoint);
  j->arg(2, body_json);
  j->arg(3, client_id);
  return j;
}
static obatch_node_promise obatch_queue_get_async(obatch_queue_t *q, const char *ticket) {
  obatch_node_job *j = new obatch_node_job(OBATCH_NODE_QUEUE_GET);
  j->q = q;
  j->arg(1, ticket);
  return j;
}
static obatch_node_promise obatch_queue_wait_async(obatch_queue_t *q, const char *ticket,
                                                   int timeout_ms) {
  obatch_node_job *j = new obatch_node_job(OBATCH_NODE_QUEUE_WAIT);
  j->q = q;
  j->arg(1, ticket);
  j->timeout_ms = timeout_ms;
  return j;
}
static obatch_node_promise obatch_queue_work_async(obatch_queue_t *q, int timeout_ms) {
  obatch_node_job *j = new obatch_node_job(OBATCH_NODE_QUEUE_WORK);
  j->q = q;
  j->timeout_ms = timeout_ms;
  return j;
}
static obatch_node_promise obatch_queue_stats_async(obatch_queue_t *q) {
  obatch_node_job *j = new obatch_node_job(OBATCH_NODE_QUEUE_STATS);
  j->q = q;
  return j;
}

/* The calls that ask the provider or read a file or the journal, off the
 * main thread: a Promise of [rc, handle | count | null, errstr]. The config
 * (and the abort token attached to it, which the JS layer may trigger from
 * the main thread while the call runs) lives until the Promise settles. */
static obatch_node_promise obatch_node_conf_job(obatch_node_job_kind kind,
                                                const obatch_config_t *conf, const char *arg,
                                                unsigned number) {
  obatch_node_job *j = new obatch_node_job(kind);
  j->conf = conf;
  j->arg(1, arg);
  j->number = number;
  return j;
}
static obatch_node_promise obatch_list_async(const obatch_config_t *conf, const char *after,
                                             unsigned limit) {
  return obatch_node_conf_job(OBATCH_NODE_LIST, conf, after, limit);
}
static obatch_node_promise obatch_retrieve_async(const obatch_config_t *conf,
                                                 const char *batch_id) {
  return obatch_node_conf_job(OBATCH_NODE_RETRIEVE, conf, batch_id, 0);
}
static obatch_node_promise obatch_cancel_id_async(const obatch_config_t *conf,
                                                  const char *batch_id) {
  return obatch_node_conf_job(OBATCH_NODE_CANCEL_ID, conf, batch_id, 0);
}
static obatch_node_promise obatch_check_file_async(const obatch_config_t *conf, const char *path,
                                                   unsigned max_problems) {
  return obatch_node_conf_job(OBATCH_NODE_CHECK_FILE, conf, path, max_problems);
}
static obatch_node_promise obatch_jobs_open_async(const obatch_config_t *conf) {
  return obatch_node_conf_job(OBATCH_NODE_JOBS_OPEN, conf, nullptr, 0);
}
static obatch_node_promise obatch_jobs_prune_async(const obatch_config_t *conf) {
  return obatch_node_conf_job(OBATCH_NODE_JOBS_PRUNE, conf, nullptr, 0);
}
static obatch_node_promise obatch_estimate_file_async(const obatch_config_t *conf,
                                                      const char *path, const char *prices_path) {
  obatch_node_job *j = obatch_node_conf_job(OBATCH_NODE_ESTIMATE_FILE, conf, path, 0);
  j->arg(2, prices_path);
  return j;
}
%}

/* ---- what the raw layer leaves out ---------------------------------------- */
/* The structs: copied into plain objects above, never wrapped. Only the
 * struct is ignored (%$isclass): obatch_info is also a function's name. */
%rename("$ignore", %$isclass) obatch_info;
%rename("$ignore", %$isclass) obatch_result;
%rename("$ignore", %$isclass) obatch_problem;
%rename("$ignore", %$isclass) obatch_job;
%rename("$ignore", %$isclass) obatch_tokens;
%rename("$ignore", %$isclass) obatch_estimate_row;
%rename("$ignore", %$isclass) obatch_queue_entry_t;
%rename("$ignore", %$isclass) obatch_queue_stats_t;

%include "obatch/obatch.h"
