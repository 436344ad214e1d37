/* zcpool — pools: the allocator of one region, run by the node that owns it.
 *
 * A pool manages a range [base, base + size) of memory with a two-level segregated fit
 * allocator whose metadata lives in the owner's private heap, never in the range: a
 * borrower's stray write can spoil data but not the allocator (DESIGN §5). Every block
 * starts on a cache line (default 128 bytes), covers whole lines (no two blocks share a
 * line) and is zeroed before it is handed out (DESIGN §4).
 *
 * Every block is recorded in an allocation table with the client that asked for it
 * (node, epoch, request id) and its state: granted, then sealed once its contents are
 * final. Only that client may free it, and only at its exact start; a retried request
 * (same node, epoch and request id, among that client's last 64) gets the first answer
 * again. Quotas per node and a largest-request limit turn exhaustion into ZCP_NO_SPACE.
 *
 * A pool IS a struct zcp_allocator (zcp_pool_allocator): give it to zcp_builder_init and
 * Arrow columns are built straight into the range, as the local node. The functions
 * ending in _for act on behalf of another node (the owner serving its requests) and
 * speak in offsets from base, which mean the same on every node.
 *
 * All functions are thread-safe. The local path (zcp_pool_alloc / free) of small blocks
 * (up to 4 KiB) goes through a per-thread cache of freed blocks without taking the
 * pool's lock; the rest takes a mutex. Neither makes a system call in the common case.
 * A thread's cache is given back to the pool when the thread exits; releasing a pool
 * while other threads still hold caches of it is fine (they notice and drop them). */
#ifndef ZCPOOL_POOL_H
#define ZCPOOL_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "zcpool/allocator.h"
#include "zcpool/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ZCP_POOL_LINE_SIZE 128      /* default line: covers POWER and x86 */
#define ZCP_POOL_REQUEST_HISTORY 64 /* retried request ids remembered per node */

/* Memory work the pool does itself for a request (clearing a block, copying the block
 * of a realloc that moved), announced to an optional hook so that an owner whose range
 * is not cache-coherent with its clients can keep its caches in step with memory. The
 * pool calls the hook without holding its lock, once before the work (after = false)
 * and once after it (after = true). Nothing is announced for a retried request or when
 * there is nothing to clear or copy. */
struct zcp_pool_touch {
  bool local;   /* the local node's own request: it writes the block next, itself */
  bool realloc; /* a realloc (else an allocation) */
  void *from; /* a realloc that moved: the old block's lines that are copied; else NULL */
  int64_t from_len;
  void *to; /* the lines cleared or copied into: [to, to + to_len) */
  int64_t to_len;
};
typedef void (*zcp_pool_touch_fn)(void *ctx, bool after, const struct zcp_pool_touch *t);

struct zcp_pool_options {
  int64_t line_size;     /* alignment and padding unit: power of two, 64..4096 */
  int64_t max_request;   /* largest block one request may get, bytes; 0: the range size */
  int64_t default_quota; /* bytes each node may hold; 0: unlimited */
  int32_t max_nodes;     /* node ids are 0 .. max_nodes-1 (default 256) */
  int32_t local_node;   /* who the local calls and the zcp_allocator act as (default 0) */
  uint64_t local_epoch; /* the local node's epoch (default 1) */
  /* The range is all zeros now (a fresh mapping): lines never handed out are not cleared
   * again. Only say so if no one can have written to the range before. */
  bool range_is_zero;
  /* Local small blocks go through the pool's lock too, never through per-thread caches
   * (placement is then exactly that of remote requests; slower). */
  bool no_thread_cache;
  zcp_pool_touch_fn touch; /* optional (NULL: none), see struct zcp_pool_touch */
  void *touch_ctx;
};

/* Who asks: node id, that node's epoch (it changes when the node restarts; older epochs
 * are refused), and a request id (> 0, increasing per node and epoch) that makes a retry
 * idempotent. Request id 0: not retryable, not remembered (local calls). */
struct zcp_request {
  int32_t node;
  uint64_t epoch;
  uint64_t id;
};

enum zcp_block_state {
  ZCP_BLOCK_GRANTED = 1, /* handed out, being written */
  ZCP_BLOCK_SEALED = 2,  /* contents final: may be described and shared */
};

/* A live block as the allocation table knows it. */
struct zcp_block_info {
  int64_t offset; /* from base */
  int64_t size;   /* whole lines */
  int32_t node;
  uint64_t epoch;
  uint64_t request_id;
  enum zcp_block_state state;
};

struct zcp_pool_stats {
  int64_t size; /* managed bytes (whole lines) */
  int64_t line_size;
  int64_t used_bytes;   /* in live blocks, padding included */
  int64_t free_bytes;   /* used + free == size */
  int64_t largest_free; /* the largest block one request could get now */
  int64_t live_blocks;
  int64_t free_blocks; /* free fragments after coalescing, plus cached blocks */
  /* Of free_bytes / free_blocks: small blocks of the local node that threads' caches
   * keep for its next allocations (still counted against the local node's quota). */
  int64_t cached_bytes;
  int64_t cached_blocks;
};

