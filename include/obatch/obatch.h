/*
 * obatch — the OpenAI-style Batch API as one call.
 *
 * The stable C ABI of libobatch. Build a batch of requests, submit it (the
 * upload and the batch creation run on the library's own I/O thread), poll or
 * wait until it ends, then fetch every result in input order.
 *
 *     obatch_config_t *conf;
 *     obatch_t *b;
 *     obatch_config_new(&conf);
 *     obatch_config_set(conf, "provider", "openai", NULL, 0);
 *     obatch_create(&b, conf);
 *     obatch_config_destroy(conf);
 *     obatch_add(b, "{\"model\":\"gpt-4o-mini\",\"messages\":[...]}", NULL, NULL);
 *     obatch_submit(b);
 *     obatch_wait(b, -1, NULL);
 *     obatch_result_t r = OBATCH_RESULT_INIT;
 *     while (obatch_fetch(b, &r) == OBATCH_OK) { ... r.custom_id, r.body ... }
 *     obatch_destroy(b);
 *
 * Conventions (the same for every function):
 * - Every function that can fail returns an int: OBATCH_OK (0), a positive
 *   informational code (OBATCH_END), or a negative obatch_code. Numbers are
 *   never reused. obatch_strerror() names a code; obatch_last_error() says
 *   what exactly went wrong on a handle.
 * - Out-parameters come first.
 * - Every string passed in is copied; the caller keeps ownership.
 * - Every pointer handed out states how long it lives. The library never
 *   asks the caller to free anything it returns, except handles, which are
 *   freed by their own *_destroy function. Destroy functions accept NULL.
 * - No varargs, unions or bitfields: every binding generator can wrap this.
 * - Structs that may grow start with `unsigned version`; initialise them
 *   with the matching *_INIT macro.
 */
#ifndef OBATCH_OBATCH_H
#define OBATCH_OBATCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define OBATCH_API
#elif defined(__GNUC__)
#define OBATCH_API __attribute__((visibility("default")))
#else
#define OBATCH_API
#endif

/* ---- version ------------------------------------------------------------ */

#define OBATCH_VERSION_MAJOR 0
#define OBATCH_VERSION_MINOR 1
#define OBATCH_VERSION_PATCH 0
#define OBATCH_VERSION_NUMBER                                                  \
  (OBATCH_VERSION_MAJOR * 10000 + OBATCH_VERSION_MINOR * 100 +                 \
   OBATCH_VERSION_PATCH)
#define OBATCH_VERSION_STRING "0.1.0"

/* The version of the library loaded at run time (compare with the macros). */
OBATCH_API unsigned obatch_version_number(void);
/* Static string, lives forever. */
OBATCH_API const char *obatch_version(void);

/* ---- status codes ------------------------------------------------------- */

typedef enum obatch_code {
  OBATCH_OK = 0,
  OBATCH_END = 1, /* no more items (obatch_fetch, obatch_list_next) */

  OBATCH_EINVAL = -1,     /* a bad argument: NULL handle, NULL out-pointer */
  OBATCH_ENOMEM = -2,     /* out of memory */
  OBATCH_ECONFIG = -3,    /* unknown configuration key or bad value */
  OBATCH_EJSON = -4,      /* text that is not valid JSON */
  OBATCH_EREQUEST = -5,   /* a request that the provider would reject */
  OBATCH_EDUPLICATE = -6, /* a custom_id that the batch already has */
  OBATCH_ELIMIT = -7,     /* over a provider limit (requests, bytes) */
  OBATCH_EMODEL = -8,     /* a second model where only one is allowed */
  OBATCH_ESTATE = -9,     /* not allowed in the batch's current phase */
  OBATCH_EIO = -10,       /* a local file could not be read or written */
  OBATCH_EPROVIDER = -11, /* unknown provider, or none claims the model */
  OBATCH_EAUTH = -12,     /* missing API key, or the server refused it */
  OBATCH_ENETWORK = -13,  /* connection or timeout, retries exhausted */
  OBATCH_EHTTP = -14,     /* the API answered with an error */
  OBATCH_EPROTOCOL = -15, /* the API answered something unexpected */
  OBATCH_EINSECURE = -16, /* plain http:// to a host that is not loopback */
  OBATCH_ETIMEOUT = -17,  /* obatch_wait ran out of time; the batch goes on */
  OBATCH_ENOTFOUND = -18, /* no such custom_id / batch */
  OBATCH_EFAILED = -19,   /* the batch ended "failed" (validation) */
  OBATCH_EEXPIRED = -20,  /* the batch ended "expired"; partial results */
  OBATCH_ECANCELLED = -21, /* the batch ended "cancelled"; partial results */
  OBATCH_EINTERNAL = -22,  /* a bug in obatch; please report it */
  OBATCH_EABORTED = -23    /* the call was ended by obatch_abort_trigger */
} obatch_code;

/* Static string naming `code` ("invalid argument", ...); never NULL. */
OBATCH_API const char *obatch_strerror(int code);

/* ---- configuration ------------------------------------------------------ */

