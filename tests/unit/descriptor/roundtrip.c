/* Descriptors that should work: every type of the columnar core (the 22-column fixture
 * and the 23 rarer types), Arrow's canonical extension types (metadata byte for byte),
 * slices, nulls, dictionaries, views with variadic buffers and
 * metadata, encoded over fake regions and decoded in place. Values are compared through
 * the plain JSON form of both sides, and every decoded buffer must be the very address
 * the producer wrote (zero copy). Also: descriptor size does not depend on rows, refs
 * list what resolve sees, and releasing a decoded batch frees no region memory. */
#include "desc_test.h"

TestSuite(descriptor_roundtrip, .timeout = 300);

static void noop_release(struct ArrowArray *a) {
  a->release = NULL;
}

/* Every buffer of got is the producer's (the view sizes buffer is the importer's own). */
static void expect_same_buffers(const struct ArrowArray *want,
                                const struct ArrowArray *got, const struct ArrowSchema *s,
                                const char *path) {
  cr_assert_eq(got->n_buffers, want->n_buffers, "%s: buffer count", path);
  cr_assert_eq(got->n_children, want->n_children, "%s: child count", path);
  bool views = strcmp(s->format, "vu") == 0 || strcmp(s->format, "vz") == 0;
  int64_t n = views ? want->n_buffers - 1 : want->n_buffers;
  for (int64_t i = 0; i < n; i++) {
    if (got->buffers[i] == NULL && want->length == 0) continue; /* unused, not located */
    cr_expect_eq(got->buffers[i], want->buffers[i], "%s: buffer %lld moved (%p, was %p)",
                 path, (long long)i, got->buffers[i], want->buffers[i]);
  }
  if (views) {
    cr_expect_eq(memcmp(got->buffers[n], want->buffers[n], (size_t)(n - 2) * 8), 0,
                 "%s: variadic sizes differ", path);
  }
  for (int64_t i = 0; i < want->n_children; i++) {
    char sub[256];
    snprintf(sub, sizeof sub, "%s.%lld", path, (long long)i);
    expect_same_buffers(want->children[i], got->children[i], s->children[i], sub);
  }
  cr_assert_eq(got->dictionary == NULL, want->dictionary == NULL, "%s: dictionary", path);
  if (want->dictionary != NULL) {
    char sub[256];
    snprintf(sub, sizeof sub, "%s.[dictionary]", path);
    expect_same_buffers(want->dictionary, got->dictionary, s->dictionary, sub);
  }
}

static void expect_same_schema(const struct ArrowSchema *a, const struct ArrowSchema *b) {
  cr_assert_str_eq(a->format, b->format);
  cr_assert_eq(a->name == NULL, b->name == NULL);
  if (a->name != NULL) cr_assert_str_eq(a->name, b->name);
  cr_assert_eq(a->flags, b->flags, "flags of '%s'", a->name ? a->name : "");
  int64_t ma = zcp_metadata_size(a->metadata), mb = zcp_metadata_size(b->metadata);
  if (ma > 4 || mb > 4) {
    cr_assert_eq(ma, mb, "metadata of '%s'", a->name ? a->name : "");
    cr_assert_eq(memcmp(a->metadata, b->metadata, (size_t)ma), 0);
  }
  cr_assert_eq(a->n_children, b->n_children);
  for (int64_t i = 0; i < a->n_children; i++) {
    expect_same_schema(a->children[i], b->children[i]);
  }
  cr_assert_eq(a->dictionary == NULL, b->dictionary == NULL);
  if (a->dictionary) expect_same_schema(a->dictionary, b->dictionary);
}

