/* Arrow IPC Schema / Field / DictionaryEncoding / KeyValue tables <-> ArrowSchema trees.
 * Every type of the columnar core maps both ways; a dictionary-encoded field becomes a
 * node whose format is the index type and whose `dictionary` holds the value type (and
 * the value type's children), as the C Data Interface has it. Extension types travel as
 * the field metadata they already are. Decoding trusts nothing: impossible parameters
 * and child counts that do not fit the type are corrupt input; valid types and features
 * this reader does not implement are unsupported (see the rule below). */
#include <stdlib.h>
#include <string.h>

#include "arrow/internal.h"
#include "arrow/view_internal.h"
#include "common/util.h"
#include "ipc/internal.h"

#define CORRUPT(...) zcp_error_set(err, ZCP_CORRUPT_INPUT, __VA_ARGS__)

/* The refusals of this file follow one rule. Values the specification rules out (a
 * negative enum value, a decimal width it does not list, a time width that contradicts
 * its unit) are corrupt input. Values it may define later (an enum member past the ones
 * this reader knows: Type, TimeUnit, IntervalUnit, Precision, UnionMode, DateUnit,
 * DictionaryKind, Feature) and valid values beyond this library's limits (Int widths
 * other than 8 to 64 bits, long time zones, very wide fixed-size binary, deep nesting)
 * are ZCP_UNSUPPORTED, naming the field and the value. */
#define UNSUPPORTED(...) zcp_error_set(err, ZCP_UNSUPPORTED, __VA_ARGS__)

/* An enum value past the last one this reader knows (`last`): unsupported; below 0:
 * corrupt. */
static zcp_status_t unknown_enum(int64_t v, int64_t last, const char *what,
                                 struct zcp_error *err) {
  if (v < 0) return CORRUPT("%s %lld is negative", what, (long long)v);
  return UNSUPPORTED("%s %lld is not supported (this reader knows 0..%lld)", what,
                     (long long)v, (long long)last);
}

/* ---- metadata -----------------------------------------------------------------------
 */

zcp_fb_ref zcp__ipc_metadata_encode(struct zcp_fb_builder *b, const char *metadata,
                                    const char *extra) {
  struct zcp_metadata_reader r;
  struct zcp_string_view k, v;
  int64_t n = 0;
  const char *blobs[2] = {metadata, extra};
  for (int j = 0; j < 2; j++) {
    zcp_metadata_reader_init(blobs[j], &r);
    while (zcp_metadata_reader_next(&r, &k, &v)) n++;
  }
  if (n == 0) return 0;
  zcp_fb_ref *refs = malloc((size_t)n * sizeof *refs);
  if (refs == NULL) {
    b->failed = true;
    return 0;
  }
  int64_t i = 0;
  for (int j = 0; j < 2; j++) {
    zcp_metadata_reader_init(blobs[j], &r);
    while (zcp_metadata_reader_next(&r, &k, &v)) {
      zcp_fb_ref key = zcp__fb_string_create(b, k.data, k.size);
      zcp_fb_ref val = zcp__fb_string_create(b, v.data, v.size);
      zcp__fb_table_start(b);
      zcp__fb_add_ref(b, 0, key);
      zcp__fb_add_ref(b, 1, val);
      refs[i++] = zcp__fb_table_end(b);
    }
  }
  zcp_fb_ref vec = zcp__fb_refs_create(b, refs, n);
  free(refs);
  return vec;
}

