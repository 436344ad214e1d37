/* TLSF over lines: randomized stress against a line-by-line model (allocation never
 * overlaps, free lines are counted exactly, a request fails only when no free run is
 * large enough), in-place resize, lookups by start and by interior line, and edge
 * ranges. The self-check runs after every batch. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/tlsf.h"

#define OK(expr)                                                       \
  do {                                                                 \
    struct zcp_error e_ = {0};                                         \
    (void)e_;                                                          \
    zcp_status_t st_ = (expr);                                         \
    cr_assert_eq(st_, ZCP_OK, "%s -> %s", #expr, zcp_status_str(st_)); \
  } while (0)

static void check(struct zcp__tlsf *t) {
  struct zcp_error e = {0};
  zcp_status_t st = zcp__tlsf_check(t, &e);
  cr_assert_eq(st, ZCP_OK, "self-check: %s", e.message);
}

static uint64_t rng_state;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* The model: owner[line] = block id + 1 or 0 when free. */
struct model {
  uint64_t total;
  uint32_t *owner;
  uint32_t *live; /* ids of allocated blocks */
  uint64_t n_live, free_lines;
};

static uint64_t model_largest_run(const struct model *m) {
  uint64_t best = 0, run = 0;
  for (uint64_t i = 0; i < m->total; i++) {
    run = m->owner[i] ? 0 : run + 1;
    if (run > best) best = run;
  }
  return best;
}

static void model_mark(struct model *m, struct zcp__tlsf *t, uint32_t id, uint32_t val) {
  uint64_t off = zcp__tlsf_offset(t, id), n = zcp__tlsf_size(t, id);
  for (uint64_t i = off; i < off + n; i++) {
    if (val) cr_assert_eq(m->owner[i], 0, "line %lu handed out twice", (unsigned long)i);
    m->owner[i] = val;
  }
}

static uint64_t random_size(uint64_t total) {
  switch (rnd() % 8) {
    case 0:
      return 1 + rnd() % total; /* anything up to the range */
    case 1:
      return 1 + rnd() % (total / 8 + 1);
    default:
      return 1 + rnd() % 16; /* mostly small */
  }
}

static void stress(uint64_t total, uint64_t seed, int ops) {
  rng_state = seed;
  struct zcp__tlsf *t;
  OK(zcp__tlsf_init(&t, total, NULL));
  struct model m = {.total = total, .free_lines = total};
  m.owner = calloc(total, sizeof *m.owner);
  m.live = calloc((size_t)ops + 1, sizeof *m.live);
  int failures = 0;
  for (int op = 0; op < ops; op++) {
    uint64_t r = rnd() % 10;
    if (r < 5 || m.n_live == 0) {
      uint64_t lines = random_size(total);
      OK(zcp__tlsf_prepare(t));
      uint32_t id;
      zcp_status_t st = zcp__tlsf_alloc(t, lines, &id);
      if (st == ZCP_NO_SPACE) {
        failures++;
        cr_assert_lt(model_largest_run(&m), lines,
                     "alloc of %lu lines failed with a run of %lu", (unsigned long)lines,
                     (unsigned long)model_largest_run(&m));
      } else {
        cr_assert_eq(st, ZCP_OK);
        cr_assert_eq(zcp__tlsf_size(t, id), lines);
        model_mark(&m, t, id, id + 1);
        m.live[m.n_live++] = id;
        m.free_lines -= lines;
      }
    } else if (r < 8) {
      uint64_t k = rnd() % m.n_live;
      uint32_t id = m.live[k];
      m.free_lines += zcp__tlsf_size(t, id);
      model_mark(&m, t, id, 0);
      zcp__tlsf_free(t, id);
      m.live[k] = m.live[--m.n_live];
    } else {
      uint64_t k = rnd() % m.n_live;
      uint32_t id = m.live[k];
      uint64_t old = zcp__tlsf_size(t, id), want = random_size(total / 4 + 1);
      uint64_t off = zcp__tlsf_offset(t, id);
      OK(zcp__tlsf_prepare(t));
      model_mark(&m, t, id, 0);
      /* Growing in place works exactly when the lines after the block are free. */
      bool room = true;
      for (uint64_t i = off + old; i < off + want; i++) {
        if (i >= total || m.owner[i]) room = false;
      }
      bool ok = zcp__tlsf_resize(t, id, want);
      cr_assert_eq(ok, want <= old || room, "resize %lu -> %lu lines", (unsigned long)old,
                   (unsigned long)want);
      cr_assert_eq(zcp__tlsf_offset(t, id), off);
      if (ok) m.free_lines = m.free_lines + old - want;
      model_mark(&m, t, id, id + 1);
    }
    if (op % 64 == 63) {
      check(t);
      struct zcp__tlsf_stats s;
      zcp__tlsf_stats(t, &s);
      cr_assert_eq(s.free_lines, m.free_lines);
      cr_assert_eq(s.used_lines + s.free_lines, total);
      cr_assert_eq(s.live_blocks, m.n_live);
      cr_assert_eq(s.largest_free, model_largest_run(&m));
      /* Lookups agree with the model at random lines. */
      for (int q = 0; q < 16; q++) {
        uint64_t line = rnd() % total;
        uint32_t c = zcp__tlsf_find_containing(t, line);
        cr_assert_eq(c, m.owner[line] ? m.owner[line] - 1 : ZCP__TLSF_NIL, "line %lu",
                     (unsigned long)line);
        uint32_t s2 = zcp__tlsf_find(t, line);
        bool starts = m.owner[line] && zcp__tlsf_offset(t, m.owner[line] - 1) == line;
        cr_assert_eq(s2 != ZCP__TLSF_NIL, starts);
      }
    }
  }
  check(t);
  /* Free everything: one free block covering the range again. */
  while (m.n_live) zcp__tlsf_free(t, m.live[--m.n_live]);
  check(t);
  struct zcp__tlsf_stats s;
  zcp__tlsf_stats(t, &s);
  cr_assert_eq(s.free_blocks, 1);
  cr_assert_eq(s.largest_free, total);
  cr_assert_gt(failures, 0, "the stress should have exhausted the range at times");
  free(m.owner);
  free(m.live);
  zcp__tlsf_release(t);
}

