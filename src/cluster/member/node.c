/* Nodes: one member of a cluster in this process. Opening a node reserves the cluster's
 * window at the configured base, creates its own region afresh (a new epoch: anything a
 * previous incarnation handed out is gone), builds the pool over it and starts serving;
 * peers are connected in the background and their regions mapped, each into its slot of
 * the window, when they first answer (and mapped again when they come back with a new
 * epoch). The server side answers allocation calls from the pool on behalf of the
 * calling node; the client side turns a peer's pool into a struct zcp_allocator.
 * Nothing here may block without a timeout, and a dead peer never takes the node down. */
#include "common/platform.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/internal.h"
#include "common/sites.h"
#include "common/util.h"

static _Thread_local struct zcp_error last_error;

zcp_status_t zcp_node_last_error(struct zcp_error *err) {
  if (err != NULL) *err = last_error;
  return last_error.code;
}

int32_t zcp_node_id(const struct zcp_node *node) {
  return node->id;
}
uint64_t zcp_node_epoch(const struct zcp_node *node) {
  return node->epoch;
}
const struct zcp_config *zcp_node_config(const struct zcp_node *node) {
  return &node->cfg;
}

static int64_t slot_size(int64_t size) {
  return zcp__round_up(size, ZCP_WINDOW_ALIGN);
}

/* ---- serving requests ---------------------------------------------------------------
 */

static void reply_error(Zcpool__Response *resp, zcp_status_t st, const char *msg) {
  resp->status = (int32_t)st;
  resp->message = strdup(msg);
}

/* The region (own or mapped) holding [addr, addr + len), under node->mu. */
static const struct zcp_region *region_of(struct zcp_node *node, uint64_t addr,
                                          int64_t len) {
  for (int i = 0; i < node->cfg.n_nodes; i++) {
    const struct zcp_region *r = i == node->id ? node->region : node->peers[i].region;
    if (r == NULL) continue;
    uint64_t lo = (uint64_t)(uintptr_t)zcp_region_data(r);
    uint64_t hi = lo + (uint64_t)zcp_region_data_size(r);
    if (addr >= lo && addr <= hi && len >= 0 && (uint64_t)len <= hi - addr) return r;
  }
  return NULL;
}

static void serve(void *ctx, const struct zcp__rpc_peer *who, const Zcpool__Request *req,
                  Zcpool__Response *resp) {
  struct zcp_node *node = ctx;
  struct zcp_request rq = {who->node, who->epoch, req->header->request_id};
  struct zcp_error err = {0};
  zcp_status_t st = ZCP_OK;
  int64_t off = 0, size = 0;
  const char *call = zcp__rpc_call_name(req->call_case);
  switch (req->call_case) {
    case ZCPOOL__REQUEST__CALL_PING: {
      Zcpool__PingReply *p = malloc(sizeof *p);
      if (p == NULL) break;
      zcpool__ping_reply__init(p);
      p->payload = req->ping->payload; /* the request outlives the send */
      resp->result_case = ZCPOOL__RESPONSE__RESULT_PING;
      resp->ping = p;
      return;
    }
    case ZCPOOL__REQUEST__CALL_MALLOC:
      size = req->malloc->size;
      st = zcp_pool_alloc_for(node->pool, &rq, size, &off, &err);
      if (st == ZCP_OK)
        zcp__grants_put(
            &node->grants, off,
            zcp__round_up(size == 0 ? 1 : size, zcp_pool_line_size(node->pool)),
            who->node, who->epoch);
      break;
    case ZCPOOL__REQUEST__CALL_REALLOC:
      size = req->realloc->size;
      st = zcp_pool_realloc_for(node->pool, &rq, req->realloc->offset, size, &off, &err);
      if (st == ZCP_OK) {
        if (off != req->realloc->offset)
          zcp__grants_drop(&node->grants, req->realloc->offset);
        zcp__grants_put(
            &node->grants, off,
            zcp__round_up(size == 0 ? 1 : size, zcp_pool_line_size(node->pool)),
            who->node, who->epoch);
      }
      break;
    case ZCPOOL__REQUEST__CALL_FREE:
      st = zcp_pool_free_for(node->pool, &rq, req->free->offset, &err);
      if (st == ZCP_OK) zcp__grants_drop(&node->grants, req->free->offset);
      break;
    case ZCPOOL__REQUEST__CALL_FLUSH: {
      int64_t bytes = 0;
      pthread_mutex_lock(&node->mu);
      for (size_t i = 0; i < req->flush->n_ranges && st == ZCP_OK; i++) {
        const Zcpool__Range *rg = req->flush->ranges[i];
        const struct zcp_region *r = region_of(node, rg->address, rg->length);
        if (r == NULL) {
          st = zcp_error_set(&err, ZCP_INVALID_ARGUMENT,
                             "range %#" PRIx64 "+%lld lies in no region this node maps",
                             rg->address, (long long)rg->length);
          break;
        }
        /* Only the owner of a region knows who holds its blocks: here, in our region,
         * the range must lie in a block the caller holds. */
        int64_t at = (int64_t)(rg->address - (uint64_t)(uintptr_t)zcp_region_data(r));
        if (r == node->region &&
            !zcp__grants_owns(&node->grants, who->node, at, rg->length)) {
          st = zcp_error_set(&err, ZCP_INVALID_ARGUMENT,
                             "range %#" PRIx64 "+%lld is not in a block node %d holds",
                             rg->address, (long long)rg->length, (int)who->node);
          break;
        }
        if (zcp__site_enabled("flush.serve"))
          zcp_region_flush(r, (const void *)(uintptr_t)rg->address, rg->length);
        bytes += rg->length;
      }
      pthread_mutex_unlock(&node->mu);
      if (st == ZCP_OK) {
        Zcpool__FlushReply *f = malloc(sizeof *f);
        if (f == NULL) break;
        zcpool__flush_reply__init(f);
        f->bytes = bytes;
        resp->result_case = ZCPOOL__RESPONSE__RESULT_FLUSH;
        resp->flush = f;
        return;
      }
      break;
    }
    case ZCPOOL__REQUEST__CALL_SEND_TABLE_FULL:
      zcp__copy_serve(node, who, req, resp);
      return;
    case ZCPOOL__REQUEST__CALL_LEAVE:
      zcp__barrier_serve_leave(node, who, req->leave);
      return;
    default:
      if (zcp__share_serve(node, who, req, resp)) return;
      st = zcp_error_set(&err, ZCP_UNSUPPORTED, "call %d is not served here",
                         (int)req->call_case);
      break;
  }
  if (st != ZCP_OK) {
    char msg[ZCP_ERROR_MESSAGE_MAX + 64];
    snprintf(msg, sizeof msg, "node %d: %s for node %d: %s", (int)node->id, call,
             (int)who->node, err.message);
    reply_error(resp, st, msg);
    return;
  }
  if (req->call_case == ZCPOOL__REQUEST__CALL_MALLOC ||
      req->call_case == ZCPOOL__REQUEST__CALL_REALLOC) {
    Zcpool__AllocReply *a = malloc(sizeof *a);
    if (a == NULL) return;
    zcpool__alloc_reply__init(a);
    a->offset = off;
    a->size = zcp__round_up(size == 0 ? 1 : size, zcp_pool_line_size(node->pool));
    resp->result_case = ZCPOOL__RESPONSE__RESULT_ALLOC;
    resp->alloc = a;
  }
}

