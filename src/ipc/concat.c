/* Dictionary deltas: the values of a delta DictionaryBatch appended to the dictionary
 * read so far. Flat types are joined buffer by buffer; nested types are rebuilt element
 * by element through a builder (deltas are small and rare, so clarity wins over speed).
 * Values with dictionary-encoded fields of their own keep the indices of both parts and
 * today's nested dictionaries, after checking that the old ones were only extended
 * since. Both inputs were validated when they were read. */
#include <stdlib.h>
#include <string.h>

#include "arrow/internal.h"
#include "common/util.h"
#include "ipc/internal.h"

/* ---- nested types: through a builder -------------------------------------------------
 */

static zcp_status_t append_value(struct zcp_builder *b, const struct zcp_array_view *v,
                                 int64_t i);

static zcp_status_t append_items(struct zcp_builder *b, const struct zcp_array_view *v,
                                 int64_t i) {
  int64_t start, size;
  zcp_array_view_get_list(v, i, &start, &size);
  for (int64_t k = 0; k < size; k++) {
    ZCP_RETURN_NOT_OK(append_value(zcp_builder_child(b, 0), &v->children[0], start + k));
  }
  return zcp_builder_finish_element(b);
}

static zcp_status_t append_value(struct zcp_builder *b, const struct zcp_array_view *v,
                                 int64_t i) {
  enum zcp_type t = v->format.type;
  if (t == ZCP_TYPE_RUN_END_ENCODED) {
    int64_t k = zcp_array_view_run_index(v, i);
    ZCP_RETURN_NOT_OK(append_value(zcp_builder_child(b, 1), &v->children[1], k));
    return zcp_builder_append_run(b, 1);
  }
  if (t == ZCP_TYPE_SPARSE_UNION || t == ZCP_TYPE_DENSE_UNION) {
    int64_t ci, c = zcp_array_view_union_child(v, i, &ci);
    int8_t id = zcp_array_view_union_type_id(v, i);
    ZCP_RETURN_NOT_OK(zcp_builder_append_union(b, id));
    return append_value(zcp_builder_union_child(b, id), &v->children[c], ci);
  }
  if (zcp_array_view_is_null(v, i)) return zcp_builder_append_null(b, 1);
  switch (t) {
    case ZCP_TYPE_UINT8:
    case ZCP_TYPE_UINT16:
    case ZCP_TYPE_UINT32:
    case ZCP_TYPE_UINT64:
      return zcp_builder_append_uint(b, zcp_array_view_get_uint(v, i));
    case ZCP_TYPE_HALF_FLOAT:
    case ZCP_TYPE_FLOAT:
    case ZCP_TYPE_DOUBLE:
      return zcp_builder_append_double(b, zcp_array_view_get_double(v, i));
    case ZCP_TYPE_DECIMAL32:
    case ZCP_TYPE_DECIMAL64:
    case ZCP_TYPE_DECIMAL128:
    case ZCP_TYPE_DECIMAL256:
    case ZCP_TYPE_BINARY:
    case ZCP_TYPE_STRING:
    case ZCP_TYPE_LARGE_BINARY:
    case ZCP_TYPE_LARGE_STRING:
    case ZCP_TYPE_BINARY_VIEW:
    case ZCP_TYPE_STRING_VIEW:
    case ZCP_TYPE_FIXED_SIZE_BINARY: {
      struct zcp_string_view s = zcp_array_view_get_bytes(v, i);
      return zcp_builder_append_bytes(b, s.data, s.size);
    }
    case ZCP_TYPE_INTERVAL_DAY_TIME:
    case ZCP_TYPE_INTERVAL_MONTH_DAY_NANO: {
      int32_t months, days;
      int64_t sub;
      zcp_array_view_get_interval(v, i, &months, &days, &sub);
      return zcp_builder_append_interval(b, months, days, sub);
    }
    case ZCP_TYPE_LIST:
    case ZCP_TYPE_LARGE_LIST:
    case ZCP_TYPE_LIST_VIEW:
    case ZCP_TYPE_LARGE_LIST_VIEW:
    case ZCP_TYPE_FIXED_SIZE_LIST:
    case ZCP_TYPE_MAP:
      return append_items(b, v, i);
    case ZCP_TYPE_STRUCT:
      /* children see the struct's offset added, as in the C Data Interface */
      for (int64_t c = 0; c < v->n_children; c++) {
        ZCP_RETURN_NOT_OK(
            append_value(zcp_builder_child(b, c), &v->children[c], v->offset + i));
      }
      return zcp_builder_finish_element(b);
    default: /* bool, signed integers, dates, times, timestamps, durations, months */
      return zcp_builder_append_int(b, zcp_array_view_get_int(v, i));
  }
}

