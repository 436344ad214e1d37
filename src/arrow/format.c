/* Format strings of the Arrow C Data Interface: parsing into struct zcp_format, writing
 * back, and the per-type facts (name, bit width, number of buffers) that builders,
 * views and validation rely on.
 *
 * The parser accepts exactly the spelling of the specification and nothing else: no
 * whitespace, no trailing characters, no signs on sizes, numbers checked for overflow.
 * What the specification has but this library does not take (a fixed-size binary too
 * wide for its bit width to fit an int32) is ZCP_UNSUPPORTED, never "invalid". It never
 * reads past the terminating NUL and never allocates. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "arrow/internal.h"

/* Fixed-size binary widths are limited so that the bit width (8 * bytes) fits int32. */
#define MAX_FIXED_BINARY (INT32_MAX / 8)

/* The format of every type whose format has no parameters (NULL for the others), and
 * the name of every type. Indexed by enum zcp_type. */
static const char *const fixed_formats[ZCP_TYPE_COUNT_] = {
    [ZCP_TYPE_NA] = "n",
    [ZCP_TYPE_BOOL] = "b",
    [ZCP_TYPE_INT8] = "c",
    [ZCP_TYPE_UINT8] = "C",
    [ZCP_TYPE_INT16] = "s",
    [ZCP_TYPE_UINT16] = "S",
    [ZCP_TYPE_INT32] = "i",
    [ZCP_TYPE_UINT32] = "I",
    [ZCP_TYPE_INT64] = "l",
    [ZCP_TYPE_UINT64] = "L",
    [ZCP_TYPE_HALF_FLOAT] = "e",
    [ZCP_TYPE_FLOAT] = "f",
    [ZCP_TYPE_DOUBLE] = "g",
    [ZCP_TYPE_DATE32] = "tdD",
    [ZCP_TYPE_DATE64] = "tdm",
    [ZCP_TYPE_INTERVAL_MONTHS] = "tiM",
    [ZCP_TYPE_INTERVAL_DAY_TIME] = "tiD",
    [ZCP_TYPE_INTERVAL_MONTH_DAY_NANO] = "tin",
    [ZCP_TYPE_BINARY] = "z",
    [ZCP_TYPE_STRING] = "u",
    [ZCP_TYPE_LARGE_BINARY] = "Z",
    [ZCP_TYPE_LARGE_STRING] = "U",
    [ZCP_TYPE_BINARY_VIEW] = "vz",
    [ZCP_TYPE_STRING_VIEW] = "vu",
    [ZCP_TYPE_LIST] = "+l",
    [ZCP_TYPE_LARGE_LIST] = "+L",
    [ZCP_TYPE_LIST_VIEW] = "+vl",
    [ZCP_TYPE_LARGE_LIST_VIEW] = "+vL",
    [ZCP_TYPE_STRUCT] = "+s",
    [ZCP_TYPE_MAP] = "+m",
    [ZCP_TYPE_RUN_END_ENCODED] = "+r",
};

