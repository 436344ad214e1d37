/* Validation of arrays from outside (other processes, the network, foreign libraries):
 * the three levels of arrow.h. Whatever the input, this code must never read outside a
 * buffer whose size it knows, never overflow a size computation and never crash; it
 * trusts no length, offset or pointer before checking it. Buffers of unknown size
 * (foreign arrays) can only be checked for NULL: their pointers are taken on the
 * producer's word.
 *
 * The walk is post-order: a node's children and dictionary are validated (at the same
 * level) before the node itself, so that the node's own checks may read child data
 * (run ends, map keys, dictionary lengths) knowing it is in bounds. The scalar and binary
 * layouts are checked here, the nested ones in validate_nested.c. */
#include "arrow/validate_internal.h"

#include <string.h>

#include "arrow/internal.h"
#include "common/util.h"

/* ---- shared helpers -----------------------------------------------------------------
 */

zcp_status_t zcp__check_buffer(struct zcp__vctx *c, const struct zcp_array_view *v,
                               int role, const char *what, int64_t elements,
                               int64_t bits) {
  if (v->length == 0) return ZCP_OK; /* nothing will be read: NULL and empty are fine */
  int64_t need = zcp__bytes_for_bits(elements, bits);
  if (need < 0) {
    return ZCP_VFAIL(c, v, "%s buffer size for %lld elements overflows", what,
                     (long long)elements);
  }
  if (need == 0) return ZCP_OK;
  if (v->buffers[role] == NULL) {
    return ZCP_VFAIL(
        c, v, "%s buffer is NULL, expected %lld bytes for %lld rows at offset %lld", what,
        (long long)need, (long long)v->length, (long long)v->offset);
  }
  if (v->buffer_size[role] >= 0 && v->buffer_size[role] < need) {
    return ZCP_VFAIL(
        c, v,
        "%s buffer holds %lld bytes, expected at least %lld for %lld rows at "
        "offset %lld",
        what, (long long)v->buffer_size[role], (long long)need, (long long)v->length,
        (long long)v->offset);
  }
  return ZCP_OK;
}

int64_t zcp__count_set_bits(const uint8_t *bits, int64_t start, int64_t n) {
  int64_t count = 0;
  int64_t i = start, end = start + n;
  while (i < end && (i & 7) != 0) count += zcp__bit_get(bits, i++);
  while (end - i >= 64) {
    uint64_t w;
    memcpy(&w, bits + i / 8, sizeof w);
    count += __builtin_popcountll(w);
    i += 64;
  }
  while (end - i >= 8) {
    count += __builtin_popcount(bits[i / 8]);
    i += 8;
  }
  while (i < end) count += zcp__bit_get(bits, i++);
  return count;
}

/* Validity bitmap: present when nulls are claimed, big enough, and (FULL) agreeing with
 * null_count. Types without a bitmap cannot claim nulls of their own. */
static zcp_status_t check_validity(struct zcp__vctx *c, const struct zcp_array_view *v) {
  if (!zcp__type_has_validity(v->format.type)) {
    if (v->format.type != ZCP_TYPE_NA && v->null_count > 0) {
      return ZCP_VFAIL(c, v, "has no validity bitmap but null_count is %lld",
                       (long long)v->null_count);
    }
    return ZCP_OK;
  }
  if (v->length == 0) return ZCP_OK;
  if (v->buffers[0] == NULL) {
    if (v->null_count > 0) {
      return ZCP_VFAIL(c, v, "validity buffer is NULL but null_count is %lld",
                       (long long)v->null_count);
    }
    return ZCP_OK;
  }
  ZCP_RETURN_NOT_OK(zcp__check_buffer(c, v, 0, "validity", v->offset + v->length, 1));
  if (c->level >= ZCP_VALIDATE_FULL && v->null_count >= 0) {
    int64_t nulls = v->length - zcp__count_set_bits(v->buffers[0], v->offset, v->length);
    if (nulls != v->null_count) {
      return ZCP_VFAIL(c, v, "null_count is %lld but the validity bitmap has %lld nulls",
                       (long long)v->null_count, (long long)nulls);
    }
  }
  return ZCP_OK;
}

