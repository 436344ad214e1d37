/* Builders of nested columns: lists (int32/int64 offsets), list views (offsets + sizes),
 * fixed-size lists, maps, structs, sparse and dense unions, run-end encoded columns.
 *
 * The caller appends to the children and then closes the parent's element; the parent
 * checks that the children moved as its type demands (struct: each child one value;
 * fixed-size list: exactly fixed_size items; union: one value in the chosen child;
 * run-end encoded: one value per run) and reports a mismatch naming the column, instead
 * of producing an array that only fails validation later. */
#include <string.h>

#include "arrow/builder_internal.h"

bool zcp__is_nested_type(enum zcp_type t) {
  return t >= ZCP_TYPE_LIST && t <= ZCP_TYPE_RUN_END_ENCODED;
}

static bool is_list(enum zcp_type t) {
  return t == ZCP_TYPE_LIST || t == ZCP_TYPE_LARGE_LIST || t == ZCP_TYPE_MAP;
}

static bool is_list_view(enum zcp_type t) {
  return t == ZCP_TYPE_LIST_VIEW || t == ZCP_TYPE_LARGE_LIST_VIEW;
}

static int64_t offset_width(enum zcp_type t) {
  return (t == ZCP_TYPE_LARGE_LIST || t == ZCP_TYPE_LARGE_LIST_VIEW) ? 8 : 4;
}

static int64_t max_offset(int64_t width) {
  return width == 4 ? INT32_MAX : INT64_MAX;
}

static void put_offset(struct zcp__buf *buf, int64_t width, int64_t v) {
  if (width == 4) {
    int32_t v32 = (int32_t)v;
    memcpy(buf->data + buf->size, &v32, 4);
  } else {
    memcpy(buf->data + buf->size, &v, 8);
  }
  buf->size += width;
}

static const char *child_name(const struct zcp_builder *c) {
  return c->schema->name != NULL ? c->schema->name : "";
}

zcp_status_t zcp__nested_check_complete(struct zcp_builder *b) {
  enum zcp_type t = b->format.type;
  if (is_list(t) || is_list_view(t) || t == ZCP_TYPE_FIXED_SIZE_LIST) {
    int64_t extra = b->children[0]->length - b->child_mark;
    if (extra != 0) {
      return zcp__builder_error(b, ZCP_INVALID_ARGUMENT,
                                "an element is open: the child has %lld items since the "
                                "last finish_element",
                                (long long)extra);
    }
    return ZCP_OK;
  }
  if (t == ZCP_TYPE_STRUCT || t == ZCP_TYPE_SPARSE_UNION || t == ZCP_TYPE_DENSE_UNION) {
    for (int64_t i = 0; i < b->n_children; i++) {
      struct zcp_builder *c = b->children[i];
      int64_t want = t == ZCP_TYPE_DENSE_UNION ? b->expect[i] : b->length;
      if (c->length != want) {
        return zcp__builder_error(b, ZCP_INVALID_ARGUMENT,
                                  "child '%s' has %lld values, expected %lld",
                                  child_name(c), (long long)c->length, (long long)want);
      }
    }
    return ZCP_OK;
  }
  if (t == ZCP_TYPE_RUN_END_ENCODED) {
    struct zcp_builder *ends = b->children[0], *values = b->children[1];
    if (values->length != ends->length) {
      return zcp__builder_error(b, ZCP_INVALID_ARGUMENT,
                                "the values child has %lld values for %lld runs",
                                (long long)values->length, (long long)ends->length);
    }
  }
  return ZCP_OK;
}

