#include "providers/openai_adapter.hpp"

#include <simdjson.h>

#include "obatch/obatch.h"
#include "util/error.hpp"
#include "util/json_write.hpp"

namespace obatch {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

const std::string &need(const Fields &args, const char *key, int op) {
  auto it = args.find(key);
  if (it == args.end() || it->second.empty())
    throw Error(OBATCH_EINVAL, std::string(op_name(op)) + ": argument '" + key + "' is missing");
  return it->second;
}

std::string opt(const Fields &args, const char *key) {
  auto it = args.find(key);
  return it == args.end() ? std::string() : it->second;
}

std::string query(std::initializer_list<std::pair<const char *, std::string>> params) {
  std::string q;
  for (auto &p : params) {
    if (p.second.empty()) continue;
    q += q.empty() ? "?" : "&";
    q += p.first;
    q += "=";
    q += escape_segment(p.second);
  }
  return q;
}

// A scalar as text ("" for null or absent); numbers as their digits (a
// fraction is cut off; a double beyond int64, such as 1e300, is absent:
// converting it would be undefined).
std::string scalar(object obj, const char *key) {
  element v;
  if (obj[key].get(v) != simdjson::SUCCESS || v.is_null()) return "";
  if (v.is_string()) return std::string(v.get_string().value_unsafe());
  if (v.is_int64()) return std::to_string(v.get_int64().value_unsafe());
  if (v.is_uint64()) return std::to_string(v.get_uint64().value_unsafe());
  if (v.is_double()) {
    double d = v.get_double().value_unsafe();
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return "";
    return std::to_string(static_cast<int64_t>(d));
  }
  if (v.is_bool()) return v.get_bool().value_unsafe() ? "true" : "false";
  return "";
}

void put(Fields &f, const char *name, std::string value) {
  if (!value.empty()) f[name] = std::move(value);
}

void read_file_object(object o, Fields &f) {
  put(f, "file_id", scalar(o, "id"));
  put(f, "file_bytes", scalar(o, "bytes"));
  put(f, "filename", scalar(o, "filename"));
  put(f, "purpose", scalar(o, "purpose"));
}

void read_batch_object(object o, Fields &f) {
  put(f, "batch_id", scalar(o, "id"));
  put(f, "status", scalar(o, "status"));
  put(f, "endpoint", scalar(o, "endpoint"));
  put(f, "input_file_id", scalar(o, "input_file_id"));
  put(f, "output_file_id", scalar(o, "output_file_id"));
  put(f, "error_file_id", scalar(o, "error_file_id"));
  put(f, "created_at", scalar(o, "created_at"));
  put(f, "model", scalar(o, "model"));
  put(f, "completion_window", scalar(o, "completion_window"));
  for (const char *step : {"in_progress_at", "finalizing_at", "completed_at", "failed_at",
                           "expired_at", "cancelling_at", "cancelled_at", "expires_at"})
    put(f, step, scalar(o, step));
  element usage;
  if (o["usage"].get(usage) == simdjson::SUCCESS && usage.is_object()) {
    object u = usage.get_object().value_unsafe();
    for (const char *count : {"input_tokens", "output_tokens", "total_tokens"})
      put(f, count, scalar(u, count));
  }
  // The whole object, for what has no field of its own (metadata, errors).
  f["batch_json"] = simdjson::minify(o);
  element counts;
  if (o["request_counts"].get(counts) == simdjson::SUCCESS && counts.is_object()) {
    object c = counts.get_object().value_unsafe();
    put(f, "requests_total", scalar(c, "total"));
    put(f, "requests_completed", scalar(c, "completed"));
    put(f, "requests_failed", scalar(c, "failed"));
  }
  element errors, data;
  if (o["errors"].get(errors) == simdjson::SUCCESS && errors.is_object() &&
      errors.get_object().value_unsafe()["data"].get(data) == simdjson::SUCCESS &&
      data.is_array()) {
    std::string msg;
    size_t n = 0, shown = 0;
    simdjson::dom::array list = data.get_array().value_unsafe();
    for (element e : list) {
      n++;
      if (!e.is_object() || shown == 5) continue;
      object eo = e.get_object().value_unsafe();
      std::string line = scalar(eo, "line"), param = scalar(eo, "param");
      std::string part;
      if (!line.empty()) part += "line " + line + ": ";
      part += scalar(eo, "message");
      std::string code = scalar(eo, "code");
      if (shown == 0 && !code.empty()) put(f, "failure_code", code);
      if (!code.empty()) part += " (" + code + (param.empty() ? "" : ", param " + param) + ")";
      msg += (msg.empty() ? "" : "; ") + part;
      shown++;
    }
    if (n > shown) msg += "; and " + std::to_string(n - shown) + " more";
    put(f, "error_message", msg);
  }
  element md;
  if (o["metadata"].get(md) == simdjson::SUCCESS && md.is_object()) {
    object pairs = md.get_object().value_unsafe();
    for (auto kv : pairs)
      if (kv.value.is_string())
        f["metadata." + std::string(kv.key)] = std::string(kv.value.get_string().value_unsafe());
  }
}

}  // namespace

