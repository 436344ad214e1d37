/* IPC reader: the Arrow gold files (every stream and file opens and reads all batches
 * with full validation), zero-copy buffers pointing into the input, hand-made delta
 * dictionaries, and malformed inputs — truncations at every byte, bad magic, offsets
 * past the end, negative lengths, wrong buffer counts, absurd sizes — each of which
 * must give a typed error without crashing or leaking; and valid messages this reader
 * does not implement (tensors, newer message types and codecs, messages over the
 * caller's limit), which are unsupported, not corrupt. */
#define _GNU_SOURCE 1
#include <dirent.h>
#include <stdio.h>
#include <unistd.h>

#include "ipc_messages.h"

static const char *gold_dir(char *buf, size_t cap) {
  const char *env = getenv("ZCP_ARROW_TESTING");
  if (env != NULL && env[0] != '\0') return env;
  const char *src = getenv("ZCP_SOURCE_DIR");
  snprintf(buf, cap, "%s/../shared/arrow-testing", src ? src : ".");
  return buf;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static uint8_t *slurp(const char *path, int64_t *size) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "open %s", path);
  fseek(f, 0, SEEK_END);
  *size = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *p = malloc((size_t)*size + 1);
  cr_assert_eq(fread(p, 1, (size_t)*size, f), (size_t)*size);
  fclose(f);
  return p;
}

static int64_t read_all(struct zcp_ipc_reader *r, const char *path) {
  struct zcp_error err = {0};
  int64_t batches = 0;
  for (;;) {
    struct ArrowArray a;
    zcp_status_t st = zcp_ipc_reader_next(r, &a, &err);
    cr_assert_eq(st, ZCP_OK, "%s: %s", path, err.message);
    if (a.release == NULL) break;
    OKE(zcp_array_validate(&a, zcp_ipc_reader_schema(r), ZCP_VALIDATE_FULL, &err), &err);
    zcp_array_release(&a);
    batches++;
  }
  zcp_ipc_reader_close(r);
  return batches;
}

Test(ipc_reader, gold_files_read_with_full_validation) {
  char buf[4096];
  const char *dir = gold_dir(buf, sizeof buf);
  DIR *d = opendir(dir);
  if (d == NULL) {
    cr_skip_test("Arrow gold files not found (set ZCP_ARROW_TESTING)");
  }
  struct dirent *e;
  int files = 0;
  while ((e = readdir(d)) != NULL) {
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    struct zcp_error err = {0};
    struct zcp_ipc_reader *r;
    if (ends_with(e->d_name, ".stream")) {
      int64_t size;
      uint8_t *data = slurp(path, &size);
      struct zcp_ipc_memory mem = {data, size, 0};
      struct zcp_ipc_source src = zcp_ipc_source_memory(&mem);
      zcp_status_t st = zcp_ipc_stream_reader_open(&src, NULL, &r, &err);
      cr_assert_eq(st, ZCP_OK, "%s: %s", path, err.message);
      cr_log_info("%s: %lld batches", e->d_name, (long long)read_all(r, path));
      free(data);
      files++;
    } else if (ends_with(e->d_name, ".arrow_file")) {
      for (int mode = 0; mode < 2; mode++) {
        zcp_status_t st = zcp_ipc_file_reader_open_path(path, mode, NULL, &r, &err);
        cr_assert_eq(st, ZCP_OK, "%s: %s", path, err.message);
        int64_t n = zcp_ipc_reader_num_batches(r);
        cr_assert_eq(read_all(r, path), n);
      }
      files++;
    }
  }
  closedir(d);
  cr_log_info("%d gold files read", files);
  cr_assert_gt(files, 0);
}

/* ---- malformed input ----------------------------------------------------------------
 */

static struct zcp_ipc_buffer small(enum zcp_ipc_format f, enum zcp_ipc_compression c) {
  struct zcp_table *t;
  struct zcp_error err = {0};
  OKE(zcp_fixture_table(6, 4, NULL, &t, &err), &err);
  struct zcp_ipc_buffer b;
  ipc_write_table(t, f, c, &b);
  zcp_table_release(t);
  return b;
}

static bool typed(zcp_status_t st) {
  return st == ZCP_OK || st == ZCP_CORRUPT_INPUT || st == ZCP_VERSION_MISMATCH ||
         st == ZCP_UNSUPPORTED;
}