zcp_status_t zcp__ipc_metadata_decode(const struct zcp_fb_vector *kv, char **out,
                                      const char *what, struct zcp_error *err) {
  *out = NULL;
  if (kv->n == 0) return ZCP_OK;
  /* First pass: size; second: copy. Lengths come from a checked buffer, so they are
   * bounded by its size and the sum cannot overflow an int64. */
  int64_t total = 4;
  for (int pass = 0; pass < 2; pass++) {
    char *p = pass ? *out + 4 : NULL;
    for (int64_t i = 0; i < kv->n; i++) {
      struct zcp_fb_table t;
      const char *s[2];
      int64_t n[2];
      ZCP_RETURN_NOT_OK(zcp__fb_vector_table(kv, i, &t, what, err));
      ZCP_RETURN_NOT_OK(zcp__fb_string(&t, 0, &s[0], &n[0], what, err));
      ZCP_RETURN_NOT_OK(zcp__fb_string(&t, 1, &s[1], &n[1], what, err));
      for (int j = 0; j < 2; j++) {
        if (pass == 0) {
          total += 4 + n[j];
          continue;
        }
        int32_t len = (int32_t)n[j];
        memcpy(p, &len, 4);
        if (len) memcpy(p + 4, s[j], (size_t)len);
        p += 4 + len;
      }
    }
    if (pass == 0) {
      if (total > INT32_MAX)
        return CORRUPT("%s: metadata of %lld bytes", what, (long long)total);
      *out = malloc((size_t)total);
      if (*out == NULL)
        return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for %s", what);
      int32_t count = (int32_t)kv->n;
      memcpy(*out, &count, 4);
    }
  }
  return ZCP_OK;
}

/* ---- decoding -----------------------------------------------------------------------
 */

struct decoder {
  struct zcp__ipc_dict_fields *dicts;
  struct zcp_error *err;
  struct zcp__path path; /* of the field being decoded, for messages */
  bool named;            /* the error message already names its field */
};

/* Fills f from an Int table (dictionary index types too). */
static zcp_status_t int_type(const struct zcp_fb_table *t, bool present,
                             struct zcp_format *f, struct zcp_error *err) {
  int32_t bits = 32;
  uint8_t sign = 1;
  if (present) {
    ZCP_RETURN_NOT_OK(zcp__fb_i32(t, 0, 0, &bits, "Int.bitWidth", err));
    ZCP_RETURN_NOT_OK(zcp__fb_u8(t, 1, 0, &sign, "Int.is_signed", err));
  }
  switch (bits) {
    case 8:
      f->type = sign ? ZCP_TYPE_INT8 : ZCP_TYPE_UINT8;
      break;
    case 16:
      f->type = sign ? ZCP_TYPE_INT16 : ZCP_TYPE_UINT16;
      break;
    case 32:
      f->type = sign ? ZCP_TYPE_INT32 : ZCP_TYPE_UINT32;
      break;
    case 64:
      f->type = sign ? ZCP_TYPE_INT64 : ZCP_TYPE_UINT64;
      break;
    default:
      if (bits <= 0) return CORRUPT("Int.bitWidth %d is not positive", (int)bits);
      return UNSUPPORTED("Int.bitWidth %d is not supported (8, 16, 32 or 64)", (int)bits);
  }
  return ZCP_OK;
}

static zcp_status_t time_unit(int16_t u, struct zcp_format *f, const char *what,
                              struct zcp_error *err) {
  if (u < 0 || u > 3) return unknown_enum(u, 3, what, err);
  f->unit = (enum zcp_time_unit)u;
  return ZCP_OK;
}

