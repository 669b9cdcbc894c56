#include "serve/gateway.hpp"

#include <fcntl.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "obatch/obatch.h"
#include "serve/client_keys.hpp"
#include "util/duration.hpp"
#include "util/json_write.hpp"

namespace obatch::serve {

namespace {

const char *const kBatchEndpoints[] = {"/v1/chat/completions", "/v1/embeddings", "/v1/responses",
                                       "/v1/completions", "/v1/moderations"};

int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool exists(const std::string &path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

uint64_t file_size(const std::string &path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

void fsync_dir(const std::string &dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

std::string replace_all(std::string text, const std::string &from, const std::string &to) {
  if (from.empty()) return text;
  for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size())
    text.replace(at, from.size(), to);
  return text;
}

std::string time_or_null(int64_t t) { return t ? std::to_string(t) : "null"; }
std::string id_or_null(const std::string &id) { return id.empty() ? "null" : json_quote(id); }

std::string file_json(const FileRow &f) {
  return "{\"id\":" + json_quote(f.id) +
         ",\"object\":\"file\",\"bytes\":" + std::to_string(f.bytes) +
         ",\"created_at\":" + std::to_string(f.created_at) +
         ",\"filename\":" + json_quote(f.filename) + ",\"purpose\":" + json_quote(f.purpose) +
         ",\"status\":\"processed\",\"status_details\":null,\"expires_at\":null}";
}

HttpResponse ok(std::string body) {
  HttpResponse r;
  r.body = std::move(body);
  return r;
}

HttpResponse bad(const std::string &message, const std::string &param = "",
                 const std::string &code = "") {
  return HttpServer::error(400, message, "invalid_request_error", code, param);
}

HttpResponse not_found(const std::string &what, const std::string &id) {
  return HttpServer::error(404, "No such " + what + ": " + json_quote(id) + ".",
                           "invalid_request_error", "", "id");
}

// An obatch_config_t that frees itself; set() collects the first error.
class Conf {
 public:
  Conf() { obatch_config_new(&c_); }
  ~Conf() { obatch_config_destroy(c_); }
  Conf(const Conf &) = delete;
  Conf &operator=(const Conf &) = delete;
  void set(const char *key, const std::string &value) {
    char err[512] = "";
    if (obatch_config_set(c_, key, value.c_str(), err, sizeof err) != OBATCH_OK && error.empty())
      error = err;
  }
  obatch_config_t *get() const { return c_; }
  std::string error;

 private:
  obatch_config_t *c_ = nullptr;
};

// A file written under a temporary name, fsynced and renamed into place.
class DurableFile {
 public:
  explicit DurableFile(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {
    f_ = std::fopen(tmp_.c_str(), "wb");
    if (!f_) throw std::runtime_error("cannot write " + tmp_ + ": " + std::strerror(errno));
  }
  ~DurableFile() {
    if (f_) {
      std::fclose(f_);
      unlink(tmp_.c_str());
    }
  }
  DurableFile(const DurableFile &) = delete;
  DurableFile &operator=(const DurableFile &) = delete;
  void line(const char *text, size_t n) {
    std::fwrite(text, 1, n, f_);
    if (n == 0 || text[n - 1] != '\n') std::fputc('\n', f_);
    ++lines_;
  }
  uint64_t lines() const { return lines_; }
  void commit() {
    const bool good = std::fflush(f_) == 0 && fsync(fileno(f_)) == 0;
    std::fclose(f_);
    f_ = nullptr;
    if (!good || rename(tmp_.c_str(), path_.c_str()) != 0) {
      unlink(tmp_.c_str());
      throw std::runtime_error("cannot write " + path_ + ": " + std::strerror(errno));
    }
  }

 private:
  std::string path_, tmp_;
  FILE *f_ = nullptr;
  uint64_t lines_ = 0;
};

// One page of a list, newest first: ?limit (1..max, default def) and the
// cursor ?after, as OpenAI's list calls take them.
template <typename Row, typename Fetch, typename ToJson>
HttpResponse list_page(const HttpRequest &req, unsigned def, unsigned max, Fetch fetch,
                       ToJson to_json) {
  unsigned limit = def;
  if (auto it = req.query.find("limit"); it != req.query.end()) {
    char *end = nullptr;
    const unsigned long n = std::strtoul(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end || n < 1 || n > max)
      return bad("Invalid value for 'limit': 1 to " + std::to_string(max) + ".", "limit");
    limit = static_cast<unsigned>(n);
  }
  const auto after = req.query.find("after");
  std::vector<Row> rows = fetch(after == req.query.end() ? "" : after->second, limit + 1);
  const bool more = rows.size() > limit;
  if (more) rows.pop_back();
  std::string data;
  for (const Row &r : rows) data += (data.empty() ? "" : ",") + to_json(r);
  return ok("{\"object\":\"list\",\"data\":[" + data +
            "],\"first_id\":" + (rows.empty() ? "null" : json_quote(rows.front().id)) +
            ",\"last_id\":" + (rows.empty() ? "null" : json_quote(rows.back().id)) +
            ",\"has_more\":" + (more ? "true" : "false") + "}");
}

}  // namespace

std::string batch_json(const BatchRow &b) {
  return "{\"id\":" + json_quote(b.id) +
         ",\"object\":\"batch\",\"endpoint\":" + json_quote(b.endpoint) +
         ",\"errors\":" + b.errors + ",\"input_file_id\":" + json_quote(b.input_file_id) +
         ",\"completion_window\":" + json_quote(b.completion_window) +
         ",\"status\":" + json_quote(b.status) +
         ",\"output_file_id\":" + id_or_null(b.output_file_id) +
         ",\"error_file_id\":" + id_or_null(b.error_file_id) +
         ",\"created_at\":" + std::to_string(b.created_at) +
         ",\"in_progress_at\":" + time_or_null(b.in_progress_at) +
         ",\"expires_at\":" + time_or_null(b.expires_at) +
         ",\"finalizing_at\":" + time_or_null(b.finalizing_at) +
         ",\"completed_at\":" + time_or_null(b.completed_at) +
         ",\"failed_at\":" + time_or_null(b.failed_at) +
         ",\"expired_at\":" + time_or_null(b.expired_at) +
         ",\"cancelling_at\":" + time_or_null(b.cancelling_at) +
         ",\"cancelled_at\":" + time_or_null(b.cancelled_at) +
         ",\"request_counts\":{\"total\":" + std::to_string(b.total) +
         ",\"completed\":" + std::to_string(b.completed) +
         ",\"failed\":" + std::to_string(b.failed) + "},\"metadata\":" + b.metadata + "}";
}

// One batch running in direct mode on a thread of its own. While it runs it
// is the only writer of its row.
class Gateway::Runner {
 public:
  Runner(Gateway &gw, BatchRow row, bool cancel) : gw_(gw), row_(std::move(row)) {
    cancel_ = cancel;
    dir_ = gw_.options_.data_dir + "/batches/" + row_.id;
    thread_ = std::thread([this] { run(); });
  }
  ~Runner() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  Runner(const Runner &) = delete;
  Runner &operator=(const Runner &) = delete;

  bool done() const { return done_; }
  uint64_t per_minute() const { return per_minute_; }

  // Marks the batch cancelling (unless it ended) and returns its row.
  BatchRow cancel() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!batch_ended(row_.status) && row_.status != "cancelling") {
      row_.status = "cancelling";
      row_.cancelling_at = now_s();
      gw_.store_.put_batch(row_);
    }
    cancel_ = true;
    return row_;
  }

 private:
  template <typename F>
  void update(F change) {
    std::lock_guard<std::mutex> lock(mu_);
    change(row_);
    gw_.store_.put_batch(row_);
  }

  void fail(const std::string &code, const std::string &message) {
    std::fprintf(stderr, "obatch serve: batch %s failed: %s\n", row_.id.c_str(), message.c_str());
    update([&](BatchRow &r) {
      r.status = "failed";
      r.failed_at = now_s();
      r.errors = "{\"object\":\"list\",\"data\":[{\"code\":" + json_quote(code) +
                 ",\"message\":" + json_quote(message) + ",\"param\":null,\"line\":null}]}";
    });
  }

  bool sleep_unless_stopped(int ms) {
    for (int waited = 0; waited < ms && !stop_; waited += 100)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return !stop_;
  }

  void run() {
    try {
      // An upstream that went away (restarting, a network failure) is tried
      // again until the window ends; a refused key or a bad input is final.
      while (!stop_ && !attempt()) {
        if (!sleep_unless_stopped(2000)) break;
      }
    } catch (const std::exception &e) {
      fail("server_error", e.what());
    }
    per_minute_ = 0;
    done_ = true;
  }

  // One go at the batch: true when it ended (or the server stops).
  bool attempt() {
    const GatewayOptions &o = gw_.options_;
    Conf conf;
    conf.set("provider", "openai");
    conf.set("base_url", o.upstream);
    // The upstream's own key (a server without keys gets a placeholder, not
    // the environment's OPENAI_API_KEY).
    conf.set("api_key", o.api_key.empty() ? "none" : o.api_key);
    conf.set("mode", "direct");
    conf.set("endpoint", row_.endpoint);
    conf.set("state", dir_ + "/jobs.db");
    conf.set("work_dir", dir_ + "/work");
    conf.set("output_path", output_path());
    conf.set("error_path", error_path());
    if (o.concurrency) conf.set("concurrency", std::to_string(o.concurrency));
    if (o.rpm) conf.set("rpm", std::to_string(o.rpm));
    if (o.tpm) conf.set("tpm", std::to_string(o.tpm));
    if (!conf.error.empty()) {
      fail("server_error", conf.error);
      return true;
    }
    obatch_t *b = nullptr;
    if (obatch_create(&b, conf.get()) != OBATCH_OK) {
      fail("server_error", obatch_last_error(nullptr));
      return true;
    }
    std::unique_ptr<obatch_t, void (*)(obatch_t *)> hold(b, obatch_destroy);
    if (obatch_add_file(b, input_path().c_str()) != OBATCH_OK) {
      fail("invalid_input", replace_all(obatch_last_error(b), input_path(), row_.input_file_id));
      return true;
    }
    obatch_info_t info = OBATCH_INFO_INIT;
    obatch_info(b, &info);
    update([&](BatchRow &r) {
      r.total = info.requests_added;
      if (r.status == "validating") {
        r.status = "in_progress";
        r.in_progress_at = now_s();
      }
    });
    if (now_s() >= row_.expires_at && !cancel_) {  // the window ended while the server was down
      finish_partial("expired");
      return true;
    }
    if (obatch_submit(b) != OBATCH_OK) {
      fail("server_error", obatch_last_error(b));
      return true;
    }
    bool cancel_sent = false;
    std::string ending;
    // Upstream counters: what this run sent (a resumed job counts from its results).
    uint64_t sent = row_.completed + row_.failed, errors = row_.failed;
    for (;;) {
      obatch_poll(b, 250, &info);
      const uint64_t now_sent =
          info.requests_completed + info.requests_failed + info.requests_retried;
      const uint64_t now_errors = info.requests_failed + info.requests_retried;
      gw_.metrics_.upstream_requests += now_sent - std::min(sent, now_sent);
      gw_.metrics_.upstream_errors += now_errors - std::min(errors, now_errors);
      sent = now_sent;
      errors = now_errors;
      per_minute_ = info.requests_per_minute;
      if (info.requests_completed != row_.completed || info.requests_failed != row_.failed)
        update([&](BatchRow &r) {
          r.completed = info.requests_completed;
          r.failed = info.requests_failed;
        });
      if (stop_) return true;  // the results so far are kept; the next start goes on
      if (!cancel_sent && (cancel_ || now_s() >= row_.expires_at)) {
        ending = cancel_ ? "cancelled" : "expired";
        if (ending == "expired")
          update([](BatchRow &r) {
            if (r.status == "in_progress") r.status = "finalizing";
            r.finalizing_at = now_s();
          });
        obatch_cancel(b);
        cancel_sent = true;
      }
      if (info.phase == OBATCH_PHASE_DONE) {
        finish_done(info);
        return true;
      }
      if (info.phase == OBATCH_PHASE_FAILED) {
        if (cancel_sent && info.error_code == OBATCH_ECANCELLED) {
          finish_partial(ending);
          return true;
        }
        if (info.error_code == OBATCH_EAUTH) {
          fail("upstream_auth", "the upstream refused the server's key");
          return true;
        }
        std::fprintf(stderr, "obatch serve: batch %s: %s; trying again\n", row_.id.c_str(),
                     info.error_message);
        return false;
      }
    }
  }

  std::string input_path() const { return dir_ + "/input.jsonl"; }
  std::string output_path() const { return dir_ + "/output.jsonl"; }
  std::string error_path() const { return dir_ + "/errors.jsonl"; }

  // A result file as a file object of the client's ("" when it is empty).
  std::string add_file(const std::string &path, const char *suffix) {
    const uint64_t bytes = file_size(path);
    if (bytes == 0) return "";
    FileRow f{"file-" + random_hex(12),
              row_.client,
              row_.id + suffix,
              "batch_output",
              path,
              bytes,
              now_s()};
    gw_.store_.add_file(f);
    return f.id;
  }

  void finish_done(const obatch_info_t &info) {
    update([](BatchRow &r) {
      r.status = "finalizing";
      if (!r.finalizing_at) r.finalizing_at = now_s();
    });
    const std::string out = add_file(info.output_path, "_output.jsonl");
    const std::string err = add_file(info.error_path, "_error.jsonl");
    update([&](BatchRow &r) {
      r.output_file_id = out;
      r.error_file_id = err;
      r.completed = info.requests_completed;
      r.failed = info.requests_failed;
      r.status = "completed";
      r.completed_at = now_s();
    });
  }

  // The batch stopped before every request ran (cancelled, or its window
  // ended): the results so far, and an error line for each request without
  // one, as OpenAI writes them.
  void finish_partial(const std::string &ending) {
    const std::string out_partial = output_path() + ".partial";
    const std::string err_partial = error_path() + ".partial";
    if (!exists(out_partial) && !exists(err_partial)) DurableFile(out_partial).commit();
    obatch_t *results = nullptr;
    if (obatch_open(&results, nullptr, input_path().c_str(),
                    exists(out_partial) ? out_partial.c_str() : nullptr,
                    exists(err_partial) ? err_partial.c_str() : nullptr) != OBATCH_OK)
      throw std::runtime_error(obatch_last_error(nullptr));
    std::unique_ptr<obatch_t, void (*)(obatch_t *)> hold(results, obatch_destroy);
    const bool expired = ending == "expired";
    const std::string code = expired ? "batch_expired" : "batch_cancelled";
    const std::string message =
        expired ? "This request could not be executed before the completion window expired."
                : "This request was not executed: its batch was cancelled.";
    DurableFile out(output_path()), err(error_path());
    obatch_result_t r = OBATCH_RESULT_INIT;
    while (obatch_fetch(results, &r) == OBATCH_OK) {
      if (r.kind == OBATCH_RESULT_SUCCEEDED) {
        out.line(r.line, r.line_len);
      } else if (r.kind != OBATCH_RESULT_MISSING) {
        err.line(r.line, r.line_len);
      } else {
        const std::string line = "{\"id\":" + json_quote("batch_req_" + random_hex(12)) +
                                 ",\"custom_id\":" + json_quote(r.custom_id) +
                                 ",\"response\":null,\"error\":{\"code\":" + json_quote(code) +
                                 ",\"message\":" + json_quote(message) + "}}";
        err.line(line.data(), line.size());
      }
    }
    out.commit();
    err.commit();
    unlink(out_partial.c_str());
    unlink(err_partial.c_str());
    fsync_dir(dir_);
    const std::string out_id = add_file(output_path(), "_output.jsonl");
    const std::string err_id = add_file(error_path(), "_error.jsonl");
    update([&](BatchRow &row) {
      row.output_file_id = out_id;
      row.error_file_id = err_id;
      row.completed = out.lines();
      row.failed = err.lines();
      row.status = ending;
      (expired ? row.expired_at : row.cancelled_at) = now_s();
      if (!expired && !row.cancelling_at) row.cancelling_at = row.cancelled_at;
    });
  }

  Gateway &gw_;
  BatchRow row_;
  std::string dir_;
  std::mutex mu_;
  std::atomic<bool> cancel_{false}, stop_{false}, done_{false};
  std::atomic<uint64_t> per_minute_{0};
  std::thread thread_;
};

Gateway::Gateway(GatewayOptions options, ServeStore &store, Metrics &metrics)
    : options_(std::move(options)), store_(store), metrics_(metrics) {
  for (const char *sub : {"", "/files", "/files/tmp", "/batches"}) {
    const std::string dir = options_.data_dir + sub;
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      throw std::runtime_error("cannot make " + dir + ": " + std::strerror(errno));
  }
}

Gateway::~Gateway() {
  std::lock_guard<std::mutex> lock(mu_);
  runners_.clear();  // each stops where it is
}

void Gateway::resume() {
  for (const BatchRow &row : store_.unfinished()) {
    std::fprintf(stderr, "obatch serve: taking up batch %s (%s)\n", row.id.c_str(),
                 row.status.c_str());
    start(row, row.status == "cancelling");
  }
}

void Gateway::start(const BatchRow &row, bool cancel) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = runners_.begin(); it != runners_.end();)
    it = it->second->done() ? runners_.erase(it) : std::next(it);
  runners_[row.id] = std::make_unique<Runner>(*this, row, cancel);
}

