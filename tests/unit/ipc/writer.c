/* IPC writer: round trips of tables with every type through the stream and file
 * formats, compressed and not, sliced, zero-length and empty; dictionaries replaced,
 * extended by deltas, shared by several fields (ids the caller gives), nested in other
 * dictionaries; every message counted in the bytes. */
#include "ipc_messages.h"

static void round_trip(struct zcp_table *t, enum zcp_ipc_format f,
                       enum zcp_ipc_compression c, enum zcp_ipc_file_mode mode) {
  struct zcp_ipc_buffer buf;
  struct zcp_error err = {0};
  ipc_write_table(t, f, c, &buf);
  struct zcp_table *back;
  OKE(ipc_read_bytes(buf.data, buf.size, f, mode, &back, &err), &err);
  ipc_expect_same_table(t, back);
  zcp_table_release(back);
  zcp_ipc_buffer_reset(&buf);
}

static struct zcp_table *fixture(int64_t rows, int64_t batch_rows) {
  struct zcp_table *t;
  struct zcp_error err = {0};
  OKE(zcp_fixture_table(rows, batch_rows, NULL, &t, &err), &err);
  return t;
}

static struct zcp_table *exotic(int64_t rows) {
  struct zcp_error err = {0};
  struct ArrowSchema s;
  struct ArrowArray a;
  struct zcp_table *t;
  OKE(zcp_fixture_exotic_schema(&s, &err), &err);
  OKE(zcp_table_init(&s, &t, &err), &err);
  OKE(zcp_fixture_exotic_batch(rows, NULL, &a, &err), &err);
  OKE(zcp_table_append(t, &a, ZCP_VALIDATE_FULL, &err), &err);
  zcp_schema_release(&s);
  return t;
}

Test(ipc_writer, stream_round_trip_of_every_common_type) {
  struct zcp_table *t = fixture(100, 40);
  round_trip(t, ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_NONE, ZCP_IPC_COPY);
  zcp_table_release(t);
}

Test(ipc_writer, file_round_trip_copy_and_zero_copy) {
  struct zcp_table *t = fixture(100, 40);
  round_trip(t, ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_NONE, ZCP_IPC_COPY);
  round_trip(t, ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_NONE, ZCP_IPC_ZERO_COPY);
  zcp_table_release(t);
}

Test(ipc_writer, rare_types_round_trip) {
  struct zcp_table *t = exotic(50);
  round_trip(t, ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_NONE, ZCP_IPC_COPY);
  round_trip(t, ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_NONE, ZCP_IPC_ZERO_COPY);
  round_trip(t, ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_ZSTD, ZCP_IPC_COPY);
  zcp_table_release(t);
}

Test(ipc_writer, compressed_round_trips) {
  struct zcp_table *t = fixture(500, 200);
  round_trip(t, ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_LZ4_FRAME, ZCP_IPC_COPY);
  round_trip(t, ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_ZSTD, ZCP_IPC_COPY);
  round_trip(t, ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_LZ4_FRAME, ZCP_IPC_ZERO_COPY);
  round_trip(t, ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_ZSTD, ZCP_IPC_COPY);
  zcp_table_release(t);
}

Test(ipc_writer, zero_length_batches_and_no_batches) {
  struct zcp_table *t = fixture(0, 10);
  round_trip(t, ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_NONE, ZCP_IPC_COPY);
  round_trip(t, ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_NONE, ZCP_IPC_COPY);
  zcp_table_release(t);
  struct zcp_error err = {0};
  struct ArrowArray a;
  OKE(zcp_fixture_batch(0, 0, NULL, &a, &err), &err);
  t = fixture(0, 10);
  OKE(zcp_table_append(t, &a, ZCP_VALIDATE_FULL, &err), &err);
  round_trip(t, ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_NONE, ZCP_IPC_COPY);
  round_trip(t, ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_ZSTD, ZCP_IPC_ZERO_COPY);
  zcp_table_release(t);
  t = exotic(0);
  round_trip(t, ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_LZ4_FRAME, ZCP_IPC_COPY);
  zcp_table_release(t);
}

