/* Hand-made IPC messages for the reader tests: schemas with fields our writer would
 * never produce (other implementations' choices, spec features we refuse, corrupt
 * parameters), framed exactly as a stream carries them. Built with the library's own
 * flatbuffer builder, field ids from Schema.fbs / Message.fbs. */
#ifndef ZCP_TEST_IPC_MESSAGES_H
#define ZCP_TEST_IPC_MESSAGES_H

#include <string.h>

#include "ipc/internal.h"
#include "ipc_test.h"

static inline void msg_append(struct zcp_ipc_buffer *b, const void *p, int64_t n) {
  struct zcp_ipc_sink s = zcp_ipc_sink_buffer(b);
  OK(s.write(s.ctx, p, n, NULL));
}

/* A vector of KeyValue tables (0 when n is 0). */
static inline zcp_fb_ref msg_kv(struct zcp_fb_builder *fb, int n, const char *const *keys,
                                const char *const *values) {
  if (n == 0) return 0;
  zcp_fb_ref refs[16];
  for (int i = 0; i < n && i < 16; i++) {
    zcp_fb_ref k = zcp__fb_string_create(fb, keys[i], (int64_t)strlen(keys[i]));
    zcp_fb_ref v = zcp__fb_string_create(fb, values[i], (int64_t)strlen(values[i]));
    zcp__fb_table_start(fb);
    zcp__fb_add_ref(fb, 0, k);
    zcp__fb_add_ref(fb, 1, v);
    refs[i] = zcp__fb_table_end(fb);
  }
  return zcp__fb_refs_create(fb, refs, n);
}

/* Int { bitWidth, is_signed } (index types too). */
static inline zcp_fb_ref msg_int(struct zcp_fb_builder *fb, int bits, bool is_signed) {
  zcp__fb_table_start(fb);
  zcp__fb_add_scalar(fb, 0, 4, (uint64_t)bits);
  zcp__fb_add_scalar(fb, 1, 1, is_signed);
  return zcp__fb_table_end(fb);
}

/* An empty type table (Utf8, Bool, List, Struct_, ...). */
static inline zcp_fb_ref msg_empty(struct zcp_fb_builder *fb) {
  zcp__fb_table_start(fb);
  return zcp__fb_table_end(fb);
}

/* DictionaryEncoding { id, indexType, isOrdered, dictionaryKind }. */
static inline zcp_fb_ref msg_dict(struct zcp_fb_builder *fb, int64_t id, int index_bits,
                                  int kind) {
  zcp_fb_ref index = msg_int(fb, index_bits, true);
  zcp__fb_table_start(fb);
  zcp__fb_add_scalar(fb, 0, 8, (uint64_t)id);
  zcp__fb_add_ref(fb, 1, index);
  if (kind != 0) zcp__fb_add_scalar(fb, 3, 2, (uint64_t)kind);
  return zcp__fb_table_end(fb);
}

/* Field { name, nullable, type_type, type, dictionary, children }. */
static inline zcp_fb_ref msg_field(struct zcp_fb_builder *fb, const char *name,
                                   uint8_t type_type, zcp_fb_ref type, zcp_fb_ref dict,
                                   const zcp_fb_ref *children, int n_children) {
  zcp_fb_ref nm = zcp__fb_string_create(fb, name, (int64_t)strlen(name));
  zcp_fb_ref ch = zcp__fb_refs_create(fb, children, n_children);
  zcp__fb_table_start(fb);
  zcp__fb_add_ref(fb, ZCP_FB_FIELD_NAME, nm);
  zcp__fb_add_scalar(fb, ZCP_FB_FIELD_NULLABLE, 1, 1);
  zcp__fb_add_scalar(fb, ZCP_FB_FIELD_TYPE_TYPE, 1, type_type);
  if (type) zcp__fb_add_ref(fb, ZCP_FB_FIELD_TYPE, type);
  if (dict) zcp__fb_add_ref(fb, ZCP_FB_FIELD_DICTIONARY, dict);
  zcp__fb_add_ref(fb, ZCP_FB_FIELD_CHILDREN, ch);
  return zcp__fb_table_end(fb);
}

