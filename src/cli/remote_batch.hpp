// One remote batch asked for by id (status, cancel, download): the provider
// that has it and its state, copied out of the C API's short-lived strings.
#pragma once

#include <string>

#include "cli/command.hpp"

namespace obatch::cli {

struct RemoteBatch {
  std::string provider;
  obatch_info_t info = OBATCH_INFO_INIT;  // strings point into `page`
  obatch_list_t *page = nullptr;

  RemoteBatch() = default;
  RemoteBatch(RemoteBatch &&other) noexcept;
  RemoteBatch &operator=(RemoteBatch &&) = delete;
  ~RemoteBatch() { obatch_list_destroy(page); }
};

// obatch_retrieve (cancel = false) or obatch_cancel_id (cancel = true) with
// the provider found by provider_for_batch. Throws CliError.
RemoteBatch retrieve_batch(const ApiOptions &api, const std::string &batch_id);
RemoteBatch cancel_batch(const ApiOptions &api, const std::string &batch_id);

}  // namespace obatch::cli
