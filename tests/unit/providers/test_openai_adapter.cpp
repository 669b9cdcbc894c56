// The OpenAI-compatible request builders and response parsers (WIRE.md).
#include "providers/openai_adapter.hpp"
#include "unit_support.hpp"

using obatch::Fields;
using obatch::HttpRequest;
using obatch::Remote;

static HttpRequest build(int op, const Fields &args) {
  HttpRequest req;
  obatch::openai_build(op, args, &req);
  return req;
}

static Remote parse(int op, const std::string &body) {
  Remote r;
  obatch::openai_parse(op, body, &r);
  return r;
}

static std::string field(const Fields &f, const std::string &key) {
  auto it = f.find(key);
  return it == f.end() ? "<absent>" : it->second;
}

// ---- build -----------------------------------------------------------------

static void build_upload_is_multipart(void **) {
  HttpRequest req =
      build(OBATCH_OP_UPLOAD,
            {{"input_path", "/tmp/w/in.jsonl"}, {"filename", "in.jsonl"}, {"bytes", "123"}});
  assert_str_eq(req.method, "POST");
  assert_str_eq(req.target, "/files");
  assert_str_eq(req.body, "");
  assert_int_equal(req.form.size(), 2);
  assert_str_eq(req.form[0].name, "purpose");
  assert_str_eq(req.form[0].value, "batch");
  assert_str_eq(req.form[0].path, "");
  assert_str_eq(req.form[1].name, "file");
  assert_str_eq(req.form[1].path, "/tmp/w/in.jsonl");
  assert_str_eq(req.form[1].filename, "in.jsonl");
  assert_str_eq(req.form[1].type, "application/jsonl");
}

static void build_upload_missing_arg(void **) {
  EXPECT_ERROR(OBATCH_EINVAL, "upload input file: argument 'filename' is missing",
               build(OBATCH_OP_UPLOAD, {{"input_path", "/tmp/x"}}));
  EXPECT_ERROR(OBATCH_EINVAL, "argument 'input_path' is missing",
               build(OBATCH_OP_UPLOAD, {{"input_path", ""}, {"filename", "x"}}));
}

static void build_create_json_body(void **) {
  HttpRequest req = build(OBATCH_OP_CREATE, {{"input_file_id", "file-abc"},
                                             {"endpoint", "/v1/chat/completions"},
                                             {"metadata", R"({"obatch_job":"j1","team":"x"})"}});
  assert_str_eq(req.method, "POST");
  assert_str_eq(req.target, "/batches");
  assert_str_eq(req.content_type, "application/json");
  assert_str_eq(req.body,
                R"({"input_file_id":"file-abc","endpoint":"/v1/chat/completions",)"
                R"("completion_window":"24h","metadata":{"obatch_job":"j1","team":"x"}})");
  assert_true(req.form.empty());
}

static void build_create_without_metadata(void **) {
  HttpRequest req = build(OBATCH_OP_CREATE, {{"input_file_id", "file-\"q\""},
                                             {"endpoint", "/v1/embeddings"},
                                             {"completion_window", "24h"}});
  assert_str_eq(req.body, R"({"input_file_id":"file-\"q\"","endpoint":"/v1/embeddings",)"
                          R"("completion_window":"24h"})");
}

static void build_create_missing_arg(void **) {
  EXPECT_ERROR(OBATCH_EINVAL, "create batch: argument 'input_file_id' is missing",
               build(OBATCH_OP_CREATE, {{"endpoint", "/v1/embeddings"}}));
  EXPECT_ERROR(OBATCH_EINVAL, "argument 'endpoint' is missing",
               build(OBATCH_OP_CREATE, {{"input_file_id", "f"}}));
}

static void build_retrieve_and_cancel(void **) {
  HttpRequest req = build(OBATCH_OP_RETRIEVE, {{"batch_id", "batch_123"}});
  assert_str_eq(req.method, "GET");
  assert_str_eq(req.target, "/batches/batch_123");
  req = build(OBATCH_OP_CANCEL, {{"batch_id", "batch_123"}});
  assert_str_eq(req.method, "POST");
  assert_str_eq(req.target, "/batches/batch_123/cancel");
  EXPECT_ERROR(OBATCH_EINVAL, "retrieve batch: argument 'batch_id'", build(OBATCH_OP_RETRIEVE, {}));
  EXPECT_ERROR(OBATCH_EINVAL, "cancel batch: argument 'batch_id'", build(OBATCH_OP_CANCEL, {}));
}

