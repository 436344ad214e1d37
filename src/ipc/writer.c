/* Arrow IPC writer: stream and file formats. A record batch becomes a Message with a
 * RecordBatch header (FieldNodes in pre-order, Buffers with body offsets) followed by its
 * body (write_body.c), and Message.custom_metadata when the caller gives some;
 * dictionaries go first as DictionaryBatch messages, once per id however many fields
 * share it, and only when they changed: whole, or as a delta of the new values when the
 * caller allows deltas and the dictionary only grew.
 * Every message starts at a multiple of 64 bytes from the start of the output and every
 * body buffer at a multiple of 64 within its body, so that a reader mapping the output
 * can point into it. The writer never modifies the caller's arrays. */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "ipc/internal.h"

#define PAD 64

struct block {
  int64_t offset;
  int32_t meta_len;
  int64_t body_len;
};

struct blocks {
  struct block *items;
  int64_t n, cap;
};

/* What the writer knows of one dictionary (one slot of dicts): the canonical bytes and
 * length of the values last sent, so that the next batch's dictionary can be told
 * unchanged (nothing to send), grown (a delta of the new values) or different (a
 * replacement). The bytes are kept, not a hash of them: a collision would silently keep
 * a stale dictionary. Memory: one copy of every dictionary's values. */
struct dict_state {
  bool written;
  int64_t length;
  uint8_t *canon;
  int64_t canon_size;
};

struct zcp_ipc_writer {
  enum zcp_ipc_format format;
  struct zcp_ipc_sink sink;
  struct zcp_ipc_write_options opts;
  char *extra_metadata;
  struct ArrowSchema schema;
  struct zcp__ipc_dict_fields dicts;
  int64_t *dict_ids;             /* the caller's ids (our copy), or NULL */
  struct dict_state *dict_state; /* one per slot */
  int64_t pos;
  struct blocks dict_blocks, batch_blocks;
};

/* A DictionaryBatch to write around a body. */
struct dict_msg {
  int64_t id;
  bool delta;
};

void zcp_ipc_write_options_init(struct zcp_ipc_write_options *opts) {
  memset(opts, 0, sizeof *opts);
}

/* ---- messages -----------------------------------------------------------------------
 */

static zcp_status_t emit(struct zcp_ipc_writer *w, const void *data, int64_t size,
                         struct zcp_error *err) {
  if (size == 0) return ZCP_OK;
  ZCP_RETURN_NOT_OK(w->sink.write(w->sink.ctx, data, size, err));
  w->pos += size;
  return ZCP_OK;
}

static zcp_status_t emit_zeros(struct zcp_ipc_writer *w, int64_t n,
                               struct zcp_error *err) {
  static const uint8_t zeros[PAD];
  return emit(w, zeros, n, err);
}

/* Writes one framed message: marker, metadata length, metadata padded so that the body
 * starts at a multiple of PAD, then the body buffers (each at a multiple of PAD). */
static zcp_status_t emit_message(struct zcp_ipc_writer *w, const uint8_t *meta,
                                 int64_t meta_size, const struct zcp__ipc_wbody *b,
                                 const int64_t *offs, int64_t body_len, struct block *blk,
                                 struct zcp_error *err) {
  int64_t start = w->pos;
  int64_t padded = zcp__round_up(start + 8 + meta_size, PAD) - start - 8;
  uint8_t prefix[8];
  zcp__store_le32(prefix, ZCP_IPC_CONTINUATION);
  zcp__store_le32(prefix + 4, (uint32_t)padded);
  ZCP_RETURN_NOT_OK(emit(w, prefix, 8, err));
  ZCP_RETURN_NOT_OK(emit(w, meta, meta_size, err));
  ZCP_RETURN_NOT_OK(emit_zeros(w, padded - meta_size, err));
  int64_t body_start = w->pos;
  for (int64_t i = 0; b != NULL && i < b->n_bufs; i++) {
    ZCP_RETURN_NOT_OK(emit_zeros(w, body_start + offs[i] - w->pos, err));
    ZCP_RETURN_NOT_OK(emit(w, b->bufs[i].data, b->bufs[i].size, err));
  }
  ZCP_RETURN_NOT_OK(emit_zeros(w, body_start + body_len - w->pos, err));
  if (blk != NULL) *blk = (struct block){start, (int32_t)(padded + 8), body_len};
  if (w->opts.progress != NULL) w->opts.progress(w->opts.progress_ctx, w->pos, -1);
  return ZCP_OK;
}

