/*
 * Go: the typemaps and shims of the raw layer (Go package "raw", generated
 * into bindings/go/raw by the build; see bindings/go/README.md).
 * Included by ../obatch.i under SWIGGO. Run as:
 *
 *   swig -go -cgo -intgosize 64 -package raw -I<include> \
 *        -outdir raw -o raw/obatch_wrap.c bindings/obatch.i
 *
 * The raw layer is deliberately plain; the package obatch (obatch.go) makes
 * it idiomatic. Rules kept here:
 * - Handles cross as uintptr (C memory, never Go memory): obatch_t *,
 *   obatch_config_t *, obatch_list_t *, obatch_check_t *, obatch_jobs_t *,
 *   obatch_estimate_t *, obatch_queue_t *, obatch_abort_t *.
 *   Each is freed by its own *_destroy only, which the Go layer calls
 *   exactly once.
 * - `T **out` parameters become *uintptr (the new handle is written there).
 * - `char *errstr, size_t errstr_size` becomes a []byte the Go layer owns;
 *   the C function writes its NUL-terminated message straight into it.
 * - Optional strings (custom_id, endpoint, after, the paths of obatch_open,
 *   obatch_estimate_file's prices_path): "" from Go is passed as NULL ("use
 *   the default").
 * - obatch_jobs_prune's `uint64_t *pruned` and obatch_count_text_tokens'
 *   `uint64_t *count` become *uint64.
 * - obatch_count_text_tokens' (text, len) is one Go string, read in place
 *   for the call (its length is Go's: a NUL inside is text, not an end).
 * - The queue (obatch_queue_t *) is a handle too. obatch_queue_put's
 *   `const char **ticket` becomes a []byte the ticket is copied into, by a
 *   shim: the ticket lives in the C thread's storage. That storage also
 *   holds the entry's strings and obatch_queue_last_error: the Go layer
 *   locks the goroutine to its thread (runtime.LockOSThread) from the call
 *   until it has copied them.
 * - The constructors (obatch_create, obatch_resume, obatch_open,
 *   obatch_retry_missing) take an errstr buffer too, through shims: their
 *   message is the C thread's last error, which only the same C call can
 *   read (a goroutine may move to another thread between two calls).
 * - The versioned structs (obatch_info_t, obatch_result_t,
 *   obatch_problem_t, obatch_job_t, obatch_tokens_t, obatch_estimate_row_t)
 *   are read-only proxies whose constructor applies the *_INIT macro (so
 *   `version` is right) and whose destructor frees them.
 * - No callbacks cross the boundary, so nothing can unwind through C++.
 *
 * Every typemap must come before the %include of the header: SWIG applies a
 * typemap only to the declarations that follow it.
 */

%include <stdint.i>

/* ---- handles as uintptr ------------------------------------------------ */

%define OBATCH_GO_HANDLE(TYPE)
%typemap(gotype) TYPE *, const TYPE * "uintptr"
%typemap(in) TYPE *, const TYPE * %{ $1 = ($1_ltype)(uintptr_t)$input; %}

%typemap(gotype) TYPE **out "*uintptr"
%typemap(in) TYPE **out (TYPE *handle_out = NULL)
%{
  handle_out = NULL;
  $1 = &handle_out;
%}
%typemap(argout) TYPE **out
%{
  if ($input) *(uintptr_t *)(void *)$input = (uintptr_t)handle_out$argnum;
%}
%enddef

OBATCH_GO_HANDLE(obatch_t)
OBATCH_GO_HANDLE(obatch_config_t)
OBATCH_GO_HANDLE(obatch_list_t)
OBATCH_GO_HANDLE(obatch_check_t)
OBATCH_GO_HANDLE(obatch_jobs_t)
OBATCH_GO_HANDLE(obatch_estimate_t)
OBATCH_GO_HANDLE(obatch_queue_t)
OBATCH_GO_HANDLE(obatch_abort_t)

/* ---- obatch_jobs_prune's count ----------------------------------------- */

%typemap(gotype) uint64_t *pruned "*uint64"
%typemap(in) uint64_t *pruned %{ $1 = (uint64_t *)$input; %}

