#include "core/results_index.hpp"

#include <fcntl.h>
#include <simdjson.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "obatch/obatch.h"
#include "util/error.hpp"
#include "util/files.hpp"

namespace obatch {

namespace {

constexpr size_t kReadChunk = 1 << 20;

// Calls f(offset, text, complete) for runs of whole lines, in file order:
// `text` is one or more lines each ending in '\n' (complete), or the last
// line of a file that does not end in one (complete false). Every text is
// followed by simdjson::SIMDJSON_PADDING readable bytes (the parser reads
// it in place).
template <class F>
void for_each_run(int fd, const std::string &path, F &&f) {
  std::string buf(kReadChunk + simdjson::SIMDJSON_PADDING, '\0');
  std::string carry;  // a line that spans two reads
  uint64_t carry_offset = 0, pos = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), kReadChunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(OBATCH_EIO, "cannot read " + path + ": " + errno_text(errno));
    }
    if (n == 0) break;
    const char *p = buf.data(), *end = p + n;
    if (!carry.empty()) {
      const char *nl = static_cast<const char *>(std::memchr(p, '\n', static_cast<size_t>(n)));
      if (!nl) {
        carry.append(p, static_cast<size_t>(n));
        pos += static_cast<uint64_t>(n);
        continue;
      }
      carry.append(p, static_cast<size_t>(nl + 1 - p));
      carry.reserve(carry.size() + simdjson::SIMDJSON_PADDING);
      f(carry_offset, std::string_view(carry), true);
      carry.clear();
      p = nl + 1;
    }
    const char *last = static_cast<const char *>(memrchr(p, '\n', static_cast<size_t>(end - p)));
    if (last) {
      f(pos + static_cast<uint64_t>(p - buf.data()),
        std::string_view(p, static_cast<size_t>(last + 1 - p)), true);
      p = last + 1;
    }
    if (p < end) {
      carry_offset = pos + static_cast<uint64_t>(p - buf.data());
      carry.assign(p, static_cast<size_t>(end - p));
    }
    pos += static_cast<uint64_t>(n);
  }
  if (!carry.empty()) {
    carry.reserve(carry.size() + simdjson::SIMDJSON_PADDING);
    f(carry_offset, std::string_view(carry), false);
  }
}

// Calls f(offset, line_without_newline, ends_with_newline) for each line of
// a run of for_each_run.
template <class F>
void split_run(uint64_t offset, std::string_view text, bool complete, F &&f) {
  if (!complete) return f(offset, text, false);
  size_t at = 0;
  while (at < text.size()) {
    const size_t nl = text.find('\n', at);
    f(offset + at, text.substr(at, nl - at), true);
    at = nl + 1;
  }
}

// The custom_ids of the whole lines of `text` (each ending in '\n'), read
// as one document stream: one stage 1 over the run instead of one per line
// (per line, its set-up cost as much as the parse). Taken while each
// document is exactly one line (it starts the line and ends right before
// its newline) and an object with a string custom_id, as the per-line
// parse would take it; calls take(id) for each. Returns the bytes taken:
// from the first line that is not so on, the caller reads line by line, so
// what that line gets (an error, a blank line skipped) is the per-line
// reading's.
template <class F>
size_t stream_custom_ids(simdjson::dom::parser &parser, std::string_view text, F &&take) {
  simdjson::dom::document_stream stream;
  // The whole run as one batch: no document is cut at a batch's end.
  if (parser.parse_many(text.data(), text.size(), std::max(text.size(), size_t(1) << 16))
          .get(stream))
    return 0;
  size_t at = 0;  // where the next line starts
  for (auto it = stream.begin(); it != stream.end(); ++it) {
    simdjson::dom::element doc;
    if ((*it).get(doc) != simdjson::SUCCESS) break;
    const std::string_view src = it.source();
    const size_t nl = text.find('\n', at);
    if (src.data() != text.data() + at || nl != at + src.size()) break;
    simdjson::dom::object obj;
    std::string_view id;
    if (doc.get_object().get(obj) != simdjson::SUCCESS ||
        obj["custom_id"].get_string().get(id) != simdjson::SUCCESS)
      break;
    take(id);
    at = nl + 1;
  }
  return at;
}

}  // namespace

