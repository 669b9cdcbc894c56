#include "core/results_index.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "obatch/obatch.h"
#include "util/error.hpp"
#include "util/files.hpp"

namespace obatch {

namespace {

constexpr size_t kReadChunk = 1 << 20;

// Calls f(offset, line_without_newline, ends_with_newline) for each line.
template <class F>
void for_each_line(int fd, const std::string &path, F &&f) {
  std::string buf(kReadChunk, '\0');
  std::string carry;  // a line that spans two reads
  uint64_t carry_offset = 0, pos = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(OBATCH_EIO, "cannot read " + path + ": " + errno_text(errno));
    }
    if (n == 0) break;
    const char *p = buf.data(), *end = p + n;
    while (p < end) {
      const char *nl = static_cast<const char *>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
      if (!nl) {
        if (carry.empty()) carry_offset = pos + static_cast<uint64_t>(p - buf.data());
        carry.append(p, static_cast<size_t>(end - p));
        break;
      }
      if (!carry.empty()) {
        carry.append(p, static_cast<size_t>(nl - p));
        f(carry_offset, std::string_view(carry), true);
        carry.clear();
      } else {
        f(pos + static_cast<uint64_t>(p - buf.data()), std::string_view(p, static_cast<size_t>(nl - p)), true);
      }
      p = nl + 1;
    }
    pos += static_cast<uint64_t>(n);
  }
  if (!carry.empty()) f(carry_offset, std::string_view(carry), false);
}

}  // namespace

void load_input_order(const std::string &path, const std::string &display_name, IdIndex *ids) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(OBATCH_EIO, "cannot open " + path + ": " + errno_text(errno));
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  uint64_t lineno = 0;
  const uint64_t first = ids->size();
  std::vector<uint64_t> line_of;  // of each id added here, for the duplicate message
  try {
    for_each_line(fd, path, [&](uint64_t, std::string_view line, bool) {
      lineno++;
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;
      auto where = [&] { return display_name + " line " + std::to_string(lineno); };
      std::string_view id = result_line_custom_id_view(line, where);
      if (!ids->add(id)) {
        uint64_t at = ids->find(id);
        std::string earlier =
            at >= first ? "line " + std::to_string(line_of[at - first]) : "an earlier request";
        throw Error(OBATCH_EDUPLICATE,
                    where() + ": custom_id \"" + std::string(id) + "\" is already used by " + earlier);
      }
      line_of.push_back(lineno);
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
  for (auto &f : files_) close(f.fd);
}

void ResultsIndex::add_file(const std::string &path, const std::string &display_name) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(OBATCH_EIO, "cannot open " + path + ": " + errno_text(errno));
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

  const uint32_t file_no = static_cast<uint32_t>(files_.size());
  std::vector<std::pair<uint64_t, Loc>> found;  // applied only when the file passes
  std::vector<std::pair<std::string, Loc>> extra;
  uint32_t lineno = 0;
  try {
    for_each_line(fd, path, [&](uint64_t offset, std::string_view line, bool complete) {
      lineno++;
      if (line.empty()) return;
      Loc loc{file_no, lineno, offset, line.size()};
      std::string id;
      std::string_view plain;
      if (complete && plain_custom_id(line, &plain)) {
        // The id is the same whether the line turns out to be a result line
        // or not; fetching it parses (and checks) it.
        id.assign(plain.data(), plain.size());
      } else {
        std::string where = display_name + " line " + std::to_string(lineno);
        try {
          id = check_result_line(line, where);
        } catch (const Error &) {
          if (!complete)
            throw Error(OBATCH_EPROTOCOL, where + ": the last line is cut off; the file is truncated");
          id = scan_custom_id(line);  // kept: it comes back as an error result
        }
      }
      uint64_t at = order_ && !id.empty() ? order_->find(id) : IdIndex::npos;
      if (at != IdIndex::npos) found.emplace_back(at, loc);
      else extra.emplace_back(std::move(id), loc);
    });
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
  files_.push_back({fd, display_name});
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
  line->resize(loc.length);
  ssize_t got = pread(file.fd, line->data(), loc.length, static_cast<off_t>(loc.offset));
  try {
    if (got != static_cast<ssize_t>(loc.length))
      throw Error(OBATCH_EIO, where() + ": the result file changed on disk after it was downloaded");
    parse_result_line(*line, where, out);
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

}  // namespace obatch
