/* Array views: every getter on hand-made arrays of every type (with offsets), the buffer
 * mapping, and structural rejection of garbage by zcp_array_view_init. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "arrow/internal.h"
#include "hand_arrays.h"

static struct zcp_array_view view_of(struct hand *h) {
  struct zcp_array_view v;
  struct zcp_error err = {0};
  zcp_status_t st = zcp_array_view_init(&h->array, &h->schema, &v, &err);
  cr_assert_eq(st, ZCP_OK, "view init: %s", err.message);
  return v;
}

static zcp_status_t init_fails(struct hand *h, const char *needle) {
  struct zcp_array_view v;
  struct zcp_error err = {0};
  zcp_status_t st = zcp_array_view_init(&h->array, &h->schema, &v, &err);
  cr_assert_neq(st, ZCP_OK, "expected failure containing '%s'", needle);
  cr_assert(strstr(err.message, needle) != NULL, "message '%s' lacks '%s'", err.message,
            needle);
  return st;
}

static bool bytes_eq(struct zcp_string_view s, const char *want) {
  return s.size == (int64_t)strlen(want) && memcmp(s.data, want, (size_t)s.size) == 0;
}

Test(view, integers_of_every_width_with_offset) {
  static const uint8_t valid[] = {0xFD}; /* row 1 (physical) null */
  static const int8_t i8[] = {-1, -2, 3, 4};
  static const uint8_t u8[] = {1, 200, 3, 255};
  static const int16_t i16[] = {-300, 2, -3, 4};
  static const uint16_t u16[] = {1, 2, 65535, 4};
  static const int32_t i32[] = {-70000, 2, 3, 4};
  static const uint32_t u32[] = {1, 2, 4000000000u, 4};
  static const int64_t i64[] = {INT64_MIN, 2, 3, INT64_MAX};
  static const uint64_t u64[] = {1, 2, 3, UINT64_MAX};
  struct hand h;
  struct {
    const char *format;
    const void *data;
    int64_t want_int[3];
    uint64_t want_uint[3];
  } cases[] = {
      {"c", i8, {-2, 3, 4}, {(uint64_t)-2, 3, 4}},
      {"C", u8, {200, 3, 255}, {200, 3, 255}},
      {"s", i16, {2, -3, 4}, {2, (uint64_t)-3, 4}},
      {"S", u16, {2, 65535, 4}, {2, 65535, 4}},
      {"i", i32, {2, 3, 4}, {2, 3, 4}},
      {"I", u32, {2, 4000000000ll, 4}, {2, 4000000000u, 4}},
      {"l", i64, {2, 3, INT64_MAX}, {2, 3, INT64_MAX}},
      {"L", u64, {2, 3, INT64_MAX}, {2, 3, UINT64_MAX}},
      {"tdD", i32, {2, 3, 4}, {2, 3, 4}},
      {"tdm", i64, {2, 3, INT64_MAX}, {2, 3, INT64_MAX}},
      {"tts", i32, {2, 3, 4}, {2, 3, 4}},
      {"ttn", i64, {2, 3, INT64_MAX}, {2, 3, INT64_MAX}},
      {"tsu:UTC", i64, {2, 3, INT64_MAX}, {2, 3, INT64_MAX}},
      {"tDm", i64, {2, 3, INT64_MAX}, {2, 3, INT64_MAX}},
      {"tiM", i32, {2, 3, 4}, {2, 3, 4}},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    hand_slice(hand_init(&h, cases[k].format, "x", 4, 2, valid, cases[k].data), 1, 3, 1);
    struct zcp_array_view v = view_of(&h);
    cr_assert_eq(v.length, 3);
    cr_assert(zcp_array_view_is_null(&v, 0), "%s", cases[k].format);
    cr_assert(!zcp_array_view_is_null(&v, 1), "%s", cases[k].format);
    for (int i = 0; i < 3; i++) {
      cr_assert_eq(zcp_array_view_get_int(&v, i), cases[k].want_int[i], "%s row %d",
                   cases[k].format, i);
      cr_assert_eq(zcp_array_view_get_uint(&v, i), cases[k].want_uint[i], "%s row %d",
                   cases[k].format, i);
    }
    cr_assert_eq(zcp_array_view_get_double(&v, 1), (double)cases[k].want_int[1]);
    zcp_array_view_reset(&v);
  }
}