void load_input_order(const std::string &path, const std::string &display_name, IdIndex *ids) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(OBATCH_EIO, "cannot open " + path + ": " + errno_text(errno));
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  uint64_t lineno = 0;
  const uint64_t first = ids->size();
  std::vector<uint64_t> line_of;  // of each id added here, for the duplicate message
  auto take = [&](std::string_view id, uint64_t line) {
    if (!ids->add(id)) {
      uint64_t at = ids->find(id);
      std::string earlier =
          at >= first ? "line " + std::to_string(line_of[at - first]) : "an earlier request";
      throw Error(OBATCH_EDUPLICATE, display_name + " line " + std::to_string(line) +
                                         ": custom_id \"" + std::string(id) +
                                         "\" is already used by " + earlier);
    }
    line_of.push_back(line);
  };
  // A streamed id is added once the next one is parsed: its table slot,
  // asked for when it was read, is in the cache by then (a cache miss per
  // id otherwise). Anything else settles it first, so the order of the
  // checks (and of their errors) is unchanged.
  std::string held;
  uint64_t held_line = 0;
  auto settle = [&] {
    if (held_line) take(held, held_line);
    held_line = 0;
  };
  auto streamed_id = [&](std::string_view id) {
    lineno++;
    ids->prefetch(id);
    settle();
    held.assign(id.data(), id.size());
    held_line = lineno;
  };
  simdjson::dom::parser stream_parser;
  try {
    for_each_run(fd, path, [&](uint64_t offset, std::string_view text, bool complete) {
      const size_t streamed = complete ? stream_custom_ids(stream_parser, text, streamed_id) : 0;
      settle();
      split_run(offset + streamed, text.substr(streamed), complete,
                [&](uint64_t, std::string_view line, bool) {
                  lineno++;
                  if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;
                  auto where = [&] { return display_name + " line " + std::to_string(lineno); };
                  take(result_line_custom_id_view(line, where, true), lineno);
                });
    });
  } catch (...) {
    close(fd);
    throw;
  }
  close(fd);
}

ResultsIndex::ResultsIndex(const IdIndex *order) : order_(order) {
  if (order_) by_input_.resize(order_->size());
}

ResultsIndex::~ResultsIndex() {
  for (auto &f : files_) {
    if (f.map) munmap(const_cast<char *>(f.map), f.size);
    close(f.fd);
  }
}

// Maps the file at its first read. A file that shrank since it was indexed
// stays unmapped: its lines then come back as "changed on disk".
void ResultsIndex::map(const File &f) const {
  f.mapped = true;
  if (f.size == 0) return;
  struct stat st;
  if (fstat(f.fd, &st) != 0 || static_cast<uint64_t>(st.st_size) < f.size) return;
  void *m = mmap(nullptr, f.size, PROT_READ, MAP_SHARED, f.fd, 0);
  if (m == MAP_FAILED) return;  // then pread, as without a map
  f.map = static_cast<const char *>(m);
}

