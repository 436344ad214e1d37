/* IPC writer: round trips of tables with every type through the stream and file
 * formats, compressed and not, sliced, zero-length and empty. */
#include "ipc_test.h"

static void round_trip(struct zcp_table *t, enum zcp_ipc_format f, enum zcp_ipc_compression c,
                       enum zcp_ipc_file_mode mode) {
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
  OKE(zcp_table_init(&t, &s, &err), &err);
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
  OKE(zcp_ipc_writer_open(&w, f, s, &sink, NULL, &err), &err);
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
