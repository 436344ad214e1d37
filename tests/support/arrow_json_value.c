/* See arrow_json.h: elements of any array as plain JSON values, so that what a foreign
 * library read (turned into the same JSON by a script) can be compared with what we
 * wrote, and what it wrote with what we read. */
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "arrow_json.h"

static json_t *int_text(long long x) {
  char b[32];
  snprintf(b, sizeof b, "%lld", x);
  return json_string(b);
}

static json_t *hex(struct zcp_string_view s) {
  static const char digits[] = "0123456789abcdef";
  char *b = malloc((size_t)s.size * 2 + 1);
  for (int64_t k = 0; k < s.size; k++) {
    b[2 * k] = digits[(uint8_t)s.data[k] >> 4];
    b[2 * k + 1] = digits[(uint8_t)s.data[k] & 15];
  }
  b[s.size * 2] = 0;
  json_t *j = json_string(b);
  free(b);
  return j;
}

/* Two's-complement little-endian bytes as decimal text. */
static json_t *decimal_text(struct zcp_string_view s) {
  uint8_t w[32];
  int n = (int)s.size;
  memcpy(w, s.data, (size_t)n);
  bool neg = (w[n - 1] & 0x80) != 0;
  if (neg) {
    unsigned carry = 1;
    for (int k = 0; k < n; k++) {
      unsigned x = (uint8_t)~w[k] + carry;
      w[k] = (uint8_t)x;
      carry = x >> 8;
    }
  }
  char digits[100];
  int nd = 0;
  for (;;) {
    unsigned rem = 0;
    bool zero = true;
    for (int k = n - 1; k >= 0; k--) {
      unsigned cur = (rem << 8) | w[k];
      w[k] = (uint8_t)(cur / 10);
      rem = cur % 10;
      if (w[k]) zero = false;
    }
    digits[nd++] = (char)('0' + rem);
    if (zero) break;
  }
  char text[102];
  int t = 0;
  if (neg) text[t++] = '-';
  while (nd) text[t++] = digits[--nd];
  text[t] = 0;
  return json_string(text);
}

json_t *zcp_json_value(const struct zcp_array_view *v, int64_t i) {
  if (zcp_array_view_is_null(v, i)) return json_null();
  if (v->dictionary != NULL) return zcp_json_value(v->dictionary, zcp_array_view_get_int(v, i));
  switch (v->format.type) {
    case ZCP_TYPE_NA:
      return json_null();
    case ZCP_TYPE_BOOL:
      return json_boolean(zcp_array_view_get_int(v, i) != 0);
    case ZCP_TYPE_UINT64: {
      char b[32];
      snprintf(b, sizeof b, "%" PRIu64, zcp_array_view_get_uint(v, i));
      return json_string(b);
    }
    case ZCP_TYPE_INT8: case ZCP_TYPE_UINT8: case ZCP_TYPE_INT16: case ZCP_TYPE_UINT16:
    case ZCP_TYPE_INT32: case ZCP_TYPE_UINT32: case ZCP_TYPE_INT64: case ZCP_TYPE_DATE32:
    case ZCP_TYPE_DATE64: case ZCP_TYPE_TIME32: case ZCP_TYPE_TIME64: case ZCP_TYPE_TIMESTAMP:
    case ZCP_TYPE_DURATION: case ZCP_TYPE_INTERVAL_MONTHS:
      return int_text(zcp_array_view_get_int(v, i));
    case ZCP_TYPE_HALF_FLOAT: case ZCP_TYPE_FLOAT: case ZCP_TYPE_DOUBLE:
      return json_real(zcp_array_view_get_double(v, i));
    case ZCP_TYPE_DECIMAL32: case ZCP_TYPE_DECIMAL64:
    case ZCP_TYPE_DECIMAL128: case ZCP_TYPE_DECIMAL256:
      return decimal_text(zcp_array_view_get_bytes(v, i));
    case ZCP_TYPE_INTERVAL_DAY_TIME: case ZCP_TYPE_INTERVAL_MONTH_DAY_NANO: {
      int32_t months, days;
      int64_t sub;
      zcp_array_view_get_interval(v, i, &months, &days, &sub);
      if (v->format.type == ZCP_TYPE_INTERVAL_DAY_TIME) return json_pack("[oo]", int_text(days), int_text(sub));
      return json_pack("[ooo]", int_text(months), int_text(days), int_text(sub));
    }
    case ZCP_TYPE_STRING: case ZCP_TYPE_LARGE_STRING: case ZCP_TYPE_STRING_VIEW: {
      struct zcp_string_view s = zcp_array_view_get_bytes(v, i);
      return json_stringn(s.data, (size_t)s.size);
    }
    case ZCP_TYPE_BINARY: case ZCP_TYPE_LARGE_BINARY: case ZCP_TYPE_BINARY_VIEW:
    case ZCP_TYPE_FIXED_SIZE_BINARY:
      return hex(zcp_array_view_get_bytes(v, i));
    case ZCP_TYPE_LIST: case ZCP_TYPE_LARGE_LIST: case ZCP_TYPE_LIST_VIEW:
    case ZCP_TYPE_LARGE_LIST_VIEW: case ZCP_TYPE_FIXED_SIZE_LIST: case ZCP_TYPE_MAP: {
      int64_t start, size;
      zcp_array_view_get_list(v, i, &start, &size);
      json_t *a = json_array();
      const struct zcp_array_view *items = &v->children[0];
      for (int64_t k = 0; k < size; k++) {
        if (v->format.type != ZCP_TYPE_MAP) {
          json_array_append_new(a, zcp_json_value(items, start + k));
        } else { /* entries struct: [key, value] */
          int64_t e = items->offset + start + k;
          json_array_append_new(a, json_pack("[oo]", zcp_json_value(&items->children[0], e),
                                             zcp_json_value(&items->children[1], e)));
        }
      }
      return a;
    }
    case ZCP_TYPE_STRUCT: {
      json_t *o = json_object();
      for (int64_t k = 0; k < v->n_children; k++) {
        const char *name = v->schema->children[k]->name;
        json_object_set_new(o, name ? name : "", zcp_json_value(&v->children[k], v->offset + i));
      }
      return o;
    }
    case ZCP_TYPE_SPARSE_UNION: case ZCP_TYPE_DENSE_UNION: {
      int64_t ci, c = zcp_array_view_union_child(v, i, &ci);
      return c < 0 ? json_null() : zcp_json_value(&v->children[c], ci);
    }
    case ZCP_TYPE_RUN_END_ENCODED:
      return zcp_json_value(&v->children[1], zcp_array_view_run_index(v, i));
    default:
      return json_string("<unsupported type>");
  }
}

