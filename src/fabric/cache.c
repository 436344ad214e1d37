/* Public cache control: the protocol primitives of DESIGN §4 on top of the per-CPU
 * instructions (cache.h), the non-coherent emulator when it is on, and counters for the
 * benchmarks. Nothing here may take a lock or allocate: flushes sit on the publish path
 * and run inside tight loops. */
#include <stdatomic.h>

#include "fabric/cache.h"
#include "fabric/internal.h"

static _Atomic int64_t stat_flushed, stat_written_back, stat_invalidated, stat_fences;

/* Rounds [p, p + len) out to whole lines. False when there is nothing to do. */
static int to_lines(const void *p, int64_t len, uintptr_t *start, uintptr_t *end) {
  if (p == NULL || len <= 0) return 0;
  uintptr_t line = (uintptr_t)zcp__cache_line();
  uintptr_t a = (uintptr_t)p;
  if (a + (uintptr_t)len < a) return 0;
  *start = a & ~(line - 1);
  *end = (a + (uintptr_t)len + line - 1) & ~(line - 1);
  return 1;
}

static void count(_Atomic int64_t *c, uintptr_t start, uintptr_t end) {
  atomic_fetch_add_explicit(c, (int64_t)((end - start) / (uintptr_t)zcp__cache_line()),
                            memory_order_relaxed);
}

void zcp_cache_flush(const void *p, int64_t len) {
  uintptr_t s, e;
  if (!to_lines(p, len, &s, &e)) return;
  count(&stat_flushed, s, e);
  if (atomic_load_explicit(&zcp__emulator_active, memory_order_relaxed) &&
      zcp__emulator_cache_op(ZCP__EMU_FLUSH, p, len)) {
    return;
  }
  zcp__cache_flush_range(s, e);
}

void zcp_cache_writeback(const void *p, int64_t len) {
  uintptr_t s, e;
  if (!to_lines(p, len, &s, &e)) return;
  count(&stat_written_back, s, e);
  if (atomic_load_explicit(&zcp__emulator_active, memory_order_relaxed) &&
      zcp__emulator_cache_op(ZCP__EMU_WRITEBACK, p, len)) {
    return;
  }
  zcp__cache_writeback_range(s, e);
}

void zcp_cache_invalidate(const void *p, int64_t len) {
  uintptr_t s, e;
  if (!to_lines(p, len, &s, &e)) return;
  count(&stat_invalidated, s, e);
  if (atomic_load_explicit(&zcp__emulator_active, memory_order_relaxed) &&
      zcp__emulator_cache_op(ZCP__EMU_INVALIDATE, p, len)) {
    return;
  }
  zcp__cache_invalidate_range(s, e);
}

void zcp_cache_fence(void) {
  atomic_fetch_add_explicit(&stat_fences, 1, memory_order_relaxed);
  zcp__cache_fence();
}

int64_t zcp_cache_line_size(void) {
  return zcp__cache_line();
}
const char *zcp_cache_flush_method(void) {
  return zcp__cache_flush_name();
}
const char *zcp_cache_writeback_method(void) {
  return zcp__cache_writeback_name();
}

void zcp_cache_stats_get(struct zcp_cache_stats *out) {
  out->lines_flushed = atomic_load_explicit(&stat_flushed, memory_order_relaxed);
  out->lines_written_back =
      atomic_load_explicit(&stat_written_back, memory_order_relaxed);
  out->lines_invalidated = atomic_load_explicit(&stat_invalidated, memory_order_relaxed);
  out->fences = atomic_load_explicit(&stat_fences, memory_order_relaxed);
}

void zcp_cache_stats_reset(void) {
  atomic_store_explicit(&stat_flushed, 0, memory_order_relaxed);
  atomic_store_explicit(&stat_written_back, 0, memory_order_relaxed);
  atomic_store_explicit(&stat_invalidated, 0, memory_order_relaxed);
  atomic_store_explicit(&stat_fences, 0, memory_order_relaxed);
}
