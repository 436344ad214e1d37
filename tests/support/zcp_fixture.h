/* A deterministic table of many Arrow types with nulls, for tests that need real data
 * (DuckDB, round trips, later IPC and sharing). Row r's values are functions of r, so a
 * test can compute what any consumer must see. */
#ifndef ZCP_FIXTURE_H
#define ZCP_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "zcpool/arrow.h"

/* Columns, in order. */
enum zcp_fixture_col {
  FX_I8, FX_I16, FX_I32, FX_I64, FX_U8, FX_U16, FX_U32, FX_U64, FX_F32, FX_F64, FX_BOOL,
  FX_STR, FX_LSTR, FX_SVIEW, FX_BIN, FX_DATE, FX_TS, FX_TIME, FX_DEC, FX_LIST, FX_STRUCT,
  FX_DICT, FX_NCOLS
};

/* Row r is null in nullable columns when this holds (i64 is never null). */
static inline bool zcp_fixture_null(int64_t r) { return r % 7 == 3; }
static inline int8_t fx_i8(int64_t r) { return (int8_t)(r % 100 - 50); }
static inline int16_t fx_i16(int64_t r) { return (int16_t)(r % 30000 - 15000); }
static inline int32_t fx_i32(int64_t r) { return (int32_t)(r * 3 - 7); }
static inline int64_t fx_i64(int64_t r) { return r * 1000003LL; }
static inline uint8_t fx_u8(int64_t r) { return (uint8_t)(r % 256); }
static inline uint16_t fx_u16(int64_t r) { return (uint16_t)(r % 65536); }
static inline uint32_t fx_u32(int64_t r) { return (uint32_t)(r * 7); }
static inline uint64_t fx_u64(int64_t r) { return (uint64_t)r << 33; }
static inline float fx_f32(int64_t r) { return (float)r * 0.5f; }
static inline double fx_f64(int64_t r) { return (double)r * 0.25; }
static inline bool fx_bool(int64_t r) { return r % 3 == 0; }
static inline int32_t fx_date(int64_t r) { return (int32_t)(19000 + r % 1000); }
static inline int64_t fx_ts(int64_t r) { return 1700000000000000LL + r * 1000000LL; }
static inline int64_t fx_time(int64_t r) { return (r % 86400) * 1000000LL; }
static inline int64_t fx_dec(int64_t r) { return r * 101 - 5000; } /* decimal(12,2) cents */
static inline int64_t fx_list_len(int64_t r) { return r % 4; }
static inline int32_t fx_list_item(int64_t r, int64_t k) { return (int32_t)(r + k); }
static inline int64_t fx_dict_index(int64_t r) { return r % 5; }
extern const char *const zcp_fixture_colors[5];
/* String columns: written into buf (>= 64 bytes); returns the length. */
int fx_str(int64_t r, char *buf);   /* "row-<r>" */
int fx_lstr(int64_t r, char *buf);  /* "L<r>" */
int fx_sview(int64_t r, char *buf); /* short (inline) for odd r, long for even r */
int fx_bin(int64_t r, uint8_t *buf); /* r's bytes, little-endian, length 1 + r % 8 */
int fx_struct_b(int64_t r, char *buf); /* "b<r>" */

/* Schema of the fixture (a "+s" record batch schema) into *out. */
zcp_status_t zcp_fixture_schema(struct ArrowSchema *out, struct zcp_error *err);
/* Builds rows [first, first + n) as one batch (no schema). */
zcp_status_t zcp_fixture_batch(int64_t first, int64_t n, struct zcp_allocator *alloc,
                               struct ArrowArray *out, struct zcp_error *err);
/* A table of `rows` rows in batches of at most batch_rows. */
zcp_status_t zcp_fixture_table(int64_t rows, int64_t batch_rows, struct zcp_allocator *alloc,
                               struct zcp_table **out, struct zcp_error *err);

#endif

/* A second batch with the rarer types, one column each, `n` rows, nulls where
 * zcp_fixture_null(r): null, half float, decimal256(40,3), duration[ms], interval months,
 * day-time, month-day-nano, fixed-size binary(3), binary view, large binary, large list,
 * list view, fixed-size list[2], map<utf8,int32>, sparse union<int32,utf8>, dense
 * union<int64,utf8>, run-end encoded<int32 run ends, utf8>, date64, time32[ms],
 * timestamp[ns] without time zone, dictionary<large_utf8> with int8 indices,
 * decimal32(9,2) and decimal64(18,4) (fx_dec32 / fx_dec64: the widest values of their
 * precision at rows 1 and 2). */
static inline int64_t fx_dec32(int64_t r) {
  return r % 5 == 1 ? 999999999 : r % 5 == 2 ? -999999999 : (r % 80000) * 12345 - 99999;
}
static inline int64_t fx_dec64(int64_t r) {
  return r % 5 == 1   ? 999999999999999999LL
         : r % 5 == 2 ? -999999999999999999LL
                      : 3 - (r % 1000000) * 1000000007LL;
}
zcp_status_t zcp_fixture_exotic_schema(struct ArrowSchema *out, struct zcp_error *err);
/* Two dictionary-encoded columns meant to share one dictionary (write them with the same
 * dictionary id): `paint`, int32 indices fx_dict_index(r), and `trim`, int8 indices
 * (r + 2) % 5, null where zcp_fixture_null(r); both over zcp_fixture_colors; and `r`, the
 * row as int64. */
zcp_status_t zcp_fixture_shared_dict_schema(struct ArrowSchema *out, struct zcp_error *err);
zcp_status_t zcp_fixture_shared_dict_batch(int64_t first, int64_t n, struct ArrowArray *out,
                                           struct zcp_error *err);
/* Arrow's canonical extension types (field metadata on their storage), nulls where
 * zcp_fixture_null(r): `id` arrow.uuid (fixed_size_binary[16], byte k = r * 16 + k),
 * `doc` arrow.json on utf8 ({"row": r}), `docv` arrow.json on utf8_view, `ok` arrow.bool8
 * (int8 r % 3), `tensor` arrow.fixed_shape_tensor of shape [2, 3] (fixed_size_list[6] of
 * float r * 10 + k, never null), `blob` arrow.opaque on binary, `gone` arrow.opaque on
 * null. */
zcp_status_t zcp_fixture_extension_schema(struct ArrowSchema *out, struct zcp_error *err);
zcp_status_t zcp_fixture_extension_batch(int64_t n, struct zcp_allocator *alloc,
                                         struct ArrowArray *out, struct zcp_error *err);
/* The metadata blob the fixture gives column c (for comparisons). */
const char *zcp_fixture_extension_metadata(int c);

/* A dictionary that grows from batch to batch (for delta dictionaries): schema
 * struct<word: dictionary<int32, utf8>>; batch k has the dictionary "w0" .. "w<2k+1>"
 * and rows r = 0 .. 9 with index (r * 7 + k) % (2k + 2), null where zcp_fixture_null(r). */
zcp_status_t zcp_fixture_growing_dict_schema(struct ArrowSchema *out, struct zcp_error *err);
zcp_status_t zcp_fixture_growing_dict_batch(int k, struct ArrowArray *out,
                                            struct zcp_error *err);
zcp_status_t zcp_fixture_exotic_batch(int64_t n, struct zcp_allocator *alloc,
                                      struct ArrowArray *out, struct zcp_error *err);
