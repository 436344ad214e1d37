/* Two-level segregated fit over an abstract range of lines (internal to the alloc layer).
 *
 * The allocator only sees line numbers: offsets and sizes are counted in cache lines, so
 * every block starts on a line and covers whole lines (DESIGN §4: no two blocks share a
 * line). It never touches the memory it manages: every record lives in private heap
 * memory, so nothing a borrower writes into the range can corrupt it (DESIGN §5).
 *
 * Not thread-safe: the allocation table serializes every call. */
#ifndef ZCP_ALLOC_TLSF_H
#define ZCP_ALLOC_TLSF_H

#include <stdbool.h>
#include <stdint.h>

#include "zcpool/status.h"

#define ZCP__TLSF_NIL UINT32_MAX /* "no block" */
#define ZCP__TLSF_SL_BITS 4      /* second level: 16 steps per power of two */
#define ZCP__TLSF_FL_COUNT 64
#define ZCP__TLSF_HB_LEVELS 10

/* The layout is here only so that the table's hot path can inline the accessors below;
 * everything else goes through the functions. */
enum { ZCP__TLSF_FREE = 0, ZCP__TLSF_USED = 1, ZCP__TLSF_SPARE = 2 };

struct zcp__tlsf_block {
  uint64_t off, size;            /* in lines */
  uint32_t prev_phys, next_phys; /* address order */
  uint32_t prev_free, next_free; /* free list (next_free also links spare records) */
  uint8_t used;                  /* ZCP__TLSF_FREE / _USED / _SPARE */
};

/* Hierarchical bitmap: level 0 one bit per line, level k+1 one bit per word of level k.
 */
struct zcp__tlsf_hbits {
  int levels;
  uint64_t *w[ZCP__TLSF_HB_LEVELS];
  uint64_t words[ZCP__TLSF_HB_LEVELS];
};

struct zcp__tlsf_slot {
  uint64_t key; /* start line, UINT64_MAX when unused */
  uint32_t id;
};

struct zcp__tlsf {
  uint64_t total;
  struct zcp__tlsf_block *b;
  uint32_t cap;   /* records in b */
  uint32_t spare; /* head of spare records */
  uint32_t n_spare;
  uint32_t first_phys; /* block at line 0 */
  uint64_t fl_bitmap;
  uint32_t sl_bitmap[ZCP__TLSF_FL_COUNT];
  uint32_t heads[ZCP__TLSF_FL_COUNT][1u << ZCP__TLSF_SL_BITS];
  struct zcp__tlsf_slot *map; /* allocated blocks by start line */
  uint64_t map_mask;          /* slots - 1 */
  uint64_t map_used;
  struct zcp__tlsf_hbits starts; /* start lines of allocated blocks */
  uint64_t used_lines, live_blocks, free_blocks;
};

struct zcp__tlsf_stats {
  uint64_t total_lines;  /* size of the range */
  uint64_t used_lines;   /* in allocated blocks */
  uint64_t free_lines;   /* in free blocks: used + free == total */
  uint64_t largest_free; /* lines in the largest free block */
  uint64_t live_blocks;  /* allocated blocks */
  uint64_t free_blocks;  /* free blocks (after coalescing) */
};

/* Creates an allocator for a range of `lines` lines (1 .. 2^48), all free. */
ZCP_CHECK_RESULT zcp_status_t zcp__tlsf_init(struct zcp__tlsf **out, uint64_t lines,
                                             struct zcp_error *err);
/* Frees the allocator's private memory. NULL is fine. */
void zcp__tlsf_release(struct zcp__tlsf *t);

/* Makes sure the next alloc, free or resize cannot fail for lack of private memory (one
 * spare record, room in the offset map). ZCP_OUT_OF_MEMORY when the heap says no. */
ZCP_CHECK_RESULT zcp_status_t zcp__tlsf_prepare_slow(struct zcp__tlsf *t);
ZCP_CHECK_RESULT static inline zcp_status_t zcp__tlsf_prepare(struct zcp__tlsf *t) {
  if (t->n_spare >= 1 && (t->map_used + 1) * 2 <= t->map_mask + 1) return ZCP_OK;
  return zcp__tlsf_prepare_slow(t);
}
/* Upper bound (exclusive) of block ids so far: callers size parallel arrays with it. It
 * only grows, and only inside zcp__tlsf_prepare. */
static inline uint32_t zcp__tlsf_capacity(const struct zcp__tlsf *t) {
  return t->cap;
}

/* Allocates `lines` (>= 1) lines; *id receives the block id (stable until it is freed).
 * ZCP_NO_SPACE exactly when no free block is large enough. O(1), except when only the
 * request's own size class could still hold it: that one list is then scanned. Call
 * zcp__tlsf_prepare first. */
ZCP_CHECK_RESULT zcp_status_t zcp__tlsf_alloc(struct zcp__tlsf *t, uint64_t lines,
                                              uint32_t *id);
/* Frees an allocated block and coalesces it with free physical neighbours. */
void zcp__tlsf_free(struct zcp__tlsf *t, uint32_t id);
/* Grows or shrinks an allocated block in place (its start does not move). Returns false,
 * changing nothing, when the next block is not free or not large enough. */
bool zcp__tlsf_resize(struct zcp__tlsf *t, uint32_t id, uint64_t lines);

/* The allocated block starting exactly at line `off`, or ZCP__TLSF_NIL. */
uint32_t zcp__tlsf_find(const struct zcp__tlsf *t, uint64_t off);
/* The allocated block containing line `off` (anywhere in it), or ZCP__TLSF_NIL. */
uint32_t zcp__tlsf_find_containing(const struct zcp__tlsf *t, uint64_t off);

static inline uint64_t zcp__tlsf_offset(const struct zcp__tlsf *t, uint32_t id) {
  return t->b[id].off;
}
static inline uint64_t zcp__tlsf_size(const struct zcp__tlsf *t, uint32_t id) {
  return t->b[id].size;
}
static inline bool zcp__tlsf_is_allocated(const struct zcp__tlsf *t, uint32_t id) {
  return id < t->cap && t->b[id].used == ZCP__TLSF_USED;
}

/* Allocated blocks in address order: first, then next after id (NIL at the end).
 * O(blocks), for checks and statistics. */
uint32_t zcp__tlsf_first_allocated(const struct zcp__tlsf *t);
uint32_t zcp__tlsf_next_allocated(const struct zcp__tlsf *t, uint32_t id);

/* Counters; largest_free scans one free list (the highest non-empty one). */
void zcp__tlsf_stats(const struct zcp__tlsf *t, struct zcp__tlsf_stats *out);

/* Walks every record and verifies every invariant listed at the top of tlsf.c; the first
 * violation is described in err and returned as ZCP_CORRUPT_INPUT. O(blocks + range/64).
 */
ZCP_CHECK_RESULT zcp_status_t zcp__tlsf_check(const struct zcp__tlsf *t,
                                              struct zcp_error *err);

#endif /* ZCP_ALLOC_TLSF_H */