/* A client finished its handshake. A newer epoch of a node means its previous life is
 * over: the blocks it was still writing (granted, never sealed) are reclaimed. */
static void on_hello(void *ctx, const Zcpool__Hello *h) {
  struct zcp_node *node = ctx;
  pthread_mutex_lock(&node->mu);
  uint64_t old = node->client_epoch[h->node];
  if (h->epoch > old) node->client_epoch[h->node] = h->epoch;
  pthread_mutex_unlock(&node->mu);
  if (old != 0 && h->epoch > old) {
    zcp__copy_client_gone(node, h->node, h->epoch);
    int64_t blocks = 0, bytes = 0;
    zcp__grants_drop_epoch(&node->grants, h->node, old);
    if (zcp_pool_reclaim(node->pool, h->node, old, &blocks, &bytes, NULL) == ZCP_OK) {
      atomic_fetch_add(&node->reclaimed_blocks, blocks);
      atomic_fetch_add(&node->reclaimed_bytes, bytes);
    }
  }
}

/* ---- peers --------------------------------------------------------------------------
 */

static void unmap_peer(struct zcp__peer *p) {
  zcp_region_unmap(p->region);
  zcp_device_close(p->dev);
  p->region = NULL;
  p->dev = NULL;
}

/* The peer answered a handshake: map its region (again, if its epoch changed). */
static void on_up(void *ctx, int32_t id, const Zcpool__Challenge *ch) {
  struct zcp_node *node = ctx;
  struct zcp__peer *p = &node->peers[id];
  const struct zcp__node_config *nc = &node->cfg.nodes[id];
  const Zcpool__RegionInfo *ri = NULL;
  for (size_t i = 0; ch != NULL && i < ch->n_regions; i++)
    if (ch->regions[i]->owner == (uint32_t)id) ri = ch->regions[i];
  struct zcp_error err = {0};
  zcp_status_t st = ZCP_OK;
  pthread_mutex_lock(&node->mu);
  if (ri == NULL) {
    st = zcp_error_set(&err, ZCP_CORRUPT_INPUT, "node %d lends no region", (int)id);
  } else if (ri->size != nc->size || strcmp(ri->device, nc->device) != 0 ||
             ri->coherence != (uint32_t)nc->coherence) {
    st = zcp_error_set(&err, ZCP_INVALID_ARGUMENT,
                       "node %d lends %s of %lld bytes, the config says %s of %lld bytes",
                       (int)id, ri->device, (long long)ri->size, nc->device,
                       (long long)nc->size);
  } else if (p->region == NULL || p->epoch != ri->epoch) {
    unmap_peer(p);
    struct zcp_region_info info = {node->cfg.cluster_id, (uint32_t)id, ri->epoch,
                                   nc->size, nc->coherence};
    st = zcp_device_open(nc->device, NULL, &p->dev, &err);
    if (st == ZCP_OK)
      st = zcp_region_map(node->win, node->slot[id], p->dev, ZCP_REGION_BORROWER, &info,
                          &p->region, &err);
    if (st != ZCP_OK) unmap_peer(p);
  }
  bool came_up = st == ZCP_OK && ri != NULL;
  if (came_up) {
    p->epoch = ri->epoch;
    p->up = true;
    p->synced = false; /* until its catalog entries are pulled (share.c) */
    if (p->left && p->left_epoch != ri->epoch) p->left = false; /* a new life */
    p->why[0] = '\0';
  } else {
    /* Shown by zcp_node_wait_online and calls to that node. */
    snprintf(p->why, sizeof p->why, "cannot map its region: %.160s", err.message);
  }
  pthread_cond_broadcast(&node->cv);
  pthread_mutex_unlock(&node->mu);
  if (came_up) zcp__share_peer_up(node, id);
}

