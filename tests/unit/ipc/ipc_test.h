/* Helpers shared by the IPC tests: write tables to memory, read them back, and compare
 * batches row by row through their printed values. */
#ifndef ZCP_IPC_TEST_H
#define ZCP_IPC_TEST_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "zcp_fixture.h"
#include "zcpool/ipc.h"

#define OK(expr)                                                     \
  do {                                                               \
    struct zcp_error e_ = {0};                                       \
    (void)e_;                                                        \
    zcp_status_t s_ = (expr);                                        \
    cr_assert_eq(s_, ZCP_OK, "%s -> %s", #expr, zcp_status_str(s_)); \
  } while (0)

#define OKE(expr, err)                                                                   \
  do {                                                                                   \
    zcp_status_t s_ = (expr);                                                            \
    cr_assert_eq(s_, ZCP_OK, "%s -> %s: %s", #expr, zcp_status_str(s_), (err)->message); \
  } while (0)

/* Row i of a against row j of b, for every row of b's length (a shifted by a_first). */
static inline void ipc_expect_same_rows(const struct ArrowArray *a,
                                        const struct ArrowSchema *sa, int64_t a_first,
                                        const struct ArrowArray *b,
                                        const struct ArrowSchema *sb) {
  struct zcp_error err = {0};
  struct zcp_array_view va, vb;
  OKE(zcp_array_view_init(a, sa, &va, &err), &err);
  OKE(zcp_array_view_init(b, sb, &vb, &err), &err);
  cr_assert_eq(va.n_children, vb.n_children);
  for (int64_t c = 0; c < vb.n_children; c++) {
    for (int64_t i = 0; i < b->length; i++) {
      char x[4096], y[4096];
      zcp_array_view_format(&va.children[c], a_first + i, x, sizeof x);
      zcp_array_view_format(&vb.children[c], i, y, sizeof y);
      cr_assert_str_eq(x, y, "column %lld (%s) row %lld", (long long)c,
                       sb->children[c]->name, (long long)i);
    }
  }
  zcp_array_view_reset(&va);
  zcp_array_view_reset(&vb);
}

/* Tables: same schema formats and the same rows. */
static inline void ipc_expect_same_table(const struct zcp_table *a,
                                         const struct zcp_table *b) {
  cr_assert_eq(zcp_table_num_rows(a), zcp_table_num_rows(b));
  cr_assert_eq(zcp_table_num_batches(a), zcp_table_num_batches(b));
  const struct ArrowSchema *sa = zcp_table_schema(a), *sb = zcp_table_schema(b);
  cr_assert_eq(sa->n_children, sb->n_children);
  for (int64_t c = 0; c < sa->n_children; c++) {
    cr_assert_str_eq(sa->children[c]->format, sb->children[c]->format, "column %lld",
                     (long long)c);
    cr_assert_str_eq(sa->children[c]->name, sb->children[c]->name);
  }
  for (int64_t i = 0; i < zcp_table_num_batches(a); i++) {
    ipc_expect_same_rows(zcp_table_batch(a, i), sa, 0, zcp_table_batch(b, i), sb);
  }
}

/* Writes a table to memory in `format`. */
static inline void ipc_write_table(const struct zcp_table *t, enum zcp_ipc_format format,
                                   enum zcp_ipc_compression c,
                                   struct zcp_ipc_buffer *out) {
  struct zcp_error err = {0};
  struct zcp_ipc_write_options o;
  zcp_ipc_write_options_init(&o);
  o.compression = c;
  memset(out, 0, sizeof *out);
  struct zcp_ipc_sink sink = zcp_ipc_sink_buffer(out);
  struct zcp_ipc_writer *w;
  OKE(zcp_ipc_writer_open(format, zcp_table_schema(t), &sink, &o, &w, &err), &err);
  OKE(zcp_ipc_writer_write_table(w, t, &err), &err);
  OKE(zcp_ipc_writer_close(w, &err), &err);
}

/* Reads bytes written in `format` into a table. */
static inline zcp_status_t ipc_read_bytes(const uint8_t *data, int64_t size,
                                          enum zcp_ipc_format format,
                                          enum zcp_ipc_file_mode mode,
                                          struct zcp_table **out, struct zcp_error *err) {
  struct zcp_ipc_reader *r;
  zcp_status_t st;
  if (format == ZCP_IPC_STREAM) {
    struct zcp_ipc_memory mem = {data, size, 0};
    struct zcp_ipc_source src = zcp_ipc_source_memory(&mem);
    st = zcp_ipc_stream_reader_open(&src, NULL, &r, err);
    if (st != ZCP_OK) return st;
    return zcp_ipc_reader_read_table(r, out, err);
  }
  st = zcp_ipc_file_reader_open(data, size, mode, NULL, &r, err);
  if (st != ZCP_OK) return st;
  return zcp_ipc_reader_read_table(r, out, err);
}

#endif
