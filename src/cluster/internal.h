/* Shared between the files of the cluster layer: the node handle's insides. */
#ifndef ZCP_CLUSTER_INTERNAL_H
#define ZCP_CLUSTER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "cluster/member/config.h"
#include "rpc/rpc.h"
#include "zcpool/cluster.h"
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

struct zcp__remote_pool {
  struct zcp_allocator alloc; /* first: the allocator handed to builders */
  struct zcp_node *node;
  int32_t owner;
};

struct zcp__peer {
  struct zcp__rpc_client *client;
  struct zcp_device *dev;
  struct zcp_region *region; /* mapped as borrower while the peer's epoch is current */
  uint64_t epoch;            /* the peer's epoch at its last handshake */
  bool up;                   /* connected and its region mapped */
  bool synced;               /* its catalog entries pulled since it came up (share.c) */
  char why[200];             /* why it is not up */
  bool left;                 /* it said Leave (closing) in epoch left_epoch ... */
  uint64_t left_epoch;
  uint64_t left_gen; /* ... having entered this many barrier rounds */
  struct zcp__remote_pool pool;
};

struct zcp_node {
  struct zcp_config cfg;
  int32_t id;
  uint64_t epoch;
  uint8_t key[ZCP_CLUSTER_KEY_SIZE];
  struct zcp_window *win;
  int64_t slot[ZCP_CLUSTER_MAX_NODES]; /* byte offset of each region in the window */
  struct zcp_device *dev;
  struct zcp_region *region;
  struct zcp_pool *pool;
  struct zcp__grants grants; /* what remote clients hold of pool */
  struct zcp__tags tags;     /* generation each sealed block was sealed for */
  struct zcp__expect any;    /* zcp_node_memory's ctx: no expectation */
  struct zcp__rpc_server *srv;
  Zcpool__RegionInfo region_msg;
  Zcpool__RegionInfo *region_list[1];
  atomic_ullong request_ids;
  atomic_llong reclaimed_blocks, reclaimed_bytes; /* of clients that died */
  struct zcp__copy *copy; /* full copies received and in progress (copy.c) */
  uint64_t barrier_gen;   /* rounds of zcp_node_barrier this node has entered */
  pthread_mutex_t mu; /* guards peers[] state (not the clients, which lock themselves) */
  pthread_cond_t cv;  /* a peer came up or went down */
  uint64_t client_epoch[ZCP_CLUSTER_MAX_NODES]; /* last epoch each client showed us */
  struct zcp__peer peers[ZCP_CLUSTER_MAX_NODES];
  struct zcp__share *share; /* catalog replica, owned batches, leases (share.c) */
};

/* Sends req to every peer at once and waits for every answer (one round trip, not N);
 * the first failure is returned, as "node <id>: <what>: <message>". */
zcp_status_t zcp__node_broadcast(struct zcp_node *node, Zcpool__Request *req,
                                 int timeout_ms, const char *what, struct zcp_error *err);

/* ---- sharing (share.c, memory.c, lease.c, hugetable.c) ---------------------------- */

struct zcp__share;
ZCP_CHECK_RESULT zcp_status_t zcp__share_init(struct zcp_node *node,
                                              struct zcp_error *err);
/* Frees every batch this node shared (before the clients close: remote blocks are
 * freed over RPC) and the catalog. */
void zcp__share_close(struct zcp_node *node);
/* Frees the replica itself, once the server has stopped. */
void zcp__share_free(struct zcp_node *node);
/* Serves the sharing calls; false when req is none of them. */
bool zcp__share_serve(struct zcp_node *node, const struct zcp__rpc_peer *who,
                      const Zcpool__Request *req, Zcpool__Response *resp);
void zcp__reply_error(Zcpool__Response *resp, zcp_status_t st, const char *msg);

/* Catalog replica, under share->mu (share.c). */
struct zcp__entry {
  char name[ZCP_SHARE_NAME_MAX];
  enum zcp_share_kind kind;
  int32_t creator;
  uint64_t creator_epoch;
  uint8_t *desc; /* malloc'd */
  int64_t desc_size;
  int64_t rows, first_row;
  uint64_t schema_hash;
  uint64_t generation; /* the creator's publication counter */
  struct zcp__entry *next;
};
/* A lease on one of this node's shared batches (lease.c). */
struct zcp__lease {
  uint64_t id;
  int32_t node;
  uint64_t holder_epoch, request_id; /* a retried Lease finds its lease by these */
  int64_t expires_ms;                /* monotonic */
  struct zcp__lease *next;
};
/* A batch this node created and frees (thesis §3.10). */
struct zcp__owned {
  char name[ZCP_SHARE_NAME_MAX];
  enum zcp_share_kind kind;
  int64_t first_row;
  struct ArrowArray batch; /* none for a manifest */
  uint64_t generation;
  bool published; /* every replica took it */
  bool dropping;  /* refuses new leases */
  struct zcp__lease *leases;
  struct zcp__owned *next;
};
struct zcp__share {
  pthread_mutex_t mu;
  pthread_cond_t cv; /* CLOCK_MONOTONIC: an entry arrived or left, a lease ended */
  struct zcp__entry *entries;
  struct zcp__owned *owned;
  uint64_t next_lease;
  uint64_t generation; /* last publication's generation of this node */
  /* Catalog pulls (List) from peers that came up, done by one thread. */
  pthread_t sync_thread;
  bool sync_started, stopping;
  bool sync_pending[ZCP_CLUSTER_MAX_NODES]; /* peers to pull from */
  pthread_cond_t sync_cv;
};

