/* State words and barriers (thesis §3.7, "waitFor"). Each node keeps a 64-bit state word
 * in its server; sync_wait sets this node's bits and asks every peer, all at once, to
 * answer when its word matches — the peer's server answers the moment its word changes,
 * where the thesis fetched each word every 0.5 ms, one node after the other.
 *
 * Flag bits reused from one round to the next race (a fast node may flip a bit back
 * before a slow one has seen it set), so zcp_node_barrier counts rounds instead: a
 * generation word that only grows, waited on with "at least".
 *
 * A node that passed round g may close at once, before a slower peer has asked it; that
 * peer's question then meets a closed connection although the node did enter g. So
 * zcp_node_close first tells every peer, and waits for the answers, the rounds it
 * entered (Leave); a barrier whose question fails counts a peer that left having entered
 * its round as entered. A peer that went down without leaving, or left before the
 * round, still fails the barrier with its name.
 *
 * The broadcast helper below also serves Flush and the sharing layer's Publish / Drop. */
#include "common/platform.h"

#include <stdio.h>
#include <string.h>

#include "cluster/internal.h"

void zcp_node_set_state(struct zcp_node *node, uint64_t flags, uint64_t mask) {
  zcp__rpc_server_set_state(node->srv, ZCPOOL__STATE_WORD__STATE_USER, flags, mask);
}

uint64_t zcp_node_get_state(struct zcp_node *node) {
  return zcp__rpc_server_get_state(node->srv, ZCPOOL__STATE_WORD__STATE_USER);
}

/* What a broadcast makes of peer i's failure st (message in e): a status for the whole
 * call (ZCP_OK: this failure does not count), with its message in err. */
typedef zcp_status_t (*peer_fail_fn)(struct zcp_node *node, int i, zcp_status_t st,
                                     const struct zcp_error *e, const void *ctx,
                                     struct zcp_error *err);

/* All peers at once: the cost is one round trip, not N (the thesis asked in turn). The
 * first failure that counts is returned. */
static zcp_status_t broadcast(struct zcp_node *node, Zcpool__Request *req, int timeout_ms,
                              peer_fail_fn fail, const void *ctx, struct zcp_error *err) {
  struct zcp__rpc_call calls[ZCP_CLUSTER_MAX_NODES];
  zcp_status_t first = ZCP_OK;
  for (int i = 0; i < node->cfg.n_nodes; i++) {
    calls[i].client = NULL;
    if (i == node->id) continue;
    calls[i].request_id = 0;
    struct zcp_error e = {0};
    zcp_status_t st =
        zcp__rpc_call_start(node->peers[i].client, req, timeout_ms, &calls[i], &e);
    if (st != ZCP_OK) {
      calls[i].client = NULL;
      if (first == ZCP_OK) first = fail(node, i, st, &e, ctx, err);
    }
  }
  for (int i = 0; i < node->cfg.n_nodes; i++) {
    if (calls[i].client == NULL) continue;
    struct zcp_error e = {0};
    zcp_status_t st = zcp__rpc_call_finish(&calls[i], NULL, &e);
    if (st != ZCP_OK && first == ZCP_OK) first = fail(node, i, st, &e, ctx, err);
  }
  return first;
}

/* Every failure counts, as "node <id>: <what>: <message>". */
static zcp_status_t any_failure(struct zcp_node *node, int i, zcp_status_t st,
                                const struct zcp_error *e, const void *what,
                                struct zcp_error *err) {
  return zcp_error_set(err, st, "node %d: %s: %s", (int)node->id, (const char *)what,
                       e->message);
}

zcp_status_t zcp__node_broadcast(struct zcp_node *node, Zcpool__Request *req,
                                 int timeout_ms, const char *what,
                                 struct zcp_error *err) {
  return broadcast(node, req, timeout_ms, any_failure, what, err);
}

/* Asks every peer to answer once its word satisfies the condition; waits for all. */
static zcp_status_t wait_all(struct zcp_node *node, int word, uint64_t value,
                             uint64_t mask, int condition, int timeout_ms,
                             const char *what, struct zcp_error *err) {
  Zcpool__WaitState ws = ZCPOOL__WAIT_STATE__INIT;
  ws.value = value;
  ws.mask = mask;
  ws.condition = (Zcpool__WaitCondition)condition;
  ws.word = (Zcpool__StateWord)word;
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  req.call_case = ZCPOOL__REQUEST__CALL_WAIT_STATE;
  req.wait_state = &ws;
  return zcp__node_broadcast(node, &req, timeout_ms, what, err);
}

