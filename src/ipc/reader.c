/* Arrow IPC reader: the stream format (also the legacy framing without the continuation
 * marker) from any byte source, and the file format from memory or a mapped file with
 * random access to its batches. Messages are framed and parsed here; bodies are decoded
 * by read_batch.c. Nothing in the input is trusted: lengths are checked against limits
 * and against the bytes really present before anything is allocated for them, and every
 * failure is a typed error naming the byte offset or the field at fault. */
#include "common/platform.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "ipc/internal.h"

#define CORRUPT(...) zcp_error_set(err, ZCP_CORRUPT_INPUT, __VA_ARGS__)

struct file_block {
  int64_t offset, meta_len, body_len;
};

/* A buffer reused from message to message. */
struct scratch {
  uint8_t *data;
  int64_t cap;
};

struct zcp_ipc_reader {
  bool is_file;
  struct zcp_ipc_read_options opts;
  int64_t max_meta, max_body;
  struct ArrowSchema schema;
  struct zcp__ipc_dict_fields dicts;
  struct zcp__ipc_dict_value **dict_values;
  /* stream */
  struct zcp_ipc_source src;
  struct scratch meta_buf, body_buf;
  int64_t pos;
  bool done;
  /* file */
  const uint8_t *data;
  int64_t size;
  bool zero_copy;
  struct zcp__ipc_keep *mapping;
  struct file_block *batches;
  int64_t n_batches, next_batch;
  char *footer_metadata; /* Footer.custom_metadata, for files whose schema has none */
  char *batch_metadata;  /* Message.custom_metadata of the batch last returned */
  int64_t *dict_ids;     /* ids of the dictionary-encoded fields, pre-order */
};

void zcp_ipc_read_options_init(struct zcp_ipc_read_options *opts) {
  memset(opts, 0, sizeof *opts);
  opts->validation = ZCP_VALIDATE_FULL;
}

static struct zcp_ipc_reader *reader_new(const struct zcp_ipc_read_options *opts) {
  struct zcp_ipc_reader *r = calloc(1, sizeof *r);
  if (r == NULL) return NULL;
  if (opts != NULL)
    r->opts = *opts;
  else
    zcp_ipc_read_options_init(&r->opts);
  if (r->opts.alloc == NULL) r->opts.alloc = zcp_allocator_default();
  int64_t max = r->opts.max_message_size;
  r->max_meta = max > 0 ? ZCP_MIN(max, ZCP_IPC_MAX_METADATA) : ZCP_IPC_MAX_METADATA;
  r->max_body = max > 0 ? ZCP_MIN(max, ZCP_IPC_MAX_BODY) : ZCP_IPC_MAX_BODY;
  return r;
}

void zcp_ipc_reader_close(struct zcp_ipc_reader *r) {
  if (r == NULL) return;
  for (int64_t i = 0; r->dict_values != NULL && i < r->dicts.n_ids; i++) {
    zcp__ipc_dict_value_release(r->dict_values[i]);
  }
  free(r->dict_values);
  zcp__ipc_dict_fields_reset(&r->dicts);
  zcp_schema_release(&r->schema);
  free(r->batches);
  free(r->footer_metadata);
  free(r->batch_metadata);
  free(r->dict_ids);
  free(r->meta_buf.data);
  free(r->body_buf.data);
  zcp__ipc_keep_release(r->mapping);
  free(r);
}

const struct ArrowSchema *zcp_ipc_reader_schema(const struct zcp_ipc_reader *r) {
  return r != NULL ? &r->schema : NULL;
}

int64_t zcp_ipc_reader_num_batches(const struct zcp_ipc_reader *r) {
  return r != NULL && r->is_file ? r->n_batches : -1;
}

const char *zcp_ipc_reader_metadata(const struct zcp_ipc_reader *r) {
  if (r == NULL) return NULL;
  return r->schema.metadata != NULL ? r->schema.metadata : r->footer_metadata;
}