/* Reserves room for n more offsets (or list-view offsets and sizes). */
static zcp_status_t reserve_offsets(struct zcp_builder *b, int64_t n) {
  enum zcp_type t = b->format.type;
  int64_t w = offset_width(t), bytes;
  if (!zcp__mul_i64(n, w, &bytes)) {
    return zcp__builder_error(b, ZCP_OUT_OF_MEMORY, "%lld elements are too many",
                              (long long)n);
  }
  if (is_list(t)) {
    ZCP_RETURN_NOT_OK(zcp__builder_offsets_start(b, &b->buf[0], w));
    return zcp__buf_reserve(b, &b->buf[0], bytes);
  }
  ZCP_RETURN_NOT_OK(zcp__buf_reserve(b, &b->buf[0], bytes));
  return zcp__buf_reserve(b, &b->buf[1], bytes);
}

static zcp_status_t union_slots(struct zcp_builder *b, int64_t n, bool valid) {
  bool dense = b->format.type == ZCP_TYPE_DENSE_UNION;
  struct zcp_builder *first = b->children[0];
  int64_t start = first->length, end;
  if (dense && (!zcp__add_i64(start, n, &end) || end > INT32_MAX)) {
    return zcp__builder_error(b, ZCP_NO_SPACE, "dense union offsets exceed int32");
  }
  ZCP_RETURN_NOT_OK(zcp__buf_reserve(b, &b->buf[0], n));
  if (dense) ZCP_RETURN_NOT_OK(zcp__buf_reserve(b, &b->buf[1], n * 4));
  /* The null (or empty value) lives in the first child; a sparse union's other children
   * get a slot each that nobody selects. */
  ZCP_RETURN_NOT_OK(zcp__builder_append_slots(first, n, valid));
  for (int64_t i = 1; !dense && i < b->n_children; i++) {
    ZCP_RETURN_NOT_OK(zcp__builder_fill(b->children[i], n));
  }
  memset(b->buf[0].data + b->buf[0].size, b->format.type_ids[0], (size_t)n);
  b->buf[0].size += n;
  if (dense) {
    int32_t *o = (int32_t *)(void *)(b->buf[1].data + b->buf[1].size);
    for (int64_t i = 0; i < n; i++) o[i] = (int32_t)(start + i);
    b->buf[1].size += n * 4;
    b->expect[0] += n;
  }
  b->length += n;
  return ZCP_OK;
}

zcp_status_t zcp__nested_append_slots(struct zcp_builder *b, int64_t n, bool valid) {
  enum zcp_type t = b->format.type;
  ZCP_RETURN_NOT_OK(zcp__nested_check_complete(b));
  int64_t len;
  if (!zcp__add_i64(b->length, n, &len)) {
    return zcp__builder_error(b, ZCP_NO_SPACE, "too many elements");
  }
  if (t == ZCP_TYPE_SPARSE_UNION || t == ZCP_TYPE_DENSE_UNION) {
    return union_slots(b, n, valid);
  }
  if (t == ZCP_TYPE_RUN_END_ENCODED) {
    ZCP_RETURN_NOT_OK(zcp__builder_append_slots(b->children[1], 1, valid));
    return zcp_builder_append_run(b, n);
  }
  ZCP_RETURN_NOT_OK(zcp__validity_reserve(b, n, !valid));
  if (is_list(t) || is_list_view(t)) {
    int64_t w = offset_width(t);
    ZCP_RETURN_NOT_OK(reserve_offsets(b, n));
    for (int64_t i = 0; i < n; i++) {
      put_offset(&b->buf[0], w, b->child_mark);
      if (is_list_view(t)) put_offset(&b->buf[1], w, 0);
    }
  } else if (t == ZCP_TYPE_FIXED_SIZE_LIST) {
    int64_t items;
    if (!zcp__mul_i64(n, b->format.fixed_size, &items)) {
      return zcp__builder_error(b, ZCP_NO_SPACE, "too many items");
    }
    ZCP_RETURN_NOT_OK(zcp__builder_fill(b->children[0], items));
    b->child_mark += items;
  } else if (t == ZCP_TYPE_STRUCT) {
    for (int64_t i = 0; i < b->n_children; i++) {
      ZCP_RETURN_NOT_OK(zcp__builder_fill(b->children[i], n));
    }
  }
  zcp__validity_append(b, n, valid);
  b->length = len;
  if (!valid) b->null_count += n;
  return ZCP_OK;
}