/* Encodes (schema, batch), decodes at `level` and compares everything. */
static void expect_round_trip(struct world *w, const struct ArrowSchema *schema,
                              const struct ArrowArray *batch,
                              enum zcp_validate_level level) {
  struct zcp_error err = {0};
  uint8_t *desc = NULL;
  int64_t size = 0;
  cr_assert_eq(zcp_descriptor_encode(schema, batch, w->mem, &desc, &size, &err), ZCP_OK,
               "%s", err.message);
  int64_t calls = zcp_fake_memory_resolve_calls(w->fm);
  struct ArrowSchema s2;
  struct ArrowArray a2;
  cr_assert_eq(zcp_descriptor_decode(desc, size, w->mem, level, &s2, &a2, &err), ZCP_OK,
               "level %d: %s", (int)level, err.message);
  cr_assert_eq(zcp_fake_memory_resolve_calls(w->fm), calls + 1, "one resolve per decode");
  expect_same_schema(schema, &s2);
  expect_same_buffers(batch, &a2, schema, "batch");
  json_t *want = NULL, *got = NULL;
  cr_assert_eq(zcp_json_batch_values(batch, schema, &want, &err), ZCP_OK, "%s",
               err.message);
  cr_assert_eq(zcp_json_batch_values(&a2, &s2, &got, &err), ZCP_OK, "%s", err.message);
  char where[512] = "";
  cr_expect(zcp_json_same(want, got, where, sizeof where), "values differ at %s", where);
  json_decref(want);
  json_decref(got);
  zcp_array_release(&a2);
  zcp_schema_release(&s2);
  zcp_descriptor_free(desc);
}

Test(descriptor_roundtrip, fixture_every_level) {
  struct world w;
  world_build(&w, WORLD_FIXTURE, 1000, 3, 64 << 20);
  for (int level = ZCP_VALIDATE_MINIMAL; level <= ZCP_VALIDATE_FULL; level++) {
    expect_round_trip(&w, &w.schema, &w.batch, (enum zcp_validate_level)level);
  }
  world_free(&w);
}

Test(descriptor_roundtrip, rare_types) {
  struct world w;
  world_build(&w, WORLD_EXOTIC, 777, 2, 64 << 20);
  for (int level = ZCP_VALIDATE_MINIMAL; level <= ZCP_VALIDATE_FULL; level++) {
    expect_round_trip(&w, &w.schema, &w.batch, (enum zcp_validate_level)level);
  }
  world_free(&w);
}

Test(descriptor_roundtrip, canonical_extension_types_keep_their_metadata) {
  struct world w;
  world_build(&w, WORLD_EXTENSIONS, 300, 2, 32 << 20);
  for (int level = ZCP_VALIDATE_MINIMAL; level <= ZCP_VALIDATE_FULL; level++) {
    expect_round_trip(&w, &w.schema, &w.batch, (enum zcp_validate_level)level);
  }
  /* byte for byte, and each printed as its extension reads */
  struct zcp_error err = {0};
  uint8_t *desc = NULL;
  int64_t size = 0;
  cr_assert_eq(zcp_descriptor_encode(&w.schema, &w.batch, w.mem, &desc, &size, &err), ZCP_OK,
               "%s", err.message);
  struct ArrowSchema s2;
  struct ArrowArray a2;
  cr_assert_eq(zcp_descriptor_decode(desc, size, w.mem, ZCP_VALIDATE_FULL, &s2, &a2, &err),
               ZCP_OK, "%s", err.message);
  for (int64_t c = 0; c < s2.n_children; c++) {
    const char *want = zcp_fixture_extension_metadata((int)c);
    int64_t n = zcp_metadata_size(want);
    cr_assert_eq(zcp_metadata_size(s2.children[c]->metadata), n, "column %lld", (long long)c);
    cr_expect_eq(memcmp(s2.children[c]->metadata, want, (size_t)n), 0, "column %lld",
                 (long long)c);
  }
  struct zcp_array_view v;
  cr_assert_eq(zcp_array_view_init(&a2, &s2, &v, &err), ZCP_OK, "%s", err.message);
  char got[128];
  zcp_array_view_format(&v.children[0], 1, got, sizeof got);
  cr_expect_str_eq(got, "10111213-1415-1617-1819-1a1b1c1d1e1f");
  zcp_array_view_format(&v.children[4], 2, got, sizeof got);
  cr_expect_str_eq(got, "[[20, 21, 22], [23, 24, 25]]");
  zcp_array_view_reset(&v);
  zcp_array_release(&a2);
  zcp_schema_release(&s2);
  zcp_descriptor_free(desc);
  world_free(&w);
}

