/* Pools: a range of memory, its allocation table, and the struct zcp_allocator face that
 * lets Arrow builders write straight into the range.
 *
 * The table decides (under its lock) which lines a request gets and what must happen to
 * them; this file does the memory work afterwards, without the lock: clearing lines that
 * held someone else's data (DESIGN §4: no leaks from a previous owner) and, for a realloc
 * that moves, copying on the owner's own memory bus (thesis §3.8.1).
 *
 * Must never: keep allocator state inside the range, or hand out a line it has not
 * cleared (unless the range started zero and the line was never handed out). */
#include "alloc/table.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "zcpool/pool.h"

struct zcp_pool {
  struct zcp_allocator allocator;
  uint8_t *base;
  int64_t size, line;
  struct zcp__table *table;
  struct zcp_request local;
  zcp_pool_touch_fn touch;
  void *touch_ctx;
};

void zcp_pool_options_init(struct zcp_pool_options *opt) {
  memset(opt, 0, sizeof *opt);
  opt->line_size = ZCP_POOL_LINE_SIZE;
  opt->max_nodes = 256;
  opt->local_node = 0;
  opt->local_epoch = 1;
}

static zcp_status_t pool_allocate(struct zcp_allocator *self, int64_t size,
                                  int64_t alignment, void **out, struct zcp_error *err);
static zcp_status_t pool_reallocate(struct zcp_allocator *self, void *ptr,
                                    int64_t old_size, int64_t new_size, int64_t alignment,
                                    void **out, struct zcp_error *err);
static void pool_free(struct zcp_allocator *self, void *ptr, int64_t size);

zcp_status_t zcp_pool_init(void *base, int64_t size, const struct zcp_pool_options *opt,
                           struct zcp_pool **out, struct zcp_error *err) {
  *out = NULL;
  struct zcp_pool_options defaults;
  if (opt == NULL) {
    zcp_pool_options_init(&defaults);
    opt = &defaults;
  }
  if (base == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "pool range: base is NULL");
  }
  if (zcp__is_pow2(opt->line_size) &&
      ((uintptr_t)base & (uintptr_t)(opt->line_size - 1))) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "pool range at %p: not aligned to its %lld-byte lines", base,
                         (long long)opt->line_size);
  }
  if (opt->max_nodes > 0 && (opt->local_node < 0 || opt->local_node >= opt->max_nodes)) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "pool local node %d: node ids run from 0 to %d", opt->local_node,
                         opt->max_nodes - 1);
  }
  struct zcp_pool *p = calloc(1, sizeof *p);
  if (p == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "pool: heap exhausted");
  zcp_status_t st = zcp__table_init(&p->table, size, opt, err);
  if (st != ZCP_OK) {
    free(p);
    return st;
  }
  p->base = base;
  p->size = zcp__table_size(p->table);
  p->line = opt->line_size;
  p->local = (struct zcp_request){.node = opt->local_node, .epoch = opt->local_epoch};
  p->touch = opt->touch;
  p->touch_ctx = opt->touch_ctx;
  p->allocator = (struct zcp_allocator){.allocate = pool_allocate,
                                        .reallocate = pool_reallocate,
                                        .free = pool_free,
                                        .alignment = opt->line_size,
                                        .private_data = p};
  *out = p;
  return ZCP_OK;
}

void zcp_pool_release(struct zcp_pool *pool) {
  if (pool == NULL) return;
  zcp__table_release(pool->table);
  free(pool);
}

void *zcp_pool_base(const struct zcp_pool *pool) {
  return pool->base;
}
int64_t zcp_pool_size(const struct zcp_pool *pool) {
  return pool->size;
}
int64_t zcp_pool_line_size(const struct zcp_pool *pool) {
  return pool->line;
}
struct zcp_allocator *zcp_pool_allocator(struct zcp_pool *pool) {
  return &pool->allocator;
}