uint64_t Gateway::requests_per_minute() {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t sum = 0;
  for (const auto &[id, runner] : runners_) sum += runner->per_minute();
  return sum;
}

std::optional<HttpResponse> Gateway::handle(HttpRequest &req) {
  const std::string &p = req.path, &m = req.method;
  auto tail = [&](const std::string &prefix) {
    return p.size() > prefix.size() && p.compare(0, prefix.size(), prefix) == 0
               ? p.substr(prefix.size())
               : std::string();
  };
  if (p == "/v1/files" && m == "POST") return upload(req);
  if (p == "/v1/batches" && m == "POST") return create_batch(req);
  if (p == "/v1/batches" && m == "GET") return list_batches(req);
  if (p == "/v1/files" && m == "GET") return list_files(req);
  if (std::string id = tail("/v1/files/"); !id.empty()) {
    const bool content = id.size() > 8 && id.compare(id.size() - 8, 8, "/content") == 0;
    if (content) id.resize(id.size() - 8);
    if (id.find('/') == std::string::npos && ((m == "GET") || (m == "DELETE" && !content)))
      return file_call(req, id, content);
  }
  if (std::string id = tail("/v1/batches/"); !id.empty()) {
    const bool cancel = id.size() > 7 && id.compare(id.size() - 7, 7, "/cancel") == 0;
    if (cancel) id.resize(id.size() - 7);
    if (id.find('/') == std::string::npos) {
      if (cancel && m == "POST") return cancel_batch(req, id);
      if (!cancel && m == "GET") return get_batch(req, id);
    }
  }
  return std::nullopt;
}

