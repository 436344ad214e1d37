/* Pools: a range of memory, its allocation table, and the struct zcp_allocator face that
 * lets Arrow builders write straight into the range.
 *
 * The table decides (under its lock) which lines a request gets and what must happen to
 * them; this file does the memory work afterwards, without the lock: clearing lines that
 * held someone else's data (DESIGN §4: no leaks from a previous owner) and, for a realloc
 * that moves, copying on the owner's own memory bus (thesis §3.8.1).
 *
 * Small local blocks take a fast path: each thread keeps, per pool, stacks of freed
 * blocks by size in lines (its cache). Those blocks stay allocated in the table as tier
 * blocks (table.h); allocating from the cache or freeing into it flips the block's tier
 * word (CACHED <-> GRANTED/SEALED) without the lock, so the table still knows at every
 * moment which blocks are live (find_block, seal, reclaim and check read the word).
 * A free takes the fast path only after a compare-and-swap from a live state, so a
 * free is still accepted exactly once, and only at a block's start.
 *
 * Cache lifetime: a cache is shared by its thread and the pool's list (two references).
 * The pool's release detaches every cache and marks it dead (pool = NULL); its thread
 * notices on its next call with any pool at that address and drops it. A thread that
 * exits gives its cached blocks back to a still-live pool; the cache's own mutex orders
 * this against the pool's release.
 *
 * Must never: keep allocator state inside the range, or hand out a line it has not
 * cleared (unless the range started zero and the line was never handed out). */
#include "alloc/table.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "zcpool/pool.h"

#define CACHE_DEPTH 64 /* blocks per size at most (fewer for larger sizes) */
#define THREAD_POOLS 8 /* pools one thread keeps caches for; more go the slow way */

/* One thread's cache of one pool. Only its thread touches the stacks; n is atomic so
 * that statistics may read it from another thread. */
struct cache {
  _Atomic(struct zcp_pool *) pool; /* NULL once the pool is released */
  atomic_int refs;                 /* the thread's and the pool list's */
  pthread_mutex_t lk;              /* the thread's exit against the pool's release */
  struct cache *prev, *next;       /* in the pool's list, under its caches_lock */
  bool listed;
  struct {
    _Atomic int32_t n;
    int64_t off[CACHE_DEPTH];     /* bit 0: known zero */
  } cls[ZCP__TIER_MAX_LINES + 1]; /* by size in lines */
};

struct zcp_pool {
  struct zcp_allocator allocator;
  uint8_t *base;
  int64_t size, line;
  int shift;
  uint64_t tier_lines; /* largest block (lines) the caches hold; 0: none */
  struct zcp__table *table;
  const struct zcp__tier_map *tier;
  struct zcp_request local;
  zcp_pool_touch_fn touch;
  void *touch_ctx;
  pthread_mutex_t caches_lock;
  struct cache *caches;
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
  if (pthread_mutex_init(&p->caches_lock, NULL) != 0) {
    zcp__table_release(p->table);
    free(p);
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "pool: cannot create its mutex");
  }
  p->base = base;
  p->size = zcp__table_size(p->table);
  p->line = opt->line_size;
  p->shift = __builtin_ctzll((unsigned long long)opt->line_size);
  p->tier = zcp__table_tier_map(p->table);
  {
    int64_t max = opt->max_request ? ZCP_MIN(opt->max_request, p->size) : p->size;
    int64_t tier = ZCP_MIN(max, 4096) >> p->shift;
    p->tier_lines =
        opt->no_thread_cache ? 0 : (uint64_t)ZCP_MIN(tier, ZCP__TIER_MAX_LINES);
  }
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

static void cache_unref(struct cache *c) {
  if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1) {
    pthread_mutex_destroy(&c->lk);
    free(c);
  }
}

/* Takes c out of its pool's list; true when it was still in it. Under caches_lock. */
static bool cache_unlist(struct zcp_pool *p, struct cache *c) {
  if (!c->listed) return false;
  if (c->prev)
    c->prev->next = c->next;
  else
    p->caches = c->next;
  if (c->next) c->next->prev = c->prev;
  c->listed = false;
  return true;
}

