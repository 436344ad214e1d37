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

struct body_buffer {
  const uint8_t *data;
  int64_t size;
  uint8_t *owned; /* freed with the body */
};

struct body {
  struct body_buffer *bufs;
  int64_t n_bufs, cap_bufs;
  uint8_t *nodes; /* FieldNode structs, little-endian */
  int64_t n_nodes, cap_nodes;
  int64_t *variadic;
  int64_t n_variadic, cap_variadic;
  bool failed;
};

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

/* ---- body assembly ------------------------------------------------------------------
 */

static void body_reset(struct body *b) {
  for (int64_t i = 0; i < b->n_bufs; i++) free(b->bufs[i].owned);
  free(b->bufs);
  free(b->nodes);
  free(b->variadic);
  memset(b, 0, sizeof *b);
}

static bool grow(void **p, int64_t *cap, int64_t need, size_t elem) {
  if (need <= *cap) return true;
  int64_t c = *cap ? *cap * 2 : 16;
  while (c < need) c *= 2;
  void *q = realloc(*p, (size_t)c * elem);
  if (q == NULL) return false;
  *p = q;
  *cap = c;
  return true;
}

static void push_node(struct body *b, int64_t length, int64_t null_count) {
  if (!grow((void **)&b->nodes, &b->cap_nodes, b->n_nodes + 1, ZCP_FB_FIELD_NODE_SIZE)) {
    b->failed = true;
    return;
  }
  uint8_t *p = b->nodes + b->n_nodes++ * ZCP_FB_FIELD_NODE_SIZE;
  zcp__store_le64(p, (uint64_t)length);
  zcp__store_le64(p + 8, (uint64_t)null_count);
}

/* Adds a buffer; owned (may be NULL) becomes the body's. */
static void push_buffer(struct body *b, const void *data, int64_t size, uint8_t *owned) {
  if (!grow((void **)&b->bufs, &b->cap_bufs, b->n_bufs + 1, sizeof *b->bufs)) {
    b->failed = true;
    free(owned);
    return;
  }
  b->bufs[b->n_bufs++] = (struct body_buffer){data, data ? size : 0, owned};
}

static uint8_t *owned_buffer(struct body *b, int64_t size) {
  uint8_t *p = calloc(1, (size_t)(size ? size : 1));
  if (p == NULL) b->failed = true;
  return p;
}

static int64_t count_nulls(const uint8_t *bits, int64_t start, int64_t n) {
  if (bits == NULL) return 0;
  int64_t set = 0, i = start, end = start + n;
  for (; i < end && (i & 7) != 0; i++) set += zcp__bit_get(bits, i);
  for (; end - i >= 8; i += 8) set += __builtin_popcount(bits[i >> 3]);
  for (; i < end; i++) set += zcp__bit_get(bits, i);
  return n - set;
}

/* Bits [start, start + n) of a bitmap as a buffer starting at bit 0. */
static void push_bitmap(struct body *b, const uint8_t *bits, int64_t start, int64_t n) {
  int64_t bytes = zcp__bitmap_bytes(n);
  if (bits == NULL || n == 0) {
    push_buffer(b, NULL, 0, NULL);
  } else if (start % 8 == 0) {
    push_buffer(b, bits + start / 8, bytes, NULL);
  } else {
    uint8_t *p = owned_buffer(b, bytes);
    for (int64_t i = 0; p != NULL && i < n; i++)
      zcp__bit_set(p, i, zcp__bit_get(bits, start + i));
    push_buffer(b, p, bytes, p);
  }
}

/* Offsets [abs, abs + n] rebased to start at 0; first and last get the original bounds.
 */
static void push_offsets(struct body *b, const uint8_t *offs, int64_t width, int64_t abs,
                         int64_t n, int64_t *first, int64_t *last) {
  int64_t size = (n + 1) * width;
  /* An empty array may have no offsets buffer, or an offset past its child's end that
   * must not be read through: either way it is written as the single offset 0. */
  if (offs == NULL || n == 0) {
    uint8_t *p = owned_buffer(b, size);
    *first = *last = 0;
    push_buffer(b, p, size, p);
    return;
  }
  *first = zcp__ipc_load_offset(offs, width, abs);
  *last = zcp__ipc_load_offset(offs, width, abs + n);
  if (*first == 0) {
    push_buffer(b, offs + abs * width, size, NULL);
    return;
  }
  uint8_t *p = owned_buffer(b, size);
  for (int64_t k = 0; p != NULL && k <= n; k++) {
    zcp__ipc_store_offset(p, width, k, zcp__ipc_load_offset(offs, width, abs + k) - *first);
  }
  push_buffer(b, p, size, p);
}

