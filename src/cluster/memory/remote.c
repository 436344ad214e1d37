/* Remote pools: a peer's region as a struct zcp_allocator, so that builders write Arrow
 * buffers straight into another node's memory. Every allocation is a call to the
 * region's owner (the only node that touches its allocator, thesis §3.8.1); the answer
 * is an offset, checked before it becomes a pointer. The writer's cache steps of the
 * protocol (DESIGN §4, step 2, and the write-back before an owner's copy) are done here,
 * each a switchable site. */
#include "common/platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/memory/memory.h"
#include "common/sites.h"
#include "common/util.h"

static zcp_status_t rp_allocate(struct zcp_allocator *self, int64_t size,
                                int64_t alignment, void **out, struct zcp_error *err) {
  struct zcp__remote_pool *rp = self->private_data;
  *out = NULL;
  if (alignment > ZCP_POOL_LINE_SIZE)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "node %d: alignment %lld is above the pool's line size %d",
                         (int)rp->owner, (long long)alignment, ZCP_POOL_LINE_SIZE);
  return zcp_node_alloc(rp->node, rp->owner, size, out, err);
}

static zcp_status_t rp_reallocate(struct zcp_allocator *self, void *ptr, int64_t old_size,
                                  int64_t new_size, int64_t alignment, void **out,
                                  struct zcp_error *err) {
  struct zcp__remote_pool *rp = self->private_data;
  if (ptr == NULL) return rp_allocate(self, new_size, alignment, out, err);
  return zcp_node_realloc(rp->node, rp->owner, ptr, old_size, new_size, out, err);
}

static void rp_free(struct zcp_allocator *self, void *ptr, int64_t size) {
  struct zcp__remote_pool *rp = self->private_data;
  if (ptr == NULL) return;
  /* The interface's free cannot fail: a free the owner did not take (it is down) leaves
   * the block to the owner's reclaiming when this node's epoch ends. */
  zcp_status_t st = zcp_node_free(rp->node, rp->owner, ptr, NULL);
  (void)st;
}

zcp_status_t zcp_node_allocator(struct zcp_node *node, int32_t owner,
                           struct zcp_allocator **out, struct zcp_error *err) {
  *out = NULL;
  if (owner < 0 || owner >= node->cfg.n_nodes)
    return zcp_error_set(err, ZCP_NOT_FOUND, "node %d: no node %d in cluster %s (0..%d)",
                         (int)node->id, (int)owner, node->cfg.name,
                         (int)node->cfg.n_nodes - 1);
  /* In thesis mode the local pool goes through zcp_node_alloc too, for its pre-write
   * flush (peers[id].pool is set up for that). */
  bool direct = owner == node->id && node->cfg.protocol == ZCP_PROTOCOL_INVALIDATE;
  struct zcp__memory *m = zcp__memory_of(node);
  *out = direct ? zcp_pool_allocator(m->pool) : &m->remote[owner].alloc;
  return ZCP_OK;
}

void zcp__remote_init(struct zcp_node *node) {
  struct zcp__memory *m = zcp__memory_of(node);
  for (int i = 0; i < node->cfg.n_nodes; i++) {
    struct zcp__remote_pool *rp = &m->remote[i];
    rp->node = node;
    rp->owner = i;
    rp->alloc.allocate = rp_allocate;
    rp->alloc.reallocate = rp_reallocate;
    rp->alloc.free = rp_free;
    rp->alloc.alignment = ZCP_POOL_LINE_SIZE;
    rp->alloc.private_data = rp;
  }
}

/* An offset (and size) the owner answered, checked before it becomes a pointer: the
 * answer comes from the network. */
static zcp_status_t answer_ptr(struct zcp_node *node, int32_t owner, const char *call,
                               const Zcpool__Response *resp, const struct zcp__area *a,
                               void **out, struct zcp_error *err) {
  int64_t size = a->size;
  if (resp->result_case != ZCPOOL__RESPONSE__RESULT_ALLOC || resp->alloc->offset < 0 ||
      resp->alloc->size < 0 || resp->alloc->offset > size ||
      resp->alloc->size > size - resp->alloc->offset)
    return zcp_error_set(err, ZCP_CORRUPT_INPUT,
                         "node %d: %s: node %d answered a block outside its region",
                         (int)node->id, call, (int)owner);
  *out = a->data + resp->alloc->offset;
  return ZCP_OK;
}

