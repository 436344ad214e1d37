/* DuckDB, a consumer we did not write, reads a zcpool table through the Arrow C Stream
 * Interface and answers SQL over it; every answer is checked against values computed
 * from the fixture's formulas. Afterwards every data buffer must be freed: DuckDB
 * releases the batches it read; the schemas it keeps are counted and reclaimed by
 * zcp_sql (see sql.h), so a real leak of ours still shows. The decimal tests (their own
 * init) hand DuckDB decimal32 and decimal64 columns and record what it makes of them. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "zcp_fixture.h"
#include "zcp_test.h"
#include "zcpool/sql.h"

#define ROWS 10000
#define BATCH 4000

static struct zcp_sql *sql;
static struct zcp_table *table;
static int64_t live_before;

static void setup(void) {
  const char *lib = zcp_test_duckdb_lib();
  if (lib == NULL) {
    cr_skip_test("libduckdb.so not installed (run scripts/setup.sh)");
  }
  struct zcp_error err = {0};
  live_before = zcp_allocator_default_live_bytes();
  cr_assert_eq(zcp_fixture_table(ROWS, BATCH, NULL, &table, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_sql_open(lib, &sql, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_sql_register(sql, "t", table, &err), ZCP_OK, "%s", err.message);
}

static void teardown(void) {
  if (sql == NULL) return;
  zcp_sql_close(sql, NULL);
  zcp_table_release(table);
  sql = NULL;
  table = NULL;
}

/* Runs a one-row query and returns the result (caller frees). */
static struct zcp_sql_result *one_row(const char *q) {
  struct zcp_error err = {0};
  struct zcp_sql_result *r = NULL;
  cr_assert_eq(zcp_sql_query(sql, q, &r, &err), ZCP_OK, "%s: %s", q, err.message);
  cr_assert_eq(zcp_sql_result_rows(r), 1, "%s", q);
  return r;
}

static void expect_text(struct zcp_sql_result *r, int col, const char *want) {
  char got[256];
  zcp_sql_result_text(r, 0, col, got, sizeof got);
  cr_expect_str_eq(got, want, "column %d", col);
}

/* Decimal text of a 128-bit signed value. */
static void i128_text(__int128 v, char *buf) {
  char tmp[64];
  int n = 0;
  bool neg = v < 0;
  unsigned __int128 u = neg ? -(unsigned __int128)v : (unsigned __int128)v;
  do {
    tmp[n++] = (char)('0' + (int)(u % 10));
    u /= 10;
  } while (u);
  int k = 0;
  if (neg) buf[k++] = '-';
  while (n) buf[k++] = tmp[--n];
  buf[k] = 0;
}

TestSuite(duckdb, .init = setup, .fini = teardown, .timeout = 300);

Test(duckdb, integer_aggregates_match) {
  __int128 s32 = 0, s64 = 0, su32 = 0, su64 = 0;
  int64_t n32 = 0, min8 = 127, max16 = -32768;
  for (int64_t r = 0; r < ROWS; r++) {
    s64 += fx_i64(r);
    if (zcp_fixture_null(r)) continue;
    n32++;
    s32 += fx_i32(r);
    su32 += fx_u32(r);
    su64 += fx_u64(r);
    if (fx_i8(r) < min8) min8 = fx_i8(r);
    if (fx_i16(r) > max16) max16 = fx_i16(r);
  }
  struct zcp_sql_result *res = one_row(
      "SELECT count(*), count(i32), sum(i32)::VARCHAR, sum(i64)::VARCHAR, "
      "sum(u32)::VARCHAR, sum(u64)::VARCHAR, min(i8), max(i16) FROM t");
  char want[64];
  cr_expect_eq(zcp_sql_result_int(res, 0, 0), ROWS);
  cr_expect_eq(zcp_sql_result_int(res, 0, 1), n32);
  i128_text(s32, want), expect_text(res, 2, want);
  i128_text(s64, want), expect_text(res, 3, want);
  i128_text(su32, want), expect_text(res, 4, want);
  i128_text(su64, want), expect_text(res, 5, want);
  cr_expect_eq(zcp_sql_result_int(res, 0, 6), min8);
  cr_expect_eq(zcp_sql_result_int(res, 0, 7), max16);
  zcp_sql_result_free(res);
}