/* Message table around a header already in the builder; kv is a vector of KeyValue
 * (Message.custom_metadata) or 0. */
static zcp_status_t finish_message(struct zcp_fb_builder *fb, uint8_t type,
                                   zcp_fb_ref header, int64_t body_len, zcp_fb_ref kv,
                                   const uint8_t **meta, int64_t *size,
                                   struct zcp_error *err) {
  zcp__fb_table_start(fb);
  zcp__fb_add_scalar(fb, ZCP_FB_MSG_VERSION, 2, ZCP_FB_VERSION_V5);
  zcp__fb_add_scalar(fb, ZCP_FB_MSG_HEADER_TYPE, 1, type);
  zcp__fb_add_ref(fb, ZCP_FB_MSG_HEADER, header);
  zcp__fb_add_scalar(fb, ZCP_FB_MSG_BODY_LENGTH, 8, (uint64_t)body_len);
  if (kv) zcp__fb_add_ref(fb, ZCP_FB_MSG_METADATA, kv);
  zcp_fb_ref msg = zcp__fb_table_end(fb);
  return zcp__fb_finish(fb, msg, meta, size, err);
}

static zcp_status_t push_block(struct blocks *bl, struct block blk,
                               struct zcp_error *err) {
  if (!zcp__ipc_grow((void **)&bl->items, &bl->cap, bl->n + 1, sizeof *bl->items)) {
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for the file index");
  }
  bl->items[bl->n++] = blk;
  return ZCP_OK;
}

/* Compresses the body buffers if asked, lays them out, and writes a RecordBatch (or a
 * DictionaryBatch around it when dict is not NULL) message, with Message.custom_metadata
 * when metadata is not NULL. */