static void build_escapes_ids(void **) {
  // Ids are opaque: one must never walk out of its path segment.
  HttpRequest req = build(OBATCH_OP_RETRIEVE, {{"batch_id", "../files/x y?z"}});
  assert_str_eq(req.target, "/batches/..%2Ffiles%2Fx%20y%3Fz");
  req = build(OBATCH_OP_DOWNLOAD, {{"file_id", "a/b"}});
  assert_str_eq(req.target, "/files/a%2Fb/content");
}

static void build_download_and_file_info(void **) {
  HttpRequest req = build(OBATCH_OP_DOWNLOAD, {{"file_id", "file-out"}});
  assert_str_eq(req.method, "GET");
  assert_str_eq(req.target, "/files/file-out/content");
  req = build(OBATCH_OP_FILE_INFO, {{"file_id", "file-out"}});
  assert_str_eq(req.method, "GET");
  assert_str_eq(req.target, "/files/file-out");
  EXPECT_ERROR(OBATCH_EINVAL, "download file: argument 'file_id'", build(OBATCH_OP_DOWNLOAD, {}));
  EXPECT_ERROR(OBATCH_EINVAL, "retrieve file: argument 'file_id'", build(OBATCH_OP_FILE_INFO, {}));
}

static void build_list_query_strings(void **) {
  assert_str_eq(build(OBATCH_OP_LIST, {{"after", "batch_9"}, {"limit", "100"}}).target,
                "/batches?after=batch_9&limit=100");
  assert_str_eq(build(OBATCH_OP_LIST, {{"limit", "20"}}).target, "/batches?limit=20");
  assert_str_eq(build(OBATCH_OP_LIST, {}).target, "/batches");
  assert_str_eq(build(OBATCH_OP_LIST, {{"after", "a&b=c"}}).target, "/batches?after=a%26b%3Dc");
  assert_str_eq(build(OBATCH_OP_LIST, {}).method, "GET");
}

static void build_list_files_query_strings(void **) {
  HttpRequest req = build(OBATCH_OP_LIST_FILES, {{"purpose", "batch"}, {"limit", "10"}});
  assert_str_eq(req.method, "GET");
  assert_str_eq(req.target, "/files?purpose=batch&limit=10");
  assert_str_eq(
      build(OBATCH_OP_LIST_FILES, {{"purpose", "batch"}, {"after", "file-1"}, {"limit", "2"}})
          .target,
      "/files?purpose=batch&after=file-1&limit=2");
}

static void build_unknown_op(void **) {
  EXPECT_ERROR(OBATCH_EINVAL, "unknown provider operation 99", build(99, {}));
}

static void escape_segment_directly(void **) {
  assert_str_eq(obatch::escape_segment("AZaz09-_.~"), "AZaz09-_.~");
  assert_str_eq(obatch::escape_segment("a b/c%"), "a%20b%2Fc%25");
  assert_str_eq(obatch::escape_segment("\xC3\xA9"), "%C3%A9");
  assert_str_eq(obatch::escape_segment(""), "");
}

// ---- parse -----------------------------------------------------------------

static void parse_upload_file_object(void **) {
  Remote r =
      parse(OBATCH_OP_UPLOAD,
            R"({"id":"file-abc","object":"file","bytes":120,"created_at":1700000000,)"
            R"("filename":"in.jsonl","purpose":"batch","status":"processed","expires_at":null})");
  assert_str_eq(r.get("file_id"), "file-abc");
  assert_str_eq(r.get("file_bytes"), "120");
  assert_str_eq(r.get("filename"), "in.jsonl");
  assert_str_eq(r.get("purpose"), "batch");
  assert_true(r.items.empty());
}

static void parse_file_info_without_id(void **) {
  EXPECT_ERROR(OBATCH_EPROTOCOL, "retrieve file: the answer has no file id",
               parse(OBATCH_OP_FILE_INFO, R"({"object":"file","bytes":1})"));
  EXPECT_ERROR(OBATCH_EPROTOCOL, "upload input file: the answer has no file id",
               parse(OBATCH_OP_UPLOAD, R"({"id":null})"));
}