/* Reads everything; returns the status and the number of batches. */
static zcp_status_t try_read(const uint8_t *data, int64_t size, enum zcp_ipc_format f,
                             enum zcp_ipc_file_mode mode, int64_t *batches) {
  struct zcp_error err = {0};
  struct zcp_ipc_reader *r;
  zcp_status_t st;
  *batches = 0;
  struct zcp_ipc_memory mem = {data, size, 0};
  if (f == ZCP_IPC_STREAM) {
    struct zcp_ipc_source src = zcp_ipc_source_memory(&mem);
    st = zcp_ipc_stream_reader_open(&src, NULL, &r, &err);
  } else {
    st = zcp_ipc_file_reader_open(data, size, mode, NULL, &r, &err);
  }
  if (st != ZCP_OK) return st;
  for (;;) {
    struct ArrowArray a;
    st = zcp_ipc_reader_next(r, &a, &err);
    if (st != ZCP_OK || a.release == NULL) break;
    (*batches)++;
    zcp_array_release(&a);
  }
  zcp_ipc_reader_close(r);
  return st;
}

Test(ipc_reader, truncated_streams_fail_typed_or_end_early) {
  struct zcp_ipc_buffer b = small(ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_NONE);
  int64_t n;
  cr_assert_eq(try_read(b.data, b.size, ZCP_IPC_STREAM, ZCP_IPC_COPY, &n), ZCP_OK);
  cr_assert_eq(n, 2, "%lld batches", (long long)n);
  for (int64_t len = 0; len < b.size; len++) {
    uint8_t *copy = malloc((size_t)len + 1); /* exact size: ASan sees any overread */
    memcpy(copy, b.data, (size_t)len);
    zcp_status_t st = try_read(copy, len, ZCP_IPC_STREAM, ZCP_IPC_COPY, &n);
    cr_assert(st == ZCP_CORRUPT_INPUT || (st == ZCP_OK && n < 2) || len >= b.size - 8,
              "truncated at %lld: %s with %lld batches", (long long)len,
              zcp_status_str(st), (long long)n);
    free(copy);
  }
  zcp_ipc_buffer_reset(&b);
}

Test(ipc_reader, truncated_files_fail_typed) {
  struct zcp_ipc_buffer b = small(ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_NONE);
  int64_t n;
  for (int64_t len = 0; len < b.size; len++) {
    uint8_t *copy = malloc((size_t)len + 1);
    memcpy(copy, b.data, (size_t)len);
    for (int mode = 0; mode < 2; mode++) {
      zcp_status_t st = try_read(copy, len, ZCP_IPC_FILE, mode, &n);
      cr_assert_eq(st, ZCP_CORRUPT_INPUT, "truncated at %lld: %s", (long long)len,
                   zcp_status_str(st));
    }
    free(copy);
  }
  zcp_ipc_buffer_reset(&b);
}

/* Bytes flipped one at a time (every stride-th): whatever it hits, the reader answers
 * with a typed status. */
static void flip_bytes(enum zcp_ipc_format f, enum zcp_ipc_compression c,
                       int64_t stride) {
  struct zcp_ipc_buffer b = small(f, c);
  uint8_t *copy = malloc((size_t)b.size);
  int64_t n;
  for (int64_t i = 0; i < b.size; i += stride) {
    memcpy(copy, b.data, (size_t)b.size);
    copy[i] ^= (uint8_t)(i % 3 == 0 ? 0xff : 0x80 >> (i % 8));
    for (int mode = 0; mode < (f == ZCP_IPC_FILE ? 2 : 1); mode++) {
      zcp_status_t st = try_read(copy, b.size, f, mode, &n);
      cr_assert(typed(st), "byte %lld flipped: %s", (long long)i, zcp_status_str(st));
    }
  }
  free(copy);
  zcp_ipc_buffer_reset(&b);
}

Test(ipc_reader, flipped_bytes_give_typed_errors, .timeout = 600) {
  flip_bytes(ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_NONE, 1);
  flip_bytes(ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_NONE, 1);
  flip_bytes(ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_LZ4_FRAME, 3);
  flip_bytes(ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_ZSTD, 3);
}

