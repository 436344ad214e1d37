/* See arrow_json.h: building the JSON's batches with our builders. Used to test the
 * comparison without IPC code, and as a second producer of the same values. */
#include <stdlib.h>
#include <string.h>

#include "arrow_json.h"

struct build {
  const struct zcp_json_file *f;
  struct zcp_error *err;
};

static json_t *jchild(json_t *o, size_t k) { return json_array_get(json_object_get(o, "children"), k); }

static zcp_status_t bad(struct build *b, json_t *field, int64_t j, const char *what) {
  return zcp_error_set(b->err, ZCP_CORRUPT_INPUT, "building '%s' row %lld: %s",
                       json_string_value(json_object_get(field, "name")), (long long)j, what);
}

static zcp_status_t build_elem(struct build *b, struct zcp_builder *bl, json_t *field,
                               json_t *col, int64_t j);

/* Fills the dictionary builders of bl's tree from the JSON dictionaries. */
static zcp_status_t prepare(struct build *b, struct zcp_builder *bl, json_t *field) {
  json_t *dict = json_object_get(field, "dictionary");
  if (dict == NULL) {
    for (size_t k = 0; k < json_array_size(json_object_get(field, "children")); k++) {
      ZCP_RETURN_NOT_OK(prepare(b, zcp_builder_child(bl, (int64_t)k), jchild(field, k)));
    }
    return ZCP_OK;
  }
  json_t *dcol = zcp__json_dictionary(b->f, json_integer_value(json_object_get(dict, "id")));
  struct zcp_builder *db = zcp_builder_dictionary(bl);
  if (dcol == NULL || db == NULL) return bad(b, field, 0, "dictionary missing");
  json_t *values = zcp__json_values_field(field);
  zcp_status_t st = prepare(b, db, values);
  int64_t n = json_integer_value(json_object_get(dcol, "count"));
  for (int64_t k = 0; k < n && st == ZCP_OK; k++) st = build_elem(b, db, values, dcol, k);
  json_decref(values);
  return st;
}

static zcp_status_t build_bytes(struct build *b, struct zcp_builder *bl, json_t *field,
                                json_t *col, int64_t j, bool is_text) {
  uint8_t *bytes;
  int64_t n = zcp__json_bytes(col, j, is_text, &bytes);
  zcp_status_t st = n < 0 ? bad(b, field, j, "bytes not understood")
                          : zcp_builder_append_bytes(bl, bytes, n);
  free(bytes);
  return st;
}

static zcp_status_t build_list(struct build *b, struct zcp_builder *bl, json_t *field,
                               json_t *col, int64_t j, const struct zcp_format *f) {
  int64_t start, size, end;
  if (f->type == ZCP_TYPE_FIXED_SIZE_LIST) {
    size = f->fixed_size;
    start = j * size;
  } else if (f->type == ZCP_TYPE_LIST_VIEW || f->type == ZCP_TYPE_LARGE_LIST_VIEW) {
    if (!zcp__json_int(col, "OFFSET", j, &start) || !zcp__json_int(col, "SIZE", j, &size)) {
      return bad(b, field, j, "OFFSET/SIZE missing");
    }
  } else {
    if (!zcp__json_int(col, "OFFSET", j, &start) || !zcp__json_int(col, "OFFSET", j + 1, &end)) {
      return bad(b, field, j, "OFFSET missing");
    }
    size = end - start;
  }
  for (int64_t k = 0; k < size; k++) {
    ZCP_RETURN_NOT_OK(build_elem(b, zcp_builder_child(bl, 0), jchild(field, 0), jchild(col, 0),
                                 start + k));
  }
  return zcp_builder_finish_element(bl);
}

