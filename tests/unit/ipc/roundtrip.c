/* Our writer then our reader, on what the gold files cannot show: batches that are slices
 * (an offset on the record batch, validity bits not starting on a byte, offsets not
 * starting at zero) of every fixture type, plain and compressed; a stream whose
 * dictionary changes between batches; custom metadata of schemas and of each batch's
 * message. Every value is compared through the plain JSON form of both sides. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "arrow_json.h"
#include "zcp_fixture.h"
#include "zcpool/ipc.h"

TestSuite(roundtrip, .timeout = 120);

static void noop_release(struct ArrowArray *a) { a->release = NULL; }

/* A view of rows [offset, offset + length) of batch, sharing its buffers. */
static struct ArrowArray slice_of(const struct ArrowArray *batch, int64_t offset, int64_t length) {
  struct ArrowArray s = *batch;
  s.offset = batch->offset + offset;
  s.length = length;
  s.null_count = -1;
  s.release = noop_release;
  s.private_data = NULL;
  return s;
}

static void write_batches(struct zcp_ipc_buffer *buf, enum zcp_ipc_format format,
                          enum zcp_ipc_compression comp, const struct ArrowSchema *schema,
                          const struct ArrowArray *const *batches, int n, const char *md) {
  struct zcp_ipc_sink sink = zcp_ipc_sink_buffer(buf);
  struct zcp_ipc_write_options opts;
  zcp_ipc_write_options_init(&opts);
  opts.compression = comp;
  opts.custom_metadata = md;
  struct zcp_error err = {0};
  struct zcp_ipc_writer *w = NULL;
  cr_assert_eq(zcp_ipc_writer_open(format, schema, &sink, &opts, &w, &err), ZCP_OK, "%s",
               err.message);
  for (int k = 0; k < n; k++) {
    cr_assert_eq(zcp_ipc_writer_write(w, batches[k], &err), ZCP_OK, "batch %d: %s", k, err.message);
  }
  cr_assert_eq(zcp_ipc_writer_close(w, &err), ZCP_OK, "%s", err.message);
}

static struct zcp_ipc_reader *open_reader(const struct zcp_ipc_buffer *buf,
                                          enum zcp_ipc_format format,
                                          struct zcp_ipc_memory *mem) {
  struct zcp_error err = {0};
  struct zcp_ipc_reader *r = NULL;
  if (format == ZCP_IPC_STREAM) {
    *mem = (struct zcp_ipc_memory){buf->data, buf->size, 0};
    struct zcp_ipc_source src = zcp_ipc_source_memory(mem);
    cr_assert_eq(zcp_ipc_stream_reader_open(&src, NULL, &r, &err), ZCP_OK, "%s",
                 err.message);
  } else {
    cr_assert_eq(
        zcp_ipc_file_reader_open(buf->data, buf->size, ZCP_IPC_COPY, NULL, &r, &err),
        ZCP_OK, "%s", err.message);
  }
  return r;
}

/* Writes batch sliced at [offset, offset + length) and expects the same values back. */
static void expect_slice_round_trips(const struct ArrowSchema *schema,
                                     const struct ArrowArray *batch, int64_t offset,
                                     int64_t length, enum zcp_ipc_format format,
                                     enum zcp_ipc_compression comp) {
  struct zcp_error err = {0};
  struct ArrowArray s = slice_of(batch, offset, length);
  json_t *want = NULL, *got = NULL;
  cr_assert_eq(zcp_json_batch_values(&s, schema, &want, &err), ZCP_OK, "%s", err.message);
  struct zcp_ipc_buffer buf = {0};
  const struct ArrowArray *one[1] = {&s};
  write_batches(&buf, format, comp, schema, one, 1, NULL);
  struct zcp_ipc_memory mem;
  struct zcp_ipc_reader *r = open_reader(&buf, format, &mem);
  struct ArrowArray back;
  cr_assert_eq(zcp_ipc_reader_next(r, &back, &err), ZCP_OK, "offset %lld: %s", (long long)offset,
               err.message);
  cr_assert_not_null(back.release);
  cr_assert_eq(back.length, length);
  cr_assert_eq(zcp_json_batch_values(&back, zcp_ipc_reader_schema(r), &got, &err), ZCP_OK, "%s",
               err.message);
  char where[1024] = "";
  cr_expect(zcp_json_same(want, got, where, sizeof where),
            "slice at %lld of %lld rows (format %d, compression %d) differs at %s",
            (long long)offset, (long long)length, format, comp, where);
  zcp_array_release(&back);
  zcp_ipc_reader_close(r);
  zcp_ipc_buffer_reset(&buf);
  json_decref(want);
  json_decref(got);
}