Test(descriptor_roundtrip, empty_batches) {
  struct world w;
  world_build(&w, WORLD_FIXTURE, 0, 1, 16 << 20);
  expect_round_trip(&w, &w.schema, &w.batch, ZCP_VALIDATE_FULL);
  world_free(&w);
  world_build(&w, WORLD_EXOTIC, 0, 1, 16 << 20);
  expect_round_trip(&w, &w.schema, &w.batch, ZCP_VALIDATE_FULL);
  world_free(&w);
}

/* The batch sliced at the root, and every column sliced again on its own. */
Test(descriptor_roundtrip, slices) {
  enum world_kind kinds[2] = {WORLD_FIXTURE, WORLD_EXOTIC};
  for (int k = 0; k < 2; k++) {
    struct world w;
    world_build(&w, kinds[k], 300, 2, 64 << 20);
    const int64_t offsets[] = {1, 3, 8, 13};
    for (size_t o = 0; o < 4; o++) {
      struct ArrowArray s = w.batch;
      s.offset = offsets[o];
      s.length = w.batch.length - offsets[o] - 5;
      s.null_count = -1;
      s.release = noop_release;
      s.private_data = NULL;
      expect_round_trip(&w, &w.schema, &s, ZCP_VALIDATE_FULL);
    }
    /* child offsets: column i starts at row 2 of its own buffers */
    int64_t saved_len[64], saved_off[64];
    for (int64_t i = 0; i < w.batch.n_children; i++) {
      struct ArrowArray *c = w.batch.children[i];
      saved_len[i] = c->length;
      saved_off[i] = c->offset;
      c->offset += 2;
      c->length -= 2;
      c->null_count = -1;
    }
    w.batch.length -= 2;
    expect_round_trip(&w, &w.schema, &w.batch, ZCP_VALIDATE_FULL);
    for (int64_t i = 0; i < w.batch.n_children; i++) {
      w.batch.children[i]->length = saved_len[i];
      w.batch.children[i]->offset = saved_off[i];
    }
    w.batch.length += 2;
    world_free(&w);
  }
}

Test(descriptor_roundtrip, metadata_names_and_flags) {
  struct world w;
  world_build(&w, WORLD_FIXTURE, 50, 1, 16 << 20);
  const char *keys[2] = {"unit", "empty"};
  const char *values[2] = {"metres", ""};
  char *md = NULL;
  cr_assert_eq(zcp_metadata_build(2, keys, values, &md), ZCP_OK);
  cr_assert_eq(zcp_schema_set_metadata(w.schema.children[2], md), ZCP_OK);
  cr_assert_eq(zcp_schema_set_metadata(&w.schema, md), ZCP_OK);
  cr_assert_eq(zcp_schema_set_name(w.schema.children[3], ""), ZCP_OK);
  free(md);
  expect_round_trip(&w, &w.schema, &w.batch, ZCP_VALIDATE_FULL);
  world_free(&w);
}

/* A descriptor's size depends on the columns, not the rows. */
Test(descriptor_roundtrip, size_does_not_grow_with_rows) {
  struct world small, big;
  world_build(&small, WORLD_FIXTURE, 1000, 2, 64 << 20);
  world_build(&big, WORLD_FIXTURE, 1000000, 2, 1LL << 30);
  world_encode(&small);
  world_encode(&big);
  /* varints of lengths and offsets grow by a few bytes per buffer at most */
  int64_t n_refs = 0;
  struct zcp_buffer_ref *refs = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_descriptor_refs(big.desc, big.desc_size, &refs, &n_refs, &err),
               ZCP_OK);
  free(refs);
  cr_expect_leq(big.desc_size, small.desc_size + 4 * n_refs + 64,
                "1M rows: %lld bytes, 1k rows: %lld bytes (%lld buffers)",
                (long long)big.desc_size, (long long)small.desc_size, (long long)n_refs);
  cr_expect_lt(small.desc_size, 8192, "1k rows: %lld bytes", (long long)small.desc_size);
  struct ArrowSchema s2;
  struct ArrowArray a2;
  cr_assert_eq(zcp_descriptor_decode(big.desc, big.desc_size, big.mem, ZCP_VALIDATE_FULL,
                                     &s2, &a2, &err),
               ZCP_OK, "%s", err.message);
  cr_assert_eq(a2.length, 1000000);
  zcp_array_release(&a2);
  zcp_schema_release(&s2);
  world_free(&small);
  world_free(&big);
}

