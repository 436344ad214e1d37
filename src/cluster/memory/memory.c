/* The cluster as memory for descriptors, and the coherence protocol's steps around it
 * (DESIGN §4): sealing a finished batch (step 3: seal at the owner, write back, fence),
 * and checking and invalidating what an importer is about to read (step 5). The thesis
 * mode's pre-write flush is in flush.c.
 *
 * Addresses are the same on every node, so where a buffer lives is arithmetic over the
 * window's slots; whether it is a live, sealed block only the region's owner knows: one
 * Verify (or Seal) call per owner carries every range of a batch, and the calls to
 * different owners run in parallel.
 *
 * Reuse safety: an import of a catalog entry also tells each owner who must hold the
 * blocks (the entry's creator, node and epoch) and which publication they were sealed
 * for (its generation, kept per block in tags.c), so that memory freed and reused since
 * the entry was made is refused (ZCP_STALE) even when the allocation table would vouch
 * for it. */
#include "common/platform.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/memory/memory.h"
#include "common/sites.h"
#include "common/util.h"
#include "zcpool/descriptor.h"

static bool noncoherent(const struct zcp_region *r) {
  return zcp_region_get_info(r)->coherence == ZCP_NONCOHERENT;
}

/* ---- descriptor memory --------------------------------------------------------------
 */

static zcp_status_t locate(void *ctx, const void *p, int64_t length,
                           struct zcp_buffer_ref *out, struct zcp_error *err) {
  struct zcp_node *node = ((struct zcp__expect *)ctx)->node;
  int o = zcp__member_owner_at(node, (uintptr_t)p);
  if (o < 0)
    return zcp_error_set(err, ZCP_NOT_FOUND,
                         "node %d: buffer %p is not in the cluster's memory",
                         (int)node->id, p);
  struct zcp__area a;
  ZCP_RETURN_NOT_OK(zcp__member_area(node, o, "describe", &a, err));
  const uint8_t *b = p;
  if (b < a.data || length < 0 || b - a.data > a.size || length > a.size - (b - a.data))
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "node %d: buffer %p+%lld is not inside the data area of node %d",
                         (int)node->id, p, (long long)length, o);
  *out = (struct zcp_buffer_ref){o, a.epoch, b - a.data, length};
  return ZCP_OK;
}

/* Is [off, off + len) inside one live sealed block of node's pool, held and sealed as
 * x expects? With the importer's statuses: not in a block ZCP_NOT_FOUND, past its block
 * ZCP_CORRUPT_INPUT, not sealed ZCP_BUSY, another holder or publication ZCP_STALE. */
static zcp_status_t check_range(struct zcp_node *node, const struct zcp__expect *x,
                                int64_t off, int64_t len, struct zcp_error *err) {
  struct zcp_block_info info;
  info.size = -1;
  zcp_status_t st = zcp_pool_find_block(zcp__memory_of(node)->pool, off, len, &info, err);
  if (st == ZCP_INVALID_ARGUMENT) {
    bool inside = info.size >= 0 && len <= info.offset + info.size - off;
    st = inside && info.state != ZCP_BLOCK_SEALED ? ZCP_BUSY : ZCP_CORRUPT_INPUT;
    if (err != NULL) err->code = st;
  }
  if (st != ZCP_OK || x == NULL || x->holder < 0) return st;
  if (info.node != x->holder || info.epoch != x->holder_epoch)
    return zcp_error_set(
        err, ZCP_STALE,
        "block 0x%llx was freed and reused: held by node %d epoch %" PRIu64
        ", the entry's creator is node %d epoch %" PRIu64,
        (unsigned long long)info.offset, (int)info.node, info.epoch, (int)x->holder,
        x->holder_epoch);
  uint64_t gen = 0;
  if (x->gen != 0 &&
      (!zcp__tags_get(&zcp__memory_of(node)->tags, info.offset, info.size, &gen) ||
       gen != x->gen))
    return zcp_error_set(err, ZCP_STALE,
                         "block 0x%llx was freed and reused: sealed for publication "
                         "%" PRIu64 ", the entry names publication %" PRIu64,
                         (unsigned long long)info.offset, gen, x->gen);
  return ZCP_OK;
}

