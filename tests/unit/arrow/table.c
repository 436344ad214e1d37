/* Tables, chunked columns and the C stream: export shares buffers (no copy), exported
 * batches outlive the stream and the table, import validates, producer errors and bad
 * batches come back typed, and everything is freed in the end. Every type goes through
 * export and import back, compared row by row through the printer. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "zcp_fixture.h"

static int64_t live_before;
static void note_live(void) { live_before = zcp_allocator_default_live_bytes(); }
static void check_live(void) {
  cr_expect_eq(zcp_allocator_default_live_bytes(), live_before, "data buffers leaked");
}
TestSuite(table, .init = note_live, .fini = check_live, .timeout = 60);

/* Text of every row of every column of a batch, compared between two batches. */
static void expect_same_values(const struct ArrowArray *a, const struct ArrowArray *b,
                               const struct ArrowSchema *schema) {
  struct zcp_array_view va, vb;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_array_view_init(a, schema, &va, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_array_view_init(b, schema, &vb, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(va.length, vb.length);
  char ta[512], tb[512];
  for (int64_t c = 0; c < va.n_children; c++) {
    for (int64_t r = 0; r < va.length; r++) {
      zcp_array_view_format(&va.children[c], va.offset + r, ta, sizeof ta);
      zcp_array_view_format(&vb.children[c], vb.offset + r, tb, sizeof tb);
      cr_assert_str_eq(ta, tb, "column %s row %lld", schema->children[c]->name, (long long)r);
    }
  }
  zcp_array_view_reset(&va);
  zcp_array_view_reset(&vb);
}

static struct zcp_table *fixture(int64_t rows, int64_t per_batch) {
  struct zcp_table *t = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_fixture_table(rows, per_batch, NULL, &t, &err), ZCP_OK, "%s", err.message);
  return t;
}

Test(table, rejects_schema_that_is_not_a_struct) {
  struct ArrowSchema s;
  struct zcp_error err = {0};
  struct zcp_table *t = NULL;
  cr_assert_eq(zcp_schema_init("i", "x", 0, 0, &s, &err), ZCP_OK);
  cr_expect_eq(zcp_table_init(&s, &t, &err), ZCP_INVALID_ARGUMENT);
  cr_expect(strstr(err.message, "struct") != NULL, "%s", err.message);
  cr_expect_null(t);
  zcp_schema_release(&s);
}

Test(table, counts_rows_batches_and_chunked_columns) {
  struct zcp_table *t = fixture(1000, 300);
  cr_expect_eq(zcp_table_num_rows(t), 1000);
  cr_expect_eq(zcp_table_num_batches(t), 4);
  cr_expect_eq(zcp_table_num_columns(t), FX_NCOLS);
  struct zcp_chunked_column col;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_table_column(t, FX_I32, &col, &err), ZCP_OK);
  cr_expect_str_eq(col.schema->name, "i32");
  cr_expect_eq(col.length, 1000);
  cr_expect_eq(col.n_chunks, 4);
  int64_t total = 0;
  for (int64_t k = 0; k < col.n_chunks; k++) {
    cr_expect_eq(col.chunks[k], zcp_table_batch(t, k)->children[FX_I32]);
    total += col.chunks[k]->length;
  }
  cr_expect_eq(total, 1000);
  cr_expect_eq(zcp_table_column(t, FX_NCOLS, &col, &err), ZCP_NOT_FOUND);
  cr_expect_null(zcp_table_batch(t, 4));
  zcp_table_release(t);
}

Test(table, rejected_batch_stays_with_the_caller) {
  struct zcp_table *t = fixture(10, 10);
  struct ArrowArray batch;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_fixture_batch(10, 20, NULL, &batch, &err), ZCP_OK, "%s", err.message);
  /* Corrupt one offset of the utf8 column: interior offsets must be monotonic. */
  int32_t *offsets = (int32_t *)batch.children[FX_STR]->buffers[1];
  int32_t saved = offsets[5];
  offsets[5] = offsets[6] + 1;
  cr_expect_eq(zcp_table_append(t, &batch, ZCP_VALIDATE_FULL, &err), ZCP_CORRUPT_INPUT);
  cr_expect(strstr(err.message, "'s'") != NULL, "%s", err.message);
  cr_expect(batch.release != NULL, "the table took a batch it rejected");
  cr_expect_eq(zcp_table_num_batches(t), 1);
  offsets[5] = saved;
  cr_expect_eq(zcp_table_append(t, &batch, ZCP_VALIDATE_FULL, &err), ZCP_OK, "%s", err.message);
  cr_expect_null(batch.release);
  cr_expect_eq(zcp_table_num_rows(t), 30);
  zcp_table_release(t);
}

Test(table, rejects_batch_with_wrong_column_count) {
  struct zcp_table *t = fixture(10, 10);
  struct ArrowArray batch;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_fixture_exotic_batch(5, NULL, &batch, &err), ZCP_OK, "%s", err.message);
  cr_expect_eq(zcp_table_append(t, &batch, ZCP_VALIDATE_DEFAULT, &err), ZCP_INVALID_ARGUMENT);
  cr_expect(strstr(err.message, "columns") != NULL, "%s", err.message);
  zcp_array_release(&batch);
  zcp_table_release(t);
}