const char *zcp_ipc_reader_batch_metadata(const struct zcp_ipc_reader *r) {
  return r != NULL ? r->batch_metadata : NULL;
}

const int64_t *zcp_ipc_reader_dictionary_ids(const struct zcp_ipc_reader *r, int64_t *n) {
  if (n != NULL) *n = r != NULL ? r->dicts.n : 0;
  return r != NULL && r->dicts.n > 0 ? r->dict_ids : NULL;
}

/* ---- messages -----------------------------------------------------------------------
 */

/* A message of type `type` where `expected` was: tensors are valid Arrow messages this
 * reader does not implement, a type past those Message.fbs has may be a newer format's,
 * anything else is out of place. */
static zcp_status_t unexpected_message(uint8_t type, int64_t at, const char *expected,
                                       struct zcp_error *err) {
  if (type == 4 || type == 5) {
    return zcp_error_set(
        err, ZCP_UNSUPPORTED,
        "message at byte %lld is a %s message: tensors are not supported", (long long)at,
        type == 4 ? "Tensor" : "SparseTensor");
  }
  if (type > 5) {
    return zcp_error_set(
        err, ZCP_UNSUPPORTED,
        "message at byte %lld has MessageHeader type %u, which this reader "
        "does not know (it knows 1..5)",
        (long long)at, type);
  }
  return CORRUPT("message at byte %lld has type %u where %s was expected", (long long)at,
                 type, expected);
}

struct message {
  int16_t version;
  uint8_t type;
  struct zcp_fb_table header;
  int64_t body_len;
  struct zcp_fb_vector metadata; /* Message.custom_metadata */
};

static zcp_status_t parse_message(const struct zcp_ipc_reader *r, const uint8_t *meta,
                                  int64_t len, int64_t at, struct message *m,
                                  struct zcp_error *err) {
  struct zcp_fb_table msg;
  int16_t version;
  bool present;
  zcp_status_t st = zcp__fb_root(meta, len, &msg, "Message", err);
  if (st == ZCP_OK)
    st = zcp__fb_i16(&msg, ZCP_FB_MSG_VERSION, 0, &version, "Message.version", err);
  if (st == ZCP_OK && (version < ZCP_FB_VERSION_V4 || version > ZCP_FB_VERSION_V5)) {
    return zcp_error_set(err, ZCP_VERSION_MISMATCH,
                         "message at byte %lld has metadata version V%d; this reader "
                         "reads V4 and V5",
                         (long long)at, (int)version + 1);
  }
  m->version = version;
  if (st == ZCP_OK)
    st =
        zcp__fb_u8(&msg, ZCP_FB_MSG_HEADER_TYPE, 0, &m->type, "Message.header_type", err);
  if (st == ZCP_OK)
    st = zcp__fb_table(&msg, ZCP_FB_MSG_HEADER, &m->header, &present, "Message.header",
                       err);
  if (st == ZCP_OK)
    st = zcp__fb_i64(&msg, ZCP_FB_MSG_BODY_LENGTH, 0, &m->body_len, "Message.bodyLength",
                     err);
  if (st == ZCP_OK)
    st = zcp__fb_vector(&msg, ZCP_FB_MSG_METADATA, 4, &m->metadata,
                        "Message.custom_metadata", err);
  if (st == ZCP_OK && !present) st = CORRUPT("Message.header is missing");
  if (st == ZCP_OK && m->body_len < 0) {
    st = CORRUPT("Message.bodyLength %lld is negative", (long long)m->body_len);
  }
  if (st == ZCP_OK && m->body_len > r->max_body) {
    /* valid, but more than this reader was told to take */
    st = zcp_error_set(err, ZCP_UNSUPPORTED,
                       "Message.bodyLength %lld is more than the %lld this reader takes "
                       "(max_message_size)",
                       (long long)m->body_len, (long long)r->max_body);
  }
  if (st != ZCP_OK && err != NULL) {
    zcp_error_prefix(err, st, "message at byte %lld: ", (long long)at);
  }
  return st;
}