void ResultsIndex::add_file(const std::string &path, const std::string &display_name) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(OBATCH_EIO, "cannot open " + path + ": " + errno_text(errno));
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

  const uint32_t file_no = static_cast<uint32_t>(files_.size());
  std::vector<std::pair<uint64_t, Loc>> found;  // applied only when the file passes
  std::vector<std::pair<std::string, Loc>> extra;
  // Lines wait in groups for their input positions: looked up together,
  // the lookups' cache misses overlap (IdIndex::find_many).
  constexpr size_t kGroup = 256;
  std::vector<std::string> pending_ids(kGroup);
  std::vector<std::string_view> views(kGroup);
  std::vector<Loc> pending_locs(kGroup);
  std::vector<uint64_t> positions(kGroup);
  size_t pending = 0;
  auto resolve = [&] {
    for (size_t k = 0; k < pending; k++) views[k] = pending_ids[k];
    if (order_) order_->find_many(views.data(), pending, positions.data());
    for (size_t k = 0; k < pending; k++) {
      uint64_t at = order_ && !pending_ids[k].empty() ? positions[k] : IdIndex::npos;
      if (at != IdIndex::npos)
        found.emplace_back(at, pending_locs[k]);
      else
        extra.emplace_back(std::move(pending_ids[k]), pending_locs[k]);
    }
    pending = 0;
  };
  uint32_t lineno = 0;
  auto queue = [&](std::string_view id, uint64_t offset, size_t length, bool plain) {
    pending_ids[pending].assign(id.data(), id.size());
    pending_locs[pending] = Loc{file_no, lineno, offset, length, plain};
    if (++pending == kGroup) resolve();
  };
  // A line the stream did not take, read on its own.
  auto one_line = [&](uint64_t offset, std::string_view line, bool complete) {
    if (line.empty()) return;
    std::string_view plain;
    if (complete && plain_custom_id(line, &plain)) {
      // The id is the same whether the line turns out to be a result line
      // or not; fetching it parses (and checks) it.
      return queue(plain, offset, line.size(), false);
    }
    std::string where = display_name + " line " + std::to_string(lineno);
    std::string id;
    try {
      id = check_result_line(line, where);
    } catch (const Error &) {
      if (!complete)
        throw Error(OBATCH_EPROTOCOL, where + ": the last line is cut off; the file is truncated");
      id = scan_custom_id(line);  // kept: it comes back as an error result
    }
    queue(id, offset, line.size(), false);
  };
  // Whole lines are parsed (and checked) here, as one document stream,
  // rather than one by one when fetched.
  auto on_run = [&](uint64_t offset, std::string_view text, bool complete) {
    const size_t streamed =
        complete ? stream_result_lines(text,
                                       [&](const StreamedLine &s) {
                                         lineno++;
                                         if (s.result_line)
                                           queue(s.custom_id, offset + s.offset, s.length, s.plain);
                                         else
                                           one_line(offset + s.offset,
                                                    text.substr(s.offset, s.length), true);
                                       })
                 : 0;
    split_run(offset + streamed, text.substr(streamed), complete,
              [&](uint64_t at, std::string_view line, bool whole) {
                lineno++;
                one_line(at, line, whole);
              });
  };
  try {
    for_each_run(fd, path, on_run);
    resolve();
  } catch (...) {
    close(fd);
    throw;
  }
  // An id present in both files keeps its first line (the output file is
  // added first).
  for (auto &f : found)
    if (by_input_[f.first].file == UINT32_MAX) by_input_[f.first] = f.second;
  for (auto &e : extra) {
    if (!e.first.empty()) {
      if (!extra_ids_.add(e.first)) continue;
      extra_slot_.push_back(extras_.size());
    }
    extras_.push_back(e.second);
    extra_names_.push_back(e.first);
  }
  struct stat st;
  files_.push_back({fd, display_name, fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0});
}

// Results are read in input order from a file in another order: each line
// is a cache miss (and a TLB miss) of its own. The line a few results on
// is asked for now, so that it arrives while this one is read.
void ResultsIndex::prefetch_ahead(uint64_t i) const {
  constexpr uint64_t kAhead = 8;
  constexpr uint64_t kMaxBytes = 4096;
  const uint64_t j = i + kAhead;
  if (j >= by_input_.size()) return;
  const Loc &next = by_input_[j];
  if (next.file == UINT32_MAX) return;
  const File &f = files_[next.file];
  if (!f.map || next.offset + next.length > f.size) return;
  const char *p = f.map + next.offset;
  const uint64_t n = std::min<uint64_t>(next.length, kMaxBytes);
  for (uint64_t k = 0; k < n; k += 64) __builtin_prefetch(p + k);
}

