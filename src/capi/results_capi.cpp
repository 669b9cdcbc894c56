#include "capi/guard.hpp"
#include "capi/handles.hpp"

using obatch::guarded;

namespace {

void fill_result(obatch_t *b, uint64_t pos, obatch_result_t *out) {
  obatch::ResultsIndex &idx = b->batch->results();
  uint64_t input_index = 0;
  idx.get(pos, &b->result, &input_index, &b->result_line);
  const obatch::ResultLine &r = b->result;
  out->kind = r.kind;
  out->index = input_index;
  out->custom_id = r.custom_id.c_str();
  out->status_code = r.status_code;
  out->body = r.has_body ? r.body.c_str() : nullptr;
  out->body_len = r.has_body ? r.body.size() : 0;
  out->request_id = r.has_request_id ? r.request_id.c_str() : nullptr;
  out->error_code = r.has_error && !r.error_code.empty() ? r.error_code.c_str() : nullptr;
  out->error_message = r.has_error && !r.error_message.empty() ? r.error_message.c_str() : nullptr;
  out->line = b->result_line.empty() ? nullptr : b->result_line.c_str();
  out->line_len = b->result_line.size();
}

}  // namespace

extern "C" {

int obatch_fetch(obatch_t *b, obatch_result_t *result) {
  if (!b) return OBATCH_EINVAL;
  if (!result || result->version < 1) {
    b->last_error = "obatch_fetch: result is NULL or not initialised with OBATCH_RESULT_INIT";
    return OBATCH_EINVAL;
  }
  int outcome = OBATCH_OK;
  int rc = guarded(&b->last_error, [&] {
    obatch::ResultsIndex &idx = b->batch->results();
    if (b->batch->cursor >= idx.size()) {
      outcome = OBATCH_END;
      return;
    }
    fill_result(b, b->batch->cursor++, result);
  });
  return rc != OBATCH_OK ? rc : outcome;
}

int obatch_rewind(obatch_t *b) {
  if (!b) return OBATCH_EINVAL;
  return guarded(&b->last_error, [&] {
    b->batch->results();
    b->batch->cursor = 0;
  });
}

int obatch_lookup(obatch_t *b, const char *custom_id, obatch_result_t *result) {
  if (!b) return OBATCH_EINVAL;
  if (!custom_id || !result || result->version < 1) {
    b->last_error = "obatch_lookup: NULL custom_id or result";
    return OBATCH_EINVAL;
  }
  return guarded(&b->last_error, [&] {
    obatch::ResultsIndex &idx = b->batch->results();
    uint64_t pos = idx.find(custom_id);
    if (pos == obatch::IdIndex::npos)
      throw obatch::Error(OBATCH_ENOTFOUND, std::string("no request has custom_id \"") +
                                                custom_id + "\"");
    fill_result(b, pos, result);
  });
}

}  // extern "C"
