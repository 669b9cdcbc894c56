// The structs behind the public opaque handles.
#pragma once

#include <memory>
#include <string>

#include "core/config.hpp"
#include "core/result_line.hpp"
#include "engine/batch.hpp"
#include "engine/input_check.hpp"
#include "engine/job.hpp"
#include "providers/wire_types.hpp"
#include "util/abort_token.hpp"

struct obatch_config {
  obatch::Config conf;
};

struct obatch_abort {
  std::shared_ptr<obatch::AbortToken> token;
};

struct obatch_batch {
  std::unique_ptr<obatch::Batch> batch;
  std::string last_error;
  obatch::JobSnapshot info;     // what obatch_info_t points into
  obatch::ResultLine result;    // what obatch_result_t points into
  std::string result_line;
};

struct obatch_batch_list {
  obatch::Remote page;
  size_t next = 0;
  obatch::JobSnapshot current;  // what obatch_list_next's info points into
};

struct obatch_check {
  std::unique_ptr<obatch::InputCheck> check;
  size_t next = 0;  // obatch_check_next position
};
