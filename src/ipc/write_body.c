/* The body of one IPC message being written: FieldNodes in pre-order and the Buffers
 * they use, taken from an array view as it shows itself, not as it is held: buffers are
 * sliced, bitmaps re-packed when their offset is not a multiple of 8, offsets rebased to
 * 0 and run ends cut. Buffers point into the caller's arrays wherever they can; only
 * what had to be rewritten is owned. Also the canonical form of a body, by which the
 * writer tells whether a dictionary changed or only grew. Never modifies the arrays. */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "ipc/internal.h"

void zcp__ipc_wbody_reset(struct zcp__ipc_wbody *b) {
  for (int64_t i = 0; i < b->n_bufs; i++) free(b->bufs[i].owned);
  free(b->bufs);
  free(b->nodes);
  free(b->variadic);
  memset(b, 0, sizeof *b);
}

bool zcp__ipc_grow(void **p, int64_t *cap, int64_t need, size_t elem) {
  if (need <= *cap) return true;
  int64_t c = *cap ? *cap * 2 : 16;
  while (c < need) c *= 2;
  void *q = realloc(*p, (size_t)c * elem);
  if (q == NULL) return false;
  *p = q;
  *cap = c;
  return true;
}

static void push_node(struct zcp__ipc_wbody *b, int64_t length, int64_t null_count) {
  if (!zcp__ipc_grow((void **)&b->nodes, &b->cap_nodes, b->n_nodes + 1,
                     ZCP_FB_FIELD_NODE_SIZE)) {
    b->failed = true;
    return;
  }
  uint8_t *p = b->nodes + b->n_nodes++ * ZCP_FB_FIELD_NODE_SIZE;
  zcp__store_le64(p, (uint64_t)length);
  zcp__store_le64(p + 8, (uint64_t)null_count);
}

/* Adds a buffer; owned (may be NULL) becomes the body's. */
static void push_buffer(struct zcp__ipc_wbody *b, const void *data, int64_t size,
                        uint8_t *owned) {
  if (!zcp__ipc_grow((void **)&b->bufs, &b->cap_bufs, b->n_bufs + 1, sizeof *b->bufs)) {
    b->failed = true;
    free(owned);
    return;
  }
  b->bufs[b->n_bufs++] = (struct zcp__ipc_wbuffer){data, data ? size : 0, owned, -1};
}

static uint8_t *owned_buffer(struct zcp__ipc_wbody *b, int64_t size) {
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
static void push_bitmap(struct zcp__ipc_wbody *b, const uint8_t *bits, int64_t start,
                        int64_t n) {
  int64_t bytes = zcp__bitmap_bytes(n);
  if (bits == NULL || n == 0) {
    push_buffer(b, NULL, 0, NULL);
    return;
  }
  if (start % 8 == 0) {
    push_buffer(b, bits + start / 8, bytes, NULL);
  } else {
    uint8_t *p = owned_buffer(b, bytes);
    for (int64_t i = 0; p != NULL && i < n; i++)
      zcp__bit_set(p, i, zcp__bit_get(bits, start + i));
    push_buffer(b, p, bytes, p);
  }
  if (!b->failed) b->bufs[b->n_bufs - 1].bits = n;
}

/* Offsets [abs, abs + n] rebased to start at 0; first and last get the original bounds.
 */
static void push_offsets(struct zcp__ipc_wbody *b, const uint8_t *offs, int64_t width,
                         int64_t abs, int64_t n, int64_t *first, int64_t *last) {
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
    zcp__ipc_store_offset(p, width, k,
                          zcp__ipc_load_offset(offs, width, abs + k) - *first);
  }
  push_buffer(b, p, size, p);
}

static zcp_status_t write_run_end(struct zcp__ipc_wbody *b,
                                  const struct zcp_array_view *v, int64_t abs,
                                  int64_t n) {
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
  return zcp__ipc_wbody_node(b, &v->children[1], k0, runs);
}

