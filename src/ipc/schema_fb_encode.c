/* Encoding ArrowSchema trees as Arrow IPC Schema / Field tables, the other half of
 * schema_fb.c: every type of the columnar core, dictionary encodings with ids given in
 * pre-order (0, 1, 2, ... or the caller's, which may share), nullability, map key order
 * and metadata. Refuses (ZCP_INVALID_ARGUMENT)
 * schemas that are not record batch schemas or nest deeper than ZCP_MAX_DEPTH. */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "ipc/internal.h"

/* ---- encoding -----------------------------------------------------------------------
 */

struct encoder {
  struct zcp_fb_builder *b;
  struct zcp__ipc_dict_fields *dicts;
  const int64_t *ids; /* the caller's ids in pre-order, or NULL: 0, 1, 2, ... */
  int64_t n_ids;
  int64_t next; /* dictionary-encoded fields seen so far */
  struct zcp_error *err;
};

static zcp_fb_ref int_table(struct zcp_fb_builder *b, int bits, bool is_signed) {
  zcp__fb_table_start(b);
  zcp__fb_add_scalar(b, 0, 4, (uint32_t)bits);
  zcp__fb_add_scalar(b, 1, 1, is_signed);
  return zcp__fb_table_end(b);
}

/* The Type union member and table of f. */
static zcp_status_t encode_type(struct zcp_fb_builder *b, const struct zcp_format *f,
                                uint8_t *tt, zcp_fb_ref *ref, struct zcp_error *err) {
  zcp_fb_ref tz = 0, ids = 0;
  if (f->type == ZCP_TYPE_TIMESTAMP && f->timezone_len > 0) {
    tz = zcp__fb_string_create(b, f->timezone, f->timezone_len);
  }
  if (f->type == ZCP_TYPE_SPARSE_UNION || f->type == ZCP_TYPE_DENSE_UNION) {
    uint8_t le[4 * ZCP_MAX_UNION_TYPES];
    for (int32_t i = 0; i < f->n_type_ids; i++) {
      zcp__store_le32(le + 4 * i, (uint32_t)(int32_t)f->type_ids[i]);
    }
    ids = zcp__fb_vector_create(b, le, f->n_type_ids, 4, 4);
  }
  zcp__fb_table_start(b);
  switch (f->type) {
    case ZCP_TYPE_NA:
      *tt = ZCP_FB_T_NULL;
      break;
    case ZCP_TYPE_BOOL:
      *tt = ZCP_FB_T_BOOL;
      break;
    case ZCP_TYPE_INT8:
    case ZCP_TYPE_UINT8:
    case ZCP_TYPE_INT16:
    case ZCP_TYPE_UINT16:
    case ZCP_TYPE_INT32:
    case ZCP_TYPE_UINT32:
    case ZCP_TYPE_INT64:
    case ZCP_TYPE_UINT64:
      *tt = ZCP_FB_T_INT;
      zcp__fb_add_scalar(b, 0, 4, (uint32_t)zcp_type_bit_width(f->type));
      zcp__fb_add_scalar(b, 1, 1, (f->type - ZCP_TYPE_INT8) % 2 == 0);
      break;
    case ZCP_TYPE_HALF_FLOAT:
    case ZCP_TYPE_FLOAT:
    case ZCP_TYPE_DOUBLE:
      *tt = ZCP_FB_T_FLOAT;
      zcp__fb_add_scalar(b, 0, 2, (uint32_t)(f->type - ZCP_TYPE_HALF_FLOAT));
      break;
    case ZCP_TYPE_DECIMAL32:
    case ZCP_TYPE_DECIMAL64:
    case ZCP_TYPE_DECIMAL128:
    case ZCP_TYPE_DECIMAL256:
      *tt = ZCP_FB_T_DECIMAL;
      zcp__fb_add_scalar(b, 0, 4, (uint32_t)f->precision);
      zcp__fb_add_scalar(b, 1, 4, (uint32_t)f->scale);
      zcp__fb_add_scalar(b, 2, 4, (uint32_t)zcp_type_bit_width(f->type));
      break;
    case ZCP_TYPE_DATE32:
    case ZCP_TYPE_DATE64:
      *tt = ZCP_FB_T_DATE;
      zcp__fb_add_scalar(b, 0, 2, f->type == ZCP_TYPE_DATE64);
      break;
    case ZCP_TYPE_TIME32:
    case ZCP_TYPE_TIME64:
      *tt = ZCP_FB_T_TIME;
      zcp__fb_add_scalar(b, 0, 2, (uint32_t)f->unit);
      zcp__fb_add_scalar(b, 1, 4, f->type == ZCP_TYPE_TIME32 ? 32 : 64);
      break;
    case ZCP_TYPE_TIMESTAMP:
      *tt = ZCP_FB_T_TIMESTAMP;
      zcp__fb_add_scalar(b, 0, 2, (uint32_t)f->unit);
      if (tz) zcp__fb_add_ref(b, 1, tz);
      break;
    case ZCP_TYPE_DURATION:
      *tt = ZCP_FB_T_DURATION;
      zcp__fb_add_scalar(b, 0, 2, (uint32_t)f->unit);
      break;
    case ZCP_TYPE_INTERVAL_MONTHS:
    case ZCP_TYPE_INTERVAL_DAY_TIME:
    case ZCP_TYPE_INTERVAL_MONTH_DAY_NANO:
      *tt = ZCP_FB_T_INTERVAL;
      zcp__fb_add_scalar(b, 0, 2, (uint32_t)(f->type - ZCP_TYPE_INTERVAL_MONTHS));
      break;
    case ZCP_TYPE_BINARY:
      *tt = ZCP_FB_T_BINARY;
      break;
    case ZCP_TYPE_STRING:
      *tt = ZCP_FB_T_UTF8;
      break;
    case ZCP_TYPE_LARGE_BINARY:
      *tt = ZCP_FB_T_LARGE_BINARY;
      break;
    case ZCP_TYPE_LARGE_STRING:
      *tt = ZCP_FB_T_LARGE_UTF8;
      break;
    case ZCP_TYPE_BINARY_VIEW:
      *tt = ZCP_FB_T_BINARY_VIEW;
      break;
    case ZCP_TYPE_STRING_VIEW:
      *tt = ZCP_FB_T_UTF8_VIEW;
      break;
    case ZCP_TYPE_FIXED_SIZE_BINARY:
      *tt = ZCP_FB_T_FIXED_BINARY;
      zcp__fb_add_scalar(b, 0, 4, (uint32_t)f->fixed_size);
      break;
    case ZCP_TYPE_LIST:
      *tt = ZCP_FB_T_LIST;
      break;
    case ZCP_TYPE_LARGE_LIST:
      *tt = ZCP_FB_T_LARGE_LIST;
      break;
    case ZCP_TYPE_LIST_VIEW:
      *tt = ZCP_FB_T_LIST_VIEW;
      break;
    case ZCP_TYPE_LARGE_LIST_VIEW:
      *tt = ZCP_FB_T_LARGE_LIST_VIEW;
      break;
    case ZCP_TYPE_FIXED_SIZE_LIST:
      *tt = ZCP_FB_T_FIXED_LIST;
      zcp__fb_add_scalar(b, 0, 4, (uint32_t)f->fixed_size);
      break;
    case ZCP_TYPE_STRUCT:
      *tt = ZCP_FB_T_STRUCT;
      break;
    case ZCP_TYPE_MAP:
      *tt = ZCP_FB_T_MAP;
      break; /* keysSorted added by the caller */
    case ZCP_TYPE_SPARSE_UNION:
    case ZCP_TYPE_DENSE_UNION:
      *tt = ZCP_FB_T_UNION;
      zcp__fb_add_scalar(b, 0, 2, f->type == ZCP_TYPE_DENSE_UNION);
      zcp__fb_add_ref(b, 1, ids);
      break;
    case ZCP_TYPE_RUN_END_ENCODED:
      *tt = ZCP_FB_T_RUN_END;
      break;
    default:
      zcp__fb_table_end(b);
      return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "type %s has no IPC encoding",
                           zcp_type_name(f->type));
  }
  *ref = zcp__fb_table_end(b);
  return ZCP_OK;
}

