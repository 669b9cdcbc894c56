// Providers: the built-in tables, model -> provider selection, user tables,
// and whose key and base URL a provider uses.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/config.hpp"
#include "core/request.hpp"
#include "providers/openai_adapter.hpp"
#include "providers/provider.hpp"
#include "unit_support.hpp"

using obatch::Config;
using obatch::Provider;

// The registry is process-wide and cases may share a process: every user
// provider below has its own name and claims only its own models.

static obatch_provider_t user_table(const char *name) {
  obatch_provider_t t{};
  t.version = OBATCH_PROVIDER_VERSION;
  t.name = name;
  t.default_base_url = "https://llm.example.com/v1";
  t.api_key_env = "EXAMPLE_API_KEY";
  return t;
}

static void clear_env() {
  for (const char *v : {"OPENAI_API_KEY", "PARASAIL_API_KEY", "OPENAI_BASE_URL",
                        "PARASAIL_BASE_URL", "EXAMPLE_API_KEY"})
    unsetenv(v);
}

static std::string provider_of(const std::string &model) {
  return obatch::provider_for_model(model)->name();
}

static void builtins_are_registered(void **) {
  assert_str_eq(obatch::find_provider("openai")->name(), "openai");
  assert_str_eq(obatch::find_provider("parasail")->name(), "parasail");
  assert_int_equal(obatch::provider_names().rfind("openai,parasail", 0), 0);
  assert_str_eq(obatch::find_provider("openai")->api_key_env(), "OPENAI_API_KEY");
  assert_false(obatch::find_provider("openai")->inline_requests());
}

static void unknown_provider_lists_known(void **) {
  std::string msg = EXPECT_ERROR(OBATCH_EPROVIDER, "unknown provider 'anthropicx'",
                                 obatch::find_provider("anthropicx"));
  assert_contains(msg, "openai, parasail");
}

static void openai_models(void **) {
  for (const char *m : {"gpt-4o", "o3-mini", "text-embedding-3-small", "ft:gpt-4o:org:x",
                        "omni-moderation-latest", "o1", "gpt-4.1-mini", "dall-e-3"})
    if (provider_of(m) != "openai") fail_msg("%s should be openai's", m);
}

static void parasail_models(void **) {
  assert_str_eq(provider_of("meta-llama/Llama-3.1-8B-Instruct"), "parasail");
  assert_str_eq(provider_of("Qwen/Qwen2.5-72B-Instruct"), "parasail");
}

static void unclaimed_model_is_eprovider(void **) {
  std::string msg = EXPECT_ERROR(OBATCH_EPROVIDER, "no provider serves model 'llama3'",
                                 obatch::provider_for_model("llama3"));
  assert_contains(msg, "set the provider explicitly");
  // Half an org/name is nobody's.
  EXPECT_ERROR(OBATCH_EPROVIDER, "'/llama'", obatch::provider_for_model("/llama"));
  EXPECT_ERROR(OBATCH_EPROVIDER, "'meta-llama/'", obatch::provider_for_model("meta-llama/"));
  EXPECT_ERROR(OBATCH_EPROVIDER, "''", obatch::provider_for_model(""));
}

static void table_version_checked(void **) {
  obatch_provider_t t = user_table("versioned");
  t.version = 0;
  EXPECT_ERROR(OBATCH_EINVAL, "provider table version 0 is not supported", Provider p(t));
  EXPECT_ERROR(OBATCH_EINVAL, "version 0", obatch::register_provider(t));
  t.version = 99;
  std::string msg = EXPECT_ERROR(OBATCH_EINVAL, "version 99", obatch::register_provider(t));
  assert_contains(msg, "1.." + std::to_string(OBATCH_PROVIDER_VERSION));
  EXPECT_ERROR(OBATCH_EPROVIDER, "unknown provider 'versioned'",
               obatch::find_provider("versioned"));
}

