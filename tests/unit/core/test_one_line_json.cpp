// The minify fast path: one_line_json gives exactly simdjson::minify's bytes,
// and copies nothing for a text that is one line already.
#include <simdjson.h>

#include "core/one_line_json.hpp"
#include "unit_support.hpp"

using obatch::json_has_outer_whitespace;
using obatch::one_line_json;

static std::string minified(const std::string &json) {
  std::string out(json.size(), '\0');
  size_t n = 0;
  assert_int_equal(simdjson::minify(json.data(), json.size(), out.data(), n), 0);
  out.resize(n);
  return out;
}

// one_line_json(json) == simdjson::minify(json), and a view of json itself
// exactly when minify changes nothing.
static void same_as_minify(const std::string &json) {
  std::string scratch;
  const std::string want = minified(json);
  const std::string_view got = one_line_json(json, &scratch);
  if (got != want)
    fail_msg("one_line_json(%s) = %.*s, minify gives %s", json.c_str(),
             static_cast<int>(got.size()), got.data(), want.c_str());
  assert_int_equal(json_has_outer_whitespace(json), want != json);
  assert_int_equal(obatch::json_has_outer_whitespace_generic(json), want != json);
  // Padded: the bytes after the text (here whitespace) must not count.
  const std::string padded = json + std::string(64, ' ');
  assert_int_equal(
      obatch::json_has_outer_whitespace_padded(std::string_view(padded.data(), json.size())),
      want != json);
  if (want == json) assert_true(got.data() == json.data());
}

static void escapes_and_whitespace(void **) {
  for (const char *j : {
           R"({"a":"b"})",
           R"({"a":"b c"})",
           R"({"a": "b"})",
           R"({"a":"say \"hi\" "})",
           R"({"a":"say \"hi\"", "b":1})",
           R"({"a":"\\"})",
           R"({"a":"\\", "b":2})",
           R"({"a":"\\\"", "b":2})",
           R"({"a":"\\\\"} )",
           R"({"a":"x\\\" y"})",
           R"({"a":"\" \" \" "})",
           "{\"a\":[1,\t2,\n3,\r4]}",
           R"( {"a":1})",
           R"({"a":"\u0022 "})",
           R"(["\\\\\\\\\\\"  ",  "\\"])",
           R"("just a string with spaces")",
       })
    same_as_minify(j);
}

// Quotes, backslashes and whitespace at every position around the 64-byte
// blocks the scan reads.
static void block_boundaries(void **) {
  const std::string pieces[] = {R"(\")", R"(\\)", R"(\\\")", " ", R"(" ")"};
  for (size_t pad = 40; pad < 140; pad++) {
    for (const std::string &piece : pieces) {
      std::string text(pad, 'x');
      // A string that holds `piece` near a block's end, then a field after
      // it with (or without) whitespace outside the strings.
      std::string value = piece == R"(" ")" ? std::string("q") : piece;
      const std::string inside = R"({"k":")" + text + value + R"(y", "z": [ 1 , "a b" ] })";
      const std::string tight = R"({"k":")" + text + value + R"(y","z":[1,"a b"]})";
      same_as_minify(inside);
      same_as_minify(tight);
      // Whitespace outside strings right at the boundary only.
      std::string at_edge = R"({"k":")" + text + R"(","z":1})";
      at_edge.insert(at_edge.size() - 4, " ");
      same_as_minify(at_edge);
    }
  }
}

static void longer_texts(void **) {
  std::string body = R"({"model":"gpt-4o-mini","messages":[)";
  for (int i = 0; i < 50; i++)
    body += std::string(i ? "," : "") + R"({"role":"user","content":"line \\\" )" +
            std::to_string(i) + R"( with \"quotes\" and spaces \\"})";
  body += "]}";
  same_as_minify(body);
  std::string spaced = body;
  spaced.insert(spaced.size() - 1, "\n ");
  same_as_minify(spaced);
}

static const struct CMUnitTest one_line_json_tests[] = {
    cmocka_unit_test(escapes_and_whitespace),
    cmocka_unit_test(block_boundaries),
    cmocka_unit_test(longer_texts),
};

OBATCH_TEST_MAIN(one_line_json_tests, nullptr, nullptr)
