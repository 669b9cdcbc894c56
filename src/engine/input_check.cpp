#include "engine/input_check.hpp"

#include <cerrno>
#include <fstream>

#include "core/request.hpp"
#include "obatch/obatch.h"
#include "util/error.hpp"
#include "util/files.hpp"

namespace obatch {

InputCheck::InputCheck(const Config &conf, size_t max_kept)
    : conf_(conf),
      max_kept_(max_kept ? max_kept : kDefaultMaxKept),
      input_("", conf.get("custom_id_prefix", "request")) {
  // A named provider is known before the first line (an unknown name is an
  // error of the call, not of a line).
  if (!conf_.get("provider").empty()) {
    provider_ = provider_for_batch(conf_, "");
    input_.set_rules(provider_->rules(conf_));
  }
}

void InputCheck::add_problem(uint64_t line, int code, const std::string &message) {
  count_++;
  if (kept_.size() < max_kept_) kept_.push_back({line, code, message});
}

// One line as Batch::add_file takes it: framing, the request itself, the
// provider (from the first good line's model), then the batch rules.
// BatchInput::append leaves no trace of a line it rejects.
void InputCheck::check_line(const std::string &line, uint64_t lineno, bool last,
                            const std::string &where, bool *end) {
  if (!check_jsonl_framing(line, lineno, last, where)) {
    *end = true;
    return;
  }
  Request r = parse_request_line(line, where);
  if (!provider_) {
    try {
      provider_ = provider_for_batch(conf_, r.model);
    } catch (const Error &e) {
      // The model of this line chose no provider: say which line.
      throw Error(e.code(), where + ": " + e.what());
    }
    input_.set_rules(provider_->rules(conf_));
  }
  input_.append(std::move(r), where, lineno);
}

void InputCheck::run(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(OBATCH_EIO, "cannot open " + path + ": " + errno_text(errno));
  std::string line;
  uint64_t lineno = 0;
  bool end = false;
  while (!end && std::getline(in, line)) {
    lineno++;
    std::string where = path + " line " + std::to_string(lineno);
    try {
      check_line(line, lineno, in.peek() == EOF, where, &end);
    } catch (const Error &e) {
      add_problem(lineno, e.code(), e.what());
    }
  }
  if (in.bad()) throw Error(OBATCH_EIO, "cannot read " + path + ": " + errno_text(errno));
  if (input_.count() == 0 && count_ == 0)
    add_problem(0, OBATCH_EREQUEST, path + ": the file has no requests");

  summary_ = JobSnapshot();
  summary_.phase = OBATCH_PHASE_BUILDING;
  summary_.provider = provider_ ? provider_->name() : "";
  summary_.endpoint = input_.endpoint();
  summary_.model = input_.models();
  summary_.completion_window = conf_.get("completion_window", "24h");
  summary_.requests_added = input_.count();
  summary_.bytes_total = input_.bytes();
}

}  // namespace obatch
