/* The printer: exact text of values of every type, schema lines, and batch tables. */
#define _GNU_SOURCE 1
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zcp_fixture.h"

/* Text of row r of the column named `name` in batch/schema. */
static void cell(const struct ArrowArray *batch, const struct ArrowSchema *schema,
                 const char *name, int64_t r, char *out, size_t cap) {
  struct zcp_array_view v;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_array_view_init(batch, schema, &v, &err), ZCP_OK, "%s", err.message);
  int64_t c = 0;
  while (c < schema->n_children && strcmp(schema->children[c]->name, name) != 0) c++;
  cr_assert_lt(c, schema->n_children, "no column %s", name);
  zcp_array_view_format(&v.children[c], v.offset + r, out, cap); /* row r of the batch */
  zcp_array_view_reset(&v);
}

struct expect {
  const char *column;
  int64_t row;
  const char *text;
};

/* Checks the text of row `row` of `column` for every case. */
static void expect_cells(const struct ArrowArray *b, const struct ArrowSchema *s,
                         const struct expect *cases, size_t n) {
  char got[256];
  for (size_t k = 0; k < n; k++) {
    cell(b, s, cases[k].column, cases[k].row, got, sizeof got);
    cr_expect_str_eq(got, cases[k].text, "%s row %lld", cases[k].column,
                     (long long)cases[k].row);
  }
}

Test(print, formats_common_types_exactly) {
  struct ArrowSchema s;
  struct ArrowArray b;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_fixture_schema(&s, &err), ZCP_OK);
  cr_assert_eq(zcp_fixture_batch(0, 1300, NULL, &b, &err), ZCP_OK, "%s", err.message);
  const struct expect cases[] = {
      {"i8", 1234, "-16"},
      {"i8", 3, "null"},
      {"u64", 2, "17179869184"},
      {"f64", 5, "1.25"},
      {"flag", 6, "true"},
      {"flag", 5, "false"},
      {"s", 12, "\"row-12\""},
      {"sv", 1, "\"v1\""},
      {"bin", 258, "b\"\\x02\\x01\\x00\""},
      {"day", 1234, "2022-08-30"},
      {"ts", 1, "2023-11-14T22:13:21Z"},
      {"tod", 1261, "00:21:01"},
      {"amount", 1234, "1196.34"},
      {"amount", 0, "-50.00"},
      {"lst", 7, "[7, 8, 9]"},
      {"lst", 4, "[]"},
      {"st", 5, "{a: 5, b: \"b5\"}"},
      {"color", 8, "\"cyan\""},
      {"color", 10, "null"},
  };
  expect_cells(&b, &s, cases, sizeof cases / sizeof cases[0]);
  b.release(&b);
  s.release(&s);
}

Test(print, formats_rare_types_exactly) {
  struct ArrowSchema s;
  struct ArrowArray b;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_fixture_exotic_schema(&s, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_fixture_exotic_batch(20, NULL, &b, &err), ZCP_OK, "%s", err.message);
  const struct expect cases[] = {
      {"nothing", 0, "null"},
      {"half", 5, "2.5"},
      {"big", 2, "-2000.006"},
      {"dur", 4, "-88ms"},
      {"months", 1, "-97M"},
      {"daytime", 2, "2d14ms"},
      {"mdn", 13, "1M13d13000000091ns"},
      {"fsb", 1, "b\"\\x01\\x00z\""},
      {"bview", 1, "b\"1\""},
      {"bview", 2, "b\"binary-value-longer-than-twelve-2\""},
      {"llist", 2, "[2, 3]"},
      {"lview", 5, "[5, null]"},
      {"pair", 4, "[4, 5]"},
      {"attrs", 2, "{\"k0\": 0, \"k1\": 2}"},
      {"sunion", 4, "44"},
      {"sunion", 5, "\"u5\""},
      {"dunion", 6, "66"},
      {"dunion", 3, "null"},
      {"runs", 0, "\"run0\""},
      {"runs", 3, "null"},
      {"runs", 6, "\"run6\""},
      {"d64", 2, "1970-01-03"},
      {"t32", 1, "00:00:01.005"},
      {"tsn", 2, "1970-01-01T00:00:02.000000001"},
      {"dict8", 2, "\"gamma\""},
      {"dec32", 1, "9999999.99"},
      {"dec32", 2, "-9999999.99"},
      {"dec32", 4, "-506.19"}, /* 4 * 12345 - 99999 */
      {"dec32", 3, "null"},
      {"dec64", 1, "99999999999999.9999"},
      {"dec64", 2, "-99999999999999.9999"},
      {"dec64", 5, "-500000.0032"}, /* 3 - 5 * 1000000007 */
  };
  expect_cells(&b, &s, cases, sizeof cases / sizeof cases[0]);
  b.release(&b);
  s.release(&s);
}

