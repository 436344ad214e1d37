/* The integration-JSON harness itself: before it judges an IPC reader it must accept
 * batches built from the same JSON by our builders, and reject a batch that differs in
 * one value, one null or one dictionary index. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "arrow_json.h"

static char **names;
static int n_names;

static void setup(void) {
  if (zcp_json_gold_dir() == NULL) cr_skip_test("Arrow gold files absent (set ZCP_ARROW_TESTING)");
  n_names = zcp_json_gold_cases(&names);
  cr_assert_gt(n_names, 0, "no .json.gz in %s", zcp_json_gold_dir());
}

static void teardown(void) {
  zcp_json_gold_cases_free(names, n_names);
  names = NULL;
  n_names = 0;
}

TestSuite(arrow_json, .init = setup, .fini = teardown, .timeout = 120);

static struct zcp_json_file *load(const char *name) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s.json.gz", zcp_json_gold_dir(), name);
  struct zcp_json_file *f = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_json_file_load(path, &f, &err), ZCP_OK, "%s", err.message);
  return f;
}

Test(arrow_json, batches_built_from_every_gold_json_match_it) {
  int failed = 0;
  for (int k = 0; k < n_names; k++) {
    struct zcp_json_file *f = load(names[k]);
    struct zcp_error err = {0};
    struct ArrowSchema schema;
    zcp_status_t st = zcp_json_file_schema(f, &schema, &err);
    if (st == ZCP_OK) {
      st = zcp_schema_validate(&schema, &err);
      if (st == ZCP_OK) st = zcp_json_compare_schema(f, &schema, schema.metadata, &err);
      for (int64_t b = 0; st == ZCP_OK && b < zcp_json_file_num_batches(f); b++) {
        struct ArrowArray batch;
        st = zcp_json_build_batch(f, b, &batch, &err);
        if (st != ZCP_OK) break;
        st = zcp_array_validate(&batch, &schema, ZCP_VALIDATE_FULL, &err);
        if (st == ZCP_OK) st = zcp_json_compare_batch(f, b, &batch, &schema, &err);
        zcp_array_release(&batch);
      }
      zcp_schema_release(&schema);
    }
    cr_log_info("arrow_json: %-40s %s %s", names[k], st == ZCP_OK ? "ok" : "FAIL",
                st == ZCP_OK ? "" : err.message);
    failed += st != ZCP_OK;
    zcp_json_file_free(f);
  }
  cr_expect_eq(failed, 0, "%d of %d gold JSON files could not be rebuilt and matched", failed,
               n_names);
}

/* Builds batch 0 of a case, lets `tamper` change the JSON, and expects a mismatch whose
 * message contains `needle`. */
static void expect_mismatch(const char *name, void (*tamper)(json_t *batch),
                            const char *needle) {
  struct zcp_json_file *f = load(name);
  struct zcp_error err = {0};
  struct ArrowSchema schema;
  struct ArrowArray batch;
  cr_assert_eq(zcp_json_file_schema(f, &schema, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_json_build_batch(f, 0, &batch, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_json_compare_batch(f, 0, &batch, &schema, &err), ZCP_OK, "%s", err.message);
  tamper(json_array_get(f->batches, 0));
  cr_expect_eq(zcp_json_compare_batch(f, 0, &batch, &schema, &err), ZCP_CORRUPT_INPUT);
  cr_expect(strstr(err.message, needle) != NULL, "message '%s' lacks '%s'", err.message, needle);
  zcp_array_release(&batch);
  zcp_schema_release(&schema);
  zcp_json_file_free(f);
}

static json_t *column(json_t *batch, const char *name) {
  size_t k;
  json_t *c;
  json_array_foreach(json_object_get(batch, "columns"), k, c) {
    if (strcmp(json_string_value(json_object_get(c, "name")), name) == 0) return c;
  }
  cr_assert_fail("no column %s", name);
  return NULL;
}

/* First valid row of a column. */
static size_t first_valid(json_t *col) {
  for (size_t r = 0; r < json_array_size(json_object_get(col, "VALIDITY")); r++) {
    if (json_integer_value(json_array_get(json_object_get(col, "VALIDITY"), r))) return r;
  }
  cr_assert_fail("no valid row");
  return 0;
}

static void change_int32(json_t *batch) {
  json_t *c = column(batch, "int32_nullable");
  size_t r = first_valid(c);
  json_t *data = json_object_get(c, "DATA");
  json_array_set_new(data, r, json_integer(json_integer_value(json_array_get(data, r)) ^ 1));
}

static void change_validity(json_t *batch) {
  json_t *c = column(batch, "utf8_nullable");
  json_array_set_new(json_object_get(c, "VALIDITY"), first_valid(c), json_integer(0));
}

static void change_string(json_t *batch) {
  json_t *c = column(batch, "utf8_nonnullable");
  json_array_set_new(json_object_get(c, "DATA"), 1, json_string("not what was written"));
}

static void change_index(json_t *batch) {
  json_t *c = column(batch, "dict1");
  size_t r = first_valid(c);
  json_t *data = json_object_get(c, "DATA");
  json_array_set_new(data, r, json_integer(json_integer_value(json_array_get(data, r)) ^ 1));
}

static void change_nested(json_t *batch) {
  json_t *c = column(batch, "struct_nullable");
  json_t *ints = json_array_get(json_object_get(c, "children"), 0);
  size_t r = first_valid(c);
  while (!json_integer_value(json_array_get(json_object_get(ints, "VALIDITY"), r))) r++;
  json_t *data = json_object_get(ints, "DATA");
  json_array_set_new(data, r, json_integer(json_integer_value(json_array_get(data, r)) + 1));
}

Test(arrow_json, detects_a_changed_integer) {
  expect_mismatch("generated_primitive", change_int32, "int32_nullable");
}
Test(arrow_json, detects_a_value_that_should_be_null) {
  expect_mismatch("generated_primitive", change_validity, "expected null");
}
Test(arrow_json, detects_a_changed_string) {
  expect_mismatch("generated_primitive", change_string, "row 1");
}
Test(arrow_json, detects_a_changed_dictionary_index) {
  expect_mismatch("generated_dictionary", change_index, "dictionary index");
}
Test(arrow_json, detects_a_changed_struct_child) {
  expect_mismatch("generated_nested", change_nested, "struct_nullable");
}

Test(arrow_json, schema_comparison_names_the_differing_field) {
  struct zcp_json_file *f = load("generated_datetime");
  struct zcp_error err = {0};
  struct ArrowSchema schema;
  cr_assert_eq(zcp_json_file_schema(f, &schema, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_schema_set_format(schema.children[12], "tsm:UTC"), ZCP_OK);
  cr_expect_eq(zcp_json_compare_schema(f, &schema, NULL, &err), ZCP_CORRUPT_INPUT);
  cr_expect(strstr(err.message, "f12") != NULL, "%s", err.message);
  zcp_schema_release(&schema);
  zcp_json_file_free(f);
}

Test(arrow_json_text, decimal_text_becomes_twos_complement) {
  uint8_t b[16], want[16];
  cr_assert(zcp__json_decimal("-1", b, 16));
  memset(want, 0xff, 16);
  cr_expect_arr_eq(b, want, 16);
  cr_assert(zcp__json_decimal("258", b, 16));
  memset(want, 0, 16);
  want[0] = 2, want[1] = 1;
  cr_expect_arr_eq(b, want, 16);
  cr_expect(!zcp__json_decimal("12x", b, 16));
}
