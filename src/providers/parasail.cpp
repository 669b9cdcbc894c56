// Parasail: an OpenAI-compatible batch host for open models (Hugging Face
// ids), which mixes models in one batch and serves fewer endpoints.
#include <cstring>

#include "providers/provider.hpp"

namespace obatch {
namespace {

// Documented: chat completions and embeddings; in use: score, image edits.
const char *const kEndpoints[] = {"/v1/chat/completions", "/v1/embeddings", "/v1/score",
                                  "/v1/images/edits", nullptr};

int parasail_claims(const char *model, void *) {
  const char *slash = std::strchr(model, '/');
  // org/name, both parts present, and not an OpenAI fine-tune id.
  return slash && slash != model && slash[1] && std::strncmp(model, "ft:", 3) != 0;
}

}  // namespace

const obatch_provider_t &parasail_provider_table() {
  static const obatch_provider_t table = [] {
    obatch_provider_t t{};
    t.version = OBATCH_PROVIDER_VERSION;
    t.name = "parasail";
    t.default_base_url = "https://api.parasail.io/v1";
    t.api_key_env = "PARASAIL_API_KEY";
    t.base_url_env = "PARASAIL_BASE_URL";
    t.max_requests = 50000;
    t.max_bytes = 100 * 1000 * 1000;  // the documented 100 MB
    t.one_model_per_batch = 0;
    t.endpoints = kEndpoints;
    t.claims_model = parasail_claims;
    return t;
  }();
  return table;
}

}  // namespace obatch