uint64_t ResultsIndex::size() const { return by_input_.size() + extras_.size(); }

uint64_t ResultsIndex::missing() const {
  uint64_t n = 0;
  for (auto &l : by_input_) n += l.file == UINT32_MAX;
  return n;
}

uint64_t ResultsIndex::find(std::string_view custom_id) const {
  uint64_t at = order_ ? order_->find(custom_id) : IdIndex::npos;
  if (at != IdIndex::npos) return at;
  at = extra_ids_.find(custom_id);
  return at == IdIndex::npos ? at : by_input_.size() + extra_slot_[at];
}

void ResultsIndex::get(uint64_t i, ResultLine *out, uint64_t *input_index,
                       std::string *line) const {
  const bool in_input = i < by_input_.size();
  const Loc &loc = in_input ? by_input_[i] : extras_[i - by_input_.size()];
  const std::string_view known_id =
      in_input ? order_->view(i) : std::string_view(extra_names_[i - by_input_.size()]);
  *input_index = in_input ? i : IdIndex::npos;
  // The buffers of the previous result are reused: no allocation per fetch.
  reset_result_line(out);
  line->clear();
  if (loc.file == UINT32_MAX) {
    out->kind = OBATCH_RESULT_MISSING;
    out->custom_id.assign(known_id.data(), known_id.size());
    return;
  }
  const File &file = files_[loc.file];
  auto where = [&] { return file.name + " line " + std::to_string(loc.line_no); };
  if (!file.mapped) map(file);
  // Padded: the parser reads the copy in place.
  line->reserve(loc.length + simdjson::SIMDJSON_PADDING);
  ssize_t got;
  if (file.map && loc.offset + loc.length <= file.size) {
    // From the map: no system call per result (a pread each was a third of
    // the time of reading shuffled results).
    prefetch_ahead(i);
    line->assign(file.map + loc.offset, loc.length);
    // Parsed and checked when indexed: no second parse.
    if (loc.plain && read_plain_result(*line, out)) return;
    got = static_cast<ssize_t>(loc.length);
  } else {
    line->resize(loc.length);
    got = file.map ? -1 : pread(file.fd, line->data(), loc.length, static_cast<off_t>(loc.offset));
  }
  try {
    if (got != static_cast<ssize_t>(loc.length))
      throw Error(OBATCH_EIO,
                  where() + ": the result file changed on disk after it was downloaded");
    parse_result_line(*line, where, out, true);
  } catch (const Error &e) {
    // Not a readable result line: report it, with its raw text, against
    // the request it names.
    reset_result_line(out);
    out->kind = OBATCH_RESULT_ERROR;
    out->custom_id.assign(known_id.data(), known_id.size());
    out->error_code = "unreadable_result_line";
    out->error_message = e.what();
    out->has_error = true;
    if (got != static_cast<ssize_t>(loc.length)) line->clear();
  }
}

bool ResultsIndex::raw(uint64_t i, std::string_view *line, uint32_t *file_no,
                       std::string *buf) const {
  const Loc &loc = i < by_input_.size() ? by_input_[i] : extras_[i - by_input_.size()];
  if (loc.file == UINT32_MAX) return false;
  const File &file = files_[loc.file];
  if (!file.mapped && mapping_) map(file);
  *file_no = loc.file;
  if (file.map && loc.offset + loc.length <= file.size) {
    *line = std::string_view(file.map + loc.offset, loc.length);
    return true;
  }
  buf->resize(loc.length);
  if (file.map || pread(file.fd, buf->data(), loc.length, static_cast<off_t>(loc.offset)) !=
                      static_cast<ssize_t>(loc.length))
    throw Error(OBATCH_EIO, file.name + " line " + std::to_string(loc.line_no) +
                                ": the result file changed on disk after it was downloaded");
  *line = *buf;
  return true;
}

}  // namespace obatch