/* A batch whose root has an offset: every column is written from that row on. */
static void sliced(struct zcp_table *t, int64_t first, int64_t n, enum zcp_ipc_format f) {
  struct zcp_error err = {0};
  const struct ArrowSchema *s = zcp_table_schema(t);
  struct ArrowArray slice;
  OKE(zcp_table_export_batch(t, 0, &slice, NULL, &err), &err);
  slice.offset = first;
  slice.length = n;
  struct zcp_ipc_buffer buf = {0};
  struct zcp_ipc_sink sink = zcp_ipc_sink_buffer(&buf);
  struct zcp_ipc_writer *w;
  OKE(zcp_ipc_writer_open(f, s, &sink, NULL, &w, &err), &err);
  OKE(zcp_ipc_writer_write(w, &slice, &err), &err);
  OKE(zcp_ipc_writer_close(w, &err), &err);
  struct zcp_table *back;
  OKE(ipc_read_bytes(buf.data, buf.size, f, ZCP_IPC_COPY, &back, &err), &err);
  cr_assert_eq(zcp_table_num_rows(back), n);
  ipc_expect_same_rows(zcp_table_batch(t, 0), s, first, zcp_table_batch(back, 0),
                       zcp_table_schema(back));
  zcp_table_release(back);
  zcp_ipc_buffer_reset(&buf);
  zcp_array_release(&slice);
}

Test(ipc_writer, slices_with_offsets_are_rebased) {
  struct zcp_table *t = fixture(100, 100);
  sliced(t, 3, 50, ZCP_IPC_STREAM);
  sliced(t, 8, 17, ZCP_IPC_FILE);
  sliced(t, 99, 1, ZCP_IPC_STREAM);
  sliced(t, 5, 0, ZCP_IPC_STREAM);
  zcp_table_release(t);
  t = exotic(60);
  sliced(t, 3, 50, ZCP_IPC_STREAM);
  sliced(t, 13, 20, ZCP_IPC_FILE);
  zcp_table_release(t);
}

/* ---- gold files through the writer ----------------------------------------------------
 */

#include <dirent.h>
#include <stdio.h>

Test(ipc_writer, gold_files_round_trip_through_every_format) {
  const char *env = getenv("ZCP_ARROW_TESTING");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/../shared/arrow-testing",
           getenv("ZCP_SOURCE_DIR") ? getenv("ZCP_SOURCE_DIR") : ".");
  DIR *d = opendir(env && env[0] ? env : dir);
  if (d == NULL) cr_skip_test("Arrow gold files not found (set ZCP_ARROW_TESTING)");
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name);
    if (n < 11 || strcmp(e->d_name + n - 11, ".arrow_file") != 0) continue;
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", env && env[0] ? env : dir, e->d_name);
    struct zcp_error err = {0};
    struct zcp_ipc_reader *r;
    struct zcp_table *t;
    OKE(zcp_ipc_file_reader_open_path(path, ZCP_IPC_COPY, NULL, &r, &err), &err);
    OKE(zcp_ipc_reader_read_table(r, &t, &err), &err);
    cr_log_info("%s: %lld rows", e->d_name, (long long)zcp_table_num_rows(t));
    round_trip(t, ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_NONE, ZCP_IPC_COPY);
    round_trip(t, ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_LZ4_FRAME, ZCP_IPC_ZERO_COPY);
    round_trip(t, ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_ZSTD, ZCP_IPC_COPY);
    zcp_table_release(t);
  }
  closedir(d);
}

/* ---- dictionaries -------------------------------------------------------------------
 */

static void dict_batch(const char *const *values, int n, struct ArrowSchema *schema,
                       struct ArrowArray *out) {
  struct zcp_error err = {0};
  struct zcp_builder *b;
  OKE(zcp_builder_init(schema, NULL, &b, &err), &err);
  struct zcp_builder *col = zcp_builder_child(b, 0);
  struct zcp_builder *dict = zcp_builder_dictionary(col);
  for (int i = 0; i < n; i++) {
    cr_assert_eq(zcp_builder_append_string(dict, values[i]), ZCP_OK);
    cr_assert_eq(zcp_builder_append_int(col, n - 1 - i), ZCP_OK);
    cr_assert_eq(zcp_builder_finish_element(b), ZCP_OK);
  }
  OKE(zcp_builder_finish(b, out, NULL, &err), &err);
  zcp_builder_release(b);
}

