/* Tests of src/arrow/builder_binary.c: binary and utf8 with int32 and int64 offsets,
 * views (inline and in variadic buffers, new buffers instead of huge ones), fixed-size
 * binary, and the bulk append of all of them. */
#include "builder_test.h"

Test(builder_binary, utf8_values_nulls_and_empties) {
  struct test_alloc ta;
  ta_init(&ta, 64);
  struct zcp_builder *b = simple_builder("u", "name", &ta.base);
  BOK(b, zcp_builder_append_string(b, "a"));
  BOK(b, zcp_builder_append_null(b, 1));
  BOK(b, zcp_builder_append_string(b, ""));
  BOK(b, zcp_builder_append_bytes(b, "hello", 5));
  BOK(b, zcp_builder_append_empty(b, 1));
  struct ArrowArray a;
  struct ArrowSchema s;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  cr_assert_eq(a.n_buffers, 3);
  cr_assert_eq(a.length, 5);
  cr_assert_eq(a.null_count, 1);
  int32_t want[6] = {0, 1, 1, 1, 6, 6};
  for (int i = 0; i < 6; i++) cr_assert_eq(i32_at(&a, 1, i), want[i], "offset %d", i);
  cr_assert_eq(memcmp(a.buffers[2], "ahello", 6), 0);
  check_padding(&a, 1, 24);
  check_padding(&a, 2, 6);
  struct zcp_string_view sv = zcp_array_view_get_bytes(&v, 3);
  cr_assert_eq(sv.size, 5);
  cr_assert_eq(memcmp(sv.data, "hello", 5), 0);
  cr_assert(zcp_array_view_is_null(&v, 1));
  done(&a, &s, &v);
  zcp_builder_release(b);
  cr_assert_eq(ta.live, 0);
}

Test(builder_binary, large_binary_has_int64_offsets) {
  struct zcp_builder *b = simple_builder("Z", "blob", NULL);
  BOK(b, zcp_builder_append_bytes(b, "\0\1\2", 3));
  BOK(b, zcp_builder_append_null(b, 2));
  BOK(b, zcp_builder_append_bytes(b, "xy", 2));
  struct ArrowArray a;
  struct ArrowSchema s;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  int64_t want[5] = {0, 3, 3, 3, 5};
  for (int i = 0; i < 5; i++) cr_assert_eq(i64_at(&a, 1, i), want[i]);
  cr_assert_eq(a.null_count, 2);
  cr_assert_eq(memcmp(a.buffers[2], "\0\1\2xy", 5), 0);
  done(&a, &s, &v);
  zcp_builder_release(b);
}

Test(builder_binary, empty_column_has_a_leading_offset) {
  struct zcp_builder *b = simple_builder("U", "x", NULL);
  struct ArrowArray a;
  struct ArrowSchema s;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  cr_assert_eq(a.length, 0);
  cr_assert_not_null(a.buffers[1]);
  cr_assert_not_null(a.buffers[2]);
  cr_assert_eq(i64_at(&a, 1, 0), 0);
  done(&a, &s, &v);
  zcp_builder_release(b);
}

Test(builder_binary, bulk_binaries_rebase_offsets) {
  struct test_alloc ta;
  ta_init(&ta, 64);
  const char *formats[] = {"u", "U", "z", "Z", "vu", "vz"};
  for (size_t k = 0; k < sizeof formats / sizeof formats[0]; k++) {
    struct zcp_builder *b = simple_builder(formats[k], "x", &ta.base);
    BOK(b, zcp_builder_append_string(b, "first"));
    const char *data = "..abcthis one is long enoughde";
    int32_t offsets[5] = {2, 5, 28, 28, 30}; /* "abc", long, "", "de" */
    uint8_t valid[4] = {1, 1, 0, 1};
    BOK(b, zcp_builder_append_binaries(b, offsets, data, valid, 4));
    BOK(b, zcp_builder_append_binaries(b, offsets, data, NULL, 1));
    struct ArrowArray a;
    struct ArrowSchema s;
    struct zcp_array_view v;
    finish(b, &a, &s, &v);
    cr_assert_eq(a.length, 6, "%s", formats[k]);
    cr_assert_eq(a.null_count, 1);
    const char *want[6] = {"first", "abc", "this one is long enough", "", "de", "abc"};
    for (int i = 0; i < 6; i++) {
      if (i == 3) {
        cr_assert(zcp_array_view_is_null(&v, i));
        continue;
      }
      struct zcp_string_view sv = zcp_array_view_get_bytes(&v, i);
      cr_assert_eq(sv.size, (int64_t)strlen(want[i]), "%s row %d", formats[k], i);
      cr_assert_eq(memcmp(sv.data, want[i], strlen(want[i])), 0, "%s row %d", formats[k],
                   i);
    }
    done(&a, &s, &v);
    zcp_builder_release(b);
    cr_assert_eq(ta.live, 0);
  }
}

