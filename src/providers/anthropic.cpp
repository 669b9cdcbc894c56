// Anthropic: https://api.anthropic.com, x-api-key + anthropic-version,
// POST /v1/messages/batches with the requests inline, results as JSONL at
// the batch's results_url.
#include "providers/anthropic.hpp"

#include <simdjson.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>

#include "obatch/obatch.h"
#include "providers/openai_adapter.hpp"
#include "providers/provider.hpp"
#include "util/error.hpp"
#include "util/json_write.hpp"

namespace obatch {

namespace {

using simdjson::dom::element;
using simdjson::dom::object;

constexpr const char *kVersion = "2023-06-01";
constexpr const char *kBatches = "/v1/messages/batches";
const char *const kEndpoints[] = {"/v1/messages", nullptr};

std::string arg(const Fields &args, const char *key, int op, bool required = true) {
  auto it = args.find(key);
  if (it != args.end() && !it->second.empty()) return it->second;
  if (required)
    throw Error(OBATCH_EINVAL, std::string(op_name(op)) + ": argument '" + key + "' is missing");
  return "";
}

std::string str_field(object o, const char *key) {
  element v;
  if (o[key].get(v) != simdjson::SUCCESS || !v.is_string()) return "";
  return std::string(v.get_string().value_unsafe());
}

uint64_t count_field(object o, const char *key) {
  element v;
  if (o[key].get(v) != simdjson::SUCCESS) return 0;
  if (v.is_uint64()) return v.get_uint64().value_unsafe();
  if (v.is_int64() && v.get_int64().value_unsafe() > 0)
    return static_cast<uint64_t>(v.get_int64().value_unsafe());
  return 0;
}

void put_time(Fields &f, const char *name, const std::string &rfc3339) {
  int64_t t = rfc3339_to_unix(rfc3339);
  if (t >= 0) f[name] = std::to_string(t);
}

// A Message Batch object as the fields obatch reads (OpenAI's names).
void read_batch(object o, Fields &f) {
  f["batch_id"] = str_field(o, "id");
  const std::string processing = str_field(o, "processing_status");
  const std::string cancel_at = str_field(o, "cancel_initiated_at");
  uint64_t processing_n = 0, succeeded = 0, errored = 0, canceled = 0, expired = 0;
  element counts;
  if (o["request_counts"].get(counts) == simdjson::SUCCESS && counts.is_object()) {
    object c = counts.get_object().value_unsafe();
    processing_n = count_field(c, "processing");
    succeeded = count_field(c, "succeeded");
    errored = count_field(c, "errored");
    canceled = count_field(c, "canceled");
    expired = count_field(c, "expired");
  }
  const std::string status = anthropic_status(processing, !cancel_at.empty(), expired);
  if (!processing.empty()) f["status"] = status;
  f["provider_status"] = processing;  // the raw one, next to batch_json
  f["endpoint"] = "/v1/messages";
  f["completion_window"] = "24h";
  f["requests_total"] = std::to_string(processing_n + succeeded + errored + canceled + expired);
  f["requests_completed"] = std::to_string(succeeded);
  f["requests_failed"] = std::to_string(errored);
  put_time(f, "created_at", str_field(o, "created_at"));
  put_time(f, "in_progress_at", str_field(o, "created_at"));
  put_time(f, "expires_at", str_field(o, "expires_at"));
  put_time(f, "cancelling_at", cancel_at);
  const std::string ended = str_field(o, "ended_at");
  if (status == "completed") put_time(f, "completed_at", ended);
  if (status == "cancelled") put_time(f, "cancelled_at", ended);
  if (status == "expired") put_time(f, "expired_at", ended);
  // The results: a URL on the API's host (the engine checks that).
  const std::string results = str_field(o, "results_url");
  if (!results.empty()) f["output_file_id"] = results;
  f["batch_json"] = simdjson::minify(o);
}

// Calls fn(custom_id, object) with each line's custom_id and its object
// `field` (the lines of our input file, or of Anthropic's results); throws
// Error(EPROTOCOL) naming `what` and the line for anything else.
template <class F>
void each_line(std::istream &in, const std::string &what, const char *field, F &&fn) {
  simdjson::dom::parser parser;
  std::string line;
  for (uint64_t no = 1; std::getline(in, line); no++) {
    if (line.empty() || line == "\r") continue;
    const std::string where = what + " line " + std::to_string(no);
    element doc, value;
    if (parser.parse(line).get(doc) || !doc.is_object())
      throw Error(OBATCH_EPROTOCOL, where + ": not a JSON object (cut short?)");
    object o = doc.get_object().value_unsafe();
    std::string id = str_field(o, "custom_id");
    if (id.empty() || o[field].get(value) != simdjson::SUCCESS || !value.is_object())
      throw Error(OBATCH_EPROTOCOL, where + ": no custom_id or " + field);
    fn(id, value);
  }
}

void add_headers(HttpRequest *req) { req->headers.emplace_back("anthropic-version", kVersion); }

// {"requests":[{"custom_id":..,"params":body},...]} from the input file.
std::string create_body(const std::string &input_path, const IdMap &user_to_sent) {
  std::ifstream in(input_path, std::ios::binary);
  if (!in) throw Error(OBATCH_EIO, "cannot read the input file " + input_path);
  std::string out = "{\"requests\":[";
  bool first = true;
  each_line(in, input_path, "body", [&](const std::string &id, element body) {
    auto mapped = user_to_sent.find(id);
    out += first ? "{\"custom_id\":" : ",{\"custom_id\":";
    first = false;
    json_append_string(out, mapped == user_to_sent.end() ? id : mapped->second);
    out += ",\"params\":";
    out += simdjson::minify(body);
    out += "}";
  });
  if (in.bad()) throw Error(OBATCH_EIO, "cannot read the input file " + input_path);
  return out + "]}";
}

void build(int op, const Fields &args, HttpRequest *req) {
  add_headers(req);
  switch (op) {
    case OBATCH_OP_CREATE: {
      req->method = "POST";
      req->target = kBatches;
      req->content_type = "application/json";
      req->body = create_body(arg(args, "input_path", op),
                              parse_id_map(arg(args, "id_map", op, false), "create batch"));
      return;
    }
    case OBATCH_OP_RETRIEVE:
      req->method = "GET";
      req->target = std::string(kBatches) + "/" + escape_segment(arg(args, "batch_id", op));
      return;
    case OBATCH_OP_CANCEL:
      req->method = "POST";
      req->target =
          std::string(kBatches) + "/" + escape_segment(arg(args, "batch_id", op)) + "/cancel";
      return;
    case OBATCH_OP_LIST: {
      req->method = "GET";
      std::string limit = arg(args, "limit", op, false), after = arg(args, "after", op, false);
      req->target =
          std::string(kBatches) + "?limit=" + escape_segment(limit.empty() ? "20" : limit);
      if (!after.empty()) req->target += "&after_id=" + escape_segment(after);
      return;
    }
    case OBATCH_OP_DOWNLOAD: {
      // The batch's results_url; the engine sends the key only if it is on
      // the API's own host.
      req->method = "GET";
      req->target = arg(args, "file_id", op);
      return;
    }
  }
  throw Error(OBATCH_EINVAL, std::string("anthropic has no Files API (") + op_name(op) + ")");
}

void parse(int op, std::string_view body, Remote *out) {
  simdjson::dom::parser parser;
  element doc;
  if (parser.parse(body.data(), body.size()).get(doc) || !doc.is_object())
    throw Error(OBATCH_EPROTOCOL, std::string(op_name(op)) + ": the answer is not a JSON object");
  object o = doc.get_object().value_unsafe();
  if (op == OBATCH_OP_LIST) {
    element data;
    if (o["data"].get(data) != simdjson::SUCCESS || !data.is_array())
      throw Error(OBATCH_EPROTOCOL, "list batches: the answer has no data list");
    simdjson::dom::array items = data.get_array().value_unsafe();
    for (element e : items) {
      if (!e.is_object()) continue;
      out->items.emplace_back();
      read_batch(e.get_object().value_unsafe(), out->items.back());
    }
    element more;
    if (o["has_more"].get(more) == simdjson::SUCCESS && more.is_bool())
      out->page["has_more"] = more.get_bool().value_unsafe() ? "true" : "false";
    std::string last = str_field(o, "last_id");
    if (last.empty() && !out->items.empty()) last = out->items.back()["batch_id"];
    if (!last.empty()) out->page["last_id"] = last;
    return;
  }
  if (op != OBATCH_OP_CREATE && op != OBATCH_OP_RETRIEVE && op != OBATCH_OP_CANCEL)
    throw Error(OBATCH_EINVAL, std::string("anthropic has no Files API (") + op_name(op) + ")");
  read_batch(o, out->page);
  if (out->get("batch_id").empty() || out->get("status").empty())
    throw Error(OBATCH_EPROTOCOL,
                std::string(op_name(op)) + ": the answer has no batch id or processing_status");
}

// ---- the table's hooks (C calling convention, no exception escapes) ------

int hook_claims(const char *model, void *) { return std::strncmp(model, "claude-", 7) == 0; }

int hook_accepts(const char *id, void *) { return anthropic_accepts_custom_id(id); }

int hook_check(const char *, const char *body, size_t len, char *errstr, size_t size, void *) {
  simdjson::dom::parser parser;
  element doc, v;
  const char *why = nullptr;
  if (parser.parse(body, len).get(doc) || !doc.is_object())
    why = "the body is not a JSON object";
  else if (doc.get_object().value_unsafe()["max_tokens"].get(v) != simdjson::SUCCESS)
    why = "Anthropic requires \"max_tokens\" in every request";
  else if (!v.is_int64() || v.get_int64().value_unsafe() < 1)
    why = "\"max_tokens\" must be an integer >= 1";
  if (!why) return 0;
  std::snprintf(errstr, size, "%s", why);
  return 1;
}

template <class F>
int guarded_hook(F &&f) {
  try {
    f();
    return 0;
  } catch (const Error &e) {
    return e.code();
  } catch (...) {
    return OBATCH_EINTERNAL;
  }
}

int hook_build(int op, const obatch_op_args_t *args, obatch_http_request_t *req, void *) {
  return guarded_hook([&] { build(op, args->values, &req->req); });
}

int hook_parse(int op, int, const char *body, size_t len, obatch_remote_t *remote, void *) {
  return guarded_hook([&] { parse(op, std::string_view(body, len), &remote->remote); });
}

int hook_convert(const obatch_op_args_t *args, char *errstr, size_t size, void *) {
  try {
    auto get = [&](const char *k) {
      auto it = args->values.find(k);
      return it == args->values.end() ? std::string() : it->second;
    };
    convert_anthropic_results(get("raw_path"), get("output_path"), get("error_path"),
                              invert_id_map(parse_id_map(get("id_map"), "the custom_id map")));
    return 0;
  } catch (const Error &e) {
    std::snprintf(errstr, size, "%s", e.what());
    return e.code();
  } catch (const std::exception &e) {
    std::snprintf(errstr, size, "%s", e.what());
    return OBATCH_EINTERNAL;
  }
}

std::string error_line(const std::string &custom_id, int status, std::string_view type,
                       std::string_view message, std::string_view error_json) {
  std::string line = "{\"id\":null,\"custom_id\":";
  json_append_string(line, custom_id);
  line += ",\"response\":{\"status_code\":" + std::to_string(status) +
          ",\"request_id\":null,\"body\":{\"type\":\"error\",\"error\":";
  if (!error_json.empty()) {
    line += error_json;
  } else {
    line += "{\"type\":";
    json_append_string(line, type);
    line += ",\"message\":";
    json_append_string(line, message);
    line += "}";
  }
  return line + "}},\"error\":null}\n";
}

}  // namespace

bool anthropic_accepts_custom_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-'))
      return false;
  return true;
}

