// One request: endpoint inference, body checks, and whole input lines.
#include "core/request.hpp"
#include "unit_support.hpp"

using obatch::parse_request_body;
using obatch::parse_request_line;
using obatch::Request;

static const std::string kWhere = "request 7";

static Request body(const std::string &json, const std::string &endpoint = "") {
  return parse_request_body(json, "", endpoint, kWhere);
}

static std::string line(const std::string &custom_id_json, const std::string &rest) {
  return "{\"custom_id\":" + custom_id_json + rest + "}";
}

static const std::string kChatRest =
    ",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
    "\"body\":{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

// ---- endpoint inference ----------------------------------------------------

static void messages_means_chat(void **) {
  Request r = body(R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]})");
  assert_str_eq(r.url, "/v1/chat/completions");
  assert_str_eq(r.model, "gpt-4o");
  assert_str_eq(r.custom_id, "");
}

static void input_with_embedding_model_means_embeddings(void **) {
  Request r = body(R"({"model":"text-embedding-3-small","input":"hello"})");
  assert_str_eq(r.url, "/v1/embeddings");
  assert_int_equal(r.embedding_inputs, 1);
}

static void input_with_moderation_model_means_moderations(void **) {
  assert_str_eq(body(R"({"model":"omni-moderation-latest","input":"x"})").url, "/v1/moderations");
}

static void input_otherwise_means_responses(void **) {
  assert_str_eq(body(R"({"model":"gpt-4o","input":"x"})").url, "/v1/responses");
}

static void prompt_means_completions(void **) {
  assert_str_eq(body(R"({"model":"gpt-3.5-turbo-instruct","prompt":"x"})").url, "/v1/completions");
}

static void prompt_with_image_model_means_image_generation(void **) {
  assert_str_eq(body(R"({"model":"gpt-image-1","prompt":"a cat"})").url, "/v1/images/generations");
  assert_str_eq(body(R"({"model":"dall-e-3","prompt":"a cat"})").url, "/v1/images/generations");
}

static void no_telling_field_is_an_error(void **) {
  std::string msg = EXPECT_ERROR(OBATCH_EREQUEST, "cannot tell the endpoint",
                                 body(R"({"model":"gpt-4o","temperature":0})"));
  assert_contains(msg, "pass the endpoint explicitly");
}

static void infer_endpoint_directly(void **) {
  assert_str_eq(obatch::infer_endpoint(true, true, true, "text-embedding-3"),
                "/v1/chat/completions");
  assert_str_eq(obatch::infer_endpoint(false, true, true, "x"), "/v1/responses");
  assert_str_eq(obatch::infer_endpoint(false, false, false, "gpt-4o"), "");
}

static void explicit_endpoint_wins(void **) {
  Request r = body(R"({"model":"my-model","input":["a","b"]})", "/v1/embeddings");
  assert_str_eq(r.url, "/v1/embeddings");
  assert_int_equal(r.embedding_inputs, 2);
}

// ---- body checks -----------------------------------------------------------

static void body_must_be_an_object(void **) {
  EXPECT_ERROR(OBATCH_EREQUEST, "request 7: the body must be a JSON object, not an array",
               body("[1,2]"));
  EXPECT_ERROR(OBATCH_EREQUEST, "not a string", body("\"text\""));
  EXPECT_ERROR(OBATCH_EREQUEST, "not null", body("null"));
}

static void model_must_be_a_string(void **) {
  EXPECT_ERROR(OBATCH_EREQUEST, "\"model\" must be a string, not a number",
               body(R"({"model":4,"messages":[{}]})"));
  EXPECT_ERROR(OBATCH_EREQUEST, "not an object", body(R"({"model":{},"messages":[{}]})"));
}

static void model_must_not_be_empty(void **) {
  EXPECT_ERROR(OBATCH_EREQUEST, "\"model\" is empty", body(R"({"model":"","messages":[{}]})"));
}

static void model_is_required_except_moderations(void **) {
  EXPECT_ERROR(OBATCH_EREQUEST, "no \"model\"", body(R"({"messages":[{"role":"user"}]})"));
  Request r = body(R"({"input":"text"})", "/v1/moderations");
  assert_str_eq(r.model, "");
  assert_str_eq(r.url, "/v1/moderations");
}