/* Reads exactly n bytes into a reusable buffer that grows only as the bytes arrive, so
 * that a claimed size larger than the input never becomes one huge allocation, and so
 * that a long stream does not fault in fresh pages for every message (the reader keeps
 * its largest message's worth of memory until it is closed). */
static zcp_status_t read_exact(struct zcp_ipc_reader *r, int64_t n, struct scratch *s,
                               uint8_t **out, struct zcp_error *err) {
  static uint8_t empty[8];
  int64_t have = 0;
  *out = NULL;
  while (have < n) {
    int64_t want = ZCP_MIN(n - have, (int64_t)1 << 20);
    if (have + want > s->cap) {
      int64_t c = ZCP_MIN(n, ZCP_MAX(2 * s->cap, have + want));
      uint8_t *p = realloc(s->data, (size_t)c);
      if (p == NULL) {
        return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for a %lld-byte message",
                             (long long)n);
      }
      s->data = p;
      s->cap = c;
    }
    int64_t got = 0;
    zcp_status_t st = r->src.read(r->src.ctx, s->data + have, want, &got, err);
    if (st != ZCP_OK) return st;
    if (got <= 0) {
      return CORRUPT("stream truncated at byte %lld: %lld more bytes expected",
                     (long long)(r->pos + have), (long long)(n - have));
    }
    have += got;
  }
  r->pos += n;
  *out = n > 0 ? s->data : empty;
  return ZCP_OK;
}

/* Next framed message of a stream; *meta NULL at the end. */
static zcp_status_t stream_message(struct zcp_ipc_reader *r, uint8_t **meta,
                                   int64_t *meta_len, struct message *m, uint8_t **body,
                                   struct zcp_error *err) {
  uint8_t word[4];
  int64_t got = 0, at = r->pos;
  *meta = *body = NULL;
  ZCP_RETURN_NOT_OK(r->src.read(r->src.ctx, word, 4, &got, err));
  if (got == 0) return ZCP_OK; /* end of input without a marker: also the end */
  if (got < 4)
    return CORRUPT("stream truncated at byte %lld in a message prefix", (long long)at);
  if (at == 0 && memcmp(word, ZCP_IPC_MAGIC, 4) == 0) {
    return CORRUPT(
        "not an Arrow IPC stream: it starts with the file format's magic "
        "(read it with the file reader)");
  }
  r->pos += 4;
  uint32_t len = zcp__load_le32(word);
  if (len == ZCP_IPC_CONTINUATION) {
    ZCP_RETURN_NOT_OK(r->src.read(r->src.ctx, word, 4, &got, err));
    if (got < 4)
      return CORRUPT("stream truncated at byte %lld in a message prefix", (long long)at);
    r->pos += 4;
    len = zcp__load_le32(word);
  }
  if (len == 0) return ZCP_OK;
  if ((int32_t)len < 0) {
    return CORRUPT("message at byte %lld: metadata length %lld is negative",
                   (long long)at, (long long)(int32_t)len);
  }
  if ((int64_t)len > r->max_meta) {
    return zcp_error_set(
        err, ZCP_UNSUPPORTED,
        "message at byte %lld: metadata of %lld bytes is more than the %lld "
        "this reader takes (max_message_size)",
        (long long)at, (long long)len, (long long)r->max_meta);
  }
  ZCP_RETURN_NOT_OK(read_exact(r, len, &r->meta_buf, meta, err));
  *meta_len = len;
  zcp_status_t st = parse_message(r, *meta, len, at, m, err);
  if (st == ZCP_OK) st = read_exact(r, m->body_len, &r->body_buf, body, err);
  if (st != ZCP_OK) *meta = NULL;
  if (st == ZCP_OK && r->opts.progress != NULL)
    r->opts.progress(r->opts.progress_ctx, r->pos, -1);
  return st;
}

