/*
 * obatch provider ABI — the extension point for Batch API hosts.
 *
 * A provider is a table of facts (name, base URL, key variable, limits) and
 * pure request/response adapters: the engine does all I/O, a provider only
 * says what to send and reads what came back. The OpenAI-compatible adapters
 * are the default (a NULL hook); a provider overrides only what differs and
 * may call the defaults (obatch_openai_build_request / _parse_response).
 *
 * Stability: fields of obatch_provider_t are only ever appended, each group
 * marked with the version that added it. Set `version` to
 * OBATCH_PROVIDER_VERSION of the header you compile against; the library
 * rejects versions it does not know.
 */
#ifndef OBATCH_SYS_PROVIDER_H
#define OBATCH_SYS_PROVIDER_H

#include "../obatch.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OBATCH_PROVIDER_VERSION 2

/* What the engine asks a provider to build a request for. */
typedef enum obatch_op {
  /* Send the input file. Args: input_path, filename, bytes. */
  OBATCH_OP_UPLOAD = 0,
  /* Create the batch. Args: input_file_id (absent for inline providers),
   * input_path, endpoint, completion_window, metadata (a JSON object). */
  OBATCH_OP_CREATE = 1,
  /* Args: batch_id. */
  OBATCH_OP_RETRIEVE = 2,
  /* Args: batch_id. */
  OBATCH_OP_CANCEL = 3,
  /* Fetch a result file's bytes (streamed to disk, never parsed by the
   * provider). Args: file_id. */
  OBATCH_OP_DOWNLOAD = 4,
  /* Args: after (may be absent), limit. */
  OBATCH_OP_LIST = 5,
  /* A file's metadata. Args: file_id. */
  OBATCH_OP_FILE_INFO = 6,
  /* Args: purpose, after (may be absent), limit. */
  OBATCH_OP_LIST_FILES = 7
} obatch_op;

/* The arguments of one op; read them with obatch_op_arg. */
typedef struct obatch_op_args obatch_op_args_t;
/* The value of `key`, or NULL when absent. Lives as long as `args`. */
OBATCH_API const char *obatch_op_arg(const obatch_op_args_t *args,
                                     const char *key);

/* The HTTP request a build hook fills. */
typedef struct obatch_http_request obatch_http_request_t;
/* `target` is a path appended to the base URL ("/batches") or, for a
 * provider whose results live elsewhere, an absolute https URL of the same
 * host (any other host is refused: the key never goes there). The engine
 * adds the key's header itself (see auth_header). */
OBATCH_API int obatch_http_request_set(obatch_http_request_t *req,
                                       const char *method,
                                       const char *target);
OBATCH_API int obatch_http_request_add_header(obatch_http_request_t *req,
                                              const char *name,
                                              const char *value);
/* A request body; the bytes are copied. */
OBATCH_API int obatch_http_request_set_body(obatch_http_request_t *req,
                                            const char *content_type,
                                            const char *data, size_t len);
/* A body streamed from a file (for providers that send requests inline). */
OBATCH_API int obatch_http_request_set_body_file(obatch_http_request_t *req,
                                                 const char *content_type,
                                                 const char *path);
/* multipart/form-data parts. */
OBATCH_API int obatch_http_request_add_form_field(obatch_http_request_t *req,
                                                  const char *name,
                                                  const char *value);
OBATCH_API int obatch_http_request_add_form_file(obatch_http_request_t *req,
                                                 const char *name,
                                                 const char *path,
                                                 const char *filename,
                                                 const char *content_type);

/*
 * What a parse hook reports from a 2xx answer, as string fields:
 *   file_id, file_bytes, filename          (UPLOAD, FILE_INFO, LIST_FILES)
 *   batch_id, status, endpoint, input_file_id, output_file_id,
 *   error_file_id, created_at, requests_total, requests_completed,
 *   requests_failed, error_message, model, completion_window,
 *   in_progress_at, finalizing_at, completed_at, failed_at, expired_at,
 *   cancelling_at, cancelled_at, expires_at (unix seconds),
 *   input_tokens, output_tokens, total_tokens (the batch's usage),
 *   batch_json (the batch object as JSON text, shown to the caller as is)
 *                                          (CREATE, RETRIEVE, CANCEL, LIST)
 *   metadata.KEY                           (any metadata pair)
 *   has_more, last_id                      (LIST, LIST_FILES; page level)
 * `status` uses the OpenAI names: validating, failed, in_progress,
 * finalizing, completed, expired, cancelling, cancelled.
 * For lists, obatch_remote_next_item starts a new item; fields set after it
 * belong to that item (page-level fields may be set at any time).
 */
typedef struct obatch_remote obatch_remote_t;
OBATCH_API int obatch_remote_set(obatch_remote_t *remote, const char *field,
                                 const char *value);
OBATCH_API int obatch_remote_next_item(obatch_remote_t *remote);

