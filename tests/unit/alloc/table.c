/* The allocation table: ownership rules and their error messages (double, foreign,
 * interior, unknown frees), retried request ids, epochs, quotas, the largest-request
 * limit, exhaustion, seal and lookup, reclaim of a dead client, realloc in place and
 * moved, what must be cleared, a multi-node randomized stress against a model and a
 * multi-threaded stress. The self-check runs after every batch. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/table.h"

#define LINE 128

#define OK(expr)                                                                        \
  do {                                                                                  \
    struct zcp_error e_ = {0};                                                          \
    (void)e_;                                                                           \
    zcp_status_t st_ = (expr);                                                          \
    cr_assert_eq(st_, ZCP_OK, "%s -> %s: %s", #expr, zcp_status_str(st_), err.message); \
  } while (0)

/* Expects status code and a message containing needle. */
#define FAILS(expr, code, needle)                                                     \
  do {                                                                                \
    zcp_status_t st_ = (expr);                                                        \
    cr_assert_eq(st_, code, "%s -> %s (%s), expected %s", #expr, zcp_status_str(st_), \
                 err.message, zcp_status_str(code));                                  \
    cr_assert(strstr(err.message, needle) != NULL, "message '%s' lacks '%s'",         \
              err.message, needle);                                                   \
  } while (0)

static struct zcp_error err;

static struct zcp__table *make(int64_t size, int64_t quota, int64_t max_request,
                               bool zero) {
  struct zcp_pool_options o;
  zcp_pool_options_init(&o);
  o.default_quota = quota;
  o.max_request = max_request;
  o.range_is_zero = zero;
  o.max_nodes = 8;
  struct zcp__table *t;
  OK(zcp__table_init(&t, size, &o, &err));
  return t;
}

static void check(struct zcp__table *t) {
  struct zcp_error e = {0};
  zcp_status_t st = zcp__table_check(t, &e);
  cr_assert_eq(st, ZCP_OK, "self-check: %s", e.message);
}

static struct zcp_request rq(int32_t node, uint64_t epoch, uint64_t id) {
  return (struct zcp_request){.node = node, .epoch = epoch, .id = id};
}

static int64_t alloc(struct zcp__table *t, struct zcp_request r, int64_t size) {
  struct zcp__grant g;
  OK(zcp__table_alloc(t, &r, size, &g, &err));
  return g.offset;
}

Test(table, rejects_free_of_another_nodes_block) {
  struct zcp__table *t = make(1 << 20, 0, 0, false);
  int64_t off = alloc(t, rq(1, 1, 0), 1000);
  struct zcp_request r2 = rq(2, 1, 0);
  FAILS(zcp__table_free(t, &r2, off, &err), ZCP_INVALID_ARGUMENT,
        "by node 2: block belongs to node 1");
  cr_assert(strstr(err.message, "free of 0x") != NULL, "%s", err.message);
  struct zcp_request r1 = rq(1, 1, 0);
  OK(zcp__table_free(t, &r1, off, &err));
  check(t);
  zcp__table_release(t);
}

Test(table, rejects_double_interior_unknown_and_outside_frees) {
  struct zcp__table *t = make(1 << 20, 0, 0, false);
  struct zcp_request r = rq(1, 1, 0);
  int64_t a = alloc(t, r, 1000), b = alloc(t, r, 10);
  cr_assert_eq(a % LINE, 0);
  FAILS(zcp__table_free(t, &r, a + 128, &err), ZCP_INVALID_ARGUMENT,
        "inside the block at 0x");
  cr_assert(strstr(err.message, "not at its start") != NULL, "%s", err.message);
  FAILS(zcp__table_free(t, &r, a + 5, &err), ZCP_INVALID_ARGUMENT, "not at its start");
  OK(zcp__table_free(t, &r, a, &err));
  FAILS(zcp__table_free(t, &r, a, &err), ZCP_NOT_FOUND, "already freed, last by node 1");
  FAILS(zcp__table_free(t, &r, b + 64 * LINE, &err), ZCP_NOT_FOUND,
        "no live block starts there");
  FAILS(zcp__table_free(t, &r, 1 << 20, &err), ZCP_INVALID_ARGUMENT, "outside the range");
  FAILS(zcp__table_free(t, &r, -128, &err), ZCP_INVALID_ARGUMENT, "outside the range");
  struct zcp_request bad = rq(9, 1, 0);
  FAILS(zcp__table_free(t, &bad, b, &err), ZCP_INVALID_ARGUMENT,
        "node ids run from 0 to 7");
  check(t);
  zcp__table_release(t);
}

