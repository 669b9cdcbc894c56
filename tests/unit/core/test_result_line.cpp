// One line of a batch output or error file.
#include <simdjson.h>

#include <functional>
#include <string>
#include <vector>

#include "core/result_line.hpp"
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
  for (const char *status :
       {"4294967496", "18446744073709551615", "-4294967096", "1e3", "\"200\""}) {
    ResultLine r = parse_result_line(
        std::string(R"({"custom_id":"q","response":{"status_code":)") + status + R"(,"body":{}}})",
        "x");
    assert_int_equal(r.kind, OBATCH_RESULT_HTTP_ERROR);
    assert_int_equal(r.status_code, 0);
  }
  ResultLine r =
      parse_result_line(R"({"custom_id":"q","response":{"status_code":-7,"body":{}}})", "x");
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

// ---- the stream reading of indexing, and plain lines read without a parse

static std::string openai_line(const std::string &id, int status, const std::string &body) {
  return R"({"id":"batch_req_)" + id + R"(","custom_id":")" + id +
         R"(","response":{"status_code":)" + std::to_string(status) + R"(,"request_id":"req_)" +
         id + R"(","body":)" + body + R"(},"error":null})";
}

// Every line of `lines` as one run, read by stream_result_lines.
struct Streamed {
  size_t read = 0;
  std::vector<obatch::StreamedLine> lines;
  std::vector<std::string> ids;
};

static Streamed stream(const std::vector<std::string> &lines) {
  std::string run;
  for (const std::string &l : lines) run += l + "\n";
  run.reserve(run.size() + simdjson::SIMDJSON_PADDING);
  Streamed out;
  out.read = obatch::stream_result_lines(run, [&](const obatch::StreamedLine &s) {
    out.lines.push_back(s);
    out.ids.emplace_back(s.custom_id);
  });
  return out;
}

static bool same(const ResultLine &a, const ResultLine &b) {
  return a.kind == b.kind && a.custom_id == b.custom_id && a.status_code == b.status_code &&
         a.body == b.body && a.request_id == b.request_id && a.error_code == b.error_code &&
         a.error_message == b.error_message && a.has_body == b.has_body &&
         a.has_request_id == b.has_request_id && a.has_error == b.has_error;
}