static const char kFullBatch[] =
    R"({"id":"batch_abc","object":"batch","endpoint":"/v1/chat/completions",)"
    R"("model":"gpt-4o-2024-08-06","errors":null,"input_file_id":"file-in",)"
    R"("completion_window":"24h","status":"completed","output_file_id":"file-out",)"
    R"("error_file_id":"file-err","created_at":1711471533,"in_progress_at":1711471538,)"
    R"("expires_at":1711557933,"finalizing_at":1711493133,"completed_at":1711493163,)"
    R"("failed_at":null,"expired_at":null,"cancelling_at":null,"cancelled_at":null,)"
    R"("request_counts":{"total":100,"completed":95,"failed":5},)"
    R"("usage":{"input_tokens":1500,"input_tokens_details":{"cached_tokens":0},)"
    R"("output_tokens":500,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":2000},)"
    R"("metadata":{"obatch_job":"job-1","team":"nlp"},"unknown_new_field":{"x":[1]}})";

static void parse_batch_every_field(void **) {
  Remote r = parse(OBATCH_OP_RETRIEVE, kFullBatch);
  assert_str_eq(r.get("batch_id"), "batch_abc");
  assert_str_eq(r.get("status"), "completed");
  assert_str_eq(r.get("endpoint"), "/v1/chat/completions");
  assert_str_eq(r.get("input_file_id"), "file-in");
  assert_str_eq(r.get("output_file_id"), "file-out");
  assert_str_eq(r.get("error_file_id"), "file-err");
  assert_str_eq(r.get("created_at"), "1711471533");
  assert_str_eq(r.get("model"), "gpt-4o-2024-08-06");
  assert_str_eq(r.get("requests_total"), "100");
  assert_str_eq(r.get("requests_completed"), "95");
  assert_str_eq(r.get("requests_failed"), "5");
  assert_str_eq(r.get("metadata.obatch_job"), "job-1");
  assert_str_eq(r.get("metadata.team"), "nlp");
  assert_str_eq(field(r.page, "error_message"), "<absent>");
}

// The Batch schema's example in the OpenAPI spec (shared/openapi), as the
// API sends it: pretty-printed. (The spec's copy has a trailing comma after
// the last metadata pair, which is not JSON; dropped here.)
static const char kSpecExample[] = R"({
  "id": "batch_abc123",
  "object": "batch",
  "endpoint": "/v1/completions",
  "model": "gpt-5-2025-08-07",
  "errors": null,
  "input_file_id": "file-abc123",
  "completion_window": "24h",
  "status": "completed",
  "output_file_id": "file-cvaTdG",
  "error_file_id": "file-HOWS94",
  "created_at": 1711471533,
  "in_progress_at": 1711471538,
  "expires_at": 1711557933,
  "finalizing_at": 1711493133,
  "completed_at": 1711493163,
  "failed_at": null,
  "expired_at": null,
  "cancelling_at": null,
  "cancelled_at": null,
  "request_counts": {
    "total": 100,
    "completed": 95,
    "failed": 5
  },
  "usage": {
    "input_tokens": 1500,
    "input_tokens_details": {
      "cached_tokens": 1024
    },
    "output_tokens": 500,
    "output_tokens_details": {
      "reasoning_tokens": 300
    },
    "total_tokens": 2000
  },
  "metadata": {
    "customer_id": "user_123456789",
    "batch_description": "Nightly eval job"
  }
})";

static void parse_batch_spec_example_steps_usage_json(void **) {
  for (int op : {OBATCH_OP_RETRIEVE, OBATCH_OP_CANCEL, OBATCH_OP_CREATE}) {
    Remote r = parse(op, kSpecExample);
    assert_str_eq(r.get("batch_id"), "batch_abc123");
    assert_str_eq(r.get("model"), "gpt-5-2025-08-07");
    assert_str_eq(r.get("completion_window"), "24h");
    assert_str_eq(r.get("output_file_id"), "file-cvaTdG");
    assert_str_eq(r.get("error_file_id"), "file-HOWS94");
    assert_str_eq(r.get("in_progress_at"), "1711471538");
    assert_str_eq(r.get("finalizing_at"), "1711493133");
    assert_str_eq(r.get("completed_at"), "1711493163");
    assert_str_eq(r.get("expires_at"), "1711557933");
    for (const char *key : {"failed_at", "expired_at", "cancelling_at", "cancelled_at"})
      assert_str_eq(field(r.page, key), "<absent>");
    assert_str_eq(r.get("input_tokens"), "1500");
    assert_str_eq(r.get("output_tokens"), "500");
    assert_str_eq(r.get("total_tokens"), "2000");
    // The details stay inside the object; only the three counts are fields.
    assert_str_eq(field(r.page, "cached_tokens"), "<absent>");
    const std::string json = r.get("batch_json");
    assert_true(json.rfind(R"({"id":"batch_abc123","object":"batch","endpoint":)", 0) == 0);
    assert_contains(
        json, R"("usage":{"input_tokens":1500,"input_tokens_details":{"cached_tokens":1024})");
    assert_contains(json, R"("metadata":{"customer_id":"user_123456789",)");
    assert_contains(json, R"("failed_at":null)");
    assert_false(unit::contains(json, "\n"));
    assert_false(unit::contains(json, ": "));
  }
}

