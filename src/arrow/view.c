/* clang-format off */
/* Array views: read access to any ArrowArray + ArrowSchema pair, ours or foreign, without
 * copying. zcp_array_view_init checks only the structure (formats, buffer and child
 * counts, lengths, depth) so that a view of an untrusted array can be built safely; it
 * must never read data, nor allocate more than the view tree. The getters assume the
 * array was validated (validate.c) and check nothing.
 *
 * view->buffers[] holds the layout buffers by role, not by position in the ArrowArray,
 * so that index 0 is always the validity bitmap (NULL for types without one) and the
 * validation code needs one rule for it:
 *
 *   type                       view [0]   view [1]   view [2]        ArrowArray buffers
 *   null, run-end encoded      NULL       NULL       NULL            0
 *   bool, numbers, decimals,   validity   values     NULL            2
 *     dates, times, intervals,
 *     fixed-size binary
 *   binary, utf8 (+ large)     validity   offsets    data            3
 *   binary view, utf8 view     validity   views      variadic sizes  2 + n_variadic + 1
 *   list, large list, map      validity   offsets    NULL            2
 *   list view (+ large)        validity   offsets    sizes           3
 *   fixed-size list, struct    validity   NULL       NULL            1
 *   sparse union               NULL       type ids   NULL            1: type ids
 *   dense union                NULL       type ids   offsets         2: ids, offsets
 *   dictionary-encoded         as its index type
 *
 * For views the variadic sizes buffer is the last ArrowArray buffer; the variadic data
 * buffers themselves are view->variadic[0 .. n_variadic). buffer_size[] follows the same
 * roles.
 *
 * Getters on a run-end encoded view answer for the value its run selects; is_null on a
 * union asks the selected child slot (unions have no validity of their own); on a
 * dictionary-encoded view the getters read the indices and is_null says whether the
 * index is null (look the value up in view->dictionary for its own nullness). */
/* clang-format on */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/internal.h"
#include "arrow/view_internal.h"
#include "common/util.h"

/* ---- paths and messages ------------------------------------------------------------ */

static size_t path_append(struct zcp__path *p, const char *label) {
  size_t saved = p->len;
  int n =
      snprintf(p->buf + p->len, sizeof p->buf - p->len, "%s%s", p->len ? "." : "", label);
  if (n > 0) p->len = ZCP_MIN(p->len + (size_t)n, sizeof p->buf - 1);
  return saved;
}

void zcp__path_init(struct zcp__path *p, const struct ArrowSchema *root) {
  p->len = 0;
  p->buf[0] = '\0';
  if (root != NULL && root->name != NULL && root->name[0] != '\0') {
    path_append(p, root->name);
  }
}

size_t zcp__path_push(struct zcp__path *p, const char *name, int64_t index) {
  char label[24];
  if (name == NULL || name[0] == '\0') {
    snprintf(label, sizeof label, "%lld", (long long)index);
    name = label;
  }
  return path_append(p, name);
}

size_t zcp__path_push_dictionary(struct zcp__path *p) {
  return path_append(p, "[dictionary]");
}

void zcp__path_pop(struct zcp__path *p, size_t saved) {
  p->len = saved;
  p->buf[saved] = '\0';
}

const char *zcp__path_str(const struct zcp__path *p) {
  return p->len ? p->buf : "<root>";
}