/* Does what the table asked for: copy (a moved realloc), then clear; the hook hears of
 * both (the cleared lines follow the copied ones: one range covers what is written). */
static void apply(struct zcp_pool *p, const struct zcp_request *rq, bool realloc,
                  const struct zcp__grant *g) {
  if (g->replayed) return;
  bool moved = g->moved_from >= 0;
  int64_t lo = moved ? g->offset : g->zero_offset;
  int64_t hi =
      ZCP_MAX(moved ? g->offset + g->copy_length : lo, g->zero_offset + g->zero_length);
  struct zcp_pool_touch t = {
      .local = rq->node == p->local.node && rq->epoch == p->local.epoch,
      .realloc = realloc,
      .from = moved && g->copy_length > 0 ? p->base + g->moved_from : NULL,
      .from_len = moved ? g->copy_length : 0,
      .to = p->base + lo,
      .to_len = hi - lo,
  };
  bool hook = p->touch != NULL && hi > lo;
  if (hook) p->touch(p->touch_ctx, false, &t);
  if (moved) {
    memcpy(p->base + g->offset, p->base + g->moved_from, (size_t)g->copy_length);
    zcp__table_realloc_done(p->table, g->moved_from);
  }
  if (g->zero_length > 0) memset(p->base + g->zero_offset, 0, (size_t)g->zero_length);
  if (hook) p->touch(p->touch_ctx, true, &t);
}

/* ---- on behalf of a node ----------------------------------------------------------- */

zcp_status_t zcp_pool_alloc_for(struct zcp_pool *pool, const struct zcp_request *rq,
                                int64_t size, int64_t *offset, struct zcp_error *err) {
  struct zcp__grant g;
  *offset = -1;
  ZCP_RETURN_NOT_OK(zcp__table_alloc(pool->table, rq, size, &g, err));
  apply(pool, rq, false, &g);
  *offset = g.offset;
  return ZCP_OK;
}

zcp_status_t zcp_pool_realloc_for(struct zcp_pool *pool, const struct zcp_request *rq,
                                  int64_t offset, int64_t new_size, int64_t *new_offset,
                                  struct zcp_error *err) {
  struct zcp__grant g;
  *new_offset = -1;
  ZCP_RETURN_NOT_OK(zcp__table_realloc(pool->table, rq, offset, new_size, &g, err));
  apply(pool, rq, true, &g);
  *new_offset = g.offset;
  return ZCP_OK;
}

zcp_status_t zcp_pool_free_for(struct zcp_pool *pool, const struct zcp_request *rq,
                               int64_t offset, struct zcp_error *err) {
  return zcp__table_free(pool->table, rq, offset, err);
}

zcp_status_t zcp_pool_seal_for(struct zcp_pool *pool, const struct zcp_request *rq,
                               int64_t offset, struct zcp_error *err) {
  return zcp__table_seal(pool->table, rq, offset, err);
}

zcp_status_t zcp_pool_find_block(struct zcp_pool *pool, int64_t offset, int64_t length,
                                 struct zcp_block_info *out, struct zcp_error *err) {
  return zcp__table_find_block(pool->table, offset, length, out, err);
}

zcp_status_t zcp_pool_reclaim(struct zcp_pool *pool, int32_t node, uint64_t epoch,
                              int64_t *blocks, int64_t *bytes, struct zcp_error *err) {
  return zcp__table_reclaim(pool->table, node, epoch, blocks, bytes, err);
}

zcp_status_t zcp_pool_set_quota(struct zcp_pool *pool, int32_t node, int64_t bytes,
                                struct zcp_error *err) {
  return zcp__table_set_quota(pool->table, node, bytes, err);
}

void zcp_pool_stats(struct zcp_pool *pool, struct zcp_pool_stats *out) {
  zcp__table_stats(pool->table, out);
}

zcp_status_t zcp_pool_check(struct zcp_pool *pool, struct zcp_error *err) {
  return zcp__table_check(pool->table, err);
}

