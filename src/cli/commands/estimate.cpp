// `obatch estimate`: what an input file will cost before anything is paid:
// per model, the exact prompt tokens, the output tokens at most, and the
// cost in batch mode and with direct requests (nothing is sent, no key).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands/commands.hpp"
#include "obatch/obatch.h"

namespace obatch::cli {

namespace {

struct EstimateOptions {
  std::string input, provider, prices;
  BatchSizeOptions sizes;
  bool json = false;
};

std::string with_commas(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

std::string usd(const obatch_estimate_row_t &r, double v) {
  if (!r.has_cost) return "unknown";
  char buf[64];
  std::snprintf(buf, sizeof buf, v < 1 ? "$%.4f" : "$%.2f", v);
  return buf;
}

std::string json_usd(const obatch_estimate_row_t &r, double v) {
  if (!r.has_cost) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", v);
  return buf;
}

int estimate(const EstimateOptions &o) {
  std::unique_ptr<StdinFile> stdin_copy;
  std::string path = o.input, name = o.input;
  if (o.input == "-") {
    stdin_copy = std::make_unique<StdinFile>();
    path = stdin_copy->path();
    name = "<stdin>";
  }
  Config conf;
  if (!o.provider.empty()) conf.set("provider", o.provider);
  conf.set_batch_size(o.sizes);
  obatch_estimate_t *raw = nullptr;
  char err[1024] = "";
  int rc = obatch_estimate_file(&raw, conf.get(), path.c_str(),
                                o.prices.empty() ? nullptr : o.prices.c_str(), err, sizeof err);
  std::unique_ptr<obatch_estimate_t, void (*)(obatch_estimate_t *)> e(raw, obatch_estimate_destroy);
  if (rc != OBATCH_OK) fail(rc, rename_in_message(err, path, name));
  std::vector<obatch_estimate_row_t> rows;
  for (obatch_estimate_row_t r = OBATCH_ESTIMATE_ROW_INIT;
       obatch_estimate_next(e.get(), &r) == OBATCH_OK;)
    rows.push_back(r);
  const obatch_estimate_row_t &total = rows.back();
  if (o.json) {
    for (const obatch_estimate_row_t &r : rows) {
      std::printf(
          "{\"model\":%s,\"total\":%s,\"encoding\":%s,\"requests\":%llu,\"prompt_tokens\":%llu,"
          "\"output_tokens_max\":%llu,\"output_assumed\":%llu,\"encoding_assumed\":%llu,"
          "\"images\":%llu,\"images_assumed\":%llu,\"approximate\":%llu,\"batches\":%llu,"
          "\"batch_cost_usd\":%s,\"direct_cost_usd\":%s,\"prices\":%s}\n",
          json_quote(r.model).c_str(), &r == &total ? "true" : "false",
          json_quote(r.encoding).c_str(), static_cast<unsigned long long>(r.requests),
          static_cast<unsigned long long>(r.prompt_tokens),
          static_cast<unsigned long long>(r.output_tokens),
          static_cast<unsigned long long>(r.output_assumed),
          static_cast<unsigned long long>(r.encoding_assumed),
          static_cast<unsigned long long>(r.images),
          static_cast<unsigned long long>(r.images_assumed),
          static_cast<unsigned long long>(r.approximate),
          static_cast<unsigned long long>(r.batches), json_usd(r, r.batch_cost_usd).c_str(),
          json_usd(r, r.direct_cost_usd).c_str(),
          json_quote(obatch_estimate_prices(e.get())).c_str());
    }
    return kExitCompleted;
  }
  std::printf("%-28s %9s %14s %16s %12s %12s %8s\n", "MODEL", "REQUESTS", "PROMPT TOKENS",
              "OUTPUT (AT MOST)", "BATCH", "DIRECT", "BATCHES");
  for (const obatch_estimate_row_t &r : rows) {
    const bool is_total = &r == &total;
    if (is_total && rows.size() == 2) break;  // one model: its row is the total
    std::string model = is_total ? "total" : r.model[0] ? r.model : "(no model)";
    std::string out = with_commas(r.output_tokens) + (r.output_assumed ? "*" : "");
    std::printf("%-28s %9s %14s %16s %12s %12s %8s\n", model.c_str(),
                with_commas(r.requests).c_str(), with_commas(r.prompt_tokens).c_str(), out.c_str(),
                usd(r, r.batch_cost_usd).c_str(), usd(r, r.direct_cost_usd).c_str(),
                r.batches ? std::to_string(r.batches).c_str() : "-");
  }
  if (total.has_cost && total.direct_cost_usd > 0)
    std::printf("batch mode saves %s of %s\n",
                usd(total, total.direct_cost_usd - total.batch_cost_usd).c_str(),
                usd(total, total.direct_cost_usd).c_str());
  if (total.output_assumed)
    std::printf(
        "* %s request(s) give no max_completion_tokens / max_tokens: %d output tokens "
        "assumed each\n",
        with_commas(total.output_assumed).c_str(), 1000);
  if (total.encoding_assumed)
    std::printf("%s request(s) name a model tiktoken does not know: counted with o200k_base\n",
                with_commas(total.encoding_assumed).c_str());
  if (total.images)
    std::printf("%s image(s)%s\n", with_commas(total.images).c_str(),
                total.images_assumed
                    ? (", " + with_commas(total.images_assumed) +
                       " of unknown size or \"auto\" detail counted as high detail")
                          .c_str()
                    : "");
  if (total.approximate)
    std::printf(
        "%s request(s) have tools or a response_format schema: counted by OpenAI's rule "
        "of thumb, not exactly\n",
        with_commas(total.approximate).c_str());
  if (!total.has_cost)
    std::printf("cost unknown for a model without a price: give one with --prices FILE\n");
  std::printf("prices: %s (USD per 1M tokens; check them: prices change)\n",
              obatch_estimate_prices(e.get()));
  return kExitCompleted;
}

}  // namespace

void add_estimate_command(CLI::App &app, Commands &out) {
  auto opts = std::make_shared<EstimateOptions>();
  EstimateOptions &o = *opts;
  CLI::App *cmd = app.add_subcommand(
      "estimate",
      "What an input file will cost: exact prompt tokens, output tokens at most, batch and "
      "direct cost per model; nothing is sent, no key needed");
  cmd->add_option("input", o.input, "Input JSONL file (- = stdin)")->required();
  cmd->add_option("-p,--provider", o.provider,
                  "openai or parasail: whose rules apply (default: chosen by model)");
  cmd->add_option("--prices", o.prices,
                  "A price table (TSV: model, input, cached_input, output, batch_input, "
                  "batch_output in USD per 1M tokens) instead of the built-in one")
      ->type_name("FILE");
  add_batch_size_options(cmd, o.sizes, false);
  cmd->add_flag("--json", o.json, "One JSON object per model, then one for the total");
  out.push_back({cmd, [opts] { return estimate(*opts); }});
}

}  // namespace obatch::cli
