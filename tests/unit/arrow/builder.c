/* Tests of src/arrow/builder.c and builder_finish.c: fixed-width columns (values, nulls,
 * bulk appends, range checks, half-float rounding, decimals, intervals), dictionary
 * columns, reserve, reuse after finish, misuse, alignment and padding, and out-of-memory
 * at every allocation (nothing leaks, the builder stays usable). */
#include <math.h>

#include "builder_test.h"

Test(builder, int32_values_and_nulls) {
  struct test_alloc ta;
  ta_init(&ta, 64);
  struct zcp_builder *b = simple_builder("i", "x", &ta.base);
  BOK(b, zcp_builder_append_int(b, 1));
  BOK(b, zcp_builder_append_null(b, 1));
  BOK(b, zcp_builder_append_int(b, -3));
  int32_t vals[3] = {7, 8, 9};
  uint8_t valid[3] = {1, 0, 1};
  BOK(b, zcp_builder_append_values(b, vals, valid, 3));
  BOK(b, zcp_builder_append_empty(b, 2));
  cr_assert_eq(zcp_builder_length(b), 8);

  struct ArrowArray a;
  struct ArrowSchema s;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  cr_assert_str_eq(s.format, "i");
  cr_assert_str_eq(s.name, "x");
  cr_assert_eq(a.length, 8);
  cr_assert_eq(a.null_count, 2);
  cr_assert_eq(a.n_buffers, 2);
  int32_t want[8] = {1, 0, -3, 7, 8, 9, 0, 0};
  bool null[8] = {0, 1, 0, 0, 1, 0, 0, 0};
  for (int i = 0; i < 8; i++) {
    cr_assert_eq(bit_at(&a, 0, i), !null[i], "row %d", i);
    cr_assert_eq(zcp_array_view_is_null(&v, i), null[i], "row %d", i);
    if (!null[i]) {
      cr_assert_eq(i32_at(&a, 1, i), want[i], "row %d", i);
      cr_assert_eq(zcp_array_view_get_int(&v, i), want[i]);
    }
  }
  check_padding(&a, 0, 1);
  check_padding(&a, 1, 32);
  done(&a, &s, &v);
  zcp_builder_release(b);
  cr_assert_eq(ta.live, 0);
  cr_assert_eq(ta.blocks, 0);
}

Test(builder, no_null_means_no_validity_buffer) {
  struct test_alloc ta;
  ta_init(&ta, 64);
  struct zcp_builder *b = simple_builder("l", "x", &ta.base);
  int64_t vals[100];
  uint8_t valid[100];
  for (int i = 0; i < 100; i++) vals[i] = i * 1000, valid[i] = 1;
  BOK(b, zcp_builder_append_values(b, vals, valid, 100));
  BOK(b, zcp_builder_append_values(b, vals, NULL, 100));
  cr_assert_eq(ta.calls, 2, "only the values buffer grew (%lld calls)",
               (long long)ta.calls);
  struct ArrowArray a;
  struct ArrowSchema s;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  cr_assert_eq(a.null_count, 0);
  cr_assert_null(a.buffers[0]);
  cr_assert_eq(memcmp(a.buffers[1], vals, sizeof vals), 0);
  cr_assert_eq(memcmp((const int64_t *)a.buffers[1] + 100, vals, sizeof vals), 0);
  check_padding(&a, 1, 1600);
  done(&a, &s, &v);
  zcp_builder_release(b);
  cr_assert_eq(ta.live, 0);
}

Test(builder, bulk_append_is_one_allocation_and_one_copy) {
  /* 64 MiB of int64 into an empty builder: a single allocate, no validity. */
  struct test_alloc ta;
  ta_init(&ta, 64);
  struct zcp_builder *b = simple_builder("l", "big", &ta.base);
  int64_t n = (64 << 20) / 8;
  int64_t *vals = malloc((size_t)n * 8);
  cr_assert_not_null(vals);
  for (int64_t i = 0; i < n; i++) vals[i] = i;
  BOK(b, zcp_builder_append_values(b, vals, NULL, n));
  cr_assert_eq(ta.calls, 1);
  struct ArrowArray a;
  struct zcp_error e;
  cr_assert_eq(zcp_builder_finish(b, &a, NULL, &e), ZCP_OK, "%s", e.message);
  cr_assert_null(a.buffers[0]);
  cr_assert_eq(zcp_array_buffer_capacity(&a, 1), n * 8);
  cr_assert_eq(memcmp(a.buffers[1], vals, (size_t)n * 8), 0);
  free(vals);
  zcp_array_release(&a);
  zcp_builder_release(b);
  cr_assert_eq(ta.live, 0);
}

