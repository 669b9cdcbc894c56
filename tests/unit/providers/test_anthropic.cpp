// Anthropic's Message Batches behind the vtable: requests, answers, statuses,
// times, result lines and the custom_id alphabet.
#include "core/config.hpp"
#include "core/id_map.hpp"
#include "core/input_rules.hpp"
#include "core/result_line.hpp"
#include "providers/anthropic.hpp"
#include "providers/provider.hpp"
#include "unit_support.hpp"

using obatch::Fields;
using obatch::HttpRequest;
using obatch::Remote;

static std::shared_ptr<const obatch::Provider> anthropic() {
  return obatch::find_provider("anthropic");
}

static std::string header(const HttpRequest &req, const std::string &name) {
  for (auto &h : req.headers)
    if (h.first == name) return h.second;
  return "";
}

static void table_facts(void **) {
  auto p = anthropic();
  assert_str_eq(p->api_key_env(), "ANTHROPIC_API_KEY");
  assert_str_eq(p->auth_header(), "x-api-key");
  assert_true(p->inline_requests());
  assert_true(p->no_metadata());
  assert_true(p->converts_results());
  assert_true(p->claims_model("claude-sonnet-4-5"));
  assert_false(p->claims_model("gpt-4o"));
  assert_str_eq(obatch::provider_for_model("claude-3-5-haiku-latest")->name(), "anthropic");
  obatch::Config conf;
  unsetenv("ANTHROPIC_BASE_URL");
  assert_str_eq(p->base_url(conf), "https://api.anthropic.com");
  obatch::InputRules rules = p->rules(conf);
  assert_int_equal(rules.max_requests, 100000);
  assert_int_equal(rules.max_bytes, 256000000);
  assert_int_equal(rules.endpoints.size(), 1);
  assert_str_eq(rules.endpoints[0], "/v1/messages");
  // max_tokens is required.
  assert_contains(rules.check("/v1/messages", "{\"model\":\"claude-x\",\"messages\":[]}"),
                  "max_tokens");
  assert_contains(rules.check("/v1/messages", "{\"max_tokens\":0}"), ">= 1");
  assert_str_eq(rules.check("/v1/messages", "{\"max_tokens\":10}"), "");
  EXPECT_NO_ERROR(p->check_completion_window("24h"));
  EXPECT_ERROR(OBATCH_ECONFIG, "anthropic accepts 24h", p->check_completion_window("48h"));
}

static void custom_id_alphabet(void **) {
  for (const char *ok : {"a", "A-z_0-9", "request-1"})
    assert_true(obatch::anthropic_accepts_custom_id(ok));
  assert_true(obatch::anthropic_accepts_custom_id(std::string(64, 'x')));
  assert_false(obatch::anthropic_accepts_custom_id(std::string(65, 'x')));
  for (const char *bad : {"", "a b", "a.b", "a/b", "é", "a:b"})
    assert_false(obatch::anthropic_accepts_custom_id(bad));
}

static void status_mapping(void **) {
  assert_str_eq(obatch::anthropic_status("in_progress", false, 0), "in_progress");
  assert_str_eq(obatch::anthropic_status("canceling", true, 0), "cancelling");
  assert_str_eq(obatch::anthropic_status("ended", false, 0), "completed");
  assert_str_eq(obatch::anthropic_status("ended", false, 2), "expired");
  assert_str_eq(obatch::anthropic_status("ended", true, 2), "cancelled");
  assert_str_eq(obatch::anthropic_status("something_new", false, 0), "something_new");
}

static void rfc3339_times(void **) {
  assert_int_equal(obatch::rfc3339_to_unix("2024-09-24T18:37:24Z"), 1727203044);
  assert_int_equal(obatch::rfc3339_to_unix("2024-09-24T18:37:24.100435Z"), 1727203044);
  assert_int_equal(obatch::rfc3339_to_unix("2024-09-24T20:37:24+02:00"), 1727203044);
  assert_int_equal(obatch::rfc3339_to_unix("2024-09-24T16:37:24.5-02:00"), 1727203044);
  assert_int_equal(obatch::rfc3339_to_unix("2024-09-24T18:37:24-02:00"), 1727203044 + 2 * 3600);
  for (const char *bad : {"", "2024-09-24", "2024-09-24T18:37:24", "2024-13-01T00:00:00Z",
                          "2024-09-24T18:37:24Zjunk", "2024-09-24T18:37:24.Z", "1727203044"})
    assert_int_equal(obatch::rfc3339_to_unix(bad), -1);
}