static void dict_schema(struct ArrowSchema *s) {
  OK(zcp_schema_init("+s", "", 0, 1, s, NULL));
  OK(zcp_schema_set_format(s->children[0], "s"));
  OK(zcp_schema_set_name(s->children[0], "d"));
  OK(zcp_schema_alloc_dictionary(s->children[0]));
  OK(zcp_schema_init("u", NULL, ARROW_FLAG_NULLABLE, 0, s->children[0]->dictionary,
                     NULL));
}

Test(ipc_writer, stream_replaces_changed_dictionaries_file_refuses_them) {
  struct ArrowSchema s;
  dict_schema(&s);
  const char *v1[] = {"a", "b", "c"}, *v2[] = {"x", "y"};
  struct ArrowArray b1, b2, b3;
  dict_batch(v1, 3, &s, &b1);
  dict_batch(v1, 3, &s, &b3); /* same values, other buffers: not written again */
  dict_batch(v2, 2, &s, &b2);
  struct zcp_error err = {0};
  for (int f = 0; f < 2; f++) {
    struct zcp_ipc_buffer buf = {0};
    struct zcp_ipc_sink sink = zcp_ipc_sink_buffer(&buf);
    struct zcp_ipc_writer *w;
    OKE(zcp_ipc_writer_open(f, &s, &sink, NULL, &w, &err), &err);
    OKE(zcp_ipc_writer_write(w, &b1, &err), &err);
    OKE(zcp_ipc_writer_write(w, &b3, &err), &err);
    zcp_status_t st = zcp_ipc_writer_write(w, &b2, &err);
    if (f == ZCP_IPC_FILE) {
      cr_assert_eq(st, ZCP_INVALID_ARGUMENT);
      cr_assert(strstr(err.message, "dictionary") != NULL, "%s", err.message);
      OKE(zcp_ipc_writer_close(w, &err), &err);
      zcp_ipc_buffer_reset(&buf);
      continue;
    }
    cr_assert_eq(st, ZCP_OK, "%s", err.message);
    OKE(zcp_ipc_writer_close(w, &err), &err);
    struct zcp_table *t;
    OKE(ipc_read_bytes(buf.data, buf.size, f, ZCP_IPC_COPY, &t, &err), &err);
    cr_assert_eq(zcp_table_num_batches(t), 3);
    ipc_expect_same_rows(&b1, &s, 0, zcp_table_batch(t, 0), zcp_table_schema(t));
    ipc_expect_same_rows(&b3, &s, 0, zcp_table_batch(t, 1), zcp_table_schema(t));
    ipc_expect_same_rows(&b2, &s, 0, zcp_table_batch(t, 2), zcp_table_schema(t));
    zcp_table_release(t);
    zcp_ipc_buffer_reset(&buf);
  }
  zcp_array_release(&b1);
  zcp_array_release(&b2);
  zcp_array_release(&b3);
  zcp_schema_release(&s);
}

Test(ipc_writer, rejects_batches_that_do_not_match_the_schema) {
  struct ArrowSchema s;
  dict_schema(&s);
  struct zcp_error err = {0};
  struct ArrowSchema fs;
  OKE(zcp_fixture_schema(&fs, &err), &err);
  struct ArrowArray a;
  OKE(zcp_fixture_batch(0, 3, NULL, &a, &err), &err);
  struct zcp_ipc_buffer buf = {0};
  struct zcp_ipc_sink sink = zcp_ipc_sink_buffer(&buf);
  struct zcp_ipc_writer *w;
  OKE(zcp_ipc_writer_open(ZCP_IPC_STREAM, &s, &sink, NULL, &w, &err), &err);
  cr_assert_neq(zcp_ipc_writer_write(w, &a, &err), ZCP_OK);
  OKE(zcp_ipc_writer_close(w, &err), &err);
  zcp_array_release(&a);
  zcp_schema_release(&fs);
  zcp_schema_release(&s);
  zcp_ipc_buffer_reset(&buf);
}

