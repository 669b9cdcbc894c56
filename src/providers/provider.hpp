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

class Provider {
 public:
  // Copies the table and its strings; throws Error(EINVAL) when it is not a
  // usable table.
  explicit Provider(const obatch_provider_t &table);

  const std::string &name() const { return name_; }
  const std::string &api_key_env() const { return api_key_env_; }
  bool inline_requests() const { return table_.inline_requests != 0; }

  // The base URL from the config, the provider's variable, or its default.
  std::string base_url(const Config &conf) const;
  // The key from the config or the provider's own variable (never another
  // provider's); throws Error(EAUTH) naming the variable when there is none.
  std::string api_key(const Config &conf) const;

  bool claims_model(const std::string &model) const;
  InputRules rules(const Config &conf) const;

  void build(int op, const Fields &args, HttpRequest *req) const;
  void parse(int op, int http_status, std::string_view body, Remote *out) const;

 private:
  obatch_provider_t table_;
  std::string name_, default_base_url_, api_key_env_, base_url_env_;
  std::vector<std::string> endpoints_;
};

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
// "openai,parasail,..." (registration order).
std::string provider_names();

// The built-in tables.
const obatch_provider_t &openai_provider_table();
const obatch_provider_t &parasail_provider_table();

}  // namespace obatch