int64_t rfc3339_to_unix(std::string_view text) {
  std::string s(text);
  int y, mo, d, h, mi, sec, n = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) !=
          6 ||
      n != 19)
    return -1;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return -1;
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    i++;
    size_t digits = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') i++;
    if (i == digits) return -1;
  }
  int64_t offset = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    i++;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh, om, m = 0;
    if (std::sscanf(s.c_str() + i + 1, "%2d:%2d%n", &oh, &om, &m) != 2 || m != 5) return -1;
    offset = (oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return -1;
  }
  if (i != s.size()) return -1;
  struct tm tm {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  return static_cast<int64_t>(timegm(&tm)) - offset;
}

std::string anthropic_status(std::string_view processing_status, bool cancel_initiated,
                             uint64_t expired) {
  if (processing_status == "in_progress") return "in_progress";
  if (processing_status == "canceling") return "cancelling";
  if (processing_status == "ended") {
    if (cancel_initiated) return "cancelled";
    return expired > 0 ? "expired" : "completed";
  }
  return std::string(processing_status);  // unknown: shown as it came
}

int anthropic_error_status(std::string_view type) {
  static const std::pair<const char *, int> kStatus[] = {
      {"invalid_request_error", 400}, {"authentication_error", 401},
      {"billing_error", 402},         {"permission_error", 403},
      {"not_found_error", 404},       {"request_too_large", 413},
      {"rate_limit_error", 429},      {"api_error", 500},
      {"timeout_error", 504},         {"overloaded_error", 529}};
  for (auto &p : kStatus)
    if (type == p.first) return p.second;
  return 500;
}

