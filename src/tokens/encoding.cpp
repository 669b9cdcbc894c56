#include "tokens/encoding.hpp"

#include <limits>
#include <map>
#include <memory>
#include <mutex>

#include "obatch/obatch.h"
#include "util/error.hpp"
#include "util/utf8.hpp"

namespace obatch {

namespace {

constexpr uint32_t kNoRank = std::numeric_limits<uint32_t>::max();

// tiktoken's regexes run on Rust's regex crate, where \s is Unicode
// White_Space. PCRE2's \s (with UCP) also takes U+180E, which is not: so
// \s and \S are spelled out as that set.
constexpr const char kSpaceSet[] =
    "\\t\\n\\x{0b}\\f\\r\\x{20}\\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}"
    "\\x{202f}\\x{205f}\\x{3000}";

std::string with_white_space(const std::string &pat) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < pat.size(); i++) {
    const char c = pat[i];
    if (c == '\\' && i + 1 < pat.size()) {
      const char n = pat[++i];
      if (n == 's')
        out += in_class ? std::string(kSpaceSet) : "[" + std::string(kSpaceSet) + "]";
      else if (n == 'S' && !in_class)
        out += "[^" + std::string(kSpaceSet) + "]";
      else if (n == 'S')
        throw Error(OBATCH_EINTERNAL, "tokenizer: \\S inside a class is not supported");
      else
        out += {c, n};
      continue;
    }
    if (c == '[' && !in_class)
      in_class = true;
    else if (c == ']' && in_class)
      in_class = false;
    out += c;
  }
  return out;
}

// A thread's PCRE2 match state: one pair of offsets is all a match needs,
// and a JIT stack that can grow (a 10 MB word backtracks deeply).
struct MatchState {
  pcre2_match_data *md = pcre2_match_data_create(1, nullptr);
  pcre2_match_context *mc = pcre2_match_context_create(nullptr);
  pcre2_jit_stack *stack = pcre2_jit_stack_create(32 * 1024, 64 * 1024 * 1024, nullptr);
  MatchState() { pcre2_jit_stack_assign(mc, nullptr, stack); }
  ~MatchState() {
    pcre2_jit_stack_free(stack);
    pcre2_match_context_free(mc);
    pcre2_match_data_free(md);
  }
};

MatchState &match_state() {
  thread_local MatchState state;
  if (!state.md || !state.mc || !state.stack)
    throw Error(OBATCH_ENOMEM, "tokenizer: out of memory");
  return state;
}

}  // namespace

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  const auto *p = reinterpret_cast<const unsigned char *>(s.data());
  size_t invalid = 0;
  for (size_t i = 0; i < s.size();) {
    if (const size_t len = utf8_char(p + i, s.size() - i, &invalid)) {
      out.append(s.data() + i, len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";  // the maximal invalid subpart becomes one U+FFFD
      i += invalid;
    }
  }
  return out;
}

const Encoding &Encoding::get(const std::string &name) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<Encoding>> built;
  std::lock_guard<std::mutex> lock(mu);
  auto it = built.find(name);
  if (it == built.end())
    it = built.emplace(name, std::unique_ptr<Encoding>(new Encoding(load_bpe_data(name)))).first;
  return *it->second;
}

Encoding::Encoding(BpeData data) : data_(std::move(data)) {
  ranks_.reserve(data_.tokens.size());
  for (size_t r = 0; r < data_.tokens.size(); r++)
    ranks_.emplace(data_.tokens[r], static_cast<uint32_t>(r));
  const std::string pattern = with_white_space(data_.pat_str);
  int code = 0;
  PCRE2_SIZE at = 0;
  re_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                      PCRE2_UTF | PCRE2_UCP, &code, &at, nullptr);
  if (!re_) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(code, msg, sizeof msg);
    throw Error(OBATCH_EINTERNAL, "tokenizer: the regex of " + data_.name +
                                      " does not compile: " + reinterpret_cast<const char *>(msg));
  }
  // Without the JIT (some platforms have none) the interpreter gives the
  // same matches, only slower.
  pcre2_jit_compile(re_, PCRE2_JIT_COMPLETE);
}

Encoding::~Encoding() { pcre2_code_free(re_); }

uint32_t Encoding::rank_of(std::string_view bytes) const {
  auto it = ranks_.find(bytes);
  return it == ranks_.end() ? kNoRank : it->second;
}

// The byte-pair merge: start from single bytes and keep merging the
// adjacent pair whose merged bytes have the lowest rank (the leftmost on a
// tie) until no merged pair is a token.
void Encoding::encode_piece(std::string_view piece, std::vector<uint32_t> *out) const {
  const uint32_t whole = rank_of(piece);
  if (whole != kNoRank) {
    out->push_back(whole);
    return;
  }
  // parts[i] = (start of part i, rank of part i merged with part i+1).
  std::vector<std::pair<size_t, uint32_t>> parts;
  parts.reserve(piece.size() + 1);
  uint32_t min_rank = kNoRank;
  size_t min_at = 0;
  for (size_t i = 0; i + 1 < piece.size(); i++) {
    const uint32_t r = rank_of(piece.substr(i, 2));
    if (r < min_rank) {
      min_rank = r;
      min_at = i;
    }
    parts.emplace_back(i, r);
  }
  parts.emplace_back(piece.size() - 1, kNoRank);
  parts.emplace_back(piece.size(), kNoRank);
  auto merged_rank = [&](size_t i) {
    if (i + 3 >= parts.size()) return kNoRank;
    return rank_of(piece.substr(parts[i].first, parts[i + 3].first - parts[i].first));
  };
  while (min_rank != kNoRank) {
    const size_t i = min_at;
    if (i > 0) parts[i - 1].second = merged_rank(i - 1);
    parts[i].second = merged_rank(i);
    parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(i) + 1);
    min_rank = kNoRank;
    for (size_t k = 0; k + 1 < parts.size(); k++)
      if (parts[k].second < min_rank) {
        min_rank = parts[k].second;
        min_at = k;
      }
  }
  for (size_t k = 0; k + 1 < parts.size(); k++) {
    const uint32_t r = rank_of(piece.substr(parts[k].first, parts[k + 1].first - parts[k].first));
    if (r == kNoRank)
      throw Error(OBATCH_EINTERNAL, "tokenizer: " + data_.name + " has no token for a byte");
    out->push_back(r);
  }
}