Test(builder_binary, bulk_rejects_decreasing_offsets_and_appends_nothing) {
  struct zcp_builder *b = simple_builder("u", "x", NULL);
  int32_t offsets[4] = {0, 3, 2, 4};
  cr_assert_eq(zcp_builder_append_binaries(b, offsets, "abcd", NULL, 3),
               ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(zcp_builder_last_error(b), "decrease") != NULL);
  int32_t neg[2] = {-1, 2};
  cr_assert_eq(zcp_builder_append_binaries(b, neg, "abcd", NULL, 1),
               ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_builder_length(b), 0);
  zcp_builder_release(b);
}

Test(builder_binary, views_inline_short_values_and_reference_long_ones) {
  struct test_alloc ta;
  ta_init(&ta, 64);
  struct zcp_builder *b = simple_builder("vu", "v", &ta.base);
  BOK(b, zcp_builder_append_string(b, "twelve bytes"));
  BOK(b, zcp_builder_append_string(b, "thirteen byte"));
  BOK(b, zcp_builder_append_null(b, 1));
  BOK(b, zcp_builder_append_string(b, "another long value"));
  struct ArrowArray a;
  struct ArrowSchema s;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  cr_assert_eq(a.n_buffers, 4, "validity, views, one data buffer, sizes");
  cr_assert_eq(a.length, 4);
  cr_assert_eq(a.null_count, 1);
  const uint8_t *views = a.buffers[1];
  cr_assert_eq(i32_at(&a, 1, 0), 12);
  cr_assert_eq(memcmp(views + 4, "twelve bytes", 12), 0);
  cr_assert_eq(i32_at(&a, 1, 4), 13);
  cr_assert_eq(memcmp(views + 16 + 4, "thir", 4), 0);
  cr_assert_eq(i32_at(&a, 1, 6), 0, "buffer index");
  cr_assert_eq(i32_at(&a, 1, 7), 0, "offset");
  cr_assert_eq(i32_at(&a, 1, 15), 13, "second long value follows the first");
  for (int k = 0; k < 16; k++) cr_assert_eq(views[32 + k], 0, "null view is zero");
  cr_assert_eq(i64_at(&a, 3, 0), 31, "data buffer size");
  cr_assert_eq(memcmp(a.buffers[2], "thirteen byteanother long value", 31), 0);
  check_padding(&a, 1, 64);
  check_padding(&a, 2, 31);
  check_padding(&a, 3, 8);
  struct zcp_string_view sv = zcp_array_view_get_bytes(&v, 3);
  cr_assert_eq(sv.size, 18);
  cr_assert_eq(memcmp(sv.data, "another long value", 18), 0);
  done(&a, &s, &v);
  zcp_builder_release(b);
  cr_assert_eq(ta.live, 0);
}

Test(builder_binary, views_without_long_values_have_no_data_buffer) {
  struct zcp_builder *b = simple_builder("vz", "v", NULL);
  BOK(b, zcp_builder_append_bytes(b, "ab", 2));
  struct ArrowArray a;
  struct ArrowSchema s;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  cr_assert_eq(a.n_buffers, 3);
  cr_assert_null(a.buffers[0]);
  cr_assert_not_null(a.buffers[2]);
  done(&a, &s, &v);
  zcp_builder_release(b);
}