typedef struct obatch_provider {
  unsigned version; /* OBATCH_PROVIDER_VERSION */

  /* -- version 1 -- */
  const char *name;             /* "openai" */
  const char *default_base_url; /* "https://api.openai.com/v1" */
  const char *api_key_env;      /* "OPENAI_API_KEY" */
  const char *base_url_env;     /* "OPENAI_BASE_URL", or NULL */
  uint64_t max_requests;        /* per batch; 0: no limit */
  uint64_t max_bytes;           /* input file size; 0: no limit */
  uint64_t max_embedding_inputs; /* inputs over an embeddings batch; 0: none */
  int one_model_per_batch;      /* 1: every request must name one model */
  int inline_requests;          /* 1: no upload; CREATE carries the input */
  /* NULL-terminated list of the request URLs the provider accepts, or NULL
   * for OpenAI's list. */
  const char *const *endpoints;
  void *payload; /* handed to every hook */

  /* 1 if this provider serves `model` (used when no provider is named). */
  int (*claims_model)(const char *model, void *payload);
  /* Extra checks of one request; return 0, or non-zero with a message in
   * errstr. NULL: none. */
  int (*check_request)(const char *endpoint, const char *body_json,
                       size_t body_len, char *errstr, size_t errstr_size,
                       void *payload);
  /* Fill `req` for `op`; return 0 or a negative obatch_code. NULL: the
   * OpenAI-compatible default. */
  int (*build_request)(int op, const obatch_op_args_t *args,
                       obatch_http_request_t *req, void *payload);
  /* Read a 2xx answer to `op`; return 0 or a negative obatch_code. NULL:
   * the OpenAI-compatible default. */
  int (*parse_response)(int op, int http_status, const char *body,
                        size_t body_len, obatch_remote_t *remote,
                        void *payload);

  /* -- version 2 -- */
  /* The header that carries the key, as is ("x-api-key", "api-key"); NULL:
   * "Authorization: Bearer KEY". */
  const char *auth_header;
  /* 1: the provider keeps no batch metadata, so a create whose answer was
   * lost is found by the batch's request count and creation time instead
   * of obatch's tag (README: "Crash safety without metadata"). */
  int no_metadata;
  /* 1 if the provider takes `custom_id` as it is; NULL: every id. The
   * others are sent as ids obatch makes ("obm-" and 16 hex digits) and
   * mapped back in the results; only for inline_requests providers, which
   * get the map as CREATE's argument id_map. */
  int (*accepts_custom_id)(const char *custom_id, void *payload);
  /* Results in the provider's own format. NULL: the output and error files
   * are OpenAI's batch output files. Otherwise output_file_id names the
   * results (an id or a URL given to OBATCH_OP_DOWNLOAD; no FILE_INFO is
   * asked) and this hook reads them from `raw_path` and writes
   * `output_path` and `error_path` as OpenAI batch output lines with the
   * user's custom_ids. Args: raw_path, output_path, error_path, id_map (a
   * JSON object: user's id -> id sent; absent when none was mapped).
   * Return 0, or a negative obatch_code with a message in errstr. */
  int (*convert_results)(const obatch_op_args_t *args, char *errstr,
                         size_t errstr_size, void *payload);
} obatch_provider_t;

/* Zeroes `provider` and sets its version: call it before filling the
 * fields you need (every NULL hook and 0 limit means the default). A
 * version 1 table is still accepted: its version 2 fields count as unset. */
OBATCH_API int obatch_provider_init(obatch_provider_t *provider, unsigned version);

/*
 * Adds a provider for the whole process. The struct and its strings are
 * copied; `payload` is kept as is and must outlive the process's use of the
 * provider. OBATCH_EINVAL for an unknown version, a missing name, or a name
 * already registered.
 */
OBATCH_API int obatch_provider_register(const obatch_provider_t *provider);

/*
 * Registers the providers declared in a JSON file (README: "Providers
 * declared in a file"): OpenAI-compatible hosts, each with its name, base
 * URL, key variable, auth header, query parameters, limits, endpoints,
 * completion windows and model patterns. All or nothing: on an error none
 * of the file's providers is registered. OBATCH_ECONFIG (with
 * obatch_last_error() naming the file and what is wrong) for a file that
 * cannot be read or declares something wrong, OBATCH_EINVAL for a name
 * already registered. The files named by $OBATCH_PROVIDERS and
 * $XDG_CONFIG_HOME/obatch/providers.json are loaded without this call.
 */
OBATCH_API int obatch_provider_load_file(const char *path);

/* Names of the registered providers, comma separated. Lives until the
 * calling thread calls this again. */
OBATCH_API const char *obatch_provider_names(void);

/* The OpenAI-compatible adapters, for providers that wrap them. */
OBATCH_API int obatch_openai_build_request(int op, const obatch_op_args_t *args,
                                           obatch_http_request_t *req,
                                           void *payload);
OBATCH_API int obatch_openai_parse_response(int op, int http_status,
                                            const char *body, size_t body_len,
                                            obatch_remote_t *remote,
                                            void *payload);

#ifdef __cplusplus
}
#endif

#endif /* OBATCH_SYS_PROVIDER_H */