static void stream_true_is_rejected(void **) {
  EXPECT_ERROR(OBATCH_EREQUEST, "\"stream\" must be false or absent",
               body(R"({"model":"gpt-4o","stream":true,"messages":[{}]})"));
  // A string "true" is no less a request to stream.
  EXPECT_ERROR(OBATCH_EREQUEST, "\"stream\" must be false or absent",
               body(R"({"model":"gpt-4o","stream":"true","messages":[{}]})"));
  body(R"({"model":"gpt-4o","stream":null,"messages":[{}]})");
  Request r = body(R"({"model":"gpt-4o","stream":false,"messages":[{}]})");
  assert_str_eq(r.url, "/v1/chat/completions");
}

static void chat_needs_messages(void **) {
  EXPECT_ERROR(OBATCH_EREQUEST, "a chat request needs \"messages\"",
               body(R"({"model":"gpt-4o","input":"x"})", "/v1/chat/completions"));
}

static void chat_messages_must_be_a_non_empty_array(void **) {
  EXPECT_ERROR(OBATCH_EREQUEST, "\"messages\" must be a non-empty array",
               body(R"({"model":"gpt-4o","messages":[]})"));
  EXPECT_ERROR(OBATCH_EREQUEST, "non-empty array", body(R"({"model":"gpt-4o","messages":"hi"})"));
}

static void embeddings_count_inputs(void **) {
  assert_int_equal(body(R"({"model":"text-embedding-3-small","input":"one"})").embedding_inputs, 1);
  assert_int_equal(
      body(R"({"model":"text-embedding-3-small","input":["a","b","c"]})").embedding_inputs, 3);
  // Token arrays: one input per inner array.
  assert_int_equal(
      body(R"({"model":"text-embedding-3-small","input":[[1,2],[3]]})").embedding_inputs, 2);
  // Not an embeddings request: no count.
  assert_int_equal(body(R"({"model":"gpt-4o","input":["a","b"]})").embedding_inputs, 0);
}

static void embeddings_completions_responses_need_their_field(void **) {
  EXPECT_ERROR(OBATCH_EREQUEST, "an embeddings request needs \"input\"",
               body(R"({"model":"m","prompt":"x"})", "/v1/embeddings"));
  EXPECT_ERROR(OBATCH_EREQUEST, "a completions request needs \"prompt\"",
               body(R"({"model":"m","input":"x"})", "/v1/completions"));
  EXPECT_ERROR(OBATCH_EREQUEST, "this endpoint needs \"input\"",
               body(R"({"model":"m","prompt":"x"})", "/v1/responses"));
}

static void bad_json_is_ejson(void **) {
  std::string msg = EXPECT_ERROR(OBATCH_EJSON, "request 7: the body is", body("{\"model\":"));
  assert_contains(msg, "JSON");
  EXPECT_ERROR(OBATCH_EJSON, "never closed", body("{\"model\":\"gpt"));
  EXPECT_ERROR(OBATCH_EJSON, "the body is", body("{\"a\":1} trailing"));
  EXPECT_ERROR(OBATCH_EJSON, "the body is", body(""));
}

static void invalid_utf8_is_ejson(void **) {
  EXPECT_ERROR(OBATCH_EJSON, "not valid UTF-8",
               body("{\"model\":\"gpt-4o\",\"messages\":[{\"content\":\"\xC3\x28\"}]}"));
  EXPECT_ERROR(OBATCH_EJSON, "not valid UTF-8", body("{\"model\":\"\xFF\",\"messages\":[{}]}"));
}

static void depth_over_1024_is_ejson(void **) {
  std::string deep = "{\"model\":\"gpt-4o\",\"messages\":[" + std::string(1100, '[') +
                     std::string(1100, ']') + "]}";
  EXPECT_ERROR(OBATCH_EJSON, "deeper than 1024", body(deep));
  // Well inside the limit is fine.
  std::string ok =
      "{\"model\":\"gpt-4o\",\"messages\":[" + std::string(100, '[') + std::string(100, ']') + "]}";
  assert_str_eq(body(ok).url, "/v1/chat/completions");
}

static void pretty_body_is_minified(void **) {
  Request r = body(
      "{\n  \"model\" : \"gpt-4o\",\n  \"messages\" : [\n    {\"role\": \"user\", "
      "\"content\": \"a  b\"}\n  ]\n}\n");
  // Whitespace inside strings stays.
  assert_str_eq(r.body, R"({"model":"gpt-4o","messages":[{"role":"user","content":"a  b"}]})");
}

