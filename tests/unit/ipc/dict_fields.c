/* Dictionary ids shared by several fields (src/ipc/dict_fields.c and the reader): one
 * dictionary batch feeds every field that names its id, deltas and replacements reach all
 * of them, nested fields may share with top-level ones, index types may differ; fields
 * whose values would be laid out differently, and a dictionary used inside its own
 * values, are corrupt input naming the fields. Streams are hand-made, as another
 * implementation would write them. */
#include "ipc_messages.h"

TestSuite(ipc_dict_fields, .timeout = 60);

/* A utf8 dictionary-encoded field named `name` with dictionary `id` and int indices of
 * `bits` bits. */
static zcp_fb_ref utf8_dict_field(struct zcp_fb_builder *fb, const char *name, int64_t id,
                                  int bits) {
  zcp_fb_ref dict = msg_dict(fb, id, bits, 0);
  return msg_field(fb, name, ZCP_FB_T_UTF8, msg_empty(fb), dict, NULL, 0);
}

/* A RecordBatch of two rows of two index columns: a as int32, b as int8. */
static void two_index_columns(struct zcp_ipc_buffer *b, int32_t a0, int32_t a1, int8_t b0,
                              int8_t b1) {
  uint8_t body[128] = {0};
  memcpy(body, &a0, 4);
  memcpy(body + 4, &a1, 4);
  body[64] = (uint8_t)b0;
  body[65] = (uint8_t)b1;
  int64_t nodes[] = {2, 0, 2, 0}, bufs[] = {0, 0, 0, 8, 64, 0, 64, 2};
  struct zcp_fb_builder fb;
  zcp__fb_builder_init(&fb);
  msg_batch(b, 2, nodes, 2, bufs, 4, body, 128, -1, false, 0, &fb);
  zcp__fb_builder_reset(&fb);
}

/* Schema: a (int32 indices) and b (int8 indices), both dictionary 7 of utf8. */
static void shared_schema(struct zcp_ipc_buffer *b) {
  struct zcp_fb_builder fb;
  zcp__fb_builder_init(&fb);
  zcp_fb_ref f[2];
  f[0] = utf8_dict_field(&fb, "a", 7, 32);
  f[1] = utf8_dict_field(&fb, "b", 7, 8);
  msg_schema(b, &fb, f, 2, NULL, 0);
  zcp__fb_builder_reset(&fb);
}

static void expect_row(const struct ArrowArray *batch, const struct ArrowSchema *s,
                       int64_t row, const char *a, const char *b) {
  struct zcp_array_view v;
  struct zcp_error err = {0};
  OKE(zcp_array_view_init(batch, s, &v, &err), &err);
  char got[64];
  zcp_array_view_format(&v.children[0], row, got, sizeof got);
  cr_expect_str_eq(got, a, "row %lld of a", (long long)row);
  zcp_array_view_format(&v.children[1], row, got, sizeof got);
  cr_expect_str_eq(got, b, "row %lld of b", (long long)row);
  zcp_array_view_reset(&v);
}

