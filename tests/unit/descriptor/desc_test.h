/* Shared by the descriptor tests: a fixture batch built in fake regions, sealed, and its
 * descriptor. Criterion asserts on every step. */
#ifndef ZCP_DESC_TEST_H
#define ZCP_DESC_TEST_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "arrow_json.h"
#include "zcp_fake_memory.h"
#include "zcp_fixture.h"
#include "zcpool/descriptor.h"

struct world {
  struct zcp_fake_memory *fm;
  const struct zcp_descriptor_memory *mem;
  struct ArrowSchema schema;
  struct ArrowArray batch;
  uint8_t *desc;
  int64_t desc_size;
};

enum world_kind { WORLD_FIXTURE, WORLD_EXOTIC, WORLD_EXTENSIONS };

static inline void world_build(struct world *w, enum world_kind kind, int64_t rows,
                               int n_regions, int64_t region_size) {
  struct zcp_error err = {0};
  memset(w, 0, sizeof *w);
  cr_assert_eq(zcp_fake_memory_init(&w->fm, n_regions, region_size, &err), ZCP_OK, "%s",
               err.message);
  w->mem = zcp_fake_memory_descriptor(w->fm);
  struct zcp_allocator *a = zcp_fake_memory_allocator(w->fm);
  if (kind == WORLD_FIXTURE) {
    cr_assert_eq(zcp_fixture_schema(&w->schema, &err), ZCP_OK, "%s", err.message);
    cr_assert_eq(zcp_fixture_batch(0, rows, a, &w->batch, &err), ZCP_OK, "%s",
                 err.message);
  } else if (kind == WORLD_EXTENSIONS) {
    cr_assert_eq(zcp_fixture_extension_schema(&w->schema, &err), ZCP_OK, "%s", err.message);
    cr_assert_eq(zcp_fixture_extension_batch(rows, a, &w->batch, &err), ZCP_OK, "%s",
                 err.message);
  } else {
    cr_assert_eq(zcp_fixture_exotic_schema(&w->schema, &err), ZCP_OK, "%s", err.message);
    cr_assert_eq(zcp_fixture_exotic_batch(rows, a, &w->batch, &err), ZCP_OK, "%s",
                 err.message);
  }
  cr_assert_eq(zcp_fake_memory_seal_all(w->fm, &err), ZCP_OK, "%s", err.message);
}

static inline void world_encode(struct world *w) {
  struct zcp_error err = {0};
  zcp_descriptor_free(w->desc);
  w->desc = NULL;
  cr_assert_eq(
      zcp_descriptor_encode(&w->schema, &w->batch, w->mem, &w->desc, &w->desc_size, &err),
      ZCP_OK, "%s", err.message);
}

static inline void world_free(struct world *w) {
  zcp_descriptor_free(w->desc);
  zcp_array_release(&w->batch);
  zcp_schema_release(&w->schema);
  zcp_fake_memory_release(w->fm);
}

#endif
