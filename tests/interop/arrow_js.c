/* Arrow JS, a reader and writer we did not write, on both sides of our IPC format: it
 * reads the fixture tables our writer makes (stream and file; every type it knows) and
 * checks every value against the values our side held; and our reader reads the stream
 * (with a replacement dictionary) and the file Arrow JS writes, every value checked
 * against what Arrow JS held. Both ways include decimal32 and decimal64 columns and
 * two fields sharing one dictionary id. The scripts are tests/interop/arrow_js.mjs. */
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
  const char *packages[] = {"apache-arrow", NULL};
  const char *missing = zcp_node_missing(packages);
  if (missing != NULL) cr_skip_test("%s", missing);
  cr_assert(zcp_temp_dir(dir, sizeof dir));
}

static void teardown(void) {
  if (dir[0]) zcp_temp_dir_remove(dir);
  dir[0] = 0;
}

TestSuite(arrow_js, .init = setup, .fini = teardown, .timeout = 120);

/* Columns of the rarer types Arrow JS 21 reads; it has no list views and no run-end
 * encoding, and reads no compressed bodies. */
static const char *const kExoticForJs[] = {
    "nothing", "half", "big",    "dur",   "months", "daytime", "mdn", "fsb",  "bview", "lbin",
    "llist",   "pair", "attrs",  "sunion", "dunion", "d64",    "t32", "tsn",  "dict8", "dec32",
    "dec64",   NULL};

