/* Hand-written flatbuffers: what the builder writes the reader reads back, and the
 * reader refuses tables, vtables, vectors and strings that do not fit the buffer. */
#include <criterion/criterion.h>
#include <string.h>

#include "ipc/flatbuf.h"

static const uint8_t *build(struct zcp_fb_builder *b, int64_t *size) {
  zcp__fb_builder_init(b);
  zcp_fb_ref s = zcp__fb_string_create(b, "hello", 5);
  int64_t longs[3] = {1, -2, 3};
  zcp_fb_ref v = zcp__fb_vector_create(b, longs, 3, 8, 8);
  zcp__fb_table_start(b);
  zcp__fb_add_scalar(b, 0, 4, 7);
  zcp_fb_ref inner = zcp__fb_table_end(b);
  zcp_fb_ref refs[2] = {inner, inner};
  zcp_fb_ref tv = zcp__fb_refs_create(b, refs, 2);
  zcp__fb_table_start(b);
  zcp__fb_add_scalar(b, 0, 8, (uint64_t)-5);
  zcp__fb_add_scalar(b, 1, 1, 1);
  zcp__fb_add_ref(b, 2, s);
  zcp__fb_add_ref(b, 3, v);
  zcp__fb_add_ref(b, 5, inner);
  zcp__fb_add_ref(b, 6, tv);
  zcp__fb_add_scalar(b, 7, 2, 300);
  zcp_fb_ref root = zcp__fb_table_end(b);
  const uint8_t *data;
  cr_assert_eq(zcp__fb_finish(b, root, &data, size, NULL), ZCP_OK);
  cr_assert_eq(*size % 8, 0);
  return data;
}

Test(ipc_flatbuf, builder_output_reads_back) {
  struct zcp_fb_builder b;
  int64_t size;
  const uint8_t *data = build(&b, &size);
  struct zcp_fb_table t, inner;
  struct zcp_fb_vector v;
  int64_t i64, n;
  int32_t i32;
  int16_t i16;
  uint8_t u8;
  bool present;
  const char *str;
  cr_assert_eq(zcp__fb_root(data, size, &t, "root", NULL), ZCP_OK);
  cr_assert_eq(zcp__fb_i64(&t, 0, 0, &i64, "a", NULL), ZCP_OK);
  cr_assert_eq(i64, -5);
  cr_assert_eq(zcp__fb_u8(&t, 1, 0, &u8, "b", NULL), ZCP_OK);
  cr_assert_eq(u8, 1);
  cr_assert_eq(zcp__fb_string(&t, 2, &str, &n, "c", NULL), ZCP_OK);
  cr_assert_eq(n, 5);
  cr_assert_eq(memcmp(str, "hello", 5), 0);
  cr_assert_eq(zcp__fb_vector(&t, 3, 8, &v, "d", NULL), ZCP_OK);
  cr_assert_eq(v.n, 3);
  memcpy(&i64, zcp__fb_elem(&v, 1, 8), 8);
  cr_assert_eq(i64, -2);
  cr_assert_eq(((uintptr_t)zcp__fb_elem(&v, 0, 8) - (uintptr_t)data) % 8, 0);
  cr_assert_not(zcp__fb_has(&t, 4));
  cr_assert_eq(zcp__fb_i32(&t, 4, 42, &i32, "absent", NULL), ZCP_OK);
  cr_assert_eq(i32, 42);
  cr_assert_eq(zcp__fb_table(&t, 5, &inner, &present, "e", NULL), ZCP_OK);
  cr_assert(present);
  cr_assert_eq(zcp__fb_i32(&inner, 0, 0, &i32, "f", NULL), ZCP_OK);
  cr_assert_eq(i32, 7);
  cr_assert_eq(zcp__fb_vector(&t, 6, 4, &v, "g", NULL), ZCP_OK);
  cr_assert_eq(v.n, 2);
  cr_assert_eq(zcp__fb_vector_table(&v, 1, &inner, "g", NULL), ZCP_OK);
  cr_assert_eq(zcp__fb_i32(&inner, 0, 0, &i32, "f", NULL), ZCP_OK);
  cr_assert_eq(i32, 7);
  cr_assert_eq(zcp__fb_i16(&t, 7, 0, &i16, "h", NULL), ZCP_OK);
  cr_assert_eq(i16, 300);
  cr_assert_eq(zcp__fb_table(&t, 9, &inner, &present, "beyond the vtable", NULL), ZCP_OK);
  cr_assert_not(present);
  zcp__fb_builder_reset(&b);
}

