/* ArrowArray nodes made by zcpool: creation, release, moves and shared (borrowing)
 * copies. Data buffers are freed only through the allocator that made them and only by
 * the node that owns them; a shared copy never frees data. */
#include <stdlib.h>
#include <string.h>

#include "arrow/internal.h"

void zcp_schema_move(struct ArrowSchema *src, struct ArrowSchema *dst) {
  memcpy(dst, src, sizeof *dst);
  src->release = NULL;
}

void zcp_array_move(struct ArrowArray *src, struct ArrowArray *dst) {
  memcpy(dst, src, sizeof *dst);
  src->release = NULL;
}

void zcp_stream_move(struct ArrowArrayStream *src, struct ArrowArrayStream *dst) {
  memcpy(dst, src, sizeof *dst);
  src->release = NULL;
}

void zcp_schema_release(struct ArrowSchema *schema) {
  if (schema != NULL && schema->release != NULL) schema->release(schema);
}

void zcp_array_release(struct ArrowArray *array) {
  if (array != NULL && array->release != NULL) array->release(array);
}

void zcp_stream_release(struct ArrowArrayStream *stream) {
  if (stream != NULL && stream->release != NULL) stream->release(stream);
}

/* Frees a node's own allocations, except children/dictionary contents. */
static void free_private(struct zcp__array_private *p) {
  free(p->buffers);
  free(p->capacity);
  free(p->children);
  free(p);
}

static struct ArrowArray *alloc_released_node(void) {
  return calloc(1, sizeof(struct ArrowArray));
}

zcp_status_t zcp__array_init_node(struct ArrowArray *out, int64_t n_buffers,
                                  int64_t n_children, struct zcp_allocator *alloc) {
  memset(out, 0, sizeof *out);
  if (n_buffers < 0 || n_children < 0) return ZCP_INVALID_ARGUMENT;
  struct zcp__array_private *p = calloc(1, sizeof *p);
  if (p == NULL) return ZCP_OUT_OF_MEMORY;
  p->alloc = alloc;
  p->n_buffers = n_buffers;
  p->buffers = calloc((size_t)(n_buffers ? n_buffers : 1), sizeof *p->buffers);
  p->capacity = calloc((size_t)(n_buffers ? n_buffers : 1), sizeof *p->capacity);
  p->children = calloc((size_t)(n_children ? n_children : 1), sizeof *p->children);
  if (p->buffers == NULL || p->capacity == NULL || p->children == NULL) {
    free_private(p);
    return ZCP_OUT_OF_MEMORY;
  }
  for (int64_t i = 0; i < n_children; i++) {
    p->children[i] = alloc_released_node();
    if (p->children[i] == NULL) {
      for (int64_t j = 0; j < i; j++) free(p->children[j]);
      free_private(p);
      return ZCP_OUT_OF_MEMORY;
    }
  }
  out->n_buffers = n_buffers;
  out->n_children = n_children;
  out->buffers = p->buffers;
  out->children = p->children;
  out->dictionary = NULL;
  out->private_data = p;
  out->release = zcp__array_release;
  return ZCP_OK;
}

zcp_status_t zcp__array_alloc_dictionary(struct ArrowArray *node) {
  struct zcp__array_private *p = zcp__array_private_of(node);
  if (p == NULL || p->dictionary != NULL) return ZCP_INVALID_ARGUMENT;
  p->dictionary = alloc_released_node();
  if (p->dictionary == NULL) return ZCP_OUT_OF_MEMORY;
  node->dictionary = p->dictionary;
  return ZCP_OK;
}

zcp_status_t zcp__array_set_n_buffers(struct ArrowArray *node, int64_t n_buffers) {
  struct zcp__array_private *p = zcp__array_private_of(node);
  if (p == NULL || n_buffers < 0) return ZCP_INVALID_ARGUMENT;
  size_t n = (size_t)(n_buffers ? n_buffers : 1);
  const void **b = realloc(p->buffers, n * sizeof *b);
  if (b == NULL) return ZCP_OUT_OF_MEMORY;
  p->buffers = b;
  int64_t *c = realloc(p->capacity, n * sizeof *c);
  if (c == NULL) return ZCP_OUT_OF_MEMORY;
  p->capacity = c;
  for (int64_t i = p->n_buffers; i < n_buffers; i++) {
    b[i] = NULL;
    c[i] = 0;
  }
  p->n_buffers = n_buffers;
  node->n_buffers = n_buffers;
  node->buffers = p->buffers;
  return ZCP_OK;
}

