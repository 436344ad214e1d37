/* Builders: creation from a schema (one builder per schema node, children and dictionary
 * included), release, and the accessors. A builder tree owns a copy of the schema; every
 * node points into that copy, so the schema a caller passed may go away at once. Nothing
 * here allocates data buffers: those appear at the first append. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/builder_internal.h"

/* ---- life cycle ----------------------------------------------------------------------
 */

static char *join_path(const char *parent, const char *name) {
  if (name == NULL) name = "";
  size_t lp = parent != NULL ? strlen(parent) : 0, ln = strlen(name);
  char *p = malloc(lp + ln + 2);
  if (p == NULL) return NULL;
  if (lp > 0) {
    memcpy(p, parent, lp);
    p[lp] = '.';
    memcpy(p + lp + 1, name, ln + 1);
  } else {
    memcpy(p, name, ln + 1);
  }
  return p;
}

static void builder_free(struct zcp_builder *b) {
  if (b == NULL) return;
  for (int64_t i = 0; i < b->n_children; i++) builder_free(b->children[i]);
  builder_free(b->dictionary);
  zcp__buf_free(b, &b->validity);
  zcp__buf_free(b, &b->buf[0]);
  zcp__buf_free(b, &b->buf[1]);
  for (int64_t i = 0; i < b->n_variadic; i++) zcp__buf_free(b, &b->variadic[i]);
  zcp__buf_free(b, &b->variadic_sizes);
  free(b->variadic);
  free(b->children);
  free(b->expect);
  free(b->path);
  if (b->root == b) zcp_schema_release(&b->owned_schema);
  free(b);
}

static zcp_status_t setup(struct zcp_builder *b, struct zcp_builder *root,
                          const struct ArrowSchema *schema, const char *parent_path,
                          int depth, struct zcp_error *err);

static zcp_status_t setup_error(struct zcp_builder *b, struct zcp_error *err,
                                zcp_status_t code, const char *what) {
  return zcp_error_set(err, code, "column '%s' (%s): %s", b->path,
                       zcp_type_name(b->format.type), what);
}

static zcp_status_t new_child(struct zcp_builder *parent, struct zcp_builder **out,
                              const struct ArrowSchema *schema, int depth,
                              struct zcp_error *err) {
  struct zcp_builder *c = calloc(1, sizeof *c);
  if (c == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "out of memory");
  *out = c;
  return setup(c, parent->root, schema, parent->path, depth, err);
}

static zcp_status_t setup_children(struct zcp_builder *b,
                                   const struct ArrowSchema *schema, int depth,
                                   struct zcp_error *err) {
  enum zcp_type t = b->format.type;
  int64_t want = zcp__format_n_children(&b->format);
  if (schema->n_children < 0 || (schema->n_children > 0 && schema->children == NULL)) {
    return setup_error(b, err, ZCP_INVALID_ARGUMENT, "bad children");
  }
  if (want >= 0 && schema->n_children != want) {
    char msg[96];
    snprintf(msg, sizeof msg, "expected %lld children, schema has %lld", (long long)want,
             (long long)schema->n_children);
    return setup_error(b, err, ZCP_INVALID_ARGUMENT, msg);
  }
  if ((t == ZCP_TYPE_SPARSE_UNION || t == ZCP_TYPE_DENSE_UNION) &&
      schema->n_children != b->format.n_type_ids) {
    return setup_error(b, err, ZCP_INVALID_ARGUMENT,
                       "union type ids and children differ in number");
  }
  if (schema->n_children == 0) return ZCP_OK;
  b->children = calloc((size_t)schema->n_children, sizeof *b->children);
  if (b->children == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "out of memory");
  b->n_children = schema->n_children;
  for (int64_t i = 0; i < schema->n_children; i++) {
    ZCP_RETURN_NOT_OK(new_child(b, &b->children[i], schema->children[i], depth + 1, err));
  }
  if (t == ZCP_TYPE_MAP && (b->children[0]->format.type != ZCP_TYPE_STRUCT ||
                            b->children[0]->n_children != 2)) {
    return setup_error(b, err, ZCP_INVALID_ARGUMENT,
                       "map entries must be a struct of 2 (keys, values)");
  }
  if (t == ZCP_TYPE_RUN_END_ENCODED) {
    enum zcp_type r = b->children[0]->format.type;
    if ((r != ZCP_TYPE_INT16 && r != ZCP_TYPE_INT32 && r != ZCP_TYPE_INT64) ||
        b->children[0]->dictionary != NULL) {
      return setup_error(b, err, ZCP_INVALID_ARGUMENT,
                         "run ends must be int16, int32 or int64");
    }
  }
  if (t == ZCP_TYPE_SPARSE_UNION || t == ZCP_TYPE_DENSE_UNION) {
    b->expect = calloc((size_t)b->n_children, sizeof *b->expect);
    if (b->expect == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "out of memory");
    for (int64_t i = 0; i < b->n_children; i++) {
      int8_t id = b->format.type_ids[i];
      if (id < 0 || b->child_of_type[id] >= 0) {
        return setup_error(b, err, ZCP_INVALID_ARGUMENT, "bad or repeated union type id");
      }
      b->child_of_type[id] = (int16_t)i;
    }
  }
  return ZCP_OK;
}