static zcp_status_t write_batch_message(struct zcp_ipc_writer *w,
                                        struct zcp__ipc_wbody *b, int64_t length,
                                        const struct dict_msg *dict, const char *metadata,
                                        struct zcp_error *err) {
  if (b->failed)
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for a batch body");
  int codec = w->opts.compression;
  for (int64_t i = 0; codec != ZCP_IPC_COMPRESSION_NONE && i < b->n_bufs; i++) {
    if (b->bufs[i].size == 0) continue;
    uint8_t *c;
    int64_t csize;
    ZCP_RETURN_NOT_OK(
        zcp__ipc_compress(codec, b->bufs[i].data, b->bufs[i].size, &c, &csize, err));
    free(b->bufs[i].owned);
    b->bufs[i] = (struct zcp__ipc_wbuffer){c, csize, c, -1};
  }
  int64_t *offs = malloc((size_t)(b->n_bufs + 1) * sizeof *offs);
  uint8_t *descr = malloc((size_t)(b->n_bufs + 1) * ZCP_FB_BUFFER_SIZE);
  uint8_t *variadic = malloc((size_t)(b->n_variadic + 1) * 8);
  zcp_status_t st = ZCP_OK;
  if (offs == NULL || descr == NULL || variadic == NULL) {
    st = zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for a batch body");
  }
  int64_t body_len = 0;
  for (int64_t i = 0; st == ZCP_OK && i < b->n_bufs; i++) {
    offs[i] = body_len;
    zcp__store_le64(descr + i * 16, (uint64_t)body_len);
    zcp__store_le64(descr + i * 16 + 8, (uint64_t)b->bufs[i].size);
    body_len = zcp__round_up(body_len + b->bufs[i].size, PAD);
  }
  for (int64_t i = 0; st == ZCP_OK && i < b->n_variadic; i++) {
    zcp__store_le64(variadic + 8 * i, (uint64_t)b->variadic[i]);
  }
  struct zcp_fb_builder fb;
  zcp__fb_builder_init(&fb);
  if (st == ZCP_OK) {
    zcp_fb_ref comp = 0, vcounts = 0;
    zcp_fb_ref nodes = zcp__fb_vector_create(&fb, b->nodes, b->n_nodes, 16, 8);
    zcp_fb_ref bufs = zcp__fb_vector_create(&fb, descr, b->n_bufs, 16, 8);
    if (b->n_variadic)
      vcounts = zcp__fb_vector_create(&fb, variadic, b->n_variadic, 8, 8);
    if (codec != ZCP_IPC_COMPRESSION_NONE) {
      zcp__fb_table_start(&fb);
      zcp__fb_add_scalar(&fb, 0, 1,
                         codec == ZCP_IPC_COMPRESSION_ZSTD); /* LZ4_FRAME 0, ZSTD 1 */
      zcp__fb_add_scalar(&fb, 1, 1, 0);                      /* BUFFER */
      comp = zcp__fb_table_end(&fb);
    }
    zcp__fb_table_start(&fb);
    zcp__fb_add_scalar(&fb, ZCP_FB_RB_LENGTH, 8, (uint64_t)length);
    zcp__fb_add_ref(&fb, ZCP_FB_RB_NODES, nodes);
    zcp__fb_add_ref(&fb, ZCP_FB_RB_BUFFERS, bufs);
    if (comp) zcp__fb_add_ref(&fb, ZCP_FB_RB_COMPRESSION, comp);
    if (vcounts) zcp__fb_add_ref(&fb, ZCP_FB_RB_VARIADIC, vcounts);
    zcp_fb_ref header = zcp__fb_table_end(&fb);
    uint8_t type = ZCP_FB_HEADER_BATCH;
    if (dict != NULL) {
      zcp__fb_table_start(&fb);
      zcp__fb_add_scalar(&fb, ZCP_FB_DB_ID, 8, (uint64_t)dict->id);
      zcp__fb_add_ref(&fb, ZCP_FB_DB_DATA, header);
      zcp__fb_add_scalar(&fb, ZCP_FB_DB_DELTA, 1, dict->delta);
      header = zcp__fb_table_end(&fb);
      type = ZCP_FB_HEADER_DICTIONARY;
    }
    zcp_fb_ref kv = zcp__ipc_metadata_encode(&fb, metadata, NULL);
    const uint8_t *meta;
    int64_t meta_size;
    struct block blk;
    st = finish_message(&fb, type, header, body_len, kv, &meta, &meta_size, err);
    if (st == ZCP_OK) st = emit_message(w, meta, meta_size, b, offs, body_len, &blk, err);
    if (st == ZCP_OK && w->format == ZCP_IPC_FILE) {
      st = push_block(dict != NULL ? &w->dict_blocks : &w->batch_blocks, blk, err);
    }
  }
  zcp__fb_builder_reset(&fb);
  free(offs);
  free(descr);
  free(variadic);
  return st;
}

/* ---- dictionaries -------------------------------------------------------------------
 */

/* Whether a body's canonical bytes are exactly canon[0, size). */
static bool body_is(const struct zcp__ipc_wbody *b, const uint8_t *canon, int64_t size) {
  return zcp__ipc_wbody_canon_is(b, canon, size);
}

/* A dictionary-encoded field of the batch being written: its dictionary values, and the
 * dictionary-encoded fields nested in those values (items k + 1 .. end - 1). */
struct dict_item {
  const struct zcp_array_view *values;
  int64_t end;
};

/* Items in the pre-order the schema encoder gave ids in. */
static void collect_dicts(const struct zcp_array_view *v, struct dict_item *out,
                          int64_t *n, int64_t max) {
  const struct zcp_array_view *value = v->dictionary ? v->dictionary : v;
  int64_t me = -1;
  if (v->dictionary != NULL && *n < max) {
    me = (*n)++;
    out[me].values = v->dictionary;
  }
  for (int64_t i = 0; i < value->n_children; i++)
    collect_dicts(&value->children[i], out, n, max);
  if (me >= 0) out[me].end = *n;
}

