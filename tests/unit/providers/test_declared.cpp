// Providers declared in a JSON file, and the declarations obatch ships.
#include "core/config.hpp"
#include "core/input_rules.hpp"
#include "providers/provider.hpp"
#include "unit_support.hpp"

using obatch::HttpRequest;
using obatch::Remote;

static void shipped_hosts_are_registered(void **) {
  auto azure = obatch::find_provider("azure");
  assert_str_eq(azure->auth_header(), "api-key");
  assert_str_eq(azure->api_key_env(), "AZURE_OPENAI_API_KEY");
  obatch::Config conf;
  unsetenv("AZURE_OPENAI_BASE_URL");
  EXPECT_ERROR(OBATCH_ECONFIG, "no default base URL", azure->base_url(conf));
  obatch::InputRules rules = azure->rules(conf);
  assert_int_equal(rules.max_requests, 100000);
  assert_true(rules.one_model);
  // The legacy paths carry api-version.
  HttpRequest req;
  azure->build(OBATCH_OP_RETRIEVE, {{"batch_id", "batch_1"}}, &req);
  assert_str_eq(req.target, "/batches/batch_1?api-version=2024-10-21");
  HttpRequest list;
  azure->build(OBATCH_OP_LIST, {{"limit", "100"}}, &list);
  assert_str_eq(list.target, "/batches?limit=100&api-version=2024-10-21");
  HttpRequest v1;
  obatch::find_provider("azure-v1")->build(OBATCH_OP_RETRIEVE, {{"batch_id", "b"}}, &v1);
  assert_str_eq(v1.target, "/batches/b");
  // Statuses in any case.
  Remote r;
  azure->parse(OBATCH_OP_RETRIEVE, 200, "{\"id\":\"batch_1\",\"status\":\"Completed\"}", &r);
  assert_str_eq(r.get("status"), "completed");

  auto groq = obatch::find_provider("groq");
  assert_str_eq(groq->auth_header(), "");  // Bearer
  assert_str_eq(groq->base_url(conf), "https://api.groq.com/openai/v1");
  for (const char *ok : {"24h", "48h", "3d", "7d"})
    EXPECT_NO_ERROR(groq->check_completion_window(ok));
  EXPECT_ERROR(OBATCH_ECONFIG, "groq accepts 24h to 7d", groq->check_completion_window("8d"));
  EXPECT_ERROR(OBATCH_ECONFIG, "groq accepts", groq->check_completion_window("1h"));
  assert_int_equal(groq->rules(conf).endpoints.size(), 1);

  auto deepinfra = obatch::find_provider("deepinfra");
  assert_true(deepinfra->rules(conf).one_model);
  EXPECT_ERROR(OBATCH_ECONFIG, "accepts 24h", deepinfra->check_completion_window("48h"));
  // The built-ins still take only 24h.
  EXPECT_ERROR(OBATCH_ECONFIG, "openai accepts 24h",
               obatch::find_provider("openai")->check_completion_window("7d"));
}