/* ---- binary and utf8 with offsets ----------------------------------------------------
 */

zcp_status_t zcp__check_offsets(struct zcp__vctx *c, const struct zcp_array_view *v,
                                int64_t width, int64_t limit, const char *limit_what,
                                int64_t *first_out, int64_t *last_out) {
  *first_out = *last_out = 0;
  int64_t n_offsets;
  if (!zcp__add_i64(v->offset + v->length, 1, &n_offsets)) {
    return ZCP_VFAIL(c, v, "offset %lld + length %lld overflows", (long long)v->offset,
                     (long long)v->length);
  }
  ZCP_RETURN_NOT_OK(zcp__check_buffer(c, v, 1, "offsets", n_offsets, width * 8));
  if (v->length == 0 || c->level < ZCP_VALIDATE_DEFAULT) return ZCP_OK;
  const uint8_t *off = v->buffers[1];
  int64_t first = zcp__ld_offset(off, width, v->offset);
  int64_t last = zcp__ld_offset(off, width, v->offset + v->length);
  if (first < 0) {
    return ZCP_VFAIL(c, v, "first offset %lld at row 0 is negative", (long long)first);
  }
  if (last < first) {
    return ZCP_VFAIL(c, v, "last offset %lld at row %lld is less than the first %lld",
                     (long long)last, (long long)v->length, (long long)first);
  }
  if (limit >= 0 && last > limit) {
    return ZCP_VFAIL(c, v,
                     "last offset %lld at row %lld is past the end of the %s (%lld)",
                     (long long)last, (long long)v->length, limit_what, (long long)limit);
  }
  if (zcp__vctx_bounds(c)) {
    int64_t prev = first;
    for (int64_t r = 0; r < v->length; r++) {
      int64_t next = zcp__ld_offset(off, width, v->offset + r + 1);
      if (next < prev) {
        return ZCP_VFAIL(c, v, "offsets not monotonic at row %lld (%lld > %lld)",
                         (long long)r, (long long)prev, (long long)next);
      }
      prev = next;
    }
  }
  *first_out = first;
  *last_out = last;
  return ZCP_OK;
}

static bool is_utf8(enum zcp_type t) {
  return t == ZCP_TYPE_STRING || t == ZCP_TYPE_LARGE_STRING || t == ZCP_TYPE_STRING_VIEW;
}

static zcp_status_t check_binary(struct zcp__vctx *c, const struct zcp_array_view *v) {
  int64_t width =
      (v->format.type == ZCP_TYPE_BINARY || v->format.type == ZCP_TYPE_STRING) ? 4 : 8;
  int64_t first, last;
  ZCP_RETURN_NOT_OK(
      zcp__check_offsets(c, v, width, v->buffer_size[2], "data buffer", &first, &last));
  if (v->length == 0 || c->level < ZCP_VALIDATE_DEFAULT) return ZCP_OK;
  if (last > 0 && v->buffers[2] == NULL) {
    return ZCP_VFAIL(c, v, "data buffer is NULL, expected %lld bytes", (long long)last);
  }
  if (c->level < ZCP_VALIDATE_FULL || !is_utf8(v->format.type)) return ZCP_OK;
  const uint8_t *off = v->buffers[1];
  for (int64_t r = 0; r < v->length; r++) {
    if (zcp_array_view_is_null(v, r)) continue;
    int64_t a = zcp__ld_offset(off, width, v->offset + r);
    int64_t b = zcp__ld_offset(off, width, v->offset + r + 1);
    if (b > a && !zcp_utf8_valid(v->buffers[2] + a, b - a)) {
      return ZCP_VFAIL(c, v, "invalid UTF-8 at row %lld", (long long)r);
    }
  }
  return ZCP_OK;
}

/* ---- binary and utf8 views -----------------------------------------------------------
 */

