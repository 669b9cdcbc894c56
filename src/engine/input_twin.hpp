// A batch of the same input submitted through another journal (another
// machine, a container redeployed with its state lost, a deleted jobs.db).
//
// The first job of an input in a journal gets an id derived from what the
// journal resumes by (input digest, provider, base URL, endpoint), and that
// id is the batch's obatch_job metadata. So a fresh journal that is asked
// for the same input derives the same id and can find that batch at the
// provider before uploading and paying for it again.
#pragma once

#include <cstdint>
#include <string>

#include "providers/wire_types.hpp"

namespace obatch {

// How far back a twin is taken up: a batch's completion window (24 h) and
// a day more to fetch its results. Older batches are not a lost run of this
// one but an earlier run, and the user may want fresh answers.
constexpr int64_t kTwinMaxAgeSeconds = 48 * 3600;

// 24 hex characters, like a random job id.
std::string derived_job_id(const std::string &digest, const std::string &provider,
                           const std::string &base_url, const std::string &endpoint);

// Whether a listed batch (`batch`: the provider's fields) is the twin of
// job `tag` for `endpoint` at time `now` (unix seconds): tagged with it,
// running or completed (not failed, expired or cancelled: those are runs
// to do again), and created within kTwinMaxAgeSeconds.
bool is_twin_batch(const Fields &batch, const std::string &tag, const std::string &endpoint,
                   int64_t now);

}  // namespace obatch