static zcp_status_t encode_field(struct encoder *e, const struct ArrowSchema *node,
                                 zcp_fb_ref *out, int depth) {
  struct zcp_fb_builder *b = e->b;
  struct zcp_error *err = e->err;
  if (depth > ZCP_MAX_DEPTH) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "schema nested deeper than %d",
                         ZCP_MAX_DEPTH);
  }
  const struct ArrowSchema *value = node->dictionary ? node->dictionary : node;
  struct zcp_format f, fi;
  ZCP_RETURN_NOT_OK(zcp_format_parse(value->format, &f, err));
  int64_t id = -1;
  bool is_dict = node->dictionary != NULL;
  if (is_dict) {
    ZCP_RETURN_NOT_OK(zcp_format_parse(node->format, &fi, err));
    if (value->dictionary != NULL) {
      return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                           "field '%s': a dictionary whose values are dictionary-encoded "
                           "themselves (not their children) has no IPC form",
                           node->name ? node->name : "");
    }
    if (e->ids != NULL && e->next >= e->n_ids) {
      return zcp_error_set(
          err, ZCP_INVALID_ARGUMENT,
          "field '%s': dictionary_ids lists %lld ids, the schema has more "
          "dictionary-encoded fields",
          node->name ? node->name : "", (long long)e->n_ids);
    }
    id = e->ids != NULL ? e->ids[e->next] : e->next;
    e->next++;
    if (zcp__ipc_dict_add(e->dicts, id, node) != ZCP_OK) {
      return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for dictionary ids");
    }
  }
  zcp_fb_ref name = 0, children = 0, type = 0, dict = 0, kv;
  if (node->name != NULL)
    name = zcp__fb_string_create(b, node->name, (int64_t)strlen(node->name));
  zcp_fb_ref *refs = calloc((size_t)(value->n_children + 1), sizeof *refs);
  if (refs == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for fields");
  zcp_status_t st = ZCP_OK;
  for (int64_t i = 0; st == ZCP_OK && i < value->n_children; i++) {
    st = encode_field(e, value->children[i], &refs[i], depth + 1);
  }
  if (st == ZCP_OK) children = zcp__fb_refs_create(b, refs, value->n_children);
  free(refs);
  ZCP_RETURN_NOT_OK(st);
  uint8_t tt = 0;
  if (f.type == ZCP_TYPE_MAP) {
    zcp__fb_table_start(b);
    zcp__fb_add_scalar(b, 0, 1, (value->flags & ARROW_FLAG_MAP_KEYS_SORTED) != 0);
    type = zcp__fb_table_end(b);
    tt = ZCP_FB_T_MAP;
  } else {
    ZCP_RETURN_NOT_OK(encode_type(b, &f, &tt, &type, err));
  }
  if (is_dict) {
    if (fi.type < ZCP_TYPE_INT8 || fi.type > ZCP_TYPE_UINT64) {
      return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                           "field '%s': dictionary index "
                           "type %s is not an integer",
                           node->name ? node->name : "", zcp_type_name(fi.type));
    }
    zcp_fb_ref index =
        int_table(b, zcp_type_bit_width(fi.type), (fi.type - ZCP_TYPE_INT8) % 2 == 0);
    zcp__fb_table_start(b);
    zcp__fb_add_scalar(b, 0, 8, (uint64_t)id);
    zcp__fb_add_ref(b, 1, index);
    zcp__fb_add_scalar(b, 2, 1, (node->flags & ARROW_FLAG_DICTIONARY_ORDERED) != 0);
    dict = zcp__fb_table_end(b);
  }
  kv = zcp__ipc_metadata_encode(b, node->metadata, NULL);
  zcp__fb_table_start(b);
  if (name) zcp__fb_add_ref(b, ZCP_FB_FIELD_NAME, name);
  zcp__fb_add_scalar(b, ZCP_FB_FIELD_NULLABLE, 1,
                     (node->flags & ARROW_FLAG_NULLABLE) != 0);
  zcp__fb_add_scalar(b, ZCP_FB_FIELD_TYPE_TYPE, 1, tt);
  zcp__fb_add_ref(b, ZCP_FB_FIELD_TYPE, type);
  if (dict) zcp__fb_add_ref(b, ZCP_FB_FIELD_DICTIONARY, dict);
  zcp__fb_add_ref(b, ZCP_FB_FIELD_CHILDREN, children);
  if (kv) zcp__fb_add_ref(b, ZCP_FB_FIELD_METADATA, kv);
  *out = zcp__fb_table_end(b);
  return ZCP_OK;
}