static const char *field_name(const struct zcp_ipc_writer *w, int64_t k) {
  const char *name = w->dicts.items[k].node->name;
  return name != NULL ? name : "";
}

/* Sends the dictionary of item k (for every field of its slot) if it is not what the
 * reader holds already: nothing when unchanged, a delta when it only grew and deltas are
 * on, else the whole dictionary (a replacement, which a file cannot have). replaced[]
 * marks slots replaced in this batch. */
static zcp_status_t write_dictionary(struct zcp_ipc_writer *w,
                                     const struct dict_item *items, int64_t n, int64_t k,
                                     bool *replaced, struct zcp_error *err) {
  const struct zcp__ipc_dict_field *f = &w->dicts.items[k];
  struct dict_state *ds = &w->dict_state[f->slot];
  const struct zcp_array_view *v = items[k].values;
  struct zcp__ipc_wbody whole, part;
  struct {
    uint8_t *data;
    int64_t size;
  } cur = {NULL, 0};
  memset(&whole, 0, sizeof whole);
  memset(&part, 0, sizeof part);
  zcp_status_t st = zcp__ipc_wbody_node(&whole, v, 0, v->length);
  if (st != ZCP_OK) {
    return zcp_error_set(err, st, "ipc: cannot write dictionary %lld (%s values)",
                         (long long)f->id, zcp_type_name(v->format.type));
  }
  if (!zcp__ipc_wbody_canon_bytes(&whole, &cur.data, &cur.size)) {
    st = zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for dictionary %lld",
                       (long long)f->id);
  }
  /* fields that share the dictionary must bring the same one */
  for (int64_t j = 0; st == ZCP_OK && j < n; j++) {
    if (j == k || w->dicts.items[j].slot != f->slot) continue;
    st = zcp__ipc_wbody_node(&part, items[j].values, 0, items[j].values->length);
    if (st == ZCP_OK && part.failed) st = ZCP_OUT_OF_MEMORY;
    if (st == ZCP_OK && !body_is(&part, cur.data, cur.size)) {
      st = zcp_error_set(
          err, ZCP_INVALID_ARGUMENT,
          "fields '%s' and '%s' share dictionary %lld, but this batch gives "
          "them different dictionaries",
          field_name(w, j < k ? j : k), field_name(w, j < k ? k : j), (long long)f->id);
    } else if (st != ZCP_OK) {
      zcp_error_set(err, st, "ipc: cannot write dictionary %lld", (long long)f->id);
    }
    zcp__ipc_wbody_reset(&part);
  }
  /* a dictionary nested in these values that was replaced leaves these indices pointing
   * at other values: this one must be sent again whole */
  bool stale = false;
  for (int64_t j = k + 1; j < items[k].end; j++)
    stale |= replaced[w->dicts.items[j].slot];
  bool unchanged =
      st == ZCP_OK && ds->written && !stale && body_is(&whole, ds->canon, ds->canon_size);
  bool delta = false;
  if (st == ZCP_OK && !unchanged && ds->written && !stale && w->opts.dictionary_deltas &&
      v->length > ds->length) {
    st = zcp__ipc_wbody_node(&part, v, 0, ds->length);
    delta = st == ZCP_OK && !part.failed && body_is(&part, ds->canon, ds->canon_size);
    zcp__ipc_wbody_reset(&part);
  }
  if (st == ZCP_OK && !unchanged && ds->written && !delta && w->format == ZCP_IPC_FILE) {
    st =
        zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                      "dictionary %lld (field '%s') changed: the IPC file format cannot "
                      "replace a dictionary, only extend it (dictionary_deltas, when the "
                      "new one starts with the old values)",
                      (long long)f->id, field_name(w, k));
  }
  if (st == ZCP_OK && !unchanged) {
    if (delta) {
      st = zcp__ipc_wbody_node(&part, v, ds->length, v->length - ds->length);
      struct dict_msg m = {f->id, true};
      if (st == ZCP_OK)
        st = write_batch_message(w, &part, v->length - ds->length, &m, NULL, err);
    } else {
      struct dict_msg m = {f->id, false};
      st = write_batch_message(w, &whole, v->length, &m, NULL, err);
      replaced[f->slot] = ds->written;
    }
    if (st == ZCP_OK) {
      free(ds->canon);
      *ds = (struct dict_state){true, v->length, cur.data, cur.size};
      cur.data = NULL;
    }
  }
  free(cur.data);
  zcp__ipc_wbody_reset(&whole);
  zcp__ipc_wbody_reset(&part);
  return st;
}

