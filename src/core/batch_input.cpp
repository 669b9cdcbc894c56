#include "core/batch_input.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>

#include "core/json_escape.hpp"
#include "obatch/obatch.h"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/json_write.hpp"
#include "util/sha256.hpp"

namespace obatch {

namespace {
// json_append_string, without its per-byte appends for the usual text that
// needs no escape (the same output).
void append_quoted(std::string &out, const std::string &s) {
  if (json_first_escape(s.data(), s.size()) != s.size()) return json_append_string(out, s);
  out.push_back('"');
  out += s;
  out.push_back('"');
}
}  // namespace

bool check_jsonl_framing(const std::string &line, uint64_t lineno, bool last,
                         const std::string &where) {
  if (lineno == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0)
    throw Error(OBATCH_EJSON, where +
                                  ": the file starts with a UTF-8 byte order "
                                  "mark; save it without one");
  if (lineno == 1 && (line.rfind("\xFF\xFE", 0) == 0 || line.rfind("\xFE\xFF", 0) == 0))
    throw Error(OBATCH_EJSON, where +
                                  ": the file is UTF-16 text (it starts with a UTF-16 byte "
                                  "order mark); save it as UTF-8");
  if (!line.empty() && line.back() == '\r')
    throw Error(OBATCH_EJSON, where + ": the line ends in CR LF; JSONL lines end in LF");
  if (line.find_first_not_of(" \t") == std::string::npos) {
    // A blank last line is what a trailing newline looks like; a blank
    // line in the middle is a mistake.
    if (last) return false;
    throw Error(OBATCH_EJSON, where + ": the line is empty");
  }
  return true;
}

Request first_file_request(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(OBATCH_EIO, "cannot open " + path + ": " + errno_text(errno));
  std::string line;
  if (std::getline(in, line)) {
    std::string where = path + " line 1";
    if (check_jsonl_framing(line, 1, in.peek() == EOF, where))
      return parse_request_line(line, where);
  }
  if (in.bad()) throw Error(OBATCH_EIO, "cannot read " + path + ": " + errno_text(errno));
  throw Error(OBATCH_EREQUEST, path + ": the file has no requests");
}

BatchInput::BatchInput(std::string path, std::string id_prefix)
    : path_(std::move(path)), id_prefix_(std::move(id_prefix)) {
  if (path_.empty()) return;  // a check: nothing is written
  int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || !(file_ = fdopen(fd, "wb"))) {
    int err = errno;
    if (fd >= 0) close(fd);
    throw Error(OBATCH_EIO, "cannot create " + path_ + ": " + errno_text(err));
  }
  // Large writes: a 200 MB input goes out in few system calls.
  setvbuf(file_, nullptr, _IOFBF, 1 << 20);
}

BatchInput::~BatchInput() {
  if (file_) fclose(file_);
}

std::string BatchInput::next_custom_id() const {
  // prefix-N for the N-th request; if the caller already used that id
  // themselves, prefix-N-2, prefix-N-3, ... (stable for the same input).
  std::string base = id_prefix_ + "-" + std::to_string(ids_.size() + 1);
  // Until a caller's own id starts with the prefix, the N-th request's
  // prefix-N is new by construction: no lookup (a cache miss per request).
  if (!prefixed_ids_) return base;
  std::string id = base;
  for (int k = 2; ids_.find(id) != IdIndex::npos; k++) id = base + "-" + std::to_string(k);
  return id;
}

std::string BatchInput::models() const {
  std::string out;
  for (auto &m : models_) out += (out.empty() ? "" : ",") + m;
  if (more_models_) out += ",...";
  return out;
}

void BatchInput::set_rules(InputRules rules) {
  rules_ = std::move(rules);
  PartLimits limits;
  if (rules_.split) {
    limits.max_requests = rules_.max_requests;
    limits.max_bytes = rules_.max_bytes;
    limits.max_embedding_inputs = rules_.max_embedding_inputs;
    limits.one_model = rules_.one_model;
  }
  cutter_ = PartCutter(limits);
}

