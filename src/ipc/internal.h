/* Private contract between the files of src/ipc: flatbuffer field ids of the Arrow IPC
 * metadata (Schema.fbs, Message.fbs, File.fbs), the schema conversion, body compression
 * and the layout of one array node in a message body. Not API. */
#ifndef ZCP_IPC_INTERNAL_H
#define ZCP_IPC_INTERNAL_H

#include <string.h>

#include "ipc/flatbuf.h"
#include "zcpool/ipc.h"

/* MessageHeader union members. */
enum { ZCP_FB_HEADER_SCHEMA = 1, ZCP_FB_HEADER_DICTIONARY = 2, ZCP_FB_HEADER_BATCH = 3 };
/* MetadataVersion V4 (3) and V5 (4): we write V5 and read both. */
enum { ZCP_FB_VERSION_V4 = 3, ZCP_FB_VERSION_V5 = 4 };
/* Message table fields. */
enum {
  ZCP_FB_MSG_VERSION = 0,
  ZCP_FB_MSG_HEADER_TYPE = 1,
  ZCP_FB_MSG_HEADER = 2,
  ZCP_FB_MSG_BODY_LENGTH = 3,
  ZCP_FB_MSG_METADATA = 4
};
/* RecordBatch table fields. */
enum {
  ZCP_FB_RB_LENGTH = 0,
  ZCP_FB_RB_NODES = 1,
  ZCP_FB_RB_BUFFERS = 2,
  ZCP_FB_RB_COMPRESSION = 3,
  ZCP_FB_RB_VARIADIC = 4
};
/* DictionaryBatch table fields. */
enum { ZCP_FB_DB_ID = 0, ZCP_FB_DB_DATA = 1, ZCP_FB_DB_DELTA = 2 };
/* Footer table fields. */
enum {
  ZCP_FB_FOOTER_VERSION = 0,
  ZCP_FB_FOOTER_SCHEMA = 1,
  ZCP_FB_FOOTER_DICTIONARIES = 2,
  ZCP_FB_FOOTER_BATCHES = 3,
  ZCP_FB_FOOTER_METADATA = 4
};
/* Sizes of the structs FieldNode, Buffer and Block. */
enum { ZCP_FB_FIELD_NODE_SIZE = 16, ZCP_FB_BUFFER_SIZE = 16, ZCP_FB_BLOCK_SIZE = 24 };

#define ZCP_IPC_CONTINUATION 0xFFFFFFFFu
#define ZCP_IPC_MAGIC "ARROW1"
#define ZCP_IPC_MAX_METADATA ((int64_t)1 << 30)
#define ZCP_IPC_MAX_BODY ((int64_t)1 << 36)

/* The dictionary-encoded fields of a schema (dict_fields.c). Every such field in
 * pre-order (a field before its dictionary's own fields, before its later siblings), with
 * the id of its dictionary. Ids may repeat: fields that share an id share one dictionary.
 * Once indexed, each distinct id has a slot (its position in `ids`, ascending), which is
 * what readers and writers keep one dictionary per. */
struct zcp__ipc_dict_field {
  int64_t id;
  const struct ArrowSchema *node; /* node->dictionary is the value schema */
  int64_t slot;                   /* index into ids; -1 until indexed */
};
struct zcp__ipc_dict_id {
  int64_t id;
  int64_t first; /* the first field with this id: its value schema reads and writes it */
};
struct zcp__ipc_dict_fields {
  struct zcp__ipc_dict_field *items; /* pre-order */
  int64_t n, cap;
  struct zcp__ipc_dict_id *ids; /* distinct, ascending */
  int64_t n_ids;
  /* (node, slot) of every item, sorted by node address */
  struct zcp__ipc_dict_node {
    uintptr_t node;
    int64_t slot;
  } * by_node;
};
void zcp__ipc_dict_fields_reset(struct zcp__ipc_dict_fields *d);
/* Appends a dictionary-encoded field (in pre-order). */
zcp_status_t zcp__ipc_dict_add(struct zcp__ipc_dict_fields *d, int64_t id,
                               const struct ArrowSchema *node);
/* Indexes the fields once they are all added: slots of the distinct ids and of every
 * node. Fields that share an id must lay out their values alike, and no dictionary may be
 * used inside its own values; anything else fails with `code` (corrupt input for a
 * decoded schema, invalid argument for a caller's) naming the fields. */
zcp_status_t zcp__ipc_dict_index(struct zcp__ipc_dict_fields *d, zcp_status_t code,
                                 struct zcp_error *err);
/* The slot of dictionary `id` / of the dictionary of `node`; -1 when there is none. Both
 * are binary searches: a schema may have many. */
int64_t zcp__ipc_dict_find(const struct zcp__ipc_dict_fields *d, int64_t id);
int64_t zcp__ipc_dict_find_node(const struct zcp__ipc_dict_fields *d,
                                const struct ArrowSchema *node);