static void on_down(void *ctx, int32_t id, const char *why) {
  struct zcp_node *node = ctx;
  pthread_mutex_lock(&node->mu);
  node->peers[id].up = false;
  snprintf(node->peers[id].why, sizeof node->peers[id].why, "%.190s", why);
  pthread_cond_broadcast(&node->cv);
  pthread_mutex_unlock(&node->mu);
  /* A sender that is down will not finish its copies: free what they built. */
  zcp__copy_client_gone(node, id, 0);
}

/* ---- remote pools -------------------------------------------------------------------
 */

static void *rp_allocate(struct zcp_allocator *self, int64_t size, int64_t alignment) {
  struct zcp__remote_pool *rp = self->private_data;
  void *out = NULL;
  if (alignment > ZCP_POOL_LINE_SIZE) {
    zcp_error_set(&last_error, ZCP_INVALID_ARGUMENT,
                  "node %d: alignment %lld is above the pool's line size %d",
                  (int)rp->owner, (long long)alignment, ZCP_POOL_LINE_SIZE);
    return NULL;
  }
  if (zcp_node_alloc(rp->node, rp->owner, size, &out, &last_error) != ZCP_OK) return NULL;
  return out;
}

static void *rp_reallocate(struct zcp_allocator *self, void *ptr, int64_t old_size,
                           int64_t new_size, int64_t alignment) {
  struct zcp__remote_pool *rp = self->private_data;
  void *out = NULL;
  if (ptr == NULL) return rp_allocate(self, new_size, alignment);
  if (zcp_node_realloc(rp->node, rp->owner, ptr, old_size, new_size, &out, &last_error) !=
      ZCP_OK)
    return NULL;
  return out;
}

static void rp_free(struct zcp_allocator *self, void *ptr, int64_t size) {
  struct zcp__remote_pool *rp = self->private_data;
  if (ptr == NULL) return;
  /* The allocator interface has no way to report this: zcp_node_last_error does. */
  zcp_status_t st = zcp_node_free(rp->node, rp->owner, ptr, &last_error);
  (void)st;
}

zcp_status_t zcp_node_pool(struct zcp_node *node, int32_t owner,
                           struct zcp_allocator **out, struct zcp_error *err) {
  *out = NULL;
  if (owner < 0 || owner >= node->cfg.n_nodes)
    return zcp_error_set(err, ZCP_NOT_FOUND, "node %d: no node %d in cluster %s (0..%d)",
                         (int)node->id, (int)owner, node->cfg.name,
                         (int)node->cfg.n_nodes - 1);
  /* In thesis mode the local pool goes through zcp_node_alloc too, for its pre-write
   * flush (peers[id].pool is set up for that). */
  bool direct = owner == node->id && node->cfg.protocol == ZCP_PROTOCOL_INVALIDATE;
  *out = direct ? zcp_pool_allocator(node->pool) : &node->peers[owner].pool.alloc;
  return ZCP_OK;
}

/* The mapped data area of owner's region; ZCP_PEER_DOWN when it is not mapped. */
static zcp_status_t peer_area(struct zcp_node *node, int32_t owner, const char *call,
                              uint8_t **base, int64_t *size,
                              const struct zcp_region **region, struct zcp_error *err) {
  if (owner < 0 || owner >= node->cfg.n_nodes)
    return zcp_error_set(err, ZCP_NOT_FOUND, "node %d: %s: no node %d", (int)node->id,
                         call, (int)owner);
  pthread_mutex_lock(&node->mu);
  struct zcp__peer *p = &node->peers[owner];
  zcp_status_t st = ZCP_OK;
  if (p->region == NULL || !p->up) {
    st = zcp_error_set(err, ZCP_PEER_DOWN, "node %d: %s: node %d is down (%s)",
                       (int)node->id, call, (int)owner,
                       p->why[0] ? p->why : "not connected yet");
  } else {
    *base = zcp_region_data(p->region);
    *size = zcp_region_data_size(p->region);
    if (region != NULL) *region = p->region;
  }
  pthread_mutex_unlock(&node->mu);
  return st;
}

