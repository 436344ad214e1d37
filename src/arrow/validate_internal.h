/* Private contract between validate.c (the walk, scalar and binary layouts) and
 * validate_nested.c (lists, structs, maps, unions, run-end encoded, dictionaries). Not
 * API. */
#ifndef ZCP_ARROW_VALIDATE_INTERNAL_H
#define ZCP_ARROW_VALIDATE_INTERNAL_H

#include "arrow/view_internal.h"

struct zcp__vctx {
  enum zcp_validate_level level;
  /* Below FULL, still check every value a reader uses to address memory: all offsets,
   * list view ranges, union type ids and offsets, run ends, dictionary indices (what
   * descriptors from other processes need at their DEFAULT level). */
  bool bounds;
  /* The values were walked when the batch was sealed (a shared batch whose publication
   * records it): below FULL no check walks the rows, not even the view references. */
  bool sealed;
  struct zcp_error *err;
  struct zcp__path path; /* of the node being checked */
};

/* Whether the O(rows) checks that keep readers inside their buffers run. */
static inline bool zcp__vctx_bounds(const struct zcp__vctx *c) {
  return c->bounds || c->level >= ZCP_VALIDATE_FULL;
}

/* zcp_array_view_validate with the bounds and sealed switches of struct zcp__vctx set
 * independently of the level. */
zcp_status_t zcp__array_view_validate(const struct zcp_array_view *view,
                                      enum zcp_validate_level level, bool bounds,
                                      bool sealed, struct zcp_error *err);

/* Fails the node being checked with ZCP_CORRUPT_INPUT and a message naming its column. */
#define ZCP_VFAIL(c, v, ...) \
  zcp__view_fail((c)->err, ZCP_CORRUPT_INPUT, &(c)->path, (v)->format.type, __VA_ARGS__)

/* Validates v and everything below it (post-order). */
zcp_status_t zcp__validate_node(struct zcp__vctx *c, const struct zcp_array_view *v);

/* Layout buffer `role` must hold `elements` values of `bits` bits: non-NULL when the
 * array is not empty and, when its size is known, big enough. */
zcp_status_t zcp__check_buffer(struct zcp__vctx *c, const struct zcp_array_view *v,
                               int role, const char *what, int64_t elements,
                               int64_t bits);

/* Offsets buffer (role 1) of `width` bytes per entry for length + 1 entries; from DEFAULT
 * the first is >= 0 and the last within [first, limit] (limit -1: unknown); at FULL all
 * are monotonic. Returns the first and last offsets (0 when not read). */
zcp_status_t zcp__check_offsets(struct zcp__vctx *c, const struct zcp_array_view *v,
                                int64_t width, int64_t limit, const char *limit_what,
                                int64_t *first, int64_t *last);

/* Number of set bits among bits [start, start + n) of a bitmap. */
int64_t zcp__count_set_bits(const uint8_t *bits, int64_t start, int64_t n);

/* Checks of the nested layouts (validate_nested.c); children are already validated. */
zcp_status_t zcp__check_nested(struct zcp__vctx *c, const struct zcp_array_view *v);
/* FULL: every valid index of a dictionary-encoded node is within the dictionary. */
zcp_status_t zcp__check_dictionary_indices(struct zcp__vctx *c,
                                           const struct zcp_array_view *v);

#endif /* ZCP_ARROW_VALIDATE_INTERNAL_H */