/* ---- shared dictionaries and deltas ----------------------------------------------------
 */

/* struct<a: dictionary<int32, utf8>, b: dictionary<int8, utf8>>. */
static void two_dict_schema(struct ArrowSchema *s) {
  OK(zcp_schema_init("+s", "", 0, 2, s, NULL));
  const char *idx[2] = {"i", "c"}, *names[2] = {"a", "b"};
  for (int c = 0; c < 2; c++) {
    OK(zcp_schema_set_child(s, c, idx[c], names[c], ARROW_FLAG_NULLABLE, 0, NULL));
    OK(zcp_schema_alloc_dictionary(s->children[c]));
    OK(zcp_schema_init("u", NULL, ARROW_FLAG_NULLABLE, 0, s->children[c]->dictionary, NULL));
  }
}

/* A batch of `rows` rows: column c has dictionary words[c] (n[c] words) and index
 * idx[c][r] (-1: null). */
static void two_dict_batch(const struct ArrowSchema *s, const char *const *const words[2],
                           const int n[2], const int *const idx[2], int rows,
                           struct ArrowArray *out) {
  struct zcp_error err = {0};
  struct zcp_builder *b;
  OKE(zcp_builder_init(s, NULL, &b, &err), &err);
  for (int c = 0; c < 2; c++) {
    struct zcp_builder *d = zcp_builder_dictionary(zcp_builder_child(b, c));
    for (int k = 0; k < n[c]; k++) cr_assert_eq(zcp_builder_append_string(d, words[c][k]), ZCP_OK);
  }
  for (int r = 0; r < rows; r++) {
    for (int c = 0; c < 2; c++) {
      struct zcp_builder *col = zcp_builder_child(b, c);
      cr_assert_eq(idx[c][r] < 0 ? zcp_builder_append_null(col, 1)
                                 : zcp_builder_append_int(col, idx[c][r]),
                   ZCP_OK);
    }
    cr_assert_eq(zcp_builder_finish_element(b), ZCP_OK);
  }
  OKE(zcp_builder_finish(b, out, NULL, &err), &err);
  zcp_builder_release(b);
}

static struct zcp_ipc_writer *open_writer(enum zcp_ipc_format f, const struct ArrowSchema *s,
                                          const struct zcp_ipc_write_options *o,
                                          struct zcp_ipc_buffer *buf) {
  struct zcp_error err = {0};
  memset(buf, 0, sizeof *buf);
  struct zcp_ipc_sink sink = zcp_ipc_sink_buffer(buf);
  struct zcp_ipc_writer *w = NULL;
  OKE(zcp_ipc_writer_open(f, s, &sink, o, &w, &err), &err);
  return w;
}

static void expect_text(const struct ArrowArray *batch, const struct ArrowSchema *s, int col,
                        int row, const char *want) {
  struct zcp_array_view v;
  struct zcp_error err = {0};
  OKE(zcp_array_view_init(batch, s, &v, &err), &err);
  char got[128];
  zcp_array_view_format(&v.children[col], row, got, sizeof got);
  cr_expect_str_eq(got, want, "column %d row %d", col, row);
  zcp_array_view_reset(&v);
}