/*
 * A set of string key/value settings. Thread safety: one thread at a time.
 *
 * Keys (values are strings; times in milliseconds):
 *   provider            "openai", "parasail", "anthropic", "azure",
 *                       "azure-v1", "groq", "deepinfra", a name registered or
 *                       declared in a providers file, or "" (auto:
 *                       chosen from the first request's model)
 *   base_url            API base, e.g. "https://api.openai.com/v1". Default:
 *                       the provider's *_BASE_URL variable, else its default.
 *                       http:// is accepted only for loopback hosts.
 *   ca_file             a PEM file of CA certificates to trust for the
 *                       server's TLS certificate (a private or corporate
 *                       CA), used in place of libcurl's default CA bundle;
 *                       must be readable when set. TLS certificates and
 *                       host names are always verified: no key, variable or
 *                       option turns that off.
 *   api_key             the key; default: the provider's own variable
 *                       (OPENAI_API_KEY, PARASAIL_API_KEY, ANTHROPIC_API_KEY,
 *                       ...). Never logged.
 *                       Needs `provider`: a key is not sent to a provider
 *                       chosen by model.
 *   endpoint            the batch endpoint, e.g. "/v1/embeddings"; default:
 *                       inferred from the requests
 *   completion_window   default "24h"; hours or days ("48h", "7d") where the
 *                       provider takes them (groq: 24h to 7d), checked at
 *                       submit
 *   metadata.KEY        a metadata pair sent with the batch (<= 16 pairs,
 *                       keys <= 64 chars, values <= 512 chars)
 *   work_dir            where the input and result files are kept; default: a
 *                       new private directory under $TMPDIR (or /tmp)
 *   results_dir         where result files go by default (created if
 *                       missing); default: work_dir
 *   output_path         where the output file goes; default
 *                       <results_dir>/<batch_id>-output.jsonl
 *   error_path          where the error file goes; default
 *                       <results_dir>/<batch_id>-errors.jsonl
 *   custom_id_prefix    prefix of generated custom_ids; default "request"
 *                       ("request-1", "request-2", ...)
 *   poll_interval_ms    first and shortest wait between status checks (1000)
 *   poll_max_interval_ms longest wait between status checks (60000); the wait
 *                       grows with the batch's age, about a tenth of it
 *   max_retries         retries of one HTTP call (5)
 *   connect_timeout_ms  (5000)
 *   request_timeout_ms  whole-call timeout of a small call (60000); uploads
 *                       and downloads only time out when no byte moves for it
 *   max_requests        lower the provider's request limit per batch (never
 *                       raises it): with split "auto", parts of at most this
 *                       many requests
 *   max_bytes           lower the provider's input size limit per batch
 *                       (never raises it)
 *   split               "auto" (default): an input over the provider's limits
 *                       per batch (requests, bytes, embedding inputs, one
 *                       model) runs as a job of several batches ("parts"),
 *                       with one result set in input order; "off": one
 *                       batch, and an input over a limit is refused
 *   max_enqueued_tokens the provider's queue of enqueued prompt tokens per
 *                       model (estimated: 4 bytes a token): parts of one
 *                       model run together only while their sum fits; unset:
 *                       learned from a batch that fails with
 *                       token_limit_exceeded (which is created again later)
 *   max_running_batches at most this many parts run at once (0: no cap)
 *   translate           "on": with anthropic, /v1/chat/completions requests
 *                       are sent as Messages requests (system, roles,
 *                       max_tokens, stop, temperature, top_p, function
 *                       tools); one that cannot be is refused at add with
 *                       the reason. "off" (default)
 *   state               the job journal (see "the job journal" below);
 *                       "off": none
 *   force_new           "1": submit as a new job even when the journal has
 *                       one for the same input (default "0": resume it)
 *
 * How the requests are sent (direct mode: each as a normal request, full
 * price, results in minutes, to any OpenAI-compatible server, also one
 * without a Batch API; the output and error files have the batch format):
 *   mode                "batch" (default), "direct", or "auto": direct when
 *                       the job has fewer than direct_below requests or the
 *                       deadline is shorter than the completion window
 *                       (obatch_info_t.mode_reason says which and why)
 *   direct_below        (100)
 *   deadline            a duration ("2h", "90m", "1h30m") the results are
 *                       needed within, for mode "auto"
 *   concurrency         requests in flight at once, 1-4096 (64)
 *   rpm, tpm            requests and tokens per minute to keep under (also
 *                       paced over each second); the server's
 *                       x-ratelimit-* headers lower them, and a 429 pauses
 *                       all sending for its retry-after
 *   In direct mode request_timeout_ms is per request (default 600000), 408,
 *   409, 429, 5xx and lost connections are retried (max_retries; 429s up
 *   to 30 times), and any other answer is the request's result. 401 (a
 *   refused key) or a request left without an answer after its retries
 *   stops the job: the results so far are kept in "<output_path>.partial"
 *   and "<error_path>.partial", and the same job submitted again (with the
 *   journal on) sends only the requests without a result. output_path and
 *   error_path default to <results_dir>/<job_id>-output.jsonl and
 *   -errors.jsonl.
 */
typedef struct obatch_config obatch_config_t;

OBATCH_API int obatch_config_new(obatch_config_t **out);
/* Copies key and value. On failure writes a message into errstr (if not
 * NULL) and returns OBATCH_ECONFIG. A NULL value removes the key. */
OBATCH_API int obatch_config_set(obatch_config_t *conf, const char *key,
                                 const char *value, char *errstr,
                                 size_t errstr_size);
/* The value of `key`, or NULL. Lives until the key is set again or the
 * config is destroyed. The api_key is never returned (reads as NULL). */
OBATCH_API const char *obatch_config_get(const obatch_config_t *conf,
                                         const char *key);
OBATCH_API void obatch_config_destroy(obatch_config_t *conf);

/* ---- ending a call from another thread ------------------------------------
 *
 * Every call that may wait on the network or on time can be ended from
 * another thread by an abort token attached to the config it runs with:
 *   obatch_list, obatch_retrieve, obatch_cancel_id (a transfer in flight is
 *   cut, a back-off between retries ends), obatch_check_file (looked at
 *   every 64 lines), and obatch_wait on a handle made from that config
 *   (the batch itself goes on: obatch_cancel stops it).
 * Such a call returns OBATCH_EABORTED within 100 ms of
 * obatch_abort_trigger, and so does every later one until
 * obatch_abort_reset. A create that was cut may or may not have reached the
 * provider: a cut obatch_cancel_id is safe to repeat.
 *
 * This is how the bindings honour an AbortSignal (Node), a context (Go), and
 * Timeout, Ctrl-C and Thread#kill (Ruby): one token per call, triggered from
 * the thread that wants the call to end.
 */
typedef struct obatch_abort obatch_abort_t;

OBATCH_API int obatch_abort_new(obatch_abort_t **out);
/* Thread-safe, from any thread but a signal handler (it takes a mutex). */
OBATCH_API void obatch_abort_trigger(obatch_abort_t *abort);
/* 1 once triggered (until reset), else 0. */
OBATCH_API int obatch_abort_triggered(const obatch_abort_t *abort);
OBATCH_API void obatch_abort_reset(obatch_abort_t *abort);
/* The token lives on while a config or handle that holds it does. */
OBATCH_API void obatch_abort_destroy(obatch_abort_t *abort);
/* Attaches `abort` (NULL: detaches) to `conf`: the calls made with `conf`,
 * and the handles created from it, honour it. The config holds its own
 * reference. */