void zcp__serve_verify(struct zcp_node *node, const struct zcp__rpc_peer *who,
                       const Zcpool__Request *req, Zcpool__Response *resp) {
  const Zcpool__Verify *v = req->verify;
  char msg[ZCP_ERROR_MESSAGE_MAX + 64];
  if (v->epoch != node->epoch) {
    snprintf(msg, sizeof msg,
             "node %d: Verify for node %d: region epoch %" PRIu64
             " is stale (now %" PRIu64 ")",
             (int)node->id, (int)who->node, v->epoch, node->epoch);
    zcp__reply_error(resp, ZCP_STALE, msg);
    return;
  }
  if (v->n_offsets != v->n_lengths) {
    zcp__reply_error(resp, ZCP_INVALID_ARGUMENT, "Verify: offsets and lengths differ");
    return;
  }
  Zcpool__VerifyReply *r = malloc(sizeof *r);
  int32_t *sts = malloc((v->n_offsets + 1) * sizeof *sts);
  if (r == NULL || sts == NULL) {
    free(r);
    free(sts);
    zcp__reply_error(resp, ZCP_OUT_OF_MEMORY, "Verify: no memory");
    return;
  }
  zcpool__verify_reply__init(r);
  zcp_status_t first = ZCP_OK;
  const struct zcp__expect x = {node, v->check_holder ? v->holder : -1, v->holder_epoch,
                                v->generation};
  for (size_t i = 0; i < v->n_offsets; i++) {
    struct zcp_error e = {0};
    sts[i] = (int32_t)check_range(node, &x, v->offsets[i], v->lengths[i], &e);
    if (sts[i] != ZCP_OK && first == ZCP_OK) {
      first = (zcp_status_t)sts[i];
      snprintf(msg, sizeof msg, "node %d: region of node %d: %s", (int)who->node,
               (int)node->id, e.message);
    }
  }
  r->status = sts;
  r->n_status = v->n_offsets;
  resp->result_case = ZCPOOL__RESPONSE__RESULT_VERIFY;
  resp->verify = r;
  if (first != ZCP_OK) zcp__reply_error(resp, first, msg);
}

/* Every ref of one owner, checked there. */
struct owner_refs {
  int64_t n;
  int64_t *idx;
  struct zcp__area a;
  int64_t *offsets, *lengths;
  struct zcp__rpc_call call;
};

