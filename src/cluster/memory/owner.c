/* The owner's side of the coherence protocol (DESIGN §4, docs/protocol.md step 1).
 *
 * The owner clears every block it hands out and copies the block of a realloc that
 * moves, on its own memory bus (thesis §3.8.1), through its own caches. On a region
 * that is not cache-coherent with the clients, that work counts only once memory holds
 * it, and the owner must not keep lines of a block a client writes:
 *   - before: it drops its lines of the old block (the client wrote it to memory; the
 *     owner may hold an older copy) and of the lines it is about to write (a stale line
 *     of its own there could outlive the clearing, and is dropped as any writer's is in
 *     step 2);
 *   - after, for another node: it writes the cleared or copied lines back and drops them,
 *     drops the old block's lines it read, and fences before it answers. Otherwise its
 *     dirty lines could reach memory later, over what the client wrote, and its clean
 *     ones would be read instead of the client's data where nobody invalidates (the
 *     thesis protocol's importers do not).
 * For its own requests the owner writes the block next through the same caches and
 * sealing writes it back, so only the first drop of the new lines is done.
 *
 * The pool announces the work (struct zcp_pool_touch) and this hook does the cache side;
 * every step is a switchable site (common/sites.h). On coherent regions all are no-ops.
 *
 * Here too: the pool over the own region, the calls that allocate from it for other
 * nodes (each grant recorded with its holder), and reclaiming what a client that
 * restarted still held. */
#include "common/platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/memory/memory.h"
#include "common/sites.h"
#include "common/util.h"

/* Each site asked by its literal name: the site matrix finds them in the sources. */
static bool invalidate_on(bool realloc) {
  return realloc ? zcp__site_enabled("realloc.owner_invalidate")
                 : zcp__site_enabled("alloc.owner_invalidate");
}
static bool writeback_on(bool realloc) {
  return realloc ? zcp__site_enabled("realloc.owner_writeback")
                 : zcp__site_enabled("alloc.owner_writeback");
}

void zcp__owner_touch(void *ctx, bool after, const struct zcp_pool_touch *t) {
  struct zcp_node *node = ctx;
  const struct zcp_region *r = node->region;
  if (zcp_region_get_info(r)->coherence != ZCP_NONCOHERENT) return;
  if (!after) {
    if (!invalidate_on(t->realloc)) return;
    if (t->from != NULL && !t->local) zcp_region_invalidate(r, t->from, t->from_len);
    zcp_region_invalidate(r, t->to, t->to_len);
  } else {
    if (t->local) return;
    if (writeback_on(t->realloc)) zcp_region_flush(r, t->to, t->to_len);
    if (t->from != NULL && invalidate_on(t->realloc))
      zcp_region_invalidate(r, t->from, t->from_len);
  }
  zcp_cache_fence();
}

/* ---- serving the pool ----------------------------------------------------------------
 */

/* Malloc, Realloc and Free for another node: the pool checks the caller's right to the
 * block; the grants remember who holds what, for Flush and for reclaiming. */
static void serve_alloc(struct zcp_node *node, const struct zcp__rpc_peer *who,
                        const Zcpool__Request *req, Zcpool__Response *resp) {
  struct zcp__memory *m = zcp__memory_of(node);
  struct zcp_request rq = {who->node, who->epoch, req->header->request_id};
  struct zcp_error err = {0};
  zcp_status_t st = ZCP_OK;
  int64_t off = 0, size = 0;
  const int64_t line = zcp_pool_line_size(m->pool);
  switch (req->call_case) {
    case ZCPOOL__REQUEST__CALL_MALLOC:
      size = req->malloc->size;
      st = zcp_pool_alloc_for(m->pool, &rq, size, &off, &err);
      if (st == ZCP_OK)
        zcp__grants_put(&m->grants, off, zcp__round_up(size == 0 ? 1 : size, line),
                        who->node, who->epoch);
      break;
    case ZCPOOL__REQUEST__CALL_REALLOC:
      size = req->realloc->size;
      st = zcp_pool_realloc_for(m->pool, &rq, req->realloc->offset, size, &off, &err);
      if (st == ZCP_OK) {
        if (off != req->realloc->offset)
          zcp__grants_drop(&m->grants, req->realloc->offset);
        zcp__grants_put(&m->grants, off, zcp__round_up(size == 0 ? 1 : size, line),
                        who->node, who->epoch);
      }
      break;
    default: /* Free */
      st = zcp_pool_free_for(m->pool, &rq, req->free->offset, &err);
      if (st == ZCP_OK) zcp__grants_drop(&m->grants, req->free->offset);
      break;
  }
  if (st != ZCP_OK) {
    char msg[ZCP_ERROR_MESSAGE_MAX + 64];
    snprintf(msg, sizeof msg, "node %d: %s for node %d: %s", (int)node->id,
             zcp__rpc_call_name(req->call_case), (int)who->node, err.message);
    zcp__reply_error(resp, st, msg);
    return;
  }
  if (req->call_case == ZCPOOL__REQUEST__CALL_FREE) return;
  Zcpool__AllocReply *a = malloc(sizeof *a);
  if (a == NULL) return;
  zcpool__alloc_reply__init(a);
  a->offset = off;
  a->size = zcp__round_up(size == 0 ? 1 : size, line);
  resp->result_case = ZCPOOL__RESPONSE__RESULT_ALLOC;
  resp->alloc = a;
}