OBATCH_API int obatch_config_set_abort(obatch_config_t *conf,
                                       obatch_abort_t *abort);

/* ---- the batch handle --------------------------------------------------- */

/*
 * One batch. Thread safety: a handle may be used from one thread at a time
 * (calls on different handles are independent). The library's own I/O
 * thread never touches the caller's memory.
 */
typedef struct obatch_batch obatch_t;

typedef enum obatch_phase {
  OBATCH_PHASE_BUILDING = 0,    /* accepting obatch_add */
  OBATCH_PHASE_UPLOADING = 1,   /* sending the input file */
  OBATCH_PHASE_CREATING = 2,    /* creating the remote batch */
  OBATCH_PHASE_WAITING = 3,     /* the provider is running the batch */
  OBATCH_PHASE_DOWNLOADING = 4, /* fetching the output and error files */
  OBATCH_PHASE_DONE = 5,        /* results can be fetched */
  OBATCH_PHASE_FAILED = 6       /* stopped; see error_code / error_message */
} obatch_phase;

#define OBATCH_INFO_VERSION 5

/*
 * A snapshot of a batch. Every string is never NULL ("" when unknown) and
 * lives until the next obatch_poll / obatch_wait / obatch_info on the same
 * handle, or its destruction.
 *
 * Set `version` (OBATCH_INFO_INIT does): the library fills only the fields
 * that version has, so a program built against version 1 keeps working.
 */
typedef struct obatch_info {
  unsigned version; /* OBATCH_INFO_VERSION */
  int phase;        /* obatch_phase */
  const char *provider;
  const char *endpoint;
  const char *batch_id;
  const char *remote_status; /* "validating" ... "cancelled", or "" */
  const char *input_file_id;
  const char *output_path; /* final result files; "" until downloaded */
  const char *error_path;  /* "" when the batch had no error file */
  uint64_t requests_added; /* requests in the local input */
  uint64_t requests_total; /* as reported by the provider */
  uint64_t requests_completed;
  uint64_t requests_failed;
  uint64_t bytes_total;    /* size of the input file */
  uint64_t bytes_uploaded;
  uint64_t bytes_downloaded;
  int64_t created_at; /* unix seconds, 0 when unknown */
  int error_code;     /* obatch_code of the failure, 0 when none */
  const char *error_message;
  /* ---- version 2 ---- */
  const char *model;          /* the model, or the models joined by ","
                                 (providers that allow mixing; the first 8,
                                 then ",...") */
  const char *output_file_id; /* at the provider; "" when none */
  const char *error_file_id;
  const char *completion_window; /* "24h" */
  int64_t in_progress_at;     /* unix seconds of each step, 0 when not (yet) */
  int64_t finalizing_at;
  int64_t completed_at;
  int64_t failed_at;
  int64_t expired_at;
  int64_t cancelling_at;
  int64_t cancelled_at;
  int64_t expires_at;         /* when the provider gives up on the batch */
  uint64_t input_tokens;      /* usage reported by the provider; 0: none */
  uint64_t output_tokens;
  uint64_t total_tokens;
  const char *batch_json;     /* the provider's batch object as JSON text
                                 (metadata, errors, ...), "" when none */
  /* ---- version 3 ---- */
  const char *job_id;       /* the job in the journal (24 hex, also the
                               batch's "obatch_job" metadata); "" when none */
  int job_origin;           /* obatch_job_origin */
  const char *journal_path; /* the journal holding the job; "" when off */
  /* ---- version 4: jobs of several batches ----
   * An input over the provider's limits per batch runs as several batches
   * ("parts", config split). Then batch_id, input_file_id, output_file_id,
   * error_file_id and batch_json are "" (see obatch_part_info), the request
   * counts and tokens are summed over the parts, remote_status is the
   * job's ("in_progress" while parts run; at the end "completed" when every
   * part completed, else "failed", "cancelled" or "expired" after the
   * worst part), and output_path / error_path are the job's merged files,
   * in input order. A job of one batch reports parts_total 1. */
  uint64_t parts_total;
  uint64_t parts_submitted; /* parts whose batch was created */
  uint64_t parts_running;   /* being run: uploaded, created, waited for or
                               downloaded (the rest are to come, ended or
                               failed) */
  uint64_t parts_ended;     /* ended with results (completed, expired,
                               cancelled) */
  uint64_t parts_failed;    /* whose batch failed (no results) */
  uint64_t tokens_estimated; /* prompt tokens of the whole input, estimated
                                (4 bytes a token) */
  uint64_t tokens_enqueued;  /* the estimate over the parts whose batches
                                run at the provider */
  /* ---- version 5: direct mode (config mode) ----
   * A job in direct mode sends each request as a normal request (full price,
   * results in minutes): phase WAITING while they are sent, remote_status
   * "in_progress" then "completed", batch_id and the file ids "", and the
   * request counts are the results written so far (requests_completed: 2xx
   * answers, requests_failed: the error file's lines), input_tokens /
   * output_tokens / total_tokens the sum of the 2xx answers' "usage", and
   * the job is one part (parts_submitted 1 once requests are sent). */
  const char *mode;        /* "batch" or "direct" */
  const char *mode_reason; /* why (config mode, or what "auto" weighed) */
  uint64_t requests_in_flight;
  uint64_t requests_retried;    /* sends again after a 408, 409, 429, 5xx or
                                   no answer */
  uint64_t responses_429;       /* "too many requests" answers seen */
  uint64_t requests_per_minute; /* sent in the last minute */
  uint64_t tokens_per_minute;   /* their prompt tokens (estimated) */
  uint64_t rpm_limit;           /* the limits followed: the lower of config */
  uint64_t tpm_limit;           /* rpm / tpm and the server's; 0: none */
} obatch_info_t;

