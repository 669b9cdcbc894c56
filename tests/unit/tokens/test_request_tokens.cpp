// request_tokens: prompt tokens by OpenAI's counting guide (its examples'
// figures), images by the tile rule (the vision guide's examples), inputs
// of embeddings and completions, and the output bound.
#include "tokens/request_tokens.hpp"
#include "unit_support.hpp"

using obatch::count_request_tokens;

static const char kJargon[] =
    R"([{"role":"system","content":"You are a helpful, pattern-following assistant that translates corporate jargon into plain English."},)"
    R"({"role":"system","name":"example_user","content":"New synergies will help drive top-line growth."},)"
    R"({"role":"system","name":"example_assistant","content":"Things working well together will increase revenue."},)"
    R"({"role":"system","name":"example_user","content":"Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage."},)"
    R"({"role":"system","name":"example_assistant","content":"Let's talk later when we're less busy about how to do better."},)"
    R"({"role":"user","content":"This late pivot means we don't have time to boil the ocean for the client deliverable."}])";

static std::string chat(const std::string &model, const std::string &messages,
                        const std::string &extra = "") {
  return R"({"model":")" + model + R"(","messages":)" + messages + extra + "}";
}

// The counting guide's example: 129 prompt tokens for gpt-3.5-turbo and
// gpt-4, 124 for gpt-4o and gpt-4o-mini.
static void chat_messages_as_the_guide_counts_them(void **) {
  for (const char *m : {"gpt-3.5-turbo", "gpt-4"})
    assert_int_equal(count_request_tokens("/v1/chat/completions", chat(m, kJargon)).prompt, 129);
  for (const char *m : {"gpt-4o", "gpt-4o-mini"}) {
    auto t = count_request_tokens("/v1/chat/completions", chat(m, kJargon));
    assert_int_equal(t.prompt, 124);
    assert_str_eq(t.encoding, "o200k_base");
    assert_false(t.encoding_assumed);
    assert_false(t.approximate);
  }
}

// The guide's function-calling example: 105 for gpt-3.5-turbo and gpt-4,
// 101 for gpt-4o and gpt-4o-mini.
static void tools_as_the_guide_counts_them(void **) {
  const std::string tools =
      R"(,"tools":[{"type":"function","function":{"name":"get_current_weather","description":"Get the current weather in a given location","parameters":{"type":"object","properties":{"location":{"type":"string","description":"The city and state, e.g. San Francisco, CA"},"unit":{"type":"string","description":"The unit of temperature to return","enum":["celsius","fahrenheit"]}},"required":["location"]}}}])";
  const std::string messages =
      R"([{"role":"system","content":"You are a helpful assistant that can answer to questions about the weather."},{"role":"user","content":"What's the weather like in San Francisco?"}])";
  for (const char *m : {"gpt-3.5-turbo", "gpt-4"})
    assert_int_equal(count_request_tokens("/v1/chat/completions", chat(m, messages, tools)).prompt,
                     105);
  for (const char *m : {"gpt-4o", "gpt-4o-mini"}) {
    auto t = count_request_tokens("/v1/chat/completions", chat(m, messages, tools));
    assert_int_equal(t.prompt, 101);
    assert_true(t.approximate);
  }
}

// The vision guide: 1024 x 1024 high is 765; 2048 x 4096 high is 1105;
// low is 85 whatever the size.
static void images_by_the_tile_rule(void **) {
  assert_int_equal(obatch::image_tokens("high", 1024, 1024), 765);
  assert_int_equal(obatch::image_tokens("high", 2048, 4096), 1105);
  assert_int_equal(obatch::image_tokens("low", 4096, 8192), 85);
  assert_int_equal(obatch::image_tokens("auto", 0, 0), obatch::kImageTokensUpperBound);
  // A 1x1 PNG as a data URL: its size is read, one tile.
  const std::string png =
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+"
      "M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
  const std::string messages =
      R"([{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,)" +
      png + R"(","detail":"high"}}]}])";
  auto t = count_request_tokens("/v1/chat/completions", chat("gpt-4o", messages));
  assert_int_equal(t.images, 1);
  assert_false(t.images_assumed);
  auto text_only = count_request_tokens(
      "/v1/chat/completions",
      chat("gpt-4o", R"([{"role":"user","content":[{"type":"text","text":"What is this?"}]}])"));
  assert_int_equal(t.prompt - text_only.prompt, 85 + 170);
  auto by_url = count_request_tokens(
      "/v1/chat/completions",
      chat(
          "gpt-4o",
          R"([{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}])"));
  assert_true(by_url.images_assumed);
}

