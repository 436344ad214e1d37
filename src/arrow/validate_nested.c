/* Validation of the nested layouts: lists and list views, fixed-size lists, structs,
 * maps, sparse and dense unions, run-end encoded arrays and dictionary indices. Called by
 * the walk in validate.c after the node's children are validated, so child lengths and
 * child buffers may be relied on here. Same rule as there: no read outside a checked
 * range, no unchecked size arithmetic. */
#include "arrow/validate_internal.h"

#include "common/util.h"

static const char *child_name(const struct zcp_array_view *child) {
  const char *n = child->schema != NULL ? child->schema->name : NULL;
  return n != NULL ? n : "";
}

/* Child `i` must have at least `need` rows. */
static zcp_status_t check_child_length(struct zcp__vctx *c,
                                       const struct zcp_array_view *v, int64_t i,
                                       int64_t need, const char *why) {
  const struct zcp_array_view *child = &v->children[i];
  if (child->length < need) {
    return ZCP_VFAIL(c, v, "child %lld '%s' has %lld rows, expected at least %lld %s",
                     (long long)i, child_name(child), (long long)child->length,
                     (long long)need, why);
  }
  return ZCP_OK;
}

/* FULL: the keys a map's rows reference are never null. */
static zcp_status_t check_map_keys(struct zcp__vctx *c, const struct zcp_array_view *v) {
  const struct zcp_array_view *entries = &v->children[0];
  const struct zcp_array_view *keys = &entries->children[0];
  if (keys->null_count == 0) return ZCP_OK;
  for (int64_t r = 0; r < v->length; r++) {
    int64_t start, size;
    zcp_array_view_get_list(v, r, &start, &size);
    for (int64_t k = start; k < start + size; k++) {
      if (zcp_array_view_is_null(keys, entries->offset + k)) {
        return ZCP_VFAIL(c, v, "key %lld of the map at row %lld is null",
                         (long long)(k - start), (long long)r);
      }
    }
  }
  return ZCP_OK;
}

static zcp_status_t check_list(struct zcp__vctx *c, const struct zcp_array_view *v) {
  int64_t width = v->format.type == ZCP_TYPE_LARGE_LIST ? 8 : 4;
  int64_t first, last;
  ZCP_RETURN_NOT_OK(zcp__check_offsets(c, v, width, v->children[0].length, "child array",
                                       &first, &last));
  if (v->format.type == ZCP_TYPE_MAP && c->level >= ZCP_VALIDATE_FULL && v->length > 0) {
    return check_map_keys(c, v);
  }
  return ZCP_OK;
}

static zcp_status_t check_list_view(struct zcp__vctx *c, const struct zcp_array_view *v) {
  int64_t width = v->format.type == ZCP_TYPE_LIST_VIEW ? 4 : 8;
  int64_t n = v->offset + v->length;
  ZCP_RETURN_NOT_OK(zcp__check_buffer(c, v, 1, "offsets", n, width * 8));
  ZCP_RETURN_NOT_OK(zcp__check_buffer(c, v, 2, "sizes", n, width * 8));
  if (!zcp__vctx_bounds(c)) return ZCP_OK;
  /* Every slot, null or not, must stay within the child (the spec says so, and getters
   * are called on null slots by code that does not check first). */
  int64_t child_len = v->children[0].length;
  for (int64_t r = 0; r < v->length; r++) {
    int64_t off = zcp__ld_offset(v->buffers[1], width, v->offset + r);
    int64_t size = zcp__ld_offset(v->buffers[2], width, v->offset + r);
    int64_t end;
    if (off < 0 || size < 0 || !zcp__add_i64(off, size, &end) || end > child_len) {
      return ZCP_VFAIL(c, v,
                       "list view at row %lld has offset %lld and size %lld, outside the "
                       "child's %lld rows",
                       (long long)r, (long long)off, (long long)size,
                       (long long)child_len);
    }
  }
  return ZCP_OK;
}

static zcp_status_t check_fixed_size_list(struct zcp__vctx *c,
                                          const struct zcp_array_view *v) {
  int64_t need;
  if (v->format.fixed_size < 0 ||
      !zcp__mul_i64(v->offset + v->length, v->format.fixed_size, &need)) {
    return ZCP_VFAIL(c, v, "(offset %lld + length %lld) * %d items overflows",
                     (long long)v->offset, (long long)v->length, v->format.fixed_size);
  }
  return check_child_length(c, v, 0, need, "for the fixed-size lists");
}

static zcp_status_t check_struct(struct zcp__vctx *c, const struct zcp_array_view *v) {
  int64_t need = v->offset + v->length;
  for (int64_t i = 0; i < v->n_children; i++) {
    ZCP_RETURN_NOT_OK(check_child_length(c, v, i, need, "for offset + length"));
  }
  return ZCP_OK;
}