HttpResponse Gateway::upload(HttpRequest &req) {
  if (!req.upload) {
    if (req.header("content-type").rfind("multipart/form-data", 0) != 0)
      return bad("Send the file as multipart/form-data with the fields \"file\" and \"purpose\".");
    return bad("Missing required parameter: 'file'.", "file");
  }
  Upload &up = *req.upload;
  const auto purpose = req.fields.find("purpose");
  if (purpose == req.fields.end() || purpose->second.empty())
    return bad("Missing required parameter: 'purpose'.", "purpose");
  if (purpose->second != "batch")
    return bad("This server takes files for batches only: purpose must be \"batch\".", "purpose");
  if (up.bytes == 0) return bad("The file is empty.", "file", "invalid_file");
  const std::string name = up.filename.empty() ? "upload.jsonl" : up.filename;
  // The checks of `obatch validate`: every line, all problems at once.
  Conf conf;
  conf.set("provider", "openai");
  obatch_check_t *check = nullptr;
  char err[1024] = "";
  if (obatch_check_file(&check, conf.get(), up.path.c_str(), 5, err, sizeof err) != OBATCH_OK)
    return bad(replace_all(err, up.path, name), "file", "invalid_file");
  std::unique_ptr<obatch_check_t, void (*)(obatch_check_t *)> hold(check, obatch_check_destroy);
  if (const uint64_t n = obatch_check_problems(check)) {
    std::string message = name + " has " + std::to_string(n) + (n == 1 ? " problem" : " problems");
    obatch_problem_t problem = OBATCH_PROBLEM_INIT;
    for (int shown = 0; shown < 3 && obatch_check_next(check, &problem) == OBATCH_OK; ++shown)
      message += (shown ? "; " : ": ") + replace_all(problem.message, up.path, name);
    return bad(message, "file", "invalid_file");
  }
  FileRow f{"file-" + random_hex(12), req.client, name, "batch", "", up.bytes, now_s()};
  f.path = options_.data_dir + "/files/" + f.id + ".jsonl";
  if (rename(up.path.c_str(), f.path.c_str()) != 0)
    return HttpServer::error(500, "The server cannot store the file.", "server_error");
  up.path.clear();  // kept: the exchange does not remove it
  fsync_dir(options_.data_dir + "/files");
  store_.add_file(f);
  return ok(file_json(f));
}