static void slices_of(zcp_status_t (*schema_fn)(struct ArrowSchema *, struct zcp_error *),
                      struct ArrowArray *batch, int64_t rows) {
  struct ArrowSchema schema;
  struct zcp_error err = {0};
  cr_assert_eq(schema_fn(&schema, &err), ZCP_OK, "%s", err.message);
  const int64_t offsets[] = {0, 1, 3, 7, 8, 9, 13, 31};
  for (size_t k = 0; k < sizeof offsets / sizeof offsets[0]; k++) {
    int64_t len = rows - offsets[k] - (int64_t)k;
    expect_slice_round_trips(&schema, batch, offsets[k], len, ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_NONE);
    expect_slice_round_trips(&schema, batch, offsets[k], len, ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_NONE);
    expect_slice_round_trips(&schema, batch, offsets[k], len, ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_LZ4_FRAME);
    expect_slice_round_trips(&schema, batch, offsets[k], len, ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_ZSTD);
  }
  expect_slice_round_trips(&schema, batch, 5, 0, ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_NONE);
  /* The comparison sees a one-row shift. */
  struct ArrowArray s0 = slice_of(batch, 0, 20), s1 = slice_of(batch, 1, 20);
  json_t *v0 = NULL, *v1 = NULL;
  cr_assert_eq(zcp_json_batch_values(&s0, &schema, &v0, &err), ZCP_OK);
  cr_assert_eq(zcp_json_batch_values(&s1, &schema, &v1, &err), ZCP_OK);
  cr_expect(!zcp_json_same(v0, v1, NULL, 0), "slices at 0 and 1 compare equal");
  json_decref(v0);
  json_decref(v1);
  zcp_schema_release(&schema);
}

Test(roundtrip, slices_of_every_fixture_column_read_back_equal) {
  struct ArrowArray batch;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_fixture_batch(0, 100, NULL, &batch, &err), ZCP_OK, "%s", err.message);
  slices_of(zcp_fixture_schema, &batch, 100);
  zcp_array_release(&batch);
}

Test(roundtrip, slices_of_every_rarer_type_read_back_equal) {
  struct ArrowArray batch;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_fixture_exotic_batch(100, NULL, &batch, &err), ZCP_OK, "%s", err.message);
  slices_of(zcp_fixture_exotic_schema, &batch, 100);
  zcp_array_release(&batch);
}

/* A one-column batch dictionary<int32, utf8> with the given words, indices 0..n-1. */
static void dict_batch(const char *const *words, int n, struct ArrowSchema *schema,
                       struct ArrowArray *out) {
  struct zcp_error err = {0};
  cr_assert_eq(zcp_schema_init("+s", "", 0, 1, schema, &err), ZCP_OK);
  cr_assert_eq(zcp_schema_set_child(schema, 0, "i", "word", ARROW_FLAG_NULLABLE, 0, &err),
               ZCP_OK);
  cr_assert_eq(zcp_schema_alloc_dictionary(schema->children[0]), ZCP_OK);
  cr_assert_eq(zcp_schema_init("u", "", ARROW_FLAG_NULLABLE, 0,
                               schema->children[0]->dictionary, &err),
               ZCP_OK);
  struct zcp_builder *b = NULL;
  cr_assert_eq(zcp_builder_init(schema, NULL, &b, &err), ZCP_OK, "%s", err.message);
  struct zcp_builder *col = zcp_builder_child(b, 0);
  for (int k = 0; k < n; k++) cr_assert_eq(zcp_builder_append_string(zcp_builder_dictionary(col), words[k]), ZCP_OK);
  for (int k = 0; k < n; k++) {
    cr_assert_eq(zcp_builder_append_int(col, n - 1 - k), ZCP_OK);
    cr_assert_eq(zcp_builder_finish_element(b), ZCP_OK);
  }
  cr_assert_eq(zcp_builder_finish(b, out, NULL, &err), ZCP_OK, "%s", err.message);
  zcp_builder_release(b);
}

