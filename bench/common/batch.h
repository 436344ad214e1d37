/* Record batches of fixed-width columns for the sharing benchmarks, assembled by hand
 * around buffers the benchmark allocated itself (so that allocation and writing can be
 * timed apart), and zero-copy views of row ranges of such a batch. */
#ifndef ZCP_BENCH_BATCH_H
#define ZCP_BENCH_BATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "zcpool/allocator.h"
#include "zcpool/arrow.h"

#define ZCP_BENCH_MAX_COLUMNS 8

/* Columns of one batch: Arrow format ("l", "c", "S", "L"), name, bytes per value. */
struct zcp_bench_columns {
  int n;
  const char *format[ZCP_BENCH_MAX_COLUMNS];
  const char *name[ZCP_BENCH_MAX_COLUMNS];
  int width[ZCP_BENCH_MAX_COLUMNS];
};

/* The thesis's batch (§5.5): int64, int8, uint16 (11 bytes a row). */
extern const struct zcp_bench_columns zcp_bench_thesis_columns;

/* A "+s" schema over cols. false (message printed) on error. */
bool zcp_bench_schema(const struct zcp_bench_columns *cols, struct ArrowSchema *out);

/* A batch of `rows` rows whose column i is data[i] (no validity buffers). Its release
 * gives the buffers back to alloc (sizes rows * width) unless alloc is NULL (a view).
 * false (message printed) when out of memory. */
bool zcp_bench_batch_wrap(const struct zcp_bench_columns *cols, int64_t rows,
                          void *const *data, struct zcp_allocator *alloc,
                          struct ArrowArray *out);

/* Allocates the columns of `rows` rows through alloc, fills them (column c, row r holds
 * r truncated to its width) and wraps them. false (message printed) on error. */
bool zcp_bench_batch_make(const struct zcp_bench_columns *cols, int64_t rows,
                          struct zcp_allocator *alloc, struct ArrowArray *out);

/* A view of rows [first, first + rows) of a batch made above: the same memory, a release
 * that frees only the view's structs. */
bool zcp_bench_batch_view(const struct zcp_bench_columns *cols,
                          const struct ArrowArray *src, int64_t first, int64_t rows,
                          struct ArrowArray *out);

#endif