HttpResponse Gateway::file_call(HttpRequest &req, const std::string &id, bool content) {
  const auto f = store_.file(req.client, id);
  if (!f) return not_found("file", id);
  if (req.method == "DELETE") {
    store_.delete_file(req.client, id);
    if (f->purpose == "batch") unlink(f->path.c_str());  // a batch has its own link to it
    return ok("{\"id\":" + json_quote(id) + ",\"object\":\"file\",\"deleted\":true}");
  }
  if (!content) return ok(file_json(*f));
  HttpResponse r;
  r.content_type = "application/octet-stream";
  r.file_path = f->path;
  return r;
}

HttpResponse Gateway::create_batch(HttpRequest &req) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(req.body).get(doc) != simdjson::SUCCESS || !doc.is_object())
    return bad("We could not parse the JSON body of your request.");
  std::string_view input_file_id, endpoint, window;
  if (doc["input_file_id"].get(input_file_id) != simdjson::SUCCESS)
    return bad("Missing required parameter: 'input_file_id'.", "input_file_id");
  if (doc["endpoint"].get(endpoint) != simdjson::SUCCESS)
    return bad("Missing required parameter: 'endpoint'.", "endpoint");
  if (doc["completion_window"].get(window) != simdjson::SUCCESS)
    return bad("Missing required parameter: 'completion_window'.", "completion_window");
  bool known = false;
  for (const char *e : kBatchEndpoints) known |= endpoint == e;
  if (!known)
    return bad(
        "Invalid value for 'endpoint': this server runs /v1/chat/completions, "
        "/v1/embeddings, /v1/responses, /v1/completions and /v1/moderations.",
        "endpoint");
  // OpenAI takes "24h"; any duration from 1s to 168h is taken here (tests, short jobs).
  double window_ms = 0;
  if (!parse_duration_ms(window, &window_ms) || window_ms < 1000 || window_ms > 168 * 3600e3)
    return bad("Invalid value for 'completion_window': a duration such as \"24h\".",
               "completion_window");
  std::string metadata = "null";
  simdjson::dom::element meta;
  if (doc["metadata"].get(meta) == simdjson::SUCCESS && !meta.is_null()) {
    simdjson::dom::object pairs;
    if (meta.get(pairs) != simdjson::SUCCESS || pairs.size() > 16)
      return bad("'metadata' is an object of at most 16 string pairs.", "metadata");
    metadata = "{";
    for (auto [key, value] : pairs) {
      std::string_view text;
      if (value.get(text) != simdjson::SUCCESS || key.size() > 64 || text.size() > 512)
        return bad("'metadata' keys are at most 64 characters, values strings of at most 512.",
                   "metadata");
      if (metadata.size() > 1) metadata += ",";
      metadata += json_quote(key) + ":" + json_quote(text);
    }
    metadata += "}";
  }
  const auto file = store_.file(req.client, std::string(input_file_id));
  if (!file || file->purpose != "batch")
    return bad("No such file for a batch: " + json_quote(input_file_id) + ".", "input_file_id");
  BatchRow b;
  b.id = "batch_" + random_hex(16);
  b.client = req.client;
  b.input_file_id = file->id;
  b.endpoint = std::string(endpoint);
  b.completion_window = std::string(window);
  b.window_s = static_cast<int64_t>(window_ms / 1000);
  b.metadata = metadata;
  b.created_at = now_s();
  b.expires_at = b.created_at + b.window_s;
  // The batch keeps its own link to the input: deleting the file does not
  // take it from a batch that will resume.
  const std::string dir = options_.data_dir + "/batches/" + b.id;
  if (mkdir(dir.c_str(), 0700) != 0 ||
      link(file->path.c_str(), (dir + "/input.jsonl").c_str()) != 0)
    return HttpServer::error(500, "The server cannot store the batch.", "server_error");
  fsync_dir(dir);
  fsync_dir(options_.data_dir + "/batches");
  store_.put_batch(b);
  start(b, false);
  return ok(batch_json(b));
}