static const char kBatch[] =
    "{\"id\":\"msgbatch_01\",\"type\":\"message_batch\",\"processing_status\":\"ended\","
    "\"request_counts\":{\"processing\":0,\"succeeded\":3,\"errored\":1,\"canceled\":0,"
    "\"expired\":2},\"ended_at\":\"2024-09-25T18:37:24Z\",\"created_at\":"
    "\"2024-09-24T18:37:24.1Z\",\"expires_at\":\"2024-09-25T18:37:24Z\",\"archived_at\":null,"
    "\"cancel_initiated_at\":null,\"results_url\":"
    "\"https://api.anthropic.com/v1/messages/batches/msgbatch_01/results\"}";

static void batch_object_as_fields(void **) {
  Remote r;
  anthropic()->parse(OBATCH_OP_RETRIEVE, 200, kBatch, &r);
  assert_str_eq(r.get("batch_id"), "msgbatch_01");
  assert_str_eq(r.get("status"), "expired");
  assert_str_eq(r.get("provider_status"), "ended");  // the raw status stays visible
  assert_str_eq(r.get("requests_total"), "6");
  assert_str_eq(r.get("requests_completed"), "3");
  assert_str_eq(r.get("requests_failed"), "1");
  assert_str_eq(r.get("created_at"), "1727203044");
  assert_str_eq(r.get("expired_at"), std::to_string(1727203044 + 86400));
  assert_str_eq(r.get("completed_at"), "");
  assert_str_eq(r.get("output_file_id"),
                "https://api.anthropic.com/v1/messages/batches/msgbatch_01/results");
  assert_contains(r.get("batch_json"), "\"expired\":2");
  // In progress: no results yet.
  Remote running;
  anthropic()->parse(OBATCH_OP_CREATE, 200,
                     "{\"id\":\"b2\",\"processing_status\":\"in_progress\",\"request_counts\":"
                     "{\"processing\":2,\"succeeded\":0,\"errored\":0,\"canceled\":0,"
                     "\"expired\":0},\"created_at\":\"2024-09-24T18:37:24Z\","
                     "\"results_url\":null,\"cancel_initiated_at\":null}",
                     &running);
  assert_str_eq(running.get("status"), "in_progress");
  assert_str_eq(running.get("output_file_id"), "");
  assert_str_eq(running.get("requests_total"), "2");
  Remote bad;
  EXPECT_ERROR(OBATCH_EPROTOCOL, "could not read",
               anthropic()->parse(OBATCH_OP_RETRIEVE, 200, "{\"id\":\"x\"}", &bad));
}

static void list_page(void **) {
  Remote r;
  std::string body = std::string("{\"data\":[") + kBatch +
                     ",{\"id\":\"msgbatch_00\",\"processing_status\":\"in_progress\"}],"
                     "\"has_more\":true,\"first_id\":\"msgbatch_01\",\"last_id\":\"msgbatch_00\"}";
  anthropic()->parse(OBATCH_OP_LIST, 200, body, &r);
  assert_int_equal(r.items.size(), 2);
  assert_str_eq(r.items[0]["batch_id"], "msgbatch_01");
  assert_str_eq(r.items[1]["status"], "in_progress");
  assert_str_eq(r.get("has_more"), "true");
  assert_str_eq(r.get("last_id"), "msgbatch_00");
  HttpRequest req;
  anthropic()->build(OBATCH_OP_LIST, {{"limit", "100"}, {"after", "msgbatch_00"}}, &req);
  assert_str_eq(req.target, "/v1/messages/batches?limit=100&after_id=msgbatch_00");
}

static void requests_built(void **) {
  unit::TempDir dir;
  const std::string input = dir.file("in.jsonl");
  unit::write_all(input,
                  "{\"custom_id\":\"a b\",\"method\":\"POST\",\"url\":\"/v1/messages\",\"body\":"
                  "{\"model\":\"claude-x\",\"max_tokens\":5,\"messages\":[]}}\n"
                  "{\"custom_id\":\"ok\",\"method\":\"POST\",\"url\":\"/v1/messages\",\"body\":"
                  "{ \"model\": \"claude-x\", \"max_tokens\": 6, \"messages\": [] }}\n");
  HttpRequest req;
  anthropic()->build(OBATCH_OP_CREATE,
                     {{"input_path", input},
                      {"endpoint", "/v1/messages"},
                      {"metadata", "{\"obatch_job\":\"x\"}"},
                      {"id_map", "{\"a b\":\"obm-1\"}"}},
                     &req);
  assert_str_eq(req.method, "POST");
  assert_str_eq(req.target, "/v1/messages/batches");
  assert_str_eq(req.content_type, "application/json");
  assert_str_eq(header(req, "anthropic-version"), "2023-06-01");
  assert_str_eq(req.body,
                "{\"requests\":[{\"custom_id\":\"obm-1\",\"params\":{\"model\":\"claude-x\","
                "\"max_tokens\":5,\"messages\":[]}},{\"custom_id\":\"ok\",\"params\":{\"model\":"
                "\"claude-x\",\"max_tokens\":6,\"messages\":[]}}]}");
  HttpRequest get, cancel, download;
  anthropic()->build(OBATCH_OP_RETRIEVE, {{"batch_id", "msgbatch_01"}}, &get);
  assert_str_eq(get.target, "/v1/messages/batches/msgbatch_01");
  anthropic()->build(OBATCH_OP_CANCEL, {{"batch_id", "msgbatch_01"}}, &cancel);
  assert_str_eq(cancel.method, "POST");
  assert_str_eq(cancel.target, "/v1/messages/batches/msgbatch_01/cancel");
  anthropic()->build(OBATCH_OP_DOWNLOAD, {{"file_id", "https://api.anthropic.com/r"}}, &download);
  assert_str_eq(download.target, "https://api.anthropic.com/r");
  HttpRequest upload;
  EXPECT_ERROR(OBATCH_EINVAL, "could not build",
               anthropic()->build(OBATCH_OP_UPLOAD, {{"input_path", input}}, &upload));
}

