/* Start, drive and stop tests/fake_server/fake_batch_server.py from a C test.
 *
 * The script and interpreter come from the environment (CMake sets them):
 * OBATCH_FAKE_SERVER (path of fake_batch_server.py) and OBATCH_PYTHON
 * (default "python3"). The server listens on 127.0.0.1 only, and dies with
 * the test process (PR_SET_PDEATHSIG) or after a bounded lifetime. */
#ifndef OBATCH_TEST_FAKE_SERVER_H
#define OBATCH_TEST_FAKE_SERVER_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fake_server {
  pid_t pid; /* 0 when not running */
  int port;
  char base_url[64]; /* http://127.0.0.1:PORT/v1 */
  char root_url[64]; /* http://127.0.0.1:PORT */
  char tmp_dir[256]; /* holds the port file */
  char *stats;       /* last stats JSON (owned; see fake_server_stats_json) */
} fake_server_t;

/* Spawns the server with `config_json` (NULL: defaults) and waits up to 10 s
 * until it listens. Returns 0, or -1 with a message on stderr. */
int fake_server_start(fake_server_t *s, const char *config_json);

/* SIGTERM, wait up to 5 s, then SIGKILL. Safe to call twice or on a server
 * that never started (a zeroed struct). */
void fake_server_stop(fake_server_t *s);

/* GET /_control/stats. The text lives until the next stats call or stop;
 * NULL on failure. */
const char *fake_server_stats_json(fake_server_t *s);

/* One integer counter of the stats ("uploads", "batches_created", ...);
 * -1 when the server cannot be asked or has no such counter. */
long fake_server_stats_int(fake_server_t *s, const char *key);

/* Requests in the stats' request log whose method equals `method` (NULL:
 * any), whose path starts with `path_prefix` (NULL: any) and whose record
 * text contains `needle` (NULL: any). -1 when stats cannot be read. */
long fake_server_count_requests(fake_server_t *s, const char *method, const char *path_prefix,
                                const char *needle);

/* POST /_control/config with `json`. Returns 0 when the server took it. */
int fake_server_config(fake_server_t *s, const char *json);

/* POST /_control/advance/BATCH_ID {"status": status}. Returns 0 on 200. */
int fake_server_advance(fake_server_t *s, const char *batch_id, const char *status);

/* Any HTTP call to the server: `path` is appended to root_url, `body` may
 * be NULL (GET) and `auth` (NULL: none) is sent as a Bearer token. Returns
 * the HTTP status (0 on a transport error); the body, if `out` is not NULL,
 * is malloc'd into *out (free it). */
long fake_server_http(fake_server_t *s, const char *method, const char *path, const char *body,
                      const char *auth, char **out);

/* A monotonic clock in ms, and a sleep that survives signals: shared by
 * the tests that poll for a condition with a bound. */
long test_now_ms(void);
void test_sleep_ms(long ms);

#ifdef __cplusplus
}
#endif

#endif
