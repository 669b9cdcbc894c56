#include "engine/retry_missing.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>
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

// The requests a job submitted, as lines of the input file of the first
// job of its chain of retries: every line, or the picked ones. Only indices
// are held; the lines are read again from the file when needed (an input
// can be 200 MB).
struct Submitted {
  JobRecord root;                // the job whose input file holds the lines
  bool all = true;               // every non-blank line of it
  std::vector<uint64_t> picked;  // else these, 0-based among its non-blank lines, ascending
};

// Calls f(i, line) for the i-th non-blank line (0-based, without its
// newline) of `root`'s input file. The file's bytes are hashed as they are
// read and must be those journaled: a file changed before or while it is
// read is an error, raised after the last line.
template <typename F>
void for_each_line(const JobRecord &root, F f) {
  FILE *file = fopen(root.source_path.c_str(), "rb");
  if (!file)
    throw Error(OBATCH_EIO, "job " + root.id + ": cannot open its input file " + root.source_path +
                                ": " + errno_text(errno));
  std::unique_ptr<FILE, int (*)(FILE *)> closer(file, fclose);
  struct Buffer {  // getline's, freed also when f throws
    char *data = nullptr;
    size_t cap = 0;
    ~Buffer() { free(data); }
  } buf;
  Sha256 sha;
  uint64_t i = 0;
  for (ssize_t n; (n = getline(&buf.data, &buf.cap, file)) > 0;) {
    sha.update(buf.data, static_cast<size_t>(n));
    std::string_view text(buf.data, static_cast<size_t>(n));
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    if (text.find_first_not_of(" \t\r") != std::string_view::npos) f(i++, text);
  }
  if (ferror(file))
    throw Error(OBATCH_EIO, "cannot read " + root.source_path + ": " + errno_text(errno));
  if (sha.hex() != root.source_digest)
    throw Error(OBATCH_EIO, "job " + root.id + ": its input file " + root.source_path +
                                " has changed since it was submitted");
}

Submitted missing_of(Journal &journal, const JobRecord &r, int depth);

// What job `r` submitted: its input file's lines, or for a --retry-missing
// job, the lines of its parent that had no result.
Submitted submitted(Journal &journal, const JobRecord &r, int depth) {
  if (!r.source_path.empty()) return Submitted{r, true, {}};
  if (r.retry_of.empty() || depth > 100)
    throw Error(OBATCH_EIO, "job " + r.id +
                                "'s requests were not added from one file, so they "
                                "cannot be read again");
  JobRecord parent;
  if (!journal.find(r.retry_of, &parent))
    throw Error(OBATCH_EIO, "job " + r.id + " retried job " + r.retry_of +
                                ", which is no longer in the journal (pruned?)");
  return missing_of(journal, parent, depth + 1);
}

// The requests of job `r` that got no result (in its result files on disk).
Submitted missing_of(Journal &journal, const JobRecord &r, int depth) {
  Submitted sent = submitted(journal, r, depth);
  need_file(r.output_path, r.id, "output file");
  need_file(r.error_path, r.id, "error file");
  IdIndex order;  // the custom_ids job r sent, in its order
  size_t next = 0;
  for_each_line(sent.root, [&](uint64_t i, std::string_view line) {
    if (!sent.all) {
      if (next == sent.picked.size() || sent.picked[next] != i) return;
      next++;
    }
    order.add(result_line_custom_id(
        line, "job " + r.id + " request " + std::to_string(order.size() + 1)));
  });
  ResultsIndex results(&order);
  if (!r.output_path.empty()) results.add_file(r.output_path, r.output_path);
  if (!r.error_path.empty()) results.add_file(r.error_path, r.error_path);
  Submitted missing{sent.root, false, {}};
  ResultLine line;
  std::string raw;
  for (uint64_t k = 0; k < order.size(); k++) {
    uint64_t input_index = 0;
    results.get(k, &line, &input_index, &raw);
    if (line.kind == OBATCH_RESULT_MISSING) missing.picked.push_back(sent.all ? k : sent.picked[k]);
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
    const std::string p = conf.get(key);
    const std::string real = p.empty() ? p : real_path(p);
    if (real.empty()) continue;
    if (real == r.output_path || real == r.error_path)
      throw Error(OBATCH_EINVAL, std::string(key) + " " + p + " holds job " + r.id +
                                     "'s results; write the retry's results to another file");
  }
  const Submitted missing = missing_of(journal, r, 0);
  if (missing.picked.empty())
    throw Error(OBATCH_ESTATE, "job " + r.id + " has a result for every request: nothing to retry");

  Config c = conf;
  if (c.get("provider").empty()) c.set("provider", r.provider.c_str());
  if (!c.has("base_url") && !r.base_url.empty()) c.set("base_url", r.base_url.c_str());
  if (!c.has("endpoint")) c.set("endpoint", r.endpoint.c_str());
  auto batch = std::make_unique<Batch>(c);
  batch->set_retry_of(r.id);

  size_t next = 0;
  std::string text;
  for_each_line(missing.root, [&](uint64_t i, std::string_view line) {
    if (next == missing.picked.size() || missing.picked[next] != i) return;
    next++;
    text.assign(line);
    batch->add_line(text.c_str());
  });
  return batch;
}

}  // namespace obatch