Test(duckdb, floats_bools_and_small_unsigned_match) {
  double f32 = 0, f64 = 0;
  int64_t trues = 0, su8 = 0, su16 = 0;
  for (int64_t r = 0; r < ROWS; r++) {
    if (zcp_fixture_null(r)) continue;
    f32 += fx_f32(r);
    f64 += fx_f64(r);
    trues += fx_bool(r);
    su8 += fx_u8(r);
    su16 += fx_u16(r);
  }
  struct zcp_sql_result *res =
      one_row("SELECT sum(f32), sum(f64), count(*) FILTER (WHERE flag), sum(u8), sum(u16) "
              "FROM t");
  cr_expect(fabs(zcp_sql_result_double(res, 0, 0) - f32) < 1e-6 * f32);
  cr_expect(fabs(zcp_sql_result_double(res, 0, 1) - f64) < 1e-9 * f64);
  cr_expect_eq(zcp_sql_result_int(res, 0, 2), trues);
  cr_expect_eq(zcp_sql_result_int(res, 0, 3), su8);
  cr_expect_eq(zcp_sql_result_int(res, 0, 4), su16);
  zcp_sql_result_free(res);
}

Test(duckdb, strings_and_binary_match) {
  int64_t ls = 0, lls = 0, lsv = 0, lbin = 0;
  char buf[64];
  uint8_t bytes[8];
  for (int64_t r = 0; r < ROWS; r++) {
    if (zcp_fixture_null(r)) continue;
    ls += fx_str(r, buf);
    lls += fx_lstr(r, buf);
    lsv += fx_sview(r, buf);
    lbin += fx_bin(r, bytes);
  }
  struct zcp_sql_result *res = one_row(
      "SELECT sum(length(s)), sum(length(ls)), sum(length(sv)), sum(octet_length(bin)) "
      "FROM t");
  cr_expect_eq(zcp_sql_result_int(res, 0, 0), ls);
  cr_expect_eq(zcp_sql_result_int(res, 0, 1), lls);
  cr_expect_eq(zcp_sql_result_int(res, 0, 2), lsv);
  cr_expect_eq(zcp_sql_result_int(res, 0, 3), lbin);
  zcp_sql_result_free(res);
}

Test(duckdb, one_row_reads_back_every_column) {
  const int64_t r = 1239; /* not a null row, a list of 3 */
  cr_assert(!zcp_fixture_null(r));
  char q[256], want[128];
  snprintf(q, sizeof q,
           "SELECT s, ls, sv, color, lst::VARCHAR, st.a, st.b, day::VARCHAR, "
           "amount::VARCHAR, tod::VARCHAR, epoch_us(ts), i8, f64 FROM t WHERE i64 = %lld",
           (long long)fx_i64(r));
  struct zcp_sql_result *res = one_row(q);
  fx_str(r, want), expect_text(res, 0, want);
  fx_lstr(r, want), expect_text(res, 1, want);
  fx_sview(r, want), expect_text(res, 2, want);
  expect_text(res, 3, zcp_fixture_colors[fx_dict_index(r)]);
  snprintf(want, sizeof want, "[%d, %d, %d]", fx_list_item(r, 0), fx_list_item(r, 1),
           fx_list_item(r, 2));
  cr_assert_eq(fx_list_len(r), 3);
  expect_text(res, 4, want);
  cr_expect_eq(zcp_sql_result_int(res, 0, 5), r);
  fx_struct_b(r, want), expect_text(res, 6, want);
  expect_text(res, 7, "2022-09-04"); /* 19000 + 239 days after 1970-01-01 */
  expect_text(res, 8, "1201.39");    /* (1239 * 101 - 5000) cents */
  expect_text(res, 9, "00:20:39");   /* 1239 s after midnight */
  cr_expect_eq(zcp_sql_result_int(res, 0, 10), fx_ts(r));
  cr_expect_eq(zcp_sql_result_int(res, 0, 11), fx_i8(r));
  cr_expect_eq(zcp_sql_result_double(res, 0, 12), fx_f64(r));
  zcp_sql_result_free(res);
}

