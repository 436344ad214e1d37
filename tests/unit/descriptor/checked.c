/* Value checks once, at seal (DESIGN §7): zcp_descriptor_check_values refuses a batch
 * whose values would send a reader out of its buffers, and records the level that
 * passed; zcp_descriptor_decode_checked relies on that record at DEFAULT (no walk of the
 * rows, so a rogue writer's later change goes unseen there), and FULL walks everything
 * again and finds it. */
#include "desc_test.h"

TestSuite(descriptor_checked, .timeout = 120);

enum { STR = FX_STR, LIST = FX_LIST, DICT = FX_DICT };
enum { XSUNION = 14, XDUNION = 15, XRUNS = 16 };

/* Runs the seal-time check of w's batch at level: expects want (text in the message when
 * refused) and, when it passes, the record `rec`. */
static void expect_check(struct world *w, enum zcp_validate_level level, zcp_status_t want,
                         const char *text, enum zcp_checked rec, const char *what) {
  struct zcp_error err = {0};
  enum zcp_checked got = (enum zcp_checked)-1;
  zcp_status_t st = zcp_descriptor_check_values(&w->schema, &w->batch, level, &got, &err);
  cr_expect_eq(st, want, "%s at level %d: got %s (%s)", what, (int)level,
               zcp_status_str(st), err.message);
  if (st == ZCP_OK) {
    cr_expect_eq(got, rec, "%s: recorded %d", what, (int)got);
  } else {
    cr_expect_eq(got, ZCP_CHECKED_NONE, "%s: a failed check records nothing", what);
    if (text != NULL)
      cr_expect_not_null(strstr(err.message, text), "%s: '%s' lacks '%s'", what,
                         err.message, text);
  }
}

/* Decodes w's descriptor asking `level` over the record `rec`. */
static void expect_import(struct world *w, enum zcp_validate_level level,
                          enum zcp_checked rec, zcp_status_t want, const char *text,
                          const char *what) {
  struct zcp_error err = {0};
  struct ArrowSchema s;
  struct ArrowArray a;
  zcp_status_t st = zcp_descriptor_decode_checked(w->desc, w->desc_size, w->mem, level,
                                                  rec, &s, &a, &err);
  cr_expect_eq(st, want, "%s: level %d over record %d: got %s (%s)", what, (int)level,
               (int)rec, zcp_status_str(st), err.message);
  if (st == ZCP_OK) {
    zcp_array_release(&a);
    zcp_schema_release(&s);
  } else if (text != NULL) {
    cr_expect_not_null(strstr(err.message, text), "%s: '%s' lacks '%s'", what,
                       err.message, text);
  }
}

Test(descriptor_checked, seal_check_refuses_values_that_leave_their_buffers) {
  struct world w;
  world_build(&w, WORLD_FIXTURE, 200, 2, 32 << 20);
  expect_check(&w, ZCP_VALIDATE_DEFAULT, ZCP_OK, NULL, ZCP_CHECKED_DEFAULT, "good");
  expect_check(&w, ZCP_VALIDATE_FULL, ZCP_OK, NULL, ZCP_CHECKED_FULL, "good");
  expect_check(&w, ZCP_VALIDATE_MINIMAL, ZCP_OK, NULL, ZCP_CHECKED_NONE, "good");

  int32_t *loffs = (int32_t *)w.batch.children[LIST]->buffers[1];
  int32_t saved = loffs[100];
  loffs[100] = loffs[102] + 1; /* first and last fine, the middle goes backwards */
  expect_check(&w, ZCP_VALIDATE_DEFAULT, ZCP_CORRUPT_INPUT, "not monotonic",
               ZCP_CHECKED_NONE, "list offsets backwards");
  expect_check(&w, ZCP_VALIDATE_MINIMAL, ZCP_OK, NULL, ZCP_CHECKED_NONE,
               "MINIMAL walks nothing");
  loffs[100] = saved;

  int32_t *idx = (int32_t *)w.batch.children[DICT]->buffers[1];
  idx[2] = 99;
  expect_check(&w, ZCP_VALIDATE_DEFAULT, ZCP_CORRUPT_INPUT, "dictionary index 99",
               ZCP_CHECKED_NONE, "dictionary index");
  idx[2] = (int32_t)fx_dict_index(2);

  struct ArrowArray *str = w.batch.children[STR];
  int32_t *offs = (int32_t *)str->buffers[1];
  uint8_t *data = (uint8_t *)str->buffers[2];
  data[offs[1]] = 0xff; /* row 1 is not null */
  expect_check(&w, ZCP_VALIDATE_DEFAULT, ZCP_OK, NULL, ZCP_CHECKED_DEFAULT,
               "UTF-8 is FULL's");
  expect_check(&w, ZCP_VALIDATE_FULL, ZCP_CORRUPT_INPUT, "UTF-8", ZCP_CHECKED_NONE,
               "bad UTF-8");
  data[offs[1]] = 'r';

  struct zcp_error err = {0};
  enum zcp_checked got;
  cr_expect_eq(zcp_descriptor_check_values(&w.schema, &w.batch, 7, &got, &err),
               ZCP_INVALID_ARGUMENT);
  world_free(&w);
}

