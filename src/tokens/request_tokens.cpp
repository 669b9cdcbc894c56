#include "tokens/request_tokens.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cmath>

#include "obatch/obatch.h"
#include "tokens/encoding.hpp"
#include "util/error.hpp"

namespace obatch {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// The counting guide's overheads (gpt-3.5-turbo-0613 and later, gpt-4,
// gpt-4o): every message costs 3 tokens, a name 1 more, and every reply is
// primed with 3.
constexpr uint64_t kPerMessage = 3, kPerName = 1, kReplyPriming = 3;

uint64_t u64_of(element e) {
  uint64_t u = 0;
  int64_t i = 0;
  if (e.get_uint64().get(u) == simdjson::SUCCESS) return u;
  if (e.get_int64().get(i) == simdjson::SUCCESS && i > 0) return static_cast<uint64_t>(i);
  return 0;
}

std::string_view text_of(element e) {
  std::string_view s;
  return e.get_string().get(s) == simdjson::SUCCESS ? s : std::string_view();
}

// The text of a field, "" when it is missing or not a string.
std::string_view field(object o, const char *key) {
  element e;
  return o[key].get(e) == simdjson::SUCCESS ? text_of(e) : std::string_view();
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

// The first `max` decoded bytes of base64 text (an image's header is near
// its start; a JPEG's size can be some kilobytes in).
std::string base64_prefix(std::string_view b64, size_t max) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : b64) {
    const int v = base64_value(c);
    if (v < 0) {
      if (c == '=') break;
      continue;
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
      if (out.size() >= max) break;
    }
  }
  return out;
}

class Counter {
 public:
  Counter(const Encoding &enc, RequestTokens *out) : enc_(enc), out_(out) {}

  uint64_t text(std::string_view s) { return enc_.count(s); }

  // A string, an array of strings, a token array or an array of token
  // arrays (embeddings and completions inputs).
  uint64_t input(element e) {
    if (e.is_string()) return text(text_of(e));
    if (!e.is_array()) return 0;
    uint64_t n = 0;
    for (element item : array(e)) {
      if (item.is_string())
        n += text(text_of(item));
      else if (item.is_number())
        n += 1;
      else if (item.is_array())
        n += array(item).size();
    }
    return n;
  }

  uint64_t image(object part) {
    element url_el;
    std::string detail = "auto", url;
    if (part["image_url"].get(url_el) == simdjson::SUCCESS) {
      if (url_el.is_string()) {
        url = std::string(text_of(url_el));
      } else if (url_el.is_object()) {
        url = std::string(field(object(url_el), "url"));
        element d;
        if (object(url_el)["detail"].get(d) == simdjson::SUCCESS && d.is_string())
          detail = std::string(text_of(d));
      }
    }
    uint64_t w = 0, h = 0;
    const size_t comma = url.find(',');
    if (url.rfind("data:", 0) == 0 && comma != std::string::npos)
      image_size(base64_prefix(std::string_view(url).substr(comma + 1), 64 * 1024), &w, &h);
    out_->images++;
    if (detail != "low" && (detail == "auto" || !w || !h)) out_->images_assumed = true;
    return image_tokens(detail, w, h);
  }

  // A message's content: a string, or parts (text, images; other parts by
  // their text).
  uint64_t content(element c) {
    if (c.is_string()) return text(text_of(c));
    if (!c.is_array()) return 0;
    uint64_t n = 0;
    for (element part : array(c)) {
      if (!part.is_object()) continue;
      object p = part;
      const std::string_view type = field(p, "type");
      if (type == "image_url" || type == "input_image") {
        n += image(p);
        continue;
      }
      element t;
      if (p["text"].get(t) == simdjson::SUCCESS) n += text(text_of(t));
    }
    return n;
  }

  uint64_t messages(element list) {
    if (!list.is_array()) return 0;
    uint64_t n = 0;
    for (element m : array(list)) {
      if (!m.is_object()) continue;
      n += kPerMessage;
      for (auto kv : object(m)) {
        if (kv.key == "content") {
          n += content(kv.value);
        } else if (kv.key == "tool_calls" || kv.key == "function_call") {
          // Not in the guide: the calls' JSON as text.
          out_->approximate = true;
          n += text(simdjson::minify(kv.value));
        } else if (kv.value.is_string()) {
          n += text(text_of(kv.value));
          if (kv.key == "name") n += kPerName;
        }
      }
    }
    return n + kReplyPriming;
  }

