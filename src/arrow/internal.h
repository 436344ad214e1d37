/* Private contract between the files of src/arrow: how zcpool lays out the ArrowArray
 * and ArrowSchema nodes it creates. Not API. Everything here is process-private memory;
 * only the data buffers an allocator hands out may live in pooled memory. */
#ifndef ZCP_ARROW_INTERNAL_H
#define ZCP_ARROW_INTERNAL_H

#include "zcpool/arrow.h"

/* Private data of every ArrowArray node zcpool creates (builders, table exports,
 * importers). One malloc holds this struct; buffers/capacity/children are separate
 * arrays so that n_buffers can be anything (binary views). */
struct zcp__array_private {
  /* Owner of the data buffers: freed through it on release. NULL when the buffers are
   * borrowed (a shared export of someone else's array): release then frees none. */
  struct zcp_allocator *alloc;
  int64_t n_buffers;
  const void **buffers;     /* array->buffers points here */
  int64_t *capacity;        /* allocated bytes of each buffer, -1 when unknown */
  struct ArrowArray **children;
  struct ArrowArray *dictionary;
  /* Called once after the node is released (shared exports drop a reference here). */
  void (*on_release)(void *ctx);
  void *on_release_ctx;
};

/* Initialises `out` as a zcpool node with n_buffers NULL buffers (capacity 0), and
 * n_children children that are allocated, zeroed and released (release == NULL) so that
 * the caller fills them in; dictionary stays NULL (see zcp__array_alloc_dictionary).
 * On failure out is left released. */
zcp_status_t zcp__array_init_node(struct ArrowArray *out, int64_t n_buffers,
                                  int64_t n_children, struct zcp_allocator *alloc);
/* Gives a node created above a zeroed, released dictionary node. */
zcp_status_t zcp__array_alloc_dictionary(struct ArrowArray *node);
/* Changes the number of buffers of a node created above (new ones NULL). */
zcp_status_t zcp__array_set_n_buffers(struct ArrowArray *node, int64_t n_buffers);
/* Sets buffer i to ptr with allocated size capacity (owned through the node's alloc). */
void zcp__array_set_buffer(struct ArrowArray *node, int64_t i, void *ptr, int64_t capacity);
/* The release callback of every node we create; exposed to recognise our arrays. */
void zcp__array_release(struct ArrowArray *array);
static inline struct zcp__array_private *zcp__array_private_of(const struct ArrowArray *a) {
  return (a != NULL && a->release == zcp__array_release)
             ? (struct zcp__array_private *)a->private_data
             : NULL;
}

/* Makes dst a structural copy of src (lengths, offsets, buffer pointers, children and
 * dictionary) whose buffers are borrowed: releasing dst frees only its own nodes, then
 * calls on_release(ctx) once for the whole tree (the caller took a reference for it).
 * Capacities are copied when src is ours. */
zcp_status_t zcp__array_share(const struct ArrowArray *src, struct ArrowArray *dst,
                              void (*on_release)(void *ctx), void *ctx);

/* Schema nodes we create: format, name and metadata are our own heap copies. */
struct zcp__schema_private {
  char *format;
  char *name;
  char *metadata;
};
void zcp__schema_release(struct ArrowSchema *schema);

/* Checks a metadata blob (C Data Interface encoding) while reading at most max_size
 * bytes of it: the pair count and every length non-negative, every pair inside
 * max_size. NULL is an empty blob of size 0. On success *size (may be NULL) is the
 * blob's total size; errors are ZCP_CORRUPT_INPUT naming the pair. */
zcp_status_t zcp__metadata_check(const char *md, int64_t max_size, int64_t *size,
                                 struct zcp_error *err);

/* Number of children the layout of a type requires: 1 for list-likes and maps, 2 for
 * run-end encoded, the number of type ids for unions, -1 for structs (any), else 0. */
int64_t zcp__format_n_children(const struct zcp_format *f);

/* Largest precision of a decimal type (9, 18, 38, 76); 0 for any other type. */
int32_t zcp__decimal_max_precision(enum zcp_type type);
/* Same by value width in bytes (4, 8, 16, 32); 0 for any other width. */
int32_t zcp__decimal_max_precision_of_width(int64_t width);
/* The decimal type of a bit width (32, 64, 128, 256), as format strings and IPC's
 * Decimal.bitWidth give it; false for any other width. */
bool zcp__decimal_type_of_bits(int64_t bits, enum zcp_type *out);

/* Decimal values (decimal.c). A value of `width` bytes widened to 64-bit limbs
 * (sign-extended to at least one limb); returns the number of limbs (1, 1, 2, 4). */
int zcp__decimal_limbs(const uint8_t *bytes, int64_t width, uint64_t limbs[4]);
/* Replaces a negative value by its magnitude; returns whether it was negative. */
bool zcp__decimal_negate_if_negative(uint64_t *limbs, int n);
/* Extension types (extension.c): what the printer needs to show Arrow's canonical ones
 * (CanonicalExtensions.rst) readably. */
enum zcp__ext_kind {
  ZCP_EXT_OTHER,  /* any other name, or a canonical one on a storage it disallows */
  ZCP_EXT_UUID,   /* arrow.uuid on fixed_size_binary[16] */
  ZCP_EXT_JSON,   /* arrow.json on utf8, large_utf8 or utf8_view */
  ZCP_EXT_BOOL8,  /* arrow.bool8 on int8 */
  ZCP_EXT_TENSOR, /* arrow.fixed_shape_tensor on a fixed-size list */
  ZCP_EXT_OPAQUE, /* arrow.opaque on anything */
};
struct zcp__extension {
  enum zcp__ext_kind kind;
  struct zcp_string_view name;   /* ARROW:extension:name */
  struct zcp_string_view params; /* ARROW:extension:metadata ("" when absent) */
};
/* Whether schema node s is an extension type (its metadata names one); fills out. */
bool zcp__extension_of(const struct ArrowSchema *s, struct zcp__extension *out);
/* The "shape" array of fixed_shape_tensor parameters into dims (at most max); returns
 * the number of dimensions, or -1 when there is no readable shape. */
int zcp__extension_shape(struct zcp_string_view params, int64_t *dims, int max);

/* Bytes needed for n values of `bits` bits each; -1 when negative or overflowing. */
int64_t zcp__bytes_for_bits(int64_t n, int64_t bits);

/* Bytes that buffer `index` (its position in ArrowArray.buffers; for binary/utf8 views
 * only the validity and views buffers) of an array of type f must hold for `slots`
 * (= offset + length) elements. ZCP__BYTES_DATA_DEPENDENT for the data buffer of
 * binary/utf8 (the last offset says); -1 when the type has no such buffer or the size
 * overflows. An empty array (length 0) needs no bytes at all: callers check that. */
#define ZCP__BYTES_DATA_DEPENDENT (-2)
int64_t zcp__layout_buffer_bytes(const struct zcp_format *f, int64_t index, int64_t slots);

#endif /* ZCP_ARROW_INTERNAL_H */