Test(builder, validity_is_backfilled_at_the_first_null) {
  struct zcp_builder *b = simple_builder("s", "x", NULL);
  for (int i = 0; i < 21; i++) BOK(b, zcp_builder_append_int(b, i));
  BOK(b, zcp_builder_append_null(b, 3));
  BOK(b, zcp_builder_append_int(b, 5));
  struct ArrowArray a;
  struct ArrowSchema s;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  cr_assert_eq(a.null_count, 3);
  for (int i = 0; i < 25; i++)
    cr_assert_eq(bit_at(&a, 0, i), i < 21 || i == 24, "bit %d", i);
  check_padding(&a, 0, 4);
  /* The last byte's bits beyond the length are zero too. */
  cr_assert_eq(((const uint8_t *)a.buffers[0])[3], 0x01);
  done(&a, &s, &v);
  zcp_builder_release(b);
}

Test(builder, integer_ranges_are_checked_per_type) {
  struct {
    const char *format;
    int64_t lo, hi;
  } cases[] = {
      {"c", INT8_MIN, INT8_MAX},     {"C", 0, UINT8_MAX},
      {"s", INT16_MIN, INT16_MAX},   {"S", 0, UINT16_MAX},
      {"i", INT32_MIN, INT32_MAX},   {"I", 0, UINT32_MAX},
      {"tdD", INT32_MIN, INT32_MAX}, {"b", 0, 1},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    struct zcp_builder *b = simple_builder(cases[k].format, "n", NULL);
    BOK(b, zcp_builder_append_int(b, cases[k].lo));
    BOK(b, zcp_builder_append_int(b, cases[k].hi));
    BOK(b, zcp_builder_append_uint(b, (uint64_t)cases[k].hi));
    cr_assert_eq(zcp_builder_append_int(b, cases[k].lo - 1), ZCP_INVALID_ARGUMENT, "%s",
                 cases[k].format);
    cr_assert_eq(zcp_builder_append_int(b, cases[k].hi + 1), ZCP_INVALID_ARGUMENT, "%s",
                 cases[k].format);
    cr_assert_eq(zcp_builder_append_uint(b, (uint64_t)cases[k].hi + 1),
                 ZCP_INVALID_ARGUMENT);
    cr_assert_eq(zcp_builder_length(b), 3, "failed appends append nothing");
    zcp_builder_release(b);
  }
  struct zcp_builder *b = simple_builder("c", "small", NULL);
  cr_assert_eq(zcp_builder_append_int(b, 300), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(zcp_builder_last_error(b), "column 'small' (int8)") != NULL, "%s",
            zcp_builder_last_error(b));
  cr_assert(strstr(zcp_builder_last_error(b), "300") != NULL);
  zcp_builder_release(b);
  b = simple_builder("l", "x", NULL);
  cr_assert_eq(zcp_builder_append_uint(b, UINT64_MAX), ZCP_INVALID_ARGUMENT);
  BOK(b, zcp_builder_append_int(b, INT64_MIN));
  zcp_builder_release(b);
  b = simple_builder("L", "x", NULL);
  cr_assert_eq(zcp_builder_append_int(b, -1), ZCP_INVALID_ARGUMENT);
  BOK(b, zcp_builder_append_uint(b, UINT64_MAX));
  struct ArrowArray a;
  struct ArrowSchema s;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  cr_assert_eq(zcp_array_view_get_uint(&v, 0), UINT64_MAX);
  done(&a, &s, &v);
  zcp_builder_release(b);
}

Test(builder, bool_values_are_bits) {
  struct zcp_builder *b = simple_builder("b", "flag", NULL);
  BOK(b, zcp_builder_append_int(b, 1));
  BOK(b, zcp_builder_append_int(b, 0));
  BOK(b, zcp_builder_append_null(b, 1));
  uint8_t bytes[13] = {1, 0, 7, 1, 1, 0, 0, 1, 1, 1, 0, 1, 255};
  BOK(b, zcp_builder_append_values(b, bytes, NULL, 13));
  struct ArrowArray a;
  struct ArrowSchema s;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  cr_assert_eq(a.length, 16);
  cr_assert_eq(a.null_count, 1);
  cr_assert(bit_at(&a, 1, 0));
  cr_assert(!bit_at(&a, 1, 1));
  cr_assert(!bit_at(&a, 1, 2));
  for (int i = 0; i < 13; i++) {
    cr_assert_eq(bit_at(&a, 1, 3 + i), bytes[i] != 0, "row %d", 3 + i);
    cr_assert_eq(zcp_array_view_get_int(&v, 3 + i), bytes[i] != 0);
  }
  check_padding(&a, 1, 2);
  done(&a, &s, &v);
  zcp_builder_release(b);
}

