/* The allocation table: for every live block, who asked for it and in what state it is.
 *
 * It wraps the TLSF allocator (which only knows lines) with the rules of DESIGN §5: a
 * block is freed only by the node that allocated it, at its exact start; a retried
 * request id gets the first answer; quotas and a largest-request limit make exhaustion an
 * error; the blocks a dead client was still writing can be reclaimed. Like the allocator,
 * it keeps everything in private memory and never touches the range: the grant it returns
 * tells the pool what to clear or copy, which the pool does outside the lock.
 *
 * Invariants (zcp__table_check verifies them, after the allocator's own):
 *  T1 every allocated block has an entry whose node is valid and has a client record, and
 *     whose state is granted, sealed or moving;
 *  T2 each client's list holds exactly the blocks whose entry names that node, linked
 *     consistently both ways; its byte and block counters are their sums;
 *  T3 the clients' bytes add up to the allocator's used lines;
 *  T4 no line at or above zero_mark has ever been handed out (when the range started
 * zero);
 *  T5 a tier block (entry state TIERED) has a non-zero word at its start line naming its
 *     size (a word goes back to zero only under the lock, so this holds while the fast
 *     path runs).
 * Tier blocks that are CACHED stay allocated and count as the local node's (quota,
 * T2, T3); the pool reports them as free in its statistics.
 *
 * One mutex protects everything but the tier words of live or cached tier blocks,
 * which the pool's fast path changes with atomics (see table.h); it is never held while
 * memory is cleared or copied. */
#include "common/platform.h"

#include "alloc/table.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/table_private.h"
#include "common/util.h"

static void unlock_changed(struct zcp__table *t);

static const char *op_name(uint8_t op) {
  return op == OP_ALLOC ? "alloc" : op == OP_REALLOC ? "realloc" : "free";
}

/* ---- clients ----------------------------------------------------------------------- */

/* The client record of node, created on first use. The error paths return their code
 * explicitly (not zcp_error_set's result) so that analyzers see *out is set on ZCP_OK. */
static zcp_status_t client_get(struct zcp__table *t, int32_t node, struct client **out,
                               struct zcp_error *err) {
  *out = NULL;
  if (node < 0 || node >= t->max_nodes) {
    zcp_error_set(err, ZCP_INVALID_ARGUMENT, "node %d: node ids run from 0 to %d", node,
                  t->max_nodes - 1);
    return ZCP_INVALID_ARGUMENT;
  }
  struct client *c = t->clients[node];
  if (c == NULL) {
    c = calloc(1, sizeof *c);
    if (c == NULL) {
      zcp_error_set(err, ZCP_OUT_OF_MEMORY, "node %d: no memory for its client record",
                    node);
      return ZCP_OUT_OF_MEMORY;
    }
    c->quota = t->default_quota;
    c->head = NIL;
    t->clients[node] = c;
  }
  *out = c;
  return ZCP_OK;
}

/* The client of a request; refuses stale epochs, adopts newer ones (forgetting answers).
 */
static zcp_status_t client_enter(struct zcp__table *t, const struct zcp_request *rq,
                                 struct client **out, struct zcp_error *err) {
  struct client *c;
  *out = NULL;
  zcp_status_t st = client_get(t, rq->node, &c, err);
  if (st != ZCP_OK) return st;
  if (rq->epoch < c->epoch) {
    zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                  "request %llu of node %d: epoch %llu is stale (current %llu)",
                  (ull)rq->id, rq->node, (ull)rq->epoch, (ull)c->epoch);
    return ZCP_INVALID_ARGUMENT;
  }
  if (rq->epoch > c->epoch) {
    c->epoch = rq->epoch;
    memset(c->history, 0, sizeof c->history);
  }
  *out = c;
  return ZCP_OK;
}

static struct answer *history_find(struct client *c, const struct zcp_request *rq) {
  if (rq->id == 0) return NULL;
  struct answer *a = &c->history[rq->id % ZCP_POOL_REQUEST_HISTORY];
  return (a->id == rq->id && a->epoch == rq->epoch) ? a : NULL;
}

static void history_put(struct client *c, const struct zcp_request *rq, uint8_t op,
                        int64_t offset) {
  if (rq->id == 0) return;
  struct answer *a = &c->history[rq->id % ZCP_POOL_REQUEST_HISTORY];
  a->epoch = rq->epoch;
  a->id = rq->id;
  a->op = op;
  a->offset = offset;
}