/* Writes elements [start, start + n) of v (logical indices) and its children. */
zcp_status_t zcp__ipc_wbody_node(struct zcp__ipc_wbody *b, const struct zcp_array_view *v,
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
      if (!zcp__ipc_grow((void **)&b->variadic, &b->cap_variadic, b->n_variadic + 1,
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
      return zcp__ipc_wbody_node(b, &v->children[0], first, last - first);
    case ZCP_TYPE_LARGE_LIST_VIEW:
      width = 8;
      /* fallthrough */
    case ZCP_TYPE_LIST_VIEW:
      push_buffer(b, v->buffers[1] ? v->buffers[1] + abs * width : NULL, n * width, NULL);
      push_buffer(b, v->buffers[2] ? v->buffers[2] + abs * width : NULL, n * width, NULL);
      return zcp__ipc_wbody_node(b, &v->children[0], 0, v->children[0].length);
    case ZCP_TYPE_FIXED_SIZE_LIST:
      return zcp__ipc_wbody_node(b, &v->children[0], abs * v->format.fixed_size,
                                 n * v->format.fixed_size);
    case ZCP_TYPE_STRUCT:
      for (int64_t i = 0; i < v->n_children; i++) {
        ZCP_RETURN_NOT_OK(zcp__ipc_wbody_node(b, &v->children[i], abs, n));
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
        ZCP_RETURN_NOT_OK(t == ZCP_TYPE_SPARSE_UNION
                              ? zcp__ipc_wbody_node(b, c, abs, n)
                              : zcp__ipc_wbody_node(b, c, 0, c->length));
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

/* ---- canonical form -------------------------------------------------------------------
 */

/* Feeds fn the body as bytes that are equal exactly when two bodies decode to the same
 * values: nodes, buffer sizes and contents, and variadic counts, where the bits of a
 * bitmap's last byte past its length (which carry nothing) are cleared. */
typedef bool (*canon_fn)(void *ctx, const void *data, int64_t n);

static bool canon(const struct zcp__ipc_wbody *b, canon_fn fn, void *ctx) {
  uint8_t word[8];
  zcp__store_le64(word, (uint64_t)b->n_nodes);
  if (!fn(ctx, word, 8) || !fn(ctx, b->nodes, b->n_nodes * ZCP_FB_FIELD_NODE_SIZE))
    return false;
  zcp__store_le64(word, (uint64_t)b->n_bufs);
  if (!fn(ctx, word, 8)) return false;
  for (int64_t i = 0; i < b->n_bufs; i++) {
    const struct zcp__ipc_wbuffer *x = &b->bufs[i];
    zcp__store_le64(word, (uint64_t)x->size);
    if (!fn(ctx, word, 8)) return false;
    if (x->size == 0) continue;
    if (x->bits < 0 || x->bits % 8 == 0) {
      if (!fn(ctx, x->data, x->size)) return false;
      continue;
    }
    uint8_t last = (uint8_t)(x->data[x->size - 1] & ((1u << (x->bits % 8)) - 1));
    if (!fn(ctx, x->data, x->size - 1) || !fn(ctx, &last, 1)) return false;
  }
  zcp__store_le64(word, (uint64_t)b->n_variadic);
  if (!fn(ctx, word, 8)) return false;
  for (int64_t i = 0; i < b->n_variadic; i++) {
    zcp__store_le64(word, (uint64_t)b->variadic[i]);
    if (!fn(ctx, word, 8)) return false;
  }
  return true;
}

/* Canonical bytes collected into a growing buffer, or compared with stored ones. */
struct canon_buf {
  uint8_t *data;
  int64_t size, cap;
};

static bool canon_append(void *ctx, const void *data, int64_t n) {
  struct canon_buf *c = ctx;
  if (n == 0) return true;
  if (!zcp__ipc_grow((void **)&c->data, &c->cap, c->size + n, 1)) return false;
  memcpy(c->data + c->size, data, (size_t)n);
  c->size += n;
  return true;
}

static bool canon_compare(void *ctx, const void *data, int64_t n) {
  struct canon_buf *c = ctx; /* size is the read position here, cap the length */
  if (n == 0) return true;
  if (n > c->cap - c->size || memcmp(c->data + c->size, data, (size_t)n) != 0)
    return false;
  c->size += n;
  return true;
}

bool zcp__ipc_wbody_canon_bytes(const struct zcp__ipc_wbody *b, uint8_t **out,
                                int64_t *size) {
  struct canon_buf c = {0};
  *out = NULL;
  *size = 0;
  if (b->failed || !canon(b, canon_append, &c)) {
    free(c.data);
    return false;
  }
  *out = c.data;
  *size = c.size;
  return true;
}

bool zcp__ipc_wbody_canon_is(const struct zcp__ipc_wbody *b, const uint8_t *bytes,
                             int64_t size) {
  struct canon_buf c = {(uint8_t *)(uintptr_t)bytes, 0, size};
  return !b->failed && canon(b, canon_compare, &c) && c.size == size;
}