static void table_needs_name_and_key_variable(void **) {
  obatch_provider_t t = user_table(nullptr);
  EXPECT_ERROR(OBATCH_EINVAL, "a provider needs a name", Provider p(t));
  t = user_table("");
  EXPECT_ERROR(OBATCH_EINVAL, "a provider needs a name", Provider p(t));
  t = user_table("nokey");
  t.api_key_env = nullptr;
  EXPECT_ERROR(OBATCH_EINVAL, "provider nokey needs api_key_env", Provider p(t));
}

static void duplicate_name_rejected(void **) {
  obatch_provider_t t = user_table("openai");
  EXPECT_ERROR(OBATCH_EINVAL, "a provider named 'openai' is already registered",
               obatch::register_provider(t));
  t = user_table("twice");
  obatch::register_provider(t);
  EXPECT_ERROR(OBATCH_EINVAL, "'twice' is already registered", obatch::register_provider(t));
  assert_contains(obatch::provider_names(), ",twice");
}

static int claims_mine(const char *model, void *payload) {
  ++*static_cast<int *>(payload);
  return std::strcmp(model, "gpt-4o-mine") == 0 || std::strcmp(model, "llama3-local") == 0;
}

static void user_provider_claims_before_builtins(void **) {
  static int calls = 0;
  obatch_provider_t t = user_table("mine");
  t.claims_model = claims_mine;
  t.payload = &calls;
  obatch::register_provider(t);
  // openai would claim "gpt-4o-mine" too; the later registration is asked first.
  assert_str_eq(provider_of("gpt-4o-mine"), "mine");
  assert_str_eq(provider_of("llama3-local"), "mine");
  assert_true(calls >= 2);  // the payload reaches the hook
  assert_str_eq(provider_of("gpt-4o"), "openai");
  assert_str_eq(obatch::find_provider("mine")->name(), "mine");
}

static void table_strings_are_copied(void **) {
  char name[] = "copied";
  char env[] = "COPIED_KEY";
  obatch_provider_t t = user_table(name);
  t.api_key_env = env;
  Provider p(t);
  std::memset(name, 'x', sizeof name - 1);
  std::memset(env, 'x', sizeof env - 1);
  assert_str_eq(p.name(), "copied");
  assert_str_eq(p.api_key_env(), "COPIED_KEY");
}

static void api_key_reads_only_own_variable(void **) {
  clear_env();
  setenv("OPENAI_API_KEY", "sk-openai", 1);
  Config conf;
  assert_str_eq(obatch::find_provider("openai")->api_key(conf), "sk-openai");
  // A key is never sent to another provider's host.
  std::string msg = EXPECT_ERROR(OBATCH_EAUTH, "set PARASAIL_API_KEY",
                                 obatch::find_provider("parasail")->api_key(conf));
  assert_contains(msg, "no API key for parasail");
  setenv("PARASAIL_API_KEY", "ps-key", 1);
  assert_str_eq(obatch::find_provider("parasail")->api_key(conf), "ps-key");
  clear_env();
}

static void empty_api_key_variable_is_no_key(void **) {
  clear_env();
  setenv("OPENAI_API_KEY", "", 1);
  Config conf;
  EXPECT_ERROR(OBATCH_EAUTH, "OPENAI_API_KEY", obatch::find_provider("openai")->api_key(conf));
  clear_env();
}

static void config_api_key_wins(void **) {
  clear_env();
  setenv("OPENAI_API_KEY", "sk-env", 1);
  Config conf;
  conf.set("api_key", "sk-conf");
  assert_str_eq(obatch::find_provider("openai")->api_key(conf), "sk-conf");
  assert_str_eq(obatch::find_provider("parasail")->api_key(conf), "sk-conf");
  clear_env();
}