/* Checks a name: 1..ZCP_SHARE_NAME_MAX-1 bytes. */
ZCP_CHECK_RESULT zcp_status_t zcp__share_name_check(struct zcp_node *node,
                                                    const char *what, const char *name,
                                                    struct zcp_error *err);
/* Under mu: the entry (name, kind, first_row; first_row ignored unless a chunk). */
struct zcp__entry *zcp__catalog_find(struct zcp__share *s, const char *name,
                                     enum zcp_share_kind kind, int64_t first_row);
/* Publishes e (copied) locally and then to every peer in parallel, taking ownership of
 * batch (moved) when that succeeds; undoes everything on failure. Checks run by
 * check(ctx, share, e) under mu locally and on every replica. */
ZCP_CHECK_RESULT zcp_status_t zcp__share_publish(struct zcp_node *node,
                                                 const struct zcp__entry *e,
                                                 struct ArrowArray *batch,
                                                 struct zcp_error *err);
/* Seals batch for this node's next publication, encodes it into e (named by the caller:
 * zcp__entry_own, and first_row and schema_hash for a chunk) and publishes it as
 * zcp__share_publish does. what names the publication in an encoding error ("share
 * 'x'"). */
ZCP_CHECK_RESULT zcp_status_t zcp__share_seal_publish(
    struct zcp_node *node, const char *what, struct zcp__entry *e,
    const struct ArrowSchema *schema, struct ArrowArray *batch, struct zcp_error *err);
/* Imports one descriptor into a schema and array (validated at level); every block must
 * be held by the entry's creator and sealed for its generation (e). */
ZCP_CHECK_RESULT zcp_status_t zcp__share_import(
    struct zcp_node *node, const char *what, const struct zcp__entry *e,
    const uint8_t *desc, int64_t size, enum zcp_validate_level level,
    struct ArrowSchema *schema, struct ArrowArray *array, struct zcp_error *err);
/* The current epoch of node i as this node knows it (own or last handshake). */
uint64_t zcp__node_epoch_of(struct zcp_node *node, int32_t i);
int64_t zcp__mono_ms(void);
void zcp__deadline(struct timespec *ts, int64_t ms_from_now);

/* Under mu: the next generation of this node's publications. */
uint64_t zcp__share_next_generation(struct zcp__share *s);
/* A peer came up (again): its catalog entries are pulled into the replica (share.c). */
void zcp__share_peer_up(struct zcp_node *node, int32_t peer);
/* Under mu: this node's owned record (name, kind, first_row), or NULL. */
struct zcp__owned *zcp__owned_find(struct zcp__share *s, const char *name,
                                   enum zcp_share_kind kind, int64_t first_row);
/* Under mu: takes o out of this node's owned records. */
void zcp__owned_unlink(struct zcp__share *s, struct zcp__owned *o);
/* Under mu: starts dropping o: refuses new leases on it and waits until none is live
 * (ZCP_BUSY when it is already being dropped or not yet published; on failure o takes
 * leases again). */
ZCP_CHECK_RESULT zcp_status_t zcp__owned_begin_drop(struct zcp_node *node,
                                                    struct zcp__owned *o,
                                                    const struct timespec *deadline,
                                                    int timeout_ms,
                                                    struct zcp_error *err);
/* Ends a drop begun by zcp__owned_begin_drop: o's entry goes out of every replica
 * (best effort) and this one, o out of the owned records, and its batch (if any), its
 * leases and o itself are freed. Not under mu. */
void zcp__owned_retire(struct zcp_node *node, struct zcp__owned *o);
/* Zeroes e and names it as this node's own publication (name, kind, creator at this
 * epoch, generation); the caller adds rows, first_row and the descriptor. */
void zcp__entry_own(struct zcp__entry *e, struct zcp_node *node, const char *name,
                    enum zcp_share_kind kind, uint64_t generation);
/* Removes e (name, kind, first_row, creator; generation when non-zero) from every peer's
 * replica, best effort, and from this one. */
void zcp__share_unpublish(struct zcp_node *node, const struct zcp__entry *e);

/* Merges peer's own entries at epoch (List's answer, its counter gen_at when it
 * answered) into the replica: adds what is missing, replaces what it re-published, and
 * removes its entries of that epoch up to gen_at that it no longer has. */