Test(builder_binary, views_start_new_data_buffers_instead_of_growing_past_the_block) {
  struct test_alloc ta;
  ta_init(&ta, 64);
  struct zcp_builder *b = simple_builder("vz", "v", &ta.base);
  int64_t chunk = 3 << 20;
  uint8_t *val = malloc((size_t)chunk);
  cr_assert_not_null(val);
  int n = 30; /* 90 MiB in all */
  for (int i = 0; i < n; i++) {
    memset(val, 'a' + i % 26, (size_t)chunk);
    BOK(b, zcp_builder_append_bytes(b, val, chunk));
  }
  struct ArrowArray a;
  struct ArrowSchema s;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  int64_t n_data = a.n_buffers - 3;
  cr_assert(n_data >= 2, "%lld data buffers", (long long)n_data);
  int64_t total = 0;
  for (int64_t k = 0; k < n_data; k++) {
    int64_t size = i64_at(&a, a.n_buffers - 1, k);
    cr_assert(zcp_array_buffer_capacity(&a, 2 + k) <= (64 << 20), "buffer %lld too big",
              (long long)k);
    total += size;
  }
  cr_assert_eq(total, chunk * n);
  for (int i = 0; i < n; i++) {
    struct zcp_string_view sv = zcp_array_view_get_bytes(&v, i);
    cr_assert_eq(sv.size, chunk);
    cr_assert_eq(sv.data[0], 'a' + i % 26);
    cr_assert_eq(sv.data[chunk - 1], 'a' + i % 26);
  }
  free(val);
  done(&a, &s, &v);
  zcp_builder_release(b);
  cr_assert_eq(ta.live, 0);
}

Test(builder_binary, fixed_size_binary) {
  struct zcp_builder *b = simple_builder("w:3", "rgb", NULL);
  BOK(b, zcp_builder_append_bytes(b, "abc", 3));
  cr_assert_eq(zcp_builder_append_bytes(b, "ab", 2), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(zcp_builder_last_error(b), "column 'rgb' (fixed_size_binary)") != NULL,
            "%s", zcp_builder_last_error(b));
  BOK(b, zcp_builder_append_null(b, 1));
  int32_t offsets[3] = {1, 4, 7};
  BOK(b, zcp_builder_append_binaries(b, offsets, "xdefghi", NULL, 2));
  int32_t bad[3] = {0, 3, 5};
  cr_assert_eq(zcp_builder_append_binaries(b, bad, "xdefghi", NULL, 2),
               ZCP_INVALID_ARGUMENT);
  BOK(b, zcp_builder_append_values(b, "jkl", NULL, 1));
  struct ArrowArray a;
  struct ArrowSchema s;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  cr_assert_eq(a.length, 5);
  cr_assert_eq(a.null_count, 1);
  cr_assert_eq(memcmp(a.buffers[1], "abc\0\0\0defghijkl", 15), 0);
  check_padding(&a, 1, 15);
  struct zcp_string_view sv = zcp_array_view_get_bytes(&v, 3);
  cr_assert_eq(sv.size, 3);
  cr_assert_eq(memcmp(sv.data, "ghi", 3), 0);
  done(&a, &s, &v);
  zcp_builder_release(b);
}

Test(builder_binary, reserve_covers_offsets_and_data) {
  struct test_alloc ta;
  ta_init(&ta, 64);
  struct zcp_builder *b = simple_builder("u", "x", &ta.base);
  BOK(b, zcp_builder_reserve(b, 100, 1000));
  int64_t calls = ta.calls;
  for (int i = 0; i < 100; i++) BOK(b, zcp_builder_append_string(b, "0123456789"));
  cr_assert_eq(ta.calls, calls);
  zcp_builder_release(b);
  b = simple_builder("vu", "x", &ta.base);
  BOK(b, zcp_builder_reserve(b, 100, 2000));
  calls = ta.calls;
  for (int i = 0; i < 100; i++)
    BOK(b, zcp_builder_append_string(b, "0123456789abcdefghij"));
  cr_assert_eq(ta.calls, calls);
  zcp_builder_release(b);
  cr_assert_eq(ta.live, 0);
}