static const char *const type_names[ZCP_TYPE_COUNT_] = {
    [ZCP_TYPE_NA] = "null",
    [ZCP_TYPE_BOOL] = "bool",
    [ZCP_TYPE_INT8] = "int8",
    [ZCP_TYPE_UINT8] = "uint8",
    [ZCP_TYPE_INT16] = "int16",
    [ZCP_TYPE_UINT16] = "uint16",
    [ZCP_TYPE_INT32] = "int32",
    [ZCP_TYPE_UINT32] = "uint32",
    [ZCP_TYPE_INT64] = "int64",
    [ZCP_TYPE_UINT64] = "uint64",
    [ZCP_TYPE_HALF_FLOAT] = "half_float",
    [ZCP_TYPE_FLOAT] = "float",
    [ZCP_TYPE_DOUBLE] = "double",
    [ZCP_TYPE_DECIMAL32] = "decimal32",
    [ZCP_TYPE_DECIMAL64] = "decimal64",
    [ZCP_TYPE_DECIMAL128] = "decimal128",
    [ZCP_TYPE_DECIMAL256] = "decimal256",
    [ZCP_TYPE_DATE32] = "date32",
    [ZCP_TYPE_DATE64] = "date64",
    [ZCP_TYPE_TIME32] = "time32",
    [ZCP_TYPE_TIME64] = "time64",
    [ZCP_TYPE_TIMESTAMP] = "timestamp",
    [ZCP_TYPE_DURATION] = "duration",
    [ZCP_TYPE_INTERVAL_MONTHS] = "interval_months",
    [ZCP_TYPE_INTERVAL_DAY_TIME] = "interval_day_time",
    [ZCP_TYPE_INTERVAL_MONTH_DAY_NANO] = "interval_month_day_nano",
    [ZCP_TYPE_BINARY] = "binary",
    [ZCP_TYPE_STRING] = "utf8",
    [ZCP_TYPE_LARGE_BINARY] = "large_binary",
    [ZCP_TYPE_LARGE_STRING] = "large_utf8",
    [ZCP_TYPE_BINARY_VIEW] = "binary_view",
    [ZCP_TYPE_STRING_VIEW] = "utf8_view",
    [ZCP_TYPE_FIXED_SIZE_BINARY] = "fixed_size_binary",
    [ZCP_TYPE_LIST] = "list",
    [ZCP_TYPE_LARGE_LIST] = "large_list",
    [ZCP_TYPE_LIST_VIEW] = "list_view",
    [ZCP_TYPE_LARGE_LIST_VIEW] = "large_list_view",
    [ZCP_TYPE_FIXED_SIZE_LIST] = "fixed_size_list",
    [ZCP_TYPE_STRUCT] = "struct",
    [ZCP_TYPE_MAP] = "map",
    [ZCP_TYPE_SPARSE_UNION] = "sparse_union",
    [ZCP_TYPE_DENSE_UNION] = "dense_union",
    [ZCP_TYPE_RUN_END_ENCODED] = "run_end_encoded",
};

/* Unit letters in enum zcp_time_unit order. */
static const char unit_chars[] = "smun";

/* ---- Parsing -------------------------------------------------------------------- */

/* Parses a decimal integer at *p (optional '-', then at least one digit) and advances *p.
 * Returns false on a missing digit or a value outside int64; range checks are the
 * caller's, so that messages can say which number was wrong. */
static bool parse_number(const char **p, int64_t *out) {
  const char *s = *p;
  bool neg = false;
  if (*s == '-') {
    neg = true;
    s++;
  }
  if (*s < '0' || *s > '9') return false;
  int64_t v = 0;
  while (*s >= '0' && *s <= '9') {
    int digit = *s - '0';
    if (v > (INT64_MAX - digit) / 10) return false;
    v = v * 10 + digit;
    s++;
  }
  *out = neg ? -v : v;
  *p = s;
  return true;
}

/* Why parsing failed: a format the specification does not have (the default), or one
 * it has but this library does not take (`unsupported`). */
struct why {
  char text[160];
  bool unsupported;
};

/* Records why parsing failed; returns false so that `return fail(...)` reads well. */
static bool fail(struct why *why, const char *fmt, ...) ZCP_PRINTF(2, 3);
static bool fail(struct why *why, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why->text, sizeof why->text, fmt, ap);
  va_end(ap);
  return false;
}

static bool set_type(struct zcp_format *f, enum zcp_type type) {
  f->type = type;
  return true;
}

static bool expect(const char **p, char c) {
  if (**p != c) return false;
  (*p)++;
  return true;
}

static bool unit_of(char c, enum zcp_time_unit *unit) {
  const char *hit = c != '\0' ? strchr(unit_chars, c) : NULL;
  if (hit == NULL) return false;
  *unit = (enum zcp_time_unit)(hit - unit_chars);
  return true;
}

/* "d:P,S" or "d:P,S,BITS" after the 'd'. The specification knows four widths (32, 64,
 * 128 and 256 bits); a width without a bit count is 128, as it always was. */