void zcp__catalog_merge(struct zcp_node *node, int32_t peer, uint64_t epoch,
                        const struct zcp__entry *v, size_t n, uint64_t gen_at);
/* The catalog pulls (sync.c): a thread started once every client exists, stopped at
 * close. */
ZCP_CHECK_RESULT zcp_status_t zcp__sync_start(struct zcp_node *node,
                                              struct zcp_error *err);
void zcp__sync_stop(struct zcp_node *node);
void zcp__serve_list(struct zcp_node *node, const struct zcp__rpc_peer *who,
                     const Zcpool__List *m, Zcpool__Response *resp);
/* DropChunks (hugetable.c). */
/* Leave (barrier.c): a peer closing tells the barrier rounds it entered; and the
 * sending side, called by zcp_node_close before the clients go. */
void zcp__barrier_serve_leave(struct zcp_node *node, const struct zcp__rpc_peer *who,
                              const Zcpool__Leave *m);
void zcp__barrier_announce_leave(struct zcp_node *node);
void zcp__serve_drop_chunks(struct zcp_node *node, const struct zcp__rpc_peer *who,
                            const Zcpool__DropChunks *m, Zcpool__Response *resp);

/* Lease service at the creator (lease.c), under share->mu. kind is ZCP_SHARE_TABLE or
 * ZCP_SHARE_MANIFEST (a huge table, leased at its committer). request_id (0: none) and
 * the holder's epoch make a retried request find the lease it made. */
ZCP_CHECK_RESULT zcp_status_t zcp__lease_grant(struct zcp_node *node, const char *name,
                                               enum zcp_share_kind kind, int32_t holder,
                                               uint64_t holder_epoch, uint64_t request_id,
                                               int64_t ttl_ms, uint64_t *id,
                                               struct zcp_error *err);
ZCP_CHECK_RESULT zcp_status_t zcp__lease_end(struct zcp_node *node, const char *name,
                                             enum zcp_share_kind kind, int32_t holder,
                                             uint64_t id, struct zcp_error *err);
/* Waits (mu held) until o has no live lease or the deadline passes. */
ZCP_CHECK_RESULT zcp_status_t zcp__lease_wait_none(struct zcp_node *node,
                                                   struct zcp__owned *o,
                                                   const struct timespec *deadline,
                                                   int timeout_ms, struct zcp_error *err);
void zcp__lease_free_all(struct zcp__owned *o);

/* zcp_node_seal_batch, sealing for publication gen (0: none) (memory.c). */
ZCP_CHECK_RESULT zcp_status_t zcp__seal_batch(struct zcp_node *node,
                                              const struct ArrowArray *batch,
                                              uint64_t gen, struct zcp_error *err);
/* The descriptor memory of an import expecting ex (ex outlives the use of out). */
void zcp__node_memory_expect(struct zcp__expect *ex, struct zcp_descriptor_memory *out);

/* Thesis mode (memory.c): flushes a new block on every node before it is written. */
ZCP_CHECK_RESULT zcp_status_t zcp__node_prewrite(struct zcp_node *node, void *p,
                                                 int64_t size, struct zcp_error *err);
/* The owner's cache work around the pool's clearing and copying (owner.c): the pool's
 * touch hook, with the node as its context. */
void zcp__owner_touch(void *ctx, bool after, const struct zcp_pool_touch *t);
/* Serving Verify and Seal (memory.c). */
void zcp__serve_verify(struct zcp_node *node, const struct zcp__rpc_peer *who,
                       const Zcpool__Verify *v, Zcpool__Response *resp);
void zcp__serve_seal(struct zcp_node *node, const struct zcp__rpc_peer *who,
                     const Zcpool__Seal *v, Zcpool__Response *resp);

/* ---- full copies (copy.c) --------------------------------------------------------- */

struct zcp__copy;
zcp_status_t zcp__copy_init(struct zcp_node *node, struct zcp_error *err);
/* Ends every transfer (their partial tables are freed) and drops every received table;
 * before the pool goes. NULL ok. */
void zcp__copy_release(struct zcp__copy *cp);
/* Serves one SendTableFull part (the server's handler calls it). */
void zcp__copy_serve(struct zcp_node *node, const struct zcp__rpc_peer *who,
                     const Zcpool__Request *req, Zcpool__Response *resp);
/* Node `client` went down (epoch 0) or came back with epoch: its transfers of an
 * earlier epoch (all, for 0) are dropped and their partial tables freed. */
void zcp__copy_client_gone(struct zcp_node *node, int32_t client, uint64_t epoch);
/* Sends one part as it is (the sender's building block; tests forge parts with it). */
zcp_status_t zcp__copy_send_part(struct zcp_node *node, int32_t peer,
                                 uint64_t transfer_id, uint64_t seq, const char *name,
                                 const uint8_t *data, int64_t len, bool last, bool abort,
                                 struct zcp_error *err);

#endif