Test(ipc_reader, rejects_bad_magic) {
  struct zcp_ipc_buffer b = small(ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_NONE);
  struct zcp_error err = {0};
  struct zcp_ipc_reader *r;
  b.data[0] = 'X';
  cr_assert_eq(zcp_ipc_file_reader_open(b.data, b.size, ZCP_IPC_COPY, NULL, &r, &err),
               ZCP_CORRUPT_INPUT);
  cr_assert(strstr(err.message, "magic") != NULL, "%s", err.message);
  b.data[0] = 'A';
  b.data[b.size - 1] = 0;
  cr_assert_eq(zcp_ipc_file_reader_open(b.data, b.size, ZCP_IPC_COPY, NULL, &r, &err),
               ZCP_CORRUPT_INPUT);
  /* a stream is not a file, and a file is not a stream */
  zcp_ipc_buffer_reset(&b);
  b = small(ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_NONE);
  cr_assert_eq(zcp_ipc_file_reader_open(b.data, b.size, ZCP_IPC_COPY, NULL, &r, &err),
               ZCP_CORRUPT_INPUT);
  zcp_ipc_buffer_reset(&b);
  b = small(ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_NONE);
  int64_t n;
  cr_assert_eq(try_read(b.data, b.size, ZCP_IPC_STREAM, ZCP_IPC_COPY, &n),
               ZCP_CORRUPT_INPUT);
  zcp_ipc_buffer_reset(&b);
}

Test(ipc_reader, reads_the_legacy_framing_without_continuation_markers) {
  struct zcp_ipc_buffer b = small(ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_NONE);
  struct zcp_ipc_buffer legacy = {0};
  struct zcp_ipc_sink sink = zcp_ipc_sink_buffer(&legacy);
  int64_t pos = 0, messages = 0;
  while (pos < b.size) {
    int32_t len;
    memcpy(&len, b.data + pos + 4, 4);
    OK(sink.write(sink.ctx, b.data + pos + 4, 4, NULL));
    if (len == 0) break;
    /* body length: field 3 of the Message table, read through the flatbuffer reader */
    const uint8_t *meta = b.data + pos + 8;
    uint32_t root;
    memcpy(&root, meta, 4);
    int32_t soff;
    memcpy(&soff, meta + root, 4);
    const uint8_t *vt = meta + root - soff;
    uint16_t vt_size, field;
    memcpy(&vt_size, vt, 2);
    int64_t body = 0;
    if (vt_size > 4 + 2 * 3) {
      memcpy(&field, vt + 4 + 2 * 3, 2);
      if (field) memcpy(&body, meta + root + field, 8);
    }
    OK(sink.write(sink.ctx, meta, len + body, NULL));
    pos += 8 + len + body;
    messages++;
  }
  cr_assert_gt(messages, 2);
  int64_t n;
  cr_assert_eq(try_read(legacy.data, legacy.size, ZCP_IPC_STREAM, ZCP_IPC_COPY, &n),
               ZCP_OK);
  cr_assert_eq(n, 2);
  zcp_ipc_buffer_reset(&legacy);
  zcp_ipc_buffer_reset(&b);
}

/* ---- modes, random access, metadata -------------------------------------------------
 */

static bool inside(const void *p, const struct zcp_ipc_buffer *b) {
  return (const uint8_t *)p >= b->data && (const uint8_t *)p < b->data + b->size;
}

Test(ipc_reader, zero_copy_points_into_the_input_and_copy_does_not) {
  struct zcp_ipc_buffer b = small(ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_NONE);
  struct zcp_error err = {0};
  for (int mode = 0; mode < 2; mode++) {
    struct zcp_ipc_reader *r;
    OKE(zcp_ipc_file_reader_open(b.data, b.size, mode, NULL, &r, &err), &err);
    cr_assert_eq(zcp_ipc_reader_num_batches(r), 2);
    struct ArrowArray a;
    OKE(zcp_ipc_reader_read_batch(r, 1, &a, &err), &err);
    zcp_ipc_reader_close(r); /* the batch outlives its reader */
    cr_assert_eq(a.length, 2);
    const void *values = a.children[FX_I64]->buffers[1];
    cr_assert_eq(inside(values, &b), mode == ZCP_IPC_ZERO_COPY);
    int64_t v;
    memcpy(&v, values, 8);
    cr_assert_eq(v, fx_i64(4));
    zcp_array_release(&a);
  }
  zcp_ipc_buffer_reset(&b);
}