static void body_setup(struct zcp_ipc_reader *r, struct zcp__ipc_body *b, bool zero_copy,
                       const struct message *m) {
  b->zero_copy = zero_copy;
  b->v4_unions = m->version < ZCP_FB_VERSION_V5;
  b->alloc = r->opts.alloc;
  b->mapping = r->mapping;
  b->dicts = &r->dicts;
  b->dict_values = r->dict_values;
  b->validation = r->opts.validation;
}

static zcp_status_t read_dictionary(struct zcp_ipc_reader *r, const struct message *m,
                                    const uint8_t *body, bool zero_copy,
                                    struct zcp_error *err) {
  int64_t id;
  uint8_t delta;
  struct zcp_fb_table data;
  bool present;
  ZCP_RETURN_NOT_OK(
      zcp__fb_i64(&m->header, ZCP_FB_DB_ID, 0, &id, "DictionaryBatch.id", err));
  ZCP_RETURN_NOT_OK(zcp__fb_table(&m->header, ZCP_FB_DB_DATA, &data, &present,
                                  "DictionaryBatch.data", err));
  ZCP_RETURN_NOT_OK(
      zcp__fb_u8(&m->header, ZCP_FB_DB_DELTA, 0, &delta, "DictionaryBatch.isDelta", err));
  if (!present) return CORRUPT("DictionaryBatch %lld has no data", (long long)id);
  int64_t k = zcp__ipc_dict_find(&r->dicts, id);
  if (k < 0)
    return CORRUPT("DictionaryBatch id %lld is not in the schema", (long long)id);
  if (r->is_file && !delta && r->dict_values[k] != NULL) {
    /* Columnar.rst: "The IPC File format does not support dictionary replacement" */
    return CORRUPT(
        "dictionary %lld is sent twice without isDelta: an IPC file cannot "
        "replace a dictionary",
        (long long)id);
  }
  /* fields that share the id share this one dictionary: the first one's values say how
   * it is laid out (the others were checked to agree when the schema was read) */
  const struct ArrowSchema *value_schema =
      r->dicts.items[r->dicts.ids[k].first].node->dictionary;
  struct zcp__ipc_body b;
  memset(&b, 0, sizeof b);
  body_setup(r, &b, zero_copy, m);
  ZCP_RETURN_NOT_OK(zcp__ipc_body_init(&b, &data, body, m->body_len, err));
  struct zcp__ipc_dict_value *v = calloc(1, sizeof *v);
  if (v == NULL)
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for a dictionary");
  v->refs = 1;
  const char *field = r->dicts.items[r->dicts.ids[k].first].node->name;
  zcp_status_t st = zcp__ipc_decode_dictionary(&b, value_schema, &v->array, err);
  if (st != ZCP_OK) {
    zcp_error_prefix(err, st, "dictionary %lld (field '%s'): ", (long long)id,
                     field != NULL ? field : "");
    free(v);
    return st;
  }
  if (delta && r->dict_values[k] != NULL) {
    struct ArrowArray joined;
    st = zcp__ipc_concat(&r->dict_values[k]->array, &v->array, value_schema,
                         r->opts.alloc, &joined, err);
    zcp_array_release(&v->array);
    if (st != ZCP_OK) {
      zcp_error_prefix(err, st, "dictionary %lld (field '%s'): ", (long long)id,
                       field != NULL ? field : "");
      free(v);
      return st;
    }
    zcp_array_move(&joined, &v->array);
  }
  zcp__ipc_dict_value_release(r->dict_values[k]);
  r->dict_values[k] = v;
  return ZCP_OK;
}

