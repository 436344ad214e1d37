/* Arrow IPC writer: stream and file formats. A record batch becomes a Message with a
 * RecordBatch header (FieldNodes in pre-order, Buffers with body offsets) followed by its
 * body; dictionaries go first as DictionaryBatch messages. Arrays with offsets are
 * written as what they show, not what they hold: buffers are sliced, bitmaps re-packed
 * when their offset is not a multiple of 8, offsets rebased to 0 and run ends cut.
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

struct zcp_ipc_writer {
  enum zcp_ipc_format format;
  struct zcp_ipc_sink sink;
  struct zcp_ipc_write_options opts;
  char *extra_metadata;
  struct ArrowSchema schema;
  struct zcp__ipc_dict_fields dicts;
  uint64_t *dict_hash;
  bool *dict_written;
  int64_t pos;
  struct blocks dict_blocks, batch_blocks;
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

/* Message table around a header already in the builder. */
static zcp_status_t finish_message(struct zcp_fb_builder *fb, uint8_t type,
                                   zcp_fb_ref header, int64_t body_len,
                                   const uint8_t **meta, int64_t *size,
                                   struct zcp_error *err) {
  zcp__fb_table_start(fb);
  zcp__fb_add_scalar(fb, ZCP_FB_MSG_VERSION, 2, ZCP_FB_VERSION_V5);
  zcp__fb_add_scalar(fb, ZCP_FB_MSG_HEADER_TYPE, 1, type);
  zcp__fb_add_ref(fb, ZCP_FB_MSG_HEADER, header);
  zcp__fb_add_scalar(fb, ZCP_FB_MSG_BODY_LENGTH, 8, (uint64_t)body_len);
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
 * DictionaryBatch around it when dict_id >= 0) message. */
static zcp_status_t write_batch_message(struct zcp_ipc_writer *w, struct zcp__ipc_wbody *b,
                                        int64_t length, int64_t dict_id,
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
    if (dict_id >= 0) {
      zcp__fb_table_start(&fb);
      zcp__fb_add_scalar(&fb, ZCP_FB_DB_ID, 8, (uint64_t)dict_id);
      zcp__fb_add_ref(&fb, ZCP_FB_DB_DATA, header);
      zcp__fb_add_scalar(&fb, ZCP_FB_DB_DELTA, 1, 0);
      header = zcp__fb_table_end(&fb);
      type = ZCP_FB_HEADER_DICTIONARY;
    }
    const uint8_t *meta;
    int64_t meta_size;
    struct block blk;
    st = finish_message(&fb, type, header, body_len, &meta, &meta_size, err);
    if (st == ZCP_OK) st = emit_message(w, meta, meta_size, b, offs, body_len, &blk, err);
    if (st == ZCP_OK && w->format == ZCP_IPC_FILE) {
      st = push_block(dict_id >= 0 ? &w->dict_blocks : &w->batch_blocks, blk, err);
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

/* Dictionary value views in the pre-order the schema encoder gave ids in. */
static void collect_dicts(const struct zcp_array_view *v,
                          const struct zcp_array_view **out, int64_t *n, int64_t max) {
  const struct zcp_array_view *value = v->dictionary ? v->dictionary : v;
  if (v->dictionary != NULL && *n < max) out[(*n)++] = v->dictionary;
  for (int64_t i = 0; i < value->n_children; i++)
    collect_dicts(&value->children[i], out, n, max);
}

static uint64_t fnv(uint64_t h, const void *data, int64_t size) {
  const uint8_t *p = data;
  for (int64_t i = 0; i < size; i++) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

static zcp_status_t write_dictionaries(struct zcp_ipc_writer *w,
                                       const struct zcp_array_view *root,
                                       struct zcp_error *err) {
  int64_t n = 0, max = w->dicts.n;
  if (max == 0) return ZCP_OK;
  const struct zcp_array_view **views = calloc((size_t)max, sizeof *views);
  if (views == NULL)
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for dictionaries");
  for (int64_t i = 0; i < root->n_children; i++)
    collect_dicts(&root->children[i], views, &n, max);
  zcp_status_t st = ZCP_OK;
  /* Reverse pre-order: a dictionary nested in another's values is written first. */
  for (int64_t k = n - 1; st == ZCP_OK && k >= 0; k--) {
    struct zcp__ipc_wbody b;
    memset(&b, 0, sizeof b);
    st = zcp__ipc_wbody_node(&b, views[k], 0, views[k]->length);
    if (st != ZCP_OK) {
      zcp_error_set(err, st, "ipc: cannot write dictionary %lld (%s values)",
                    (long long)w->dicts.items[k].id, zcp_type_name(views[k]->format.type));
    }
    uint64_t h = fnv(0xcbf29ce484222325ull, b.nodes, b.n_nodes * ZCP_FB_FIELD_NODE_SIZE);
    for (int64_t i = 0; i < b.n_bufs; i++) {
      h = fnv(h, &b.bufs[i].size, 8);
      h = fnv(h, b.bufs[i].data, b.bufs[i].size);
    }
    if (st == ZCP_OK && !(w->dict_written[k] && w->dict_hash[k] == h)) {
      if (w->dict_written[k] && w->format == ZCP_IPC_FILE) {
        st = zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                           "dictionary %lld changed: the IPC file format cannot replace "
                           "a dictionary",
                           (long long)w->dicts.items[k].id);
      } else {
        st = write_batch_message(w, &b, views[k]->length, w->dicts.items[k].id, err);
        w->dict_written[k] = true;
        w->dict_hash[k] = h;
      }
    }
    zcp__ipc_wbody_reset(&b);
  }
  free(views);
  return st;
}

/* ---- public API ---------------------------------------------------------------------
 */

static void writer_free(struct zcp_ipc_writer *w) {
  zcp_schema_release(&w->schema);
  zcp__ipc_dict_fields_reset(&w->dicts);
  free(w->dict_hash);
  free(w->dict_written);
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
      zcp__ipc_schema_encode(&fb, &w->schema, w->extra_metadata, &w->dicts, &schema, err);
  if (st == ZCP_OK)
    st = finish_message(&fb, ZCP_FB_HEADER_SCHEMA, schema, 0, &meta, &size, err);
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
  if (st == ZCP_OK) st = zcp_schema_copy(schema, &w->schema, err);
  if (st == ZCP_OK && format == ZCP_IPC_FILE) st = emit(w, "ARROW1\0\0", 8, err);
  if (st == ZCP_OK) st = write_schema_message(w, err);
  if (st == ZCP_OK) {
    w->dict_hash = calloc((size_t)(w->dicts.n + 1), sizeof *w->dict_hash);
    w->dict_written = calloc((size_t)(w->dicts.n + 1), sizeof *w->dict_written);
    if (w->dict_hash == NULL || w->dict_written == NULL) {
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
  if (w == NULL || batch == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "IPC writer: NULL argument");
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
  if (st == ZCP_OK) st = write_batch_message(w, &b, v.length, -1, err);
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
      zcp__ipc_schema_encode(&fb, &w->schema, w->extra_metadata, &dicts, &schema, err);
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