Test(ipc_reader, mapped_file_lives_as_long_as_its_arrays) {
  struct zcp_ipc_buffer b = small(ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_NONE);
  char path[] = "/tmp/zcp_ipc_XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  cr_assert_eq(write(fd, b.data, (size_t)b.size), b.size);
  close(fd);
  struct zcp_error err = {0};
  struct zcp_ipc_reader *r;
  OKE(zcp_ipc_file_reader_open_path(path, ZCP_IPC_ZERO_COPY, NULL, &r, &err), &err);
  struct ArrowArray a;
  OKE(zcp_ipc_reader_read_batch(r, 0, &a, &err), &err);
  struct ArrowArray none;
  cr_assert_eq(zcp_ipc_reader_read_batch(r, 2, &none, &err), ZCP_NOT_FOUND);
  zcp_ipc_reader_close(r);
  unlink(path);
  char buf[64];
  struct zcp_array_view v;
  struct ArrowSchema s;
  OKE(zcp_fixture_schema(&s, &err), &err);
  OKE(zcp_array_view_init(&a, &s, &v, &err), &err);
  zcp_array_view_format(&v.children[FX_STR], 2, buf, sizeof buf);
  cr_assert_str_eq(buf, "\"row-2\"");
  zcp_array_view_reset(&v);
  zcp_schema_release(&s);
  zcp_array_release(&a);
  cr_assert_eq(zcp_ipc_file_reader_open_path(path, ZCP_IPC_COPY, NULL, &r, &err),
               ZCP_IO_ERROR);
  zcp_ipc_buffer_reset(&b);
}

Test(ipc_reader, random_access_is_for_files_only) {
  struct zcp_ipc_buffer b = small(ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_NONE);
  struct zcp_error err = {0};
  struct zcp_ipc_memory mem = {b.data, b.size, 0};
  struct zcp_ipc_source src = zcp_ipc_source_memory(&mem);
  struct zcp_ipc_reader *r;
  OKE(zcp_ipc_stream_reader_open(&src, NULL, &r, &err), &err);
  cr_assert_eq(zcp_ipc_reader_num_batches(r), -1);
  struct ArrowArray a;
  cr_assert_eq(zcp_ipc_reader_read_batch(r, 0, &a, &err), ZCP_INVALID_ARGUMENT);
  zcp_ipc_reader_close(r);
  zcp_ipc_buffer_reset(&b);
}

static void count_progress(void *ctx, int64_t done, int64_t total) {
  int64_t *calls = ctx;
  cr_assert_geq(done, 0);
  (*calls)++;
  (void)total;
}

Test(ipc_reader, custom_metadata_and_progress) {
  struct zcp_error err = {0};
  struct ArrowSchema s;
  OKE(zcp_fixture_schema(&s, &err), &err);
  char *md;
  const char *k[] = {"origin"}, *v[] = {"test"};
  OK(zcp_metadata_build(1, k, v, &md));
  OK(zcp_schema_set_metadata(s.children[0], md));
  const char *k2[] = {"writer"}, *v2[] = {"zcpool"};
  char *extra;
  OK(zcp_metadata_build(1, k2, v2, &extra));
  struct zcp_ipc_write_options o;
  zcp_ipc_write_options_init(&o);
  o.custom_metadata = extra;
  int64_t calls = 0;
  o.progress = count_progress;
  o.progress_ctx = &calls;
  struct zcp_ipc_buffer b = {0};
  struct zcp_ipc_sink sink = zcp_ipc_sink_buffer(&b);
  struct zcp_ipc_writer *w;
  OKE(zcp_ipc_writer_open(ZCP_IPC_FILE, &s, &sink, &o, &w, &err), &err);
  struct ArrowArray a;
  OKE(zcp_fixture_batch(0, 3, NULL, &a, &err), &err);
  OKE(zcp_ipc_writer_write(w, &a, &err), &err);
  zcp_array_release(&a);
  OKE(zcp_ipc_writer_close(w, &err), &err);
  cr_assert_geq(calls, 3);
  struct zcp_ipc_reader *r;
  OKE(zcp_ipc_file_reader_open(b.data, b.size, ZCP_IPC_COPY, NULL, &r, &err), &err);
  struct zcp_string_view got;
  cr_assert(zcp_metadata_get(zcp_ipc_reader_metadata(r), "writer", &got));
  cr_assert_eq(got.size, 6);
  cr_assert(
      zcp_metadata_get(zcp_ipc_reader_schema(r)->children[0]->metadata, "origin", &got));
  cr_assert_eq(memcmp(got.data, "test", 4), 0);
  zcp_ipc_reader_close(r);
  free(md);
  free(extra);
  zcp_schema_release(&s);
  zcp_ipc_buffer_reset(&b);
}

