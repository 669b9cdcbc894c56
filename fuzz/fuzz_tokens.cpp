// libFuzzer target: the tokenizer and the request token counter. The input
// is taken as text for both encodings and, as it is, as a request body for
// each endpoint. obatch::Error is an expected answer (a body that is not a
// JSON object). A finding is anything else: a crash, an ASan/UBSan report,
// another exception type, or one of these promises failing (FUZZ_CHECK):
//   - decode(encode(text)) gives the text back (after invalid UTF-8 became
//     U+FFFD), with and without special tokens;
//   - count() is the number of ids encode_ordinary gives;
//   - a request is counted with one of the two encodings.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "tokens/encoding.hpp"
#include "tokens/request_tokens.hpp"
#include "util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string_view input(reinterpret_cast<const char *>(data), size);
  const std::string text = obatch::valid_utf8(input);
  for (const char *name : {"o200k_base", "cl100k_base"}) {
    const obatch::Encoding &enc = obatch::Encoding::get(name);
    std::vector<uint32_t> ordinary, special;
    enc.encode_ordinary(input, &ordinary);
    enc.encode(input, &special);
    FUZZ_CHECK(enc.decode(ordinary) == text, "decode(encode_ordinary) is not the text");
    FUZZ_CHECK(enc.decode(special) == text, "decode(encode) is not the text");
    FUZZ_CHECK(enc.count(input) == ordinary.size(), "count differs from encode_ordinary");
  }
  for (const char *url :
       {"/v1/chat/completions", "/v1/embeddings", "/v1/responses", "/v1/completions"}) {
    try {
      const obatch::RequestTokens t = obatch::count_request_tokens(url, input);
      FUZZ_CHECK(t.encoding == "o200k_base" || t.encoding == "cl100k_base", "an unknown encoding");
    } catch (const obatch::Error &) {
    }
  }
  return 0;
}