/* How a submitted batch came to its job (obatch_info_t.job_origin). */
typedef enum obatch_job_origin {
  OBATCH_JOB_NONE = 0,     /* no journal (state "off"), or not submitted */
  OBATCH_JOB_NEW = 1,      /* a new job: this handle uploads and creates */
  OBATCH_JOB_RESUMED = 2,  /* the same input was submitted before and its
                              job had not ended: it goes on from its last
                              step (no second upload, no second batch) */
  OBATCH_JOB_FOLLOWING = 3, /* another live process runs the same job: this
                              handle waits for its batch, then fetches the
                              results itself (it takes the job over if
                              that process dies first) */
  OBATCH_JOB_ADOPTED = 4   /* this journal had no job for the input, but the
                              provider has its batch, submitted through
                              another journal (another machine, a lost
                              jobs.db) in the last 48 h, running or
                              completed: this handle takes that batch up
                              instead of paying for a second one. Told
                              after submit, once the provider was asked. */
} obatch_job_origin;

#define OBATCH_INFO_INIT {OBATCH_INFO_VERSION, 0, "", "", "", "", "", "", "", \
                          0, 0, 0, 0, 0, 0, 0, 0, 0, "",                   \
                          "", "", "", "", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "", \
                          "", 0, "", 0, 0, 0, 0, 0, 0, 0,                  \
                          "", "", 0, 0, 0, 0, 0, 0, 0}

/* Creates a batch in phase BUILDING. The config is copied. */
OBATCH_API int obatch_create(obatch_t **out, const obatch_config_t *conf);

/*
 * Attaches to a batch that already exists at the provider (submitted by this
 * or another process). The handle starts in phase WAITING and downloads the
 * results when the batch ends. The provider must be set in `conf`.
 */
OBATCH_API int obatch_resume(obatch_t **out, const obatch_config_t *conf,
                             const char *batch_id);

/*
 * Appends one request. `body_json` is the request body as JSON text (an
 * object). `custom_id` may be NULL: then "<custom_id_prefix>-N" is used with
 * N the request's 1-based position. `endpoint` may be NULL: then it is taken
 * from the config or inferred from the body ("messages" -> chat completions,
 * "input" + an embedding model -> embeddings, "prompt" -> completions, ...).
 * The request is validated at once (JSON, custom_id, endpoint, model, limits)
 * and written to the input file; on failure nothing is added and
 * obatch_last_error() says why.
 */
OBATCH_API int obatch_add(obatch_t *b, const char *body_json,
                          const char *custom_id, const char *endpoint);

/*
 * Appends many requests at once: `bodies` holds `len` bytes of JSONL, one
 * request body per line (the last newline is optional; no NUL is needed and
 * none is read). Each body gets exactly the checks of
 * obatch_add(b, body, NULL, endpoint) and a generated custom_id; the lines
 * get those of obatch_add_file (no byte order mark, no CR LF, no blank line
 * but a last one). All or nothing: on the first bad body nothing of this call
 * is added and obatch_last_error() names its line within `bodies` ("line 7:
 * ...") and the reason. `added` (may be NULL) gets how many requests were
 * added (0 on failure). len 0 adds nothing and succeeds; `bodies` NULL is
 * OBATCH_EINVAL. The lines are
 * parsed as one document stream: much faster than one obatch_add per body.
 */
OBATCH_API int obatch_add_many(obatch_t *b, const char *bodies, size_t len,
                               const char *endpoint, size_t *added);

/*
 * Appends one complete input line: {"custom_id","method","url","body"}.
 * Errors name the field.
 */
OBATCH_API int obatch_add_line(obatch_t *b, const char *line);

/*
 * Appends every line of a JSONL file ("-" is not accepted; use
 * obatch_add_line). All or nothing: on the first bad line nothing of the file
 * is added and obatch_last_error() names the file, line and reason.
 */
OBATCH_API int obatch_add_file(obatch_t *b, const char *path);

/* Queues the upload and creation and returns at once. */
OBATCH_API int obatch_submit(obatch_t *b);

/*
 * Waits at most `timeout_ms` (0: never blocks) for the batch to make
 * progress, then fills `info` (may be NULL). Returns OBATCH_OK, or a
 * negative code if the arguments are bad. The batch's own failure is
 * reported in info->phase / info->error_code, not as the return value.
 */
OBATCH_API int obatch_poll(obatch_t *b, int timeout_ms, obatch_info_t *info);

/*
 * Blocks until the batch is DONE or FAILED, or `timeout_ms` passes (-1:
 * no limit). Returns OBATCH_OK when the batch completed, OBATCH_EEXPIRED /
 * OBATCH_ECANCELLED when it ended so (partial results can be fetched),
 * OBATCH_EFAILED or the error that stopped it, or OBATCH_ETIMEOUT.
 */
OBATCH_API int obatch_wait(obatch_t *b, int timeout_ms, obatch_info_t *info);

/* Fills `info` without waiting (the same as obatch_poll with timeout 0). */
OBATCH_API int obatch_info(obatch_t *b, obatch_info_t *info);

/*
 * One part of a job (0 <= index < parts_total of obatch_info), as of the
 * last obatch_poll / obatch_wait / obatch_info: phase (FAILED also when its
 * batch failed), model, batch_id, remote_status, request counts
 * (requests_added: its requests), bytes_total, tokens_estimated,
 * error_message. A job of one batch has part 0: the job itself. The strings
 * live until the next poll on the handle. OBATCH_ENOTFOUND past the last.
 */
OBATCH_API int obatch_part_info(obatch_t *b, uint64_t index, obatch_info_t *info);

/*
 * Asks the provider to cancel the batch (the engine sends it). Results that
 * finished before the cancellation are still downloaded. During the upload,
 * cancelling stops it and nothing is created; once the create call is on
 * its way the batch may exist, so it is created and then cancelled. If the
 * batch ends before the cancel arrives, it ends as it would have.
 */
OBATCH_API int obatch_cancel(obatch_t *b);

/* What went wrong last on this handle. Never NULL; lives until the next call
 * on the handle. Never contains an API key. With NULL: why the calling
 * thread's last obatch_create / obatch_resume / obatch_open failed (they
 * leave no handle to ask); lives until that thread's next such call. */
OBATCH_API const char *obatch_last_error(const obatch_t *b);

/* Path of the local input file (JSONL). Lives as long as the handle. The file
 * holds every request added so far (it is flushed before this returns), in
 * exactly the form that will be uploaded. */
OBATCH_API const char *obatch_input_path(const obatch_t *b);