Test(roundtrip, a_stream_carries_a_replaced_dictionary_to_the_next_batch) {
  const char *first[] = {"apple", "banana", "cherry"}, *second[] = {"xylophone", "yak"};
  struct ArrowSchema schema, schema2;
  struct ArrowArray a, b;
  dict_batch(first, 3, &schema, &a);
  dict_batch(second, 2, &schema2, &b);
  const struct ArrowArray *batches[2] = {&a, &b};
  struct zcp_ipc_buffer buf = {0};
  write_batches(&buf, ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_NONE, &schema, batches, 2, NULL);
  struct zcp_ipc_memory mem;
  struct zcp_ipc_reader *r = open_reader(&buf, ZCP_IPC_STREAM, &mem);
  const char *want[2][3] = {{"cherry", "banana", "apple"}, {"yak", "xylophone", NULL}};
  struct zcp_error err = {0};
  for (int k = 0; k < 2; k++) {
    struct ArrowArray back;
    cr_assert_eq(zcp_ipc_reader_next(r, &back, &err), ZCP_OK, "%s", err.message);
    cr_assert_not_null(back.release, "batch %d missing", k);
    json_t *got = NULL;
    cr_assert_eq(zcp_json_batch_values(&back, zcp_ipc_reader_schema(r), &got, &err), ZCP_OK);
    json_t *words = json_object_get(got, "word");
    for (size_t i = 0; i < json_array_size(words); i++) {
      cr_expect_str_eq(json_string_value(json_array_get(words, i)), want[k][i], "batch %d row %zu", k, i);
    }
    json_decref(got);
    zcp_array_release(&back);
  }
  zcp_ipc_reader_close(r);
  zcp_ipc_buffer_reset(&buf);

  /* The file format cannot replace a dictionary: the writer must say so. */
  struct zcp_ipc_sink sink = zcp_ipc_sink_buffer(&buf);
  struct zcp_ipc_writer *w = NULL;
  cr_assert_eq(zcp_ipc_writer_open(ZCP_IPC_FILE, &schema, &sink, NULL, &w, &err), ZCP_OK);
  cr_assert_eq(zcp_ipc_writer_write(w, &a, &err), ZCP_OK, "%s", err.message);
  zcp_status_t st = zcp_ipc_writer_write(w, &b, &err);
  cr_expect_neq(st, ZCP_OK, "a file accepted a replaced dictionary");
  cr_expect_neq(err.message[0], 0);
  zcp_status_t cst = zcp_ipc_writer_close(w, NULL);
  (void)cst;
  zcp_ipc_buffer_reset(&buf);
  zcp_array_release(&a);
  zcp_array_release(&b);
  zcp_schema_release(&schema);
  zcp_schema_release(&schema2);
}

Test(roundtrip, custom_metadata_reaches_the_reader_in_streams_and_files) {
  struct ArrowSchema schema;
  struct ArrowArray batch;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_fixture_schema(&schema, &err), ZCP_OK);
  cr_assert_eq(zcp_fixture_batch(0, 10, NULL, &batch, &err), ZCP_OK);
  char *md = NULL;
  const char *keys[] = {"written-by"}, *values[] = {"roundtrip test"};
  cr_assert_eq(zcp_metadata_build(1, keys, values, &md), ZCP_OK);
  const struct ArrowArray *one[1] = {&batch};
  for (int format = 0; format < 2; format++) {
    struct zcp_ipc_buffer buf = {0};
    write_batches(&buf, (enum zcp_ipc_format)format, ZCP_IPC_COMPRESSION_NONE, &schema, one, 1, md);
    struct zcp_ipc_memory mem;
    struct zcp_ipc_reader *r = open_reader(&buf, (enum zcp_ipc_format)format, &mem);
    struct zcp_string_view v;
    const char *got = zcp_ipc_reader_metadata(r);
    const char *root = zcp_ipc_reader_schema(r)->metadata;
    cr_expect(zcp_metadata_get(got, "written-by", &v) || zcp_metadata_get(root, "written-by", &v),
              "format %d: custom metadata lost", format);
    cr_expect(zcp_metadata_get(root, "origin", &v) || zcp_metadata_get(got, "origin", &v),
              "format %d: the schema's own metadata lost", format);
    zcp_ipc_reader_close(r);
    zcp_ipc_buffer_reset(&buf);
  }
  free(md);
  zcp_array_release(&batch);
  zcp_schema_release(&schema);
}