/* Every truncation and every single-byte corruption either reads or fails typed. */
Test(ipc_flatbuf, reader_refuses_what_does_not_fit) {
  struct zcp_fb_builder b;
  int64_t size;
  const uint8_t *data = build(&b, &size);
  uint8_t copy[1024];
  cr_assert_leq(size, (int64_t)sizeof copy);
  for (int64_t len = 0; len < size; len++) {
    struct zcp_fb_table t;
    struct zcp_error err = {0};
    zcp_status_t st = zcp__fb_root(data, len, &t, "root", &err);
    if (st == ZCP_OK) {
      struct zcp_fb_vector v;
      const char *s;
      int64_t n;
      zcp_status_t a = zcp__fb_vector(&t, 3, 8, &v, "d", &err);
      zcp_status_t c = zcp__fb_string(&t, 2, &s, &n, "c", &err);
      cr_assert(a == ZCP_CORRUPT_INPUT || c == ZCP_CORRUPT_INPUT || len >= size - 8,
                "truncated at %lld", (long long)len);
    } else {
      cr_assert_eq(st, ZCP_CORRUPT_INPUT);
      cr_assert(strstr(err.message, "root") != NULL, "%s", err.message);
    }
  }
  for (int64_t i = 0; i < size; i++) {
    memcpy(copy, data, (size_t)size);
    copy[i] ^= 0xff;
    struct zcp_fb_table t, inner;
    struct zcp_fb_vector v;
    bool present;
    if (zcp__fb_root(copy, size, &t, "root", NULL) != ZCP_OK) continue;
    for (int id = 0; id < 10; id++) {
      const char *s;
      int64_t n;
      (void)zcp__fb_string(&t, id, &s, &n, "s", NULL);
      if (zcp__fb_vector(&t, id, 4, &v, "v", NULL) == ZCP_OK) {
        for (int64_t k = 0; k < v.n; k++)
          (void)zcp__fb_vector_table(&v, k, &inner, "v", NULL);
      }
      (void)zcp__fb_table(&t, id, &inner, &present, "t", NULL);
    }
  }
  zcp__fb_builder_reset(&b);
}

Test(ipc_flatbuf, reader_rejects_offsets_out_of_the_buffer) {
  /* a field whose offset wraps around: unsigned offsets can only point forward */
  uint8_t buf[32] = {0};
  /* root offset -> table at 12; vtable at 4: size 6, table size 8, field 0 at 4 */
  buf[0] = 12;
  buf[4] = 6;
  buf[6] = 8;
  buf[8] = 4;
  int32_t soff = 8; /* vtable = 12 - 8 = 4 */
  memcpy(buf + 12, &soff, 4);
  uint32_t self = (uint32_t)-4; /* field at 16 pointing to 12 */
  memcpy(buf + 16, &self, 4);
  struct zcp_fb_table t, next;
  bool present;
  struct zcp_error err = {0};
  cr_assert_eq(zcp__fb_root(buf, sizeof buf, &t, "root", &err), ZCP_OK);
  zcp_status_t st = ZCP_OK;
  for (int i = 0; i < 1000 && st == ZCP_OK; i++) {
    st = zcp__fb_table(&t, 0, &next, &present, "loop", &err);
    t = next;
  }
  cr_assert_eq(st, ZCP_CORRUPT_INPUT, "%s", err.message);
}