/* ---- local calls ------------------------------------------------------------------- */

/* ptr as an offset, or an error naming it when it is not inside the range. */
static zcp_status_t offset_of(const struct zcp_pool *p, const char *verb, const void *ptr,
                              int64_t *off, struct zcp_error *err) {
  uintptr_t a = (uintptr_t)ptr, b = (uintptr_t)p->base;
  if (a < b || a - b >= (uintptr_t)p->size) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "%s of %p by node %d: not inside the pool [%p, %p)", verb, ptr,
                         p->local.node, (void *)p->base, (void *)(p->base + p->size));
  }
  *off = (int64_t)(a - b);
  return ZCP_OK;
}

zcp_status_t zcp_pool_alloc(struct zcp_pool *pool, int64_t size, void **out,
                            struct zcp_error *err) {
  int64_t off = 0;
  *out = NULL;
  ZCP_RETURN_NOT_OK(zcp_pool_alloc_for(pool, &pool->local, size, &off, err));
  *out = pool->base + off;
  return ZCP_OK;
}

zcp_status_t zcp_pool_realloc(struct zcp_pool *pool, void *ptr, int64_t new_size,
                              void **out, struct zcp_error *err) {
  int64_t off = 0, noff;
  *out = NULL;
  ZCP_RETURN_NOT_OK(offset_of(pool, "realloc", ptr, &off, err));
  ZCP_RETURN_NOT_OK(zcp_pool_realloc_for(pool, &pool->local, off, new_size, &noff, err));
  *out = pool->base + noff;
  return ZCP_OK;
}

zcp_status_t zcp_pool_free(struct zcp_pool *pool, void *ptr, struct zcp_error *err) {
  int64_t off = 0;
  ZCP_RETURN_NOT_OK(offset_of(pool, "free", ptr, &off, err));
  return zcp__table_free(pool->table, &pool->local, off, err);
}

zcp_status_t zcp_pool_seal(struct zcp_pool *pool, void *ptr, struct zcp_error *err) {
  int64_t off = 0;
  ZCP_RETURN_NOT_OK(offset_of(pool, "seal", ptr, &off, err));
  return zcp__table_seal(pool->table, &pool->local, off, err);
}

/* ---- struct zcp_allocator ---------------------------------------------------------- */

/* Lines are the strongest alignment a pool gives. */
static zcp_status_t alignment_check(const struct zcp_pool *p, int64_t alignment,
                                    struct zcp_error *err) {
  if (alignment <= p->line) return ZCP_OK;
  return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                       "pool: alignment %lld is above its %lld-byte lines",
                       (long long)alignment, (long long)p->line);
}

static zcp_status_t pool_allocate(struct zcp_allocator *self, int64_t size,
                                  int64_t alignment, void **out, struct zcp_error *err) {
  struct zcp_pool *p = self->private_data;
  *out = NULL;
  ZCP_RETURN_NOT_OK(alignment_check(p, alignment, err));
  return zcp_pool_alloc(p, size, out, err);
}

static zcp_status_t pool_reallocate(struct zcp_allocator *self, void *ptr,
                                    int64_t old_size, int64_t new_size, int64_t alignment,
                                    void **out, struct zcp_error *err) {
  struct zcp_pool *p = self->private_data;
  if (ptr == NULL) return pool_allocate(self, new_size, alignment, out, err);
  *out = NULL;
  ZCP_RETURN_NOT_OK(alignment_check(p, alignment, err));
  return zcp_pool_realloc(p, ptr, new_size, out, err);
}

static void pool_free(struct zcp_allocator *self, void *ptr, int64_t size) {
  if (ptr == NULL) return;
  zcp_status_t st = zcp_pool_free(self->private_data, ptr, NULL);
  ZCP_ASSERT(st == ZCP_OK); /* a builder frees only what it allocated */
  ZCP_UNUSED(st);
}