/* ---- obatch_count_text_tokens: the text in place, the count out -------- */

%typemap(gotype) uint64_t *count "*uint64"
%typemap(in) uint64_t *count %{ $1 = (uint64_t *)$input; %}

/* The Go string's bytes for the length of the call; C reads, never keeps. */
%typemap(gotype) (const char *text, size_t len) "string"
%typemap(in) (const char *text, size_t len)
%{
  $1 = ($1_ltype)$input.p;
  $2 = (size_t)$input.n;
%}

/* obatch_add_many: the bodies in place (never NULL, so that no bytes is
 * not OBATCH_EINVAL), and the count added out. */
%typemap(gotype) (const char *bodies, size_t len) "string"
%typemap(in) (const char *bodies, size_t len)
%{
  $1 = $input.p ? ($1_ltype)$input.p : ($1_ltype)"";
  $2 = (size_t)$input.n;
%}
%typemap(gotype) size_t *added "*uint64"
%typemap(in) size_t *added %{ $1 = (size_t *)$input; %}

/* ---- the caller's error buffer as a Go []byte -------------------------- */

%typemap(gotype) (char *errstr, size_t errstr_size) "[]byte"
%typemap(in) (char *errstr, size_t errstr_size)
%{
  $1 = ($1_ltype)$input.array;
  $2 = (size_t)$input.len;
  if ($2 == 0)
    $1 = NULL;
  else
    $1[0] = '\0';
%}

/* obatch_queue_put's ticket, copied into a Go buffer the same way. */
%apply (char *errstr, size_t errstr_size) { (char *ticket_out, size_t ticket_size) };

/* ---- optional strings: "" means NULL ----------------------------------- */

%typemap(in) const char *custom_id, const char *endpoint, const char *after,
             const char *input_path, const char *output_path,
             const char *error_path, const char *prices_path,
             const char *client_id, const char *store
%{
  if ($input.n == 0) {
    $1 = NULL;
  } else {
    char *copy = (char *)malloc((size_t)$input.n + 1);
    if (copy) {
      memcpy(copy, $input.p, (size_t)$input.n);
      copy[$input.n] = '\0';
    }
    $1 = copy; /* NULL on ENOMEM: the C API then uses its default */
  }
%}
%typemap(freearg) const char *custom_id, const char *endpoint,
                  const char *after, const char *input_path,
                  const char *output_path, const char *error_path,
                  const char *prices_path, const char *client_id,
                  const char *store
%{ free((char *)$1); %}

/* ---- returned strings: one copy, straight into Go memory --------------- */

/* SWIG's default mallocs a C copy, then copies it again into Go with an
 * unsafe cast that `go vet` flags. Every string the C API returns lives until
 * the next call on its handle, so the Go side can copy it at once instead
 * (strings.Clone) while the C memory is still valid. NULL reads as "". */
%go_import("strings")
%typemap(out) char *, const char *
%{
  $result.p = (char *)$1;
  $result.n = $1 ? (intgo)strlen((const char *)$1) : 0;
%}
%typemap(goout) char *, const char * %{ $result = strings.Clone($1) %}

/* ---- versioned structs: read-only, constructed with *_INIT ------------- */

%immutable obatch_info::version;
%immutable obatch_result::version;
%immutable obatch_problem::version;
%immutable obatch_job::version;
%immutable obatch_tokens::version;
%immutable obatch_estimate_row::version;

%define OBATCH_GO_STRUCT(TAG, TYPE, INIT)
%extend TAG {
  TAG() {
    TYPE init = INIT;
    TYPE *p = (TYPE *)malloc(sizeof *p);
    if (p) *p = init;
    return p;
  }
  ~TAG() { free($self); }
}
%enddef

