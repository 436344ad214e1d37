/* zcp_descriptor_decode: untrusted descriptor bytes to a record batch in place. The
 * order of the checks is the point of this file (docs/descriptor.md):
 *   1. bytes: size, nesting, protobuf well-formedness, magic, version, schema and batch
 *      present (wire.c);
 *   2. structure, per column, from the message alone: formats parse, flags, names,
 *      metadata, child and buffer counts match the type, lengths, offsets and null
 *      counts in range, every buffer's length at least what type and length need,
 *      variadic sizes within their buffers, depth bounded; then the schema is built and
 *      checked (zcp_schema_validate);
 *   3. memory: one resolve call for every buffer (region known, epoch current, inside
 *      one live sealed block; coherence work of the import);
 *   4. values: the array tree is built privately, buffers recorded with the lengths the
 *      descriptor gave, and zcp array validation runs at the caller's level (DEFAULT
 *      here includes every check that keeps readers inside their buffers, O(rows),
 *      unless the publication records that the sealing node ran them: then only the
 *      O(columns) checks of DESIGN §7 run).
 * Only then does the caller get the arrays. Releasing them frees what decode allocated,
 * never region memory. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/internal.h"
#include "arrow/validate_internal.h"
#include "common/util.h"
#include "descriptor/internal.h"

#define MAX_FORMAT 1024 /* longest format string accepted (a 128-way union fits) */

struct dec {
  struct zcp__path path;
  struct zcp_error *err;
  int64_t n_refs;     /* present buffers */
  int64_t n_variadic; /* variadic sizes, all view columns together */
};

static zcp_status_t fail(struct dec *d, zcp_status_t code, enum zcp_type t,
                         const char *fmt, va_list ap) {
  char msg[ZCP_ERROR_MESSAGE_MAX];
  vsnprintf(msg, sizeof msg, fmt, ap);
  return zcp_error_set(d->err, code, "descriptor column %s (%s): %s",
                       zcp__path_str(&d->path),
                       t == ZCP_TYPE_COUNT_ ? "?" : zcp_type_name(t), msg);
}

static zcp_status_t corrupt(struct dec *d, enum zcp_type t, const char *fmt, ...)
    ZCP_PRINTF(3, 4);
static zcp_status_t corrupt(struct dec *d, enum zcp_type t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  zcp_status_t st = fail(d, ZCP_CORRUPT_INPUT, t, fmt, ap);
  va_end(ap);
  return st;
}

/* Valid Arrow this build does not take (a producer's newer or wider schema). */
static zcp_status_t unsupported(struct dec *d, enum zcp_type t, const char *fmt, ...)
    ZCP_PRINTF(3, 4);
static zcp_status_t unsupported(struct dec *d, enum zcp_type t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  zcp_status_t st = fail(d, ZCP_UNSUPPORTED, t, fmt, ap);
  va_end(ap);
  return st;
}

/* A NUL-terminated copy of bytes that must not contain NUL into buf. */
static bool c_string(ProtobufCBinaryData b, char *buf, size_t cap) {
  if (b.len >= cap || (b.len > 0 && memchr(b.data, 0, b.len) != NULL)) return false;
  if (b.len > 0) memcpy(buf, b.data, b.len);
  buf[b.len] = '\0';
  return true;
}

static bool is_integer(enum zcp_type t) {
  return t >= ZCP_TYPE_INT8 && t <= ZCP_TYPE_UINT64;
}

/* ---- 2. structure ------------------------------------------------------------------ */

