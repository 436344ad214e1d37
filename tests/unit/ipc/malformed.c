/* The readers on bytes that are not what they claim: every prefix of a valid stream and
 * file, every single byte of them changed, bodies that lie about their lengths. The
 * reader may accept a changed byte that still makes a valid stream (a value in a body),
 * but whatever it returns must validate, and whatever it refuses must be refused with
 * ZCP_CORRUPT_INPUT / ZCP_VERSION_MISMATCH / ZCP_IO_ERROR / ZCP_UNSUPPORTED and a message,
 * never a crash or a leak. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "zcp_fixture.h"
#include "zcpool/ipc.h"

static struct zcp_ipc_buffer stream, file;
static int64_t live_before;

static void write_fixture(struct zcp_ipc_buffer *buf, enum zcp_ipc_format format) {
  struct zcp_error err = {0};
  struct zcp_table *t = NULL;
  cr_assert_eq(zcp_fixture_table(6, 3, NULL, &t, &err), ZCP_OK, "%s", err.message);
  struct zcp_ipc_sink sink = zcp_ipc_sink_buffer(buf);
  struct zcp_ipc_writer *w = NULL;
  cr_assert_eq(zcp_ipc_writer_open(format, zcp_table_schema(t), &sink, NULL, &w, &err),
               ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_ipc_writer_write_table(w, t, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_ipc_writer_close(w, &err), ZCP_OK, "%s", err.message);
  zcp_table_release(t);
}

static void setup(void) {
  live_before = zcp_allocator_default_live_bytes();
  write_fixture(&stream, ZCP_IPC_STREAM);
  write_fixture(&file, ZCP_IPC_FILE);
}

static void teardown(void) {
  zcp_ipc_buffer_reset(&stream);
  zcp_ipc_buffer_reset(&file);
}

TestSuite(malformed, .init = setup, .fini = teardown, .timeout = 120);

static bool refusal_kind(zcp_status_t st) {
  return st == ZCP_CORRUPT_INPUT || st == ZCP_VERSION_MISMATCH || st == ZCP_IO_ERROR ||
         st == ZCP_UNSUPPORTED;
}

/* Drains a reader; returns the number of batches and the status that ended it. */
static zcp_status_t drain(struct zcp_ipc_reader *r, int64_t *batches, struct zcp_error *err) {
  const struct ArrowSchema *schema = zcp_ipc_reader_schema(r);
  zcp_status_t st = ZCP_OK;
  *batches = 0;
  for (;;) {
    struct ArrowArray batch;
    st = zcp_ipc_reader_next(r, &batch, err);
    if (st != ZCP_OK || batch.release == NULL) break;
    cr_assert_eq(zcp_array_validate(&batch, schema, ZCP_VALIDATE_FULL, err), ZCP_OK,
                 "reader returned an invalid batch: %s", err->message);
    ++*batches;
    zcp_array_release(&batch);
  }
  zcp_ipc_reader_close(r);
  return st;
}

/* Reads bytes as a stream; returns the status of the first failure (ZCP_OK if none). */
static zcp_status_t read_stream(const uint8_t *data, int64_t size, int64_t *batches,
                                struct zcp_error *err) {
  struct zcp_ipc_memory mem = {data, size, 0};
  struct zcp_ipc_source src = zcp_ipc_source_memory(&mem);
  struct zcp_ipc_reader *r = NULL;
  *batches = 0;
  zcp_status_t st = zcp_ipc_stream_reader_open(&src, NULL, &r, err);
  return st != ZCP_OK ? st : drain(r, batches, err);
}

static zcp_status_t read_file(const uint8_t *data, int64_t size, int64_t *batches,
                              struct zcp_error *err) {
  struct zcp_ipc_reader *r = NULL;
  *batches = 0;
  zcp_status_t st = zcp_ipc_file_reader_open(data, size, ZCP_IPC_COPY, NULL, &r, err);
  return st != ZCP_OK ? st : drain(r, batches, err);
}

Test(malformed, the_untouched_fixture_reads_as_two_batches) {
  struct zcp_error err = {0};
  int64_t n;
  cr_assert_eq(read_stream(stream.data, stream.size, &n, &err), ZCP_OK, "%s", err.message);
  cr_expect_eq(n, 2);
  cr_assert_eq(read_file(file.data, file.size, &n, &err), ZCP_OK, "%s", err.message);
  cr_expect_eq(n, 2);
}

Test(malformed, every_truncation_of_a_stream_is_refused_with_a_message) {
  for (int64_t cut = 0; cut < stream.size; cut++) {
    /* An exact-size copy so that a read past the end is an ASan report. */
    uint8_t *copy = malloc(cut > 0 ? (size_t)cut : 1);
    memcpy(copy, stream.data, (size_t)cut);
    struct zcp_error err = {0};
    int64_t n;
    zcp_status_t st = read_stream(copy, cut, &n, &err);
    free(copy);
    /* A cut exactly between messages is a stream without its end marker: readers may
     * accept it as ended (Arrow's own do); anything else must be refused. */
    if (st == ZCP_OK) continue;
    cr_assert(refusal_kind(st), "cut at %lld: status %s", (long long)cut, zcp_status_str(st));
    cr_assert_neq(err.message[0], 0, "cut at %lld: no message", (long long)cut);
  }
  cr_expect_eq(zcp_allocator_default_live_bytes(), live_before);
}

