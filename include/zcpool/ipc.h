/* zcpool — Arrow IPC stream and file formats.
 *
 * The full-copy path: tables serialized with Arrow's own IPC format (the thesis's
 * "SendTableFull" baseline), and the way data gets in and out of zcpool. Reader and
 * writer cover every type of the columnar core, dictionaries (replacements, deltas, ids
 * shared by several fields, dictionaries nested in dictionaries), custom metadata of
 * schemas, fields and batch messages, zero-length batches, streams without batches, and
 * LZ4-frame / ZSTD body compression. A valid stream or file using something this reader
 * does not implement is refused with ZCP_UNSUPPORTED naming it, never as corrupt.
 *
 * A reader never trusts its input: every flatbuffer offset and length is checked against
 * the bytes before it is read, and every array is validated (ZCP_VALIDATE_FULL unless the
 * caller asks for less) before it is returned. Arrays are built through the caller's
 * allocator, so data read from a file or a socket lands directly in the memory the caller
 * chooses; the zero-copy file mode instead returns arrays whose buffers point into the
 * caller's bytes (a memory-mapped file).
 *
 * Format reference: the Arrow columnar format specification, "Serialization and
 * Interprocess Communication (IPC)", and its Schema.fbs / Message.fbs / File.fbs. */
#ifndef ZCPOOL_IPC_H
#define ZCPOOL_IPC_H

#include <stdbool.h>
#include <stdint.h>

#include "zcpool/arrow.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- byte sinks and sources --------------------------------------------------------- */

/* Where a writer's bytes go. write must take all `size` bytes or fail. */
struct zcp_ipc_sink {
  zcp_status_t (*write)(void *ctx, const void *data, int64_t size, struct zcp_error *err);
  void *ctx;
};

/* Where a stream reader's bytes come from. read fills up to `size` bytes and sets *got
 * (0 only at end of input). */
struct zcp_ipc_source {
  zcp_status_t (*read)(void *ctx, void *buf, int64_t size, int64_t *got,
                       struct zcp_error *err);
  void *ctx;
};

/* A file descriptor (file, pipe, socket): writes and reads retry on EINTR and short
 * transfers. The descriptor stays the caller's. */
ZCP_API struct zcp_ipc_sink zcp_ipc_sink_fd(int *fd);
ZCP_API struct zcp_ipc_source zcp_ipc_source_fd(int *fd);

/* A growable heap buffer to write into; data/size are valid after the writer closes and
 * until zcp_ipc_buffer_reset. */
struct zcp_ipc_buffer {
  uint8_t *data;
  int64_t size, capacity;
};
ZCP_API struct zcp_ipc_sink zcp_ipc_sink_buffer(struct zcp_ipc_buffer *buf);
ZCP_API void zcp_ipc_buffer_reset(struct zcp_ipc_buffer *buf);

/* Reads from memory (the bytes must outlive the reader). */
struct zcp_ipc_memory {
  const uint8_t *data;
  int64_t size, pos;
};
ZCP_API struct zcp_ipc_source zcp_ipc_source_memory(struct zcp_ipc_memory *mem);

/* Progress of a long read or write: bytes so far and in all (-1 when unknown). */
typedef void (*zcp_ipc_progress_fn)(void *ctx, int64_t done, int64_t total);

/* ---- writing ------------------------------------------------------------------------- */

enum zcp_ipc_format {
  ZCP_IPC_STREAM = 0, /* messages, then the end-of-stream marker */
  ZCP_IPC_FILE = 1,   /* magic, a stream, a footer indexing every block, magic */
};

enum zcp_ipc_compression {
  ZCP_IPC_COMPRESSION_NONE = 0,
  ZCP_IPC_COMPRESSION_LZ4_FRAME = 1,
  ZCP_IPC_COMPRESSION_ZSTD = 2,
};

struct zcp_ipc_write_options {
  enum zcp_ipc_compression compression;
  /* Metadata blob (C Data Interface encoding) for the file footer's schema / the schema
   * message, on top of the schema's own; NULL for none. */
  const char *custom_metadata;
  zcp_ipc_progress_fn progress;
  void *progress_ctx;
  /* The dictionary id of each dictionary-encoded field of the schema, in pre-order (a
   * field before the fields of its dictionary's values, before its later siblings), as
   * zcp_ipc_reader_dictionary_ids gives them; exactly n_dictionary_ids of them. NULL: 0,
   * 1, 2, ... in that order. Fields given the same id share one dictionary, written once:
   * their values must be laid out alike (formats, nested dictionaries at the same places
   * with the same ids), and every batch must bring them equal dictionaries. */
  const int64_t *dictionary_ids;
  int64_t n_dictionary_ids;
  /* When a dictionary already written has grown (the new one starts with every value of
   * the old one), write only the new values, as a delta DictionaryBatch, instead of the
   * whole dictionary. Streams and files alike: a file may extend a dictionary by deltas,
   * never replace it. Readers before Arrow 1.0 may not know deltas. */
  bool dictionary_deltas;
};
/* Defaults: no compression, no extra metadata, no progress, ids 0, 1, 2, ..., whole
 * dictionaries. */
ZCP_API void zcp_ipc_write_options_init(struct zcp_ipc_write_options *opts);

struct zcp_ipc_writer;

