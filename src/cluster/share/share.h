/* The share part of the cluster layer, the top of it (above memory and member): the
 * catalog replica, share / lookup / list / drop, leases, huge tables and the full-copy
 * baseline; and the public node handle assembled from the three parts (open.c).
 *
 * Its state sits after the memory part's in the node's allocation (struct
 * zcp__share_node), which zcp_node_open makes. */
#ifndef ZCP_CLUSTER_SHARE_H
#define ZCP_CLUSTER_SHARE_H

#include "cluster/memory/memory.h"

struct zcp__share;
struct zcp__copy;

struct zcp__share_node {
  struct zcp__memory_node base; /* first */
  struct zcp__share *share;     /* catalog replica, owned batches, leases (share.c) */
  struct zcp__copy *copy;       /* full copies received and in progress (copy.c) */
};

static inline struct zcp__share_node *zcp__share_node_of(struct zcp_node *node) {
  return (struct zcp__share_node *)(void *)node;
}
/* The share part's catalog (every node is allocated as a zcp__share_node). */
static inline struct zcp__share *zcp__share_of(struct zcp_node *node) {
  return zcp__share_node_of(node)->share;
}

struct zcp__share;
/* Makes the catalog replica and registers the sharing calls and hooks; after
 * zcp__memory_open, before zcp__member_start. */
ZCP_CHECK_RESULT zcp_status_t zcp__share_init(struct zcp_node *node,
                                              struct zcp_error *err);
/* Frees every batch this node shared (before the clients close: remote blocks are
 * freed over RPC) and the catalog. */
void zcp__share_close(struct zcp_node *node);
/* Frees the replica itself, once the server has stopped. */
void zcp__share_free(struct zcp_node *node);

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
  enum zcp_checked checked; /* what the creator checked of the values before sealing */
  struct zcp__entry *next;
};
/* The entry as its Publish message (m's strings and bytes point into e). */
void zcp__entry_to_msg(const struct zcp__entry *e, Zcpool__Publish *m);
/* A Publish message from the network as an entry (e's name is copied, its desc points
 * into m); false when m is malformed (the caller checks who may publish it). */
bool zcp__entry_from_msg(const Zcpool__Publish *m, struct zcp__entry *e);
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
  _Atomic int seal_check; /* enum zcp_validate_level of the values check before a seal */
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

/* Under mu: the next generation of this node's publications. */
uint64_t zcp__share_next_generation(struct zcp__share *s);
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
/* A peer came up (again): its catalog entries are to be pulled into the replica. */
void zcp__sync_peer_up(struct zcp_node *node, int32_t peer);
void zcp__serve_list(struct zcp_node *node, const struct zcp__rpc_peer *who,
                     const Zcpool__Request *req, Zcpool__Response *resp);
/* DropChunks (hugetable.c). */
void zcp__serve_drop_chunks(struct zcp_node *node, const struct zcp__rpc_peer *who,
                            const Zcpool__Request *req, Zcpool__Response *resp);

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

/* ---- full copies (copy.c) --------------------------------------------------------- */

struct zcp__copy;
/* Makes the receiving side and registers SendTableFull. */
zcp_status_t zcp__copy_init(struct zcp_node *node, struct zcp_error *err);
/* Ends every transfer (their partial tables are freed) and drops every received table;
 * before the pool goes. Not opened: nothing. */
void zcp__copy_release(struct zcp_node *node);
/* Node `client` went down (epoch 0) or came back with epoch: its transfers of an
 * earlier epoch (all, for 0) are dropped and their partial tables freed. */
void zcp__copy_client_gone(struct zcp_node *node, int32_t client, uint64_t epoch);
/* Sends one part as it is (the sender's building block; tests forge parts with it). */
zcp_status_t zcp__copy_send_part(struct zcp_node *node, int32_t peer,
                                 uint64_t transfer_id, uint64_t seq, const char *name,
                                 const uint8_t *data, int64_t len, bool last, bool abort,
                                 struct zcp_error *err);

#endif