Test(tlsf, random_stress_matches_model_small_range) {
  stress(512, 1, 20000);
}
Test(tlsf, random_stress_matches_model_odd_range) {
  stress(10007, 42, 20000);
}
Test(tlsf, random_stress_matches_model_large_range) {
  stress(1u << 18, 7, 8000);
}

Test(tlsf, every_size_up_to_the_range_fits_an_empty_range) {
  for (uint64_t total = 1; total < 300; total += 7) {
    struct zcp__tlsf *t;
    OK(zcp__tlsf_init(&t, total, NULL));
    for (uint64_t n = 1; n <= total; n++) {
      uint32_t id;
      OK(zcp__tlsf_prepare(t));
      OK(zcp__tlsf_alloc(t, n, &id));
      cr_assert_eq(zcp__tlsf_offset(t, id), 0);
      zcp__tlsf_free(t, id);
    }
    uint32_t id;
    cr_assert_eq(zcp__tlsf_alloc(t, total + 1, &id), ZCP_NO_SPACE);
    cr_assert_eq(id, ZCP__TLSF_NIL);
    check(t);
    zcp__tlsf_release(t);
  }
}

Test(tlsf, coalesces_both_neighbours) {
  struct zcp__tlsf *t;
  OK(zcp__tlsf_init(&t, 30, NULL));
  uint32_t a, b, c;
  OK(zcp__tlsf_prepare(t));
  OK(zcp__tlsf_alloc(t, 10, &a));
  OK(zcp__tlsf_prepare(t));
  OK(zcp__tlsf_alloc(t, 10, &b));
  OK(zcp__tlsf_prepare(t));
  OK(zcp__tlsf_alloc(t, 10, &c));
  uint32_t d;
  cr_assert_eq(zcp__tlsf_alloc(t, 1, &d), ZCP_NO_SPACE);
  zcp__tlsf_free(t, a);
  zcp__tlsf_free(t, c);
  check(t);
  struct zcp__tlsf_stats s;
  zcp__tlsf_stats(t, &s);
  cr_assert_eq(s.free_blocks, 2);
  zcp__tlsf_free(t, b);
  check(t);
  zcp__tlsf_stats(t, &s);
  cr_assert_eq(s.free_blocks, 1);
  cr_assert_eq(s.largest_free, 30);
  zcp__tlsf_release(t);
}

Test(tlsf, finds_blocks_by_start_and_interior_line) {
  struct zcp__tlsf *t;
  OK(zcp__tlsf_init(&t, 1u << 20, NULL));
  uint32_t ids[100];
  for (int i = 0; i < 100; i++) {
    OK(zcp__tlsf_prepare(t));
    OK(zcp__tlsf_alloc(t, (uint64_t)(i % 7) * 1000 + 1, &ids[i]));
  }
  for (int i = 0; i < 100; i += 2) zcp__tlsf_free(t, ids[i]);
  for (int i = 1; i < 100; i += 2) {
    uint64_t off = zcp__tlsf_offset(t, ids[i]), n = zcp__tlsf_size(t, ids[i]);
    cr_assert_eq(zcp__tlsf_find(t, off), ids[i]);
    cr_assert_eq(zcp__tlsf_find_containing(t, off + n - 1), ids[i]);
    cr_assert_eq(zcp__tlsf_find_containing(t, off + n / 2), ids[i]);
    if (n > 1) cr_assert_eq(zcp__tlsf_find(t, off + 1), ZCP__TLSF_NIL);
  }
  for (int i = 0; i < 100; i += 2) {
    /* freed: the lines of block i now belong to no allocated block */
    cr_assert_eq(zcp__tlsf_find_containing(t, zcp__tlsf_offset(t, ids[i + 1]) - 1),
                 ZCP__TLSF_NIL);
  }
  cr_assert_eq(zcp__tlsf_find_containing(t, (1u << 20) - 1), ZCP__TLSF_NIL);
  cr_assert_eq(zcp__tlsf_find_containing(t, 1u << 20), ZCP__TLSF_NIL);
  check(t);
  zcp__tlsf_release(t);
}

