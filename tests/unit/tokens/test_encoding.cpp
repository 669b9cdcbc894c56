// Encoding: token ids identical to tiktoken's (golden.json, made with the
// npm package tiktoken by tests/data/tokens/make_golden.js: ASCII, CJK,
// emoji and ZWJ sequences, combining marks, runs of spaces and newlines,
// digits, contractions in mixed case, code, U+180E and other spaces, invalid
// UTF-8, special tokens, and 300 seeded random mixes), round trips, and the
// model-to-encoding map.
#include <simdjson.h>

#include "tokens/encoding.hpp"
#include "unit_support.hpp"

using obatch::Encoding;

#ifndef OBATCH_TEST_DATA
#error OBATCH_TEST_DATA must name tests/data
#endif

static std::string unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

static std::string show(const std::vector<uint32_t> &ids) {
  std::string s;
  for (uint32_t id : ids) s += (s.empty() ? "" : ",") + std::to_string(id);
  return s;
}

static void ids_match_tiktoken(void **) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc =
      parser.load(std::string(OBATCH_TEST_DATA) + "/tokens/golden.json").value();
  size_t checked = 0;
  simdjson::dom::array cases = doc["cases"].get_array().value();
  for (simdjson::dom::element c : cases) {
    const Encoding &enc = Encoding::get(std::string(c["encoding"].get_string().value()));
    const std::string text = unhex(c["bytes"].get_string().value());
    for (const char *mode : {"ordinary", "all_special"}) {
      std::vector<uint32_t> want, got;
      simdjson::dom::array ids = c[mode].get_array().value();
      for (simdjson::dom::element id : ids)
        want.push_back(static_cast<uint32_t>(id.get_uint64().value()));
      if (std::string(mode) == "ordinary")
        enc.encode_ordinary(text, &got);
      else
        enc.encode(text, &got);
      if (got != want)
        fail_msg("%s %s of hex %s: got [%s], tiktoken [%s]", enc.name().c_str(), mode,
                 std::string(c["bytes"].get_string().value()).c_str(), show(got).c_str(),
                 show(want).c_str());
      checked++;
    }
  }
  assert_true(checked > 1000);
}

static void decode_gives_the_text_back(void **) {
  for (const char *name : {"o200k_base", "cl100k_base"}) {
    const Encoding &enc = Encoding::get(name);
    const std::string text = "héllo wörld 日本 😀 <|endoftext|>\n\n  x";
    std::vector<uint32_t> ids;
    enc.encode(text, &ids);
    assert_str_eq(enc.decode(ids), text);
    assert_int_equal(enc.count("hello world"), 2);
  }
}

static void invalid_utf8_reads_as_replacement_characters(void **) {
  assert_str_eq(obatch::valid_utf8("a\xff"
                                   "b"),
                "a\xEF\xBF\xBD"
                "b");
  assert_str_eq(obatch::valid_utf8("\xe2\x82"), "\xEF\xBF\xBD");              // a cut sequence: one
  assert_str_eq(obatch::valid_utf8("\xc0\xaf"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong: two
  assert_str_eq(obatch::valid_utf8("\xed\xa0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  assert_str_eq(obatch::valid_utf8("ok \xe2\x82\xac"), "ok \xe2\x82\xac");
}

static void models_map_as_tiktoken_maps_them(void **) {
  using obatch::encoding_for_model;
  assert_str_eq(encoding_for_model("gpt-4o-mini"), "o200k_base");
  assert_str_eq(encoding_for_model("gpt-4o-2024-08-06"), "o200k_base");
  assert_str_eq(encoding_for_model("gpt-4.1-nano"), "o200k_base");
  assert_str_eq(encoding_for_model("o3-mini"), "o200k_base");
  assert_str_eq(encoding_for_model("o1"), "o200k_base");
  assert_str_eq(encoding_for_model("gpt-5-mini"), "o200k_base");
  assert_str_eq(encoding_for_model("ft:gpt-4o-mini-2024-07-18:org::abc"), "o200k_base");
  assert_str_eq(encoding_for_model("gpt-4"), "cl100k_base");
  assert_str_eq(encoding_for_model("gpt-4-turbo"), "cl100k_base");
  assert_str_eq(encoding_for_model("gpt-3.5-turbo-0125"), "cl100k_base");
  assert_str_eq(encoding_for_model("ft:gpt-3.5-turbo:org::x"), "cl100k_base");
  assert_str_eq(encoding_for_model("text-embedding-3-small"), "cl100k_base");
  assert_str_eq(encoding_for_model("meta-llama/Llama-3.1-8B-Instruct"), "");
}

static void unknown_encoding_is_an_error(void **) {
  EXPECT_ERROR(OBATCH_EINVAL, "unknown encoding 'p50k_base'", Encoding::get("p50k_base"));
}

static const struct CMUnitTest encoding_tests[] = {
    cmocka_unit_test(ids_match_tiktoken),
    cmocka_unit_test(decode_gives_the_text_back),
    cmocka_unit_test(invalid_utf8_reads_as_replacement_characters),
    cmocka_unit_test(models_map_as_tiktoken_maps_them),
    cmocka_unit_test(unknown_encoding_is_an_error),
};

OBATCH_TEST_MAIN(encoding_tests, nullptr, nullptr)