/* Sizes of the variadic buffers: non-negative and within what we know was allocated. */
static zcp_status_t check_variadic(struct zcp__vctx *c, const struct zcp_array_view *v) {
  if (v->n_variadic == 0) return ZCP_OK;
  int64_t need;
  if (!zcp__mul_i64(v->n_variadic, 8, &need)) {
    return ZCP_VFAIL(c, v, "%lld variadic buffers is too many", (long long)v->n_variadic);
  }
  if (v->buffers[2] == NULL) {
    return ZCP_VFAIL(c, v, "variadic sizes buffer is NULL for %lld variadic buffers",
                     (long long)v->n_variadic);
  }
  if (v->buffer_size[2] >= 0 && v->buffer_size[2] < need) {
    return ZCP_VFAIL(c, v,
                     "variadic sizes buffer holds %lld bytes, expected at least %lld for "
                     "%lld variadic buffers",
                     (long long)v->buffer_size[2], (long long)need,
                     (long long)v->n_variadic);
  }
  if (c->level < ZCP_VALIDATE_DEFAULT) return ZCP_OK;
  for (int64_t k = 0; k < v->n_variadic; k++) {
    int64_t size = zcp__ld_i64(v->buffers[2], k);
    if (size < 0) {
      return ZCP_VFAIL(c, v, "variadic buffer %lld has negative size %lld", (long long)k,
                       (long long)size);
    }
    if (size > 0 && v->variadic[k] == NULL) {
      return ZCP_VFAIL(c, v, "variadic buffer %lld is NULL, expected %lld bytes",
                       (long long)k, (long long)size);
    }
    int64_t cap = zcp_array_buffer_capacity(v->array, 2 + k);
    if (cap >= 0 && cap < size) {
      return ZCP_VFAIL(c, v, "variadic buffer %lld holds %lld bytes, its size says %lld",
                       (long long)k, (long long)cap, (long long)size);
    }
  }
  return ZCP_OK;
}

static zcp_status_t check_views(struct zcp__vctx *c, const struct zcp_array_view *v) {
  ZCP_RETURN_NOT_OK(zcp__check_buffer(c, v, 1, "views", v->offset + v->length, 128));
  ZCP_RETURN_NOT_OK(check_variadic(c, v));
  if (v->length == 0 || c->level < ZCP_VALIDATE_DEFAULT) return ZCP_OK;
  if (c->sealed && c->level < ZCP_VALIDATE_FULL) return ZCP_OK; /* walked at seal */
  /* References are checked on every row, null or not, so that a getter never leaves the
   * buffers; padding, prefixes and UTF-8 only on valid rows. */
  bool full = c->level >= ZCP_VALIDATE_FULL;
  bool utf8 = is_utf8(v->format.type);
  for (int64_t r = 0; r < v->length; r++) {
    const uint8_t *view = v->buffers[1] + (v->offset + r) * 16;
    int32_t len = zcp__ld_i32(view, 0);
    if (len < 0) {
      return ZCP_VFAIL(c, v, "view at row %lld has negative length %d", (long long)r,
                       len);
    }
    const uint8_t *data;
    if (len <= 12) {
      data = view + 4;
    } else {
      int32_t buf = zcp__ld_i32(view, 2);
      int32_t off = zcp__ld_i32(view, 3);
      if (buf < 0 || buf >= v->n_variadic) {
        return ZCP_VFAIL(c, v, "view at row %lld references buffer %d of %lld",
                         (long long)r, buf, (long long)v->n_variadic);
      }
      int64_t size = zcp__ld_i64(v->buffers[2], buf);
      if (off < 0 || (int64_t)off + len > size) {
        return ZCP_VFAIL(c, v,
                         "view at row %lld covers bytes [%d, %lld) of buffer %d, which "
                         "holds %lld",
                         (long long)r, off, (long long)off + len, buf, (long long)size);
      }
      data = v->variadic[buf] + off;
    }
    if (!full || zcp_array_view_is_null(v, r)) continue;
    if (len <= 12) {
      for (int k = len; k < 12; k++) {
        if (data[k] != 0) {
          return ZCP_VFAIL(c, v, "inline view at row %lld has nonzero padding",
                           (long long)r);
        }
      }
    } else if (memcmp(view + 4, data, 4) != 0) {
      return ZCP_VFAIL(c, v, "view prefix at row %lld does not match its data",
                       (long long)r);
    }
    if (utf8 && !zcp_utf8_valid(data, len)) {
      return ZCP_VFAIL(c, v, "invalid UTF-8 at row %lld", (long long)r);
    }
  }
  return ZCP_OK;
}