static uint16_t half_of(double d) {
  struct zcp_builder *b = simple_builder("e", "h", NULL);
  BOK(b, zcp_builder_append_double(b, d));
  struct ArrowArray a;
  struct zcp_error e;
  cr_assert_eq(zcp_builder_finish(b, &a, NULL, &e), ZCP_OK);
  uint16_t h;
  memcpy(&h, a.buffers[1], 2);
  zcp_array_release(&a);
  zcp_builder_release(b);
  return h;
}

Test(builder, half_float_rounds_to_nearest_even) {
  cr_assert_eq(half_of(1.0), 0x3c00);
  cr_assert_eq(half_of(-2.0), 0xc000);
  cr_assert_eq(half_of(0.0), 0x0000);
  cr_assert_eq(half_of(-0.0), 0x8000);
  cr_assert_eq(half_of(65504.0), 0x7bff);
  cr_assert_eq(half_of(65519.0), 0x7bff); /* below the halfway point to 65536 */
  cr_assert_eq(half_of(65520.0), 0x7c00); /* ties to even: overflows to infinity */
  cr_assert_eq(half_of(1e10), 0x7c00);
  cr_assert_eq(half_of(-INFINITY), 0xfc00);
  cr_assert_eq(half_of(1.0 + ldexp(1, -11)), 0x3c00);     /* tie, even stays */
  cr_assert_eq(half_of(1.0 + 3 * ldexp(1, -11)), 0x3c02); /* tie, odd rounds up */
  cr_assert_eq(half_of(1.0 + ldexp(1, -11) + ldexp(1, -30)), 0x3c01);
  cr_assert_eq(half_of(ldexp(1, -14)), 0x0400); /* smallest normal */
  cr_assert_eq(half_of(ldexp(1, -24)), 0x0001); /* smallest subnormal */
  cr_assert_eq(half_of(ldexp(1, -25)), 0x0000); /* tie to even zero */
  cr_assert_eq(half_of(ldexp(1.5, -25)), 0x0001);
  cr_assert_eq(half_of(ldexp(3, -25)), 0x0002); /* 1.5 ulp: tie to even 2 */
  cr_assert_eq(half_of(ldexp(1, -40)), 0x0000);
  cr_assert_eq(half_of(ldexp(1023, -24) + ldexp(1, -25)), 0x0400); /* carries to normal */
  uint16_t nan = half_of(NAN);
  cr_assert_eq(nan & 0x7c00, 0x7c00);
  cr_assert_neq(nan & 0x3ff, 0);
}

Test(builder, floats_and_doubles) {
  struct zcp_builder *b = simple_builder("f", "f", NULL);
  BOK(b, zcp_builder_append_double(b, 1.5));
  BOK(b, zcp_builder_append_int(b, -2));
  float fv[2] = {3.25f, 4.5f};
  BOK(b, zcp_builder_append_values(b, fv, NULL, 2));
  struct ArrowArray a;
  struct ArrowSchema s;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  const float *f = a.buffers[1];
  cr_assert(f[0] == 1.5f && f[1] == -2.0f && f[2] == 3.25f && f[3] == 4.5f);
  cr_assert(zcp_array_view_get_double(&v, 2) == 3.25);
  done(&a, &s, &v);
  zcp_builder_release(b);
  b = simple_builder("g", "d", NULL);
  BOK(b, zcp_builder_append_double(b, 0.1));
  BOK(b, zcp_builder_append_uint(b, 7));
  finish(b, &a, &s, &v);
  cr_assert(zcp_array_view_get_double(&v, 0) == 0.1);
  cr_assert(zcp_array_view_get_double(&v, 1) == 7.0);
  done(&a, &s, &v);
  zcp_builder_release(b);
}