Test(print, run_end_encoded_repeats_values_over_runs) {
  struct ArrowSchema s;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_schema_init("+r", "runs", 0, 2, &s, &err), ZCP_OK);
  cr_assert_eq(zcp_schema_set_child(&s, 0, "s", "run_ends", 0, 0, &err), ZCP_OK);
  cr_assert_eq(zcp_schema_set_child(&s, 1, "g", "values", ARROW_FLAG_NULLABLE, 0, &err),
               ZCP_OK);
  struct zcp_builder *b;
  cr_assert_eq(zcp_builder_init(&s, NULL, &b, &err), ZCP_OK, "%s", err.message);
  const int64_t runs[] = {3, 1, 4};
  for (int k = 0; k < 3; k++) {
    cr_assert_eq(k == 1 ? zcp_builder_append_null(zcp_builder_child(b, 1), 1)
                        : zcp_builder_append_double(zcp_builder_child(b, 1), k + 0.5),
                 ZCP_OK);
    cr_assert_eq(zcp_builder_append_run(b, runs[k]), ZCP_OK);
  }
  struct ArrowArray a;
  cr_assert_eq(zcp_builder_finish(b, &a, NULL, &err), ZCP_OK, "%s", err.message);
  zcp_builder_release(b);
  cr_assert_eq(a.length, 8);
  struct zcp_array_view v;
  cr_assert_eq(zcp_array_view_init(&a, &s, &v, &err), ZCP_OK, "%s", err.message);
  const char *want[] = {"0.5", "0.5", "0.5", "null", "2.5", "2.5", "2.5", "2.5"};
  char got[32];
  for (int i = 0; i < 8; i++) {
    zcp_array_view_format(&v, i, got, sizeof got);
    cr_expect_str_eq(got, want[i], "row %d", i);
  }
  zcp_array_view_reset(&v);
  a.release(&a);
  s.release(&s);
}

Test(print, format_reports_wanted_length_and_truncates) {
  struct ArrowSchema s;
  struct ArrowArray b;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_fixture_schema(&s, &err), ZCP_OK);
  cr_assert_eq(zcp_fixture_batch(0, 20, NULL, &b, &err), ZCP_OK);
  struct zcp_array_view v;
  cr_assert_eq(zcp_array_view_init(&b, &s, &v, &err), ZCP_OK);
  char small[5];
  int64_t n = zcp_array_view_format(&v.children[FX_STR], 12, small, sizeof small);
  cr_expect_eq(n, 8); /* "row-12" with quotes */
  cr_expect_str_eq(small, "\"row");
  zcp_array_view_reset(&v);
  b.release(&b);
  s.release(&s);
}

static char *capture(void (*fn)(FILE *, void *), void *arg) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  fn(f, arg);
  fclose(f);
  return buf;
}

struct pair {
  struct ArrowSchema *s;
  struct ArrowArray *b;
};

static void print_schema(FILE *f, void *arg) {
  struct zcp_error err = {0};
  cr_assert_eq(zcp_schema_print(f, ((struct pair *)arg)->s, &err), ZCP_OK, "%s", err.message);
}

static void print_batch(FILE *f, void *arg) {
  struct pair *p = arg;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_batch_print(f, p->b, p->s, 4, &err), ZCP_OK, "%s", err.message);
}

