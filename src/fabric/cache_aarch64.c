/* Cache primitives for Arm64 (contract: cache.h). CXL hosts.
 *
 * dc civac cleans and invalidates a line to the point of coherence; dc cvac cleans only.
 * dc ivac (invalidate only) is not allowed at EL0, so invalidation is dc civac. dsb sy
 * waits for all of them and orders every later access. The line size is the smallest
 * data cache line from CTR_EL0, read once at start-up. */
#include <stdint.h>

#include "fabric/cache.h"

static int64_t line = 64;

__attribute__((constructor)) static void detect(void) {
  uint64_t ctr;
  __asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
  line = (int64_t)4 << ((ctr >> 16) & 0xf); /* DminLine: log2 of words */
}

void zcp__cache_flush_range(uintptr_t start, uintptr_t end) {
  for (uintptr_t p = start; p < end; p += (uintptr_t)line) {
    __asm__ volatile("dc civac, %0" : : "r"(p) : "memory");
  }
}

void zcp__cache_writeback_range(uintptr_t start, uintptr_t end) {
  for (uintptr_t p = start; p < end; p += (uintptr_t)line) {
    __asm__ volatile("dc cvac, %0" : : "r"(p) : "memory");
  }
}

void zcp__cache_invalidate_range(uintptr_t start, uintptr_t end) {
  zcp__cache_flush_range(start, end);
}

void zcp__cache_fence(void) {
  __asm__ volatile("dsb sy" ::: "memory");
}
int64_t zcp__cache_line(void) {
  return line;
}
const char *zcp__cache_flush_name(void) {
  return "dc civac";
}
const char *zcp__cache_writeback_name(void) {
  return "dc cvac";
}