/* When set, every message appended is recorded here (for a file footer's blocks). */
struct msg_blocks {
  int64_t offset[32], meta_len[32], body_len[32];
  uint8_t type[32];
  int n;
};
static struct msg_blocks *msg_log;

/* Appends one framed message around `header` (already in fb), then its body (NULL:
 * body_len zero bytes), and resets fb. `metadata` is Message.custom_metadata (or 0). */
static inline void msg_finish(struct zcp_ipc_buffer *out, struct zcp_fb_builder *fb,
                              uint8_t header_type, zcp_fb_ref header,
                              const uint8_t *body, int64_t body_len,
                              zcp_fb_ref metadata) {
  zcp__fb_table_start(fb);
  zcp__fb_add_scalar(fb, ZCP_FB_MSG_VERSION, 2, ZCP_FB_VERSION_V5);
  zcp__fb_add_scalar(fb, ZCP_FB_MSG_HEADER_TYPE, 1, header_type);
  zcp__fb_add_ref(fb, ZCP_FB_MSG_HEADER, header);
  zcp__fb_add_scalar(fb, ZCP_FB_MSG_BODY_LENGTH, 8, (uint64_t)body_len);
  if (metadata) zcp__fb_add_ref(fb, ZCP_FB_MSG_METADATA, metadata);
  zcp_fb_ref msg = zcp__fb_table_end(fb);
  const uint8_t *meta;
  int64_t size;
  OK(zcp__fb_finish(fb, msg, &meta, &size, NULL));
  uint8_t prefix[8] = {0xff, 0xff, 0xff, 0xff};
  int32_t len = (int32_t)((size + 7) / 8 * 8);
  memcpy(prefix + 4, &len, 4);
  if (msg_log != NULL && msg_log->n < 32) {
    msg_log->offset[msg_log->n] = out->size;
    msg_log->meta_len[msg_log->n] = 8 + len;
    msg_log->body_len[msg_log->n] = body_len;
    msg_log->type[msg_log->n++] = header_type;
  }
  msg_append(out, prefix, 8);
  msg_append(out, meta, size);
  static const uint8_t zeros[64];
  msg_append(out, zeros, len - size);
  for (int64_t done = 0; done < body_len; done += 64) {
    int64_t n = body_len - done < 64 ? body_len - done : 64;
    msg_append(out, body != NULL ? body + done : zeros, n);
  }
  zcp__fb_builder_reset(fb);
  zcp__fb_builder_init(fb);
}

/* A Schema table of the given fields (features: a Schema.features vector of n longs,
 * or NULL). */
static inline zcp_fb_ref msg_schema_table(struct zcp_fb_builder *fb, const zcp_fb_ref *fields,
                                          int n, const int64_t *features, int n_features) {
  zcp_fb_ref fv = zcp__fb_refs_create(fb, fields, n), feat = 0;
  if (features != NULL) {
    uint8_t raw[8 * 8];
    for (int i = 0; i < n_features && i < 8; i++) {
      for (int k = 0; k < 8; k++) raw[8 * i + k] = (uint8_t)((uint64_t)features[i] >> (8 * k));
    }
    feat = zcp__fb_vector_create(fb, raw, n_features, 8, 8);
  }
  zcp__fb_table_start(fb);
  zcp__fb_add_ref(fb, 1, fv);
  if (feat) zcp__fb_add_ref(fb, 3, feat);
  return zcp__fb_table_end(fb);
}