/* Fills f from the Type union of a field with n_children children. */
static zcp_status_t field_type(const struct zcp_fb_table *field, int64_t n_children,
                               struct zcp_format *f, struct zcp_error *err) {
  uint8_t tt;
  struct zcp_fb_table t;
  bool present;
  int16_t s16;
  int32_t i32;
  memset(f, 0, sizeof *f);
  ZCP_RETURN_NOT_OK(
      zcp__fb_u8(field, ZCP_FB_FIELD_TYPE_TYPE, 0, &tt, "Field.type_type", err));
  ZCP_RETURN_NOT_OK(
      zcp__fb_table(field, ZCP_FB_FIELD_TYPE, &t, &present, "Field.type", err));
  if (!present) {
    /* parameterless types may omit their empty table; the others may not */
    memset(&t, 0, sizeof t);
    t.vt_size = 4;
  }
  switch (tt) {
    case ZCP_FB_T_NULL:
      f->type = ZCP_TYPE_NA;
      break;
    case ZCP_FB_T_INT:
      return int_type(&t, present, f, err);
    case ZCP_FB_T_FLOAT:
      ZCP_RETURN_NOT_OK(zcp__fb_i16(&t, 0, 0, &s16, "FloatingPoint.precision", err));
      if (s16 < 0 || s16 > 2) return unknown_enum(s16, 2, "FloatingPoint.precision", err);
      f->type = s16 == 0   ? ZCP_TYPE_HALF_FLOAT
                : s16 == 1 ? ZCP_TYPE_FLOAT
                           : ZCP_TYPE_DOUBLE;
      break;
    case ZCP_FB_T_BINARY:
      f->type = ZCP_TYPE_BINARY;
      break;
    case ZCP_FB_T_UTF8:
      f->type = ZCP_TYPE_STRING;
      break;
    case ZCP_FB_T_LARGE_BINARY:
      f->type = ZCP_TYPE_LARGE_BINARY;
      break;
    case ZCP_FB_T_LARGE_UTF8:
      f->type = ZCP_TYPE_LARGE_STRING;
      break;
    case ZCP_FB_T_BINARY_VIEW:
      f->type = ZCP_TYPE_BINARY_VIEW;
      break;
    case ZCP_FB_T_UTF8_VIEW:
      f->type = ZCP_TYPE_STRING_VIEW;
      break;
    case ZCP_FB_T_BOOL:
      f->type = ZCP_TYPE_BOOL;
      break;
    case ZCP_FB_T_DECIMAL:
      ZCP_RETURN_NOT_OK(zcp__fb_i32(&t, 0, 0, &f->precision, "Decimal.precision", err));
      ZCP_RETURN_NOT_OK(zcp__fb_i32(&t, 1, 0, &f->scale, "Decimal.scale", err));
      ZCP_RETURN_NOT_OK(zcp__fb_i32(&t, 2, 128, &i32, "Decimal.bitWidth", err));
      /* Schema.fbs: "The accepted widths are 32, 64, 128 and 256" */
      if (!zcp__decimal_type_of_bits(i32, &f->type))
        return CORRUPT("Decimal.bitWidth %d is not 32, 64, 128 or 256", (int)i32);
      break;
    case ZCP_FB_T_DATE:
      ZCP_RETURN_NOT_OK(zcp__fb_i16(&t, 0, 1, &s16, "Date.unit", err));
      if (s16 != 0 && s16 != 1) return unknown_enum(s16, 1, "Date.unit", err);
      f->type = s16 == 0 ? ZCP_TYPE_DATE32 : ZCP_TYPE_DATE64;
      break;
    case ZCP_FB_T_TIME:
      ZCP_RETURN_NOT_OK(zcp__fb_i16(&t, 0, 1, &s16, "Time.unit", err));
      ZCP_RETURN_NOT_OK(zcp__fb_i32(&t, 1, 32, &i32, "Time.bitWidth", err));
      ZCP_RETURN_NOT_OK(time_unit(s16, f, "Time.unit", err));
      f->type = f->unit <= ZCP_TIME_MILLI ? ZCP_TYPE_TIME32 : ZCP_TYPE_TIME64;
      if (i32 != (f->type == ZCP_TYPE_TIME32 ? 32 : 64)) {
        return CORRUPT("Time.bitWidth %d does not match unit %d", (int)i32, (int)s16);
      }
      break;
    case ZCP_FB_T_TIMESTAMP: {
      int64_t n;
      ZCP_RETURN_NOT_OK(zcp__fb_i16(&t, 0, 0, &s16, "Timestamp.unit", err));
      ZCP_RETURN_NOT_OK(time_unit(s16, f, "Timestamp.unit", err));
      ZCP_RETURN_NOT_OK(
          zcp__fb_string(&t, 1, &f->timezone, &n, "Timestamp.timezone", err));
      if (n > 256) {
        return UNSUPPORTED(
            "Timestamp.timezone of %lld bytes is longer than the 256 "
            "supported",
            (long long)n);
      }
      if (f->timezone != NULL && memchr(f->timezone, 0, (size_t)n) != NULL) {
        return CORRUPT("Timestamp.timezone contains a NUL byte");
      }
      f->timezone_len = (int32_t)n;
      f->type = ZCP_TYPE_TIMESTAMP;
      break;
    }
    case ZCP_FB_T_DURATION:
      ZCP_RETURN_NOT_OK(zcp__fb_i16(&t, 0, 1, &s16, "Duration.unit", err));
      ZCP_RETURN_NOT_OK(time_unit(s16, f, "Duration.unit", err));
      f->type = ZCP_TYPE_DURATION;
      break;
    case ZCP_FB_T_INTERVAL:
      ZCP_RETURN_NOT_OK(zcp__fb_i16(&t, 0, 0, &s16, "Interval.unit", err));
      if (s16 < 0 || s16 > 2) return unknown_enum(s16, 2, "Interval.unit", err);
      f->type = s16 == 0   ? ZCP_TYPE_INTERVAL_MONTHS
                : s16 == 1 ? ZCP_TYPE_INTERVAL_DAY_TIME
                           : ZCP_TYPE_INTERVAL_MONTH_DAY_NANO;
      break;
    case ZCP_FB_T_FIXED_BINARY:
      ZCP_RETURN_NOT_OK(
          zcp__fb_i32(&t, 0, 0, &f->fixed_size, "FixedSizeBinary.byteWidth", err));
      if (f->fixed_size < 0)
        return CORRUPT("FixedSizeBinary.byteWidth %d", (int)f->fixed_size);
      if (f->fixed_size > INT32_MAX / 8) {
        return UNSUPPORTED("FixedSizeBinary.byteWidth %d is wider than the %d supported",
                           (int)f->fixed_size, INT32_MAX / 8);
      }
      f->type = ZCP_TYPE_FIXED_SIZE_BINARY;
      break;
    case ZCP_FB_T_LIST:
      f->type = ZCP_TYPE_LIST;
      break;
    case ZCP_FB_T_LARGE_LIST:
      f->type = ZCP_TYPE_LARGE_LIST;
      break;
    case ZCP_FB_T_LIST_VIEW:
      f->type = ZCP_TYPE_LIST_VIEW;
      break;
    case ZCP_FB_T_LARGE_LIST_VIEW:
      f->type = ZCP_TYPE_LARGE_LIST_VIEW;
      break;
    case ZCP_FB_T_FIXED_LIST:
      ZCP_RETURN_NOT_OK(
          zcp__fb_i32(&t, 0, 0, &f->fixed_size, "FixedSizeList.listSize", err));
      if (f->fixed_size < 0)
        return CORRUPT("FixedSizeList.listSize %d", (int)f->fixed_size);
      f->type = ZCP_TYPE_FIXED_SIZE_LIST;
      break;
    case ZCP_FB_T_STRUCT:
      f->type = ZCP_TYPE_STRUCT;
      break;
    case ZCP_FB_T_MAP:
      f->type = ZCP_TYPE_MAP;
      break;
    case ZCP_FB_T_RUN_END:
      f->type = ZCP_TYPE_RUN_END_ENCODED;
      break;
    case ZCP_FB_T_UNION: {
      struct zcp_fb_vector ids;
      ZCP_RETURN_NOT_OK(zcp__fb_i16(&t, 0, 0, &s16, "Union.mode", err));
      if (s16 != 0 && s16 != 1) return unknown_enum(s16, 1, "Union.mode", err);
      f->type = s16 == 0 ? ZCP_TYPE_SPARSE_UNION : ZCP_TYPE_DENSE_UNION;
      ZCP_RETURN_NOT_OK(zcp__fb_vector(&t, 1, 4, &ids, "Union.typeIds", err));
      if (n_children > ZCP_MAX_UNION_TYPES || (ids.n != 0 && ids.n != n_children)) {
        return CORRUPT("union has %lld type ids for %lld children", (long long)ids.n,
                       (long long)n_children);
      }
      f->n_type_ids = (int32_t)n_children;
      for (int64_t i = 0; i < n_children; i++) {
        int32_t id =
            ids.n ? (int32_t)zcp__load_le32(zcp__fb_elem(&ids, i, 4)) : (int32_t)i;
        if (id < 0 || id >= ZCP_MAX_UNION_TYPES)
          return CORRUPT("union type id %d", (int)id);
        f->type_ids[i] = (int8_t)id;
      }
      break;
    }
    default:
      if (tt == 0) return CORRUPT("Field.type_type is NONE");
      /* a type of a newer format than this reader's */
      return UNSUPPORTED(
          "Field.type_type %u is a type this reader does not know (it knows "
          "1..%d)",
          (unsigned)tt, ZCP_FB_T_LARGE_LIST_VIEW);
  }
  return ZCP_OK;
}

