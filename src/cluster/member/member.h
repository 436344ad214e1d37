/* The member part of the cluster layer, shared between its files and the parts above it
 * (memory, share): one node of a cluster in this process — its config, its own region,
 * the peers it connects to and whose regions it maps, the call dispatch and barriers.
 *
 * The member part knows nothing of what the calls it dispatches mean. The parts above
 * register, while a node opens and before it starts serving, a handler per call they
 * serve and hooks for the events of a peer's life (up, down, restarted); the member part
 * calls them and nothing else of theirs. Their state lives beside struct zcp_node in a
 * larger allocation that each of them defines, so that nothing here names them.
 *
 * Life of a node: zcp__member_init (config, key, window, own region) → the parts above
 * attach → zcp__member_start (server, peers) → … → zcp__member_stop (peers, server) →
 * the parts above detach → zcp__member_release. */
#ifndef ZCP_CLUSTER_MEMBER_H
#define ZCP_CLUSTER_MEMBER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "cluster/member/config.h"
#include "rpc/rpc.h"
#include "zcpool/cluster.h"
#include "zcpool/fabric.h"

/* One peer as this node sees it; under node->mu. */
struct zcp__peer {
  struct zcp__rpc_client *client;
  struct zcp_device *dev;
  struct zcp_region *region; /* mapped as borrower while the peer's epoch is current */
  uint64_t epoch;            /* the peer's epoch at its last handshake */
  bool up;                   /* connected and its region mapped */
  bool ready;                /* up, and every part above has made it ready */
  char why[200];             /* why it is not up */
  bool left;                 /* it said Leave (closing) in epoch left_epoch ... */
  uint64_t left_epoch;
  uint64_t left_gen; /* ... having entered this many barrier rounds */
};

/* Serves one call; resp is answered as filled (zcp__reply_error for a failure). */
typedef void (*zcp__handler_fn)(struct zcp_node *node, const struct zcp__rpc_peer *who,
                                const Zcpool__Request *req, Zcpool__Response *resp);

/* What a part above wants to hear of peers' lives. Each may be NULL; none is called
 * under node->mu. */
struct zcp__member_hooks {
  /* peer answered a handshake and its region is mapped (again). */
  void (*peer_up)(struct zcp_node *node, int32_t peer);
  /* peer stopped answering. */
  void (*peer_down)(struct zcp_node *node, int32_t peer);
  /* Node client connected to us with a newer epoch than the one it showed before
   * (old_epoch != 0): its previous life is over. */
  void (*client_restarted)(struct zcp_node *node, int32_t client, uint64_t old_epoch,
                           uint64_t epoch);
};

#define ZCP__MEMBER_CALLS 64 /* above every call number of proto/zcpool.proto */
#define ZCP__MEMBER_HOOKS 4

struct zcp_node {
  struct zcp_config cfg;
  int32_t id;
  uint64_t epoch;
  uint8_t key[ZCP_CLUSTER_KEY_SIZE];
  struct zcp_window *win;
  int64_t slot[ZCP_CLUSTER_MAX_NODES]; /* byte offset of each region in the window */
  struct zcp_device *dev;
  struct zcp_region *region;
  bool region_fresh; /* the own region's memory was created zeroed by this open */
  struct zcp__rpc_server *srv;
  Zcpool__RegionInfo region_msg;
  Zcpool__RegionInfo *region_list[1];
  atomic_ullong request_ids;
  uint64_t barrier_gen; /* rounds of zcp_node_barrier this node has entered */
  /* Registered before start, read-only after it. */
  zcp__handler_fn handlers[ZCP__MEMBER_CALLS];
  const struct zcp__member_hooks *hooks[ZCP__MEMBER_HOOKS];
  int n_hooks;
  bool ready_gate;    /* a part above makes peers ready (zcp__member_peer_ready) */
  pthread_mutex_t mu; /* guards peers[] state (not the clients, which lock themselves) */
  pthread_cond_t cv;  /* a peer came up, became ready or went down */
  uint64_t client_epoch[ZCP_CLUSTER_MAX_NODES]; /* last epoch each client showed us */
  struct zcp__peer peers[ZCP_CLUSTER_MAX_NODES];
};

/* ---- life (node.c) ------------------------------------------------------------------
 */

/* Fills node (zeroed memory of the caller's) from cfg: key, window, own region afresh
 * with a new epoch. On failure node is still fit for zcp__member_release. */
ZCP_CHECK_RESULT zcp_status_t zcp__member_init(struct zcp_node *node,
                                               const struct zcp_config *cfg, int32_t id,
                                               struct zcp_error *err);
