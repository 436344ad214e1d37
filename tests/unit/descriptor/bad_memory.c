/* Bad descriptors that only memory or data can expose: buffers outside regions, in
 * freed or unsealed blocks, across blocks, of stale epochs or unknown regions, owners
 * not answering (what resolve reports, passed on), and values that would send a reader
 * out of its buffers (offsets, dictionary indices, union ids and offsets, run ends, view
 * references) or are not UTF-8, each refused at the level that promises to check it. */
#include "bad_harness.h"
#include "zcp_fake_memory.h"

TestSuite(descriptor_bad_memory, .timeout = 120);

enum { I32 = 2, I64 = 3, STR = 11, SVIEW = 13, LIST = 19, DICT = 21 };
enum { XSUNION = 14, XDUNION = 15, XRUNS = 16 };

static struct world *g_w;

static void m_outside_region(pb_desc *d, struct world *w) {
  pb_buffer *b = col(d, I64)->buffers[1];
  b->offset = zcp_pool_size(zcp_fake_memory_pool(w->fm, 0)) + 4096;
  b->region = zcp_fake_memory_region_id(w->fm, 0);
}
static void m_unknown_region(pb_desc *d, struct world *w) {
  col(d, I64)->buffers[1]->region = 999;
}
static void m_stale_epoch(pb_desc *d, struct world *w) {
  col(d, I64)->buffers[1]->epoch = 7;
}
static void m_past_its_block(pb_desc *d, struct world *w) {
  pb_buffer *b = col(d, I64)->buffers[1];
  struct zcp_block_info info;
  int idx = b->region - zcp_fake_memory_region_id(w->fm, 0);
  cr_assert_eq(
      zcp_pool_find_block(zcp_fake_memory_pool(w->fm, idx), b->offset, 0, &info, NULL),
      ZCP_OK);
  b->length = info.offset + info.size - b->offset + 64;
}
/* [end of one block - 8, +16): the start is in a live sealed block, the end in the next.
 */
static void m_straddles_two_blocks(pb_desc *d, struct world *w) {
  pb_buffer *b = col(d, I32)->buffers[0];
  struct zcp_block_info info;
  int idx = b->region - zcp_fake_memory_region_id(w->fm, 0);
  struct zcp_pool *pool = zcp_fake_memory_pool(w->fm, idx);
  cr_assert_eq(zcp_pool_find_block(pool, b->offset, 0, &info, NULL), ZCP_OK);
  cr_assert_eq(zcp_pool_find_block(pool, info.offset + info.size, 1, NULL, NULL), ZCP_OK,
               "the next block is live and sealed");
  b->offset = info.offset + info.size - 8;
  b->length = 64; /* validity of 200 rows needs 25 bytes */
}
static int64_t g_block_offset; /* a block the test set up: freed or unsealed */
static void m_in_test_block(pb_desc *d, struct world *w) {
  pb_buffer *b = col(d, I64)->buffers[1];
  b->region = zcp_fake_memory_region_id(w->fm, 0);
  b->offset = g_block_offset;
}

static void run_one(struct world *w, mutator fn, zcp_status_t want, const char *text,
                    const char *name) {
  const struct bad_case c = {name, fn, want, text, ZCP_VALIDATE_MINIMAL};
  run_cases(w, &c, 1);
}