static void body_custom_id_is_checked(void **) {
  Request r = parse_request_body(R"({"model":"gpt-4o","input":"x"})", "mine", "", kWhere);
  assert_str_eq(r.custom_id, "mine");
  EXPECT_ERROR(
      OBATCH_EREQUEST, "request 7: custom_id is 513 bytes; the limit is 512",
      parse_request_body(R"({"model":"gpt-4o","input":"x"})", std::string(513, 'c'), "", kWhere));
}

static void openai_endpoint_list(void **) {
  const auto &list = obatch::openai_endpoints();
  assert_int_equal(list.size(), 8);
  assert_str_eq(list[0], "/v1/responses");
  assert_str_eq(list[1], "/v1/chat/completions");
  assert_str_eq(list[7], "/v1/videos");
}

// ---- whole lines -----------------------------------------------------------

static void line_parses_all_fields(void **) {
  Request r = parse_request_line(
      R"({"custom_id":"q-1","method":"POST","url":"/v1/embeddings","body":{"model":"text-embedding-3-small","input":["a","b"]}})",
      "in.jsonl line 1");
  assert_str_eq(r.custom_id, "q-1");
  assert_str_eq(r.url, "/v1/embeddings");
  assert_str_eq(r.model, "text-embedding-3-small");
  assert_str_eq(r.body, R"({"model":"text-embedding-3-small","input":["a","b"]})");
  assert_int_equal(r.embedding_inputs, 2);
}

static void line_url_is_taken_not_inferred(void **) {
  // The body would say chat; the line's url decides and its checks apply.
  EXPECT_ERROR(
      OBATCH_EREQUEST, "an embeddings request needs \"input\"",
      parse_request_line(
          R"({"custom_id":"a","method":"POST","url":"/v1/embeddings","body":{"model":"m","messages":[{}]}})",
          "x"));
}

static void line_body_is_minified(void **) {
  Request r = parse_request_line(
      "{\"custom_id\":\"a\", \"method\":\"POST\", \"url\":\"/v1/chat/completions\", "
      "\"body\": { \"model\" : \"gpt-4o\" , \"messages\" : [ { } ] } }",
      "x");
  assert_str_eq(r.body, R"({"model":"gpt-4o","messages":[{}]})");
}

static void line_missing_fields(void **) {
  EXPECT_ERROR(OBATCH_EREQUEST, "field \"custom_id\" is missing",
               parse_request_line("{" + kChatRest.substr(1) + "}", "x"));
  EXPECT_ERROR(
      OBATCH_EREQUEST, "field \"method\" is missing",
      parse_request_line(
          R"({"custom_id":"a","url":"/v1/chat/completions","body":{"model":"m","messages":[{}]}})",
          "x"));
  EXPECT_ERROR(
      OBATCH_EREQUEST, "field \"url\" is missing",
      parse_request_line(
          R"({"custom_id":"a","method":"POST","body":{"model":"m","messages":[{}]}})", "x"));
  EXPECT_ERROR(
      OBATCH_EREQUEST, "field \"body\" is missing",
      parse_request_line(R"({"custom_id":"a","method":"POST","url":"/v1/chat/completions"})", "x"));
}

static void line_method_must_be_post(void **) {
  EXPECT_ERROR(
      OBATCH_EREQUEST, "\"method\" must be \"POST\"",
      parse_request_line(
          R"({"custom_id":"a","method":"GET","url":"/v1/chat/completions","body":{"model":"m","messages":[{}]}})",
          "x"));
  EXPECT_ERROR(
      OBATCH_EREQUEST, "\"method\" must be \"POST\"",
      parse_request_line(
          R"({"custom_id":"a","method":"post","url":"/v1/chat/completions","body":{"model":"m","messages":[{}]}})",
          "x"));
}

static void line_url_must_be_non_empty_string(void **) {
  EXPECT_ERROR(OBATCH_EREQUEST, "\"url\" must be a non-empty string",
               parse_request_line(R"({"custom_id":"a","method":"POST","url":"","body":{}})", "x"));
  EXPECT_ERROR(OBATCH_EREQUEST, "\"url\" must be a non-empty string",
               parse_request_line(R"({"custom_id":"a","method":"POST","url":1,"body":{}})", "x"));
}

