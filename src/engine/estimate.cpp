#include "engine/estimate.hpp"

#include <map>

#include "core/request.hpp"
#include "engine/input_check.hpp"
#include "obatch/obatch.h"
#include "tokens/request_tokens.hpp"
#include "util/error.hpp"

namespace obatch {

Estimate estimate_file(const Config &conf, const std::string &path,
                       const std::string &prices_path) {
  // The checks (and the cut) of obatch run, and the counts, in one pass:
  // an estimate of a file that cannot be sent would mislead.
  Estimate est;
  std::map<std::string, size_t> at;  // model -> index in est.models
  InputCheck check(conf, 1);
  check.on_request([&](const Request &r) {
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
  });
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
  est.provider = summary.provider;
  est.endpoint = summary.endpoint;
  est.prices_origin = prices.origin();
  est.prices_date = prices.date();

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
