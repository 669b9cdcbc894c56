// One line of a batch output or error file.
#include "core/result_line.hpp"

#include <simdjson.h>

#include <string>
#include <vector>

#include "unit_support.hpp"

using obatch::parse_result_line;
using obatch::ResultLine;

static void success_line(void **) {
  ResultLine r = parse_result_line(
      R"({"id":"batch_req_1","custom_id":"q-1","response":{"status_code":200,"request_id":"req_abc","body":{"id":"chatcmpl-1", "choices":[]}},"error":null})",
      "out line 1");
  assert_int_equal(r.kind, OBATCH_RESULT_SUCCEEDED);
  assert_str_eq(r.custom_id, "q-1");
  assert_int_equal(r.status_code, 200);
  assert_true(r.has_body);
  assert_str_eq(r.body, R"({"id":"chatcmpl-1","choices":[]})");  // minified
  assert_true(r.has_request_id);
  assert_str_eq(r.request_id, "req_abc");
  assert_false(r.has_error);
  assert_str_eq(r.error_code, "");
}

static void http_error_line(void **) {
  ResultLine r = parse_result_line(
      R"({"id":"b2","custom_id":"q-2","response":{"status_code":400,"request_id":"req_2","body":{"error":{"message":"Invalid model","type":"invalid_request_error","param":"model","code":"model_not_found"}}},"error":null})",
      "err line 1");
  assert_int_equal(r.kind, OBATCH_RESULT_HTTP_ERROR);
  assert_int_equal(r.status_code, 400);
  assert_true(r.has_error);
  assert_str_eq(r.error_code, "model_not_found");
  assert_str_eq(r.error_message, "Invalid model");
  assert_true(r.has_body);
  assert_contains(r.body, "\"invalid_request_error\"");
}

static void http_error_with_null_code(void **) {
  ResultLine r = parse_result_line(
      R"({"custom_id":"q","response":{"status_code":500,"body":{"error":{"message":"boom","code":null}}},"error":null})",
      "x");
  assert_int_equal(r.kind, OBATCH_RESULT_HTTP_ERROR);
  assert_int_equal(r.status_code, 500);
  assert_str_eq(r.error_code, "");
  assert_str_eq(r.error_message, "boom");
  assert_false(r.has_request_id);
}

static void error_field_in_2xx_body_is_not_an_error(void **) {
  // A successful body may legitimately contain an "error" key.
  ResultLine r = parse_result_line(
      R"({"custom_id":"q","response":{"status_code":200,"body":{"error":{"message":"x"}}},"error":null})",
      "x");
  assert_int_equal(r.kind, OBATCH_RESULT_SUCCEEDED);
  assert_false(r.has_error);
}

static void top_level_error(void **) {
  ResultLine r = parse_result_line(
      R"({"id":"b3","custom_id":"q-3","response":null,"error":{"code":"batch_expired","message":"This request could not be executed before the completion window expired."}})",
      "err line 2");
  assert_int_equal(r.kind, OBATCH_RESULT_ERROR);
  assert_str_eq(r.custom_id, "q-3");
  assert_int_equal(r.status_code, 0);
  assert_false(r.has_body);
  assert_true(r.has_error);
  assert_str_eq(r.error_code, "batch_expired");
  assert_contains(r.error_message, "completion window expired");
}

static void top_level_error_with_http_error_response(void **) {
  ResultLine r = parse_result_line(
      R"({"custom_id":"q","response":{"status_code":429,"body":null},"error":{"code":"rate_limit","message":"slow down"}})",
      "x");
  assert_int_equal(r.kind, OBATCH_RESULT_HTTP_ERROR);
  assert_int_equal(r.status_code, 429);
  assert_str_eq(r.error_code, "rate_limit");
  assert_false(r.has_body);
}

static void numeric_error_code(void **) {
  ResultLine r = parse_result_line(
      R"({"custom_id":"q","response":null,"error":{"code":500,"message":"internal"}})", "x");
  assert_int_equal(r.kind, OBATCH_RESULT_ERROR);
  assert_str_eq(r.error_code, "500");
  assert_str_eq(r.error_message, "internal");
}

static void non_2xx_without_error_body(void **) {
  ResultLine r = parse_result_line(
      R"({"custom_id":"q","response":{"status_code":503,"body":"unavailable"}})", "x");
  assert_int_equal(r.kind, OBATCH_RESULT_HTTP_ERROR);
  assert_int_equal(r.status_code, 503);
  assert_str_eq(r.body, "\"unavailable\"");
  assert_false(r.has_error);
}