static zcp_status_t build_elem(struct build *b, struct zcp_builder *bl, json_t *field,
                               json_t *col, int64_t j) {
  const struct zcp_format *f = zcp_builder_format(bl);
  int64_t iv;
  uint64_t uv;
  if (!zcp__json_valid(col, j)) return zcp_builder_append_null(bl, 1);
  if (json_object_get(field, "dictionary") != NULL) {
    if (!zcp__json_int(col, "DATA", j, &iv)) return bad(b, field, j, "index missing");
    return zcp_builder_append_int(bl, iv);
  }
  switch (f->type) {
    case ZCP_TYPE_NA:
      return zcp_builder_append_null(bl, 1);
    case ZCP_TYPE_UINT8: case ZCP_TYPE_UINT16: case ZCP_TYPE_UINT32: case ZCP_TYPE_UINT64:
      if (!zcp__json_uint(col, "DATA", j, &uv)) return bad(b, field, j, "value missing");
      return zcp_builder_append_uint(bl, uv);
    case ZCP_TYPE_BOOL: case ZCP_TYPE_INT8: case ZCP_TYPE_INT16: case ZCP_TYPE_INT32:
    case ZCP_TYPE_INT64: case ZCP_TYPE_DATE32: case ZCP_TYPE_DATE64: case ZCP_TYPE_TIME32:
    case ZCP_TYPE_TIME64: case ZCP_TYPE_TIMESTAMP: case ZCP_TYPE_DURATION:
    case ZCP_TYPE_INTERVAL_MONTHS:
      if (!zcp__json_int(col, "DATA", j, &iv)) return bad(b, field, j, "value missing");
      return zcp_builder_append_int(bl, iv);
    case ZCP_TYPE_HALF_FLOAT: case ZCP_TYPE_FLOAT: case ZCP_TYPE_DOUBLE:
      return zcp_builder_append_double(
          bl, json_number_value(json_array_get(json_object_get(col, "DATA"), (size_t)j)));
    case ZCP_TYPE_DECIMAL32: case ZCP_TYPE_DECIMAL64:
    case ZCP_TYPE_DECIMAL128: case ZCP_TYPE_DECIMAL256: {
      uint8_t bytes[32];
      int width = zcp_type_bit_width(f->type) / 8;
      const char *text = json_string_value(json_array_get(json_object_get(col, "DATA"), (size_t)j));
      if (text == NULL || !zcp__json_decimal(text, bytes, width)) return bad(b, field, j, "decimal");
      return zcp_builder_append_bytes(bl, bytes, width);
    }
    case ZCP_TYPE_INTERVAL_DAY_TIME: case ZCP_TYPE_INTERVAL_MONTH_DAY_NANO: {
      json_t *o = json_array_get(json_object_get(col, "DATA"), (size_t)j);
      json_t *sub = json_object_get(o, f->type == ZCP_TYPE_INTERVAL_DAY_TIME ? "milliseconds" : "nanoseconds");
      int64_t s = json_is_string(sub) ? strtoll(json_string_value(sub), NULL, 10) : json_integer_value(sub);
      return zcp_builder_append_interval(bl, (int32_t)json_integer_value(json_object_get(o, "months")),
                                         (int32_t)json_integer_value(json_object_get(o, "days")), s);
    }
    case ZCP_TYPE_STRING: case ZCP_TYPE_LARGE_STRING: case ZCP_TYPE_STRING_VIEW:
      return build_bytes(b, bl, field, col, j, true);
    case ZCP_TYPE_BINARY: case ZCP_TYPE_LARGE_BINARY: case ZCP_TYPE_BINARY_VIEW:
    case ZCP_TYPE_FIXED_SIZE_BINARY:
      return build_bytes(b, bl, field, col, j, false);
    case ZCP_TYPE_LIST: case ZCP_TYPE_LARGE_LIST: case ZCP_TYPE_LIST_VIEW:
    case ZCP_TYPE_LARGE_LIST_VIEW: case ZCP_TYPE_FIXED_SIZE_LIST: case ZCP_TYPE_MAP:
      return build_list(b, bl, field, col, j, f);
    case ZCP_TYPE_STRUCT:
      for (size_t k = 0; k < json_array_size(json_object_get(field, "children")); k++) {
        ZCP_RETURN_NOT_OK(build_elem(b, zcp_builder_child(bl, (int64_t)k), jchild(field, k),
                                     jchild(col, k), j));
      }
      return zcp_builder_finish_element(bl);
    case ZCP_TYPE_SPARSE_UNION: case ZCP_TYPE_DENSE_UNION: {
      int64_t id, cj = j;
      if (!zcp__json_int(col, "TYPE_ID", j, &id)) return bad(b, field, j, "TYPE_ID missing");
      if (f->type == ZCP_TYPE_DENSE_UNION && !zcp__json_int(col, "OFFSET", j, &cj)) {
        return bad(b, field, j, "OFFSET missing");
      }
      int c = -1;
      for (int k = 0; k < f->n_type_ids; k++) {
        if (f->type_ids[k] == id) c = k;
      }
      if (c < 0) return bad(b, field, j, "unknown type id");
      ZCP_RETURN_NOT_OK(zcp_builder_append_union(bl, (int8_t)id));
      return build_elem(b, zcp_builder_union_child(bl, (int8_t)id), jchild(field, (size_t)c),
                        jchild(col, (size_t)c), cj);
    }
    case ZCP_TYPE_RUN_END_ENCODED: { /* one run per row */
      json_t *ends = jchild(col, 0);
      int64_t n = json_integer_value(json_object_get(ends, "count")), k = 0, end = 0;
      while (k < n && zcp__json_int(ends, "DATA", k, &end) && end <= j) k++;
      if (k == n) return bad(b, field, j, "run ends do not cover the row");
      ZCP_RETURN_NOT_OK(build_elem(b, zcp_builder_child(bl, 1), jchild(field, 1), jchild(col, 1), k));
      return zcp_builder_append_run(bl, 1);
    }
    default:
      return bad(b, field, j, zcp_type_name(f->type));
  }
}