Test(ipc_dict_fields, one_dictionary_feeds_every_field_that_shares_its_id) {
  struct zcp_ipc_buffer b = {0};
  shared_schema(&b);
  const char *abc[] = {"x", "y", "z"}, *more[] = {"w"}, *fresh[] = {"p", "q"};
  msg_utf8_dictionary(&b, 7, abc, 3, false);
  two_index_columns(&b, 0, 2, 1, 1);
  msg_utf8_dictionary(&b, 7, more, 1, true); /* a delta: both columns see "w" */
  two_index_columns(&b, 3, 0, 3, 2);
  msg_utf8_dictionary(&b, 7, fresh, 2, false); /* a replacement: both columns see it */
  two_index_columns(&b, 1, 0, 0, 1);
  msg_eos(&b);

  struct zcp_ipc_memory mem;
  struct zcp_ipc_reader *r;
  struct zcp_error err = {0};
  OKE(msg_open(&b, &mem, &r, &err), &err);
  const struct ArrowSchema *s = zcp_ipc_reader_schema(r);
  cr_assert_str_eq(s->children[0]->format, "i");
  cr_assert_str_eq(s->children[1]->format, "c", "each field keeps its own index type");
  const char *want[3][2][2] = {{{"\"x\"", "\"y\""}, {"\"z\"", "\"y\""}},
                               {{"\"w\"", "\"w\""}, {"\"x\"", "\"z\""}},
                               {{"\"q\"", "\"p\""}, {"\"p\"", "\"q\""}}};
  for (int k = 0; k < 3; k++) {
    struct ArrowArray a;
    OKE(zcp_ipc_reader_next(r, &a, &err), &err);
    cr_assert_not_null(a.release, "batch %d", k);
    /* one dictionary, not two copies of it */
    cr_expect_eq(a.children[0]->dictionary->buffers[2],
                 a.children[1]->dictionary->buffers[2],
                 "batch %d: the columns hold different dictionaries", k);
    cr_expect_eq(a.children[0]->dictionary->length, k == 0 ? 3 : k == 1 ? 4 : 2);
    for (int row = 0; row < 2; row++)
      expect_row(&a, s, row, want[k][row][0], want[k][row][1]);
    OKE(zcp_array_validate(&a, s, ZCP_VALIDATE_FULL, &err), &err);
    zcp_array_release(&a);
  }
  struct ArrowArray end;
  OKE(zcp_ipc_reader_next(r, &end, &err), &err);
  cr_assert_null(end.release);
  zcp_ipc_reader_close(r);
  zcp_ipc_buffer_reset(&b);
}

Test(ipc_dict_fields, an_index_past_the_shared_dictionary_is_caught_in_every_field) {
  struct zcp_ipc_buffer b = {0};
  shared_schema(&b);
  const char *two[] = {"x", "y"};
  msg_utf8_dictionary(&b, 7, two, 2, false);
  two_index_columns(&b, 0, 1, 1, 2); /* b's second index is past the end */
  msg_eos(&b);
  struct zcp_ipc_memory mem;
  struct zcp_ipc_reader *r;
  struct zcp_error err = {0};
  OKE(msg_open(&b, &mem, &r, &err), &err);
  struct ArrowArray a;
  cr_assert_eq(zcp_ipc_reader_next(r, &a, &err), ZCP_CORRUPT_INPUT);
  cr_expect(strstr(err.message, "'b'") != NULL, "%s", err.message);
  zcp_ipc_reader_close(r);
  zcp_ipc_buffer_reset(&b);
}

/* list<item: dictionary 0 of utf8> as dictionary 1, and a struct of two more fields
 * with dictionary 0 as dictionary 2: the shape of Arrow's nested-dictionary case. */
static void nested_schema(struct zcp_ipc_buffer *b, int64_t id_b) {
  struct zcp_fb_builder fb;
  zcp__fb_builder_init(&fb);
  zcp_fb_ref item = utf8_dict_field(&fb, "str_dict", 0, 8);
  zcp_fb_ref list = msg_field(&fb, "list_dict", ZCP_FB_T_LIST, msg_empty(&fb),
                              msg_dict(&fb, 1, 8, 0), &item, 1);
  zcp_fb_ref kids[2];
  kids[0] = utf8_dict_field(&fb, "str_dict_a", 0, 8);
  kids[1] = utf8_dict_field(&fb, "str_dict_b", id_b, 8);
  zcp_fb_ref st = msg_field(&fb, "struct_dict", ZCP_FB_T_STRUCT, msg_empty(&fb),
                            msg_dict(&fb, 2, 8, 0), kids, 2);
  zcp_fb_ref f[2] = {list, st};
  msg_schema(b, &fb, f, 2, NULL, 0);
  zcp__fb_builder_reset(&fb);
}

