#include "core/results_index.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "obatch/obatch.h"
#include "util/error.hpp"
#include "util/files.hpp"

namespace obatch {

struct ResultsIndex::Mapped {
  const char *data = nullptr;
  size_t size = 0;
  ~Mapped() {
    if (data && size) munmap(const_cast<char *>(data), size);
  }
};

ResultsIndex::ResultsIndex(const IdIndex *order) : order_(order) {
  if (order_) by_input_.resize(order_->size());
}

ResultsIndex::~ResultsIndex() = default;

void ResultsIndex::add_file(const std::string &path, const std::string &display_name) {
  auto m = std::make_unique<Mapped>();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(OBATCH_EIO, "cannot open " + path + ": " + errno_text(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    throw Error(OBATCH_EIO, "cannot read " + path + ": " + errno_text(errno));
  }
  m->size = static_cast<size_t>(st.st_size);
  if (m->size) {
    void *p = mmap(nullptr, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      close(fd);
      throw Error(OBATCH_EIO, "cannot map " + path + ": " + errno_text(errno));
    }
    m->data = static_cast<const char *>(p);
    madvise(p, m->size, MADV_SEQUENTIAL);
  }
  close(fd);
  if (m->size && m->data[m->size - 1] != '\n')
    throw Error(OBATCH_EPROTOCOL, display_name + ": the file does not end with a "
                                                "newline; it is truncated");

  const uint32_t file_no = static_cast<uint32_t>(files_.size());
  std::vector<std::pair<uint64_t, Loc>> found;  // applied only when all lines pass
  std::vector<std::pair<std::string, Loc>> extra;
  uint64_t pos = 0, lineno = 0;
  while (pos < m->size) {
    const char *nl = static_cast<const char *>(std::memchr(m->data + pos, '\n', m->size - pos));
    uint64_t end = static_cast<uint64_t>(nl - m->data);
    lineno++;
    Loc loc{file_no, pos, end - pos};
    std::string_view line(m->data + pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    std::string id = check_result_line(line, display_name + " line " + std::to_string(lineno));
    uint64_t at = order_ ? order_->find(id) : IdIndex::npos;
    if (at != IdIndex::npos) found.emplace_back(at, loc);
    else extra.emplace_back(std::move(id), loc);
  }
  // An id present in both files keeps its first line (the output file is
  // added first).
  for (auto &f : found)
    if (by_input_[f.first].file == UINT32_MAX) by_input_[f.first] = f.second;
  for (auto &e : extra)
    if (extra_ids_.add(e.first)) extras_.push_back(e.second);
  files_.push_back(std::move(m));
}

uint64_t ResultsIndex::size() const { return by_input_.size() + extras_.size(); }

uint64_t ResultsIndex::missing() const {
  uint64_t n = 0;
  for (auto &l : by_input_) n += l.file == UINT32_MAX;
  return n;
}

std::string_view ResultsIndex::text(const Loc &loc) const {
  return std::string_view(files_[loc.file]->data + loc.offset, loc.length);
}

uint64_t ResultsIndex::find(std::string_view custom_id) const {
  uint64_t at = order_ ? order_->find(custom_id) : IdIndex::npos;
  if (at != IdIndex::npos) return at;
  at = extra_ids_.find(custom_id);
  return at == IdIndex::npos ? at : by_input_.size() + at;
}

void ResultsIndex::get(uint64_t i, ResultLine *out, uint64_t *input_index,
                       std::string_view *line) const {
  const Loc &loc = i < by_input_.size() ? by_input_[i] : extras_[i - by_input_.size()];
  *input_index = i < by_input_.size() ? i : IdIndex::npos;
  if (loc.file == UINT32_MAX) {
    *out = ResultLine();
    out->kind = OBATCH_RESULT_MISSING;
    out->custom_id = order_->at(i);
    *line = std::string_view();
    return;
  }
  *line = text(loc);
  *out = parse_result_line(*line, "result " + std::to_string(i + 1));
}

}  // namespace obatch