Test(view, bool_bits_with_offset) {
  static const uint8_t bits[] = {0xA5, 0x01}; /* 1010 0101, 1 */
  struct hand h;
  hand_slice(hand_init(&h, "b", NULL, 9, 2, NULL, bits), 2, 7, 0);
  struct zcp_array_view v = view_of(&h);
  int64_t want[] = {1, 0, 0, 1, 0, 1, 1};
  for (int i = 0; i < 7; i++) {
    cr_assert_eq(zcp_array_view_get_int(&v, i), want[i], "row %d", i);
    cr_assert(!zcp_array_view_is_null(&v, i));
  }
  zcp_array_view_reset(&v);
}

Test(view, floats_and_half_floats) {
  /* 1.0, -2.0, 65504 (max), 2^-24 (smallest subnormal), +inf, NaN, 0.5 */
  static const uint16_t half[] = {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x7C00, 0x7E00, 0x3800};
  static const float f32[] = {1.5f, -2.25f};
  static const double f64[] = {3.125, -1e300};
  struct hand h;
  hand_init(&h, "e", NULL, 7, 2, NULL, half);
  struct zcp_array_view v = view_of(&h);
  cr_assert_eq(zcp_array_view_get_double(&v, 0), 1.0);
  cr_assert_eq(zcp_array_view_get_double(&v, 1), -2.0);
  cr_assert_eq(zcp_array_view_get_double(&v, 2), 65504.0);
  cr_assert_eq(zcp_array_view_get_double(&v, 3), ldexp(1.0, -24));
  cr_assert(isinf(zcp_array_view_get_double(&v, 4)));
  cr_assert(isnan(zcp_array_view_get_double(&v, 5)));
  cr_assert_eq(zcp_array_view_get_double(&v, 6), 0.5);
  cr_assert_eq(zcp_array_view_get_int(&v, 1), -2);
  cr_assert_eq(zcp_array_view_get_int(&v, 5), 0); /* NaN */
  zcp_array_view_reset(&v);

  hand_slice(hand_init(&h, "f", NULL, 2, 2, NULL, f32), 1, 1, 0);
  v = view_of(&h);
  cr_assert_eq(zcp_array_view_get_double(&v, 0), -2.25);
  cr_assert_eq(zcp_array_view_get_uint(&v, 0), 0);
  zcp_array_view_reset(&v);

  hand_init(&h, "g", NULL, 2, 2, NULL, f64);
  v = view_of(&h);
  cr_assert_eq(zcp_array_view_get_double(&v, 0), 3.125);
  cr_assert_eq(zcp_array_view_get_int(&v, 1), INT64_MIN); /* saturated */
  zcp_array_view_reset(&v);
}