static zcp_status_t decode_field(struct decoder *d, const struct zcp_fb_table *field,
                                 struct ArrowSchema *node, int64_t index, int depth);

/* Makes node a schema node with format f, the field's name and metadata, and decodes
 * the field's children into it. */
static zcp_status_t decode_node(struct decoder *d, const struct zcp_fb_table *field,
                                struct ArrowSchema *node, const struct zcp_format *f,
                                const char *name, int64_t flags, bool with_children,
                                int depth) {
  struct zcp_error *err = d->err;
  char format[1024];
  if (zcp_format_write(f, format, sizeof format, NULL) != ZCP_OK) {
    return CORRUPT("type %s has impossible parameters", zcp_type_name(f->type));
  }
  struct zcp_fb_vector children;
  ZCP_RETURN_NOT_OK(
      zcp__fb_vector(field, ZCP_FB_FIELD_CHILDREN, 4, &children, "Field.children", err));
  int64_t n = with_children ? children.n : 0;
  zcp_status_t st = zcp_schema_init(format, name, flags, n, node, NULL);
  if (st != ZCP_OK) {
    return zcp_error_set(err, st, "cannot make its schema node: %s", zcp_status_str(st));
  }
  for (int64_t i = 0; i < n; i++) {
    struct zcp_fb_table child;
    ZCP_RETURN_NOT_OK(zcp__fb_vector_table(&children, i, &child, "Field.children", err));
    zcp_schema_release(node->children[i]);
    ZCP_RETURN_NOT_OK(decode_field(d, &child, node->children[i], i, depth + 1));
  }
  return ZCP_OK;
}