/*
 * Frees the handle. A batch that runs at the provider keeps running there
 * (resume it by id). NULL is accepted.
 */
OBATCH_API void obatch_destroy(obatch_t *b);

/* ---- results ------------------------------------------------------------ */

typedef enum obatch_result_kind {
  OBATCH_RESULT_SUCCEEDED = 0, /* an HTTP 2xx response */
  OBATCH_RESULT_HTTP_ERROR = 1, /* an HTTP error response (body has error) */
  OBATCH_RESULT_ERROR = 2,     /* failed without an HTTP response */
  OBATCH_RESULT_MISSING = 3    /* no result at all: expired or cancelled */
} obatch_result_kind;

#define OBATCH_RESULT_VERSION 1

/*
 * One result. Strings may be NULL where noted; every pointer lives until the
 * next obatch_fetch / obatch_lookup on the same handle, or its destruction.
 */
typedef struct obatch_result {
  unsigned version; /* OBATCH_RESULT_VERSION */
  int kind;         /* obatch_result_kind */
  uint64_t index;   /* 0-based position in the input (UINT64_MAX: unknown) */
  const char *custom_id;
  int status_code;           /* HTTP status, 0 when none */
  const char *body;          /* response body JSON text, or NULL */
  size_t body_len;
  const char *request_id;    /* or NULL */
  const char *error_code;    /* or NULL */
  const char *error_message; /* or NULL */
  const char *line;          /* the raw result line, or NULL when missing */
  size_t line_len;
} obatch_result_t;

#define OBATCH_RESULT_INIT {OBATCH_RESULT_VERSION, 0, 0, NULL, 0, NULL, 0, \
                            NULL, NULL, NULL, NULL, 0}

/*
 * The next result, in input order, merged from the output and error files.
 * Returns OBATCH_OK, OBATCH_END after the last one, or OBATCH_ESTATE before
 * the batch is DONE. Requests without any result line come back with kind
 * OBATCH_RESULT_MISSING. With a resumed batch the order is that of the input
 * file at the provider.
 */
OBATCH_API int obatch_fetch(obatch_t *b, obatch_result_t *result);

/* Starts obatch_fetch from the first result again. */
OBATCH_API int obatch_rewind(obatch_t *b);

/* The result of one custom_id; OBATCH_ENOTFOUND if the batch has none. */
OBATCH_API int obatch_lookup(obatch_t *b, const char *custom_id,
                             obatch_result_t *result);

/*
 * Opens result files that are already on disk (downloaded earlier, by obatch
 * or anything else): a handle in phase DONE whose obatch_fetch and
 * obatch_lookup read them merged in the order of `input_path`. Nothing is
 * sent. `input_path` may be NULL (then results come in file order, output
 * file first); `output_path` or `error_path` may be NULL, not both. `conf`
 * may be NULL. A cut-off last line is an error (OBATCH_EPROTOCOL); any other
 * line that is not a result line comes back as an OBATCH_RESULT_ERROR.
 * A file that cannot be read is OBATCH_EIO, a custom_id twice in
 * `input_path` OBATCH_EDUPLICATE; then no handle is made.
 */
OBATCH_API int obatch_open(obatch_t **out, const obatch_config_t *conf,
                           const char *input_path, const char *output_path,
                           const char *error_path);

/* ---- checking an input file --------------------------------------------- */

/* Every problem of a JSONL input file, found without sending anything. */
typedef struct obatch_check obatch_check_t;

#define OBATCH_PROBLEM_VERSION 1

typedef struct obatch_problem {
  unsigned version; /* OBATCH_PROBLEM_VERSION */
  uint64_t line;    /* 1-based line of the file; 0: the file as a whole */
  int code;         /* obatch_code: EJSON, EREQUEST, EDUPLICATE, ELIMIT, ... */
  const char *message; /* names the file, line, field and limit */
} obatch_problem_t;

#define OBATCH_PROBLEM_INIT {OBATCH_PROBLEM_VERSION, 0, 0, ""}

/*
 * Checks every line of `path` as obatch_add_file would (JSON, fields,
 * custom_id, endpoint, model, the provider's limits), but goes on after a
 * bad line, so one pass reports them all. A limit (requests, bytes,
 * embedding inputs per batch) is one problem, at the first line past it,
 * whose message ends with the whole file's total; the lines after it still
 * get every other check. `conf` chooses the provider (or the first
 * request's model does) and may lower its limits; it may be NULL.
 * At most `max_problems` problems are kept (0: 1000); the count goes on.
 * Returns OBATCH_OK when the file could be read, problems or not; an error
 * (OBATCH_EIO, ...) when not, with a message in errstr.
 */
OBATCH_API int obatch_check_file(obatch_check_t **out,
                                 const obatch_config_t *conf,
                                 const char *path, unsigned max_problems,
                                 char *errstr, size_t errstr_size);
/* How many problems the file has (kept or not). */
OBATCH_API uint64_t obatch_check_problems(const obatch_check_t *check);
/* The next problem, in line order, or OBATCH_END. The message lives until
 * the next call on the check or its destruction. */
OBATCH_API int obatch_check_next(obatch_check_t *check,
                                 obatch_problem_t *problem);
/*
 * What submitting the file would send, counting its good lines (those past
 * a limit too): provider, endpoint, model, requests_added and bytes_total
 * (phase BUILDING). Strings live as long as the check.
 */
OBATCH_API int obatch_check_info(const obatch_check_t *check,
                                 obatch_info_t *info);
/* With config split "auto" (the default), the batches submitting the file
 * would make (parts_total of obatch_check_info): part `index`'s model,
 * requests_added, bytes_total and tokens_estimated. OBATCH_ENOTFOUND past
 * the last. */
OBATCH_API int obatch_check_part(const obatch_check_t *check, uint64_t index,
                                 obatch_info_t *info);
OBATCH_API void obatch_check_destroy(obatch_check_t *check);

/* ---- tokens and cost ---------------------------------------------------- */

/*
 * Prompt tokens as OpenAI counts them: the text with the model's encoding
 * (o200k_base or cl100k_base, as tiktoken maps models; o200k_base for a
 * model tiktoken does not know), token ids identical to tiktoken's, plus
 * the counting guide's overheads (chat: 3 a message, 1 a name, 3 to prime
 * the reply; tool definitions by its rule; images by the tile rule).
 */
