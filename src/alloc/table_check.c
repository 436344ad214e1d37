/* The allocation table's self-check: walks the allocator and the table and verifies the
 * invariants T1-T5 listed at the top of table.c, after the allocator's own (tlsf.c).
 * Read-only: it must never change what it checks. */
#include "common/platform.h"

#include <stdlib.h>

#include "alloc/table_private.h"
#include "common/util.h"

#define CHECK(cond, ...)                                       \
  do {                                                         \
    if (!(cond)) {                                             \
      st = zcp_error_set(err, ZCP_CORRUPT_INPUT, __VA_ARGS__); \
      goto out;                                                \
    }                                                          \
  } while (0)

zcp_status_t zcp__table_check_locked(struct zcp__table *t, struct zcp_error *err) {
  int64_t *bytes = calloc((size_t)t->max_nodes * 2, sizeof *bytes);
  zcp_status_t st = zcp__tlsf_check(t->tlsf, err);
  if (st != ZCP_OK) goto out;
  CHECK(bytes != NULL, "table check: heap exhausted");
  int64_t *count = bytes + t->max_nodes;
  /* T1, T4 and the per-node sums, in address order. */
  for (uint32_t id = zcp__tlsf_first_allocated(t->tlsf); id != NIL;
       id = zcp__tlsf_next_allocated(t->tlsf, id)) {
    const struct entry *e = &t->e[id];
    uint64_t off = zcp__tlsf_offset(t->tlsf, id), size = zcp__tlsf_size(t->tlsf, id);
    CHECK(id < t->e_cap, "block %u has no table entry", id);
    CHECK(e->node >= 0 && e->node < t->max_nodes && t->clients[e->node] != NULL,
          "block 0x%llx: entry names node %d, which has no client record",
          (ull)(off << t->shift), e->node);
    CHECK(e->state == ZCP_BLOCK_GRANTED || e->state == ZCP_BLOCK_SEALED ||
              e->state == STATE_MOVING || e->state == STATE_TIERED,
          "block 0x%llx: state %u", (ull)(off << t->shift), e->state);
    if (e->state == STATE_TIERED) {
      _Atomic uint32_t *w = tier_at(t, id);
      uint32_t v = w ? atomic_load_explicit(w, memory_order_acquire) : 0;
      CHECK(v != 0 && (v >> ZCP__TIER_LINES_SHIFT) == size,
            "tier block 0x%llx of %llu lines: its word is 0x%x", (ull)(off << t->shift),
            (ull)size, v);
    }
    CHECK(off + size <= (uint64_t)t->zero_mark,
          "block 0x%llx ends above the never-used mark 0x%llx", (ull)(off << t->shift),
          (ull)((uint64_t)t->zero_mark << t->shift));
    bytes[e->node] += (int64_t)size << t->shift;
    count[e->node]++;
  }
  /* T2, T3: each client's list and counters. */
  int64_t total = 0;
  for (int32_t n = 0; n < t->max_nodes; n++) {
    struct client *c = t->clients[n];
    if (c == NULL) continue;
    int64_t listed = 0;
    uint32_t prev = NIL;
    for (uint32_t id = c->head; id != NIL; id = t->e[id].next) {
      CHECK(++listed <= count[n], "node %d: block list longer than its %lld blocks", n,
            (ll)count[n]);
      CHECK(zcp__tlsf_is_allocated(t->tlsf, id) && t->e[id].node == n,
            "node %d: list holds a block that is not its own", n);
      CHECK(t->e[id].prev == prev, "node %d: block list back link broken", n);
      prev = id;
    }
    CHECK(listed == count[n] && c->blocks == count[n],
          "node %d: %lld blocks listed, %lld counted, %lld in the table", n, (ll)listed,
          (ll)c->blocks, (ll)count[n]);
    CHECK(c->used == bytes[n], "node %d: holds %lld bytes, counter says %lld", n,
          (ll)bytes[n], (ll)c->used);
    total += c->used;
  }
  struct zcp__tlsf_stats s;
  zcp__tlsf_stats(t->tlsf, &s);
  CHECK(total == (int64_t)s.used_lines << t->shift,
        "nodes hold %lld bytes, the allocator %lld", (ll)total,
        (ll)(s.used_lines << t->shift));
out:
  free(bytes);
  return st;
}

zcp_status_t zcp__table_check(struct zcp__table *t, struct zcp_error *err) {
  pthread_mutex_lock(&t->lock);
  zcp_status_t st = zcp__table_check_locked(t, err);
  pthread_mutex_unlock(&t->lock);
  return st;
}