Test(ipc_writer, fields_given_one_id_share_one_dictionary_written_once) {
  struct ArrowSchema s;
  two_dict_schema(&s);
  const char *const w1[] = {"red", "green", "blue"};
  const char *const *words[2] = {w1, w1};
  const int n[2] = {3, 3}, ia[] = {0, 2, -1}, ib[] = {1, 1, 0};
  const int *idx[2] = {ia, ib};
  struct ArrowArray batch;
  two_dict_batch(&s, words, n, idx, 3, &batch);
  const int64_t ids[] = {5, 5};
  struct zcp_ipc_write_options o;
  zcp_ipc_write_options_init(&o);
  o.dictionary_ids = ids;
  o.n_dictionary_ids = 2;
  struct zcp_error err = {0};
  for (int f = 0; f < 2; f++) {
    struct zcp_ipc_buffer buf;
    struct zcp_ipc_writer *w = open_writer((enum zcp_ipc_format)f, &s, &o, &buf);
    OKE(zcp_ipc_writer_write(w, &batch, &err), &err);
    OKE(zcp_ipc_writer_write(w, &batch, &err), &err);
    OKE(zcp_ipc_writer_close(w, &err), &err);
    cr_expect_eq(msg_count(&buf, f == ZCP_IPC_FILE ? 8 : 0, ZCP_FB_HEADER_DICTIONARY, NULL), 1,
                 "one dictionary message for two fields and two batches");
    struct zcp_ipc_reader *r;
    struct zcp_ipc_memory mem = {buf.data, buf.size, 0}; /* outlives the reader */
    if (f == ZCP_IPC_FILE) {
      OKE(zcp_ipc_file_reader_open(buf.data, buf.size, ZCP_IPC_COPY, NULL, &r, &err), &err);
    } else {
      struct zcp_ipc_source src = zcp_ipc_source_memory(&mem);
      OKE(zcp_ipc_stream_reader_open(&src, NULL, &r, &err), &err);
    }
    int64_t nid;
    const int64_t *got = zcp_ipc_reader_dictionary_ids(r, &nid);
    cr_assert_eq(nid, 2);
    cr_expect(got[0] == 5 && got[1] == 5, "ids %lld %lld", (long long)got[0], (long long)got[1]);
    struct ArrowArray back;
    OKE(zcp_ipc_reader_next(r, &back, &err), &err);
    const struct ArrowSchema *rs = zcp_ipc_reader_schema(r);
    expect_text(&back, rs, 0, 0, "\"red\"");
    expect_text(&back, rs, 0, 1, "\"blue\"");
    expect_text(&back, rs, 0, 2, "null");
    expect_text(&back, rs, 1, 0, "\"green\"");
    expect_text(&back, rs, 1, 2, "\"red\"");
    cr_expect_str_eq(rs->children[1]->format, "c", "index types are the fields' own");
    zcp_array_release(&back);
    zcp_ipc_reader_close(r);
    zcp_ipc_buffer_reset(&buf);
  }
  zcp_array_release(&batch);
  zcp_schema_release(&s);
}

Test(ipc_writer, shared_ids_are_checked_against_the_schema_and_every_batch) {
  struct ArrowSchema s;
  two_dict_schema(&s);
  struct zcp_ipc_write_options o;
  zcp_ipc_write_options_init(&o);
  struct zcp_ipc_buffer buf = {0};
  struct zcp_ipc_sink sink = zcp_ipc_sink_buffer(&buf);
  struct zcp_ipc_writer *w = NULL;
  struct zcp_error err = {0};
  const int64_t one[] = {1}, three[] = {1, 2, 3}, same[] = {0, 0};
  o.dictionary_ids = one;
  o.n_dictionary_ids = 1;
  cr_assert_eq(zcp_ipc_writer_open(ZCP_IPC_STREAM, &s, &sink, &o, &w, &err), ZCP_INVALID_ARGUMENT);
  cr_expect(strstr(err.message, "dictionary_ids lists 1 ids, the schema has more") != NULL, "%s",
            err.message);
  o.dictionary_ids = three;
  o.n_dictionary_ids = 3;
  cr_assert_eq(zcp_ipc_writer_open(ZCP_IPC_STREAM, &s, &sink, &o, &w, &err), ZCP_INVALID_ARGUMENT);
  cr_expect(strstr(err.message, "dictionary_ids lists 3 ids, the schema has 2") != NULL, "%s",
            err.message);
  cr_assert_null(w);
  /* values of other types cannot share */
  OK(zcp_schema_set_format(s.children[1]->dictionary, "l"));
  o.dictionary_ids = same;
  o.n_dictionary_ids = 2;
  cr_assert_eq(zcp_ipc_writer_open(ZCP_IPC_STREAM, &s, &sink, &o, &w, &err), ZCP_INVALID_ARGUMENT);
  cr_expect(strstr(err.message, "fields 'a' and 'b' share dictionary 0 but their values differ "
                                "in type (u and l)") != NULL,
            "%s", err.message);
  OK(zcp_schema_set_format(s.children[1]->dictionary, "u"));
  /* a batch whose two fields bring different dictionaries for the one id */
  const char *const w1[] = {"x", "y"}, *const w2[] = {"x", "z"};
  const char *const *words[2] = {w1, w2};
  const int n[2] = {2, 2}, i0[] = {0, 1};
  const int *idx[2] = {i0, i0};
  struct ArrowArray batch;
  two_dict_batch(&s, words, n, idx, 2, &batch);
  w = open_writer(ZCP_IPC_STREAM, &s, &o, &buf);
  cr_assert_eq(zcp_ipc_writer_write(w, &batch, &err), ZCP_INVALID_ARGUMENT);
  cr_expect(strstr(err.message, "fields 'a' and 'b' share dictionary 0, but this batch gives "
                                "them different dictionaries") != NULL,
            "%s", err.message);
  OKE(zcp_ipc_writer_close(w, &err), &err);
  zcp_ipc_buffer_reset(&buf);
  zcp_array_release(&batch);
  zcp_schema_release(&s);
}

