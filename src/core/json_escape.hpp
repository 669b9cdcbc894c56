// Finding the bytes a JSON string writer must escape (a control character,
// '"' or '\'), 16 at a time where SSE2 is there (every x86-64).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace obatch {

inline bool json_needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

// The position of the first byte of p[0..n) that needs an escape, or n.
inline size_t json_first_escape(const char *p, size_t n) {
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), slash = _mm_set1_epi8('\\'),
                ctrl_max = _mm_set1_epi8(0x1f);
  for (; i + 16 <= n; i += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p + i));
    __m128i hit = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, slash)),
        _mm_cmpeq_epi8(_mm_max_epu8(v, ctrl_max), ctrl_max));  // v <= 0x1f
    int mask = _mm_movemask_epi8(hit);
    if (mask) return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#endif
  while (i < n && !json_needs_escape(static_cast<unsigned char>(p[i]))) i++;
  return i;
}

}  // namespace obatch