#define OBATCH_TOKENS_VERSION 1
typedef struct obatch_tokens {
  unsigned version;       /* OBATCH_TOKENS_VERSION */
  const char *encoding;   /* "o200k_base", "cl100k_base" (static) */
  int encoding_assumed;   /* 1: the model is unknown to tiktoken */
  uint64_t prompt_tokens;
  uint64_t output_tokens; /* an upper bound: max_completion_tokens /
                             max_tokens / max_output_tokens times n */
  int output_assumed;     /* 1: no max given, 1000 assumed */
  uint64_t images;
  int images_assumed;     /* an image of unknown size (a URL) or "auto"
                             detail, counted as high detail */
  int approximate;        /* tools or a response_format schema: the
                             guide's rule of thumb, not exact */
} obatch_tokens_t;

#define OBATCH_TOKENS_INIT {OBATCH_TOKENS_VERSION, "", 0, 0, 0, 0, 0, 0, 0}

/* Counts one request `body` (JSON) for the endpoint `url`
 * ("/v1/chat/completions", "/v1/embeddings", "/v1/responses",
 * "/v1/completions", ...). OBATCH_EJSON for a body that is not an object. */
OBATCH_API int obatch_count_tokens(const char *url, const char *body_json,
                                   obatch_tokens_t *out, char *errstr,
                                   size_t errstr_size);

/* The tokens of `text` alone with an encoding ("o200k_base", "cl100k_base"),
 * as tiktoken's encode_ordinary counts them. OBATCH_EINVAL for an unknown
 * encoding. */
OBATCH_API int obatch_count_text_tokens(const char *encoding, const char *text,
                                        size_t len, uint64_t *count);

/*
 * What an input file will cost: per model, requests, exact prompt tokens,
 * output tokens (upper bound), and the cost in batch mode and with direct
 * requests from a dated price table (USD); then one total row (model "").
 * The file gets every check of obatch_add_file first (a file with a
 * problem fails: obatch_check_file lists them). `prices_path`: a price
 * table of the format of data/prices/openai.tsv, or NULL for the built-in
 * one. A model without a price has has_cost 0: a cost is never guessed.
 */
#define OBATCH_ESTIMATE_VERSION 1
typedef struct obatch_estimate_row {
  unsigned version; /* OBATCH_ESTIMATE_VERSION */
  const char *model; /* "" for the total */
  const char *encoding;
  uint64_t requests;
  uint64_t prompt_tokens;
  uint64_t output_tokens;
  uint64_t encoding_assumed; /* requests counted with an assumed encoding */
  uint64_t output_assumed;   /* requests without a max (1000 assumed) */
  uint64_t images;
  uint64_t images_assumed;
  uint64_t approximate;      /* requests with tools or a schema */
  uint64_t batches;          /* the batches obatch_submit cuts them into */
  int has_cost;
  double batch_cost_usd;
  double direct_cost_usd;
} obatch_estimate_row_t;

#define OBATCH_ESTIMATE_ROW_INIT \
  {OBATCH_ESTIMATE_VERSION, "", "", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.0, 0.0}

typedef struct obatch_estimate obatch_estimate_t;

OBATCH_API int obatch_estimate_file(obatch_estimate_t **out,
                                    const obatch_config_t *conf,
                                    const char *path, const char *prices_path,
                                    char *errstr, size_t errstr_size);
/* The next row (models in the order their first requests come, then the
 * total), or OBATCH_END. Strings live as long as the estimate. */
OBATCH_API int obatch_estimate_next(obatch_estimate_t *e,
                                    obatch_estimate_row_t *row);
/* Where the prices came from and their date: "built in, 2026-03-21" or
 * "PATH, DATE". */
OBATCH_API const char *obatch_estimate_prices(const obatch_estimate_t *e);
OBATCH_API void obatch_estimate_destroy(obatch_estimate_t *e);

/* ---- the job journal ----------------------------------------------------- */

/*
 * Every obatch_submit is journaled (SQLite) before and after each step, so a
 * process killed at any point resumes without a second upload or a second
 * batch. The journal is config `state`, else $OBATCH_STATE, else
 * $XDG_STATE_HOME/obatch/jobs.db, else ~/.local/state/obatch/jobs.db
 * ("off": none). The file is created 0600; it never holds a key. Submitting
 * the same input again (same bytes, provider, base URL, endpoint) takes its
 * job up where it stopped, unless config force_new is "1". Several
 * processes may share one journal.
 *
 * A journal that has no job for an input (a new machine, a container whose
 * state was lost) first asks the provider: the first job of an input gets
 * an id derived from that key, written as the batch's "obatch_job"
 * metadata, so a batch of the same input created in the last 48 h that is
 * running or completed is found and taken up (OBATCH_JOB_ADOPTED) rather
 * than paid for again. force_new "1" skips that too.
 */

/*
 * A new batch (phase BUILDING, not submitted) of the requests of an ended
 * job that have no result (its batch expired or was cancelled), read again
 * from the job's input file, which must be unchanged. `job` is a job id, a
 * unique prefix of one (4+ characters) or a batch id. Provider, base URL and
 * endpoint default to the job's. OBATCH_ESTATE when the job has not ended or
 * nothing is missing; OBATCH_ENOTFOUND for an unknown job. Why it failed:
 * obatch_last_error(NULL).
 */
OBATCH_API int obatch_retry_missing(obatch_t **out, const obatch_config_t *conf,
                                    const char *job);

#define OBATCH_JOB_VERSION 2

