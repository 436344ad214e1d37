/* zcp_descriptor_encode: a record batch in region memory to descriptor bytes. Reads the
 * structure of the batch (through an array view, which parses every format and checks
 * buffer and child counts), and per buffer asks the memory layer where it lies. The only
 * data read is O(columns): the last offset of a binary/utf8 column (how much of its data
 * buffer is used) and the variadic sizes of a view column. */
#include <stdlib.h>
#include <string.h>

#include "arrow/internal.h"
#include "arrow/view_internal.h"
#include "descriptor/internal.h"

/* Every protobuf-c struct of one encoding comes from here and is freed at once. */
struct arena {
  void **ptrs;
  size_t n, cap;
  bool failed;
};

static void *arena_alloc(struct arena *a, size_t size) {
  if (a->failed) return NULL;
  if (a->n == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 64;
    void **p = realloc(a->ptrs, cap * sizeof *p);
    if (p == NULL) {
      a->failed = true;
      return NULL;
    }
    a->ptrs = p;
    a->cap = cap;
  }
  void *m = calloc(1, size ? size : 1);
  if (m == NULL) {
    a->failed = true;
    return NULL;
  }
  a->ptrs[a->n++] = m;
  return m;
}

static void arena_free(struct arena *a) {
  for (size_t i = 0; i < a->n; i++) free(a->ptrs[i]);
  free(a->ptrs);
}

struct enc {
  const struct zcp_descriptor_memory *mem;
  struct arena arena;
  struct zcp__path path;
  struct zcp_error *err;
};

static zcp_status_t enc_oom(struct enc *e) {
  return zcp_error_set(e->err, ZCP_OUT_OF_MEMORY, "descriptor: out of memory");
}

static zcp_status_t enc_fail(struct enc *e, const struct zcp_array_view *v,
                             zcp_status_t code, const char *what) {
  return zcp_error_set(e->err, code, "descriptor column %s (%s): %s",
                       zcp__path_str(&e->path), zcp_type_name(v->format.type), what);
}

static ProtobufCBinaryData bytes_of(const char *s, size_t n) {
  return (ProtobufCBinaryData){.len = n, .data = (uint8_t *)(uintptr_t)s};
}

static zcp_status_t encode_field(struct enc *e, const struct zcp_array_view *v,
                                 zcp__pb_field **out) {
  const struct ArrowSchema *s = v->schema;
  zcp__pb_field *f = arena_alloc(&e->arena, sizeof *f);
  if (f == NULL) return enc_oom(e);
  zcpool__descriptor__field__init(f);
  f->format = bytes_of(s->format, strlen(s->format));
  if (s->name != NULL) {
    f->has_name = true;
    f->name = bytes_of(s->name, strlen(s->name));
  }
  f->flags = s->flags;
  if (zcp_metadata_size(s->metadata) < 0) {
    return enc_fail(e, v, ZCP_INVALID_ARGUMENT, "metadata is malformed");
  }
  struct zcp_metadata_reader r;
  struct zcp_string_view key, value;
  zcp_metadata_reader_init(s->metadata, &r);
  size_t n = (size_t)r.remaining;
  if (n > 0) {
    f->metadata = arena_alloc(&e->arena, n * sizeof *f->metadata);
    if (f->metadata == NULL) return enc_oom(e);
    while (f->n_metadata < n && zcp_metadata_reader_next(&r, &key, &value)) {
      zcp__pb_kv *kv = arena_alloc(&e->arena, sizeof *kv);
      if (kv == NULL) return enc_oom(e);
      zcpool__descriptor__key_value__init(kv);
      kv->key = bytes_of(key.data, (size_t)key.size);
      kv->value = bytes_of(value.data, (size_t)value.size);
      f->metadata[f->n_metadata++] = kv;
    }
  }
  *out = f;
  return ZCP_OK;
}