  // The counting guide's rule for function definitions (gpt-4o's figures;
  // the guide gives 10 instead of 7 per function for gpt-4 and
  // gpt-3.5-turbo).
  uint64_t tools(element list, bool cl100k) {
    if (!list.is_array() || array(list).size() == 0) return 0;
    out_->approximate = true;
    const int64_t func_init = cl100k ? 10 : 7, prop_init = 3, prop_key = 3, enum_init = -3,
                  enum_item = 3, func_end = 12;
    int64_t n = 0;
    for (element t : array(list)) {
      if (!t.is_object()) continue;
      element f;
      if (object(t)["function"].get(f) != simdjson::SUCCESS || !f.is_object()) f = t;
      object fn = f;
      n += func_init;
      std::string desc(field(fn, "description"));
      if (!desc.empty() && desc.back() == '.') desc.pop_back();
      n += static_cast<int64_t>(text(std::string(field(fn, "name")) + ":" + desc));
      element props;
      if (fn.at_pointer("/parameters/properties").get(props) != simdjson::SUCCESS ||
          !props.is_object() || object(props).size() == 0)
        continue;
      n += prop_init;
      for (auto kv : object(props)) {
        n += prop_key;
        std::string type, pdesc;
        element e;
        if (kv.value.is_object()) {
          object p = kv.value;
          type = std::string(field(p, "type"));
          pdesc = std::string(field(p, "description"));
          if (p["enum"].get(e) == simdjson::SUCCESS && e.is_array()) {
            n += enum_init;
            for (element item : array(e)) {
              n += enum_item;
              n += static_cast<int64_t>(item.is_string() ? text(text_of(item))
                                                         : text(simdjson::minify(item)));
            }
          }
        }
        if (!pdesc.empty() && pdesc.back() == '.') pdesc.pop_back();
        n += static_cast<int64_t>(text(std::string(kv.key) + ":" + type + ":" + pdesc));
      }
    }
    n += func_end;
    return n > 0 ? static_cast<uint64_t>(n) : 0;
  }

 private:
  const Encoding &enc_;
  RequestTokens *out_;
};

uint64_t max_output(object body, std::initializer_list<const char *> keys) {
  for (const char *k : keys) {
    element e;
    if (body[k].get(e) == simdjson::SUCCESS && e.is_number()) return u64_of(e);
  }
  return UINT64_MAX;  // none given
}

}  // namespace

uint64_t image_tokens(const std::string &detail, uint64_t width, uint64_t height) {
  if (detail == "low") return 85;
  if (!width || !height) return kImageTokensUpperBound;
  // Fit within 2048 x 2048, then the shortest side down to 768, then count
  // the 512-px tiles.
  double w = static_cast<double>(width), h = static_cast<double>(height);
  if (w > 2048 || h > 2048) {
    const double s = 2048 / std::max(w, h);
    w *= s;
    h *= s;
  }
  if (std::min(w, h) > 768) {
    const double s = 768 / std::min(w, h);
    w *= s;
    h *= s;
  }
  const uint64_t tiles =
      static_cast<uint64_t>(std::ceil(w / 512)) * static_cast<uint64_t>(std::ceil(h / 512));
  return 85 + 170 * tiles;
}