zcp_status_t zcp_json_build_batch(const struct zcp_json_file *f, int64_t i,
                                  struct ArrowArray *out, struct zcp_error *err) {
  json_t *jb = json_array_get(f->batches, (size_t)i);
  if (jb == NULL) return zcp_error_set(err, ZCP_NOT_FOUND, "JSON has no batch %lld", (long long)i);
  struct ArrowSchema schema;
  ZCP_RETURN_NOT_OK(zcp_json_file_schema(f, &schema, err));
  struct zcp_builder *root = NULL;
  zcp_status_t st = zcp_builder_init(&schema, NULL, &root, err);
  zcp_schema_release(&schema);
  if (st != ZCP_OK) return st;
  struct build b = {f, err};
  json_t *cols = json_object_get(jb, "columns");
  size_t ncols = json_array_size(f->fields);
  for (size_t k = 0; k < ncols && st == ZCP_OK; k++) {
    st = prepare(&b, zcp_builder_child(root, (int64_t)k), json_array_get(f->fields, k));
  }
  int64_t count = json_integer_value(json_object_get(jb, "count"));
  for (int64_t r = 0; r < count && st == ZCP_OK; r++) {
    for (size_t k = 0; k < ncols && st == ZCP_OK; k++) {
      st = build_elem(&b, zcp_builder_child(root, (int64_t)k), json_array_get(f->fields, k),
                      json_array_get(cols, k), r);
      if (st != ZCP_OK && err != NULL && err->code == ZCP_OK) {
        zcp_error_set(err, st, "building batch %lld column %zu row %lld: %s", (long long)i, k,
                      (long long)r, zcp_builder_last_error(zcp_builder_child(root, (int64_t)k)));
      }
    }
    if (st == ZCP_OK) st = zcp_builder_finish_element(root);
  }
  if (st == ZCP_OK) st = zcp_builder_finish(root, out, NULL, err);
  zcp_builder_release(root);
  return st;
}
