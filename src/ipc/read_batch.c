/* Decoding one RecordBatch body into ArrowArrays. The FieldNodes and Buffers of the
 * message are consumed in pre-order of the schema; every count, offset and length is
 * checked against the body before use, and the finished tree is validated against the
 * real buffer sizes the message announced (not the padded sizes of our copies), which is
 * what makes foreign bytes safe to hand out. In copy mode every buffer is copied into
 * the caller's allocator (aligned and zero-padded); in zero-copy mode buffers point into
 * the input unless they are compressed or misaligned for their type. */
#include "common/platform.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "arrow/internal.h"
#include "common/util.h"
#include "ipc/internal.h"

#define CORRUPT(...) zcp_error_set(err, ZCP_CORRUPT_INPUT, __VA_ARGS__)

static const uint8_t zeros[64];

void zcp__ipc_keep_retain(struct zcp__ipc_keep *k) {
  if (k != NULL) __atomic_fetch_add(&k->refs, 1, __ATOMIC_RELAXED);
}

void zcp__ipc_keep_release(void *arg) {
  struct zcp__ipc_keep *k = arg;
  if (k == NULL || __atomic_sub_fetch(&k->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
  for (int64_t i = 0; i < k->n_allocs; i++) {
    k->alloc->free(k->alloc, k->allocs[i].ptr, k->allocs[i].size);
  }
  free(k->allocs);
  if (k->map != NULL) munmap(k->map, (size_t)k->map_size);
  zcp__ipc_keep_release(k->parent);
  free(k);
}

void zcp__ipc_dict_value_release(void *arg) {
  struct zcp__ipc_dict_value *v = arg;
  if (v == NULL || __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
  zcp_array_release(&v->array);
  free(v);
}

zcp_status_t zcp__ipc_body_init(struct zcp__ipc_body *body, const struct zcp_fb_table *rb,
                                const uint8_t *data, int64_t size,
                                struct zcp_error *err) {
  body->data = data;
  body->size = size;
  body->codec = ZCP_IPC_COMPRESSION_NONE;
  ZCP_RETURN_NOT_OK(
      zcp__fb_i64(rb, ZCP_FB_RB_LENGTH, 0, &body->length, "RecordBatch.length", err));
  if (body->length < 0)
    return CORRUPT("RecordBatch.length %lld is negative", (long long)body->length);
  ZCP_RETURN_NOT_OK(zcp__fb_vector(rb, ZCP_FB_RB_NODES, ZCP_FB_FIELD_NODE_SIZE,
                                   &body->nodes, "RecordBatch.nodes", err));
  ZCP_RETURN_NOT_OK(zcp__fb_vector(rb, ZCP_FB_RB_BUFFERS, ZCP_FB_BUFFER_SIZE,
                                   &body->buffers, "RecordBatch.buffers", err));
  ZCP_RETURN_NOT_OK(zcp__fb_vector(rb, ZCP_FB_RB_VARIADIC, 8, &body->variadic,
                                   "RecordBatch.variadicBufferCounts", err));
  struct zcp_fb_table comp;
  bool present;
  ZCP_RETURN_NOT_OK(zcp__fb_table(rb, ZCP_FB_RB_COMPRESSION, &comp, &present,
                                  "RecordBatch.compression", err));
  if (present) {
    uint8_t codec, method;
    ZCP_RETURN_NOT_OK(zcp__fb_u8(&comp, 0, 0, &codec, "BodyCompression.codec", err));
    ZCP_RETURN_NOT_OK(zcp__fb_u8(&comp, 1, 0, &method, "BodyCompression.method", err));
    /* codecs and methods past the ones Message.fbs has today: a newer format's */
    if (codec > 1) {
      return zcp_error_set(
          err, ZCP_UNSUPPORTED,
          "BodyCompression.codec %u is not supported (LZ4_FRAME 0, ZSTD 1)", codec);
    }
    if (method != 0) {
      return zcp_error_set(err, ZCP_UNSUPPORTED,
                           "BodyCompression.method %u is not supported (BUFFER 0)",
                           method);
    }
    body->codec = codec == 0 ? ZCP_IPC_COMPRESSION_LZ4_FRAME : ZCP_IPC_COMPRESSION_ZSTD;
  }
  return ZCP_OK;
}

/* ---- one message's decoding state ----------------------------------------------------
 */

struct decoder {
  const struct zcp__ipc_body *body;
  int64_t next_node, next_buffer, next_variadic;
  struct zcp__ipc_keep *keep; /* zero copy only */
  int64_t (*sizes)[3];        /* real buffer sizes by view role, pre-order */
  int64_t n_sizes, cap_sizes;
  struct zcp_error *err;
};

/* A buffer of size bytes (padded to *cap) from the body's allocator; its failure, with
 * the allocator's own reason, goes to d->err. */
static zcp_status_t alloc_buffer(struct decoder *d, int64_t size, int64_t *cap,
                                 void **out) {
  struct zcp_allocator *a = d->body->alloc;
  int64_t align = ZCP_MAX(a->alignment, ZCP_ALIGNMENT);
  *cap = zcp__round_up(ZCP_MAX(size, 1), align);
  void *v = NULL;
  zcp_status_t st = a->allocate(a, *cap, align, &v, d->err);
  if (st != ZCP_OK) {
    *out = NULL;
    return zcp_error_prefix(d->err, st, "a %lld-byte buffer: ", (long long)size);
  }
  uint8_t *p = v;
  if (d->keep != NULL) {
    struct zcp__ipc_keep *k = d->keep;
    if (k->n_allocs == k->cap_allocs) {
      int64_t c = k->cap_allocs ? 2 * k->cap_allocs : 16;
      void *q = realloc(k->allocs, (size_t)c * sizeof *k->allocs);
      if (q == NULL) {
        a->free(a, p, *cap);
        *out = NULL;
        return zcp_error_set(d->err, ZCP_OUT_OF_MEMORY, "no memory to track buffers");
      }
      k->allocs = q;
      k->cap_allocs = c;
    }
    k->allocs[k->n_allocs++] = (struct zcp__ipc_alloc){p, *cap};
  }
  memset(p + size, 0, (size_t)(*cap - size));
  *out = p;
  return ZCP_OK;
}

/* Takes the next Buffer; *ptr/size receive its (decompressed) bytes, copied when asked
 * or needed. elem is the alignment its type wants. A 0-length buffer gives NULL when
 * allow_null, else zeros. */
static zcp_status_t take_buffer(struct decoder *d, struct ArrowArray *node, int64_t slot,
                                int64_t elem, bool allow_null, int64_t *size_out) {
  const struct zcp__ipc_body *b = d->body;
  struct zcp_error *err = d->err;
  if (d->next_buffer >= b->buffers.n) {
    return CORRUPT("RecordBatch has %lld buffers, the schema needs more",
                   (long long)b->buffers.n);
  }
  const uint8_t *e = zcp__fb_elem(&b->buffers, d->next_buffer, ZCP_FB_BUFFER_SIZE);
  int64_t off = (int64_t)zcp__load_le64(e), len = (int64_t)zcp__load_le64(e + 8), end;
  if (off < 0 || len < 0 || !zcp__add_i64(off, len, &end) || end > b->size) {
    return CORRUPT("buffer %lld (offset %lld, length %lld) is outside the %lld-byte body",
                   (long long)d->next_buffer, (long long)off, (long long)len,
                   (long long)b->size);
  }
  d->next_buffer++;
  const uint8_t *src = b->data + off;
  int64_t n = len;
  bool compressed = false;
  if (b->codec != ZCP_IPC_COMPRESSION_NONE && len > 0) {
    if (len < 8)
      return CORRUPT("compressed buffer of %lld bytes has no length", (long long)len);
    n = (int64_t)zcp__load_le64(src);
    src += 8;
    if (n == -1) {
      n = len - 8;
    } else if (n < 0 || n > ZCP_IPC_MAX_BODY) {
      return CORRUPT("compressed buffer announces %lld bytes", (long long)n);
    } else {
      compressed = true;
      ZCP_RETURN_NOT_OK(zcp__ipc_decompressed_size_check(b->codec, src, len - 8, n, err));
    }
  }
  *size_out = n;
  if (n == 0) {
    if (allow_null || b->zero_copy) {
      zcp__array_set_buffer(node, slot, allow_null ? NULL : (void *)zeros, 0);
      return ZCP_OK;
    }
  }
  bool copy = compressed || !b->zero_copy || ((uintptr_t)src % (uintptr_t)elem) != 0;
  if (!copy) {
    zcp__array_set_buffer(node, slot, (void *)src, n);
    return ZCP_OK;
  }
  int64_t cap;
  void *v = NULL;
  ZCP_RETURN_NOT_OK(alloc_buffer(d, n, &cap, &v));
  uint8_t *p = v;
  zcp__array_set_buffer(node, slot, p, b->zero_copy ? n : cap);
  if (compressed) {
    return zcp__ipc_decompress(b->codec, src, len - 8, p, n, err);
  }
  if (n) memcpy(p, src, (size_t)n);
  return ZCP_OK;
}

static zcp_status_t decode_node(struct decoder *d, const struct ArrowSchema *schema,
                                struct ArrowArray *out, int depth);

static zcp_status_t skip_buffer(struct decoder *d) {
  struct zcp_error *err = d->err;
  if (d->next_buffer >= d->body->buffers.n) {
    return CORRUPT("RecordBatch has %lld buffers, the schema needs more",
                   (long long)d->body->buffers.n);
  }
  d->next_buffer++;
  return ZCP_OK;
}

/* Attaches the current dictionary of a dictionary-encoded node. */
static zcp_status_t attach_dictionary(struct decoder *d, const struct ArrowSchema *schema,
                                      struct ArrowArray *out) {
  struct zcp_error *err = d->err;
  const struct zcp__ipc_dict_fields *dicts = d->body->dicts;
  int64_t i = dicts != NULL ? zcp__ipc_dict_find_node(dicts, schema) : -1;
  if (i >= 0) {
    struct zcp__ipc_dict_value *v = d->body->dict_values[i];
    if (v == NULL && out->null_count != out->length) {
      return CORRUPT("field '%s': dictionary %lld was not sent before its first use",
                     schema->name ? schema->name : "", (long long)dicts->ids[i].id);
    }
    if (v == NULL) {
      /* Columnar.rst: a column that is all null may come before its dictionary. It gets
       * an empty one of its value type, which no index can reach. */
      v = calloc(1, sizeof *v);
      if (v == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory");
      v->refs = 1; /* the array's, handed over below */
      struct zcp_builder *empty = NULL;
      zcp_status_t st = zcp_builder_init(schema->dictionary, d->body->alloc, &empty, err);
      if (st == ZCP_OK) st = zcp_builder_finish(empty, &v->array, NULL, err);
      zcp_builder_release(empty);
      if (st != ZCP_OK) {
        free(v);
        return st;
      }
    } else {
      __atomic_fetch_add(&v->refs, 1, __ATOMIC_RELAXED);
    }
    if (zcp__array_alloc_dictionary(out) != ZCP_OK) {
      zcp__ipc_dict_value_release(v);
      return ZCP_OUT_OF_MEMORY;
    }
    zcp_status_t st =
        zcp__array_share(&v->array, out->dictionary, zcp__ipc_dict_value_release, v);
    if (st != ZCP_OK) zcp__ipc_dict_value_release(v);
    return st;
  }
  return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "dictionary field without an id");
}

static zcp_status_t decode_node(struct decoder *d, const struct ArrowSchema *schema,
                                struct ArrowArray *out, int depth) {
  struct zcp_error *err = d->err;
  const struct zcp__ipc_body *b = d->body;
  struct zcp_format f;
  if (depth > ZCP_MAX_DEPTH)
    return CORRUPT("arrays nested deeper than %d", ZCP_MAX_DEPTH);
  ZCP_RETURN_NOT_OK(zcp_format_parse(schema->format, &f, err));
  if (d->next_node >= b->nodes.n) {
    return CORRUPT("RecordBatch has %lld field nodes, the schema needs more",
                   (long long)b->nodes.n);
  }
  const uint8_t *e = zcp__fb_elem(&b->nodes, d->next_node++, ZCP_FB_FIELD_NODE_SIZE);
  int64_t length = (int64_t)zcp__load_le64(e), nulls = (int64_t)zcp__load_le64(e + 8);
  if (length < 0 || nulls < 0 || nulls > length) {
    return CORRUPT("field node %lld: length %lld, null count %lld",
                   (long long)(d->next_node - 1), (long long)length, (long long)nulls);
  }
  int64_t n_ipc = 0, first_role = 0, elem[3] = {1, 1, 1}, n_variadic = 0;
  bool views = f.type == ZCP_TYPE_BINARY_VIEW || f.type == ZCP_TYPE_STRING_VIEW;
  switch (f.type) {
    case ZCP_TYPE_NA:
    case ZCP_TYPE_RUN_END_ENCODED:
      break;
    case ZCP_TYPE_SPARSE_UNION:
      n_ipc = 1;
      first_role = 1;
      break;
    case ZCP_TYPE_DENSE_UNION:
      n_ipc = 2;
      first_role = 1;
      elem[1] = 4;
      break;
    case ZCP_TYPE_STRUCT:
    case ZCP_TYPE_FIXED_SIZE_LIST:
      n_ipc = 1;
      break;
    case ZCP_TYPE_LIST:
    case ZCP_TYPE_MAP:
      n_ipc = 2;
      elem[1] = 4;
      break;
    case ZCP_TYPE_LARGE_LIST:
      n_ipc = 2;
      elem[1] = 8;
      break;
    case ZCP_TYPE_LIST_VIEW:
      n_ipc = 3;
      elem[1] = elem[2] = 4;
      break;
    case ZCP_TYPE_LARGE_LIST_VIEW:
      n_ipc = 3;
      elem[1] = elem[2] = 8;
      break;
    case ZCP_TYPE_BINARY:
    case ZCP_TYPE_STRING:
      n_ipc = 3;
      elem[1] = 4;
      break;
    case ZCP_TYPE_LARGE_BINARY:
    case ZCP_TYPE_LARGE_STRING:
      n_ipc = 3;
      elem[1] = 8;
      break;
    case ZCP_TYPE_BINARY_VIEW:
    case ZCP_TYPE_STRING_VIEW:
      if (d->next_variadic >= b->variadic.n) {
        return CORRUPT(
            "RecordBatch.variadicBufferCounts has %lld entries, the schema needs "
            "more",
            (long long)b->variadic.n);
      }
      n_variadic =
          (int64_t)zcp__load_le64(zcp__fb_elem(&b->variadic, d->next_variadic++, 8));
      if (n_variadic < 0 || n_variadic > b->buffers.n) {
        return CORRUPT("view field announces %lld variadic buffers",
                       (long long)n_variadic);
      }
      n_ipc = 2 + n_variadic;
      elem[1] = 8;
      break;
    default: {
      int64_t bits = zcp_format_bit_width(&f);
      n_ipc = 2;
      elem[1] = ZCP_MIN(ZCP_MAX(bits / 8, 1), 8);
      break;
    }
  }
  if (b->v4_unions && first_role == 1) {
    /* before V5 a union had a validity bitmap; its nulls live in the children */
    ZCP_RETURN_NOT_OK(skip_buffer(d));
  }
  int64_t n_c = n_ipc + (views ? 1 : 0);
  if (zcp__array_init_node(out, n_c, schema->n_children,
                           b->zero_copy ? NULL : b->alloc) != ZCP_OK) {
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for an array node");
  }
  out->length = length;
  out->null_count = nulls;
  if (d->keep != NULL) {
    struct zcp__array_private *p = zcp__array_private_of(out);
    zcp__ipc_keep_retain(d->keep);
    p->on_release = zcp__ipc_keep_release;
    p->on_release_ctx = d->keep;
  }
  if (d->n_sizes == d->cap_sizes) {
    int64_t c = d->cap_sizes ? 2 * d->cap_sizes : 16;
    void *q = realloc(d->sizes, (size_t)c * sizeof *d->sizes);
    if (q == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory");
    d->sizes = q;
    d->cap_sizes = c;
  }
  int64_t me = d->n_sizes++;
  d->sizes[me][0] = d->sizes[me][1] = d->sizes[me][2] = -1;
  for (int64_t k = 0; k < n_ipc; k++) {
    int64_t role = k + first_role, size = 0;
    ZCP_RETURN_NOT_OK(
        take_buffer(d, out, k, role < 3 ? elem[role] : 1, role == 0, &size));
    if (role < 3) d->sizes[me][role] = size;
    /* the real sizes of view data buffers go to the sizes buffer, filled below */
    if (views && k >= 2) zcp__array_private_of(out)->capacity[k] = size;
  }
  if (views) {
    int64_t cap;
    void *v = NULL;
    ZCP_RETURN_NOT_OK(alloc_buffer(d, 8 * n_variadic, &cap, &v));
    int64_t *sz = v;
    struct zcp__array_private *p = zcp__array_private_of(out);
    for (int64_t k = 0; k < n_variadic; k++) {
      sz[k] = p->capacity[2 + k];
      if (!b->zero_copy) {
        /* capacities of owned buffers are what was allocated */
        p->capacity[2 + k] =
            zcp__round_up(ZCP_MAX(sz[k], 1), ZCP_MAX(b->alloc->alignment, ZCP_ALIGNMENT));
        if (p->buffers[2 + k] == NULL) p->capacity[2 + k] = 0;
      }
    }
    zcp__array_set_buffer(out, n_c - 1, sz, b->zero_copy ? 8 * n_variadic : cap);
    d->sizes[me][2] = 8 * n_variadic;
  }
  for (int64_t i = 0; i < schema->n_children; i++) {
    ZCP_RETURN_NOT_OK(decode_node(d, schema->children[i], out->children[i], depth + 1));
  }
  if (schema->dictionary != NULL) ZCP_RETURN_NOT_OK(attach_dictionary(d, schema, out));
  return ZCP_OK;
}

/* ---- whole messages -----------------------------------------------------------------
 */

/* Gives view nodes (pre-order, dictionaries skipped) the real sizes recorded. */
static void apply_sizes(struct zcp_array_view *v, const struct decoder *d,
                        int64_t *next) {
  if (*next < d->n_sizes) {
    for (int r = 0; r < 3; r++) v->buffer_size[r] = d->sizes[*next][r];
  }
  (*next)++;
  for (int64_t i = 0; i < v->n_children; i++) apply_sizes(&v->children[i], d, next);
}

static zcp_status_t finish(struct decoder *d, struct ArrowArray *out,
                           const struct ArrowSchema *schema, bool has_root,
                           struct zcp_error *err) {
  const struct zcp__ipc_body *b = d->body;
  if (d->next_node != b->nodes.n || d->next_buffer != b->buffers.n ||
      d->next_variadic != b->variadic.n) {
    return CORRUPT(
        "RecordBatch has %lld field nodes, %lld buffers and %lld variadic counts; "
        "the schema uses %lld, %lld and %lld",
        (long long)b->nodes.n, (long long)b->buffers.n, (long long)b->variadic.n,
        (long long)d->next_node, (long long)d->next_buffer, (long long)d->next_variadic);
  }
  struct zcp_array_view view;
  ZCP_RETURN_NOT_OK(zcp_array_view_init(out, schema, &view, err));
  int64_t next = has_root ? -1 : 0;
  if (has_root) {
    view.buffer_size[0] = 0;
    next = 0;
    for (int64_t i = 0; i < view.n_children; i++)
      apply_sizes(&view.children[i], d, &next);
  } else {
    apply_sizes(&view, d, &next);
  }
  zcp_status_t st = zcp_array_view_validate(&view, b->validation, err);
  zcp_array_view_reset(&view);
  if (st == ZCP_INVALID_ARGUMENT) st = ZCP_CORRUPT_INPUT;
  if (err != NULL && st != ZCP_OK) err->code = st;
  return st;
}

static zcp_status_t decode(const struct zcp__ipc_body *body,
                           const struct ArrowSchema *schema, struct ArrowArray *out,
                           bool is_batch, struct zcp_error *err) {
  struct decoder d;
  memset(&d, 0, sizeof d);
  d.body = body;
  d.err = err;
  memset(out, 0, sizeof *out);
  if (body->zero_copy) {
    d.keep = calloc(1, sizeof *d.keep);
    if (d.keep == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory");
    d.keep->refs = 1; /* ours until the end of this function */
    d.keep->alloc = body->alloc;
    d.keep->parent = body->mapping;
    zcp__ipc_keep_retain(body->mapping);
  }
  zcp_status_t st = ZCP_OK;
  if (is_batch) {
    st = zcp__array_init_node(out, 1, schema->n_children, NULL);
    if (st != ZCP_OK) st = zcp_error_set(err, st, "no memory for a batch");
    out->length = body->length;
    for (int64_t i = 0; st == ZCP_OK && i < schema->n_children; i++) {
      st = decode_node(&d, schema->children[i], out->children[i], 1);
    }
  } else {
    st = decode_node(&d, schema, out, 1);
  }
  if (st == ZCP_OK) st = finish(&d, out, schema, is_batch, err);
  if (st != ZCP_OK) zcp_array_release(out);
  free(d.sizes);
  zcp__ipc_keep_release(d.keep);
  return st;
}

zcp_status_t zcp__ipc_decode_batch(const struct zcp__ipc_body *body,
                                   const struct ArrowSchema *schema,
                                   struct ArrowArray *out, struct zcp_error *err) {
  return decode(body, schema, out, true, err);
}

zcp_status_t zcp__ipc_decode_dictionary(const struct zcp__ipc_body *body,
                                        const struct ArrowSchema *value_schema,
                                        struct ArrowArray *out, struct zcp_error *err) {
  return decode(body, value_schema, out, false, err);
}
