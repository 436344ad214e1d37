/* Record batch decoding from hand-made messages: delta dictionaries, and bodies that lie
 * (buffers past the end, negative lengths, too few or too many buffers and nodes, absurd
 * sizes, forged compressed lengths) — each a typed error, never a crash or a leak. */
#include "ipc/flatbuf.h"
#include "ipc_test.h"

/* The stream bytes of a schema message alone (a writer closed without batches, minus
 * its end-of-stream marker). */
static void schema_message(const struct ArrowSchema *s, struct zcp_ipc_buffer *out) {
  struct zcp_error err = {0};
  struct zcp_ipc_sink sink;
  struct zcp_ipc_writer *w;
  memset(out, 0, sizeof *out);
  sink = zcp_ipc_sink_buffer(out);
  OKE(zcp_ipc_writer_open(ZCP_IPC_STREAM, s, &sink, NULL, &w, &err), &err);
  OKE(zcp_ipc_writer_close(w, &err), &err);
  out->size -= 8;
}

static void int32_schema(struct ArrowSchema *s) {
  OK(zcp_schema_init("+s", "", 0, 1, s, NULL));
  OK(zcp_schema_set_format(s->children[0], "i"));
  OK(zcp_schema_set_name(s->children[0], "x"));
}

static void append(struct zcp_ipc_buffer *b, const void *p, int64_t n) {
  struct zcp_ipc_sink s = zcp_ipc_sink_buffer(b);
  OK(s.write(s.ctx, p, n, NULL));
}

static int msg_version = 4; /* MetadataVersion V5 */

/* A framed RecordBatch (dict_id < 0) or DictionaryBatch message with the given nodes
 * (length, null count pairs) and buffers (offset, length pairs). */
static void batch_message(struct zcp_ipc_buffer *out, int64_t length,
                          const int64_t *nodes, int64_t n_nodes, const int64_t *bufs,
                          int64_t n_bufs, const uint8_t *body, int64_t body_len,
                          int64_t dict_id, bool delta, int codec) {
  struct zcp_fb_builder fb;
  zcp__fb_builder_init(&fb);
  uint8_t raw[64 * 16];
  for (int64_t i = 0; i < 2 * n_nodes; i++) {
    for (int k = 0; k < 8; k++) raw[8 * i + k] = (uint8_t)((uint64_t)nodes[i] >> (8 * k));
  }
  zcp_fb_ref vn = zcp__fb_vector_create(&fb, raw, n_nodes, 16, 8);
  for (int64_t i = 0; i < 2 * n_bufs; i++) {
    for (int k = 0; k < 8; k++) raw[8 * i + k] = (uint8_t)((uint64_t)bufs[i] >> (8 * k));
  }
  zcp_fb_ref vb = zcp__fb_vector_create(&fb, raw, n_bufs, 16, 8);
  zcp_fb_ref comp = 0;
  if (codec >= 0) {
    zcp__fb_table_start(&fb);
    zcp__fb_add_scalar(&fb, 0, 1, (uint64_t)codec);
    comp = zcp__fb_table_end(&fb);
  }
  zcp__fb_table_start(&fb);
  zcp__fb_add_scalar(&fb, 0, 8, (uint64_t)length);
  zcp__fb_add_ref(&fb, 1, vn);
  zcp__fb_add_ref(&fb, 2, vb);
  if (comp) zcp__fb_add_ref(&fb, 3, comp);
  zcp_fb_ref header = zcp__fb_table_end(&fb);
  uint8_t type = 3;
  if (dict_id >= 0) {
    zcp__fb_table_start(&fb);
    zcp__fb_add_scalar(&fb, 0, 8, (uint64_t)dict_id);
    zcp__fb_add_ref(&fb, 1, header);
    zcp__fb_add_scalar(&fb, 2, 1, delta);
    header = zcp__fb_table_end(&fb);
    type = 2;
  }
  zcp__fb_table_start(&fb);
  zcp__fb_add_scalar(&fb, 0, 2, (uint64_t)msg_version);
  zcp__fb_add_scalar(&fb, 1, 1, type);
  zcp__fb_add_ref(&fb, 2, header);
  zcp__fb_add_scalar(&fb, 3, 8, (uint64_t)body_len);
  zcp_fb_ref msg = zcp__fb_table_end(&fb);
  const uint8_t *meta;
  int64_t size;
  OK(zcp__fb_finish(&fb, msg, &meta, &size, NULL));
  uint8_t prefix[8] = {0xff, 0xff, 0xff, 0xff};
  int32_t len = (int32_t)((size + 7) / 8 * 8);
  memcpy(prefix + 4, &len, 4);
  append(out, prefix, 8);
  append(out, meta, size);
  static const uint8_t zeros[8];
  append(out, zeros, len - size);
  if (body != NULL) append(out, body, body_len); /* NULL: announced, never sent */
  zcp__fb_builder_reset(&fb);
}

