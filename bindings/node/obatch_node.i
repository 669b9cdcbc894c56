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
  const char *prices_path   /* obatch_estimate_file: NULL, the built-in table */
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

/* ---- what the raw layer leaves out ---------------------------------------- */
/* The structs: copied into plain objects above, never wrapped. Only the
 * struct is ignored (%$isclass): obatch_info is also a function's name. */
%rename("$ignore", %$isclass) obatch_info;
%rename("$ignore", %$isclass) obatch_result;
%rename("$ignore", %$isclass) obatch_problem;
%rename("$ignore", %$isclass) obatch_job;
%rename("$ignore", %$isclass) obatch_tokens;
%rename("$ignore", %$isclass) obatch_estimate_row;

%include "obatch/obatch.h"
