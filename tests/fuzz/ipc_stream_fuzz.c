/* libFuzzer target: arbitrary bytes given to the IPC stream reader (and, when they start
 * with the file magic, to the file reader, copied and zero-copy). Whatever the reader
 * accepts must be a valid batch: every value of every column is formatted through the
 * array view getters, which trust validation, so a batch that slipped through
 * validation shows as an out-of-bounds read under AddressSanitizer.
 *
 * Built with clang -fsanitize=fuzzer,address when ZCP_BUILD_FUZZ is on; in every build
 * the same function is linked into a replay driver that CTest runs over the seed corpus
 * and the named regression inputs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zcpool/ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Formats elements of every column: the getters read everything validation vouched for
 * (offsets, views, dictionary indices, union children, runs). Columns that need no bytes
 * per row (null, run-end encoded) can claim billions of rows in a few bytes, so long
 * batches are sampled: the first and last rows and a stride between. */
static void touch_values(const struct ArrowArray *batch, const struct ArrowSchema *schema) {
  struct zcp_array_view view;
  if (zcp_array_view_init(&view, batch, schema, NULL) != ZCP_OK) abort(); /* reader bug */
  char buf[256];
  int64_t n = view.length, stride = n > 4096 ? n / 1024 : 1;
  for (int64_t c = 0; c < view.n_children; c++) {
    for (int64_t i = 0; i < n; i += (i < 1024 || i >= n - 1024) ? 1 : stride) {
      zcp_array_view_format(&view.children[c], view.offset + i, buf, sizeof buf);
    }
  }
  zcp_array_view_reset(&view);
}

static void drain(struct zcp_ipc_reader *r) {
  const struct ArrowSchema *schema = zcp_ipc_reader_schema(r);
  if (zcp_schema_validate(schema, NULL) != ZCP_OK) abort(); /* reader returned junk */
  for (int n = 0; n < 1000; n++) {
    struct ArrowArray batch;
    if (zcp_ipc_reader_next(r, &batch, NULL) != ZCP_OK || batch.release == NULL) break;
    if (zcp_array_validate(&batch, schema, ZCP_VALIDATE_FULL, NULL) != ZCP_OK) abort();
    touch_values(&batch, schema);
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
  if (zcp_ipc_stream_reader_open(&r, &src, &opts, NULL) == ZCP_OK) drain(r);
  if (size >= 6 && memcmp(data, "ARROW1", 6) == 0) {
    for (int mode = 0; mode < 2; mode++) {
      if (zcp_ipc_file_reader_open(&r, data, (int64_t)size, (enum zcp_ipc_file_mode)mode,
                                   &opts, NULL) == ZCP_OK) {
        drain(r);
      }
    }
  }
  return 0;
}