static zcp_status_t check_buffers(struct dec *d, const struct zcp_format *f,
                                  const zcp__pb_node *n) {
  enum zcp_type t = f->type;
  bool views = t == ZCP_TYPE_BINARY_VIEW || t == ZCP_TYPE_STRING_VIEW;
  int64_t want = zcp_type_n_buffers(t);
  if (views) {
    want = 2 + (int64_t)n->n_variadic_sizes;
  } else if (n->n_variadic_sizes > 0) {
    return corrupt(d, t, "has %zu variadic sizes but is not a view type",
                   n->n_variadic_sizes);
  }
  if ((int64_t)n->n_buffers != want) {
    return corrupt(d, t, "has %zu buffers, the type needs %lld", n->n_buffers,
                   (long long)want);
  }
  int64_t slots = n->offset + n->length; /* checked not to overflow */
  for (size_t i = 0; i < n->n_buffers; i++) {
    const zcp__pb_buffer *b = n->buffers[i];
    if (!b->present) {
      if (b->region != 0 || b->epoch != 0 || b->offset != 0 || b->length != 0) {
        return corrupt(d, t, "buffer %zu is absent but has a location", i);
      }
    } else {
      int64_t end;
      if (b->offset < 0 || b->length < 0 || !zcp__add_i64(b->offset, b->length, &end)) {
        return corrupt(d, t, "buffer %zu has offset %lld and length %lld", i,
                       (long long)b->offset, (long long)b->length);
      }
      d->n_refs++;
    }
    if (views && i >= 2) { /* variadic data buffer */
      int64_t size = n->variadic_sizes[i - 2];
      int64_t have = b->present ? b->length : 0;
      if (size < 0 || size > have) {
        return corrupt(d, t, "variadic buffer %zu has size %lld but holds %lld bytes",
                       i - 2, (long long)size, (long long)have);
      }
      continue;
    }
    if (n->length == 0) continue;
    int64_t need = zcp__layout_buffer_bytes(f, (int64_t)i, slots);
    if (need == ZCP__BYTES_DATA_DEPENDENT) continue; /* the last offset says: step 4 */
    if (need < 0) {
      return corrupt(d, t, "buffer %zu size for offset %lld + length %lld overflows", i,
                     (long long)n->offset, (long long)n->length);
    }
    bool validity = i == 0 && t != ZCP_TYPE_SPARSE_UNION && t != ZCP_TYPE_DENSE_UNION;
    if (!b->present) {
      if (validity && n->null_count > 0) {
        return corrupt(d, t, "validity buffer is absent but null_count is %lld",
                       (long long)n->null_count);
      }
      if (!validity && need > 0) {
        return corrupt(d, t, "buffer %zu is absent, expected %lld bytes", i,
                       (long long)need);
      }
    } else if (b->length < need) {
      return corrupt(
          d, t,
          "buffer %zu holds %lld bytes, expected at least %lld for %lld rows at "
          "offset %lld",
          i, (long long)b->length, (long long)need, (long long)n->length,
          (long long)n->offset);
    }
  }
  if (views &&
      !zcp__add_i64(d->n_variadic, (int64_t)n->n_variadic_sizes, &d->n_variadic)) {
    return corrupt(d, t, "too many variadic buffers");
  }
  return ZCP_OK;
}

static zcp_status_t check_tree(struct dec *d, const zcp__pb_field *fl,
                               const zcp__pb_node *n, int depth);

static zcp_status_t check_child(struct dec *d, const zcp__pb_field *fl,
                                const zcp__pb_node *n, int64_t i, int depth) {
  size_t saved =
      i >= 0 ? zcp__path_push(&d->path, NULL, i) : zcp__path_push_dictionary(&d->path);
  zcp_status_t st = check_tree(d, fl, n, depth + 1);
  zcp__path_pop(&d->path, saved);
  return st;
}

