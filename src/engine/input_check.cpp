#include "engine/input_check.hpp"

#include <cerrno>
#include <fstream>

#include "core/request.hpp"
#include "engine/mode_choice.hpp"
#include "obatch/obatch.h"
#include "util/abort_token.hpp"
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
    set_rules(provider_->rules(conf_));
  }
}

// The limits stay here; the BatchInput checks the rest. Split rules cut
// the input into parts instead: then the BatchInput keeps them (a request
// no part can take is a problem of its line).
void InputCheck::set_rules(InputRules rules) {
  provider_name_ = rules.provider;
  if (rules.split) return input_.set_rules(std::move(rules));
  requests_.max = rules.max_requests;
  bytes_.max = rules.max_bytes;
  embedding_inputs_.max = rules.max_embedding_inputs;
  rules.max_requests = rules.max_bytes = rules.max_embedding_inputs = 0;
  input_.set_rules(std::move(rules));
}

bool InputCheck::crosses(Limit &limit, uint64_t total) {
  limit.total = total;
  if (!limit.max || limit.crossed || total <= limit.max) return false;
  limit.crossed = true;
  return true;
}

void InputCheck::add_limit_problem(Limit &limit, uint64_t line, const std::string &message) {
  if (kept_.size() < max_kept_) limit.kept = kept_.size();
  add_problem(line, OBATCH_ELIMIT, message);
}

void InputCheck::complete_limits() {
  auto complete = [&](const Limit &limit, const std::string &tail) {
    if (limit.kept != SIZE_MAX) kept_[limit.kept].message += tail;
  };
  complete(requests_, " (the file has " + std::to_string(requests_.total) + " requests)");
  complete(embedding_inputs_,
           " (the file has " + std::to_string(embedding_inputs_.total) + " inputs to embed)");
  complete(bytes_, "; the whole file would be " + bytes_text(bytes_.total));
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
    set_rules(provider_->rules(conf_));
  }
  const uint64_t inputs = r.url == "/v1/embeddings" ? r.embedding_inputs : 0;
  input_.append(r, where, lineno);  // a line's custom_id is never empty: r is unchanged
  if (on_request_) on_request_(r);

  // A good line: it counts toward the limits, in the order append checks
  // them, with append's messages (validate and run say the same).
  const std::string &p = provider_name_;
  const uint64_t n = input_.count(), bytes = input_.bytes();
  if (crosses(requests_, n))
    add_limit_problem(requests_, lineno, requests_limit_message(where, n, p, requests_.max));
  if (crosses(embedding_inputs_, embedding_inputs_.total + inputs))
    add_limit_problem(embedding_inputs_, lineno,
                      embedding_inputs_limit_message(where, embedding_inputs_.total, p,
                                                     embedding_inputs_.max));
  if (crosses(bytes_, bytes))
    add_limit_problem(bytes_, lineno, bytes_limit_message(where, bytes, p, bytes_.max));
}

void InputCheck::run(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(OBATCH_EIO, "cannot open " + path + ": " + errno_text(errno));
  std::string line;
  uint64_t lineno = 0;
  bool end = false;
  // The config's abort token (obatch_abort_t) ends a long check: looked at
  // every 64 lines (an atomic load), well under a millisecond of work even
  // in a sanitizer build.
  const AbortToken *abort = conf_.abort().get();
  throw_if_aborted(conf_.abort(), "check " + path);
  while (!end && std::getline(in, line)) {
    lineno++;
    if ((lineno & 63) == 0 && abort && abort->triggered())
      throw_if_aborted(conf_.abort(), "check " + path);
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
  complete_limits();

  summary_ = JobSnapshot();
  summary_.phase = OBATCH_PHASE_BUILDING;
  summary_.provider = provider_ ? provider_->name() : "";
  summary_.endpoint = input_.endpoint();
  summary_.model = input_.models();
  summary_.completion_window = conf_.get("completion_window", "24h");
  summary_.requests_added = input_.count();
  summary_.bytes_total = input_.bytes();
  summary_.parts_total = input_.parts().size();  // every request has its part
  summary_.tokens_estimated = input_.estimated_tokens();
  const ModeChoice choice = choose_mode(conf_, input_.count());
  summary_.mode = choice.direct ? "direct" : "batch";
  summary_.mode_reason = choice.reason;
  for (const PartInfo &p : input_.parts()) {
    summary_.part_states.emplace_back();
    summary_.part_states.back().info = p;
  }
}

}  // namespace obatch