/* An offset (and size) the owner answered, checked before it becomes a pointer: the
 * answer comes from the network. */
static zcp_status_t answer_ptr(struct zcp_node *node, int32_t owner, const char *call,
                               const Zcpool__Response *resp, uint8_t *base, int64_t size,
                               void **out, struct zcp_error *err) {
  if (resp->result_case != ZCPOOL__RESPONSE__RESULT_ALLOC || resp->alloc->offset < 0 ||
      resp->alloc->size < 0 || resp->alloc->offset > size ||
      resp->alloc->size > size - resp->alloc->offset)
    return zcp_error_set(err, ZCP_CORRUPT_INPUT,
                         "node %d: %s: node %d answered a block outside its region",
                         (int)node->id, call, (int)owner);
  *out = base + resp->alloc->offset;
  return ZCP_OK;
}

static zcp_status_t remote(struct zcp_node *node, int32_t owner, Zcpool__Request *req,
                           Zcpool__Response **resp, struct zcp_error *err) {
  return zcp__rpc_call(node->peers[owner].client, req, node->cfg.call_timeout_ms, resp,
                       err);
}

zcp_status_t zcp_node_alloc(struct zcp_node *node, int32_t owner, int64_t size,
                            void **out, struct zcp_error *err) {
  *out = NULL;
  if (owner == node->id) {
    ZCP_RETURN_NOT_OK(zcp_pool_alloc(node->pool, size, out, err));
    return zcp__node_prewrite(node, *out, size, err);
  }
  uint8_t *base = NULL;
  int64_t area = 0;
  const struct zcp_region *region = NULL;
  ZCP_RETURN_NOT_OK(peer_area(node, owner, "Malloc", &base, &area, &region, err));
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  Zcpool__Malloc m = ZCPOOL__MALLOC__INIT;
  m.size = size;
  req.call_case = ZCPOOL__REQUEST__CALL_MALLOC;
  req.malloc = &m;
  Zcpool__Response *resp = NULL;
  zcp_status_t st = remote(node, owner, &req, &resp, err);
  if (st == ZCP_OK) st = answer_ptr(node, owner, "Malloc", resp, base, area, out, err);
  /* Protocol step 2 (DESIGN §4): lines of this block we may hold from an earlier life of
   * the memory must go before we write; the owner has zeroed it in memory. In thesis mode
   * the pre-write flush below does this (it flushes here too), so it is not done twice.
   */
  if (st == ZCP_OK && node->cfg.protocol == ZCP_PROTOCOL_INVALIDATE &&
      zcp__site_enabled("alloc.invalidate"))
    zcp_region_invalidate(region, *out, resp->alloc->size);
  if (st == ZCP_OK) st = zcp__node_prewrite(node, *out, resp->alloc->size, err);
  if (resp != NULL) zcpool__response__free_unpacked(resp, NULL);
  return st;
}

static zcp_status_t offset_in(struct zcp_node *node, int32_t owner, const char *call,
                              const void *ptr, uint8_t *base, int64_t area, int64_t *off,
                              struct zcp_error *err) {
  const uint8_t *p = ptr;
  if (p < base || p >= base + area)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "node %d: %s: %p is not in the region of node %d", (int)node->id,
                         call, ptr, (int)owner);
  *off = p - base;
  return ZCP_OK;
}

zcp_status_t zcp_node_realloc(struct zcp_node *node, int32_t owner, void *ptr,
                              int64_t old_size, int64_t new_size, void **out,
                              struct zcp_error *err) {
  *out = NULL;
  if (owner == node->id) {
    ZCP_RETURN_NOT_OK(zcp_pool_realloc(node->pool, ptr, new_size, out, err));
    return *out == ptr ? ZCP_OK : zcp__node_prewrite(node, *out, new_size, err);
  }
  uint8_t *base = NULL;
  int64_t area = 0, off = 0;
  const struct zcp_region *region = NULL;
  ZCP_RETURN_NOT_OK(peer_area(node, owner, "Realloc", &base, &area, &region, err));
  ZCP_RETURN_NOT_OK(offset_in(node, owner, "Realloc", ptr, base, area, &off, err));
  if (old_size < 0 || old_size > area - off)
    return zcp_error_set(
        err, ZCP_INVALID_ARGUMENT,
        "node %d: Realloc: old size %lld runs past the region of node %d", (int)node->id,
        (long long)old_size, (int)owner);
  /* The owner copies memory to memory: what we wrote must be there first. */
  if (zcp__site_enabled("realloc.writeback")) {
    zcp_region_writeback(region, ptr, old_size);
    if (zcp_region_get_info(region)->coherence == ZCP_NONCOHERENT) zcp_cache_fence();
  }
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  Zcpool__Realloc m = ZCPOOL__REALLOC__INIT;
  m.offset = off;
  m.size = new_size;
  req.call_case = ZCPOOL__REQUEST__CALL_REALLOC;
  req.realloc = &m;
  Zcpool__Response *resp = NULL;
  zcp_status_t st = remote(node, owner, &req, &resp, err);
  if (st == ZCP_OK) st = answer_ptr(node, owner, "Realloc", resp, base, area, out, err);
  /* The copy is in memory, not in our caches. */
  if (st == ZCP_OK && zcp__site_enabled("realloc.invalidate"))
    zcp_region_invalidate(region, *out, resp->alloc->size);
  if (st == ZCP_OK && *out != ptr) st = zcp__node_prewrite(node, *out, new_size, err);
  if (resp != NULL) zcpool__response__free_unpacked(resp, NULL);
  return st;
}