/* A Schema message of the given fields. */
static inline void msg_schema(struct zcp_ipc_buffer *out, struct zcp_fb_builder *fb,
                              const zcp_fb_ref *fields, int n, const int64_t *features,
                              int n_features) {
  zcp_fb_ref schema = msg_schema_table(fb, fields, n, features, n_features);
  msg_finish(out, fb, ZCP_FB_HEADER_SCHEMA, schema, NULL, 0, 0);
}

/* The footer of a file whose messages were recorded in `log` (the first one the schema
 * message), around a Schema table already in fb, then its length and the magic. */
static inline void msg_footer(struct zcp_ipc_buffer *out, struct zcp_fb_builder *fb,
                              zcp_fb_ref schema, const struct msg_blocks *log) {
  uint8_t raw[2][32 * 24];
  int n[2] = {0, 0};
  memset(raw, 0, sizeof raw);
  for (int i = 0; i < log->n; i++) {
    int which = log->type[i] == ZCP_FB_HEADER_DICTIONARY ? 0
                : log->type[i] == ZCP_FB_HEADER_BATCH    ? 1
                                                         : -1;
    if (which < 0) continue;
    uint8_t *p = raw[which] + 24 * n[which]++;
    int32_t meta = (int32_t)log->meta_len[i];
    memcpy(p, &log->offset[i], 8);
    memcpy(p + 8, &meta, 4);
    memcpy(p + 16, &log->body_len[i], 8);
  }
  zcp_fb_ref dicts = zcp__fb_vector_create(fb, raw[0], n[0], 24, 8);
  zcp_fb_ref batches = zcp__fb_vector_create(fb, raw[1], n[1], 24, 8);
  zcp__fb_table_start(fb);
  zcp__fb_add_scalar(fb, ZCP_FB_FOOTER_VERSION, 2, ZCP_FB_VERSION_V5);
  zcp__fb_add_ref(fb, ZCP_FB_FOOTER_SCHEMA, schema);
  zcp__fb_add_ref(fb, ZCP_FB_FOOTER_DICTIONARIES, dicts);
  zcp__fb_add_ref(fb, ZCP_FB_FOOTER_BATCHES, batches);
  zcp_fb_ref footer = zcp__fb_table_end(fb);
  const uint8_t *data;
  int64_t size;
  OK(zcp__fb_finish(fb, footer, &data, &size, NULL));
  msg_append(out, data, size);
  int32_t len = (int32_t)size;
  msg_append(out, &len, 4);
  msg_append(out, "ARROW1", 6);
  zcp__fb_builder_reset(fb);
  zcp__fb_builder_init(fb);
}

/* A RecordBatch (dict_id < 0) or DictionaryBatch message: nodes as (length, nulls)
 * pairs, buffers as (offset, length) pairs over `body`. */
static inline void msg_batch(struct zcp_ipc_buffer *out, int64_t length,
                             const int64_t *nodes, int n_nodes, const int64_t *bufs,
                             int n_bufs, const uint8_t *body, int64_t body_len,
                             int64_t dict_id, bool delta, zcp_fb_ref metadata,
                             struct zcp_fb_builder *fb) {
  uint8_t raw[64 * 16];
  for (int i = 0; i < 2 * n_nodes; i++) {
    for (int k = 0; k < 8; k++) raw[8 * i + k] = (uint8_t)((uint64_t)nodes[i] >> (8 * k));
  }
  zcp_fb_ref vn = zcp__fb_vector_create(fb, raw, n_nodes, 16, 8);
  for (int i = 0; i < 2 * n_bufs; i++) {
    for (int k = 0; k < 8; k++) raw[8 * i + k] = (uint8_t)((uint64_t)bufs[i] >> (8 * k));
  }
  zcp_fb_ref vb = zcp__fb_vector_create(fb, raw, n_bufs, 16, 8);
  zcp__fb_table_start(fb);
  zcp__fb_add_scalar(fb, ZCP_FB_RB_LENGTH, 8, (uint64_t)length);
  zcp__fb_add_ref(fb, ZCP_FB_RB_NODES, vn);
  zcp__fb_add_ref(fb, ZCP_FB_RB_BUFFERS, vb);
  zcp_fb_ref header = zcp__fb_table_end(fb);
  uint8_t type = ZCP_FB_HEADER_BATCH;
  if (dict_id >= 0) {
    zcp__fb_table_start(fb);
    zcp__fb_add_scalar(fb, ZCP_FB_DB_ID, 8, (uint64_t)dict_id);
    zcp__fb_add_ref(fb, ZCP_FB_DB_DATA, header);
    zcp__fb_add_scalar(fb, ZCP_FB_DB_DELTA, 1, delta);
    header = zcp__fb_table_end(fb);
    type = ZCP_FB_HEADER_DICTIONARY;
  }
  msg_finish(out, fb, type, header, body, body_len, metadata);
}