static void results_converted(void **) {
  unit::TempDir dir;
  const std::string raw = dir.file("raw.jsonl"), out = dir.file("out.jsonl"),
                    err = dir.file("err.jsonl");
  unit::write_all(
      raw,
      "{\"custom_id\":\"obm-1\",\"result\":{\"type\":\"succeeded\",\"message\":{\"id\":"
      "\"msg_1\",\"type\":\"message\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}}}\n"
      "{\"custom_id\":\"e1\",\"result\":{\"type\":\"errored\",\"error\":{\"type\":\"error\","
      "\"error\":{\"type\":\"invalid_request_error\",\"message\":\"bad params\"}}}}\n"
      "{\"custom_id\":\"e2\",\"result\":{\"type\":\"errored\",\"error\":{\"type\":"
      "\"overloaded_error\",\"message\":\"busy\"}}}\n"
      "{\"custom_id\":\"c1\",\"result\":{\"type\":\"canceled\"}}\n"
      "{\"custom_id\":\"x1\",\"result\":{\"type\":\"expired\"}}\n"
      "{\"custom_id\":\"u1\",\"result\":{\"type\":\"mystery\"}}\n");
  obatch::ConvertCounts n =
      obatch::convert_anthropic_results(raw, out, err, {{"obm-1", "user's id 1"}});
  assert_int_equal(n.succeeded, 1);
  assert_int_equal(n.errored, 3);
  assert_int_equal(n.canceled, 1);
  assert_int_equal(n.expired, 1);
  // Every line reads as an OpenAI result line, with the user's id.
  std::istringstream outs(unit::read_all(out)), errs(unit::read_all(err));
  std::string line;
  std::getline(outs, line);
  obatch::ResultLine r = obatch::parse_result_line(line, "out");
  assert_str_eq(r.custom_id, "user's id 1");
  assert_int_equal(r.kind, OBATCH_RESULT_SUCCEEDED);
  assert_int_equal(r.status_code, 200);
  assert_str_eq(r.request_id, "msg_1");
  assert_contains(r.body, "\"text\":\"hi\"");
  assert_false(static_cast<bool>(std::getline(outs, line)));
  std::getline(errs, line);
  r = obatch::parse_result_line(line, "err");
  assert_str_eq(r.custom_id, "e1");
  assert_int_equal(r.kind, OBATCH_RESULT_HTTP_ERROR);
  assert_int_equal(r.status_code, 400);
  assert_str_eq(r.error_code, "invalid_request_error");
  assert_str_eq(r.error_message, "bad params");
  std::getline(errs, line);
  r = obatch::parse_result_line(line, "err");
  assert_int_equal(r.status_code, 529);
  assert_str_eq(r.error_code, "overloaded_error");
  std::getline(errs, line);
  r = obatch::parse_result_line(line, "err");
  assert_str_eq(r.custom_id, "u1");
  assert_int_equal(r.kind, OBATCH_RESULT_ERROR);
  assert_str_eq(r.error_code, "unknown_result_type");
  assert_false(static_cast<bool>(std::getline(errs, line)));  // canceled and expired: missing
  // A cut line is a protocol error (the download is fetched again).
  unit::write_all(raw, "{\"custom_id\":\"a\",\"result\":{\"type\":\"succ");
  EXPECT_ERROR(OBATCH_EPROTOCOL, "results line 1",
               obatch::convert_anthropic_results(raw, out, err, {}));
}

static const struct CMUnitTest anthropic_tests[] = {
    cmocka_unit_test(table_facts),
    cmocka_unit_test(custom_id_alphabet),
    cmocka_unit_test(status_mapping),
    cmocka_unit_test(rfc3339_times),
    cmocka_unit_test(batch_object_as_fields),
    cmocka_unit_test(list_page),
    cmocka_unit_test(requests_built),
    cmocka_unit_test(results_converted),
};

OBATCH_TEST_MAIN(anthropic_tests, nullptr, nullptr)