zcp_status_t zcp__ipc_schema_encode(struct zcp_fb_builder *b,
                                    const struct ArrowSchema *schema,
                                    const char *extra_metadata, const int64_t *dict_ids,
                                    int64_t n_dict_ids,
                                    struct zcp__ipc_dict_fields *dicts, zcp_fb_ref *out,
                                    struct zcp_error *err) {
  struct zcp_format f;
  ZCP_RETURN_NOT_OK(zcp_schema_validate(schema, err));
  ZCP_RETURN_NOT_OK(zcp_format_parse(schema->format, &f, err));
  if (f.type != ZCP_TYPE_STRUCT || schema->dictionary != NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "a record batch schema must be a struct (\"+s\"), found \"%s\"",
                         schema->format);
  }
  struct encoder e = {b, dicts, dict_ids, n_dict_ids, 0, err};
  zcp_fb_ref *refs = calloc((size_t)(schema->n_children + 1), sizeof *refs);
  if (refs == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for fields");
  zcp_status_t st = ZCP_OK;
  for (int64_t i = 0; st == ZCP_OK && i < schema->n_children; i++) {
    st = encode_field(&e, schema->children[i], &refs[i], 1);
  }
  zcp_fb_ref fields = st == ZCP_OK ? zcp__fb_refs_create(b, refs, schema->n_children) : 0;
  free(refs);
  ZCP_RETURN_NOT_OK(st);
  if (dict_ids != NULL && e.next != n_dict_ids) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "dictionary_ids lists %lld ids, the schema has %lld "
                         "dictionary-encoded fields",
                         (long long)n_dict_ids, (long long)e.next);
  }
  zcp_fb_ref kv = zcp__ipc_metadata_encode(b, schema->metadata, extra_metadata);
  zcp__fb_table_start(b);
  zcp__fb_add_scalar(b, 0, 2, 0); /* little-endian */
  zcp__fb_add_ref(b, 1, fields);
  if (kv) zcp__fb_add_ref(b, 2, kv);
  *out = zcp__fb_table_end(b);
  return ZCP_OK;
}