HttpResponse Gateway::list_batches(HttpRequest &req) {
  return list_page<BatchRow>(
      req, 20, 100,
      [&](const std::string &after, unsigned n) { return store_.batches(req.client, after, n); },
      batch_json);
}

HttpResponse Gateway::list_files(HttpRequest &req) {
  const auto purpose = req.query.find("purpose");
  const std::string only = purpose == req.query.end() ? "" : purpose->second;
  return list_page<FileRow>(
      req, 10000, 10000,
      [&](const std::string &after, unsigned n) {
        return store_.files(req.client, only, after, n);
      },
      file_json);
}

HttpResponse Gateway::get_batch(HttpRequest &req, const std::string &id) {
  const auto b = store_.batch(req.client, id);
  if (!b) return not_found("batch", id);
  return ok(batch_json(*b));
}

HttpResponse Gateway::cancel_batch(HttpRequest &req, const std::string &id) {
  std::optional<BatchRow> row = store_.batch(req.client, id);
  if (!row) return not_found("batch", id);
  bool running = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = runners_.find(id);
    if (it != runners_.end() && !it->second->done()) {
      row = it->second->cancel();  // its row as of now: it may just have ended
      running = true;
    }
  }
  if (!running) row = store_.batch(req.client, id);  // it may have ended meanwhile
  if (!row) return not_found("batch", id);
  if (batch_ended(row->status))
    return bad("Cannot cancel a batch with status " + json_quote(row->status) + ".");
  if (!running) {  // not running here (yet): it starts cancelled
    row->status = "cancelling";
    row->cancelling_at = now_s();
    store_.put_batch(*row);
    start(*row, true);
  }
  return ok(batch_json(*row));
}

}  // namespace obatch::serve