static zcp_status_t history_mismatch(const struct zcp_request *rq, const struct answer *a,
                                     uint8_t op, struct zcp_error *err) {
  return zcp_error_set(
      err, ZCP_INVALID_ARGUMENT,
      "request %llu of node %d epoch %llu: already used for %s 0x%llx, now sent "
      "for %s",
      (ull)rq->id, rq->node, (ull)rq->epoch, op_name(a->op), (ull)a->offset, op_name(op));
}

/* ---- blocks ------------------------------------------------------------------------ */

/* Makes sure nothing below can fail for lack of private memory. */
static zcp_status_t ensure(struct zcp__table *t, int64_t bytes, int32_t node,
                           struct zcp_error *err) {
  if (zcp__tlsf_prepare(t->tlsf) != ZCP_OK) goto oom;
  uint32_t cap = zcp__tlsf_capacity(t->tlsf);
  if (cap > t->e_cap) {
    struct entry *ne = realloc(t->e, (size_t)cap * sizeof *ne);
    if (ne == NULL) goto oom;
    t->e = ne;
    t->e_cap = cap;
  }
  return ZCP_OK;
oom:
  return zcp_error_set(err, ZCP_OUT_OF_MEMORY,
                       "alloc of %lld bytes by node %d: no memory for allocator metadata",
                       (ll)bytes, node);
}

static void link_block(struct zcp__table *t, struct client *c, uint32_t id) {
  t->e[id].prev = NIL;
  t->e[id].next = c->head;
  if (c->head != NIL) t->e[c->head].prev = id;
  c->head = id;
  c->used += (int64_t)zcp__tlsf_size(t->tlsf, id) << t->shift;
  c->blocks++;
}

static void release_block(struct zcp__table *t, struct client *c, uint32_t id) {
  struct entry *e = &t->e[id];
  if (e->prev != NIL)
    t->e[e->prev].next = e->next;
  else
    c->head = e->next;
  if (e->next != NIL) t->e[e->next].prev = e->prev;
  c->used -= (int64_t)zcp__tlsf_size(t->tlsf, id) << t->shift;
  c->blocks--;
  t->freed[t->freed_pos % FREED_RING].offset = (int64_t)zcp__tlsf_offset(t->tlsf, id)
                                               << t->shift;
  t->freed[t->freed_pos % FREED_RING].node = e->node;
  t->freed_pos++;
  zcp__tlsf_free(t->tlsf, id);
}

/* Memory [from, block end) must be cleared, except lines never handed out before. */
static void zero_plan(struct zcp__table *t, uint32_t id, int64_t from,
                      struct zcp__grant *g) {
  int64_t end = (int64_t)(zcp__tlsf_offset(t->tlsf, id) + zcp__tlsf_size(t->tlsf, id))
                << t->shift;
  int64_t mark = t->zero_mark << t->shift;
  g->zero_offset = from;
  g->zero_length = ZCP_MAX(0, ZCP_MIN(end, mark) - from);
  if (end > mark) t->zero_mark = end >> t->shift;
}

static void grant_of(struct zcp__table *t, uint32_t id, struct zcp__grant *g) {
  g->offset = (int64_t)zcp__tlsf_offset(t->tlsf, id) << t->shift;
  g->size = (int64_t)zcp__tlsf_size(t->tlsf, id) << t->shift;
  g->zero_offset = g->offset;
  g->zero_length = 0;
  g->moved_from = -1;
  g->copy_length = 0;
  g->replayed = false;
}

/* ---- tier blocks ------------------------------------------------------------------- */

/* The block's state as callers see it: 0 for a cached tier block (not live). */
static uint8_t state_of(const struct zcp__table *t, uint32_t id) {
  if (t->e[id].state != STATE_TIERED) return t->e[id].state;
  uint32_t w = atomic_load_explicit(tier_at(t, id), memory_order_acquire);
  switch (w & ZCP__TIER_STATE) {
    case ZCP__TIER_GRANTED:
      return ZCP_BLOCK_GRANTED;
    case ZCP__TIER_SEALED:
      return ZCP_BLOCK_SEALED;
    default:
      return 0;
  }
}

