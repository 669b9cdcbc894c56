#include "tokens/bpe_data.hpp"

#include <simdjson.h>
#include <zlib.h>

#include "obatch/obatch.h"
#include "util/error.hpp"

// The .gz files as they are in data/tiktoken, placed in .rodata by the
// assembler (no generated source, no copy at start-up). OBATCH_BPE_DIR is
// set by CMake.
#define OBATCH_EMBED(sym, file)                                                             \
  __asm__(".section .rodata\n.balign 16\n.hidden " #sym "\n.global " #sym "\n" #sym         \
          ":\n.incbin \"" OBATCH_BPE_DIR "/" file "\"\n.hidden " #sym "_end\n.global " #sym \
          "_end\n" #sym "_end:\n.byte 0\n.previous\n")

OBATCH_EMBED(obatch_bpe_o200k, "o200k_base.bpe.gz");
OBATCH_EMBED(obatch_bpe_cl100k, "cl100k_base.bpe.gz");

extern "C" {
extern const unsigned char obatch_bpe_o200k[], obatch_bpe_o200k_end[];
extern const unsigned char obatch_bpe_cl100k[], obatch_bpe_cl100k_end[];
}

namespace obatch {

namespace {

std::string inflate_gzip(const unsigned char *data, size_t size, const std::string &name) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
    throw Error(OBATCH_ENOMEM, "tokenizer: cannot start inflating " + name);
  std::string out;
  out.resize(size * 2);
  z.next_in = const_cast<unsigned char *>(data);
  z.avail_in = static_cast<uInt>(size);
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (z.total_out == out.size()) out.resize(out.size() * 2);
    z.next_out = reinterpret_cast<unsigned char *>(&out[z.total_out]);
    z.avail_out = static_cast<uInt>(out.size() - z.total_out);
    rc = inflate(&z, Z_NO_FLUSH);
  }
  out.resize(z.total_out);
  inflateEnd(&z);
  if (rc != Z_STREAM_END)
    throw Error(OBATCH_EINTERNAL, "tokenizer: the embedded ranks of " + name + " are damaged");
  return out;
}

}  // namespace

const std::vector<std::string> &bpe_encoding_names() {
  static const std::vector<std::string> names = {"o200k_base", "cl100k_base"};
  return names;
}

BpeData load_bpe_data(const std::string &name) {
  const unsigned char *begin = nullptr, *end = nullptr;
  if (name == "o200k_base") {
    begin = obatch_bpe_o200k;
    end = obatch_bpe_o200k_end;
  } else if (name == "cl100k_base") {
    begin = obatch_bpe_cl100k;
    end = obatch_bpe_cl100k_end;
  } else {
    throw Error(OBATCH_EINVAL, "unknown encoding '" + name + "' (known: o200k_base, cl100k_base)");
  }
  BpeData d;
  std::string raw = inflate_gzip(begin, static_cast<size_t>(end - begin), name);
  const size_t nl = raw.find('\n');
  auto damaged = [&] {
    return Error(OBATCH_EINTERNAL, "tokenizer: the embedded ranks of " + name + " are damaged");
  };
  if (nl == std::string::npos) throw damaged();
  simdjson::dom::parser parser;
  simdjson::dom::element header;
  if (parser.parse(raw.data(), nl).get(header) != simdjson::SUCCESS) throw damaged();
  std::string_view text;
  int64_t n_vocab = 0;
  simdjson::dom::object specials;
  if (header["name"].get(text) || text != name) throw damaged();
  d.name = std::string(text);
  if (header["pat_str"].get(text)) throw damaged();
  d.pat_str = std::string(text);
  if (header["source"].get(text)) throw damaged();
  d.source = std::string(text);
  if (header["n_vocab"].get(n_vocab) || n_vocab <= 0) throw damaged();
  if (header["special_tokens"].get(specials)) throw damaged();
  for (auto kv : specials) {
    int64_t id = 0;
    if (kv.value.get(id)) throw damaged();
    d.special_tokens.emplace_back(std::string(kv.key), static_cast<uint32_t>(id));
  }
  d.bytes.reserve(raw.size() - nl);
  std::vector<std::pair<size_t, size_t>> spans;
  spans.reserve(static_cast<size_t>(n_vocab));
  for (size_t at = nl + 1; at < raw.size();) {
    const size_t len = static_cast<unsigned char>(raw[at]);
    if (len == 0 || at + 1 + len > raw.size()) throw damaged();
    spans.emplace_back(d.bytes.size(), len);
    d.bytes.append(raw, at + 1, len);
    at += 1 + len;
  }
  if (spans.size() != static_cast<size_t>(n_vocab)) throw damaged();
  for (auto &s : spans) d.tokens.emplace_back(d.bytes.data() + s.first, s.second);
  return d;
}

}  // namespace obatch