zcp_status_t zcp_json_batch_values(const struct ArrowArray *batch,
                                   const struct ArrowSchema *schema, json_t **columns,
                                   struct zcp_error *err) {
  struct zcp_array_view view;
  ZCP_RETURN_NOT_OK(zcp_array_view_init(batch, schema, &view, err));
  if (*columns == NULL) *columns = json_object();
  for (int64_t c = 0; c < view.n_children; c++) {
    const char *name = schema->children[c]->name ? schema->children[c]->name : "";
    json_t *values = json_object_get(*columns, name);
    if (values == NULL) {
      values = json_array();
      json_object_set_new(*columns, name, values);
    }
    for (int64_t r = 0; r < view.length; r++) {
      json_array_append_new(values, zcp_json_value(&view.children[c], view.offset + r));
    }
  }
  zcp_array_view_reset(&view);
  return ZCP_OK;
}

bool zcp_json_same(json_t *a, json_t *b, char *where, size_t cap) {
  if (json_is_number(a) && json_is_number(b)) {
    if (json_number_value(a) == json_number_value(b)) return true;
  } else if (json_is_array(a) && json_is_array(b) && json_array_size(a) == json_array_size(b)) {
    for (size_t k = 0; k < json_array_size(a); k++) {
      if (!zcp_json_same(json_array_get(a, k), json_array_get(b, k), where, cap)) {
        if (where) {
          char tmp[512];
          snprintf(tmp, sizeof tmp, "[%zu]%s", k, where);
          snprintf(where, cap, "%s", tmp);
        }
        return false;
      }
    }
    return true;
  } else if (json_is_object(a) && json_is_object(b) && json_object_size(a) == json_object_size(b)) {
    const char *key;
    json_t *va;
    json_object_foreach(a, key, va) {
      if (!zcp_json_same(va, json_object_get(b, key), where, cap)) {
        if (where) {
          char tmp[512];
          snprintf(tmp, sizeof tmp, ".%s%s", key, where);
          snprintf(where, cap, "%s", tmp);
        }
        return false;
      }
    }
    return true;
  } else if (json_equal(a, b)) {
    return true;
  }
  if (where) {
    char *ta = a ? json_dumps(a, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    char *tb = b ? json_dumps(b, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    snprintf(where, cap, ": %.200s vs %.200s", ta ? ta : "(missing)", tb ? tb : "(missing)");
    free(ta);
    free(tb);
  }
  return false;
}