static zcp_status_t check_union(struct zcp__vctx *c, const struct zcp_array_view *v) {
  bool dense = v->format.type == ZCP_TYPE_DENSE_UNION;
  int64_t n = v->offset + v->length;
  ZCP_RETURN_NOT_OK(zcp__check_buffer(c, v, 1, "type ids", n, 8));
  if (dense) {
    ZCP_RETURN_NOT_OK(zcp__check_buffer(c, v, 2, "offsets", n, 32));
  } else {
    for (int64_t i = 0; i < v->n_children; i++) {
      ZCP_RETURN_NOT_OK(check_child_length(c, v, i, n, "for offset + length"));
    }
  }
  if (!zcp__vctx_bounds(c) || v->length == 0) return ZCP_OK;
  int16_t child_of[ZCP_MAX_UNION_TYPES];
  for (int k = 0; k < ZCP_MAX_UNION_TYPES; k++) child_of[k] = -1;
  for (int32_t k = 0; k < v->format.n_type_ids && k < v->n_children; k++) {
    int8_t id = v->format.type_ids[k];
    if (id >= 0) child_of[id] = (int16_t)k;
  }
  for (int64_t r = 0; r < v->length; r++) {
    int64_t j = v->offset + r;
    int8_t id = (int8_t)v->buffers[1][j];
    if (id < 0 || child_of[id] < 0) {
      return ZCP_VFAIL(c, v, "type id %d at row %lld is not one of the union's", (int)id,
                       (long long)r);
    }
    if (!dense) continue;
    const struct zcp_array_view *child = &v->children[child_of[id]];
    int32_t off = zcp__ld_i32(v->buffers[2], j);
    if (off < 0 || off >= child->length) {
      return ZCP_VFAIL(c, v,
                       "offset %d at row %lld is outside child '%s' (type id %d) of %lld "
                       "rows",
                       off, (long long)r, child_name(child), (int)id,
                       (long long)child->length);
    }
  }
  return ZCP_OK;
}

static zcp_status_t check_run_end_encoded(struct zcp__vctx *c,
                                          const struct zcp_array_view *v) {
  const struct zcp_array_view *ends = &v->children[0];
  const struct zcp_array_view *values = &v->children[1];
  if (ends->null_count > 0) {
    return ZCP_VFAIL(c, v, "run ends contain %lld nulls", (long long)ends->null_count);
  }
  if (values->length < ends->length) {
    return ZCP_VFAIL(c, v, "values child has %lld rows, fewer than the %lld runs",
                     (long long)values->length, (long long)ends->length);
  }
  if (v->length == 0) return ZCP_OK;
  if (ends->length == 0) {
    return ZCP_VFAIL(c, v, "has %lld rows but no runs", (long long)v->length);
  }
  if (c->level < ZCP_VALIDATE_DEFAULT) return ZCP_OK;
  int64_t width = zcp_format_bit_width(&ends->format) / 8;
  const uint8_t *e = ends->buffers[1];
  int64_t last = zcp__ld_signed(e, width, ends->offset + ends->length - 1);
  int64_t need = v->offset + v->length;
  if (last < need) {
    return ZCP_VFAIL(c, v, "last run end %lld is less than offset + length %lld",
                     (long long)last, (long long)need);
  }
  if (!zcp__vctx_bounds(c)) return ZCP_OK;
  if (ends->null_count < 0 && ends->buffers[0] != NULL &&
      zcp__count_set_bits(ends->buffers[0], ends->offset, ends->length) != ends->length) {
    return ZCP_VFAIL(c, v, "run ends contain nulls");
  }
  int64_t prev = 0;
  for (int64_t k = 0; k < ends->length; k++) {
    int64_t end = zcp__ld_signed(e, width, ends->offset + k);
    if (k == 0 && end <= 0) {
      return ZCP_VFAIL(c, v, "run end %lld at row 0 of the run ends is not positive",
                       (long long)end);
    }
    if (end <= prev) {
      return ZCP_VFAIL(c, v,
                       "run ends not strictly increasing at row %lld (%lld >= %lld)",
                       (long long)k, (long long)prev, (long long)end);
    }
    prev = end;
  }
  return ZCP_OK;
}

zcp_status_t zcp__check_dictionary_indices(struct zcp__vctx *c,
                                           const struct zcp_array_view *v) {
  if (!zcp__vctx_bounds(c)) return ZCP_OK;
  int64_t n = v->dictionary->length;
  for (int64_t r = 0; r < v->length; r++) {
    if (zcp_array_view_is_null(v, r)) continue;
    int64_t idx = zcp_array_view_get_int(v, r);
    if (idx < 0 || idx >= n) {
      return ZCP_VFAIL(c, v, "dictionary index %lld at row %lld is outside [0, %lld)",
                       (long long)idx, (long long)r, (long long)n);
    }
  }
  return ZCP_OK;
}

zcp_status_t zcp__check_nested(struct zcp__vctx *c, const struct zcp_array_view *v) {
  switch (v->format.type) {
    case ZCP_TYPE_LIST:
    case ZCP_TYPE_LARGE_LIST:
    case ZCP_TYPE_MAP:
      return check_list(c, v);
    case ZCP_TYPE_LIST_VIEW:
    case ZCP_TYPE_LARGE_LIST_VIEW:
      return check_list_view(c, v);
    case ZCP_TYPE_FIXED_SIZE_LIST:
      return check_fixed_size_list(c, v);
    case ZCP_TYPE_STRUCT:
      return check_struct(c, v);
    case ZCP_TYPE_SPARSE_UNION:
    case ZCP_TYPE_DENSE_UNION:
      return check_union(c, v);
    case ZCP_TYPE_RUN_END_ENCODED:
      return check_run_end_encoded(c, v);
    default:
      return ZCP_OK;
  }
}
