// The OpenAI provider: the defaults, and which models are OpenAI's.
#include <cstring>

#include "providers/provider.hpp"

namespace obatch {
namespace {

bool starts_with(const char *s, const char *prefix) {
  return std::strncmp(s, prefix, std::strlen(prefix)) == 0;
}

int openai_claims(const char *model, void *) {
  if (std::strchr(model, '/')) return 0;  // org/name is a Hugging Face id
  static const char *const prefixes[] = {
      "gpt-", "chatgpt-", "o1", "o3", "o4", "text-embedding-", "omni-moderation-",
      "text-moderation-", "ft:", "davinci", "babbage", "dall-e", "computer-use-",
      "codex-", "whisper-", "tts-"};
  for (const char *p : prefixes)
    if (starts_with(model, p)) return 1;
  return 0;
}

}  // namespace

const obatch_provider_t &openai_provider_table() {
  static const obatch_provider_t table = [] {
    obatch_provider_t t{};
    t.version = OBATCH_PROVIDER_VERSION;
    t.name = "openai";
    t.default_base_url = "https://api.openai.com/v1";
    t.api_key_env = "OPENAI_API_KEY";
    t.base_url_env = "OPENAI_BASE_URL";
    t.max_requests = 50000;
    t.max_bytes = 200 * 1000 * 1000;  // "200 MB": the smaller reading is safe
    t.max_embedding_inputs = 50000;
    t.one_model_per_batch = 1;
    t.claims_model = openai_claims;
    return t;
  }();
  return table;
}

}  // namespace obatch