/* Reads every batch of a stream; returns the first failure (or OK) and its message. */
static zcp_status_t read_stream(const struct zcp_ipc_buffer *b, struct zcp_error *err,
                                int64_t *batches) {
  struct zcp_ipc_memory mem = {b->data, b->size, 0};
  struct zcp_ipc_source src = zcp_ipc_source_memory(&mem);
  struct zcp_ipc_reader *r;
  *batches = 0;
  zcp_status_t st = zcp_ipc_stream_reader_open(&src, NULL, &r, err);
  if (st != ZCP_OK) return st;
  for (;;) {
    struct ArrowArray a;
    st = zcp_ipc_reader_next(r, &a, err);
    if (st != ZCP_OK || a.release == NULL) break;
    zcp_array_release(&a);
    (*batches)++;
  }
  zcp_ipc_reader_close(r);
  return st;
}

/* One int32 column: 3 values, body of 64 bytes (values at 0). */
static void int32_case_n(int64_t rows, const int64_t *nodes, int64_t n_nodes,
                         const int64_t *bufs, int64_t n_bufs, int64_t body_len,
                         const char *want) {
  struct ArrowSchema s;
  int32_schema(&s);
  struct zcp_ipc_buffer b;
  schema_message(&s, &b);
  uint8_t body[128] = {1, 0, 0, 0, 2, 0, 0, 0, 3};
  batch_message(&b, rows, nodes, n_nodes, bufs, n_bufs, body, body_len, -1, false, -1);
  struct zcp_error err = {0};
  int64_t n;
  zcp_status_t st = read_stream(&b, &err, &n);
  if (want == NULL) {
    cr_assert_eq(st, ZCP_OK, "%s", err.message);
    cr_assert_eq(n, 1);
  } else {
    cr_assert_eq(st, ZCP_CORRUPT_INPUT, "got %s: %s", zcp_status_str(st), err.message);
    cr_assert(strstr(err.message, want) != NULL, "message '%s' lacks '%s'", err.message,
              want);
  }
  zcp_ipc_buffer_reset(&b);
  zcp_schema_release(&s);
}

static void int32_case(const int64_t *nodes, int64_t n_nodes, const int64_t *bufs,
                       int64_t n_bufs, int64_t body_len, const char *want) {
  int32_case_n(3, nodes, n_nodes, bufs, n_bufs, body_len, want);
}

Test(ipc_read_batch, hand_made_batch_reads) {
  int64_t nodes[] = {3, 0}, bufs[] = {0, 0, 0, 12};
  int32_case(nodes, 1, bufs, 2, 64, NULL);
}

Test(ipc_read_batch, rejects_buffers_past_the_body) {
  int64_t nodes[] = {3, 0}, bufs[] = {0, 0, 60, 12};
  int32_case(nodes, 1, bufs, 2, 64, "outside");
  int64_t bufs2[] = {0, 0, INT64_MAX - 4, 12};
  int32_case(nodes, 1, bufs2, 2, 64, "outside");
}

