/* Builders: growable buffers, validity bitmaps and the appends of fixed-width columns
 * (bool, integers, floats, decimals, temporal types, intervals).
 *
 * Every data buffer is allocated through the builder's struct zcp_allocator and nowhere
 * else: later the allocator is a pool of shared memory and a buffer that escaped it would
 * not be visible to other nodes. Appends either succeed or leave the builder as it was
 * (room is reserved before anything is written); nested appends that touch several
 * children may leave a child longer than its parent, which finish reports. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/builder_internal.h"

/* ---- messages ------------------------------------------------------------------------
 */

zcp_status_t zcp__builder_error(struct zcp_builder *b, zcp_status_t code, const char *fmt,
                                ...) {
  char *out = b->root->last_error;
  size_t cap = sizeof b->root->last_error;
  const char *type = b->dictionary != NULL ? "dictionary" : zcp_type_name(b->format.type);
  int n = snprintf(out, cap, "column '%s' (%s): ", b->path, type);
  if (n < 0 || (size_t)n >= cap) return code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out + n, cap - (size_t)n, fmt, ap);
  va_end(ap);
  return code;
}

const char *zcp_builder_last_error(const struct zcp_builder *b) {
  return b != NULL ? b->root->last_error : "";
}

/* ---- buffers -------------------------------------------------------------------------
 */

#define ZCP__MAX_BUFFER ((int64_t)1 << 62)

zcp_status_t zcp__buf_reserve_capped(struct zcp_builder *b, struct zcp__buf *buf,
                                     int64_t additional, int64_t max_capacity) {
  int64_t need;
  if (additional < 0 || !zcp__add_i64(buf->size, additional, &need) ||
      need > ZCP__MAX_BUFFER) {
    return zcp__builder_error(b, ZCP_OUT_OF_MEMORY,
                              "a buffer of %lld + %lld bytes is too large",
                              (long long)buf->size, (long long)additional);
  }
  if (need <= buf->capacity) return ZCP_OK;
  int64_t cap = buf->capacity * 2;
  if (cap > max_capacity) cap = max_capacity;
  if (cap < need) cap = need;
  if (cap < b->align) cap = b->align;
  cap = zcp__round_up(cap, b->align);
  struct zcp_allocator *a = b->alloc;
  void *p = NULL;
  struct zcp_error e = {0};
  /* The allocator says why it failed (a full region, a quota, an owner that is down):
   * that is the message, not "out of memory". */
  zcp_status_t st = buf->data == NULL ? a->allocate(a, cap, b->align, &p, &e)
                                      : a->reallocate(a, buf->data, buf->capacity, cap,
                                                      b->align, &p, &e);
  if (st != ZCP_OK) {
    return zcp__builder_error(b, st, "growing a buffer from %lld to %lld bytes: %s",
                              (long long)buf->capacity, (long long)cap,
                              e.message[0] ? e.message : zcp_status_str(st));
  }
  if (((uintptr_t)p & (uintptr_t)(b->align - 1)) != 0) {
    /* An allocator that breaks its contract: keep what we had if we still can. */
    if (buf->data == NULL)
      a->free(a, p, cap);
    else {
      buf->data = p;
      buf->capacity = cap;
    }
    return zcp__builder_error(b, ZCP_INVALID_ARGUMENT,
                              "the allocator returned a block not aligned to %lld bytes",
                              (long long)b->align);
  }
  buf->data = p;
  buf->capacity = cap;
  return ZCP_OK;
}

zcp_status_t zcp__buf_reserve(struct zcp_builder *b, struct zcp__buf *buf,
                              int64_t additional) {
  return zcp__buf_reserve_capped(b, buf, additional, ZCP__MAX_BUFFER);
}

void zcp__buf_free(struct zcp_builder *b, struct zcp__buf *buf) {
  if (buf->data != NULL) b->alloc->free(b->alloc, buf->data, buf->capacity);
  buf->data = NULL;
  buf->size = buf->capacity = 0;
}

/* ---- bitmaps -------------------------------------------------------------------------
 */