/* Turns a live tier block into an ordinary one (state: what it was). False when a fast
 * free got there first (the block is cached now). */
static bool untier(struct zcp__table *t, uint32_t id) {
  _Atomic uint32_t *w = tier_at(t, id);
  uint32_t v = atomic_load_explicit(w, memory_order_acquire);
  do {
    if ((v & ZCP__TIER_STATE) == ZCP__TIER_CACHED) return false;
  } while (!atomic_compare_exchange_weak_explicit(w, &v, 0, memory_order_acq_rel,
                                                  memory_order_acquire));
  t->e[id].state =
      (v & ZCP__TIER_STATE) == ZCP__TIER_SEALED ? ZCP_BLOCK_SEALED : ZCP_BLOCK_GRANTED;
  return true;
}

/* Makes sure the chunk of words around line exists. */
static bool tier_chunk(struct zcp__table *t, uint64_t line) {
  uint64_t c = line >> ZCP__TIER_CHUNK_BITS;
  if (atomic_load_explicit(&t->tier.dir[c], memory_order_relaxed) != NULL) return true;
  _Atomic uint32_t *w = calloc((size_t)1 << ZCP__TIER_CHUNK_BITS, sizeof *w);
  if (w == NULL) return false;
  atomic_store_explicit(&t->tier.dir[c], w, memory_order_release);
  return true;
}

/* The live block of rq->node that starts at offset, or a typed error that says what is
 * there instead (interior, foreign, freed, never allocated). */
static zcp_status_t find_owned(struct zcp__table *t, const struct zcp_request *rq,
                               const char *verb, int64_t offset, uint32_t *out,
                               struct zcp_error *err) {
  *out = NIL;
  if (offset < 0 || offset >= t->size) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "%s of 0x%llx by node %d: outside the range of 0x%llx bytes",
                         verb, (ull)offset, rq->node, (ull)t->size);
  }
  uint64_t line = (uint64_t)offset >> t->shift;
  uint32_t id = (offset & (t->line - 1)) == 0 ? zcp__tlsf_find(t->tlsf, line) : NIL;
  if (id == NIL) {
    uint32_t in = zcp__tlsf_find_containing(t->tlsf, line);
    if (in != NIL) {
      return zcp_error_set(
          err, ZCP_INVALID_ARGUMENT,
          "%s of 0x%llx by node %d: inside the block at 0x%llx (%lld bytes) of node %d, "
          "not at its start",
          verb, (ull)offset, rq->node, (ull)(zcp__tlsf_offset(t->tlsf, in) << t->shift),
          (ll)(zcp__tlsf_size(t->tlsf, in) << t->shift), t->e[in].node);
    }
    for (unsigned i = 0; i < FREED_RING && i < t->freed_pos; i++) {
      unsigned k = (t->freed_pos - 1 - i) % FREED_RING;
      if (t->freed[k].offset == offset) {
        return zcp_error_set(
            err, ZCP_NOT_FOUND,
            "%s of 0x%llx by node %d: no live block there (already freed, "
            "last by node %d)",
            verb, (ull)offset, rq->node, t->freed[k].node);
      }
    }
    return zcp_error_set(err, ZCP_NOT_FOUND,
                         "%s of 0x%llx by node %d: no live block starts there", verb,
                         (ull)offset, rq->node);
  }
  if (state_of(t, id) == 0) {
    return zcp_error_set(err, ZCP_NOT_FOUND,
                         "%s of 0x%llx by node %d: no live block there (already freed, "
                         "last by node %d)",
                         verb, (ull)offset, rq->node, t->e[id].node);
  }
  if (t->e[id].node != rq->node) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "%s of 0x%llx by node %d: block belongs to node %d", verb,
                         (ull)offset, rq->node, t->e[id].node);
  }
  if (t->e[id].state == STATE_MOVING) {
    return zcp_error_set(err, ZCP_BUSY, "%s of 0x%llx by node %d: block is being moved",
                         verb, (ull)offset, rq->node);
  }
  *out = id;
  return ZCP_OK;
}

static zcp_status_t check_size(struct zcp__table *t, const struct zcp_request *rq,
                               const char *verb, int64_t size, struct zcp_error *err) {
  if (size < 0) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "%s of %lld bytes by node %d: negative", verb, (ll)size,
                         rq->node);
  }
  if (size > t->max_request) {
    return zcp_error_set(err, ZCP_NO_SPACE,
                         "%s of %lld bytes by node %d: over the largest-request limit of "
                         "%lld bytes",
                         verb, (ll)size, rq->node, (ll)t->max_request);
  }
  return ZCP_OK;
}