static void parse_list_items_have_the_new_fields(void **) {
  Remote r = parse(OBATCH_OP_LIST, std::string(R"({"object":"list","data":[)") + kSpecExample +
                                       R"(],"has_more":false})");
  assert_int_equal(r.items.size(), 1);
  assert_str_eq(field(r.items[0], "completed_at"), "1711493163");
  assert_str_eq(field(r.items[0], "total_tokens"), "2000");
  assert_contains(field(r.items[0], "batch_json"), R"("id":"batch_abc123")");
  assert_str_eq(field(r.page, "batch_json"), "<absent>");
}

static void parse_batch_with_every_optional_null(void **) {
  // WIRE.md: every optional field may be null; a fresh batch has most so.
  Remote r =
      parse(OBATCH_OP_CREATE,
            R"({"id":"batch_new","object":"batch","endpoint":"/v1/embeddings",)"
            R"("model":null,"errors":null,"input_file_id":"file-in","completion_window":"24h",)"
            R"("status":"validating","output_file_id":null,"error_file_id":null,)"
            R"("created_at":1711471533,"in_progress_at":null,"expires_at":null,)"
            R"("finalizing_at":null,"completed_at":null,"failed_at":null,"expired_at":null,)"
            R"("cancelling_at":null,"cancelled_at":null,"request_counts":null,)"
            R"("usage":null,"metadata":null})");
  assert_str_eq(r.get("batch_id"), "batch_new");
  assert_str_eq(r.get("status"), "validating");
  assert_str_eq(r.get("input_file_id"), "file-in");
  // Nulls are simply absent, never the text "null".
  for (const char *key :
       {"model", "output_file_id", "error_file_id", "requests_total", "error_message",
        "in_progress_at", "expires_at", "finalizing_at", "completed_at", "failed_at", "expired_at",
        "cancelling_at", "cancelled_at", "input_tokens", "output_tokens", "total_tokens"})
    assert_str_eq(field(r.page, key), "<absent>");
  for (auto &kv : r.page)
    if (kv.second == "null") fail_msg("field %s is the text null", kv.first.c_str());
}

static void parse_batch_null_counts_inside(void **) {
  Remote r = parse(
      OBATCH_OP_RETRIEVE,
      R"({"id":"b","status":"in_progress","request_counts":{"total":3,"completed":null,"failed":0}})");
  assert_str_eq(r.get("requests_total"), "3");
  assert_str_eq(field(r.page, "requests_completed"), "<absent>");
  assert_str_eq(r.get("requests_failed"), "0");
}

static void parse_batch_errors_data(void **) {
  Remote r =
      parse(OBATCH_OP_RETRIEVE,
            R"({"id":"b","status":"failed","errors":{"object":"list","data":[)"
            R"({"code":"invalid_json","message":"Invalid JSON","param":null,"line":3},)"
            R"({"code":"invalid_value","message":"Bad model","param":"body.model","line":7},)"
            R"({"code":null,"message":"File is empty","param":null,"line":null}]}})");
  assert_str_eq(r.get("status"), "failed");
  assert_str_eq(r.get("error_message"),
                "line 3: Invalid JSON (invalid_json); line 7: Bad model (invalid_value, param "
                "body.model); File is empty");
}

static void parse_batch_errors_data_shows_five(void **) {
  std::string data;
  for (int i = 1; i <= 7; i++)
    data += std::string(i > 1 ? "," : "") + R"({"message":"m)" + std::to_string(i) +
            R"(","line":)" + std::to_string(i) + "}";
  Remote r =
      parse(OBATCH_OP_RETRIEVE, R"({"id":"b","status":"failed","errors":{"data":[)" + data + "]}}");
  std::string msg = r.get("error_message");
  assert_contains(msg, "line 5: m5");
  assert_false(unit::contains(msg, "line 6"));
  assert_contains(msg, "; and 2 more");
}