zcp_status_t zcp_node_free(struct zcp_node *node, int32_t owner, void *ptr,
                           struct zcp_error *err) {
  if (owner == node->id) return zcp_pool_free(node->pool, ptr, err);
  uint8_t *base = NULL;
  int64_t area = 0, off = 0;
  ZCP_RETURN_NOT_OK(peer_area(node, owner, "Free", &base, &area, NULL, err));
  ZCP_RETURN_NOT_OK(offset_in(node, owner, "Free", ptr, base, area, &off, err));
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  Zcpool__Free m = ZCPOOL__FREE__INIT;
  m.offset = off;
  req.call_case = ZCPOOL__REQUEST__CALL_FREE;
  req.free = &m;
  Zcpool__Response *resp = NULL;
  zcp_status_t st = remote(node, owner, &req, &resp, err);
  if (resp != NULL) zcpool__response__free_unpacked(resp, NULL);
  return st;
}

zcp_status_t zcp_node_ping(struct zcp_node *node, int32_t peer, int64_t payload_size,
                           struct zcp_error *err) {
  if (peer < 0 || peer >= node->cfg.n_nodes || peer == node->id)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "node %d: Ping: %d is not a peer",
                         (int)node->id, (int)peer);
  if (payload_size < 0 || payload_size > node->cfg.max_frame)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "node %d: Ping: payload of %lld bytes", (int)node->id,
                         (long long)payload_size);
  uint8_t stack[256];
  uint8_t *buf =
      payload_size <= (int64_t)sizeof stack ? stack : calloc(1, (size_t)payload_size);
  if (buf == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "Ping payload");
  memset(buf, 0x5a, (size_t)ZCP_MIN(payload_size, (int64_t)sizeof stack));
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  Zcpool__Ping m = ZCPOOL__PING__INIT;
  m.payload.data = buf;
  m.payload.len = (size_t)payload_size;
  req.call_case = ZCPOOL__REQUEST__CALL_PING;
  req.ping = &m;
  Zcpool__Response *resp = NULL;
  zcp_status_t st = remote(node, peer, &req, &resp, err);
  if (st == ZCP_OK && (resp->result_case != ZCPOOL__RESPONSE__RESULT_PING ||
                       resp->ping->payload.len != (size_t)payload_size))
    st = zcp_error_set(err, ZCP_CORRUPT_INPUT, "node %d: Ping: node %d echoed %zu bytes",
                       (int)node->id, (int)peer,
                       resp->result_case == ZCPOOL__RESPONSE__RESULT_PING
                           ? resp->ping->payload.len
                           : (size_t)0);
  if (resp != NULL) zcpool__response__free_unpacked(resp, NULL);
  if (buf != stack) free(buf);
  return st;
}

zcp_status_t zcp_node_region(struct zcp_node *node, int32_t owner, void **data,
                             int64_t *size, struct zcp_error *err) {
  *data = NULL;
  *size = 0;
  if (owner == node->id) {
    *data = zcp_region_data(node->region);
    *size = zcp_region_data_size(node->region);
    return ZCP_OK;
  }
  uint8_t *base = NULL;
  ZCP_RETURN_NOT_OK(peer_area(node, owner, "region", &base, size, NULL, err));
  *data = base;
  return ZCP_OK;
}

