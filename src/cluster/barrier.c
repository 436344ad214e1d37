/* State words and barriers (thesis §3.7, "waitFor"). Each node keeps a 64-bit state word
 * in its server; sync_wait sets this node's bits and asks every peer, all at once, to
 * answer when its word matches — the peer's server answers the moment its word changes,
 * where the thesis fetched each word every 0.5 ms, one node after the other.
 *
 * Flag bits reused from one round to the next race (a fast node may flip a bit back
 * before a slow one has seen it set), so zcp_node_barrier counts rounds instead: a
 * generation word that only grows, waited on with "at least".
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

zcp_status_t zcp__node_broadcast(struct zcp_node *node, Zcpool__Request *req,
                                 int timeout_ms, const char *what, struct zcp_error *err) {
  /* All peers at once: the cost is one round trip, not N (the thesis asked in turn). */
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
      if (first == ZCP_OK)
        first = zcp_error_set(err, st, "node %d: %s: %s", (int)node->id, what, e.message);
    }
  }
  for (int i = 0; i < node->cfg.n_nodes; i++) {
    if (calls[i].client == NULL) continue;
    struct zcp_error e = {0};
    zcp_status_t st = zcp__rpc_call_finish(&calls[i], NULL, &e);
    if (st != ZCP_OK && first == ZCP_OK)
      first = zcp_error_set(err, st, "node %d: %s: %s", (int)node->id, what, e.message);
  }
  return first;
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

zcp_status_t zcp_node_barrier(struct zcp_node *node, int timeout_ms,
                              struct zcp_error *err) {
  pthread_mutex_lock(&node->mu);
  uint64_t gen = ++node->barrier_gen;
  pthread_mutex_unlock(&node->mu);
  zcp__rpc_server_set_state(node->srv, ZCPOOL__STATE_WORD__STATE_BARRIER, gen,
                            UINT64_MAX);
  char what[64];
  snprintf(what, sizeof what, "barrier round %llu", (unsigned long long)gen);
  return wait_all(node, ZCPOOL__STATE_WORD__STATE_BARRIER, gen, UINT64_MAX,
                  ZCPOOL__WAIT_CONDITION__WAIT_AT_LEAST, timeout_ms, what, err);
}
