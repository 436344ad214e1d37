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
 */
#include "common/platform.h"

#include <stdio.h>
#include <string.h>

#include "cluster/member/member.h"

void zcp_node_set_state(struct zcp_node *node, uint64_t flags, uint64_t mask) {
  zcp__rpc_server_set_state(node->srv, ZCPOOL__STATE_WORD__STATE_USER, flags, mask);
}

uint64_t zcp_node_get_state(struct zcp_node *node) {
  return zcp__rpc_server_get_state(node->srv, ZCPOOL__STATE_WORD__STATE_USER);
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

static void serve_leave(struct zcp_node *node, const struct zcp__rpc_peer *who,
                        const Zcpool__Request *req, Zcpool__Response *resp) {
  const Zcpool__Leave *m = req->leave;
  if (who->node < 0 || who->node >= node->cfg.n_nodes || who->node == node->id) return;
  pthread_mutex_lock(&node->mu);
  struct zcp__peer *p = &node->peers[who->node];
  p->left = true;
  p->left_epoch = who->epoch;
  p->left_gen = m->barrier_gen;
  pthread_mutex_unlock(&node->mu);
}

void zcp__barrier_attach(struct zcp_node *node) {
  zcp__member_handle(node, ZCPOOL__REQUEST__CALL_LEAVE, serve_leave);
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
  return zcp__member_broadcast(node, &req, timeout_ms, peer_failed, &gen, err);
}