Test(arrow_js, reads_every_value_of_the_fixture_streams_and_files_we_write) {
  struct zcp_error err = {0};
  struct ArrowSchema fx, ex;
  cr_assert_eq(zcp_fixture_schema(&fx, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_fixture_exotic_schema(&ex, &err), ZCP_OK, "%s", err.message);
  struct ArrowArray a, b, e;
  cr_assert_eq(zcp_fixture_batch(0, 700, NULL, &a, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_fixture_batch(700, 301, NULL, &b, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_fixture_exotic_batch(200, NULL, &e, &err), ZCP_OK, "%s", err.message);
  const struct ArrowArray *fb[2] = {&a, &b}, *eb[1] = {&e};
  json_t *expected = json_object();
  cr_assert_eq(zcp_interop_write(dir, "fixture.arrows", ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_NONE,
                                 &fx, fb, 2, NULL, expected, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_interop_write(dir, "fixture.arrow", ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_NONE,
                                 &fx, fb, 2, NULL, expected, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_interop_write(dir, "exotic.arrows", ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_NONE,
                                 &ex, eb, 1, kExoticForJs, expected, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_interop_write(dir, "exotic.arrow", ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_NONE,
                                 &ex, eb, 1, kExoticForJs, expected, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_interop_save(dir, expected, &err), ZCP_OK, "%s", err.message);
  json_decref(expected);
  zcp_array_release(&a);
  zcp_array_release(&b);
  zcp_array_release(&e);
  zcp_schema_release(&fx);
  zcp_schema_release(&ex);

  const char *args[] = {"check", dir, NULL};
  int rc = zcp_node_run("arrow_js.mjs", args, out, sizeof out, 60000);
  cr_log_info("Arrow JS:\n%s", out);
  cr_expect_eq(rc, 0, "Arrow JS disagrees with what we wrote (exit %d):\n%s", rc, out);
}

Test(arrow_js, reads_the_dictionary_we_share_between_two_fields) {
  struct zcp_error err = {0};
  struct ArrowSchema s;
  struct ArrowArray a, b;
  cr_assert_eq(zcp_fixture_shared_dict_schema(&s, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_fixture_shared_dict_batch(0, 400, &a, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_fixture_shared_dict_batch(400, 123, &b, &err), ZCP_OK, "%s", err.message);
  const struct ArrowArray *batches[2] = {&a, &b};
  const int64_t ids[2] = {9, 9};
  struct zcp_ipc_write_options o;
  zcp_ipc_write_options_init(&o);
  o.dictionary_ids = ids;
  o.n_dictionary_ids = 2;
  json_t *expected = json_object();
  cr_assert_eq(zcp_interop_write_opts(dir, "shared.arrows", ZCP_IPC_STREAM, &o, &s, batches, 2,
                                      NULL, expected, &err),
               ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_interop_write_opts(dir, "shared.arrow", ZCP_IPC_FILE, &o, &s, batches, 2, NULL,
                                      expected, &err),
               ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_interop_save(dir, expected, &err), ZCP_OK, "%s", err.message);
  json_decref(expected);
  zcp_array_release(&a);
  zcp_array_release(&b);
  zcp_schema_release(&s);
  const char *args[] = {"check", dir, NULL};
  int rc = zcp_node_run("arrow_js.mjs", args, out, sizeof out, 60000);
  cr_log_info("Arrow JS:\n%s", out);
  cr_expect_eq(rc, 0, "Arrow JS disagrees with our shared dictionary (exit %d):\n%s", rc, out);
}

Test(arrow_js, reads_our_delta_dictionaries) {
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
  o.dictionary_deltas = true;
  json_t *expected = json_object();
  cr_assert_eq(zcp_interop_write_opts(dir, "deltas.arrows", ZCP_IPC_STREAM, &o, &s, ptrs, 3, NULL,
                                      expected, &err),
               ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_interop_write_opts(dir, "deltas.arrow", ZCP_IPC_FILE, &o, &s, ptrs, 3, NULL,
                                      expected, &err),
               ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_interop_save(dir, expected, &err), ZCP_OK, "%s", err.message);
  json_decref(expected);
  for (int k = 0; k < 3; k++) zcp_array_release(&batches[k]);
  zcp_schema_release(&s);
  const char *args[] = {"check", dir, NULL};
  int rc = zcp_node_run("arrow_js.mjs", args, out, sizeof out, 60000);
  cr_log_info("Arrow JS:\n%s", out);
  cr_expect_eq(rc, 0, "Arrow JS disagrees with our delta dictionaries (exit %d):\n%s", rc, out);
}

/* Reads one of Arrow JS's files and compares it with what Arrow JS held. */
static void expect_same_as_js(const char *file, bool is_file, json_t *want) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  struct zcp_error err = {0};
  json_t *got = NULL;
  int64_t rows, batches;
  cr_assert_eq(zcp_interop_read(path, is_file, &got, &rows, &batches, &err), ZCP_OK,
               "%s: %s", file, err.message);
  cr_expect_eq(rows, json_integer_value(json_object_get(want, "rows")), "%s", file);
  cr_expect_eq(batches, json_integer_value(json_object_get(want, "batches")), "%s", file);
  char where[1024] = "";
  cr_expect(zcp_json_same(json_object_get(want, "columns"), got, where, sizeof where),
            "%s: our reader differs from Arrow JS at %s", file, where);
  json_decref(got);
}

/* The format string our reader gives column `name` of a stream or file. */
static void expect_format(const char *file, bool is_file, const char *name, const char *want) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  struct zcp_error err = {0};
  struct zcp_ipc_reader *r = NULL;
  if (is_file) {
    cr_assert_eq(zcp_ipc_file_reader_open_path(path, ZCP_IPC_COPY, NULL, &r, &err), ZCP_OK,
                 "%s", err.message);
  } else {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    static uint8_t bytes[1 << 20];
    size_t n = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    static struct zcp_ipc_memory mem;
    mem = (struct zcp_ipc_memory){bytes, (int64_t)n, 0};
    struct zcp_ipc_source src = zcp_ipc_source_memory(&mem);
    cr_assert_eq(zcp_ipc_stream_reader_open(&src, NULL, &r, &err), ZCP_OK, "%s", err.message);
  }
  const struct ArrowSchema *s = zcp_ipc_reader_schema(r);
  bool found = false;
  for (int64_t c = 0; c < s->n_children; c++) {
    if (strcmp(s->children[c]->name, name) != 0) continue;
    cr_expect_str_eq(s->children[c]->format, want, "%s: column %s", file, name);
    found = true;
  }
  cr_expect(found, "%s: no column %s", file, name);
  zcp_ipc_reader_close(r);
}

Test(arrow_js, we_read_every_value_arrow_js_writes) {
  const char *args[] = {"write", dir, NULL};
  int rc = zcp_node_run("arrow_js.mjs", args, out, sizeof out, 60000);
  cr_assert_eq(rc, 0, "Arrow JS could not write (exit %d):\n%s", rc, out);
  cr_log_info("Arrow JS %s", out);
  char path[4200];
  snprintf(path, sizeof path, "%s/js.expected.json", dir);
  json_error_t jerr;
  json_t *want = json_load_file(path, 0, &jerr);
  cr_assert_not_null(want, "%s", jerr.text);
  expect_same_as_js("js.arrows", false, want);
  expect_same_as_js("js.arrow", true, want);
  /* Arrow JS writes its two fields over one dictionary vector with one id (1000) */
  for (int k = 0; k < 2; k++) {
    const char *file = k ? "js.arrow" : "js.arrows";
    snprintf(path, sizeof path, "%s/%s", dir, file);
    struct zcp_error err = {0};
    struct zcp_ipc_reader *r = NULL;
    if (k == 1) {
      cr_assert_eq(zcp_ipc_file_reader_open_path(path, ZCP_IPC_COPY, NULL, &r, &err), ZCP_OK,
                   "%s", err.message);
    } else {
      static uint8_t bytes[1 << 20];
      FILE *f = fopen(path, "rb");
      cr_assert_not_null(f);
      size_t n = fread(bytes, 1, sizeof bytes, f);
      fclose(f);
      static struct zcp_ipc_memory mem;
      mem = (struct zcp_ipc_memory){bytes, (int64_t)n, 0};
      struct zcp_ipc_source src = zcp_ipc_source_memory(&mem);
      cr_assert_eq(zcp_ipc_stream_reader_open(&src, NULL, &r, &err), ZCP_OK, "%s", err.message);
    }
    const struct ArrowSchema *s = zcp_ipc_reader_schema(r);
    int64_t n_ids, k_from = -1, k_to = -1, d = 0;
    const int64_t *ids = zcp_ipc_reader_dictionary_ids(r, &n_ids);
    for (int64_t c = 0; c < s->n_children; c++) {
      if (s->children[c]->dictionary == NULL) continue;
      if (strcmp(s->children[c]->name, "from") == 0) k_from = d;
      if (strcmp(s->children[c]->name, "to") == 0) k_to = d;
      d++;
    }
    cr_assert(k_from >= 0 && k_to >= 0 && d == n_ids, "%s: dictionary fields", file);
    cr_expect_eq(ids[k_from], 1000, "%s", file);
    cr_expect_eq(ids[k_to], 1000, "%s", file);
    /* one dictionary for both fields, not two copies */
    struct ArrowArray batch;
    cr_assert_eq(zcp_ipc_reader_next(r, &batch, &err), ZCP_OK, "%s", err.message);
    int64_t cf = 0, ct = 0;
    for (int64_t c = 0; c < s->n_children; c++) {
      if (strcmp(s->children[c]->name, "from") == 0) cf = c;
      if (strcmp(s->children[c]->name, "to") == 0) ct = c;
    }
    cr_expect_eq(batch.children[cf]->dictionary->buffers[2], batch.children[ct]->dictionary->buffers[2],
                 "%s: shared dictionary read twice", file);
    zcp_array_release(&batch);
    zcp_ipc_reader_close(r);
  }
  /* Arrow JS writes decimal32 and decimal64 as such (Decimal.bitWidth 32 and 64) */
  for (int k = 0; k < 2; k++) {
    const char *file = k ? "js.arrow" : "js.arrows";
    expect_format(file, k == 1, "dec32", "d:9,2,32");
    expect_format(file, k == 1, "dec64", "d:18,3,64");
  }
  json_decref(want);
}
