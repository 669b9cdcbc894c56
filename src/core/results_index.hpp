// The downloaded output and error files, indexed by custom_id, read back in
// input order. Only an offset per result is kept in memory. Indexing reads a
// file through a small buffer (verifying a download costs no memory) and
// parses and checks every line once, as a document stream, so that fetching
// a plain line (a 2xx in OpenAI's layout) needs no parse at all; the first
// fetch maps the file, and lines are read from the map: results come
// shuffled, and a pread per line cost more than its parse. A file that
// shrank before that first fetch gives "changed on disk" error results;
// one truncated in place while it is mapped is undefined (SIGBUS), which is
// why obatch only ever replaces files by rename.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/id_index.hpp"
#include "core/result_line.hpp"

namespace obatch {

// Reads the custom_ids of a JSONL input file, in order, into `ids` (blank
// lines are skipped): the order results come back in. Throws Error(EIO)
// when the file cannot be read, Error(EPROTOCOL) for a line without a
// custom_id and Error(EDUPLICATE) for an id seen before, each naming
// `display_name` and the line.
void load_input_order(const std::string &path, const std::string &display_name, IdIndex *ids);

class ResultsIndex {
 public:
  // `order`: the input's custom_ids (kept by reference; may be empty when
  // the input is unknown: then results come in file order).
  explicit ResultsIndex(const IdIndex *order);
  ~ResultsIndex();
  ResultsIndex(const ResultsIndex &) = delete;
  ResultsIndex &operator=(const ResultsIndex &) = delete;

  // Indexes a result file. A line that cannot be read as a result line is
  // kept too (it comes back as an error result with its raw text): one odd
  // line must not cost the other results. Throws Error(EPROTOCOL) only when
  // the last line is cut off (a truncated download), Error(EIO) when the
  // file cannot be read; then nothing of the file is kept. The file stays
  // open for reading until the index is destroyed.
  void add_file(const std::string &path, const std::string &display_name);

  // Results: every input position first (missing ones included), then lines
  // whose custom_id is not in the input.
  uint64_t size() const;
  // The i-th result; `line` receives the raw line (empty when missing).
  void get(uint64_t i, ResultLine *out, uint64_t *input_index, std::string *line) const;
  // The position of `custom_id` for get(), or IdIndex::npos.
  uint64_t find(std::string_view custom_id) const;

  uint64_t missing() const;

  // The raw text of the i-th result (no newline) and the add_file call it
  // came from (0-based, counting only the files kept); false when missing.
  // The text is in the file's map, or in `buf` when it has none. Throws
  // Error(EIO) when the file changed on disk.
  bool raw(uint64_t i, std::string_view *line, uint32_t *file, std::string *buf) const;

  // Off: lines are read with pread, never mapped. For one pass over every
  // result (merging a job's parts): mapped pages of files that big would
  // count in the process's memory, read ones stay in the page cache.
  void set_mapping(bool on) { mapping_ = on; }

 private:
  struct Loc {
    uint32_t file = UINT32_MAX;  // UINT32_MAX: no result line
    uint32_t line_no = 0;        // 1-based, for messages
    uint64_t offset = 0;
    uint64_t length : 63;
    // Checked when indexed: read_plain_result reads it without a parse.
    uint64_t plain : 1;
    Loc() : length(0), plain(0) {}
    Loc(uint32_t f, uint32_t l, uint64_t o, uint64_t n, bool p)
        : file(f), line_no(l), offset(o), length(n), plain(p) {}
  };
  struct File {
    int fd = -1;
    std::string name;
    uint64_t size = 0;            // as indexed
    mutable bool mapped = false;  // map() ran
    mutable const char *map = nullptr;
  };
  void map(const File &f) const;
  void prefetch_ahead(uint64_t i) const;

  const IdIndex *order_;
  bool mapping_ = true;
  std::vector<File> files_;
  std::vector<Loc> by_input_;
  std::vector<Loc> extras_;
  std::vector<std::string> extra_names_;  // custom_id of each extra ("" if unknown)
  IdIndex extra_ids_;                     // the named extras...
  std::vector<uint64_t> extra_slot_;      // ...and where each is in extras_
};

}  // namespace obatch