static zcp_status_t check_tree(struct dec *d, const zcp__pb_field *fl,
                               const zcp__pb_node *n, int depth) {
  char format[MAX_FORMAT];
  struct zcp_format f;
  if (depth > ZCP_MAX_DEPTH) {
    return corrupt(d, ZCP_TYPE_COUNT_, "nesting deeper than %d", ZCP_MAX_DEPTH);
  }
  if (!c_string(fl->format, format, sizeof format)) {
    return corrupt(d, ZCP_TYPE_COUNT_,
                   "format of %zu bytes is empty, too long or holds NUL", fl->format.len);
  }
  struct zcp_error ferr;
  zcp_error_clear(&ferr);
  zcp_status_t fst = zcp_format_parse(format, &f, &ferr);
  if (fst == ZCP_UNSUPPORTED) {
    return unsupported(d, ZCP_TYPE_COUNT_, "%s", ferr.message);
  }
  if (fst != ZCP_OK) return corrupt(d, ZCP_TYPE_COUNT_, "unknown format \"%s\"", format);
  enum zcp_type t = f.type;
  if (depth == 0 && t != ZCP_TYPE_STRUCT) {
    return corrupt(d, t, "a batch is a struct (\"+s\"), not \"%s\"", format);
  }
  if (fl->name.len > 0 &&
      (!fl->has_name || memchr(fl->name.data, 0, fl->name.len) != NULL)) {
    return corrupt(d, t, "name holds NUL or is given without has_name");
  }
  int64_t known =
      ARROW_FLAG_DICTIONARY_ORDERED | ARROW_FLAG_NULLABLE | ARROW_FLAG_MAP_KEYS_SORTED;
  if (fl->flags < 0) {
    return corrupt(d, t, "flags 0x%llx are negative", (unsigned long long)fl->flags);
  }
  if ((fl->flags & ~known) != 0) {
    /* the C Data Interface may define more flags: a newer producer's schema */
    return unsupported(d, t, "flags 0x%llx hold bits this build does not know (0x%llx)",
                       (unsigned long long)fl->flags,
                       (unsigned long long)(fl->flags & ~known));
  }
  if (fl->n_metadata > INT32_MAX) return corrupt(d, t, "too many metadata pairs");
  for (size_t k = 0; k < fl->n_metadata; k++) {
    if (fl->metadata[k]->key.len > INT32_MAX || fl->metadata[k]->value.len > INT32_MAX) {
      return corrupt(d, t, "metadata pair %zu is too long", k);
    }
  }
  int64_t end;
  if (n->length < 0 || n->offset < 0 || !zcp__add_i64(n->offset, n->length, &end)) {
    return corrupt(d, t, "length %lld and offset %lld: negative or overflowing",
                   (long long)n->length, (long long)n->offset);
  }
  if (n->null_count < -1 || n->null_count > n->length) {
    return corrupt(d, t, "null_count %lld is outside [-1, length %lld]",
                   (long long)n->null_count, (long long)n->length);
  }
  ZCP_RETURN_NOT_OK(check_buffers(d, &f, n));
  int64_t want = zcp__format_n_children(&f);
  if (want >= 0 && (int64_t)fl->n_children != want) {
    return corrupt(d, t, "schema has %zu children, the type needs %lld", fl->n_children,
                   (long long)want);
  }
  if (n->n_children != fl->n_children) {
    return corrupt(d, t, "array has %zu children, its schema %zu", n->n_children,
                   fl->n_children);
  }
  if ((fl->dictionary == NULL) != (n->dictionary == NULL)) {
    return corrupt(d, t, "dictionary given in only one of schema and array");
  }
  if (fl->dictionary != NULL && !is_integer(t)) {
    return corrupt(d, t, "dictionary indices must be integers");
  }
  for (size_t i = 0; i < n->n_children; i++) {
    ZCP_RETURN_NOT_OK(check_child(d, fl->children[i], n->children[i], (int64_t)i, depth));
  }
  if (fl->dictionary != NULL) {
    ZCP_RETURN_NOT_OK(check_child(d, fl->dictionary, n->dictionary, -1, depth));
  }
  return ZCP_OK;
}

/* ---- building the schema ------------------------------------------------------------
 */