zcp_status_t zcp__view_fail(struct zcp_error *err, zcp_status_t code,
                            const struct zcp__path *path, enum zcp_type type,
                            const char *fmt, ...) {
  if (err == NULL) return code;
  char msg[ZCP_ERROR_MESSAGE_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return zcp_error_set(err, code, "column '%s' (%s): %s", zcp__path_str(path),
                       zcp_type_name(type), msg);
}

/* ---- layout tables ------------------------------------------------------------------
 */

static bool is_integer(enum zcp_type t) {
  return t >= ZCP_TYPE_INT8 && t <= ZCP_TYPE_UINT64;
}

/* ---- init / reset -------------------------------------------------------------------
 */

#define FAIL(...) \
  zcp__view_fail(err, ZCP_CORRUPT_INPUT, path, v->format.type, __VA_ARGS__)

/* Puts the ArrowArray buffers into their roles (see the table at the top). */
static void map_buffers(struct zcp_array_view *v) {
  const struct ArrowArray *a = v->array;
  int64_t first = 0; /* view role of ArrowArray buffer 0 */
  int64_t n = a->n_buffers;
  switch (v->format.type) {
    case ZCP_TYPE_SPARSE_UNION:
    case ZCP_TYPE_DENSE_UNION:
      first = 1;
      break;
    case ZCP_TYPE_BINARY_VIEW:
    case ZCP_TYPE_STRING_VIEW:
      n = 2;
      v->n_variadic = a->n_buffers - 3;
      v->variadic = (const uint8_t *const *)(a->buffers + 2);
      v->buffers[2] = a->buffers[a->n_buffers - 1];
      v->buffer_size[2] = zcp_array_buffer_capacity(a, a->n_buffers - 1);
      v->variadic_size = (const int64_t *)(const void *)v->buffers[2];
      break;
    default:
      break;
  }
  for (int64_t i = 0; i < n && first + i < 3; i++) {
    v->buffers[first + i] = a->buffers[i];
    v->buffer_size[first + i] = zcp_array_buffer_capacity(a, i);
  }
}

static zcp_status_t init_node(struct zcp_array_view *v, const struct ArrowArray *a,
                              const struct ArrowSchema *s, int32_t depth,
                              struct zcp__path *path, struct zcp_error *err);

static zcp_status_t init_children(struct zcp_array_view *v, int32_t depth,
                                  struct zcp__path *path, struct zcp_error *err) {
  const struct ArrowArray *a = v->array;
  const struct ArrowSchema *s = v->schema;
  if (a->n_children > 0) {
    if (a->children == NULL)
      return FAIL("children pointer is NULL for %lld children", (long long)a->n_children);
    if (s->children == NULL) return FAIL("schema children pointer is NULL");
    v->children = calloc((size_t)a->n_children, sizeof *v->children);
    if (v->children == NULL) {
      return zcp__view_fail(err, ZCP_OUT_OF_MEMORY, path, v->format.type,
                            "no memory for %lld child views", (long long)a->n_children);
    }
    v->n_children = a->n_children;
  }
  for (int64_t i = 0; i < a->n_children; i++) {
    if (a->children[i] == NULL) return FAIL("child %lld is NULL", (long long)i);
    if (s->children[i] == NULL) return FAIL("schema child %lld is NULL", (long long)i);
    size_t saved = zcp__path_push(path, s->children[i]->name, i);
    zcp_status_t st =
        init_node(&v->children[i], a->children[i], s->children[i], depth + 1, path, err);
    zcp__path_pop(path, saved);
    if (st != ZCP_OK) return st;
  }
  if (s->dictionary != NULL) {
    v->dictionary = calloc(1, sizeof *v->dictionary);
    if (v->dictionary == NULL) {
      return zcp__view_fail(err, ZCP_OUT_OF_MEMORY, path, v->format.type,
                            "no memory for the dictionary view");
    }
    size_t saved = zcp__path_push_dictionary(path);
    zcp_status_t st =
        init_node(v->dictionary, a->dictionary, s->dictionary, depth + 1, path, err);
    zcp__path_pop(path, saved);
    if (st != ZCP_OK) return st;
  }
  return ZCP_OK;
}

/* Type-specific structure that the getters rely on. */
static zcp_status_t check_children_types(const struct zcp_array_view *v,
                                         struct zcp__path *path, struct zcp_error *err) {
  switch (v->format.type) {
    case ZCP_TYPE_MAP: {
      const struct zcp_array_view *e = &v->children[0];
      if (e->format.type != ZCP_TYPE_STRUCT || e->n_children != 2) {
        return FAIL("entries child must be a struct of 2 children, found %s with %lld",
                    zcp_type_name(e->format.type), (long long)e->n_children);
      }
      break;
    }
    case ZCP_TYPE_RUN_END_ENCODED: {
      enum zcp_type t = v->children[0].format.type;
      if (t != ZCP_TYPE_INT16 && t != ZCP_TYPE_INT32 && t != ZCP_TYPE_INT64) {
        return FAIL("run ends must be int16, int32 or int64, found %s", zcp_type_name(t));
      }
      break;
    }
    default:
      break;
  }
  if (v->dictionary != NULL && !is_integer(v->format.type)) {
    return FAIL("dictionary indices must be integers");
  }
  return ZCP_OK;
}

static zcp_status_t init_node(struct zcp_array_view *v, const struct ArrowArray *a,
                              const struct ArrowSchema *s, int32_t depth,
                              struct zcp__path *path, struct zcp_error *err) {
  memset(v, 0, sizeof *v);
  v->array = a;
  v->schema = s;
  v->depth = depth;
  for (int i = 0; i < 3; i++) v->buffer_size[i] = -1;
  if (depth > ZCP_MAX_DEPTH) {
    return FAIL("nested deeper than %d levels", ZCP_MAX_DEPTH);
  }
  if (s->format == NULL) return FAIL("schema format is NULL");
  zcp_status_t st = zcp_format_parse(s->format, &v->format, err);
  if (st != ZCP_OK) {
    return zcp_error_prefix(err, st, "column '%s': ", zcp__path_str(path));
  }
  v->length = a->length;
  v->offset = a->offset;
  v->null_count = a->null_count;
  int64_t end;
  if (a->length < 0) return FAIL("length %lld is negative", (long long)a->length);
  if (a->offset < 0) return FAIL("offset %lld is negative", (long long)a->offset);
  if (!zcp__add_i64(a->offset, a->length, &end)) {
    return FAIL("offset %lld + length %lld overflows", (long long)a->offset,
                (long long)a->length);
  }
  if (a->null_count < -1 || a->null_count > a->length) {
    return FAIL("null_count %lld is not within [-1, %lld]", (long long)a->null_count,
                (long long)a->length);
  }

  int64_t want = zcp_type_n_buffers(v->format.type);
  bool is_views =
      v->format.type == ZCP_TYPE_BINARY_VIEW || v->format.type == ZCP_TYPE_STRING_VIEW;
  if (is_views ? a->n_buffers < want : a->n_buffers != want) {
    return FAIL("array has %lld buffers, expected %s%lld", (long long)a->n_buffers,
                is_views ? "at least " : "", (long long)want);
  }
  if (a->n_buffers > 0 && a->buffers == NULL) return FAIL("buffers pointer is NULL");

  int64_t want_children = zcp__format_n_children(&v->format);
  if (s->n_children < 0) {
    return FAIL("schema has %lld children", (long long)s->n_children);
  }
  if (a->n_children != s->n_children) {
    return FAIL("array has %lld children, schema has %lld", (long long)a->n_children,
                (long long)s->n_children);
  }
  if (want_children >= 0 && a->n_children != want_children) {
    return FAIL("array has %lld children, expected %lld", (long long)a->n_children,
                (long long)want_children);
  }
  if ((s->dictionary == NULL) != (a->dictionary == NULL)) {
    return FAIL(s->dictionary ? "schema has a dictionary, array has none"
                              : "array has a dictionary, schema has none");
  }

  map_buffers(v);
  ZCP_RETURN_NOT_OK(init_children(v, depth, path, err));
  return check_children_types(v, path, err);
}

#undef FAIL

zcp_status_t zcp_array_view_init(const struct ArrowArray *array,
                                 const struct ArrowSchema *schema,
                                 struct zcp_array_view *view, struct zcp_error *err) {
  if (view == NULL) return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "view is NULL");
  memset(view, 0, sizeof *view);
  if (array == NULL || schema == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "array or schema is NULL");
  }
  if (array->release == NULL || schema->release == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "array or schema is released");
  }
  struct zcp__path path;
  zcp__path_init(&path, schema);
  zcp_status_t st = init_node(view, array, schema, 0, &path, err);
  if (st != ZCP_OK) zcp_array_view_reset(view);
  return st;
}