/* Type union members of Schema.fbs, and Field table fields. */
enum {
  ZCP_FB_T_NULL = 1,
  ZCP_FB_T_INT,
  ZCP_FB_T_FLOAT,
  ZCP_FB_T_BINARY,
  ZCP_FB_T_UTF8,
  ZCP_FB_T_BOOL,
  ZCP_FB_T_DECIMAL,
  ZCP_FB_T_DATE,
  ZCP_FB_T_TIME,
  ZCP_FB_T_TIMESTAMP,
  ZCP_FB_T_INTERVAL,
  ZCP_FB_T_LIST,
  ZCP_FB_T_STRUCT,
  ZCP_FB_T_UNION,
  ZCP_FB_T_FIXED_BINARY,
  ZCP_FB_T_FIXED_LIST,
  ZCP_FB_T_MAP,
  ZCP_FB_T_DURATION,
  ZCP_FB_T_LARGE_BINARY,
  ZCP_FB_T_LARGE_UTF8,
  ZCP_FB_T_LARGE_LIST,
  ZCP_FB_T_RUN_END,
  ZCP_FB_T_BINARY_VIEW,
  ZCP_FB_T_UTF8_VIEW,
  ZCP_FB_T_LIST_VIEW,
  ZCP_FB_T_LARGE_LIST_VIEW
};
/* Field table fields. */
enum {
  ZCP_FB_FIELD_NAME = 0,
  ZCP_FB_FIELD_NULLABLE = 1,
  ZCP_FB_FIELD_TYPE_TYPE = 2,
  ZCP_FB_FIELD_TYPE = 3,
  ZCP_FB_FIELD_DICTIONARY = 4,
  ZCP_FB_FIELD_CHILDREN = 5,
  ZCP_FB_FIELD_METADATA = 6
};

/* Schema table -> a "+s" ArrowSchema (schema custom_metadata on the root) and its
 * dictionary fields. out is released on error. */
zcp_status_t zcp__ipc_schema_decode(const struct zcp_fb_table *schema,
                                    struct ArrowSchema *out,
                                    struct zcp__ipc_dict_fields *dicts,
                                    struct zcp_error *err);
/* A "+s" ArrowSchema -> a Schema table (extra_metadata added to the schema's own), and
 * the dictionary fields with their ids: dict_ids[k] for the k-th dictionary-encoded field
 * in pre-order (n_dict_ids of them, exactly), or 0, 1, 2, ... when dict_ids is NULL. */
zcp_status_t zcp__ipc_schema_encode(struct zcp_fb_builder *b,
                                    const struct ArrowSchema *schema,
                                    const char *extra_metadata, const int64_t *dict_ids,
                                    int64_t n_dict_ids,
                                    struct zcp__ipc_dict_fields *dicts, zcp_fb_ref *out,
                                    struct zcp_error *err);
/* A metadata blob -> a vector of KeyValue tables (0 when the blob is empty). */
zcp_fb_ref zcp__ipc_metadata_encode(struct zcp_fb_builder *b, const char *metadata,
                                    const char *extra);
/* A vector of KeyValue -> a malloc'd metadata blob (*out NULL when empty). */
zcp_status_t zcp__ipc_metadata_decode(const struct zcp_fb_vector *kv, char **out,
                                      const char *what, struct zcp_error *err);

/* Body compression of one buffer (codec: enum zcp_ipc_compression). compress writes the
 * IPC form (int64 uncompressed length, then the compressed bytes, or -1 then the raw
 * bytes when compressing does not shrink them) into a malloc'd *out. */
zcp_status_t zcp__ipc_compress(int codec, const uint8_t *src, int64_t n, uint8_t **out,
                               int64_t *out_size, struct zcp_error *err);
/* Checks, before anything is allocated, that n compressed bytes can plausibly expand to
 * `want` bytes (the frame's stated content size, or the codec's best ratio). */
zcp_status_t zcp__ipc_decompressed_size_check(int codec, const uint8_t *src, int64_t n,
                                              int64_t want, struct zcp_error *err);
/* Decompresses exactly n bytes of src (without the length prefix) into dst of size
 * dst_size; anything else is ZCP_CORRUPT_INPUT. */
zcp_status_t zcp__ipc_decompress(int codec, const uint8_t *src, int64_t n, uint8_t *dst,
                                 int64_t dst_size, struct zcp_error *err);

/* Offset k of a 32- or 64-bit (width 4 or 8) offsets buffer, read and written with
 * memcpy because IPC bodies only promise 8-byte alignment. */
static inline int64_t zcp__ipc_load_offset(const uint8_t *p, int64_t width, int64_t k) {
  if (width == 4) {
    int32_t v;
    memcpy(&v, p + 4 * k, 4);
    return v;
  }
  int64_t v;
  memcpy(&v, p + 8 * k, 8);
  return v;
}

static inline void zcp__ipc_store_offset(uint8_t *p, int64_t width, int64_t k, int64_t v) {
  if (width == 4) {
    int32_t x = (int32_t)v;
    memcpy(p + 4 * k, &x, 4);
  } else {
    memcpy(p + 8 * k, &v, 8);
  }
}

