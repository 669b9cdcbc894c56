#include "core/batch_input.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "core/json_escape.hpp"
#include "obatch/obatch.h"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/json_write.hpp"
#include "util/sha256.hpp"

namespace obatch {

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
  fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0) throw Error(OBATCH_EIO, "cannot create " + path_ + ": " + errno_text(errno));
}

BatchInput::~BatchInput() {
  if (fd_ >= 0) {
    try {
      drain();
    } catch (...) {
    }
    close(fd_);
  }
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
  endpoint_listed_ = false;
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
  return {ids_.size(), bytes_,         embedding_inputs_, endpoint_,
          model_,      models_.size(), more_models_,      cutter_};
}

void BatchInput::rollback(const Mark &m) {
  if (fd_ >= 0) {
    if (m.bytes >= on_disk_) {
      out_len_ = m.bytes - on_disk_;  // still in the buffer: drop its tail
    } else {
      out_len_ = 0;
      if (ftruncate(fd_, static_cast<off_t>(m.bytes)) != 0 ||
          lseek(fd_, static_cast<off_t>(m.bytes), SEEK_SET) < 0)
        throw Error(OBATCH_EIO, "cannot roll back " + path_ + ": " + errno_text(errno));
      on_disk_ = m.bytes;
    }
  }
  ids_.truncate(m.count);
  if (lines_.size() > m.count) lines_.resize(m.count);
  while (!files_.empty() && files_.back().first >= m.count) files_.pop_back();
  bytes_ = m.bytes;
  embedding_inputs_ = m.embedding_inputs;
  endpoint_ = m.endpoint;
  endpoint_listed_ = false;  // checked again with the next request
  model_ = m.model;
  models_.resize(m.models);
  more_models_ = m.more_models;
  cutter_ = m.cutter;
  if (part_of_.size() > m.count) part_of_.resize(m.count);
  // The file holds what the input holds once more (as stdio's flush did).
  // A write error here is reported by the next flush or finish.
  if (fd_ >= 0) {
    try {
      drain();
    } catch (const Error &) {
    }
  }
}

void BatchInput::drain() {
  size_t done = 0;
  while (done < out_len_) {
    ssize_t n = ::write(fd_, out_.get() + done, out_len_ - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      // Keep what did not go out: a rollback or a later drain knows where
      // the file ends.
      std::memmove(out_.get(), out_.get() + done, out_len_ - done);
      out_len_ -= done;
      on_disk_ += done;
      throw Error(OBATCH_EIO, "cannot write " + path_ + ": " + errno_text(err));
    }
    done += static_cast<size_t>(n);
  }
  on_disk_ += out_len_;
  out_len_ = 0;
}

char *BatchInput::room(size_t n) {
  constexpr size_t kBuffer = size_t(1) << 20;
  // Written out a megabyte at a time, but grown to that by doubling from
  // 4 KB (stdio's buffer before): a batch of a few requests (a program may
  // hold many) keeps no more than it did.
  constexpr size_t kFirst = size_t(4) << 10;
  if (out_len_ + n > kBuffer && out_len_ > 0) drain();
  if (out_len_ + n > out_cap_) {
    const size_t cap = std::max(std::min(kBuffer, std::max(kFirst, 2 * out_cap_)), out_len_ + n);
    std::unique_ptr<char[]> bigger(new char[cap]);
    if (out_len_) std::memcpy(bigger.get(), out_.get(), out_len_);
    out_ = std::move(bigger);
    out_cap_ = cap;
  }
  return out_.get() + out_len_;
}

