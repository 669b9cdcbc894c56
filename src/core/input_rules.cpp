#include "core/input_rules.hpp"

#include <cstdio>

namespace obatch {

std::string bytes_text(uint64_t bytes) {
  char mb[32];
  std::snprintf(mb, sizeof mb, "%.3g", static_cast<double>(bytes) / 1e6);
  return std::to_string(bytes) + " bytes (" + mb + " MB)";
}

std::string requests_limit_message(const std::string &where, uint64_t requests,
                                   const std::string &provider, uint64_t max) {
  return where + ": the batch would have " + std::to_string(requests) + " requests; " + provider +
         " allows " + std::to_string(max);
}

std::string embedding_inputs_limit_message(const std::string &where, uint64_t inputs,
                                           const std::string &provider, uint64_t max) {
  return where + ": the batch would embed " + std::to_string(inputs) + " inputs; " + provider +
         " allows " + std::to_string(max) + " per embeddings batch";
}

std::string bytes_limit_message(const std::string &where, uint64_t bytes,
                                const std::string &provider, uint64_t max) {
  return where + ": the input file would be " + std::to_string(bytes) + " bytes; " + provider +
         " allows " + bytes_text(max);
}

std::string line_bytes_limit_message(const std::string &where, uint64_t bytes,
                                     const std::string &provider, uint64_t max) {
  return where + ": the request is " + std::to_string(bytes) + " bytes as a JSONL line; " +
         provider + " allows " + bytes_text(max) + " per batch input file, so no batch can hold it";
}

std::string request_inputs_limit_message(const std::string &where, uint64_t inputs,
                                         const std::string &provider, uint64_t max) {
  return where + ": the request has " + std::to_string(inputs) + " inputs to embed; " + provider +
         " allows " + std::to_string(max) + " per embeddings batch, so no batch can hold it";
}

}  // namespace obatch