/* ---- reading batches (read_batch.c) -------------------------------------------------
 */

/* What keeps the bytes of zero-copy arrays alive: a reference-counted mapping (or
 * caller's bytes: map NULL) plus the buffers that had to be copied or decompressed for
 * one message. Every array node of the message holds one reference. */
struct zcp__ipc_keep {
  int64_t refs; /* atomic */
  struct zcp__ipc_keep *parent;
  void *map;
  int64_t map_size;
  struct zcp_allocator *alloc;
  struct zcp__ipc_alloc {
    void *ptr;
    int64_t size;
  } * allocs;
  int64_t n_allocs, cap_allocs;
};
void zcp__ipc_keep_retain(struct zcp__ipc_keep *k);
void zcp__ipc_keep_release(void *k);

/* A dictionary as read so far, shared by the batches that use it. */
struct zcp__ipc_dict_value {
  int64_t refs; /* atomic */
  struct ArrowArray array;
};
void zcp__ipc_dict_value_release(void *v);

/* Everything one RecordBatch body decodes against. */
struct zcp__ipc_body {
  const uint8_t *data;
  int64_t size;
  int64_t length; /* RecordBatch.length */
  struct zcp_fb_vector nodes, buffers, variadic;
  int codec; /* ZCP_IPC_COMPRESSION_* */
  bool zero_copy;
  bool v4_unions; /* metadata V4: unions carry a validity buffer (always skipped) */
  struct zcp_allocator *alloc;
  struct zcp__ipc_keep *mapping; /* zero copy: the bytes' owner, NULL for caller bytes */
  const struct zcp__ipc_dict_fields *dicts;
  struct zcp__ipc_dict_value *const *dict_values; /* one per slot of dicts->ids */
  enum zcp_validate_level validation;
};

/* Fills body from a RecordBatch table over its body bytes. */
zcp_status_t zcp__ipc_body_init(struct zcp__ipc_body *body, const struct zcp_fb_table *rb,
                                const uint8_t *data, int64_t size, struct zcp_error *err);
/* Decodes a record batch of `schema` ("+s") into out, validated. */
zcp_status_t zcp__ipc_decode_batch(const struct zcp__ipc_body *body,
                                   const struct ArrowSchema *schema,
                                   struct ArrowArray *out, struct zcp_error *err);
/* Decodes a dictionary batch's values of `value_schema` into out, validated. */
zcp_status_t zcp__ipc_decode_dictionary(const struct zcp__ipc_body *body,
                                        const struct ArrowSchema *value_schema,
                                        struct ArrowArray *out, struct zcp_error *err);
/* dst = a ++ b for dictionary deltas (flat types), buffers from alloc. */
zcp_status_t zcp__ipc_concat(const struct ArrowArray *a, const struct ArrowArray *b,
                             const struct ArrowSchema *schema,
                             struct zcp_allocator *alloc, struct ArrowArray *dst,
                             struct zcp_error *err);

/* ---- writing bodies (write_body.c) ---------------------------------------------------
 */

/* One body buffer: borrowed from the caller's array, or owned (freed with the body). */
struct zcp__ipc_wbuffer {
  const uint8_t *data;
  int64_t size;
  uint8_t *owned;
  int64_t bits; /* a bitmap: the bits in use (the rest of its last byte means nothing);
                   -1 for every other buffer */
};
struct zcp__ipc_wbody {
  struct zcp__ipc_wbuffer *bufs;
  int64_t n_bufs, cap_bufs;
  uint8_t *nodes; /* FieldNode structs, little-endian */
  int64_t n_nodes, cap_nodes;
  int64_t *variadic;
  int64_t n_variadic, cap_variadic;
  bool failed; /* out of memory somewhere: the body is unusable */
};
void zcp__ipc_wbody_reset(struct zcp__ipc_wbody *b);
/* Appends elements [start, start + n) (logical indices) of v and its children. */
zcp_status_t zcp__ipc_wbody_node(struct zcp__ipc_wbody *b, const struct zcp_array_view *v,
                                 int64_t start, int64_t n);
/* Grows *p (of *cap elements of elem bytes) to hold need elements; false on no memory. */
bool zcp__ipc_grow(void **p, int64_t *cap, int64_t need, size_t elem);
/* The canonical bytes of a body: equal exactly when two bodies decode to the same
 * values. Into a malloc'd *out (false: no memory, or the body itself failed)... */
bool zcp__ipc_wbody_canon_bytes(const struct zcp__ipc_wbody *b, uint8_t **out,
                                int64_t *size);
/* ... or compared with bytes[0, size) kept from before. */
bool zcp__ipc_wbody_canon_is(const struct zcp__ipc_wbody *b, const uint8_t *bytes,
                             int64_t size);

#endif /* ZCP_IPC_INTERNAL_H */