static void parse_batch_metadata_strings_only(void **) {
  Remote r = parse(OBATCH_OP_RETRIEVE,
                   R"({"id":"b","status":"completed","metadata":{"a":"1","n":2,"z":null,"e":""}})");
  assert_str_eq(r.get("metadata.a"), "1");
  assert_str_eq(field(r.page, "metadata.n"), "<absent>");
  assert_str_eq(field(r.page, "metadata.z"), "<absent>");
  assert_str_eq(field(r.page, "metadata.e"), "");  // an empty value is still a pair
}

static void parse_batch_without_id_or_status(void **) {
  EXPECT_ERROR(OBATCH_EPROTOCOL, "create batch: the answer has no batch id or status",
               parse(OBATCH_OP_CREATE, R"({"id":"b","status":null})"));
  EXPECT_ERROR(OBATCH_EPROTOCOL, "cancel batch: the answer has no batch id or status",
               parse(OBATCH_OP_CANCEL, R"({"status":"cancelling"})"));
}

static void parse_list_of_batches(void **) {
  Remote r = parse(
      OBATCH_OP_LIST,
      R"({"object":"list","data":[)"
      R"({"id":"batch_1","object":"batch","status":"completed","endpoint":"/v1/embeddings","metadata":{"obatch_job":"j"}},)"
      R"({"id":"batch_2","object":"batch","status":"in_progress","output_file_id":null}],)"
      R"("first_id":"batch_1","last_id":"batch_2","has_more":true})");
  assert_int_equal(r.items.size(), 2);
  assert_str_eq(field(r.items[0], "batch_id"), "batch_1");
  assert_str_eq(field(r.items[0], "status"), "completed");
  assert_str_eq(field(r.items[0], "metadata.obatch_job"), "j");
  assert_str_eq(field(r.items[1], "batch_id"), "batch_2");
  assert_str_eq(field(r.items[1], "output_file_id"), "<absent>");
  assert_str_eq(r.get("has_more"), "true");
  assert_str_eq(r.get("last_id"), "batch_2");
  assert_str_eq(field(r.page, "batch_id"), "<absent>");  // items stay items
}

static void parse_list_last_page(void **) {
  Remote r =
      parse(OBATCH_OP_LIST, R"({"object":"list","data":[{"id":"batch_7","status":"failed"}],)"
                            R"("first_id":null,"last_id":null,"has_more":false})");
  assert_str_eq(r.get("has_more"), "false");
  assert_str_eq(r.get("last_id"), "batch_7");  // from the last item when null
  Remote empty = parse(OBATCH_OP_LIST, R"({"object":"list","data":[],"has_more":false})");
  assert_int_equal(empty.items.size(), 0);
  assert_str_eq(field(empty.page, "last_id"), "<absent>");
}

static void parse_list_of_files(void **) {
  Remote r =
      parse(OBATCH_OP_LIST_FILES,
            R"({"object":"list","data":[)"
            R"({"id":"file-1","object":"file","bytes":10,"filename":"a.jsonl","purpose":"batch"},)"
            R"({"id":"file-2","object":"file","bytes":20,"filename":"b.jsonl","purpose":"batch"}],)"
            R"("has_more":false})");
  assert_int_equal(r.items.size(), 2);
  assert_str_eq(field(r.items[1], "file_id"), "file-2");
  assert_str_eq(field(r.items[1], "file_bytes"), "20");
  assert_str_eq(field(r.items[0], "filename"), "a.jsonl");
  assert_str_eq(r.get("last_id"), "file-2");
  assert_str_eq(r.get("has_more"), "false");
}

static void parse_list_without_data(void **) {
  EXPECT_ERROR(OBATCH_EPROTOCOL, "list batches: the answer has no data list",
               parse(OBATCH_OP_LIST, R"({"object":"list","data":null})"));
  EXPECT_ERROR(OBATCH_EPROTOCOL, "list files: the answer has no data list",
               parse(OBATCH_OP_LIST_FILES, R"({"object":"list"})"));
}