void zcp__bits_set_range(uint8_t *bits, int64_t start, int64_t n) {
  int64_t i = start, end = start + n;
  for (; i < end && (i & 7) != 0; i++) bits[i >> 3] |= (uint8_t)(1u << (i & 7));
  if (end - i >= 8) {
    int64_t bytes = (end - i) / 8;
    memset(bits + (i >> 3), 0xff, (size_t)bytes);
    i += bytes * 8;
  }
  for (; i < end; i++) bits[i >> 3] |= (uint8_t)(1u << (i & 7));
}

void zcp__bits_extend(struct zcp__buf *buf, int64_t bits) {
  int64_t size = zcp__bitmap_bytes(bits);
  if (size > buf->size) memset(buf->data + buf->size, 0, (size_t)(size - buf->size));
  buf->size = size;
}

bool zcp__type_has_validity(enum zcp_type t) {
  return t != ZCP_TYPE_NA && t != ZCP_TYPE_SPARSE_UNION && t != ZCP_TYPE_DENSE_UNION &&
         t != ZCP_TYPE_RUN_END_ENCODED;
}

zcp_status_t zcp__validity_reserve(struct zcp_builder *b, int64_t n,
                                   bool will_have_nulls) {
  if (!zcp__type_has_validity(b->format.type)) return ZCP_OK;
  if (b->validity.data == NULL && !will_have_nulls) return ZCP_OK;
  int64_t bits;
  if (!zcp__add_i64(b->length, n, &bits)) {
    return zcp__builder_error(b, ZCP_NO_SPACE, "too many elements");
  }
  int64_t need = zcp__bitmap_bytes(bits);
  if (b->validity.data != NULL)
    return zcp__buf_reserve(b, &b->validity, need - b->validity.size);
  ZCP_RETURN_NOT_OK(zcp__buf_reserve(b, &b->validity, need));
  /* First null: every element so far was valid. */
  b->validity.size = 0;
  zcp__bits_extend(&b->validity, b->length);
  zcp__bits_set_range(b->validity.data, 0, b->length);
  return ZCP_OK;
}

void zcp__validity_append(struct zcp_builder *b, int64_t n, bool v) {
  if (b->validity.data == NULL) return;
  zcp__bits_extend(&b->validity, b->length + n);
  if (v) zcp__bits_set_range(b->validity.data, b->length, n);
}

/* Packs n bytes (nonzero = 1) into bits starting at bit `start` (room reserved, bits from
 * start on zero). */
static void bits_from_bytes(uint8_t *bits, int64_t start, const uint8_t *bytes,
                            int64_t n) {
  int64_t i = 0;
  while (i < n && ((start + i) & 7) != 0) {
    if (bytes[i]) bits[(start + i) >> 3] |= (uint8_t)(1u << ((start + i) & 7));
    i++;
  }
  uint8_t *out = bits + ((start + i) >> 3);
  for (; i + 8 <= n; i += 8) {
    const uint8_t *p = bytes + i;
    *out++ = (uint8_t)((p[0] != 0) | (p[1] != 0) << 1 | (p[2] != 0) << 2 |
                       (p[3] != 0) << 3 | (p[4] != 0) << 4 | (p[5] != 0) << 5 |
                       (p[6] != 0) << 6 | (p[7] != 0) << 7);
  }
  for (; i < n; i++) {
    if (bytes[i]) bits[(start + i) >> 3] |= (uint8_t)(1u << ((start + i) & 7));
  }
}

int64_t zcp__count_nulls(const uint8_t *validity, int64_t n) {
  if (validity == NULL || memchr(validity, 0, (size_t)n) == NULL) return 0;
  int64_t zeros = 0;
  for (int64_t i = 0; i < n; i++) zeros += validity[i] == 0;
  return zeros;
}

void zcp__validity_append_bytes(struct zcp_builder *b, const uint8_t *validity,
                                int64_t n) {
  if (b->validity.data == NULL) return;
  if (validity == NULL) {
    zcp__validity_append(b, n, true);
    return;
  }
  zcp__bits_extend(&b->validity, b->length + n);
  bits_from_bytes(b->validity.data, b->length, validity, n);
}