void zcp_array_view_reset(struct zcp_array_view *view) {
  if (view == NULL) return;
  for (int64_t i = 0; i < view->n_children; i++) zcp_array_view_reset(&view->children[i]);
  free(view->children);
  if (view->dictionary != NULL) {
    zcp_array_view_reset(view->dictionary);
    free(view->dictionary);
  }
  memset(view, 0, sizeof *view);
}

/* ---- getters (the array is assumed valid) ------------------------------------------ */

/* Run-end encoded arrays answer through their values child. */
static const struct zcp_array_view *resolve(const struct zcp_array_view *v, int64_t *i) {
  while (v->format.type == ZCP_TYPE_RUN_END_ENCODED) {
    *i = zcp_array_view_run_index(v, *i);
    v = &v->children[1];
  }
  return v;
}

bool zcp_array_view_is_null(const struct zcp_array_view *v, int64_t i) {
  v = resolve(v, &i);
  switch (v->format.type) {
    case ZCP_TYPE_NA:
      return true;
    case ZCP_TYPE_SPARSE_UNION:
    case ZCP_TYPE_DENSE_UNION: {
      /* A union has no validity of its own: the selected child slot says. */
      int64_t ci;
      int64_t c = zcp_array_view_union_child(v, i, &ci);
      return c < 0 || zcp_array_view_is_null(&v->children[c], ci);
    }
    default:
      break;
  }
  if (v->null_count == 0 || v->buffers[0] == NULL) return false;
  return !zcp__bit_get(v->buffers[0], v->offset + i);
}