zcp_status_t zcp_node_flush(struct zcp_node *node, const void *p, int64_t len,
                            struct zcp_error *err) {
  pthread_mutex_lock(&node->mu);
  const struct zcp_region *r = region_of(node, (uint64_t)(uintptr_t)p, len);
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

/* ---- open / close -------------------------------------------------------------------
 */

static uint64_t fresh_epoch(void) {
  /* Wall-clock microseconds: larger at every restart, also across hosts, without any
   * state kept on disk. */
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Creates this node's device afresh: a stale shm object of a killed incarnation is
 * removed first; a file device (a DAX device, a BAR) is opened as it is. */
static zcp_status_t create_device(struct zcp_node *node, bool *fresh,
                                  struct zcp_error *err) {
  const struct zcp__node_config *nc = &node->cfg.nodes[node->id];
  struct zcp_device_options o;
  zcp_device_options_init(&o);
  o.size = nc->size;
  *fresh = false;
  if (strncmp(nc->device, "shm:", 4) == 0) {
    zcp_status_t gone = zcp_device_unlink(nc->device, NULL); /* absent is fine */
    (void)gone;
    o.create = true;
    *fresh = true;
    return zcp_device_open(nc->device, &o, &node->dev, err);
  }
  zcp_status_t st = zcp_device_open(nc->device, &o, &node->dev, err);
  if (st == ZCP_NOT_FOUND || st == ZCP_IO_ERROR) {
    o.create = true;
    st = zcp_device_open(nc->device, &o, &node->dev, err);
    *fresh = st == ZCP_OK;
  }
  return st;
}

static zcp_status_t open_region(struct zcp_node *node, struct zcp_error *err) {
  const struct zcp__node_config *nc = &node->cfg.nodes[node->id];
  bool fresh = false;
  ZCP_RETURN_NOT_OK(create_device(node, &fresh, err));
  struct zcp_region_info info = {node->cfg.cluster_id, (uint32_t)node->id, node->epoch,
                                 nc->size, nc->coherence};
  ZCP_RETURN_NOT_OK(zcp_region_map(node->win, node->slot[node->id], node->dev,
                                   ZCP_REGION_OWNER, &info, &node->region, err));
  struct zcp_pool_options po;
  zcp_pool_options_init(&po);
  po.max_nodes = node->cfg.n_nodes;
  po.local_node = node->id;
  po.local_epoch = node->epoch;
  po.default_quota = node->cfg.quota;
  po.range_is_zero = fresh;
  po.touch = zcp__owner_touch;
  po.touch_ctx = node;
  return zcp_pool_init(&node->pool, zcp_region_data(node->region),
                       zcp_region_data_size(node->region), &po, err);
}

static zcp_status_t start_rpc(struct zcp_node *node, struct zcp_error *err) {
  const struct zcp_config *c = &node->cfg;
  const struct zcp__node_config *nc = &c->nodes[node->id];
  zcpool__region_info__init(&node->region_msg);
  node->region_msg.owner = (uint32_t)node->id;
  node->region_msg.epoch = node->epoch;
  node->region_msg.size = nc->size;
  node->region_msg.coherence = (uint32_t)nc->coherence;
  node->region_msg.device = (char *)nc->device;
  node->region_list[0] = &node->region_msg;
  struct zcp__rpc_server_options so = {0};
  so.address = nc->address;
  so.cluster_id = c->cluster_id;
  so.node = node->id;
  so.epoch = node->epoch;
  so.key = c->auth ? node->key : NULL;
  so.max_frame = c->max_frame;
  so.max_outstanding = c->max_outstanding;
  so.idle_ms = c->down_after_ms * 3;
  so.max_nodes = c->n_nodes;
  so.regions = node->region_list;
  so.n_regions = 1;
  so.handler = serve;
  so.on_hello = on_hello;
  so.ctx = node;
  ZCP_RETURN_NOT_OK(zcp__rpc_server_start(&so, &node->srv, err));
  for (int i = 0; i < c->n_nodes; i++) {
    struct zcp__peer *p = &node->peers[i];
    p->pool.node = node;
    p->pool.owner = i;
    p->pool.alloc.allocate = rp_allocate;
    p->pool.alloc.reallocate = rp_reallocate;
    p->pool.alloc.free = rp_free;
    p->pool.alloc.alignment = ZCP_POOL_LINE_SIZE;
    p->pool.alloc.private_data = &p->pool;
    if (i == node->id) continue;
    snprintf(p->why, sizeof p->why, "not connected yet");
    struct zcp__rpc_client_options co = {0};
    co.address = c->nodes[i].address;
    co.peer_node = i;
    co.cluster_id = c->cluster_id;
    co.node = node->id;
    co.epoch = node->epoch;
    co.key = c->auth ? node->key : NULL;
    co.regions = node->region_list;
    co.n_regions = 1;
    co.max_frame = c->max_frame;
    co.max_outstanding = c->max_outstanding;
    co.heartbeat_ms = c->heartbeat_ms;
    co.down_after_ms = c->down_after_ms;
    co.connect_ms = c->connect_ms;
    co.monitor = true;
    co.request_ids = &node->request_ids;
    co.on_up = on_up;
    co.on_down = on_down;
    co.ctx = node;
    ZCP_RETURN_NOT_OK(zcp__rpc_client_open(&co, &p->client, err));
  }
  return ZCP_OK;
}

zcp_status_t zcp_node_open(const struct zcp_config *cfg, int32_t id,
                           struct zcp_node **out, struct zcp_error *err) {
  if (out != NULL) *out = NULL;
  if (cfg == NULL || out == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "zcp_node_open: %s is NULL",
                         cfg == NULL ? "the config" : "out");
  const char *where = cfg->path[0] != '\0' ? cfg->path : "config";
  ZCP_RETURN_NOT_OK(zcp__config_check(cfg, where, 0, NULL, err));
  if (id < 0 || id >= cfg->n_nodes)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "%s: no node %d (nodes 0..%d)", where,
                         (int)id, (int)cfg->n_nodes - 1);
  struct zcp_node *node = calloc(1, sizeof *node);
  if (node == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "node %d", (int)id);
  node->cfg = *cfg;
  node->id = id;
  node->epoch = fresh_epoch();
  zcp__grants_init(&node->grants);
  zcp__tags_init(&node->tags);
  node->any = (struct zcp__expect){node, -1, 0, 0};
  pthread_mutex_init(&node->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&node->cv, &ca);
  pthread_condattr_destroy(&ca);
  zcp_status_t st = ZCP_OK;
  if (cfg->auth) st = zcp_cluster_key_load(cfg->key_path, node->key, err);
  int64_t total = 0;
  for (int i = 0; i < cfg->n_nodes; i++) {
    node->slot[i] = total;
    total += slot_size(cfg->nodes[i].size);
  }
  if (st == ZCP_OK) st = zcp_window_reserve(cfg->window_base, total, &node->win, err);
  if (st == ZCP_OK) st = open_region(node, err);
  if (st == ZCP_OK) st = zcp__share_init(node, err);
  if (st == ZCP_OK) st = zcp__copy_init(node, err);
  if (st == ZCP_OK) st = start_rpc(node, err);
  /* After every client exists: the pulls call them (peers that came up meanwhile are
   * queued already). */
  if (st == ZCP_OK) st = zcp__sync_start(node, err);
  if (st != ZCP_OK) {
    zcp_error_prefix(err, st, "node %d of %s: ", (int)id, where);
    zcp_node_close(node);
    return st;
  }
  *out = node;
  return ZCP_OK;
}

void zcp_node_close(struct zcp_node *node) {
  if (node == NULL) return;
  /* Before anything goes: a slower peer still in our last barrier round must be able to
   * tell that we entered it, once we can no longer answer it ourselves. */
  zcp__barrier_announce_leave(node);
  /* Shared batches first: freeing one may call its region's owner. */
  zcp__share_close(node);
  /* Clients first: after this no callback touches the peers' mappings. */
  for (int i = 0; i < node->cfg.n_nodes; i++)
    zcp__rpc_client_close(node->peers[i].client);
  zcp__rpc_server_stop(node->srv);
  zcp__share_free(node);
  for (int i = 0; i < node->cfg.n_nodes; i++) unmap_peer(&node->peers[i]);
  zcp__copy_release(node->copy); /* its tables live in the pool */
  zcp_pool_release(node->pool);
  zcp__grants_release(&node->grants);
  zcp__tags_release(&node->tags);
  zcp_region_unmap(node->region);
  if (node->dev != NULL) {
    const char *spec = zcp_device_spec(node->dev);
    /* Best effort: the next open of this node removes a leftover anyway. */
    zcp_status_t gone =
        strncmp(spec, "shm:", 4) == 0 ? zcp_device_unlink(spec, NULL) : ZCP_OK;
    (void)gone;
  }
  zcp_device_close(node->dev);
  zcp_window_release(node->win);
  pthread_mutex_destroy(&node->mu);
  pthread_cond_destroy(&node->cv);
  memset(node->key, 0, sizeof node->key);
  free(node);
}

/* ---- waiting and status -------------------------------------------------------------
 */

/* Under node->mu. The client can know a peer is down a moment before the monitor has
 * told the node (on_down): either one saying "down" means down. */
static bool peer_up_locked(struct zcp_node *node, int i) {
  return node->peers[i].up &&
         zcp__rpc_client_state(node->peers[i].client) == ZCP_PEER_STATE_UP;
}

/* Up, and its catalog entries are in our replica: what the waits wait for. */
static bool peer_ready_locked(struct zcp_node *node, int i) {
  return peer_up_locked(node, i) && node->peers[i].synced;
}

zcp_status_t zcp_node_wait_online(struct zcp_node *node, int timeout_ms,
                                  struct zcp_error *err) {
  struct timespec ts;
  zcp__deadline(&ts, timeout_ms);
  pthread_mutex_lock(&node->mu);
  for (;;) {
    int missing = -1;
    for (int i = 0; i < node->cfg.n_nodes && missing < 0; i++)
      if (i != node->id && !peer_ready_locked(node, i)) missing = i;
    if (missing < 0) break;
    if (pthread_cond_timedwait(&node->cv, &node->mu, &ts) == ETIMEDOUT) {
      char list[400] = "";
      size_t n = 0;
      for (int i = 0; i < node->cfg.n_nodes; i++)
        if (i != node->id && !peer_ready_locked(node, i) && n < sizeof list - 1)
          n += (size_t)snprintf(list + n, sizeof list - n, "%s node %d (%.120s)",
                                n ? ";" : "", i, node->peers[i].why);
      pthread_mutex_unlock(&node->mu);
      return zcp_error_set(err, ZCP_TIMEOUT, "node %d: after %d ms still waiting for%s",
                           (int)node->id, timeout_ms, list);
    }
  }
  pthread_mutex_unlock(&node->mu);
  return ZCP_OK;
}

zcp_status_t zcp_node_wait_peer(struct zcp_node *node, int32_t peer, bool up,
                                int timeout_ms, struct zcp_error *err) {
  if (peer < 0 || peer >= node->cfg.n_nodes || peer == node->id)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "node %d: %d is not a peer",
                         (int)node->id, (int)peer);
  struct timespec ts;
  zcp__deadline(&ts, timeout_ms);
  pthread_mutex_lock(&node->mu);
  /* Up means ready (its catalog pulled); down means down. */
  while ((up ? peer_ready_locked(node, peer) : peer_up_locked(node, peer)) != up) {
    if (pthread_cond_timedwait(&node->cv, &node->mu, &ts) == ETIMEDOUT) {
      bool now = up ? peer_ready_locked(node, peer) : peer_up_locked(node, peer);
      pthread_mutex_unlock(&node->mu);
      if (now == up) return ZCP_OK;
      return zcp_error_set(err, ZCP_TIMEOUT, "node %d: node %d still %s after %d ms",
                           (int)node->id, (int)peer, up ? "down" : "up", timeout_ms);
    }
  }
  pthread_mutex_unlock(&node->mu);
  return ZCP_OK;
}