/* The field's type, dictionary encoding, children and metadata into node; name is its
 * own (NUL-terminated) copy of Field.name. */
static zcp_status_t decode_field_as(struct decoder *d, const struct zcp_fb_table *field,
                                    struct ArrowSchema *node, const char *name,
                                    int depth) {
  struct zcp_error *err = d->err;
  uint8_t nullable;
  ZCP_RETURN_NOT_OK(
      zcp__fb_u8(field, ZCP_FB_FIELD_NULLABLE, 0, &nullable, "Field.nullable", err));
  struct zcp_fb_vector children, kv;
  ZCP_RETURN_NOT_OK(
      zcp__fb_vector(field, ZCP_FB_FIELD_CHILDREN, 4, &children, "Field.children", err));
  ZCP_RETURN_NOT_OK(
      zcp__fb_vector(field, ZCP_FB_FIELD_METADATA, 4, &kv, "Field.custom_metadata", err));
  struct zcp_format f;
  ZCP_RETURN_NOT_OK(field_type(field, children.n, &f, err));
  uint8_t sorted = 0;
  if (f.type == ZCP_TYPE_MAP) {
    struct zcp_fb_table t;
    bool present;
    ZCP_RETURN_NOT_OK(
        zcp__fb_table(field, ZCP_FB_FIELD_TYPE, &t, &present, "Field.type", err));
    if (present) ZCP_RETURN_NOT_OK(zcp__fb_u8(&t, 0, 0, &sorted, "Map.keysSorted", err));
  }
  char *metadata = NULL;
  int64_t flags =
      (nullable ? ARROW_FLAG_NULLABLE : 0) | (sorted ? ARROW_FLAG_MAP_KEYS_SORTED : 0);
  struct zcp_fb_table enc;
  bool is_dict;
  zcp_status_t st = zcp__fb_table(field, ZCP_FB_FIELD_DICTIONARY, &enc, &is_dict,
                                  "Field.dictionary", err);
  if (st == ZCP_OK)
    st = zcp__ipc_metadata_decode(&kv, &metadata, "Field.custom_metadata", err);
  if (st == ZCP_OK && !is_dict) {
    st = decode_node(d, field, node, &f, name, flags, true, depth);
  } else if (st == ZCP_OK) {
    int64_t id;
    uint8_t ordered;
    int16_t kind;
    struct zcp_fb_table index;
    bool has_index;
    struct zcp_format fi;
    memset(&fi, 0, sizeof fi);
    st = zcp__fb_i64(&enc, 0, 0, &id, "DictionaryEncoding.id", err);
    if (st == ZCP_OK)
      st =
          zcp__fb_table(&enc, 1, &index, &has_index, "DictionaryEncoding.indexType", err);
    if (st == ZCP_OK)
      st = zcp__fb_u8(&enc, 2, 0, &ordered, "DictionaryEncoding.isOrdered", err);
    if (st == ZCP_OK)
      st = zcp__fb_i16(&enc, 3, 0, &kind, "DictionaryEncoding.dictionaryKind", err);
    if (st == ZCP_OK && kind != 0) {
      /* DenseArray (0) is the only kind Schema.fbs defines so far */
      st = unknown_enum(kind, 0, "DictionaryEncoding.dictionaryKind", err);
    }
    if (st == ZCP_OK) st = int_type(&index, has_index, &fi, err);
    if (ordered) flags |= ARROW_FLAG_DICTIONARY_ORDERED;
    if (st == ZCP_OK) st = decode_node(d, field, node, &fi, name, flags, false, depth);
    if (st == ZCP_OK && zcp_schema_alloc_dictionary(node) != ZCP_OK)
      st = ZCP_OUT_OF_MEMORY;
    if (st == ZCP_OK) st = zcp__ipc_dict_add(d->dicts, id, node);
    if (st == ZCP_OK) {
      size_t saved = zcp__path_push_dictionary(&d->path);
      st = decode_node(d, field, node->dictionary, &f, NULL, ARROW_FLAG_NULLABLE, true,
                       depth + 1);
      if (st == ZCP_OK) zcp__path_pop(&d->path, saved);
    }
  }
  if (st == ZCP_OK && metadata != NULL &&
      zcp_schema_set_metadata(node, metadata) != ZCP_OK) {
    st = zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for field metadata");
  }
  if (st != ZCP_OK && (err == NULL || err->code == ZCP_OK)) {
    st = zcp_error_set(err, st, "%s", zcp_status_str(st));
  }
  free(metadata);
  return st;
}