Test(duckdb, null_row_is_null_everywhere) {
  const int64_t r = 3;
  cr_assert(zcp_fixture_null(r));
  /* IS NULL in SQL: the C API's value accessors do not materialise nested values. */
  char q[512];
  snprintf(q, sizeof q,
           "SELECT i8 IS NULL, i32 IS NULL, u64 IS NULL, f32 IS NULL, flag IS NULL, "
           "s IS NULL, sv IS NULL, bin IS NULL, day IS NULL, ts IS NULL, amount IS NULL, "
           "lst IS NULL, st IS NULL, color IS NULL, i64 IS NULL FROM t WHERE i64 = %lld",
           (long long)fx_i64(r));
  struct zcp_sql_result *res = one_row(q);
  for (int c = 0; c < 14; c++) cr_expect_eq(zcp_sql_result_int(res, 0, c), 1, "column %d", c);
  cr_expect_eq(zcp_sql_result_int(res, 0, 14), 0, "i64 is never null");
  zcp_sql_result_free(res);
}

Test(duckdb, dictionary_groups_and_nested_aggregates) {
  int64_t per[5] = {0}, lens = 0, items = 0, sa = 0;
  for (int64_t r = 0; r < ROWS; r++) {
    if (zcp_fixture_null(r)) continue;
    per[fx_dict_index(r)]++;
    lens += fx_list_len(r);
    for (int64_t k = 0; k < fx_list_len(r); k++) items += fx_list_item(r, k);
    sa += r;
  }
  struct zcp_error err = {0};
  struct zcp_sql_result *res = NULL;
  cr_assert_eq(zcp_sql_query(sql,
                             "SELECT color, count(*) FROM t WHERE color IS NOT NULL "
                             "GROUP BY color ORDER BY color",
                             &res, &err),
               ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_sql_result_rows(res), 5);
  const int sorted[5] = {2, 3, 1, 4, 0}; /* blue cyan green magenta red */
  char got[32];
  for (int k = 0; k < 5; k++) {
    zcp_sql_result_text(res, k, 0, got, sizeof got);
    cr_expect_str_eq(got, zcp_fixture_colors[sorted[k]]);
    cr_expect_eq(zcp_sql_result_int(res, k, 1), per[sorted[k]]);
  }
  zcp_sql_result_free(res);
  res = one_row("SELECT sum(len(lst)), sum(list_sum(lst)), sum(st.a) FROM t");
  cr_expect_eq(zcp_sql_result_int(res, 0, 0), lens);
  cr_expect_eq(zcp_sql_result_int(res, 0, 1), items);
  cr_expect_eq(zcp_sql_result_int(res, 0, 2), sa);
  zcp_sql_result_free(res);
}

Test(duckdb, repeated_queries_see_the_whole_table) {
  for (int k = 0; k < 3; k++) {
    struct zcp_sql_result *res = one_row("SELECT count(*) FROM t");
    cr_expect_eq(zcp_sql_result_int(res, 0, 0), ROWS, "query %d", k);
    zcp_sql_result_free(res);
  }
}

Test(duckdb, bad_sql_is_an_error_with_duckdb_message) {
  struct zcp_error err = {0};
  struct zcp_sql_result *res = NULL;
  cr_expect_eq(zcp_sql_query(sql, "SELECT nope FROM t", &res, &err), ZCP_INVALID_ARGUMENT);
  cr_expect_null(res);
  cr_expect(strstr(err.message, "nope") != NULL, "%s", err.message);
}