Test(builder, decimals_sign_extend_and_take_raw_bytes) {
  struct zcp_builder *b = simple_builder("d:38,2", "dec", NULL);
  BOK(b, zcp_builder_append_int(b, -1));
  BOK(b, zcp_builder_append_int(b, 12345));
  BOK(b, zcp_builder_append_uint(b, UINT64_MAX));
  uint8_t raw[16];
  for (int i = 0; i < 16; i++) raw[i] = (uint8_t)i;
  BOK(b, zcp_builder_append_bytes(b, raw, 16));
  cr_assert_eq(zcp_builder_append_bytes(b, raw, 15), ZCP_INVALID_ARGUMENT);
  BOK(b, zcp_builder_append_null(b, 1));
  struct ArrowArray a;
  struct ArrowSchema s;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  const uint8_t *d = a.buffers[1];
  for (int i = 0; i < 16; i++) cr_assert_eq(d[i], 0xff);
  cr_assert_eq(i64_at(&a, 1, 2), 12345);
  cr_assert_eq(i64_at(&a, 1, 3), 0);
  cr_assert_eq((uint64_t)i64_at(&a, 1, 4), UINT64_MAX);
  cr_assert_eq(i64_at(&a, 1, 5), 0);
  cr_assert_eq(memcmp(d + 48, raw, 16), 0);
  struct zcp_string_view sv = zcp_array_view_get_bytes(&v, 3);
  cr_assert_eq(sv.size, 16);
  cr_assert_eq(memcmp(sv.data, raw, 16), 0);
  done(&a, &s, &v);
  zcp_builder_release(b);

  b = simple_builder("d:60,0,256", "wide", NULL);
  BOK(b, zcp_builder_append_int(b, -2));
  finish(b, &a, &s, &v);
  d = a.buffers[1];
  cr_assert_eq(d[0], 0xfe);
  for (int i = 1; i < 32; i++) cr_assert_eq(d[i], 0xff);
  check_padding(&a, 1, 32);
  done(&a, &s, &v);
  zcp_builder_release(b);
}

Test(builder, decimal32_and_decimal64_hold_int32_and_int64_unscaled_values) {
  struct zcp_builder *b = simple_builder("d:9,2,32", "d32", NULL);
  BOK(b, zcp_builder_append_int(b, -1));
  BOK(b, zcp_builder_append_int(b, INT32_MAX));
  BOK(b, zcp_builder_append_int(b, INT32_MIN));
  BOK(b, zcp_builder_append_uint(b, 999999999));
  int32_t raw32 = -123456789;
  BOK(b, zcp_builder_append_bytes(b, &raw32, 4));
  cr_assert_eq(zcp_builder_append_bytes(b, &raw32, 8), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(zcp_builder_last_error(b), "exactly 4 bytes") != NULL, "%s",
            zcp_builder_last_error(b));
  /* an int64 the 4 bytes cannot hold is refused, never truncated */
  cr_assert_eq(zcp_builder_append_int(b, (int64_t)INT32_MAX + 1), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(zcp_builder_last_error(b),
                   "column 'd32' (decimal32): unscaled value 2147483648 does not fit the 4 "
                   "bytes of decimal32(9, 2)") != NULL,
            "%s", zcp_builder_last_error(b));
  cr_assert_eq(zcp_builder_append_int(b, (int64_t)INT32_MIN - 1), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_builder_append_uint(b, UINT64_MAX), ZCP_INVALID_ARGUMENT);
  BOK(b, zcp_builder_append_null(b, 1));
  cr_assert_eq(zcp_builder_length(b), 6, "refused values were not appended");
  struct ArrowArray a;
  struct ArrowSchema s;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  cr_assert_str_eq(s.format, "d:9,2,32");
  const int32_t want32[] = {-1, INT32_MAX, INT32_MIN, 999999999, -123456789};
  for (int i = 0; i < 5; i++) {
    cr_assert_eq(i32_at(&a, 1, i), want32[i], "row %d", i);
    struct zcp_string_view sv = zcp_array_view_get_bytes(&v, i);
    cr_assert_eq(sv.size, 4);
    cr_assert_eq(sv.data, (const char *)a.buffers[1] + 4 * i);
  }
  cr_assert(zcp_array_view_is_null(&v, 5));
  check_padding(&a, 1, 24);
  cr_assert_eq(zcp_array_validate(&a, &s, ZCP_VALIDATE_FULL, NULL), ZCP_OK);
  done(&a, &s, &v);
  zcp_builder_release(b);

  b = simple_builder("d:18,4,64", "d64", NULL);
  BOK(b, zcp_builder_append_int(b, INT64_MIN));
  BOK(b, zcp_builder_append_int(b, -2));
  BOK(b, zcp_builder_append_uint(b, (uint64_t)INT64_MAX));
  cr_assert_eq(zcp_builder_append_uint(b, (uint64_t)INT64_MAX + 1), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(zcp_builder_last_error(b), "9223372036854775808 does not fit") != NULL,
            "%s", zcp_builder_last_error(b));
  int64_t raw64 = 999999999999999999LL;
  BOK(b, zcp_builder_append_bytes(b, &raw64, 8));
  cr_assert_eq(zcp_builder_append_bytes(b, &raw64, 16), ZCP_INVALID_ARGUMENT);
  finish(b, &a, &s, &v);
  cr_assert_str_eq(s.format, "d:18,4,64");
  const int64_t want64[] = {INT64_MIN, -2, INT64_MAX, 999999999999999999LL};
  for (int i = 0; i < 4; i++) {
    cr_assert_eq(i64_at(&a, 1, i), want64[i], "row %d", i);
    cr_assert_eq(zcp_array_view_get_bytes(&v, i).size, 8);
  }
  check_padding(&a, 1, 32);
  done(&a, &s, &v);
  zcp_builder_release(b);
}

