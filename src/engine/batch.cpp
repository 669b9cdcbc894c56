#include "engine/batch.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "engine/direct_job.hpp"
#include "engine/input_twin.hpp"
#include "engine/mode_choice.hpp"
#include "engine/parted_job.hpp"
#include "obatch/obatch.h"
#include "store/journal.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/sha256.hpp"
#include "util/url.hpp"

namespace obatch {

Batch::Batch(const Config &conf) : conf_(conf) {
  // An unknown provider fails before anything is made on disk.
  if (conf_.has("provider") && !conf_.get("provider").empty())
    resolve_provider("");
  open_work_dir();
  tag_ = random_hex(12);
  input_path_ = path_join(work_dir_, "obatch-" + tag_ + ".jsonl");
  input_ = std::make_unique<BatchInput>(input_path_, conf_.get("custom_id_prefix", "request"));
  if (provider_) input_->set_rules(provider_->rules(conf_));
  default_endpoint_ = conf_.get("endpoint");
  last_.phase = OBATCH_PHASE_BUILDING;
}

Batch::Batch(const Config &conf, const std::string &batch_id) : conf_(conf) {
  if (batch_id.empty()) throw Error(OBATCH_EINVAL, "the batch id is empty");
  if (conf_.get("provider").empty())
    throw Error(OBATCH_EPROVIDER, "to resume a batch, say which provider runs it (provider)");
  resolve_provider("");
  open_work_dir();
  check_result_paths();
  JobSpec spec = job_spec();
  spec.batch_id = batch_id;
  // Custom ids sent as mapped ones come back as the user's when the journal
  // knows the job (a batch resumed by id has no input to rebuild the map).
  const std::string journal_file = journal_path(conf_);
  if (provider_->maps_custom_ids() && !journal_file.empty() &&
      access(journal_file.c_str(), R_OK) == 0) {
    JobRecord known;
    if (Journal(journal_file).find(batch_id, &known)) spec.record.id_map = known.id_map;
  }
  job_ = std::make_unique<Job>(std::move(spec));
  job_->start();
  last_ = job_->snapshot();
}

Batch::Batch(const Config &conf, const ResultFiles &files) : conf_(conf) {
  if (files.output_path.empty() && files.error_path.empty())
    throw Error(OBATCH_EINVAL, "open: give an output file, an error file or both");
  opened_order_ = std::make_unique<IdIndex>();
  if (!files.input_path.empty())
    load_input_order(files.input_path, files.input_path, opened_order_.get());
  opened_results_ = std::make_unique<ResultsIndex>(opened_order_.get());
  // The output file first: an id in both files keeps its output line.
  if (!files.output_path.empty()) opened_results_->add_file(files.output_path, files.output_path);
  if (!files.error_path.empty()) opened_results_->add_file(files.error_path, files.error_path);
  last_.phase = OBATCH_PHASE_DONE;
  last_.provider = conf_.get("provider");
  last_.output_path = files.output_path;
  last_.error_path = files.error_path;
  last_.requests_added = opened_order_->size();
  opened_input_path_ = files.input_path;
}

Batch::~Batch() {
  job_.reset();  // stops the I/O thread first
  opened_results_.reset();
  input_.reset();
  for (const std::string &p : part_paths_)
    if (p != input_path_) unlink(p.c_str());
  // The input file is ours: a running batch is resumed by id (the provider
  // keeps its copy), so nothing needs it once the handle is gone. Result
  // files are the user's and stay.
  if (!input_path_.empty()) unlink(input_path_.c_str());
  if (own_work_dir_) rmdir(work_dir_.c_str());  // only if empty
}

void Batch::open_work_dir() {
  if (conf_.has("work_dir")) {
    work_dir_ = conf_.get("work_dir");
    ensure_dir(work_dir_);
  } else {
    work_dir_ = make_private_dir("obatch");
    own_work_dir_ = true;
  }
}

void Batch::resolve_provider(const std::string &model) {
  if (provider_) return;
  provider_ = provider_for_batch(conf_, model);
  if (input_) input_->set_rules(provider_->rules(conf_));
  last_.provider = provider_->name();
}

void Batch::check_building(const char *what) const {
  if (opened_results_)
    throw Error(OBATCH_ESTATE, std::string(what) + ": the batch was opened from result files");
  if (job_) throw Error(OBATCH_ESTATE, std::string(what) + ": the batch was already submitted");
}

void Batch::add(const char *body_json, const char *custom_id, const char *endpoint) {
  check_building("add");
  // "request N" into a reused buffer: no string made per request.
  where_.assign("request ");
  append_decimal(&where_, input_->count() + 1);
  Request &r = request_;  // reused: no allocation per request
  std::string_view body = parse_request_body_text(
      body_json, custom_id ? custom_id : "",
      endpoint ? std::string_view(endpoint) : std::string_view(default_endpoint_), where_, &r);
  resolve_provider(r.model);
  input_->append(r, body, where_);
  source_path_.clear();
}

uint64_t Batch::add_many(std::string_view bodies, const char *endpoint) {
  check_building("add");
  const std::string_view ep = endpoint ? std::string_view(endpoint) : default_endpoint_;
  if (!provider_) {
    // The provider may have to come from the first body's model: read it
    // with the checks append_bodies gives line 1, so the errors are the same.
    const size_t nl = bodies.find('\n');
    const std::string_view line1 = bodies.substr(0, nl);
    const bool last = nl == std::string_view::npos || nl + 1 == bodies.size();
    if (bodies.empty() || !check_jsonl_framing(line1, 1, last, "line 1")) return 0;
    parse_request_body_text(line1, {}, ep, "line 1", &request_);
    try {
      resolve_provider(request_.model);
    } catch (const Error &e) {
      throw Error(e.code(), std::string("line 1: ") + e.what());
    }
  }
  const uint64_t added = input_->append_bodies(bodies, ep);
  if (added) source_path_.clear();
  return added;
}

void Batch::add_line(const char *line) {
  check_building("add");
  std::string where = "request " + std::to_string(input_->count() + 1);
  Request r = parse_request_line(line, where);
  resolve_provider(r.model);
  input_->append(r, where);
  source_path_.clear();
}

void Batch::add_file(const char *path) {
  check_building("add");
  if (!provider_) {
    // The provider may have to come from the first line's model: read it
    // with the checks append_file gives line 1, so the errors are the same.
    Request line1 = first_file_request(path);
    try {
      resolve_provider(line1.model);
    } catch (const Error &e) {
      throw Error(e.code(), std::string(path) + " line 1: " + e.what());
    }
  }
  const bool first = input_->count() == 0;
  std::string digest = input_->append_file(path);
  source_path_ = first ? real_path(path) : "";
  source_digest_ = std::move(digest);
}

void Batch::flush_input() {
  if (input_ && !job_) input_->flush();
}

JobSpec Batch::job_spec() {
  JobSpec spec;
  spec.provider = provider_;
  // The key first, as for a listing: no key means "not this provider".
  spec.api_key = provider_->api_key(conf_);
  spec.base_url = check_base_url(provider_->base_url(conf_));
  spec.config = conf_;
  spec.work_dir = work_dir_;
  spec.tag = tag_;
  return spec;
}

// Fails now, not after a day of waiting, when a result file could not be
// written where it should go.
void Batch::check_result_paths() const {
  if (conf_.has("results_dir")) ensure_dir(conf_.get("results_dir"));
  for (const char *key : {"output_path", "error_path"}) {
    if (!conf_.has(key)) continue;
    std::string dir = dir_of(conf_.get(key));
    struct stat st;
    if (stat(dir.c_str(), &st) == 0 && !S_ISDIR(st.st_mode))
      throw Error(OBATCH_EIO,
                  std::string(key) + ": cannot write into " + dir + ": it is not a directory");
    if (access(dir.c_str(), W_OK | X_OK) != 0)
      throw Error(OBATCH_EIO,
                  std::string(key) + ": cannot write into " + dir + ": " + errno_text(errno));
  }
}

void Batch::submit() {
  check_building("submit");
  if (input_->count() == 0) throw Error(OBATCH_EREQUEST, "submit: the batch has no requests");
  check_result_paths();
  JobSpec spec = job_spec();  // checks key and URL before anything is sent
  provider_->check_completion_window(conf_.get("completion_window", "24h"));
  ModeChoice choice = choose_mode(conf_, input_->count());
  // Direct mode sends OpenAI-style requests and writes their answers as
  // they come: a provider with results of its own format (Anthropic) is
  // reached through its batch API only.
  if (choice.direct && provider_->converts_results()) {
    if (conf_.get("mode", "batch") == "direct")
      throw Error(OBATCH_ECONFIG, "mode direct: " + provider_->name() +
                                      " is reached through its batch API only; use mode batch "
                                      "(or auto)");
    choice = {false, choice.reason + ", but " + provider_->name() +
                         " has no direct mode: its batch API"};
  }
  input_->finish();
  mode_ = choice.direct ? "direct" : "batch";
  mode_reason_ = choice.reason;
  // An input over the limits of one batch: a file per part (and the
  // digest of the whole, read on the way). Direct mode sends the whole.
  std::string digest;
  std::vector<PartInput> parts;
  if (!choice.direct) {
    digest = input_->write_parts();
    part_paths_ = input_->part_paths();
    for (size_t i = 0; i < input_->parts().size() && part_paths_.size() > 1; i++)
      parts.push_back({part_paths_[i], input_->parts()[i]});
  }
  spec.input_path = input_path_;
  spec.input_bytes = input_->bytes();
  spec.endpoint = input_->endpoint();
  spec.model = input_->models();
  spec.tokens_estimated = input_->estimated_tokens();
  spec.input_ids = input_->take_ids();
  claim_job(&spec, digest, parts.empty() ? 1 : parts.size(), choice.direct);
  if (choice.direct)
    job_ = std::make_unique<DirectJob>(std::move(spec));
  else if (parts.empty())
    job_ = std::make_unique<Job>(std::move(spec));
  else
    job_ = std::make_unique<PartedJob>(std::move(spec), std::move(parts));
  job_->start();
  last_ = job_->snapshot();
}

// With a journal: the same input submitted before to the same place is
// taken up again instead of being uploaded and paid for a second time.
void Batch::claim_job(JobSpec *spec, const std::string &digest, size_t parts, bool direct) {
  const std::string path = journal_path(conf_);
  if (path.empty()) return;
  std::shared_ptr<Journal> journal;
  try {
    journal = std::make_shared<Journal>(path);
  } catch (const Error &e) {
    throw Error(e.code(), std::string(e.what()) +
                              "; nothing was sent. Point the config key state (obatch --state, "
                              "OBATCH_STATE) at a writable file, or set it to \"off\" to submit "
                              "without a journal");
  }
  const bool force_new = conf_.get_int("force_new", 0) == 1;
  JobRecord fresh;
  fresh.digest = digest.empty() ? sha256_file_hex(spec->input_path) : digest;
  // The first job of an input gets an id derived from it: through another
  // journal, the same input finds its batch at the provider (input_twin).
  // A new job on purpose gets a random one.
  const std::string derived =
      derived_job_id(fresh.digest, provider_->name(), spec->base_url, spec->endpoint);
  fresh.id = force_new ? tag_ : derived;
  fresh.provider = provider_->name();
  fresh.base_url = spec->base_url;
  fresh.endpoint = spec->endpoint;
  fresh.model = spec->model;
  fresh.source_path = source_path_;
  fresh.source_digest = source_path_.empty() ? "" : source_digest_;
  fresh.retry_of = retry_of_;
  fresh.requests = spec->input_ids.size();
  fresh.input_bytes = spec->input_bytes;
  fresh.mode = direct ? "direct" : "batch";
  JobRecord rec;
  Journal::Claim claim = journal->claim(fresh, force_new, tag_, &rec);
  // A job is resumed as it was cut: one batch, or its parts (PartedJob
  // checks that they are the same). Cut otherwise now (other limits), it
  // could be sent a second time.
  const bool was_parted = rec.parts > 0, started = rec.step != step::kNew;
  // Sent one way, it is taken up the same way: the other would pay again
  // for what was sent.
  if (started && rec.mode != fresh.mode) {
    if (claim != Journal::Claim::kFollow) journal->release(rec.id);
    throw Error(OBATCH_ECONFIG,
                "job " + rec.id + " of the job journal " + journal->path() + " was started in " +
                    rec.mode + " mode and has not ended; this run would send it in " + fresh.mode +
                    " mode; nothing was sent. Run it again with mode " + rec.mode +
                    " (obatch run --mode " + rec.mode +
                    "), or submit it as a new job with "
                    "force_new (obatch run --force-new), paying for both");
  }
  if (started && was_parted != (parts > 1)) {
    if (claim != Journal::Claim::kFollow) journal->release(rec.id);
    throw Error(OBATCH_ECONFIG,
                "job " + rec.id + " of the job journal " + journal->path() + " was submitted as " +
                    (was_parted ? std::to_string(rec.parts) + " batches" : "one batch") +
                    ", and this run would send the same input as " +
                    (parts > 1 ? std::to_string(parts) + " batches" : "one batch") +
                    "; nothing was sent. Run it with the limits it had then "
                    "(--max-requests-per-batch, --max-bytes-per-batch, split), or submit it "
                    "again as a new job with force_new (obatch run --force-new)");
  }
  spec->journal = journal;
  spec->record = rec;
  spec->tag = rec.id;
  // Also a job taken up before anything was sent (its process died at once).
  spec->look_for_twin = !direct && claim != Journal::Claim::kFollow && rec.step == step::kNew &&
                        rec.id == derived && !force_new;
  spec->origin = claim == Journal::Claim::kNew       ? OBATCH_JOB_NEW
                 : claim == Journal::Claim::kResumed ? OBATCH_JOB_RESUMED
                                                     : OBATCH_JOB_FOLLOWING;
  if (claim == Journal::Claim::kResumed) spec->batch_id = rec.batch_id;
}

void Batch::cancel() {
  if (opened_results_)
    throw Error(OBATCH_ESTATE, "cancel: the batch was opened from result files; nothing runs");
  if (!job_) throw Error(OBATCH_ESTATE, "cancel: the batch was not submitted");
  JobSnapshot s = job_->snapshot();
  if (s.phase == OBATCH_PHASE_DONE || s.phase == OBATCH_PHASE_FAILED)
    throw Error(OBATCH_ESTATE, "cancel: the batch has already ended");
  job_->request_cancel();
}

JobSnapshot Batch::poll(int timeout_ms) {
  if (opened_results_) return last_;
  if (!job_) {
    last_.phase = OBATCH_PHASE_BUILDING;
    last_.endpoint = input_->endpoint();
    last_.model = input_->models();
    last_.requests_added = input_->count();
    last_.bytes_total = input_->bytes();
    last_.parts_total = input_->parts().size();
    last_.tokens_estimated = input_->estimated_tokens();
    return last_;
  }
  last_ = timeout_ms > 0 ? job_->wait_change(last_.generation, timeout_ms) : job_->snapshot();
  last_.mode = mode_;
  last_.mode_reason = mode_reason_;
  return last_;
}

ResultsIndex &Batch::results() {
  if (opened_results_) return *opened_results_;
  ResultsIndex *r = job_ ? job_->results() : nullptr;
  if (!r) throw Error(OBATCH_ESTATE, "results can be fetched once the batch is done");
  return *r;
}

}  // namespace obatch