static bool parse_decimal(const char **p, struct zcp_format *f, struct why *why) {
  int64_t precision, scale, bits = 128;
  if (!expect(p, ':')) return fail(why, "expected ':' after 'd'");
  if (!parse_number(p, &precision)) {
    return fail(why, "expected a decimal precision");
  }
  if (!expect(p, ',')) return fail(why, "expected ',' after the precision");
  if (!parse_number(p, &scale) || scale < INT32_MIN || scale > INT32_MAX) {
    return fail(why, "expected a decimal scale in int32 range");
  }
  if (**p == ',') {
    (*p)++;
    if (!parse_number(p, &bits)) {
      return fail(why, "expected a decimal bit width");
    }
  }
  if (!zcp__decimal_type_of_bits(bits, &f->type)) {
    return fail(why, "decimal bit width %lld is not one of 32, 64, 128 and 256",
                (long long)bits);
  }
  int32_t max_precision = zcp__decimal_max_precision(f->type);
  if (precision < 1 || precision > max_precision) {
    return fail(why, "decimal%lld precision %lld is outside 1..%d", (long long)bits,
                (long long)precision, (int)max_precision);
  }
  f->precision = (int32_t)precision;
  f->scale = (int32_t)scale;
  return true;
}

/* ":N" of "w:N" and "+w:N"; N in 0..INT32_MAX (the IPC format's int32), and at most
 * `max`, this library's own limit (a larger N is valid but unsupported). */
static bool parse_size(const char **p, int64_t max, struct zcp_format *f,
                       struct why *why) {
  int64_t n;
  if (!expect(p, ':')) return fail(why, "expected ':' before the size");
  if (!parse_number(p, &n)) return fail(why, "expected a size");
  if (n < 0 || n > INT32_MAX) {
    return fail(why, "size %lld is outside 0..%d", (long long)n, INT32_MAX);
  }
  if (n > max) {
    why->unsupported = true;
    return fail(why, "size %lld is larger than the %lld this library supports",
                (long long)n, (long long)max);
  }
  f->fixed_size = (int32_t)n;
  return true;
}

/* The type id list after "+ud:" / "+us:" (may be empty: a union without children). */
static bool parse_type_ids(const char **p, struct zcp_format *f, struct why *why) {
  bool seen[ZCP_MAX_UNION_TYPES] = {false};
  if (**p == '\0') return true;
  for (;;) {
    int64_t id;
    if (!parse_number(p, &id)) return fail(why, "expected a union type id");
    if (id < 0 || id >= ZCP_MAX_UNION_TYPES) {
      return fail(why, "union type id %lld is outside 0..%d", (long long)id,
                  ZCP_MAX_UNION_TYPES - 1);
    }
    if (seen[id]) {
      return fail(why, "union type id %lld appears twice", (long long)id);
    }
    /* Distinct ids in 0..127 cannot exceed 128 entries, so the array cannot overflow. */
    seen[id] = true;
    f->type_ids[f->n_type_ids++] = (int8_t)id;
    if (**p != ',') return true;
    (*p)++;
  }
}

static bool parse_temporal(const char **p, struct zcp_format *f, struct why *why) {
  char kind = **p;
  if (kind != '\0') (*p)++;
  char sub = **p;
  if (sub != '\0') (*p)++;
  switch (kind) {
    case 'd':
      if (sub == 'D') return set_type(f, ZCP_TYPE_DATE32);
      if (sub == 'm') return set_type(f, ZCP_TYPE_DATE64);
      break;
    case 't':
      if (!unit_of(sub, &f->unit)) break;
      f->type = (sub == 's' || sub == 'm') ? ZCP_TYPE_TIME32 : ZCP_TYPE_TIME64;
      return true;
    case 's': {
      if (!unit_of(sub, &f->unit)) break;
      f->type = ZCP_TYPE_TIMESTAMP;
      if (!expect(p, ':')) {
        return fail(why, "expected ':' and a (possibly empty) time zone");
      }
      size_t len = strlen(*p);
      if (len > (size_t)INT32_MAX) return fail(why, "time zone too long");
      f->timezone = len > 0 ? *p : NULL;
      f->timezone_len = (int32_t)len;
      *p += len;
      return true;
    }
    case 'D':
      if (!unit_of(sub, &f->unit)) break;
      f->type = ZCP_TYPE_DURATION;
      return true;
    case 'i':
      if (sub == 'M') return set_type(f, ZCP_TYPE_INTERVAL_MONTHS);
      if (sub == 'D') return set_type(f, ZCP_TYPE_INTERVAL_DAY_TIME);
      if (sub == 'n') return set_type(f, ZCP_TYPE_INTERVAL_MONTH_DAY_NANO);
      break;
    default:
      break;
  }
  return fail(why, "unknown temporal type");
}

