/* Cache primitives for POWER (ppc64le; contract: cache.h). ThymesisFlow's home.
 *
 * dcbf with L=0 writes a line back and drops it from every cache of the coherence
 * domain; dcbst writes back only. User mode has no invalidate-only instruction (dcbi is
 * privileged), so invalidation is dcbf. hwsync ("sync") orders them with every later
 * access. Lines are 128 bytes on every POWER8/9/10. */
#include <stdint.h>

#include "fabric/cache.h"

#define LINE 128

void zcp__cache_flush_range(uintptr_t start, uintptr_t end) {
  for (uintptr_t p = start; p < end; p += LINE) {
    __asm__ volatile("dcbf 0,%0,0" : : "r"(p) : "memory");
  }
}

void zcp__cache_writeback_range(uintptr_t start, uintptr_t end) {
  for (uintptr_t p = start; p < end; p += LINE) {
    __asm__ volatile("dcbst 0,%0" : : "r"(p) : "memory");
  }
}

void zcp__cache_invalidate_range(uintptr_t start, uintptr_t end) {
  zcp__cache_flush_range(start, end);
}

void zcp__cache_fence(void) {
  __asm__ volatile("sync" ::: "memory");
}
int64_t zcp__cache_line(void) {
  return LINE;
}
const char *zcp__cache_flush_name(void) {
  return "dcbf";
}
const char *zcp__cache_writeback_name(void) {
  return "dcbst";
}