static void line_unknown_field_rejected(void **) {
  EXPECT_ERROR(OBATCH_EREQUEST, "unknown field \"extra\"",
               parse_request_line(line("\"a\"", kChatRest + ",\"extra\":1"), "x"));
}

static void line_custom_id_must_be_a_string(void **) {
  EXPECT_ERROR(OBATCH_EREQUEST, "\"custom_id\" must be a string, not a number",
               parse_request_line(line("5", kChatRest), "x"));
  EXPECT_ERROR(OBATCH_EREQUEST, "not null", parse_request_line(line("null", kChatRest), "x"));
}

static void line_custom_id_empty(void **) {
  EXPECT_ERROR(OBATCH_EREQUEST, "custom_id is empty",
               parse_request_line(line("\"\"", kChatRest), "x"));
}

static void line_custom_id_length_limit(void **) {
  Request r = parse_request_line(line("\"" + std::string(512, 'i') + "\"", kChatRest), "x");
  assert_int_equal(r.custom_id.size(), 512);
  EXPECT_ERROR(OBATCH_EREQUEST, "513 bytes; the limit is 512",
               parse_request_line(line("\"" + std::string(513, 'i') + "\"", kChatRest), "x"));
}

static void line_custom_id_control_char(void **) {
  EXPECT_ERROR(OBATCH_EREQUEST, "control character",
               parse_request_line(line("\"a\\u0001b\"", kChatRest), "x"));
  EXPECT_ERROR(OBATCH_EREQUEST, "control character",
               parse_request_line(line("\"a\\tb\"", kChatRest), "x"));
  // Non-ASCII is fine.
  Request r = parse_request_line(line("\"caf\xC3\xA9\"", kChatRest), "x");
  assert_str_eq(r.custom_id, "caf\xC3\xA9");
}

static void line_must_be_json_object(void **) {
  EXPECT_ERROR(OBATCH_EJSON, "the line is", parse_request_line("{\"custom_id\":", "x"));
  EXPECT_ERROR(OBATCH_EREQUEST, "the line must be a JSON object, not an array",
               parse_request_line("[1]", "x"));
}

static void line_body_checks_apply(void **) {
  EXPECT_ERROR(
      OBATCH_EREQUEST, "\"stream\" must be false or absent",
      parse_request_line(
          R"({"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"m","stream":true,"messages":[{}]}})",
          "x"));
  EXPECT_ERROR(
      OBATCH_EREQUEST, "the body must be a JSON object",
      parse_request_line(
          R"({"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":"text"})", "x"));
}

static void line_fields_appear_once(void **) {
  EXPECT_ERROR(
      OBATCH_EREQUEST, "field \"custom_id\" appears twice",
      parse_request_line(
          R"({"custom_id":"a","custom_id":"b","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[{}]}})",
          "x"));
}

static void messages_start_with_where(void **) {
  const std::string where = "in.jsonl line 3";
  auto starts = [&](const std::string &msg) {
    if (msg.rfind(where + ": ", 0) != 0)
      fail_msg("message does not start with where: %s", msg.c_str());
  };
  starts(EXPECT_ERROR(OBATCH_EJSON, "", parse_request_line("not json", where)));
  starts(EXPECT_ERROR(OBATCH_EREQUEST, "", parse_request_line("{}", where)));
  starts(EXPECT_ERROR(OBATCH_EREQUEST, "", parse_request_line(line("\"\"", kChatRest), where)));
  starts(EXPECT_ERROR(OBATCH_EREQUEST, "",
                      parse_request_body(R"({"model":"m"})", "", "/v1/chat/completions", where)));
  starts(EXPECT_ERROR(OBATCH_EJSON, "", parse_request_body("{", "", "", where)));
}