/* The value of key in a metadata blob, or "" when absent ("<none>" for no blob). */
static const char *md_value(const char *md, const char *key, char *buf, size_t cap) {
  struct zcp_string_view v;
  if (md == NULL) return "<none>";
  if (!zcp_metadata_get(md, key, &v)) return "";
  snprintf(buf, cap, "%.*s", (int)v.size, v.data);
  return buf;
}

/* Batch k of a reader (next in order, or by index), checking its message metadata. */
static void expect_batch_metadata(struct zcp_ipc_reader *r, int64_t k, bool by_index,
                                  const char *want) {
  struct zcp_error err = {0};
  struct ArrowArray a;
  if (by_index) {
    cr_assert_eq(zcp_ipc_reader_read_batch(r, k, &a, &err), ZCP_OK, "%s", err.message);
  } else {
    cr_assert_eq(zcp_ipc_reader_next(r, &a, &err), ZCP_OK, "%s", err.message);
  }
  cr_assert_not_null(a.release);
  char buf[64];
  cr_expect_str_eq(md_value(zcp_ipc_reader_batch_metadata(r), "batch", buf, sizeof buf), want,
                   "batch %lld", (long long)k);
  zcp_array_release(&a);
}

Test(roundtrip, message_metadata_of_each_batch_is_kept_through_a_round_trip) {
  struct ArrowSchema schema;
  struct ArrowArray batch;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_fixture_schema(&schema, &err), ZCP_OK);
  cr_assert_eq(zcp_fixture_batch(0, 5, NULL, &batch, &err), ZCP_OK);
  char *md0, *md2;
  const char *k0[] = {"batch"}, *v0[] = {"zero"}, *k2[] = {"other", "batch"},
             *v2[] = {"x", "two \xe2\x82\xac"};
  cr_assert_eq(zcp_metadata_build(1, k0, v0, &md0), ZCP_OK);
  cr_assert_eq(zcp_metadata_build(2, k2, v2, &md2), ZCP_OK);
  const char *mds[3] = {md0, NULL, md2}, *want[3] = {"zero", "<none>", "two \xe2\x82\xac"};
  for (int format = 0; format < 2; format++) {
    struct zcp_ipc_buffer buf = {0};
    struct zcp_ipc_sink sink = zcp_ipc_sink_buffer(&buf);
    struct zcp_ipc_writer *w = NULL;
    cr_assert_eq(zcp_ipc_writer_open((enum zcp_ipc_format)format, &schema, &sink, NULL, &w, &err),
                 ZCP_OK, "%s", err.message);
    for (int k = 0; k < 3; k++) {
      cr_assert_eq(zcp_ipc_writer_write_with_metadata(w, &batch, mds[k], &err), ZCP_OK, "%s",
                   err.message);
    }
    cr_assert_eq(zcp_ipc_writer_close(w, &err), ZCP_OK, "%s", err.message);
    struct zcp_ipc_memory mem;
    struct zcp_ipc_reader *r = open_reader(&buf, (enum zcp_ipc_format)format, &mem);
    cr_expect_null(zcp_ipc_reader_batch_metadata(r), "before the first batch");
    char got[64];
    cr_expect_str_eq(md_value(zcp_ipc_reader_metadata(r), "batch", got, sizeof got), "",
                     "the schema has none of the batches' metadata");
    for (int k = 0; k < 3; k++) expect_batch_metadata(r, k, false, want[k]);
    if (format == ZCP_IPC_FILE) { /* random access: each batch its own */
      for (int k = 2; k >= 0; k--) expect_batch_metadata(r, k, true, want[k]);
    }
    zcp_ipc_reader_close(r);

    /* read, written again with what was read, read again: still there */
    r = open_reader(&buf, (enum zcp_ipc_format)format, &mem);
    struct zcp_ipc_buffer again = {0};
    struct zcp_ipc_sink sink2 = zcp_ipc_sink_buffer(&again);
    cr_assert_eq(zcp_ipc_writer_open((enum zcp_ipc_format)format, zcp_ipc_reader_schema(r),
                                     &sink2, NULL, &w, &err),
                 ZCP_OK, "%s", err.message);
    for (;;) {
      struct ArrowArray a;
      cr_assert_eq(zcp_ipc_reader_next(r, &a, &err), ZCP_OK, "%s", err.message);
      if (a.release == NULL) break;
      cr_assert_eq(zcp_ipc_writer_write_with_metadata(w, &a, zcp_ipc_reader_batch_metadata(r),
                                                      &err),
                   ZCP_OK, "%s", err.message);
      zcp_array_release(&a);
    }
    cr_assert_eq(zcp_ipc_writer_close(w, &err), ZCP_OK, "%s", err.message);
    zcp_ipc_reader_close(r);
    struct zcp_ipc_memory mem2;
    r = open_reader(&again, (enum zcp_ipc_format)format, &mem2);
    for (int k = 0; k < 3; k++) expect_batch_metadata(r, k, false, want[k]);
    struct ArrowArray end;
    cr_assert_eq(zcp_ipc_reader_next(r, &end, &err), ZCP_OK);
    cr_assert_null(end.release);
    cr_expect_null(zcp_ipc_reader_batch_metadata(r), "the end has no batch and no metadata");
    zcp_ipc_reader_close(r);
    zcp_ipc_buffer_reset(&again);
    zcp_ipc_buffer_reset(&buf);
  }
  /* malformed metadata is the caller's mistake */
  struct zcp_ipc_buffer buf = {0};
  struct zcp_ipc_sink sink = zcp_ipc_sink_buffer(&buf);
  struct zcp_ipc_writer *w = NULL;
  cr_assert_eq(zcp_ipc_writer_open(ZCP_IPC_STREAM, &schema, &sink, NULL, &w, &err), ZCP_OK);
  int32_t bad[2] = {-1, 0};
  cr_assert_eq(zcp_ipc_writer_write_with_metadata(w, &batch, (const char *)bad, &err),
               ZCP_INVALID_ARGUMENT);
  cr_expect(strstr(err.message, "batch metadata is malformed") != NULL, "%s", err.message);
  cr_assert_eq(zcp_ipc_writer_close(w, &err), ZCP_OK);
  zcp_ipc_buffer_reset(&buf);
  free(md0);
  free(md2);
  zcp_array_release(&batch);
  zcp_schema_release(&schema);
}

