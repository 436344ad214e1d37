/* Human-readable printing of schemas, values and record batches (the CLI's `show` and
 * `head`, test failure messages, the demo). Reads arrays only through array views, so it
 * prints foreign arrays as well as ours. Arrow's canonical extension types print as what
 * they mean (UUIDs, JSON text, 8-bit booleans, tensors in their shape). Never allocates on the value path except the
 * child views a nested value needs. Output is for people, not for parsing. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/internal.h"
#include "common/util.h"

/* snprintf-like appender: writes what fits, always counts what it wanted. */
struct out {
  char *buf;
  size_t cap;
  int64_t len;
};

static void put(struct out *o, const char *s, int64_t n) {
  for (int64_t i = 0; i < n; i++, o->len++) {
    if ((size_t)o->len + 1 < o->cap) o->buf[o->len] = s[i];
  }
  if (o->cap > 0) o->buf[(size_t)o->len < o->cap ? (size_t)o->len : o->cap - 1] = '\0';
}

static void puts_(struct out *o, const char *s) { put(o, s, (int64_t)strlen(s)); }

ZCP_PRINTF(2, 3) static void putf(struct out *o, const char *fmt, ...) {
  char tmp[128];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0) put(o, tmp, n < (int)sizeof tmp ? n : (int)sizeof tmp - 1);
}

/* ---- temporal ------------------------------------------------------------------------ */

/* Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's civil algorithm,
 * written from its published description). */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static const int64_t kPerSecond[] = {1, 1000, 1000000, 1000000000};
static const int kDigits[] = {0, 3, 6, 9};
static const char *const kUnitSuffix[] = {"s", "ms", "us", "ns"};

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static void put_date(struct out *o, int64_t days) {
  int64_t y;
  int m, d;
  civil_from_days(days, &y, &m, &d);
  putf(o, "%04" PRId64 "-%02d-%02d", y, m, d);
}