Test(table, answers_a_retried_request_as_before) {
  struct zcp__table *t = make(1 << 20, 0, 0, false);
  struct zcp_request r = rq(3, 5, 17);
  struct zcp__grant g1, g2;
  OK(zcp__table_alloc(t, &r, 300, &g1, &err));
  cr_assert_not(g1.replayed);
  cr_assert_eq(g1.zero_length, 3 * LINE, "a range not known zero is cleared");
  OK(zcp__table_alloc(t, &r, 300, &g2, &err));
  cr_assert(g2.replayed);
  cr_assert_eq(g2.offset, g1.offset);
  cr_assert_eq(g2.zero_length, 0, "a retry must not clear what the client wrote");
  struct zcp_pool_stats s;
  zcp__table_stats(t, &s);
  cr_assert_eq(s.live_blocks, 1);
  /* The same id for another call is a client bug. */
  FAILS(zcp__table_free(t, &r, g1.offset, &err), ZCP_INVALID_ARGUMENT,
        "request 17 of node 3 epoch 5: already used for alloc 0x");
  struct zcp_request f = rq(3, 5, 18);
  OK(zcp__table_free(t, &f, g1.offset, &err));
  OK(zcp__table_free(t, &f, g1.offset, &err)); /* retried free: done already */
  /* A retried alloc whose block is gone since cannot be answered again. */
  FAILS(zcp__table_alloc(t, &r, 300, &g2, &err), ZCP_NOT_FOUND, "freed since");
  /* Request id 0 is never remembered: two blocks. */
  struct zcp_request z = rq(3, 5, 0);
  cr_assert_neq(alloc(t, z, 10), alloc(t, z, 10));
  check(t);
  zcp__table_release(t);
}

Test(table, refuses_stale_epochs_and_forgets_answers_on_a_new_one) {
  struct zcp__table *t = make(1 << 20, 0, 0, false);
  struct zcp_request r = rq(2, 4, 1);
  int64_t off = alloc(t, r, 100);
  struct zcp_request old = rq(2, 3, 2);
  struct zcp__grant g;
  FAILS(zcp__table_alloc(t, &old, 100, &g, &err), ZCP_INVALID_ARGUMENT,
        "epoch 3 is stale (current 4)");
  struct zcp_request next = rq(2, 5, 1);
  cr_assert_neq(alloc(t, next, 100), off, "request 1 of epoch 5 is a new request");
  /* The new incarnation may free what its node sealed before it restarted. */
  struct zcp_request seal = rq(2, 5, 0);
  OK(zcp__table_seal(t, &seal, off, &err));
  OK(zcp__table_free(t, &seal, off, &err));
  check(t);
  zcp__table_release(t);
}

Test(table, quota_exhaustion_is_no_space_and_small_requests_still_work) {
  struct zcp__table *t = make(1 << 20, 10 * LINE, 0, false);
  struct zcp_request r = rq(1, 1, 0), other = rq(2, 1, 0);
  int64_t a = alloc(t, r, 8 * LINE);
  struct zcp__grant g;
  FAILS(zcp__table_alloc(t, &r, 3 * LINE, &g, &err), ZCP_NO_SPACE,
        "over its quota of 1280 bytes (1024 in use)");
  alloc(t, r, 2 * LINE);
  FAILS(zcp__table_alloc(t, &r, 1, &g, &err), ZCP_NO_SPACE, "quota");
  alloc(t, other, 10 * LINE); /* quotas are per node */
  OK(zcp__table_free(t, &r, a, &err));
  alloc(t, r, 1);
  OK(zcp__table_set_quota(t, 1, INT64_MAX, &err));
  alloc(t, r, 100 * LINE);
  cr_assert_eq(zcp__table_node_used(t, 1), 103 * LINE);
  FAILS(zcp__table_set_quota(t, 1, -1, &err), ZCP_INVALID_ARGUMENT, "quota of node 1");
  check(t);
  zcp__table_release(t);
}