Test(view, decimals_and_fixed_size_binary_as_raw_bytes) {
  static uint8_t dec128[3 * 16];
  static uint8_t dec256[2 * 32];
  for (int i = 0; i < 48; i++) dec128[i] = (uint8_t)i;
  for (int i = 0; i < 64; i++) dec256[i] = (uint8_t)(100 + i);
  static const char fsb[] = "abcdefghi";
  struct hand h;
  hand_slice(hand_init(&h, "d:38,10", NULL, 3, 2, NULL, dec128), 1, 2, 0);
  struct zcp_array_view v = view_of(&h);
  struct zcp_string_view s = zcp_array_view_get_bytes(&v, 1);
  cr_assert_eq(s.size, 16);
  cr_assert_eq((const uint8_t *)s.data, dec128 + 32);
  zcp_array_view_reset(&v);

  hand_init(&h, "d:60,5,256", NULL, 2, 2, NULL, dec256);
  v = view_of(&h);
  s = zcp_array_view_get_bytes(&v, 1);
  cr_assert_eq(s.size, 32);
  cr_assert_eq((const uint8_t *)s.data, dec256 + 32);
  zcp_array_view_reset(&v);

  static const int32_t dec32[] = {7, -8, 9};
  hand_slice(hand_init(&h, "d:9,2,32", NULL, 3, 2, NULL, dec32), 1, 2, 0);
  v = view_of(&h);
  s = zcp_array_view_get_bytes(&v, 1);
  cr_assert_eq(s.size, 4);
  cr_assert_eq((const void *)s.data, (const void *)(dec32 + 2));
  zcp_array_view_reset(&v);

  static const int64_t dec64[] = {-1, 5};
  hand_init(&h, "d:18,0,64", NULL, 2, 2, NULL, dec64);
  v = view_of(&h);
  s = zcp_array_view_get_bytes(&v, 0);
  cr_assert_eq(s.size, 8);
  cr_assert_eq((const void *)s.data, (const void *)dec64);
  zcp_array_view_reset(&v);

  hand_slice(hand_init(&h, "w:3", NULL, 3, 2, NULL, fsb), 1, 2, 0);
  v = view_of(&h);
  cr_assert(bytes_eq(zcp_array_view_get_bytes(&v, 0), "def"));
  cr_assert(bytes_eq(zcp_array_view_get_bytes(&v, 1), "ghi"));
  zcp_array_view_reset(&v);
}

Test(view, intervals) {
  static const int32_t months[] = {7, -3};
  static const int32_t day_time[] = {1, 500, 2, -1000};
  static struct {
    int32_t months, days;
    int64_t nanos;
  } mdn[] = {{1, 2, 3}, {-4, 5, 6000000000ll}};
  struct hand h;
  int32_t mo, d;
  int64_t sub;
  hand_init(&h, "tiM", NULL, 2, 2, NULL, months);
  struct zcp_array_view v = view_of(&h);
  zcp_array_view_get_interval(&v, 1, &mo, &d, &sub);
  cr_assert(mo == -3 && d == 0 && sub == 0);
  zcp_array_view_reset(&v);

  hand_slice(hand_init(&h, "tiD", NULL, 2, 2, NULL, day_time), 1, 1, 0);
  v = view_of(&h);
  zcp_array_view_get_interval(&v, 0, &mo, &d, &sub);
  cr_assert(mo == 0 && d == 2 && sub == -1000, "%d %d %lld", mo, d, (long long)sub);
  zcp_array_view_reset(&v);

  hand_init(&h, "tin", NULL, 2, 2, NULL, mdn);
  v = view_of(&h);
  zcp_array_view_get_interval(&v, 1, &mo, &d, &sub);
  cr_assert(mo == -4 && d == 5 && sub == 6000000000ll);
  zcp_array_view_reset(&v);
}

Test(view, binary_and_strings_of_both_offset_widths) {
  static const int32_t off32[] = {0, 3, 3, 8};
  static const int64_t off64[] = {0, 3, 3, 8};
  static const char data[] = "abcdefgh";
  static const uint8_t valid[] = {0x05};
  const char *formats[] = {"z", "u"};
  struct hand h;
  for (int k = 0; k < 4; k++) {
    const char *f = k < 2 ? formats[k] : (k == 2 ? "Z" : "U");
    hand_slice(
        hand_init(&h, f, "s", 3, 3, valid, k < 2 ? (const void *)off32 : off64, data), 1,
        2, 1);
    struct zcp_array_view v = view_of(&h);
    cr_assert(zcp_array_view_is_null(&v, 0));
    cr_assert_eq(zcp_array_view_get_bytes(&v, 0).size, 0);
    cr_assert(bytes_eq(zcp_array_view_get_bytes(&v, 1), "defgh"), "%s", f);
    cr_assert_eq(v.buffers[1], (const uint8_t *)h.buffers[1]);
    cr_assert_eq(v.buffers[2], (const uint8_t *)data);
    zcp_array_view_reset(&v);
  }
}

