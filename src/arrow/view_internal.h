/* Private contract between view.c and the validation files: how a view names its column
 * in error messages, and unaligned-safe loads. Not API. Loads go through memcpy because
 * buffers of foreign arrays need not be aligned; compilers turn them into plain moves. */
#ifndef ZCP_ARROW_VIEW_INTERNAL_H
#define ZCP_ARROW_VIEW_INTERNAL_H

#include <stddef.h>
#include <string.h>

#include "zcpool/arrow.h"

/* The dotted path of a column ("a.b", "items.2", "a.[dictionary]"), built while walking a
 * view tree so that messages can name where the problem is. Truncated when too long. */
struct zcp__path {
  char buf[256];
  size_t len;
};

/* Starts a path at the root schema node (its name, or nothing for a nameless batch). */
void zcp__path_init(struct zcp__path *p, const struct ArrowSchema *root);
/* Appends child `index` of the current node (its name, or the index when unnamed);
 * returns what to give zcp__path_pop to undo it. */
size_t zcp__path_push(struct zcp__path *p, const char *name, int64_t index);
/* Appends the dictionary of the current node. */
size_t zcp__path_push_dictionary(struct zcp__path *p);
void zcp__path_pop(struct zcp__path *p, size_t saved);
/* The path for messages: "<root>" for the nameless root. */
const char *zcp__path_str(const struct zcp__path *p);

/* Sets err to code with "column '<path>' (<type>): <message>" and returns code. */
zcp_status_t zcp__view_fail(struct zcp_error *err, zcp_status_t code,
                            const struct zcp__path *path, enum zcp_type type,
                            const char *fmt, ...) ZCP_PRINTF(5, 6);

/* True for types whose buffer 0 is a validity bitmap. */
static inline bool zcp__type_has_validity(enum zcp_type t) {
  return t != ZCP_TYPE_NA && t != ZCP_TYPE_SPARSE_UNION && t != ZCP_TYPE_DENSE_UNION &&
         t != ZCP_TYPE_RUN_END_ENCODED;
}

/* Element i of an array of native-endian integers that may be unaligned. */
static inline int16_t zcp__ld_i16(const uint8_t *p, int64_t i) {
  int16_t v;
  memcpy(&v, p + i * 2, sizeof v);
  return v;
}
static inline int32_t zcp__ld_i32(const uint8_t *p, int64_t i) {
  int32_t v;
  memcpy(&v, p + i * 4, sizeof v);
  return v;
}
static inline int64_t zcp__ld_i64(const uint8_t *p, int64_t i) {
  int64_t v;
  memcpy(&v, p + i * 8, sizeof v);
  return v;
}
/* Offset k of an offsets buffer of `width` bytes per entry (4 or 8). */
static inline int64_t zcp__ld_offset(const uint8_t *p, int64_t width, int64_t k) {
  return width == 4 ? (int64_t)zcp__ld_i32(p, k) : zcp__ld_i64(p, k);
}
/* Value k of a signed integer array of `bytes` bytes per value (1, 2, 4 or 8). */
static inline int64_t zcp__ld_signed(const uint8_t *p, int64_t bytes, int64_t k) {
  switch (bytes) {
    case 1:
      return (int8_t)p[k];
    case 2:
      return zcp__ld_i16(p, k);
    case 4:
      return zcp__ld_i32(p, k);
    default:
      return zcp__ld_i64(p, k);
  }
}

#endif /* ZCP_ARROW_VIEW_INTERNAL_H */
