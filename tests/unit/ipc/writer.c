/* IPC writer: round trips of tables with every type through the stream and file
 * formats, compressed and not, sliced, zero-length and empty. */
#include "ipc_test.h"

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