static void a_file_declares_a_host(void **) {
  unit::TempDir dir;
  const std::string path = dir.file("providers.json");
  unit::write_all(path, R"({"providers": [{
      "name": "unit-host", "base_url": "https://llm.example.org/v1",
      "api_key_env": "UNIT_HOST_KEY", "auth_header": "x-unit-key",
      "query": {"tenant": "a b"}, "max_requests": 10, "max_bytes": 1000,
      "one_model": true, "endpoints": ["/v1/chat/completions"],
      "completion_windows": ["24h", "72h"], "models": ["unit-llama-*", "unit-exact"]}]})");
  obatch::load_providers_file(path);
  auto p = obatch::find_provider("unit-host");
  assert_str_eq(p->auth_header(), "x-unit-key");
  assert_true(p->claims_model("unit-llama-3"));
  assert_true(p->claims_model("unit-exact"));
  assert_false(p->claims_model("unit-exact-2"));
  assert_str_eq(obatch::provider_for_model("unit-llama-70b")->name(), "unit-host");
  obatch::Config conf;
  assert_int_equal(p->rules(conf).max_requests, 10);
  assert_int_equal(p->rules(conf).max_bytes, 1000);
  EXPECT_NO_ERROR(p->check_completion_window("72h"));
  EXPECT_ERROR(OBATCH_ECONFIG, "accepts 24h, 3d", p->check_completion_window("48h"));
  HttpRequest req;
  p->build(OBATCH_OP_CANCEL, {{"batch_id", "b1"}}, &req);
  assert_str_eq(req.target, "/batches/b1/cancel?tenant=a%20b");
  // Its key variable only: another provider's key is never read for it.
  unsetenv("UNIT_HOST_KEY");
  setenv("OPENAI_API_KEY", "sk-other", 1);
  EXPECT_ERROR(OBATCH_EAUTH, "UNIT_HOST_KEY", p->api_key(conf));
  unsetenv("OPENAI_API_KEY");
  // Loaded twice: the name is taken.
  EXPECT_ERROR(OBATCH_EINVAL, "already registered", obatch::load_providers_file(path));
}

static void a_file_loads_all_or_nothing(void **) {
  unit::TempDir dir;
  const std::string path = dir.file("providers.json");
  unit::write_all(path, R"({"providers": [
      {"name": "unit-first", "base_url": "https://a.example/v1", "api_key_env": "A_KEY"},
      {"name": "unit-first", "base_url": "https://b.example/v1", "api_key_env": "B_KEY"}]})");
  EXPECT_ERROR(OBATCH_EINVAL, "already registered", obatch::load_providers_file(path));
  EXPECT_ERROR(OBATCH_EPROVIDER, "unknown provider", obatch::find_provider("unit-first"));
}

static void bad_declarations_are_named(void **) {
  struct Case {
    const char *json, *message;
  } cases[] = {
      {"[]", "expected {\"providers\""},
      {"{\"providers\": [", "not JSON"},
      {"{\"providers\": [{\"name\": \"x\"}]}", "provider x: \"api_key_env\" is missing"},
      {"{\"providers\": [{\"name\": \"x\", \"api_key_env\": \"K\"}]}", "\"base_url\""},
      {"{\"providers\": [{\"name\": \"x\", \"api_key_env\": \"K\", \"base_url\": \"https://h\","
       " \"auth_header\": \"Authorization\"}]}",
       "say \"bearer\""},
      {"{\"providers\": [{\"name\": \"x\", \"api_key_env\": \"K\", \"base_url\": \"https://h\","
       " \"base_ulr\": \"https://h\"}]}",
       "unknown key \"base_ulr\""},
      {"{\"providers\": [{\"name\": \"x\", \"api_key_env\": \"K\", \"base_url\": \"https://h\","
       " \"completion_windows\": [\"7d..24h\"]}]}",
       "completion window"},
      {"{\"providers\": [{\"name\": \"x\", \"api_key_env\": \"K\", \"base_url\": \"https://h\","
       " \"max_requests\": -1}]}",
       "\"max_requests\" must be an integer"},
      {"{\"providers\": [{\"name\": \"a b\", \"api_key_env\": \"K\", \"base_url\": "
       "\"https://h\"}]}",
       "letters, digits"},
  };
  for (const Case &c : cases)
    EXPECT_ERROR(OBATCH_ECONFIG, c.message, obatch::declared_providers(c.json, "test.json"));
  EXPECT_ERROR(OBATCH_ECONFIG, "cannot read it",
               obatch::load_providers_file("/nonexistent/providers.json"));
}

static const struct CMUnitTest declared_tests[] = {
    cmocka_unit_test(shipped_hosts_are_registered),
    cmocka_unit_test(a_file_declares_a_host),
    cmocka_unit_test(a_file_loads_all_or_nothing),
    cmocka_unit_test(bad_declarations_are_named),
};

OBATCH_TEST_MAIN(declared_tests, nullptr, nullptr)
