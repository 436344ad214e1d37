/* Finishing a builder: hands its buffers to a tree of ArrowArray nodes and resets it.
 *
 * Three phases so that a failure leaves the builder exactly as it was and leaks nothing:
 * (1) check that every node is complete and give every layout buffer its final shape
 * (offsets' leading 0, empty buffers, the sizes of view data buffers) — all of it kept by
 * the builder if a later step fails; (2) allocate the node tree and the schema copy,
 * freed again on failure; (3) move the buffers into the nodes, which cannot fail. Bytes
 * past the data up to each buffer's capacity are zeroed in phase 3, so padding never
 * leaks old memory contents into shared pools. */
#include <string.h>

#include "arrow/builder_internal.h"

static bool is_view(enum zcp_type t) {
  return t == ZCP_TYPE_BINARY_VIEW || t == ZCP_TYPE_STRING_VIEW;
}

/* Layout buffers a type uses after validity (views: without variadic ones and sizes). */
static int64_t used_bufs(enum zcp_type t) {
  switch (t) {
    case ZCP_TYPE_NA:
    case ZCP_TYPE_FIXED_SIZE_LIST:
    case ZCP_TYPE_STRUCT:
    case ZCP_TYPE_RUN_END_ENCODED:
      return 0;
    case ZCP_TYPE_BINARY:
    case ZCP_TYPE_STRING:
    case ZCP_TYPE_LARGE_BINARY:
    case ZCP_TYPE_LARGE_STRING:
    case ZCP_TYPE_LIST_VIEW:
    case ZCP_TYPE_LARGE_LIST_VIEW:
    case ZCP_TYPE_DENSE_UNION:
      return 2;
    default:
      return 1;
  }
}

static int64_t offsets_width(enum zcp_type t) {
  switch (t) {
    case ZCP_TYPE_BINARY:
    case ZCP_TYPE_STRING:
    case ZCP_TYPE_LIST:
    case ZCP_TYPE_MAP:
      return 4;
    case ZCP_TYPE_LARGE_BINARY:
    case ZCP_TYPE_LARGE_STRING:
    case ZCP_TYPE_LARGE_LIST:
      return 8;
    default:
      return 0; /* no offsets buffer with a leading entry */
  }
}

static int64_t n_buffers(const struct zcp_builder *b) {
  enum zcp_type t = b->format.type;
  int64_t n = (zcp__type_has_validity(t) ? 1 : 0) + used_bufs(t);
  if (is_view(t)) n += b->n_variadic + 1;
  return n;
}

static zcp_status_t check_tree(struct zcp_builder *b) {
  if (zcp__is_nested_type(b->format.type))
    ZCP_RETURN_NOT_OK(zcp__nested_check_complete(b));
  for (int64_t i = 0; i < b->n_children; i++)
    ZCP_RETURN_NOT_OK(check_tree(b->children[i]));
  if (b->dictionary != NULL) ZCP_RETURN_NOT_OK(check_tree(b->dictionary));
  return ZCP_OK;
}

static zcp_status_t ensure(struct zcp_builder *b, struct zcp__buf *buf) {
  return buf->data != NULL ? ZCP_OK : zcp__buf_reserve(b, buf, 1);
}

/* Phase 1: every layout buffer other than validity exists (consumers may not expect
 * NULL even at length 0) and has its final content. */
static zcp_status_t materialize(struct zcp_builder *b) {
  enum zcp_type t = b->format.type;
  int64_t ow = offsets_width(t);
  if (ow > 0) ZCP_RETURN_NOT_OK(zcp__builder_offsets_start(b, &b->buf[0], ow));
  for (int64_t i = 0; i < used_bufs(t); i++) ZCP_RETURN_NOT_OK(ensure(b, &b->buf[i]));
  if (is_view(t)) {
    struct zcp__buf *s = &b->variadic_sizes;
    s->size = 0;
    ZCP_RETURN_NOT_OK(zcp__buf_reserve(b, s, ZCP_MAX(b->n_variadic * 8, 1)));
    for (int64_t i = 0; i < b->n_variadic; i++) {
      memcpy(s->data + 8 * i, &b->variadic[i].size, 8);
    }
    s->size = b->n_variadic * 8;
  }
  for (int64_t i = 0; i < b->n_children; i++) {
    ZCP_RETURN_NOT_OK(materialize(b->children[i]));
  }
  if (b->dictionary != NULL) ZCP_RETURN_NOT_OK(materialize(b->dictionary));
  return ZCP_OK;
}

