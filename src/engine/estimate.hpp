// What an input file will cost before anything is paid: per model, the
// exact prompt tokens (tokens/request_tokens.hpp), an upper bound of the
// output tokens, and the cost in batch and in direct mode from a dated
// price table; plus how many batches obatch run cuts it into.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "tokens/prices.hpp"

namespace obatch {

struct ModelEstimate {
  std::string model;  // "" for the total row
  std::string encoding;
  uint64_t requests = 0, prompt_tokens = 0, output_tokens = 0;
  uint64_t encoding_assumed = 0;  // requests whose model tiktoken does not know (o200k_base)
  uint64_t output_assumed = 0;    // requests without a max: kDefaultOutputTokens
  uint64_t images = 0, images_assumed = 0;
  uint64_t approximate = 0;                // requests with tools or a response_format schema
  uint64_t batches = 0;                    // the parts obatch run makes of them
  bool priced = false;                     // every request's model has a price
  double batch_cost = 0, direct_cost = 0;  // USD, when priced
};

struct Estimate {
  std::string provider, endpoint;
  std::vector<ModelEstimate> models;  // in the order their first requests come
  ModelEstimate total;
  std::string prices_origin, prices_date;
};

// Reads `path` as obatch run would (the same checks; a file with problems
// is Error(EREQUEST) naming the first and how many) and counts it. Prices
// from `prices_path`, or the built-in table when it is "".
Estimate estimate_file(const Config &conf, const std::string &path, const std::string &prices_path);

}  // namespace obatch