Test(table, region_exhaustion_and_largest_request_limit) {
  struct zcp__table *t = make(64 * LINE, 0, 40 * LINE, false);
  struct zcp_request r = rq(0, 1, 0);
  struct zcp__grant g;
  FAILS(zcp__table_alloc(t, &r, 40 * LINE + 1, &g, &err), ZCP_NO_SPACE,
        "over the largest-request limit of 5120 bytes");
  FAILS(zcp__table_alloc(t, &r, -1, &g, &err), ZCP_INVALID_ARGUMENT, "negative");
  int64_t a = alloc(t, r, 40 * LINE);
  alloc(t, r, 20 * LINE);
  FAILS(zcp__table_alloc(t, &r, 5 * LINE, &g, &err), ZCP_NO_SPACE,
        "region full (512 bytes free, largest free block 512 bytes)");
  alloc(t, r, 4 * LINE);
  FAILS(zcp__table_alloc(t, &r, 1, &g, &err), ZCP_NO_SPACE, "region full");
  OK(zcp__table_free(t, &r, a, &err));
  alloc(t, r, 0); /* size 0 gets a line */
  check(t);
  zcp__table_release(t);
}

Test(table, seal_and_lookup_answer_whose_block_holds_a_range) {
  struct zcp__table *t = make(1 << 20, 0, 0, false);
  struct zcp_request r = rq(4, 9, 33);
  int64_t off = alloc(t, r, 1000); /* 8 lines */
  struct zcp_block_info info;
  FAILS(zcp__table_find_block(t, off, 100, &info, &err), ZCP_INVALID_ARGUMENT,
        "not sealed");
  struct zcp_request other = rq(5, 1, 0);
  FAILS(zcp__table_seal(t, &other, off, &err), ZCP_INVALID_ARGUMENT, "belongs to node 4");
  OK(zcp__table_seal(t, &r, off, &err));
  OK(zcp__table_seal(t, &r, off, &err));
  OK(zcp__table_find_block(t, off + 10, 1014, &info, &err));
  cr_assert_eq(info.offset, off);
  cr_assert_eq(info.size, 1024);
  cr_assert_eq(info.node, 4);
  cr_assert_eq(info.epoch, 9);
  cr_assert_eq(info.request_id, 33);
  cr_assert_eq(info.state, ZCP_BLOCK_SEALED);
  FAILS(zcp__table_find_block(t, off + 1024, 0, NULL, &err), ZCP_NOT_FOUND, "live block");
  FAILS(zcp__table_find_block(t, off + 10, 1015, &info, &err), ZCP_INVALID_ARGUMENT,
        "runs past the end of block");
  FAILS(zcp__table_find_block(t, off + 4096, 1, &info, &err), ZCP_NOT_FOUND,
        "not inside any live block");
  FAILS(zcp__table_find_block(t, -1, 1, &info, &err), ZCP_NOT_FOUND,
        "not inside the region");
  FAILS(zcp__table_find_block(t, INT64_MAX, 1, &info, &err), ZCP_NOT_FOUND, "region");
  struct zcp_request r0 = rq(4, 9, 0);
  FAILS(zcp__table_realloc(t, &r0, off, 5000, &(struct zcp__grant){0}, &err),
        ZCP_INVALID_ARGUMENT, "block is sealed");
  check(t);
  zcp__table_release(t);
}

Test(table, reclaim_frees_only_granted_blocks_of_that_epoch) {
  struct zcp__table *t = make(1 << 20, 0, 0, false);
  struct zcp_request e1 = rq(1, 1, 0);
  int64_t sealed = alloc(t, e1, 100);
  OK(zcp__table_seal(t, &e1, sealed, &err));
  alloc(t, e1, 200);
  alloc(t, e1, 300);
  int64_t mine = alloc(t, rq(2, 1, 0), 100);
  struct zcp_request e2 = rq(1, 2, 0);
  int64_t newer = alloc(t, e2, 1000);
  int64_t blocks, bytes;
  OK(zcp__table_reclaim(t, 1, 1, &blocks, &bytes, &err));
  cr_assert_eq(blocks, 2);
  cr_assert_eq(bytes, 2 * LINE + 3 * LINE);
  check(t);
  struct zcp_pool_stats s;
  zcp__table_stats(t, &s);
  cr_assert_eq(s.live_blocks, 3);
  struct zcp_request r2 = rq(2, 1, 0);
  OK(zcp__table_free(t, &r2, mine, &err));
  OK(zcp__table_free(t, &e2, newer, &err));
  OK(zcp__table_free(t, &e2, sealed, &err));
  OK(zcp__table_reclaim(t, 7, 1, &blocks, NULL, &err));
  cr_assert_eq(blocks, 0);
  FAILS(zcp__table_reclaim(t, 8, 1, NULL, NULL, &err), ZCP_INVALID_ARGUMENT, "node 8");
  check(t);
  zcp__table_release(t);
}