static bool parse_nested(const char **p, struct zcp_format *f, struct why *why) {
  char c = **p;
  if (c != '\0') (*p)++;
  switch (c) {
    case 'l':
      return set_type(f, ZCP_TYPE_LIST);
    case 'L':
      return set_type(f, ZCP_TYPE_LARGE_LIST);
    case 's':
      return set_type(f, ZCP_TYPE_STRUCT);
    case 'm':
      return set_type(f, ZCP_TYPE_MAP);
    case 'r':
      return set_type(f, ZCP_TYPE_RUN_END_ENCODED);
    case 'v':
      if (expect(p, 'l')) return set_type(f, ZCP_TYPE_LIST_VIEW);
      if (expect(p, 'L')) return set_type(f, ZCP_TYPE_LARGE_LIST_VIEW);
      break;
    case 'w':
      f->type = ZCP_TYPE_FIXED_SIZE_LIST;
      return parse_size(p, INT32_MAX, f, why);
    case 'u':
      if (expect(p, 'd')) {
        f->type = ZCP_TYPE_DENSE_UNION;
      } else if (expect(p, 's')) {
        f->type = ZCP_TYPE_SPARSE_UNION;
      } else {
        break;
      }
      if (!expect(p, ':')) return fail(why, "expected ':' and type ids");
      return parse_type_ids(p, f, why);
    default:
      break;
  }
  return fail(why, "unknown nested type");
}

static bool parse(const char *format, struct zcp_format *f, struct why *why) {
  /* Parameterless formats are matched whole; the rest are parsed piece by piece, so
   * that a near miss ("tdx", "w:-1") gets a message saying what was wrong. */
  for (int t = 0; t < ZCP_TYPE_COUNT_; t++) {
    if (fixed_formats[t] != NULL && strcmp(format, fixed_formats[t]) == 0) {
      return set_type(f, (enum zcp_type)t);
    }
  }
  const char *p = format;
  char c = *p;
  if (c != '\0') p++;
  bool ok;
  switch (c) {
    case 'w':
      f->type = ZCP_TYPE_FIXED_SIZE_BINARY;
      ok = parse_size(&p, MAX_FIXED_BINARY, f, why);
      break;
    case 'd':
      ok = parse_decimal(&p, f, why);
      break;
    case 't':
      ok = parse_temporal(&p, f, why);
      break;
    case '+':
      ok = parse_nested(&p, f, why);
      break;
    case 'v':
      ok = fail(why, "unknown view type");
      break;
    case '\0':
      ok = fail(why, "empty");
      break;
    default:
      ok = fail(why, strchr("nbcCsSiIlLefgzZuU", c)
                         ? "unexpected characters after the type"
                         : "unknown type");
      break;
  }
  if (ok && *p != '\0') {
    ok = fail(why, "unexpected characters after the type at offset %lld",
              (long long)(p - format));
  }
  return ok;
}

zcp_status_t zcp_format_parse(const char *format, struct zcp_format *out,
                              struct zcp_error *err) {
  if (format == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "format string is NULL");
  }
  if (out == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "format \"%.100s\": no output",
                         format);
  }
  memset(out, 0, sizeof *out);
  struct why why = {{0}, false};
  if (parse(format, out, &why)) return ZCP_OK;
  /* Leave nothing half-parsed behind: callers may look at out after an error. */
  memset(out, 0, sizeof *out);
  if (why.unsupported) {
    return zcp_error_set(err, ZCP_UNSUPPORTED, "format string \"%.100s%s\": %s", format,
                         strlen(format) > 100 ? "..." : "", why.text);
  }
  return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                       "invalid format string \"%.100s%s\": %s", format,
                       strlen(format) > 100 ? "..." : "", why.text);
}