// Errors whose cause is the text's encoding say so, not just "invalid JSON".
static void encoding_problems_are_named(void **) {
  std::string ok = line("\"a\"", kChatRest);
  EXPECT_ERROR(OBATCH_EJSON, "request 7: the line starts with a UTF-8 byte order mark",
               parse_request_line("\xEF\xBB\xBF" + ok, kWhere));
  EXPECT_ERROR(OBATCH_EJSON, "request 7: the line is UTF-16 text",
               parse_request_line("\xFF\xFE" + ok, kWhere));
  std::string nul = ok;
  nul.insert(1, 1, '\0');
  EXPECT_ERROR(OBATCH_EJSON, "request 7: the line contains a NUL byte (byte 2)",
               parse_request_line(nul, kWhere));
  EXPECT_ERROR(OBATCH_EJSON, "the body contains a NUL byte",
               parse_request_body(std::string("{\"model\":\"g\0\"}", 14), "", "", kWhere));
  // The other syntax errors name what is wrong.
  EXPECT_ERROR(OBATCH_EJSON, "lone UTF-16 surrogate",
               body(R"({"model":"gpt-4o","messages":[{"content":"\ud800"}]})"));
  EXPECT_ERROR(OBATCH_EJSON, "raw control character",
               body("{\"model\":\"gpt-4o\",\"messages\":[{\"content\":\"a\tb\"}]}"));
  EXPECT_ERROR(OBATCH_EJSON, "out of range",
               body(R"({"model":"gpt-4o","max_tokens":1e999,"messages":[{}]})"));
}

static void message_quote_escapes_and_cuts(void **) {
  using obatch::message_quote;
  assert_str_eq(message_quote("abc"), "\"abc\"");
  assert_str_eq(message_quote("a\"b\n"), "\"a\\\"b\\n\"");
  assert_str_eq(message_quote("abcdef", 3), "\"abc...\" (6 bytes)");
  // Never cuts a UTF-8 character in two.
  assert_str_eq(message_quote("ab\xC3\xA9z", 3), "\"ab...\" (5 bytes)");
  std::string big(10 << 20, 'x');
  std::string unknown = "{\"" + big + "\":1," + line("\"a\"", kChatRest).substr(1);
  std::string msg = EXPECT_ERROR(OBATCH_EREQUEST, "unknown field \"xxx",
                                 parse_request_line(unknown, kWhere));
  assert_true(msg.size() < 300);
  assert_contains(msg, "(10485760 bytes)");
}

static const struct CMUnitTest request_tests[] = {
    cmocka_unit_test(encoding_problems_are_named),
    cmocka_unit_test(message_quote_escapes_and_cuts),
    cmocka_unit_test(messages_means_chat),
    cmocka_unit_test(input_with_embedding_model_means_embeddings),
    cmocka_unit_test(input_with_moderation_model_means_moderations),
    cmocka_unit_test(input_otherwise_means_responses),
    cmocka_unit_test(prompt_means_completions),
    cmocka_unit_test(prompt_with_image_model_means_image_generation),
    cmocka_unit_test(no_telling_field_is_an_error),
    cmocka_unit_test(infer_endpoint_directly),
    cmocka_unit_test(explicit_endpoint_wins),
    cmocka_unit_test(body_must_be_an_object),
    cmocka_unit_test(model_must_be_a_string),
    cmocka_unit_test(model_must_not_be_empty),
    cmocka_unit_test(model_is_required_except_moderations),
    cmocka_unit_test(stream_true_is_rejected),
    cmocka_unit_test(chat_needs_messages),
    cmocka_unit_test(chat_messages_must_be_a_non_empty_array),
    cmocka_unit_test(embeddings_count_inputs),
    cmocka_unit_test(embeddings_completions_responses_need_their_field),
    cmocka_unit_test(bad_json_is_ejson),
    cmocka_unit_test(invalid_utf8_is_ejson),
    cmocka_unit_test(depth_over_1024_is_ejson),
    cmocka_unit_test(pretty_body_is_minified),
    cmocka_unit_test(body_custom_id_is_checked),
    cmocka_unit_test(openai_endpoint_list),
    cmocka_unit_test(line_parses_all_fields),
    cmocka_unit_test(line_url_is_taken_not_inferred),
    cmocka_unit_test(line_body_is_minified),
    cmocka_unit_test(line_missing_fields),
    cmocka_unit_test(line_method_must_be_post),
    cmocka_unit_test(line_url_must_be_non_empty_string),
    cmocka_unit_test(line_unknown_field_rejected),
    cmocka_unit_test(line_custom_id_must_be_a_string),
    cmocka_unit_test(line_custom_id_empty),
    cmocka_unit_test(line_custom_id_length_limit),
    cmocka_unit_test(line_custom_id_control_char),
    cmocka_unit_test(line_must_be_json_object),
    cmocka_unit_test(line_body_checks_apply),
    cmocka_unit_test(line_fields_appear_once),
    cmocka_unit_test(messages_start_with_where),
};

OBATCH_TEST_MAIN(request_tests, nullptr, nullptr)