void zcp_pool_release(struct zcp_pool *pool) {
  if (pool == NULL) return;
  for (;;) {
    pthread_mutex_lock(&pool->caches_lock);
    struct cache *c = pool->caches;
    if (c != NULL) cache_unlist(pool, c);
    pthread_mutex_unlock(&pool->caches_lock);
    if (c == NULL) break;
    pthread_mutex_lock(&c->lk); /* waits for a thread that is giving blocks back */
    atomic_store_explicit(&c->pool, NULL, memory_order_release);
    pthread_mutex_unlock(&c->lk);
    cache_unref(c);
  }
  pthread_mutex_destroy(&pool->caches_lock);
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

/* Cached blocks are allocated in the table but free for the local node: they count as
 * free here. Exact while no thread is allocating or freeing; a snapshot in flight
 * otherwise. */
void zcp_pool_stats(struct zcp_pool *pool, struct zcp_pool_stats *out) {
  int64_t blocks = 0, lines = 0;
  pthread_mutex_lock(&pool->caches_lock);
  for (struct cache *c = pool->caches; c != NULL; c = c->next) {
    for (uint64_t k = 1; k <= ZCP__TIER_MAX_LINES; k++) {
      int32_t n = atomic_load_explicit(&c->cls[k].n, memory_order_relaxed);
      blocks += n;
      lines += (int64_t)n * (int64_t)k;
    }
  }
  zcp__table_stats(pool->table, out);
  pthread_mutex_unlock(&pool->caches_lock);
  out->cached_blocks = blocks;
  out->cached_bytes = lines << pool->shift;
  out->used_bytes -= out->cached_bytes;
  out->free_bytes += out->cached_bytes;
  out->live_blocks -= blocks;
  out->free_blocks += blocks;
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

/* ---- thread caches ----------------------------------------------------------------- */

/* initial-exec: no __tls_get_addr call on the fast path of the shared library. */
static _Thread_local __attribute__((tls_model("initial-exec"))) struct {
  struct zcp_pool *pool;
  struct cache *c;
} mine[THREAD_POOLS];
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static bool exit_key_ok;

static int depth_of(uint64_t lines) {
  return lines <= 4 ? CACHE_DEPTH : ZCP_MAX(8, (int)(256 / lines));
}

/* Gives the n oldest blocks of size k back to the pool. */
static void cache_give(struct zcp_pool *p, struct cache *c, uint64_t k, int n) {
  int32_t have = atomic_load_explicit(&c->cls[k].n, memory_order_relaxed);
  if (n > have) n = have;
  if (n <= 0) return;
  zcp__table_tier_give(p->table, c->cls[k].off, n);
  memmove(c->cls[k].off, c->cls[k].off + n, (size_t)(have - n) * sizeof(int64_t));
  atomic_store_explicit(&c->cls[k].n, have - n, memory_order_relaxed);
}

static void cache_give_all(struct zcp_pool *p, struct cache *c) {
  for (uint64_t k = 1; k <= ZCP__TIER_MAX_LINES; k++) cache_give(p, c, k, CACHE_DEPTH);
}

/* The end of the thread's use of slot i: gives its blocks back when the pool lives. */
static void slot_drop(int i) {
  struct cache *c = mine[i].c;
  mine[i].pool = NULL;
  mine[i].c = NULL;
  if (c == NULL) return;
  bool unlisted = false;
  pthread_mutex_lock(&c->lk);
  struct zcp_pool *p = atomic_load_explicit(&c->pool, memory_order_acquire);
  if (p != NULL) {
    cache_give_all(p, c);
    pthread_mutex_lock(&p->caches_lock);
    unlisted = cache_unlist(p, c);
    pthread_mutex_unlock(&p->caches_lock);
    atomic_store_explicit(&c->pool, NULL, memory_order_release);
  }
  pthread_mutex_unlock(&c->lk);
  if (unlisted) cache_unref(c);
  cache_unref(c);
}

static void thread_exit(void *arg) {
  ZCP_UNUSED(arg);
  for (int i = 0; i < THREAD_POOLS; i++) slot_drop(i);
}

static void exit_key_init(void) {
  exit_key_ok = pthread_key_create(&exit_key, thread_exit) == 0;
}

/* This thread's cache of p: a new one on first use, NULL when none can be had. */
static struct cache *cache_new(struct zcp_pool *p) {
  pthread_once(&exit_once, exit_key_init);
  if (!exit_key_ok) return NULL;
  int free_slot = -1;
  for (int i = 0; i < THREAD_POOLS; i++) {
    if (mine[i].c != NULL &&
        atomic_load_explicit(&mine[i].c->pool, memory_order_acquire) == NULL) {
      slot_drop(i); /* its pool was released */
    }
    if (mine[i].c == NULL && free_slot < 0) free_slot = i;
  }
  if (free_slot < 0 || pthread_setspecific(exit_key, &mine) != 0) return NULL;
  struct cache *c = calloc(1, sizeof *c);
  if (c == NULL) return NULL;
  if (pthread_mutex_init(&c->lk, NULL) != 0) {
    free(c);
    return NULL;
  }
  atomic_init(&c->pool, p);
  atomic_init(&c->refs, 2);
  pthread_mutex_lock(&p->caches_lock);
  c->next = p->caches;
  if (c->next) c->next->prev = c;
  p->caches = c;
  c->listed = true;
  pthread_mutex_unlock(&p->caches_lock);
  mine[free_slot].pool = p;
  mine[free_slot].c = c;
  return c;
}

static inline struct cache *cache_of(struct zcp_pool *p) {
  for (int i = 0; i < THREAD_POOLS; i++) {
    if (mine[i].pool != p) continue;
    /* Same address: still the same pool, or a new one where a released one was. */
    if (atomic_load_explicit(&mine[i].c->pool, memory_order_acquire) == p)
      return mine[i].c;
    slot_drop(i);
    break;
  }
  return cache_new(p);
}

/* Clears a block taken from a cache; the hook hears of it as of any local clearing. */
static void clear(struct zcp_pool *p, uint8_t *ptr, int64_t len) {
  if (p->touch == NULL) {
    if (len <= 256) {
      /* One or two lines: inline stores, no call (len is a multiple of 64). */
      for (int64_t i = 0; i < len; i += 64) __builtin_memset(ptr + i, 0, 64);
    } else {
      memset(ptr, 0, (size_t)len);
    }
    return;
  }
  struct zcp_pool_touch t = {.local = true, .to = ptr, .to_len = len};
  p->touch(p->touch_ctx, false, &t);
  memset(ptr, 0, (size_t)len);
  p->touch(p->touch_ctx, true, &t);
}

/* A block of k lines from this thread's cache, refilled from the pool when empty.
 * Returns false (nothing taken) when the slow path must answer. */
static bool cache_alloc(struct zcp_pool *p, uint64_t k, void **out) {
  struct cache *c = cache_of(p);
  if (c == NULL) return false;
  int32_t n = atomic_load_explicit(&c->cls[k].n, memory_order_relaxed);
  if (n == 0) {
    int got = 0;
    if (zcp__table_tier_take(p->table, &p->local, k, depth_of(k) / 2, c->cls[k].off, &got,
                             NULL) != ZCP_OK) {
      return false;
    }
    n = got;
    /* Lowest address on top: a fresh batch is handed out in address order. */
    for (int i = 0, j = got - 1; i < j; i++, j--) {
      int64_t x = c->cls[k].off[i];
      c->cls[k].off[i] = c->cls[k].off[j];
      c->cls[k].off[j] = x;
    }
  }
  int64_t o = c->cls[k].off[--n];
  atomic_store_explicit(&c->cls[k].n, n, memory_order_relaxed);
  int64_t off = o & ~(int64_t)1;
  uint8_t *ptr = p->base + off;
  if (!(o & 1)) clear(p, ptr, (int64_t)k << p->shift);
  /* Live from here on: cleared first, so no one can observe old contents. */
  atomic_store_explicit(zcp__tier_word(p->tier, (uint64_t)off >> p->shift),
                        ZCP__TIER_GRANTED | (uint32_t)k << ZCP__TIER_LINES_SHIFT,
                        memory_order_release);
  *out = ptr;
  return true;
}

/* Frees a live tier block into this thread's cache. False: not one (or no cache), the
 * slow path decides. */
static bool cache_free(struct zcp_pool *p, int64_t off) {
  _Atomic uint32_t *w = zcp__tier_word(p->tier, (uint64_t)off >> p->shift);
  if (w == NULL) return false;
  uint32_t v = atomic_load_explicit(w, memory_order_relaxed);
  uint32_t state = v & ZCP__TIER_STATE;
  if (state != ZCP__TIER_GRANTED && state != ZCP__TIER_SEALED) return false;
  struct cache *c = cache_of(p);
  if (c == NULL) return false;
  uint32_t cached =
      (v & ~(uint32_t)(ZCP__TIER_STATE | ZCP__TIER_ZERO)) | ZCP__TIER_CACHED;
  if (!atomic_compare_exchange_strong_explicit(w, &v, cached, memory_order_acq_rel,
                                               memory_order_relaxed)) {
    return false; /* freed by someone else meanwhile: the slow path says so */
  }
  uint64_t k = v >> ZCP__TIER_LINES_SHIFT;
  int32_t n = atomic_load_explicit(&c->cls[k].n, memory_order_relaxed);
  if (n >= depth_of(k)) {
    cache_give(p, c, k, n / 2);
    n = atomic_load_explicit(&c->cls[k].n, memory_order_relaxed);
  }
  c->cls[k].off[n] = off;
  atomic_store_explicit(&c->cls[k].n, n + 1, memory_order_relaxed);
  return true;
}

zcp_status_t zcp_pool_alloc(struct zcp_pool *pool, int64_t size, void **out,
                            struct zcp_error *err) {
  int64_t off = 0;
  *out = NULL;
  if (size >= 0 && size <= (int64_t)pool->tier_lines << pool->shift) {
    uint64_t k = size == 0 ? 1 : (uint64_t)(size + pool->line - 1) >> pool->shift;
    if (cache_alloc(pool, k, out)) return ZCP_OK;
  }
  zcp_status_t st = zcp_pool_alloc_for(pool, &pool->local, size, &off, err);
  if (st == ZCP_NO_SPACE && pool->tier_lines > 0) {
    /* This thread's cached blocks may be what is missing. */
    struct cache *c = cache_of(pool);
    if (c != NULL) cache_give_all(pool, c);
    st = zcp_pool_alloc_for(pool, &pool->local, size, &off, err);
  }
  ZCP_RETURN_NOT_OK(st);
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
  if ((off & (pool->line - 1)) == 0 && cache_free(pool, off)) return ZCP_OK;
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