static void base_url_config_then_env_then_default(void **) {
  clear_env();
  auto openai = obatch::find_provider("openai");
  auto parasail = obatch::find_provider("parasail");
  Config conf;
  assert_str_eq(openai->base_url(conf), "https://api.openai.com/v1");
  assert_str_eq(parasail->base_url(conf), "https://api.parasail.io/v1");
  setenv("OPENAI_BASE_URL", "http://127.0.0.1:9999/v1", 1);
  assert_str_eq(openai->base_url(conf), "http://127.0.0.1:9999/v1");
  assert_str_eq(parasail->base_url(conf), "https://api.parasail.io/v1");  // not its variable
  conf.set("base_url", "https://proxy.example.com/v1");
  assert_str_eq(openai->base_url(conf), "https://proxy.example.com/v1");
  clear_env();
}

static void base_url_without_default(void **) {
  obatch_provider_t t = user_table("nobase");
  t.default_base_url = nullptr;
  Provider p(t);
  Config conf;
  EXPECT_ERROR(OBATCH_ECONFIG, "provider nobase has no default base URL", p.base_url(conf));
  conf.set("base_url", "https://x.example.com/v1");
  assert_str_eq(p.base_url(conf), "https://x.example.com/v1");
}

static void openai_rules(void **) {
  Config conf;
  obatch::InputRules r = obatch::find_provider("openai")->rules(conf);
  assert_str_eq(r.provider, "openai");
  assert_int_equal(r.max_requests, 50000);
  assert_int_equal(r.max_bytes, 200000000);
  assert_int_equal(r.max_embedding_inputs, 50000);
  assert_true(r.one_model);
  assert_true(r.endpoints == obatch::openai_endpoints());
  assert_false(static_cast<bool>(r.check));
}

static void rules_limits_from_config(void **) {
  Config conf;
  conf.set("max_requests", "10");
  conf.set("max_bytes", "0");  // 0: the provider's own limit
  obatch::InputRules r = obatch::find_provider("openai")->rules(conf);
  assert_int_equal(r.max_requests, 10);
  assert_int_equal(r.max_bytes, 200000000);
  // The settings lower a limit; they never raise it.
  conf.set("max_requests", "60000");
  conf.set("max_bytes", "300000000");
  r = obatch::find_provider("openai")->rules(conf);
  assert_int_equal(r.max_requests, 50000);
  assert_int_equal(r.max_bytes, 200000000);
}

static void parasail_rules(void **) {
  Config conf;
  obatch::InputRules r = obatch::find_provider("parasail")->rules(conf);
  assert_str_eq(r.provider, "parasail");
  assert_int_equal(r.max_requests, 50000);
  assert_int_equal(r.max_bytes, 100000000);
  assert_false(r.one_model);
  assert_int_equal(r.endpoints.size(), 4);
  assert_str_eq(r.endpoints[0], "/v1/chat/completions");
  assert_str_eq(r.endpoints[1], "/v1/embeddings");
  assert_str_eq(r.endpoints[2], "/v1/score");
  assert_str_eq(r.endpoints[3], "/v1/images/edits");
}

static int reject_temperature(const char *endpoint, const char *body, size_t len, char *errstr,
                              size_t errstr_size, void *) {
  std::string text(body, len);
  if (text.find("\"temperature\"") == std::string::npos) return 0;
  std::snprintf(errstr, errstr_size, "%s: temperature is not supported", endpoint);
  return 1;
}

static int reject_silently(const char *, const char *, size_t, char *, size_t, void *) { return 1; }

static void check_request_hook_in_rules(void **) {
  obatch_provider_t t = user_table("checker");
  static const char *const endpoints[] = {"/v1/chat/completions", nullptr};
  t.endpoints = endpoints;
  t.check_request = reject_temperature;
  Provider p(t);
  obatch::InputRules r = p.rules(Config());
  assert_int_equal(r.endpoints.size(), 1);
  assert_str_eq(r.endpoints[0], "/v1/chat/completions");
  assert_str_eq(r.check("/v1/chat/completions", R"({"model":"m"})"), "");
  assert_str_eq(r.check("/v1/chat/completions", R"({"temperature":1})"),
                "/v1/chat/completions: temperature is not supported");
  t.check_request = reject_silently;
  Provider quiet(t);
  assert_str_eq(quiet.rules(Config()).check("/v1/x", "{}"), "rejected by the provider's checks");
}

