// --translate: chat completions as Anthropic Messages requests, and the
// refusals where a request cannot be one without losing something.
#include "core/batch_input.hpp"
#include "core/config.hpp"
#include "core/request.hpp"
#include "providers/anthropic.hpp"
#include "providers/provider.hpp"
#include "unit_support.hpp"

static std::string translated(const std::string &chat) {
  std::string why, out = obatch::translate_chat_to_messages(chat, &why);
  if (out.empty()) print_error("refused: %s\n", why.c_str());
  assert_false(out.empty());
  return out;
}

static std::string refusal(const std::string &chat) {
  std::string why, out = obatch::translate_chat_to_messages(chat, &why);
  assert_str_eq(out, "");
  assert_false(why.empty());
  return why;
}

static void system_roles_and_sampling(void **) {
  assert_str_eq(
      translated(R"({"model":"claude-x","max_completion_tokens":50,"messages":[
        {"role":"system","content":"Be brief."},
        {"role":"developer","content":[{"type":"text","text":"Use English."}]},
        {"role":"user","content":"hi"},
        {"role":"assistant","content":"hello"},
        {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}],
        "stop":"END","temperature":0.5,"top_p":0.9,"user":"u-1","n":1,"stream":false,
        "logprobs":false})"),
      R"({"model":"claude-x","max_tokens":50,"system":"Be brief.\n\nUse English.","messages":[)"
      R"({"role":"user","content":"hi"},{"role":"assistant","content":"hello"},)"
      R"({"role":"user","content":[{"type":"text","text":"ab"}]}],"stop_sequences":["END"],)"
      R"("temperature":0.5,"top_p":0.9,"metadata":{"user_id":"u-1"}})");
  // max_tokens when max_completion_tokens is absent; a list of stops.
  assert_contains(
      translated(R"({"model":"m","max_tokens":7,"stop":["a","b"],
                                 "messages":[{"role":"user","content":"x"}]})"),
      R"("max_tokens":7,"messages":[{"role":"user","content":"x"}],"stop_sequences":["a","b"])");
}

static void function_tools(void **) {
  std::string out = translated(R"({"model":"m","max_tokens":5,
      "messages":[{"role":"user","content":"x"}],
      "tools":[{"type":"function","function":{"name":"get","description":"d",
                "parameters":{"type":"object","properties":{}}}},
               {"type":"function","function":{"name":"bare"}}],
      "tool_choice":{"type":"function","function":{"name":"get"}}})");
  assert_contains(
      out,
      R"("tools":[{"name":"get","description":"d","input_schema":{"type":"object","properties":{}}},{"name":"bare","input_schema":{"type":"object"}}])");
  assert_contains(out, R"("tool_choice":{"type":"tool","name":"get"})");
  assert_contains(
      translated(R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],
                                 "tools":[],"tool_choice":"required"})"),
      R"("tool_choice":{"type":"any"})");
}