struct zcp_pool;

/* Fills opt with the defaults above. */
ZCP_API void zcp_pool_options_init(struct zcp_pool_options *opt);

/* Creates a pool over [base, base + size). base must be aligned to the line size; size is
 * rounded down to whole lines. opt NULL: defaults. The range is not touched here. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_pool_init(void *base, int64_t size,
                                            const struct zcp_pool_options *opt,
                                            struct zcp_pool **out, struct zcp_error *err);
/* Frees the pool's metadata (not the range; live blocks are simply forgotten). NULL ok.
 */
ZCP_API void zcp_pool_release(struct zcp_pool *pool);

ZCP_API void *zcp_pool_base(const struct zcp_pool *pool);
/* Managed bytes (size rounded down to lines). */
ZCP_API int64_t zcp_pool_size(const struct zcp_pool *pool);
ZCP_API int64_t zcp_pool_line_size(const struct zcp_pool *pool);

/* The pool as an Arrow allocator (alignment = line size), acting as the local node.
 * Borrowed: valid until zcp_pool_release. */
ZCP_API struct zcp_allocator *zcp_pool_allocator(struct zcp_pool *pool);

/* Local calls, as (local_node, local_epoch), no request id. size 0 gets one line. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_pool_alloc(struct zcp_pool *pool, int64_t size,
                                                     void **out, struct zcp_error *err);
/* Grows or shrinks a granted block: in place when the next block is free, else moved
 * (the copy runs here, on the owner). On failure *out is NULL and ptr stays valid. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_pool_realloc(struct zcp_pool *pool, void *ptr,
                                                       int64_t new_size, void **out,
                                                       struct zcp_error *err);
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_pool_free(struct zcp_pool *pool, void *ptr,
                                                    struct zcp_error *err);
/* granted -> sealed (sealing a sealed block is fine). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_pool_seal(struct zcp_pool *pool, void *ptr,
                                                    struct zcp_error *err);

/* The same on behalf of rq->node, with offsets from base. A retried request id gets the
 * first answer (the same offset, memory not cleared again). A realloc is checked against
 * the quota by its net growth; while a moving realloc copies, the node briefly holds both
 * blocks (the old one answers ZCP_BUSY to free and seal until the copy is done). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_pool_alloc_for(struct zcp_pool *pool,
                                                         const struct zcp_request *rq,
                                                         int64_t size, int64_t *offset,
                                                         struct zcp_error *err);
ZCP_API ZCP_CHECK_RESULT zcp_status_t
zcp_pool_realloc_for(struct zcp_pool *pool, const struct zcp_request *rq, int64_t offset,
                     int64_t new_size, int64_t *new_offset, struct zcp_error *err);
/* Errors: ZCP_NOT_FOUND when no live block starts at offset (unknown or double free),
 * ZCP_INVALID_ARGUMENT when offset is inside a block (interior), outside the range, or
 * the block belongs to another node (a node's newer epoch may free its older sealed
 * blocks), ZCP_BUSY while the block is being moved by a realloc. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_pool_free_for(struct zcp_pool *pool,
                                                        const struct zcp_request *rq,
                                                        int64_t offset,
                                                        struct zcp_error *err);
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_pool_seal_for(struct zcp_pool *pool,
                                                        const struct zcp_request *rq,
                                                        int64_t offset,
                                                        struct zcp_error *err);

/* Finds the block that holds [offset, offset + length), which must lie inside one live,
 * sealed block: ZCP_OK and *out (may be NULL) describes it; ZCP_NOT_FOUND when the range
 * starts outside every live block, ZCP_INVALID_ARGUMENT when it runs past its block's
 * end or the block is not sealed (then *out still describes the block the range starts
 * in). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_pool_find_block(struct zcp_pool *pool,
                                                          int64_t offset, int64_t length,
                                                          struct zcp_block_info *out,
                                                          struct zcp_error *err);

/* Frees every granted (not sealed) block of (node, epoch): a client that died. Counts go
 * to *blocks and *bytes (either may be NULL). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_pool_reclaim(struct zcp_pool *pool,
                                                       int32_t node, uint64_t epoch,
                                                       int64_t *blocks, int64_t *bytes,
                                                       struct zcp_error *err);

/* Sets the bytes node may hold (INT64_MAX: unlimited). Blocks it already holds stay. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_pool_set_quota(struct zcp_pool *pool,
                                                         int32_t node, int64_t bytes,
                                                         struct zcp_error *err);

ZCP_API void zcp_pool_stats(struct zcp_pool *pool, struct zcp_pool_stats *out);

/* Walks all metadata (allocator and table) and verifies every invariant; the first
 * violation comes back as ZCP_CORRUPT_INPUT with a message. O(blocks + size / 8 KiB). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_pool_check(struct zcp_pool *pool,
                                                     struct zcp_error *err);

#ifdef __cplusplus
}
#endif
#endif /* ZCPOOL_POOL_H */