static zcp_status_t read_record_batch(struct zcp_ipc_reader *r, const struct message *m,
                                      const uint8_t *body, bool zero_copy,
                                      struct ArrowArray *out, struct zcp_error *err) {
  struct zcp__ipc_body b;
  memset(&b, 0, sizeof b);
  body_setup(r, &b, zero_copy, m);
  char *metadata = NULL;
  ZCP_RETURN_NOT_OK(
      zcp__ipc_metadata_decode(&m->metadata, &metadata, "Message.custom_metadata", err));
  zcp_status_t st = zcp__ipc_body_init(&b, &m->header, body, m->body_len, err);
  if (st == ZCP_OK) st = zcp__ipc_decode_batch(&b, &r->schema, out, err);
  if (st != ZCP_OK) {
    free(metadata);
    return st;
  }
  free(r->batch_metadata);
  r->batch_metadata = metadata;
  return ZCP_OK;
}

static zcp_status_t read_schema(struct zcp_ipc_reader *r,
                                const struct zcp_fb_table *schema,
                                struct zcp_error *err) {
  ZCP_RETURN_NOT_OK(zcp__ipc_schema_decode(schema, &r->schema, &r->dicts, err));
  r->dict_values = calloc((size_t)(r->dicts.n_ids + 1), sizeof *r->dict_values);
  r->dict_ids = malloc((size_t)(r->dicts.n + 1) * sizeof *r->dict_ids);
  if (r->dict_values == NULL || r->dict_ids == NULL) {
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory");
  }
  for (int64_t k = 0; k < r->dicts.n; k++) r->dict_ids[k] = r->dicts.items[k].id;
  return ZCP_OK;
}

/* ---- stream -------------------------------------------------------------------------
 */

zcp_status_t zcp_ipc_stream_reader_open(const struct zcp_ipc_source *src,
                                        const struct zcp_ipc_read_options *opts,
                                        struct zcp_ipc_reader **out,
                                        struct zcp_error *err) {
  if (out == NULL || src == NULL || src->read == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "IPC stream reader: bad argument");
  }
  *out = NULL;
  struct zcp_ipc_reader *r = reader_new(opts);
  if (r == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for a reader");
  r->src = *src;
  uint8_t *meta, *body;
  int64_t meta_len;
  struct message m;
  zcp_status_t st = stream_message(r, &meta, &meta_len, &m, &body, err);
  if (st == ZCP_OK && meta == NULL) st = CORRUPT("stream ends before its schema message");
  if (st == ZCP_OK && m.type != ZCP_FB_HEADER_SCHEMA) {
    st = unexpected_message(m.type, 0, "a schema", err);
  }
  if (st == ZCP_OK) st = read_schema(r, &m.header, err);
  if (st != ZCP_OK) {
    zcp_ipc_reader_close(r);
    return st;
  }
  *out = r;
  return ZCP_OK;
}

static zcp_status_t stream_next(struct zcp_ipc_reader *r, struct ArrowArray *out,
                                struct zcp_error *err) {
  while (!r->done) {
    uint8_t *meta, *body;
    int64_t meta_len, at = r->pos;
    struct message m;
    ZCP_RETURN_NOT_OK(stream_message(r, &meta, &meta_len, &m, &body, err));
    if (meta == NULL) {
      r->done = true;
      break;
    }
    zcp_status_t st;
    bool got_batch = false;
    switch (m.type) {
      case ZCP_FB_HEADER_DICTIONARY:
        st = read_dictionary(r, &m, body, false, err);
        break;
      case ZCP_FB_HEADER_BATCH:
        st = read_record_batch(r, &m, body, false, out, err);
        got_batch = st == ZCP_OK;
        break;
      default:
        st = unexpected_message(m.type, at, "a batch or a dictionary", err);
        break;
    }
    if (st != ZCP_OK) {
      r->done = true;
      return st;
    }
    if (got_batch) return ZCP_OK;
  }
  return ZCP_OK;
}

/* ---- file ---------------------------------------------------------------------------
 */

