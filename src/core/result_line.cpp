#include "core/result_line.hpp"

#include <simdjson.h>

#include "obatch/obatch.h"
#include "util/error.hpp"

namespace obatch {
namespace {

using simdjson::dom::element;

thread_local simdjson::dom::parser tl_parser;

[[noreturn]] void bad(const std::string &where, const std::string &what) {
  throw Error(OBATCH_EPROTOCOL, where + ": " + what);
}

simdjson::dom::object parse_object(std::string_view line, const std::string &where) {
  element doc;
  auto err = tl_parser.parse(line.data(), line.size()).get(doc);
  if (err) bad(where, std::string("not a JSON result line (") + simdjson::error_message(err) + ")");
  if (!doc.is_object()) bad(where, "a result line must be a JSON object");
  return doc.get_object().value_unsafe();
}

std::string string_field(simdjson::dom::object obj, const char *key) {
  element v;
  if (obj[key].get(v) != simdjson::SUCCESS || !v.is_string()) return "";
  return std::string(v.get_string().value_unsafe());
}

// code + message of an {"code","message"} object (code may be a number).
void read_error(element err, ResultLine *r) {
  if (!err.is_object()) return;
  auto obj = err.get_object().value_unsafe();
  element code;
  if (obj["code"].get(code) == simdjson::SUCCESS) {
    if (code.is_string()) r->error_code = std::string(code.get_string().value_unsafe());
    else if (!code.is_null()) r->error_code = simdjson::minify(code);
  }
  r->error_message = string_field(obj, "message");
  r->has_error = true;
}

std::string custom_id_of(simdjson::dom::object obj, const std::string &where) {
  element id;
  if (obj["custom_id"].get(id) != simdjson::SUCCESS || !id.is_string())
    bad(where, "the result line has no string \"custom_id\"");
  return std::string(id.get_string().value_unsafe());
}

}  // namespace

std::string result_line_custom_id(std::string_view line, const std::string &where) {
  return custom_id_of(parse_object(line, where), where);
}

std::string scan_custom_id(std::string_view line) {
  static constexpr std::string_view kKey = "\"custom_id\"";
  size_t at = line.find(kKey);
  if (at == std::string_view::npos) return "";
  at = line.find_first_not_of(" \t", at + kKey.size());
  if (at == std::string_view::npos || line[at] != ':') return "";
  at = line.find_first_not_of(" \t", at + 1);
  if (at == std::string_view::npos || line[at] != '"') return "";
  std::string id;
  for (size_t i = at + 1; i < line.size(); i++) {
    char c = line[i];
    if (c == '"') return id;
    if (c == '\\') {
      if (++i == line.size()) return "";
      char e = line[i];
      // Simple escapes only; an id with \u escapes is left unmatched.
      if (e == '"' || e == '\\' || e == '/') id.push_back(e);
      else return "";
    } else {
      id.push_back(c);
    }
  }
  return "";
}

std::string check_result_line(std::string_view line, const std::string &where) {
  auto obj = parse_object(line, where);
  std::string id = custom_id_of(obj, where);
  element response, error;
  bool has_response = obj["response"].get(response) == simdjson::SUCCESS && response.is_object();
  bool has_error = obj["error"].get(error) == simdjson::SUCCESS && !error.is_null();
  if (!has_response && !has_error)
    bad(where, "the result line has neither \"response\" nor \"error\"");
  return id;
}

ResultLine parse_result_line(std::string_view line, const std::string &where) {
  auto obj = parse_object(line, where);
  ResultLine r;
  r.custom_id = custom_id_of(obj, where);
  element response, error;
  bool has_response = obj["response"].get(response) == simdjson::SUCCESS && response.is_object();
  if (has_response) {
    auto resp = response.get_object().value_unsafe();
    element status, body;
    if (resp["status_code"].get(status) == simdjson::SUCCESS && status.is_int64())
      r.status_code = static_cast<int>(status.get_int64().value_unsafe());
    else if (resp["status_code"].get(status) == simdjson::SUCCESS && status.is_uint64())
      r.status_code = static_cast<int>(status.get_uint64().value_unsafe());
    element rid;
    if (resp["request_id"].get(rid) == simdjson::SUCCESS && rid.is_string()) {
      r.request_id = std::string(rid.get_string().value_unsafe());
      r.has_request_id = true;
    }
    if (resp["body"].get(body) == simdjson::SUCCESS && !body.is_null()) {
      r.body = simdjson::minify(body);
      r.has_body = true;
      element body_error;
      if (r.status_code >= 300 && body.is_object() &&
          body.get_object().value_unsafe()["error"].get(body_error) == simdjson::SUCCESS)
        read_error(body_error, &r);
    }
  }
  if (obj["error"].get(error) == simdjson::SUCCESS && !error.is_null()) {
    read_error(error, &r);
    r.kind = OBATCH_RESULT_ERROR;
    if (has_response && r.status_code >= 300) r.kind = OBATCH_RESULT_HTTP_ERROR;
    return r;
  }
  if (!has_response) bad(where, "the result line has neither \"response\" nor \"error\"");
  if (r.status_code >= 200 && r.status_code < 300) r.kind = OBATCH_RESULT_SUCCEEDED;
  else r.kind = OBATCH_RESULT_HTTP_ERROR;
  return r;
}

}  // namespace obatch