static zcp_status_t resolve(void *ctx, const struct zcp_buffer_ref *refs, int64_t n,
                            const void **addrs, struct zcp_error *err) {
  const struct zcp__expect *x = ctx;
  struct zcp_node *node = x->node;
  const int nn = node->cfg.n_nodes;
  struct owner_refs *o = calloc((size_t)nn, sizeof *o);
  int64_t *idx = malloc((size_t)(n + 1) * sizeof *idx);
  int64_t *offs = malloc((size_t)(2 * n + 2) * sizeof *offs);
  zcp_status_t st = ZCP_OK;
  if (o == NULL || idx == NULL || offs == NULL || n < 0) {
    st = zcp_error_set(err, n < 0 ? ZCP_INVALID_ARGUMENT : ZCP_OUT_OF_MEMORY,
                       "node %d: resolve %lld buffers", (int)node->id, (long long)n);
    goto out;
  }
  for (int64_t k = 0; k < n && st == ZCP_OK; k++) {
    if (refs[k].region < 0 || refs[k].region >= nn)
      st = zcp_error_set(err, ZCP_NOT_FOUND, "node %d: buffer %lld: unknown region %d",
                         (int)node->id, (long long)k, (int)refs[k].region);
    else
      o[refs[k].region].n++;
  }
  /* Each owner's refs as one slice of idx (and of the Verify arrays). */
  int64_t at = 0;
  for (int i = 0; i < nn && st == ZCP_OK; i++) {
    o[i].idx = idx + at;
    o[i].offsets = offs + 2 * at;
    o[i].lengths = o[i].offsets + o[i].n;
    at += o[i].n;
    if (o[i].n > 0) st = zcp__member_area(node, i, "import", &o[i].a, err);
    o[i].n = 0;
  }
  for (int64_t k = 0; k < n && st == ZCP_OK; k++) {
    const struct zcp_buffer_ref *r = &refs[k];
    struct owner_refs *w = &o[r->region];
    if (r->epoch != w->a.epoch) {
      st = zcp_error_set(err, ZCP_STALE,
                         "node %d: buffer %lld: region of node %d epoch %" PRIu64
                         " is stale (now %" PRIu64 ")",
                         (int)node->id, (long long)k, (int)r->region, r->epoch,
                         w->a.epoch);
    } else if (r->offset < 0 || r->length < 0 || r->offset > w->a.size ||
               r->length > w->a.size - r->offset) {
      st = zcp_error_set(err, ZCP_CORRUPT_INPUT,
                         "node %d: buffer %lld: [%lld, +%lld) is outside the region of "
                         "node %d",
                         (int)node->id, (long long)k, (long long)r->offset,
                         (long long)r->length, (int)r->region);
    } else {
      w->offsets[w->n] = r->offset;
      w->lengths[w->n] = r->length;
      w->idx[w->n++] = k;
    }
  }
  /* Every other owner at once, then ours while they answer. */
  for (int i = 0; i < nn && st == ZCP_OK; i++) {
    if (o[i].n == 0 || i == node->id) continue;
    Zcpool__Verify v = ZCPOOL__VERIFY__INIT;
    v.epoch = o[i].a.epoch;
    v.n_offsets = v.n_lengths = (size_t)o[i].n;
    v.offsets = o[i].offsets;
    v.lengths = o[i].lengths;
    v.check_holder = x->holder >= 0;
    v.holder = x->holder;
    v.holder_epoch = x->holder_epoch;
    v.generation = x->gen;
    Zcpool__Request req = ZCPOOL__REQUEST__INIT;
    req.call_case = ZCPOOL__REQUEST__CALL_VERIFY;
    req.verify = &v;
    st = zcp__rpc_call_start(node->peers[i].client, &req, node->cfg.call_timeout_ms,
                             &o[i].call, err);
    if (st != ZCP_OK) o[i].call.client = NULL;
    if (st == ZCP_PEER_DOWN) zcp_error_prefix(err, st, "owner down: ");
  }
  struct owner_refs *me = &o[node->id];
  for (int64_t j = 0; j < me->n && st == ZCP_OK; j++)
    st = check_range(node, x, me->offsets[j], me->lengths[j], err);
  for (int i = 0; i < nn; i++) {
    if (o[i].call.client == NULL) continue;
    Zcpool__Response *resp = NULL;
    struct zcp_error e = {0};
    zcp_status_t cs = zcp__rpc_call_finish(&o[i].call, &resp, &e);
    if (resp != NULL) zcpool__response__free_unpacked(resp, NULL);
    if (cs != ZCP_OK && st == ZCP_OK)
      st = zcp_error_set(err, cs, "node %d: import: %s%s", (int)node->id,
                         cs == ZCP_PEER_DOWN ? "owner down: " : "", e.message);
  }
  if (st != ZCP_OK) goto out;
  bool invalidate = node->cfg.protocol == ZCP_PROTOCOL_INVALIDATE &&
                    zcp__site_enabled("import.invalidate");
  bool fence = false;
  for (int i = 0; i < nn; i++) {
    for (int64_t j = 0; j < o[i].n; j++) {
      int64_t k = o[i].idx[j];
      addrs[k] = o[i].a.data + refs[k].offset;
      /* Protocol step 5: lines of these buffers we may hold from before they were
       * written must go; the data never changes again after this. */
      if (invalidate && refs[k].length > 0 && noncoherent(o[i].a.region)) {
        zcp_region_invalidate(o[i].a.region, addrs[k], refs[k].length);
        fence = true;
      }
    }
  }
  if (fence) zcp_cache_fence();
out:
  free(o);
  free(idx);
  free(offs);
  return st;
}

