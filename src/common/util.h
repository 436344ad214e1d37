/* Small helpers every layer uses: overflow-checked size arithmetic, alignment, debug
 * assertions. Header-only. */
#ifndef ZCP_COMMON_UTIL_H
#define ZCP_COMMON_UTIL_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

#define ZCP_MIN(a, b) ((a) < (b) ? (a) : (b))
#define ZCP_MAX(a, b) ((a) > (b) ? (a) : (b))
#define ZCP_UNUSED(x) ((void)(x))

/* Debug-level assertions (CONVENTIONS: invariant checks behind ZCP_DEBUG levels). */
#if defined(ZCP_DEBUG) && ZCP_DEBUG >= 1
#define ZCP_ASSERT(x) assert(x)
#else
#define ZCP_ASSERT(x) ((void)0)
#endif

/* a + b, a * b for sizes from outside input: false on overflow or negative result. */
static inline bool zcp__add_i64(int64_t a, int64_t b, int64_t *out) {
  return !__builtin_add_overflow(a, b, out) && *out >= 0;
}
static inline bool zcp__mul_i64(int64_t a, int64_t b, int64_t *out) {
  return !__builtin_mul_overflow(a, b, out) && *out >= 0;
}

/* Rounds n up to a multiple of align (a power of two); n must be small enough. */
static inline int64_t zcp__round_up(int64_t n, int64_t align) {
  return (n + align - 1) & ~(align - 1);
}

static inline bool zcp__is_pow2(int64_t x) { return x > 0 && (x & (x - 1)) == 0; }

/* Bits in a validity/boolean bitmap (LSB first, as Arrow). */
static inline bool zcp__bit_get(const uint8_t *bits, int64_t i) {
  return (bits[i >> 3] >> (i & 7)) & 1;
}
static inline void zcp__bit_set(uint8_t *bits, int64_t i, bool v) {
  uint8_t m = (uint8_t)(1u << (i & 7));
  bits[i >> 3] = v ? (uint8_t)(bits[i >> 3] | m) : (uint8_t)(bits[i >> 3] & ~m);
}
/* Bytes a bitmap of n bits needs. */
static inline int64_t zcp__bitmap_bytes(int64_t n) { return (n + 7) / 8; }

/* Little-endian loads and stores for layouts other processes read. */
static inline uint32_t zcp__load_le32(const void *p) {
  const uint8_t *b = (const uint8_t *)p;
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static inline uint64_t zcp__load_le64(const void *p) {
  return (uint64_t)zcp__load_le32(p) | (uint64_t)zcp__load_le32((const uint8_t *)p + 4) << 32;
}
static inline void zcp__store_le32(void *p, uint32_t v) {
  uint8_t *b = (uint8_t *)p;
  b[0] = (uint8_t)v; b[1] = (uint8_t)(v >> 8); b[2] = (uint8_t)(v >> 16); b[3] = (uint8_t)(v >> 24);
}
static inline void zcp__store_le64(void *p, uint64_t v) {
  zcp__store_le32(p, (uint32_t)v);
  zcp__store_le32((uint8_t *)p + 4, (uint32_t)(v >> 32));
}

#endif /* ZCP_COMMON_UTIL_H */