/* ---- offsets -------------------------------------------------------------------------
 */

zcp_status_t zcp__builder_offsets_start(struct zcp_builder *b, struct zcp__buf *buf,
                                        int64_t offset_width) {
  if (buf->size != 0) return ZCP_OK;
  ZCP_RETURN_NOT_OK(zcp__buf_reserve(b, buf, offset_width));
  memset(buf->data, 0, (size_t)offset_width);
  buf->size = offset_width;
  return ZCP_OK;
}

int64_t zcp__offsets_last(const struct zcp__buf *buf, int64_t offset_width) {
  if (buf->size == 0) return 0;
  const uint8_t *p = buf->data + buf->size - offset_width;
  if (offset_width == 4) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
  }
  int64_t v;
  memcpy(&v, p, 8);
  return v;
}

/* ---- types ---------------------------------------------------------------------------
 */

/* Bytes per value of fixed-width types (bool: 0, it is bits). */
int64_t zcp__value_width(const struct zcp_format *f) {
  return f->type == ZCP_TYPE_BOOL ? 0 : zcp_format_bit_width(f) / 8;
}

static bool is_fixed_width(enum zcp_type t) {
  return t >= ZCP_TYPE_BOOL && t <= ZCP_TYPE_INTERVAL_MONTH_DAY_NANO;
}

/* Range of integer-valued types; false for others. */
static bool int_range(enum zcp_type t, int64_t *lo, uint64_t *hi) {
  switch (t) {
    case ZCP_TYPE_BOOL:
      *lo = 0;
      *hi = 1;
      return true;
    case ZCP_TYPE_INT8:
      *lo = INT8_MIN;
      *hi = INT8_MAX;
      return true;
    case ZCP_TYPE_UINT8:
      *lo = 0;
      *hi = UINT8_MAX;
      return true;
    case ZCP_TYPE_INT16:
      *lo = INT16_MIN;
      *hi = INT16_MAX;
      return true;
    case ZCP_TYPE_UINT16:
      *lo = 0;
      *hi = UINT16_MAX;
      return true;
    case ZCP_TYPE_INT32:
    case ZCP_TYPE_DATE32:
    case ZCP_TYPE_TIME32:
    case ZCP_TYPE_INTERVAL_MONTHS:
      *lo = INT32_MIN;
      *hi = INT32_MAX;
      return true;
    case ZCP_TYPE_UINT32:
      *lo = 0;
      *hi = UINT32_MAX;
      return true;
    case ZCP_TYPE_INT64:
    case ZCP_TYPE_DATE64:
    case ZCP_TYPE_TIME64:
    case ZCP_TYPE_TIMESTAMP:
    case ZCP_TYPE_DURATION:
      *lo = INT64_MIN;
      *hi = INT64_MAX;
      return true;
    case ZCP_TYPE_UINT64:
      *lo = 0;
      *hi = UINT64_MAX;
      return true;
    default:
      return false;
  }
}

static bool is_float(enum zcp_type t) {
  return t == ZCP_TYPE_HALF_FLOAT || t == ZCP_TYPE_FLOAT || t == ZCP_TYPE_DOUBLE;
}

/* IEEE binary16 from a double, rounding to nearest, ties to even. */
static uint16_t half_from_double(double d) {
  uint64_t bits;
  memcpy(&bits, &d, sizeof bits);
  uint16_t sign = (uint16_t)((bits >> 48) & 0x8000);
  int64_t exp = (int64_t)((bits >> 52) & 0x7ff);
  uint64_t mant = bits & ((UINT64_C(1) << 52) - 1);
  if (exp == 0x7ff) return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 | (mant >> 42) : 0));
  if (exp == 0) return sign; /* double subnormals are far below the half range */
  int64_t e = exp - 1023;
  if (e > 15) return (uint16_t)(sign | 0x7c00);
  uint64_t m;
  int shift;
  uint64_t base;
  if (e >= -14) { /* normal half: 10 mantissa bits */
    m = mant;
    shift = 42;
    base = (uint64_t)(e + 15) << 10;
  } else { /* subnormal half: the implicit 1 becomes explicit */
    m = mant | (UINT64_C(1) << 52);
    shift = (int)(42 + (-14 - e));
    if (shift > 53) return sign;
    base = 0;
  }
  uint64_t q = m >> shift;
  uint64_t rem = m & ((UINT64_C(1) << shift) - 1);
  uint64_t half = UINT64_C(1) << (shift - 1);
  if (rem > half || (rem == half && (q & 1))) q++;
  /* A carry out of the mantissa lands in the exponent, which is the right answer (up to
   * infinity). */
  return (uint16_t)(sign | (base + q));
}