static void parse_non_object_is_eprotocol(void **) {
  EXPECT_ERROR(OBATCH_EPROTOCOL, "retrieve batch: the answer is not a JSON object",
               parse(OBATCH_OP_RETRIEVE, "[]"));
  EXPECT_ERROR(OBATCH_EPROTOCOL, "upload input file: the answer is not a JSON object",
               parse(OBATCH_OP_UPLOAD, "<html>Bad Gateway</html>"));
  EXPECT_ERROR(OBATCH_EPROTOCOL, "not a JSON object", parse(OBATCH_OP_LIST, ""));
  EXPECT_ERROR(OBATCH_EPROTOCOL, "not a JSON object", parse(OBATCH_OP_CREATE, "\"string\""));
}

// Found by fuzz/fuzz_provider_responses (corpus: retrieve_double_overflow.json):
// a double beyond int64 was converted to it (undefined behaviour).
static void parse_number_fields(void **) {
  Remote r = parse(OBATCH_OP_RETRIEVE,
                   R"({"id":"b","status":"completed","created_at":1.7e90,"expires_at":-1e300,)"
                   R"("completed_at":1711493163.9,"failed_at":-2.5,)"
                   R"("cancelled_at":9223372036854775808.0,"expired_at":-9223372036854775808.0,)"
                   R"("request_counts":{"total":18446744073709551615,"completed":1e19,"failed":true}})");
  assert_str_eq(field(r.page, "created_at"), "<absent>");
  assert_str_eq(field(r.page, "expires_at"), "<absent>");
  assert_str_eq(r.get("completed_at"), "1711493163");
  assert_str_eq(r.get("failed_at"), "-2");
  assert_str_eq(field(r.page, "cancelled_at"), "<absent>");
  assert_str_eq(r.get("expired_at"), "-9223372036854775808");
  assert_str_eq(r.get("requests_total"), "18446744073709551615");
  assert_str_eq(field(r.page, "requests_completed"), "<absent>");
  assert_str_eq(r.get("requests_failed"), "true");
  Remote f = parse(OBATCH_OP_FILE_INFO, R"({"id":"file-1","bytes":1e308})");
  assert_str_eq(f.get("file_id"), "file-1");
}

static void op_names(void **) {
  assert_str_eq(obatch::op_name(OBATCH_OP_UPLOAD), "upload input file");
  assert_str_eq(obatch::op_name(OBATCH_OP_LIST_FILES), "list files");
  assert_str_eq(obatch::op_name(1234), "unknown operation");
}

static const struct CMUnitTest openai_adapter_tests[] = {
    cmocka_unit_test(build_upload_is_multipart),
    cmocka_unit_test(build_upload_missing_arg),
    cmocka_unit_test(build_create_json_body),
    cmocka_unit_test(build_create_without_metadata),
    cmocka_unit_test(build_create_missing_arg),
    cmocka_unit_test(build_retrieve_and_cancel),
    cmocka_unit_test(build_escapes_ids),
    cmocka_unit_test(build_download_and_file_info),
    cmocka_unit_test(build_list_query_strings),
    cmocka_unit_test(build_list_files_query_strings),
    cmocka_unit_test(build_unknown_op),
    cmocka_unit_test(escape_segment_directly),
    cmocka_unit_test(parse_upload_file_object),
    cmocka_unit_test(parse_file_info_without_id),
    cmocka_unit_test(parse_batch_every_field),
    cmocka_unit_test(parse_batch_spec_example_steps_usage_json),
    cmocka_unit_test(parse_list_items_have_the_new_fields),
    cmocka_unit_test(parse_batch_with_every_optional_null),
    cmocka_unit_test(parse_batch_null_counts_inside),
    cmocka_unit_test(parse_batch_errors_data),
    cmocka_unit_test(parse_batch_errors_data_shows_five),
    cmocka_unit_test(parse_batch_metadata_strings_only),
    cmocka_unit_test(parse_batch_without_id_or_status),
    cmocka_unit_test(parse_list_of_batches),
    cmocka_unit_test(parse_list_last_page),
    cmocka_unit_test(parse_list_of_files),
    cmocka_unit_test(parse_list_without_data),
    cmocka_unit_test(parse_non_object_is_eprotocol),
    cmocka_unit_test(parse_number_fields),
    cmocka_unit_test(op_names),
};

OBATCH_TEST_MAIN(openai_adapter_tests, nullptr, nullptr)