void zcp__array_set_buffer(struct ArrowArray *node, int64_t i, void *ptr, int64_t capacity) {
  struct zcp__array_private *p = zcp__array_private_of(node);
  if (p == NULL || i < 0 || i >= p->n_buffers) return;
  p->buffers[i] = ptr;
  p->capacity[i] = capacity;
}

void zcp__array_release(struct ArrowArray *array) {
  if (array == NULL || array->release == NULL) return;
  struct zcp__array_private *p = array->private_data;
  for (int64_t i = 0; i < array->n_children; i++) {
    struct ArrowArray *c = p->children[i];
    if (c == NULL) continue;
    if (c->release != NULL) c->release(c);
    free(c);
  }
  if (p->dictionary != NULL) {
    if (p->dictionary->release != NULL) p->dictionary->release(p->dictionary);
    free(p->dictionary);
  }
  if (p->alloc != NULL) {
    for (int64_t i = 0; i < p->n_buffers; i++) {
      if (p->buffers[i] != NULL) p->alloc->free(p->alloc, (void *)p->buffers[i], p->capacity[i]);
    }
  }
  void (*on_release)(void *) = p->on_release;
  void *ctx = p->on_release_ctx;
  free_private(p);
  array->release = NULL;
  array->private_data = NULL;
  if (on_release != NULL) on_release(ctx);
}

int64_t zcp_array_buffer_capacity(const struct ArrowArray *array, int64_t i) {
  struct zcp__array_private *p = zcp__array_private_of(array);
  if (p == NULL || i < 0 || i >= p->n_buffers) return -1;
  return p->capacity[i];
}

/* Copies the structure of src into dst (already a node with matching counts), borrowing
 * every buffer. Recursion depth is bounded by ZCP_MAX_DEPTH. */
static zcp_status_t share_node(const struct ArrowArray *src, struct ArrowArray *dst,
                               int depth) {
  if (depth > ZCP_MAX_DEPTH) return ZCP_INVALID_ARGUMENT;
  if (src->n_buffers < 0 || src->n_children < 0) return ZCP_INVALID_ARGUMENT;
  ZCP_RETURN_NOT_OK(zcp__array_init_node(dst, src->n_buffers, src->n_children, NULL));
  dst->length = src->length;
  dst->null_count = src->null_count;
  dst->offset = src->offset;
  struct zcp__array_private *sp = zcp__array_private_of(src);
  for (int64_t i = 0; i < src->n_buffers; i++) {
    zcp__array_set_buffer(dst, i, (void *)src->buffers[i], sp ? sp->capacity[i] : -1);
  }
  zcp_status_t st = ZCP_OK;
  for (int64_t i = 0; i < src->n_children && st == ZCP_OK; i++) {
    st = share_node(src->children[i], dst->children[i], depth + 1);
  }
  if (st == ZCP_OK && src->dictionary != NULL) {
    st = zcp__array_alloc_dictionary(dst);
    if (st == ZCP_OK) st = share_node(src->dictionary, dst->dictionary, depth + 1);
  }
  if (st != ZCP_OK) zcp__array_release(dst);
  return st;
}

zcp_status_t zcp__array_share(const struct ArrowArray *src, struct ArrowArray *dst,
                              void (*on_release)(void *ctx), void *ctx) {
  if (src == NULL || src->release == NULL) return ZCP_INVALID_ARGUMENT;
  ZCP_RETURN_NOT_OK(share_node(src, dst, 0));
  struct zcp__array_private *p = dst->private_data;
  p->on_release = on_release;
  p->on_release_ctx = ctx;
  return ZCP_OK;
}