static zcp_status_t setup(struct zcp_builder *b, struct zcp_builder *root,
                          const struct ArrowSchema *schema, const char *parent_path,
                          int depth, struct zcp_error *err) {
  b->root = root;
  b->schema = schema;
  b->alloc = root->alloc;
  b->align = root->align;
  for (int i = 0; i < ZCP_MAX_UNION_TYPES; i++) b->child_of_type[i] = -1;
  b->path = join_path(parent_path, schema->name);
  if (b->path == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "out of memory");
  if (depth > ZCP_MAX_DEPTH) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "column '%s': nested deeper than %d",
                         b->path, ZCP_MAX_DEPTH);
  }
  zcp_status_t st = zcp_format_parse(schema->format, &b->format, err);
  if (st != ZCP_OK) return zcp_error_prefix(err, st, "column '%s': ", b->path);
  b->width = zcp__value_width(&b->format);
  if (b->format.type == ZCP_TYPE_FIXED_SIZE_BINARY && b->width < 0) {
    return setup_error(b, err, ZCP_INVALID_ARGUMENT, "negative fixed size");
  }
  if (b->format.type == ZCP_TYPE_FIXED_SIZE_LIST && b->format.fixed_size < 0) {
    return setup_error(b, err, ZCP_INVALID_ARGUMENT, "negative fixed size");
  }
  ZCP_RETURN_NOT_OK(setup_children(b, schema, depth, err));
  if (schema->dictionary != NULL) {
    if (b->format.type < ZCP_TYPE_INT8 || b->format.type > ZCP_TYPE_UINT64) {
      return setup_error(b, err, ZCP_INVALID_ARGUMENT,
                         "dictionary indices must be an integer type");
    }
    ZCP_RETURN_NOT_OK(new_child(b, &b->dictionary, schema->dictionary, depth + 1, err));
  }
  return ZCP_OK;
}

zcp_status_t zcp_builder_init(const struct ArrowSchema *schema,
                              struct zcp_allocator *alloc, struct zcp_builder **out,
                              struct zcp_error *err) {
  if (out == NULL) return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "out is NULL");
  *out = NULL;
  if (schema == NULL || schema->release == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "schema is NULL or released");
  }
  if (alloc == NULL) alloc = zcp_allocator_default();
  if (alloc->allocate == NULL || alloc->reallocate == NULL || alloc->free == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "allocator lacks a function");
  }
  int64_t align = ZCP_MAX(alloc->alignment, (int64_t)ZCP_ALIGNMENT);
  if (!zcp__is_pow2(align) || align > ((int64_t)1 << 30)) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "allocator alignment %lld is not a power of two",
                         (long long)alloc->alignment);
  }
  struct zcp_builder *b = calloc(1, sizeof *b);
  if (b == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "out of memory");
  b->root = b;
  b->alloc = alloc;
  b->align = align;
  zcp_status_t st = zcp_schema_copy(schema, &b->owned_schema, err);
  if (st != ZCP_OK) {
    free(b);
    return st;
  }
  st = setup(b, b, &b->owned_schema, NULL, 0, err);
  if (st != ZCP_OK) {
    builder_free(b);
    return st;
  }
  *out = b;
  return ZCP_OK;
}

void zcp_builder_release(struct zcp_builder *b) {
  if (b == NULL) return;
  builder_free(b->root);
}

const struct ArrowSchema *zcp_builder_schema(const struct zcp_builder *b) {
  return b != NULL ? b->schema : NULL;
}

const struct zcp_format *zcp_builder_format(const struct zcp_builder *b) {
  return b != NULL ? &b->format : NULL;
}

int64_t zcp_builder_length(const struct zcp_builder *b) {
  return b != NULL ? b->length : 0;
}

struct zcp_builder *zcp_builder_child(struct zcp_builder *b, int64_t i) {
  return (b != NULL && i >= 0 && i < b->n_children) ? b->children[i] : NULL;
}

struct zcp_builder *zcp_builder_union_child(struct zcp_builder *b, int8_t type_id) {
  if (b == NULL || type_id < 0) return NULL;
  if (b->format.type != ZCP_TYPE_SPARSE_UNION && b->format.type != ZCP_TYPE_DENSE_UNION) {
    return NULL;
  }
  int16_t c = b->child_of_type[type_id];
  return c >= 0 ? b->children[c] : NULL;
}

struct zcp_builder *zcp_builder_dictionary(struct zcp_builder *b) {
  return b != NULL ? b->dictionary : NULL;
}