Test(ipc_dict_fields, nested_fields_share_with_each_other_across_dictionaries) {
  struct zcp_ipc_buffer b = {0};
  nested_schema(&b, 0);
  struct zcp_fb_builder fb;
  zcp__fb_builder_init(&fb);
  const char *words[] = {"alpha", "beta"};
  msg_utf8_dictionary(&b, 0, words, 2, false);
  { /* dictionary 1: two lists [1, 0] and [1] of int8 indices into dictionary 0 */
    uint8_t body[128] = {0};
    int32_t offs[] = {0, 2, 3};
    memcpy(body, offs, sizeof offs);
    body[64] = 1, body[65] = 0, body[66] = 1;
    int64_t nodes[] = {2, 0, 3, 0}, bufs[] = {0, 0, 0, 12, 0, 0, 64, 3};
    msg_batch(&b, 2, nodes, 2, bufs, 4, body, 128, 1, false, 0, &fb);
  }
  { /* dictionary 2: two structs {a: 0, b: 1} and {a: 1, b: 1} */
    uint8_t body[128] = {0};
    body[0] = 0, body[1] = 1, body[64] = 1, body[65] = 1;
    int64_t nodes[] = {2, 0, 2, 0, 2, 0}, bufs[] = {0, 0, 0, 0, 0, 2, 0, 0, 64, 2};
    msg_batch(&b, 2, nodes, 3, bufs, 5, body, 128, 2, false, 0, &fb);
  }
  { /* the batch: list_dict = [1, 0], struct_dict = [0, 1] */
    uint8_t body[128] = {0};
    body[0] = 1, body[64] = 0, body[65] = 1;
    int64_t nodes[] = {2, 0, 2, 0}, bufs[] = {0, 0, 0, 2, 0, 0, 64, 2};
    msg_batch(&b, 2, nodes, 2, bufs, 4, body, 128, -1, false, 0, &fb);
  }
  msg_eos(&b);
  zcp__fb_builder_reset(&fb);
  struct zcp_error err = {0};
  struct zcp_table *t;
  OKE(ipc_read_bytes(b.data, b.size, ZCP_IPC_STREAM, ZCP_IPC_COPY, &t, &err), &err);
  struct zcp_array_view v;
  OKE(zcp_array_view_init(zcp_table_batch(t, 0), zcp_table_schema(t), &v, &err), &err);
  const char *want[2][2] = {
      {"[\"beta\"]", "{str_dict_a: \"alpha\", str_dict_b: \"beta\"}"},
      {"[\"beta\", \"alpha\"]", "{str_dict_a: \"beta\", str_dict_b: \"beta\"}"}};
  for (int row = 0; row < 2; row++) {
    for (int c = 0; c < 2; c++) {
      char got[128];
      zcp_array_view_format(&v.children[c], row, got, sizeof got);
      cr_expect_str_eq(got, want[row][c], "row %d column %d", row, c);
    }
  }
  /* the three fields of dictionary 0 hold the same dictionary */
  const struct ArrowArray *batch = zcp_table_batch(t, 0);
  const struct ArrowArray *d0a = batch->children[0]->dictionary->children[0]->dictionary;
  const struct ArrowArray *d0b = batch->children[1]->dictionary->children[0]->dictionary;
  const struct ArrowArray *d0c = batch->children[1]->dictionary->children[1]->dictionary;
  cr_expect(d0a->buffers[2] == d0b->buffers[2] && d0b->buffers[2] == d0c->buffers[2]);
  zcp_array_view_reset(&v);
  zcp_table_release(t);
  zcp_ipc_buffer_reset(&b);
}

Test(ipc_dict_fields, fields_sharing_an_id_with_different_value_types_are_corrupt) {
  struct zcp_ipc_buffer b = {0};
  struct zcp_fb_builder fb;
  zcp__fb_builder_init(&fb);
  zcp_fb_ref f[2];
  f[0] = utf8_dict_field(&fb, "words", 3, 32);
  f[1] = msg_field(&fb, "numbers", ZCP_FB_T_INT, msg_int(&fb, 64, true),
                   msg_dict(&fb, 3, 32, 0), NULL, 0);
  msg_schema(&b, &fb, f, 2, NULL, 0);
  msg_eos(&b);
  zcp__fb_builder_reset(&fb);
  struct zcp_ipc_memory mem;
  struct zcp_ipc_reader *r = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(msg_open(&b, &mem, &r, &err), ZCP_CORRUPT_INPUT, "%s", err.message);
  cr_assert_null(r);
  cr_expect(strstr(err.message,
                   "fields 'words' and 'numbers' share dictionary 3 but their "
                   "values differ in type (u and l)") != NULL,
            "%s", err.message);
  zcp_ipc_buffer_reset(&b);

  /* nested: str_dict_b names dictionary 1, the list dictionary of list_dict */
  nested_schema(&b, 1);
  msg_eos(&b);
  cr_assert_eq(msg_open(&b, &mem, &r, &err), ZCP_CORRUPT_INPUT, "%s", err.message);
  cr_expect(strstr(err.message,
                   "fields 'list_dict' and 'str_dict_b' share dictionary 1 but "
                   "their values differ in type (+l and u)") != NULL,
            "%s", err.message);
  zcp_ipc_buffer_reset(&b);
}

