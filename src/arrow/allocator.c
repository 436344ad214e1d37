/* The default allocator: data buffers on the process heap, 64-byte aligned, with a
 * process-wide live-byte counter so that tests can prove nothing leaked.
 *
 * Small blocks come from aligned_alloc. Blocks of ZCP_BIG_BLOCK bytes and more are
 * anonymous mappings, so that growing a large column is an mremap (no copy, and a failed
 * grow leaves the old block intact as the interface requires) rather than a copy. Which
 * kind a block is follows from its size alone, because free and reallocate are told the
 * size the block was asked with. This allocator must never hand out memory that is not
 * aligned to the requested alignment. */
#include "common/platform.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/util.h"
#include "zcpool/arrow.h"

#define ZCP_BIG_BLOCK ((int64_t)1 << 20)

static _Atomic int64_t live_bytes;

static int64_t page_size(void) {
  static _Atomic int64_t cached;
  int64_t p = atomic_load_explicit(&cached, memory_order_relaxed);
  if (p == 0) {
    long v = sysconf(_SC_PAGESIZE);
    p = v > 0 ? (int64_t)v : 4096;
    atomic_store_explicit(&cached, p, memory_order_relaxed);
  }
  return p;
}

/* Whether a block is a mapping depends on its size only: free is not told alignments. */
static bool is_mapped(int64_t size) {
  return size >= ZCP_BIG_BLOCK;
}

static int64_t mapped_len(int64_t size) {
  return zcp__round_up(size, page_size());
}

static void *raw_alloc(int64_t size, int64_t alignment) {
  if (is_mapped(size)) {
    int64_t len = mapped_len(size);
    int64_t extra = alignment > page_size() ? alignment : 0;
    uint8_t *p = mmap(NULL, (size_t)(len + extra), PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    if (extra == 0) return p;
    /* Alignment beyond a page: map more, then unmap the slack on both sides. */
    uint8_t *a = (uint8_t *)zcp__round_up((int64_t)(uintptr_t)p, alignment);
    if (a > p) munmap(p, (size_t)(a - p));
    if (a + len < p + len + extra)
      munmap(a + len, (size_t)((p + len + extra) - (a + len)));
    return a;
  }
  /* aligned_alloc wants a size that is a multiple of the alignment. */
  int64_t n = zcp__round_up(size > 0 ? size : 1, alignment);
  return aligned_alloc((size_t)alignment, (size_t)n);
}

static void raw_free(void *ptr, int64_t size) {
  if (is_mapped(size)) {
    munmap(ptr, (size_t)mapped_len(size));
  } else {
    free(ptr);
  }
}

static zcp_status_t args_check(int64_t size, int64_t alignment, struct zcp_error *err) {
  /* Sizes beyond 2^62 cannot be rounded up without overflow: nobody has that memory. */
  if (size < 0 || size > ((int64_t)1 << 62))
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "heap: cannot allocate %lld bytes",
                         (long long)size);
  if (!zcp__is_pow2(alignment))
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "heap: alignment %lld is not a power of two",
                         (long long)alignment);
  return ZCP_OK;
}

static zcp_status_t heap_allocate(struct zcp_allocator *self, int64_t size,
                                  int64_t alignment, void **out, struct zcp_error *err) {
  *out = NULL;
  ZCP_RETURN_NOT_OK(args_check(size, alignment, err));
  if (alignment < ZCP_ALIGNMENT) alignment = ZCP_ALIGNMENT;
  void *p = raw_alloc(size, alignment);
  if (p == NULL)
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "heap: no memory for %lld bytes",
                         (long long)size);
  atomic_fetch_add_explicit(&live_bytes, size, memory_order_relaxed);
  *out = p;
  return ZCP_OK;
}

static void heap_free(struct zcp_allocator *self, void *ptr, int64_t size) {
  if (ptr == NULL) return;
  raw_free(ptr, size);
  atomic_fetch_sub_explicit(&live_bytes, size, memory_order_relaxed);
}

static zcp_status_t heap_reallocate(struct zcp_allocator *self, void *ptr,
                                    int64_t old_size, int64_t new_size, int64_t alignment,
                                    void **out, struct zcp_error *err) {
  if (ptr == NULL) return heap_allocate(self, new_size, alignment, out, err);
  *out = NULL;
  ZCP_RETURN_NOT_OK(args_check(new_size, alignment, err));
  if (old_size < 0)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "heap: old size %lld",
                         (long long)old_size);
  if (alignment < ZCP_ALIGNMENT) alignment = ZCP_ALIGNMENT;
  void *q = NULL;
  if (is_mapped(old_size) && is_mapped(new_size) && alignment <= page_size()) {
    /* mremap keeps the contents and page alignment; on failure the old mapping stays. */
    q = mremap(ptr, (size_t)mapped_len(old_size), (size_t)mapped_len(new_size),
               MREMAP_MAYMOVE);
    if (q == MAP_FAILED) q = NULL;
  } else {
    q = raw_alloc(new_size, alignment);
    if (q != NULL) {
      memcpy(q, ptr, (size_t)ZCP_MIN(old_size, new_size));
      raw_free(ptr, old_size);
    }
  }
  if (q == NULL)
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY,
                         "heap: no memory to grow %lld bytes to %lld",
                         (long long)old_size, (long long)new_size);
  atomic_fetch_add_explicit(&live_bytes, new_size - old_size, memory_order_relaxed);
  *out = q;
  return ZCP_OK;
}

static struct zcp_allocator default_allocator = {
    .allocate = heap_allocate,
    .reallocate = heap_reallocate,
    .free = heap_free,
    .alignment = ZCP_ALIGNMENT,
    .private_data = NULL,
};

struct zcp_allocator *zcp_allocator_default(void) {
  return &default_allocator;
}

int64_t zcp_allocator_default_live_bytes(void) {
  return atomic_load_explicit(&live_bytes, memory_order_relaxed);
}