/* ---- Writing -------------------------------------------------------------------- */

/* Appends into a caller buffer, counting what did not fit so that the caller learns the
 * size it needed. */
struct writer {
  char *buf;
  size_t cap, len;
};

static void put(struct writer *w, const char *s, size_t n) {
  if (w->len < w->cap) {
    size_t room = w->cap - w->len;
    memcpy(w->buf + w->len, s, n < room ? n : room);
  }
  w->len += n;
}

static void put_str(struct writer *w, const char *s) {
  put(w, s, strlen(s));
}

static void put_int(struct writer *w, int64_t v) {
  char tmp[24];
  int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
  put(w, tmp, (size_t)n);
}

/* Checks the fields of f that the type uses; NULL when f can be written. */
static const char *check_format(const struct zcp_format *f) {
  switch (f->type) {
    case ZCP_TYPE_DECIMAL32:
      if (f->precision < 1 || f->precision > 9) return "decimal32 precision outside 1..9";
      return NULL;
    case ZCP_TYPE_DECIMAL64:
      if (f->precision < 1 || f->precision > 18)
        return "decimal64 precision outside 1..18";
      return NULL;
    case ZCP_TYPE_DECIMAL128:
      if (f->precision < 1 || f->precision > 38)
        return "decimal128 precision outside 1..38";
      return NULL;
    case ZCP_TYPE_DECIMAL256:
      if (f->precision < 1 || f->precision > 76)
        return "decimal256 precision outside 1..76";
      return NULL;
    case ZCP_TYPE_TIME32:
      if (f->unit != ZCP_TIME_SECOND && f->unit != ZCP_TIME_MILLI) {
        return "time32 unit must be seconds or milliseconds";
      }
      return NULL;
    case ZCP_TYPE_TIME64:
      if (f->unit != ZCP_TIME_MICRO && f->unit != ZCP_TIME_NANO) {
        return "time64 unit must be microseconds or nanoseconds";
      }
      return NULL;
    case ZCP_TYPE_TIMESTAMP:
      if (f->timezone_len < 0 || (f->timezone_len > 0 && f->timezone == NULL)) {
        return "timestamp time zone length without a time zone";
      }
      if (f->timezone_len > 0 && memchr(f->timezone, '\0', (size_t)f->timezone_len)) {
        return "timestamp time zone contains a NUL byte";
      }
      if ((unsigned)f->unit > ZCP_TIME_NANO) return "unknown time unit";
      return NULL;
    case ZCP_TYPE_DURATION:
      if ((unsigned)f->unit > ZCP_TIME_NANO) return "unknown time unit";
      return NULL;
    case ZCP_TYPE_FIXED_SIZE_BINARY:
      if (f->fixed_size < 0 || f->fixed_size > MAX_FIXED_BINARY) {
        return "fixed-size binary width out of range";
      }
      return NULL;
    case ZCP_TYPE_FIXED_SIZE_LIST:
      if (f->fixed_size < 0) return "fixed-size list size is negative";
      return NULL;
    case ZCP_TYPE_SPARSE_UNION:
    case ZCP_TYPE_DENSE_UNION: {
      if (f->n_type_ids < 0 || f->n_type_ids > ZCP_MAX_UNION_TYPES) {
        return "union has more than 128 type ids";
      }
      bool seen[ZCP_MAX_UNION_TYPES] = {false};
      for (int32_t i = 0; i < f->n_type_ids; i++) {
        int id = f->type_ids[i];
        if (id < 0) return "union type id outside 0..127";
        if (seen[id]) return "union type id appears twice";
        seen[id] = true;
      }
      return NULL;
    }
    default:
      if ((unsigned)f->type >= ZCP_TYPE_COUNT_) return "unknown type";
      return NULL;
  }
}

