/* Calls between members: the one dispatch table that routes every call a node serves to
 * the handler a part registered for it, and the two ways of asking peers (one peer, or
 * every peer at once). */
#include "common/platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/member/member.h"
#include "common/util.h"

void zcp__reply_error(Zcpool__Response *resp, zcp_status_t st, const char *msg) {
  resp->status = (int32_t)st;
  resp->message = strdup(msg);
}

void zcp__member_handle(struct zcp_node *node, Zcpool__Request__CallCase call,
                        zcp__handler_fn fn) {
  ZCP_ASSERT(call > 0 && call < ZCP__MEMBER_CALLS && node->handlers[call] == NULL);
  node->handlers[call] = fn;
}

void zcp__member_serve(void *ctx, const struct zcp__rpc_peer *who,
                       const Zcpool__Request *req, Zcpool__Response *resp) {
  struct zcp_node *node = ctx;
  int call = (int)req->call_case;
  zcp__handler_fn fn = call > 0 && call < ZCP__MEMBER_CALLS ? node->handlers[call] : NULL;
  if (fn != NULL) {
    fn(node, who, req, resp);
    return;
  }
  char msg[128];
  snprintf(msg, sizeof msg, "node %d: call %d is not served here", (int)node->id, call);
  zcp__reply_error(resp, ZCP_UNSUPPORTED, msg);
}

zcp_status_t zcp__member_call(struct zcp_node *node, int32_t peer, Zcpool__Request *req,
                              Zcpool__Response **resp, struct zcp_error *err) {
  return zcp__rpc_call(node->peers[peer].client, req, node->cfg.call_timeout_ms, resp,
                       err);
}

/* All peers at once: the cost is one round trip, not N (the thesis asked in turn). */
zcp_status_t zcp__member_broadcast(struct zcp_node *node, Zcpool__Request *req,
                                   int timeout_ms, zcp__peer_fail_fn fail,
                                   const void *ctx, struct zcp_error *err) {
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

static zcp_status_t any_failure(struct zcp_node *node, int i, zcp_status_t st,
                                const struct zcp_error *e, const void *what,
                                struct zcp_error *err) {
  return zcp_error_set(err, st, "node %d: %s: %s", (int)node->id, (const char *)what,
                       e->message);
}

zcp_status_t zcp__node_broadcast(struct zcp_node *node, Zcpool__Request *req,
                                 int timeout_ms, const char *what,
                                 struct zcp_error *err) {
  return zcp__member_broadcast(node, req, timeout_ms, any_failure, what, err);
}