/* Starts writing `format` with schema (a "+s" record batch schema) to sink: writes the
 * schema message (and the file magic). opts may be NULL for defaults. The sink's context
 * must outlive the writer. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_ipc_writer_open(
    enum zcp_ipc_format format, const struct ArrowSchema *schema,
    const struct zcp_ipc_sink *sink, const struct zcp_ipc_write_options *opts,
    struct zcp_ipc_writer **out, struct zcp_error *err);
/* Writes one record batch (dictionary batches first when a dictionary-encoded column has
 * a dictionary not yet written: a new dictionary replaces the old one in a stream, or
 * extends it by a delta when the options allow; in a file a dictionary that is not an
 * extension is an error, as the format requires). The batch stays the caller's. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_ipc_writer_write(struct zcp_ipc_writer *w,
                                                   const struct ArrowArray *batch,
                                                   struct zcp_error *err);
/* Same, with a metadata blob (C Data Interface encoding; NULL for none) as the custom
 * metadata of the batch's message (Message.custom_metadata, which readers give back with
 * zcp_ipc_reader_batch_metadata). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_ipc_writer_write_with_metadata(
    struct zcp_ipc_writer *w, const struct ArrowArray *batch, const char *metadata,
    struct zcp_error *err);
/* Writes every batch of a table. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_ipc_writer_write_table(
    struct zcp_ipc_writer *w, const struct zcp_table *t, struct zcp_error *err);
/* Finishes (end-of-stream marker; file footer and magic) and frees the writer, also on
 * error. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_ipc_writer_close(struct zcp_ipc_writer *w,
                                                           struct zcp_error *err);

/* ---- reading ------------------------------------------------------------------------- */

struct zcp_ipc_read_options {
  struct zcp_allocator *alloc;          /* data buffers; NULL: the heap */
  enum zcp_validate_level validation;   /* default ZCP_VALIDATE_FULL */
  int64_t max_message_size;             /* metadata + body of one message; default 1 GiB
                                           metadata, 64 GiB body */
  zcp_ipc_progress_fn progress;
  void *progress_ctx;
};
ZCP_API void zcp_ipc_read_options_init(struct zcp_ipc_read_options *opts);

struct zcp_ipc_reader;

/* Reads the IPC stream format from source, batch by batch. Reads the schema message at
 * once; ZCP_CORRUPT_INPUT / ZCP_VERSION_MISMATCH / ZCP_IO_ERROR with a message naming the
 * byte offset or field when the input is not a valid stream, ZCP_UNSUPPORTED naming the
 * feature when it is valid but uses one this reader does not implement (a newer type or
 * enum member, tensors, big-endian data, a message over max_message_size, ...). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_ipc_stream_reader_open(
    const struct zcp_ipc_source *src, const struct zcp_ipc_read_options *opts,
    struct zcp_ipc_reader **out, struct zcp_error *err);

enum zcp_ipc_file_mode {
  ZCP_IPC_COPY = 0,      /* bodies are copied into buffers from the allocator */
  ZCP_IPC_ZERO_COPY = 1, /* arrays point into `data` (compressed bodies are still
                            decompressed into allocated buffers); data must outlive every
                            array read, or be a mapping the reader owns (open_path) */
};

/* Reads the IPC file format from bytes in memory, with random access to its batches. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t
zcp_ipc_file_reader_open(const uint8_t *data, int64_t size, enum zcp_ipc_file_mode mode,
                         const struct zcp_ipc_read_options *opts,
                         struct zcp_ipc_reader **out, struct zcp_error *err);
/* Same on a file it maps read-only; in ZERO_COPY mode the mapping lives until the reader
 * and every array read from it are released. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t
zcp_ipc_file_reader_open_path(const char *path, enum zcp_ipc_file_mode mode,
                              const struct zcp_ipc_read_options *opts,
                              struct zcp_ipc_reader **out, struct zcp_error *err);

/* The schema (owned by the reader). */
ZCP_API const struct ArrowSchema *zcp_ipc_reader_schema(const struct zcp_ipc_reader *r);
/* Number of record batches of a file; -1 for a stream. */
ZCP_API int64_t zcp_ipc_reader_num_batches(const struct zcp_ipc_reader *r);
/* Custom metadata of the schema message / footer (NULL if none; owned by the reader). */
ZCP_API const char *zcp_ipc_reader_metadata(const struct zcp_ipc_reader *r);
/* Custom metadata of the message that carried the record batch last returned by
 * zcp_ipc_reader_next / zcp_ipc_reader_read_batch (Message.custom_metadata, apart from
 * the schema's): NULL when it had none; owned by the reader, valid until the next read
 * or close. */
ZCP_API const char *zcp_ipc_reader_batch_metadata(const struct zcp_ipc_reader *r);
/* The dictionary id of each dictionary-encoded field of the schema, in the pre-order of
 * zcp_ipc_write_options.dictionary_ids (fields that share a dictionary share an id), so
 * that a copy written with them keeps the sharing; *n receives the count. Owned by the
 * reader; NULL when there are none. */
ZCP_API const int64_t *zcp_ipc_reader_dictionary_ids(const struct zcp_ipc_reader *r, int64_t *n);
/* Next record batch in order; at the end *out is left released (out->release == NULL). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_ipc_reader_next(struct zcp_ipc_reader *r,
                                                          struct ArrowArray *out,
                                                          struct zcp_error *err);
/* Record batch i of a file (ZCP_INVALID_ARGUMENT on a stream, ZCP_NOT_FOUND out of
 * range). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_ipc_reader_read_batch(struct zcp_ipc_reader *r,
                                                                int64_t i,
                                                                struct ArrowArray *out,
                                                                struct zcp_error *err);
ZCP_API void zcp_ipc_reader_close(struct zcp_ipc_reader *r);

/* Reads everything into a new table (the reader is closed either way). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_ipc_reader_read_table(struct zcp_ipc_reader *r,
                                                                struct zcp_table **out,
                                                                struct zcp_error *err);

#ifdef __cplusplus
}
#endif
#endif /* ZCPOOL_IPC_H */