/* One job of the journal. Strings are never NULL ("" when unknown). */
typedef struct obatch_job {
  unsigned version; /* OBATCH_JOB_VERSION */
  const char *id;   /* 24 hex; the batch's "obatch_job" metadata value */
  const char *step; /* new, uploading, uploaded, creating, created,
                       downloading, done, failed, abandoned */
  const char *provider;
  const char *base_url;
  const char *endpoint;
  const char *model;
  const char *source_path;   /* the input file, if it came from one */
  const char *input_sha256;  /* of the submitted input bytes */
  const char *input_file_id;
  const char *batch_id;
  const char *remote_status; /* as last seen */
  const char *output_file_id;
  const char *error_file_id;
  const char *output_path;   /* result files on disk, once downloaded */
  const char *error_path;
  const char *error_message; /* the last failure, "" when none */
  const char *retry_of;      /* the job whose missing requests these are */
  uint64_t requests;
  uint64_t input_bytes;
  int64_t created_at; /* unix seconds */
  int64_t updated_at;
  int running;        /* 1 while a live process holds the job */
  int64_t pid;        /* that process, 0 when none */
  /* ---- version 2 ---- */
  uint64_t parts;     /* batches of a job cut into several; 0: one batch
                         (batch_id above) */
  const char *parts_json; /* those batches as a JSON array, in input order:
                             [{"index", "model", "requests", "step",
                             "batch_id", "remote_status", "attempt",
                             "error"}]; "[]" for a job of one batch */
} obatch_job_t;

#define OBATCH_JOB_INIT {OBATCH_JOB_VERSION, "", "", "", "", "", "", "", "", \
                         "", "", "", "", "", "", "", "", "", 0, 0, 0, 0, 0, 0, \
                         0, "[]"}

/* The journal's jobs, newest first, read at once. One thread at a time. */
typedef struct obatch_jobs obatch_jobs_t;

/* Opens the journal `conf` names (NULL: the default) and reads its jobs. */
OBATCH_API int obatch_jobs_open(obatch_jobs_t **out, const obatch_config_t *conf,
                                char *errstr, size_t errstr_size);
/* The next job, or OBATCH_END. Strings live until the next call on `jobs`
 * or its destruction. */
OBATCH_API int obatch_jobs_next(obatch_jobs_t *jobs, obatch_job_t *job);
/* The journal's path. Lives as long as `jobs`. */
OBATCH_API const char *obatch_jobs_path(const obatch_jobs_t *jobs);
OBATCH_API void obatch_jobs_destroy(obatch_jobs_t *jobs);
/* Forgets ended jobs (done, failed, abandoned) that no live process holds;
 * their result files stay. `*pruned` (may be NULL) gets how many. */
OBATCH_API int obatch_jobs_prune(const obatch_config_t *conf, uint64_t *pruned,
                                 char *errstr, size_t errstr_size);

/* ---- listing remote batches --------------------------------------------- */

/* One page of the provider's batches, newest first. One thread at a time. */
typedef struct obatch_batch_list obatch_list_t;

/*
 * Fetches one page (synchronously) of at most `limit` (1..100, 0: 20)
 * batches after the batch id `after` (NULL: from the newest). The provider
 * must be set in `conf`. On failure, if errstr is not NULL, a message is
 * written there.
 */
OBATCH_API int obatch_list(obatch_list_t **out, const obatch_config_t *conf,
                           const char *after, unsigned limit, char *errstr,
                           size_t errstr_size);
/* The next batch of the page into `info` (the remote fields; phase is
 * WAITING, DONE or FAILED by the remote status), or OBATCH_END. Strings
 * live until the next call on the list or its destruction. */
OBATCH_API int obatch_list_next(obatch_list_t *list, obatch_info_t *info);
/* 1 if the provider has more batches after this page, else 0. */
OBATCH_API int obatch_list_has_more(const obatch_list_t *list);
/* The id to pass as `after` for the next page; "" for an empty page. */
OBATCH_API const char *obatch_list_last_id(const obatch_list_t *list);
OBATCH_API void obatch_list_destroy(obatch_list_t *list);

/*
 * One remote batch by id, asked for now (synchronously): a page of one, read
 * with obatch_list_next. OBATCH_ENOTFOUND when the provider has no such
 * batch. The provider must be set in `conf`.
 */
OBATCH_API int obatch_retrieve(obatch_list_t **out, const obatch_config_t *conf,
                               const char *batch_id, char *errstr,
                               size_t errstr_size);
/*
 * Asks the provider to cancel a remote batch by id (synchronously) and
 * returns its answer as a page of one (status "cancelling", or the status it
 * had already ended in). Results finished before the cancel stay
 * downloadable. The provider must be set in `conf`.
 * A batch that has already ended (or is already cancelling) cannot be
 * cancelled, and the provider refuses (HTTP 400): then the batch is
 * retrieved and OBATCH_OK returned with that page, whose status ("completed",
 * "failed", ...) says how it ended. A refusal of a batch still running stays
 * an error (OBATCH_EHTTP); OBATCH_ENOTFOUND when there is no such batch.
 */
OBATCH_API int obatch_cancel_id(obatch_list_t **out, const obatch_config_t *conf,
                                const char *batch_id, char *errstr,
                                size_t errstr_size);

/* ---- Deferred requests: put one now, ask later ----------------------------
 *
 * A queue of single requests, stored durably, that workers collect into
 * batches (half the price) when a flush rule fires, storing every result
 * for whoever asks later. The store is a SQLite file (one machine; several
 * processes may share it) or a PostgreSQL database ("postgresql://..." or
 * "postgres://...": any number of workers on any number of machines).
 *
 * Exactly once: a request is put into one batch by one transaction
 * (PostgreSQL: rows locked FOR UPDATE SKIP LOCKED, so no worker waits on
 * another). The worker that made the batch holds a lease on it, renewed at
 * every obatch_queue_work; when it dies, another worker takes the batch over
 * after the lease and finds the same batch again (through the job journal,
 * or at the provider by the input's derived job id: see OBATCH_JOB_ADOPTED),
 * so no request is ever in two successful batches.
 *
 * Config keys (besides provider, base_url, api_key, state, ... as for a
 * batch; provider may be left out: each request's model chooses):
 *   flush_requests   (10000) a batch is made once this many are queued...
 *   flush_bytes      (100000000) ...or their input lines reach this size...
 *   flush_age        ("10m") ...or the oldest has waited this long
 *   lease            ("2m") how long a worker's claim on a batch lasts
 *                    without being renewed
 *   retention        ("168h") ended requests are removed after this long
 *   max_attempts     (3) batches a request is sent in: one whose batch
 *                    expired or was cancelled before it had a result is
 *                    queued again until then, and then "expired"
 * The batches are journaled in the config's state, else beside a SQLite
 * store ("<store>-jobs.db"), else in the default journal.
 *
 * Thread safety: a queue handle may be used by several threads at once
 * (its calls take turns on one connection; open a handle per thread to put
 * in parallel on PostgreSQL). Strings it returns (a ticket, an entry's
 * fields, obatch_queue_last_error) live until the same thread's next
 * obatch_queue_* call.
 */
