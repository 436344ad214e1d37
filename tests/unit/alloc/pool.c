/* Pools over a real range: line alignment and padding (no two blocks share a line),
 * clearing of reused memory on alloc and realloc, realloc copies, misuse through
 * pointers, the zcp_allocator face, a randomized stress that fills every block with a
 * pattern (an overlap would show), threads, and Arrow columns built straight into the
 * range with the builder API and validated. */
#define _GNU_SOURCE 1 /* pthread barriers */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zcpool/zcpool.h"

#define LINE 128

static struct zcp_error err;

#define OK(expr)                                                                        \
  do {                                                                                  \
    zcp_status_t st_ = (expr);                                                          \
    cr_assert_eq(st_, ZCP_OK, "%s -> %s: %s", #expr, zcp_status_str(st_), err.message); \
  } while (0)

#define FAILS(expr, code, needle)                                                      \
  do {                                                                                 \
    zcp_status_t st_ = (expr);                                                         \
    cr_assert_eq(st_, code, "%s -> %s (%s)", #expr, zcp_status_str(st_), err.message); \
    cr_assert(strstr(err.message, needle) != NULL, "message '%s' lacks '%s'",          \
              err.message, needle);                                                    \
  } while (0)

struct range {
  uint8_t *mem;
  int64_t size;
  struct zcp_pool *pool;
};

static struct range make_with(int64_t size, bool zero, bool cache) {
  struct range r = {.size = size};
  r.mem = aligned_alloc(4096, (size_t)size);
  cr_assert_not_null(r.mem);
  memset(r.mem, zero ? 0 : 0xee, (size_t)size);
  struct zcp_pool_options o;
  zcp_pool_options_init(&o);
  o.range_is_zero = zero;
  o.no_thread_cache = !cache;
  OK(zcp_pool_init(r.mem, size, &o, &r.pool, &err));
  return r;
}

static struct range make(int64_t size, bool zero) {
  return make_with(size, zero, true);
}

static void destroy(struct range *r) {
  zcp_pool_release(r->pool);
  free(r->mem);
}

static void check(struct zcp_pool *p) {
  struct zcp_error e = {0};
  zcp_status_t st = zcp_pool_check(p, &e);
  cr_assert_eq(st, ZCP_OK, "self-check: %s", e.message);
}

static bool all(const uint8_t *p, int64_t n, uint8_t v) {
  for (int64_t i = 0; i < n; i++) {
    if (p[i] != v) return false;
  }
  return true;
}

Test(pool, blocks_start_on_lines_and_never_share_one) {
  struct range r = make(1 << 20, false);
  void *ptrs[200];
  for (int i = 0; i < 200; i++) {
    OK(zcp_pool_alloc(r.pool, 1 + i * 37 % 500, &ptrs[i], &err));
    cr_assert_eq((uintptr_t)ptrs[i] % LINE, 0);
  }
  /* The lines [first, last] of each block are disjoint from every other block's. */
  for (int i = 0; i < 200; i++) {
    uintptr_t a0 = (uintptr_t)ptrs[i] / LINE;
    uintptr_t a1 = ((uintptr_t)ptrs[i] + (uintptr_t)(1 + i * 37 % 500) - 1) / LINE;
    for (int j = 0; j < 200; j++) {
      if (i == j) continue;
      uintptr_t b0 = (uintptr_t)ptrs[j] / LINE;
      uintptr_t b1 = ((uintptr_t)ptrs[j] + (uintptr_t)(1 + j * 37 % 500) - 1) / LINE;
      cr_assert(a1 < b0 || b1 < a0, "blocks %d and %d share a line", i, j);
    }
  }
  struct zcp_pool_stats s;
  zcp_pool_stats(r.pool, &s);
  cr_assert_eq(s.used_bytes % LINE, 0);
  cr_assert_eq(s.live_blocks, 200);
  for (int i = 0; i < 200; i++) OK(zcp_pool_free(r.pool, ptrs[i], &err));
  check(r.pool);
  destroy(&r);
}

Test(pool, reused_memory_is_cleared_on_alloc_and_realloc) {
  /* Without thread caches: the placement asserted below is the allocator's first fit. */
  struct range r = make_with(64 * LINE, false, false);
  uint8_t *a;
  OK(zcp_pool_alloc(r.pool, 10 * LINE, (void **)&a, &err));
  cr_assert(all(a, 10 * LINE, 0), "the range held 0xee: a fresh block must be cleared");
  memset(a, 0xab, 10 * LINE);
  OK(zcp_pool_free(r.pool, a, &err));
  uint8_t *b;
  OK(zcp_pool_alloc(r.pool, 4 * LINE, (void **)&b, &err));
  cr_assert_eq(b, a, "first fit from the start of the range");
  cr_assert(all(b, 4 * LINE, 0), "a dirty freed block came back uncleared");
  memset(b, 0x11, 4 * LINE);
  /* Grow in place over the dirty lines that were freed above. */
  uint8_t *c;
  OK(zcp_pool_realloc(r.pool, b, 8 * LINE, (void **)&c, &err));
  cr_assert_eq(c, b);
  cr_assert(all(c, 4 * LINE, 0x11), "realloc keeps the contents");
  cr_assert(all(c + 4 * LINE, 4 * LINE, 0), "grown lines must be cleared");
  /* Force a move: block the next line, dirty the space after it. */
  uint8_t *wall, *junk;
  OK(zcp_pool_alloc(r.pool, LINE, (void **)&wall, &err));
  OK(zcp_pool_alloc(r.pool, 20 * LINE, (void **)&junk, &err));
  memset(junk, 0x77, 20 * LINE);
  OK(zcp_pool_free(r.pool, junk, &err));
  uint8_t *d;
  OK(zcp_pool_realloc(r.pool, c, 16 * LINE, (void **)&d, &err));
  cr_assert_neq(d, c);
  cr_assert(all(d, 4 * LINE, 0x11) && all(d + 4 * LINE, 4 * LINE, 0), "moved contents");
  cr_assert(all(d + 8 * LINE, 8 * LINE, 0), "the tail of a moved block must be cleared");
  FAILS(zcp_pool_free(r.pool, c, &err), ZCP_NOT_FOUND, "already freed");
  /* Shrink: the block stays, the rest becomes free. */
  uint8_t *e;
  OK(zcp_pool_realloc(r.pool, d, 1, (void **)&e, &err));
  cr_assert_eq(e, d);
  OK(zcp_pool_free(r.pool, e, &err));
  OK(zcp_pool_free(r.pool, wall, &err));
  check(r.pool);
  struct zcp_pool_stats s;
  zcp_pool_stats(r.pool, &s);
  cr_assert_eq(s.free_bytes, 64 * LINE);
  destroy(&r);
}

Test(pool, misuse_through_pointers_is_a_typed_error) {
  struct range r = make(1 << 16, true);
  uint8_t *a;
  OK(zcp_pool_alloc(r.pool, 1000, (void **)&a, &err));
  FAILS(zcp_pool_free(r.pool, a + 8, &err), ZCP_INVALID_ARGUMENT, "not at its start");
  FAILS(zcp_pool_free(r.pool, r.mem + r.size, &err), ZCP_INVALID_ARGUMENT,
        "not inside the pool");
  int local;
  FAILS(zcp_pool_free(r.pool, &local, &err), ZCP_INVALID_ARGUMENT, "not inside the pool");
  FAILS(zcp_pool_realloc(r.pool, &local, 10, (void **)&a, &err), ZCP_INVALID_ARGUMENT,
        "realloc of");
  cr_assert_null(a);
  /* Another node may not free the local node's block. */
  OK(zcp_pool_alloc(r.pool, 1000, (void **)&a, &err));
  struct zcp_request other = {.node = 5, .epoch = 1, .id = 1};
  FAILS(zcp_pool_free_for(r.pool, &other, a - r.mem, &err), ZCP_INVALID_ARGUMENT,
        "by node 5: block belongs to node 0");
  /* Not sealed yet: refused, but the block is described (importers tell "busy" from
   * "corrupt" by it). */
  struct zcp_block_info info;
  memset(&info, 0xff, sizeof info);
  FAILS(zcp_pool_find_block(r.pool, a - r.mem + 10, 100, &info, &err),
        ZCP_INVALID_ARGUMENT, "not sealed");
  cr_assert_eq(info.offset, a - r.mem);
  cr_assert_eq(info.state, ZCP_BLOCK_GRANTED);
  OK(zcp_pool_seal(r.pool, a, &err));
  OK(zcp_pool_find_block(r.pool, a - r.mem, 1000, &info, &err));
  cr_assert_eq(info.node, 0);
  cr_assert_eq(info.epoch, 1);
  OK(zcp_pool_free(r.pool, a, &err));
  FAILS(zcp_pool_free(r.pool, a, &err), ZCP_NOT_FOUND, "already freed");
  struct zcp_pool *p;
  FAILS(zcp_pool_init(r.mem + 64, 4096, NULL, &p, &err), ZCP_INVALID_ARGUMENT,
        "not aligned to its 128-byte lines");
  FAILS(zcp_pool_init(NULL, 4096, NULL, &p, &err), ZCP_INVALID_ARGUMENT, "NULL");
  destroy(&r);
}

Test(pool, remote_requests_use_offsets_and_retries_are_idempotent) {
  struct range r = make(1 << 20, false);
  struct zcp_request q = {.node = 3, .epoch = 2, .id = 10};
  int64_t off, again;
  OK(zcp_pool_alloc_for(r.pool, &q, 5000, &off, &err));
  memset(r.mem + off, 0x5a, 5000);
  OK(zcp_pool_alloc_for(r.pool, &q, 5000, &again, &err));
  cr_assert_eq(again, off);
  cr_assert(all(r.mem + off, 5000, 0x5a), "a retry must not clear the client's data");
  struct zcp_request g = {.node = 3, .epoch = 2, .id = 11};
  int64_t grown;
  OK(zcp_pool_realloc_for(r.pool, &g, off, 9000, &grown, &err));
  cr_assert(all(r.mem + grown, 5000, 0x5a));
  OK(zcp_pool_seal_for(r.pool, &g, grown, &err));
  int64_t n;
  OK(zcp_pool_reclaim(r.pool, 3, 2, &n, NULL, &err));
  cr_assert_eq(n, 0, "sealed blocks are not reclaimed");
  OK(zcp_pool_set_quota(r.pool, 4, LINE, &err));
  struct zcp_request q4 = {.node = 4, .epoch = 1, .id = 1};
  FAILS(zcp_pool_alloc_for(r.pool, &q4, LINE + 1, &off, &err), ZCP_NO_SPACE, "quota");
  cr_assert_eq(off, -1);
  check(r.pool);
  destroy(&r);
}

Test(pool, is_an_arrow_allocator) {
  struct range r = make(1 << 16, true);
  struct zcp_allocator *a = zcp_pool_allocator(r.pool);
  cr_assert_eq(a->alignment, 128);
  void *v = (void *)1;
  cr_assert_eq(a->allocate(a, 100, 256, &v, &err), ZCP_INVALID_ARGUMENT,
               "lines are the strongest alignment");
  cr_assert_null(v);
  cr_assert(strstr(err.message, "alignment 256") != NULL, "%s", err.message);
  cr_assert_eq(a->allocate(a, 100, 64, &v, &err), ZCP_OK, "%s", err.message);
  uint8_t *p = v;
  cr_assert_not_null(p);
  memset(p, 1, 100);
  cr_assert_eq(a->reallocate(a, p, 100, 10000, 128, &v, &err), ZCP_OK, "%s", err.message);
  uint8_t *q = v;
  cr_assert_not_null(q);
  cr_assert(all(q, 100, 1));
  cr_assert_eq(a->reallocate(a, q, 10000, 1 << 20, 128, &v, &err), ZCP_NO_SPACE,
               "larger than the range");
  cr_assert_null(v);
  a->free(a, q, 10000); /* q stayed valid */
  cr_assert_eq(a->reallocate(a, NULL, 0, 300, 64, &v, &err), ZCP_OK, "%s", err.message);
  uint8_t *z = v;
  cr_assert_not_null(z);
  a->free(a, z, 300);
  a->free(a, NULL, 0);
  struct zcp_pool_stats s;
  zcp_pool_stats(r.pool, &s);
  cr_assert_eq(s.live_blocks, 0);
  check(r.pool);
  destroy(&r);
}

/* A builder writing into a full pool fails with the pool's status and reason, not a bare
 * "out of memory". */
Test(pool, builder_passes_the_pools_reason_on) {
  struct range r = make(1 << 14, true);
  struct ArrowSchema col;
  cr_assert_eq(zcp_schema_init("l", "x", 0, 0, &col, &err), ZCP_OK);
  struct zcp_builder *b = NULL;
  cr_assert_eq(zcp_builder_init(&col, zcp_pool_allocator(r.pool), &b, &err), ZCP_OK);
  zcp_status_t st = ZCP_OK;
  for (int64_t i = 0; i < (1 << 14) && st == ZCP_OK; i++)
    st = zcp_builder_append_int(b, i);
  cr_assert_eq(st, ZCP_NO_SPACE, "%s", zcp_builder_last_error(b));
  /* The pool's own words ("... by node 0: over the largest-request limit ..." or "...:
   * region full ..."), after the column's. */
  cr_assert(strstr(zcp_builder_last_error(b), "column 'x'") != NULL &&
                strstr(zcp_builder_last_error(b), "bytes by node 0: ") != NULL,
            "%s", zcp_builder_last_error(b));
  zcp_builder_release(b);
  col.release(&col);
  check(r.pool);
  destroy(&r);
}

/* ---- randomized stress with contents ----------------------------------------------- */

static uint64_t rng;
static uint64_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

struct live {
  uint8_t *p;
  int64_t size;
  uint8_t tag;
};

Test(pool, random_stress_keeps_every_blocks_contents) {
  const int64_t size = 1 << 22;
  struct range r = make(size, false);
  rng = 99;
  struct live *l = calloc(5000, sizeof *l);
  int n = 0, no_space = 0;
  int64_t used = 0;
  for (int op = 0; op < 5000; op++) {
    uint64_t k = rnd() % 10;
    if (k < 5 || n == 0) {
      int64_t sz = rnd() % 16 == 0 ? (int64_t)(rnd() % (uint64_t)size) + 1
                                   : (int64_t)(rnd() % 3000) + 1;
      uint8_t *p;
      zcp_status_t st = zcp_pool_alloc(r.pool, sz, (void **)&p, &err);
      if (st == ZCP_NO_SPACE) {
        no_space++;
        continue;
      }
      OK(st);
      cr_assert(all(p, sz, 0), "fresh block not cleared");
      uint8_t tag = (uint8_t)(1 + rnd() % 250);
      memset(p, tag, (size_t)sz);
      l[n++] = (struct live){p, sz, tag};
      used += (sz + LINE - 1) / LINE * LINE;
    } else if (k < 8) {
      int i = (int)(rnd() % (uint64_t)n);
      cr_assert(all(l[i].p, l[i].size, l[i].tag), "block contents changed under it");
      OK(zcp_pool_free(r.pool, l[i].p, &err));
      used -= (l[i].size + LINE - 1) / LINE * LINE;
      l[i] = l[--n];
    } else {
      int i = (int)(rnd() % (uint64_t)n);
      int64_t ns = (int64_t)(rnd() % 20000) + 1;
      uint8_t *q;
      zcp_status_t st = zcp_pool_realloc(r.pool, l[i].p, ns, (void **)&q, &err);
      if (st == ZCP_NO_SPACE) continue;
      OK(st);
      int64_t keep = ns < l[i].size ? ns : l[i].size;
      cr_assert(all(q, keep, l[i].tag), "realloc lost contents");
      int64_t old_pad = (l[i].size + LINE - 1) / LINE * LINE;
      cr_assert(all(q + old_pad, ns - old_pad, 0) || ns <= old_pad,
                "grown part not clear");
      memset(q, l[i].tag, (size_t)ns);
      used += (ns + LINE - 1) / LINE * LINE - old_pad;
      l[i].p = q;
      l[i].size = ns;
    }
    if (op % 50 == 49) {
      check(r.pool);
      struct zcp_pool_stats s;
      zcp_pool_stats(r.pool, &s);
      cr_assert_eq(s.used_bytes, used);
      cr_assert_eq(s.free_bytes, size - used);
      cr_assert_eq(s.live_blocks, n);
    }
  }
  cr_assert_gt(no_space, 0);
  free(l);
  destroy(&r);
}

/* ---- threads ----------------------------------------------------------------------- */

struct worker {
  struct zcp_pool *pool;
  uint64_t seed;
  int bad;
};

static void *work(void *arg) {
  struct worker *w = arg;
  struct live l[32];
  int n = 0;
  uint64_t s = w->seed;
  for (int i = 0; i < 20000; i++) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    if (n < 32 && (s % 2 == 0 || n == 0)) {
      int64_t sz = (int64_t)(s % 2000) + 1;
      uint8_t *p;
      if (zcp_pool_alloc(w->pool, sz, (void **)&p, NULL) != ZCP_OK) continue;
      if (!all(p, sz, 0)) w->bad++;
      uint8_t tag = (uint8_t)(1 + (s >> 8) % 250);
      memset(p, tag, (size_t)sz);
      l[n++] = (struct live){p, sz, tag};
    } else if (s % 5 == 1) { /* grow or shrink, in place or moved under the others */
      int k = (int)((s >> 16) % (uint64_t)n);
      int64_t ns = (int64_t)((s >> 24) % 4000) + 1;
      uint8_t *q;
      if (zcp_pool_realloc(w->pool, l[k].p, ns, (void **)&q, NULL) != ZCP_OK) continue;
      int64_t keep = ns < l[k].size ? ns : l[k].size;
      if (!all(q, keep, l[k].tag)) w->bad++;
      memset(q, l[k].tag, (size_t)ns);
      l[k].p = q;
      l[k].size = ns;
    } else {
      int k = (int)((s >> 16) % (uint64_t)n);
      if (!all(l[k].p, l[k].size, l[k].tag)) w->bad++;
      if (zcp_pool_free(w->pool, l[k].p, NULL) != ZCP_OK) w->bad++;
      l[k] = l[--n];
    }
  }
  while (n > 0) {
    if (zcp_pool_free(w->pool, l[--n].p, NULL) != ZCP_OK) w->bad++;
  }
  return NULL;
}

Test(pool, threads_sharing_a_pool_never_overlap) {
  struct range r = make(32 << 20, false);
  pthread_t th[4];
  struct worker w[4];
  for (int i = 0; i < 4; i++) {
    w[i] = (struct worker){.pool = r.pool, .seed = 0xabcdefull * (uint64_t)(i + 1)};
    pthread_create(&th[i], NULL, work, &w[i]);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    cr_assert_eq(w[i].bad, 0, "thread %d saw overlapping or uncleared blocks", i);
  }
  check(r.pool);
  struct zcp_pool_stats s;
  zcp_pool_stats(r.pool, &s);
  cr_assert_eq(s.live_blocks, 0);
  cr_assert_eq(s.free_bytes, 32 << 20);
  destroy(&r);
}

/* ---- Arrow columns built in the range ---------------------------------------------- */

static bool inside(const struct range *r, const void *p) {
  return (const uint8_t *)p >= r->mem && (const uint8_t *)p < r->mem + r->size;
}

static void assert_buffers_in_pool(const struct range *r, const struct ArrowArray *a) {
  for (int64_t i = 0; i < a->n_buffers; i++) {
    if (a->buffers[i] == NULL) continue;
    cr_assert(inside(r, a->buffers[i]), "buffer %ld is outside the pool", (long)i);
    cr_assert_eq((uintptr_t)a->buffers[i] % LINE, 0, "buffer %ld not on a line", (long)i);
  }
  for (int64_t i = 0; i < a->n_children; i++) assert_buffers_in_pool(r, a->children[i]);
}

Test(pool, builds_arrow_columns_straight_into_the_range) {
  struct range r = make(16 << 20, true);
  struct ArrowSchema schema;
  OK(zcp_schema_init("+s", "batch", 0, 2, &schema, &err));
  OK(zcp_schema_set_child(&schema, 0, "l", "id", ARROW_FLAG_NULLABLE, 0, &err));
  OK(zcp_schema_set_child(&schema, 1, "u", "name", ARROW_FLAG_NULLABLE, 0, &err));
  struct zcp_builder *b;
  OK(zcp_builder_init(&schema, zcp_pool_allocator(r.pool), &b, &err));
  struct zcp_builder *ids = zcp_builder_child(b, 0), *names = zcp_builder_child(b, 1);
  for (int64_t i = 0; i < 100000; i++) {
    char s[32];
    snprintf(s, sizeof s, "row-%ld", (long)i);
    OK(i % 17 == 0 ? zcp_builder_append_null(ids, 1)
                   : zcp_builder_append_int(ids, i * 3));
    OK(zcp_builder_append_string(names, s));
    OK(zcp_builder_finish_element(b));
  }
  struct ArrowArray array;
  OK(zcp_builder_finish(b, &array, NULL, &err));
  zcp_builder_release(b);
  OK(zcp_array_validate(&array, &schema, ZCP_VALIDATE_FULL, &err));
  assert_buffers_in_pool(&r, &array);
  const int64_t *vals = array.children[0]->buffers[1];
  cr_assert_eq(vals[5], 15);
  cr_assert_eq(array.children[0]->null_count, 100000 / 17 + 1);
  /* The finished buffers can be sealed and found by a descriptor's range query. */
  void *data = (void *)array.children[1]->buffers[2];
  OK(zcp_pool_seal(r.pool, data, &err));
  struct zcp_block_info info;
  OK(zcp_pool_find_block(r.pool, (uint8_t *)data - r.mem, 1000, &info, &err));
  cr_assert_eq(info.state, ZCP_BLOCK_SEALED);
  check(r.pool);
  array.release(&array);
  struct zcp_pool_stats s;
  zcp_pool_stats(r.pool, &s);
  cr_assert_eq(s.live_blocks, 0, "releasing the array frees its blocks in the pool");
  check(r.pool);
  zcp_schema_release(&schema);
  destroy(&r);
}

Test(pool, a_full_pool_fails_the_builder_cleanly) {
  struct range r = make(64 * LINE, false);
  struct ArrowSchema schema;
  OK(zcp_schema_init("l", "x", ARROW_FLAG_NULLABLE, 0, &schema, &err));
  struct zcp_builder *b;
  OK(zcp_builder_init(&schema, zcp_pool_allocator(r.pool), &b, &err));
  zcp_status_t st = ZCP_OK;
  int64_t i = 0;
  for (; i < 100000 && st == ZCP_OK; i++) st = zcp_builder_append_int(b, i);
  cr_assert_neq(st, ZCP_OK, "64 lines cannot hold 100000 int64");
  zcp_builder_release(b);
  struct zcp_pool_stats s;
  zcp_pool_stats(r.pool, &s);
  cr_assert_eq(s.live_blocks, 0);
  check(r.pool);
  zcp_schema_release(&schema);
  destroy(&r);
}

Test(pool, rounds_the_range_down_to_whole_lines) {
  uint8_t *mem = aligned_alloc(4096, 4096);
  struct zcp_pool *p;
  OK(zcp_pool_init(mem, 1000, NULL, &p, &err));
  cr_assert_eq(zcp_pool_size(p), 7 * LINE);
  cr_assert_eq(zcp_pool_line_size(p), LINE);
  cr_assert_eq(zcp_pool_base(p), mem);
  void *a;
  OK(zcp_pool_alloc(p, 7 * LINE, &a, &err));
  FAILS(zcp_pool_alloc(p, 1, &a, &err), ZCP_NO_SPACE, "region full");
  zcp_pool_release(p);
  struct zcp_pool_options o;
  zcp_pool_options_init(&o);
  o.line_size = 64;
  OK(zcp_pool_init(mem, 1000, &o, &p, &err));
  cr_assert_eq(zcp_pool_size(p), 15 * 64);
  cr_assert_eq(zcp_pool_allocator(p)->alignment, 64);
  zcp_pool_release(p);
  o.local_node = 300;
  FAILS(zcp_pool_init(mem, 1000, &o, &p, &err), ZCP_INVALID_ARGUMENT, "local node 300");
  zcp_pool_release(NULL);
  free(mem);
}

/* ---- per-thread caches of small local blocks ------------------------------------- */

static int touches;
static bool touch_local;
static int64_t touch_len;
static void count_touch(void *ctx, bool after, const struct zcp_pool_touch *t) {
  (void)ctx;
  (void)after;
  touches++;
  touch_local = t->local;
  touch_len = t->to_len;
}

Test(pool, cached_blocks_are_free_to_everyone_but_the_cache) {
  struct range r = make(1 << 20, false);
  uint8_t *a, *b;
  OK(zcp_pool_alloc(r.pool, 100, (void **)&a, &err));
  OK(zcp_pool_alloc(r.pool, 100, (void **)&b, &err));
  struct zcp_block_info info;
  FAILS(zcp_pool_find_block(r.pool, a - r.mem, 100, &info, &err), ZCP_INVALID_ARGUMENT,
        "not sealed");
  cr_assert_eq(info.state, ZCP_BLOCK_GRANTED);
  cr_assert_eq(info.size, LINE);
  OK(zcp_pool_seal(r.pool, a, &err));
  OK(zcp_pool_find_block(r.pool, a - r.mem, 100, &info, &err));
  cr_assert_eq(info.state, ZCP_BLOCK_SEALED);
  struct zcp_pool_stats s;
  zcp_pool_stats(r.pool, &s);
  cr_assert_eq(s.live_blocks, 2);
  cr_assert_eq(s.used_bytes, 2 * LINE);
  cr_assert_gt(s.cached_blocks, 0, "a refill leaves blocks in the cache");
  cr_assert_eq(s.used_bytes + s.free_bytes, s.size);
  check(r.pool);

  /* Misuse is refused the same way as on the locked path. */
  struct zcp_request other = {.node = 1, .epoch = 1};
  FAILS(zcp_pool_free_for(r.pool, &other, b - r.mem, &err), ZCP_INVALID_ARGUMENT,
        "belongs to node 0");
  FAILS(zcp_pool_free(r.pool, b + 64, &err), ZCP_INVALID_ARGUMENT, "not at its start");
  OK(zcp_pool_free(r.pool, a, &err)); /* sealed blocks may be freed by their node */
  OK(zcp_pool_free(r.pool, b, &err));
  FAILS(zcp_pool_free(r.pool, b, &err), ZCP_NOT_FOUND, "already freed");
  FAILS(zcp_pool_seal(r.pool, a, &err), ZCP_NOT_FOUND, "already freed");
  FAILS(zcp_pool_find_block(r.pool, a - r.mem, 1, NULL, &err), ZCP_NOT_FOUND,
        "not inside any live block");
  void *c;
  FAILS(zcp_pool_realloc(r.pool, b, 300, &c, &err), ZCP_NOT_FOUND, "already freed");
  zcp_pool_stats(r.pool, &s);
  cr_assert_eq(s.live_blocks, 0);
  cr_assert_eq(s.used_bytes, 0);
  cr_assert_eq(s.free_bytes, s.size);
  cr_assert_eq(s.free_bytes - s.cached_bytes, s.largest_free, "one fragment and caches");
  check(r.pool);
  destroy(&r);
}

Test(pool, cached_blocks_are_cleared_and_the_hook_hears_of_it) {
  struct range r = {.size = 1 << 20};
  r.mem = aligned_alloc(4096, (size_t)r.size);
  memset(r.mem, 0, (size_t)r.size);
  struct zcp_pool_options o;
  zcp_pool_options_init(&o);
  o.range_is_zero = true;
  o.touch = count_touch;
  o.touch_ctx = NULL;
  OK(zcp_pool_init(r.mem, r.size, &o, &r.pool, &err));
  touches = 0;
  uint8_t *a;
  OK(zcp_pool_alloc(r.pool, 200, (void **)&a, &err));
  cr_assert_eq(touches, 0, "fresh lines of a zero range are not cleared again");
  memset(a, 0xab, 2 * LINE);
  OK(zcp_pool_free(r.pool, a, &err));
  uint8_t *b;
  OK(zcp_pool_alloc(r.pool, 200, (void **)&b, &err));
  cr_assert_eq(b, a, "the cache hands back the block it was given");
  cr_assert(all(b, 2 * LINE, 0), "a cached block came back uncleared");
  cr_assert_eq(touches, 2, "before and after the clearing");
  cr_assert(touch_local);
  cr_assert_eq(touch_len, 2 * LINE);
  OK(zcp_pool_free(r.pool, b, &err));
  check(r.pool);
  destroy(&r);
}

Test(pool, reclaim_frees_granted_cached_blocks_of_the_local_node) {
  struct range r = make(1 << 20, false);
  void *a, *b, *c;
  OK(zcp_pool_alloc(r.pool, 1, &a, &err));
  OK(zcp_pool_alloc(r.pool, 1, &b, &err));
  OK(zcp_pool_alloc(r.pool, 1, &c, &err));
  OK(zcp_pool_seal(r.pool, c, &err));
  int64_t blocks = 0, bytes = 0;
  OK(zcp_pool_reclaim(r.pool, 0, 1, &blocks, &bytes, &err));
  cr_assert_eq(blocks, 2, "granted ones only, not the sealed one nor the cached ones");
  cr_assert_eq(bytes, 2 * LINE);
  FAILS(zcp_pool_free(r.pool, a, &err), ZCP_NOT_FOUND, "already freed");
  OK(zcp_pool_free(r.pool, c, &err));
  check(r.pool);
  struct zcp_pool_stats s;
  zcp_pool_stats(r.pool, &s);
  cr_assert_eq(s.live_blocks, 0);
  cr_assert_eq(s.free_bytes, s.size);
  destroy(&r);
}

Test(pool, a_full_pool_uses_the_callers_cached_blocks) {
  struct range r = make(64 * LINE, false);
  void *a, *big;
  OK(zcp_pool_alloc(r.pool, 1, &a, &err));
  OK(zcp_pool_free(r.pool, a, &err));
  OK(zcp_pool_alloc(r.pool, 64 * LINE, &big, &err));
  OK(zcp_pool_free(r.pool, big, &err));
  check(r.pool);
  destroy(&r);
}

struct cache_thread {
  struct zcp_pool *pool;
  pthread_barrier_t *bar;
  int bad;
};

static void *alloc_then_exit(void *arg) {
  struct cache_thread *t = arg;
  void *p[40];
  for (int i = 0; i < 40; i++) {
    if (zcp_pool_alloc(t->pool, 1 + i * 50, &p[i], NULL) != ZCP_OK) t->bad++;
  }
  for (int i = 0; i < 40; i++) {
    if (zcp_pool_free(t->pool, p[i], NULL) != ZCP_OK) t->bad++;
  }
  return NULL;
}

Test(pool, an_exiting_thread_gives_its_cache_back) {
  struct range r = make(1 << 20, false);
  struct cache_thread t = {.pool = r.pool};
  pthread_t th;
  pthread_create(&th, NULL, alloc_then_exit, &t);
  pthread_join(th, NULL);
  cr_assert_eq(t.bad, 0);
  struct zcp_pool_stats s;
  zcp_pool_stats(r.pool, &s);
  cr_assert_eq(s.cached_blocks, 0);
  cr_assert_eq(s.largest_free, s.size, "everything back in one fragment");
  check(r.pool);
  destroy(&r);
}

static void *use_two_pools(void *arg) {
  struct cache_thread *t = arg;
  void *p;
  for (int round = 0; round < 2; round++) {
    pthread_barrier_wait(t->bar); /* the pool of this round exists */
    for (int i = 0; i < 100; i++) {
      if (zcp_pool_alloc(t->pool, 64, &p, NULL) != ZCP_OK ||
          zcp_pool_free(t->pool, p, NULL) != ZCP_OK) {
        t->bad++;
      }
    }
    pthread_barrier_wait(t->bar); /* done with it: the test releases it */
  }
  return NULL;
}

Test(pool, a_released_pool_leaves_no_stale_cache_behind) {
  pthread_barrier_t bar;
  pthread_barrier_init(&bar, NULL, 2);
  struct cache_thread t = {.bar = &bar};
  pthread_t th;
  pthread_create(&th, NULL, use_two_pools, &t);
  uint8_t *mem = aligned_alloc(4096, 1 << 20);
  memset(mem, 0, 1 << 20);
  for (int round = 0; round < 2; round++) {
    /* The same range and probably the same pool address: the thread must not take
     * its cached blocks of the first pool for blocks of the second. */
    OK(zcp_pool_init(mem, 1 << 20, NULL, &t.pool, &err));
    pthread_barrier_wait(&bar);
    pthread_barrier_wait(&bar);
    check(t.pool);
    struct zcp_pool_stats s;
    zcp_pool_stats(t.pool, &s);
    cr_assert_eq(s.live_blocks, 0);
    cr_assert_eq(s.used_bytes + s.free_bytes, s.size);
    zcp_pool_release(t.pool);
  }
  pthread_join(th, NULL);
  cr_assert_eq(t.bad, 0);
  pthread_barrier_destroy(&bar);
  free(mem);
}

static void *free_others_blocks(void *arg) {
  void **blocks = arg;
  struct zcp_pool *pool = blocks[0];
  for (int i = 1; i < 65; i++) {
    if (zcp_pool_free(pool, blocks[i], NULL) != ZCP_OK) blocks[i] = NULL;
  }
  return NULL;
}

Test(pool, blocks_may_be_freed_by_another_thread) {
  struct range r = make(1 << 20, false);
  void *blocks[65] = {r.pool};
  for (int i = 1; i < 65; i++) OK(zcp_pool_alloc(r.pool, 100, &blocks[i], &err));
  pthread_t th;
  pthread_create(&th, NULL, free_others_blocks, blocks);
  pthread_join(th, NULL);
  for (int i = 1; i < 65; i++) cr_assert_not_null(blocks[i], "free %d refused", i);
  check(r.pool);
  struct zcp_pool_stats s;
  zcp_pool_stats(r.pool, &s);
  cr_assert_eq(s.live_blocks, 0);
  cr_assert_eq(s.free_bytes, s.size);
  destroy(&r);
}

Test(pool, cached_blocks_leave_the_fast_path_through_realloc_and_free_for) {
  struct range r = make(1 << 20, false);
  uint8_t *a, *b, *c;
  OK(zcp_pool_alloc(r.pool, 100, (void **)&a, &err));
  memset(a, 0x42, 100);
  OK(zcp_pool_realloc(r.pool, a, 1000, (void **)&b, &err));
  cr_assert(all(b, 100, 0x42) && all(b + 100, 1000 - 100, 0),
            "contents kept, rest clear");
  check(r.pool);
  OK(zcp_pool_free(r.pool, b, &err));
  OK(zcp_pool_alloc(r.pool, 100, (void **)&c, &err));
  struct zcp_request me = {.node = 0, .epoch = 1};
  OK(zcp_pool_free_for(r.pool, &me, c - r.mem, &err));
  FAILS(zcp_pool_free(r.pool, c, &err), ZCP_NOT_FOUND, "already freed");
  check(r.pool);
  struct zcp_pool_stats s;
  zcp_pool_stats(r.pool, &s);
  cr_assert_eq(s.live_blocks, 0);
  cr_assert_eq(s.used_bytes + s.free_bytes, s.size);
  destroy(&r);
}

Test(pool, cached_blocks_count_against_the_local_quota) {
  struct range r = make(1 << 20, false);
  OK(zcp_pool_set_quota(r.pool, 0, 4 * LINE, &err));
  void *p[4], *q;
  for (int i = 0; i < 4; i++) OK(zcp_pool_alloc(r.pool, 1, &p[i], &err));
  FAILS(zcp_pool_alloc(r.pool, 1, &q, &err), ZCP_NO_SPACE, "quota");
  OK(zcp_pool_free(r.pool, p[0], &err));
  OK(zcp_pool_free(r.pool, p[1], &err));
  /* Two lines sit in this thread's cache and still count: they are given back. */
  OK(zcp_pool_alloc(r.pool, 2 * LINE, &q, &err));
  check(r.pool);
  destroy(&r);
}