BatchInput::Mark BatchInput::mark() const {
  return {ids_.size(), bytes_,        embedding_inputs_, endpoint_,
          model_,      models_.size(), more_models_,     cutter_};
}

void BatchInput::rollback(const Mark &m) {
  if (file_) {
    fflush(file_);
    if (ftruncate(fileno(file_), static_cast<off_t>(m.bytes)) != 0 ||
        fseeko(file_, static_cast<off_t>(m.bytes), SEEK_SET) != 0)
      throw Error(OBATCH_EIO, "cannot roll back " + path_ + ": " + errno_text(errno));
  }
  ids_.truncate(m.count);
  if (lines_.size() > m.count) lines_.resize(m.count);
  while (!files_.empty() && files_.back().first >= m.count) files_.pop_back();
  bytes_ = m.bytes;
  embedding_inputs_ = m.embedding_inputs;
  endpoint_ = m.endpoint;
  model_ = m.model;
  models_.resize(m.models);
  more_models_ = m.more_models;
  cutter_ = m.cutter;
  if (part_of_.size() > m.count) part_of_.resize(m.count);
}

void BatchInput::write(const std::string &data) {
  if (!file_) return;
  if (fwrite(data.data(), 1, data.size(), file_) != data.size())
    throw Error(OBATCH_EIO, "cannot write " + path_ + ": " + errno_text(errno));
}

std::string BatchInput::origin(uint64_t index) const {
  if (index >= lines_.size() || !lines_[index]) return "request " + std::to_string(index + 1);
  const std::string line = "line " + std::to_string(lines_[index]);
  auto after = std::upper_bound(files_.begin(), files_.end(), index,
                                [](uint64_t i, const FileSpan &f) { return i < f.first; });
  if (after == files_.begin()) return line;
  const FileSpan &file = *(after - 1);
  if (adding_file_ && &file == &files_.back()) return line;
  return file.path + " " + line;
}

