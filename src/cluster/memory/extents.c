/* Sorted arrays of per-block records keyed by the block's offset in this node's region:
 * the grants (grants.c) and the seal tags (tags.c). Both keep their records in one
 * array sorted by offset, found by binary search and changed by moving the tail, so the
 * search and the growth live here once. Every record type begins with its int64_t
 * offset (checked in cluster/internal.h). */
#include "common/platform.h"

#include <stdlib.h>
#include <string.h>

#include "cluster/memory/memory.h"

static int64_t offset_at(const void *v, size_t elem, size_t i) {
  int64_t offset;
  memcpy(&offset, (const char *)v + i * elem, sizeof offset);
  return offset;
}

size_t zcp__extents_lower(const void *v, size_t n, size_t elem, int64_t offset) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (offset_at(v, elem, mid) < offset)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

void *zcp__extents_open(void *v, size_t *n, size_t *cap, size_t elem, size_t i) {
  if (*n == *cap) {
    /* Doubling from 64: the records are few and every change is already a round trip. */
    size_t c = *cap ? *cap * 2 : 64;
    void *w = realloc(v, c * elem);
    if (w == NULL) return NULL;
    v = w;
    *cap = c;
  }
  char *p = v;
  memmove(p + (i + 1) * elem, p + i * elem, (*n - i) * elem);
  (*n)++;
  return v;
}

void zcp__extents_remove(void *v, size_t *n, size_t elem, size_t i, size_t j) {
  char *p = v;
  memmove(p + i * elem, p + j * elem, (*n - j) * elem);
  *n -= j - i;
}
