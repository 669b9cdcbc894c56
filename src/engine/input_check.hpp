// Checking a JSONL input file without sending it: every line goes through
// the same checks obatch_add_file runs (BatchInput::append and its rules),
// but a bad line is recorded and the check goes on, so one pass finds every
// problem. Nothing is written to disk.
//
// The provider's limits (requests, bytes, embedding inputs per batch) are
// the exception: they are about the file, not a line. Each is one problem,
// at the first line past it, whose message ends with the whole file's
// total; the lines after it still get every other check.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
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

  // Called with every request the check accepts (for what one pass over
  // the file can gather besides: obatch estimate's token counts).
  void on_request(std::function<void(const Request &)> f) { on_request_ = std::move(f); }

  uint64_t problem_count() const { return count_; }
  const std::vector<InputProblem> &problems() const { return kept_; }
  // What submitting the good lines would send (phase BUILDING); the lines
  // past a limit count (so the totals are the file's).
  const JobSnapshot &summary() const { return summary_; }

 private:
  // One of the provider's limits, checked here over the good lines rather
  // than by the BatchInput (which gets the rules without it).
  struct Limit {
    uint64_t max = 0;    // 0: none
    uint64_t total = 0;  // over the good lines so far
    bool crossed = false;
    size_t kept = SIZE_MAX;  // its problem's index in kept_; SIZE_MAX: not kept
  };

  void check_line(const std::string &line, uint64_t lineno, bool last, const std::string &where,
                  bool *end);
  void set_rules(InputRules rules);
  // Sets the limit's running total; true if that crosses it (the first
  // time only).
  static bool crosses(Limit &limit, uint64_t total);
  void add_limit_problem(Limit &limit, uint64_t line, const std::string &message);
  // Ends each kept limit problem with the file's total.
  void complete_limits();
  void add_problem(uint64_t line, int code, const std::string &message);

  Config conf_;
  size_t max_kept_;
  std::shared_ptr<const Provider> provider_;
  BatchInput input_;
  std::string provider_name_;  // for the limit messages
  Limit requests_, bytes_, embedding_inputs_;
  uint64_t count_ = 0;
  std::vector<InputProblem> kept_;
  JobSnapshot summary_;
  std::function<void(const Request &)> on_request_;
};

}  // namespace obatch