static zcp_status_t set_metadata(struct ArrowSchema *s, const zcp__pb_field *fl) {
  if (fl->n_metadata == 0) return ZCP_OK;
  size_t total = 4;
  for (size_t k = 0; k < fl->n_metadata; k++) {
    total += 8 + fl->metadata[k]->key.len + fl->metadata[k]->value.len;
  }
  char *blob = malloc(total), *p = blob;
  if (blob == NULL) return ZCP_OUT_OF_MEMORY;
  int32_t count = (int32_t)fl->n_metadata;
  memcpy(p, &count, 4);
  p += 4;
  for (size_t k = 0; k < fl->n_metadata; k++) {
    const ProtobufCBinaryData parts[2] = {fl->metadata[k]->key, fl->metadata[k]->value};
    for (int j = 0; j < 2; j++) {
      int32_t len = (int32_t)parts[j].len;
      memcpy(p, &len, 4);
      if (len > 0) memcpy(p + 4, parts[j].data, parts[j].len);
      p += 4 + len;
    }
  }
  zcp_status_t st = zcp_schema_set_metadata(s, blob);
  free(blob);
  return st;
}

/* Builds node from fl (already checked). On failure node may be partly built: the
 * caller releases the whole tree. */
static zcp_status_t build_schema(const zcp__pb_field *fl, struct ArrowSchema *node) {
  char format[MAX_FORMAT];
  (void)c_string(fl->format, format, sizeof format);
  char *name = NULL;
  if (fl->has_name) {
    name = malloc(fl->name.len + 1);
    if (name == NULL) return ZCP_OUT_OF_MEMORY;
    (void)c_string(fl->name, name, fl->name.len + 1);
  }
  zcp_status_t st =
      zcp_schema_init(format, name, fl->flags, (int64_t)fl->n_children, node, NULL);
  free(name);
  if (st != ZCP_OK) return st;
  ZCP_RETURN_NOT_OK(set_metadata(node, fl));
  for (size_t i = 0; i < fl->n_children; i++) {
    zcp_schema_release(node->children[i]);
    ZCP_RETURN_NOT_OK(build_schema(fl->children[i], node->children[i]));
  }
  if (fl->dictionary != NULL) {
    ZCP_RETURN_NOT_OK(zcp_schema_alloc_dictionary(node));
    ZCP_RETURN_NOT_OK(build_schema(fl->dictionary, node->dictionary));
  }
  return ZCP_OK;
}

/* ---- 3. memory -----------------------------------------------------------------------
 */

struct resolved {
  struct zcp_buffer_ref *refs;
  const void **addrs;
  int64_t next;   /* next ref to hand out while building */
  int64_t *sizes; /* every view column's variadic sizes, one heap block */
  int64_t next_size;
};

static void collect_refs(const zcp__pb_node *n, struct resolved *r, int64_t *k) {
  for (size_t i = 0; i < n->n_buffers; i++) {
    const zcp__pb_buffer *b = n->buffers[i];
    if (!b->present) continue;
    r->refs[(*k)++] = (struct zcp_buffer_ref){
        .region = b->region, .epoch = b->epoch, .offset = b->offset, .length = b->length};
  }
  for (size_t i = 0; i < n->n_children; i++) collect_refs(n->children[i], r, k);
  if (n->dictionary != NULL) collect_refs(n->dictionary, r, k);
}

/* ---- 4. the array tree
 * ----------------------------------------------------------------- */

