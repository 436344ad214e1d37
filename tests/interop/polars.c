/* Polars (nodejs-polars, a Rust Arrow implementation) on both sides of our IPC format:
 * it reads the fixture tables our writer makes — stream and file, plain and with LZ4 and
 * ZSTD bodies, every type Polars has — and checks every value against what our side held;
 * our reader reads the stream and the files (plain, LZ4, ZSTD) Polars writes, every value
 * checked against the formulas the frame was built from. Scripts: tests/interop/polars.mjs. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "arrow_json.h"
#include "ipc_interop.h"
#include "zcp_fixture.h"
#include "zcp_node.h"

static char dir[4096];
static char out[1 << 16];

static void setup(void) {
  const char *packages[] = {"nodejs-polars", "nodejs-polars-linux-x64-gnu", NULL};
  const char *missing = zcp_node_missing(packages);
  if (missing != NULL) cr_skip_test("%s", missing);
  cr_assert(zcp_temp_dir(dir, sizeof dir));
}

static void teardown(void) {
  if (dir[0]) zcp_temp_dir_remove(dir);
  dir[0] = 0;
}

TestSuite(polars, .init = setup, .fini = teardown, .timeout = 120);

/* nodejs-polars 0.26 cannot hand binary columns to JS; Polars has no unions, intervals,
 * decimal256, half floats, list views nor run-end encoding. Everything else is here,
 * decimal32 and decimal64 included (Polars reads them into its 128-bit decimal), and two
 * fields sharing one dictionary id (Polars reads them; it never writes one). */
static const char *const kFixtureForPolars[] = {
    "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64", "flag", "s",
    "ls", "sv", "day", "ts", "tod", "amount", "lst", "st", "color", NULL};
static const char *const kExoticForPolars[] = {"nothing", "dur",  "llist", "pair",
                                               "attrs",   "d64",  "t32",   "tsn",
                                               "dict8",   "dec32", "dec64", NULL};