void zcp__node_memory_expect(struct zcp__expect *ex, struct zcp_descriptor_memory *out) {
  out->ctx = ex;
  out->locate = locate;
  out->resolve = resolve;
}

void zcp_node_memory(struct zcp_node *node, struct zcp_descriptor_memory *out) {
  zcp__node_memory_expect(&zcp__memory_of(node)->any, out);
}

/* ---- sealing ------------------------------------------------------------------------
 */

struct ptrs {
  uintptr_t *v;
  int64_t n, cap;
};

static zcp_status_t collect(struct zcp_node *node, const struct ArrowArray *a, int depth,
                            struct ptrs *p, struct zcp_error *err) {
  if (depth > ZCP_MAX_DEPTH || a == NULL || a->n_buffers < 0 || a->n_children < 0 ||
      (a->n_buffers > 0 && a->buffers == NULL) ||
      (a->n_children > 0 && a->children == NULL))
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "node %d: seal: malformed batch at depth %d", (int)node->id,
                         depth);
  for (int64_t i = 0; i < a->n_buffers; i++) {
    if (a->buffers[i] == NULL) continue;
    if (p->n == p->cap) {
      int64_t cap = p->cap ? p->cap * 2 : 32;
      uintptr_t *v = realloc(p->v, (size_t)cap * sizeof *v);
      if (v == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "seal: buffer list");
      p->v = v;
      p->cap = cap;
    }
    p->v[p->n++] = (uintptr_t)a->buffers[i];
  }
  for (int64_t i = 0; i < a->n_children; i++)
    ZCP_RETURN_NOT_OK(collect(node, a->children[i], depth + 1, p, err));
  if (a->dictionary != NULL)
    ZCP_RETURN_NOT_OK(collect(node, a->dictionary, depth + 1, p, err));
  return ZCP_OK;
}

static int cmp_ptr(const void *x, const void *y) {
  uintptr_t a = *(const uintptr_t *)x, b = *(const uintptr_t *)y;
  return a < b ? -1 : a > b;
}

/* Seals (unless only extents are wanted) the block at off of our own pool for us, for
 * publication gen. */
static zcp_status_t seal_local(struct zcp_node *node, int64_t off, bool seal,
                               uint64_t gen, int64_t *boff, int64_t *bsize,
                               struct zcp_error *err) {
  struct zcp_block_info info;
  info.size = -1;
  zcp_status_t st = zcp_pool_find_block(zcp__memory_of(node)->pool, off, 0, &info, err);
  if (info.size < 0) return st == ZCP_OK ? ZCP_NOT_FOUND : st;
  *boff = info.offset;
  *bsize = info.size;
  bool mine = info.node == node->id && info.epoch == node->epoch;
  /* A sealed block is left alone, but its holder may publish it (again): the tag
   * follows the latest publication. */
  if (mine && seal)
    zcp__tags_put(&zcp__memory_of(node)->tags, info.offset, info.size, gen);
  if (info.state == ZCP_BLOCK_SEALED) return ZCP_OK;
  if (!mine)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "node %d: seal: block 0x%llx of node %d is held by node %d",
                         (int)node->id, (unsigned long long)info.offset, (int)node->id,
                         (int)info.node);
  if (!seal) return ZCP_OK;
  return zcp_pool_seal(zcp__memory_of(node)->pool,
                       (uint8_t *)zcp_pool_base(zcp__memory_of(node)->pool) + info.offset,
                       err);
}