bool image_size(std::string_view b, uint64_t *width, uint64_t *height) {
  auto u8 = [&](size_t i) { return static_cast<uint64_t>(static_cast<unsigned char>(b[i])); };
  auto be16 = [&](size_t i) { return u8(i) << 8 | u8(i + 1); };
  auto be32 = [&](size_t i) { return be16(i) << 16 | be16(i + 2); };
  if (b.size() >= 24 && b.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0 &&
      b.compare(12, 4, "IHDR") == 0) {
    *width = be32(16);
    *height = be32(20);
    return *width && *height;
  }
  if (b.size() >= 10 && (b.compare(0, 6, "GIF87a") == 0 || b.compare(0, 6, "GIF89a") == 0)) {
    *width = u8(6) | u8(7) << 8;
    *height = u8(8) | u8(9) << 8;
    return *width && *height;
  }
  if (b.size() >= 4 && u8(0) == 0xFF && u8(1) == 0xD8) {
    // JPEG: walk the segments to a start-of-frame marker.
    size_t i = 2;
    while (i + 9 < b.size()) {
      if (u8(i) != 0xFF) return false;
      const uint64_t marker = u8(i + 1);
      if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
        i += 2;
        continue;
      }
      const uint64_t len = be16(i + 2);
      const bool sof =
          marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
      if (sof) {
        *height = be16(i + 5);
        *width = be16(i + 7);
        return *width && *height;
      }
      i += 2 + len;
    }
  }
  return false;
}

RequestTokens count_request_tokens(const std::string &url, std::string_view body_text) {
  RequestTokens out;
  simdjson::dom::parser parser;
  element doc;
  if (parser.parse(body_text.data(), body_text.size()).get(doc) != simdjson::SUCCESS ||
      !doc.is_object())
    throw Error(OBATCH_EJSON, "the request body is not a JSON object");
  object body = doc;
  out.model = std::string(field(body, "model"));
  out.encoding = encoding_for_model(out.model);
  if (out.encoding.empty()) {
    out.encoding = "o200k_base";
    out.encoding_assumed = true;
  }
  const Encoding &enc = Encoding::get(out.encoding);
  Counter count(enc, &out);
  element e;
  uint64_t n_choices = 1;
  if (body["n"].get(e) == simdjson::SUCCESS && e.is_number() && u64_of(e) > 1)
    n_choices = u64_of(e);
  uint64_t max_out = UINT64_MAX;
  if (url == "/v1/chat/completions") {
    if (body["messages"].get(e) == simdjson::SUCCESS) out.prompt += count.messages(e);
    if (body["tools"].get(e) == simdjson::SUCCESS)
      out.prompt += count.tools(e, out.encoding == "cl100k_base");
    else if (body["functions"].get(e) == simdjson::SUCCESS)
      out.prompt += count.tools(e, out.encoding == "cl100k_base");
    if (body.at_pointer("/response_format/json_schema").get(e) == simdjson::SUCCESS) {
      out.approximate = true;  // not in the guide: the schema's JSON as text
      out.prompt += count.text(simdjson::minify(e));
    }
    max_out = max_output(body, {"max_completion_tokens", "max_tokens"});
  } else if (url == "/v1/responses") {
    if (body["instructions"].get(e) == simdjson::SUCCESS && e.is_string())
      out.prompt += kPerMessage + count.text(text_of(e));
    if (body["input"].get(e) == simdjson::SUCCESS) {
      if (e.is_string())
        out.prompt += kPerMessage + count.text(text_of(e)) + kReplyPriming;
      else
        out.prompt += count.messages(e);
    }
    if (body["tools"].get(e) == simdjson::SUCCESS)
      out.prompt += count.tools(e, out.encoding == "cl100k_base");
    max_out = max_output(body, {"max_output_tokens"});
    n_choices = 1;
  } else if (url == "/v1/embeddings") {
    if (body["input"].get(e) == simdjson::SUCCESS) out.prompt += count.input(e);
    max_out = 0;
    n_choices = 1;
  } else if (url == "/v1/completions") {
    if (body["prompt"].get(e) == simdjson::SUCCESS) out.prompt += count.input(e);
    max_out = max_output(body, {"max_tokens"});
    if (max_out == UINT64_MAX) max_out = 16;  // the completions API's own default
  } else {
    // Moderations and the rest: the text of their input.
    if (body["input"].get(e) == simdjson::SUCCESS) out.prompt += count.input(e);
    max_out = 0;
    n_choices = 1;
  }
  if (max_out == UINT64_MAX) {
    out.output_assumed = true;
    max_out = kDefaultOutputTokens;
  }
  out.output = max_out * n_choices;
  return out;
}

}  // namespace obatch