ConvertCounts convert_anthropic_results(const std::string &raw_path, const std::string &output_path,
                                        const std::string &error_path,
                                        const std::map<std::string, std::string> &sent_to_user) {
  std::ifstream in(raw_path, std::ios::binary);
  if (!in) throw Error(OBATCH_EIO, "cannot read the downloaded results " + raw_path);
  std::ofstream out(output_path, std::ios::binary | std::ios::trunc),
      err(error_path, std::ios::binary | std::ios::trunc);
  if (!out || !err) throw Error(OBATCH_EIO, "cannot write " + output_path + " or " + error_path);
  ConvertCounts n;
  each_line(in, "results", "result", [&](const std::string &sent, element result) {
    auto back = sent_to_user.find(sent);
    const std::string id = back == sent_to_user.end() ? sent : back->second;
    object r = result.get_object().value_unsafe();
    const std::string type = str_field(r, "type");
    element part;
    if (type == "succeeded" && r["message"].get(part) == simdjson::SUCCESS) {
      std::string msg_id =
          part.is_object() ? str_field(part.get_object().value_unsafe(), "id") : "";
      std::string l = "{\"id\":null,\"custom_id\":";
      json_append_string(l, id);
      l += ",\"response\":{\"status_code\":200,\"request_id\":";
      l += msg_id.empty() ? "null" : json_quote(msg_id);
      l += ",\"body\":" + simdjson::minify(part) + "},\"error\":null}\n";
      out << l;
      n.succeeded++;
    } else if (type == "errored") {
      // {"type":"error","error":{"type","message"}}, or the inner error.
      std::string etype = "api_error", message = "errored without a message", json;
      if (r["error"].get(part) == simdjson::SUCCESS && part.is_object()) {
        element inner = part;
        element nested;
        if (part.get_object().value_unsafe()["error"].get(nested) == simdjson::SUCCESS &&
            nested.is_object())
          inner = nested;
        object eo = inner.get_object().value_unsafe();
        if (!str_field(eo, "type").empty()) etype = str_field(eo, "type");
        if (!str_field(eo, "message").empty()) message = str_field(eo, "message");
        json = simdjson::minify(inner);
      }
      err << error_line(id, anthropic_error_status(etype), etype, message, json);
      n.errored++;
    } else if (type == "canceled") {
      n.canceled++;
    } else if (type == "expired") {
      n.expired++;
    } else {
      std::string l = "{\"id\":null,\"custom_id\":";
      json_append_string(l, id);
      l += ",\"response\":null,\"error\":{\"code\":\"unknown_result_type\",\"message\":";
      json_append_string(l, "Anthropic result type " + json_quote(type) +
                                " is not known to obatch: " + simdjson::minify(result));
      l += "}}\n";
      err << l;
      n.errored++;
    }
  });
  if (in.bad()) throw Error(OBATCH_EIO, "cannot read the downloaded results " + raw_path);
  out.flush();
  err.flush();
  if (!out || !err) throw Error(OBATCH_EIO, "cannot write " + output_path + " or " + error_path);
  return n;
}

const obatch_provider_t &anthropic_provider_table() {
  static const obatch_provider_t table = [] {
    obatch_provider_t t{};
    t.version = OBATCH_PROVIDER_VERSION;
    t.name = "anthropic";
    t.default_base_url = "https://api.anthropic.com";
    t.api_key_env = "ANTHROPIC_API_KEY";
    t.base_url_env = "ANTHROPIC_BASE_URL";
    t.max_requests = 100000;
    t.max_bytes = 256 * 1000 * 1000;  // "256 MB": the smaller reading is safe
    t.one_model_per_batch = 0;
    t.inline_requests = 1;
    t.endpoints = kEndpoints;
    t.claims_model = hook_claims;
    t.check_request = hook_check;
    t.build_request = hook_build;
    t.parse_response = hook_parse;
    t.auth_header = "x-api-key";
    t.no_metadata = 1;
    t.accepts_custom_id = hook_accepts;
    t.convert_results = hook_convert;
    return t;
  }();
  return table;
}

}  // namespace obatch