/* ---- reserve -------------------------------------------------------------------------
 */

static zcp_status_t values_bytes(struct zcp_builder *b, int64_t n, int64_t *out) {
  if (b->format.type == ZCP_TYPE_BOOL) {
    int64_t bits;
    if (!zcp__add_i64(b->length, n, &bits)) {
      return zcp__builder_error(b, ZCP_NO_SPACE, "too many elements");
    }
    *out = zcp__bitmap_bytes(bits) - b->buf[0].size;
    return ZCP_OK;
  }
  if (!zcp__mul_i64(n, b->width, out)) {
    return zcp__builder_error(b, ZCP_OUT_OF_MEMORY, "%lld values are too many",
                              (long long)n);
  }
  return ZCP_OK;
}

zcp_status_t zcp_builder_reserve(struct zcp_builder *b, int64_t additional,
                                 int64_t additional_bytes) {
  if (b == NULL) return ZCP_INVALID_ARGUMENT;
  if (additional < 0 || additional_bytes < 0) {
    return zcp__builder_error(b, ZCP_INVALID_ARGUMENT, "negative reserve");
  }
  enum zcp_type t = b->format.type;
  if (t == ZCP_TYPE_NA) return ZCP_OK;
  if (zcp__is_binary_type(t)) return zcp__binary_reserve(b, additional, additional_bytes);
  if (zcp__is_nested_type(t)) return zcp__nested_reserve(b, additional, additional_bytes);
  int64_t bytes;
  ZCP_RETURN_NOT_OK(values_bytes(b, additional, &bytes));
  ZCP_RETURN_NOT_OK(zcp__buf_reserve(b, &b->buf[0], bytes));
  return zcp__validity_reserve(b, additional, false);
}

/* ---- appends -------------------------------------------------------------------------
 */

zcp_status_t zcp__builder_append_slots(struct zcp_builder *b, int64_t n, bool valid) {
  if (n < 0)
    return zcp__builder_error(b, ZCP_INVALID_ARGUMENT, "negative count %lld",
                              (long long)n);
  if (n == 0) return ZCP_OK;
  enum zcp_type t = b->format.type;
  if (t == ZCP_TYPE_NA) {
    int64_t len;
    if (!zcp__add_i64(b->length, n, &len)) {
      return zcp__builder_error(b, ZCP_NO_SPACE, "too many elements");
    }
    b->length = len;
    b->null_count += n;
    return ZCP_OK;
  }
  if (zcp__is_binary_type(t)) return zcp__binary_append_slots(b, n, valid);
  if (zcp__is_nested_type(t)) return zcp__nested_append_slots(b, n, valid);
  int64_t bytes;
  ZCP_RETURN_NOT_OK(values_bytes(b, n, &bytes));
  ZCP_RETURN_NOT_OK(zcp__buf_reserve(b, &b->buf[0], bytes));
  ZCP_RETURN_NOT_OK(zcp__validity_reserve(b, n, !valid));
  if (t == ZCP_TYPE_BOOL) {
    zcp__bits_extend(&b->buf[0], b->length + n);
  } else {
    memset(b->buf[0].data + b->buf[0].size, 0, (size_t)bytes);
    b->buf[0].size += bytes;
  }
  zcp__validity_append(b, n, valid);
  b->length += n;
  if (!valid) b->null_count += n;
  return ZCP_OK;
}

