/* Cache primitives for x86-64 (contract: cache.h).
 *
 * clflushopt (weakly ordered, so many lines are in flight at once) when CPUID says so,
 * else clflush (always there with SSE2, but serialised); clwb for write-back only when
 * present, else the flush instruction. There is no user-mode invalidate-only
 * instruction, so invalidation is a flush. The choice is made once at start-up; until
 * then the clflush loop, which every x86-64 CPU has, is used. */
#include <cpuid.h>
#include <stdint.h>

#include "fabric/cache.h"

#define LINE 64

static void flush_clflush(uintptr_t s, uintptr_t e) {
  for (uintptr_t p = s; p < e; p += LINE) {
    __asm__ volatile("clflush %0" : "+m"(*(volatile char *)p));
  }
}

static void flush_clflushopt(uintptr_t s, uintptr_t e) {
  for (uintptr_t p = s; p < e; p += LINE) {
    __asm__ volatile("clflushopt %0" : "+m"(*(volatile char *)p));
  }
}

static void writeback_clwb(uintptr_t s, uintptr_t e) {
  for (uintptr_t p = s; p < e; p += LINE) {
    __asm__ volatile("clwb %0" : "+m"(*(volatile char *)p));
  }
}

static void (*flush_fn)(uintptr_t, uintptr_t) = flush_clflush;
static void (*writeback_fn)(uintptr_t, uintptr_t) = flush_clflush;
static const char *flush_name = "clflush";
static const char *writeback_name = "clflush";

__attribute__((constructor)) static void detect(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return;
  if (b & (1u << 23)) { /* CPUID.(7,0):EBX[23] CLFLUSHOPT */
    flush_fn = flush_clflushopt;
    writeback_fn = flush_clflushopt;
    flush_name = writeback_name = "clflushopt";
  }
  if (b & (1u << 24)) { /* CPUID.(7,0):EBX[24] CLWB */
    writeback_fn = writeback_clwb;
    writeback_name = "clwb";
  }
}

void zcp__cache_flush_range(uintptr_t start, uintptr_t end) {
  flush_fn(start, end);
}
void zcp__cache_writeback_range(uintptr_t start, uintptr_t end) {
  writeback_fn(start, end);
}
void zcp__cache_invalidate_range(uintptr_t start, uintptr_t end) {
  flush_fn(start, end);
}
/* mfence, not sfence: the importer's invalidate-then-read (DESIGN §4 step 5) must also
 * keep later loads behind the flushes. */
void zcp__cache_fence(void) {
  __asm__ volatile("mfence" ::: "memory");
}
int64_t zcp__cache_line(void) {
  return LINE;
}
const char *zcp__cache_flush_name(void) {
  return flush_name;
}
const char *zcp__cache_writeback_name(void) {
  return writeback_name;
}
