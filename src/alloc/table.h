/* The allocation table (internal to the alloc layer): who holds which block of a range.
 *
 * It wraps the TLSF allocator with ownership (node, epoch, request id), block state,
 * quotas, retry answers and a mutex. It speaks in byte offsets and never touches the
 * range itself: the caller (the pool) clears and copies memory as a grant tells it,
 * outside the lock. */
#ifndef ZCP_ALLOC_TABLE_H
#define ZCP_ALLOC_TABLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "zcpool/pool.h"
#include "zcpool/status.h"

struct zcp__table;

/* What a successful alloc/realloc hands out, and what the caller must do to the memory
 * before the client sees it. */
struct zcp__grant {
  int64_t offset;      /* block start */
  int64_t size;        /* block size, whole lines */
  int64_t zero_offset; /* clear [zero_offset, zero_offset + zero_length) */
  int64_t zero_length;
  int64_t moved_from; /* realloc that moved: old block offset, else -1. The caller copies
                       * copy_length bytes from it, then calls zcp__table_realloc_done */
  int64_t copy_length;
  bool replayed; /* a retried request: nothing to clear or copy */
};

/* Small blocks of the local node that thread caches hand out (the pool's fast path).
 * Such a block is allocated in the allocator and has a table entry like any other, but
 * its state lives in a word of its start line that the fast path changes without the
 * table's lock: CACHED (free, held by one thread's cache, not live), GRANTED or SEALED
 * (live). Bits: state (2), ZERO (known to be all zeros, only while CACHED), and the
 * block's lines from bit 8. A word is non-zero exactly for the start line of such a
 * block; it is created and set back to zero only under the lock. */
#define ZCP__TIER_MAX_LINES 32
#define ZCP__TIER_CHUNK_BITS 14 /* lines per chunk of words: 2^14 */
enum {
  ZCP__TIER_CACHED = 1,
  ZCP__TIER_GRANTED = 2,
  ZCP__TIER_SEALED = 3,
  ZCP__TIER_STATE = 3,
  ZCP__TIER_ZERO = 4,
  ZCP__TIER_LINES_SHIFT = 8,
};

/* The words, in chunks created on demand and never moved or freed before the table. */
struct zcp__tier_map {
  _Atomic(_Atomic uint32_t *) *dir;
  uint64_t chunks;
};

/* The word of line (NULL when no word was ever created around it): safe without lock. */
static inline _Atomic uint32_t *zcp__tier_word(const struct zcp__tier_map *m,
                                               uint64_t line) {
  uint64_t c = line >> ZCP__TIER_CHUNK_BITS;
  if (c >= m->chunks) return NULL;
  _Atomic uint32_t *w = atomic_load_explicit(&m->dir[c], memory_order_acquire);
  return w ? w + (line & ((UINT64_C(1) << ZCP__TIER_CHUNK_BITS) - 1)) : NULL;
}

ZCP_CHECK_RESULT zcp_status_t zcp__table_init(struct zcp__table **out, int64_t size,
                                              const struct zcp_pool_options *opt,
                                              struct zcp_error *err);
void zcp__table_release(struct zcp__table *t);
int64_t zcp__table_size(const struct zcp__table *t); /* whole lines, bytes */

ZCP_CHECK_RESULT zcp_status_t zcp__table_alloc(struct zcp__table *t,
                                               const struct zcp_request *rq, int64_t size,
                                               struct zcp__grant *g,
                                               struct zcp_error *err);
ZCP_CHECK_RESULT zcp_status_t zcp__table_realloc(struct zcp__table *t,
                                                 const struct zcp_request *rq,
                                                 int64_t offset, int64_t new_size,
                                                 struct zcp__grant *g,
                                                 struct zcp_error *err);
/* Second half of a realloc that moved: frees the old block (state "moving" until now). */
void zcp__table_realloc_done(struct zcp__table *t, int64_t old_offset);
ZCP_CHECK_RESULT zcp_status_t zcp__table_free(struct zcp__table *t,
                                              const struct zcp_request *rq,
                                              int64_t offset, struct zcp_error *err);
ZCP_CHECK_RESULT zcp_status_t zcp__table_seal(struct zcp__table *t,
                                              const struct zcp_request *rq,
                                              int64_t offset, struct zcp_error *err);
ZCP_CHECK_RESULT zcp_status_t zcp__table_find_block(struct zcp__table *t, int64_t offset,
                                                    int64_t length,
                                                    struct zcp_block_info *out,
                                                    struct zcp_error *err);
ZCP_CHECK_RESULT zcp_status_t zcp__table_reclaim(struct zcp__table *t, int32_t node,
                                                 uint64_t epoch, int64_t *blocks,
                                                 int64_t *bytes, struct zcp_error *err);
ZCP_CHECK_RESULT zcp_status_t zcp__table_set_quota(struct zcp__table *t, int32_t node,
                                                   int64_t bytes, struct zcp_error *err);
const struct zcp__tier_map *zcp__table_tier_map(const struct zcp__table *t);
/* Allocates up to n blocks of `lines` lines for rq (the local node) as CACHED tier
 * blocks; their offsets go to offs (bit 0 set: known zero, no clearing needed) and
 * their number to *got. Fails (with nothing taken) only when not even one fits. */
ZCP_CHECK_RESULT zcp_status_t zcp__table_tier_take(struct zcp__table *t,
                                                   const struct zcp_request *rq,
                                                   uint64_t lines, int n, int64_t *offs,
                                                   int *got, struct zcp_error *err);
/* Gives CACHED tier blocks (offsets as tier_take wrote them) back to the allocator. */
void zcp__table_tier_give(struct zcp__table *t, const int64_t *offs, int n);
/* Bytes node holds now (0 for a node never seen). */
int64_t zcp__table_node_used(struct zcp__table *t, int32_t node);
void zcp__table_stats(struct zcp__table *t, struct zcp_pool_stats *out);
ZCP_CHECK_RESULT zcp_status_t zcp__table_check(struct zcp__table *t,
                                               struct zcp_error *err);

#endif /* ZCP_ALLOC_TABLE_H */