static double half_to_double(uint16_t h) {
  int exp = (h >> 10) & 0x1f;
  int mant = h & 0x3ff;
  double x;
  if (exp == 0) {
    x = ldexp(mant, -24); /* subnormal */
  } else if (exp == 31) {
    x = mant ? NAN : INFINITY;
  } else {
    x = ldexp(mant + 1024, exp - 25);
  }
  return (h & 0x8000) ? -x : x;
}

/* Value j (physical) of a numeric values buffer, as double. */
static double load_double(const struct zcp_array_view *v, int64_t j) {
  const uint8_t *d = v->buffers[1];
  switch (v->format.type) {
    case ZCP_TYPE_HALF_FLOAT:
      return half_to_double((uint16_t)zcp__ld_i16(d, j));
    case ZCP_TYPE_FLOAT: {
      float f;
      memcpy(&f, d + j * 4, sizeof f);
      return f;
    }
    case ZCP_TYPE_DOUBLE: {
      double x;
      memcpy(&x, d + j * 8, sizeof x);
      return x;
    }
    default:
      return 0.0;
  }
}

static int64_t saturate(double x) {
  if (!(x == x)) return 0;
  if (x >= 9223372036854775807.0) return INT64_MAX;
  if (x <= -9223372036854775808.0) return INT64_MIN;
  return (int64_t)x;
}