// A status_code beyond int used to be cast to int: 4294967496 (2^32 + 200)
// read as 200, a success.
static void out_of_range_status_is_no_success(void **) {
  for (const char *status : {"4294967496", "18446744073709551615", "-4294967096", "1e3", "\"200\""}) {
    ResultLine r = parse_result_line(
        std::string(R"({"custom_id":"q","response":{"status_code":)") + status + R"(,"body":{}}})",
        "x");
    assert_int_equal(r.kind, OBATCH_RESULT_HTTP_ERROR);
    assert_int_equal(r.status_code, 0);
  }
  ResultLine r = parse_result_line(
      R"({"custom_id":"q","response":{"status_code":-7,"body":{}}})", "x");
  assert_int_equal(r.kind, OBATCH_RESULT_HTTP_ERROR);
  assert_int_equal(r.status_code, -7);
}

static void missing_custom_id_is_eprotocol(void **) {
  EXPECT_ERROR(
      OBATCH_EPROTOCOL, "out line 4: the result line has no string \"custom_id\"",
      parse_result_line(R"({"id":"b","response":{"status_code":200,"body":{}}})", "out line 4"));
  EXPECT_ERROR(
      OBATCH_EPROTOCOL, "no string \"custom_id\"",
      parse_result_line(R"({"custom_id":7,"response":{"status_code":200,"body":{}}})", "x"));
}

static void neither_response_nor_error_is_eprotocol(void **) {
  EXPECT_ERROR(
      OBATCH_EPROTOCOL, "out line 2: the result line has neither",
      parse_result_line(R"({"custom_id":"q","response":null,"error":null})", "out line 2"));
}

static void garbage_is_eprotocol(void **) {
  EXPECT_ERROR(OBATCH_EPROTOCOL, "out line 9: not a JSON result line",
               parse_result_line("{\"custom_id\":\"q\",\"resp", "out line 9"));
  EXPECT_ERROR(OBATCH_EPROTOCOL, "must be a JSON object", parse_result_line("[1,2]", "x"));
  EXPECT_ERROR(OBATCH_EPROTOCOL, "not a JSON result line", parse_result_line("", "x"));
}

static void custom_id_only(void **) {
  assert_str_eq(obatch::result_line_custom_id(
                    R"({"custom_id":"abc","response":{"status_code":200,"body":{}}})", "x"),
                "abc");
  EXPECT_ERROR(OBATCH_EPROTOCOL, "l5: ", obatch::result_line_custom_id("nope", "l5"));
  EXPECT_ERROR(OBATCH_EPROTOCOL, "custom_id", obatch::result_line_custom_id("{}", "l5"));
}

static void scan_finds_the_id_of_broken_lines(void **) {
  using obatch::scan_custom_id;
  assert_str_eq(scan_custom_id(R"({"custom_id": "a-1", "response": {oops)"), "a-1");
  assert_str_eq(scan_custom_id(R"({"custom_id":"q\"x\\y"})"), "q\"x\\y");
  assert_str_eq(scan_custom_id(R"({"custom_id":"cut)"), "");
  assert_str_eq(scan_custom_id(R"({"custom_id":7})"), "");
  assert_str_eq(scan_custom_id(R"({"custom_id":"\u0041"})"), "");  // not guessed
  assert_str_eq(scan_custom_id("no id here"), "");
}

// The body is minified byte for byte as simdjson::minify(element) does it
// (escapes, number forms), whatever the line's own spelling.
static void body_minified_as_simdjson_does(void **) {
  const char *bodies[] = {
      R"({"x": 1.50, "y":1e5,"z":-0,"w":-12,"u":18446744073709551615,"d":[0.1,2.5e-300,-3.0]})",
      R"({"s":"a\u00e9\/b\u0001\t\"\\ \u007f \ud83d\ude00 \u001f","k\u0000":"\b\f\n\r"})",
      R"({"long":"0123456789abcdef0123456789abcdef\"0123456789abcdef\n","e":[ ],"o":{ },"t":true,"f":false,"n":null})",
      R"([[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]])"};
  for (const char *body : bodies) {
    std::string line = std::string(R"({"custom_id":"q","response":{"status_code":200,"body":)") +
                       body + "},\"error\":null}";
    ResultLine r = parse_result_line(line, "x");
    simdjson::dom::parser parser;
    simdjson::dom::element e = parser.parse(std::string(body)).value();
    assert_str_eq(r.body, simdjson::minify(e));
  }
}