Test(table, stream_shares_buffers_and_batches_outlive_everything) {
  struct zcp_table *t = fixture(2500, 1000);
  struct ArrowArrayStream stream;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_table_export_stream(t, &stream, &err), ZCP_OK);
  const void *first_values = zcp_table_batch(t, 0)->children[FX_I64]->buffers[1];
  zcp_table_release(t); /* the stream keeps it alive */

  struct ArrowSchema schema;
  cr_assert_eq(stream.get_schema(&stream, &schema), 0);
  cr_expect_str_eq(schema.format, "+s");
  cr_expect_eq(schema.n_children, FX_NCOLS);
  struct ArrowArray batches[3];
  for (int k = 0; k < 3; k++) {
    cr_assert_eq(stream.get_next(&stream, &batches[k]), 0);
    cr_assert_not_null(batches[k].release);
  }
  struct ArrowArray end;
  cr_assert_eq(stream.get_next(&stream, &end), 0);
  cr_expect_null(end.release, "stream did not end after three batches");
  cr_expect_eq(batches[0].children[FX_I64]->buffers[1], first_values,
               "export copied the data");
  cr_expect_eq(batches[2].length, 500);
  stream.release(&stream);
  cr_expect_null(stream.release);

  /* Batches are still readable after the stream and the table are gone. */
  for (int k = 0; k < 3; k++) {
    cr_expect_eq(zcp_array_validate(&batches[k], &schema, ZCP_VALIDATE_FULL, &err), ZCP_OK,
                 "%s", err.message);
    const int64_t *v = batches[k].children[FX_I64]->buffers[1];
    cr_expect_eq(v[batches[k].length - 1], fx_i64(k * 1000 + batches[k].length - 1));
  }
  cr_expect_gt(zcp_allocator_default_live_bytes(), live_before);
  for (int k = 0; k < 3; k++) batches[k].release(&batches[k]);
  schema.release(&schema);
}

Test(table, import_round_trip_keeps_every_value_of_every_type) {
  struct zcp_error err = {0};
  struct ArrowSchema schemas[2];
  struct ArrowArray batches[2];
  cr_assert_eq(zcp_fixture_schema(&schemas[0], &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_fixture_batch(0, 300, NULL, &batches[0], &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_fixture_exotic_schema(&schemas[1], &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_fixture_exotic_batch(300, NULL, &batches[1], &err), ZCP_OK, "%s",
               err.message);
  for (int k = 0; k < 2; k++) {
    cr_assert_eq(zcp_array_validate(&batches[k], &schemas[k], ZCP_VALIDATE_FULL, &err), ZCP_OK,
                 "fixture %d: %s", k, err.message);
    struct zcp_table *t, *back;
    cr_assert_eq(zcp_table_init(&schemas[k], &t, &err), ZCP_OK, "%s", err.message);
    struct ArrowArray copy;
    /* Keep the original for comparison: the table gets a shared copy of it. */
    struct zcp_table *orig;
    cr_assert_eq(zcp_table_init(&schemas[k], &orig, &err), ZCP_OK);
    cr_assert_eq(zcp_table_append(orig, &batches[k], ZCP_VALIDATE_FULL, &err), ZCP_OK);
    cr_assert_eq(zcp_table_export_batch(orig, 0, &copy, NULL, &err), ZCP_OK);
    cr_assert_eq(zcp_table_append(t, &copy, ZCP_VALIDATE_FULL, &err), ZCP_OK, "%s", err.message);
    struct ArrowArrayStream s;
    cr_assert_eq(zcp_table_export_stream(t, &s, &err), ZCP_OK);
    zcp_table_release(t);
    cr_assert_eq(zcp_table_import_stream(&s, ZCP_VALIDATE_FULL, &back, &err), ZCP_OK, "%s",
                 err.message);
    cr_expect_null(s.release, "import must release the stream");
    cr_assert_eq(zcp_table_num_batches(back), 1);
    expect_same_values(zcp_table_batch(orig, 0), zcp_table_batch(back, 0), &schemas[k]);
    zcp_table_release(back);
    zcp_table_release(orig);
    zcp_schema_release(&schemas[k]);
  }
}

/* A producer that fails on its second batch. */
static int bad_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  struct zcp_error err;
  return zcp_fixture_schema(out, &err) == ZCP_OK ? 0 : ENOMEM;
}
static int bad_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  int *calls = s->private_data;
  if ((*calls)++ > 0) return EIO;
  struct zcp_error err;
  return zcp_fixture_batch(0, 10, NULL, out, &err) == ZCP_OK ? 0 : ENOMEM;
}
static const char *bad_error(struct ArrowArrayStream *s) { return "disk on fire"; }
static void bad_release(struct ArrowArrayStream *s) { s->release = NULL; }

Test(table, import_reports_producer_errors_and_releases_the_stream) {
  int calls = 0;
  struct ArrowArrayStream s = {bad_schema, bad_next, bad_error, bad_release, &calls};
  struct zcp_table *t = (struct zcp_table *)1;
  struct zcp_error err = {0};
  cr_expect_eq(zcp_table_import_stream(&s, ZCP_VALIDATE_FULL, &t, &err), ZCP_IO_ERROR);
  cr_expect(strstr(err.message, "disk on fire") != NULL, "%s", err.message);
  cr_expect_null(t);
  cr_expect_null(s.release);
}

Test(table, export_batch_out_of_range_is_not_found) {
  struct zcp_table *t = fixture(10, 10);
  struct ArrowArray a;
  struct zcp_error err = {0};
  cr_expect_eq(zcp_table_export_batch(t, 1, &a, NULL, &err), ZCP_NOT_FOUND);
  cr_expect_eq(zcp_table_export_batch(t, -1, &a, NULL, &err), ZCP_NOT_FOUND);
  zcp_table_release(t);
}
