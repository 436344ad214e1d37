/* UTF-8 well-formedness (RFC 3629 / Unicode table 3-7): what validation calls on every
 * utf8, large utf8 and utf8 view value. Rejects overlong forms, surrogates
 * (U+D800..DFFF), code points above U+10FFFF and truncated sequences. Reads exactly
 * `size` bytes and never past them; ASCII runs are skipped 8 bytes at a time. */
#include <string.h>

#include "zcpool/arrow.h"

bool zcp_utf8_valid(const uint8_t *data, int64_t size) {
  if (size < 0) return false;
  if (size == 0) return true;
  if (data == NULL) return false;
  int64_t i = 0;
  while (i < size) {
    /* Fast path: eight ASCII bytes at once. */
    while (i + 8 <= size) {
      uint64_t w;
      memcpy(&w, data + i, sizeof w);
      if (w & UINT64_C(0x8080808080808080)) break;
      i += 8;
    }
    if (i >= size) break;
    uint8_t c = data[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    int64_t n;         /* continuation bytes */
    uint8_t lo = 0x80; /* allowed range of the second byte (tightened for the */
    uint8_t hi = 0xBF; /* overlong, surrogate and > U+10FFFF cases) */
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0)
        lo = 0xA0; /* overlong below U+0800 */
      else if (c == 0xED)
        hi = 0x9F; /* surrogates U+D800..U+DFFF */
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0)
        lo = 0x90; /* overlong below U+10000 */
      else if (c == 0xF4)
        hi = 0x8F; /* above U+10FFFF */
    } else {
      return false; /* continuation byte as lead, C0/C1 overlongs, F5..FF */
    }
    if (size - i <= n) return false; /* truncated */
    uint8_t c1 = data[i + 1];
    if (c1 < lo || c1 > hi) return false;
    for (int64_t k = 2; k <= n; k++) {
      if ((data[i + k] & 0xC0) != 0x80) return false;
    }
    i += n + 1;
  }
  return true;
}