Test(duckdb, everything_is_released_after_close) {
  struct zcp_sql_result *res = one_row("SELECT sum(i64) FROM t");
  zcp_sql_result_free(res);
  struct zcp_sql_stats stats;
  zcp_sql_close(sql, &stats);
  sql = NULL;
  zcp_table_release(table);
  table = NULL;
  cr_expect_eq(zcp_allocator_default_live_bytes(), live_before,
               "data buffers still allocated after DuckDB and the table were released");
  cr_expect_gt(stats.schemas_exported, 0);
  cr_expect_eq(stats.schemas_released + stats.schemas_reclaimed, stats.schemas_exported,
               "schemas unaccounted for");
  cr_log_info("DuckDB asked for %lld schemas, released %lld itself; %lld reclaimed",
              (long long)stats.schemas_exported, (long long)stats.schemas_released,
              (long long)stats.schemas_reclaimed);
}

/* ---- decimal32 and decimal64 ---------------------------------------------------------- */

#define DEC_ROWS 1000

/* struct<r: int64, d32: decimal32(9, 2), d64: decimal64(18, 4), d128: decimal128(18, 4)>,
 * d32 = fx_dec32(r), d64 and d128 = fx_dec64(r), nulls where zcp_fixture_null(r). */
static struct zcp_table *decimal_table(void) {
  struct zcp_error err = {0};
  struct ArrowSchema s;
  cr_assert_eq(zcp_schema_init("+s", "", 0, 4, &s, &err), ZCP_OK, "%s", err.message);
  const char *fmt[4] = {"l", "d:9,2,32", "d:18,4,64", "d:18,4"};
  const char *name[4] = {"r", "d32", "d64", "d128"};
  for (int c = 0; c < 4; c++) {
    cr_assert_eq(zcp_schema_set_child(&s, c, fmt[c], name[c], ARROW_FLAG_NULLABLE, 0, &err),
                 ZCP_OK, "%s", err.message);
  }
  struct zcp_builder *b;
  cr_assert_eq(zcp_builder_init(&s, NULL, &b, &err), ZCP_OK, "%s", err.message);
  for (int64_t r = 0; r < DEC_ROWS; r++) {
    bool null = zcp_fixture_null(r);
    cr_assert_eq(zcp_builder_append_int(zcp_builder_child(b, 0), r), ZCP_OK);
    for (int c = 1; c < 4; c++) {
      struct zcp_builder *cb = zcp_builder_child(b, c);
      zcp_status_t st = null ? zcp_builder_append_null(cb, 1)
                             : zcp_builder_append_int(cb, c == 1 ? fx_dec32(r) : fx_dec64(r));
      cr_assert_eq(st, ZCP_OK, "%s", zcp_builder_last_error(b));
    }
    cr_assert_eq(zcp_builder_finish_element(b), ZCP_OK);
  }
  struct ArrowArray batch;
  cr_assert_eq(zcp_builder_finish(b, &batch, NULL, &err), ZCP_OK, "%s", err.message);
  zcp_builder_release(b);
  struct zcp_table *t;
  cr_assert_eq(zcp_table_init(&s, &t, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_table_append(t, &batch, ZCP_VALIDATE_FULL, &err), ZCP_OK, "%s", err.message);
  zcp_schema_release(&s);
  return t;
}

static void decimal_setup(void) {
  const char *lib = zcp_test_duckdb_lib();
  if (lib == NULL) cr_skip_test("libduckdb.so not installed (run scripts/setup.sh)");
  struct zcp_error err = {0};
  live_before = zcp_allocator_default_live_bytes();
  table = decimal_table();
  cr_assert_eq(zcp_sql_open(lib, &sql, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_sql_register(sql, "d", table, &err), ZCP_OK, "%s", err.message);
}


/* Scaled decimal text of an unscaled value. */
static void scaled_text(int64_t v, int scale, char *buf, size_t cap) {
  uint64_t a = v < 0 ? -(uint64_t)v : (uint64_t)v;
  uint64_t p = 1;
  for (int k = 0; k < scale; k++) p *= 10;
  snprintf(buf, cap, "%s%llu.%0*llu", v < 0 ? "-" : "", (unsigned long long)(a / p), scale,
           (unsigned long long)(a % p));
}

Test(duckdb, decimal32_and_decimal64_read_as_duckdb_decimals_of_the_same_precision,
     .init = decimal_setup) {
  /* DuckDB keeps precision and scale; it stores DECIMAL(9, s) in 32 and DECIMAL(18, s) in
   * 64 bits itself, so neither width is refused or widened to a double. */
  struct zcp_sql_result *res = one_row("SELECT typeof(d32), typeof(d64), typeof(d128) FROM d LIMIT 1");
  expect_text(res, 0, "DECIMAL(9,2)");
  expect_text(res, 1, "DECIMAL(18,4)");
  expect_text(res, 2, "DECIMAL(18,4)");
  zcp_sql_result_free(res);
  char q[256], want[64];
  for (int64_t r = 0; r < 6; r++) {
    snprintf(q, sizeof q, "SELECT d32::VARCHAR, d64::VARCHAR, d128::VARCHAR FROM d WHERE r = %lld",
             (long long)r);
    res = one_row(q);
    if (zcp_fixture_null(r)) {
      for (int c = 0; c < 3; c++) cr_expect(zcp_sql_result_is_null(res, 0, c), "row %lld", (long long)r);
    } else {
      scaled_text(fx_dec32(r), 2, want, sizeof want), expect_text(res, 0, want);
      scaled_text(fx_dec64(r), 4, want, sizeof want), expect_text(res, 1, want);
      expect_text(res, 2, want);
    }
    zcp_sql_result_free(res);
  }
}

Test(duckdb, aggregates_over_decimal32_and_decimal64_match, .init = decimal_setup) {
  __int128 s32 = 0, s64 = 0;
  int64_t n = 0, lo32 = INT64_MAX, hi64 = INT64_MIN;
  for (int64_t r = 0; r < DEC_ROWS; r++) {
    if (zcp_fixture_null(r)) continue;
    n++;
    s32 += fx_dec32(r);
    s64 += fx_dec64(r);
    if (fx_dec32(r) < lo32) lo32 = fx_dec32(r);
    if (fx_dec64(r) > hi64) hi64 = fx_dec64(r);
  }
  struct zcp_sql_result *res = one_row(
      "SELECT count(d32), (sum(d32) * 100)::HUGEINT::VARCHAR, (sum(d64) * 10000)::HUGEINT::VARCHAR, "
      "min(d32)::VARCHAR, max(d64)::VARCHAR, (sum(d64) = sum(d128))::VARCHAR FROM d");
  char want[64];
  cr_expect_eq(zcp_sql_result_int(res, 0, 0), n);
  i128_text(s32, want), expect_text(res, 1, want);
  i128_text(s64, want), expect_text(res, 2, want);
  scaled_text(lo32, 2, want, sizeof want), expect_text(res, 3, want);
  scaled_text(hi64, 4, want, sizeof want), expect_text(res, 4, want);
  expect_text(res, 5, "true");
  zcp_sql_result_free(res);
}

Test(duckdb, decimal_columns_are_released_after_close, .init = decimal_setup) {
  struct zcp_sql_result *res = one_row("SELECT sum(d32), sum(d64) FROM d");
  zcp_sql_result_free(res);
  zcp_sql_close(sql, NULL);
  sql = NULL;
  zcp_table_release(table);
  table = NULL;
  cr_expect_eq(zcp_allocator_default_live_bytes(), live_before,
               "decimal buffers still allocated after DuckDB and the table were released");
}