Test(ipc_dict_fields, a_dictionary_used_inside_its_own_values_is_corrupt) {
  struct zcp_ipc_buffer b = {0};
  struct zcp_fb_builder fb;
  zcp__fb_builder_init(&fb);
  zcp_fb_ref item = utf8_dict_field(&fb, "inner", 5, 8);
  zcp_fb_ref list = msg_field(&fb, "outer", ZCP_FB_T_LIST, msg_empty(&fb),
                              msg_dict(&fb, 5, 8, 0), &item, 1);
  msg_schema(&b, &fb, &list, 1, NULL, 0);
  msg_eos(&b);
  zcp__fb_builder_reset(&fb);
  struct zcp_ipc_memory mem;
  struct zcp_ipc_reader *r = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(msg_open(&b, &mem, &r, &err), ZCP_CORRUPT_INPUT, "%s", err.message);
  cr_expect(
      strstr(err.message, "'outer': dictionary 5 is used inside its own values") != NULL,
      "%s", err.message);
  zcp_ipc_buffer_reset(&b);
}

/* A file of the shared schema with the given dictionary batches (ids 7, values x, y
 * then the second list, replacement or delta) and one batch. */
static void shared_file(struct zcp_ipc_buffer *b, bool second_is_delta) {
  struct msg_blocks log = {0};
  memset(b, 0, sizeof *b);
  msg_append(b, "ARROW1\0\0", 8);
  msg_log = &log;
  shared_schema(b);
  const char *xy[] = {"x", "y"}, *z[] = {"z"};
  msg_utf8_dictionary(b, 7, xy, 2, false);
  msg_utf8_dictionary(b, 7, z, 1, second_is_delta);
  two_index_columns(b, 2, 0, 1, 2);
  msg_eos(b);
  msg_log = NULL;
  struct zcp_fb_builder fb;
  zcp__fb_builder_init(&fb);
  zcp_fb_ref f[2];
  f[0] = utf8_dict_field(&fb, "a", 7, 32);
  f[1] = utf8_dict_field(&fb, "b", 7, 8);
  msg_footer(b, &fb, msg_schema_table(&fb, f, 2, NULL, 0), &log);
  zcp__fb_builder_reset(&fb);
}

Test(ipc_dict_fields, a_file_applies_shared_deltas_and_refuses_replacements) {
  struct zcp_ipc_buffer b;
  shared_file(&b, true);
  struct zcp_error err = {0};
  struct zcp_ipc_reader *r;
  for (int mode = 0; mode < 2; mode++) {
    OKE(zcp_ipc_file_reader_open(b.data, b.size, (enum zcp_ipc_file_mode)mode, NULL, &r,
                                 &err),
        &err);
    struct ArrowArray a;
    OKE(zcp_ipc_reader_read_batch(r, 0, &a, &err), &err);
    expect_row(&a, zcp_ipc_reader_schema(r), 0, "\"z\"", "\"y\"");
    expect_row(&a, zcp_ipc_reader_schema(r), 1, "\"x\"", "\"z\"");
    zcp_array_release(&a);
    zcp_ipc_reader_close(r);
  }
  zcp_ipc_buffer_reset(&b);

  shared_file(&b, false);
  r = NULL;
  cr_assert_eq(zcp_ipc_file_reader_open(b.data, b.size, ZCP_IPC_COPY, NULL, &r, &err),
               ZCP_CORRUPT_INPUT, "%s", err.message);
  cr_assert_null(r);
  cr_expect(strstr(err.message,
                   "dictionary 7 is sent twice without isDelta: an IPC file "
                   "cannot replace a dictionary") != NULL,
            "%s", err.message);
  zcp_ipc_buffer_reset(&b);
}