/* How many bytes buffer i (ArrowArray position) of v uses. */
static zcp_status_t used_bytes(struct enc *e, const struct zcp_array_view *v, int64_t i,
                               int64_t *out) {
  const struct ArrowArray *a = v->array;
  enum zcp_type t = v->format.type;
  bool views = t == ZCP_TYPE_BINARY_VIEW || t == ZCP_TYPE_STRING_VIEW;
  *out = 0;
  if (views && i >= 2) { /* variadic data buffer i - 2 */
    int64_t size = zcp__ld_i64(a->buffers[a->n_buffers - 1], i - 2);
    if (size < 0) return enc_fail(e, v, ZCP_INVALID_ARGUMENT, "negative variadic size");
    *out = size;
    return ZCP_OK;
  }
  if (a->length == 0) return ZCP_OK;
  int64_t need = zcp__layout_buffer_bytes(&v->format, i, a->offset + a->length);
  if (need == ZCP__BYTES_DATA_DEPENDENT) {
    if (a->buffers[1] == NULL) return ZCP_OK;
    int64_t width = (t == ZCP_TYPE_BINARY || t == ZCP_TYPE_STRING) ? 4 : 8;
    need = zcp__ld_offset(a->buffers[1], width, a->offset + a->length);
  }
  if (need < 0) return enc_fail(e, v, ZCP_INVALID_ARGUMENT, "buffer size out of range");
  *out = need;
  return ZCP_OK;
}

static zcp_status_t encode_buffer(struct enc *e, const struct zcp_array_view *v,
                                  int64_t i, zcp__pb_buffer **out) {
  zcp__pb_buffer *b = arena_alloc(&e->arena, sizeof *b);
  if (b == NULL) return enc_oom(e);
  zcpool__descriptor__buffer__init(b);
  *out = b;
  const void *p = v->array->buffers[i];
  if (p == NULL) return ZCP_OK;
  int64_t length;
  ZCP_RETURN_NOT_OK(used_bytes(e, v, i, &length));
  struct zcp_buffer_ref ref;
  struct zcp_error lerr;
  zcp_error_clear(&lerr);
  zcp_status_t st = e->mem->locate(e->mem->ctx, p, length, &ref, &lerr);
  if (st == ZCP_NOT_FOUND && length == 0) return ZCP_OK; /* nothing used: absent */
  if (st != ZCP_OK) {
    return zcp_error_set(e->err, st, "descriptor column %s (%s): buffer %lld at %p: %s",
                         zcp__path_str(&e->path), zcp_type_name(v->format.type),
                         (long long)i, p, lerr.message);
  }
  b->present = true;
  b->region = ref.region;
  b->epoch = ref.epoch;
  b->offset = ref.offset;
  b->length = length;
  return ZCP_OK;
}