static zcp_status_t write_node(struct body *b, const struct zcp_array_view *v,
                               int64_t start, int64_t n);

static zcp_status_t write_run_end(struct body *b, const struct zcp_array_view *v,
                                  int64_t abs, int64_t n) {
  const struct zcp_array_view *re = &v->children[0];
  int64_t k0 = 0, k1 = -1;
  if (n > 0) {
    k0 = zcp_array_view_run_index(v, abs - v->offset);
    k1 = zcp_array_view_run_index(v, abs - v->offset + n - 1);
  }
  int64_t runs = k1 - k0 + 1, width = zcp_type_bit_width(re->format.type) / 8;
  push_node(b, n, 0);
  push_node(b, runs, 0);
  push_buffer(b, NULL, 0, NULL);
  uint8_t *p = owned_buffer(b, runs * width);
  for (int64_t k = 0; p != NULL && k < runs; k++) {
    int64_t end = zcp_array_view_get_int(re, k0 + k) - abs;
    end = ZCP_MIN(end, n);
    if (width == 2) {
      int16_t x = (int16_t)end;
      memcpy(p + 2 * k, &x, 2);
    } else {
      zcp__ipc_store_offset(p, width, k, end);
    }
  }
  push_buffer(b, p, runs * width, p);
  return write_node(b, &v->children[1], k0, runs);
}