void BatchInput::append(Request &r, const std::string &where, uint64_t line_in_file) {
  if (finished_) throw Error(OBATCH_ESTATE, where + ": the input is already closed");
  const uint64_t n = ids_.size() + 1;  // this request's 1-based position
  // A generated id is new by construction until a caller's own id looks
  // like one (see next_custom_id): it needs no duplicate check.
  const bool new_by_construction = r.custom_id.empty() && !prefixed_ids_;
  if (r.custom_id.empty()) {
    r.custom_id = next_custom_id();
  } else if (!prefixed_ids_ && r.custom_id.size() > id_prefix_.size() &&
             r.custom_id.compare(0, id_prefix_.size(), id_prefix_) == 0 &&
             r.custom_id[id_prefix_.size()] == '-') {
    prefixed_ids_ = true;  // set for good: a rollback keeps it (only slower)
  }

  if (rules_.translate) {
    std::string problem = rules_.translate(&r);
    if (!problem.empty()) throw Error(OBATCH_EREQUEST, where + ": " + problem);
  }
  if (!rules_.endpoints.empty() && std::find(rules_.endpoints.begin(), rules_.endpoints.end(),
                                             r.url) == rules_.endpoints.end()) {
    std::string list;
    for (auto &e : rules_.endpoints) list += (list.empty() ? "" : ", ") + e;
    throw Error(OBATCH_EREQUEST, where + ": url " + message_quote(r.url) +
                                     " is not a batch endpoint of " + rules_.provider + " (" +
                                     list + ")");
  }
  if (!endpoint_.empty() && r.url != endpoint_)
    throw Error(OBATCH_EREQUEST, where + ": url " + message_quote(r.url) +
                                     " differs from the batch's endpoint " +
                                     message_quote(endpoint_) + "; a batch has one endpoint");
  const uint64_t inputs = r.url == "/v1/embeddings" ? r.embedding_inputs : 0;
  // Split: the limits are per part, and a mixed input gets per-model parts.
  const bool split = rules_.split;
  if (!split && rules_.one_model && !model_.empty() && !r.model.empty() && r.model != model_)
    throw Error(OBATCH_EMODEL, where + ": model " + message_quote(r.model) + " differs from " +
                                   message_quote(model_) + " (" + origin(first_model_request_) +
                                   "); " + rules_.provider + " allows one model per batch");
  if (!split && rules_.max_requests && n > rules_.max_requests)
    throw Error(OBATCH_ELIMIT,
                requests_limit_message(where, n, rules_.provider, rules_.max_requests));
  if (rules_.max_embedding_inputs && inputs > rules_.max_embedding_inputs && split)
    throw Error(OBATCH_ELIMIT, request_inputs_limit_message(where, inputs, rules_.provider,
                                                            rules_.max_embedding_inputs));
  if (!split && rules_.max_embedding_inputs && inputs &&
      embedding_inputs_ + inputs > rules_.max_embedding_inputs)
    throw Error(OBATCH_ELIMIT,
                embedding_inputs_limit_message(where, embedding_inputs_ + inputs,
                                               rules_.provider, rules_.max_embedding_inputs));
  if (rules_.check) {
    std::string problem = rules_.check(r.url, r.body);
    if (!problem.empty()) throw Error(OBATCH_EREQUEST, where + ": " + problem);
  }

  // One buffer for every line: no allocation per request.
  std::string &line = line_;
  line.clear();
  line.reserve(r.body.size() + r.custom_id.size() + r.url.size() + 48);
  line += "{\"custom_id\":";
  append_quoted(line, r.custom_id);
  line += ",\"method\":\"POST\",\"url\":";
  append_quoted(line, r.url);
  line += ",\"body\":";
  line += r.body;
  line += "}\n";
  if (split && rules_.max_bytes && line.size() > rules_.max_bytes)
    throw Error(OBATCH_ELIMIT, line_bytes_limit_message(where, line.size(), rules_.provider,
                                                        rules_.max_bytes));
  if (!split && rules_.max_bytes && bytes_ + line.size() > rules_.max_bytes)
    throw Error(OBATCH_ELIMIT, bytes_limit_message(where, bytes_ + line.size(), rules_.provider,
                                                   rules_.max_bytes));
  if (new_by_construction)
    ids_.add_new(r.custom_id);
  else if (!ids_.add(r.custom_id))
    throw Error(OBATCH_EDUPLICATE, where + ": custom_id " + message_quote(r.custom_id) +
                                       " is already used by " + origin(ids_.find(r.custom_id)));
  try {
    write(line);
  } catch (...) {
    // No half line left for the next append to follow. Only the id was
    // added so far: the mark is the state before it (taken here, not per
    // request, as it copies strings).
    Mark before = mark();
    before.count = n - 1;
    rollback(before);
    throw;
  }
  // Without split rules the cutter has no limits: one part, for the
  // totals (estimated tokens) only.
  const uint32_t part = cutter_.place(n - 1, r.model, line.size(), inputs);
  if (split) part_of_.push_back(part);
  bytes_ += line.size();
  embedding_inputs_ += inputs;
  if (endpoint_.empty()) endpoint_ = r.url;
  if (model_.empty() && !r.model.empty()) {
    model_ = r.model;
    first_model_request_ = n - 1;
  }
  if (line_in_file) {
    if (lines_.size() < n - 1) lines_.resize(n - 1, 0);
    lines_.push_back(line_in_file);
  }
  if (!r.model.empty() && std::find(models_.begin(), models_.end(), r.model) == models_.end()) {
    if (models_.size() < kListedModels)
      models_.push_back(r.model);
    else
      more_models_ = true;
  }
}

std::string BatchInput::append_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(OBATCH_EIO, "cannot open " + path + ": " + errno_text(errno));
  Mark m = mark();
  Sha256 sha;
  std::string line;
  uint64_t lineno = 0;
  bool any = false;
  files_.push_back({ids_.size(), path});
  adding_file_ = true;
  try {
    while (std::getline(in, line)) {
      sha.update(line.data(), line.size());
      if (!in.eof()) sha.update("\n", 1);  // getline took a newline
      lineno++;
      std::string where = path + " line " + std::to_string(lineno);
      if (!check_jsonl_framing(line, lineno, in.peek() == EOF, where)) break;
      Request r = parse_request_line(line, where);
      append(r, where, lineno);
      any = true;
    }
    if (in.bad()) throw Error(OBATCH_EIO, "cannot read " + path + ": " + errno_text(errno));
    if (!any) throw Error(OBATCH_EREQUEST, path + ": the file has no requests");
  } catch (...) {
    adding_file_ = false;
    rollback(m);
    throw;
  }
  adding_file_ = false;
  return sha.hex();
}

