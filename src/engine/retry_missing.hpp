// A new batch of just the requests of an ended job that got no result (its
// batch expired or was cancelled): read again from the job's input file,
// which must still hold the bytes that were submitted (for a job that was
// itself a retry, from its parent's file, through the chain of retries).
#pragma once

#include <memory>
#include <string>

#include "engine/batch.hpp"

namespace obatch {

// `job_ref`: a job id, a unique id prefix or a batch id in the journal that
// `conf` names. The batch is in phase BUILDING, ready to submit. Throws
// Error: ENOTFOUND (no such job), ESTATE (not ended, or nothing missing),
// EIO (the input or a result file is gone or changed).
std::unique_ptr<Batch> batch_of_missing(const Config &conf, const std::string &job_ref);

}  // namespace obatch