Test(print, schema_and_batch_tables) {
  struct ArrowSchema s;
  struct ArrowArray b;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_fixture_schema(&s, &err), ZCP_OK);
  cr_assert_eq(zcp_fixture_batch(0, 10, NULL, &b, &err), ZCP_OK);
  struct pair p = {&s, &b};
  char *text = capture(print_schema, &p);
  cr_expect(strstr(text, "i64: int64 not null\n") != NULL, "%s", text);
  cr_expect(strstr(text, "ts: timestamp[us, tz=UTC]\n") != NULL, "%s", text);
  cr_expect(strstr(text, "amount: decimal128(12, 2)\n") != NULL, "%s", text);
  cr_expect(strstr(text, "color: dictionary<values=utf8, indices=int32>") != NULL, "%s", text);
  cr_expect(strstr(text, "lst: list<item: int32>") != NULL, "%s", text);
  cr_expect(strstr(text, "origin = zcpool fixture") != NULL, "%s", text);
  free(text);
  text = capture(print_batch, &p);
  cr_expect(strncmp(text, " i8 ", 4) == 0, "%s", text);
  cr_expect(strstr(text, "\"row-2\"") != NULL, "%s", text);
  cr_expect(strstr(text, "\"row-5\"") == NULL, "printed past max_rows: %s", text);
  cr_expect(strstr(text, "(10 rows, first ones shown)") != NULL, "%s", text);
  free(text);
  b.release(&b);
  s.release(&s);
}

Test(print, schema_names_every_decimal_width) {
  struct ArrowSchema s;
  struct ArrowArray b;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_fixture_exotic_schema(&s, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_fixture_exotic_batch(3, NULL, &b, &err), ZCP_OK, "%s", err.message);
  struct pair p = {&s, &b};
  char *text = capture(print_schema, &p);
  cr_expect(strstr(text, "dec32: decimal32(9, 2)\n") != NULL, "%s", text);
  cr_expect(strstr(text, "dec64: decimal64(18, 4)\n") != NULL, "%s", text);
  cr_expect(strstr(text, "big: decimal256(40, 3)\n") != NULL, "%s", text);
  free(text);
  b.release(&b);
  s.release(&s);
}

Test(print, canonical_extension_types_print_as_what_they_mean) {
  struct ArrowSchema s;
  struct ArrowArray b;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_fixture_extension_schema(&s, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_fixture_extension_batch(12, NULL, &b, &err), ZCP_OK, "%s", err.message);
  const struct expect cases[] = {
      {"id", 1, "10111213-1415-1617-1819-1a1b1c1d1e1f"},
      {"id", 3, "null"},
      {"doc", 2, "{\"row\": 2}"},
      {"docv", 4, "{\"row\": 4, \"note\": \"a\\nb\"}"},
      {"ok", 0, "false"},
      {"ok", 2, "true"}, /* any nonzero int8 */
      {"ok", 11, "true"},
      {"tensor", 1, "[[10, 11, 12], [13, 14, 15]]"},
      {"blob", 5, "b\"\\x01\\x05\\xff\""}, /* opaque: its storage */
      {"gone", 0, "null"},
  };
  expect_cells(&b, &s, cases, sizeof cases / sizeof cases[0]);
  struct pair p = {&s, &b};
  char *text = capture(print_schema, &p);
  cr_expect(strstr(text, "id: arrow.uuid on fixed_size_binary[16]\n") != NULL, "%s", text);
  cr_expect(strstr(text, "doc: arrow.json on utf8\n") != NULL, "%s", text);
  cr_expect(strstr(text, "docv: arrow.json on utf8_view\n") != NULL, "%s", text);
  cr_expect(strstr(text, "ok: arrow.bool8 on int8\n") != NULL, "%s", text);
  cr_expect(strstr(text, "tensor: arrow.fixed_shape_tensor{\"shape\":[2,3],\"dim_names\":[\"y\",\"x\"]} "
                         "on fixed_size_list[6]<item: float not null> not null\n") != NULL,
            "%s", text);
  cr_expect(strstr(text, "blob: arrow.opaque{\"type_name\":\"geometry\",\"vendor_name\":\"PostGIS\"} "
                         "on binary\n") != NULL,
            "%s", text);
  cr_expect(strstr(text, "ARROW:extension") == NULL, "the keys are in the types: %s", text);
  free(text);
  b.release(&b);
  s.release(&s);
}