static uint64_t lines_for(const struct zcp__table *t, int64_t size) {
  uint64_t lines = (uint64_t)(size + t->line - 1) >> t->shift;
  return lines ? lines : 1;
}

static zcp_status_t no_room(struct zcp__table *t, const struct zcp_request *rq,
                            const char *verb, int64_t size, struct zcp_error *err) {
  struct zcp__tlsf_stats s;
  zcp__tlsf_stats(t->tlsf, &s);
  return zcp_error_set(
      err, ZCP_NO_SPACE,
      "%s of %lld bytes by node %d: region full (%lld bytes free, largest "
      "free block %lld bytes)",
      verb, (ll)size, rq->node, (ll)(s.free_lines << t->shift),
      (ll)(s.largest_free << t->shift));
}

static zcp_status_t over_quota(const struct client *c, const struct zcp_request *rq,
                               const char *verb, int64_t size, struct zcp_error *err) {
  return zcp_error_set(
      err, ZCP_NO_SPACE,
      "%s of %lld bytes by node %d: over its quota of %lld bytes (%lld in "
      "use)",
      verb, (ll)size, rq->node, (ll)c->quota, (ll)c->used);
}

/* ---- API --------------------------------------------------------------------------- */

zcp_status_t zcp__table_init(struct zcp__table **out, int64_t size,
                             const struct zcp_pool_options *opt, struct zcp_error *err) {
  *out = NULL;
  int64_t line = opt->line_size;
  if (!zcp__is_pow2(line) || line < 64 || line > 4096) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "pool line size %lld: expected a power of two from 64 to 4096",
                         (ll)line);
  }
  if (size < line) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "pool of %lld bytes: smaller than one line of %lld bytes",
                         (ll)size, (ll)line);
  }
  if (opt->max_nodes < 1 || opt->max_nodes > 65536) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "pool max_nodes %d: expected 1 to 65536", opt->max_nodes);
  }
  if (opt->max_request < 0 || opt->default_quota < 0) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "pool max_request %lld / default_quota %lld: negative",
                         (ll)opt->max_request, (ll)opt->default_quota);
  }
  struct zcp__table *t = calloc(1, sizeof *t);
  if (t == NULL)
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "pool table: heap exhausted");
  t->line = line;
  t->shift = __builtin_ctzll((unsigned long long)line);
  t->size = size & ~(line - 1);
  t->max_request = opt->max_request ? opt->max_request : t->size;
  t->default_quota = opt->default_quota ? opt->default_quota : INT64_MAX;
  t->max_nodes = opt->max_nodes;
  t->zero_mark = opt->range_is_zero ? 0 : t->size >> t->shift;
  t->clients = calloc((size_t)opt->max_nodes, sizeof *t->clients);
  t->tier.chunks = ((uint64_t)(t->size >> t->shift) >> ZCP__TIER_CHUNK_BITS) + 1;
  t->tier.dir = calloc((size_t)t->tier.chunks, sizeof *t->tier.dir);
  zcp_status_t st = zcp__tlsf_init(&t->tlsf, (uint64_t)(t->size >> t->shift), err);
  if (st == ZCP_OK && (t->clients == NULL || t->tier.dir == NULL)) {
    st = zcp_error_set(err, ZCP_OUT_OF_MEMORY, "pool table: heap exhausted");
  }
  if (st == ZCP_OK && pthread_mutex_init(&t->lock, NULL) != 0) {
    st = zcp_error_set(err, ZCP_OUT_OF_MEMORY, "pool table: cannot create its mutex");
    zcp__tlsf_release(t->tlsf);
    free(t->clients);
    free(t->tier.dir);
    free(t);
    return st;
  }
  if (st != ZCP_OK) {
    zcp__tlsf_release(t->tlsf);
    free(t->clients);
    free(t->tier.dir);
    free(t);
    return st;
  }
  *out = t;
  return ZCP_OK;
}