Test(roundtrip, canonical_extension_types_keep_their_metadata_and_values) {
  struct ArrowSchema schema;
  struct ArrowArray batch;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_fixture_extension_schema(&schema, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_fixture_extension_batch(150, NULL, &batch, &err), ZCP_OK, "%s", err.message);
  json_t *want = NULL;
  cr_assert_eq(zcp_json_batch_values(&batch, &schema, &want, &err), ZCP_OK, "%s", err.message);
  const struct ArrowArray *one[1] = {&batch};
  for (int format = 0; format < 2; format++) {
    for (int comp = 0; comp < 3; comp++) {
      struct zcp_ipc_buffer buf = {0};
      write_batches(&buf, (enum zcp_ipc_format)format, (enum zcp_ipc_compression)comp, &schema,
                    one, 1, NULL);
      struct zcp_ipc_memory mem;
      struct zcp_ipc_reader *r = open_reader(&buf, (enum zcp_ipc_format)format, &mem);
      const struct ArrowSchema *s = zcp_ipc_reader_schema(r);
      for (int64_t c = 0; c < s->n_children; c++) {
        const char *md = zcp_fixture_extension_metadata((int)c);
        int64_t n = zcp_metadata_size(md);
        cr_assert_eq(zcp_metadata_size(s->children[c]->metadata), n, "column %s",
                     s->children[c]->name);
        cr_expect_eq(memcmp(s->children[c]->metadata, md, (size_t)n), 0, "column %s",
                     s->children[c]->name);
        cr_expect_str_eq(s->children[c]->format, schema.children[c]->format);
      }
      struct ArrowArray back;
      cr_assert_eq(zcp_ipc_reader_next(r, &back, &err), ZCP_OK, "%s", err.message);
      json_t *got = NULL;
      cr_assert_eq(zcp_json_batch_values(&back, s, &got, &err), ZCP_OK, "%s", err.message);
      char where[256] = "";
      cr_expect(zcp_json_same(want, got, where, sizeof where), "format %d codec %d: %s", format,
                comp, where);
      /* the reader's schema prints the extensions as the writer's does */
      struct zcp_array_view v;
      cr_assert_eq(zcp_array_view_init(&back, s, &v, &err), ZCP_OK, "%s", err.message);
      char text[128];
      zcp_array_view_format(&v.children[4], 1, text, sizeof text);
      cr_expect_str_eq(text, "[[10, 11, 12], [13, 14, 15]]");
      zcp_array_view_format(&v.children[3], 2, text, sizeof text);
      cr_expect_str_eq(text, "true");
      zcp_array_view_reset(&v);
      json_decref(got);
      zcp_array_release(&back);
      zcp_ipc_reader_close(r);
      zcp_ipc_buffer_reset(&buf);
    }
  }
  json_decref(want);
  zcp_array_release(&batch);
  zcp_schema_release(&schema);
}