typedef struct obatch_queue obatch_queue_t;

typedef enum obatch_queue_state {
  OBATCH_QUEUE_QUEUED = 1,    /* stored, waiting for a flush */
  OBATCH_QUEUE_SUBMITTED = 2, /* in a batch that runs */
  OBATCH_QUEUE_COMPLETED = 3, /* answered 2xx: body holds the answer */
  OBATCH_QUEUE_FAILED = 4,    /* answered with an error, or its batch failed */
  OBATCH_QUEUE_EXPIRED = 5    /* no result after max_attempts batches */
} obatch_queue_state;

#define OBATCH_QUEUE_ENTRY_VERSION 1
typedef struct obatch_queue_entry_t {
  unsigned version; /* OBATCH_QUEUE_ENTRY_VERSION */
  int state;        /* obatch_queue_state */
  const char *ticket;
  const char *provider;
  const char *endpoint;
  const char *model;
  int status_code;           /* the answer's HTTP status; 0 when none */
  const char *body;          /* the answer's body (JSON); "" when none */
  const char *error_code;    /* why it failed or expired; "" when not */
  const char *error_message;
  const char *batch_id;      /* the batch it was (last) sent in; "" before */
  uint32_t attempts;         /* batches it was sent in */
  int64_t created_ms;        /* unix milliseconds; 0: not yet */
  int64_t submitted_ms;
  int64_t ended_ms;
} obatch_queue_entry_t;
#define OBATCH_QUEUE_ENTRY_INIT {OBATCH_QUEUE_ENTRY_VERSION, 0, "", "", "", "", \
                                 0, "", "", "", "", 0, 0, 0, 0}

#define OBATCH_QUEUE_STATS_VERSION 1
typedef struct obatch_queue_stats_t {
  unsigned version; /* OBATCH_QUEUE_STATS_VERSION */
  /* The store, as of the call. */
  uint64_t queued, submitted, completed, failed, expired;
  uint64_t batches_running;  /* by any worker */
  int64_t oldest_queued_ms;  /* unix ms of the oldest queued request; 0: none */
  /* What this obatch_queue_work call did (0 from obatch_queue_stats). */
  uint64_t flushed;    /* requests put into new batches */
  uint64_t stored;     /* results stored */
  uint64_t requeued;   /* requests of expired / cancelled batches queued again */
  uint64_t taken_over; /* batches taken over from a worker that stopped */
  uint64_t pruned;     /* ended requests removed after the retention */
  uint64_t held;       /* batches this handle runs now */
} obatch_queue_stats_t;
#define OBATCH_QUEUE_STATS_INIT {OBATCH_QUEUE_STATS_VERSION, 0, 0, 0, 0, 0, 0, 0, \
                                 0, 0, 0, 0, 0, 0}

/* Opens the queue in `store` (created, or its schema migrated; NULL: the
 * default, $OBATCH_QUEUE, else $XDG_STATE_HOME/obatch/queue.db, else
 * ~/.local/state/obatch/queue.db). The config is copied. On failure *out is
 * NULL and obatch_queue_last_error(NULL) says why. */
OBATCH_API int obatch_queue_open(obatch_queue_t **out, const obatch_config_t *conf,
                                 const char *store);
/* Checks the request exactly as obatch_add does (nothing is stored when it
 * fails: the message names the field and the limit) and stores it; durable
 * when the call returns. `endpoint` may be NULL (inferred from the body, or
 * the config's endpoint). With `client_id` NULL the ticket is derived from
 * the request (provider, endpoint, canonical body): the same request put
 * again gets the same ticket and is stored and paid for once. A client_id
 * is the ticket and must be unique: put again with another request it is
 * OBATCH_EDUPLICATE. `*ticket` lives until this thread's next call. */
OBATCH_API int obatch_queue_put(obatch_queue_t *q, const char *endpoint, const char *body_json,
                                const char *client_id, const char **ticket);
/* The request's state and, once it ended, its result. Never blocks on the
 * network. OBATCH_ENOTFOUND for a ticket the queue does not have. */
OBATCH_API int obatch_queue_get(obatch_queue_t *q, const char *ticket,
                                obatch_queue_entry_t *entry);
/* As obatch_queue_get, waiting at most timeout_ms (< 0: 0) for the request
 * to end (completed, failed or expired); OBATCH_ETIMEOUT when it has not,
 * with `entry` filled as it is. PostgreSQL wakes the waiter when its result
 * is stored (LISTEN / NOTIFY); SQLite is polled. */
OBATCH_API int obatch_queue_wait(obatch_queue_t *q, const char *ticket, int timeout_ms,
                                 obatch_queue_entry_t *entry);
/* One step of a worker: renews its leases, stores the results of its
 * batches that ended (and queues again the requests an expired or cancelled
 * batch left without one), takes over the batches of workers whose lease
 * ran out, makes and submits a batch for every flush rule that fires, and
 * removes ended requests older than the retention. When there was nothing
 * to do it waits up to timeout_ms for something. `stats` may be NULL. Call
 * it in a loop; obatch_queue_close gives up the leases (another worker
 * takes the batches over at once; they run on at the provider). */
OBATCH_API int obatch_queue_work(obatch_queue_t *q, int timeout_ms,
                                 obatch_queue_stats_t *stats);
/* The store's counts (the step fields are 0). */
OBATCH_API int obatch_queue_stats(obatch_queue_t *q, obatch_queue_stats_t *stats);
/* Why this thread's last obatch_queue_* call failed ("" if it did not);
 * `q` may be NULL (a failed open). Never NULL. */
OBATCH_API const char *obatch_queue_last_error(const obatch_queue_t *q);
/* NULL-safe. */
OBATCH_API void obatch_queue_close(obatch_queue_t *q);

#ifdef __cplusplus
}
#endif

#endif /* OBATCH_OBATCH_H */