void Encoding::encode_valid(std::string_view text, std::vector<uint32_t> *out) const {
  MatchState &st = match_state();
  const auto *subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t start = 0;
  while (start < text.size()) {
    const int rc = pcre2_match(re_, subject, text.size(), start, PCRE2_NO_UTF_CHECK, st.md, st.mc);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(rc, msg, sizeof msg);
      throw Error(rc == PCRE2_ERROR_NOMEMORY || rc == PCRE2_ERROR_JIT_STACKLIMIT ? OBATCH_ENOMEM
                                                                                 : OBATCH_EINTERNAL,
                  std::string("tokenizer: ") + reinterpret_cast<const char *>(msg));
    }
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(st.md);
    const size_t from = ov[0], to = ov[1];
    if (to == from) {  // no pattern of an encoding matches nothing; step on all the same
      start = from + 1;
      while (start < text.size() && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80)
        start++;
      continue;
    }
    encode_piece(text.substr(from, to - from), out);
    start = to;
  }
}

void Encoding::encode_ordinary(std::string_view text, std::vector<uint32_t> *out) const {
  const std::string fixed = valid_utf8(text);
  encode_valid(fixed, out);
}

void Encoding::encode(std::string_view text, std::vector<uint32_t> *out) const {
  const std::string fixed = valid_utf8(text);
  std::string_view rest = fixed;
  for (;;) {
    size_t at = std::string_view::npos;
    const std::pair<std::string, uint32_t> *found = nullptr;
    for (const auto &sp : data_.special_tokens) {
      const size_t p = rest.find(sp.first);
      if (p < at || (p == at && found && sp.first.size() > found->first.size())) {
        at = p;
        found = &sp;
      }
    }
    if (!found) {
      encode_valid(rest, out);
      return;
    }
    encode_valid(rest.substr(0, at), out);
    out->push_back(found->second);
    rest.remove_prefix(at + found->first.size());
  }
}

uint64_t Encoding::count(std::string_view text) const {
  thread_local std::vector<uint32_t> ids;
  ids.clear();
  encode_ordinary(text, &ids);
  return ids.size();
}

std::string Encoding::decode(const std::vector<uint32_t> &ids) const {
  std::string out;
  for (uint32_t id : ids) {
    if (id < data_.tokens.size()) {
      out += data_.tokens[id];
      continue;
    }
    bool special = false;
    for (const auto &sp : data_.special_tokens)
      if (sp.second == id) {
        out += sp.first;
        special = true;
      }
    if (!special) throw Error(OBATCH_EINVAL, "decode: no token " + std::to_string(id));
  }
  return out;
}

std::string encoding_for_model(const std::string &model) {
  static const std::map<std::string, std::string> exact = {
      {"o1", "o200k_base"},
      {"o3", "o200k_base"},
      {"o4-mini", "o200k_base"},
      {"gpt-5", "o200k_base"},
      {"gpt-4.1", "o200k_base"},
      {"gpt-4o", "o200k_base"},
      {"gpt-4.5", "o200k_base"},
      {"chatgpt-4o-latest", "o200k_base"},
      {"gpt-4", "cl100k_base"},
      {"gpt-3.5-turbo", "cl100k_base"},
      {"gpt-3.5", "cl100k_base"},
      {"gpt-35-turbo", "cl100k_base"},
      {"davinci-002", "cl100k_base"},
      {"babbage-002", "cl100k_base"},
      {"text-embedding-ada-002", "cl100k_base"},
      {"text-embedding-3-small", "cl100k_base"},
      {"text-embedding-3-large", "cl100k_base"},
  };
  // Longest first where one prefix starts another ("ft:gpt-4o" before
  // "ft:gpt-4").
  static const std::vector<std::pair<std::string, std::string>> prefixes = {
      {"o1-", "o200k_base"},
      {"o3-", "o200k_base"},
      {"o4-mini-", "o200k_base"},
      {"gpt-5-", "o200k_base"},
      {"gpt-4.5-", "o200k_base"},
      {"gpt-4.1-", "o200k_base"},
      {"chatgpt-4o-", "o200k_base"},
      {"gpt-4o-", "o200k_base"},
      {"gpt-4-", "cl100k_base"},
      {"gpt-3.5-turbo-", "cl100k_base"},
      {"gpt-35-turbo-", "cl100k_base"},
      {"ft:gpt-4o", "o200k_base"},
      {"ft:gpt-4", "cl100k_base"},
      {"ft:gpt-3.5-turbo", "cl100k_base"},
      {"ft:davinci-002", "cl100k_base"},
      {"ft:babbage-002", "cl100k_base"},
  };
  auto it = exact.find(model);
  if (it != exact.end()) return it->second;
  for (const auto &p : prefixes)
    if (model.compare(0, p.first.size(), p.first) == 0) return p.second;
  return "";
}

}  // namespace obatch