/* Serves call with fn from zcp__member_start on. */
void zcp__member_handle(struct zcp_node *node, Zcpool__Request__CallCase call,
                        zcp__handler_fn fn);
/* Adds hooks (static storage) for the peers' lives. */
void zcp__member_hooks_add(struct zcp_node *node, const struct zcp__member_hooks *hooks);
/* A part above will make each peer ready when it comes up (zcp__member_peer_ready);
 * until then the waits for peers keep waiting. */
void zcp__member_gate_ready(struct zcp_node *node);
/* Peer came up in epoch and is ready as far as the caller's part is concerned. */
void zcp__member_peer_ready(struct zcp_node *node, int32_t peer, uint64_t epoch);
/* Starts the server and the peers' clients. */
ZCP_CHECK_RESULT zcp_status_t zcp__member_start(struct zcp_node *node,
                                                struct zcp_error *err);
/* Closes the peers' clients, then the server: after it no handler or hook runs. */
void zcp__member_stop(struct zcp_node *node);
/* Unmaps every region and releases what zcp__member_init made (not node itself). */
void zcp__member_release(struct zcp_node *node);
/* Fills the member part of a node's status. */
void zcp__member_status(struct zcp_node *node, struct zcp_node_status *out);

/* ---- where memory is (node.c) -------------------------------------------------------
 */

/* One owner's mapped data area, as it is now. */
struct zcp__area {
  uint8_t *data;
  int64_t size;
  const struct zcp_region *region;
  uint64_t epoch;
};
/* The node whose slot of the window holds addr, or -1 (arithmetic: mapped or not). */
int zcp__member_owner_at(const struct zcp_node *node, uintptr_t addr);
/* Owner's data area; ZCP_NOT_FOUND for no such node, ZCP_PEER_DOWN ("owner down")
 * when it is not mapped and up. what names the caller's operation in the message. */
ZCP_CHECK_RESULT zcp_status_t zcp__member_area(struct zcp_node *node, int32_t owner,
                                               const char *what, struct zcp__area *out,
                                               struct zcp_error *err);
/* Under node->mu: the mapped region holding [addr, addr + len), or NULL. */
const struct zcp_region *zcp__member_region_at_locked(struct zcp_node *node,
                                                      uint64_t addr, int64_t len);
/* The current epoch of node i as this node knows it (own or last handshake). */
uint64_t zcp__node_epoch_of(struct zcp_node *node, int32_t i);

/* ---- calls (call.c) -----------------------------------------------------------------
 */

/* Fails resp with st and msg (copied). */
void zcp__reply_error(Zcpool__Response *resp, zcp_status_t st, const char *msg);
/* One call to peer with the config's call timeout. */
ZCP_CHECK_RESULT zcp_status_t zcp__member_call(struct zcp_node *node, int32_t peer,
                                               Zcpool__Request *req,
                                               Zcpool__Response **resp,
                                               struct zcp_error *err);
/* What a broadcast makes of peer i's failure st (message in e): a status for the whole
 * call (ZCP_OK: this failure does not count), with its message in err. */
typedef zcp_status_t (*zcp__peer_fail_fn)(struct zcp_node *node, int i, zcp_status_t st,
                                          const struct zcp_error *e, const void *ctx,
                                          struct zcp_error *err);
/* Sends req to every peer at once and waits for every answer (one round trip, not N);
 * the first failure that counts (fail) is returned. */
ZCP_CHECK_RESULT zcp_status_t zcp__member_broadcast(struct zcp_node *node,
                                                    Zcpool__Request *req, int timeout_ms,
                                                    zcp__peer_fail_fn fail,
                                                    const void *ctx,
                                                    struct zcp_error *err);
/* zcp__member_broadcast where every failure counts, as "node <id>: <what>: <message>". */
ZCP_CHECK_RESULT zcp_status_t zcp__node_broadcast(struct zcp_node *node,
                                                  Zcpool__Request *req, int timeout_ms,
                                                  const char *what,
                                                  struct zcp_error *err);
/* The server's handler: routes req to the handler registered for its call. */
void zcp__member_serve(void *ctx, const struct zcp__rpc_peer *who,
                       const Zcpool__Request *req, Zcpool__Response *resp);

/* ---- barriers (barrier.c) -----------------------------------------------------------
 */

/* Registers Leave (zcp__member_init does). */
void zcp__barrier_attach(struct zcp_node *node);
/* Tells every peer the barrier rounds this node entered; before the clients go. */
void zcp__barrier_announce_leave(struct zcp_node *node);

#endif