/* Message of a file block: prefix, metadata within meta_len, body after it. */
static zcp_status_t file_message(struct zcp_ipc_reader *r, const struct file_block *blk,
                                 struct message *m, const uint8_t **body,
                                 struct zcp_error *err) {
  const uint8_t *p = r->data + blk->offset;
  int64_t skip = 4;
  if (blk->meta_len < 8)
    return CORRUPT("block at byte %lld: metadata length %lld", (long long)blk->offset,
                   (long long)blk->meta_len);
  uint32_t len = zcp__load_le32(p);
  if (len == ZCP_IPC_CONTINUATION) {
    len = zcp__load_le32(p + 4);
    skip = 8;
  }
  if ((int32_t)len <= 0 || (int64_t)len > blk->meta_len - skip) {
    return CORRUPT(
        "block at byte %lld: message metadata of %lld bytes does not fit its "
        "%lld-byte block",
        (long long)blk->offset, (long long)(int32_t)len, (long long)blk->meta_len);
  }
  ZCP_RETURN_NOT_OK(parse_message(r, p + skip, len, blk->offset, m, err));
  if (m->body_len > blk->body_len) {
    return CORRUPT("block at byte %lld: body of %lld bytes, block holds %lld",
                   (long long)blk->offset, (long long)m->body_len,
                   (long long)blk->body_len);
  }
  *body = p + blk->meta_len;
  return ZCP_OK;
}

static zcp_status_t read_blocks(const struct zcp_fb_table *footer, int id, int64_t limit,
                                struct file_block **out, int64_t *n, const char *what,
                                struct zcp_error *err) {
  struct zcp_fb_vector v;
  ZCP_RETURN_NOT_OK(zcp__fb_vector(footer, id, ZCP_FB_BLOCK_SIZE, &v, what, err));
  *out = calloc((size_t)(v.n + 1), sizeof **out);
  if (*out == NULL)
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for %s", what);
  for (int64_t i = 0; i < v.n; i++) {
    const uint8_t *e = zcp__fb_elem(&v, i, ZCP_FB_BLOCK_SIZE);
    struct file_block b = {(int64_t)zcp__load_le64(e), (int32_t)zcp__load_le32(e + 8),
                           (int64_t)zcp__load_le64(e + 16)};
    int64_t end;
    if (b.offset < 8 || b.meta_len < 8 || b.body_len < 0 ||
        !zcp__add_i64(b.offset, b.meta_len, &end) ||
        !zcp__add_i64(end, b.body_len, &end) || end > limit) {
      return CORRUPT(
          "%s %lld (offset %lld, metadata %lld, body %lld) is outside the "
          "file's %lld bytes of messages",
          what, (long long)i, (long long)b.offset, (long long)b.meta_len,
          (long long)b.body_len, (long long)limit);
    }
    (*out)[i] = b;
  }
  *n = v.n;
  return ZCP_OK;
}

