#include "core/one_line_json.hpp"

#include <simdjson.h>

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace obatch {
namespace {

struct BlockMasks {
  uint64_t quote = 0, backslash = 0, space = 0;  // bit i: byte i of the block
};

#if defined(__SSE2__)
inline uint64_t bits16(__m128i eq) {
  return static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(eq)));
}
#endif

// The masks of 64 bytes at p (all readable).
inline BlockMasks block_masks(const unsigned char *p) {
  BlockMasks m;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), slash = _mm_set1_epi8('\\'), sp = _mm_set1_epi8(' '),
                tab = _mm_set1_epi8('\t'), lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
  for (int k = 0; k < 4; k++) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p + 16 * k));
    const __m128i ws = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, sp), _mm_cmpeq_epi8(v, tab)),
                                    _mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr)));
    m.quote |= bits16(_mm_cmpeq_epi8(v, quote)) << (16 * k);
    m.backslash |= bits16(_mm_cmpeq_epi8(v, slash)) << (16 * k);
    m.space |= bits16(ws) << (16 * k);
  }
#else
  for (int i = 0; i < 64; i++) {
    const unsigned char c = p[i];
    m.quote |= uint64_t(c == '"') << i;
    m.backslash |= uint64_t(c == '\\') << i;
    m.space |= uint64_t(c == ' ' || c == '\t' || c == '\n' || c == '\r') << i;
  }
#endif
  return m;
}

// Bit i of the result: the xor of bits 0..i of x (1 from an opening quote
// up to, not including, its closing quote).
inline uint64_t prefix_xor(uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

// The scan over 64-byte blocks, as a macro so that each instruction set's
// copy has its block masks (MASKS(block) -> BlockMasks) and prefix xor
// (PREFIX(x)) inlined.
#define OBATCH_SCAN_OUTER_WHITESPACE(json, MASKS, PREFIX, PADDED)                        \
  do {                                                                                   \
    const unsigned char *p_ = reinterpret_cast<const unsigned char *>((json).data());    \
    const size_t n_ = (json).size();                                                     \
    uint64_t escape_carry = 0; /* 1: the last block ended in a backslash that escapes */ \
    uint64_t string_carry = 0; /* all ones: the last block ended inside a string */      \
    unsigned char tail[64];                                                              \
    for (size_t at = 0; at < n_; at += 64) {                                             \
      const unsigned char *block = p_ + at;                                              \
      uint64_t valid = ~uint64_t(0); /* the bits of bytes of the text */                 \
      if (n_ - at < 64 && (PADDED)) {                                                    \
        /* Read past the end (readable); only its whitespace bits matter. */             \
        valid = (uint64_t(1) << (n_ - at)) - 1;                                          \
      } else if (n_ - at < 64) {                                                         \
        /* The last bytes, padded with a byte that is none of the above. */              \
        std::memset(tail, 'x', sizeof tail);                                             \
        std::memcpy(tail, block, n_ - at);                                               \
        block = tail;                                                                    \
      }                                                                                  \
      const BlockMasks m = MASKS(block);                                                 \
      /* Bytes escaped by a backslash (backslashes are rare: one step each). */          \
      uint64_t escaped = escape_carry;                                                   \
      escape_carry = 0;                                                                  \
      for (uint64_t b = m.backslash; b; b &= b - 1) {                                    \
        const int i = __builtin_ctzll(b);                                                \
        if (escaped >> i & 1) continue; /* an escaped backslash escapes nothing */       \
        if (i == 63)                                                                     \
          escape_carry = 1;                                                              \
        else                                                                             \
          escaped |= uint64_t(1) << (i + 1);                                             \
      }                                                                                  \
      const uint64_t in_string = PREFIX(m.quote & ~escaped) ^ string_carry;              \
      if (m.space & ~in_string & valid) return true;                                     \
      string_carry = static_cast<uint64_t>(static_cast<int64_t>(in_string) >> 63);       \
    }                                                                                    \
    return false;                                                                        \
  } while (0)

#if defined(__x86_64__) && defined(__GNUC__)
// AVX2 and CLMUL where the CPU has them (chosen once, at run time): half the
// compares of SSE2, and the prefix xor in one carry-less multiply.
__attribute__((target("avx2"), always_inline)) inline uint64_t bits32(__m256i eq) {
  return static_cast<uint64_t>(static_cast<uint32_t>(_mm256_movemask_epi8(eq)));
}

__attribute__((target("avx2"), always_inline)) inline BlockMasks block_masks_avx2(
    const unsigned char *p) {
  BlockMasks m;
  const __m256i quote = _mm256_set1_epi8('"'), slash = _mm256_set1_epi8('\\'),
                sp = _mm256_set1_epi8(' '), tab = _mm256_set1_epi8('\t'),
                lf = _mm256_set1_epi8('\n'), cr = _mm256_set1_epi8('\r');
  for (int k = 0; k < 2; k++) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p + 32 * k));
    const __m256i ws =
        _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, sp), _mm256_cmpeq_epi8(v, tab)),
                        _mm256_or_si256(_mm256_cmpeq_epi8(v, lf), _mm256_cmpeq_epi8(v, cr)));
    m.quote |= bits32(_mm256_cmpeq_epi8(v, quote)) << (32 * k);
    m.backslash |= bits32(_mm256_cmpeq_epi8(v, slash)) << (32 * k);
    m.space |= bits32(ws) << (32 * k);
  }
  return m;
}

__attribute__((target("pclmul"), always_inline)) inline uint64_t prefix_xor_clmul(uint64_t x) {
  const __m128i all = _mm_set1_epi8(static_cast<char>(0xFF));
  return static_cast<uint64_t>(
      _mm_cvtsi128_si64(_mm_clmulepi64_si128(_mm_set_epi64x(0, static_cast<int64_t>(x)), all, 0)));
}

template <bool kPadded>
__attribute__((target("avx2,pclmul"))) bool outer_whitespace_avx2(std::string_view json) {
  OBATCH_SCAN_OUTER_WHITESPACE(json, block_masks_avx2, prefix_xor_clmul, kPadded);
}
#endif

}  // namespace

#if defined(__x86_64__) && defined(__GNUC__)
// Asked once, on first use (not in a static initializer, which may run
// before libgcc has read the CPU's features).
static bool have_avx2() {
  static const bool yes = (__builtin_cpu_init(), __builtin_cpu_supports("avx2") &&
                                                     __builtin_cpu_supports("pclmul"));
  return yes;
}
#endif

bool json_has_outer_whitespace(std::string_view json) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (have_avx2()) return outer_whitespace_avx2<false>(json);
#endif
  return json_has_outer_whitespace_generic(json);
}

bool json_has_outer_whitespace_padded(std::string_view json) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (have_avx2()) return outer_whitespace_avx2<true>(json);
#endif
  return json_has_outer_whitespace_generic(json);
}

bool json_has_outer_whitespace_generic(std::string_view json) {
  OBATCH_SCAN_OUTER_WHITESPACE(json, block_masks, prefix_xor, false);
}

std::string_view one_line_json(std::string_view json, std::string *scratch, bool padded) {
  if (!(padded ? json_has_outer_whitespace_padded(json) : json_has_outer_whitespace(json)))
    return json;
  // (resize of a reused buffer: no allocation once it is large enough.)
  scratch->resize(json.size());
  size_t out_len = 0;
  if (simdjson::minify(json.data(), json.size(), scratch->data(), out_len)) return {};
  scratch->resize(out_len);
  return *scratch;
}

}  // namespace obatch
