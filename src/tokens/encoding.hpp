// OpenAI's byte-pair encodings (o200k_base, cl100k_base), giving the token
// ids tiktoken gives: the pre-tokenizer regex (PCRE2 with its JIT), then
// the byte-pair merges by rank. Thread-safe: an Encoding is built once per
// process and shared.
#pragma once

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8  // UTF-8 text
#endif
#include <pcre2.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokens/bpe_data.hpp"

namespace obatch {

class Encoding {
 public:
  // The encoding `name`, built on first use (inflating its ranks and
  // compiling its regex take some tens of milliseconds). Throws
  // Error(EINVAL) for an unknown name.
  static const Encoding &get(const std::string &name);

  const std::string &name() const { return data_.name; }
  // Where its ranks come from ("tiktoken@1.0.22 encoders/... sha256=...").
  const std::string &source() const { return data_.source; }

  // tiktoken's encode_ordinary: special tokens are text like any other.
  // Invalid UTF-8 is read as U+FFFD first (as a JavaScript string holds it).
  void encode_ordinary(std::string_view text, std::vector<uint32_t> *out) const;
  // tiktoken's encode(text, allowed_special="all"): the special tokens'
  // text becomes their ids.
  void encode(std::string_view text, std::vector<uint32_t> *out) const;
  // The number encode_ordinary gives, without keeping the ids.
  uint64_t count(std::string_view text) const;
  std::string decode(const std::vector<uint32_t> &ids) const;

  Encoding(const Encoding &) = delete;
  Encoding &operator=(const Encoding &) = delete;
  ~Encoding();

 private:
  explicit Encoding(BpeData data);
  // One pre-tokenized piece's ids.
  void encode_piece(std::string_view piece, std::vector<uint32_t> *out) const;
  // Valid UTF-8 only.
  void encode_valid(std::string_view text, std::vector<uint32_t> *out) const;
  uint32_t rank_of(std::string_view bytes) const;

  BpeData data_;  // its token views point into data_.bytes (moved in, never copied)
  std::unordered_map<std::string_view, uint32_t> ranks_;
  pcre2_code *re_ = nullptr;
};

// Which encoding a model uses, as tiktoken maps it (exact names, then
// prefixes such as "gpt-4o-" or "ft:gpt-4o"); "" when tiktoken does not
// know the model.
std::string encoding_for_model(const std::string &model);

// Text with every invalid UTF-8 sequence replaced by U+FFFD (one per
// maximal invalid subpart, as the WHATWG decoder does).
std::string valid_utf8(std::string_view text);

}  // namespace obatch
