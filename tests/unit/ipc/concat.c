/* Delta dictionaries joined to what was read before (src/ipc/concat.c), from streams made
 * by hand as another implementation would write them: flat values, values with a
 * dictionary-encoded field of their own (the nested dictionary extended by its own delta
 * in between), and the one case that cannot be joined: a nested dictionary replaced, not
 * extended, before the delta (refused as unsupported, naming the field). */
#include "ipc_messages.h"

TestSuite(ipc_concat, .timeout = 60);

/* outer: dictionary 1 (int8 indices) of list<item: dictionary 0 (int8) of utf8>. */
static void nested_schema(struct zcp_ipc_buffer *b) {
  struct zcp_fb_builder fb;
  zcp__fb_builder_init(&fb);
  zcp_fb_ref item = msg_field(&fb, "item", ZCP_FB_T_UTF8, msg_empty(&fb),
                              msg_dict(&fb, 0, 8, 0), NULL, 0);
  zcp_fb_ref outer = msg_field(&fb, "outer", ZCP_FB_T_LIST, msg_empty(&fb),
                               msg_dict(&fb, 1, 8, 0), &item, 1);
  msg_schema(b, &fb, &outer, 1, NULL, 0);
  zcp__fb_builder_reset(&fb);
}

/* Dictionary 0's utf8 values. */
static void words(struct zcp_ipc_buffer *b, const char *const *v, int n, bool delta) {
  msg_utf8_dictionary(b, 0, v, n, delta);
}

/* Dictionary 1: lists given as int8 indices into dictionary 0 (offsets per list). */
static void lists(struct zcp_ipc_buffer *b, const int32_t *offs, int n,
                  const int8_t *items, bool delta) {
  uint8_t body[128] = {0};
  memcpy(body, offs, 4 * (size_t)(n + 1));
  memcpy(body + 64, items, (size_t)offs[n]);
  int64_t nodes[] = {n, 0, offs[n], 0};
  int64_t bufs[] = {0, 0, 0, 4 * (n + 1), 0, 0, 64, offs[n]};
  struct zcp_fb_builder fb;
  zcp__fb_builder_init(&fb);
  msg_batch(b, n, nodes, 2, bufs, 4, body, 128, 1, delta, 0, &fb);
  zcp__fb_builder_reset(&fb);
}

/* A record batch of outer indices. */
static void outer_batch(struct zcp_ipc_buffer *b, const int8_t *idx, int n) {
  uint8_t body[64] = {0};
  memcpy(body, idx, (size_t)n);
  int64_t nodes[] = {n, 0}, bufs[] = {0, 0, 0, n};
  struct zcp_fb_builder fb;
  zcp__fb_builder_init(&fb);
  msg_batch(b, n, nodes, 1, bufs, 2, body, 64, -1, false, 0, &fb);
  zcp__fb_builder_reset(&fb);
}

Test(ipc_concat, a_delta_of_values_with_their_own_dictionary_keeps_both_indices) {
  struct zcp_ipc_buffer b = {0};
  nested_schema(&b);
  const char *xy[] = {"x", "y"}, *z[] = {"z"};
  words(&b, xy, 2, false);
  const int32_t o1[] = {0, 1, 3};
  const int8_t i1[] = {0, 1, 0};
  lists(&b, o1, 2, i1, false); /* [x] [y x] */
  const int8_t rows1[] = {1, 0};
  outer_batch(&b, rows1, 2);
  words(&b, z, 1, true); /* dictionary 0 grows: x y z */
  const int32_t o2[] = {0, 2};
  const int8_t i2[] = {2, 0};
  lists(&b, o2, 1, i2, true); /* dictionary 1 grows: + [z x] */
  const int8_t rows2[] = {2, 0, 1};
  outer_batch(&b, rows2, 3);
  msg_eos(&b);
  struct zcp_error err = {0};
  struct zcp_table *t;
  OKE(ipc_read_bytes(b.data, b.size, ZCP_IPC_STREAM, ZCP_IPC_COPY, &t, &err), &err);
  cr_assert_eq(zcp_table_num_batches(t), 2);
  const char *want[2][3] = {{"[\"y\", \"x\"]", "[\"x\"]", NULL},
                            {"[\"z\", \"x\"]", "[\"x\"]", "[\"y\", \"x\"]"}};
  for (int k = 0; k < 2; k++) {
    struct zcp_array_view v;
    OKE(zcp_array_view_init(zcp_table_batch(t, k), zcp_table_schema(t), &v, &err), &err);
    for (int r = 0; r < 3 && want[k][r] != NULL; r++) {
      char got[64];
      zcp_array_view_format(&v.children[0], r, got, sizeof got);
      cr_expect_str_eq(got, want[k][r], "batch %d row %d", k, r);
    }
    zcp_array_view_reset(&v);
    OKE(zcp_array_validate(zcp_table_batch(t, k), zcp_table_schema(t), ZCP_VALIDATE_FULL,
                           &err),
        &err);
  }
  /* the joined dictionary holds today's words, all three */
  const struct ArrowArray *outer = zcp_table_batch(t, 1)->children[0];
  cr_expect_eq(outer->dictionary->length, 3);
  cr_expect_eq(outer->dictionary->children[0]->dictionary->length, 3);
  zcp_table_release(t);
  zcp_ipc_buffer_reset(&b);
}

Test(ipc_concat, a_delta_after_its_nested_dictionary_was_replaced_is_unsupported) {
  struct zcp_ipc_buffer b = {0};
  nested_schema(&b);
  const char *xy[] = {"x", "y"}, *pq[] = {"p", "q"};
  words(&b, xy, 2, false);
  const int32_t o1[] = {0, 1};
  const int8_t i1[] = {1};
  lists(&b, o1, 1, i1, false);
  const int8_t rows[] = {0};
  outer_batch(&b, rows, 1);
  words(&b, pq, 2, false); /* replaced: the old lists meant y, now they would mean q */
  lists(&b, o1, 1, i1, true);
  outer_batch(&b, rows, 1);
  msg_eos(&b);
  struct zcp_ipc_memory mem;
  struct zcp_ipc_reader *r;
  struct zcp_error err = {0};
  OKE(msg_open(&b, &mem, &r, &err), &err);
  struct ArrowArray a;
  OKE(zcp_ipc_reader_next(r, &a, &err), &err);
  zcp_array_release(&a);
  cr_assert_eq(zcp_ipc_reader_next(r, &a, &err), ZCP_UNSUPPORTED, "%s", err.message);
  cr_expect(strstr(err.message,
                   "dictionary 1 (field 'outer'): delta dictionary: the "
                   "dictionary of its nested field 'item' was replaced, not "
                   "extended") != NULL,
            "%s", err.message);
  zcp_ipc_reader_close(r);
  zcp_ipc_buffer_reset(&b);
}
