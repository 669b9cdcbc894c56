// The downloaded output and error files, indexed by custom_id, read back in
// input order. Files are memory-mapped; only an offset per result is kept.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/id_index.hpp"
#include "core/result_line.hpp"

namespace obatch {

class ResultsIndex {
 public:
  // `order`: the input's custom_ids (kept by reference; may be empty when
  // the input is unknown: then results come in file order).
  explicit ResultsIndex(const IdIndex *order);
  ~ResultsIndex();
  ResultsIndex(const ResultsIndex &) = delete;
  ResultsIndex &operator=(const ResultsIndex &) = delete;

  // Maps and indexes a result file, checking that every line is a complete
  // result line. Throws Error(EPROTOCOL) naming the line when one is not
  // (a truncated or corrupt download), Error(EIO) when it cannot be read.
  // On failure nothing of the file is kept.
  void add_file(const std::string &path, const std::string &display_name);

  // Results: every input position first (missing ones included), then lines
  // whose custom_id is not in the input.
  uint64_t size() const;
  // The i-th result; `line` set to the raw line (empty when missing).
  void get(uint64_t i, ResultLine *out, uint64_t *input_index, std::string_view *line) const;
  // The position of `custom_id` for get(), or IdIndex::npos.
  uint64_t find(std::string_view custom_id) const;

  uint64_t missing() const;

 private:
  struct Loc {
    uint32_t file = UINT32_MAX;  // UINT32_MAX: no result line
    uint64_t offset = 0, length = 0;
  };
  struct Mapped;
  std::string_view text(const Loc &loc) const;

  const IdIndex *order_;
  std::vector<std::unique_ptr<Mapped>> files_;
  std::vector<Loc> by_input_;
  std::vector<Loc> extras_;
  IdIndex extra_ids_;
};

}  // namespace obatch
