// --translate: a /v1/chat/completions body as a /v1/messages body, or the
// reason it cannot be one without losing something.
#include <simdjson.h>

#include <set>

#include "providers/anthropic.hpp"
#include "util/json_write.hpp"

namespace obatch {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// A refusal: thrown inside, returned as *why.
struct Refusal {
  std::string why;
};

[[noreturn]] void refuse(const std::string &why) { throw Refusal{why}; }

std::string text_of(element content, const std::string &what) {
  if (content.is_string()) return std::string(content.get_string().value_unsafe());
  if (!content.is_array()) refuse(what + ": content must be a string or a list of text parts");
  std::string text;
  array parts = content.get_array().value_unsafe();
  for (element part : parts) {
    element type, value;
    if (!part.is_object() || part.get_object().value_unsafe()["type"].get(type) ||
        !type.is_string() || type.get_string().value_unsafe() != "text" ||
        part.get_object().value_unsafe()["text"].get(value) || !value.is_string())
      refuse(what + ": only text parts translate (not images, audio or files)");
    text += value.get_string().value_unsafe();
  }
  return text;
}

// One user or assistant message as Anthropic's.
std::string message(object m, const std::string &role, const std::string &what) {
  for (auto kv : m) {
    std::string key(kv.key);
    if (key == "tool_calls" || key == "function_call")
      refuse(what + ": tool calls in the conversation do not translate");
    if (key != "role" && key != "content")
      refuse(what + ": field \"" + key + "\" has no Messages equivalent");
  }
  element content;
  if (m["content"].get(content) || content.is_null()) refuse(what + ": content is missing");
  std::string out = "{\"role\":";
  json_append_string(out, role);
  if (content.is_string()) {
    out += ",\"content\":";
    json_append_string(out, content.get_string().value_unsafe());
  } else {
    out += ",\"content\":[{\"type\":\"text\",\"text\":";
    json_append_string(out, text_of(content, what));
    out += "}]";
  }
  return out + "}";
}

std::string tools(element list) {
  if (!list.is_array()) refuse("tools must be a list");
  std::string out = "[";
  array items = list.get_array().value_unsafe();
  for (element t : items) {
    element type, fn, name, v;
    if (!t.is_object() || t.get_object().value_unsafe()["type"].get(type) || !type.is_string() ||
        type.get_string().value_unsafe() != "function" ||
        t.get_object().value_unsafe()["function"].get(fn) || !fn.is_object())
      refuse("tools: only {\"type\":\"function\",\"function\":{...}} tools translate");
    object f = fn.get_object().value_unsafe();
    if (f["name"].get(name) || !name.is_string()) refuse("tools: a function needs a name");
    for (auto kv : f) {
      std::string key(kv.key);
      if (key != "name" && key != "description" && key != "parameters")
        refuse("tools: function field \"" + key +
               "\" (such as strict) has no Messages "
               "equivalent");
    }
    out += out.size() > 1 ? ",{\"name\":" : "{\"name\":";
    json_append_string(out, name.get_string().value_unsafe());
    if (!f["description"].get(v) && v.is_string()) {
      out += ",\"description\":";
      json_append_string(out, v.get_string().value_unsafe());
    }
    out += ",\"input_schema\":";
    out += !f["parameters"].get(v) && v.is_object() ? simdjson::minify(v)
                                                    : std::string("{\"type\":\"object\"}");
    out += "}";
  }
  return out + "]";
}

std::string tool_choice(element c) {
  if (c.is_string()) {
    std::string_view s = c.get_string().value_unsafe();
    if (s == "auto") return "{\"type\":\"auto\"}";
    if (s == "required") return "{\"type\":\"any\"}";
    if (s == "none") return "{\"type\":\"none\"}";
  } else if (c.is_object()) {
    element fn, name;
    if (!c.get_object().value_unsafe()["function"].get(fn) && fn.is_object() &&
        !fn.get_object().value_unsafe()["name"].get(name) && name.is_string()) {
      std::string out = "{\"type\":\"tool\",\"name\":";
      json_append_string(out, name.get_string().value_unsafe());
      return out + "}";
    }
  }
  refuse("tool_choice " + simdjson::minify(c) + " does not translate");
}

std::string translate(std::string_view chat_body) {
  simdjson::dom::parser parser;
  element doc;
  if (parser.parse(chat_body.data(), chat_body.size()).get(doc) || !doc.is_object())
    refuse("the body is not a JSON object");
  object body = doc.get_object().value_unsafe();
  static const std::set<std::string> kKnown = {
      "model", "messages",   "max_tokens", "max_completion_tokens", "stop", "temperature",
      "top_p", "n",          "logprobs",   "top_logprobs",          "user", "stream",
      "tools", "tool_choice"};
  for (auto kv : body)
    if (!kKnown.count(std::string(kv.key)))
      refuse("field \"" + std::string(kv.key) + "\" has no Messages equivalent");
  element v;
  if (!body["n"].get(v) && !v.is_null() && !(v.is_int64() && v.get_int64().value_unsafe() == 1))
    refuse("n > 1: a Messages request gives one answer");
  if (!body["logprobs"].get(v) && !v.is_null() && !(v.is_bool() && !v.get_bool().value_unsafe()))
    refuse("logprobs: the Messages API has none");
  if (!body["top_logprobs"].get(v) && !v.is_null())
    refuse("top_logprobs: the Messages API has none");

  std::string out = "{\"model\":";
  element model;
  if (body["model"].get(model) || !model.is_string()) refuse("the body has no \"model\"");
  json_append_string(out, model.get_string().value_unsafe());
  element tokens;
  if ((body["max_completion_tokens"].get(tokens) || tokens.is_null()) &&
      (body["max_tokens"].get(tokens) || tokens.is_null()))
    refuse("Anthropic requires max_tokens: give max_completion_tokens or max_tokens");
  if (!tokens.is_int64() || tokens.get_int64().value_unsafe() < 1)
    refuse("max_tokens must be an integer >= 1");
  out += ",\"max_tokens\":" + std::to_string(tokens.get_int64().value_unsafe());

  element messages;
  if (body["messages"].get(messages) || !messages.is_array()) refuse("\"messages\" must be a list");
  std::string system, turns;
  bool conversation_started = false;
  size_t i = 0;
  array list = messages.get_array().value_unsafe();
  for (element m : list) {
    const std::string what = "messages[" + std::to_string(i++) + "]";
    element role;
    if (!m.is_object() || m.get_object().value_unsafe()["role"].get(role) || !role.is_string())
      refuse(what + ": a message needs a role");
    std::string r(role.get_string().value_unsafe());
    object mo = m.get_object().value_unsafe();
    if (r == "system" || r == "developer") {
      if (conversation_started)
        refuse(what + ": a " + r +
               " message after the conversation started does not "
               "translate (Anthropic takes one system prompt, before it)");
      element content;
      if (mo["content"].get(content)) refuse(what + ": content is missing");
      system += (system.empty() ? "" : "\n\n") + text_of(content, what);
    } else if (r == "user" || r == "assistant") {
      conversation_started = true;
      turns += (turns.empty() ? "" : ",") + message(mo, r, what);
    } else {
      refuse(what + ": role \"" + r + "\" does not translate");
    }
  }
  if (turns.empty()) refuse("no user or assistant message");
  if (!system.empty()) {
    out += ",\"system\":";
    json_append_string(out, system);
  }
  out += ",\"messages\":[" + turns + "]";
  if (!body["stop"].get(v) && !v.is_null()) {
    if (v.is_string()) {
      out += ",\"stop_sequences\":[";
      json_append_string(out, v.get_string().value_unsafe());
      out += "]";
    } else if (v.is_array()) {
      array stops = v.get_array().value_unsafe();
      for (element s : stops)
        if (!s.is_string()) refuse("stop must be a string or a list of strings");
      out += ",\"stop_sequences\":" + simdjson::minify(v);
    } else {
      refuse("stop must be a string or a list of strings");
    }
  }
  if (!body["temperature"].get(v) && !v.is_null()) {
    if (!v.is_number()) refuse("temperature must be a number");
    double t = v.is_double() ? v.get_double().value_unsafe()
                             : static_cast<double>(v.get_int64().value_unsafe());
    if (t < 0 || t > 1)
      refuse("temperature " + simdjson::minify(v) + " is outside Anthropic's 0..1");
    out += ",\"temperature\":" + simdjson::minify(v);
  }
  if (!body["top_p"].get(v) && !v.is_null()) {
    if (!v.is_number()) refuse("top_p must be a number");
    out += ",\"top_p\":" + simdjson::minify(v);
  }
  if (!body["user"].get(v) && !v.is_null()) {
    if (!v.is_string()) refuse("user must be a string");
    out += ",\"metadata\":{\"user_id\":";
    json_append_string(out, v.get_string().value_unsafe());
    out += "}";
  }
  if (!body["tools"].get(v) && !v.is_null()) out += ",\"tools\":" + tools(v);
  if (!body["tool_choice"].get(v) && !v.is_null()) out += ",\"tool_choice\":" + tool_choice(v);
  return out + "}";
}

}  // namespace

std::string translate_chat_to_messages(std::string_view chat_body, std::string *why) {
  try {
    return translate(chat_body);
  } catch (const Refusal &r) {
    *why = r.why;
    return "";
  }
}

}  // namespace obatch
