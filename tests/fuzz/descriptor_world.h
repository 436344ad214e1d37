/* The fixed world of the descriptor fuzz target and of its corpus generator: fake
 * regions (guard pages around each) holding the fixture batch, the rare-type batch and
 * the canonical extension types, built in the same order in both programs, so that the pool offsets in a corpus
 * descriptor name the same buffers when the target replays it. */
#ifndef ZCP_DESCRIPTOR_WORLD_H
#define ZCP_DESCRIPTOR_WORLD_H

#include "zcp_fake_memory.h"
#include "zcp_fixture.h"
#include "zcpool/descriptor.h"

#define DWORLD_ROWS_FIXTURE 64
#define DWORLD_ROWS_EXOTIC 40
#define DWORLD_ROWS_EXTENSIONS 16
#define DWORLD_BATCHES 3

struct dworld {
  struct zcp_fake_memory *fm;
  struct ArrowSchema schema[DWORLD_BATCHES];
  struct ArrowArray batch[DWORLD_BATCHES];
};

/* 0 on success. The fuzz target keeps its world for the life of the process. */
static inline int dworld_init(struct dworld *w) {
  struct zcp_error err = {0};
  if (zcp_fake_memory_init(&w->fm, 2, 8 << 20, &err) != ZCP_OK) return 1;
  struct zcp_allocator *a = zcp_fake_memory_allocator(w->fm);
  if (zcp_fixture_schema(&w->schema[0], &err) != ZCP_OK ||
      zcp_fixture_batch(0, DWORLD_ROWS_FIXTURE, a, &w->batch[0], &err) != ZCP_OK ||
      zcp_fixture_exotic_schema(&w->schema[1], &err) != ZCP_OK ||
      zcp_fixture_exotic_batch(DWORLD_ROWS_EXOTIC, a, &w->batch[1], &err) != ZCP_OK ||
      zcp_fake_memory_seal_all(w->fm, &err) != ZCP_OK) {
    return 1;
  }
  /* one granted (unsealed) block and one freed block, for mutations to land in */
  void *p = NULL;
  if (zcp_pool_alloc(zcp_fake_memory_pool(w->fm, 0), 4096, &p, &err) != ZCP_OK) return 1;
  if (zcp_pool_alloc(zcp_fake_memory_pool(w->fm, 1), 4096, &p, &err) != ZCP_OK ||
      zcp_pool_free(zcp_fake_memory_pool(w->fm, 1), p, &err) != ZCP_OK) {
    return 1;
  }
  /* after the blocks above, so that older corpus offsets keep naming what they named */
  if (zcp_fixture_extension_schema(&w->schema[2], &err) != ZCP_OK ||
      zcp_fixture_extension_batch(DWORLD_ROWS_EXTENSIONS, a, &w->batch[2], &err) != ZCP_OK ||
      zcp_fake_memory_seal_all(w->fm, &err) != ZCP_OK) {
    return 1;
  }
  return 0;
}

static inline void dworld_free(struct dworld *w) {
  for (int i = 0; i < DWORLD_BATCHES; i++) {
    zcp_array_release(&w->batch[i]);
    zcp_schema_release(&w->schema[i]);
  }
  zcp_fake_memory_release(w->fm);
}

#endif