Test(table, realloc_grows_in_place_or_moves_and_says_what_to_copy) {
  struct zcp__table *t = make(1 << 20, 0, 0, true);
  struct zcp_request r = rq(1, 1, 0);
  struct zcp__grant g;
  OK(zcp__table_alloc(t, &r, 2 * LINE, &g, &err));
  cr_assert_eq(g.zero_length, 0, "never-used lines of a zero range are not cleared");
  int64_t a = g.offset;
  OK(zcp__table_realloc(t, &r, a, 5 * LINE, &g, &err));
  cr_assert_eq(g.offset, a);
  cr_assert_eq(g.moved_from, -1);
  cr_assert_eq(g.size, 5 * LINE);
  int64_t blocker = alloc(t, r, LINE);
  OK(zcp__table_realloc(t, &r, a, 3 * LINE, &g, &err)); /* shrink in place */
  cr_assert_eq(g.offset, a);
  OK(zcp__table_realloc(t, &r, a, 5 * LINE, &g, &err)); /* the 2 lines freed above */
  cr_assert_eq(g.offset, a);
  cr_assert_eq(g.zero_offset, a + 3 * LINE);
  cr_assert_eq(g.zero_length, 2 * LINE, "lines used before are cleared on growth");
  OK(zcp__table_realloc(t, &r, a, 9 * LINE, &g, &err));
  cr_assert_neq(g.offset, a);
  cr_assert_eq(g.moved_from, a);
  cr_assert_eq(g.copy_length, 5 * LINE);
  FAILS(zcp__table_free(t, &r, a, &err), ZCP_BUSY, "being moved");
  zcp__table_realloc_done(t, a);
  FAILS(zcp__table_free(t, &r, a, &err), ZCP_NOT_FOUND, "already freed");
  OK(zcp__table_free(t, &r, blocker, &err));
  struct zcp_request retry = rq(1, 1, 77);
  int64_t b = alloc(t, retry, LINE);
  struct zcp_request rr = rq(1, 1, 78);
  OK(zcp__table_realloc(t, &rr, b, 40 * LINE, &g, &err));
  if (g.moved_from >= 0) zcp__table_realloc_done(t, g.moved_from);
  int64_t moved = g.offset;
  OK(zcp__table_realloc(t, &rr, b, 40 * LINE, &g, &err));
  cr_assert(g.replayed);
  cr_assert_eq(g.offset, moved);
  check(t);
  zcp__table_release(t);
}

Test(table, rejects_bad_options) {
  struct zcp_pool_options o;
  struct zcp__table *t;
  zcp_pool_options_init(&o);
  o.line_size = 96;
  FAILS(zcp__table_init(&t, 1 << 20, &o, &err), ZCP_INVALID_ARGUMENT, "line size 96");
  zcp_pool_options_init(&o);
  FAILS(zcp__table_init(&t, 100, &o, &err), ZCP_INVALID_ARGUMENT,
        "smaller than one line");
  o.max_nodes = 0;
  FAILS(zcp__table_init(&t, 1 << 20, &o, &err), ZCP_INVALID_ARGUMENT, "max_nodes 0");
}

/* ---- randomized stress against a model -------------------------------------------- */

struct mblock {
  int64_t off, size;
  int32_t node;
  bool sealed;
};

static uint64_t rng;
static uint64_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