/* ---- the walk ------------------------------------------------------------------------
 */

static zcp_status_t check_node_layout(struct zcp__vctx *c,
                                      const struct zcp_array_view *v) {
  ZCP_RETURN_NOT_OK(check_validity(c, v));
  switch (v->format.type) {
    case ZCP_TYPE_NA:
      return ZCP_OK;
    case ZCP_TYPE_BINARY:
    case ZCP_TYPE_STRING:
    case ZCP_TYPE_LARGE_BINARY:
    case ZCP_TYPE_LARGE_STRING:
      return check_binary(c, v);
    case ZCP_TYPE_BINARY_VIEW:
    case ZCP_TYPE_STRING_VIEW:
      return check_views(c, v);
    case ZCP_TYPE_LIST:
    case ZCP_TYPE_LARGE_LIST:
    case ZCP_TYPE_MAP:
    case ZCP_TYPE_LIST_VIEW:
    case ZCP_TYPE_LARGE_LIST_VIEW:
    case ZCP_TYPE_FIXED_SIZE_LIST:
    case ZCP_TYPE_STRUCT:
    case ZCP_TYPE_SPARSE_UNION:
    case ZCP_TYPE_DENSE_UNION:
    case ZCP_TYPE_RUN_END_ENCODED:
      return zcp__check_nested(c, v);
    default: {
      int64_t bits = zcp_format_bit_width(&v->format);
      if (bits < 0)
        return ZCP_VFAIL(c, v, "fixed width %lld is negative", (long long)bits);
      ZCP_RETURN_NOT_OK(
          zcp__check_buffer(c, v, 1, "values", v->offset + v->length, bits));
      if (v->dictionary != NULL) return zcp__check_dictionary_indices(c, v);
      return ZCP_OK;
    }
  }
}

zcp_status_t zcp__validate_node(struct zcp__vctx *c, const struct zcp_array_view *v) {
  for (int64_t i = 0; i < v->n_children; i++) {
    const struct ArrowSchema *cs = v->children[i].schema;
    size_t saved = zcp__path_push(&c->path, cs ? cs->name : NULL, i);
    zcp_status_t st = zcp__validate_node(c, &v->children[i]);
    zcp__path_pop(&c->path, saved);
    if (st != ZCP_OK) return st;
  }
  if (v->dictionary != NULL) {
    size_t saved = zcp__path_push_dictionary(&c->path);
    zcp_status_t st = zcp__validate_node(c, v->dictionary);
    zcp__path_pop(&c->path, saved);
    if (st != ZCP_OK) return st;
  }
  return check_node_layout(c, v);
}

zcp_status_t zcp_array_view_validate(const struct zcp_array_view *view,
                                     enum zcp_validate_level level,
                                     struct zcp_error *err) {
  return zcp__array_view_validate(view, level, false, false, err);
}

zcp_status_t zcp__array_view_validate(const struct zcp_array_view *view,
                                      enum zcp_validate_level level, bool bounds,
                                      bool sealed, struct zcp_error *err) {
  if (view == NULL || view->array == NULL || view->schema == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "view is NULL or not initialised");
  }
  if (level < ZCP_VALIDATE_MINIMAL || level > ZCP_VALIDATE_FULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "unknown validation level %d",
                         (int)level);
  }
  struct zcp__vctx c;
  c.level = level;
  c.bounds = bounds;
  c.sealed = sealed;
  c.err = err;
  zcp__path_init(&c.path, view->schema);
  return zcp__validate_node(&c, view);
}

zcp_status_t zcp_array_validate(const struct ArrowArray *array,
                                const struct ArrowSchema *schema,
                                enum zcp_validate_level level, struct zcp_error *err) {
  if (level < ZCP_VALIDATE_MINIMAL || level > ZCP_VALIDATE_FULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "unknown validation level %d",
                         (int)level);
  }
  struct zcp_array_view view;
  ZCP_RETURN_NOT_OK(zcp_array_view_init(array, schema, &view, err));
  zcp_status_t st = zcp_array_view_validate(&view, level, err);
  zcp_array_view_reset(&view);
  return st;
}