Test(descriptor_bad_memory, where_buffers_lie) {
  struct world w;
  world_build(&w, WORLD_FIXTURE, 200, 2, 32 << 20);
  g_w = &w;
  world_encode(&w);
  run_one(&w, m_outside_region, ZCP_CORRUPT_INPUT, "outside region",
          "outside the region");
  run_one(&w, m_unknown_region, ZCP_NOT_FOUND, "region 999", "unknown region");
  run_one(&w, m_stale_epoch, ZCP_STALE, "epoch", "stale epoch");
  run_one(&w, m_past_its_block, ZCP_CORRUPT_INPUT, "past the end of block",
          "past its block");
  run_one(&w, m_straddles_two_blocks, ZCP_CORRUPT_INPUT, "past the end of block",
          "straddling two blocks");

  struct zcp_pool *pool = zcp_fake_memory_pool(w.fm, 0);
  uint8_t *base = zcp_fake_memory_base(w.fm, 0);
  void *p = NULL;
  struct zcp_error err = {0};
  /* granted, never sealed */
  cr_assert_eq(zcp_pool_alloc(pool, 1 << 20, &p, &err), ZCP_OK, "%s", err.message);
  g_block_offset = (uint8_t *)p - base;
  run_one(&w, m_in_test_block, ZCP_BUSY, "not sealed", "unsealed block");
  /* sealed, then freed */
  cr_assert_eq(zcp_pool_seal(pool, p, &err), ZCP_OK);
  cr_assert_eq(zcp_pool_free(pool, p, &err), ZCP_OK);
  run_one(&w, m_in_test_block, ZCP_NOT_FOUND, "not inside any live block", "freed block");

  /* the whole region's epoch moved on (its owner restarted) */
  zcp_fake_memory_set_epoch(w.fm, 1, 2);
  expect_refused(&w, w.desc, w.desc_size, ZCP_VALIDATE_FULL, ZCP_STALE, "epoch",
                 "new epoch");
  zcp_fake_memory_set_epoch(w.fm, 1, 1);
  /* owners not answering, or busy */
  zcp_fake_memory_fail_resolve(w.fm, ZCP_PEER_DOWN);
  expect_refused(&w, w.desc, w.desc_size, ZCP_VALIDATE_FULL, ZCP_PEER_DOWN, "descriptor",
                 "peer down");
  zcp_fake_memory_fail_resolve(w.fm, ZCP_OK);
  /* and the untouched descriptor still decodes */
  struct ArrowSchema s;
  struct ArrowArray a;
  cr_expect_eq(
      zcp_descriptor_decode(w.desc, w.desc_size, w.mem, ZCP_VALIDATE_FULL, &s, &a, &err),
      ZCP_OK, "%s", err.message);
  zcp_array_release(&a);
  zcp_schema_release(&s);
  world_free(&w);
}

/* ---- values ----------------------------------------------------------------------- */

static void m_string_data_short(pb_desc *d, struct world *w) {
  col(d, STR)->buffers[2]->length = 3;
}
static void m_list_child_short(pb_desc *d, struct world *w) {
  col(d, LIST)->children[0]->length = 2;
}
static void m_view_sizes_zero(pb_desc *d, struct world *w) {
  pb_node *n = col(d, SVIEW);
  for (size_t k = 0; k < n->n_variadic_sizes; k++) n->variadic_sizes[k] = 0;
}

/* Decodes w's descriptor at `level`: expects `want` (and `text` when refused). */
static void expect_level(struct world *w, enum zcp_validate_level level,
                         zcp_status_t want, const char *text, const char *what) {
  world_encode(w);
  struct zcp_error err = {0};
  struct ArrowSchema s;
  struct ArrowArray a;
  zcp_status_t st =
      zcp_descriptor_decode(w->desc, w->desc_size, w->mem, level, &s, &a, &err);
  cr_expect_eq(st, want, "%s at level %d: got %s (%s)", what, (int)level,
               zcp_status_str(st), err.message);
  if (st == ZCP_OK) {
    zcp_array_release(&a);
    zcp_schema_release(&s);
  } else {
    cr_expect_null(a.release);
    cr_expect_null(s.release);
    if (text) {
      cr_expect_not_null(strstr(err.message, text), "%s: '%s' lacks '%s'", what,
                         err.message, text);
    }
  }
}