zcp_status_t zcp_builder_finish_element(struct zcp_builder *b) {
  if (b == NULL) return ZCP_INVALID_ARGUMENT;
  enum zcp_type t = b->format.type;
  if (!is_list(t) && !is_list_view(t) && t != ZCP_TYPE_FIXED_SIZE_LIST &&
      t != ZCP_TYPE_STRUCT) {
    return zcp__builder_error(b, ZCP_INVALID_ARGUMENT,
                              "finish_element applies to lists, maps and structs only");
  }
  if (t == ZCP_TYPE_STRUCT) {
    for (int64_t i = 0; i < b->n_children; i++) {
      struct zcp_builder *c = b->children[i];
      if (c->length != b->length + 1) {
        return zcp__builder_error(b, ZCP_INVALID_ARGUMENT,
                                  "child '%s' has %lld values, expected %lld (one per "
                                  "element)",
                                  child_name(c), (long long)c->length,
                                  (long long)b->length + 1);
      }
    }
  } else {
    struct zcp_builder *c = b->children[0];
    /* A nested child must have closed its own element (map entries, list of structs). */
    if (zcp__is_nested_type(c->format.type)) {
      ZCP_RETURN_NOT_OK(zcp__nested_check_complete(c));
    }
    int64_t items = c->length - b->child_mark;
    if (t == ZCP_TYPE_FIXED_SIZE_LIST) {
      if (items != b->format.fixed_size) {
        return zcp__builder_error(
            b, ZCP_INVALID_ARGUMENT,
            "fixed-size list expects %d items per element, got %lld",
            b->format.fixed_size, (long long)items);
      }
    } else {
      int64_t w = offset_width(t);
      if (c->length > max_offset(w)) {
        return zcp__builder_error(b, ZCP_NO_SPACE,
                                  "%lld child items exceed the int32 offsets (use the "
                                  "large type)",
                                  (long long)c->length);
      }
      ZCP_RETURN_NOT_OK(reserve_offsets(b, 1));
    }
  }
  ZCP_RETURN_NOT_OK(zcp__validity_reserve(b, 1, false));
  if (is_list(t)) {
    put_offset(&b->buf[0], offset_width(t), b->children[0]->length);
  } else if (is_list_view(t)) {
    put_offset(&b->buf[0], offset_width(t), b->child_mark);
    put_offset(&b->buf[1], offset_width(t), b->children[0]->length - b->child_mark);
  }
  if (t != ZCP_TYPE_STRUCT) b->child_mark = b->children[0]->length;
  zcp__validity_append(b, 1, true);
  b->length++;
  return ZCP_OK;
}

zcp_status_t zcp_builder_append_union(struct zcp_builder *b, int8_t type_id) {
  if (b == NULL) return ZCP_INVALID_ARGUMENT;
  enum zcp_type t = b->format.type;
  if (t != ZCP_TYPE_SPARSE_UNION && t != ZCP_TYPE_DENSE_UNION) {
    return zcp__builder_error(b, ZCP_INVALID_ARGUMENT,
                              "append_union applies to unions only");
  }
  if (type_id < 0 || b->child_of_type[type_id] < 0) {
    return zcp__builder_error(b, ZCP_INVALID_ARGUMENT, "type id %d is not in the union",
                              type_id);
  }
  ZCP_RETURN_NOT_OK(zcp__nested_check_complete(b));
  int64_t idx = b->child_of_type[type_id];
  struct zcp_builder *c = b->children[idx];
  bool dense = t == ZCP_TYPE_DENSE_UNION;
  if (dense && c->length >= INT32_MAX) {
    return zcp__builder_error(b, ZCP_NO_SPACE, "dense union offsets exceed int32");
  }
  ZCP_RETURN_NOT_OK(zcp__buf_reserve(b, &b->buf[0], 1));
  if (dense) ZCP_RETURN_NOT_OK(zcp__buf_reserve(b, &b->buf[1], 4));
  for (int64_t i = 0; !dense && i < b->n_children; i++) {
    if (i != idx) ZCP_RETURN_NOT_OK(zcp__builder_fill(b->children[i], 1));
  }
  b->buf[0].data[b->buf[0].size++] = (uint8_t)type_id;
  if (dense) {
    int32_t off = (int32_t)c->length;
    memcpy(b->buf[1].data + b->buf[1].size, &off, 4);
    b->buf[1].size += 4;
    b->expect[idx] = c->length + 1;
  }
  b->length++;
  return ZCP_OK;
}