static void plain_lines_read_as_the_parse_reads_them(void **) {
  // A body is plain exactly when it is already what the parse writes for
  // it (simdjson::minify): no whitespace outside strings, no double, no -0.
  const std::vector<std::string> bodies = {
      R"({"id":"chatcmpl-1","choices":[{"index":0,"message":{"role":"assistant","content":"Hi there"}}],"usage":{"prompt_tokens":22}})",
      R"({})",
      R"([])",
      R"({"a":[1,-2,0,true,false,null,"x y",[],{}]})",
      R"({"big":9223372036854775807,"min":-9223372036854775808,"u":18446744073709551615})",
      R"({"n":1234567890123456789})",
      R"({"space outside": 1})",
      "{\"tab\":\t1}",
      R"({"a":1 })",
      R"({"d":0.5})",
      R"({"e":1e5})",
      R"({"z":-0})",
      R"({"n":12345678901234567890})",
      R"({"s":"a:b,c{d}[e] f"})",
      R"({"x":"a\nb \"q\" \\ \t\b\f\r \u001b"})",
      R"({"k\"ey":"v"})",
      R"({"x":"\u001B"})",
      R"({"x":"\/"})",
      R"({"x":"\u00e9 \ud83d\ude00"})",
      R"({"x":"\u000a"})",
      R"("text")",
      R"(42)",
      R"(null)",
  };
  std::vector<std::string> lines;
  for (size_t i = 0; i < bodies.size(); i++)
    lines.push_back(openai_line("q" + std::to_string(i), 200, bodies[i]));
  // Never plain: not 2xx, an error, another layout, an escape before the
  // body, more keys.
  lines.push_back(openai_line("h", 404, R"({"error":{"message":"no","code":"x"}})"));
  lines.push_back(openai_line("i", 199, R"({})"));
  lines.push_back(
      R"({"id":"r","custom_id":"e","response":null,"error":{"code":"batch_expired","message":"m"}})");
  lines.push_back(R"({"custom_id":"o","response":{"status_code":200,"body":{}},"error":null})");
  lines.push_back(openai_line("b\\\"s", 200, R"({})"));
  lines.push_back(
      R"({"id":"r","custom_id":"k","response":{"status_code":200,"request_id":"q","body":{},"extra":1},"error":null})");
  Streamed got = stream(lines);
  assert_int_equal(got.lines.size(), lines.size());
  size_t plain = 0;
  for (size_t i = 0; i < lines.size(); i++) {
    const obatch::StreamedLine &s = got.lines[i];
    assert_true(s.result_line);
    ResultLine parsed = parse_result_line(lines[i], "x");
    assert_str_eq(got.ids[i], parsed.custom_id);
    // Plain only when the body is its own minified form; a body with a
    // double (0.5 is written as it stands, but not every double is) never.
    bool want_plain = false;
    if (i < bodies.size()) {
      simdjson::dom::parser p;
      simdjson::dom::element e = p.parse(bodies[i]).value();
      want_plain = bodies[i] != "null" && simdjson::minify(e) == bodies[i] &&
                   bodies[i].find('.') == std::string::npos;
    }
    if (s.plain != want_plain) fail_msg("line %zu: plain %d, want %d", i, s.plain, want_plain);
    if (!s.plain) continue;
    plain++;
    ResultLine read;
    assert_true(obatch::read_plain_result(lines[i], &read));
    if (!same(read, parsed)) fail_msg("line %zu read otherwise than parsed", i);
  }
  assert_true(plain >= 9);
  // A line that is not plain is not read as one.
  ResultLine untouched;
  untouched.custom_id = "kept";
  assert_false(obatch::read_plain_result(lines[bodies.size()], &untouched));
  assert_str_eq(untouched.custom_id, "kept");
}

static void the_stream_leaves_odd_lines_to_the_line_reading(void **) {
  // A JSON line that is no result line is taken, marked so; the stream
  // stops at the first line that is not exactly one document.
  std::vector<std::string> lines = {openai_line("a", 200, "{}"),
                                    R"({"custom_id":"b"})",
                                    R"([1,2])",
                                    openai_line("c", 200, "{}"),
                                    "{oops",
                                    openai_line("d", 200, "{}")};
  Streamed got = stream(lines);
  assert_int_equal(got.lines.size(), 4);
  assert_true(got.lines[0].result_line && got.lines[0].plain);
  assert_false(got.lines[1].result_line);
  assert_false(got.lines[2].result_line);
  assert_true(got.lines[3].result_line);
  size_t at = 0;
  for (size_t i = 0; i < 4; i++) at += lines[i].size() + 1;
  assert_int_equal(got.read, at);
  assert_int_equal(got.lines[3].offset, at - lines[3].size() - 1);
  assert_int_equal(got.lines[3].length, lines[3].size());
  // Blank, indented and CR LF lines, and two documents on a line.
  for (const std::string &odd : {std::string(""), std::string("  ") + lines[0], lines[0] + "\r",
                                 lines[0] + " " + lines[3]}) {
    Streamed s = stream({lines[0], odd, lines[3]});
    assert_int_equal(s.lines.size(), 1);
    assert_int_equal(s.read, lines[0].size() + 1);
  }
}