/* One column dictionary<int32, utf8> whose dictionary is words[0..n), rows indexing it
 * from the last word down. */
static void grow_batch(const char *const *words, int n, struct ArrowArray *out,
                       struct ArrowSchema *s) {
  dict_schema(s);
  dict_batch(words, n, s, out);
}

Test(ipc_writer, growing_dictionaries_go_as_deltas_when_asked_in_streams_and_files) {
  const char *words[] = {"a", "b", "c", "d", "e"}, *other[] = {"q", "r"};
  struct ArrowSchema s;
  struct ArrowArray b2, b3, b3again, b5, bq;
  grow_batch(words, 2, &b2, &s);
  zcp_schema_release(&s);
  grow_batch(words, 3, &b3, &s);
  zcp_schema_release(&s);
  grow_batch(words, 3, &b3again, &s);
  zcp_schema_release(&s);
  grow_batch(words, 5, &b5, &s);
  zcp_schema_release(&s);
  grow_batch(other, 2, &bq, &s);
  const struct ArrowArray *seq[] = {&b2, &b3, &b3again, &b5, &bq};
  struct zcp_error err = {0};
  for (int f = 0; f < 2; f++) {
    for (int deltas = 0; deltas < 2; deltas++) {
      struct zcp_ipc_write_options o;
      zcp_ipc_write_options_init(&o);
      o.dictionary_deltas = deltas;
      struct zcp_ipc_buffer buf;
      struct zcp_ipc_writer *w = open_writer((enum zcp_ipc_format)f, &s, &o, &buf);
      int written = 0;
      for (int k = 0; k < 5; k++) {
        zcp_status_t st = zcp_ipc_writer_write(w, seq[k], &err);
        /* a file takes no replacement: without deltas the first growth is one, with
         * deltas only the last batch (other words) is */
        bool refused = f == ZCP_IPC_FILE && (deltas ? k == 4 : k == 1);
        if (refused) {
          cr_assert_eq(st, ZCP_INVALID_ARGUMENT, "file, deltas %d, batch %d", deltas, k);
          cr_expect(strstr(err.message, "cannot replace a dictionary") != NULL, "%s", err.message);
          break;
        }
        cr_assert_eq(st, ZCP_OK, "format %d deltas %d batch %d: %s", f, deltas, k, err.message);
        written++;
      }
      OKE(zcp_ipc_writer_close(w, &err), &err);
      int n_delta;
      int n_dict = msg_count(&buf, f == ZCP_IPC_FILE ? 8 : 0, ZCP_FB_HEADER_DICTIONARY, &n_delta);
      if (f == ZCP_IPC_STREAM) {
        /* first, [growth], [unchanged: nothing], [growth], replacement */
        cr_expect_eq(n_dict, 4, "deltas %d", deltas);
        cr_expect_eq(n_delta, deltas ? 2 : 0);
      } else {
        cr_expect_eq(n_dict, deltas ? 3 : 1);
        cr_expect_eq(n_delta, deltas ? 2 : 0);
      }
      struct zcp_table *t;
      OKE(ipc_read_bytes(buf.data, buf.size, (enum zcp_ipc_format)f, ZCP_IPC_COPY, &t, &err), &err);
      cr_assert_eq(zcp_table_num_batches(t), written);
      for (int k = 0; k < written; k++) {
        ipc_expect_same_rows(seq[k], &s, 0, zcp_table_batch(t, k), zcp_table_schema(t));
      }
      zcp_table_release(t);
      zcp_ipc_buffer_reset(&buf);
    }
  }
  for (int k = 0; k < 5; k++) zcp_array_release((struct ArrowArray *)seq[k]);
  zcp_schema_release(&s);
}