Test(tlsf, rejects_empty_and_huge_ranges) {
  struct zcp__tlsf *t;
  struct zcp_error e = {0};
  cr_assert_eq(zcp__tlsf_init(&t, 0, &e), ZCP_INVALID_ARGUMENT);
  cr_assert_null(t);
  cr_assert(strstr(e.message, "0 lines") != NULL, "%s", e.message);
  cr_assert_eq(zcp__tlsf_init(&t, (UINT64_C(1) << 48) + 1, &e), ZCP_INVALID_ARGUMENT);
}

Test(tlsf, huge_range_costs_only_bitmaps) {
  /* 2^28 lines (32 GiB of 128-byte lines): 32 MiB of start bits, touched sparsely. */
  struct zcp__tlsf *t;
  OK(zcp__tlsf_init(&t, UINT64_C(1) << 28, NULL));
  uint32_t id;
  OK(zcp__tlsf_prepare(t));
  OK(zcp__tlsf_alloc(t, (UINT64_C(1) << 28) - 5, &id));
  OK(zcp__tlsf_prepare(t));
  uint32_t id2;
  OK(zcp__tlsf_alloc(t, 5, &id2));
  cr_assert_eq(zcp__tlsf_find_containing(t, (UINT64_C(1) << 28) - 6), id);
  cr_assert_eq(zcp__tlsf_find_containing(t, (UINT64_C(1) << 28) - 1), id2);
  zcp__tlsf_free(t, id);
  cr_assert_eq(zcp__tlsf_find_containing(t, 12345), ZCP__TLSF_NIL);
  zcp__tlsf_free(t, id2);
  zcp__tlsf_release(t);
}

/* The self-check is only worth something if it notices: break each invariant once. */
static void expect_corrupt(struct zcp__tlsf *t, const char *needle) {
  struct zcp_error e = {0};
  cr_assert_eq(zcp__tlsf_check(t, &e), ZCP_CORRUPT_INPUT, "expected '%s'", needle);
  cr_assert(strstr(e.message, needle) != NULL, "message '%s' lacks '%s'", e.message,
            needle);
}

Test(tlsf, self_check_notices_each_broken_invariant) {
  struct zcp__tlsf *t;
  OK(zcp__tlsf_init(&t, 1000, NULL));
  uint32_t a, b, c;
  OK(zcp__tlsf_prepare(t));
  OK(zcp__tlsf_alloc(t, 10, &a));
  OK(zcp__tlsf_prepare(t));
  OK(zcp__tlsf_alloc(t, 20, &b));
  OK(zcp__tlsf_prepare(t));
  OK(zcp__tlsf_alloc(t, 30, &c));
  zcp__tlsf_free(t, b);
  check(t);

  t->b[a].size++; /* I1: overlap */
  expect_corrupt(t, "starts at line 10, expected 11 (gap or overlap)");
  t->b[a].size--;

  t->b[c].used = ZCP__TLSF_FREE; /* I2: two adjacent free blocks */
  expect_corrupt(t, "not coalesced");
  t->b[c].used = ZCP__TLSF_USED;

  unsigned fl = 1, sl = 4;         /* 20 lines: class (1, 4) */
  t->sl_bitmap[fl] &= ~(1u << sl); /* I4 */
  expect_corrupt(t, "disagrees");
  t->sl_bitmap[fl] |= 1u << sl;

  t->used_lines++; /* I6 */
  expect_corrupt(t, "counter says");
  t->used_lines--;

  t->starts.w[0][0] |= UINT64_C(1) << 11; /* I5: a start bit without a block */
  expect_corrupt(t, "start bits set");
  t->starts.w[0][0] &= ~(UINT64_C(1) << 11);

  uint32_t saved = t->heads[fl][sl]; /* I3: a free block missing from its list */
  t->heads[fl][sl] = ZCP__TLSF_NIL;
  t->sl_bitmap[fl] &= ~(1u << sl);
  if (t->sl_bitmap[fl] == 0) t->fl_bitmap &= ~(UINT64_C(1) << fl);
  expect_corrupt(t, "free lists hold");
  t->heads[fl][sl] = saved;
  t->sl_bitmap[fl] |= 1u << sl;
  t->fl_bitmap |= UINT64_C(1) << fl;
  check(t);
  zcp__tlsf_release(t);
}