/* Phase 2: the node tree, without buffers. */
static zcp_status_t make_nodes(struct zcp_builder *b, struct ArrowArray *out) {
  ZCP_RETURN_NOT_OK(zcp__array_init_node(out, n_buffers(b), b->n_children, b->alloc));
  for (int64_t i = 0; i < b->n_children; i++) {
    ZCP_RETURN_NOT_OK(make_nodes(b->children[i], out->children[i]));
  }
  if (b->dictionary != NULL) {
    ZCP_RETURN_NOT_OK(zcp__array_alloc_dictionary(out));
    ZCP_RETURN_NOT_OK(make_nodes(b->dictionary, out->dictionary));
  }
  return ZCP_OK;
}

/* Phase 3: moves buf into buffer i of node, zeroing the padding. */
static void give(struct ArrowArray *node, int64_t i, struct zcp__buf *buf) {
  if (buf->data != NULL && buf->capacity > buf->size) {
    memset(buf->data + buf->size, 0, (size_t)(buf->capacity - buf->size));
  }
  zcp__array_set_buffer(node, i, buf->data, buf->capacity);
  buf->data = NULL;
  buf->size = buf->capacity = 0;
}

static void transfer(struct zcp_builder *b, struct ArrowArray *out) {
  enum zcp_type t = b->format.type;
  out->length = b->length;
  out->offset = 0;
  out->null_count = t == ZCP_TYPE_NA ? b->length : b->null_count;
  int64_t i = 0;
  if (zcp__type_has_validity(t)) {
    /* Without a null the bitmap is dropped: consumers then skip validity entirely. */
    if (b->null_count > 0)
      give(out, 0, &b->validity);
    else
      zcp__buf_free(b, &b->validity);
    i = 1;
  }
  for (int64_t k = 0; k < used_bufs(t); k++) give(out, i++, &b->buf[k]);
  if (is_view(t)) {
    for (int64_t k = 0; k < b->n_variadic; k++) give(out, i++, &b->variadic[k]);
    give(out, i++, &b->variadic_sizes);
    b->n_variadic = 0;
  }
  for (int64_t k = 0; k < b->n_children; k++) transfer(b->children[k], out->children[k]);
  if (b->dictionary != NULL) transfer(b->dictionary, out->dictionary);
  b->length = 0;
  b->null_count = 0;
  b->child_mark = 0;
  b->run_end = 0;
  if (b->expect != NULL) memset(b->expect, 0, (size_t)b->n_children * sizeof *b->expect);
}

zcp_status_t zcp_builder_finish(struct zcp_builder *b, struct ArrowArray *out,
                                struct ArrowSchema *out_schema, struct zcp_error *err) {
  if (b == NULL || out == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "builder or out is NULL");
  }
  if (b->root != b) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "column '%s': finish the root builder, not a child", b->path);
  }
  zcp_status_t st = check_tree(b);
  if (st == ZCP_OK) st = materialize(b);
  if (st != ZCP_OK) return zcp_error_set(err, st, "%s", b->last_error);
  struct ArrowSchema schema;
  memset(&schema, 0, sizeof schema);
  if (out_schema != NULL) ZCP_RETURN_NOT_OK(zcp_schema_copy(b->schema, &schema, err));
  struct ArrowArray array;
  st = make_nodes(b, &array);
  if (st != ZCP_OK) {
    zcp_array_release(&array);
    zcp_schema_release(&schema);
    return zcp_error_set(err, st, "column '%s': out of memory making array nodes",
                         b->path);
  }
  transfer(b, &array);
  zcp_array_move(&array, out);
  if (out_schema != NULL) zcp_schema_move(&schema, out_schema);
  return ZCP_OK;
}