Test(descriptor_bad_memory, values_in_the_buffers) {
  struct world w;
  world_build(&w, WORLD_FIXTURE, 200, 2, 32 << 20);
  world_encode(&w);
  const struct bad_case cases[] = {
      {"string data short", m_string_data_short, ZCP_CORRUPT_INPUT,
       "past the end of the data", ZCP_VALIDATE_DEFAULT},
      {"list child short", m_list_child_short, ZCP_CORRUPT_INPUT,
       "past the end of the child", ZCP_VALIDATE_DEFAULT},
      {"views past their buffers", m_view_sizes_zero, ZCP_CORRUPT_INPUT, "covers bytes",
       ZCP_VALIDATE_DEFAULT},
  };
  run_cases(&w, cases, sizeof cases / sizeof cases[0]);

  /* Values written into the producer's buffers after sealing. */
  struct ArrowArray *str = w.batch.children[STR];
  int32_t *offs = (int32_t *)str->buffers[1];
  int32_t saved = offs[5];
  offs[5] = offs[7] + 1; /* first and last fine, the middle goes backwards */
  expect_level(&w, ZCP_VALIDATE_MINIMAL, ZCP_OK, NULL, "non-monotonic offsets");
  expect_level(&w, ZCP_VALIDATE_DEFAULT, ZCP_CORRUPT_INPUT, "not monotonic",
               "non-monotonic offsets");
  offs[5] = saved;

  uint8_t *data = (uint8_t *)str->buffers[2];
  data[offs[1]] = 0xff; /* row 1 is not null */
  expect_level(&w, ZCP_VALIDATE_DEFAULT, ZCP_OK, NULL, "bad UTF-8");
  expect_level(&w, ZCP_VALIDATE_FULL, ZCP_CORRUPT_INPUT, "UTF-8", "bad UTF-8");
  data[offs[1]] = 'r';

  int32_t *idx = (int32_t *)w.batch.children[DICT]->buffers[1];
  idx[2] = 99;
  expect_level(&w, ZCP_VALIDATE_MINIMAL, ZCP_OK, NULL, "dictionary index");
  expect_level(&w, ZCP_VALIDATE_DEFAULT, ZCP_CORRUPT_INPUT, "dictionary index 99",
               "dictionary index");
  idx[2] = (int32_t)fx_dict_index(2);

  int32_t *loffs = (int32_t *)w.batch.children[LIST]->buffers[1];
  saved = loffs[100];
  loffs[100] = -5;
  expect_level(&w, ZCP_VALIDATE_DEFAULT, ZCP_CORRUPT_INPUT, "not monotonic",
               "list offsets backwards");
  loffs[100] = saved;
  expect_level(&w, ZCP_VALIDATE_FULL, ZCP_OK, NULL, "repaired");
  world_free(&w);
}

Test(descriptor_bad_memory, unions_and_runs) {
  struct world w;
  world_build(&w, WORLD_EXOTIC, 100, 2, 32 << 20);
  int8_t *ids = (int8_t *)w.batch.children[XSUNION]->buffers[0];
  int8_t saved = ids[4];
  ids[4] = 77;
  expect_level(&w, ZCP_VALIDATE_MINIMAL, ZCP_OK, NULL, "union type id");
  expect_level(&w, ZCP_VALIDATE_DEFAULT, ZCP_CORRUPT_INPUT, "type id 77",
               "union type id");
  ids[4] = saved;

  int32_t *doffs = (int32_t *)w.batch.children[XDUNION]->buffers[1];
  int32_t dsaved = doffs[3];
  doffs[3] = 1000000;
  expect_level(&w, ZCP_VALIDATE_DEFAULT, ZCP_CORRUPT_INPUT, "offset 1000000",
               "dense offset");
  doffs[3] = dsaved;

  int32_t *ends = (int32_t *)w.batch.children[XRUNS]->children[0]->buffers[1];
  int32_t esaved = ends[1];
  ends[1] = ends[0];
  expect_level(&w, ZCP_VALIDATE_MINIMAL, ZCP_OK, NULL, "run ends");
  expect_level(&w, ZCP_VALIDATE_DEFAULT, ZCP_CORRUPT_INPUT, "not strictly increasing",
               "run ends");
  ends[1] = esaved;
  expect_level(&w, ZCP_VALIDATE_FULL, ZCP_OK, NULL, "repaired");
  world_free(&w);
}