static zcp_status_t file_open(struct zcp_ipc_reader *r, struct zcp_error *err) {
  const uint8_t *d = r->data;
  int64_t size = r->size;
  if (size < 18 || memcmp(d, ZCP_IPC_MAGIC, 6) != 0 ||
      memcmp(d + size - 6, ZCP_IPC_MAGIC, 6) != 0) {
    return CORRUPT("not an Arrow IPC file: %s", size < 18 ? "too short" : "bad magic");
  }
  int64_t footer_len = (int32_t)zcp__load_le32(d + size - 10);
  int64_t footer_start = size - 10 - footer_len;
  if (footer_len <= 0 || footer_start < 8) {
    return CORRUPT("footer length %lld does not fit the %lld-byte file",
                   (long long)footer_len, (long long)size);
  }
  struct zcp_fb_table footer, schema;
  bool present;
  int16_t version;
  ZCP_RETURN_NOT_OK(zcp__fb_root(d + footer_start, footer_len, &footer, "Footer", err));
  ZCP_RETURN_NOT_OK(
      zcp__fb_i16(&footer, ZCP_FB_FOOTER_VERSION, 0, &version, "Footer.version", err));
  if (version < ZCP_FB_VERSION_V4 || version > ZCP_FB_VERSION_V5) {
    return zcp_error_set(err, ZCP_VERSION_MISMATCH,
                         "file metadata version V%d; this reader "
                         "reads V4 and V5",
                         (int)version + 1);
  }
  ZCP_RETURN_NOT_OK(zcp__fb_table(&footer, ZCP_FB_FOOTER_SCHEMA, &schema, &present,
                                  "Footer.schema", err));
  if (!present) return CORRUPT("file footer has no schema");
  ZCP_RETURN_NOT_OK(read_schema(r, &schema, err));
  struct zcp_fb_vector kv;
  ZCP_RETURN_NOT_OK(zcp__fb_vector(&footer, ZCP_FB_FOOTER_METADATA, 4, &kv,
                                   "Footer.custom_metadata", err));
  ZCP_RETURN_NOT_OK(
      zcp__ipc_metadata_decode(&kv, &r->footer_metadata, "Footer.custom_metadata", err));
  struct file_block *dicts = NULL;
  int64_t n_dicts = 0;
  zcp_status_t st = read_blocks(&footer, ZCP_FB_FOOTER_DICTIONARIES, footer_start, &dicts,
                                &n_dicts, "Footer.dictionaries", err);
  if (st == ZCP_OK) {
    st = read_blocks(&footer, ZCP_FB_FOOTER_BATCHES, footer_start, &r->batches,
                     &r->n_batches, "Footer.recordBatches", err);
  }
  for (int64_t i = 0; st == ZCP_OK && i < n_dicts; i++) {
    struct message m;
    const uint8_t *body;
    st = file_message(r, &dicts[i], &m, &body, err);
    if (st == ZCP_OK && m.type != ZCP_FB_HEADER_DICTIONARY) {
      st = unexpected_message(m.type, dicts[i].offset, "a dictionary", err);
    }
    if (st == ZCP_OK) st = read_dictionary(r, &m, body, r->zero_copy, err);
  }
  free(dicts);
  return st;
}

static zcp_status_t file_reader_make(struct zcp_ipc_reader **out, const uint8_t *data,
                                     int64_t size, enum zcp_ipc_file_mode mode,
                                     const struct zcp_ipc_read_options *opts,
                                     struct zcp__ipc_keep *mapping,
                                     struct zcp_error *err) {
  *out = NULL;
  if ((data == NULL && size > 0) || size < 0 ||
      (mode != ZCP_IPC_COPY && mode != ZCP_IPC_ZERO_COPY)) {
    zcp__ipc_keep_release(mapping);
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "IPC file reader: bad argument");
  }
  struct zcp_ipc_reader *r = reader_new(opts);
  if (r == NULL) {
    zcp__ipc_keep_release(mapping);
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for a reader");
  }
  r->is_file = true;
  r->data = data;
  r->size = size;
  r->zero_copy = mode == ZCP_IPC_ZERO_COPY;
  r->mapping = mapping;
  zcp_status_t st = file_open(r, err);
  if (st != ZCP_OK) {
    zcp_ipc_reader_close(r);
    return st;
  }
  *out = r;
  return ZCP_OK;
}

zcp_status_t zcp_ipc_file_reader_open(const uint8_t *data, int64_t size,
                                      enum zcp_ipc_file_mode mode,
                                      const struct zcp_ipc_read_options *opts,
                                      struct zcp_ipc_reader **out,
                                      struct zcp_error *err) {
  if (out == NULL) return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "out is NULL");
  return file_reader_make(out, data, size, mode, opts, NULL, err);
}

