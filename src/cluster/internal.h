/* Shared between the files of the cluster layer: the node handle's insides. */
#ifndef ZCP_CLUSTER_INTERNAL_H
#define ZCP_CLUSTER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "rpc/rpc.h"
#include "zcpool/cluster.h"
#include "zcpool/pool.h"

/* Blocks of this node's region held by remote clients (grants.c). */
struct zcp__grant_rec {
  int64_t offset, size;
  int32_t node;
  uint64_t epoch;
};
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
  char why[200];             /* why it is not up */
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
};

/* Sends req to every peer at once and waits for every answer (one round trip, not N);
 * the first failure is returned, as "node <id>: <what>: <message>". */
zcp_status_t zcp__node_broadcast(struct zcp_node *node, Zcpool__Request *req,
                                 int timeout_ms, const char *what, struct zcp_error *err);

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
