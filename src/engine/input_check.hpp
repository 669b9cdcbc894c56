// Checking a JSONL input file without sending it: every line goes through
// the same checks obatch_add_file runs (BatchInput::append and its rules),
// but a bad line is recorded and the check goes on, so one pass finds every
// problem. Nothing is written to disk.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/batch_input.hpp"
#include "core/config.hpp"
#include "engine/snapshot.hpp"
#include "providers/provider.hpp"

namespace obatch {

struct InputProblem {
  uint64_t line = 0;  // 1-based; 0: the file as a whole
  int code = 0;       // obatch_code
  std::string message;
};

class InputCheck {
 public:
  // Keeps the first `max_kept` problems (0: kDefaultMaxKept); counts them
  // all. Throws Error(EPROVIDER) for an unknown `provider` setting.
  InputCheck(const Config &conf, size_t max_kept);
  static constexpr size_t kDefaultMaxKept = 1000;

  // Checks the file; throws Error(EIO) only when it cannot be read.
  void run(const std::string &path);

  uint64_t problem_count() const { return count_; }
  const std::vector<InputProblem> &problems() const { return kept_; }
  // What submitting the good lines would send (phase BUILDING).
  const JobSnapshot &summary() const { return summary_; }

 private:
  void check_line(const std::string &line, uint64_t lineno, bool last, const std::string &where,
                  bool *end);
  void add_problem(uint64_t line, int code, const std::string &message);

  Config conf_;
  size_t max_kept_;
  std::shared_ptr<const Provider> provider_;
  BatchInput input_;
  uint64_t count_ = 0;
  std::vector<InputProblem> kept_;
  JobSnapshot summary_;
};

}  // namespace obatch
