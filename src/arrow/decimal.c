/* Decimal values: little-endian two's-complement integers of 4, 8, 16 or 32 bytes
 * (decimal32, 64, 128, 256) holding the unscaled value. The one place that knows how to
 * widen them to 64-bit limbs, so that every width prints the same way. Reads only the
 * bytes it is given; never allocates. */
#include <string.h>

#include "arrow/internal.h"
#include "common/util.h"

int zcp__decimal_limbs(const uint8_t *bytes, int64_t width, uint64_t limbs[4]) {
  int n = width <= 8 ? 1 : (int)(width / 8);
  if (width == 4) {
    int32_t v;
    memcpy(&v, bytes, 4);
    limbs[0] = (uint64_t)(int64_t)v; /* sign-extended */
    return 1;
  }
  for (int i = 0; i < n; i++) limbs[i] = zcp__load_le64(bytes + 8 * i);
  return n;
}

bool zcp__decimal_negate_if_negative(uint64_t *limbs, int n) {
  if ((limbs[n - 1] >> 63) == 0) return false;
  unsigned carry = 1;
  for (int i = 0; i < n; i++) {
    limbs[i] = ~limbs[i] + carry;
    carry = carry && limbs[i] == 0;
  }
  return true;
}

bool zcp__decimal_type_of_bits(int64_t bits, enum zcp_type *out) {
  switch (bits) {
    case 32:
      *out = ZCP_TYPE_DECIMAL32;
      return true;
    case 64:
      *out = ZCP_TYPE_DECIMAL64;
      return true;
    case 128:
      *out = ZCP_TYPE_DECIMAL128;
      return true;
    case 256:
      *out = ZCP_TYPE_DECIMAL256;
      return true;
    default:
      return false;
  }
}

int32_t zcp__decimal_max_precision_of_width(int64_t width) {
  switch (width) {
    case 4:
      return 9;
    case 8:
      return 18;
    case 16:
      return 38;
    case 32:
      return 76;
    default:
      return 0;
  }
}
