// A registered provider: an owned copy of its obatch_provider_t table, with
// the calls the engine makes (hook if set, OpenAI-compatible default if not).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/input_rules.hpp"
#include "obatch/sys/provider.h"
#include "providers/wire_types.hpp"

namespace obatch {

class Config;

// What a provider declared in a file has beyond its table (C++ only).
struct ProviderExtras {
  std::shared_ptr<void> payload;  // owns the table's payload
  // Accepted completion windows, in hours: [low, high] each. Empty: 24h.
  std::vector<std::pair<int, int>> windows;
};

class Provider {
 public:
  // Copies the table and its strings; throws Error(EINVAL) when it is not a
  // usable table.
  explicit Provider(const obatch_provider_t &table, ProviderExtras extras = {});

  const std::string &name() const { return name_; }
  const std::string &api_key_env() const { return api_key_env_; }
  bool inline_requests() const { return table_.inline_requests != 0; }
  // The header that carries the key; "" for Authorization: Bearer.
  const std::string &auth_header() const { return auth_header_; }
  // Batches carry no metadata: a lost create is found another way.
  bool no_metadata() const { return table_.no_metadata != 0; }
  // Results come in the provider's own format (convert_results).
  bool converts_results() const { return table_.convert_results != nullptr; }
  // Whether `custom_id` is sent as it is (else it is mapped).
  bool accepts_custom_id(const std::string &custom_id) const;
  bool maps_custom_ids() const { return table_.accepts_custom_id != nullptr; }

  // The base URL from the config, the provider's variable, or its default.
  std::string base_url(const Config &conf) const;
  // The key from the config or the provider's own variable (never another
  // provider's); throws Error(EAUTH) naming the variable when there is none.
  std::string api_key(const Config &conf) const;

  bool claims_model(const std::string &model) const;
  // Throws Error(ECONFIG) when the provider does not take this window.
  void check_completion_window(const std::string &window) const;
  InputRules rules(const Config &conf) const;

  void build(int op, const Fields &args, HttpRequest *req) const;
  void parse(int op, int http_status, std::string_view body, Remote *out) const;
  // The convert_results hook; throws Error with its message.
  void convert_results(const Fields &args) const;

 private:
  obatch_provider_t table_;
  std::string name_, default_base_url_, api_key_env_, base_url_env_, auth_header_;
  std::vector<std::string> endpoints_;
  ProviderExtras extras_;
};

// Hours in a completion window ("24h", "7d"); -1 when it is not one.
int window_hours(const std::string &window);

// The process-wide registry (thread-safe). Built-ins: openai, parasail.
std::shared_ptr<const Provider> find_provider(const std::string &name);
// The provider that claims `model`; throws Error(EPROVIDER) when none does.
std::shared_ptr<const Provider> provider_for_model(const std::string &model);
// The provider a batch with this config uses: the `provider` setting, else
// the one that claims `model` (the first request's). Throws Error(EPROVIDER)
// when neither names one, or when an api_key is set without a provider (a
// key is never sent to a provider chosen by model).
std::shared_ptr<const Provider> provider_for_batch(const Config &conf, const std::string &model);
void register_provider(const obatch_provider_t &table);
void register_providers(std::vector<std::shared_ptr<const Provider>> fresh);
// sizeof(obatch_provider_t) as a caller built with `version`'s header has it.
size_t provider_table_size(unsigned version);

// Providers declared in a JSON file (providers/declared.cpp): registers
// them all (or none), or throws Error(ECONFIG) naming the file and the
// problem.
void load_providers_file(const std::string &path);
// The declarations in `json` (read from `where`); throws Error(ECONFIG).
std::vector<std::shared_ptr<const Provider>> declared_providers(const std::string &json,
                                                                const std::string &where);
// The declarations of a file; throws Error(ECONFIG) naming it.
std::vector<std::shared_ptr<const Provider>> declared_providers_file(const std::string &path);
// The declarations shipped with obatch (azure, azure-v1, groq, deepinfra).
const char *shipped_declarations();
// The files loaded without a call: $OBATCH_PROVIDERS (must exist), then
// $XDG_CONFIG_HOME/obatch/providers.json (or ~/.config/...; if it exists).
std::vector<std::string> default_provider_files();
// "openai,parasail,..." (registration order).
std::string provider_names();

// The built-in tables.
const obatch_provider_t &openai_provider_table();
const obatch_provider_t &parasail_provider_table();
const obatch_provider_t &anthropic_provider_table();

}  // namespace obatch
