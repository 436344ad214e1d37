/* zcpool — the allocator interface.
 *
 * What the columnar core allocates every data buffer with: a small struct of function
 * pointers plus private data (nanoarrow's habit, Arrow C++'s MemoryPool in C). The heap
 * is one; a pool over a region of pooled memory (zcpool/pool.h) is another, so that
 * builders write Arrow buffers straight into memory other nodes can read. This header
 * sits below both the allocator layer and the columnar core, so that neither reaches up.
 */
#ifndef ZCPOOL_ALLOCATOR_H
#define ZCPOOL_ALLOCATOR_H

#include <stdint.h>

#include "zcpool/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ZCP_ALIGNMENT 64 /* minimum alignment and padding of every data buffer */

struct zcp_allocator {
  /* Sets *out to size bytes aligned to at least `alignment` (a power of two >= 64). The
   * block may be larger than asked; buffers are padded by the caller. On failure *out is
   * NULL, and the status and err say why: ZCP_OUT_OF_MEMORY (the heap), ZCP_NO_SPACE (a
   * full region or a quota), ZCP_PEER_DOWN (a remote pool whose owner is down),
   * ZCP_INVALID_ARGUMENT (a size or alignment it cannot serve), ... err may be NULL. */
  zcp_status_t (*allocate)(struct zcp_allocator *self, int64_t size, int64_t alignment,
                           void **out, struct zcp_error *err);
  /* Grows or shrinks a block returned by allocate (ptr NULL: allocates); contents up to
   * min(old, new) kept. On failure *out is NULL, ptr stays valid and err says why. */
  zcp_status_t (*reallocate)(struct zcp_allocator *self, void *ptr, int64_t old_size,
                             int64_t new_size, int64_t alignment, void **out,
                             struct zcp_error *err);
  /* Frees a block returned by allocate/reallocate; size is what was asked for it. */
  void (*free)(struct zcp_allocator *self, void *ptr, int64_t size);
  /* Alignment (and padding unit) this allocator wants: 64, or 128 for pooled memory
   * whose cache lines are 128 bytes. Builders round buffer capacities up to it. */
  int64_t alignment;
  void *private_data;
};

/* The process heap, 64-byte aligned (blocks of 1 MiB and more are anonymous mappings,
 * grown with mremap). Static: never freed. Counts live bytes so that tests can check
 * for leaks: see zcp_allocator_default_live_bytes. */
ZCP_API struct zcp_allocator *zcp_allocator_default(void);
ZCP_API int64_t zcp_allocator_default_live_bytes(void);

#ifdef __cplusplus
}
#endif
#endif /* ZCPOOL_ALLOCATOR_H */