Test(print, a_canonical_name_on_the_wrong_storage_prints_the_storage) {
  struct ArrowSchema s;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_schema_init("+s", "", 0, 2, &s, &err), ZCP_OK);
  cr_assert_eq(zcp_schema_set_child(&s, 0, "w:4", "short", ARROW_FLAG_NULLABLE, 0, &err), ZCP_OK);
  cr_assert_eq(zcp_schema_set_child(&s, 1, "+w:4", "badshape", ARROW_FLAG_NULLABLE, 1, &err),
               ZCP_OK);
  cr_assert_eq(zcp_schema_set_child(s.children[1], 0, "i", "item", 0, 0, &err), ZCP_OK);
  const char *keys[] = {"ARROW:extension:name", "ARROW:extension:metadata"};
  const char *uuid[] = {"arrow.uuid", ""}, *tensor[] = {"arrow.fixed_shape_tensor", "{\"shape\":[3]}"};
  char *m1, *m2;
  cr_assert_eq(zcp_metadata_build(2, keys, uuid, &m1), ZCP_OK);
  cr_assert_eq(zcp_metadata_build(2, keys, tensor, &m2), ZCP_OK);
  cr_assert_eq(zcp_schema_set_metadata(s.children[0], m1), ZCP_OK);
  cr_assert_eq(zcp_schema_set_metadata(s.children[1], m2), ZCP_OK);
  free(m1);
  free(m2);
  struct zcp_builder *bld;
  cr_assert_eq(zcp_builder_init(&s, NULL, &bld, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_builder_append_bytes(zcp_builder_child(bld, 0), "abcd", 4), ZCP_OK);
  for (int k = 0; k < 4; k++) cr_assert_eq(zcp_builder_append_int(zcp_builder_child(zcp_builder_child(bld, 1), 0), k), ZCP_OK);
  cr_assert_eq(zcp_builder_finish_element(zcp_builder_child(bld, 1)), ZCP_OK);
  cr_assert_eq(zcp_builder_finish_element(bld), ZCP_OK);
  struct ArrowArray b;
  cr_assert_eq(zcp_builder_finish(bld, &b, NULL, &err), ZCP_OK, "%s", err.message);
  zcp_builder_release(bld);
  const struct expect cases[] = {
      {"short", 0, "b\"abcd\""},          /* a uuid must be 16 bytes */
      {"badshape", 0, "[0, 1, 2, 3]"}, /* shape [3] does not make 4 items */
  };
  expect_cells(&b, &s, cases, sizeof cases / sizeof cases[0]);
  b.release(&b);
  s.release(&s);
}

Test(print, sliced_struct_and_batch_show_the_rows_of_the_slice) {
  struct ArrowSchema s;
  struct ArrowArray b;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_fixture_schema(&s, &err), ZCP_OK);
  cr_assert_eq(zcp_fixture_batch(0, 10, NULL, &b, &err), ZCP_OK);
  /* Slice the batch (and so every column through the struct) to rows 5..9. */
  b.offset = 5;
  b.length = 5;
  b.null_count = -1;
  char got[64];
  cell(&b, &s, "s", 1, got, sizeof got);
  cr_expect_str_eq(got, "\"row-6\"");
  cell(&b, &s, "st", 0, got, sizeof got);
  cr_expect_str_eq(got, "{a: 5, b: \"b5\"}");
  struct pair p = {&s, &b};
  char *text = capture(print_batch, &p);
  cr_expect(strstr(text, "\"row-5\"") != NULL, "%s", text);
  cr_expect(strstr(text, "\"row-0\"") == NULL, "printed rows before the slice: %s", text);
  free(text);
  b.release(&b);
  s.release(&s);
}

Test(print, batch_print_refuses_a_non_struct) {
  struct ArrowSchema s;
  struct ArrowArray b;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_fixture_schema(&s, &err), ZCP_OK);
  cr_assert_eq(zcp_fixture_batch(0, 3, NULL, &b, &err), ZCP_OK);
  FILE *devnull = fopen("/dev/null", "w");
  cr_expect_eq(zcp_batch_print(devnull, b.children[0], s.children[0], -1, &err),
               ZCP_INVALID_ARGUMENT);
  fclose(devnull);
  b.release(&b);
  s.release(&s);
}
