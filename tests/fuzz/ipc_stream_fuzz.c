/* libFuzzer target: arbitrary bytes given to the IPC stream reader (and, when they start
 * with the file magic, to the file reader, copied and zero-copy). Whatever the reader
 * accepts must be a valid batch: every value of every column is formatted through the
 * array view getters, which trust validation, so a batch that slipped through
 * validation shows as an out-of-bounds read under AddressSanitizer. Every accepted batch
 * is also written back by our writer and read again, and must keep its values.
 *
 * Built with clang -fsanitize=fuzzer,address when ZCP_BUILD_FUZZ is on; in every build
 * the same function is linked into a replay driver that CTest runs over the seed corpus
 * and the named regression inputs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zcpool/ipc.h"

#include "fuzz_values.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Rows of a batch to look at: all of a short one, the ends and a stride of a long one. */
static int64_t next_row(int64_t i, int64_t n) {
  int64_t stride = n > 4096 ? n / 1024 : 1;
  return i + ((i < 1024 || i >= n - 1024) ? 1 : stride);
}

/* Whatever the reader accepted, the writer must write, and the reader read back with the
 * same values (compared as the printer formats them). */
static void round_trip(const struct ArrowArray *batch, const struct ArrowSchema *schema) {
  struct zcp_ipc_buffer buf = {0};
  struct zcp_ipc_sink sink = zcp_ipc_sink_buffer(&buf);
  struct zcp_ipc_writer *w = NULL;
  struct zcp_error err = {0};
  if (zcp_ipc_writer_open(ZCP_IPC_STREAM, schema, &sink, NULL, &w, &err) != ZCP_OK ||
      zcp_ipc_writer_write(w, batch, &err) != ZCP_OK ||
      zcp_ipc_writer_close(w, &err) != ZCP_OK) {
    fprintf(stderr, "writer refused a batch the reader accepted: %s\n", err.message);
    abort();
  }
  struct zcp_ipc_memory mem = {buf.data, buf.size, 0};
  struct zcp_ipc_source src = zcp_ipc_source_memory(&mem);
  struct zcp_ipc_reader *r = NULL;
  struct ArrowArray back = {0};
  if (zcp_ipc_stream_reader_open(&src, NULL, &r, &err) != ZCP_OK ||
      zcp_ipc_reader_next(r, &back, &err) != ZCP_OK || back.release == NULL) {
    fprintf(stderr, "reader refused what the writer wrote: %s\n", err.message);
    abort();
  }
  struct zcp_array_view a, b;
  if (zcp_array_view_init(batch, schema, &a, NULL) != ZCP_OK ||
      zcp_array_view_init(&back, zcp_ipc_reader_schema(r), &b, NULL) != ZCP_OK ||
      a.length != b.length || a.n_children != b.n_children) {
    abort();
  }
  char x[256], y[256];
  for (int64_t c = 0; c < a.n_children; c++) {
    for (int64_t i = 0; i < a.length; i = next_row(i, a.length)) {
      zcp_array_view_format(&a.children[c], a.offset + i, x, sizeof x);
      zcp_array_view_format(&b.children[c], b.offset + i, y, sizeof y);
      if (strcmp(x, y) != 0) {
        fprintf(stderr, "column %lld row %lld: %s written, %s read back\n", (long long)c,
                (long long)i, x, y);
        abort();
      }
    }
  }
  zcp_array_view_reset(&a);
  zcp_array_view_reset(&b);
  zcp_array_release(&back);
  zcp_ipc_reader_close(r);
  zcp_ipc_buffer_reset(&buf);
}

static void drain(struct zcp_ipc_reader *r) {
  const struct ArrowSchema *schema = zcp_ipc_reader_schema(r);
  if (zcp_schema_validate(schema, NULL) != ZCP_OK) abort(); /* reader returned junk */
  for (int n = 0; n < 1000; n++) {
    struct ArrowArray batch;
    if (zcp_ipc_reader_next(r, &batch, NULL) != ZCP_OK || batch.release == NULL) break;
    if (zcp_array_validate(&batch, schema, ZCP_VALIDATE_FULL, NULL) != ZCP_OK) abort();
    zcp_fuzz_touch_values(&batch, schema);
    round_trip(&batch, schema);
    zcp_array_release(&batch);
  }
  zcp_ipc_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct zcp_ipc_read_options opts;
  zcp_ipc_read_options_init(&opts);
  opts.max_message_size = 16 << 20; /* keep allocation bombs out of the fuzzer's way */
  struct zcp_ipc_memory mem = {data, (int64_t)size, 0};
  struct zcp_ipc_source src = zcp_ipc_source_memory(&mem);
  struct zcp_ipc_reader *r = NULL;
  if (zcp_ipc_stream_reader_open(&src, &opts, &r, NULL) == ZCP_OK) drain(r);
  if (size >= 6 && memcmp(data, "ARROW1", 6) == 0) {
    for (int mode = 0; mode < 2; mode++) {
      if (zcp_ipc_file_reader_open(data, (int64_t)size, (enum zcp_ipc_file_mode)mode,
                                   &opts, &r, NULL) == ZCP_OK) {
        drain(r);
      }
    }
  }
  return 0;
}