Test(ipc_reader, zero_copy_copies_misaligned_buffers) {
  struct zcp_ipc_buffer b = small(ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_NONE);
  uint8_t *odd = malloc((size_t)b.size + 1);
  memcpy(odd + 1, b.data, (size_t)b.size);
  struct zcp_ipc_buffer view = {odd + 1, b.size, b.size};
  struct zcp_error err = {0};
  struct zcp_ipc_reader *r;
  OKE(zcp_ipc_file_reader_open(odd + 1, b.size, ZCP_IPC_ZERO_COPY, NULL, &r, &err), &err);
  struct ArrowArray a;
  OKE(zcp_ipc_reader_read_batch(r, 0, &a, &err), &err);
  const void *values = a.children[FX_I64]->buffers[1];
  cr_assert_not(inside(values, &view));
  cr_assert_eq((uintptr_t)values % 8, 0);
  /* bytes need no alignment: the string data stays in place */
  cr_assert(inside(a.children[FX_STR]->buffers[2], &view));
  int64_t v;
  memcpy(&v, (const int64_t *)values + 3, 8);
  cr_assert_eq(v, fx_i64(3));
  zcp_array_release(&a);
  zcp_ipc_reader_close(r);
  free(odd);
  zcp_ipc_buffer_reset(&b);
}

Test(ipc_reader, file_descriptor_sink_and_source) {
  struct zcp_table *t;
  struct zcp_error err = {0};
  OKE(zcp_fixture_table(30, 7, NULL, &t, &err), &err);
  FILE *tmp = tmpfile();
  int fd = fileno(tmp);
  struct zcp_ipc_sink sink = zcp_ipc_sink_fd(&fd);
  struct zcp_ipc_writer *w;
  OKE(zcp_ipc_writer_open(ZCP_IPC_STREAM, zcp_table_schema(t), &sink, NULL, &w, &err),
      &err);
  OKE(zcp_ipc_writer_write_table(w, t, &err), &err);
  OKE(zcp_ipc_writer_close(w, &err), &err);
  cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
  struct zcp_ipc_source src = zcp_ipc_source_fd(&fd);
  struct zcp_ipc_reader *r;
  int64_t calls = 0;
  struct zcp_ipc_read_options o;
  zcp_ipc_read_options_init(&o);
  o.progress = count_progress;
  o.progress_ctx = &calls;
  OKE(zcp_ipc_stream_reader_open(&src, &o, &r, &err), &err);
  struct zcp_table *back;
  OKE(zcp_ipc_reader_read_table(r, &back, &err), &err);
  ipc_expect_same_table(t, back);
  cr_assert_geq(calls, 5);
  zcp_table_release(back);
  zcp_table_release(t);
  fclose(tmp);
}

/* ---- what this reader refuses, and how ------------------------------------------------ */

/* A stream: a schema of one int32 column "x", then `after` (a message type) with an
 * empty header table, then the end. */
static zcp_status_t read_with_message(uint8_t first, uint8_t after, struct zcp_error *err) {
  struct zcp_fb_builder fb;
  zcp__fb_builder_init(&fb);
  struct zcp_ipc_buffer b = {0};
  if (first != ZCP_FB_HEADER_SCHEMA) {
    msg_finish(&b, &fb, first, msg_empty(&fb), NULL, 0, 0);
  } else {
    zcp_fb_ref field = msg_field(&fb, "x", ZCP_FB_T_INT, msg_int(&fb, 32, true), 0, NULL, 0);
    msg_schema(&b, &fb, &field, 1, NULL, 0);
    msg_finish(&b, &fb, after, msg_empty(&fb), NULL, 0, 0);
  }
  msg_eos(&b);
  zcp__fb_builder_reset(&fb);
  struct zcp_ipc_memory mem;
  struct zcp_ipc_reader *r = NULL;
  zcp_status_t st = msg_open(&b, &mem, &r, err);
  if (st == ZCP_OK) {
    struct ArrowArray a;
    st = zcp_ipc_reader_next(r, &a, err);
    if (st == ZCP_OK) zcp_array_release(&a);
  }
  zcp_ipc_reader_close(r);
  zcp_ipc_buffer_reset(&b);
  return st;
}