zcp_status_t zcp__builder_fill(struct zcp_builder *b, int64_t n) {
  bool null = b->format.type == ZCP_TYPE_NA || b->dictionary != NULL;
  return zcp__builder_append_slots(b, n, !null);
}

zcp_status_t zcp_builder_append_null(struct zcp_builder *b, int64_t n) {
  if (b == NULL) return ZCP_INVALID_ARGUMENT;
  return zcp__builder_append_slots(b, n, false);
}

zcp_status_t zcp_builder_append_empty(struct zcp_builder *b, int64_t n) {
  if (b == NULL) return ZCP_INVALID_ARGUMENT;
  return zcp__builder_append_slots(b, n, true);
}

/* Appends one valid fixed-width value of b->width bytes (bool: `bytes` holds 0/1). */
static zcp_status_t append_fixed(struct zcp_builder *b, const void *bytes) {
  int64_t n = 0;
  ZCP_RETURN_NOT_OK(values_bytes(b, 1, &n));
  ZCP_RETURN_NOT_OK(zcp__buf_reserve(b, &b->buf[0], n));
  ZCP_RETURN_NOT_OK(zcp__validity_reserve(b, 1, false));
  if (b->format.type == ZCP_TYPE_BOOL) {
    zcp__bits_extend(&b->buf[0], b->length + 1);
    if (*(const uint8_t *)bytes) zcp__bits_set_range(b->buf[0].data, b->length, 1);
  } else {
    memcpy(b->buf[0].data + b->buf[0].size, bytes, (size_t)b->width);
    b->buf[0].size += b->width;
  }
  zcp__validity_append(b, 1, true);
  b->length++;
  return ZCP_OK;
}

static zcp_status_t append_float(struct zcp_builder *b, double v) {
  switch (b->format.type) {
    case ZCP_TYPE_HALF_FLOAT: {
      uint16_t h = half_from_double(v);
      return append_fixed(b, &h);
    }
    case ZCP_TYPE_FLOAT: {
      float f = (float)v;
      return append_fixed(b, &f);
    }
    default:
      return append_fixed(b, &v);
  }
}

/* Writes an integer that fits the type (checked by the caller). */
static zcp_status_t append_checked_int(struct zcp_builder *b, uint64_t raw,
                                       bool negative) {
  uint8_t bytes[32];
  if (b->format.type == ZCP_TYPE_BOOL) {
    bytes[0] = raw != 0;
    return append_fixed(b, bytes);
  }
  /* Little-endian two's complement, sign-extended to the width. */
  for (int64_t i = 0; i < b->width && i < 32; i++) {
    bytes[i] = i < 8 ? (uint8_t)(raw >> (8 * i)) : (negative ? 0xff : 0);
  }
  return append_fixed(b, bytes);
}

static bool is_decimal(enum zcp_type t) {
  return t >= ZCP_TYPE_DECIMAL32 && t <= ZCP_TYPE_DECIMAL256;
}

/* An integer as the unscaled value of a decimal: it must fit the width (a decimal32
 * holds an int32, a decimal64 an int64), or nothing is appended. The precision is not
 * enforced, here or by validation: Arrow's own integration files hold decimal(3, 2)
 * columns with five-digit values, and a reader that refused them would refuse Arrow. */
static zcp_status_t append_decimal_int(struct zcp_builder *b, uint64_t raw,
                                       bool negative) {
  bool fits = true;
  if (b->width == 4) {
    fits = negative ? (int64_t)raw >= INT32_MIN : raw <= INT32_MAX;
  } else if (b->width == 8) {
    fits = negative || raw <= INT64_MAX;
  }
  if (!fits) {
    char text[24];
    if (negative) {
      snprintf(text, sizeof text, "%lld", (long long)raw);
    } else {
      snprintf(text, sizeof text, "%llu", (unsigned long long)raw);
    }
    return zcp__builder_error(
        b, ZCP_INVALID_ARGUMENT,
        "unscaled value %s does not fit the %lld bytes of %s(%d, %d)", text,
        (long long)b->width, zcp_type_name(b->format.type), b->format.precision,
        b->format.scale);
  }
  return append_checked_int(b, raw, negative);
}