static zcp_status_t decode_field(struct decoder *d, const struct zcp_fb_table *field,
                                 struct ArrowSchema *node, int64_t index, int depth) {
  struct zcp_error *err = d->err;
  memset(node, 0, sizeof *node);
  if (depth > ZCP_MAX_DEPTH) {
    return zcp_error_set(err, ZCP_UNSUPPORTED,
                         "fields nested deeper than %d levels are not supported",
                         ZCP_MAX_DEPTH);
  }
  const char *name_data;
  int64_t name_len;
  ZCP_RETURN_NOT_OK(
      zcp__fb_string(field, ZCP_FB_FIELD_NAME, &name_data, &name_len, "Field.name", err));
  char *name = malloc((size_t)name_len + 1);
  if (name == NULL)
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for a field name");
  if (name_len) memcpy(name, name_data, (size_t)name_len);
  name[name_len] = '\0';
  size_t saved = zcp__path_push(&d->path, name, index);
  zcp_status_t st = decode_field_as(d, field, node, name, depth);
  if (st != ZCP_OK && !d->named) {
    /* the innermost field names the whole path, once */
    zcp_error_prefix(err, st, "field '%s': ", zcp__path_str(&d->path));
    d->named = true;
  }
  zcp__path_pop(&d->path, saved);
  free(name);
  return st;
}

