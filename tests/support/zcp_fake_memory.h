/* Fake cluster memory for tests, fuzzing and benchmarks of the descriptor layer: N
 * regions, each an anonymous mapping with PROT_NONE guard pages on both sides (a stray
 * read past a region faults at once) and a real zcp_pool managing it. Its allocator
 * places builder buffers in the regions (round robin), remembers the blocks so that they
 * can be sealed, and its zcp_descriptor_memory answers locate and resolve the way a
 * cluster would: resolve checks regions, epochs and zcp_pool_find_block. */
#ifndef ZCP_FAKE_MEMORY_H
#define ZCP_FAKE_MEMORY_H

#include <stdint.h>

#include "zcpool/descriptor.h"
#include "zcpool/pool.h"

struct zcp_fake_memory;

/* n_regions regions of region_size bytes (rounded up to pages). Region i has owner id
 * 10 + i and epoch 1. */
zcp_status_t zcp_fake_memory_init(struct zcp_fake_memory **out, int n_regions,
                                  int64_t region_size, struct zcp_error *err);
void zcp_fake_memory_release(struct zcp_fake_memory *m);

/* Builder allocator over the regions (blocks are granted, not sealed). */
struct zcp_allocator *zcp_fake_memory_allocator(struct zcp_fake_memory *m);
/* Seals every live block the allocator handed out. */
zcp_status_t zcp_fake_memory_seal_all(struct zcp_fake_memory *m, struct zcp_error *err);
/* locate / resolve over the regions. */
const struct zcp_descriptor_memory *zcp_fake_memory_descriptor(struct zcp_fake_memory *m);

int zcp_fake_memory_n_regions(const struct zcp_fake_memory *m);
struct zcp_pool *zcp_fake_memory_pool(struct zcp_fake_memory *m, int i);
uint8_t *zcp_fake_memory_base(struct zcp_fake_memory *m, int i);
int32_t zcp_fake_memory_region_id(const struct zcp_fake_memory *m, int i);
/* Changes the current epoch of region i (older refs become stale). */
void zcp_fake_memory_set_epoch(struct zcp_fake_memory *m, int i, uint64_t epoch);
/* Makes every later resolve fail with `status` (ZCP_OK: back to normal). */
void zcp_fake_memory_fail_resolve(struct zcp_fake_memory *m, zcp_status_t status);
/* Number of resolve calls so far. */
int64_t zcp_fake_memory_resolve_calls(const struct zcp_fake_memory *m);

#endif