/* The raw 64 bits of value j of an integer-like type; *is_signed says how to widen. */
static uint64_t load_bits(const struct zcp_array_view *v, int64_t j, bool *is_signed) {
  const uint8_t *d = v->buffers[1];
  *is_signed = true;
  switch (v->format.type) {
    case ZCP_TYPE_BOOL:
      return zcp__bit_get(d, j);
    case ZCP_TYPE_INT8:
      return (uint64_t)(int64_t)(int8_t)d[j];
    case ZCP_TYPE_UINT8:
      *is_signed = false;
      return d[j];
    case ZCP_TYPE_INT16:
      return (uint64_t)(int64_t)zcp__ld_i16(d, j);
    case ZCP_TYPE_UINT16:
      *is_signed = false;
      return (uint16_t)zcp__ld_i16(d, j);
    case ZCP_TYPE_INT32:
    case ZCP_TYPE_DATE32:
    case ZCP_TYPE_TIME32:
    case ZCP_TYPE_INTERVAL_MONTHS:
      return (uint64_t)(int64_t)zcp__ld_i32(d, j);
    case ZCP_TYPE_UINT32:
      *is_signed = false;
      return (uint32_t)zcp__ld_i32(d, j);
    case ZCP_TYPE_UINT64:
      *is_signed = false;
      return (uint64_t)zcp__ld_i64(d, j);
    case ZCP_TYPE_INT64:
    case ZCP_TYPE_DATE64:
    case ZCP_TYPE_TIME64:
    case ZCP_TYPE_TIMESTAMP:
    case ZCP_TYPE_DURATION:
      return (uint64_t)zcp__ld_i64(d, j);
    default:
      return 0;
  }
}

static bool is_float(enum zcp_type t) {
  return t == ZCP_TYPE_HALF_FLOAT || t == ZCP_TYPE_FLOAT || t == ZCP_TYPE_DOUBLE;
}

int64_t zcp_array_view_get_int(const struct zcp_array_view *v, int64_t i) {
  v = resolve(v, &i);
  int64_t j = v->offset + i;
  if (is_float(v->format.type)) return saturate(load_double(v, j));
  bool is_signed;
  uint64_t bits = load_bits(v, j, &is_signed);
  if (!is_signed && bits > (uint64_t)INT64_MAX) return INT64_MAX;
  return (int64_t)bits;
}

uint64_t zcp_array_view_get_uint(const struct zcp_array_view *v, int64_t i) {
  v = resolve(v, &i);
  int64_t j = v->offset + i;
  if (is_float(v->format.type)) {
    double x = load_double(v, j);
    if (!(x > 0)) return 0;
    return x >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)x;
  }
  bool is_signed;
  return load_bits(v, j, &is_signed); /* negative values wrap, as a C cast would */
}

double zcp_array_view_get_double(const struct zcp_array_view *v, int64_t i) {
  v = resolve(v, &i);
  int64_t j = v->offset + i;
  if (is_float(v->format.type)) return load_double(v, j);
  bool is_signed;
  uint64_t bits = load_bits(v, j, &is_signed);
  return is_signed ? (double)(int64_t)bits : (double)bits;
}

static struct zcp_string_view bytes_at(const uint8_t *base, int64_t start, int64_t size) {
  struct zcp_string_view out = {"", 0};
  if (base != NULL && size > 0) {
    out.data = (const char *)base + start;
    out.size = size;
  }
  return out;
}

struct zcp_string_view zcp_array_view_get_bytes(const struct zcp_array_view *v,
                                                int64_t i) {
  v = resolve(v, &i);
  int64_t j = v->offset + i;
  const uint8_t *b1 = v->buffers[1];
  switch (v->format.type) {
    case ZCP_TYPE_BINARY:
    case ZCP_TYPE_STRING:
    case ZCP_TYPE_LARGE_BINARY:
    case ZCP_TYPE_LARGE_STRING: {
      int64_t w = (v->format.type == ZCP_TYPE_BINARY || v->format.type == ZCP_TYPE_STRING)
                      ? 4
                      : 8;
      int64_t start = zcp__ld_offset(b1, w, j);
      return bytes_at(v->buffers[2], start, zcp__ld_offset(b1, w, j + 1) - start);
    }
    case ZCP_TYPE_BINARY_VIEW:
    case ZCP_TYPE_STRING_VIEW: {
      /* 16-byte view: int32 length, then 12 inline bytes, or a 4-byte prefix, int32
       * buffer index and int32 offset into that variadic buffer. */
      const uint8_t *view = b1 + j * 16;
      int32_t len = zcp__ld_i32(view, 0);
      if (len <= 12) return bytes_at(view + 4, 0, len);
      int32_t buf = zcp__ld_i32(view, 2);
      int32_t off = zcp__ld_i32(view, 3);
      return bytes_at(v->variadic[buf], off, len);
    }
    default: {
      int64_t bits = zcp_format_bit_width(&v->format);
      if (bits == 0 || bits % 8 != 0) return bytes_at(NULL, 0, 0);
      return bytes_at(b1, j * (bits / 8), bits / 8);
    }
  }
}

