// The BPE merge ranks of OpenAI's encodings, embedded in the library from
// data/tiktoken/*.bpe.gz (scripts/gen-tiktoken-ranks.py makes them from the
// MIT-licensed npm package tiktoken) and inflated on first use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace obatch {

struct BpeData {
  std::string name, pat_str, source;
  std::vector<std::pair<std::string, uint32_t>> special_tokens;
  std::string bytes;                     // every token's bytes, in rank order
  std::vector<std::string_view> tokens;  // rank -> its bytes (into `bytes`)
};

// The encodings built in, by name.
const std::vector<std::string> &bpe_encoding_names();

// Inflates and parses the embedded data of `name` (a fresh copy each call:
// Encoding keeps the one it needs). Throws Error(EINVAL) for an unknown name,
// Error(EINTERNAL) if the embedded data is damaged.
BpeData load_bpe_data(const std::string &name);

}  // namespace obatch