Test(builder, intervals) {
  struct zcp_builder *b = simple_builder("tiD", "dt", NULL);
  BOK(b, zcp_builder_append_interval(b, 0, 3, 4000));
  cr_assert_eq(zcp_builder_append_interval(b, 1, 3, 4000), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_builder_append_interval(b, 0, 3, INT64_C(1) << 40),
               ZCP_INVALID_ARGUMENT);
  struct ArrowArray a;
  struct ArrowSchema s;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  cr_assert_eq(a.length, 1);
  cr_assert_eq(i32_at(&a, 1, 0), 3);
  cr_assert_eq(i32_at(&a, 1, 1), 4000);
  int32_t m, d;
  int64_t sub;
  zcp_array_view_get_interval(&v, 0, &m, &d, &sub);
  cr_assert(m == 0 && d == 3 && sub == 4000);
  done(&a, &s, &v);
  zcp_builder_release(b);

  b = simple_builder("tin", "mdn", NULL);
  BOK(b, zcp_builder_append_interval(b, -1, 2, INT64_C(1) << 40));
  finish(b, &a, &s, &v);
  zcp_array_view_get_interval(&v, 0, &m, &d, &sub);
  cr_assert(m == -1 && d == 2 && sub == INT64_C(1) << 40);
  done(&a, &s, &v);
  zcp_builder_release(b);

  b = simple_builder("tiM", "m", NULL);
  BOK(b, zcp_builder_append_interval(b, 14, 0, 0));
  BOK(b, zcp_builder_append_int(b, -3));
  finish(b, &a, &s, &v);
  cr_assert_eq(i32_at(&a, 1, 0), 14);
  cr_assert_eq(i32_at(&a, 1, 1), -3);
  done(&a, &s, &v);
  zcp_builder_release(b);
}

Test(builder, temporal_types_take_ints) {
  const char *formats[] = {"tdD", "tdm", "tts", "ttm", "ttu", "ttn", "tsu:UTC", "tDn"};
  for (size_t k = 0; k < sizeof formats / sizeof formats[0]; k++) {
    struct zcp_builder *b = simple_builder(formats[k], "t", NULL);
    BOK(b, zcp_builder_append_int(b, 19000));
    BOK(b, zcp_builder_append_null(b, 1));
    struct ArrowArray a;
    struct ArrowSchema s;
    struct zcp_array_view v;
    finish(b, &a, &s, &v);
    cr_assert_str_eq(s.format, formats[k]);
    cr_assert_eq(zcp_array_view_get_int(&v, 0), 19000, "%s", formats[k]);
    cr_assert(zcp_array_view_is_null(&v, 1));
    done(&a, &s, &v);
    zcp_builder_release(b);
  }
}

Test(builder, null_type_is_all_nulls_without_buffers) {
  struct zcp_builder *b = simple_builder("n", "nothing", NULL);
  BOK(b, zcp_builder_append_null(b, 3));
  BOK(b, zcp_builder_append_empty(b, 2));
  cr_assert_eq(zcp_builder_append_int(b, 1), ZCP_INVALID_ARGUMENT);
  struct ArrowArray a;
  struct ArrowSchema s;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  cr_assert_eq(a.length, 5);
  cr_assert_eq(a.null_count, 5);
  cr_assert_eq(a.n_buffers, 0);
  done(&a, &s, &v);
  zcp_builder_release(b);
}

Test(builder, wrong_appends_are_rejected_with_the_column_named) {
  struct zcp_builder *b = simple_builder("i", "qty", NULL);
  cr_assert_eq(zcp_builder_append_double(b, 1.0), ZCP_INVALID_ARGUMENT);
  cr_assert(
      strstr(zcp_builder_last_error(b), "column 'qty' (int32): append_double") != NULL,
      "%s", zcp_builder_last_error(b));
  cr_assert_eq(zcp_builder_append_string(b, "x"), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_builder_append_interval(b, 0, 1, 2), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_builder_finish_element(b), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_builder_append_union(b, 0), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_builder_append_run(b, 1), ZCP_INVALID_ARGUMENT);
  int32_t off[2] = {0, 1};
  cr_assert_eq(zcp_builder_append_binaries(b, off, "x", NULL, 1), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_builder_append_null(b, -1), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_builder_reserve(b, -1, 0), ZCP_INVALID_ARGUMENT);
  cr_assert_null(zcp_builder_child(b, 0));
  cr_assert_null(zcp_builder_union_child(b, 0));
  cr_assert_null(zcp_builder_dictionary(b));
  cr_assert_eq(zcp_builder_length(b), 0);
  zcp_builder_release(b);
  b = simple_builder("u", "s", NULL);
  cr_assert_eq(zcp_builder_append_int(b, 1), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_builder_append_values(b, off, NULL, 1), ZCP_INVALID_ARGUMENT);
  zcp_builder_release(b);
}