void zcp__table_release(struct zcp__table *t) {
  if (t == NULL) return;
  for (int32_t i = 0; i < t->max_nodes; i++) free(t->clients[i]);
  free(t->clients);
  free(t->e);
  for (uint64_t c = 0; c < t->tier.chunks; c++) free(t->tier.dir[c]);
  free(t->tier.dir);
  zcp__tlsf_release(t->tlsf);
  pthread_mutex_destroy(&t->lock);
  free(t);
}

int64_t zcp__table_size(const struct zcp__table *t) {
  return t->size;
}

/* A retried alloc or realloc: answers what the first attempt granted (g->replayed),
 * or says why it no longer can. Returns false when rq was not seen before. An allocated
 * block still carries the request id that made it; a moved block keeps its first one. */
static bool replay(struct zcp__table *t, struct client *c, const struct zcp_request *rq,
                   uint8_t op, struct zcp__grant *g, zcp_status_t *st,
                   struct zcp_error *err) {
  struct answer *a = history_find(c, rq);
  if (a == NULL) return false;
  if (a->op != op) {
    *st = history_mismatch(rq, a, op, err);
    return true;
  }
  uint32_t id = zcp__tlsf_find(t->tlsf, (uint64_t)a->offset >> t->shift);
  if (id == NIL || t->e[id].node != rq->node ||
      (op == OP_ALLOC && t->e[id].request_id != rq->id)) {
    *st = zcp_error_set(err, ZCP_NOT_FOUND,
                        "%s request %llu of node %d: answered with 0x%llx, which was "
                        "freed since",
                        op_name(op), (ull)rq->id, rq->node, (ull)a->offset);
    return true;
  }
  grant_of(t, id, g);
  g->replayed = true;
  *st = ZCP_OK;
  return true;
}

zcp_status_t zcp__table_alloc(struct zcp__table *t, const struct zcp_request *rq,
                              int64_t size, struct zcp__grant *g, struct zcp_error *err) {
  pthread_mutex_lock(&t->lock);
  struct client *c;
  zcp_status_t st = client_enter(t, rq, &c, err);
  if (st != ZCP_OK) goto out;
  if (replay(t, c, rq, OP_ALLOC, g, &st, err)) goto out;
  if ((st = check_size(t, rq, "alloc", size, err)) != ZCP_OK) goto out;
  uint64_t lines = lines_for(t, size);
  int64_t bytes = (int64_t)lines << t->shift;
  if (bytes > c->quota - c->used) {
    st = over_quota(c, rq, "alloc", size, err);
    goto out;
  }
  if ((st = ensure(t, size, rq->node, err)) != ZCP_OK) goto out;
  uint32_t id;
  if (zcp__tlsf_alloc(t->tlsf, lines, &id) != ZCP_OK) {
    st = no_room(t, rq, "alloc", size, err);
    goto out;
  }
  t->e[id] = (struct entry){.node = rq->node,
                            .state = ZCP_BLOCK_GRANTED,
                            .epoch = rq->epoch,
                            .request_id = rq->id};
  link_block(t, c, id);
  grant_of(t, id, g);
  zero_plan(t, id, g->offset, g);
  history_put(c, rq, OP_ALLOC, g->offset);
out:
  unlock_changed(t);
  return st;
}