void zcp_node_status(struct zcp_node *node, struct zcp_node_status *out) {
  memset(out, 0, sizeof *out);
  out->id = node->id;
  out->epoch = node->epoch;
  out->n_nodes = node->cfg.n_nodes;
  out->region_size = node->cfg.nodes[node->id].size;
  struct zcp_pool_stats ps;
  zcp_pool_stats(node->pool, &ps);
  out->bytes_used = ps.used_bytes;
  out->bytes_free = ps.free_bytes;
  out->live_blocks = ps.live_blocks;
  struct zcp__rpc_counters *c = zcp__rpc_server_counters(node->srv);
  out->frames_auth_failed = atomic_load(&c->auth_failed);
  out->frames_replayed = atomic_load(&c->replayed);
  out->frames_oversized = atomic_load(&c->oversized);
  out->frames_garbage = atomic_load(&c->garbage);
  out->requests_busy = atomic_load(&c->busy);
  out->reclaimed_blocks = atomic_load(&node->reclaimed_blocks);
  out->reclaimed_bytes = atomic_load(&node->reclaimed_bytes);
  out->bytes_sent = atomic_load(&c->bytes_out);
  out->bytes_received = atomic_load(&c->bytes_in);
  for (int i = 0; i < node->cfg.n_nodes; i++) {
    if (i == node->id || node->peers[i].client == NULL) continue;
    struct zcp__rpc_counters *pc = zcp__rpc_client_counters(node->peers[i].client);
    out->bytes_sent += atomic_load(&pc->bytes_out);
    out->bytes_received += atomic_load(&pc->bytes_in);
  }
  pthread_mutex_lock(&node->mu);
  for (int i = 0; i < node->cfg.n_nodes; i++)
    if (i != node->id) out->peers_up += peer_up_locked(node, i);
  pthread_mutex_unlock(&node->mu);
}