void zcp__serve_seal(struct zcp_node *node, const struct zcp__rpc_peer *who,
                     const Zcpool__Request *req, Zcpool__Response *resp) {
  const Zcpool__Seal *v = req->seal;
  char msg[ZCP_ERROR_MESSAGE_MAX + 64];
  Zcpool__SealReply *r = malloc(sizeof *r);
  int64_t *bo = malloc((v->n_offsets + 1) * sizeof *bo);
  int64_t *bs = malloc((v->n_offsets + 1) * sizeof *bs);
  if (r == NULL || bo == NULL || bs == NULL) {
    free(r), free(bo), free(bs);
    zcp__reply_error(resp, ZCP_OUT_OF_MEMORY, "Seal: no memory");
    return;
  }
  zcpool__seal_reply__init(r);
  r->block_offsets = bo;
  r->block_sizes = bs;
  resp->result_case = ZCPOOL__RESPONSE__RESULT_SEAL;
  resp->seal = r;
  const struct zcp_request rq = {who->node, who->epoch, 0};
  for (size_t i = 0; i < v->n_offsets; i++) {
    struct zcp_block_info info;
    struct zcp_error e = {0};
    info.size = -1;
    zcp_status_t st =
        zcp_pool_find_block(zcp__memory_of(node)->pool, v->offsets[i], 0, &info, &e);
    if (info.size < 0) {
      snprintf(msg, sizeof msg, "node %d: Seal for node %d: %s", (int)node->id,
               (int)who->node, e.message);
      zcp__reply_error(resp, st == ZCP_OK ? ZCP_NOT_FOUND : st, msg);
      return;
    }
    bo[i] = info.offset;
    bs[i] = info.size;
    r->n_block_offsets = r->n_block_sizes = i + 1;
    if (v->extents_only) continue;
    if (info.state == ZCP_BLOCK_SEALED) {
      if (info.node == who->node && info.epoch == who->epoch)
        zcp__tags_put(&zcp__memory_of(node)->tags, info.offset, info.size, v->generation);
      continue;
    }
    /* Only the client that holds the block: the table checks node and epoch. */
    st = zcp_pool_seal_for(zcp__memory_of(node)->pool, &rq, info.offset, &e);
    /* Tagged once sealed (the table checked the holder): Verify compares the tag. */
    if (st == ZCP_OK)
      zcp__tags_put(&zcp__memory_of(node)->tags, info.offset, info.size, v->generation);
    if (st != ZCP_OK) {
      snprintf(msg, sizeof msg, "node %d: Seal for node %d: %s", (int)node->id,
               (int)who->node, e.message);
      zcp__reply_error(resp, st, msg);
      return;
    }
  }
}

/* Blocks of one owner: their offsets, then (answered) their extents. */
struct owner_seal {
  int64_t n;
  int64_t *offsets, *boff, *bsize;
  struct zcp__area a;
  struct zcp__rpc_call call;
};

static zcp_status_t finish_seal(struct zcp_node *node, int i, struct owner_seal *w,
                                struct zcp_error *err) {
  Zcpool__Response *resp = NULL;
  struct zcp_error e = {0};
  zcp_status_t st = zcp__rpc_call_finish(&w->call, &resp, &e);
  w->call.client = NULL;
  if (st == ZCP_OK && (resp->result_case != ZCPOOL__RESPONSE__RESULT_SEAL ||
                       resp->seal->n_block_offsets != (size_t)w->n ||
                       resp->seal->n_block_sizes != (size_t)w->n))
    st = zcp_error_set(&e, ZCP_CORRUPT_INPUT, "node %d answered Seal without extents", i);
  for (int64_t j = 0; st == ZCP_OK && j < w->n; j++) {
    int64_t bo = resp->seal->block_offsets[j], bs = resp->seal->block_sizes[j];
    if (bo < 0 || bs < 0 || bo > w->a.size || bs > w->a.size - bo)
      st = zcp_error_set(&e, ZCP_CORRUPT_INPUT,
                         "node %d answered a block outside its region", i);
    w->boff[j] = bo;
    w->bsize[j] = bs;
  }
  if (resp != NULL) zcpool__response__free_unpacked(resp, NULL);
  if (st != ZCP_OK)
    return zcp_error_set(err, st, "node %d: seal: %s%s", (int)node->id,
                         st == ZCP_PEER_DOWN ? "owner down: " : "", e.message);
  return ZCP_OK;
}

zcp_status_t zcp_node_seal_batch(struct zcp_node *node, const struct ArrowArray *batch,
                                 struct zcp_error *err) {
  return zcp__seal_batch(node, batch, 0, err);
}