/* Time of day from a value in `unit` since midnight (or since the epoch, reduced). */
static void put_time(struct out *o, int64_t v, enum zcp_time_unit unit) {
  int64_t per = kPerSecond[unit];
  int64_t secs = floor_div(v, per);
  int64_t frac = v - secs * per;
  int64_t sod = secs - floor_div(secs, 86400) * 86400;
  putf(o, "%02d:%02d:%02d", (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
  if (unit != ZCP_TIME_SECOND && frac != 0) putf(o, ".%0*" PRId64, kDigits[unit], frac);
}

static void put_timestamp(struct out *o, int64_t v, enum zcp_time_unit unit, bool utc) {
  int64_t secs = floor_div(v, kPerSecond[unit]);
  put_date(o, floor_div(secs, 86400));
  puts_(o, "T");
  put_time(o, v, unit);
  if (utc) puts_(o, "Z");
}

/* ---- decimals ------------------------------------------------------------------------ */

/* A decimal's unscaled value (two's-complement little-endian, `width` bytes) as decimal
 * text with `scale` digits after the point. */
static void put_decimal(struct out *o, const uint8_t *bytes, int64_t width, int32_t scale) {
  uint64_t w[4];
  if (zcp__decimal_max_precision_of_width(width) == 0) {
    puts_(o, "?"); /* no values buffer to read from */
    return;
  }
  int limbs = zcp__decimal_limbs(bytes, width, w);
  bool neg = zcp__decimal_negate_if_negative(w, limbs);
  char digits[80];
  int n = 0;
  for (;;) {
    bool zero = true;
    unsigned __int128 rem = 0;
    for (int i = limbs - 1; i >= 0; i--) {
      unsigned __int128 cur = (rem << 64) | w[i];
      w[i] = (uint64_t)(cur / 10);
      rem = cur % 10;
      if (w[i] != 0) zero = false;
    }
    digits[n++] = (char)('0' + (int)rem);
    if (zero) break;
  }
  if (neg) puts_(o, "-");
  if (scale < 0 || scale >= (int32_t)sizeof digits - 1) {
    /* A scale the digits buffer cannot pad to (any int32 is a valid scale): print the
     * unscaled integer with an exponent rather than billions of zeros. */
    for (int i = n - 1; i >= 0; i--) put(o, &digits[i], 1);
    putf(o, "e%lld", -(long long)scale);
    return;
  }
  while (n <= scale) digits[n++] = '0';
  for (int i = n - 1; i >= 0; i--) {
    put(o, &digits[i], 1);
    if (i == scale && scale > 0) puts_(o, ".");
  }
}

/* ---- strings ------------------------------------------------------------------------- */

static void put_quoted(struct out *o, struct zcp_string_view s, bool text) {
  puts_(o, text ? "\"" : "b\"");
  for (int64_t i = 0; i < s.size; i++) {
    unsigned char c = (unsigned char)s.data[i];
    if (c == '"' || c == '\\') {
      putf(o, "\\%c", c);
    } else if (c == '\n') {
      puts_(o, "\\n");
    } else if (c < 0x20 || c == 0x7f || (!text && c >= 0x80)) {
      putf(o, "\\x%02x", c);
    } else {
      put(o, (const char *)&c, 1);
    }
  }
  puts_(o, "\"");
}

/* ---- values -------------------------------------------------------------------------- */

#define MAX_ITEMS 20 /* list elements shown before "..." */

static void put_value(struct out *o, const struct zcp_array_view *v, int64_t i);

static void put_list(struct out *o, const struct zcp_array_view *v, int64_t i, bool map) {
  int64_t start, size;
  zcp_array_view_get_list(v, i, &start, &size);
  const struct zcp_array_view *items = &v->children[0];
  puts_(o, map ? "{" : "[");
  for (int64_t k = 0; k < size; k++) {
    if (k > 0) puts_(o, ", ");
    if (k == MAX_ITEMS) {
      putf(o, "... %" PRId64 " more", size - k);
      break;
    }
    if (map && items->n_children == 2) {
      put_value(o, &items->children[0], start + k);
      puts_(o, ": ");
      put_value(o, &items->children[1], start + k);
    } else {
      put_value(o, items, start + k);
    }
  }
  puts_(o, map ? "}" : "]");
}

/* ---- canonical extension types --------------------------------------------------------- */

/* Bytes as text without quotes (JSON documents), control characters escaped. */
static void put_raw(struct out *o, struct zcp_string_view s) {
  for (int64_t i = 0; i < s.size; i++) {
    unsigned char c = (unsigned char)s.data[i];
    if (c == '\n') {
      puts_(o, "\\n");
    } else if (c < 0x20 || c == 0x7f) {
      putf(o, "\\x%02x", c);
    } else {
      put(o, (const char *)&c, 1);
    }
  }
}

/* Elements [start, start + product of dims) of items as nested lists, row-major. */
static void put_dims(struct out *o, const struct zcp_array_view *items, int64_t start,
                     const int64_t *dims, int n) {
  if (n == 0) {
    put_value(o, items, start);
    return;
  }
  int64_t stride = 1;
  for (int k = 1; k < n; k++) stride *= dims[k]; /* checked not to overflow by the caller */
  puts_(o, "[");
  for (int64_t k = 0; k < dims[0]; k++) {
    if (k > 0) puts_(o, ", ");
    if (k == MAX_ITEMS) {
      putf(o, "... %" PRId64 " more", dims[0] - k);
      break;
    }
    put_dims(o, items, start + k * stride, dims + 1, n - 1);
  }
  puts_(o, "]");
}

/* A fixed_shape_tensor element shaped by its "shape" parameter; false (nothing written)
 * when the shape is missing or does not match the list size. */
static bool put_tensor(struct out *o, const struct zcp_array_view *v, int64_t i,
                       struct zcp_string_view params) {
  int64_t dims[16], product = 1;
  int n = zcp__extension_shape(params, dims, 16);
  if (n <= 0) return false;
  for (int k = 0; k < n; k++) {
    if (dims[k] > 0 && product > INT64_MAX / dims[k]) return false;
    product *= dims[k];
  }
  int64_t start, size;
  zcp_array_view_get_list(v, i, &start, &size);
  if (product != size) return false;
  put_dims(o, &v->children[0], start, dims, n);
  return true;
}

/* Element i of a canonical extension column as what it means; false when the storage
 * should be printed instead (nulls, other extensions, unreadable parameters). */
static bool put_extension(struct out *o, const struct zcp_array_view *v, int64_t i) {
  struct zcp__extension ext;
  if (!zcp__extension_of(v->schema, &ext) || zcp_array_view_is_null(v, i)) return false;
  switch (ext.kind) {
    case ZCP_EXT_UUID: {
      struct zcp_string_view b = zcp_array_view_get_bytes(v, i);
      if (b.size != 16) return false;
      for (int k = 0; k < 16; k++) {
        if (k == 4 || k == 6 || k == 8 || k == 10) puts_(o, "-");
        putf(o, "%02x", (unsigned char)b.data[k]);
      }
      return true;
    }
    case ZCP_EXT_JSON:
      put_raw(o, zcp_array_view_get_bytes(v, i));
      return true;
    case ZCP_EXT_BOOL8:
      puts_(o, zcp_array_view_get_int(v, i) != 0 ? "true" : "false");
      return true;
    case ZCP_EXT_TENSOR:
      return put_tensor(o, v, i, ext.params);
    default:
      return false; /* opaque and unknown extensions: their storage says it all */
  }
}

static void put_value(struct out *o, const struct zcp_array_view *v, int64_t i) {
  const struct zcp_format *f = &v->format;
  if (put_extension(o, v, i)) return;
  if (v->dictionary != NULL) {
    if (zcp_array_view_is_null(v, i)) {
      puts_(o, "null");
    } else {
      put_value(o, v->dictionary, zcp_array_view_get_int(v, i));
    }
    return;
  }
  if (f->type == ZCP_TYPE_SPARSE_UNION || f->type == ZCP_TYPE_DENSE_UNION) {
    int64_t ci;
    int64_t c = zcp_array_view_union_child(v, i, &ci);
    put_value(o, &v->children[c], ci);
    return;
  }
  if (f->type == ZCP_TYPE_RUN_END_ENCODED) {
    put_value(o, &v->children[1], zcp_array_view_run_index(v, i));
    return;
  }
  if (zcp_array_view_is_null(v, i)) {
    puts_(o, "null");
    return;
  }
  switch (f->type) {
    case ZCP_TYPE_NA: puts_(o, "null"); break;
    case ZCP_TYPE_BOOL: puts_(o, zcp_array_view_get_int(v, i) ? "true" : "false"); break;
    case ZCP_TYPE_INT8: case ZCP_TYPE_INT16: case ZCP_TYPE_INT32: case ZCP_TYPE_INT64:
      putf(o, "%" PRId64, zcp_array_view_get_int(v, i));
      break;
    case ZCP_TYPE_UINT8: case ZCP_TYPE_UINT16: case ZCP_TYPE_UINT32: case ZCP_TYPE_UINT64:
      putf(o, "%" PRIu64, zcp_array_view_get_uint(v, i));
      break;
    case ZCP_TYPE_HALF_FLOAT: case ZCP_TYPE_FLOAT:
      putf(o, "%.7g", zcp_array_view_get_double(v, i));
      break;
    case ZCP_TYPE_DOUBLE: putf(o, "%.15g", zcp_array_view_get_double(v, i)); break;
    case ZCP_TYPE_DECIMAL32: case ZCP_TYPE_DECIMAL64:
    case ZCP_TYPE_DECIMAL128: case ZCP_TYPE_DECIMAL256: {
      struct zcp_string_view b = zcp_array_view_get_bytes(v, i);
      put_decimal(o, (const uint8_t *)b.data, b.size, f->scale);
      break;
    }
    case ZCP_TYPE_DATE32: put_date(o, zcp_array_view_get_int(v, i)); break;
    case ZCP_TYPE_DATE64: put_date(o, floor_div(zcp_array_view_get_int(v, i), 86400000)); break;
    case ZCP_TYPE_TIME32: case ZCP_TYPE_TIME64:
      put_time(o, zcp_array_view_get_int(v, i), f->unit);
      break;
    case ZCP_TYPE_TIMESTAMP:
      put_timestamp(o, zcp_array_view_get_int(v, i), f->unit, f->timezone_len > 0);
      break;
    case ZCP_TYPE_DURATION:
      putf(o, "%" PRId64 "%s", zcp_array_view_get_int(v, i), kUnitSuffix[f->unit]);
      break;
    case ZCP_TYPE_INTERVAL_MONTHS: putf(o, "%" PRId64 "M", zcp_array_view_get_int(v, i)); break;
    case ZCP_TYPE_INTERVAL_DAY_TIME: case ZCP_TYPE_INTERVAL_MONTH_DAY_NANO: {
      int32_t months, days;
      int64_t sub;
      zcp_array_view_get_interval(v, i, &months, &days, &sub);
      if (f->type == ZCP_TYPE_INTERVAL_DAY_TIME) {
        putf(o, "%dd%" PRId64 "ms", days, sub);
      } else {
        putf(o, "%dM%dd%" PRId64 "ns", months, days, sub);
      }
      break;
    }
    case ZCP_TYPE_STRING: case ZCP_TYPE_LARGE_STRING: case ZCP_TYPE_STRING_VIEW:
      put_quoted(o, zcp_array_view_get_bytes(v, i), true);
      break;
    case ZCP_TYPE_BINARY: case ZCP_TYPE_LARGE_BINARY: case ZCP_TYPE_BINARY_VIEW:
    case ZCP_TYPE_FIXED_SIZE_BINARY:
      put_quoted(o, zcp_array_view_get_bytes(v, i), false);
      break;
    case ZCP_TYPE_LIST: case ZCP_TYPE_LARGE_LIST: case ZCP_TYPE_LIST_VIEW:
    case ZCP_TYPE_LARGE_LIST_VIEW: case ZCP_TYPE_FIXED_SIZE_LIST:
      put_list(o, v, i, false);
      break;
    case ZCP_TYPE_MAP: put_list(o, v, i, true); break;
    case ZCP_TYPE_STRUCT:
      puts_(o, "{");
      for (int64_t c = 0; c < v->n_children; c++) {
        if (c > 0) puts_(o, ", ");
        const char *name = v->children[c].schema->name;
        putf(o, "%s: ", name != NULL && *name ? name : "?");
        /* a struct's offset applies to its children (C Data Interface) */
        put_value(o, &v->children[c], v->offset + i);
      }
      puts_(o, "}");
      break;
    default: puts_(o, "?"); break;
  }
}

int64_t zcp_array_view_format(const struct zcp_array_view *v, int64_t i, char *buf,
                              size_t cap) {
  struct out o = {buf, cap, 0};
  if (cap > 0) buf[0] = '\0';
  if (i < 0 || i >= v->length) {
    puts_(&o, "<out of range>");
  } else {
    put_value(&o, v, i);
  }
  return o.len;
}

/* ---- types --------------------------------------------------------------------------- */

static void put_type(struct out *o, const struct ArrowSchema *s, int depth);

static void put_field(struct out *o, const struct ArrowSchema *s, int depth) {
  putf(o, "%s: ", s->name != NULL && *s->name ? s->name : "?");
  put_type(o, s, depth);
  if (!(s->flags & ARROW_FLAG_NULLABLE)) puts_(o, " not null");
}

static void put_storage(struct out *o, const struct ArrowSchema *s, int depth);

/* An extension type as its name, its parameters (for the types that have some), then
 * "on" and its storage: "arrow.uuid on fixed_size_binary[16]". */
static void put_type(struct out *o, const struct ArrowSchema *s, int depth) {
  struct zcp__extension ext;
  if (zcp__extension_of(s, &ext)) {
    put(o, ext.name.data, ext.name.size);
    bool plain = ext.kind == ZCP_EXT_UUID || ext.kind == ZCP_EXT_JSON ||
                 ext.kind == ZCP_EXT_BOOL8;
    if (!plain && ext.params.size > 0) put_raw(o, ext.params);
    puts_(o, " on ");
  }
  put_storage(o, s, depth);
}

static void put_storage(struct out *o, const struct ArrowSchema *s, int depth) {
  struct zcp_format f;
  if (depth > ZCP_MAX_DEPTH || zcp_format_parse(s->format, &f, NULL) != ZCP_OK) {
    putf(o, "<bad format '%s'>", s->format ? s->format : "");
    return;
  }
  if (s->dictionary != NULL) {
    puts_(o, "dictionary<values=");
    put_type(o, s->dictionary, depth + 1);
    putf(o, ", indices=%s%s>", zcp_type_name(f.type),
         (s->flags & ARROW_FLAG_DICTIONARY_ORDERED) ? ", ordered" : "");
    return;
  }
  puts_(o, zcp_type_name(f.type));
  switch (f.type) {
    case ZCP_TYPE_DECIMAL32: case ZCP_TYPE_DECIMAL64:
    case ZCP_TYPE_DECIMAL128: case ZCP_TYPE_DECIMAL256:
      putf(o, "(%d, %d)", f.precision, f.scale);
      break;
    case ZCP_TYPE_TIME32: case ZCP_TYPE_TIME64: case ZCP_TYPE_DURATION:
      putf(o, "[%s]", kUnitSuffix[f.unit]);
      break;
    case ZCP_TYPE_TIMESTAMP:
      putf(o, "[%s", kUnitSuffix[f.unit]);
      if (f.timezone_len > 0) putf(o, ", tz=%.*s", f.timezone_len, f.timezone);
      puts_(o, "]");
      break;
    case ZCP_TYPE_FIXED_SIZE_BINARY: putf(o, "[%d]", f.fixed_size); break;
    case ZCP_TYPE_FIXED_SIZE_LIST: putf(o, "[%d]", f.fixed_size); break;
    default: break;
  }
  if (s->n_children > 0 && s->children != NULL) {
    puts_(o, "<");
    for (int64_t c = 0; c < s->n_children; c++) {
      if (c > 0) puts_(o, ", ");
      if (f.type == ZCP_TYPE_SPARSE_UNION || f.type == ZCP_TYPE_DENSE_UNION) {
        putf(o, "%d=", f.type_ids[c]);
      }
      put_field(o, s->children[c], depth + 1);
    }
    puts_(o, ">");
  }
}

static void print_metadata(FILE *f, const char *md, int indent) {
  struct zcp_metadata_reader r;
  struct zcp_string_view k, v;
  zcp_metadata_reader_init(md, &r);
  while (zcp_metadata_reader_next(&r, &k, &v)) {
    /* the extension keys are shown in the type itself */
    if (k.size >= 16 && memcmp(k.data, "ARROW:extension:", 16) == 0) continue;
    fprintf(f, "%*s  %.*s = %.*s\n", indent, "", (int)k.size, k.data, (int)v.size, v.data);
  }
}

zcp_status_t zcp_schema_print(FILE *f, const struct ArrowSchema *schema,
                              struct zcp_error *err) {
  ZCP_RETURN_NOT_OK(zcp_schema_validate(schema, err));
  char line[4096];
  bool batch = strcmp(schema->format, "+s") == 0;
  int64_t n = batch ? schema->n_children : 1;
  for (int64_t c = 0; c < n; c++) {
    const struct ArrowSchema *field = batch ? schema->children[c] : schema;
    struct out o = {line, sizeof line, 0};
    put_field(&o, field, 0);
    fprintf(f, "%s%s\n", line, o.len >= (int64_t)sizeof line ? "..." : "");
    print_metadata(f, field->metadata, 2);
  }
  if (batch && schema->metadata != NULL) {
    fprintf(f, "-- metadata\n");
    print_metadata(f, schema->metadata, 0);
  }
  return ZCP_OK;
}

/* ---- batches ------------------------------------------------------------------------- */

#define CELL_MAX 40 /* characters shown per cell */

zcp_status_t zcp_batch_print(FILE *f, const struct ArrowArray *batch,
                             const struct ArrowSchema *schema, int64_t max_rows,
                             struct zcp_error *err) {
  struct zcp_array_view view;
  ZCP_RETURN_NOT_OK(zcp_array_view_init(batch, schema, &view, err));
  if (view.format.type != ZCP_TYPE_STRUCT) {
    zcp_array_view_reset(&view);
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "print: a batch must be a struct array");
  }
  int64_t rows = (max_rows < 0 || max_rows > view.length) ? view.length : max_rows;
  int64_t ncol = view.n_children;
  int *width = calloc((size_t)(ncol ? ncol : 1), sizeof *width);
  if (width == NULL) {
    zcp_array_view_reset(&view);
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "print: out of memory");
  }
  char cell[CELL_MAX + 4];
  for (int64_t c = 0; c < ncol; c++) {
    const char *name = view.children[c].schema->name;
    width[c] = (int)ZCP_MIN(CELL_MAX, strlen(name ? name : ""));
    for (int64_t r = 0; r < rows; r++) {
      int64_t len = zcp_array_view_format(&view.children[c], view.offset + r, cell, sizeof cell);
      width[c] = (int)ZCP_MAX(width[c], ZCP_MIN(len, CELL_MAX));
    }
  }
  for (int64_t c = 0; c < ncol; c++) {
    const char *name = view.children[c].schema->name;
    fprintf(f, "%s %-*.*s", c ? " |" : "", width[c], width[c], name ? name : "");
  }
  fputc('\n', f);
  for (int64_t c = 0; c < ncol; c++) {
    fprintf(f, "%s", c ? "-+-" : "-");
    for (int k = 0; k < width[c]; k++) fputc('-', f);
  }
  fputc('\n', f);
  for (int64_t r = 0; r < rows; r++) {
    for (int64_t c = 0; c < ncol; c++) {
      int64_t len = zcp_array_view_format(&view.children[c], view.offset + r, cell, sizeof cell);
      if (len > CELL_MAX) strcpy(cell + CELL_MAX - 3, "...");
      fprintf(f, "%s %-*s", c ? " |" : "", width[c], cell);
    }
    fputc('\n', f);
  }
  fprintf(f, "(%" PRId64 " rows%s)\n", view.length,
          rows < view.length ? ", first ones shown" : "");
  free(width);
  zcp_array_view_reset(&view);
  return ZCP_OK;
}