void zcp_array_view_get_interval(const struct zcp_array_view *v, int64_t i,
                                 int32_t *months, int32_t *days, int64_t *sub_day) {
  v = resolve(v, &i);
  int64_t j = v->offset + i;
  const uint8_t *d = v->buffers[1];
  *months = 0;
  *days = 0;
  *sub_day = 0;
  switch (v->format.type) {
    case ZCP_TYPE_INTERVAL_MONTHS:
      *months = zcp__ld_i32(d, j);
      break;
    case ZCP_TYPE_INTERVAL_DAY_TIME:
      *days = zcp__ld_i32(d, 2 * j);
      *sub_day = zcp__ld_i32(d, 2 * j + 1);
      break;
    case ZCP_TYPE_INTERVAL_MONTH_DAY_NANO:
      *months = zcp__ld_i32(d, 4 * j);
      *days = zcp__ld_i32(d, 4 * j + 1);
      *sub_day = zcp__ld_i64(d, 2 * j + 1);
      break;
    default:
      break;
  }
}

void zcp_array_view_get_list(const struct zcp_array_view *v, int64_t i, int64_t *start,
                             int64_t *size) {
  v = resolve(v, &i);
  int64_t j = v->offset + i;
  const uint8_t *off = v->buffers[1];
  *start = 0;
  *size = 0;
  switch (v->format.type) {
    case ZCP_TYPE_LIST:
    case ZCP_TYPE_MAP:
    case ZCP_TYPE_LARGE_LIST: {
      int64_t w = v->format.type == ZCP_TYPE_LARGE_LIST ? 8 : 4;
      *start = zcp__ld_offset(off, w, j);
      *size = zcp__ld_offset(off, w, j + 1) - *start;
      break;
    }
    case ZCP_TYPE_LIST_VIEW:
    case ZCP_TYPE_LARGE_LIST_VIEW: {
      int64_t w = v->format.type == ZCP_TYPE_LIST_VIEW ? 4 : 8;
      *start = zcp__ld_offset(off, w, j);
      *size = zcp__ld_offset(v->buffers[2], w, j);
      break;
    }
    case ZCP_TYPE_FIXED_SIZE_LIST:
      *start = j * v->format.fixed_size;
      *size = v->format.fixed_size;
      break;
    default:
      break;
  }
}

int8_t zcp_array_view_union_type_id(const struct zcp_array_view *v, int64_t i) {
  return (int8_t)v->buffers[1][v->offset + i];
}

int64_t zcp_array_view_union_child(const struct zcp_array_view *v, int64_t i,
                                   int64_t *child_index) {
  int64_t j = v->offset + i;
  int8_t id = (int8_t)v->buffers[1][j];
  *child_index =
      v->format.type == ZCP_TYPE_DENSE_UNION ? zcp__ld_i32(v->buffers[2], j) : j;
  for (int32_t c = 0; c < v->format.n_type_ids; c++) {
    if (v->format.type_ids[c] == id) return c;
  }
  return -1;
}

int64_t zcp_array_view_run_index(const struct zcp_array_view *v, int64_t i) {
  /* The first run whose end is past the physical position: run ends are strictly
   * increasing, so this is a lower bound search. */
  const struct zcp_array_view *re = &v->children[0];
  int64_t width = zcp_format_bit_width(&re->format) / 8;
  const uint8_t *ends = re->buffers[1];
  int64_t pos = v->offset + i;
  int64_t lo = 0, hi = re->length;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (zcp__ld_signed(ends, width, re->offset + mid) > pos) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}
