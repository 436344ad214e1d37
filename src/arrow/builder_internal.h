/* Private contract between the builder files (builder_init.c: life cycle; builder.c:
 * buffers and scalar appends; builder_binary.c: binary, string and view columns;
 * builder_nested.c: lists, structs, unions, run-end encoding; builder_finish.c: turning a
 * builder into an ArrowArray). Not API.
 *
 * Invariants every builder keeps between calls:
 *  - every data buffer is either NULL (size 0, capacity 0) or came from b->alloc with
 *    exactly `capacity` bytes, capacity a multiple of b->align;
 *  - bitmaps (validity, bool values) have size == bytes for `length` bits, and every bit
 *    at or beyond `length` that lies within `size` is zero;
 *  - validity.data == NULL means "no null so far" (the bitmap is made at the first null);
 *  - offsets buffers hold length + 1 entries once anything was appended (the first 0 is
 *    written lazily, see zcp__builder_offsets_start). */
#ifndef ZCP_ARROW_BUILDER_INTERNAL_H
#define ZCP_ARROW_BUILDER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "arrow/internal.h"
#include "common/util.h"
#include "zcpool/arrow.h"

/* A growable data buffer. */
struct zcp__buf {
  uint8_t *data;
  int64_t size;     /* bytes in use */
  int64_t capacity; /* bytes allocated (what allocate/reallocate were asked for) */
};

/* Binary/string view columns start a new variadic data buffer rather than grow one
 * past this size (growing a huge buffer means copying it). */
#define ZCP__VIEW_BLOCK_MAX ((int64_t)64 << 20)
#define ZCP__VIEW_BLOCK_MIN ((int64_t)32 << 10)

struct zcp_builder {
  struct zcp_builder *root;
  struct ArrowSchema owned_schema;  /* root only: the builder's copy of the schema */
  const struct ArrowSchema *schema; /* the node this builder builds (inside the copy) */
  struct zcp_format format;         /* of schema->format (the index type if dictionary) */
  struct zcp_allocator *alloc;
  int64_t align;  /* max(ZCP_ALIGNMENT, alloc->alignment) */
  char *path;     /* "tags" or "tags.item", for messages */
  int64_t width;  /* bytes per value of fixed-width types; 0 otherwise */
  int64_t length; /* logical elements */
  int64_t null_count;
  struct zcp__buf validity;
  /* Layout buffers after validity: values | offsets, data | views | type ids, offsets |
   * offsets, sizes (list views). */
  struct zcp__buf buf[2];
  /* Binary/string views: variadic data buffers. */
  struct zcp__buf *variadic;
  int64_t n_variadic, cap_variadic;
  struct zcp__buf variadic_sizes; /* filled at finish */
  int64_t n_children;
  struct zcp_builder **children;
  struct zcp_builder *dictionary; /* dictionary values, when dictionary-encoded */
  int64_t child_mark; /* lists: child length when the last element was closed */
  int64_t run_end;    /* run-end encoded: last run end (== length) */
  int64_t *expect;    /* unions: length each child must have once the element is done */
  int16_t child_of_type[ZCP_MAX_UNION_TYPES]; /* unions: child index per type id, -1 */
  char last_error[ZCP_ERROR_MESSAGE_MAX];     /* root only */
};

/* Records "column '<path>' (<type>): <message>" as the tree's last error; returns code.
 */
zcp_status_t zcp__builder_error(struct zcp_builder *b, zcp_status_t code, const char *fmt,
                                ...) ZCP_PRINTF(3, 4);

/* Makes room for `additional` more bytes in buf (capacity doubling, rounded up to the
 * builder's alignment). Never shrinks, never changes size. */
zcp_status_t zcp__buf_reserve(struct zcp_builder *b, struct zcp__buf *buf,
                              int64_t additional);
/* Like zcp__buf_reserve but the capacity does not grow past max_capacity unless the
 * request alone needs more. */
zcp_status_t zcp__buf_reserve_capped(struct zcp_builder *b, struct zcp__buf *buf,
                                     int64_t additional, int64_t max_capacity);
void zcp__buf_free(struct zcp_builder *b, struct zcp__buf *buf);

/* Validity: reserve room for n more bits; makes the bitmap (back-filled with 1s) when
 * `will_have_nulls` and there is none yet. */
zcp_status_t zcp__validity_reserve(struct zcp_builder *b, int64_t n,
                                   bool will_have_nulls);
/* Appends n bits of value v (room reserved) to the validity bitmap if there is one. Does
 * not touch length or null_count. */
void zcp__validity_append(struct zcp_builder *b, int64_t n, bool v);
/* Appends n validity bits from bytes (nonzero = valid; NULL = all valid) to the bitmap
 * if there is one (room reserved). */
void zcp__validity_append_bytes(struct zcp_builder *b, const uint8_t *validity,
                                int64_t n);
/* Zero bytes among n validity bytes (0 for NULL). */
int64_t zcp__count_nulls(const uint8_t *validity, int64_t n);
/* Sets bits [start, start + n) of a bitmap whose bits from `start` on are zero. */
void zcp__bits_set_range(uint8_t *bits, int64_t start, int64_t n);
/* Extends a bitmap's size to hold `bits` bits, zeroing the new bytes (room reserved). */
void zcp__bits_extend(struct zcp__buf *buf, int64_t bits);

/* Offsets buffers: writes the leading 0 if the buffer is still empty. */
zcp_status_t zcp__builder_offsets_start(struct zcp_builder *b, struct zcp__buf *buf,
                                        int64_t offset_width);
/* Last offset written (0 when none). */
int64_t zcp__offsets_last(const struct zcp__buf *buf, int64_t offset_width);

/* Bytes per value of fixed-width types (fixed-size binary: its size; bool and others: 0).
 */
int64_t zcp__value_width(const struct zcp_format *f);

/* True for types whose layout starts with a validity bitmap. */
bool zcp__type_has_validity(enum zcp_type t);

/* Appends n nulls (valid == false) or n empty values (valid == true). Dispatches on type;
 * builder_binary.c and builder_nested.c implement their own families. */
zcp_status_t zcp__builder_append_slots(struct zcp_builder *b, int64_t n, bool valid);
zcp_status_t zcp__binary_append_slots(struct zcp_builder *b, int64_t n, bool valid);
zcp_status_t zcp__nested_append_slots(struct zcp_builder *b, int64_t n, bool valid);
/* Fills n slots of a child that a parent needs but the caller does not choose (struct
 * and fixed-size-list nulls, unselected sparse union children): empty values, or nulls
 * where an empty value would not be valid (null type, dictionary indices). */
zcp_status_t zcp__builder_fill(struct zcp_builder *b, int64_t n);

/* Binary family (binary, string, large, views, fixed-size binary). */
bool zcp__is_binary_type(enum zcp_type t);
zcp_status_t zcp__binary_append(struct zcp_builder *b, const void *data, int64_t size);
zcp_status_t zcp__binary_reserve(struct zcp_builder *b, int64_t additional,
                                 int64_t additional_bytes);

/* Nested family. */
bool zcp__is_nested_type(enum zcp_type t);
zcp_status_t zcp__nested_reserve(struct zcp_builder *b, int64_t additional,
                                 int64_t additional_bytes);
/* Checks that every child agrees with the parent (no half-built element). */
zcp_status_t zcp__nested_check_complete(struct zcp_builder *b);

#endif /* ZCP_ARROW_BUILDER_INTERNAL_H */