Test(roundtrip, a_file_at_an_unaligned_address_reads_back_equal_in_both_modes) {
  struct ArrowSchema schema;
  struct ArrowArray batch;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_fixture_exotic_schema(&schema, &err), ZCP_OK);
  cr_assert_eq(zcp_fixture_exotic_batch(40, NULL, &batch, &err), ZCP_OK);
  json_t *want = NULL;
  cr_assert_eq(zcp_json_batch_values(&batch, &schema, &want, &err), ZCP_OK);
  struct zcp_ipc_buffer buf = {0};
  const struct ArrowArray *one[1] = {&batch};
  write_batches(&buf, ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_NONE, &schema, one, 1, NULL);
  /* The same bytes one past an aligned address: buffers inside are misaligned. */
  uint8_t *odd = malloc((size_t)buf.size + 1);
  memcpy(odd + 1, buf.data, (size_t)buf.size);
  for (int mode = 0; mode < 2; mode++) {
    struct zcp_ipc_reader *r = NULL;
    zcp_status_t st = zcp_ipc_file_reader_open(
        odd + 1, buf.size, (enum zcp_ipc_file_mode)mode, NULL, &r, &err);
    cr_assert_eq(st, ZCP_OK, "mode %d: %s", mode, err.message);
    struct ArrowArray back;
    cr_assert_eq(zcp_ipc_reader_read_batch(r, 0, &back, &err), ZCP_OK, "mode %d: %s", mode, err.message);
    /* Copies are aligned; zero-copy arrays may keep byte-addressed buffers (bitmaps,
     * bytes, int8) where they are, and UBSan in the sanitizer build checks the rest. */
    for (int64_t i = 0; mode == ZCP_IPC_COPY && i < back.n_children; i++) {
      const struct ArrowArray *c = back.children[i];
      for (int64_t k = 0; k < c->n_buffers; k++) {
        cr_expect((uintptr_t)c->buffers[k] % 8 == 0, "mode %d: column %lld buffer %lld misaligned",
                  mode, (long long)i, (long long)k);
      }
    }
    json_t *got = NULL;
    cr_assert_eq(zcp_json_batch_values(&back, zcp_ipc_reader_schema(r), &got, &err), ZCP_OK);
    char where[1024] = "";
    cr_expect(zcp_json_same(want, got, where, sizeof where), "mode %d differs at %s", mode, where);
    json_decref(got);
    zcp_array_release(&back);
    zcp_ipc_reader_close(r);
  }
  free(odd);
  zcp_ipc_buffer_reset(&buf);
  json_decref(want);
  zcp_array_release(&batch);
  zcp_schema_release(&schema);
}

/* An allocator that counts what it hands out, on top of the default one. */
struct counting {
  struct zcp_allocator base;
  int64_t live, allocations;
};