zcp_status_t zcp__ipc_schema_decode(const struct zcp_fb_table *schema,
                                    struct ArrowSchema *out,
                                    struct zcp__ipc_dict_fields *dicts,
                                    struct zcp_error *err) {
  memset(out, 0, sizeof *out);
  int16_t endian;
  struct zcp_fb_vector fields, kv;
  char *metadata = NULL;
  ZCP_RETURN_NOT_OK(zcp__fb_i16(schema, 0, 0, &endian, "Schema.endianness", err));
  if (endian == 1) {
    return UNSUPPORTED("Schema.endianness is Big: big-endian IPC data is not supported");
  }
  if (endian != 0) return unknown_enum(endian, 1, "Schema.endianness", err);
  ZCP_RETURN_NOT_OK(zcp__fb_vector(schema, 1, 4, &fields, "Schema.fields", err));
  ZCP_RETURN_NOT_OK(zcp__fb_vector(schema, 2, 4, &kv, "Schema.custom_metadata", err));
  /* Features the stream uses: dictionary replacement (1) and compressed bodies (2) are
   * read; one this reader does not know cannot be read right. */
  struct zcp_fb_vector features;
  ZCP_RETURN_NOT_OK(zcp__fb_vector(schema, 3, 8, &features, "Schema.features", err));
  for (int64_t i = 0; i < features.n; i++) {
    int64_t feature = (int64_t)zcp__load_le64(zcp__fb_elem(&features, i, 8));
    if (feature < 0 || feature > 2) {
      return unknown_enum(feature, 2, "Schema.features lists feature", err);
    }
  }
  ZCP_RETURN_NOT_OK(zcp_schema_init("+s", "", 0, fields.n, out, err));
  struct decoder d = {.dicts = dicts, .err = err};
  zcp__path_init(&d.path, NULL);
  zcp_status_t st =
      zcp__ipc_metadata_decode(&kv, &metadata, "Schema.custom_metadata", err);
  for (int64_t i = 0; st == ZCP_OK && i < fields.n; i++) {
    struct zcp_fb_table field;
    st = zcp__fb_vector_table(&fields, i, &field, "Schema.fields", err);
    if (st != ZCP_OK) break;
    zcp_schema_release(out->children[i]);
    st = decode_field(&d, &field, out->children[i], i, 1);
  }
  if (st == ZCP_OK && metadata != NULL &&
      zcp_schema_set_metadata(out, metadata) != ZCP_OK) {
    st = zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for schema metadata");
  }
  free(metadata);
  if (st == ZCP_OK) st = zcp__ipc_dict_index(dicts, ZCP_CORRUPT_INPUT, err);
  if (st == ZCP_OK) st = zcp_schema_validate(out, err);
  if (st != ZCP_OK) {
    zcp_schema_release(out);
    zcp__ipc_dict_fields_reset(dicts);
    if (st == ZCP_INVALID_ARGUMENT) st = ZCP_CORRUPT_INPUT;
    if (err != NULL) err->code = st;
  }
  return st;
}