zcp_status_t zcp_format_write(const struct zcp_format *f, char *buf, size_t cap,
                              struct zcp_error *err) {
  if (f == NULL || (buf == NULL && cap > 0)) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "format write: NULL argument");
  }
  const char *bad = check_format(f);
  if (bad != NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "cannot write a format for %s: %s",
                         zcp_type_name(f->type), bad);
  }
  struct writer w = {buf, cap, 0};
  switch (f->type) {
    case ZCP_TYPE_DECIMAL32:
    case ZCP_TYPE_DECIMAL64:
    case ZCP_TYPE_DECIMAL128:
    case ZCP_TYPE_DECIMAL256:
      put_str(&w, "d:");
      put_int(&w, f->precision);
      put_str(&w, ",");
      put_int(&w, f->scale);
      /* decimal128 is written without its (default) bit width, as most producers do */
      if (f->type != ZCP_TYPE_DECIMAL128) {
        put_str(&w, ",");
        put_int(&w, zcp_type_bit_width(f->type));
      }
      break;
    case ZCP_TYPE_TIME32:
    case ZCP_TYPE_TIME64:
      put_str(&w, "tt");
      put(&w, &unit_chars[f->unit], 1);
      break;
    case ZCP_TYPE_TIMESTAMP:
      put_str(&w, "ts");
      put(&w, &unit_chars[f->unit], 1);
      put_str(&w, ":");
      if (f->timezone_len > 0) put(&w, f->timezone, (size_t)f->timezone_len);
      break;
    case ZCP_TYPE_DURATION:
      put_str(&w, "tD");
      put(&w, &unit_chars[f->unit], 1);
      break;
    case ZCP_TYPE_FIXED_SIZE_BINARY:
      put_str(&w, "w:");
      put_int(&w, f->fixed_size);
      break;
    case ZCP_TYPE_FIXED_SIZE_LIST:
      put_str(&w, "+w:");
      put_int(&w, f->fixed_size);
      break;
    case ZCP_TYPE_SPARSE_UNION:
    case ZCP_TYPE_DENSE_UNION:
      put_str(&w, f->type == ZCP_TYPE_DENSE_UNION ? "+ud:" : "+us:");
      for (int32_t i = 0; i < f->n_type_ids; i++) {
        if (i > 0) put_str(&w, ",");
        put_int(&w, f->type_ids[i]);
      }
      break;
    default:
      /* every other type has a constant format; check_format rejected unknown types */
      put_str(&w, fixed_formats[f->type]);
      break;
  }
  if (w.len + 1 > cap) {
    if (cap > 0) buf[0] = '\0';
    return zcp_error_set(err, ZCP_NO_SPACE,
                         "format of %s needs %zu bytes with its NUL, buffer holds %zu",
                         zcp_type_name(f->type), w.len + 1, cap);
  }
  buf[w.len] = '\0';
  return ZCP_OK;
}

/* ---- Per-type facts ------------------------------------------------------------- */

const char *zcp_type_name(enum zcp_type type) {
  if ((unsigned)type >= ZCP_TYPE_COUNT_) return "unknown";
  return type_names[type];
}

int32_t zcp_type_bit_width(enum zcp_type type) {
  switch (type) {
    case ZCP_TYPE_BOOL:
      return 1;
    case ZCP_TYPE_INT8:
    case ZCP_TYPE_UINT8:
      return 8;
    case ZCP_TYPE_INT16:
    case ZCP_TYPE_UINT16:
    case ZCP_TYPE_HALF_FLOAT:
      return 16;
    case ZCP_TYPE_INT32:
    case ZCP_TYPE_UINT32:
    case ZCP_TYPE_FLOAT:
    case ZCP_TYPE_DECIMAL32:
    case ZCP_TYPE_DATE32:
    case ZCP_TYPE_TIME32:
    case ZCP_TYPE_INTERVAL_MONTHS:
      return 32;
    case ZCP_TYPE_INT64:
    case ZCP_TYPE_UINT64:
    case ZCP_TYPE_DOUBLE:
    case ZCP_TYPE_DECIMAL64:
    case ZCP_TYPE_DATE64:
    case ZCP_TYPE_TIME64:
    case ZCP_TYPE_TIMESTAMP:
    case ZCP_TYPE_DURATION:
    case ZCP_TYPE_INTERVAL_DAY_TIME:
      return 64; /* int32 days + int32 milliseconds */
    case ZCP_TYPE_DECIMAL128:
    case ZCP_TYPE_INTERVAL_MONTH_DAY_NANO:
      return 128; /* int32, int32, int64 */
    case ZCP_TYPE_DECIMAL256:
      return 256;
    default:
      return 0; /* null, variable-width, fixed-size binary (needs the format), nested */
  }
}