static zcp_status_t wrong_append(struct zcp_builder *b, const char *what) {
  return zcp__builder_error(b, ZCP_INVALID_ARGUMENT, "%s does not apply to this type",
                            what);
}

/* The common case of one integer appended where room is already there: a native store,
 * no call. Falls back (returns false) to the general path when a buffer must grow. */
static inline bool append_int_fast(struct zcp_builder *b, int64_t value) {
  struct zcp__buf *v = &b->buf[0];
  int64_t w = b->width;
  if (v->size + w > v->capacity) return false;
  if (b->validity.data != NULL) {
    int64_t need = zcp__bitmap_bytes(b->length + 1);
    if (need > b->validity.capacity) return false;
    if (need > b->validity.size) {
      b->validity.data[need - 1] = 0;
      b->validity.size = need;
    }
    zcp__bit_set(b->validity.data, b->length, true);
  }
  uint8_t *p = v->data + v->size;
  switch (w) {
    case 1: *p = (uint8_t)value; break;
    case 2: { int16_t x = (int16_t)value; memcpy(p, &x, 2); break; }
    case 4: { int32_t x = (int32_t)value; memcpy(p, &x, 4); break; }
    default: memcpy(p, &value, 8); break;
  }
  v->size += w;
  b->length++;
  return true;
}

zcp_status_t zcp_builder_append_int(struct zcp_builder *b, int64_t value) {
  if (b == NULL) return ZCP_INVALID_ARGUMENT;
  enum zcp_type t = b->format.type;
  int64_t lo;
  uint64_t hi;
  if (int_range(t, &lo, &hi)) {
    if (value < lo || (value > 0 && (uint64_t)value > hi)) {
      return zcp__builder_error(b, ZCP_INVALID_ARGUMENT,
                                "%lld is out of range [%lld, %llu]", (long long)value,
                                (long long)lo, (unsigned long long)hi);
    }
    if (t != ZCP_TYPE_BOOL && append_int_fast(b, value)) return ZCP_OK;
    return append_checked_int(b, (uint64_t)value, value < 0);
  }
  if (is_decimal(t)) return append_decimal_int(b, (uint64_t)value, value < 0);
  if (is_float(t)) return append_float(b, (double)value);
  return wrong_append(b, "append_int");
}

zcp_status_t zcp_builder_append_uint(struct zcp_builder *b, uint64_t value) {
  if (b == NULL) return ZCP_INVALID_ARGUMENT;
  enum zcp_type t = b->format.type;
  int64_t lo;
  uint64_t hi;
  if (int_range(t, &lo, &hi)) {
    if (value > hi) {
      return zcp__builder_error(
          b, ZCP_INVALID_ARGUMENT, "%llu is out of range [%lld, %llu]",
          (unsigned long long)value, (long long)lo, (unsigned long long)hi);
    }
    return append_checked_int(b, value, false);
  }
  if (is_decimal(t)) return append_decimal_int(b, value, false);
  if (is_float(t)) return append_float(b, (double)value);
  return wrong_append(b, "append_uint");
}

zcp_status_t zcp_builder_append_double(struct zcp_builder *b, double value) {
  if (b == NULL) return ZCP_INVALID_ARGUMENT;
  if (!is_float(b->format.type) || b->dictionary != NULL) {
    return wrong_append(b, "append_double");
  }
  return append_float(b, value);
}

zcp_status_t zcp_builder_append_bytes(struct zcp_builder *b, const void *data,
                                      int64_t size) {
  if (b == NULL) return ZCP_INVALID_ARGUMENT;
  if (size < 0 || (data == NULL && size > 0)) {
    return zcp__builder_error(b, ZCP_INVALID_ARGUMENT, "bad bytes (size %lld)",
                              (long long)size);
  }
  enum zcp_type t = b->format.type;
  if (zcp__is_binary_type(t)) return zcp__binary_append(b, data, size);
  if (is_decimal(t) || t == ZCP_TYPE_FIXED_SIZE_BINARY) {
    if (size != b->width) {
      return zcp__builder_error(b, ZCP_INVALID_ARGUMENT,
                                "expected values of exactly %lld bytes, got %lld",
                                (long long)b->width, (long long)size);
    }
    return append_fixed(b, data);
  }
  return wrong_append(b, "append_bytes");
}