static zcp_status_t build_array(const zcp__pb_field *fl, const zcp__pb_node *n,
                                struct resolved *r, struct ArrowArray *node) {
  char format[MAX_FORMAT];
  struct zcp_format f;
  if (!c_string(fl->format, format, sizeof format) ||
      zcp_format_parse(format, &f, NULL) != ZCP_OK) {
    return ZCP_CORRUPT_INPUT; /* cannot happen: checked in step 2 */
  }
  bool views = f.type == ZCP_TYPE_BINARY_VIEW || f.type == ZCP_TYPE_STRING_VIEW;
  int64_t nb = (int64_t)n->n_buffers + (views ? 1 : 0);
  ZCP_RETURN_NOT_OK(zcp__array_init_node(node, nb, (int64_t)n->n_children, NULL));
  node->length = n->length;
  node->null_count = n->null_count;
  node->offset = n->offset;
  for (size_t i = 0; i < n->n_buffers; i++) {
    const zcp__pb_buffer *b = n->buffers[i];
    if (!b->present) continue;
    zcp__array_set_buffer(node, (int64_t)i, (void *)r->addrs[r->next], b->length);
    r->next++;
  }
  if (views) {
    int64_t *sizes = r->sizes + r->next_size;
    if (n->n_variadic_sizes > 0) {
      memcpy(sizes, n->variadic_sizes, n->n_variadic_sizes * sizeof *sizes);
    }
    r->next_size += (int64_t)n->n_variadic_sizes;
    zcp__array_set_buffer(node, nb - 1, sizes, (int64_t)(n->n_variadic_sizes * 8));
  }
  for (size_t i = 0; i < n->n_children; i++) {
    ZCP_RETURN_NOT_OK(build_array(fl->children[i], n->children[i], r, node->children[i]));
  }
  if (n->dictionary != NULL) {
    ZCP_RETURN_NOT_OK(zcp__array_alloc_dictionary(node));
    ZCP_RETURN_NOT_OK(build_array(fl->dictionary, n->dictionary, r, node->dictionary));
  }
  return ZCP_OK;
}

/* ---- the whole ------------------------------------------------------------------------
 */

/* bounds: walk every value a reader addresses memory with (else the seal did, and no
 * check below FULL walks the rows). */
static zcp_status_t decode(const zcp__pb_descriptor *desc,
                           const struct zcp_descriptor_memory *mem,
                           enum zcp_validate_level level, bool bounds,
                           struct ArrowSchema *schema,
                           struct ArrowArray *array, struct resolved *r,
                           struct zcp_error *err) {
  struct dec d = {.err = err};
  zcp__path_init(&d.path, NULL);
  ZCP_RETURN_NOT_OK(check_tree(&d, desc->schema, desc->batch, 0));

  zcp_status_t st = build_schema(desc->schema, schema);
  if (st != ZCP_OK) return zcp_error_set(err, st, "descriptor: cannot build the schema");
  st = zcp_schema_validate(schema, err);
  if (st != ZCP_OK) return zcp_error_prefix(err, ZCP_CORRUPT_INPUT, "descriptor: ");

  /* +1: never a zero-byte malloc */
  r->refs = calloc((size_t)d.n_refs + 1, sizeof *r->refs);
  r->addrs = calloc((size_t)d.n_refs + 1, sizeof *r->addrs);
  r->sizes = calloc((size_t)d.n_variadic + 1, sizeof *r->sizes);
  if (r->refs == NULL || r->addrs == NULL || r->sizes == NULL) {
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "descriptor: out of memory");
  }
  int64_t k = 0;
  collect_refs(desc->batch, r, &k);
  if (d.n_refs > 0) {
    st = mem->resolve(mem->ctx, r->refs, d.n_refs, r->addrs, err);
    if (st != ZCP_OK) return zcp_error_prefix(err, st, "descriptor: ");
    for (int64_t i = 0; i < d.n_refs; i++) {
      if (r->addrs[i] == NULL) {
        return zcp_error_set(
            err, ZCP_CORRUPT_INPUT,
            "descriptor: buffer %lld (region %d offset %lld) resolved to "
            "NULL",
            (long long)i, r->refs[i].region, (long long)r->refs[i].offset);
      }
    }
  }

  st = build_array(desc->schema, desc->batch, r, array);
  if (st != ZCP_OK) return zcp_error_set(err, st, "descriptor: cannot build the array");
  struct zcp_array_view view;
  st = zcp_array_view_init(array, schema, &view, err);
  if (st != ZCP_OK) return zcp_error_prefix(err, ZCP_CORRUPT_INPUT, "descriptor: ");
  st = zcp__array_view_validate(&view, level, bounds, !bounds && level < ZCP_VALIDATE_FULL,
                                err);
  zcp_array_view_reset(&view);
  if (st != ZCP_OK) return zcp_error_prefix(err, ZCP_CORRUPT_INPUT, "descriptor ");
  return ZCP_OK;
}