/* Views of 16 bytes: inline (<= 12) or prefix + buffer index + offset. */
static void make_view(uint8_t out[16], const char *s, int32_t buf, int32_t off) {
  memset(out, 0, 16);
  int32_t len = (int32_t)strlen(s);
  memcpy(out, &len, 4);
  if (len <= 12) {
    memcpy(out + 4, s, (size_t)len);
  } else {
    memcpy(out + 4, s, 4);
    memcpy(out + 8, &buf, 4);
    memcpy(out + 12, &off, 4);
  }
}

Test(view, binary_and_string_views) {
  static const char data0[] = "xxthis is a long string";
  static const char data1[] = "another long one!";
  static uint8_t views[3][16];
  make_view(views[0], "short", 0, 0);
  make_view(views[1], "this is a long string", 0, 2);
  make_view(views[2], "another long one!", 1, 0);
  static const int64_t sizes[] = {sizeof data0 - 1, sizeof data1 - 1};
  struct hand h;
  for (int k = 0; k < 2; k++) {
    hand_init(&h, k ? "vu" : "vz", NULL, 3, 5, NULL, views, data0, data1, sizes);
    struct zcp_array_view v = view_of(&h);
    cr_assert_eq(v.n_variadic, 2);
    cr_assert_eq(v.variadic[1], (const uint8_t *)data1);
    cr_assert_eq(v.variadic_size[0], 23);
    cr_assert_eq(v.buffers[2], (const uint8_t *)sizes);
    cr_assert(bytes_eq(zcp_array_view_get_bytes(&v, 0), "short"));
    cr_assert(bytes_eq(zcp_array_view_get_bytes(&v, 1), "this is a long string"));
    cr_assert(bytes_eq(zcp_array_view_get_bytes(&v, 2), "another long one!"));
    zcp_array_view_reset(&v);
  }
  /* no variadic buffers at all: 3 buffers */
  hand_slice(hand_init(&h, "vu", NULL, 1, 3, NULL, views, NULL), 0, 1, 0);
  struct zcp_array_view v = view_of(&h);
  cr_assert_eq(v.n_variadic, 0);
  cr_assert(bytes_eq(zcp_array_view_get_bytes(&v, 0), "short"));
  zcp_array_view_reset(&v);
}

Test(view, list_ranges_for_every_list_like) {
  static const int32_t values[] = {1, 2, 3, 4, 5, 6};
  static const int32_t off32[] = {0, 2, 2, 6};
  static const int64_t off64[] = {0, 2, 2, 6};
  static const int32_t lv_off32[] = {4, 0, 1};
  static const int32_t lv_size32[] = {2, 0, 3};
  static const int64_t lv_off64[] = {4, 0, 1};
  static const int64_t lv_size64[] = {2, 0, 3};
  struct hand child, h;
  hand_init(&child, "i", "item", 6, 2, NULL, values);
  int64_t start, size;

  hand_child(hand_slice(hand_init(&h, "+l", "l", 3, 2, NULL, off32), 1, 2, 0), &child);
  struct zcp_array_view v = view_of(&h);
  zcp_array_view_get_list(&v, 1, &start, &size);
  cr_assert(start == 2 && size == 4);
  cr_assert_eq(zcp_array_view_get_int(&v.children[0], start + 1), 4);
  zcp_array_view_reset(&v);

  hand_child(hand_init(&h, "+L", "l", 3, 2, NULL, off64), &child);
  v = view_of(&h);
  zcp_array_view_get_list(&v, 0, &start, &size);
  cr_assert(start == 0 && size == 2);
  zcp_array_view_reset(&v);

  hand_child(
      hand_slice(hand_init(&h, "+vl", "l", 3, 3, NULL, lv_off32, lv_size32), 2, 1, 0),
      &child);
  v = view_of(&h);
  zcp_array_view_get_list(&v, 0, &start, &size);
  cr_assert(start == 1 && size == 3);
  zcp_array_view_reset(&v);

  hand_child(hand_init(&h, "+vL", "l", 3, 3, NULL, lv_off64, lv_size64), &child);
  v = view_of(&h);
  zcp_array_view_get_list(&v, 0, &start, &size);
  cr_assert(start == 4 && size == 2);
  zcp_array_view_reset(&v);

  hand_child(hand_slice(hand_init(&h, "+w:2", "l", 3, 1, NULL), 1, 2, 0), &child);
  v = view_of(&h);
  zcp_array_view_get_list(&v, 1, &start, &size);
  cr_assert(start == 4 && size == 2, "%lld %lld", (long long)start, (long long)size);
  zcp_array_view_reset(&v);
}