static void refusals_say_why(void **) {
  const std::string user = R"("messages":[{"role":"user","content":"x"}])";
  assert_contains(refusal(R"({"model":"m",)" + user + "}"), "requires max_tokens");
  assert_contains(refusal(R"({"model":"m","max_tokens":5,"n":2,)" + user + "}"), "n > 1");
  assert_contains(refusal(R"({"model":"m","max_tokens":5,"logprobs":true,)" + user + "}"),
                  "logprobs");
  assert_contains(refusal(R"({"model":"m","max_tokens":5,"top_logprobs":2,)" + user + "}"),
                  "top_logprobs");
  assert_contains(refusal(R"({"model":"m","max_tokens":5,"temperature":1.5,)" + user + "}"),
                  "outside Anthropic's 0..1");
  assert_contains(refusal(R"({"model":"m","max_tokens":5,"seed":1,)" + user + "}"),
                  "\"seed\" has no Messages equivalent");
  assert_contains(
      refusal(R"({"model":"m","max_tokens":5,"tools":[{"type":"web_search"}],)" + user + "}"),
      "only {\"type\":\"function\"");
  assert_contains(refusal(R"({"model":"m","max_tokens":5,"tools":[{"type":"function","function":
                              {"name":"f","strict":true}}],)" +
                          user + "}"),
                  "\"strict\"");
  assert_contains(refusal(R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":
                              [{"type":"image_url","image_url":{"url":"x"}}]}]})"),
                  "only text parts");
  assert_contains(refusal(R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"},
                              {"role":"tool","content":"r","tool_call_id":"1"}]})"),
                  "role \"tool\"");
  assert_contains(refusal(R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"},
                              {"role":"system","content":"late"}]})"),
                  "after the conversation started");
  assert_contains(
      refusal(R"({"model":"m","max_tokens":5,"messages":[{"role":"system","content":"s"}]})"),
      "no user or assistant message");
  assert_contains(refusal(R"({"model":"m","max_tokens":5,"messages":[{"role":"assistant",
                              "content":null,"tool_calls":[]}]})"),
                  "tool calls");
}

// With translate on, the input rules of anthropic rewrite chat lines at add
// time and refuse untranslatable ones there, before anything is sent.
static void translate_setting_rewrites_lines_at_add(void **) {
  unit::TempDir dir;
  obatch::Config conf;
  conf.set("provider", "anthropic");
  conf.set("translate", "on");
  obatch::BatchInput input(dir.file("in.jsonl"), "request");
  input.set_rules(obatch::find_provider("anthropic")->rules(conf));
  input.append(
      obatch::parse_request_line(
          R"({"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":)"
          R"({"model":"claude-x","max_tokens":9,"messages":[{"role":"system","content":"s"},)"
          R"({"role":"user","content":"q"}]}})",
          "line 1"),
      "line 1");
  EXPECT_ERROR(OBATCH_EREQUEST,
               "line 2: this chat completion cannot be sent as a Messages "
               "request: n > 1",
               input.append(obatch::parse_request_line(
                                R"({"custom_id":"b","method":"POST","url":"/v1/chat/completions",)"
                                R"("body":{"model":"claude-x","max_tokens":9,"n":3,"messages":)"
                                R"([{"role":"user","content":"q"}]}})",
                                "line 2"),
                            "line 2"));
  input.finish();
  assert_str_eq(input.endpoint(), "/v1/messages");
  assert_contains(unit::read_all(dir.file("in.jsonl")),
                  R"("url":"/v1/messages","body":{"model":"claude-x","max_tokens":9,"system":"s")");
  // Off (the default): a chat line is not an Anthropic endpoint.
  obatch::Config off;
  obatch::BatchInput plain(dir.file("plain.jsonl"), "request");
  plain.set_rules(obatch::find_provider("anthropic")->rules(off));
  EXPECT_ERROR(OBATCH_EREQUEST, "is not a batch endpoint of anthropic",
               plain.append(obatch::parse_request_line(
                                R"({"custom_id":"a","method":"POST","url":"/v1/chat/completions",)"
                                R"("body":{"model":"claude-x","max_tokens":9,"messages":)"
                                R"([{"role":"user","content":"q"}]}})",
                                "line 1"),
                            "line 1"));
  // Translation is Anthropic's: asked of another provider, it is an error.
  EXPECT_ERROR(OBATCH_ECONFIG, "translation is for Anthropic",
               obatch::find_provider("openai")->rules(conf));
  EXPECT_ERROR(OBATCH_ECONFIG, "translate is", conf.set("translate", "yes"));
}

static const struct CMUnitTest translate_tests[] = {
    cmocka_unit_test(system_roles_and_sampling),
    cmocka_unit_test(function_tools),
    cmocka_unit_test(refusals_say_why),
    cmocka_unit_test(translate_setting_rewrites_lines_at_add),
};

OBATCH_TEST_MAIN(translate_tests, nullptr, nullptr)
