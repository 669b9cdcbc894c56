#include "providers/provider.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "core/config.hpp"
#include "core/request.hpp"
#include "obatch/obatch.h"
#include "providers/anthropic.hpp"
#include "providers/openai_adapter.hpp"
#include "util/error.hpp"

namespace obatch {

namespace {
std::string str(const char *s) { return s ? s : ""; }
}  // namespace

size_t provider_table_size(unsigned version) {
  return version == 1 ? offsetof(obatch_provider_t, auth_header) : sizeof(obatch_provider_t);
}

Provider::Provider(const obatch_provider_t &table, ProviderExtras extras)
    : table_{}, extras_(std::move(extras)) {
  if (table.version < 1 || table.version > OBATCH_PROVIDER_VERSION)
    throw Error(OBATCH_EINVAL, "provider table version " + std::to_string(table.version) +
                                   " is not supported (this library knows 1.." +
                                   std::to_string(OBATCH_PROVIDER_VERSION) + ")");
  // A version 1 table ends before the version 2 fields: they stay unset.
  std::memcpy(&table_, &table, provider_table_size(table.version));
  name_ = str(table.name);
  default_base_url_ = str(table.default_base_url);
  api_key_env_ = str(table.api_key_env);
  base_url_env_ = str(table.base_url_env);
  auth_header_ = str(table_.auth_header);
  if (name_.empty()) throw Error(OBATCH_EINVAL, "a provider needs a name");
  if (api_key_env_.empty())
    throw Error(OBATCH_EINVAL, "provider " + name_ + " needs api_key_env");
  if (table.endpoints)
    for (const char *const *e = table.endpoints; *e; e++) endpoints_.emplace_back(*e);
  else
    endpoints_ = openai_endpoints();
  // The copy must not point into the caller's memory.
  table_.name = table_.default_base_url = table_.api_key_env = table_.base_url_env = nullptr;
  table_.auth_header = nullptr;
  table_.endpoints = nullptr;
}

std::string Provider::base_url(const Config &conf) const {
  if (conf.has("base_url")) return conf.get("base_url");
  if (!base_url_env_.empty()) {
    const char *env = std::getenv(base_url_env_.c_str());
    if (env && *env) return env;
  }
  if (default_base_url_.empty())
    throw Error(OBATCH_ECONFIG, "provider " + name_ + " has no default base URL; set base_url");
  return default_base_url_;
}

std::string Provider::api_key(const Config &conf) const {
  if (conf.has("api_key") && !conf.get("api_key").empty()) return conf.get("api_key");
  const char *env = std::getenv(api_key_env_.c_str());
  if (env && *env) return env;
  throw Error(OBATCH_EAUTH, "no API key for " + name_ + ": set " + api_key_env_ +
                                " (or the api_key setting)");
}

bool Provider::claims_model(const std::string &model) const {
  return table_.claims_model && table_.claims_model(model.c_str(), table_.payload);
}

InputRules Provider::rules(const Config &conf) const {
  InputRules r;
  r.provider = name_;
  // The settings only lower a provider's limits (0 or absent: the provider's).
  auto lower = [&](const char *key, uint64_t limit) {
    uint64_t v = static_cast<uint64_t>(conf.get_int(key, 0));
    return v && (!limit || v < limit) ? v : limit;
  };
  r.max_requests = lower("max_requests", table_.max_requests);
  r.max_bytes = lower("max_bytes", table_.max_bytes);
  r.max_embedding_inputs = table_.max_embedding_inputs;
  r.one_model = table_.one_model_per_batch != 0;
  r.split = conf.get("split", "auto") != "off";
  r.endpoints = endpoints_;
  if (conf.get("translate", "off") == "on") {
    if (std::find(endpoints_.begin(), endpoints_.end(), "/v1/messages") == endpoints_.end())
      throw Error(OBATCH_ECONFIG, "translate: " + name_ +
                                      " takes /v1/chat/completions requests as they are; "
                                      "translation is for Anthropic's /v1/messages");
    r.translate = [](Request *q) -> std::string {
      if (q->url != "/v1/chat/completions") return "";
      std::string why, body = translate_chat_to_messages(q->body, &why);
      if (body.empty()) return "this chat completion cannot be sent as a Messages request: " + why;
      q->body = std::move(body);
      q->url = "/v1/messages";
      return "";
    };
  }
  if (table_.check_request) {
    auto hook = table_.check_request;
    void *payload = table_.payload;
    r.check = [hook, payload](const std::string &url, std::string_view body) {
      char buf[512] = "";
      if (hook(url.c_str(), body.data(), body.size(), buf, sizeof buf, payload) == 0)
        return std::string();
      return std::string(buf[0] ? buf : "rejected by the provider's checks");
    };
  }
  return r;
}

void Provider::build(int op, const Fields &args, HttpRequest *req) const {
  if (!table_.build_request) return openai_build(op, args, req);
  obatch_op_args a{args};
  obatch_http_request r{};
  int rc = table_.build_request(op, &a, &r, table_.payload);
  if (rc != 0)
    throw Error(rc < 0 ? rc : OBATCH_EPROVIDER,
                "provider " + name_ + " could not build the request to " + op_name(op));
  *req = std::move(r.req);
}

void Provider::parse(int op, int http_status, std::string_view body, Remote *out) const {
  if (!table_.parse_response) return openai_parse(op, body, out);
  obatch_remote r{};
  int rc = table_.parse_response(op, http_status, body.data(), body.size(), &r, table_.payload);
  if (rc != 0)
    throw Error(rc < 0 ? rc : OBATCH_EPROTOCOL,
                "provider " + name_ + " could not read the answer to " + op_name(op));
  *out = std::move(r.remote);
}

int window_hours(const std::string &window) {
  if (window.size() < 2 || window.size() > 5) return -1;
  int n = 0;
  for (size_t i = 0; i + 1 < window.size(); i++) {
    if (window[i] < '0' || window[i] > '9') return -1;
    n = n * 10 + (window[i] - '0');
  }
  char unit = window.back();
  if (n == 0 || (unit != 'h' && unit != 'd')) return -1;
  return unit == 'd' ? n * 24 : n;
}

void Provider::check_completion_window(const std::string &window) const {
  const int hours = window_hours(window);
  std::string accepted;
  if (extras_.windows.empty()) {
    if (window == "24h") return;
    accepted = "24h";
  }
  for (auto &w : extras_.windows) {
    if (hours >= w.first && hours <= w.second) return;
    auto text = [](int h) { return h % 24 == 0 && h > 24 ? std::to_string(h / 24) + "d"
                                                         : std::to_string(h) + "h"; };
    accepted += (accepted.empty() ? "" : ", ") + text(w.first) +
                (w.second != w.first ? " to " + text(w.second) : "");
  }
  throw Error(OBATCH_ECONFIG, "completion_window '" + window + "': " + name_ + " accepts " +
                                  accepted);
}

bool Provider::accepts_custom_id(const std::string &custom_id) const {
  return !table_.accepts_custom_id || table_.accepts_custom_id(custom_id.c_str(), table_.payload);
}

void Provider::convert_results(const Fields &args) const {
  if (!table_.convert_results)
    throw Error(OBATCH_EINTERNAL, "provider " + name_ + " has no results to convert");
  obatch_op_args a{args};
  char buf[512] = "";
  int rc = table_.convert_results(&a, buf, sizeof buf, table_.payload);
  if (rc != 0)
    throw Error(rc < 0 ? rc : OBATCH_EPROTOCOL,
                "provider " + name_ + " could not read the results: " +
                    (buf[0] ? buf : "no reason given"));
}

// ---- registry --------------------------------------------------------------

namespace {

struct Registry {
  std::mutex mu;
  std::vector<std::shared_ptr<const Provider>> providers;
  std::string load_error;  // a declarations file that could not be used
  Registry() {
    providers.push_back(std::make_shared<Provider>(openai_provider_table()));
    providers.push_back(std::make_shared<Provider>(parasail_provider_table()));
    providers.push_back(std::make_shared<Provider>(anthropic_provider_table()));
    for (auto &p : declared_providers(shipped_declarations(), "obatch's own declarations"))
      providers.push_back(p);
    // A user's file that cannot be used fails every lookup, naming it: a
    // provider that silently went missing would be worse.
    try {
      for (const std::string &path : default_provider_files()) add(declared_providers_file(path));
    } catch (const Error &e) {
      load_error = e.what();
    }
  }
  // Adds `fresh` (all or none); the caller holds `mu` or is the constructor.
  void add(std::vector<std::shared_ptr<const Provider>> fresh) {
    for (size_t i = 0; i < fresh.size(); i++) {
      const std::string &name = fresh[i]->name();
      bool taken = false;
      for (auto &q : providers) taken = taken || q->name() == name;
      for (size_t j = 0; j < i; j++) taken = taken || fresh[j]->name() == name;
      if (taken)
        throw Error(OBATCH_EINVAL, "a provider named '" + name + "' is already registered");
    }
    for (auto &p : fresh) providers.push_back(std::move(p));
  }
  void check_loaded() const {
    if (!load_error.empty()) throw Error(OBATCH_ECONFIG, load_error);
  }
};

Registry &registry() {
  static Registry r;
  return r;
}

}  // namespace

std::shared_ptr<const Provider> find_provider(const std::string &name) {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.check_loaded();
  for (auto &p : r.providers)
    if (p->name() == name) return p;
  std::string known;
  for (auto &p : r.providers) known += (known.empty() ? "" : ", ") + p->name();
  throw Error(OBATCH_EPROVIDER, "unknown provider '" + name + "' (known: " + known + ")");
}

std::shared_ptr<const Provider> provider_for_model(const std::string &model) {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.check_loaded();
  // Providers registered later are asked first: a user's provider may claim
  // what a built-in would.
  for (auto it = r.providers.rbegin(); it != r.providers.rend(); ++it)
    if ((*it)->claims_model(model)) return *it;
  throw Error(OBATCH_EPROVIDER, "no provider serves model '" + model +
                                    "'; set the provider explicitly (openai, parasail, ...)");
}

std::shared_ptr<const Provider> provider_for_batch(const Config &conf, const std::string &model) {
  std::string name = conf.get("provider");
  if (!name.empty()) return find_provider(name);
  if (model.empty())
    throw Error(OBATCH_EPROVIDER, "no provider set and the request names no model");
  if (conf.has("api_key"))
    // A key belongs to one provider; choosing the provider from a model
    // could send it to another's host.
    throw Error(OBATCH_EPROVIDER,
                "api_key is set but provider is not: say which provider the "
                "key belongs to (provider)");
  return provider_for_model(model);
}

void register_provider(const obatch_provider_t &table) {
  register_providers({std::make_shared<Provider>(table)});
}

void register_providers(std::vector<std::shared_ptr<const Provider>> fresh) {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.add(std::move(fresh));
}

void load_providers_file(const std::string &path) {
  register_providers(declared_providers_file(path));
}

std::string provider_names() {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  std::string out;
  for (auto &p : r.providers) out += (out.empty() ? "" : ",") + p->name();
  return out;
}

}  // namespace obatch
