// OpenAI-compatible hosts declared in a JSON file rather than in code: the
// OpenAI adapters, plus the host's auth header, query parameters, limits,
// endpoints, completion windows and model patterns.
#include <fnmatch.h>
#include <simdjson.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "obatch/obatch.h"
#include "providers/openai_adapter.hpp"
#include "providers/provider.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

namespace obatch {

namespace {

using simdjson::dom::element;
using simdjson::dom::object;

struct Declared {
  std::string name, base_url, base_url_env, api_key_env, auth_header;
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::string> endpoints, models;
  std::vector<const char *> endpoint_list;  // NULL-terminated, into `endpoints`
};

int declared_claims(const char *model, void *payload) {
  for (const std::string &p : static_cast<Declared *>(payload)->models)
    if (fnmatch(p.c_str(), model, 0) == 0) return 1;
  return 0;
}

int declared_build(int op, const obatch_op_args_t *args, obatch_http_request_t *req,
                   void *payload) {
  try {
    openai_build(op, args->values, &req->req);
    std::string &target = req->req.target;
    for (auto &q : static_cast<Declared *>(payload)->query)
      target += (target.find('?') == std::string::npos ? "?" : "&") + escape_segment(q.first) +
                "=" + escape_segment(q.second);
    return 0;
  } catch (const Error &e) {
    return e.code();
  } catch (...) {
    return OBATCH_EINTERNAL;
  }
}

// Statuses in any case ("Completed" from Azure) read as OpenAI's.
void lower_status(Fields &f) {
  auto it = f.find("status");
  if (it != f.end())
    for (char &c : it->second) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

int declared_parse(int op, int, const char *body, size_t len, obatch_remote_t *remote, void *) {
  try {
    Remote &r = remote->remote;
    openai_parse(op, std::string_view(body, len), &r);
    lower_status(r.page);
    for (Fields &item : r.items) lower_status(item);
    return 0;
  } catch (const Error &e) {
    return e.code();
  } catch (...) {
    return OBATCH_EINTERNAL;
  }
}

[[noreturn]] void bad(const std::string &where, const std::string &what) {
  throw Error(OBATCH_ECONFIG, where + ": " + what);
}

std::string text(object o, const char *key, const std::string &where, bool required) {
  element v;
  if (o[key].get(v) != simdjson::SUCCESS || v.is_null()) {
    if (required) bad(where, std::string("\"") + key + "\" is missing");
    return "";
  }
  if (!v.is_string() || v.get_string().value_unsafe().empty())
    bad(where, std::string("\"") + key + "\" must be a non-empty string");
  return std::string(v.get_string().value_unsafe());
}

std::vector<std::string> texts(object o, const char *key, const std::string &where) {
  std::vector<std::string> out;
  element v;
  if (o[key].get(v) != simdjson::SUCCESS || v.is_null()) return out;
  if (!v.is_array()) bad(where, std::string("\"") + key + "\" must be a list of strings");
  simdjson::dom::array items = v.get_array().value_unsafe();
  for (element e : items) {
    if (!e.is_string() || e.get_string().value_unsafe().empty())
      bad(where, std::string("\"") + key + "\" must be a list of non-empty strings");
    out.emplace_back(e.get_string().value_unsafe());
  }
  return out;
}

uint64_t count(object o, const char *key, const std::string &where) {
  element v;
  if (o[key].get(v) != simdjson::SUCCESS || v.is_null()) return 0;
  if (!v.is_uint64() && !(v.is_int64() && v.get_int64().value_unsafe() >= 0))
    bad(where, std::string("\"") + key + "\" must be an integer >= 0 (0: no limit)");
  return v.is_uint64() ? v.get_uint64().value_unsafe()
                       : static_cast<uint64_t>(v.get_int64().value_unsafe());
}

std::shared_ptr<const Provider> declared_provider(object o, const std::string &file) {
  static const std::set<std::string> kKeys = {
      "name",         "base_url",  "base_url_env", "api_key_env", "auth_header",        "query",
      "max_requests", "max_bytes", "one_model",    "endpoints",   "completion_windows", "models",
      "notes"};
  const std::string name = text(o, "name", file + ": a provider", true);
  const std::string where = file + ": provider " + name;
  for (auto kv : o)
    if (!kKeys.count(std::string(kv.key)))
      bad(where, "unknown key \"" + std::string(kv.key) + "\"");
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
      bad(where, "a name has only letters, digits, - and _");
  auto d = std::make_shared<Declared>();
  d->name = name;
  d->base_url = text(o, "base_url", where, false);
  d->base_url_env = text(o, "base_url_env", where, false);
  d->api_key_env = text(o, "api_key_env", where, true);
  if (d->base_url.empty() && d->base_url_env.empty())
    bad(where, "give \"base_url\", \"base_url_env\" or both");
  std::string auth = text(o, "auth_header", where, false);
  if (auth.empty() || auth == "bearer" || auth == "Authorization: Bearer") {
    auth.clear();
  } else {
    for (char c : auth)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-')
        bad(where, "\"auth_header\" is \"bearer\" or a header name such as \"api-key\"");
    std::string lower = auth;
    for (char &c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "authorization") bad(where, "for Authorization: Bearer, say \"bearer\"");
  }
  d->auth_header = auth;
  element q;
  if (o["query"].get(q) == simdjson::SUCCESS && !q.is_null()) {
    if (!q.is_object()) bad(where, "\"query\" must be an object of strings");
    object pairs = q.get_object().value_unsafe();
    for (auto kv : pairs) {
      if (!kv.value.is_string()) bad(where, "\"query\" must be an object of strings");
      d->query.emplace_back(std::string(kv.key), std::string(kv.value.get_string().value_unsafe()));
    }
  }
  d->endpoints = texts(o, "endpoints", where);
  for (const std::string &e : d->endpoints)
    if (e[0] != '/') bad(where, "an endpoint is a path such as /v1/chat/completions");
  d->models = texts(o, "models", where);
  ProviderExtras extras;
  for (const std::string &w : texts(o, "completion_windows", where)) {
    size_t dots = w.find("..");
    int low = window_hours(w.substr(0, dots));
    int high = dots == std::string::npos ? low : window_hours(w.substr(dots + 2));
    if (low < 0 || high < low)
      bad(where, "a completion window is such as \"24h\", or a range such as \"24h..7d\"");
    extras.windows.emplace_back(low, high);
  }
  element one;
  bool one_model = false;
  if (o["one_model"].get(one) == simdjson::SUCCESS && !one.is_null()) {
    if (!one.is_bool()) bad(where, "\"one_model\" must be true or false");
    one_model = one.get_bool().value_unsafe();
  }
  obatch_provider_t t{};
  t.version = OBATCH_PROVIDER_VERSION;
  t.name = d->name.c_str();
  t.default_base_url = d->base_url.empty() ? nullptr : d->base_url.c_str();
  t.api_key_env = d->api_key_env.c_str();
  t.base_url_env = d->base_url_env.empty() ? nullptr : d->base_url_env.c_str();
  t.max_requests = count(o, "max_requests", where);
  t.max_bytes = count(o, "max_bytes", where);
  t.one_model_per_batch = one_model;
  if (!d->endpoints.empty()) {
    for (const std::string &e : d->endpoints) d->endpoint_list.push_back(e.c_str());
    d->endpoint_list.push_back(nullptr);
    t.endpoints = d->endpoint_list.data();
  }
  t.payload = d.get();
  t.claims_model = declared_claims;
  t.build_request = declared_build;
  t.parse_response = declared_parse;
  t.auth_header = d->auth_header.empty() ? nullptr : d->auth_header.c_str();
  extras.payload = d;
  return std::make_shared<Provider>(t, std::move(extras));
}

}  // namespace

std::vector<std::shared_ptr<const Provider>> declared_providers(const std::string &json,
                                                                const std::string &where) {
  simdjson::dom::parser parser;
  element doc, list;
  if (auto err = parser.parse(json).get(doc))
    bad(where, std::string("not JSON (") + simdjson::error_message(err) + ")");
  if (!doc.is_object() || doc.get_object().value_unsafe()["providers"].get(list) ||
      !list.is_array())
    bad(where, "expected {\"providers\": [ ... ]}");
  std::vector<std::shared_ptr<const Provider>> out;
  simdjson::dom::array items = list.get_array().value_unsafe();
  for (element e : items) {
    if (!e.is_object()) bad(where, "each provider is a JSON object");
    try {
      out.push_back(declared_provider(e.get_object().value_unsafe(), where));
    } catch (const Error &err) {
      if (err.code() == OBATCH_ECONFIG) throw;
      throw Error(OBATCH_ECONFIG, where + ": " + err.what());  // the table's own checks
    }
  }
  return out;
}

std::vector<std::shared_ptr<const Provider>> declared_providers_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(OBATCH_ECONFIG, "providers file " + path + ": cannot read it");
  std::ostringstream text;
  text << in.rdbuf();
  return declared_providers(text.str(), "providers file " + path);
}

std::vector<std::string> default_provider_files() {
  std::vector<std::string> files;
  const char *env = std::getenv("OBATCH_PROVIDERS");
  if (env && *env) files.emplace_back(env);
  const char *xdg = std::getenv("XDG_CONFIG_HOME");
  const char *home = std::getenv("HOME");
  std::string dir = xdg && *xdg ? xdg : home && *home ? path_join(home, ".config") : "";
  if (!dir.empty()) {
    std::string path = path_join(dir, "obatch/providers.json");
    if (!real_path(path).empty()) files.push_back(path);
  }
  return files;
}

// Limits and rules as each host documents them (README: "Providers").
const char *shipped_declarations() {
  return R"json({"providers": [
  {"name": "azure",
   "notes": "Azure OpenAI, legacy paths: base URL https://RESOURCE.openai.azure.com/openai; the model is the deployment name",
   "base_url_env": "AZURE_OPENAI_BASE_URL", "api_key_env": "AZURE_OPENAI_API_KEY",
   "auth_header": "api-key", "query": {"api-version": "2024-10-21"},
   "max_requests": 100000, "max_bytes": 200000000, "one_model": true,
   "endpoints": ["/chat/completions", "/embeddings", "/v1/chat/completions", "/v1/embeddings"],
   "completion_windows": ["24h"]},
  {"name": "azure-v1",
   "notes": "Azure OpenAI, v1 paths: base URL https://RESOURCE.openai.azure.com/openai/v1",
   "base_url_env": "AZURE_OPENAI_V1_BASE_URL", "api_key_env": "AZURE_OPENAI_API_KEY",
   "auth_header": "api-key",
   "max_requests": 100000, "max_bytes": 200000000, "one_model": true,
   "endpoints": ["/v1/chat/completions", "/v1/embeddings", "/v1/responses"],
   "completion_windows": ["24h"]},
  {"name": "groq",
   "base_url": "https://api.groq.com/openai/v1", "base_url_env": "GROQ_BASE_URL",
   "api_key_env": "GROQ_API_KEY",
   "max_requests": 50000, "max_bytes": 200000000,
   "endpoints": ["/v1/chat/completions"],
   "completion_windows": ["24h..7d"]},
  {"name": "deepinfra",
   "base_url": "https://api.deepinfra.com/v1/openai", "base_url_env": "DEEPINFRA_BASE_URL",
   "api_key_env": "DEEPINFRA_API_KEY",
   "max_requests": 50000, "max_bytes": 200000000, "one_model": true,
   "endpoints": ["/v1/chat/completions", "/v1/embeddings", "/v1/completions"],
   "completion_windows": ["24h"]}
]})json";
}

}  // namespace obatch
