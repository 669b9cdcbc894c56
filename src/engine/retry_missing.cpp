#include "engine/retry_missing.hpp"

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/results_index.hpp"
#include "obatch/obatch.h"
#include "store/journal.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/sha256.hpp"

namespace obatch {

namespace {

void need_file(const std::string &path, const std::string &job, const char *what) {
  if (path.empty()) return;
  FILE *f = fopen(path.c_str(), "rb");
  if (!f)
    throw Error(OBATCH_EIO, "job " + job + ": its " + what + " " + path +
                                " is gone; run the job again to download it first");
  fclose(f);
}

std::vector<std::string> missing_lines(Journal &journal, const JobRecord &r, int depth);

// The request lines job `r` submitted, in order: its input file's, or for
// a --retry-missing job, the lines of its parent that had no result.
std::vector<std::string> submitted_lines(Journal &journal, const JobRecord &r, int depth) {
  std::vector<std::string> lines;
  if (r.source_path.empty()) {
    if (r.retry_of.empty() || depth > 100)
      throw Error(OBATCH_EIO, "job " + r.id +
                                  "'s requests were not added from one file, so they "
                                  "cannot be read again");
    JobRecord parent;
    if (!journal.find(r.retry_of, &parent))
      throw Error(OBATCH_EIO, "job " + r.id + " retried job " + r.retry_of +
                                  ", which is no longer in the journal (pruned?)");
    return missing_lines(journal, parent, depth + 1);
  }
  FILE *f = fopen(r.source_path.c_str(), "rb");
  if (!f)
    throw Error(OBATCH_EIO, "job " + r.id + ": cannot open its input file " + r.source_path + ": " +
                                errno_text(errno));
  // The digest of the very bytes the lines come from: a file changed while
  // it is read is caught too.
  Sha256 sha;
  char *buf = nullptr;
  size_t cap = 0;
  for (ssize_t n; (n = getline(&buf, &cap, f)) > 0;) {
    sha.update(buf, static_cast<size_t>(n));
    std::string text(buf, static_cast<size_t>(n));
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (text.find_first_not_of(" \t\r") != std::string::npos) lines.push_back(std::move(text));
  }
  const bool failed = ferror(f);
  const int err = errno;
  free(buf);
  fclose(f);
  if (failed) throw Error(OBATCH_EIO, "cannot read " + r.source_path + ": " + errno_text(err));
  if (sha.hex() != r.source_digest)
    throw Error(OBATCH_EIO, "job " + r.id + ": its input file " + r.source_path +
                                " has changed since it was submitted");
  return lines;
}

// The lines of job `r` that got no result (in its result files on disk).
std::vector<std::string> missing_lines(Journal &journal, const JobRecord &r, int depth) {
  std::vector<std::string> lines = submitted_lines(journal, r, depth);
  need_file(r.output_path, r.id, "output file");
  need_file(r.error_path, r.id, "error file");
  IdIndex order;
  for (size_t i = 0; i < lines.size(); i++)
    order.add(result_line_custom_id(lines[i], "job " + r.id + " request " + std::to_string(i + 1)));
  ResultsIndex results(&order);
  if (!r.output_path.empty()) results.add_file(r.output_path, r.output_path);
  if (!r.error_path.empty()) results.add_file(r.error_path, r.error_path);
  std::vector<std::string> missing;
  ResultLine line;
  std::string raw;
  for (uint64_t k = 0; k < lines.size(); k++) {
    uint64_t input_index = 0;
    results.get(k, &line, &input_index, &raw);
    if (line.kind == OBATCH_RESULT_MISSING) missing.push_back(std::move(lines[k]));
  }
  return missing;
}

}  // namespace

std::unique_ptr<Batch> batch_of_missing(const Config &conf, const std::string &job_ref) {
  const std::string path = journal_path(conf);
  if (path.empty())
    throw Error(OBATCH_ESTATE,
                "the job journal is off (state = off): a job's missing requests "
                "are found through it");
  Journal journal(path);
  JobRecord r;
  if (!journal.find(job_ref, &r))
    throw Error(OBATCH_ENOTFOUND, "no job " + job_ref + " in the job journal " + path);
  if (r.step != step::kDone) {
    if (r.step == step::kFailed)
      throw Error(OBATCH_ESTATE, "job " + r.id +
                                     "'s batch failed, so none of its requests ran: "
                                     "fix the input and submit it again");
    if (r.running)
      throw Error(OBATCH_ESTATE, "job " + r.id + " is still running (process " +
                                     std::to_string(r.owner_pid) + ")");
    throw Error(OBATCH_ESTATE, "job " + r.id + " has not ended (step " + r.step +
                                   "): run it again to finish it first");
  }
  // The partial results are all the user has of that job: never overwrite.
  for (const char *key : {"output_path", "error_path"}) {
    char real[PATH_MAX];
    const std::string p = conf.get(key);
    if (p.empty() || !realpath(p.c_str(), real)) continue;
    if (real == r.output_path || real == r.error_path)
      throw Error(OBATCH_EINVAL, std::string(key) + " " + p + " holds job " + r.id +
                                     "'s results; write the retry's results to another file");
  }
  std::vector<std::string> lines = missing_lines(journal, r, 0);
  if (lines.empty())
    throw Error(OBATCH_ESTATE, "job " + r.id + " has a result for every request: nothing to retry");

  Config c = conf;
  if (c.get("provider").empty()) c.set("provider", r.provider.c_str());
  if (!c.has("base_url") && !r.base_url.empty()) c.set("base_url", r.base_url.c_str());
  if (!c.has("endpoint")) c.set("endpoint", r.endpoint.c_str());
  auto batch = std::make_unique<Batch>(c);
  batch->set_retry_of(r.id);

  for (const std::string &line : lines) batch->add_line(line.c_str());
  return batch;
}

}  // namespace obatch