Test(builder, init_rejects_bad_schemas_and_allocators) {
  struct ArrowSchema s;
  node(&s, "+l", "l", 0); /* a list without its child */
  struct zcp_builder *b = NULL;
  struct zcp_error e = {0};
  cr_assert_eq(zcp_builder_init(&s, NULL, &b, &e), ZCP_INVALID_ARGUMENT);
  cr_assert_null(b);
  cr_assert(strstr(e.message, "column 'l' (list)") != NULL, "%s", e.message);
  zcp_schema_release(&s);
  node(&s, "g", "f", 0);
  OK(zcp_schema_alloc_dictionary(&s));
  node(s.dictionary, "u", NULL, 0);
  cr_assert_eq(zcp_builder_init(&s, NULL, &b, &e), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(e.message, "dictionary indices") != NULL, "%s", e.message);
  zcp_schema_release(&s);
  node(&s, "i", "x", 0);
  struct test_alloc ta;
  ta_init(&ta, 96);
  cr_assert_eq(zcp_builder_init(&s, &ta.base, &b, &e), ZCP_INVALID_ARGUMENT);
  ta_init(&ta, 64);
  ta.base.free = NULL;
  cr_assert_eq(zcp_builder_init(&s, &ta.base, &b, &e), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_builder_init(NULL, NULL, &b, &e), ZCP_INVALID_ARGUMENT);
  zcp_schema_release(&s);
}

Test(builder, reserve_presizes_so_appends_do_not_allocate) {
  struct test_alloc ta;
  ta_init(&ta, 64);
  struct zcp_builder *b = simple_builder("l", "x", &ta.base);
  BOK(b, zcp_builder_reserve(b, 1000, 0));
  int64_t calls = ta.calls;
  for (int i = 0; i < 1000; i++) BOK(b, zcp_builder_append_int(b, i));
  cr_assert_eq(ta.calls, calls);
  zcp_builder_release(b);
  cr_assert_eq(ta.live, 0);

  b = simple_builder("b", "x", &ta.base);
  BOK(b, zcp_builder_append_null(b, 1)); /* validity exists: reserve covers it too */
  BOK(b, zcp_builder_reserve(b, 5000, 0));
  calls = ta.calls;
  for (int i = 0; i < 5000; i++) BOK(b, zcp_builder_append_int(b, i & 1));
  cr_assert_eq(ta.calls, calls);
  zcp_builder_release(b);
  cr_assert_eq(ta.live, 0);
}

Test(builder, is_reusable_after_finish) {
  struct test_alloc ta;
  ta_init(&ta, 64);
  struct zcp_builder *b = simple_builder("i", "x", &ta.base);
  BOK(b, zcp_builder_append_int(b, 1));
  BOK(b, zcp_builder_append_null(b, 1));
  struct ArrowArray a1, a2;
  struct ArrowSchema s1, s2;
  struct zcp_array_view v1, v2;
  finish(b, &a1, &s1, &v1);
  BOK(b, zcp_builder_append_int(b, 42));
  finish(b, &a2, &s2, &v2);
  cr_assert_eq(a1.length, 2);
  cr_assert_eq(a1.null_count, 1);
  cr_assert_eq(a2.length, 1);
  cr_assert_eq(a2.null_count, 0);
  cr_assert_null(a2.buffers[0]);
  cr_assert_eq(i32_at(&a2, 1, 0), 42);
  cr_assert_eq(i32_at(&a1, 1, 0), 1);
  zcp_builder_release(b); /* arrays outlive their builder */
  done(&a1, &s1, &v1);
  done(&a2, &s2, &v2);
  cr_assert_eq(ta.live, 0);
}

Test(builder, empty_finish_has_buffers) {
  struct zcp_builder *b = simple_builder("i", "x", NULL);
  struct ArrowArray a;
  struct ArrowSchema s;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  cr_assert_eq(a.length, 0);
  cr_assert_null(a.buffers[0]);
  cr_assert_not_null(a.buffers[1]);
  done(&a, &s, &v);
  zcp_builder_release(b);
}

