// One spelling for equal JSON: the base of a deferred request's ticket.
#include "core/canonical_json.hpp"
#include "unit_support.hpp"

using obatch::canonical_json;

static std::string canon(const std::string &json) { return canonical_json(json, "request"); }

static void keys_are_sorted_at_every_depth(void **) {
  assert_str_eq(canon(R"({"b":1,"a":{"d":[{"z":1,"y":2}],"c":null}})"),
                R"({"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1})");
}

static void whitespace_goes_and_arrays_keep_their_order(void **) {
  assert_str_eq(canon(" [ 3 , 1 ,\n 2 ] "), "[3,1,2]");
}

static void the_same_request_written_two_ways_is_one_text(void **) {
  const std::string a =
      R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"temperature":0.5})";
  const std::string b =
      "{\n  \"temperature\": 0.5,\n  \"messages\": [{\"content\": \"hi\", \"role\": \"user\"}],\n"
      "  \"model\": \"gpt-4o-mini\"\n}";
  assert_str_eq(canon(a), canon(b));
}

static void strings_are_escaped_once(void **) {
  assert_str_eq(canon(R"({"t":"a\"b\\c\n\u00e9\u0001"})"), "{\"t\":\"a\\\"b\\\\c\\n\xc3\xa9\\u0001\"}");
}

static void different_values_stay_different(void **) {
  assert_true(canon(R"({"a":1})") != canon(R"({"a":2})"));
  assert_true(canon(R"({"a":"1"})") != canon(R"({"a":1})"));
  assert_true(canon(R"([1,2])") != canon(R"([2,1])"));
}

static void numbers_keep_their_value(void **) {
  assert_str_eq(canon(R"({"i":-12,"u":18446744073709551615,"f":0.25,"b":true})"),
                R"({"b":true,"f":0.25,"i":-12,"u":18446744073709551615})");
}

static void not_json_is_ejson_naming_where(void **) {
  EXPECT_ERROR(OBATCH_EJSON, "request: not valid JSON", canon(R"({"a":)"));
}

static const struct CMUnitTest canonical_json_tests[] = {
    cmocka_unit_test(keys_are_sorted_at_every_depth),
    cmocka_unit_test(whitespace_goes_and_arrays_keep_their_order),
    cmocka_unit_test(the_same_request_written_two_ways_is_one_text),
    cmocka_unit_test(strings_are_escaped_once),
    cmocka_unit_test(different_values_stay_different),
    cmocka_unit_test(numbers_keep_their_value),
    cmocka_unit_test(not_json_is_ejson_naming_where),
};

OBATCH_TEST_MAIN(canonical_json_tests, nullptr, nullptr)