Test(table, random_multi_node_stress_matches_model) {
  const int64_t size = 4096 * LINE;
  const int64_t quota = 1500 * LINE;
  struct zcp__table *t = make(size, quota, 0, false);
  rng = 0x5eed;
  struct mblock *live = calloc(20000, sizeof *live);
  int n = 0;
  int64_t used[4] = {0};
  uint64_t next_id[4] = {1, 1, 1, 1};
  int no_space = 0;
  for (int op = 0; op < 20000; op++) {
    int32_t node = (int32_t)(rnd() % 4);
    uint64_t r = rnd() % 10;
    if (r < 5 || n == 0) {
      int64_t sz = (rnd() % 8 == 0) ? (int64_t)(rnd() % (uint64_t)size) + 1
                                    : (int64_t)(rnd() % 2000) + 1;
      struct zcp_request q = rq(node, 1, next_id[node]++);
      struct zcp__grant g;
      zcp_status_t st = zcp__table_alloc(t, &q, sz, &g, &err);
      int64_t padded = (sz + LINE - 1) / LINE * LINE;
      if (st == ZCP_NO_SPACE) {
        no_space++;
        continue;
      }
      cr_assert_eq(st, ZCP_OK, "%s", err.message);
      cr_assert_leq(used[node] + padded, quota);
      cr_assert_eq(g.size, padded);
      cr_assert_eq(g.offset % LINE, 0);
      for (int i = 0; i < n; i++) {
        cr_assert(
            g.offset + g.size <= live[i].off || live[i].off + live[i].size <= g.offset,
            "overlap");
      }
      if (rnd() % 4 == 0) { /* a retry: same answer */
        struct zcp__grant g2;
        OK(zcp__table_alloc(t, &q, sz, &g2, &err));
        cr_assert(g2.replayed && g2.offset == g.offset);
      }
      used[node] += padded;
      live[n++] = (struct mblock){g.offset, g.size, node, false};
    } else if (r < 8) {
      int k = (int)(rnd() % (uint64_t)n);
      struct zcp_request q = rq(live[k].node, 1, next_id[live[k].node]++);
      if (rnd() % 5 == 0) { /* a foreign free first: refused, changes nothing */
        struct zcp_request f = rq((live[k].node + 1) % 4, 1, 0);
        FAILS(zcp__table_free(t, &f, live[k].off, &err), ZCP_INVALID_ARGUMENT,
              "block belongs to node");
      }
      OK(zcp__table_free(t, &q, live[k].off, &err));
      used[live[k].node] -= live[k].size;
      live[k] = live[--n];
    } else {
      int k = (int)(rnd() % (uint64_t)n);
      struct zcp_request q = rq(live[k].node, 1, 0);
      OK(zcp__table_seal(t, &q, live[k].off, &err));
      live[k].sealed = true;
      struct zcp_block_info info;
      OK(zcp__table_find_block(t, live[k].off + 1, live[k].size - 1, &info, &err));
      cr_assert_eq(info.node, live[k].node);
      cr_assert_eq(info.offset, live[k].off);
    }
    if (op % 100 == 99) {
      check(t);
      struct zcp_pool_stats s;
      zcp__table_stats(t, &s);
      int64_t total = used[0] + used[1] + used[2] + used[3];
      cr_assert_eq(s.used_bytes, total);
      cr_assert_eq(s.free_bytes, size - total);
      cr_assert_eq(s.live_blocks, n);
      for (int32_t i = 0; i < 4; i++) cr_assert_eq(zcp__table_node_used(t, i), used[i]);
    }
  }
  cr_assert_gt(no_space, 0);
  /* A dead client: its granted blocks go, its sealed ones stay. */
  int64_t blocks;
  OK(zcp__table_reclaim(t, 2, 1, &blocks, NULL, &err));
  int kept = 0;
  for (int i = 0; i < n; i++) kept += live[i].node == 2 && live[i].sealed;
  struct zcp_pool_stats s;
  zcp__table_stats(t, &s);
  int others = 0;
  for (int i = 0; i < n; i++) others += live[i].node != 2;
  cr_assert_eq(s.live_blocks, others + kept);
  check(t);
  free(live);
  zcp__table_release(t);
}

/* ---- threads ----------------------------------------------------------------------- */

struct worker {
  struct zcp__table *t;
  int32_t node;
  int failures;
};

static void *work(void *arg) {
  struct worker *w = arg;
  uint64_t s = 0x1234567ull * (uint64_t)(w->node + 1);
  int64_t offs[64];
  int n = 0;
  for (int i = 0; i < 20000; i++) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    struct zcp_request q = {.node = w->node, .epoch = 1, .id = 0};
    struct zcp__grant g;
    if (n < 64 && (s % 3 != 0 || n == 0)) {
      if (zcp__table_alloc(w->t, &q, (int64_t)(s % 4000) + 1, &g, NULL) == ZCP_OK) {
        offs[n++] = g.offset;
      }
    } else {
      int k = (int)(s % (uint64_t)n);
      if (zcp__table_free(w->t, &q, offs[k], NULL) != ZCP_OK) w->failures++;
      offs[k] = offs[--n];
    }
  }
  while (n > 0) {
    struct zcp_request q = {.node = w->node, .epoch = 1, .id = 0};
    if (zcp__table_free(w->t, &q, offs[--n], NULL) != ZCP_OK) w->failures++;
  }
  return NULL;
}