zcp_status_t zcp_node_sync_wait(struct zcp_node *node, uint64_t flags, uint64_t mask,
                                int timeout_ms, struct zcp_error *err) {
  zcp__rpc_server_set_state(node->srv, ZCPOOL__STATE_WORD__STATE_USER, flags, mask);
  return wait_all(node, ZCPOOL__STATE_WORD__STATE_USER, flags, mask,
                  ZCPOOL__WAIT_CONDITION__WAIT_EQUAL, timeout_ms, "sync_wait", err);
}

/* Bounds zcp_node_close's wait for the peers' answers to Leave: a peer that does not
 * answer in time is most likely down and waits for no barrier of ours. */
#define ZCP__LEAVE_TIMEOUT_MS 2000

void zcp__barrier_serve_leave(struct zcp_node *node, const struct zcp__rpc_peer *who,
                              const Zcpool__Leave *m) {
  if (who->node < 0 || who->node >= node->cfg.n_nodes || who->node == node->id) return;
  pthread_mutex_lock(&node->mu);
  struct zcp__peer *p = &node->peers[who->node];
  p->left = true;
  p->left_epoch = who->epoch;
  p->left_gen = m->barrier_gen;
  pthread_mutex_unlock(&node->mu);
}

void zcp__barrier_announce_leave(struct zcp_node *node) {
  /* An open that failed half way entered no barrier: there is nobody to tell. */
  if (node->srv == NULL) return;
  for (int i = 0; i < node->cfg.n_nodes; i++)
    if (i != node->id && node->peers[i].client == NULL) return;
  Zcpool__Leave lv = ZCPOOL__LEAVE__INIT;
  pthread_mutex_lock(&node->mu);
  lv.barrier_gen = node->barrier_gen;
  pthread_mutex_unlock(&node->mu);
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  req.call_case = ZCPOOL__REQUEST__CALL_LEAVE;
  req.leave = &lv;
  /* Best effort: a peer we cannot tell is down and in no barrier with us. */
  struct zcp_error e = {0};
  zcp_status_t st = zcp__node_broadcast(node, &req, ZCP__LEAVE_TIMEOUT_MS, "leave", &e);
  (void)st;
}

/* Peer i failed round *gen's question with st: still a failure of the barrier unless
 * the peer told us, as it closed, that it had entered the round. */
static zcp_status_t peer_failed(struct zcp_node *node, int i, zcp_status_t st,
                                const struct zcp_error *e, const void *ctx,
                                struct zcp_error *err) {
  uint64_t gen = *(const uint64_t *)ctx;
  pthread_mutex_lock(&node->mu);
  bool left = node->peers[i].left;
  uint64_t left_gen = node->peers[i].left_gen;
  pthread_mutex_unlock(&node->mu);
  if (left && left_gen >= gen) return ZCP_OK;
  if (left)
    return zcp_error_set(err, ZCP_PEER_DOWN,
                         "node %d: barrier round %llu: node %d closed after round %llu",
                         (int)node->id, (unsigned long long)gen, i,
                         (unsigned long long)left_gen);
  return zcp_error_set(err, st, "node %d: barrier round %llu: %s", (int)node->id,
                       (unsigned long long)gen, e->message);
}

zcp_status_t zcp_node_barrier(struct zcp_node *node, int timeout_ms,
                              struct zcp_error *err) {
  pthread_mutex_lock(&node->mu);
  uint64_t gen = ++node->barrier_gen;
  pthread_mutex_unlock(&node->mu);
  zcp__rpc_server_set_state(node->srv, ZCPOOL__STATE_WORD__STATE_BARRIER, gen,
                            UINT64_MAX);
  Zcpool__WaitState ws = ZCPOOL__WAIT_STATE__INIT;
  ws.value = gen;
  ws.mask = UINT64_MAX;
  ws.condition = ZCPOOL__WAIT_CONDITION__WAIT_AT_LEAST;
  ws.word = ZCPOOL__STATE_WORD__STATE_BARRIER;
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  req.call_case = ZCPOOL__REQUEST__CALL_WAIT_STATE;
  req.wait_state = &ws;
  /* A peer's failure is looked at on its own: the peer may have passed this round and
   * left (its Leave is recorded before its server stops). */
  return broadcast(node, &req, timeout_ms, peer_failed, &gen, err);
}