void BatchInput::flush() {
  if (file_ && fflush(file_) != 0)
    throw Error(OBATCH_EIO, "cannot write " + path_ + ": " + errno_text(errno));
}

void BatchInput::finish() {
  finished_ = true;
  if (!file_) return;
  int rc = fflush(file_);
  rc |= fsync(fileno(file_));
  rc |= fclose(file_);
  file_ = nullptr;
  if (rc != 0) throw Error(OBATCH_EIO, "cannot write " + path_ + ": " + errno_text(errno));
}

std::string BatchInput::write_parts() {
  part_paths_.clear();
  const std::vector<PartInfo> &parts = cutter_.parts();
  if (parts.size() <= 1 || path_.empty()) {
    if (!path_.empty()) part_paths_.push_back(path_);
    return "";
  }
  if (!finished_) throw Error(OBATCH_EINTERNAL, "write_parts before finish");
  std::ifstream in(path_, std::ios::binary);
  if (!in) throw Error(OBATCH_EIO, "cannot open " + path_ + ": " + errno_text(errno));
  // Each part's file is open from its first request to its last: with one
  // model that is one file at a time, with interleaved models one per model.
  std::vector<FILE *> out(parts.size(), nullptr);
  std::vector<uint64_t> written(parts.size(), 0);
  auto close_all = [&] {
    for (FILE *&f : out)
      if (f) {
        fclose(f);
        f = nullptr;
      }
  };
  const std::string stem =
      path_.size() > 6 && path_.compare(path_.size() - 6, 6, ".jsonl") == 0
          ? path_.substr(0, path_.size() - 6)
          : path_;
  for (size_t k = 0; k < parts.size(); k++)
    part_paths_.push_back(stem + "-p" + std::to_string(k + 1) + ".jsonl");
  Sha256 sha;
  try {
    std::string line;
    uint64_t i = 0;
    while (std::getline(in, line)) {
      line.push_back('\n');
      sha.update(line.data(), line.size());
      if (i >= part_of_.size()) throw Error(OBATCH_EINTERNAL, path_ + ": more lines than requests");
      const uint32_t k = part_of_[i++];
      if (!out[k]) {
        const std::string &p = part_paths_[k];
        int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || !(out[k] = fdopen(fd, "wb"))) {
          int err = errno;
          if (fd >= 0) close(fd);
          throw Error(OBATCH_EIO, "cannot create " + p + ": " + errno_text(err));
        }
        setvbuf(out[k], nullptr, _IOFBF, 256 << 10);
      }
      if (fwrite(line.data(), 1, line.size(), out[k]) != line.size())
        throw Error(OBATCH_EIO, "cannot write " + part_paths_[k] + ": " + errno_text(errno));
      if (++written[k] == parts[k].requests) {
        FILE *f = out[k];
        out[k] = nullptr;
        if (fclose(f) != 0)
          throw Error(OBATCH_EIO, "cannot write " + part_paths_[k] + ": " + errno_text(errno));
      }
    }
    if (in.bad()) throw Error(OBATCH_EIO, "cannot read " + path_ + ": " + errno_text(errno));
    if (i != part_of_.size())
      throw Error(OBATCH_EIO, path_ + " changed while it was cut into parts");
  } catch (...) {
    close_all();
    for (const std::string &p : part_paths_) unlink(p.c_str());
    part_paths_.clear();
    throw;
  }
  close_all();
  unlink(path_.c_str());  // every request is in a part now: no second copy on disk
  return sha.hex();
}

}  // namespace obatch
