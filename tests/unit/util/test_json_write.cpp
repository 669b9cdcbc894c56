// JSON string quoting: the one subtle part of writing request lines by hand.
#include "unit_support.hpp"
#include "util/json_write.hpp"

using obatch::json_quote;

static void plain_text_is_quoted(void **) {
  assert_str_eq(json_quote("hello"), "\"hello\"");
  assert_str_eq(json_quote(""), "\"\"");
}

static void quotes_and_backslashes_are_escaped(void **) {
  assert_str_eq(json_quote("say \"hi\""), "\"say \\\"hi\\\"\"");
  assert_str_eq(json_quote("C:\\dir\\"), "\"C:\\\\dir\\\\\"");
  assert_str_eq(json_quote("/v1/chat"), "\"/v1/chat\"");  // '/' needs no escape
}

static void named_control_chars_are_escaped(void **) {
  assert_str_eq(json_quote("a\nb\rc\td\be\ff"), "\"a\\nb\\rc\\td\\be\\ff\"");
}

static void other_control_chars_use_u_escapes(void **) {
  assert_str_eq(json_quote(std::string("\x01\x1f", 2)), "\"\\u0001\\u001f\"");
  assert_str_eq(json_quote(std::string("a\0b", 3)), "\"a\\u0000b\"");
  // DEL is not a JSON control character.
  assert_str_eq(json_quote("\x7f"), "\"\x7f\"");
}

static void utf8_passes_through(void **) {
  const std::string text = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80";  // café € 😀
  assert_str_eq(json_quote(text), "\"" + text + "\"");
}

static void append_adds_to_existing_text(void **) {
  std::string out = "{\"id\":";
  obatch::json_append_string(out, "a\"b");
  out += "}";
  assert_str_eq(out, "{\"id\":\"a\\\"b\"}");
}

static const struct CMUnitTest json_write_tests[] = {
    cmocka_unit_test(plain_text_is_quoted),
    cmocka_unit_test(quotes_and_backslashes_are_escaped),
    cmocka_unit_test(named_control_chars_are_escaped),
    cmocka_unit_test(other_control_chars_use_u_escapes),
    cmocka_unit_test(utf8_passes_through),
    cmocka_unit_test(append_adds_to_existing_text),
};

OBATCH_TEST_MAIN(json_write_tests, nullptr, nullptr)