zcp_status_t zcp__table_realloc(struct zcp__table *t, const struct zcp_request *rq,
                                int64_t offset, int64_t new_size, struct zcp__grant *g,
                                struct zcp_error *err) {
  pthread_mutex_lock(&t->lock);
  struct client *c;
  uint32_t id;
  zcp_status_t st = client_enter(t, rq, &c, err);
  if (st != ZCP_OK) goto out;
  if (replay(t, c, rq, OP_REALLOC, g, &st, err)) goto out;
  if ((st = check_size(t, rq, "realloc", new_size, err)) != ZCP_OK) goto out;
  if ((st = find_owned(t, rq, "realloc", offset, &id, err)) != ZCP_OK) goto out;
  if (state_of(t, id) == ZCP_BLOCK_SEALED) {
    st = zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                       "realloc of 0x%llx by node %d: block is sealed (its contents are "
                       "final)",
                       (ull)offset, rq->node);
    goto out;
  }
  uint64_t old_lines = zcp__tlsf_size(t->tlsf, id), lines = lines_for(t, new_size);
  int64_t grow = ((int64_t)lines - (int64_t)old_lines) * t->line;
  if (grow > c->quota - c->used) {
    st = over_quota(c, rq, "realloc", new_size, err);
    goto out;
  }
  if ((st = ensure(t, new_size, rq->node, err)) != ZCP_OK) goto out;
  if (t->e[id].state == STATE_TIERED && !untier(t, id)) {
    st = zcp_error_set(err, ZCP_NOT_FOUND,
                       "realloc of 0x%llx by node %d: freed while being reallocated",
                       (ull)offset, rq->node);
    goto out;
  }
  if (zcp__tlsf_resize(t->tlsf, id, lines)) {
    c->used += grow;
    int64_t old_end = offset + ((int64_t)old_lines << t->shift);
    grant_of(t, id, g);
    zero_plan(t, id, ZCP_MIN(old_end, g->offset + g->size), g);
  } else {
    uint32_t nid;
    if (zcp__tlsf_alloc(t->tlsf, lines, &nid) != ZCP_OK) {
      st = no_room(t, rq, "realloc", new_size, err);
      goto out;
    }
    t->e[nid] = (struct entry){.node = rq->node,
                               .state = ZCP_BLOCK_GRANTED,
                               .epoch = rq->epoch,
                               .request_id = t->e[id].request_id};
    t->e[id].state = STATE_MOVING;
    link_block(t, c, nid);
    grant_of(t, nid, g);
    g->moved_from = offset;
    g->copy_length = ZCP_MIN((int64_t)old_lines, (int64_t)lines) << t->shift;
    zero_plan(t, nid, g->offset + g->copy_length, g);
  }
  history_put(c, rq, OP_REALLOC, g->offset);
out:
  unlock_changed(t);
  return st;
}

void zcp__table_realloc_done(struct zcp__table *t, int64_t old_offset) {
  pthread_mutex_lock(&t->lock);
  uint32_t id = zcp__tlsf_find(t->tlsf, (uint64_t)old_offset >> t->shift);
  ZCP_ASSERT(id != NIL && t->e[id].state == STATE_MOVING);
  if (id != NIL) release_block(t, t->clients[t->e[id].node], id);
  unlock_changed(t);
}

zcp_status_t zcp__table_free(struct zcp__table *t, const struct zcp_request *rq,
                             int64_t offset, struct zcp_error *err) {
  pthread_mutex_lock(&t->lock);
  struct client *c;
  uint32_t id;
  zcp_status_t st = client_enter(t, rq, &c, err);
  if (st != ZCP_OK) goto out;
  struct answer *a = history_find(c, rq);
  if (a != NULL) {
    if (a->op != OP_FREE || a->offset != offset)
      st = history_mismatch(rq, a, OP_FREE, err);
    goto out; /* the same free again: already done */
  }
  if ((st = find_owned(t, rq, "free", offset, &id, err)) != ZCP_OK) goto out;
  if (t->e[id].state == STATE_TIERED && !untier(t, id)) {
    st = zcp_error_set(err, ZCP_NOT_FOUND,
                       "free of 0x%llx by node %d: no live block there (already freed)",
                       (ull)offset, rq->node);
    goto out;
  }
  release_block(t, c, id);
  history_put(c, rq, OP_FREE, offset);
out:
  unlock_changed(t);
  return st;
}

zcp_status_t zcp__table_seal(struct zcp__table *t, const struct zcp_request *rq,
                             int64_t offset, struct zcp_error *err) {
  pthread_mutex_lock(&t->lock);
  struct client *c;
  uint32_t id;
  zcp_status_t st = client_enter(t, rq, &c, err);
  if (st == ZCP_OK) st = find_owned(t, rq, "seal", offset, &id, err);
  if (st == ZCP_OK && t->e[id].state == STATE_TIERED) {
    _Atomic uint32_t *w = tier_at(t, id);
    uint32_t v = atomic_load_explicit(w, memory_order_acquire);
    do {
      if ((v & ZCP__TIER_STATE) == ZCP__TIER_CACHED) {
        st = zcp_error_set(err, ZCP_NOT_FOUND,
                           "seal of 0x%llx by node %d: no live block there (already "
                           "freed)",
                           (ull)offset, rq->node);
        break;
      }
    } while (!atomic_compare_exchange_weak_explicit(
        w, &v, (v & ~(uint32_t)ZCP__TIER_STATE) | ZCP__TIER_SEALED, memory_order_acq_rel,
        memory_order_acquire));
  } else if (st == ZCP_OK) {
    t->e[id].state = ZCP_BLOCK_SEALED;
  }
  unlock_changed(t);
  return st;
}

