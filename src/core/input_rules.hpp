// What a provider allows in one batch, as the input builder checks it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace obatch {

struct Request;

struct InputRules {
  std::string provider;               // for messages: "OpenAI allows ..."
  uint64_t max_requests = 0;          // 0: no limit
  uint64_t max_bytes = 0;             // of the input file; 0: no limit
  uint64_t max_embedding_inputs = 0;  // total over an embeddings batch; 0: none
  bool one_model = false;
  // The limits above cut the input into parts (one batch each) rather than
  // refuse it; only a request too large for any part is refused.
  bool split = false;
  std::vector<std::string> endpoints;  // accepted line urls; empty: any
  // Provider-specific checks: returns "" or what is wrong.
  std::function<std::string(const std::string &url, std::string_view body)> check;
  // Rewrites a request before the checks above (config translate: a chat
  // completion as an Anthropic Messages request); returns "" or why it
  // cannot be rewritten.
  std::function<std::string(Request *r)> translate;
};

// The messages of the limits, as a batch input and `obatch validate` say
// them: `where` first, then what the batch would hold against what
// `provider` allows.
std::string requests_limit_message(const std::string &where, uint64_t requests,
                                   const std::string &provider, uint64_t max);
std::string embedding_inputs_limit_message(const std::string &where, uint64_t inputs,
                                           const std::string &provider, uint64_t max);
std::string bytes_limit_message(const std::string &where, uint64_t bytes,
                                const std::string &provider, uint64_t max);

// A request that no part can take: one line over the bytes limit, or one
// embeddings request with more inputs than a batch may hold.
std::string line_bytes_limit_message(const std::string &where, uint64_t bytes,
                                     const std::string &provider, uint64_t max);
std::string request_inputs_limit_message(const std::string &where, uint64_t inputs,
                                         const std::string &provider, uint64_t max);

// "200000000 bytes (200 MB)": exact, and readable.
std::string bytes_text(uint64_t bytes);

}  // namespace obatch
