/*
 * A user's first program against an installed libobatch: built with nothing
 * but `cc consumer.c $(pkg-config --cflags --libs obatch)`.
 *
 * Sends a batch of three chat requests, waits for it, and checks that every
 * result comes back in input order with its custom_id and HTTP 200. The
 * provider's key and base URL come from OPENAI_API_KEY / OPENAI_BASE_URL.
 * Exit 0 when all is well.
 */
#include <obatch/obatch.h>

#include <stdio.h>
#include <string.h>

#define N_REQUESTS 3

static int set(obatch_config_t *conf, const char *key, const char *value) {
  char err[256] = "";
  if (obatch_config_set(conf, key, value, err, sizeof err) != OBATCH_OK) {
    fprintf(stderr, "consumer: config %s: %s\n", key, err);
    return -1;
  }
  return 0;
}

int main(void) {
  static const char *const ids[N_REQUESTS] = {"greet-1", "greet-2", "greet-3"};
  obatch_config_t *conf = NULL;
  obatch_t *b = NULL;
  obatch_info_t info = OBATCH_INFO_INIT;
  obatch_result_t r = OBATCH_RESULT_INIT;
  char body[256];
  int rc, i, n = 0, bad = 0;

  printf("libobatch %s (header %s)\n", obatch_version(), OBATCH_VERSION_STRING);
  if (obatch_config_new(&conf) != OBATCH_OK) return 1;
  if (set(conf, "provider", "openai") || set(conf, "poll_interval_ms", "5") ||
      set(conf, "poll_max_interval_ms", "20")) {
    obatch_config_destroy(conf);
    return 1;
  }
  rc = obatch_create(&b, conf);
  obatch_config_destroy(conf);
  if (rc != OBATCH_OK) {
    fprintf(stderr, "consumer: obatch_create: %s\n", obatch_strerror(rc));
    return 1;
  }

  for (i = 0; i < N_REQUESTS; i++) {
    snprintf(body, sizeof body,
             "{\"model\":\"gpt-4o-mini\",\"messages\":"
             "[{\"role\":\"user\",\"content\":\"Say hello %d\"}]}",
             i + 1);
    rc = obatch_add(b, body, ids[i], NULL);
    if (rc != OBATCH_OK) {
      fprintf(stderr, "consumer: obatch_add: %s: %s\n", obatch_strerror(rc),
              obatch_last_error(b));
      goto fail;
    }
  }
  rc = obatch_submit(b);
  if (rc != OBATCH_OK) {
    fprintf(stderr, "consumer: obatch_submit: %s: %s\n", obatch_strerror(rc),
            obatch_last_error(b));
    goto fail;
  }
  rc = obatch_wait(b, 60000, &info);
  if (rc != OBATCH_OK) {
    fprintf(stderr, "consumer: obatch_wait: %s: %s\n", obatch_strerror(rc),
            info.error_message);
    goto fail;
  }
  printf("batch %s: %s, %llu/%llu completed\n", info.batch_id,
         info.remote_status, (unsigned long long)info.requests_completed,
         (unsigned long long)info.requests_total);

  while ((rc = obatch_fetch(b, &r)) == OBATCH_OK) {
    const char *want = n < N_REQUESTS ? ids[n] : "(none)";
    int ok = r.custom_id != NULL && strcmp(r.custom_id, want) == 0 &&
             r.status_code == 200 && r.kind == OBATCH_RESULT_SUCCEEDED &&
             r.body != NULL && r.body_len > 0;
    printf("%s %s %d %.*s\n", ok ? "ok" : "BAD",
           r.custom_id ? r.custom_id : "(null)", r.status_code,
           (int)(r.body_len > 120 ? 120 : r.body_len), r.body ? r.body : "");
    if (!ok) {
      fprintf(stderr, "consumer: result %d: expected %s with status 200\n", n,
              want);
      bad++;
    }
    n++;
  }
  if (rc != OBATCH_END) {
    fprintf(stderr, "consumer: obatch_fetch: %s: %s\n", obatch_strerror(rc),
            obatch_last_error(b));
    goto fail;
  }
  if (n != N_REQUESTS || bad) {
    fprintf(stderr, "consumer: %d results, %d bad (expected %d good)\n", n, bad,
            N_REQUESTS);
    goto fail;
  }
  obatch_destroy(b);
  printf("consumer: %d results, all good\n", n);
  return 0;

fail:
  obatch_destroy(b);
  return 1;
}
