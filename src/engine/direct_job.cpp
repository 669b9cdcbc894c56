#include "engine/direct_job.hpp"

#include <fcntl.h>
#include <simdjson.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <map>
#include <random>
#include <unordered_map>

#include "core/request.hpp"
#include "engine/direct_output.hpp"
#include "engine/rate_limiter.hpp"
#include "http/request_pool.hpp"
#include "obatch/obatch.h"
#include "tokens/request_tokens.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/json_write.hpp"

namespace obatch {

namespace {

constexpr int64_t kCommitMs = 500;       // results fsynced and journaled this often...
constexpr uint64_t kCommitLines = 4096;  // ...or after this many
constexpr int64_t kSnapshotMs = 100;
constexpr int kMax429 = 30;                // a 429 paces the sender; only this many end a request
constexpr long kDirectTimeoutMs = 600000;  // a long completion takes minutes (the SDKs' 600 s)
constexpr size_t kQuotedBodyMax = 4096;    // of a body that is not JSON, in an error line

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// Requests and tokens sent in the last minute, counted per second.
class RateMeter {
 public:
  void add(int64_t now, uint64_t tokens) {
    Slot &s = slot(now);
    s.requests++;
    s.tokens += tokens;
  }
  void totals(int64_t now, uint64_t *requests, uint64_t *tokens) {
    *requests = *tokens = 0;
    const int64_t sec = now / 1000;
    for (const Slot &s : slots_)
      if (s.second > sec - 60) {
        *requests += s.requests;
        *tokens += s.tokens;
      }
  }

 private:
  struct Slot {
    int64_t second = -1;
    uint64_t requests = 0, tokens = 0;
  };
  Slot &slot(int64_t now) {
    const int64_t sec = now / 1000;
    Slot &s = slots_[static_cast<size_t>(sec % 60)];
    if (s.second != sec) s = Slot{sec, 0, 0};
    return s;
  }
  std::array<Slot, 60> slots_;
};

// The lines of a file, read through a large buffer.
class LineReader {
 public:
  explicit LineReader(const std::string &path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw Error(OBATCH_EIO, "cannot open " + path + ": " + errno_text(errno));
  }
  ~LineReader() { close(fd_); }
  LineReader(const LineReader &) = delete;
  LineReader &operator=(const LineReader &) = delete;