zcp_status_t zcp__table_find_block(struct zcp__table *t, int64_t offset, int64_t length,
                                   struct zcp_block_info *out, struct zcp_error *err) {
  int64_t end;
  if (offset < 0 || length < 0 || !zcp__add_i64(offset, length, &end) ||
      offset >= t->size) {
    return zcp_error_set(err, ZCP_NOT_FOUND,
                         "range [0x%llx, +%lld) is not inside the region (0x%llx bytes)",
                         (ull)offset, (ll)length, (ull)t->size);
  }
  pthread_mutex_lock(&t->lock);
  zcp_status_t st = ZCP_OK;
  uint32_t id = zcp__tlsf_find_containing(t->tlsf, (uint64_t)offset >> t->shift);
  uint8_t state = id == NIL ? 0 : state_of(t, id);
  if (state == 0) {
    st = zcp_error_set(err, ZCP_NOT_FOUND,
                       "range [0x%llx, 0x%llx) is not inside any live block", (ull)offset,
                       (ull)end);
    goto out;
  }
  struct zcp_block_info info = {.offset = (int64_t)zcp__tlsf_offset(t->tlsf, id)
                                          << t->shift,
                                .size = (int64_t)zcp__tlsf_size(t->tlsf, id) << t->shift,
                                .node = t->e[id].node,
                                .epoch = t->e[id].epoch,
                                .request_id = t->e[id].request_id,
                                .state = (enum zcp_block_state)state};
  /* Filled on the errors below too: the importer tells "not sealed yet" (try later)
   * from "runs past its block" (a bad descriptor) by it. */
  if (out != NULL) *out = info;
  if (end > info.offset + info.size) {
    st = zcp_error_set(
        err, ZCP_INVALID_ARGUMENT,
        "range [0x%llx, 0x%llx) runs past the end of block [0x%llx, 0x%llx) "
        "of node %d",
        (ull)offset, (ull)end, (ull)info.offset, (ull)(info.offset + info.size),
        info.node);
  } else if (state != ZCP_BLOCK_SEALED) {
    st = zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                       "range [0x%llx, 0x%llx) lies in block 0x%llx of node %d, which is "
                       "not sealed",
                       (ull)offset, (ull)end, (ull)info.offset, info.node);
  }
out:
  pthread_mutex_unlock(&t->lock);
  return st;
}

zcp_status_t zcp__table_reclaim(struct zcp__table *t, int32_t node, uint64_t epoch,
                                int64_t *blocks, int64_t *bytes, struct zcp_error *err) {
  int64_t nb = 0, nbytes = 0;
  if (node < 0 || node >= t->max_nodes) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "reclaim of node %d: node ids run from 0 to %d", node,
                         t->max_nodes - 1);
  }
  pthread_mutex_lock(&t->lock);
  struct client *c = t->clients[node];
  for (uint32_t id = c ? c->head : NIL, next; id != NIL; id = next) {
    next = t->e[id].next;
    if (state_of(t, id) == ZCP_BLOCK_GRANTED && t->e[id].epoch == epoch &&
        (t->e[id].state != STATE_TIERED || untier(t, id))) {
      nb++;
      nbytes += (int64_t)zcp__tlsf_size(t->tlsf, id) << t->shift;
      release_block(t, c, id);
    }
  }
  unlock_changed(t);
  if (blocks) *blocks = nb;
  if (bytes) *bytes = nbytes;
  return ZCP_OK;
}

zcp_status_t zcp__table_set_quota(struct zcp__table *t, int32_t node, int64_t bytes,
                                  struct zcp_error *err) {
  if (bytes < 0) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "quota of node %d: %lld bytes", node,
                         (ll)bytes);
  }
  pthread_mutex_lock(&t->lock);
  struct client *c;
  zcp_status_t st = client_get(t, node, &c, err);
  if (st == ZCP_OK) c->quota = bytes;
  pthread_mutex_unlock(&t->lock);
  return st;
}

const struct zcp__tier_map *zcp__table_tier_map(const struct zcp__table *t) {
  return &t->tier;
}