static void image_sizes_from_headers(void **) {
  uint64_t w = 0, h = 0;
  std::string gif = "GIF89a";
  gif += std::string("\x20\x03\x58\x02", 4);  // 800 x 600, little-endian
  assert_true(obatch::image_size(gif, &w, &h));
  assert_int_equal(w, 800);
  assert_int_equal(h, 600);
  const std::string jpeg("\xFF\xD8\xFF\xE0\x00\x04\x00\x00\xFF\xC0\x00\x11\x08\x01\xE0\x02\x80",
                         17);  // SOF0: 480 high, 640 wide
  assert_true(obatch::image_size(jpeg + std::string(8, '\0'), &w, &h));
  assert_int_equal(w, 640);
  assert_int_equal(h, 480);
  assert_false(obatch::image_size("not an image", &w, &h));
}

static void embeddings_and_completions_inputs(void **) {
  auto one = count_request_tokens("/v1/embeddings",
                                  R"({"model":"text-embedding-3-small","input":"hello world"})");
  assert_int_equal(one.prompt, 2);
  assert_int_equal(one.output, 0);
  assert_str_eq(one.encoding, "cl100k_base");
  auto many = count_request_tokens(
      "/v1/embeddings",
      R"({"model":"text-embedding-3-small","input":["hello world","hello world",[1,2,3],[[4,5]]]})");
  assert_int_equal(many.prompt, 2 + 2 + 3 + 1);  // an array of token arrays counts its arrays
  auto completion = count_request_tokens(
      "/v1/completions", R"({"model":"gpt-3.5-turbo-instruct","prompt":"hello world"})");
  assert_int_equal(completion.prompt, 2);
  assert_int_equal(completion.output, 16);  // the API's default max_tokens
}

static void output_bound_and_assumptions(void **) {
  const std::string m = R"([{"role":"user","content":"hi"}])";
  auto given = count_request_tokens("/v1/chat/completions",
                                    chat("gpt-4o-mini", m, R"(,"max_completion_tokens":50,"n":3)"));
  assert_int_equal(given.output, 150);
  assert_false(given.output_assumed);
  auto legacy =
      count_request_tokens("/v1/chat/completions", chat("gpt-4o-mini", m, R"(,"max_tokens":7)"));
  assert_int_equal(legacy.output, 7);
  auto none = count_request_tokens("/v1/chat/completions", chat("gpt-4o-mini", m));
  assert_true(none.output_assumed);
  assert_int_equal(none.output, obatch::kDefaultOutputTokens);
  auto unknown = count_request_tokens("/v1/chat/completions", chat("my-llama", m));
  assert_true(unknown.encoding_assumed);
  assert_str_eq(unknown.encoding, "o200k_base");
  auto responses = count_request_tokens(
      "/v1/responses", R"({"model":"gpt-4o","input":"hello world","max_output_tokens":20})");
  assert_int_equal(responses.prompt, 3 + 2 + 3);
  assert_int_equal(responses.output, 20);
  EXPECT_ERROR(OBATCH_EJSON, "not a JSON object", count_request_tokens("/v1/embeddings", "[1]"));
}

static const struct CMUnitTest request_tokens_tests[] = {
    cmocka_unit_test(chat_messages_as_the_guide_counts_them),
    cmocka_unit_test(tools_as_the_guide_counts_them),
    cmocka_unit_test(images_by_the_tile_rule),
    cmocka_unit_test(image_sizes_from_headers),
    cmocka_unit_test(embeddings_and_completions_inputs),
    cmocka_unit_test(output_bound_and_assumptions),
};

OBATCH_TEST_MAIN(request_tokens_tests, nullptr, nullptr)
