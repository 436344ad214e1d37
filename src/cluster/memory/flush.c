/* Flushes (thesis mode, DESIGN §4): the thesis's protocol writes back and drops every
 * node's lines of a block before anyone writes it ("pre-write flush", thesis §3.9 and
 * §3.11), by asking every node at once to flush the range. zcp_node_flush is that call;
 * the serving side flushes only ranges it maps, and in its own region only those inside
 * a block the caller holds. */
#include "common/platform.h"

#include <inttypes.h>
#include <stdlib.h>

#include "cluster/memory/memory.h"
#include "common/sites.h"

void zcp__serve_flush(struct zcp_node *node, const struct zcp__rpc_peer *who,
                      const Zcpool__Request *req, Zcpool__Response *resp) {
  struct zcp__memory *m = zcp__memory_of(node);
  struct zcp_error err = {0};
  zcp_status_t st = ZCP_OK;
  int64_t bytes = 0;
  pthread_mutex_lock(&node->mu);
  for (size_t i = 0; i < req->flush->n_ranges && st == ZCP_OK; i++) {
    const Zcpool__Range *rg = req->flush->ranges[i];
    const struct zcp_region *r =
        zcp__member_region_at_locked(node, rg->address, rg->length);
    if (r == NULL) {
      st = zcp_error_set(&err, ZCP_INVALID_ARGUMENT,
                         "node %d: Flush for node %d: range %#" PRIx64
                         "+%lld lies in no region this node maps",
                         (int)node->id, (int)who->node, rg->address,
                         (long long)rg->length);
      break;
    }
    /* Only the owner of a region knows who holds its blocks: here, in our region,
     * the range must lie in a block the caller holds. */
    int64_t at = (int64_t)(rg->address - (uint64_t)(uintptr_t)zcp_region_data(r));
    if (r == node->region && !zcp__grants_owns(&m->grants, who->node, at, rg->length)) {
      st = zcp_error_set(&err, ZCP_INVALID_ARGUMENT,
                         "node %d: Flush for node %d: range %#" PRIx64
                         "+%lld is not in a block node %d holds",
                         (int)node->id, (int)who->node, rg->address,
                         (long long)rg->length, (int)who->node);
      break;
    }
    if (zcp__site_enabled("flush.serve"))
      zcp_region_flush(r, (const void *)(uintptr_t)rg->address, rg->length);
    bytes += rg->length;
  }
  pthread_mutex_unlock(&node->mu);
  if (st != ZCP_OK) {
    zcp__reply_error(resp, st, err.message);
    return;
  }
  Zcpool__FlushReply *f = malloc(sizeof *f);
  if (f == NULL) return;
  zcpool__flush_reply__init(f);
  f->bytes = bytes;
  resp->result_case = ZCPOOL__RESPONSE__RESULT_FLUSH;
  resp->flush = f;
}

zcp_status_t zcp_node_flush(struct zcp_node *node, const void *p, int64_t len,
                            struct zcp_error *err) {
  pthread_mutex_lock(&node->mu);
  const struct zcp_region *r =
      zcp__member_region_at_locked(node, (uint64_t)(uintptr_t)p, len);
  if (r != NULL && zcp__site_enabled("flush.local")) zcp_region_flush(r, p, len);
  pthread_mutex_unlock(&node->mu);
  if (r == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "node %d: Flush: %p+%lld is in no region", (int)node->id, p,
                         (long long)len);
  Zcpool__Range range = ZCPOOL__RANGE__INIT;
  range.address = (uint64_t)(uintptr_t)p;
  range.length = len;
  Zcpool__Range *ranges[1] = {&range};
  Zcpool__Flush m = ZCPOOL__FLUSH__INIT;
  m.ranges = ranges;
  m.n_ranges = 1;
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  req.call_case = ZCPOOL__REQUEST__CALL_FLUSH;
  req.flush = &m;
  return zcp__node_broadcast(node, &req, node->cfg.call_timeout_ms, "Flush", err);
}

zcp_status_t zcp__node_prewrite(struct zcp_node *node, void *p, int64_t size,
                                struct zcp_error *err) {
  if (node->cfg.protocol != ZCP_PROTOCOL_PREWRITE_FLUSH || p == NULL ||
      !zcp__site_enabled("prewrite.flush"))
    return ZCP_OK;
  return zcp_node_flush(node, p, size == 0 ? 1 : size, err);
}