static zcp_status_t count_alloc(struct zcp_allocator *self, int64_t size,
                                int64_t alignment, void **out, struct zcp_error *err) {
  struct counting *c = (struct counting *)self;
  struct zcp_allocator *heap = zcp_allocator_default();
  zcp_status_t st = heap->allocate(heap, size, alignment, out, err);
  if (st == ZCP_OK) c->live += size, c->allocations++;
  return st;
}

static zcp_status_t count_realloc(struct zcp_allocator *self, void *ptr, int64_t old_size,
                                  int64_t new_size, int64_t alignment, void **out,
                                  struct zcp_error *err) {
  struct counting *c = (struct counting *)self;
  struct zcp_allocator *heap = zcp_allocator_default();
  zcp_status_t st = heap->reallocate(heap, ptr, old_size, new_size, alignment, out, err);
  if (st == ZCP_OK) c->live += new_size - old_size;
  return st;
}

static void count_free(struct zcp_allocator *self, void *ptr, int64_t size) {
  struct counting *c = (struct counting *)self;
  struct zcp_allocator *heap = zcp_allocator_default();
  heap->free(heap, ptr, size);
  c->live -= size;
}

static void progress(void *ctx, int64_t done, int64_t total) {
  int64_t *last = ctx;
  cr_expect_geq(done, last[0], "progress went backwards: %lld after %lld", (long long)done,
                (long long)last[0]);
  last[0] = done;
  last[1] = total;
  last[2]++;
}

Test(roundtrip, batches_read_land_in_the_callers_allocator_and_report_progress) {
  struct zcp_error err = {0};
  struct zcp_table *t = NULL;
  cr_assert_eq(zcp_fixture_table(3000, 1000, NULL, &t, &err), ZCP_OK, "%s", err.message);
  struct zcp_ipc_buffer buf = {0};
  struct zcp_ipc_sink sink = zcp_ipc_sink_buffer(&buf);
  struct zcp_ipc_writer *w = NULL;
  int64_t wprog[3] = {0, 0, 0};
  struct zcp_ipc_write_options wopts;
  zcp_ipc_write_options_init(&wopts);
  wopts.progress = progress;
  wopts.progress_ctx = wprog;
  cr_assert_eq(
      zcp_ipc_writer_open(ZCP_IPC_FILE, zcp_table_schema(t), &sink, &wopts, &w, &err),
      ZCP_OK);
  cr_assert_eq(zcp_ipc_writer_write_table(w, t, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_ipc_writer_close(w, &err), ZCP_OK, "%s", err.message);
  zcp_table_release(t);
  cr_expect_gt(wprog[2], 0, "the writer never reported progress");

  struct counting alloc = {{count_alloc, count_realloc, count_free, 64, NULL}, 0, 0};
  struct zcp_ipc_read_options opts;
  zcp_ipc_read_options_init(&opts);
  opts.alloc = &alloc.base;
  int64_t rprog[3] = {0, 0, 0};
  opts.progress = progress;
  opts.progress_ctx = rprog;
  int64_t heap_before = zcp_allocator_default_live_bytes();
  struct zcp_ipc_reader *r = NULL;
  cr_assert_eq(
      zcp_ipc_file_reader_open(buf.data, buf.size, ZCP_IPC_COPY, &opts, &r, &err), ZCP_OK,
      "%s", err.message);
  struct zcp_table *back = NULL;
  cr_assert_eq(zcp_ipc_reader_read_table(r, &back, &err), ZCP_OK, "%s", err.message);
  cr_expect_eq(zcp_table_num_rows(back), 3000);
  cr_expect_gt(alloc.allocations, 0, "no buffer came from the caller's allocator");
  /* Every data buffer from ours: the heap's own live bytes grew by what we handed out. */
  cr_expect_eq(zcp_allocator_default_live_bytes() - heap_before, alloc.live,
               "data buffers taken from the heap behind the caller's allocator");
  cr_expect_gt(rprog[2], 0, "the reader never reported progress");
  zcp_table_release(back);
  cr_expect_eq(alloc.live, 0, "%lld bytes of the caller's allocator not freed", (long long)alloc.live);
  zcp_ipc_buffer_reset(&buf);
}