Test(view, map_ranges_and_entries) {
  static const int32_t keys[] = {1, 2, 3};
  static const int32_t vals[] = {10, 20, 30};
  static const int32_t offsets[] = {0, 1, 3};
  struct hand k, val, entries, m;
  hand_init(&k, "i", "key", 3, 2, NULL, keys);
  hand_init(&val, "i", "value", 3, 2, NULL, vals);
  hand_child(hand_child(hand_init(&entries, "+s", "entries", 3, 1, NULL), &k), &val);
  hand_child(hand_init(&m, "+m", "m", 2, 2, NULL, offsets), &entries);
  struct zcp_array_view v = view_of(&m);
  int64_t start, size;
  zcp_array_view_get_list(&v, 1, &start, &size);
  cr_assert(start == 1 && size == 2);
  cr_assert_eq(zcp_array_view_get_int(&v.children[0].children[1], start + 1), 30);
  zcp_array_view_reset(&v);
}

Test(view, struct_children_and_nulls) {
  static const int32_t a[] = {1, 2, 3};
  static const uint8_t valid[] = {0x06};
  struct hand ca, s;
  hand_init(&ca, "i", "a", 3, 2, NULL, a);
  hand_child(hand_slice(hand_init(&s, "+s", NULL, 3, 1, valid), 0, 3, 1), &ca);
  struct zcp_array_view v = view_of(&s);
  cr_assert(zcp_array_view_is_null(&v, 0));
  cr_assert(!zcp_array_view_is_null(&v, 2));
  cr_assert_eq(v.n_children, 1);
  cr_assert_eq(v.children[0].depth, 1);
  cr_assert_eq(zcp_array_view_get_int(&v.children[0], 2), 3);
  zcp_array_view_reset(&v);
}

Test(view, sparse_union_type_ids_and_children) {
  static const int8_t ids[] = {5, 2, 5, 2};
  static const int32_t ints[] = {1, 2, 3, 4};
  static const uint8_t ints_valid[] = {0x0B}; /* row 2 null */
  static const double dbls[] = {1.5, 2.5, 3.5, 4.5};
  struct hand ci, cd, u;
  hand_slice(hand_init(&ci, "i", "i", 4, 2, ints_valid, ints), 0, 4, 1);
  hand_init(&cd, "g", "d", 4, 2, NULL, dbls);
  hand_child(
      hand_child(hand_slice(hand_init(&u, "+us:5,2", "u", 4, 1, ids), 1, 3, 0), &ci),
      &cd);
  struct zcp_array_view v = view_of(&u);
  cr_assert_null(v.buffers[0]);
  cr_assert_eq(v.buffers[1], (const uint8_t *)ids);
  cr_assert_null(v.buffers[2]);
  cr_assert_eq(zcp_array_view_union_type_id(&v, 0), 2);
  int64_t ci_idx;
  cr_assert_eq(zcp_array_view_union_child(&v, 0, &ci_idx), 1);
  cr_assert_eq(ci_idx, 1);
  cr_assert_eq(zcp_array_view_get_double(&v.children[1], ci_idx), 2.5);
  cr_assert_eq(zcp_array_view_union_child(&v, 1, &ci_idx), 0);
  cr_assert_eq(ci_idx, 2);
  cr_assert(zcp_array_view_is_null(&v, 1)); /* child 0 row 2 is null */
  cr_assert(!zcp_array_view_is_null(&v, 2));
  zcp_array_view_reset(&v);
}

