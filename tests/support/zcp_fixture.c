/* See zcp_fixture.h. Built only through the public builder API. */
#include "zcp_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const zcp_fixture_colors[5] = {"red", "green", "blue", "cyan", "magenta"};

int fx_str(int64_t r, char *buf) { return sprintf(buf, "row-%lld", (long long)r); }
int fx_lstr(int64_t r, char *buf) { return sprintf(buf, "L%lld", (long long)r); }
int fx_sview(int64_t r, char *buf) {
  return (r % 2) ? sprintf(buf, "v%lld", (long long)r)
                 : sprintf(buf, "a-longer-string-for-views-%lld", (long long)r);
}
int fx_bin(int64_t r, uint8_t *buf) {
  int n = 1 + (int)(r % 8);
  for (int k = 0; k < n; k++) buf[k] = (uint8_t)((uint64_t)r >> (8 * k));
  return n;
}
int fx_struct_b(int64_t r, char *buf) { return sprintf(buf, "b%lld", (long long)r); }

static const struct {
  const char *name, *format;
} kCols[FX_NCOLS] = {
    {"i8", "c"},       {"i16", "s"},      {"i32", "i"},       {"i64", "l"},
    {"u8", "C"},       {"u16", "S"},      {"u32", "I"},       {"u64", "L"},
    {"f32", "f"},      {"f64", "g"},      {"flag", "b"},      {"s", "u"},
    {"ls", "U"},       {"sv", "vu"},      {"bin", "z"},       {"day", "tdD"},
    {"ts", "tsu:UTC"}, {"tod", "ttu"},    {"amount", "d:12,2"}, {"lst", "+l"},
    {"st", "+s"},      {"color", "i"},
};

zcp_status_t zcp_fixture_schema(struct ArrowSchema *out, struct zcp_error *err) {
  ZCP_RETURN_NOT_OK(zcp_schema_init("+s", "", 0, FX_NCOLS, out, err));
  zcp_status_t st = ZCP_OK;
  for (int c = 0; c < FX_NCOLS && st == ZCP_OK; c++) {
    struct ArrowSchema *f = out->children[c];
    int64_t flags = c == FX_I64 ? 0 : ARROW_FLAG_NULLABLE;
    int64_t nchild = c == FX_LIST ? 1 : c == FX_STRUCT ? 2 : 0;
    st = zcp_schema_set_child(out, c, kCols[c].format, kCols[c].name, flags, nchild, err);
    if (st != ZCP_OK) break;
    if (c == FX_LIST) {
      st = zcp_schema_set_child(f, 0, "i", "item", ARROW_FLAG_NULLABLE, 0, err);
    } else if (c == FX_STRUCT) {
      st = zcp_schema_set_child(f, 0, "i", "a", ARROW_FLAG_NULLABLE, 0, err);
      if (st == ZCP_OK)
        st = zcp_schema_set_child(f, 1, "u", "b", ARROW_FLAG_NULLABLE, 0, err);
    } else if (c == FX_DICT) {
      st = zcp_schema_alloc_dictionary(f);
      if (st == ZCP_OK)
        st = zcp_schema_init("u", "", ARROW_FLAG_NULLABLE, 0, f->dictionary, err);
    }
  }
  if (st == ZCP_OK) {
    char *md = NULL;
    const char *k[] = {"origin"}, *v[] = {"zcpool fixture"};
    st = zcp_metadata_build(1, k, v, &md);
    if (st == ZCP_OK) st = zcp_schema_set_metadata(out, md);
    free(md);
  }
  if (st != ZCP_OK) zcp_schema_release(out);
  return st;
}