Test(malformed, every_truncation_of_a_file_is_refused) {
  for (int64_t cut = 0; cut < file.size; cut++) {
    uint8_t *copy = malloc(cut > 0 ? (size_t)cut : 1);
    memcpy(copy, file.data, (size_t)cut);
    struct zcp_error err = {0};
    int64_t n;
    zcp_status_t st = read_file(copy, cut, &n, &err);
    free(copy);
    cr_assert(refusal_kind(st), "cut at %lld of %lld: %s", (long long)cut,
              (long long)file.size, zcp_status_str(st));
    cr_assert_neq(err.message[0], 0);
  }
}

/* Every byte of the input xor-ed with each mask, one at a time. */
static void flip_every_byte(const struct zcp_ipc_buffer *buf,
                            zcp_status_t (*read)(const uint8_t *, int64_t, int64_t *,
                                                 struct zcp_error *)) {
  const uint8_t masks[] = {0x01, 0xff};
  uint8_t *copy = malloc((size_t)buf->size);
  int64_t accepted = 0, refused = 0;
  for (int64_t pos = 0; pos < buf->size; pos++) {
    for (size_t m = 0; m < sizeof masks; m++) {
      memcpy(copy, buf->data, (size_t)buf->size);
      copy[pos] ^= masks[m];
      struct zcp_error err = {0};
      int64_t n;
      zcp_status_t st = read(copy, buf->size, &n, &err);
      if (st == ZCP_OK) {
        accepted++;
        continue;
      }
      refused++;
      cr_assert(refusal_kind(st) || st == ZCP_OUT_OF_MEMORY, "byte %lld ^ 0x%02x: %s: %s",
                (long long)pos, masks[m], zcp_status_str(st), err.message);
      cr_assert_neq(err.message[0], 0, "byte %lld ^ 0x%02x: no message", (long long)pos,
                    masks[m]);
    }
  }
  free(copy);
  cr_log_info("%lld changed inputs accepted (values in bodies), %lld refused",
              (long long)accepted, (long long)refused);
  cr_expect_gt(refused, 0);
  cr_expect_eq(zcp_allocator_default_live_bytes(), live_before, "leak after refusals");
}

Test(malformed, every_changed_byte_of_a_stream_is_read_validly_or_refused) {
  flip_every_byte(&stream, read_stream);
}

Test(malformed, every_changed_byte_of_a_file_is_read_validly_or_refused) {
  flip_every_byte(&file, read_file);
}

Test(malformed, garbage_is_refused_naming_the_byte_offset) {
  static const uint8_t junk[64] = {0xff, 0xff, 0xff, 0xff, 0x30, 0, 0, 0, 1, 2, 3, 4};
  struct zcp_error err = {0};
  int64_t n;
  zcp_status_t st = read_stream(junk, sizeof junk, &n, &err);
  cr_expect(refusal_kind(st), "%s", zcp_status_str(st));
  cr_expect(strstr(err.message, "offset") != NULL || strstr(err.message, "byte") != NULL,
            "message does not say where: %s", err.message);
}

Test(malformed, a_stream_is_not_a_file_and_a_file_not_a_stream) {
  struct zcp_error err = {0};
  int64_t n;
  cr_expect(refusal_kind(read_file(stream.data, stream.size, &n, &err)), "stream read as file");
  /* The file starts with its magic: the stream reader must refuse it, not misread it. */
  cr_expect(refusal_kind(read_stream(file.data, file.size, &n, &err)), "file read as stream");
}

Test(malformed, a_message_larger_than_the_limit_is_refused_before_allocating) {
  struct zcp_ipc_read_options opts;
  zcp_ipc_read_options_init(&opts);
  opts.max_message_size = 64;
  struct zcp_ipc_memory mem = {stream.data, stream.size, 0};
  struct zcp_ipc_source src = zcp_ipc_source_memory(&mem);
  struct zcp_ipc_reader *r = NULL;
  struct zcp_error err = {0};
  zcp_status_t st = zcp_ipc_stream_reader_open(&src, &opts, &r, &err);
  if (st == ZCP_OK) {
    int64_t n;
    st = drain(r, &n, &err);
  }
  cr_expect(refusal_kind(st) || st == ZCP_NO_SPACE || st == ZCP_INVALID_ARGUMENT, "%s",
            zcp_status_str(st));
  cr_expect_neq(st, ZCP_OK, "a 64-byte limit let the fixture through");
}
