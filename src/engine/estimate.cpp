#include "engine/estimate.hpp"

#include <cerrno>
#include <fstream>
#include <map>

#include "core/batch_input.hpp"
#include "core/request.hpp"
#include "engine/input_check.hpp"
#include "obatch/obatch.h"
#include "tokens/request_tokens.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

namespace obatch {

Estimate estimate_file(const Config &conf, const std::string &path,
                       const std::string &prices_path) {
  // The checks (and the cut) of obatch run first: an estimate of a file
  // that cannot be sent would mislead.
  InputCheck check(conf, 1);
  check.run(path);
  if (check.problem_count())
    throw Error(
        check.problems()[0].code,
        check.problems()[0].message + (check.problem_count() > 1
                                           ? " (and " + std::to_string(check.problem_count() - 1) +
                                                 " more problems; obatch validate lists them)"
                                           : ""));
  const JobSnapshot &summary = check.summary();
  const PriceTable prices =
      prices_path.empty() ? PriceTable::builtin() : PriceTable::from_file(prices_path);

  Estimate est;
  est.provider = summary.provider;
  est.endpoint = summary.endpoint;
  est.prices_origin = prices.origin();
  est.prices_date = prices.date();
  std::map<std::string, size_t> at;  // model -> index in est.models
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(OBATCH_EIO, "cannot open " + path + ": " + errno_text(errno));
  std::string line;
  for (uint64_t lineno = 1; std::getline(in, line); lineno++) {
    const std::string where = path + " line " + std::to_string(lineno);
    if (!check_jsonl_framing(line, lineno, in.peek() == EOF, where)) break;
    const Request r = parse_request_line(line, where);
    const RequestTokens t = count_request_tokens(r.url, r.body);
    auto [it, fresh] = at.emplace(r.model, est.models.size());
    if (fresh) {
      est.models.emplace_back();
      est.models.back().model = r.model;
      est.models.back().encoding = t.encoding;
    }
    ModelEstimate &m = est.models[it->second];
    m.requests++;
    m.prompt_tokens += t.prompt;
    m.output_tokens += t.output;
    m.encoding_assumed += t.encoding_assumed;
    m.output_assumed += t.output_assumed;
    m.images += t.images;
    m.images_assumed += t.images_assumed ? t.images : 0;
    m.approximate += t.approximate;
  }
  if (in.bad()) throw Error(OBATCH_EIO, "cannot read " + path + ": " + errno_text(errno));

  // Batches: the cut's parts, by model (a provider that mixes models cuts
  // by size alone: then the parts are the total's).
  for (const JobSnapshot::Part &p : summary.part_states) {
    auto it = at.find(p.info.model);
    if (!p.info.model.empty() && it != at.end()) est.models[it->second].batches++;
  }
  ModelEstimate &total = est.total;
  total.priced = true;
  for (ModelEstimate &m : est.models) {
    std::optional<Price> price = prices.find(m.model);
    if (price) {
      m.priced = true;
      m.batch_cost =
          (m.prompt_tokens * price->batch_input + m.output_tokens * price->batch_output) / 1e6;
      m.direct_cost = (m.prompt_tokens * price->input + m.output_tokens * price->output) / 1e6;
    }
    total.priced = total.priced && m.priced;
    total.batch_cost += m.batch_cost;
    total.direct_cost += m.direct_cost;
    total.requests += m.requests;
    total.prompt_tokens += m.prompt_tokens;
    total.output_tokens += m.output_tokens;
    total.encoding_assumed += m.encoding_assumed;
    total.output_assumed += m.output_assumed;
    total.images += m.images;
    total.images_assumed += m.images_assumed;
    total.approximate += m.approximate;
  }
  total.batches = summary.parts_total;
  return est;
}

}  // namespace obatch