Test(descriptor_checked, seal_check_refuses_bad_union_ids_and_run_ends) {
  struct world w;
  world_build(&w, WORLD_EXOTIC, 100, 2, 32 << 20);
  expect_check(&w, ZCP_VALIDATE_FULL, ZCP_OK, NULL, ZCP_CHECKED_FULL, "good");
  int8_t *ids = (int8_t *)w.batch.children[XSUNION]->buffers[0];
  int8_t saved = ids[4];
  ids[4] = 77;
  expect_check(&w, ZCP_VALIDATE_DEFAULT, ZCP_CORRUPT_INPUT, "type id 77",
               ZCP_CHECKED_NONE, "union type id");
  ids[4] = saved;

  int32_t *doffs = (int32_t *)w.batch.children[XDUNION]->buffers[1];
  int32_t dsaved = doffs[3];
  doffs[3] = 1000000;
  expect_check(&w, ZCP_VALIDATE_DEFAULT, ZCP_CORRUPT_INPUT, "offset 1000000",
               ZCP_CHECKED_NONE, "dense union offset");
  doffs[3] = dsaved;

  int32_t *ends = (int32_t *)w.batch.children[XRUNS]->children[0]->buffers[1];
  int32_t esaved = ends[1];
  ends[1] = ends[0];
  expect_check(&w, ZCP_VALIDATE_DEFAULT, ZCP_CORRUPT_INPUT, "not strictly increasing",
               ZCP_CHECKED_NONE, "run ends");
  ends[1] = esaved;
  expect_check(&w, ZCP_VALIDATE_DEFAULT, ZCP_OK, NULL, ZCP_CHECKED_DEFAULT, "repaired");
  world_free(&w);
}

Test(descriptor_checked, import_relies_on_the_record_and_full_trusts_nobody) {
  struct world w;
  world_build(&w, WORLD_FIXTURE, 200, 2, 32 << 20);
  world_encode(&w);
  expect_import(&w, ZCP_VALIDATE_DEFAULT, ZCP_CHECKED_DEFAULT, ZCP_OK, NULL, "good");

  /* A rogue writer changes sealed memory after the check: the middle of the offsets. */
  struct ArrowArray *str = w.batch.children[STR];
  int32_t *offs = (int32_t *)str->buffers[1];
  int32_t saved = offs[5];
  offs[5] = offs[7] + 1;
  expect_import(&w, ZCP_VALIDATE_DEFAULT, ZCP_CHECKED_DEFAULT, ZCP_OK, NULL,
                "DEFAULT relies on the seal's walk");
  expect_import(&w, ZCP_VALIDATE_DEFAULT, ZCP_CHECKED_FULL, ZCP_OK, NULL,
                "DEFAULT relies on a FULL record too");
  expect_import(&w, ZCP_VALIDATE_FULL, ZCP_CHECKED_DEFAULT, ZCP_CORRUPT_INPUT,
                "not monotonic", "FULL walks again");
  expect_import(&w, ZCP_VALIDATE_FULL, ZCP_CHECKED_FULL, ZCP_CORRUPT_INPUT,
                "not monotonic", "FULL walks again, whatever was recorded");
  expect_import(&w, ZCP_VALIDATE_DEFAULT, ZCP_CHECKED_NONE, ZCP_CORRUPT_INPUT,
                "not monotonic", "asking more than was recorded walks");
  offs[5] = saved;

  /* The O(columns) checks stay: a last offset past the data is caught at DEFAULT over
   * any record (it is read, not walked). */
  int64_t n = str->length;
  int32_t last = offs[n];
  offs[n] = last + 1000000;
  expect_import(&w, ZCP_VALIDATE_DEFAULT, ZCP_CHECKED_FULL, ZCP_CORRUPT_INPUT,
                "past the end", "last offset");
  offs[n] = last;

  /* Dictionary indices written afterwards: the same. */
  int32_t *idx = (int32_t *)w.batch.children[DICT]->buffers[1];
  idx[2] = 99;
  expect_import(&w, ZCP_VALIDATE_DEFAULT, ZCP_CHECKED_DEFAULT, ZCP_OK, NULL,
                "dictionary index after the seal, at DEFAULT");
  expect_import(&w, ZCP_VALIDATE_FULL, ZCP_CHECKED_DEFAULT, ZCP_CORRUPT_INPUT,
                "dictionary index 99", "dictionary index after the seal, at FULL");
  idx[2] = (int32_t)fx_dict_index(2);

  struct zcp_error err = {0};
  struct ArrowSchema s;
  struct ArrowArray a;
  cr_expect_eq(zcp_descriptor_decode_checked(w.desc, w.desc_size, w.mem,
                                             ZCP_VALIDATE_DEFAULT, 9, &s, &a, &err),
               ZCP_INVALID_ARGUMENT);
  world_free(&w);
}