static zcp_status_t encode_node(struct enc *e, const struct zcp_array_view *v,
                                zcp__pb_field **field_out, zcp__pb_node **node_out) {
  const struct ArrowArray *a = v->array;
  ZCP_RETURN_NOT_OK(encode_field(e, v, field_out));
  zcp__pb_field *f = *field_out;
  zcp__pb_node *n = arena_alloc(&e->arena, sizeof *n);
  if (n == NULL) return enc_oom(e);
  zcpool__descriptor__node__init(n);
  *node_out = n;
  n->length = a->length;
  n->null_count = a->null_count;
  n->offset = a->offset;
  bool views =
      v->format.type == ZCP_TYPE_BINARY_VIEW || v->format.type == ZCP_TYPE_STRING_VIEW;
  if (views && v->n_variadic > 0 && a->buffers[a->n_buffers - 1] == NULL) {
    return enc_fail(e, v, ZCP_INVALID_ARGUMENT, "variadic sizes buffer is NULL");
  }
  int64_t n_buffers = views ? a->n_buffers - 1 : a->n_buffers; /* sizes go inline */
  if (n_buffers > 0) {
    n->buffers = arena_alloc(&e->arena, (size_t)n_buffers * sizeof *n->buffers);
    if (n->buffers == NULL) return enc_oom(e);
    for (int64_t i = 0; i < n_buffers; i++) {
      ZCP_RETURN_NOT_OK(encode_buffer(e, v, i, &n->buffers[i]));
      n->n_buffers++;
    }
  }
  if (views && v->n_variadic > 0) {
    n->variadic_sizes = arena_alloc(&e->arena, (size_t)v->n_variadic * sizeof(int64_t));
    if (n->variadic_sizes == NULL) return enc_oom(e);
    for (int64_t k = 0; k < v->n_variadic; k++) {
      n->variadic_sizes[k] = zcp__ld_i64(a->buffers[a->n_buffers - 1], k);
    }
    n->n_variadic_sizes = (size_t)v->n_variadic;
  }
  if (v->n_children > 0) {
    size_t nc = (size_t)v->n_children;
    f->children = arena_alloc(&e->arena, nc * sizeof *f->children);
    n->children = arena_alloc(&e->arena, nc * sizeof *n->children);
    if (f->children == NULL || n->children == NULL) return enc_oom(e);
    for (int64_t i = 0; i < v->n_children; i++) {
      size_t saved = zcp__path_push(&e->path, NULL, i);
      zcp_status_t st = encode_node(e, &v->children[i], &f->children[i], &n->children[i]);
      zcp__path_pop(&e->path, saved);
      if (st != ZCP_OK) return st;
      f->n_children++;
      n->n_children++;
    }
  }
  if (v->dictionary != NULL) {
    size_t saved = zcp__path_push_dictionary(&e->path);
    zcp_status_t st = encode_node(e, v->dictionary, &f->dictionary, &n->dictionary);
    zcp__path_pop(&e->path, saved);
    if (st != ZCP_OK) return st;
  }
  return ZCP_OK;
}

zcp_status_t zcp_descriptor_encode(const struct ArrowSchema *schema,
                                   const struct ArrowArray *array,
                                   const struct zcp_descriptor_memory *mem, uint8_t **out,
                                   int64_t *out_size, struct zcp_error *err) {
  if (out == NULL || out_size == NULL || mem == NULL || mem->locate == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "descriptor encode: NULL output or memory without locate");
  }
  *out = NULL;
  *out_size = 0;
  if (schema == NULL || array == NULL || schema->release == NULL ||
      array->release == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "descriptor encode: schema or array is NULL or released");
  }
  if (schema->format == NULL || strcmp(schema->format, "+s") != 0) {
    return zcp_error_set(
        err, ZCP_INVALID_ARGUMENT,
        "descriptor encode: a record batch has format \"+s\", not \"%s\"",
        schema->format ? schema->format : "(null)");
  }
  struct zcp_array_view view;
  zcp_status_t st = zcp_array_view_init(array, schema, &view, err);
  if (st != ZCP_OK) return zcp_error_prefix(err, st, "descriptor encode: ");
  struct enc e = {.mem = mem, .err = err};
  zcp__path_init(&e.path, NULL);
  zcp__pb_descriptor d;
  zcpool__descriptor__descriptor__init(&d);
  d.magic = ZCP_DESCRIPTOR_MAGIC;
  d.version = ZCP_DESCRIPTOR_VERSION;
  st = encode_node(&e, &view, &d.schema, &d.batch);
  zcp_array_view_reset(&view);
  if (st == ZCP_OK) {
    size_t size = zcpool__descriptor__descriptor__get_packed_size(&d);
    uint8_t *buf = malloc(size ? size : 1);
    if (buf == NULL) {
      st = enc_oom(&e);
    } else {
      zcpool__descriptor__descriptor__pack(&d, buf);
      *out = buf;
      *out_size = (int64_t)size;
    }
  }
  arena_free(&e.arena);
  return st;
}

void zcp_descriptor_free(uint8_t *buf) {
  free(buf);
}