int32_t zcp__decimal_max_precision(enum zcp_type type) {
  /* the most decimal digits every value of the width can hold: 10^p - 1 < 2^(bits-1) */
  switch (type) {
    case ZCP_TYPE_DECIMAL32:
      return 9;
    case ZCP_TYPE_DECIMAL64:
      return 18;
    case ZCP_TYPE_DECIMAL128:
      return 38;
    case ZCP_TYPE_DECIMAL256:
      return 76;
    default:
      return 0;
  }
}

int32_t zcp_format_bit_width(const struct zcp_format *f) {
  if (f == NULL) return 0;
  if (f->type == ZCP_TYPE_FIXED_SIZE_BINARY) {
    /* the parser bounds fixed_size so that this cannot overflow */
    if (f->fixed_size < 0 || f->fixed_size > MAX_FIXED_BINARY) return 0;
    return f->fixed_size * 8;
  }
  return zcp_type_bit_width(f->type);
}

int64_t zcp__format_n_children(const struct zcp_format *f) {
  switch (f->type) {
    case ZCP_TYPE_LIST:
    case ZCP_TYPE_LARGE_LIST:
    case ZCP_TYPE_LIST_VIEW:
    case ZCP_TYPE_LARGE_LIST_VIEW:
    case ZCP_TYPE_FIXED_SIZE_LIST:
    case ZCP_TYPE_MAP:
      return 1;
    case ZCP_TYPE_RUN_END_ENCODED:
      return 2;
    case ZCP_TYPE_SPARSE_UNION:
    case ZCP_TYPE_DENSE_UNION:
      return f->n_type_ids;
    case ZCP_TYPE_STRUCT:
      return -1;
    default:
      return 0;
  }
}

int32_t zcp_type_n_buffers(enum zcp_type type) {
  switch (type) {
    case ZCP_TYPE_NA:
      return 0; /* the C Data Interface gives null arrays no buffers */
    case ZCP_TYPE_BINARY:
    case ZCP_TYPE_STRING:
    case ZCP_TYPE_LARGE_BINARY:
    case ZCP_TYPE_LARGE_STRING:
      return 3; /* validity, offsets, data */
    /* validity, views, variadic buffer sizes; the variadic data buffers come in between
     * and are counted by the array, not the type */
    case ZCP_TYPE_BINARY_VIEW:
    case ZCP_TYPE_STRING_VIEW:
      return 3;
    case ZCP_TYPE_LIST:
    case ZCP_TYPE_LARGE_LIST:
    case ZCP_TYPE_MAP:
      return 2; /* validity, offsets */
    case ZCP_TYPE_LIST_VIEW:
    case ZCP_TYPE_LARGE_LIST_VIEW:
      return 3; /* validity, offsets, sizes */
    case ZCP_TYPE_FIXED_SIZE_LIST:
    case ZCP_TYPE_STRUCT:
      return 1; /* validity */
    /* Unions have no validity bitmap: buffers[0] is the int8 type ids, and dense unions
     * add buffers[1], the int32 offsets into the selected child. Nulls live in the
     * children. */
    case ZCP_TYPE_SPARSE_UNION:
      return 1;
    case ZCP_TYPE_DENSE_UNION:
      return 2;
    /* Run-end encoded arrays have no buffers at all (not even validity): run ends and
     * values are its two children. */
    case ZCP_TYPE_RUN_END_ENCODED:
      return 0;
    case ZCP_TYPE_COUNT_:
      return 0;
    default:
      return 2; /* bool and every fixed-width type: validity, values */
  }
}
