/* See fake_server.h. */
#define _GNU_SOURCE
#include "fake_server.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

long test_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void test_sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static int read_port(const char *path) {
  FILE *f = fopen(path, "r");
  int port = 0;
  if (!f) return 0;
  if (fscanf(f, "%d", &port) != 1) port = 0;
  fclose(f);
  return port;
}

static void remove_tmp_dir(fake_server_t *s) {
  char path[320];
  if (!s->tmp_dir[0]) return;
  snprintf(path, sizeof path, "%s/port", s->tmp_dir);
  unlink(path);
  rmdir(s->tmp_dir);
  s->tmp_dir[0] = '\0';
}

int fake_server_start(fake_server_t *s, const char *config_json) {
  const char *script = getenv("OBATCH_FAKE_SERVER");
  const char *python = getenv("OBATCH_PYTHON");
  const char *tmp = getenv("TMPDIR");
  char port_file[320];
  long deadline;
  memset(s, 0, sizeof *s);
  if (!script || !*script) {
    fprintf(stderr, "fake_server: OBATCH_FAKE_SERVER is not set\n");
    return -1;
  }
  if (!python || !*python) python = "python3";
  snprintf(s->tmp_dir, sizeof s->tmp_dir, "%s/obatch-fake-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(s->tmp_dir)) {
    perror("fake_server: mkdtemp");
    s->tmp_dir[0] = '\0';
    return -1;
  }
  snprintf(port_file, sizeof port_file, "%s/port", s->tmp_dir);
  fflush(NULL);
  s->pid = fork();
  if (s->pid < 0) {
    perror("fake_server: fork");
    s->pid = 0;
    remove_tmp_dir(s);
    return -1;
  }
  if (s->pid == 0) {
    /* A crashed test must not leave its server behind. */
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, STDOUT_FILENO); /* "listening on ..." */
    execlp(python, python, script, "--port", "0", "--port-file", port_file, "--max-lifetime", "300",
           "--config", config_json ? config_json : "{}", (char *)NULL);
    perror("fake_server: exec");
    _exit(127);
  }
  deadline = test_now_ms() + 10000;
  while (test_now_ms() < deadline) {
    int status;
    if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
      fprintf(stderr, "fake_server: the server exited before listening (status %d)\n", status);
      s->pid = 0;
      remove_tmp_dir(s);
      return -1;
    }
    s->port = read_port(port_file);
    if (s->port > 0) {
      snprintf(s->root_url, sizeof s->root_url, "http://127.0.0.1:%d", s->port);
      snprintf(s->base_url, sizeof s->base_url, "http://127.0.0.1:%d/v1", s->port);
      return 0;
    }
    test_sleep_ms(20);
  }
  fprintf(stderr, "fake_server: no port file after 10 s\n");
  fake_server_stop(s);
  return -1;
}

void fake_server_stop(fake_server_t *s) {
  if (s->pid > 0) {
    long deadline = test_now_ms() + 5000;
    int status;
    pid_t got = 0;
    kill(s->pid, SIGTERM);
    while ((got = waitpid(s->pid, &status, WNOHANG)) == 0 && test_now_ms() < deadline) test_sleep_ms(20);
    if (got == 0) {
      kill(s->pid, SIGKILL);
      waitpid(s->pid, &status, 0);
    }
    s->pid = 0;
  }
  free(s->stats);
  s->stats = NULL;
  remove_tmp_dir(s);
}

/* ---- HTTP ---------------------------------------------------------------- */

typedef struct {
  char *data;
  size_t len;
} buffer_t;

static size_t on_data(char *ptr, size_t size, size_t n, void *user) {
  buffer_t *b = user;
  size_t add = size * n;
  char *grown = realloc(b->data, b->len + add + 1);
  if (!grown) return 0;
  b->data = grown;
  memcpy(b->data + b->len, ptr, add);
  b->len += add;
  b->data[b->len] = '\0';
  return add;
}

