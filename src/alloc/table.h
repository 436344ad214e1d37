/* The allocation table (internal to the alloc layer): who holds which block of a range.
 *
 * It wraps the TLSF allocator with ownership (node, epoch, request id), block state,
 * quotas, retry answers and a mutex. It speaks in byte offsets and never touches the
 * range itself: the caller (the pool) clears and copies memory as a grant tells it,
 * outside the lock. */
#ifndef ZCP_ALLOC_TABLE_H
#define ZCP_ALLOC_TABLE_H

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
/* Bytes node holds now (0 for a node never seen). */
int64_t zcp__table_node_used(struct zcp__table *t, int32_t node);
void zcp__table_stats(struct zcp__table *t, struct zcp_pool_stats *out);
ZCP_CHECK_RESULT zcp_status_t zcp__table_check(struct zcp__table *t,
                                               struct zcp_error *err);

#endif /* ZCP_ALLOC_TABLE_H */