Test(ipc_read_batch, rejects_negative_lengths) {
  int64_t nodes[] = {-1, 0}, bufs[] = {0, 0, 0, 12};
  int32_case(nodes, 1, bufs, 2, 64, "length -1");
  int64_t nodes2[] = {3, 0}, bufs2[] = {0, 0, 0, -12};
  int32_case(nodes2, 1, bufs2, 2, 64, "outside");
  int64_t nodes3[] = {3, 4}, bufs3[] = {0, 0, 0, 12};
  int32_case(nodes3, 1, bufs3, 2, 64, "null count");
}

Test(ipc_read_batch, rejects_columns_shorter_than_the_batch) {
  int64_t nodes[] = {3, 0}, bufs[] = {0, 0, 0, 12};
  int32_case_n(5, nodes, 1, bufs, 2, 64, "");
  int32_case_n(-1, nodes, 1, bufs, 2, 64, "negative");
}

Test(ipc_read_batch, rejects_wrong_buffer_and_node_counts) {
  int64_t nodes[] = {3, 0, 3, 0}, bufs[] = {0, 0, 0, 12, 0, 0};
  int32_case(nodes, 1, bufs, 1, 64, "needs more");
  int32_case(nodes, 1, bufs, 3, 64, "uses");
  int32_case(nodes, 0, bufs, 2, 64, "needs more");
  int32_case(nodes, 2, bufs, 2, 64, "uses");
}

Test(ipc_read_batch, rejects_absurd_sizes) {
  /* a length the buffer cannot hold: validation against the real 12 bytes */
  int64_t nodes[] = {(int64_t)1 << 60, 0}, bufs[] = {0, 0, 0, 12};
  int32_case(nodes, 1, bufs, 2, 64, "");
  int64_t nodes2[] = {4, 0}, bufs2[] = {0, 0, 0, 12};
  int32_case(nodes2, 1, bufs2, 2, 64, "buffer holds 12 bytes");
  /* metadata and body lengths beyond the limits */
  struct ArrowSchema s;
  int32_schema(&s);
  struct zcp_ipc_buffer b;
  schema_message(&s, &b);
  uint8_t huge[8] = {0xff, 0xff, 0xff, 0xff, 0xf0, 0xff, 0xff, 0x7f};
  append(&b, huge, 8);
  struct zcp_error err = {0};
  int64_t n;
  /* a stream cannot tell a 2 GiB message it was not given from one it will not take: it
   * is refused before anything is read or allocated for it, naming the limit */
  cr_assert_eq(read_stream(&b, &err, &n), ZCP_UNSUPPORTED);
  cr_assert(strstr(err.message, "(max_message_size)") != NULL, "%s", err.message);
  zcp_ipc_buffer_reset(&b);
  schema_message(&s, &b);
  batch_message(&b, 3, nodes2, 1, bufs2, 2, NULL, 64, -1, false, -1);
  cr_assert_eq(read_stream(&b, &err, &n), ZCP_CORRUPT_INPUT);
  cr_assert(strstr(err.message, "truncated") != NULL, "%s", err.message);
  zcp_ipc_buffer_reset(&b);
  zcp_schema_release(&s);
}