Test(builder, allocator_alignment_128_is_honoured) {
  struct test_alloc ta;
  ta_init(&ta, 128);
  struct zcp_builder *b = simple_builder("s", "x", &ta.base);
  for (int i = 0; i < 100; i++) BOK(b, zcp_builder_append_int(b, i));
  BOK(b, zcp_builder_append_null(b, 1));
  struct ArrowArray a;
  struct zcp_error e;
  cr_assert_eq(zcp_builder_finish(b, &a, NULL, &e), ZCP_OK);
  check_layout(&a, 128);
  check_padding(&a, 0, 13);
  check_padding(&a, 1, 202);
  zcp_array_release(&a);
  zcp_builder_release(b);
  cr_assert_eq(ta.live, 0);
}

Test(builder, dictionary_column) {
  struct ArrowSchema s;
  node(&s, "c", "color", 0);
  OK(zcp_schema_alloc_dictionary(&s));
  node(s.dictionary, "u", NULL, 0);
  struct test_alloc ta;
  ta_init(&ta, 64);
  struct zcp_builder *b = make_builder(&s, &ta.base);
  zcp_schema_release(&s);
  struct zcp_builder *d = zcp_builder_dictionary(b);
  cr_assert_not_null(d);
  BOK(d, zcp_builder_append_string(d, "red"));
  BOK(d, zcp_builder_append_string(d, "green"));
  BOK(b, zcp_builder_append_int(b, 1));
  BOK(b, zcp_builder_append_int(b, 0));
  BOK(b, zcp_builder_append_null(b, 1));
  BOK(b, zcp_builder_append_int(b, 1));
  cr_assert_eq(zcp_builder_append_int(b, 300), ZCP_INVALID_ARGUMENT);
  struct ArrowArray a;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  cr_assert_not_null(s.dictionary);
  cr_assert_not_null(a.dictionary);
  cr_assert_eq(a.length, 4);
  cr_assert_eq(a.null_count, 1);
  cr_assert_eq(a.dictionary->length, 2);
  cr_assert_eq(((const int8_t *)a.buffers[1])[0], 1);
  cr_assert_not_null(v.dictionary);
  struct zcp_string_view sv = zcp_array_view_get_bytes(v.dictionary, 1);
  cr_assert_eq(sv.size, 5);
  cr_assert_eq(memcmp(sv.data, "green", 5), 0);
  done(&a, &s, &v);
  cr_assert_eq(zcp_builder_length(d), 0, "the dictionary is finished with its column");
  zcp_builder_release(b);
  cr_assert_eq(ta.live, 0);
}

/* ---- out of memory -------------------------------------------------------------------
 */

/* Builds a struct<i: int32, s: utf8, l: list<int64>, v: utf8_view> batch of 200 rows with
 * nulls; returns the first failing status (or finishes into *out). */
static zcp_status_t build_mixed(struct zcp_builder *b, struct ArrowArray *out,
                                struct ArrowSchema *out_schema) {
  struct zcp_builder *ci = zcp_builder_child(b, 0), *cs = zcp_builder_child(b, 1);
  struct zcp_builder *cl = zcp_builder_child(b, 2), *cv = zcp_builder_child(b, 3);
  struct zcp_builder *item = zcp_builder_child(cl, 0);
  for (int r = 0; r < 200; r++) {
    if (r % 17 == 5) {
      ZCP_RETURN_NOT_OK(zcp_builder_append_null(b, 1));
      continue;
    }
    ZCP_RETURN_NOT_OK(r % 3 ? zcp_builder_append_int(ci, r)
                            : zcp_builder_append_null(ci, 1));
    ZCP_RETURN_NOT_OK(zcp_builder_append_string(cs, r % 2 ? "odd row" : "even"));
    for (int k = 0; k < r % 4; k++) ZCP_RETURN_NOT_OK(zcp_builder_append_int(item, k));
    ZCP_RETURN_NOT_OK(zcp_builder_finish_element(cl));
    ZCP_RETURN_NOT_OK(
        zcp_builder_append_string(cv, r % 2 ? "a string longer than 12" : "s"));
    ZCP_RETURN_NOT_OK(zcp_builder_finish_element(b));
  }
  struct zcp_error e;
  return zcp_builder_finish(b, out, out_schema, &e);
}

static void mixed_schema(struct ArrowSchema *s) {
  node(s, "+s", "", 4);
  child(s, 0, "i", "i", 0);
  child(s, 1, "u", "s", 0);
  child(s, 2, "+l", "l", 1);
  child(s->children[2], 0, "l", "item", 0);
  child(s, 3, "vu", "v", 0);
}