zcp_status_t zcp_node_alloc(struct zcp_node *node, int32_t owner, int64_t size,
                            void **out, struct zcp_error *err) {
  *out = NULL;
  if (owner == node->id) {
    ZCP_RETURN_NOT_OK(zcp_pool_alloc(zcp__memory_of(node)->pool, size, out, err));
    return zcp__node_prewrite(node, *out, size, err);
  }
  struct zcp__area a;
  ZCP_RETURN_NOT_OK(zcp__member_area(node, owner, "Malloc", &a, err));
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  Zcpool__Malloc m = ZCPOOL__MALLOC__INIT;
  m.size = size;
  req.call_case = ZCPOOL__REQUEST__CALL_MALLOC;
  req.malloc = &m;
  Zcpool__Response *resp = NULL;
  zcp_status_t st = zcp__member_call(node, owner, &req, &resp, err);
  if (st == ZCP_OK) st = answer_ptr(node, owner, "Malloc", resp, &a, out, err);
  /* Protocol step 2 (DESIGN §4): lines of this block we may hold from an earlier life of
   * the memory must go before we write; the owner has zeroed it in memory. In thesis mode
   * the pre-write flush below does this (it flushes here too), so it is not done twice.
   */
  if (st == ZCP_OK && node->cfg.protocol == ZCP_PROTOCOL_INVALIDATE &&
      zcp__site_enabled("alloc.invalidate"))
    zcp_region_invalidate(a.region, *out, resp->alloc->size);
  if (st == ZCP_OK) st = zcp__node_prewrite(node, *out, resp->alloc->size, err);
  if (resp != NULL) zcpool__response__free_unpacked(resp, NULL);
  return st;
}

static zcp_status_t offset_in(struct zcp_node *node, int32_t owner, const char *call,
                              const void *ptr, const struct zcp__area *a, int64_t *off,
                              struct zcp_error *err) {
  const uint8_t *p = ptr;
  if (p < a->data || p >= a->data + a->size)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "node %d: %s: %p is not in the region of node %d", (int)node->id,
                         call, ptr, (int)owner);
  *off = p - a->data;
  return ZCP_OK;
}

zcp_status_t zcp_node_realloc(struct zcp_node *node, int32_t owner, void *ptr,
                              int64_t old_size, int64_t new_size, void **out,
                              struct zcp_error *err) {
  *out = NULL;
  if (owner == node->id) {
    ZCP_RETURN_NOT_OK(
        zcp_pool_realloc(zcp__memory_of(node)->pool, ptr, new_size, out, err));
    return *out == ptr ? ZCP_OK : zcp__node_prewrite(node, *out, new_size, err);
  }
  struct zcp__area a;
  int64_t off = 0;
  ZCP_RETURN_NOT_OK(zcp__member_area(node, owner, "Realloc", &a, err));
  ZCP_RETURN_NOT_OK(offset_in(node, owner, "Realloc", ptr, &a, &off, err));
  if (old_size < 0 || old_size > a.size - off)
    return zcp_error_set(
        err, ZCP_INVALID_ARGUMENT,
        "node %d: Realloc: old size %lld runs past the region of node %d", (int)node->id,
        (long long)old_size, (int)owner);
  /* The owner copies memory to memory: what we wrote must be there first. */
  if (zcp__site_enabled("realloc.writeback")) {
    zcp_region_writeback(a.region, ptr, old_size);
    if (zcp_region_get_info(a.region)->coherence == ZCP_NONCOHERENT) zcp_cache_fence();
  }
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  Zcpool__Realloc m = ZCPOOL__REALLOC__INIT;
  m.offset = off;
  m.size = new_size;
  req.call_case = ZCPOOL__REQUEST__CALL_REALLOC;
  req.realloc = &m;
  Zcpool__Response *resp = NULL;
  zcp_status_t st = zcp__member_call(node, owner, &req, &resp, err);
  if (st == ZCP_OK) st = answer_ptr(node, owner, "Realloc", resp, &a, out, err);
  /* The copy is in memory, not in our caches. */
  if (st == ZCP_OK && zcp__site_enabled("realloc.invalidate"))
    zcp_region_invalidate(a.region, *out, resp->alloc->size);
  if (st == ZCP_OK && *out != ptr) st = zcp__node_prewrite(node, *out, new_size, err);
  if (resp != NULL) zcpool__response__free_unpacked(resp, NULL);
  return st;
}

zcp_status_t zcp_node_free(struct zcp_node *node, int32_t owner, void *ptr,
                           struct zcp_error *err) {
  if (owner == node->id) return zcp_pool_free(zcp__memory_of(node)->pool, ptr, err);
  struct zcp__area a;
  int64_t off = 0;
  ZCP_RETURN_NOT_OK(zcp__member_area(node, owner, "Free", &a, err));
  ZCP_RETURN_NOT_OK(offset_in(node, owner, "Free", ptr, &a, &off, err));
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  Zcpool__Free m = ZCPOOL__FREE__INIT;
  m.offset = off;
  req.call_case = ZCPOOL__REQUEST__CALL_FREE;
  req.free = &m;
  Zcpool__Response *resp = NULL;
  zcp_status_t st = zcp__member_call(node, owner, &req, &resp, err);
  if (resp != NULL) zcpool__response__free_unpacked(resp, NULL);
  return st;
}