OBATCH_GO_STRUCT(obatch_info, obatch_info_t, OBATCH_INFO_INIT)
OBATCH_GO_STRUCT(obatch_result, obatch_result_t, OBATCH_RESULT_INIT)
OBATCH_GO_STRUCT(obatch_problem, obatch_problem_t, OBATCH_PROBLEM_INIT)
OBATCH_GO_STRUCT(obatch_job, obatch_job_t, OBATCH_JOB_INIT)
OBATCH_GO_STRUCT(obatch_tokens, obatch_tokens_t, OBATCH_TOKENS_INIT)
OBATCH_GO_STRUCT(obatch_estimate_row, obatch_estimate_row_t, OBATCH_ESTIMATE_ROW_INIT)
OBATCH_GO_STRUCT(obatch_queue_entry_t, obatch_queue_entry_t, OBATCH_QUEUE_ENTRY_INIT)
OBATCH_GO_STRUCT(obatch_queue_stats_t, obatch_queue_stats_t, OBATCH_QUEUE_STATS_INIT)

/* ---- the constructors, with their message ------------------------------ */

%{
#include <stdio.h>
#include <string.h>

static int obatch_go_failed(int rc, char *errstr, size_t errstr_size) {
  if (rc != OBATCH_OK && errstr && errstr_size)
    snprintf(errstr, errstr_size, "%s", obatch_last_error(NULL));
  return rc;
}

static int obatch_go_create(obatch_t **out, const obatch_config_t *conf, char *errstr,
                            size_t errstr_size) {
  return obatch_go_failed(obatch_create(out, conf), errstr, errstr_size);
}

static int obatch_go_resume(obatch_t **out, const obatch_config_t *conf, const char *batch_id,
                            char *errstr, size_t errstr_size) {
  return obatch_go_failed(obatch_resume(out, conf, batch_id), errstr, errstr_size);
}

static int obatch_go_open(obatch_t **out, const obatch_config_t *conf, const char *input_path,
                          const char *output_path, const char *error_path, char *errstr,
                          size_t errstr_size) {
  return obatch_go_failed(obatch_open(out, conf, input_path, output_path, error_path), errstr,
                          errstr_size);
}

static int obatch_go_retry_missing(obatch_t **out, const obatch_config_t *conf, const char *job,
                                   char *errstr, size_t errstr_size) {
  return obatch_go_failed(obatch_retry_missing(out, conf, job), errstr, errstr_size);
}

/* The ticket into the caller's buffer (a client id is at most 512 bytes). */
static int obatch_go_queue_put(obatch_queue_t *q, const char *endpoint, const char *body_json,
                               const char *client_id, char *ticket_out, size_t ticket_size) {
  const char *ticket = "";
  int rc = obatch_queue_put(q, endpoint, body_json, client_id, &ticket);
  if (rc != OBATCH_OK || !ticket_out || !ticket_size) return rc;
  if (strlen(ticket) >= ticket_size) return OBATCH_EINTERNAL; /* cannot happen: see above */
  memcpy(ticket_out, ticket, strlen(ticket) + 1);
  return rc;
}
%}
%ignore obatch_create;
%ignore obatch_resume;
%ignore obatch_open;
%ignore obatch_retry_missing;
%rename(obatch_create) obatch_go_create;
%rename(obatch_resume) obatch_go_resume;
%rename(obatch_open) obatch_go_open;
%rename(obatch_retry_missing) obatch_go_retry_missing;
%ignore obatch_queue_put;
%rename(obatch_queue_put) obatch_go_queue_put;

/* The library fills these structs; Go only reads them (no setters, so no
 * "setting a const char * may leak" either). */
%immutable;
%include "obatch/obatch.h"
%mutable;

/* Declared after the header, which defines their types. */
int obatch_go_create(obatch_t **out, const obatch_config_t *conf, char *errstr,
                     size_t errstr_size);
int obatch_go_resume(obatch_t **out, const obatch_config_t *conf, const char *batch_id,
                     char *errstr, size_t errstr_size);
int obatch_go_open(obatch_t **out, const obatch_config_t *conf, const char *input_path,
                   const char *output_path, const char *error_path, char *errstr,
                   size_t errstr_size);
int obatch_go_retry_missing(obatch_t **out, const obatch_config_t *conf, const char *job,
                            char *errstr, size_t errstr_size);
int obatch_go_queue_put(obatch_queue_t *q, const char *endpoint, const char *body_json,
                        const char *client_id, char *ticket_out, size_t ticket_size);