Test(polars, reads_every_value_of_the_fixture_streams_and_files_we_write) {
  struct zcp_error err = {0};
  struct ArrowSchema fx, ex;
  cr_assert_eq(zcp_fixture_schema(&fx, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_fixture_exotic_schema(&ex, &err), ZCP_OK, "%s", err.message);
  struct ArrowArray a, b, e;
  cr_assert_eq(zcp_fixture_batch(0, 1200, NULL, &a, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_fixture_batch(1200, 333, NULL, &b, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_fixture_exotic_batch(300, NULL, &e, &err), ZCP_OK, "%s", err.message);
  const struct ArrowArray *fb[2] = {&a, &b}, *eb[1] = {&e};
  json_t *expected = json_object();
  const struct {
    const char *file;
    enum zcp_ipc_format format;
    enum zcp_ipc_compression comp;
  } kFiles[] = {
      {"fixture.arrows", ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_NONE},
      {"fixture.arrow", ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_NONE},
      {"fixture.lz4.arrows", ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_LZ4_FRAME},
      {"fixture.zstd.arrow", ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_ZSTD},
  };
  for (size_t k = 0; k < sizeof kFiles / sizeof kFiles[0]; k++) {
    cr_assert_eq(zcp_interop_write(dir, kFiles[k].file, kFiles[k].format, kFiles[k].comp, &fx,
                                   fb, 2, kFixtureForPolars, expected, &err),
                 ZCP_OK, "%s: %s", kFiles[k].file, err.message);
  }
  cr_assert_eq(zcp_interop_write(dir, "exotic.arrows", ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_NONE,
                                 &ex, eb, 1, kExoticForPolars, expected, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_interop_write(dir, "exotic.zstd.arrow", ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_ZSTD,
                                 &ex, eb, 1, kExoticForPolars, expected, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_interop_save(dir, expected, &err), ZCP_OK, "%s", err.message);
  json_decref(expected);
  zcp_array_release(&a);
  zcp_array_release(&b);
  zcp_array_release(&e);
  zcp_schema_release(&fx);
  zcp_schema_release(&ex);

  const char *args[] = {"check", dir, NULL};
  int rc = zcp_node_run("polars.mjs", args, out, sizeof out, 90000);
  cr_log_info("Polars:\n%s", out);
  cr_expect_eq(rc, 0, "Polars disagrees with what we wrote (exit %d):\n%s", rc, out);
}

Test(polars, reads_the_dictionary_we_share_between_two_fields) {
  struct zcp_error err = {0};
  struct ArrowSchema s;
  struct ArrowArray a, b;
  cr_assert_eq(zcp_fixture_shared_dict_schema(&s, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_fixture_shared_dict_batch(0, 700, &a, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_fixture_shared_dict_batch(700, 77, &b, &err), ZCP_OK, "%s", err.message);
  const struct ArrowArray *batches[2] = {&a, &b};
  const int64_t ids[2] = {4, 4};
  struct zcp_ipc_write_options o;
  zcp_ipc_write_options_init(&o);
  o.dictionary_ids = ids;
  o.n_dictionary_ids = 2;
  json_t *expected = json_object();
  cr_assert_eq(zcp_interop_write_opts(dir, "shared.arrows", ZCP_IPC_STREAM, &o, &s, batches, 2,
                                      NULL, expected, &err),
               ZCP_OK, "%s", err.message);
  o.compression = ZCP_IPC_COMPRESSION_ZSTD;
  cr_assert_eq(zcp_interop_write_opts(dir, "shared.zstd.arrow", ZCP_IPC_FILE, &o, &s, batches, 2,
                                      NULL, expected, &err),
               ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_interop_save(dir, expected, &err), ZCP_OK, "%s", err.message);
  json_decref(expected);
  zcp_array_release(&a);
  zcp_array_release(&b);
  zcp_schema_release(&s);
  const char *args[] = {"check", dir, NULL};
  int rc = zcp_node_run("polars.mjs", args, out, sizeof out, 90000);
  cr_log_info("Polars:\n%s", out);
  cr_expect_eq(rc, 0, "Polars disagrees with our shared dictionary (exit %d):\n%s", rc, out);
}

/* Writes the growing-dictionary batches as a stream and a file, with or without deltas,
 * and runs the Polars check over them; returns its exit code. */
static int polars_on_growing_dictionaries(bool deltas) {
  struct zcp_error err = {0};
  struct ArrowSchema s;
  struct ArrowArray batches[3];
  const struct ArrowArray *ptrs[3];
  cr_assert_eq(zcp_fixture_growing_dict_schema(&s, &err), ZCP_OK, "%s", err.message);
  for (int k = 0; k < 3; k++) {
    cr_assert_eq(zcp_fixture_growing_dict_batch(k, &batches[k], &err), ZCP_OK, "%s", err.message);
    ptrs[k] = &batches[k];
  }
  struct zcp_ipc_write_options o;
  zcp_ipc_write_options_init(&o);
  o.dictionary_deltas = deltas;
  json_t *expected = json_object();
  cr_assert_eq(zcp_interop_write_opts(dir, "growing.arrows", ZCP_IPC_STREAM, &o, &s, ptrs, 3,
                                      NULL, expected, &err),
               ZCP_OK, "%s", err.message);
  if (deltas) { /* without deltas a file cannot hold a growing dictionary at all */
    cr_assert_eq(zcp_interop_write_opts(dir, "growing.arrow", ZCP_IPC_FILE, &o, &s, ptrs, 3,
                                        NULL, expected, &err),
                 ZCP_OK, "%s", err.message);
  }
  cr_assert_eq(zcp_interop_save(dir, expected, &err), ZCP_OK, "%s", err.message);
  json_decref(expected);
  for (int k = 0; k < 3; k++) zcp_array_release(&batches[k]);
  zcp_schema_release(&s);
  const char *args[] = {"check", dir, NULL};
  int rc = zcp_node_run("polars.mjs", args, out, sizeof out, 90000);
  cr_log_info("Polars (deltas %d):\n%s", deltas, out);
  return rc;
}

Test(polars, reads_growing_dictionaries_as_replacements_but_not_as_deltas) {
  /* nodejs-polars 0.26 refuses every delta DictionaryBatch ("delta dictionary batches not
   * supported"): a stream for Polars is written without dictionary_deltas. */
  int rc = polars_on_growing_dictionaries(false);
  cr_expect_eq(rc, 0, "Polars disagrees with our replaced dictionaries (exit %d):\n%s", rc, out);
  rc = polars_on_growing_dictionaries(true);
  cr_expect_neq(rc, 0, "Polars now reads delta dictionaries: test them both ways");
  cr_expect(strstr(out, "delta dictionary batches not supported") != NULL, "%s", out);
}

static void expect_same_as_polars(const char *file, bool is_file, json_t *want) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  struct zcp_error err = {0};
  json_t *got = NULL;
  int64_t rows, batches;
  cr_assert_eq(zcp_interop_read(path, is_file, &got, &rows, &batches, &err), ZCP_OK,
               "%s: %s", file, err.message);
  cr_expect_eq(rows, json_integer_value(json_object_get(want, "rows")), "%s", file);
  /* Dictionaries arrive as their values; Polars' own types (views, large strings,
   * categoricals) are whatever it chose: only the values are compared. */
  char where[1024] = "";
  cr_expect(zcp_json_same(json_object_get(want, "columns"), got, where, sizeof where),
            "%s: our reader differs from what Polars wrote at %s", file, where);
  cr_log_info("polars: %s: %lld rows in %lld batches read and matched", file, (long long)rows,
              (long long)batches);
  json_decref(got);
}

Test(polars, we_read_every_value_polars_writes_plain_and_compressed) {
  const char *args[] = {"write", dir, NULL};
  int rc = zcp_node_run("polars.mjs", args, out, sizeof out, 90000);
  cr_assert_eq(rc, 0, "Polars could not write (exit %d):\n%s", rc, out);
  cr_log_info("Polars %s", out);
  char path[4200];
  snprintf(path, sizeof path, "%s/pl.expected.json", dir);
  json_error_t jerr;
  json_t *want = json_load_file(path, 0, &jerr);
  cr_assert_not_null(want, "%s", jerr.text);
  /* Polars keeps every decimal in 128 bits: its decimal(9, 2) arrives as decimal128, so
   * decimal32 and decimal64 can be tested only from our side to Polars. */
  snprintf(path, sizeof path, "%s/pl.arrow", dir);
  struct zcp_ipc_reader *r = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_ipc_file_reader_open_path(path, ZCP_IPC_COPY, NULL, &r, &err), ZCP_OK,
               "%s", err.message);
  const struct ArrowSchema *s = zcp_ipc_reader_schema(r);
  bool seen = false;
  for (int64_t c = 0; c < s->n_children; c++) {
    if (strcmp(s->children[c]->name, "dec") != 0) continue;
    cr_expect_str_eq(s->children[c]->format, "d:9,2", "Polars' decimal(9, 2)");
    seen = true;
  }
  cr_expect(seen, "Polars wrote no column 'dec'");
  /* Polars gives each categorical column its own dictionary: it never shares an id */
  int64_t n_ids;
  const int64_t *ids = zcp_ipc_reader_dictionary_ids(r, &n_ids);
  for (int64_t k = 0; k < n_ids; k++) cr_log_info("polars: dictionary field %lld has id %lld",
                                                 (long long)k, (long long)ids[k]);
  zcp_ipc_reader_close(r);
  expect_same_as_polars("pl.arrows", false, want);
  expect_same_as_polars("pl.arrow", true, want);
  expect_same_as_polars("pl.lz4.arrow", true, want);
  expect_same_as_polars("pl.zstd.arrow", true, want);
  json_decref(want);
}