Test(ipc_read_batch, rejects_forged_compressed_lengths) {
  struct ArrowSchema s;
  int32_schema(&s);
  struct zcp_ipc_buffer b;
  struct zcp_error err = {0};
  int64_t n;
  for (int codec = 0; codec < 2; codec++) {
    schema_message(&s, &b);
    /* 8-byte prefix announcing 2^40 bytes, then junk instead of a frame */
    uint8_t body[64] = {0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
    int64_t nodes[] = {3, 0}, bufs[] = {0, 0, 0, 24};
    batch_message(&b, 3, nodes, 1, bufs, 2, body, 64, -1, false, codec);
    cr_assert_eq(read_stream(&b, &err, &n), ZCP_CORRUPT_INPUT, "%s", err.message);
    zcp_ipc_buffer_reset(&b);
  }
  zcp_schema_release(&s);
}

/* utf8 dictionary body: offsets at 0, data at 64. */
static void utf8_dict_message(struct zcp_ipc_buffer *b, const char *const *v, int n,
                              bool delta) {
  uint8_t body[128] = {0};
  int32_t off = 0;
  memcpy(body, &off, 4);
  for (int i = 0; i < n; i++) {
    memcpy(body + 64 + off, v[i], strlen(v[i]));
    off += (int32_t)strlen(v[i]);
    memcpy(body + 4 * (i + 1), &off, 4);
  }
  int64_t nodes[] = {n, 0}, bufs[] = {0, 0, 0, 4 * (n + 1), 64, off};
  batch_message(b, n, nodes, 1, bufs, 3, body, 128, 0, delta, -1);
}

static void index_batch_message(struct zcp_ipc_buffer *b, int32_t i0, int32_t i1) {
  uint8_t body[64] = {0};
  memcpy(body, &i0, 4);
  memcpy(body + 4, &i1, 4);
  int64_t nodes[] = {2, 0}, bufs[] = {0, 0, 0, 8};
  batch_message(b, 2, nodes, 1, bufs, 2, body, 64, -1, false, -1);
}

Test(ipc_read_batch, delta_dictionaries_append_and_replacements_replace) {
  struct ArrowSchema s;
  OK(zcp_schema_init("+s", "", 0, 1, &s, NULL));
  OK(zcp_schema_set_format(s.children[0], "i"));
  OK(zcp_schema_set_name(s.children[0], "d"));
  OK(zcp_schema_alloc_dictionary(s.children[0]));
  OK(zcp_schema_init("u", NULL, ARROW_FLAG_NULLABLE, 0, s.children[0]->dictionary, NULL));
  struct zcp_ipc_buffer b;
  schema_message(&s, &b);
  const char *ab[] = {"a", "b"}, *c[] = {"c"}, *xy[] = {"x", "y"};
  utf8_dict_message(&b, ab, 2, false);
  index_batch_message(&b, 0, 1);
  utf8_dict_message(&b, c, 1, true);
  index_batch_message(&b, 2, 0);
  utf8_dict_message(&b, xy, 2, false);
  index_batch_message(&b, 1, 0);
  static const char *want[3][2] = {
      {"\"a\"", "\"b\""}, {"\"c\"", "\"a\""}, {"\"y\"", "\"x\""}};
  struct zcp_error err = {0};
  struct zcp_ipc_memory mem = {b.data, b.size, 0};
  struct zcp_ipc_source src = zcp_ipc_source_memory(&mem);
  struct zcp_ipc_reader *r;
  OKE(zcp_ipc_stream_reader_open(&src, NULL, &r, &err), &err);
  struct ArrowArray kept;
  for (int k = 0; k < 3; k++) {
    struct ArrowArray a;
    OKE(zcp_ipc_reader_next(r, &a, &err), &err);
    cr_assert_not_null(a.release);
    struct zcp_array_view v;
    OKE(zcp_array_view_init(&a, zcp_ipc_reader_schema(r), &v, &err), &err);
    for (int i = 0; i < 2; i++) {
      char buf[64];
      zcp_array_view_format(&v.children[0], i, buf, sizeof buf);
      cr_assert_str_eq(buf, want[k][i], "batch %d row %d", k, i);
    }
    zcp_array_view_reset(&v);
    if (k == 1) {
      zcp_array_move(&a, &kept); /* outlives the replacement of its dictionary */
    } else {
      zcp_array_release(&a);
    }
  }
  cr_assert_eq(kept.children[0]->dictionary->length, 3);
  zcp_array_release(&kept);
  zcp_ipc_reader_close(r);
  zcp_ipc_buffer_reset(&b);
  zcp_schema_release(&s);
}

Test(ipc_read_batch, rejects_indices_before_their_dictionary) {
  struct ArrowSchema s;
  OK(zcp_schema_init("+s", "", 0, 1, &s, NULL));
  OK(zcp_schema_set_format(s.children[0], "i"));
  OK(zcp_schema_alloc_dictionary(s.children[0]));
  OK(zcp_schema_init("u", NULL, ARROW_FLAG_NULLABLE, 0, s.children[0]->dictionary, NULL));
  struct zcp_ipc_buffer b;
  schema_message(&s, &b);
  index_batch_message(&b, 0, 0);
  struct zcp_error err = {0};
  int64_t n;
  cr_assert_eq(read_stream(&b, &err, &n), ZCP_CORRUPT_INPUT);
  cr_assert(strstr(err.message, "not sent") != NULL, "%s", err.message);
  zcp_ipc_buffer_reset(&b);
  /* an index past the end of the dictionary fails full validation */
  schema_message(&s, &b);
  const char *ab[] = {"a", "b"};
  utf8_dict_message(&b, ab, 2, false);
  index_batch_message(&b, 0, 2);
  cr_assert_eq(read_stream(&b, &err, &n), ZCP_CORRUPT_INPUT);
  zcp_ipc_buffer_reset(&b);
  zcp_schema_release(&s);
}

Test(ipc_read_batch, an_all_null_column_may_come_before_its_dictionary) {
  /* Columnar.rst, IPC streaming format: "the dictionary for the encoded column might
   * appear after the first record batch" when that batch's column is all null. */
  struct ArrowSchema s;
  OK(zcp_schema_init("+s", "", 0, 1, &s, NULL));
  OK(zcp_schema_set_child(&s, 0, "i", "d", ARROW_FLAG_NULLABLE, 0, NULL));
  OK(zcp_schema_alloc_dictionary(s.children[0]));
  OK(zcp_schema_init("u", NULL, ARROW_FLAG_NULLABLE, 0, s.children[0]->dictionary, NULL));
  struct zcp_ipc_buffer b;
  schema_message(&s, &b);
  uint8_t body[64] = {0}; /* validity 0b00: both null; indices 0 */
  int64_t nodes[] = {2, 2}, bufs[] = {0, 1, 8, 8};
  batch_message(&b, 2, nodes, 1, bufs, 2, body, 64, -1, false, -1);
  const char *ab[] = {"a", "b"};
  utf8_dict_message(&b, ab, 2, false);
  index_batch_message(&b, 1, 0);
  struct zcp_error err = {0};
  struct zcp_table *t;
  OKE(ipc_read_bytes(b.data, b.size, ZCP_IPC_STREAM, ZCP_IPC_COPY, &t, &err), &err);
  cr_assert_eq(zcp_table_num_batches(t), 2);
  struct zcp_array_view v;
  OKE(zcp_array_view_init(zcp_table_batch(t, 0), zcp_table_schema(t), &v, &err), &err);
  char got[32];
  zcp_array_view_format(&v.children[0], 1, got, sizeof got);
  cr_expect_str_eq(got, "null");
  cr_expect_eq(zcp_table_batch(t, 0)->children[0]->dictionary->length, 0);
  zcp_array_view_reset(&v);
  OKE(zcp_array_view_init(zcp_table_batch(t, 1), zcp_table_schema(t), &v, &err), &err);
  zcp_array_view_format(&v.children[0], 0, got, sizeof got);
  cr_expect_str_eq(got, "\"b\"");
  zcp_array_view_reset(&v);
  zcp_table_release(t);
  zcp_ipc_buffer_reset(&b);
  zcp_schema_release(&s);
}

/* list<int32> dictionary body: offsets at 0, item values at 64. */
static void list_dict_message(struct zcp_ipc_buffer *b, const int32_t *offs, int n,
                              const int32_t *items, bool delta) {
  uint8_t body[128] = {0};
  memcpy(body, offs, 4 * (size_t)(n + 1));
  memcpy(body + 64, items, 4 * (size_t)offs[n]);
  int64_t nodes[] = {n, 0, offs[n], 0};
  int64_t bufs[] = {0, 0, 0, 4 * (n + 1), 64, 0, 64, 4 * offs[n]};
  batch_message(b, n, nodes, 2, bufs, 4, body, 128, 0, delta, -1);
}

Test(ipc_read_batch, delta_dictionaries_of_nested_values) {
  struct ArrowSchema s;
  OK(zcp_schema_init("+s", "", 0, 1, &s, NULL));
  OK(zcp_schema_set_format(s.children[0], "s"));
  OK(zcp_schema_alloc_dictionary(s.children[0]));
  OK(zcp_schema_init("+l", NULL, ARROW_FLAG_NULLABLE, 1, s.children[0]->dictionary,
                     NULL));
  OK(zcp_schema_set_format(s.children[0]->dictionary->children[0], "i"));
  struct zcp_ipc_buffer b;
  schema_message(&s, &b);
  int32_t o1[] = {0, 2, 3}, i1[] = {1, 2, 3}, o2[] = {0, 1}, i2[] = {4};
  list_dict_message(&b, o1, 2, i1, false);
  list_dict_message(&b, o2, 1, i2, true);
  uint8_t body[64] = {2, 0, 0, 0};
  int64_t nodes[] = {2, 0}, bufs[] = {0, 0, 0, 4};
  batch_message(&b, 2, nodes, 1, bufs, 2, body, 64, -1, false, -1);
  struct zcp_error err = {0};
  struct zcp_table *t;
  OKE(ipc_read_bytes(b.data, b.size, ZCP_IPC_STREAM, ZCP_IPC_COPY, &t, &err), &err);
  struct zcp_array_view v;
  OKE(zcp_array_view_init(zcp_table_batch(t, 0), zcp_table_schema(t), &v, &err), &err);
  char buf[64];
  zcp_array_view_format(&v.children[0], 0, buf, sizeof buf);
  cr_assert_str_eq(buf, "[4]");
  zcp_array_view_format(&v.children[0], 1, buf, sizeof buf);
  cr_assert_str_eq(buf, "[1, 2]");
  zcp_array_view_reset(&v);
  zcp_table_release(t);
  zcp_ipc_buffer_reset(&b);
  zcp_schema_release(&s);
}

Test(ipc_read_batch, v4_unions_carry_a_validity_buffer) {
  struct ArrowSchema s;
  OK(zcp_schema_init("+s", "", 0, 1, &s, NULL));
  OK(zcp_schema_set_child(&s, 0, "+us:0", "u", 0, 1, NULL));
  OK(zcp_schema_set_format(s.children[0]->children[0], "i"));
  uint8_t body[128] = {0, 0};
  body[64] = 7;
  body[68] = 8;
  int64_t nodes[] = {2, 0, 2, 0};
  int64_t v4[] = {0, 0, 0, 2, 0, 0, 64, 8}, v5[] = {0, 2, 0, 0, 64, 8};
  for (int version = 3; version <= 4; version++) {
    struct zcp_ipc_buffer b;
    schema_message(&s, &b);
    msg_version = version;
    batch_message(&b, 2, nodes, 2, version == 3 ? v4 : v5, version == 3 ? 4 : 3, body,
                  128, -1, false, -1);
    msg_version = 4;
    struct zcp_error err = {0};
    struct zcp_table *t;
    OKE(ipc_read_bytes(b.data, b.size, ZCP_IPC_STREAM, ZCP_IPC_COPY, &t, &err), &err);
    struct zcp_array_view v;
    OKE(zcp_array_view_init(zcp_table_batch(t, 0), zcp_table_schema(t), &v, &err), &err);
    char buf[64];
    zcp_array_view_format(&v.children[0], 1, buf, sizeof buf);
    cr_assert_str_eq(buf, "8");
    zcp_array_view_reset(&v);
    zcp_table_release(t);
    zcp_ipc_buffer_reset(&b);
  }
  zcp_schema_release(&s);
}