// Random bodies (a fixed seed): nested values of every kind, integers at
// the edges of int64 and uint64, -0, doubles, whitespace in and out of
// strings. A plain line is always read as the parse reads it, and a body
// that is its own minified form and holds no double is always plain.
static void random_bodies_read_plain_as_parsed(void **) {
  uint64_t state = 0x9E3779B97F4A7C15u;
  auto next = [&] {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    return state;
  };
  const char *const numbers[] = {"0",
                                 "-0",
                                 "7",
                                 "-7",
                                 "9223372036854775807",
                                 "-9223372036854775808",
                                 "18446744073709551615",
                                 "1.5",
                                 "1e3",
                                 "-2.25E-2",
                                 "100",
                                 "1234567890123456"};
  const char *const spaces[] = {"", "", "", " ", "\t", " \r "};
  bool has_double = false;
  std::function<std::string(int)> value = [&](int depth) -> std::string {
    const uint64_t k = next() % (depth > 3 ? 4 : 6);
    auto sp = [&] { return std::string(spaces[next() % 6]); };
    switch (k) {
      case 0: {
        std::string n = numbers[next() % 12];
        if (n.find_first_of(".eE") != std::string::npos) has_double = true;
        return n;
      }
      case 1: {
        const char *const strings[] = {"\"a b:c,{d}\"", "\"\"",        "\"l1\\nl2\"",
                                       "\"\\\"q\\\"\"", "\"\\\\\"",    "\"\\u001b\\u001F\"",
                                       "\"\\/\"",       "\"\\u00e9\"", "\"\\t\\b\\f\\r\""};
        return strings[next() % 9];
      }
      case 2: return next() % 3 == 0 ? "null" : next() % 2 ? "true" : "false";
      case 3: return "\"w" + std::to_string(next() % 1000) + "\"";
      case 4: {
        std::string out = "[" + sp();
        const int n = static_cast<int>(next() % 4);
        for (int i = 0; i < n; i++) out += (i ? "," + sp() : "") + value(depth + 1) + sp();
        return out + "]";
      }
      default: {
        std::string out = "{" + sp();
        const int n = static_cast<int>(next() % 4);
        for (int i = 0; i < n; i++)
          out += (i ? "," : "") + sp() + "\"k" + std::string(next() % 4 ? "" : "\\n") +
                 std::to_string(i) + "\"" + sp() + ":" + sp() + value(depth + 1);
        return out + sp() + "}";
      }
    }
  };
  std::vector<std::string> lines, bodies;
  std::vector<bool> doubles;
  for (int i = 0; i < 3000; i++) {
    has_double = false;
    std::string body = value(next() % 2 ? 0 : 2);
    bodies.push_back(body);
    doubles.push_back(has_double);
    lines.push_back(openai_line("r" + std::to_string(i), 200, body));
  }
  Streamed got = stream(lines);
  assert_int_equal(got.lines.size(), lines.size());
  size_t plain = 0, plain_escaped = 0;
  for (size_t i = 0; i < lines.size(); i++) {
    const ResultLine parsed = parse_result_line(lines[i], "x");
    simdjson::dom::parser p;
    const std::string minified = simdjson::minify(p.parse(bodies[i]).value());
    if (got.lines[i].plain) {
      plain++;
      plain_escaped += bodies[i].find('\\') != std::string::npos;
      ResultLine read;
      assert_true(obatch::read_plain_result(lines[i], &read));
      if (!same(read, parsed)) fail_msg("body %s read as %s", bodies[i].c_str(), read.body.c_str());
      if (minified != bodies[i])
        fail_msg("plain, but %s minifies to %s", bodies[i].c_str(), minified.c_str());
    } else if (minified == bodies[i] && !doubles[i] && bodies[i] != "null") {
      fail_msg("not plain: %s", bodies[i].c_str());
    }
  }
  assert_true(plain > 300);
  assert_true(plain_escaped > 100);
}

static const struct CMUnitTest result_line_tests[] = {
    cmocka_unit_test(plain_lines_read_as_the_parse_reads_them),
    cmocka_unit_test(the_stream_leaves_odd_lines_to_the_line_reading),
    cmocka_unit_test(random_bodies_read_plain_as_parsed),
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