static zcp_status_t write_dictionaries(struct zcp_ipc_writer *w,
                                       const struct zcp_array_view *root,
                                       struct zcp_error *err) {
  int64_t n = 0, max = w->dicts.n;
  if (max == 0) return ZCP_OK;
  struct dict_item *items = calloc((size_t)max, sizeof *items);
  bool *done = calloc((size_t)w->dicts.n_ids, sizeof *done);
  bool *replaced = calloc((size_t)w->dicts.n_ids, sizeof *replaced);
  zcp_status_t st = ZCP_OK;
  if (items == NULL || done == NULL || replaced == NULL) {
    st = zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for dictionaries");
  }
  for (int64_t i = 0; st == ZCP_OK && i < root->n_children; i++)
    collect_dicts(&root->children[i], items, &n, max);
  /* Reverse pre-order: a dictionary nested in another's values is written first; a
   * shared one once, where it is met first. */
  for (int64_t k = n - 1; st == ZCP_OK && k >= 0; k--) {
    int64_t slot = w->dicts.items[k].slot;
    if (done[slot]) continue;
    done[slot] = true;
    st = write_dictionary(w, items, n, k, replaced, err);
  }
  free(items);
  free(done);
  free(replaced);
  return st;
}

/* ---- public API ---------------------------------------------------------------------
 */

static void writer_free(struct zcp_ipc_writer *w) {
  zcp_schema_release(&w->schema);
  for (int64_t i = 0; w->dict_state != NULL && i < w->dicts.n_ids; i++) {
    free(w->dict_state[i].canon);
  }
  free(w->dict_state);
  zcp__ipc_dict_fields_reset(&w->dicts);
  free(w->dict_ids);
  free(w->extra_metadata);
  free(w->dict_blocks.items);
  free(w->batch_blocks.items);
  free(w);
}

static zcp_status_t write_schema_message(struct zcp_ipc_writer *w,
                                         struct zcp_error *err) {
  struct zcp_fb_builder fb;
  zcp__fb_builder_init(&fb);
  zcp_fb_ref schema;
  const uint8_t *meta;
  int64_t size;
  zcp_status_t st =
      zcp__ipc_schema_encode(&fb, &w->schema, w->extra_metadata, w->dict_ids,
                             w->opts.n_dictionary_ids, &w->dicts, &schema, err);
  if (st == ZCP_OK) st = zcp__ipc_dict_index(&w->dicts, ZCP_INVALID_ARGUMENT, err);
  if (st == ZCP_OK)
    st = finish_message(&fb, ZCP_FB_HEADER_SCHEMA, schema, 0, 0, &meta, &size, err);
  if (st == ZCP_OK) st = emit_message(w, meta, size, NULL, NULL, 0, NULL, err);
  zcp__fb_builder_reset(&fb);
  return st;
}