Test(view, dense_union_offsets) {
  static const int8_t ids[] = {0, 1, 0};
  static const int32_t offs[] = {0, 0, 1};
  static const int32_t ints[] = {7, 8};
  static const char *strs_data = "hey";
  static const int32_t str_off[] = {0, 3};
  struct hand ci, cs, u;
  hand_init(&ci, "i", "i", 2, 2, NULL, ints);
  hand_init(&cs, "u", "s", 1, 3, NULL, str_off, strs_data);
  hand_child(hand_child(hand_init(&u, "+ud:0,1", "u", 3, 2, ids, offs), &ci), &cs);
  struct zcp_array_view v = view_of(&u);
  cr_assert_null(v.buffers[0]);
  cr_assert_eq(v.buffers[2], (const uint8_t *)offs);
  int64_t idx;
  cr_assert_eq(zcp_array_view_union_child(&v, 2, &idx), 0);
  cr_assert_eq(zcp_array_view_get_int(&v.children[0], idx), 8);
  cr_assert_eq(zcp_array_view_union_child(&v, 1, &idx), 1);
  cr_assert(bytes_eq(zcp_array_view_get_bytes(&v.children[1], idx), "hey"));
  zcp_array_view_reset(&v);
}

Test(view, run_end_encoded_binary_search_and_getters) {
  static const int32_t ends[] = {2, 5, 6, 10};
  static const int64_t vals[] = {100, 200, 300, 400};
  static const uint8_t vals_valid[] = {0x0B}; /* run 2 null */
  struct hand re, rv, h;
  hand_init(&re, "i", "run_ends", 4, 2, NULL, ends);
  hand_slice(hand_init(&rv, "l", "values", 4, 2, vals_valid, vals), 0, 4, 1);
  hand_child(hand_child(hand_slice(hand_init(&h, "+r", "r", 10, 0), 1, 9, 0), &re), &rv);
  struct zcp_array_view v = view_of(&h);
  int64_t want_run[] = {0, 1, 1, 1, 2, 3, 3, 3, 3};
  for (int i = 0; i < 9; i++) {
    cr_assert_eq(zcp_array_view_run_index(&v, i), want_run[i], "row %d", i);
  }
  cr_assert_eq(zcp_array_view_get_int(&v, 0), 100);
  cr_assert_eq(zcp_array_view_get_int(&v, 3), 200);
  cr_assert(zcp_array_view_is_null(&v, 4));
  cr_assert_eq(zcp_array_view_get_double(&v, 8), 400.0);
  zcp_array_view_reset(&v);
}

Test(view, dictionary_indices_and_values) {
  static const int16_t idx[] = {1, 0, 1};
  static const int32_t off[] = {0, 3, 6};
  static const char data[] = "foobar";
  struct hand dict, h;
  hand_init(&dict, "u", NULL, 2, 3, NULL, off, data);
  hand_dictionary(hand_init(&h, "s", "d", 3, 2, NULL, idx), &dict);
  struct zcp_array_view v = view_of(&h);
  cr_assert_not_null(v.dictionary);
  cr_assert_eq(v.format.type, ZCP_TYPE_INT16);
  int64_t i = zcp_array_view_get_int(&v, 2);
  cr_assert(bytes_eq(zcp_array_view_get_bytes(v.dictionary, i), "bar"));
  zcp_array_view_reset(&v);
}

