/* The memory part of the cluster layer (above member, below share): pools over the
 * cluster's regions, local and remote, the owner's grants of its region, and the steps
 * of the coherence protocol (DESIGN §4): seal, verify and invalidate at import, the
 * owner's cache work, and the thesis mode's flush.
 *
 * Its state sits right after struct zcp_node in the node's allocation (struct
 * zcp__memory_node), which the top of the layer (share/open.c) makes. */
#ifndef ZCP_CLUSTER_MEMORY_H
#define ZCP_CLUSTER_MEMORY_H

#include "cluster/member/member.h"
#include "zcpool/descriptor.h"
#include "zcpool/pool.h"

/* Sorted arrays of records that begin with an int64_t offset (extents.c), for the
 * grants and the seal tags below. */
/* First index whose offset >= offset among the n records of elem bytes at v. */
size_t zcp__extents_lower(const void *v, size_t n, size_t elem, int64_t offset);
/* Makes room for one record at index i (growing the array when full) and counts it in
 * n; returns the array, perhaps moved, or NULL when out of memory (nothing changed). */
void *zcp__extents_open(void *v, size_t *n, size_t *cap, size_t elem, size_t i);
/* Removes the records [i, j). */
void zcp__extents_remove(void *v, size_t *n, size_t elem, size_t i, size_t j);

/* Blocks of this node's region held by remote clients (grants.c). */
struct zcp__grant_rec {
  int64_t offset, size;
  int32_t node;
  uint64_t epoch;
};
_Static_assert(offsetof(struct zcp__grant_rec, offset) == 0, "extents.c keys on it");
struct zcp__grants {
  pthread_mutex_t mu;
  struct zcp__grant_rec *v; /* sorted by offset */
  size_t n, cap;
};
void zcp__grants_init(struct zcp__grants *g);
void zcp__grants_release(struct zcp__grants *g);
void zcp__grants_put(struct zcp__grants *g, int64_t offset, int64_t size, int32_t node,
                     uint64_t epoch);
void zcp__grants_drop(struct zcp__grants *g, int64_t offset);
void zcp__grants_drop_epoch(struct zcp__grants *g, int32_t node, uint64_t epoch);
/* Is [offset, offset + length) inside one block that node holds? */
bool zcp__grants_owns(struct zcp__grants *g, int32_t node, int64_t offset,
                      int64_t length);

/* Seal tags (tags.c): the generation each sealed block of this node's region was sealed
 * for, by block extent. */
struct zcp__tag_rec {
  int64_t offset, size;
  uint64_t gen;
};
_Static_assert(offsetof(struct zcp__tag_rec, offset) == 0, "extents.c keys on it");
struct zcp__tags {
  pthread_mutex_t mu;
  struct zcp__tag_rec *v; /* sorted by offset, never overlapping */
  size_t n, cap;
};
void zcp__tags_init(struct zcp__tags *t);
void zcp__tags_release(struct zcp__tags *t);
/* Records gen for the block [offset, offset + size), replacing overlapping records. */
void zcp__tags_put(struct zcp__tags *t, int64_t offset, int64_t size, uint64_t gen);
/* The generation of exactly this block; false when none is recorded. */
bool zcp__tags_get(struct zcp__tags *t, int64_t offset, int64_t size, uint64_t *gen);

/* What an import expects of the blocks it reads (the descriptor memory's ctx): held by
 * (holder, holder_epoch) and sealed for generation gen. holder < 0: no expectation. */
struct zcp__expect {
  struct zcp_node *node;
  int32_t holder;
  uint64_t holder_epoch;
  uint64_t gen;
};

/* A peer's pool as the allocator builders write through (remote.c). */
struct zcp__remote_pool {
  struct zcp_allocator alloc; /* first: the allocator handed to builders */
  struct zcp_node *node;
  int32_t owner;
};

struct zcp__memory {
  bool opened;               /* zcp__memory_open ran: the records below exist */
  struct zcp_pool *pool;     /* over this node's own region */
  struct zcp__grants grants; /* what remote clients hold of pool */
  struct zcp__tags tags;     /* generation each sealed block was sealed for */
  struct zcp__expect any;    /* zcp_node_memory's ctx: no expectation */
  atomic_llong reclaimed_blocks, reclaimed_bytes; /* of clients that died */
  struct zcp__remote_pool remote[ZCP_CLUSTER_MAX_NODES];
};

struct zcp__memory_node {
  struct zcp_node node; /* first */
  struct zcp__memory memory;
};

/* The memory part of node (every node is allocated as at least a zcp__memory_node). */
static inline struct zcp__memory *zcp__memory_of(struct zcp_node *node) {
  return &((struct zcp__memory_node *)(void *)node)->memory;
}

/* Builds the pool over the node's own region and registers the calls the owner serves
 * (Malloc, Realloc, Free, Flush, Verify, Seal); after zcp__member_init, before
 * zcp__member_start. */
ZCP_CHECK_RESULT zcp_status_t zcp__memory_open(struct zcp_node *node,
                                               struct zcp_error *err);
/* Releases the pool and the records; after zcp__member_stop. */
void zcp__memory_close(struct zcp_node *node);

/* zcp_node_seal_batch, sealing for publication gen (0: none) (memory.c). */
ZCP_CHECK_RESULT zcp_status_t zcp__seal_batch(struct zcp_node *node,
                                              const struct ArrowArray *batch,
                                              uint64_t gen, struct zcp_error *err);
/* The descriptor memory of an import expecting ex (ex outlives the use of out). */
void zcp__node_memory_expect(struct zcp__expect *ex, struct zcp_descriptor_memory *out);
/* Serving Verify and Seal (memory.c). */
void zcp__serve_verify(struct zcp_node *node, const struct zcp__rpc_peer *who,
                       const Zcpool__Request *req, Zcpool__Response *resp);
void zcp__serve_seal(struct zcp_node *node, const struct zcp__rpc_peer *who,
                     const Zcpool__Request *req, Zcpool__Response *resp);

/* Thesis mode (flush.c): flushes a new block on every node before it is written. */
ZCP_CHECK_RESULT zcp_status_t zcp__node_prewrite(struct zcp_node *node, void *p,
                                                 int64_t size, struct zcp_error *err);
/* Serving Flush (flush.c). */
void zcp__serve_flush(struct zcp_node *node, const struct zcp__rpc_peer *who,
                      const Zcpool__Request *req, Zcpool__Response *resp);
/* The owner's cache work around the pool's clearing and copying (owner.c): the pool's
 * touch hook, with the node as its context. */
void zcp__owner_touch(void *ctx, bool after, const struct zcp_pool_touch *t);
/* Remote pools (remote.c): sets up each peer's allocator. */
void zcp__remote_init(struct zcp_node *node);

#endif