zcp_status_t zcp_ipc_writer_open(enum zcp_ipc_format format,
                                 const struct ArrowSchema *schema,
                                 const struct zcp_ipc_sink *sink,
                                 const struct zcp_ipc_write_options *opts,
                                 struct zcp_ipc_writer **out, struct zcp_error *err) {
  if (out == NULL || schema == NULL || sink == NULL || sink->write == NULL ||
      (format != ZCP_IPC_STREAM && format != ZCP_IPC_FILE)) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "IPC writer: bad argument");
  }
  *out = NULL;
  struct zcp_ipc_writer *w = calloc(1, sizeof *w);
  if (w == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for a writer");
  w->format = format;
  w->sink = *sink;
  if (opts != NULL) w->opts = *opts;
  if (w->opts.compression < ZCP_IPC_COMPRESSION_NONE ||
      w->opts.compression > ZCP_IPC_COMPRESSION_ZSTD) {
    writer_free(w);
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "unknown compression %d",
                         (int)w->opts.compression);
  }
  zcp_status_t st = ZCP_OK;
  if (w->opts.custom_metadata != NULL) {
    int64_t n = zcp_metadata_size(w->opts.custom_metadata);
    w->extra_metadata = n > 0 ? malloc((size_t)n) : NULL;
    if (n < 0)
      st = zcp_error_set(err, ZCP_INVALID_ARGUMENT, "custom metadata is malformed");
    else if (n > 0 && w->extra_metadata == NULL)
      st = ZCP_OUT_OF_MEMORY;
    else if (n > 0)
      memcpy(w->extra_metadata, w->opts.custom_metadata, (size_t)n);
  }
  w->opts.custom_metadata = NULL;
  if (st == ZCP_OK && w->opts.dictionary_ids != NULL) {
    int64_t n = w->opts.n_dictionary_ids;
    w->dict_ids = n >= 0 ? malloc((size_t)(n + 1) * sizeof *w->dict_ids) : NULL;
    if (n < 0) {
      st = zcp_error_set(err, ZCP_INVALID_ARGUMENT, "n_dictionary_ids %lld is negative",
                         (long long)n);
    } else if (w->dict_ids == NULL) {
      st = zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for a writer");
    } else if (n > 0) {
      memcpy(w->dict_ids, w->opts.dictionary_ids, (size_t)n * sizeof *w->dict_ids);
    }
  }
  w->opts.dictionary_ids = NULL;
  if (st == ZCP_OK) st = zcp_schema_copy(schema, &w->schema, err);
  if (st == ZCP_OK && format == ZCP_IPC_FILE) st = emit(w, "ARROW1\0\0", 8, err);
  if (st == ZCP_OK) st = write_schema_message(w, err);
  if (st == ZCP_OK) {
    w->dict_state = calloc((size_t)(w->dicts.n_ids + 1), sizeof *w->dict_state);
    if (w->dict_state == NULL) {
      st = zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for a writer");
    }
  }
  if (st != ZCP_OK) {
    writer_free(w);
    return st;
  }
  *out = w;
  return ZCP_OK;
}

zcp_status_t zcp_ipc_writer_write(struct zcp_ipc_writer *w,
                                  const struct ArrowArray *batch, struct zcp_error *err) {
  return zcp_ipc_writer_write_with_metadata(w, batch, NULL, err);
}

zcp_status_t zcp_ipc_writer_write_with_metadata(struct zcp_ipc_writer *w,
                                                const struct ArrowArray *batch,
                                                const char *metadata,
                                                struct zcp_error *err) {
  if (w == NULL || batch == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "IPC writer: NULL argument");
  }
  if (zcp_metadata_size(metadata) < 0) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "IPC writer: batch metadata is malformed");
  }
  ZCP_RETURN_NOT_OK(zcp_array_validate(batch, &w->schema, ZCP_VALIDATE_DEFAULT, err));
  struct zcp_array_view v;
  ZCP_RETURN_NOT_OK(zcp_array_view_init(batch, &w->schema, &v, err));
  zcp_status_t st = write_dictionaries(w, &v, err);
  struct zcp__ipc_wbody b;
  memset(&b, 0, sizeof b);
  for (int64_t i = 0; st == ZCP_OK && i < v.n_children; i++) {
    st = zcp__ipc_wbody_node(&b, &v.children[i], v.offset, v.length);
    if (st != ZCP_OK) {
      const char *name = v.children[i].schema->name;
      zcp_error_set(err, st, "ipc: cannot write column '%s' (%s)", name ? name : "",
                    zcp_type_name(v.children[i].format.type));
    }
  }
  if (st == ZCP_OK) st = write_batch_message(w, &b, v.length, NULL, metadata, err);
  zcp__ipc_wbody_reset(&b);
  zcp_array_view_reset(&v);
  return st;
}

