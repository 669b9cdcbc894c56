// The prompt tokens of one batch request, as OpenAI counts them for billing
// and for the enqueued-token limit: the body's text with the encoding of its
// model, plus the documented overheads (chat messages: 3 a message, 1 a
// name, 3 to prime the reply; tool definitions by the counting guide's
// rule; images by the tile rule), and an upper bound of its output tokens.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace obatch {

// Output tokens assumed for a request that gives no max_*_tokens.
constexpr uint64_t kDefaultOutputTokens = 1000;
// An image whose size obatch cannot read (a URL, not data:): the most a
// high-detail image can cost (8 tiles of 512 px after the scaling).
constexpr uint64_t kImageTokensUpperBound = 85 + 170 * 8;

struct RequestTokens {
  std::string model, encoding;
  bool encoding_assumed = false;  // tiktoken does not know the model: o200k_base
  uint64_t prompt = 0;
  uint64_t output = 0;          // an upper bound: max tokens x n
  bool output_assumed = false;  // no max given: kDefaultOutputTokens (x n)
  uint64_t images = 0;
  bool images_assumed = false;  // an image of unknown size or "auto" detail counted high
  bool approximate = false;     // tools or a response_format schema: the guide's rule of thumb
};

// Counts `body` (the request's JSON) sent to `url`. Throws Error(EJSON) for
// a body that is not a JSON object.
RequestTokens count_request_tokens(const std::string &url, std::string_view body);

// The tokens of an image in a chat request: `detail` "low", "high" or
// "auto" (counted as high); width and height 0 when unknown.
uint64_t image_tokens(const std::string &detail, uint64_t width, uint64_t height);

// The pixel size of a PNG, GIF or JPEG image given as its bytes; false when
// it is none of those or its header is cut.
bool image_size(std::string_view bytes, uint64_t *width, uint64_t *height);

}  // namespace obatch