  bool next(std::string_view *line) {
    for (;;) {
      const size_t nl = buf_.find('\n', pos_);
      if (nl != std::string::npos) {
        *line = std::string_view(buf_).substr(pos_, nl - pos_);
        pos_ = nl + 1;
        return true;
      }
      if (eof_) {
        if (pos_ >= buf_.size()) return false;
        *line = std::string_view(buf_).substr(pos_);
        pos_ = buf_.size();
        return true;
      }
      buf_.erase(0, pos_);
      pos_ = 0;
      const size_t have = buf_.size();
      buf_.resize(have + (1u << 20));
      const ssize_t got = read(fd_, &buf_[have], 1u << 20);
      if (got < 0) throw Error(OBATCH_EIO, "cannot read " + path_ + ": " + errno_text(errno));
      buf_.resize(have + static_cast<size_t>(got));
      eof_ = got == 0;
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false;
};

// `body` minified into `out` when it is JSON text; `*doc` is its parse,
// valid until the parser's next one.
bool minify_json(simdjson::dom::parser &parser, std::string_view body, std::string *out,
                 simdjson::dom::element *doc) {
  if (parser.parse(body.data(), body.size()).get(*doc)) return false;
  *out = simdjson::minify(*doc);
  return true;
}

// The tokens the server says a request used (its answer's "usage"), summed
// over a job's successful answers.
struct Usage {
  uint64_t input = 0, output = 0, total = 0;

  // Chat and completions name them prompt_ / completion_tokens, the
  // Responses API input_ / output_tokens; embeddings have prompt tokens only.
  void add(simdjson::dom::element body) {
    simdjson::dom::object usage;
    if (body["usage"].get(usage)) return;
    auto count = [&](const char *a, const char *b) {
      uint64_t v = 0;
      if (!usage[a].get(v) || !usage[b].get(v)) return v;
      return uint64_t{0};
    };
    const uint64_t in = count("prompt_tokens", "input_tokens");
    const uint64_t out = count("completion_tokens", "output_tokens");
    uint64_t all = 0;
    if (usage["total_tokens"].get(all)) all = in + out;
    input += in;
    output += out;
    total += all;
  }

  // The usage of a result line kept from an earlier run.
  void add_line(simdjson::dom::parser &parser, std::string_view line) {
    simdjson::dom::element body;
    if (!parser.parse(line.data(), line.size())["response"]["body"].get(body)) add(body);
  }
};

std::string header(const Headers &h, const char *name) {
  auto it = h.find(name);
  return it == h.end() ? std::string() : it->second;
}

std::string strip_partial(const std::string &path) {
  static const std::string kSuffix = ".partial";
  if (path.size() > kSuffix.size() &&
      path.compare(path.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0)
    return path.substr(0, path.size() - kSuffix.size());
  return "";
}

bool exists(const std::string &path) { return !path.empty() && access(path.c_str(), F_OK) == 0; }

}  // namespace

std::string direct_url(const std::string &base_url, const std::string &url) {
  std::string base = base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (base.size() >= 3 && base.compare(base.size() - 3, 3, "/v1") == 0 && url.rfind("/v1/", 0) == 0)
    return base + url.substr(3);
  return base + url;
}

// ---- the send loop --------------------------------------------------------

struct DirectJob::Sender {
  struct Item {
    uint64_t index = 0;
    std::string url, body;
    uint64_t tokens = 0;
    bool exact_tokens = false;
    int attempt = 0, tries_429 = 0;
  };

  DirectJob &job;
  DirectOutput &out;
  std::vector<bool> done;
  uint64_t ok = 0, failed = 0;
  RateLimiter limiter;
  RateMeter meter;
  LineReader reader;
  uint64_t next_line = 0;
  bool input_done = false;
  std::multimap<int64_t, Item> retries;          // by when they may go again
  std::unordered_map<uint64_t, Item> in_flight;  // by input index (body in the pool)
  std::optional<Item> staged;                    // taken, waiting for the limiter
  int max_retries;
  uint64_t retried = 0, seen_429 = 0, uncommitted = 0;
  int64_t last_commit = 0, last_snapshot = 0;
  int fatal_code = 0;
  std::string fatal_message;
  simdjson::dom::parser parser;
  std::minstd_rand rng{std::random_device{}()};
  std::string line_buf, body_buf;

  Usage usage;

  Sender(DirectJob &j, DirectOutput &o, std::vector<bool> d, uint64_t ok0, uint64_t failed0,
         Usage usage0)
      : job(j),
        out(o),
        done(std::move(d)),
        ok(ok0),
        failed(failed0),
        limiter(static_cast<uint64_t>(j.spec_.config.get_int("rpm", 0)),
                static_cast<uint64_t>(j.spec_.config.get_int("tpm", 0))),
        reader(j.spec_.input_path),
        max_retries(static_cast<int>(j.spec_.config.get_int("max_retries", 5))),
        usage(usage0) {}

  double jitter() { return std::uniform_real_distribution<double>(0, 1)(rng); }

  // The next request to send: one whose retry is due, else the next input
  // line without a result.
  bool take(int64_t now, Item *item) {
    if (!retries.empty() && retries.begin()->first <= now) {
      *item = std::move(retries.begin()->second);
      retries.erase(retries.begin());
      return true;
    }
    std::string_view line;
    while (!input_done) {
      if (!reader.next(&line)) {
        input_done = true;
        break;
      }
      const uint64_t i = next_line++;
      if (line.empty()) {
        next_line--;
        continue;
      }
      if (i >= done.size())
        throw Error(OBATCH_EINTERNAL, "direct mode: the input has more lines than requests");
      if (done[i]) continue;
      Request r = parse_request_line(line, "request " + std::to_string(i + 1));
      if (r.custom_id != job.spec_.input_ids.view(i))
        throw Error(OBATCH_EINTERNAL, "direct mode: input line " + std::to_string(i + 1) +
                                          " is not request " + job.spec_.input_ids.at(i));
      item->index = i;
      item->url = direct_url(job.spec_.base_url, r.url);
      item->body = std::move(r.body);
      item->tokens = (item->body.size() + 3) / 4;
      item->exact_tokens = false;
      item->attempt = item->tries_429 = 0;
      return true;
    }
    return false;
  }

  // Exact tokens once a token limit applies (chars/4 is enough to measure).
  void count_tokens(Item *item) {
    if (item->exact_tokens || limiter.tpm() == 0) return;
    try {
      RequestTokens t = count_request_tokens(item->url, item->body);
      item->tokens = t.prompt + (t.output_assumed ? 0 : t.output);
    } catch (const Error &) {
      // Not a JSON object: the request will be refused; bytes/4 it is.
    }
    item->exact_tokens = true;
  }

  // Sends what the limits allow now; returns the ms to wait before more may go.
  int64_t dispatch(int64_t now) {
    int64_t wait = 200;
    const bool sending = !job.cancel_requested_ && fatal_code == 0;
    while (sending && !job.pool_->full()) {
      if (!staged) {
        Item item;
        if (!take(now, &item)) break;
        staged = std::move(item);
      }
      count_tokens(&*staged);
      const int64_t w = limiter.wait_ms(now, staged->tokens);
      if (w > 0) {
        wait = std::min(wait, w);
        break;
      }
      limiter.sent(now, staged->tokens);
      meter.add(now, staged->tokens);
      const uint64_t index = staged->index;
      std::string body = std::move(staged->body);
      const std::string url = staged->url;
      in_flight.emplace(index, std::move(*staged));
      staged.reset();
      job.pool_->start(index, url, std::move(body));
    }
    if (!retries.empty()) wait = std::min(wait, std::max<int64_t>(0, retries.begin()->first - now));
    return wait;
  }

  bool finished() const {
    const bool nothing_left = input_done && retries.empty() && !staged;
    return job.pool_->in_flight() == 0 &&
           (nothing_left || job.cancel_requested_ || fatal_code != 0);
  }

  void again(Item item, int64_t at) {
    retried++;
    retries.emplace(at, std::move(item));
  }

  void stop_job(int code, const std::string &message) {
    if (fatal_code == 0) {
      fatal_code = code;
      fatal_message = message;
    }
  }

  void write_result(const Item &item, const PoolResponse &r) {
    const std::string_view id = job.spec_.input_ids.view(item.index);
    line_buf.clear();
    line_buf += "{\"id\":\"dreq_";
    line_buf += job.spec_.tag.substr(0, 12);
    line_buf += '_';
    line_buf += std::to_string(item.index);
    line_buf += "\",\"custom_id\":";
    json_append_string(line_buf, id);
    line_buf += ",\"response\":{\"status_code\":";
    line_buf += std::to_string(r.status);
    line_buf += ",\"request_id\":";
    json_append_string(line_buf, header(r.headers, "x-request-id"));
    line_buf += ",\"body\":";
    simdjson::dom::element doc;
    const bool json = !r.too_large && minify_json(parser, r.body, &body_buf, &doc);
    if (json) {
      line_buf += body_buf;
    } else {
      json_append_string(line_buf, std::string_view(r.body).substr(0, kQuotedBodyMax));
    }
    line_buf += "},\"error\":";
    const bool success = r.status >= 200 && r.status < 300 && json;
    if (success) {
      line_buf += "null}";
      usage.add(doc);
    } else if (r.status >= 200 && r.status < 300) {
      line_buf += "{\"code\":\"invalid_response\",\"message\":";
      json_append_string(line_buf, r.too_large ? "the answer was larger than 64 MB"
                                               : "the answer was not JSON (" +
                                                     std::to_string(r.body.size()) + " bytes)");
      line_buf += "}}";
    } else {
      line_buf += "null}";
    }
    out.append(!success, line_buf);
    done[item.index] = true;
    (success ? ok : failed)++;
    uncommitted++;
  }

  void on_answer(PoolResponse &r, int64_t now) {
    auto it = in_flight.find(r.tag);
    if (it == in_flight.end()) return;
    Item item = std::move(it->second);
    in_flight.erase(it);
    item.body = std::move(r.request_body);
    limiter.observe(now, r.headers);
    const std::string id(job.spec_.input_ids.view(item.index));
    if (r.status == 0) {
      // No answer: the request may not have reached the server. Try again;
      // after the last try it stays without a result (a rerun sends it),
      // and the job stops: the server is unreachable for everyone.
      if (job.stop_) return;
      if (item.attempt < max_retries) {
        const long delay = backoff_ms(item.attempt, jitter());
        item.attempt++;
        again(std::move(item), now + delay);
      } else {
        stop_job(OBATCH_ENETWORK, "request " + id + ": no answer from " + item.url + " after " +
                                      std::to_string(item.attempt + 1) + " attempts (" +
                                      r.curl_error + ")");
      }
      return;
    }
    if (r.status == 401) {
      // A refused key fails every request alike: stop instead of writing
      // thousands of error lines. Nothing of it is written as a result.
      stop_job(OBATCH_EAUTH, "the server refused the API key (401 for request " + id +
                                 "): nothing of it was written as a result");
      return;
    }
    if (r.status == 429) seen_429++;
    if (should_retry(r.status, r.headers)) {
      if (r.status == 429 && item.tries_429 < kMax429) {
        // The server is over its limit for everyone: pause all sending.
        long wait = server_retry_after_ms(r.headers, std::time(nullptr));
        if (wait < 0) wait = backoff_ms(std::min(item.tries_429, 4), jitter());
        item.tries_429++;
        limiter.pause_until(now + wait);
        again(std::move(item), now + wait);
        return;
      }
      if (r.status != 429 && item.attempt < max_retries) {
        const long delay = retry_delay_ms(item.attempt, r.headers, std::time(nullptr), jitter());
        item.attempt++;
        again(std::move(item), now + delay);
        return;
      }
    }
    write_result(item, r);
  }

  void commit(int64_t now) {
    out.commit();
    if (uncommitted) job.journal({{"results_done", std::to_string(ok + failed)}});
    uncommitted = 0;
    last_commit = now;
  }

  void publish(int64_t now) {
    uint64_t rpm = 0, tpm = 0;
    meter.totals(now, &rpm, &tpm);
    job.board_.update([&](JobSnapshot &s) {
      s.requests_completed = ok;
      s.requests_failed = failed;
      s.requests_in_flight = job.pool_->in_flight();
      s.requests_retried = retried;
      s.responses_429 = seen_429;
      s.requests_per_minute = rpm;
      s.tokens_per_minute = tpm;
      s.rpm_limit = limiter.rpm();
      s.tpm_limit = limiter.tpm();
      s.input_tokens = usage.input;
      s.output_tokens = usage.output;
      s.total_tokens = usage.total;
    });
    last_snapshot = now;
  }

  // Sends everything; false when stopped (the handle is going away).
  bool run() {
    std::vector<PoolResponse> answers;
    publish(now_ms());
    while (!finished()) {
      if (job.stop_) {
        job.pool_->drop_all();
        commit(now_ms());
        return false;
      }
      int64_t now = now_ms();
      const int64_t wait = dispatch(now);
      answers.clear();
      job.pool_->run(static_cast<int>(std::min<int64_t>(wait, 200)), &answers);
      now = now_ms();
      for (PoolResponse &r : answers) on_answer(r, now);
      if (uncommitted >= kCommitLines || (uncommitted && now - last_commit >= kCommitMs))
        commit(now);
      if (now - last_snapshot >= kSnapshotMs) publish(now);
    }
    commit(now_ms());
    publish(now_ms());
    return true;
  }
};

// ---- the job ----------------------------------------------------------------

DirectJob::DirectJob(JobSpec spec) : spec_(std::move(spec)) {
  ClientSettings cs = client_settings(spec_.config);
  TransferOptions opts;
  opts.connect_timeout_ms = cs.connect_timeout_ms;
  opts.timeout_ms = spec_.config.get_int("request_timeout_ms", kDirectTimeoutMs);
  opts.ca_file = cs.ca_file;
  opts.auth_header = spec_.provider->auth_header();
  const size_t concurrency = static_cast<size_t>(spec_.config.get_int("concurrency", 64));
  pool_ = std::make_unique<RequestPool>(spec_.api_key, opts, concurrency);
  // Where the results go: the config's paths, else those of the job taken
  // up, else <job_id>-output.jsonl / -errors.jsonl.
  const std::string dir = spec_.config.get("results_dir", spec_.work_dir);
  auto final_path = [&](const char *key, const std::string &journaled, const char *suffix) {
    if (spec_.config.has(key)) return spec_.config.get(key);
    const std::string was = strip_partial(journaled);
    return was.empty() ? path_join(dir, spec_.tag + suffix) : was;
  };
  output_final_ = final_path("output_path", spec_.record.output_path, "-output.jsonl");
  error_final_ = final_path("error_path", spec_.record.error_path, "-errors.jsonl");
  holds_job_ = spec_.journal && spec_.origin != OBATCH_JOB_FOLLOWING;
  board_.update([&](JobSnapshot &s) {
    s.provider = spec_.provider->name();
    s.endpoint = spec_.endpoint;
    s.model = spec_.model;
    s.requests_added = s.requests_total = spec_.input_ids.size();
    s.bytes_total = spec_.input_bytes;
    s.tokens_estimated = spec_.tokens_estimated;
    s.parts_total = 1;
    s.phase = OBATCH_PHASE_WAITING;
    s.remote_status = "in_progress";
    s.mode = "direct";
    if (spec_.journal) {
      s.job_id = spec_.tag;
      s.job_journal = spec_.journal->path();
      s.job_origin = spec_.origin;
    }
  });
}

DirectJob::~DirectJob() {
  stop_ = true;
  pool_->wake();
  if (thread_.joinable()) thread_.join();
  if (holds_job_) {
    try {
      spec_.journal->release(spec_.tag);
    } catch (const Error &) {
      // The process's death releases it too.
    }
  }
}

void DirectJob::start() {
  thread_ = std::thread([this] { run(); });
}

JobSnapshot DirectJob::snapshot() {
  // A direct job is one part, "submitted" once its requests are being sent.
  JobSnapshot s = board_.get();
  s.parts_submitted = started_;
  s.parts_running = started_ && s.phase == OBATCH_PHASE_WAITING;
  s.parts_ended = s.phase == OBATCH_PHASE_DONE;
  return s;
}

JobSnapshot DirectJob::wait_change(uint64_t seen, int timeout_ms) {
  board_.wait(seen, timeout_ms);
  return snapshot();
}

void DirectJob::request_cancel() {
  cancel_requested_ = true;
  pool_->wake();
}

ResultsIndex *DirectJob::results() {
  return board_.read([&](const JobSnapshot &s) {
    return s.phase == OBATCH_PHASE_DONE ? results_.get() : nullptr;
  });
}

void DirectJob::journal(const std::vector<std::pair<std::string, std::string>> &cols) {
  if (holds_job_) spec_.journal->update(spec_.tag, cols);
}

void DirectJob::fail(int code, const std::string &message) {
  try {
    journal({{"error", message}});
  } catch (const Error &) {
    // The failure itself is what the caller needs to hear about.
  }
  board_.fail(code, message);
}

void DirectJob::load_results(const std::string &output_path, const std::string &error_path,
                             bool recount) {
  results_ = std::make_unique<ResultsIndex>(&spec_.input_ids);
  if (!output_path.empty()) results_->add_file(output_path, output_path);
  if (!error_path.empty()) results_->add_file(error_path, error_path);
  // Results this handle did not write (another process's, or a run that
  // died while renaming): every output line is a 2xx answer, every error
  // line a failure, and the usage is the answers'.
  uint64_t completed = 0, failed = 0;
  Usage usage;
  if (recount) {
    simdjson::dom::parser parser;
    std::string_view line;
    if (!output_path.empty())
      for (LineReader r(output_path); r.next(&line);)
        if (!line.empty()) {
          completed++;
          usage.add_line(parser, line);
        }
    if (!error_path.empty())
      for (LineReader r(error_path); r.next(&line);) failed += !line.empty();
  }
  board_.update([&](JobSnapshot &s) {
    s.output_path = output_path;
    s.error_path = error_path;
    s.remote_status = "completed";
    s.requests_in_flight = 0;
    if (recount) {
      s.requests_completed = completed;
      s.requests_failed = failed;
      s.input_tokens = usage.input;
      s.output_tokens = usage.output;
      s.total_tokens = usage.total;
    }
    s.phase = OBATCH_PHASE_DONE;
  });
}

// Where the results of a job stopped early are, and how it goes on. With
// the journal the .partial files stay for the rerun; without one nothing
// could take them up: they get their final names (empty ones go).
std::string DirectJob::stopped_note(DirectOutput *out, uint64_t have) {
  const uint64_t all = spec_.input_ids.size();
  std::string text = std::to_string(have) + " of " + std::to_string(all) + " requests have results";
  if (spec_.journal)
    return text + ", kept in " + out->output_partial() + " and " + out->error_partial() +
           "; run the same job again to send the other " + std::to_string(all - have);
  std::string o, e;
  out->publish(&o, &e);
  if (!o.empty() || !e.empty())
    text += " (in " + (o.empty() ? e : e.empty() ? o : o + " and " + e) + ")";
  return text + "; without a job journal (state off) a rerun sends every request again";
}

void DirectJob::finish(DirectOutput *out) {
  journal({{"step", step::kFinishing}});
  std::string output_path, error_path;
  out->publish(&output_path, &error_path);
  auto absolute = [](const std::string &p) {
    const std::string real = p.empty() ? p : real_path(p);
    return real.empty() ? p : real;
  };
  journal({{"step", step::kDone},
           {"remote_status", "completed"},
           {"output_path", absolute(output_path)},
           {"error_path", absolute(error_path)}});
  load_results(output_path, error_path, false);
}

bool DirectJob::follow() {
  bool told = false;
  while (!stop_) {
    JobRecord r;
    if (!spec_.journal->find(spec_.tag, &r))
      throw Error(OBATCH_ESTATE, "job " + spec_.tag + " was removed from the job journal " +
                                     spec_.journal->path() + " while this process waited for it");
    if (r.step == step::kDone) {
      load_results(r.output_path, r.error_path, true);
      return false;
    }
    if (r.step == step::kFailed || r.step == step::kAbandoned)
      throw Error(OBATCH_ESTATE, "job " + spec_.tag + ", run by another process, ended" +
                                     (r.error.empty() ? "" : ": " + r.error));
    if (!r.running && spec_.journal->take_over(spec_.tag, &r)) {
      spec_.record = r;
      holds_job_ = true;
      board_.update([&](JobSnapshot &s) {
        s.job_origin = OBATCH_JOB_RESUMED;
        s.error_message.clear();
      });
      return true;
    }
    if (cancel_requested_)
      throw Error(OBATCH_ECANCELLED, "cancelled while process " + std::to_string(r.owner_pid) +
                                         " sends the requests of job " + spec_.tag +
                                         ": this process sent nothing");
    if (!told) {
      board_.update([&](JobSnapshot &s) {
        s.error_message = "process " + std::to_string(r.owner_pid) +
                          " is sending the same input (job " + spec_.tag + "); waiting for it";
      });
      told = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

void DirectJob::run() {
  try {
    if (spec_.origin == OBATCH_JOB_FOLLOWING && !follow()) return;
    const JobRecord &rec = spec_.record;
    const bool resume = spec_.journal && rec.step == step::kSending;
    std::string out_partial = partial_path(output_final_), err_partial = partial_path(error_final_);
    if (spec_.journal && (rec.step == step::kSending || rec.step == step::kFinishing)) {
      if (!strip_partial(rec.output_path).empty()) out_partial = rec.output_path;
      if (!strip_partial(rec.error_path).empty()) err_partial = rec.error_path;
    }
    if (spec_.journal && rec.step == step::kFinishing) {
      // Every request had its result; the process died while renaming the
      // files: those not renamed yet are.
      for (const auto &[partial, final_path] :
           {std::pair{out_partial, output_final_}, std::pair{err_partial, error_final_}})
        if (exists(partial) && rename(partial.c_str(), final_path.c_str()) != 0)
          throw Error(OBATCH_EIO,
                      "cannot rename " + partial + " to " + final_path + ": " + errno_text(errno));
      const std::string o = exists(output_final_) ? output_final_ : "";
      const std::string e = exists(error_final_) ? error_final_ : "";
      journal({{"step", step::kDone},
               {"remote_status", "completed"},
               {"output_path", o},
               {"error_path", e}});
      load_results(o, e, true);
      return;
    }
    DirectOutput out(output_final_, error_final_, out_partial, err_partial);
    std::vector<bool> done(spec_.input_ids.size());
    uint64_t ok = 0, failed = 0;
    Usage usage;
    simdjson::dom::parser parser;
    out.open(resume, spec_.input_ids, &done, &ok, &failed,
             [&](std::string_view line) { usage.add_line(parser, line); });
    // Before anything is sent: where the results go, so that a rerun finds them.
    journal({{"step", step::kSending},
             {"remote_status", "in_progress"},
             {"output_path", out.output_partial()},
             {"error_path", out.error_partial()},
             {"results_done", std::to_string(ok + failed)}});
    started_ = true;
    Sender sender(*this, out, std::move(done), ok, failed, usage);
    if (!sender.run()) return;  // stopped
    if (sender.fatal_code || cancel_requested_) {
      fail(sender.fatal_code ? sender.fatal_code : OBATCH_ECANCELLED,
           (sender.fatal_code ? sender.fatal_message : std::string("stopped")) + "; " +
               stopped_note(&out, sender.ok + sender.failed));
      return;
    }
    finish(&out);
  } catch (const Error &e) {
    fail(e.code(), e.what());
  } catch (const std::bad_alloc &) {
    fail(OBATCH_ENOMEM, "out of memory");
  } catch (const std::exception &e) {
    fail(OBATCH_EINTERNAL, e.what());
  }
}

}  // namespace obatch