/* struct<outer: dictionary<int8, list<item: dictionary<int16, utf8>>>>: one row per
 * outer value; outer lists `lists` (each a -1 terminated list of inner indices). */
static void nested_dict_batch(const char *const *inner, int n_inner, const int *const *lists,
                              int n_lists, struct ArrowSchema *s, struct ArrowArray *out) {
  struct zcp_error err = {0};
  OK(zcp_schema_init("+s", "", 0, 1, s, NULL));
  OK(zcp_schema_set_child(s, 0, "c", "outer", ARROW_FLAG_NULLABLE, 0, NULL));
  OK(zcp_schema_alloc_dictionary(s->children[0]));
  struct ArrowSchema *lv = s->children[0]->dictionary;
  OK(zcp_schema_init("+l", NULL, ARROW_FLAG_NULLABLE, 1, lv, NULL));
  OK(zcp_schema_set_child(lv, 0, "s", "item", ARROW_FLAG_NULLABLE, 0, NULL));
  OK(zcp_schema_alloc_dictionary(lv->children[0]));
  OK(zcp_schema_init("u", NULL, ARROW_FLAG_NULLABLE, 0, lv->children[0]->dictionary, NULL));
  struct zcp_builder *b;
  OKE(zcp_builder_init(s, NULL, &b, &err), &err);
  struct zcp_builder *outer = zcp_builder_child(b, 0);
  struct zcp_builder *lists_b = zcp_builder_dictionary(outer);
  struct zcp_builder *items = zcp_builder_child(lists_b, 0);
  struct zcp_builder *words = zcp_builder_dictionary(items);
  for (int k = 0; k < n_inner; k++) cr_assert_eq(zcp_builder_append_string(words, inner[k]), ZCP_OK);
  for (int l = 0; l < n_lists; l++) {
    for (const int *p = lists[l]; *p >= 0; p++) cr_assert_eq(zcp_builder_append_int(items, *p), ZCP_OK);
    cr_assert_eq(zcp_builder_finish_element(lists_b), ZCP_OK, "%s", zcp_builder_last_error(b));
  }
  for (int l = 0; l < n_lists; l++) {
    cr_assert_eq(zcp_builder_append_int(outer, l), ZCP_OK);
    cr_assert_eq(zcp_builder_finish_element(b), ZCP_OK);
  }
  OKE(zcp_builder_finish(b, out, NULL, &err), &err);
  zcp_builder_release(b);
}