Test(view, null_type) {
  struct hand h;
  hand_slice(hand_init(&h, "n", NULL, 4, 0), 0, 4, 4);
  struct zcp_array_view v = view_of(&h);
  cr_assert(zcp_array_view_is_null(&v, 3));
  zcp_array_view_reset(&v);
}

Test(view, buffer_sizes_from_our_arrays_follow_the_roles) {
  struct ArrowArray a;
  cr_assert_eq(zcp__array_init_node(&a, 2, 0, NULL), ZCP_OK);
  static int8_t ids[64];
  static int32_t offs[16];
  zcp__array_set_buffer(&a, 0, ids, 64);
  zcp__array_set_buffer(&a, 1, offs, 64);
  a.length = 0;
  struct ArrowSchema s = {.format = "+ud:", .release = hand_release_schema};
  struct zcp_array_view v;
  cr_assert_eq(zcp_array_view_init(&a, &s, &v, NULL), ZCP_OK);
  cr_assert_eq(v.buffer_size[0], -1);
  cr_assert_eq(v.buffer_size[1], 64);
  cr_assert_eq(v.buffer_size[2], 64);
  zcp_array_view_reset(&v);
  /* the same roles, but the buffers are not ours: sizes unknown */
  struct hand h;
  hand_init(&h, "+ud:", NULL, 0, 2, ids, offs);
  v = view_of(&h);
  cr_assert(v.buffer_size[1] == -1 && v.buffer_size[2] == -1);
  zcp_array_view_reset(&v);
  a.release(&a);
}

/* ---- structural rejection ------------------------------------------------------------
 */

Test(view, rejects_wrong_buffer_counts) {
  static const int32_t x[] = {1};
  struct hand h;
  hand_init(&h, "i", "x", 1, 3, NULL, x, x);
  cr_assert_eq(init_fails(&h, "column 'x' (int32): array has 3 buffers, expected 2"),
               ZCP_CORRUPT_INPUT);
  hand_init(&h, "vu", "v", 1, 2, NULL, x);
  init_fails(&h, "expected at least 3");
  hand_init(&h, "+us:0", "u", 0, 2, NULL, NULL);
  init_fails(&h, "array has 2 buffers, expected 1");
  hand_init(&h, "+r", "r", 0, 1, NULL);
  init_fails(&h, "expected 0");
  hand_init(&h, "i", "x", 1, 2, NULL, x);
  h.array.buffers = NULL;
  init_fails(&h, "buffers pointer is NULL");
}

Test(view, rejects_bad_lengths_offsets_and_null_counts) {
  static const int32_t x[] = {1};
  struct hand h;
  hand_slice(hand_init(&h, "i", "x", 1, 2, NULL, x), 0, -1, 0);
  init_fails(&h, "length -1 is negative");
  hand_slice(&h, -5, 1, 0);
  init_fails(&h, "offset -5 is negative");
  hand_slice(&h, INT64_MAX - 1, 5, 0);
  init_fails(&h, "overflows");
  hand_slice(&h, 0, 1, 2);
  init_fails(&h, "null_count 2");
  hand_slice(&h, 0, 1, -2);
  init_fails(&h, "null_count -2");
  hand_slice(&h, 0, 1, -1);
  struct zcp_array_view v = view_of(&h); /* -1: unknown, fine */
  zcp_array_view_reset(&v);
}