/* refs lists exactly the present buffers, in the order resolve gets them. */
Test(descriptor_roundtrip, refs_match_the_buffers) {
  struct world w;
  world_build(&w, WORLD_EXOTIC, 100, 2, 32 << 20);
  world_encode(&w);
  struct zcp_buffer_ref *refs = NULL;
  int64_t n = 0;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_descriptor_refs(w.desc, w.desc_size, &refs, &n, &err), ZCP_OK, "%s",
               err.message);
  cr_assert_gt(n, 20);
  const void **addrs = calloc((size_t)n, sizeof *addrs);
  cr_assert_eq(w.mem->resolve(w.mem->ctx, refs, n, addrs, &err), ZCP_OK, "%s",
               err.message);
  for (int64_t i = 0; i < n; i++) {
    cr_expect_geq(refs[i].region, zcp_fake_memory_region_id(w.fm, 0));
    cr_expect_geq(refs[i].length, 0);
    cr_expect_not_null(addrs[i]);
  }
  free(addrs);
  free(refs);
  world_free(&w);
}

/* Releasing the import frees nothing in the regions; the producer's batch still works. */
Test(descriptor_roundtrip, release_frees_no_region_memory) {
  struct world w;
  world_build(&w, WORLD_FIXTURE, 200, 2, 32 << 20);
  world_encode(&w);
  struct zcp_pool_stats before[2], after[2];
  for (int i = 0; i < 2; i++) zcp_pool_stats(zcp_fake_memory_pool(w.fm, i), &before[i]);
  struct zcp_error err = {0};
  for (int round = 0; round < 3; round++) {
    struct ArrowSchema s2;
    struct ArrowArray a2;
    cr_assert_eq(zcp_descriptor_decode(w.desc, w.desc_size, w.mem, ZCP_VALIDATE_DEFAULT,
                                       &s2, &a2, &err),
                 ZCP_OK, "%s", err.message);
    zcp_array_release(&a2);
    zcp_schema_release(&s2);
  }
  for (int i = 0; i < 2; i++) {
    zcp_pool_stats(zcp_fake_memory_pool(w.fm, i), &after[i]);
    cr_expect_eq(after[i].live_blocks, before[i].live_blocks);
    cr_expect_eq(after[i].used_bytes, before[i].used_bytes);
  }
  cr_expect_eq(zcp_array_validate(&w.batch, &w.schema, ZCP_VALIDATE_FULL, &err), ZCP_OK,
               "%s", err.message);
  world_free(&w);
}

/* A batch on the process heap has no region: encode says which column. */
Test(descriptor_roundtrip, heap_batch_is_not_found) {
  struct world w;
  world_build(&w, WORLD_FIXTURE, 10, 1, 16 << 20);
  struct ArrowArray heap;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_fixture_batch(0, 10, NULL, &heap, &err), ZCP_OK);
  uint8_t *desc = NULL;
  int64_t size = 0;
  cr_expect_eq(zcp_descriptor_encode(&w.schema, &heap, w.mem, &desc, &size, &err),
               ZCP_NOT_FOUND);
  cr_expect_not_null(strstr(err.message, "descriptor column"), "%s", err.message);
  cr_expect_null(desc);
  zcp_array_release(&heap);
  /* not a record batch */
  cr_expect_eq(zcp_descriptor_encode(w.schema.children[0], w.batch.children[0], w.mem,
                                     &desc, &size, &err),
               ZCP_INVALID_ARGUMENT);
  world_free(&w);
}