Test(ipc_writer, a_dictionary_of_dictionary_encoded_values_grows_by_deltas_at_both_levels) {
  const char *inner[] = {"x", "y", "z"};
  const int l0[] = {0, -1}, l1[] = {1, 0, -1}, l2[] = {2, 2, -1};
  const int *lists[] = {l0, l1, l2};
  struct ArrowSchema s, s2, s3;
  struct ArrowArray small, big, same;
  nested_dict_batch(inner, 2, lists, 2, &s, &small); /* inner x y; lists [x] [y x] */
  nested_dict_batch(inner, 3, lists, 3, &s2, &big);  /* inner x y z; + [z z] */
  nested_dict_batch(inner, 3, lists, 3, &s3, &same);
  struct zcp_ipc_write_options o;
  zcp_ipc_write_options_init(&o);
  o.dictionary_deltas = true;
  struct zcp_error err = {0};
  for (int f = 0; f < 2; f++) {
    struct zcp_ipc_buffer buf;
    struct zcp_ipc_writer *w = open_writer((enum zcp_ipc_format)f, &s, &o, &buf);
    OKE(zcp_ipc_writer_write(w, &small, &err), &err);
    OKE(zcp_ipc_writer_write(w, &big, &err), &err);
    OKE(zcp_ipc_writer_write(w, &same, &err), &err);
    OKE(zcp_ipc_writer_close(w, &err), &err);
    int n_delta;
    /* inner and outer whole, then a delta of each; nothing for the third batch */
    cr_expect_eq(msg_count(&buf, f == ZCP_IPC_FILE ? 8 : 0, ZCP_FB_HEADER_DICTIONARY, &n_delta), 4);
    cr_expect_eq(n_delta, 2);
    struct zcp_table *t;
    OKE(ipc_read_bytes(buf.data, buf.size, (enum zcp_ipc_format)f, ZCP_IPC_COPY, &t, &err), &err);
    const struct ArrowSchema *ts = zcp_table_schema(t);
    expect_text(zcp_table_batch(t, 0), ts, 0, 1, "[\"y\", \"x\"]");
    expect_text(zcp_table_batch(t, 1), ts, 0, 2, "[\"z\", \"z\"]");
    expect_text(zcp_table_batch(t, 1), ts, 0, 0, "[\"x\"]");
    ipc_expect_same_rows(&same, &s3, 0, zcp_table_batch(t, 2), ts);
    zcp_table_release(t);
    zcp_ipc_buffer_reset(&buf);
  }
  zcp_array_release(&small);
  zcp_array_release(&big);
  zcp_array_release(&same);
  zcp_schema_release(&s);
  zcp_schema_release(&s2);
  zcp_schema_release(&s3);
}

Test(ipc_writer, a_replaced_nested_dictionary_sends_its_outer_dictionary_again) {
  /* The outer dictionary's indices are the same bytes in both batches, but they point
   * into other words: the reader must get the outer dictionary again, whole. */
  const char *first[] = {"x", "y"}, *second[] = {"p", "q"};
  const int l0[] = {0, -1}, l1[] = {1, -1};
  const int *lists[] = {l0, l1};
  struct ArrowSchema s, s2;
  struct ArrowArray a, b;
  nested_dict_batch(first, 2, lists, 2, &s, &a);
  nested_dict_batch(second, 2, lists, 2, &s2, &b);
  struct zcp_ipc_write_options o;
  zcp_ipc_write_options_init(&o);
  o.dictionary_deltas = true;
  struct zcp_error err = {0};
  struct zcp_ipc_buffer buf;
  struct zcp_ipc_writer *w = open_writer(ZCP_IPC_STREAM, &s, &o, &buf);
  OKE(zcp_ipc_writer_write(w, &a, &err), &err);
  OKE(zcp_ipc_writer_write(w, &b, &err), &err);
  OKE(zcp_ipc_writer_close(w, &err), &err);
  int n_delta;
  cr_expect_eq(msg_count(&buf, 0, ZCP_FB_HEADER_DICTIONARY, &n_delta), 4);
  cr_expect_eq(n_delta, 0);
  struct zcp_table *t;
  OKE(ipc_read_bytes(buf.data, buf.size, ZCP_IPC_STREAM, ZCP_IPC_COPY, &t, &err), &err);
  expect_text(zcp_table_batch(t, 1), zcp_table_schema(t), 0, 1, "[\"q\"]");
  ipc_expect_same_rows(&b, &s2, 0, zcp_table_batch(t, 1), zcp_table_schema(t));
  zcp_table_release(t);
  zcp_ipc_buffer_reset(&buf);
  zcp_array_release(&a);
  zcp_array_release(&b);
  zcp_schema_release(&s);
  zcp_schema_release(&s2);
}