long fake_server_http(fake_server_t *s, const char *method, const char *path, const char *body,
                      const char *auth, char **out) {
  CURL *curl;
  struct curl_slist *headers = NULL;
  buffer_t buf = {NULL, 0};
  char url[512], auth_header[300];
  long status = 0;
  if (out) *out = NULL;
  if (s->pid <= 0) return 0;
  curl = curl_easy_init();
  if (!curl) return 0;
  snprintf(url, sizeof url, "%s%s", s->root_url, path);
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &buf);
  if (body) {
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
  }
  if (auth) {
    snprintf(auth_header, sizeof auth_header, "Authorization: Bearer %s", auth);
    headers = curl_slist_append(headers, auth_header);
  }
  if (headers) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (out && status)
    *out = buf.data ? buf.data : strdup("");
  else
    free(buf.data);
  return status;
}

const char *fake_server_stats_json(fake_server_t *s) {
  char *body = NULL;
  free(s->stats);
  s->stats = NULL;
  if (fake_server_http(s, "GET", "/_control/stats", NULL, NULL, &body) != 200) {
    free(body);
    return NULL;
  }
  s->stats = body;
  return s->stats;
}

long fake_server_stats_int(fake_server_t *s, const char *key) {
  const char *json = fake_server_stats_json(s);
  char pattern[128];
  const char *at;
  if (!json) return -1;
  /* Python's json.dumps writes `"key": 12`. */
  snprintf(pattern, sizeof pattern, "\"%s\": ", key);
  at = strstr(json, pattern);
  if (!at) return -1;
  at += strlen(pattern);
  if (*at < '0' || *at > '9') return -1;
  return strtol(at, NULL, 10);
}

/* The end of the JSON object starting at `p` ('{'), skipping strings. */
static const char *object_end(const char *p) {
  int depth = 0;
  for (; *p; p++) {
    if (*p == '"') {
      for (p++; *p && *p != '"'; p++)
        if (*p == '\\' && p[1]) p++;
      if (!*p) return NULL;
    } else if (*p == '{') {
      depth++;
    } else if (*p == '}' && --depth == 0) {
      return p + 1;
    }
  }
  return NULL;
}

/* The string value of `"key": "..."` within [rec, end), unescaped enough for
 * paths and methods; "" when absent or null. */
static void record_field(const char *rec, const char *end, const char *key, char *out,
                         size_t size) {
  char pattern[64];
  const char *at;
  size_t n = 0;
  out[0] = '\0';
  snprintf(pattern, sizeof pattern, "\"%s\": \"", key);
  at = strstr(rec, pattern);
  if (!at || at >= end) return;
  for (at += strlen(pattern); at < end && *at != '"' && n + 1 < size; at++) {
    if (*at == '\\' && at + 1 < end) at++;
    out[n++] = *at;
  }
  out[n] = '\0';
}

long fake_server_count_requests(fake_server_t *s, const char *method, const char *path_prefix,
                                const char *needle) {
  const char *json = fake_server_stats_json(s);
  const char *p;
  long count = 0;
  if (!json) return -1;
  p = strstr(json, "\"requests\": [");
  if (!p) return -1;
  p += strlen("\"requests\": [");
  for (;;) {
    const char *end;
    while (*p == ' ' || *p == ',' || *p == '\n') p++;
    if (*p != '{') break; /* the closing ']' */
    end = object_end(p);
    char m[16], path[256];
    if (!end) return -1;
    record_field(p, end, "method", m, sizeof m);
    record_field(p, end, "path", path, sizeof path);
    if ((!method || strcmp(m, method) == 0) &&
        (!path_prefix || strncmp(path, path_prefix, strlen(path_prefix)) == 0)) {
      if (!needle) {
        count++;
      } else {
        char *rec = strndup(p, (size_t)(end - p));
        if (rec && strstr(rec, needle)) count++;
        free(rec);
      }
    }
    p = end;
  }
  return count;
}

int fake_server_config(fake_server_t *s, const char *json) {
  char *body = NULL;
  long status = fake_server_http(s, "POST", "/_control/config", json, NULL, &body);
  if (status != 200)
    fprintf(stderr, "fake_server: config refused (%ld): %s\n", status, body ? body : "");
  free(body);
  return status == 200 ? 0 : -1;
}

int fake_server_advance(fake_server_t *s, const char *batch_id, const char *status) {
  char path[256], body[64];
  snprintf(path, sizeof path, "/_control/advance/%s", batch_id);
  snprintf(body, sizeof body, "{\"status\": \"%s\"}", status);
  return fake_server_http(s, "POST", path, body, NULL, NULL) == 200 ? 0 : -1;
}