/* A client's previous life is over: the blocks it was still writing (granted, never
 * sealed) are reclaimed. */
static void client_restarted(struct zcp_node *node, int32_t client, uint64_t old_epoch,
                             uint64_t epoch) {
  struct zcp__memory *m = zcp__memory_of(node);
  int64_t blocks = 0, bytes = 0;
  zcp__grants_drop_epoch(&m->grants, client, old_epoch);
  if (zcp_pool_reclaim(m->pool, client, old_epoch, &blocks, &bytes, NULL) == ZCP_OK) {
    atomic_fetch_add(&m->reclaimed_blocks, blocks);
    atomic_fetch_add(&m->reclaimed_bytes, bytes);
  }
}

static const struct zcp__member_hooks hooks = {.client_restarted = client_restarted};

zcp_status_t zcp__memory_open(struct zcp_node *node, struct zcp_error *err) {
  struct zcp__memory *m = zcp__memory_of(node);
  zcp__grants_init(&m->grants);
  zcp__tags_init(&m->tags);
  m->opened = true;
  m->any = (struct zcp__expect){node, -1, 0, 0};
  zcp__remote_init(node);
  struct zcp_pool_options po;
  zcp_pool_options_init(&po);
  po.max_nodes = node->cfg.n_nodes;
  po.local_node = node->id;
  po.local_epoch = node->epoch;
  po.default_quota = node->cfg.quota;
  po.range_is_zero = node->region_fresh;
  po.touch = zcp__owner_touch;
  po.touch_ctx = node;
  ZCP_RETURN_NOT_OK(zcp_pool_init(zcp_region_data(node->region),
                                  zcp_region_data_size(node->region), &po, &m->pool, err));
  zcp__member_handle(node, ZCPOOL__REQUEST__CALL_MALLOC, serve_alloc);
  zcp__member_handle(node, ZCPOOL__REQUEST__CALL_REALLOC, serve_alloc);
  zcp__member_handle(node, ZCPOOL__REQUEST__CALL_FREE, serve_alloc);
  zcp__member_handle(node, ZCPOOL__REQUEST__CALL_FLUSH, zcp__serve_flush);
  zcp__member_handle(node, ZCPOOL__REQUEST__CALL_VERIFY, zcp__serve_verify);
  zcp__member_handle(node, ZCPOOL__REQUEST__CALL_SEAL, zcp__serve_seal);
  zcp__member_hooks_add(node, &hooks);
  return ZCP_OK;
}

void zcp__memory_close(struct zcp_node *node) {
  struct zcp__memory *m = zcp__memory_of(node);
  if (!m->opened) return; /* an open that failed before this part */
  zcp_pool_release(m->pool);
  m->pool = NULL;
  zcp__grants_release(&m->grants);
  zcp__tags_release(&m->tags);
  m->opened = false;
}

void zcp_node_status(struct zcp_node *node, struct zcp_node_status *out) {
  struct zcp__memory *m = zcp__memory_of(node);
  zcp__member_status(node, out);
  struct zcp_pool_stats ps;
  zcp_pool_stats(m->pool, &ps);
  out->bytes_used = ps.used_bytes;
  out->bytes_free = ps.free_bytes;
  out->live_blocks = ps.live_blocks;
  out->reclaimed_blocks = atomic_load(&m->reclaimed_blocks);
  out->reclaimed_bytes = atomic_load(&m->reclaimed_bytes);
}
