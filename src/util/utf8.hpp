// Strict UTF-8, as the JSON a provider parses must be: no overlong forms,
// no surrogates, nothing past U+10FFFF.
#pragma once

#include <cstddef>

namespace obatch {

// The character at p[0 .. n) (n > 0): its length in bytes (1 to 4) when it
// is valid UTF-8; 0 when not, with *invalid set to the length of its
// maximal invalid subpart (1 to 3): the bytes a decoder replaces with one
// U+FFFD.
inline size_t utf8_char(const unsigned char *p, size_t n, size_t *invalid) {
  const unsigned char c = p[0];
  if (c < 0x80) return 1;
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    *invalid = 1;
    return 0;
  }
  size_t k = 1;
  for (; k < len && k < n; k++) {
    const unsigned char b = p[k];
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) break;
  }
  if (k == len) return len;
  *invalid = k;
  return 0;
}

}  // namespace obatch