/* Writes elements [start, start + n) of v (logical indices) and its children. */
static zcp_status_t write_node(struct body *b, const struct zcp_array_view *v,
                               int64_t start, int64_t n) {
  int64_t abs = v->offset + start;
  enum zcp_type t = v->format.type;
  if (t == ZCP_TYPE_RUN_END_ENCODED) return write_run_end(b, v, abs, n);
  if (t == ZCP_TYPE_NA) {
    push_node(b, n, n);
    return ZCP_OK;
  }
  const uint8_t *validity = v->buffers[0];
  int64_t nulls = 0;
  bool has_validity = t != ZCP_TYPE_SPARSE_UNION && t != ZCP_TYPE_DENSE_UNION;
  if (has_validity) {
    nulls = (start == 0 && n == v->length && v->null_count >= 0)
                ? v->null_count
                : count_nulls(validity, abs, n);
    if (validity != NULL && v->null_count == 0 && start == 0 && n == v->length)
      validity = NULL;
  }
  push_node(b, n, nulls);
  if (has_validity) push_bitmap(b, nulls ? validity : NULL, abs, n);
  int64_t first, last, width = 4;
  switch (t) {
    case ZCP_TYPE_LARGE_BINARY:
    case ZCP_TYPE_LARGE_STRING:
      width = 8;
      /* fallthrough */
    case ZCP_TYPE_BINARY:
    case ZCP_TYPE_STRING:
      push_offsets(b, v->buffers[1], width, abs, n, &first, &last);
      push_buffer(b, v->buffers[2] ? v->buffers[2] + first : NULL, last - first, NULL);
      return ZCP_OK;
    case ZCP_TYPE_BINARY_VIEW:
    case ZCP_TYPE_STRING_VIEW:
      push_buffer(b, v->buffers[1] ? v->buffers[1] + abs * 16 : NULL, n * 16, NULL);
      for (int64_t k = 0; k < v->n_variadic; k++) {
        push_buffer(b, v->variadic[k], v->variadic_size[k], NULL);
      }
      if (!grow((void **)&b->variadic, &b->cap_variadic, b->n_variadic + 1,
                sizeof(int64_t))) {
        b->failed = true;
      } else {
        b->variadic[b->n_variadic++] = v->n_variadic;
      }
      return ZCP_OK;
    case ZCP_TYPE_LARGE_LIST:
    case ZCP_TYPE_MAP:
    case ZCP_TYPE_LIST:
      width = t == ZCP_TYPE_LARGE_LIST ? 8 : 4;
      push_offsets(b, v->buffers[1], width, abs, n, &first, &last);
      return write_node(b, &v->children[0], first, last - first);
    case ZCP_TYPE_LARGE_LIST_VIEW:
      width = 8;
      /* fallthrough */
    case ZCP_TYPE_LIST_VIEW:
      push_buffer(b, v->buffers[1] ? v->buffers[1] + abs * width : NULL, n * width, NULL);
      push_buffer(b, v->buffers[2] ? v->buffers[2] + abs * width : NULL, n * width, NULL);
      return write_node(b, &v->children[0], 0, v->children[0].length);
    case ZCP_TYPE_FIXED_SIZE_LIST:
      return write_node(b, &v->children[0], abs * v->format.fixed_size,
                        n * v->format.fixed_size);
    case ZCP_TYPE_STRUCT:
      for (int64_t i = 0; i < v->n_children; i++) {
        ZCP_RETURN_NOT_OK(write_node(b, &v->children[i], abs, n));
      }
      return ZCP_OK;
    case ZCP_TYPE_SPARSE_UNION:
    case ZCP_TYPE_DENSE_UNION:
      push_buffer(b, v->buffers[1] ? v->buffers[1] + abs : NULL, n, NULL);
      if (t == ZCP_TYPE_DENSE_UNION) {
        push_buffer(b, v->buffers[2] ? v->buffers[2] + abs * 4 : NULL, n * 4, NULL);
      }
      for (int64_t i = 0; i < v->n_children; i++) {
        const struct zcp_array_view *c = &v->children[i];
        ZCP_RETURN_NOT_OK(t == ZCP_TYPE_SPARSE_UNION ? write_node(b, c, abs, n)
                                                     : write_node(b, c, 0, c->length));
      }
      return ZCP_OK;
    case ZCP_TYPE_BOOL:
      push_bitmap(b, v->buffers[1], abs, n);
      return ZCP_OK;
    default: {
      int64_t bits = zcp_format_bit_width(&v->format);
      /* fixed_size_binary[0] is a valid type whose values buffer is empty. */
      bool empty_ok = t == ZCP_TYPE_FIXED_SIZE_BINARY && bits == 0;
      if ((bits <= 0 && !empty_ok) || bits % 8 != 0) {
        return zcp_error_set(NULL, ZCP_INVALID_ARGUMENT, "type %s", zcp_type_name(t));
      }
      push_buffer(b, v->buffers[1] ? v->buffers[1] + abs * (bits / 8) : NULL,
                  n * (bits / 8), NULL);
      return ZCP_OK;
    }
  }
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
                                 int64_t meta_size, const struct body *b,
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
  if (!grow((void **)&bl->items, &bl->cap, bl->n + 1, sizeof *bl->items)) {
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for the file index");
  }
  bl->items[bl->n++] = blk;
  return ZCP_OK;
}

/* Compresses the body buffers if asked, lays them out, and writes a RecordBatch (or a
 * DictionaryBatch around it when dict_id >= 0) message. */
static zcp_status_t write_batch_message(struct zcp_ipc_writer *w, struct body *b,
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
    b->bufs[i] = (struct body_buffer){c, csize, c};
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
    struct body b;
    memset(&b, 0, sizeof b);
    st = write_node(&b, views[k], 0, views[k]->length);
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
    body_reset(&b);
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
  struct body b;
  memset(&b, 0, sizeof b);
  for (int64_t i = 0; st == ZCP_OK && i < v.n_children; i++) {
    st = write_node(&b, &v.children[i], v.offset, v.length);
    if (st != ZCP_OK) {
      const char *name = v.children[i].schema->name;
      zcp_error_set(err, st, "ipc: cannot write column '%s' (%s)", name ? name : "",
                    zcp_type_name(v.children[i].format.type));
    }
  }
  if (st == ZCP_OK) st = write_batch_message(w, &b, v.length, -1, err);
  body_reset(&b);
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