zcp_status_t zcp_descriptor_check_values(const struct ArrowSchema *schema,
                                         const struct ArrowArray *batch,
                                         enum zcp_validate_level level,
                                         enum zcp_checked *checked_out,
                                         struct zcp_error *err) {
  *checked_out = ZCP_CHECKED_NONE;
  if (level < ZCP_VALIDATE_MINIMAL || level > ZCP_VALIDATE_FULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "check values: unknown level %d",
                         (int)level);
  if (schema == NULL || batch == NULL || batch->release == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "check values: no batch");
  struct zcp_array_view view;
  ZCP_RETURN_NOT_OK(zcp_array_view_init(batch, schema, &view, err));
  /* What decode's DEFAULT walks when nobody did (bounds), so that an import relying on
   * the record checks nothing less. */
  zcp_status_t st = zcp__array_view_validate(&view, level, true, false, err);
  zcp_array_view_reset(&view);
  if (st != ZCP_OK) return st;
  *checked_out = level == ZCP_VALIDATE_FULL      ? ZCP_CHECKED_FULL
                 : level == ZCP_VALIDATE_DEFAULT ? ZCP_CHECKED_DEFAULT
                                                 : ZCP_CHECKED_NONE;
  return ZCP_OK;
}

zcp_status_t zcp_descriptor_decode(const uint8_t *buf, int64_t size,
                                   const struct zcp_descriptor_memory *mem,
                                   enum zcp_validate_level level,
                                   struct ArrowSchema *schema_out,
                                   struct ArrowArray *array_out, struct zcp_error *err) {
  return zcp_descriptor_decode_checked(buf, size, mem, level, ZCP_CHECKED_NONE, schema_out,
                                       array_out, err);
}

zcp_status_t zcp_descriptor_decode_checked(const uint8_t *buf, int64_t size,
                                           const struct zcp_descriptor_memory *mem,
                                           enum zcp_validate_level level,
                                           enum zcp_checked checked,
                                           struct ArrowSchema *schema_out,
                                           struct ArrowArray *array_out,
                                           struct zcp_error *err) {
  if (schema_out == NULL || array_out == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "descriptor decode: NULL output");
  }
  memset(schema_out, 0, sizeof *schema_out);
  memset(array_out, 0, sizeof *array_out);
  if (mem == NULL || mem->resolve == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "descriptor decode: memory without resolve");
  }
  if (level < ZCP_VALIDATE_MINIMAL || level > ZCP_VALIDATE_FULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "descriptor decode: unknown level %d",
                         (int)level);
  }
  if (checked < ZCP_CHECKED_NONE || checked > ZCP_CHECKED_FULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "descriptor decode: unknown checked level %d", (int)checked);
  }
  /* DEFAULT walks every value a reader addresses memory with (bounds) unless the seal
   * did; FULL walks everything whatever was recorded. */
  bool bounds = level == ZCP_VALIDATE_DEFAULT && checked == ZCP_CHECKED_NONE;
  zcp__pb_descriptor *desc;
  ZCP_RETURN_NOT_OK(zcp__descriptor_unpack(buf, size, &desc, err));
  struct resolved r = {0};
  zcp_status_t st = decode(desc, mem, level, bounds, schema_out, array_out, &r, err);
  zcp__descriptor_unpacked_free(desc);
  free(r.refs);
  free(r.addrs);
  if (st != ZCP_OK) {
    zcp_array_release(array_out);
    zcp_schema_release(schema_out);
    free(r.sizes);
    return st;
  }
  /* The variadic sizes block lives as long as the array tree. */
  struct zcp__array_private *p = zcp__array_private_of(array_out);
  p->on_release = free;
  p->on_release_ctx = r.sizes;
  return ZCP_OK;
}