Test(builder, out_of_memory_at_every_allocation_leaks_nothing) {
  struct ArrowSchema s;
  mixed_schema(&s);
  int64_t failures = 0;
  for (int64_t fail_at = 1;; fail_at++) {
    struct test_alloc ta;
    ta_init(&ta, 64);
    struct zcp_builder *b = make_builder(&s, &ta.base);
    ta.fail_at = fail_at;
    struct ArrowArray a;
    struct ArrowSchema os;
    zcp_status_t st = build_mixed(b, &a, &os);
    if (st == ZCP_OK) {
      cr_assert_eq(a.length, 200);
      struct zcp_error e;
      cr_assert_eq(zcp_array_validate(&a, &os, ZCP_VALIDATE_FULL, &e), ZCP_OK, "%s",
                   e.message);
      cr_assert(ta.calls < fail_at, "the failure was ignored");
      zcp_array_release(&a);
      zcp_schema_release(&os);
      zcp_builder_release(b);
      cr_assert_eq(ta.live, 0);
      break;
    }
    failures++;
    cr_assert_eq(st, ZCP_OUT_OF_MEMORY, "call %lld: %s", (long long)fail_at,
                 zcp_builder_last_error(b));
    cr_assert(strstr(zcp_builder_last_error(b), "out of memory") != NULL, "%s",
              zcp_builder_last_error(b));
    zcp_builder_release(b);
    cr_assert_eq(ta.live, 0, "call %lld: %lld bytes leaked", (long long)fail_at,
                 (long long)ta.live);
    cr_assert_eq(ta.blocks, 0);
  }
  cr_assert(failures > 10);
  zcp_schema_release(&s);
}

Test(builder, stays_usable_after_out_of_memory) {
  struct test_alloc ta;
  ta_init(&ta, 64);
  struct zcp_builder *b = simple_builder("i", "x", &ta.base);
  for (int i = 0; i < 16; i++) BOK(b, zcp_builder_append_int(b, i));
  ta.fail_at = ta.calls + 1;
  cr_assert_eq(zcp_builder_append_int(b, 16), ZCP_OUT_OF_MEMORY);
  /* The allocator's own words reach the caller, with the column. */
  cr_assert(strstr(zcp_builder_last_error(b), "test allocator: out of memory") != NULL &&
                strstr(zcp_builder_last_error(b), "column 'x'") != NULL,
            "%s", zcp_builder_last_error(b));
  ta.fail_at = ta.calls + 1;
  cr_assert_eq(zcp_builder_append_null(b, 1), ZCP_OUT_OF_MEMORY);
  cr_assert_eq(zcp_builder_length(b), 16);
  ta.fail_at = 0;
  BOK(b, zcp_builder_append_int(b, 16));
  BOK(b, zcp_builder_append_null(b, 1));
  /* A failure while finishing (the node tree is heap, the buffers are ready) keeps the
   * data: here the allocation that fails is a later append. */
  struct ArrowArray a;
  struct ArrowSchema s;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  cr_assert_eq(a.length, 18);
  cr_assert_eq(a.null_count, 1);
  for (int i = 0; i < 17; i++) cr_assert_eq(zcp_array_view_get_int(&v, i), i);
  cr_assert(zcp_array_view_is_null(&v, 17));
  done(&a, &s, &v);
  zcp_builder_release(b);
  cr_assert_eq(ta.live, 0);
}

Test(builder, finish_failure_keeps_the_builder) {
  struct test_alloc ta;
  ta_init(&ta, 64);
  struct ArrowSchema s;
  node(&s, "+s", "", 1);
  child(&s, 0, "u", "name", 0);
  struct zcp_builder *b = make_builder(&s, &ta.base);
  zcp_schema_release(&s);
  /* Nothing appended: finishing must allocate the offsets and data buffers. */
  ta.fail_at = ta.calls + 1;
  struct ArrowArray a;
  struct zcp_error e;
  cr_assert_eq(zcp_builder_finish(b, &a, NULL, &e), ZCP_OUT_OF_MEMORY);
  cr_assert(strstr(e.message, "column 'name' (utf8)") != NULL, "%s", e.message);
  ta.fail_at = 0;
  BOK(b, zcp_builder_append_string(zcp_builder_child(b, 0), "ok"));
  BOK(b, zcp_builder_finish_element(b));
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  cr_assert_eq(a.length, 1);
  cr_assert_eq(a.children[0]->length, 1);
  done(&a, &s, &v);
  zcp_builder_release(b);
  cr_assert_eq(ta.live, 0);
}

Test(builder, finish_only_on_the_root) {
  struct ArrowSchema s;
  node(&s, "+s", "", 1);
  child(&s, 0, "i", "a", 0);
  struct zcp_builder *b = make_builder(&s, NULL);
  zcp_schema_release(&s);
  struct ArrowArray a;
  struct zcp_error e;
  cr_assert_eq(zcp_builder_finish(zcp_builder_child(b, 0), &a, NULL, &e),
               ZCP_INVALID_ARGUMENT);
  zcp_builder_release(b);
}