Test(table, threads_allocating_and_freeing_keep_every_invariant) {
  struct zcp__table *t = make(64 << 20, 0, 0, false);
  pthread_t th[4];
  struct worker w[4];
  for (int i = 0; i < 4; i++) {
    w[i] = (struct worker){.t = t, .node = i};
    pthread_create(&th[i], NULL, work, &w[i]);
  }
  for (int i = 0; i < 50; i++) check(t); /* concurrently with the workers */
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    cr_assert_eq(w[i].failures, 0);
  }
  check(t);
  struct zcp_pool_stats s;
  zcp__table_stats(t, &s);
  cr_assert_eq(s.live_blocks, 0);
  cr_assert_eq(s.free_blocks, 1);
  zcp__table_release(t);
}

Test(table, realloc_respects_quota_and_limits_and_keeps_the_block_on_failure) {
  struct zcp__table *t = make(1 << 20, 10 * LINE, 8 * LINE, false);
  struct zcp_request r = rq(1, 1, 0);
  int64_t a = alloc(t, r, 4 * LINE);
  struct zcp__grant g;
  FAILS(zcp__table_realloc(t, &r, a, 8 * LINE + 1, &g, &err), ZCP_NO_SPACE,
        "largest-request limit");
  alloc(t, r, 4 * LINE);
  FAILS(zcp__table_realloc(t, &r, a, 7 * LINE, &g, &err), ZCP_NO_SPACE,
        "over its quota of 1280 bytes (1024 in use)");
  OK(zcp__table_realloc(t, &r, a, 6 * LINE, &g,
                        &err)); /* moves: the next block is live */
  cr_assert_eq(g.moved_from, a);
  zcp__table_realloc_done(t, a);
  a = g.offset;
  cr_assert_eq(zcp__table_node_used(t, 1), 10 * LINE);
  OK(zcp__table_realloc(t, &r, a, 1, &g, &err));
  cr_assert_eq(zcp__table_node_used(t, 1), 5 * LINE);
  struct zcp_request other = rq(2, 1, 0);
  FAILS(zcp__table_realloc(t, &other, a, 10, &g, &err), ZCP_INVALID_ARGUMENT,
        "by node 2: block belongs to node 1");
  FAILS(zcp__table_realloc(t, &r, a + LINE * 100, 10, &g, &err), ZCP_NOT_FOUND,
        "no live block starts there");
  check(t);
  zcp__table_release(t);
}

Test(table, lookup_accepts_empty_ranges_inside_a_sealed_block) {
  struct zcp__table *t = make(1 << 20, 0, 0, false);
  struct zcp_request r = rq(1, 1, 0);
  int64_t a = alloc(t, r, 3 * LINE);
  OK(zcp__table_seal(t, &r, a, &err));
  OK(zcp__table_find_block(t, a, 0, NULL, &err));
  OK(zcp__table_find_block(t, a + 3 * LINE - 1, 1, NULL, &err));
  OK(zcp__table_find_block(t, a, 3 * LINE, NULL, &err));
  FAILS(zcp__table_find_block(t, a, -1, NULL, &err), ZCP_NOT_FOUND,
        "not inside the region");
  check(t);
  zcp__table_release(t);
}

Test(table, remembers_the_last_64_request_ids_of_each_node) {
  struct zcp__table *t = make(1 << 20, 0, 0, false);
  int64_t off[ZCP_POOL_REQUEST_HISTORY + 2];
  for (uint64_t id = 1; id <= ZCP_POOL_REQUEST_HISTORY; id++) {
    off[id] = alloc(t, rq(1, 1, id), 100);
  }
  for (uint64_t id = 1; id <= ZCP_POOL_REQUEST_HISTORY; id++) {
    cr_assert_eq(alloc(t, rq(1, 1, id), 100), off[id], "retry of request %lu",
                 (unsigned long)id);
    cr_assert_neq(alloc(t, rq(2, 1, id), 100), off[id], "node 2's ids are its own");
  }
  /* Request 65 takes the slot of request 1: a retry of 1 now is a new request. */
  off[ZCP_POOL_REQUEST_HISTORY + 1] =
      alloc(t, rq(1, 1, ZCP_POOL_REQUEST_HISTORY + 1), 100);
  cr_assert_neq(alloc(t, rq(1, 1, 1), 100), off[1]);
  check(t);
  zcp__table_release(t);
}