/* The end-of-stream marker. */
/* A DictionaryBatch (id, delta or not) of n utf8 values: offsets at 0, data at 64. The
 * values must fit 64 bytes. */
static inline void msg_utf8_dictionary(struct zcp_ipc_buffer *out, int64_t id,
                                       const char *const *v, int n, bool delta) {
  uint8_t body[128] = {0};
  int32_t off = 0;
  for (int i = 0; i < n; i++) {
    memcpy(body + 64 + off, v[i], strlen(v[i]));
    off += (int32_t)strlen(v[i]);
    memcpy(body + 4 * (i + 1), &off, 4);
  }
  int64_t nodes[] = {n, 0}, bufs[] = {0, 0, 0, 4 * (n + 1), 64, off};
  struct zcp_fb_builder fb;
  zcp__fb_builder_init(&fb);
  msg_batch(out, n, nodes, 1, bufs, 3, body, 128, id, delta, 0, &fb);
  zcp__fb_builder_reset(&fb);
}

static inline void msg_eos(struct zcp_ipc_buffer *out) {
  static const uint8_t eos[8] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
  msg_append(out, eos, 8);
}

/* Walks the messages of a stream (or of a file's embedded stream, start 8): how many
 * have header type `type`, and, for dictionary batches, how many are deltas. */
static inline int msg_count(const struct zcp_ipc_buffer *b, int64_t start, uint8_t type,
                            int *deltas) {
  int n = 0;
  if (deltas) *deltas = 0;
  for (int64_t pos = start; pos + 8 <= b->size;) {
    uint32_t len;
    memcpy(&len, b->data + pos + 4, 4);
    if (len == 0) break;
    struct zcp_fb_table m, h;
    uint8_t t, delta = 0;
    int64_t body;
    bool present;
    OK(zcp__fb_root(b->data + pos + 8, len, &m, "Message", NULL));
    OK(zcp__fb_u8(&m, ZCP_FB_MSG_HEADER_TYPE, 0, &t, "", NULL));
    OK(zcp__fb_i64(&m, ZCP_FB_MSG_BODY_LENGTH, 0, &body, "", NULL));
    OK(zcp__fb_table(&m, ZCP_FB_MSG_HEADER, &h, &present, "", NULL));
    if (t == ZCP_FB_HEADER_DICTIONARY) OK(zcp__fb_u8(&h, ZCP_FB_DB_DELTA, 0, &delta, "", NULL));
    if (t == type) n++;
    if (t == type && delta && deltas) ++*deltas;
    pos += 8 + len + body;
  }
  return n;
}

/* Opens a stream reader over bytes; returns its status (and the reader on success). */
static inline zcp_status_t msg_open(const struct zcp_ipc_buffer *b,
                                    struct zcp_ipc_memory *mem,
                                    struct zcp_ipc_reader **r, struct zcp_error *err) {
  *mem = (struct zcp_ipc_memory){b->data, b->size, 0};
  struct zcp_ipc_source src = zcp_ipc_source_memory(mem);
  return zcp_ipc_stream_reader_open(&src, NULL, r, err);
}

#endif