Test(ipc_reader, tensor_and_newer_messages_are_unsupported_misplaced_ones_corrupt) {
  struct zcp_error err = {0};
  cr_expect_eq(read_with_message(4, 0, &err), ZCP_UNSUPPORTED);
  cr_expect(strstr(err.message, "message at byte 0 is a Tensor message: tensors are not "
                                "supported") != NULL,
            "%s", err.message);
  cr_expect_eq(read_with_message(ZCP_FB_HEADER_SCHEMA, 5, &err), ZCP_UNSUPPORTED);
  cr_expect(strstr(err.message, "is a SparseTensor message") != NULL, "%s", err.message);
  cr_expect_eq(read_with_message(ZCP_FB_HEADER_SCHEMA, 9, &err), ZCP_UNSUPPORTED);
  cr_expect(strstr(err.message, "MessageHeader type 9, which this reader does not know") != NULL,
            "%s", err.message);
  /* a second schema is not something a newer format could mean: out of place */
  cr_expect_eq(read_with_message(ZCP_FB_HEADER_SCHEMA, ZCP_FB_HEADER_SCHEMA, &err),
               ZCP_CORRUPT_INPUT);
  cr_expect(strstr(err.message, "has type 1 where a batch or a dictionary was expected") != NULL,
            "%s", err.message);
  cr_expect_eq(read_with_message(ZCP_FB_HEADER_BATCH, 0, &err), ZCP_CORRUPT_INPUT);
  cr_expect(strstr(err.message, "where a schema was expected") != NULL, "%s", err.message);
}

Test(ipc_reader, compression_codecs_and_sizes_beyond_the_reader_are_unsupported) {
  struct zcp_error err = {0};
  for (int k = 0; k < 2; k++) {
    struct zcp_fb_builder fb;
    zcp__fb_builder_init(&fb);
    struct zcp_ipc_buffer b = {0};
    zcp_fb_ref field = msg_field(&fb, "x", ZCP_FB_T_INT, msg_int(&fb, 32, true), 0, NULL, 0);
    msg_schema(&b, &fb, &field, 1, NULL, 0);
    uint8_t raw[32] = {0};
    raw[0] = 1; /* FieldNode length 1 */
    zcp_fb_ref nodes = zcp__fb_vector_create(&fb, raw, 1, 16, 8);
    zcp_fb_ref bufs = zcp__fb_vector_create(&fb, raw + 16, 0, 16, 8);
    zcp__fb_table_start(&fb);
    zcp__fb_add_scalar(&fb, 0, 1, k == 0 ? 2 : 0); /* codec: a third one */
    zcp__fb_add_scalar(&fb, 1, 1, k == 0 ? 0 : 1); /* method: a second one */
    zcp_fb_ref comp = zcp__fb_table_end(&fb);
    zcp__fb_table_start(&fb);
    zcp__fb_add_scalar(&fb, ZCP_FB_RB_LENGTH, 8, 1);
    zcp__fb_add_ref(&fb, ZCP_FB_RB_NODES, nodes);
    zcp__fb_add_ref(&fb, ZCP_FB_RB_BUFFERS, bufs);
    zcp__fb_add_ref(&fb, ZCP_FB_RB_COMPRESSION, comp);
    msg_finish(&b, &fb, ZCP_FB_HEADER_BATCH, zcp__fb_table_end(&fb), NULL, 0, 0);
    msg_eos(&b);
    zcp__fb_builder_reset(&fb);
    struct zcp_ipc_memory mem;
    struct zcp_ipc_reader *r = NULL;
    OKE(msg_open(&b, &mem, &r, &err), &err);
    struct ArrowArray a;
    cr_expect_eq(zcp_ipc_reader_next(r, &a, &err), ZCP_UNSUPPORTED);
    cr_expect(strstr(err.message, k == 0 ? "BodyCompression.codec 2 is not supported"
                                         : "BodyCompression.method 1 is not supported") != NULL,
              "%s", err.message);
    zcp_ipc_reader_close(r);
    zcp_ipc_buffer_reset(&b);
  }
  /* a message larger than the caller's limit: valid, but not taken */
  struct zcp_ipc_buffer b = small(ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_NONE);
  struct zcp_ipc_read_options o;
  zcp_ipc_read_options_init(&o);
  o.max_message_size = 100;
  struct zcp_ipc_memory mem = {b.data, b.size, 0};
  struct zcp_ipc_source src = zcp_ipc_source_memory(&mem);
  struct zcp_ipc_reader *r = NULL;
  zcp_status_t st = zcp_ipc_stream_reader_open(&src, &o, &r, &err);
  if (st == ZCP_OK) {
    struct ArrowArray a;
    st = zcp_ipc_reader_next(r, &a, &err);
    zcp_ipc_reader_close(r);
  }
  cr_expect_eq(st, ZCP_UNSUPPORTED, "%s", err.message);
  cr_expect(strstr(err.message, "this reader takes (max_message_size)") != NULL, "%s",
            err.message);
  zcp_ipc_buffer_reset(&b);
}