zcp_status_t zcp_builder_append_string(struct zcp_builder *b, const char *str) {
  if (b == NULL) return ZCP_INVALID_ARGUMENT;
  if (str == NULL) return zcp__builder_error(b, ZCP_INVALID_ARGUMENT, "string is NULL");
  return zcp_builder_append_bytes(b, str, (int64_t)strlen(str));
}

zcp_status_t zcp_builder_append_interval(struct zcp_builder *b, int32_t months,
                                         int32_t days, int64_t sub_day) {
  if (b == NULL) return ZCP_INVALID_ARGUMENT;
  uint8_t bytes[16];
  switch (b->format.type) {
    case ZCP_TYPE_INTERVAL_DAY_TIME: {
      if (months != 0 || sub_day < INT32_MIN || sub_day > INT32_MAX) {
        return zcp__builder_error(
            b, ZCP_INVALID_ARGUMENT,
            "day-time intervals hold no months and int32 milliseconds "
            "(got %d months, %lld ms)",
            months, (long long)sub_day);
      }
      int32_t ms = (int32_t)sub_day;
      memcpy(bytes, &days, 4);
      memcpy(bytes + 4, &ms, 4);
      return append_fixed(b, bytes);
    }
    case ZCP_TYPE_INTERVAL_MONTH_DAY_NANO:
      memcpy(bytes, &months, 4);
      memcpy(bytes + 4, &days, 4);
      memcpy(bytes + 8, &sub_day, 8);
      return append_fixed(b, bytes);
    case ZCP_TYPE_INTERVAL_MONTHS:
      if (days != 0 || sub_day != 0) {
        return zcp__builder_error(b, ZCP_INVALID_ARGUMENT,
                                  "month intervals hold months only");
      }
      return append_fixed(b, &months);
    default:
      return wrong_append(b, "append_interval");
  }
}

zcp_status_t zcp_builder_append_values(struct zcp_builder *b, const void *values,
                                       const uint8_t *validity, int64_t n) {
  if (b == NULL) return ZCP_INVALID_ARGUMENT;
  enum zcp_type t = b->format.type;
  if (!is_fixed_width(t) && t != ZCP_TYPE_FIXED_SIZE_BINARY) {
    return wrong_append(b, "append_values");
  }
  if (n < 0 || (n > 0 && values == NULL)) {
    return zcp__builder_error(b, ZCP_INVALID_ARGUMENT, "bad values (n %lld)",
                              (long long)n);
  }
  if (n == 0) return ZCP_OK;
  /* Find nulls first: without any, the validity input is as good as NULL. */
  int64_t nulls = zcp__count_nulls(validity, n);
  if (nulls == 0) validity = NULL;
  int64_t bytes, bits;
  if (!zcp__add_i64(b->length, n, &bits)) {
    return zcp__builder_error(b, ZCP_NO_SPACE, "too many elements");
  }
  ZCP_RETURN_NOT_OK(values_bytes(b, n, &bytes));
  ZCP_RETURN_NOT_OK(zcp__buf_reserve(b, &b->buf[0], bytes));
  ZCP_RETURN_NOT_OK(zcp__validity_reserve(b, n, nulls > 0));
  if (t == ZCP_TYPE_BOOL) {
    zcp__bits_extend(&b->buf[0], bits);
    bits_from_bytes(b->buf[0].data, b->length, values, n);
  } else {
    memcpy(b->buf[0].data + b->buf[0].size, values, (size_t)bytes);
    b->buf[0].size += bytes;
  }
  zcp__validity_append_bytes(b, validity, n);
  b->length = bits;
  b->null_count += nulls;
  return ZCP_OK;
}