/* Whether the first values of `longer` are exactly the values of `shorter` (compared in
 * the canonical form of IPC bodies, write_body.c). */
static bool same_prefix(const struct zcp_array_view *shorter,
                        const struct zcp_array_view *longer, zcp_status_t *st) {
  if (shorter->length > longer->length) return false;
  struct zcp__ipc_wbody x, y;
  memset(&x, 0, sizeof x);
  memset(&y, 0, sizeof y);
  uint8_t *bytes = NULL;
  int64_t size = 0;
  bool same = false;
  *st = zcp__ipc_wbody_node(&x, shorter, 0, shorter->length);
  if (*st == ZCP_OK) *st = zcp__ipc_wbody_node(&y, longer, 0, shorter->length);
  if (*st == ZCP_OK && !zcp__ipc_wbody_canon_bytes(&x, &bytes, &size)) {
    *st = ZCP_OUT_OF_MEMORY;
  }
  if (*st == ZCP_OK) {
    same = zcp__ipc_wbody_canon_is(&y, bytes, size);
    if (!same && y.failed) *st = ZCP_OUT_OF_MEMORY;
  }
  free(bytes);
  zcp__ipc_wbody_reset(&x);
  zcp__ipc_wbody_reset(&y);
  return same;
}

/* The old values (va) were decoded against the dictionaries nested in them at the time,
 * the delta (vb) against today's. Joined, they keep today's: that is right only when each
 * old nested dictionary is a prefix of today's (it was extended by deltas, not
 * replaced). Checked for every nested dictionary, at every depth. */
static zcp_status_t check_nested_prefixes(const struct zcp_array_view *va,
                                          const struct zcp_array_view *vb, int depth,
                                          struct zcp_error *err) {
  if (depth > ZCP_MAX_DEPTH) return ZCP_OK; /* views are bounded already */
  for (int64_t i = 0; i < va->n_children && i < vb->n_children; i++) {
    ZCP_RETURN_NOT_OK(
        check_nested_prefixes(&va->children[i], &vb->children[i], depth + 1, err));
  }
  if (va->dictionary == NULL || vb->dictionary == NULL) return ZCP_OK;
  zcp_status_t st = ZCP_OK;
  if (!same_prefix(va->dictionary, vb->dictionary, &st)) {
    if (st != ZCP_OK) {
      return zcp_error_set(err, st,
                           "delta dictionary: cannot compare nested dictionaries");
    }
    const char *name = va->schema->name;
    return zcp_error_set(err, ZCP_UNSUPPORTED,
                         "delta dictionary: the dictionary of its nested field '%s' was "
                         "replaced, not extended, since the values before it were sent; "
                         "joining them is not supported",
                         name != NULL ? name : "");
  }
  return check_nested_prefixes(va->dictionary, vb->dictionary, depth + 1, err);
}

/* Gives every dictionary builder below bld the values of the matching dictionary of v
 * (today's: the delta's), at every depth. */