zcp_status_t zcp__table_tier_take(struct zcp__table *t, const struct zcp_request *rq,
                                  uint64_t lines, int n, int64_t *offs, int *got,
                                  struct zcp_error *err) {
  int k = 0;
  *got = 0;
  pthread_mutex_lock(&t->lock);
  struct client *c;
  zcp_status_t st = client_enter(t, rq, &c, err);
  int64_t bytes = (int64_t)lines << t->shift;
  while (st == ZCP_OK && k < n) {
    uint32_t id;
    if (bytes > c->quota - c->used) {
      if (k == 0) st = over_quota(c, rq, "alloc", bytes, err);
      break;
    }
    if ((st = ensure(t, bytes, rq->node, err)) != ZCP_OK) break;
    if (zcp__tlsf_alloc(t->tlsf, lines, &id) != ZCP_OK) {
      if (k == 0) st = no_room(t, rq, "alloc", bytes, err);
      break;
    }
    if (!tier_chunk(t, zcp__tlsf_offset(t->tlsf, id))) {
      zcp__tlsf_free(t->tlsf, id);
      st = zcp_error_set(err, ZCP_OUT_OF_MEMORY,
                         "alloc of %lld bytes by node %d: no memory for allocator "
                         "metadata",
                         (ll)bytes, rq->node);
      break;
    }
    t->e[id] =
        (struct entry){.node = rq->node, .state = STATE_TIERED, .epoch = rq->epoch};
    link_block(t, c, id);
    struct zcp__grant g;
    grant_of(t, id, &g);
    zero_plan(t, id, g.offset, &g);
    bool zero = g.zero_length == 0;
    atomic_store_explicit(tier_at(t, id),
                          ZCP__TIER_CACHED | (zero ? ZCP__TIER_ZERO : 0) |
                              (uint32_t)lines << ZCP__TIER_LINES_SHIFT,
                          memory_order_release);
    offs[k++] = g.offset | (zero ? 1 : 0);
  }
  if (k > 0) st = ZCP_OK;
  unlock_changed(t);
  *got = k;
  return st;
}

void zcp__table_tier_give(struct zcp__table *t, const int64_t *offs, int n) {
  pthread_mutex_lock(&t->lock);
  for (int i = 0; i < n; i++) {
    uint32_t id = zcp__tlsf_find(t->tlsf, (uint64_t)(offs[i] & ~(int64_t)1) >> t->shift);
    ZCP_ASSERT(id != NIL && t->e[id].state == STATE_TIERED);
    if (id == NIL) continue;
    atomic_store_explicit(tier_at(t, id), 0, memory_order_release);
    release_block(t, t->clients[t->e[id].node], id);
  }
  unlock_changed(t);
}

int64_t zcp__table_node_used(struct zcp__table *t, int32_t node) {
  if (node < 0 || node >= t->max_nodes) return 0;
  pthread_mutex_lock(&t->lock);
  int64_t used = t->clients[node] ? t->clients[node]->used : 0;
  pthread_mutex_unlock(&t->lock);
  return used;
}

void zcp__table_stats(struct zcp__table *t, struct zcp_pool_stats *out) {
  struct zcp__tlsf_stats s;
  pthread_mutex_lock(&t->lock);
  zcp__tlsf_stats(t->tlsf, &s);
  pthread_mutex_unlock(&t->lock);
  out->size = t->size;
  out->line_size = t->line;
  out->used_bytes = (int64_t)s.used_lines << t->shift;
  out->free_bytes = (int64_t)s.free_lines << t->shift;
  out->largest_free = (int64_t)s.largest_free << t->shift;
  out->live_blocks = (int64_t)s.live_blocks;
  out->free_blocks = (int64_t)s.free_blocks;
}

/* Unlocks after a change. At ZCP_DEBUG >= 2 every 256th change first runs the whole
 * self-check: a broken invariant stops the program where it happened, not later. */
static void unlock_changed(struct zcp__table *t) {
#if defined(ZCP_DEBUG) && ZCP_DEBUG >= 2
  if ((++t->changes & 255) == 0) {
    struct zcp_error e = {0};
    if (zcp__table_check_locked(t, &e) != ZCP_OK) {
      fprintf(stderr, "zcpool: allocation table invariant broken: %s\n", e.message);
      abort();
    }
  }
#endif
  pthread_mutex_unlock(&t->lock);
}