zcp_status_t zcp_ipc_file_reader_open_path(const char *path, enum zcp_ipc_file_mode mode,
                                           const struct zcp_ipc_read_options *opts,
                                           struct zcp_ipc_reader **out,
                                           struct zcp_error *err) {
  if (out == NULL || path == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "IPC file reader: NULL argument");
  }
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return zcp_error_set(err, ZCP_IO_ERROR, "open %s: %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    close(fd);
    return zcp_error_set(err, ZCP_IO_ERROR, "stat %s: %s", path, strerror(errno));
  }
  if (sb.st_size < 18) {
    close(fd);
    return zcp_error_set(err, ZCP_CORRUPT_INPUT,
                         "%s: %lld bytes is too short for an Arrow "
                         "IPC file",
                         path, (long long)sb.st_size);
  }
  void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED)
    return zcp_error_set(err, ZCP_IO_ERROR, "mmap %s: %s", path, strerror(errno));
  struct zcp__ipc_keep *k = calloc(1, sizeof *k);
  if (k == NULL) {
    munmap(map, (size_t)sb.st_size);
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for a reader");
  }
  k->refs = 1;
  k->map = map;
  k->map_size = sb.st_size;
  zcp_status_t st = file_reader_make(out, map, sb.st_size, mode, opts, k, err);
  if (st != ZCP_OK) zcp_error_prefix(err, st, "%s: ", path);
  return st;
}

zcp_status_t zcp_ipc_reader_read_batch(struct zcp_ipc_reader *r, int64_t i,
                                       struct ArrowArray *out, struct zcp_error *err) {
  if (r == NULL || out == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "NULL argument");
  memset(out, 0, sizeof *out);
  free(r->batch_metadata);
  r->batch_metadata = NULL;
  if (!r->is_file) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "random access needs the IPC file format");
  }
  if (i < 0 || i >= r->n_batches) {
    return zcp_error_set(err, ZCP_NOT_FOUND, "batch %lld of a file with %lld batches",
                         (long long)i, (long long)r->n_batches);
  }
  struct message m;
  const uint8_t *body;
  ZCP_RETURN_NOT_OK(file_message(r, &r->batches[i], &m, &body, err));
  if (m.type != ZCP_FB_HEADER_BATCH) {
    return unexpected_message(m.type, r->batches[i].offset, "a record batch", err);
  }
  zcp_status_t st = read_record_batch(r, &m, body, r->zero_copy, out, err);
  if (st != ZCP_OK) {
    zcp_error_prefix(err, st, "batch %lld: ", (long long)i);
  } else if (r->opts.progress != NULL) {
    const struct file_block *b = &r->batches[i];
    r->opts.progress(r->opts.progress_ctx, b->offset + b->meta_len + b->body_len,
                     r->size);
  }
  return st;
}

zcp_status_t zcp_ipc_reader_next(struct zcp_ipc_reader *r, struct ArrowArray *out,
                                 struct zcp_error *err) {
  if (r == NULL || out == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "NULL argument");
  memset(out, 0, sizeof *out);
  free(r->batch_metadata);
  r->batch_metadata = NULL;
  if (!r->is_file) return stream_next(r, out, err);
  if (r->next_batch >= r->n_batches) return ZCP_OK;
  return zcp_ipc_reader_read_batch(r, r->next_batch++, out, err);
}

zcp_status_t zcp_ipc_reader_read_table(struct zcp_ipc_reader *r, struct zcp_table **out,
                                       struct zcp_error *err) {
  if (r == NULL || out == NULL) {
    zcp_ipc_reader_close(r);
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "NULL argument");
  }
  *out = NULL;
  struct zcp_table *t = NULL;
  zcp_status_t st = zcp_table_init(&r->schema, &t, err);
  while (st == ZCP_OK) {
    struct ArrowArray batch;
    st = zcp_ipc_reader_next(r, &batch, err);
    if (st != ZCP_OK || batch.release == NULL) break;
    st = zcp_table_append(t, &batch, ZCP_VALIDATE_MINIMAL, err);
    if (st != ZCP_OK) zcp_array_release(&batch);
  }
  zcp_ipc_reader_close(r);
  if (st != ZCP_OK) {
    zcp_table_release(t);
    return st;
  }
  *out = t;
  return ZCP_OK;
}
