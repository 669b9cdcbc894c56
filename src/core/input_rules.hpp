// What a provider allows in one batch, as the input builder checks it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace obatch {

struct InputRules {
  std::string provider;            // for messages: "OpenAI allows ..."
  uint64_t max_requests = 0;       // 0: no limit
  uint64_t max_bytes = 0;          // of the input file; 0: no limit
  uint64_t max_embedding_inputs = 0;  // total over an embeddings batch; 0: none
  bool one_model = false;
  std::vector<std::string> endpoints;  // accepted line urls; empty: any
  // Provider-specific checks: returns "" or what is wrong.
  std::function<std::string(const std::string &url, const std::string &body)> check;
};

}  // namespace obatch
