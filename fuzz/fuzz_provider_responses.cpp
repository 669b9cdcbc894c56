// libFuzzer target: the provider response parsers. The first input byte
// chooses the operation (low 3 bits: OBATCH_OP_UPLOAD ... LIST_FILES, the
// download op included, which has no JSON answer) and the HTTP status (high
// 5 bits, from kStatuses); the rest is the answer's body. What the engine
// does with an answer:
//   2xx: Provider::parse (the built-in openai table: openai_parse), then for
//        a batch object or a list of them apply_batch_fields (obatch_info_t);
//   else: ApiClient::failure, which reads an OpenAI error body
//        {"error":{"message","code"}} into the error message.
// The same 2xx body goes through the exported obatch_openai_parse_response
// path too (provider plugins call it), via openai_parse directly.
//
// obatch::Error is an expected answer. A finding is anything else: a crash,
// an ASan/UBSan report, another exception type (std::terminate), or a
// broken promise (FUZZ_CHECK): a parse error is EPROTOCOL (or EINVAL for
// the download op), an accepted answer has the fields the op promises, and
// a failure's message never shows the API key.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/api_client.hpp"
#include "engine/snapshot.hpp"
#include "fuzz_support.hpp"
#include "obatch/obatch.h"
#include "obatch/sys/provider.h"
#include "providers/openai_adapter.hpp"
#include "providers/provider.hpp"
#include "util/error.hpp"

using obatch::Error;
using obatch::Remote;

namespace {

constexpr long kStatuses[32] = {200, 200, 200, 200, 200, 200, 200, 200, 201, 202, 204,
                                400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502,
                                503, 504, 200, 200, 200, 200, 301, 418, 599, 200};

bool is_batch_op(int op) {
  return op == OBATCH_OP_CREATE || op == OBATCH_OP_RETRIEVE || op == OBATCH_OP_CANCEL;
}

void parse_ok(int op, long status, std::string_view body) {
  static const auto provider = obatch::find_provider("openai");
  Remote remote;
  try {
    provider->parse(op, static_cast<int>(status), body, &remote);
  } catch (const Error &e) {
    // The download op has no JSON answer to read: EINVAL, or EPROTOCOL
    // when the body is not an object to begin with.
    bool expected = e.code() == OBATCH_EPROTOCOL ||
                    (op == OBATCH_OP_DOWNLOAD && e.code() == OBATCH_EINVAL);
    FUZZ_CHECK(expected, std::string("parse error code ") + std::to_string(e.code()) + ": " +
                             e.what());
    return;
  }
  FUZZ_CHECK(op != OBATCH_OP_DOWNLOAD, "the download op parsed an answer");
  switch (op) {
    case OBATCH_OP_UPLOAD:
    case OBATCH_OP_FILE_INFO:
      FUZZ_CHECK(!remote.get("file_id").empty(), "a file answer without file_id was accepted");
      break;
    case OBATCH_OP_CREATE:
    case OBATCH_OP_RETRIEVE:
    case OBATCH_OP_CANCEL:
      FUZZ_CHECK(!remote.get("batch_id").empty() && !remote.get("status").empty(),
                 "a batch answer without batch_id or status was accepted");
      break;
    default:
      // A list: the page's last_id names an entry when there is no last_id
      // in the answer (it may then be "", for an entry without an id).
      break;
  }
  // What obatch_info_t and obatch_list_next report.
  obatch::JobSnapshot snap;
  if (is_batch_op(op)) obatch::apply_batch_fields(remote.page, &snap);
  for (auto &item : remote.items) {
    obatch::JobSnapshot listed;
    obatch::apply_batch_fields(item, &listed);
  }

  // The exported default parser gives the same answer.
  Remote direct;
  obatch::openai_parse(op, body, &direct);
  FUZZ_CHECK(direct.page == remote.page && direct.items == remote.items,
             "openai_parse and Provider::parse disagree");
}

void parse_failure(int op, long status, std::string_view body) {
  static const auto provider = obatch::find_provider("openai");
  // The client only reads settings and the base URL's host here; no
  // transport is used.
  static obatch::ApiClient client(provider, "https://api.openai.com/v1", "sk-fuzz-key",
                                  obatch::ClientSettings(), nullptr);
  obatch::HttpResponse resp;
  resp.status = status;
  resp.body.assign(body.data(), body.size());
  Error e = client.failure(op, resp, 1 + static_cast<int>(body.size() % 3));
  FUZZ_CHECK(e.code() != OBATCH_OK, "a failure with code 0");
  FUZZ_CHECK(std::string(e.what()).find("sk-fuzz-key") == std::string::npos,
             std::string("the API key is in the message: ") + e.what());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  const int op = data[0] & 7;
  const long status = kStatuses[data[0] >> 3];
  const std::string_view body(reinterpret_cast<const char *>(data) + 1, size - 1);
  if (status >= 200 && status < 300) parse_ok(op, status, body);
  else parse_failure(op, status, body);
  return 0;
}