const char *op_name(int op) {
  switch (op) {
    case OBATCH_OP_UPLOAD: return "upload input file";
    case OBATCH_OP_CREATE: return "create batch";
    case OBATCH_OP_RETRIEVE: return "retrieve batch";
    case OBATCH_OP_CANCEL: return "cancel batch";
    case OBATCH_OP_DOWNLOAD: return "download file";
    case OBATCH_OP_LIST: return "list batches";
    case OBATCH_OP_FILE_INFO: return "retrieve file";
    case OBATCH_OP_LIST_FILES: return "list files";
  }
  return "unknown operation";
}

std::string escape_segment(std::string_view s) {
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
        c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

void openai_build(int op, const Fields &args, HttpRequest *req) {
  switch (op) {
    case OBATCH_OP_UPLOAD: {
      req->method = "POST";
      req->target = "/files";
      req->form.push_back({"purpose", "batch", "", "", ""});
      req->form.push_back({"file", "", need(args, "input_path", op),
                           need(args, "filename", op), "application/jsonl"});
      return;
    }
    case OBATCH_OP_CREATE: {
      req->method = "POST";
      req->target = "/batches";
      req->content_type = "application/json";
      std::string &b = req->body;
      b = "{\"input_file_id\":";
      json_append_string(b, need(args, "input_file_id", op));
      b += ",\"endpoint\":";
      json_append_string(b, need(args, "endpoint", op));
      b += ",\"completion_window\":";
      std::string window = opt(args, "completion_window");
      json_append_string(b, window.empty() ? "24h" : window);
      std::string md = opt(args, "metadata");
      if (!md.empty()) b += ",\"metadata\":" + md;
      b += "}";
      return;
    }
    case OBATCH_OP_RETRIEVE:
      req->method = "GET";
      req->target = "/batches/" + escape_segment(need(args, "batch_id", op));
      return;
    case OBATCH_OP_CANCEL:
      req->method = "POST";
      req->target = "/batches/" + escape_segment(need(args, "batch_id", op)) + "/cancel";
      return;
    case OBATCH_OP_DOWNLOAD:
      req->method = "GET";
      req->target = "/files/" + escape_segment(need(args, "file_id", op)) + "/content";
      return;
    case OBATCH_OP_LIST:
      req->method = "GET";
      req->target = "/batches" + query({{"after", opt(args, "after")}, {"limit", opt(args, "limit")}});
      return;
    case OBATCH_OP_FILE_INFO:
      req->method = "GET";
      req->target = "/files/" + escape_segment(need(args, "file_id", op));
      return;
    case OBATCH_OP_LIST_FILES:
      req->method = "GET";
      req->target = "/files" + query({{"purpose", opt(args, "purpose")},
                                      {"after", opt(args, "after")},
                                      {"limit", opt(args, "limit")}});
      return;
  }
  throw Error(OBATCH_EINVAL, "unknown provider operation " + std::to_string(op));
}

void openai_parse(int op, std::string_view body, Remote *out) {
  static thread_local simdjson::dom::parser parser;
  element doc;
  if (parser.parse(body.data(), body.size()).get(doc) || !doc.is_object())
    throw Error(OBATCH_EPROTOCOL, std::string(op_name(op)) +
                                      ": the answer is not a JSON object");
  object o = doc.get_object().value_unsafe();
  switch (op) {
    case OBATCH_OP_UPLOAD:
    case OBATCH_OP_FILE_INFO:
      read_file_object(o, out->page);
      if (out->get("file_id").empty())
        throw Error(OBATCH_EPROTOCOL, std::string(op_name(op)) + ": the answer has no file id");
      return;
    case OBATCH_OP_CREATE:
    case OBATCH_OP_RETRIEVE:
    case OBATCH_OP_CANCEL:
      read_batch_object(o, out->page);
      if (out->get("batch_id").empty() || out->get("status").empty())
        throw Error(OBATCH_EPROTOCOL,
                    std::string(op_name(op)) + ": the answer has no batch id or status");
      return;
    case OBATCH_OP_LIST:
    case OBATCH_OP_LIST_FILES: {
      element data;
      if (o["data"].get(data) != simdjson::SUCCESS || !data.is_array())
        throw Error(OBATCH_EPROTOCOL, std::string(op_name(op)) + ": the answer has no data list");
      simdjson::dom::array list = data.get_array().value_unsafe();
      for (element e : list) {
        if (!e.is_object()) continue;
        out->items.emplace_back();
        if (op == OBATCH_OP_LIST) read_batch_object(e.get_object().value_unsafe(), out->items.back());
        else read_file_object(e.get_object().value_unsafe(), out->items.back());
      }
      put(out->page, "has_more", scalar(o, "has_more"));
      std::string last = scalar(o, "last_id");
      if (last.empty() && !out->items.empty())
        last = out->items.back().count("batch_id") ? out->items.back()["batch_id"]
                                                   : out->items.back()["file_id"];
      put(out->page, "last_id", last);
      return;
    }
  }
  throw Error(OBATCH_EINVAL, "unknown provider operation " + std::to_string(op));
}

}  // namespace obatch