static zcp_status_t fill_dictionaries(struct zcp_builder *bld,
                                      const struct zcp_array_view *v, int depth) {
  if (depth > ZCP_MAX_DEPTH) return ZCP_OK;
  for (int64_t i = 0; i < v->n_children; i++) {
    ZCP_RETURN_NOT_OK(
        fill_dictionaries(zcp_builder_child(bld, i), &v->children[i], depth + 1));
  }
  struct zcp_builder *dict = zcp_builder_dictionary(bld);
  if (v->dictionary == NULL || dict == NULL) return ZCP_OK;
  for (int64_t i = 0; i < v->dictionary->length; i++) {
    ZCP_RETURN_NOT_OK(append_value(dict, v->dictionary, i));
  }
  return fill_dictionaries(dict, v->dictionary, depth + 1);
}

static zcp_status_t concat_rebuild(const struct ArrowArray *a, const struct ArrowArray *b,
                                   const struct ArrowSchema *schema,
                                   struct zcp_allocator *alloc, struct ArrowArray *dst,
                                   struct zcp_error *err) {
  struct zcp_array_view v[2];
  memset(v, 0, sizeof v);
  zcp_status_t st = zcp_array_view_init(a, schema, &v[0], err);
  if (st == ZCP_OK) st = zcp_array_view_init(b, schema, &v[1], err);
  if (st == ZCP_OK) st = check_nested_prefixes(&v[0], &v[1], 0, err);
  struct zcp_builder *bld = NULL;
  if (st == ZCP_OK) st = zcp_builder_init(schema, alloc, &bld, err);
  /* nested dictionary-encoded fields: indices of both parts, today's dictionaries */
  if (st == ZCP_OK) st = fill_dictionaries(bld, &v[1], 0);
  for (int p = 0; p < 2 && st == ZCP_OK; p++) {
    for (int64_t i = 0; st == ZCP_OK && i < v[p].length; i++)
      st = append_value(bld, &v[p], i);
  }
  if (st != ZCP_OK && bld != NULL && err != NULL && err->code == ZCP_OK) {
    zcp_error_set(err, st, "delta dictionary: %s", zcp_builder_last_error(bld));
  }
  if (st == ZCP_OK) st = zcp_builder_finish(bld, dst, NULL, err);
  zcp_builder_release(bld);
  zcp_array_view_reset(&v[0]);
  zcp_array_view_reset(&v[1]);
  return st;
}

/* ---- flat types: buffer by buffer ----------------------------------------------------
 */

/* A zeroed buffer, or NULL with the allocator's reason in *st and err. */
static void *concat_alloc(struct zcp_allocator *a, int64_t size, int64_t *cap,
                          zcp_status_t *st, struct zcp_error *err) {
  int64_t align = ZCP_MAX(a->alignment, ZCP_ALIGNMENT);
  *cap = zcp__round_up(ZCP_MAX(size, 1), align);
  void *p = NULL;
  *st = a->allocate(a, *cap, align, &p, err);
  if (*st == ZCP_OK) memset(p, 0, (size_t)*cap);
  return p;
}

/* Bits [0, n) of src appended at bit `at` of dst (NULL src: all set). */
static void append_bits(uint8_t *dst, int64_t at, const uint8_t *src, int64_t off,
                        int64_t n) {
  for (int64_t i = 0; i < n; i++)
    zcp__bit_set(dst, at + i, src ? zcp__bit_get(src, off + i) : 1);
}