zcp_status_t zcp_ipc_writer_write_table(struct zcp_ipc_writer *w,
                                        const struct zcp_table *t,
                                        struct zcp_error *err) {
  if (w == NULL || t == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "IPC writer: NULL argument");
  }
  for (int64_t i = 0; i < zcp_table_num_batches(t); i++) {
    ZCP_RETURN_NOT_OK(zcp_ipc_writer_write(w, zcp_table_batch(t, i), err));
  }
  return ZCP_OK;
}

static zcp_fb_ref blocks_vector(struct zcp_fb_builder *fb, const struct blocks *bl) {
  uint8_t *raw = calloc((size_t)(bl->n + 1), ZCP_FB_BLOCK_SIZE);
  if (raw == NULL) {
    fb->failed = true;
    return 0;
  }
  for (int64_t i = 0; i < bl->n; i++) {
    uint8_t *p = raw + i * ZCP_FB_BLOCK_SIZE;
    zcp__store_le64(p, (uint64_t)bl->items[i].offset);
    zcp__store_le32(p + 8, (uint32_t)bl->items[i].meta_len);
    zcp__store_le64(p + 16, (uint64_t)bl->items[i].body_len);
  }
  zcp_fb_ref r = zcp__fb_vector_create(fb, raw, bl->n, ZCP_FB_BLOCK_SIZE, 8);
  free(raw);
  return r;
}

static zcp_status_t write_footer(struct zcp_ipc_writer *w, struct zcp_error *err) {
  struct zcp_fb_builder fb;
  struct zcp__ipc_dict_fields dicts;
  memset(&dicts, 0, sizeof dicts);
  zcp__fb_builder_init(&fb);
  zcp_fb_ref schema;
  const uint8_t *data;
  int64_t size;
  zcp_status_t st =
      zcp__ipc_schema_encode(&fb, &w->schema, w->extra_metadata, w->dict_ids,
                             w->opts.n_dictionary_ids, &dicts, &schema, err);
  if (st == ZCP_OK) {
    zcp_fb_ref dblocks = blocks_vector(&fb, &w->dict_blocks);
    zcp_fb_ref rblocks = blocks_vector(&fb, &w->batch_blocks);
    zcp__fb_table_start(&fb);
    zcp__fb_add_scalar(&fb, ZCP_FB_FOOTER_VERSION, 2, ZCP_FB_VERSION_V5);
    zcp__fb_add_ref(&fb, ZCP_FB_FOOTER_SCHEMA, schema);
    zcp__fb_add_ref(&fb, ZCP_FB_FOOTER_DICTIONARIES, dblocks);
    zcp__fb_add_ref(&fb, ZCP_FB_FOOTER_BATCHES, rblocks);
    st = zcp__fb_finish(&fb, zcp__fb_table_end(&fb), &data, &size, err);
  }
  uint8_t tail[10];
  zcp__store_le32(tail, (uint32_t)size);
  memcpy(tail + 4, "ARROW1", 6);
  if (st == ZCP_OK) st = emit(w, data, size, err);
  if (st == ZCP_OK) st = emit(w, tail, 10, err);
  zcp__fb_builder_reset(&fb);
  zcp__ipc_dict_fields_reset(&dicts);
  return st;
}

zcp_status_t zcp_ipc_writer_close(struct zcp_ipc_writer *w, struct zcp_error *err) {
  if (w == NULL) return ZCP_OK;
  uint8_t eos[8];
  zcp__store_le32(eos, ZCP_IPC_CONTINUATION);
  zcp__store_le32(eos + 4, 0);
  zcp_status_t st = emit(w, eos, 8, err);
  if (st == ZCP_OK && w->format == ZCP_IPC_FILE) st = write_footer(w, err);
  if (st == ZCP_OK && w->opts.progress != NULL) {
    w->opts.progress(w->opts.progress_ctx, w->pos, w->pos);
  }
  writer_free(w);
  return st;
}
