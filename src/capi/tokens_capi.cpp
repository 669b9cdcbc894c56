// obatch_count_tokens, obatch_count_text_tokens, obatch_estimate_*: tokens
// and cost before anything is sent.
#include <memory>
#include <vector>

#include "capi/guard.hpp"
#include "capi/handles.hpp"
#include "engine/estimate.hpp"
#include "tokens/encoding.hpp"
#include "tokens/request_tokens.hpp"

using obatch::guarded;

struct obatch_estimate {
  obatch::Estimate est;
  std::string prices;
  size_t next = 0;
};

extern "C" {

int obatch_count_tokens(const char *url, const char *body_json, obatch_tokens_t *out, char *errstr,
                        size_t errstr_size) {
  if (!url || !body_json || !out || out->version < 1) {
    obatch::copy_errstr(errstr, errstr_size, "obatch_count_tokens: NULL argument");
    return OBATCH_EINVAL;
  }
  std::string msg;
  int rc = guarded(&msg, [&] {
    obatch::RequestTokens t = obatch::count_request_tokens(url, body_json);
    out->encoding = t.encoding == "cl100k_base" ? "cl100k_base" : "o200k_base";
    out->encoding_assumed = t.encoding_assumed;
    out->prompt_tokens = t.prompt;
    out->output_tokens = t.output;
    out->output_assumed = t.output_assumed;
    out->images = t.images;
    out->images_assumed = t.images_assumed;
    out->approximate = t.approximate;
  });
  if (rc != OBATCH_OK) obatch::copy_errstr(errstr, errstr_size, msg);
  return rc;
}

int obatch_count_text_tokens(const char *encoding, const char *text, size_t len, uint64_t *count) {
  if (!encoding || (!text && len) || !count) return OBATCH_EINVAL;
  std::string msg;
  return guarded(&msg, [&] {
    *count = obatch::Encoding::get(encoding).count(std::string_view(text ? text : "", len));
  });
}

int obatch_estimate_file(obatch_estimate_t **out, const obatch_config_t *conf, const char *path,
                         const char *prices_path, char *errstr, size_t errstr_size) {
  if (!out || !path) {
    obatch::copy_errstr(errstr, errstr_size, "obatch_estimate_file: NULL argument");
    if (out) *out = nullptr;
    return OBATCH_EINVAL;
  }
  *out = nullptr;
  std::string msg;
  int rc = guarded(&msg, [&] {
    auto e = std::make_unique<obatch_estimate>();
    e->est = obatch::estimate_file(conf ? conf->conf : obatch::Config(), path,
                                   prices_path ? prices_path : "");
    e->prices =
        e->est.prices_origin + (e->est.prices_date.empty() ? "" : ", " + e->est.prices_date);
    *out = e.release();
  });
  if (rc != OBATCH_OK) obatch::copy_errstr(errstr, errstr_size, msg);
  return rc;
}

int obatch_estimate_next(obatch_estimate_t *e, obatch_estimate_row_t *row) {
  if (!e || !row || row->version < 1) return OBATCH_EINVAL;
  if (e->next > e->est.models.size()) return OBATCH_END;
  const size_t i = e->next++;
  const obatch::ModelEstimate &m = i < e->est.models.size() ? e->est.models[i] : e->est.total;
  row->model = m.model.c_str();
  row->encoding = m.encoding.c_str();
  row->requests = m.requests;
  row->prompt_tokens = m.prompt_tokens;
  row->output_tokens = m.output_tokens;
  row->encoding_assumed = m.encoding_assumed;
  row->output_assumed = m.output_assumed;
  row->images = m.images;
  row->images_assumed = m.images_assumed;
  row->approximate = m.approximate;
  row->batches = m.batches;
  row->has_cost = m.priced;
  row->batch_cost_usd = m.priced ? m.batch_cost : 0;
  row->direct_cost_usd = m.priced ? m.direct_cost : 0;
  return OBATCH_OK;
}

const char *obatch_estimate_prices(const obatch_estimate_t *e) {
  return e ? e->prices.c_str() : "";
}

void obatch_estimate_destroy(obatch_estimate_t *e) { delete e; }

}  // extern "C"