zcp_status_t zcp_builder_append_run(struct zcp_builder *b, int64_t run_length) {
  if (b == NULL) return ZCP_INVALID_ARGUMENT;
  if (b->format.type != ZCP_TYPE_RUN_END_ENCODED) {
    return zcp__builder_error(b, ZCP_INVALID_ARGUMENT,
                              "append_run applies to run-end encoded columns only");
  }
  if (run_length <= 0) {
    return zcp__builder_error(b, ZCP_INVALID_ARGUMENT, "run length %lld is not positive",
                              (long long)run_length);
  }
  struct zcp_builder *ends = b->children[0], *values = b->children[1];
  if (values->length != ends->length + 1) {
    return zcp__builder_error(
        b, ZCP_INVALID_ARGUMENT,
        "append exactly one value before each run (values has %lld, "
        "runs %lld)",
        (long long)values->length, (long long)ends->length);
  }
  int64_t end, max = ends->format.type == ZCP_TYPE_INT16   ? INT16_MAX
                     : ends->format.type == ZCP_TYPE_INT32 ? INT32_MAX
                                                           : INT64_MAX;
  if (!zcp__add_i64(b->run_end, run_length, &end) || end > max) {
    return zcp__builder_error(b, ZCP_NO_SPACE, "run end %lld + %lld exceeds %s",
                              (long long)b->run_end, (long long)run_length,
                              zcp_type_name(ends->format.type));
  }
  ZCP_RETURN_NOT_OK(zcp_builder_append_int(ends, end));
  b->run_end = end;
  b->length = end;
  return ZCP_OK;
}

zcp_status_t zcp__nested_reserve(struct zcp_builder *b, int64_t additional,
                                 int64_t additional_bytes) {
  enum zcp_type t = b->format.type;
  ZCP_RETURN_NOT_OK(zcp__validity_reserve(b, additional, false));
  if (is_list(t) || is_list_view(t)) return reserve_offsets(b, additional);
  if (t == ZCP_TYPE_FIXED_SIZE_LIST) {
    int64_t items;
    if (!zcp__mul_i64(additional, b->format.fixed_size, &items)) {
      return zcp__builder_error(b, ZCP_OUT_OF_MEMORY, "too many items");
    }
    return zcp_builder_reserve(b->children[0], items, additional_bytes);
  }
  if (t == ZCP_TYPE_STRUCT || t == ZCP_TYPE_SPARSE_UNION) {
    for (int64_t i = 0; i < b->n_children; i++) {
      ZCP_RETURN_NOT_OK(
          zcp_builder_reserve(b->children[i], additional, additional_bytes));
    }
  }
  if (t == ZCP_TYPE_SPARSE_UNION || t == ZCP_TYPE_DENSE_UNION) {
    ZCP_RETURN_NOT_OK(zcp__buf_reserve(b, &b->buf[0], additional));
    if (t == ZCP_TYPE_DENSE_UNION) {
      int64_t bytes;
      if (!zcp__mul_i64(additional, 4, &bytes)) {
        return zcp__builder_error(b, ZCP_OUT_OF_MEMORY, "too many elements");
      }
      ZCP_RETURN_NOT_OK(zcp__buf_reserve(b, &b->buf[1], bytes));
    }
  }
  return ZCP_OK;
}