zcp_status_t zcp_node_peer_status(struct zcp_node *node, int32_t peer,
                                  struct zcp_node_peer_status *out,
                                  struct zcp_error *err) {
  if (node == NULL || out == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "zcp_node_peer_status: %s is NULL",
                         node == NULL ? "the node" : "out");
  memset(out, 0, sizeof *out);
  if (peer < 0 || peer >= node->cfg.n_nodes)
    return zcp_error_set(err, ZCP_NOT_FOUND, "node %d: no node %d in cluster %s (0..%d)",
                         (int)node->id, (int)peer, node->cfg.name,
                         (int)node->cfg.n_nodes - 1);
  if (peer == node->id) {
    *out = (struct zcp_node_peer_status){.up = true, .epoch = node->epoch,
                                         .region_mapped = true};
    return ZCP_OK;
  }
  pthread_mutex_lock(&node->mu);
  const struct zcp__peer *p = &node->peers[peer];
  out->up = peer_up_locked(node, peer);
  out->epoch = p->epoch;
  out->region_mapped = p->region != NULL;
  if (!out->up)
    snprintf(out->why, sizeof out->why, "%s",
             p->why[0] != '\0' ? p->why : "its connection is not up");
  pthread_mutex_unlock(&node->mu);
  return ZCP_OK;
}