zcp_status_t zcp__ipc_concat(const struct ArrowArray *a, const struct ArrowArray *b,
                             const struct ArrowSchema *schema,
                             struct zcp_allocator *alloc, struct ArrowArray *dst,
                             struct zcp_error *err) {
  struct zcp_format f;
  ZCP_RETURN_NOT_OK(zcp_format_parse(schema->format, &f, err));
  int64_t w = 0, bits = zcp_format_bit_width(&f);
  bool binary = false;
  switch (f.type) {
    case ZCP_TYPE_BINARY:
    case ZCP_TYPE_STRING:
      w = 4;
      binary = true;
      break;
    case ZCP_TYPE_LARGE_BINARY:
    case ZCP_TYPE_LARGE_STRING:
      w = 8;
      binary = true;
      break;
    default:
      if (bits <= 0 || schema->n_children > 0 || schema->dictionary != NULL ||
          f.type == ZCP_TYPE_NA) {
        return concat_rebuild(a, b, schema, alloc, dst, err);
      }
  }
  int64_t n = a->length + b->length;
  ZCP_RETURN_NOT_OK(zcp__array_init_node(dst, binary ? 3 : 2, 0, alloc));
  dst->length = n;
  dst->null_count = a->null_count + b->null_count;
  int64_t cap;
  zcp_status_t st = ZCP_OK;
  uint8_t *valid = NULL;
  if (dst->null_count > 0) {
    valid = concat_alloc(alloc, zcp__bitmap_bytes(n), &cap, &st, err);
    if (valid == NULL) goto oom;
    zcp__array_set_buffer(dst, 0, valid, cap);
    append_bits(valid, 0, a->buffers[0], a->offset, a->length);
    append_bits(valid, a->length, b->buffers[0], b->offset, b->length);
  }
  if (binary) {
    uint8_t *offs = concat_alloc(alloc, (n + 1) * w, &cap, &st, err);
    if (offs == NULL) goto oom;
    zcp__array_set_buffer(dst, 1, offs, cap);
    const struct ArrowArray *src[2] = {a, b};
    int64_t at = 0, bytes = 0;
    for (int s = 0; s < 2; s++) {
      if (src[s]->length == 0) continue;
      const uint8_t *o = src[s]->buffers[1];
      bytes +=
          zcp__ipc_load_offset(o, w, src[s]->offset + src[s]->length) - zcp__ipc_load_offset(o, w, src[s]->offset);
    }
    uint8_t *data = concat_alloc(alloc, bytes, &cap, &st, err);
    if (data == NULL) goto oom;
    zcp__array_set_buffer(dst, 2, data, cap);
    int64_t pos = 0;
    for (int s = 0; s < 2; s++) {
      const struct ArrowArray *x = src[s];
      if (x->length == 0) continue;
      const uint8_t *o = x->buffers[1];
      int64_t base = zcp__ipc_load_offset(o, w, x->offset);
      for (int64_t i = 0; i < x->length; i++) {
        zcp__ipc_store_offset(offs, w, at++, pos + zcp__ipc_load_offset(o, w, x->offset + i) - base);
      }
      int64_t len = zcp__ipc_load_offset(o, w, x->offset + x->length) - base;
      if (len) memcpy(data + pos, (const uint8_t *)x->buffers[2] + base, (size_t)len);
      pos += len;
    }
    zcp__ipc_store_offset(offs, w, at, pos);
  } else if (bits == 1) {
    uint8_t *vals = concat_alloc(alloc, zcp__bitmap_bytes(n), &cap, &st, err);
    if (vals == NULL) goto oom;
    zcp__array_set_buffer(dst, 1, vals, cap);
    append_bits(vals, 0, a->buffers[1], a->offset, a->length);
    append_bits(vals, a->length, b->buffers[1], b->offset, b->length);
  } else {
    int64_t bytes = bits / 8;
    uint8_t *vals = concat_alloc(alloc, n * bytes, &cap, &st, err);
    if (vals == NULL) goto oom;
    zcp__array_set_buffer(dst, 1, vals, cap);
    if (a->length)
      memcpy(vals, (const uint8_t *)a->buffers[1] + a->offset * bytes,
             (size_t)(a->length * bytes));
    if (b->length) {
      memcpy(vals + a->length * bytes, (const uint8_t *)b->buffers[1] + b->offset * bytes,
             (size_t)(b->length * bytes));
    }
  }
  return ZCP_OK;
oom:
  zcp_array_release(dst);
  return zcp_error_prefix(err, st, "delta dictionary: ");
}