static void default_hooks_are_openai(void **) {
  auto parasail = obatch::find_provider("parasail");
  obatch::HttpRequest req;
  parasail->build(OBATCH_OP_RETRIEVE, {{"batch_id", "b1"}}, &req);
  assert_str_eq(req.target, "/batches/b1");
  obatch::Remote remote;
  parasail->parse(OBATCH_OP_RETRIEVE, 200, R"({"id":"b1","status":"in_progress"})", &remote);
  assert_str_eq(remote.get("status"), "in_progress");
}

static int build_inline(int op, const obatch_op_args_t *args, obatch_http_request_t *req, void *) {
  if (op != OBATCH_OP_CREATE) return OBATCH_EINVAL;
  req->req.method = "POST";
  req->req.target = "/messages/batches";
  req->req.body_file = args->values.at("input_path");
  return 0;
}

static int parse_refuses(int, int, const char *, size_t, obatch_remote_t *, void *payload) {
  return payload ? 1 : OBATCH_EAUTH;
}

static void user_hooks_are_used(void **) {
  obatch_provider_t t = user_table("inline");
  t.inline_requests = 1;
  t.build_request = build_inline;
  t.parse_response = parse_refuses;
  Provider p(t);
  assert_true(p.inline_requests());
  obatch::HttpRequest req;
  p.build(OBATCH_OP_CREATE, {{"input_path", "/tmp/in.jsonl"}}, &req);
  assert_str_eq(req.method, "POST");
  assert_str_eq(req.target, "/messages/batches");
  assert_str_eq(req.body_file, "/tmp/in.jsonl");
  EXPECT_ERROR(OBATCH_EINVAL, "provider inline could not build the request to retrieve batch",
               p.build(OBATCH_OP_RETRIEVE, {}, &req));
  obatch::Remote remote;
  // A negative code passes through; a positive one is a protocol error.
  EXPECT_ERROR(OBATCH_EAUTH, "provider inline could not read the answer to create batch",
               p.parse(OBATCH_OP_CREATE, 200, "{}", &remote));
  static int flag = 0;
  t.payload = &flag;
  Provider q(t);
  EXPECT_ERROR(OBATCH_EPROTOCOL, "could not read", q.parse(OBATCH_OP_CREATE, 200, "{}", &remote));
}

static const struct CMUnitTest provider_registry_tests[] = {
    cmocka_unit_test(builtins_are_registered),
    cmocka_unit_test(unknown_provider_lists_known),
    cmocka_unit_test(openai_models),
    cmocka_unit_test(parasail_models),
    cmocka_unit_test(unclaimed_model_is_eprovider),
    cmocka_unit_test(table_version_checked),
    cmocka_unit_test(table_needs_name_and_key_variable),
    cmocka_unit_test(duplicate_name_rejected),
    cmocka_unit_test(user_provider_claims_before_builtins),
    cmocka_unit_test(table_strings_are_copied),
    cmocka_unit_test(api_key_reads_only_own_variable),
    cmocka_unit_test(empty_api_key_variable_is_no_key),
    cmocka_unit_test(config_api_key_wins),
    cmocka_unit_test(base_url_config_then_env_then_default),
    cmocka_unit_test(base_url_without_default),
    cmocka_unit_test(openai_rules),
    cmocka_unit_test(rules_limits_from_config),
    cmocka_unit_test(parasail_rules),
    cmocka_unit_test(check_request_hook_in_rules),
    cmocka_unit_test(default_hooks_are_openai),
    cmocka_unit_test(user_hooks_are_used),
};

OBATCH_TEST_MAIN(provider_registry_tests, nullptr, nullptr)