/* Appends row r to column builder b of column c. */
static zcp_status_t append_cell(struct zcp_builder *b, int c, int64_t r) {
  char s[64];
  uint8_t bytes[8];
  if (c != FX_I64 && zcp_fixture_null(r)) return zcp_builder_append_null(b, 1);
  switch (c) {
    case FX_I8: return zcp_builder_append_int(b, fx_i8(r));
    case FX_I16: return zcp_builder_append_int(b, fx_i16(r));
    case FX_I32: return zcp_builder_append_int(b, fx_i32(r));
    case FX_I64: return zcp_builder_append_int(b, fx_i64(r));
    case FX_U8: return zcp_builder_append_uint(b, fx_u8(r));
    case FX_U16: return zcp_builder_append_uint(b, fx_u16(r));
    case FX_U32: return zcp_builder_append_uint(b, fx_u32(r));
    case FX_U64: return zcp_builder_append_uint(b, fx_u64(r));
    case FX_F32: return zcp_builder_append_double(b, fx_f32(r));
    case FX_F64: return zcp_builder_append_double(b, fx_f64(r));
    case FX_BOOL: return zcp_builder_append_int(b, fx_bool(r));
    case FX_STR: return zcp_builder_append_bytes(b, s, fx_str(r, s));
    case FX_LSTR: return zcp_builder_append_bytes(b, s, fx_lstr(r, s));
    case FX_SVIEW: return zcp_builder_append_bytes(b, s, fx_sview(r, s));
    case FX_BIN: return zcp_builder_append_bytes(b, bytes, fx_bin(r, bytes));
    case FX_DATE: return zcp_builder_append_int(b, fx_date(r));
    case FX_TS: return zcp_builder_append_int(b, fx_ts(r));
    case FX_TIME: return zcp_builder_append_int(b, fx_time(r));
    case FX_DEC: return zcp_builder_append_int(b, fx_dec(r));
    case FX_LIST: {
      struct zcp_builder *items = zcp_builder_child(b, 0);
      for (int64_t k = 0; k < fx_list_len(r); k++) {
        ZCP_RETURN_NOT_OK(zcp_builder_append_int(items, fx_list_item(r, k)));
      }
      return zcp_builder_finish_element(b);
    }
    case FX_STRUCT:
      ZCP_RETURN_NOT_OK(zcp_builder_append_int(zcp_builder_child(b, 0), r));
      ZCP_RETURN_NOT_OK(zcp_builder_append_bytes(zcp_builder_child(b, 1), s, fx_struct_b(r, s)));
      return zcp_builder_finish_element(b);
    case FX_DICT: return zcp_builder_append_int(b, fx_dict_index(r));
  }
  return ZCP_INVALID_ARGUMENT;
}

zcp_status_t zcp_fixture_batch(int64_t first, int64_t n, struct zcp_allocator *alloc,
                               struct ArrowArray *out, struct zcp_error *err) {
  struct ArrowSchema schema;
  ZCP_RETURN_NOT_OK(zcp_fixture_schema(&schema, err));
  struct zcp_builder *b = NULL;
  zcp_status_t st = zcp_builder_init(&schema, alloc, &b, err);
  zcp_schema_release(&schema);
  if (st != ZCP_OK) return st;
  struct zcp_builder *dict = zcp_builder_dictionary(zcp_builder_child(b, FX_DICT));
  for (int k = 0; k < 5 && st == ZCP_OK; k++) {
    st = zcp_builder_append_string(dict, zcp_fixture_colors[k]);
  }
  for (int64_t r = first; r < first + n && st == ZCP_OK; r++) {
    for (int c = 0; c < FX_NCOLS && st == ZCP_OK; c++) {
      st = append_cell(zcp_builder_child(b, c), c, r);
    }
    if (st == ZCP_OK) st = zcp_builder_finish_element(b);
  }
  if (st == ZCP_OK) {
    st = zcp_builder_finish(b, out, NULL, err);
  } else {
    zcp_error_set(err, st, "fixture: building rows from %lld: %s", (long long)first,
                  zcp_builder_last_error(b));
  }
  zcp_builder_release(b);
  return st;
}

zcp_status_t zcp_fixture_table(int64_t rows, int64_t batch_rows, struct zcp_allocator *alloc,
                               struct zcp_table **out, struct zcp_error *err) {
  struct ArrowSchema schema;
  ZCP_RETURN_NOT_OK(zcp_fixture_schema(&schema, err));
  struct zcp_table *t = NULL;
  zcp_status_t st = zcp_table_init(&schema, &t, err);
  zcp_schema_release(&schema);
  for (int64_t first = 0; st == ZCP_OK && first < rows; first += batch_rows) {
    struct ArrowArray batch;
    int64_t n = rows - first < batch_rows ? rows - first : batch_rows;
    st = zcp_fixture_batch(first, n, alloc, &batch, err);
    if (st != ZCP_OK) break;
    st = zcp_table_append(t, &batch, ZCP_VALIDATE_FULL, err);
    if (st != ZCP_OK) zcp_array_release(&batch);
  }
  if (st != ZCP_OK) {
    zcp_table_release(t);
    return st;
  }
  *out = t;
  return ZCP_OK;
}