Test(view, rejects_child_mismatches_and_null_pointers) {
  static const int32_t off[] = {0, 0};
  struct hand c, h;
  hand_init(&c, "i", "item", 0, 2, NULL, NULL);
  hand_init(&h, "+l", "l", 1, 2, NULL, off);
  init_fails(&h, "array has 0 children, expected 1");
  hand_child(&h, &c);
  h.array.children = NULL;
  init_fails(&h, "children pointer is NULL");
  hand_init(&h, "+l", "l", 1, 2, NULL, off);
  hand_child(&h, &c);
  h.achildren[0] = NULL;
  init_fails(&h, "child 0 is NULL");
  hand_init(&h, "+l", "l", 1, 2, NULL, off);
  hand_child(&h, &c);
  h.schildren[0] = NULL;
  init_fails(&h, "schema child 0 is NULL");
  hand_init(&h, "+l", "l", 1, 2, NULL, off);
  hand_child(&h, &c);
  h.array.n_children = 2;
  init_fails(&h, "array has 2 children, schema has 1");
  hand_init(&h, "+s", NULL, 0, 1, NULL);
  hand_child(&h, &c);
  h.schema.n_children = -1;
  h.array.n_children = -1;
  init_fails(&h, "schema has -1 children");
}

Test(view, rejects_bad_formats_with_the_column_path) {
  struct hand c, h;
  hand_init(&c, "bogus", "b", 0, 2, NULL, NULL);
  hand_child(hand_init(&h, "+s", NULL, 0, 1, NULL), &c);
  init_fails(&h, "column 'b'");
  c.schema.format = NULL;
  init_fails(&h, "schema format is NULL");
}

Test(view, rejects_map_and_run_end_structure) {
  struct hand k, entries, m, re, rv, r;
  hand_init(&k, "i", "key", 0, 2, NULL, NULL);
  hand_child(hand_init(&entries, "+s", "entries", 0, 1, NULL), &k);
  hand_child(hand_init(&m, "+m", "m", 0, 2, NULL, NULL), &entries);
  init_fails(&m, "entries child must be a struct of 2 children");
  hand_init(&re, "g", "run_ends", 0, 2, NULL, NULL);
  hand_init(&rv, "i", "values", 0, 2, NULL, NULL);
  hand_child(hand_child(hand_init(&r, "+r", "r", 0, 0), &re), &rv);
  init_fails(&r, "run ends must be int16, int32 or int64, found double");
}

Test(view, rejects_dictionary_mismatches) {
  struct hand d, h;
  hand_init(&d, "u", NULL, 0, 3, NULL, NULL, NULL);
  hand_dictionary(hand_init(&h, "i", "d", 0, 2, NULL, NULL), &d);
  h.array.dictionary = NULL;
  init_fails(&h, "schema has a dictionary, array has none");
  hand_dictionary(hand_init(&h, "g", "d", 0, 2, NULL, NULL), &d);
  init_fails(&h, "dictionary indices must be integers");
}

Test(view, rejects_nesting_deeper_than_the_limit) {
  static struct hand nodes[ZCP_MAX_DEPTH + 2];
  hand_init(&nodes[ZCP_MAX_DEPTH + 1], "i", "leaf", 0, 2, NULL, NULL);
  for (int i = ZCP_MAX_DEPTH; i >= 0; i--) {
    hand_child(hand_init(&nodes[i], "+s", NULL, 0, 1, NULL), &nodes[i + 1]);
  }
  init_fails(&nodes[0], "nested deeper than 64");
  /* exactly at the limit is fine */
  struct zcp_array_view v = view_of(&nodes[1]);
  zcp_array_view_reset(&v);
}

Test(view, rejects_null_and_released_arguments) {
  struct hand h;
  struct zcp_array_view v;
  hand_init(&h, "i", "x", 0, 2, NULL, NULL);
  cr_assert_eq(zcp_array_view_init(NULL, &h.schema, &v, NULL), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_array_view_init(&h.array, NULL, &v, NULL), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_array_view_init(&h.array, &h.schema, NULL, NULL),
               ZCP_INVALID_ARGUMENT);
  h.array.release = NULL;
  cr_assert_eq(zcp_array_view_init(&h.array, &h.schema, &v, NULL), ZCP_INVALID_ARGUMENT);
  zcp_array_view_reset(NULL);
}