zcp_status_t zcp__seal_batch(struct zcp_node *node, const struct ArrowArray *batch,
                             uint64_t gen, struct zcp_error *err) {
  const int nn = node->cfg.n_nodes;
  struct ptrs p = {0};
  struct owner_seal *o = NULL;
  int64_t *mem = NULL;
  zcp_status_t st = collect(node, batch, 0, &p, err);
  if (st != ZCP_OK) goto out;
  qsort(p.v, (size_t)p.n, sizeof *p.v, cmp_ptr);
  o = calloc((size_t)nn, sizeof *o);
  mem = malloc((size_t)(3 * p.n + 3) * sizeof *mem);
  if (o == NULL || mem == NULL) {
    st = zcp_error_set(err, ZCP_OUT_OF_MEMORY, "node %d: seal", (int)node->id);
    goto out;
  }
  for (int64_t k = 0; k < p.n && st == ZCP_OK; k++) {
    int i = zcp__member_owner_at(node, p.v[k]);
    if (i < 0)
      st = zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "node %d: seal: buffer %p is not in the cluster's memory",
                         (int)node->id, (void *)p.v[k]);
    else
      o[i].n++;
  }
  int64_t at = 0;
  for (int i = 0; i < nn && st == ZCP_OK; i++) {
    o[i].offsets = mem + 3 * at;
    o[i].boff = o[i].offsets + o[i].n;
    o[i].bsize = o[i].boff + o[i].n;
    at += o[i].n;
    if (o[i].n > 0) st = zcp__member_area(node, i, "seal", &o[i].a, err);
    o[i].n = 0;
  }
  for (int64_t k = 0; k < p.n && st == ZCP_OK; k++) {
    if (k > 0 && p.v[k] == p.v[k - 1]) continue; /* sorted: duplicates are adjacent */
    struct owner_seal *w = &o[zcp__member_owner_at(node, p.v[k])];
    uint8_t *b = (uint8_t *)p.v[k];
    if (b < w->a.data || b >= w->a.data + w->a.size)
      st = zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "node %d: seal: buffer %p is not in a region's data area",
                         (int)node->id, (void *)b);
    else
      w->offsets[w->n++] = b - w->a.data;
  }
  bool seal = zcp__site_enabled("seal.owner");
  for (int i = 0; i < nn && st == ZCP_OK; i++) {
    if (o[i].n == 0 || i == node->id) continue;
    Zcpool__Seal m = ZCPOOL__SEAL__INIT;
    m.n_offsets = (size_t)o[i].n;
    m.offsets = o[i].offsets;
    m.extents_only = !seal;
    m.generation = gen;
    Zcpool__Request req = ZCPOOL__REQUEST__INIT;
    req.call_case = ZCPOOL__REQUEST__CALL_SEAL;
    req.seal = &m;
    st = zcp__rpc_call_start(node->peers[i].client, &req, node->cfg.call_timeout_ms,
                             &o[i].call, err);
    if (st != ZCP_OK) o[i].call.client = NULL;
  }
  struct owner_seal *me = &o[node->id];
  for (int64_t j = 0; j < me->n && st == ZCP_OK; j++)
    st = seal_local(node, me->offsets[j], seal, gen, &me->boff[j], &me->bsize[j], err);
  for (int i = 0; i < nn; i++) {
    if (o[i].call.client == NULL) continue;
    struct zcp_error e = {0};
    zcp_status_t cs = finish_seal(node, i, &o[i], &e);
    if (cs != ZCP_OK && st == ZCP_OK) st = zcp_error_set(err, cs, "%s", e.message);
  }
  if (st != ZCP_OK || !zcp__site_enabled("seal.writeback")) goto out;
  /* Protocol step 3: every line written must be in memory before anyone is told. */
  bool fence = false;
  for (int i = 0; i < nn; i++) {
    if (o[i].n == 0 || !noncoherent(o[i].a.region)) continue;
    for (int64_t j = 0; j < o[i].n; j++)
      if (j == 0 || o[i].boff[j] != o[i].boff[j - 1])
        zcp_region_writeback(o[i].a.region, o[i].a.data + o[i].boff[j], o[i].bsize[j]);
    fence = true;
  }
  if (fence) zcp_cache_fence();
out:
  free(p.v);
  free(o);
  free(mem);
  return st;
}