// A body in a line of OpenAI's own layout is handed back as its own bytes
// when they are already what re-serialising writes; every body, handed
// back so or written again, is simdjson::minify's (numbers, spaces,
// escapes, long digit runs, each also across the 64-byte blocks the check
// reads), and a line not in that layout is written again.
static void body_in_openai_layout_as_simdjson_does(void **) {
  const std::string pad(61, 'x');  // puts what follows across a block boundary
  const std::vector<std::string> bodies = {
      R"({"id":"c","n":[1,-2,0,123456789012345],"t":true,"f":false,"z":null,"s":"1e5 -0 . \u00e9"})",
      R"({"a":"é漢😀","b":{},"c":[],"d":[{}],"e":"\u007f"})",
      R"({"x":1.5})",
      R"({"x":1e5})",
      R"({"x":1E5})",
      R"({"x":-0})",
      R"({"x":-0.0})",
      R"({"x":1234567890123456})",
      R"({"x":18446744073709551615})",
      R"({"x":-9223372036854775808})",
      R"({"x": 1})",
      R"({"x":1 })",
      "{\"x\":\n1}",
      R"({"x":"a\/b"})",
      R"({"x":"\u0041"})",
      R"({"x":"tab\there"})",
      R"("just a string")",
      R"(42)",
      R"([1,2,3])",
      R"(true)",
      R"({")" + pad + R"(":1.5})",
      R"({")" + pad + R"(":-0})",
      R"({")" + pad + R"(":1e2})",
      R"({")" + pad + R"(":12345678901234567890})",
      R"({")" + pad + R"(a":123456789012345678})",
      R"({")" + std::string(55, 'y') + R"(":"1234567890123456"})",
      R"({")" + std::string(50, 'y') + R"(":123456789012345678})",
      R"({"k":")" + std::string(200, 'q') + R"(","n":[-1,)" + std::string(15, '7') + "]}"};
  for (const std::string &body : bodies) {
    simdjson::dom::parser parser;
    simdjson::dom::element e = parser.parse(body).value();
    const std::string want = simdjson::minify(e);
    for (
        const std::string &line :
        {R"({"id":"batch_req_1","custom_id":"q","response":{"status_code":200,"request_id":"r","body":)" +
             body + "},\"error\":null}",
         R"({"custom_id":"q","response":{"status_code":200,"body":)" + body +
             "},\"error\":null}"}) {
      ResultLine r = parse_result_line(line, "x");
      assert_true(r.has_body);
      assert_str_eq(r.body, want);
    }
  }
  // The layout with a body that is not the response's (a fifth key, a
  // second "response") is written again from the parse, not cut from the line.
  const std::string tricky =
      R"({"id":"i","custom_id":"q","response":{"status_code":200,"request_id":"r","body":{"a":1}},"response":{"x":{}},"error":null})";
  ResultLine r = parse_result_line(tricky, "x");
  assert_str_eq(r.body, R"({"a":1})");
}

// A line in OpenAI's own form is indexed without a parse; the id must be
// the one the parse (or the scan of a broken line) finds.
static void plain_custom_id_agrees_with_the_parse(void **) {
  std::string_view id;
  assert_true(obatch::plain_custom_id(R"({"id":"b","custom_id":"q-1","response":{}})", &id));
  assert_true(id == "q-1");
  assert_true(obatch::plain_custom_id(R"({"custom_id":"","x":1})", &id));
  assert_true(id.empty());
  assert_true(obatch::plain_custom_id(R"({"id":"b","custom_id":"cut-here","resp)", &id));
  assert_true(id == obatch::scan_custom_id(R"({"id":"b","custom_id":"cut-here","resp)"));
  // Left to the parse: escapes, spaces, non-string values first, a value
  // reading "custom_id", no object.
  assert_false(obatch::plain_custom_id(R"({"id":"b","custom_id":"q\"1"})", &id));
  assert_false(obatch::plain_custom_id(R"({"id":"b\u0041","custom_id":"q"})", &id));
  assert_false(obatch::plain_custom_id(R"({ "custom_id":"q"})", &id));
  assert_false(obatch::plain_custom_id(R"({"n":1,"custom_id":"q"})", &id));
  assert_false(obatch::plain_custom_id(R"({"id":"custom_id","custom_id":"q"})", &id));
  assert_false(obatch::plain_custom_id(R"(["custom_id","q"])", &id));
  assert_false(obatch::plain_custom_id(R"({"response":{"custom_id":"a"},"custom_id":"q"})", &id));
  assert_false(obatch::plain_custom_id("", &id));
}

static const struct CMUnitTest result_line_tests[] = {
    cmocka_unit_test(body_minified_as_simdjson_does),
    cmocka_unit_test(body_in_openai_layout_as_simdjson_does),
    cmocka_unit_test(plain_custom_id_agrees_with_the_parse),
    cmocka_unit_test(scan_finds_the_id_of_broken_lines),
    cmocka_unit_test(success_line),
    cmocka_unit_test(http_error_line),
    cmocka_unit_test(http_error_with_null_code),
    cmocka_unit_test(error_field_in_2xx_body_is_not_an_error),
    cmocka_unit_test(top_level_error),
    cmocka_unit_test(top_level_error_with_http_error_response),
    cmocka_unit_test(numeric_error_code),
    cmocka_unit_test(non_2xx_without_error_body),
    cmocka_unit_test(out_of_range_status_is_no_success),
    cmocka_unit_test(missing_custom_id_is_eprotocol),
    cmocka_unit_test(neither_response_nor_error_is_eprotocol),
    cmocka_unit_test(garbage_is_eprotocol),
    cmocka_unit_test(custom_id_only),
};

OBATCH_TEST_MAIN(result_line_tests, nullptr, nullptr)