std::string_view BatchInput::padded(std::string_view text) {
  if (pad_cap_ < text.size() + kJsonlPadding) {
    pad_cap_ = text.size() + kJsonlPadding;
    pad_.reset(new char[pad_cap_]);
  }
  if (!text.empty()) std::memcpy(pad_.get(), text.data(), text.size());
  std::memset(pad_.get() + text.size(), 0, kJsonlPadding);
  return std::string_view(pad_.get(), text.size());
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

void BatchInput::append(Request &r, std::string_view body, const std::string &where,
                        uint64_t line_in_file) {
  if (finished_) throw Error(OBATCH_ESTATE, where + ": the input is already closed");
  const uint64_t n = ids_.size() + 1;  // this request's 1-based position
  // A generated id is new by construction until a caller's own id looks
  // like one (see next_custom_id): it needs no duplicate check.
  const bool new_by_construction = r.custom_id.empty() && !prefixed_ids_;
  // A caller's id is looked up below, after the other checks: ask for its
  // table slot now (over a large index, a cache miss otherwise waited for).
  if (!r.custom_id.empty()) ids_.prefetch(r.custom_id);
  if (new_by_construction) {
    // prefix-N, into the reused buffer (no string made per request).
    r.custom_id.assign(id_prefix_);
    r.custom_id.push_back('-');
    append_decimal(&r.custom_id, n);
  } else if (r.custom_id.empty()) {
    r.custom_id = next_custom_id();
  } else if (!prefixed_ids_ && r.custom_id.size() > id_prefix_.size() &&
             r.custom_id.compare(0, id_prefix_.size(), id_prefix_) == 0 &&
             r.custom_id[id_prefix_.size()] == '-') {
    prefixed_ids_ = true;  // set for good: a rollback keeps it (only slower)
  }

  if (rules_.translate) {
    if (body.data() != r.body.data()) r.body.assign(body.data(), body.size());
    std::string problem = rules_.translate(&r);
    if (!problem.empty()) throw Error(OBATCH_EREQUEST, where + ": " + problem);
    body = r.body;
  }
  // The batch's endpoint passed the list already: one comparison below.
  const bool listed = endpoint_listed_ && r.url == endpoint_;
  if (!listed && !rules_.endpoints.empty() &&
      std::find(rules_.endpoints.begin(), rules_.endpoints.end(), r.url) ==
          rules_.endpoints.end()) {
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
  const uint64_t inputs =
      r.url.size() == 14 && r.url.compare("/v1/embeddings") == 0 ? r.embedding_inputs : 0;
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
                embedding_inputs_limit_message(where, embedding_inputs_ + inputs, rules_.provider,
                                               rules_.max_embedding_inputs));
  if (rules_.check) {
    std::string problem = rules_.check(r.url, body);
    if (!problem.empty()) throw Error(OBATCH_EREQUEST, where + ": " + problem);
  }

  // The line's size first (the limits), then its bytes straight into the
  // output buffer: no line built apart, no allocation per request.
  static constexpr std::string_view k1 = "{\"custom_id\":", k2 = ",\"method\":\"POST\",\"url\":",
                                    k3 = ",\"body\":", k4 = "}\n";
  const bool plain_id =
      json_first_escape(r.custom_id.data(), r.custom_id.size()) == r.custom_id.size();
  const bool plain_url = json_first_escape(r.url.data(), r.url.size()) == r.url.size();
  // The rare id or url that needs escapes: quoted into quoted_ (id, then url).
  size_t id_quoted = r.custom_id.size() + 2, url_quoted = r.url.size() + 2;
  if (!plain_id || !plain_url) {
    quoted_.clear();
    if (!plain_id) json_append_string(quoted_, r.custom_id), id_quoted = quoted_.size();
    if (!plain_url)
      json_append_string(quoted_, r.url), url_quoted = quoted_.size() - (plain_id ? 0 : id_quoted);
  }
  const uint64_t line_size =
      k1.size() + id_quoted + k2.size() + url_quoted + k3.size() + body.size() + k4.size();
  if (split && rules_.max_bytes && line_size > rules_.max_bytes)
    throw Error(OBATCH_ELIMIT,
                line_bytes_limit_message(where, line_size, rules_.provider, rules_.max_bytes));
  if (!split && rules_.max_bytes && bytes_ + line_size > rules_.max_bytes)
    throw Error(OBATCH_ELIMIT,
                bytes_limit_message(where, bytes_ + line_size, rules_.provider, rules_.max_bytes));
  // Room first: a failed write leaves nothing of this request behind.
  char *p = fd_ >= 0 ? room(line_size) : nullptr;
  if (new_by_construction)
    ids_.add_new(r.custom_id);
  else if (!ids_.add(r.custom_id))
    throw Error(OBATCH_EDUPLICATE, where + ": custom_id " + message_quote(r.custom_id) +
                                       " is already used by " + origin(ids_.find(r.custom_id)));
  if (p) {
    auto put = [&p](std::string_view s) {
      std::memcpy(p, s.data(), s.size());
      p += s.size();
    };
    auto put_quoted = [&](std::string_view s, bool plain, std::string_view quoted) {
      if (!plain) return put(quoted);
      *p++ = '"';
      put(s);
      *p++ = '"';
    };
    const std::string_view quoted(quoted_);
    put(k1);
    put_quoted(r.custom_id, plain_id, quoted.substr(0, plain_id ? 0 : id_quoted));
    put(k2);
    put_quoted(r.url, plain_url, quoted.substr(plain_id ? 0 : id_quoted));
    put(k3);
    put(body);
    put(k4);
    out_len_ += line_size;
  }
  // Without split rules the cutter has no limits: one part, for the
  // totals (estimated tokens) only.
  const uint32_t part = cutter_.place(n - 1, r.model, line_size, inputs);
  if (split) part_of_.push_back(part);
  bytes_ += line_size;
  embedding_inputs_ += inputs;
  if (endpoint_.empty()) endpoint_ = r.url;
  if (!endpoint_listed_ && !rules_.endpoints.empty() && r.url == endpoint_) endpoint_listed_ = true;
  if (model_.empty() && !r.model.empty()) {
    model_ = r.model;
    first_model_request_ = n - 1;
  }
  if (line_in_file) {
    if (lines_.size() < n - 1) lines_.resize(n - 1, 0);
    lines_.push_back(line_in_file);
  }
  if (!r.model.empty() && (models_.empty() || r.model != models_.front()) &&
      std::find(models_.begin(), models_.end(), r.model) == models_.end()) {
    if (models_.size() < kListedModels)
      models_.push_back(r.model);
    else
      more_models_ = true;
  }
}

uint64_t BatchInput::append_bodies(std::string_view bodies, std::string_view endpoint) {
  if (finished_) throw Error(OBATCH_ESTATE, "add: the input is already closed");
  if (bodies.empty()) return 0;
  Mark m = mark();
  uint64_t added = 0;
  const std::function<void(Request &, std::string_view, uint64_t)> each =
      [&](Request &r, std::string_view body, uint64_t) {
        append(r, body, where_);
        added++;
      };
  try {
    // The parser reads up to kJsonlPadding bytes past the text it is given:
    // the whole lines that end that far before the buffer's end are parsed
    // where they are (the bytes read past them are the caller's next
    // ones), and only the rest is copied into a padded buffer.
    size_t cut = 0;
    if (bodies.size() > kJsonlPadding) {
      const void *nl = memrchr(bodies.data(), '\n', bodies.size() - kJsonlPadding);
      if (nl) cut = static_cast<size_t>(static_cast<const char *>(nl) - bodies.data()) + 1;
    }
    uint64_t line = 1;
    if (cut)
      line = for_each_jsonl_request(bodies.substr(0, cut), JsonlKind::kBody, endpoint, 1, false,
                                    std::string(), &request_, &where_, each);
    if (cut < bodies.size())
      for_each_jsonl_request(padded(bodies.substr(cut)), JsonlKind::kBody, endpoint, line, true,
                             std::string(), &request_, &where_, each);
  } catch (...) {
    rollback(m);
    throw;
  }
  return added;
}

std::string BatchInput::append_file(const std::string &path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(OBATCH_EIO, "cannot open " + path + ": " + errno_text(errno));
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  Mark m = mark();
  Sha256 sha;
  bool any = false;
  files_.push_back({ids_.size(), path});
  adding_file_ = true;
  try {
    // Read 4 MB at a time; the whole lines of what was read go through one
    // document stream, and a line cut at the end waits for the next read.
    constexpr size_t kChunk = size_t(4) << 20;
    std::unique_ptr<char[]> buf;
    size_t cap = 0, have = 0;
    uint64_t next_line = 1;
    const std::string prefix = path + " ";
    for (bool eof = false; !eof;) {
      if (cap < have + kChunk + kJsonlPadding) {
        const size_t bigger = have + kChunk + kJsonlPadding;
        std::unique_ptr<char[]> grown(new char[bigger]);
        if (have) std::memcpy(grown.get(), buf.get(), have);
        buf = std::move(grown);
        cap = bigger;
      }
      ssize_t got = read(fd, buf.get() + have, kChunk);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw Error(OBATCH_EIO, "cannot read " + path + ": " + errno_text(errno));
      if (got == 0) eof = true;
      sha.update(buf.get() + have, static_cast<size_t>(got));
      have += static_cast<size_t>(got);
      size_t end = have;
      if (!eof) {
        const void *nl = memrchr(buf.get(), '\n', have);
        if (!nl) continue;  // a line longer than what was read: read on
        end = static_cast<size_t>(static_cast<const char *>(nl) - buf.get()) + 1;
        if (end == have) {
          // Whether the line read last is the file's last (a blank one may
          // end the file) is known only at the end: it waits for the next read.
          nl = end > 1 ? memrchr(buf.get(), '\n', end - 1) : nullptr;
          if (!nl) continue;
          end = static_cast<size_t>(static_cast<const char *>(nl) - buf.get()) + 1;
        }
      }
      // Padding after the whole lines, over the start of the cut one (kept
      // aside meanwhile).
      char tail[kJsonlPadding];
      const size_t tail_size = std::min(have - end, kJsonlPadding);
      std::memcpy(tail, buf.get() + end, tail_size);
      std::memset(buf.get() + end, 0, kJsonlPadding);
      for_each_jsonl_request(std::string_view(buf.get(), end), JsonlKind::kRequest, {}, next_line,
                             eof, prefix, &request_, &where_,
                             [&](Request &r, std::string_view body, uint64_t line) {
                               append(r, body, where_, line);
                               any = true;
                               next_line = line + 1;
                             });
      std::memcpy(buf.get() + end, tail, tail_size);
      std::memmove(buf.get(), buf.get() + end, have - end);
      have -= end;
    }
    if (!any) throw Error(OBATCH_EREQUEST, path + ": the file has no requests");
  } catch (...) {
    close(fd);
    adding_file_ = false;
    rollback(m);
    throw;
  }
  close(fd);
  adding_file_ = false;
  return sha.hex();
}

void BatchInput::flush() {
  if (fd_ >= 0) drain();
}

void BatchInput::finish() {
  finished_ = true;
  if (fd_ < 0) return;
  const int fd = fd_;
  try {
    drain();
  } catch (...) {
    fd_ = -1;
    close(fd);
    throw;
  }
  fd_ = -1;
  // Nothing is appended any more: the buffers go now, not with the handle.
  out_.reset();
  out_cap_ = 0;
  pad_.reset();
  pad_cap_ = 0;
  int rc = fsync(fd);
  rc |= close(fd);
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
  const std::string stem = path_.size() > 6 && path_.compare(path_.size() - 6, 6, ".jsonl") == 0
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
