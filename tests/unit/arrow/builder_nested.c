/* Tests of src/arrow/builder_nested.c: lists, large lists, list views, fixed-size lists,
 * structs, maps, sparse and dense unions and run-end encoded columns, with nulls, and the
 * misuse each of them catches (children that did not move as the type demands). */
#include "builder_test.h"

static struct zcp_builder *list_builder(const char *format, const char *item_format,
                                        struct zcp_allocator *alloc) {
  struct ArrowSchema s;
  node(&s, format, "tags", 1);
  child(&s, 0, item_format, "item", 0);
  struct zcp_builder *b = make_builder(&s, alloc);
  zcp_schema_release(&s);
  return b;
}

/* [1, 2], null, [], [3] */
static void append_lists(struct zcp_builder *b) {
  struct zcp_builder *item = zcp_builder_child(b, 0);
  BOK(b, zcp_builder_append_int(item, 1));
  BOK(b, zcp_builder_append_int(item, 2));
  BOK(b, zcp_builder_finish_element(b));
  BOK(b, zcp_builder_append_null(b, 1));
  BOK(b, zcp_builder_append_empty(b, 1));
  BOK(b, zcp_builder_append_int(item, 3));
  BOK(b, zcp_builder_finish_element(b));
}

static void check_lists(const struct zcp_array_view *v) {
  int64_t want_start[4] = {0, 2, 2, 2}, want_size[4] = {2, 0, 0, 1};
  for (int i = 0; i < 4; i++) {
    int64_t start, size;
    zcp_array_view_get_list(v, i, &start, &size);
    cr_assert_eq(size, want_size[i], "row %d", i);
    if (size > 0) cr_assert_eq(start, want_start[i], "row %d", i);
  }
  cr_assert(zcp_array_view_is_null(v, 1));
  cr_assert_eq(zcp_array_view_get_int(&v->children[0], 2), 3);
}

Test(builder_nested, list_offsets_and_nulls) {
  struct test_alloc ta;
  ta_init(&ta, 64);
  struct zcp_builder *b = list_builder("+l", "i", &ta.base);
  append_lists(b);
  struct ArrowArray a;
  struct ArrowSchema s;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  cr_assert_eq(a.n_buffers, 2);
  cr_assert_eq(a.length, 4);
  cr_assert_eq(a.null_count, 1);
  int32_t want[5] = {0, 2, 2, 2, 3};
  for (int i = 0; i < 5; i++) cr_assert_eq(i32_at(&a, 1, i), want[i]);
  check_padding(&a, 1, 20);
  cr_assert_eq(a.children[0]->length, 3);
  cr_assert_eq(a.children[0]->null_count, 0);
  check_lists(&v);
  cr_assert_str_eq(s.children[0]->name, "item");
  done(&a, &s, &v);
  zcp_builder_release(b);
  cr_assert_eq(ta.live, 0);
}

Test(builder_nested, large_list_has_int64_offsets) {
  struct zcp_builder *b = list_builder("+L", "i", NULL);
  append_lists(b);
  struct ArrowArray a;
  struct ArrowSchema s;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  int64_t want[5] = {0, 2, 2, 2, 3};
  for (int i = 0; i < 5; i++) cr_assert_eq(i64_at(&a, 1, i), want[i]);
  check_lists(&v);
  done(&a, &s, &v);
  zcp_builder_release(b);
}

Test(builder_nested, list_views_have_offsets_and_sizes) {
  const char *formats[2] = {"+vl", "+vL"};
  for (int k = 0; k < 2; k++) {
    struct zcp_builder *b = list_builder(formats[k], "i", NULL);
    append_lists(b);
    struct ArrowArray a;
    struct ArrowSchema s;
    struct zcp_array_view v;
    finish(b, &a, &s, &v);
    cr_assert_eq(a.n_buffers, 3);
    int64_t off[4] = {0, 2, 2, 2}, size[4] = {2, 0, 0, 1};
    for (int i = 0; i < 4; i++) {
      int64_t o = k == 0 ? i32_at(&a, 1, i) : i64_at(&a, 1, i);
      int64_t z = k == 0 ? i32_at(&a, 2, i) : i64_at(&a, 2, i);
      cr_assert_eq(o, off[i], "%s row %d", formats[k], i);
      cr_assert_eq(z, size[i], "%s row %d", formats[k], i);
    }
    check_lists(&v);
    done(&a, &s, &v);
    zcp_builder_release(b);
  }
}

Test(builder_nested, open_element_is_reported_at_finish) {
  struct zcp_builder *b = list_builder("+l", "i", NULL);
  BOK(b, zcp_builder_append_int(zcp_builder_child(b, 0), 1));
  struct ArrowArray a;
  struct zcp_error e;
  cr_assert_eq(zcp_builder_finish(b, &a, NULL, &e), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(e.message, "column 'tags' (list): an element is open") != NULL, "%s",
            e.message);
  cr_assert_eq(zcp_builder_append_null(b, 1), ZCP_INVALID_ARGUMENT);
  BOK(b, zcp_builder_finish_element(b));
  cr_assert_eq(zcp_builder_finish(b, &a, NULL, &e), ZCP_OK, "%s", e.message);
  cr_assert_eq(a.length, 1);
  zcp_array_release(&a);
  zcp_builder_release(b);
}

Test(builder_nested, fixed_size_list_counts_items) {
  struct test_alloc ta;
  ta_init(&ta, 64);
  struct zcp_builder *b = list_builder("+w:3", "s", &ta.base);
  struct zcp_builder *item = zcp_builder_child(b, 0);
  for (int i = 0; i < 3; i++) BOK(b, zcp_builder_append_int(item, i));
  BOK(b, zcp_builder_finish_element(b));
  BOK(b, zcp_builder_append_int(item, 7));
  BOK(b, zcp_builder_append_int(item, 8));
  cr_assert_eq(zcp_builder_finish_element(b), ZCP_INVALID_ARGUMENT);
  cr_assert_str_eq(zcp_builder_last_error(b),
                   "column 'tags' (fixed_size_list): fixed-size list expects 3 items per "
                   "element, got 2");
  BOK(b, zcp_builder_append_int(item, 9));
  BOK(b, zcp_builder_finish_element(b));
  BOK(b, zcp_builder_append_null(b, 2));
  struct ArrowArray a;
  struct ArrowSchema s;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  cr_assert_eq(a.n_buffers, 1);
  cr_assert_eq(a.length, 4);
  cr_assert_eq(a.null_count, 2);
  cr_assert_eq(a.children[0]->length, 12);
  int64_t start, size;
  zcp_array_view_get_list(&v, 1, &start, &size);
  cr_assert(start == 3 && size == 3);
  cr_assert_eq(zcp_array_view_get_int(&v.children[0], 5), 9);
  done(&a, &s, &v);
  zcp_builder_release(b);
  cr_assert_eq(ta.live, 0);
}

Test(builder_nested, struct_children_move_together) {
  struct ArrowSchema s;
  node(&s, "+s", "point", 2);
  child(&s, 0, "i", "x", 0);
  child(&s, 1, "u", "label", 0);
  struct zcp_builder *b = make_builder(&s, NULL);
  zcp_schema_release(&s);
  struct zcp_builder *x = zcp_builder_child(b, 0), *label = zcp_builder_child(b, 1);
  BOK(b, zcp_builder_append_int(x, 1));
  BOK(b, zcp_builder_append_string(label, "one"));
  BOK(b, zcp_builder_finish_element(b));
  BOK(b, zcp_builder_append_null(b, 1));
  BOK(b, zcp_builder_append_int(x, 3));
  cr_assert_eq(zcp_builder_finish_element(b), ZCP_INVALID_ARGUMENT);
  cr_assert(
      strstr(zcp_builder_last_error(b),
             "column 'point' (struct): child 'label' has 2 values, expected 3") != NULL,
      "%s", zcp_builder_last_error(b));
  BOK(b, zcp_builder_append_null(label, 1));
  BOK(b, zcp_builder_finish_element(b));
  BOK(b, zcp_builder_reserve(b, 10, 100));
  struct ArrowArray a;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  cr_assert_eq(a.n_buffers, 1);
  cr_assert_eq(a.length, 3);
  cr_assert_eq(a.null_count, 1);
  cr_assert_eq(a.children[0]->length, 3);
  cr_assert_eq(a.children[1]->length, 3);
  cr_assert_eq(a.children[1]->null_count, 1);
  cr_assert(zcp_array_view_is_null(&v, 1));
  cr_assert_eq(zcp_array_view_get_int(&v.children[0], 2), 3);
  cr_assert_str_eq(s.children[1]->name, "label");
  done(&a, &s, &v);
  zcp_builder_release(b);
}

Test(builder_nested, map_is_a_list_of_key_value_structs) {
  struct ArrowSchema s;
  node(&s, "+m", "attrs", 1);
  child(&s, 0, "+s", "entries", 2);
  child(s.children[0], 0, "u", "key", 0);
  s.children[0]->children[0]->flags = 0;
  child(s.children[0], 1, "l", "value", 0);
  struct zcp_builder *b = make_builder(&s, NULL);
  zcp_schema_release(&s);
  struct zcp_builder *entries = zcp_builder_child(b, 0);
  struct zcp_builder *key = zcp_builder_child(entries, 0);
  struct zcp_builder *value = zcp_builder_child(entries, 1);
  BOK(b, zcp_builder_append_string(key, "a"));
  BOK(b, zcp_builder_append_int(value, 1));
  BOK(b, zcp_builder_finish_element(entries));
  BOK(b, zcp_builder_append_string(key, "b"));
  BOK(b, zcp_builder_append_null(value, 1));
  BOK(b, zcp_builder_finish_element(entries));
  BOK(b, zcp_builder_finish_element(b));
  BOK(b, zcp_builder_append_null(b, 1));
  BOK(b, zcp_builder_append_string(key, "c"));
  cr_assert_eq(zcp_builder_finish_element(b), ZCP_INVALID_ARGUMENT,
               "entry not closed on the entries struct");
  BOK(b, zcp_builder_append_int(value, 3));
  BOK(b, zcp_builder_finish_element(entries));
  BOK(b, zcp_builder_finish_element(b));
  struct ArrowArray a;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  cr_assert_eq(a.length, 3);
  cr_assert_eq(a.null_count, 1);
  int32_t want[4] = {0, 2, 2, 3};
  for (int i = 0; i < 4; i++) cr_assert_eq(i32_at(&a, 1, i), want[i]);
  cr_assert_eq(a.children[0]->length, 3);
  cr_assert_eq(a.children[0]->children[1]->null_count, 1);
  done(&a, &s, &v);
  zcp_builder_release(b);
}

static struct zcp_builder *union_builder(const char *format) {
  struct ArrowSchema s;
  node(&s, format, "u", 2);
  child(&s, 0, "i", "int", 0);
  child(&s, 1, "u", "str", 0);
  struct zcp_builder *b = make_builder(&s, NULL);
  zcp_schema_release(&s);
  return b;
}

Test(builder_nested, sparse_union_fills_every_child) {
  struct zcp_builder *b = union_builder("+us:3,7");
  cr_assert_eq(zcp_builder_union_child(b, 3), zcp_builder_child(b, 0));
  cr_assert_eq(zcp_builder_union_child(b, 7), zcp_builder_child(b, 1));
  cr_assert_null(zcp_builder_union_child(b, 4));
  BOK(b, zcp_builder_append_union(b, 7));
  BOK(b, zcp_builder_append_string(zcp_builder_union_child(b, 7), "hi"));
  BOK(b, zcp_builder_append_union(b, 3));
  BOK(b, zcp_builder_append_int(zcp_builder_union_child(b, 3), 42));
  BOK(b, zcp_builder_append_null(b, 1));
  cr_assert_eq(zcp_builder_append_union(b, 4), ZCP_INVALID_ARGUMENT);
  BOK(b, zcp_builder_append_union(b, 3));
  cr_assert_eq(zcp_builder_append_union(b, 3), ZCP_INVALID_ARGUMENT,
               "the previous element got no value");
  BOK(b, zcp_builder_append_int(zcp_builder_union_child(b, 3), 5));
  struct ArrowArray a;
  struct ArrowSchema s;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  cr_assert_eq(a.n_buffers, 1);
  cr_assert_eq(a.length, 4);
  cr_assert_eq(a.null_count, 0);
  const int8_t *ids = a.buffers[0];
  cr_assert(ids[0] == 7 && ids[1] == 3 && ids[2] == 3 && ids[3] == 3);
  cr_assert_eq(a.children[0]->length, 4);
  cr_assert_eq(a.children[1]->length, 4);
  cr_assert_eq(a.children[0]->null_count, 1);
  int64_t idx;
  cr_assert_eq(zcp_array_view_union_child(&v, 1, &idx), 0);
  cr_assert_eq(idx, 1);
  cr_assert_eq(zcp_array_view_get_int(&v.children[0], 1), 42);
  done(&a, &s, &v);
  zcp_builder_release(b);
}

Test(builder_nested, dense_union_records_child_offsets) {
  struct zcp_builder *b = union_builder("+ud:0,1");
  BOK(b, zcp_builder_append_union(b, 1));
  BOK(b, zcp_builder_append_string(zcp_builder_union_child(b, 1), "a"));
  BOK(b, zcp_builder_append_union(b, 0));
  BOK(b, zcp_builder_append_int(zcp_builder_union_child(b, 0), 10));
  BOK(b, zcp_builder_append_union(b, 1));
  BOK(b, zcp_builder_append_string(zcp_builder_union_child(b, 1), "b"));
  BOK(b, zcp_builder_append_null(b, 2));
  BOK(b, zcp_builder_append_union(b, 1));
  struct ArrowArray a;
  struct zcp_error e;
  cr_assert_eq(zcp_builder_finish(b, &a, NULL, &e), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(e.message, "child 'str' has 2 values, expected 3") != NULL, "%s",
            e.message);
  BOK(b, zcp_builder_append_string(zcp_builder_union_child(b, 1), "c"));
  struct ArrowSchema s;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  cr_assert_eq(a.n_buffers, 2);
  cr_assert_eq(a.length, 6);
  const int8_t *ids = a.buffers[0];
  int8_t want_ids[6] = {1, 0, 1, 0, 0, 1};
  int32_t want_off[6] = {0, 0, 1, 1, 2, 2};
  for (int i = 0; i < 6; i++) {
    cr_assert_eq(ids[i], want_ids[i], "row %d", i);
    cr_assert_eq(i32_at(&a, 1, i), want_off[i], "row %d", i);
  }
  cr_assert_eq(a.children[0]->length, 3);
  cr_assert_eq(a.children[0]->null_count, 2);
  cr_assert_eq(a.children[1]->length, 3);
  done(&a, &s, &v);
  zcp_builder_release(b);
}

static struct zcp_builder *ree_builder(const char *run_format) {
  struct ArrowSchema s;
  node(&s, "+r", "runs", 2);
  child(&s, 0, run_format, "run_ends", 0);
  s.children[0]->flags = 0;
  child(&s, 1, "u", "values", 0);
  struct zcp_builder *b = make_builder(&s, NULL);
  zcp_schema_release(&s);
  return b;
}

Test(builder_nested, run_end_encoded_accumulates_run_ends) {
  struct zcp_builder *b = ree_builder("i");
  struct zcp_builder *values = zcp_builder_child(b, 1);
  BOK(b, zcp_builder_append_string(values, "x"));
  BOK(b, zcp_builder_append_run(b, 3));
  cr_assert_eq(zcp_builder_append_run(b, 2), ZCP_INVALID_ARGUMENT,
               "no value for the run");
  BOK(b, zcp_builder_append_null(b, 2));
  BOK(b, zcp_builder_append_string(values, "y"));
  cr_assert_eq(zcp_builder_append_run(b, 0), ZCP_INVALID_ARGUMENT);
  BOK(b, zcp_builder_append_run(b, 1));
  cr_assert_eq(zcp_builder_length(b), 6);
  struct ArrowArray a;
  struct ArrowSchema s;
  struct zcp_array_view v;
  finish(b, &a, &s, &v);
  cr_assert_eq(a.n_buffers, 0);
  cr_assert_eq(a.length, 6);
  cr_assert_eq(a.null_count, 0);
  const struct ArrowArray *ends = a.children[0];
  cr_assert_eq(ends->length, 3);
  cr_assert(i32_at(ends, 1, 0) == 3 && i32_at(ends, 1, 1) == 5 &&
            i32_at(ends, 1, 2) == 6);
  cr_assert_eq(a.children[1]->null_count, 1);
  cr_assert_eq(zcp_array_view_run_index(&v, 4), 1);
  cr_assert_eq(zcp_array_view_run_index(&v, 5), 2);
  done(&a, &s, &v);
  zcp_builder_release(b);
}

Test(builder_nested, run_ends_overflow_their_type) {
  struct zcp_builder *b = ree_builder("s");
  struct zcp_builder *values = zcp_builder_child(b, 1);
  BOK(b, zcp_builder_append_string(values, "x"));
  BOK(b, zcp_builder_append_run(b, 30000));
  BOK(b, zcp_builder_append_string(values, "y"));
  cr_assert_eq(zcp_builder_append_run(b, 3000), ZCP_NO_SPACE);
  cr_assert(strstr(zcp_builder_last_error(b), "exceeds int16") != NULL, "%s",
            zcp_builder_last_error(b));
  BOK(b, zcp_builder_append_run(b, 2767));
  cr_assert_eq(zcp_builder_length(b), 32767);
  zcp_builder_release(b);

  struct ArrowSchema s;
  node(&s, "+r", "runs", 2);
  child(&s, 0, "u", "run_ends", 0);
  child(&s, 1, "u", "values", 0);
  struct zcp_error e;
  struct zcp_builder *bad = NULL;
  cr_assert_eq(zcp_builder_init(&s, NULL, &bad, &e), ZCP_INVALID_ARGUMENT);
  zcp_schema_release(&s);
}

Test(builder_nested, deep_tree_finishes_and_reuses) {
  /* list<struct<a: fixed_size_list<2, int8>, b: dense_union<int64, utf8_view>>> */
  struct ArrowSchema s;
  node(&s, "+l", "deep", 1);
  child(&s, 0, "+s", "item", 2);
  struct ArrowSchema *st = s.children[0];
  child(st, 0, "+w:2", "a", 1);
  child(st->children[0], 0, "c", "item", 0);
  child(st, 1, "+ud:0,1", "b", 2);
  child(st->children[1], 0, "l", "n", 0);
  child(st->children[1], 1, "vu", "s", 0);
  struct test_alloc ta;
  ta_init(&ta, 128);
  struct zcp_builder *b = make_builder(&s, &ta.base);
  zcp_schema_release(&s);
  struct zcp_builder *item = zcp_builder_child(b, 0);
  struct zcp_builder *fa = zcp_builder_child(item, 0), *ub = zcp_builder_child(item, 1);
  for (int round = 0; round < 2; round++) {
    for (int r = 0; r < 50; r++) {
      for (int k = 0; k < r % 3; k++) {
        BOK(b, zcp_builder_append_int(zcp_builder_child(fa, 0), k));
        BOK(b, zcp_builder_append_int(zcp_builder_child(fa, 0), -k));
        BOK(b, zcp_builder_finish_element(fa));
        BOK(b, zcp_builder_append_union(ub, (int8_t)(k & 1)));
        if (k & 1) {
          BOK(b, zcp_builder_append_string(zcp_builder_union_child(ub, 1),
                                           "value longer than twelve"));
        } else {
          BOK(b, zcp_builder_append_int(zcp_builder_union_child(ub, 0), r));
        }
        BOK(b, zcp_builder_finish_element(item));
      }
      if (r % 7 == 0) BOK(b, zcp_builder_append_null(item, 1));
      BOK(b, zcp_builder_finish_element(b));
    }
    struct ArrowArray a;
    struct ArrowSchema os;
    struct zcp_error e;
    cr_assert_eq(zcp_builder_finish(b, &a, &os, &e), ZCP_OK, "%s", e.message);
    check_layout(&a, 128);
    cr_assert_eq(zcp_array_validate(&a, &os, ZCP_VALIDATE_FULL, &e), ZCP_OK, "%s",
                 e.message);
    struct zcp_array_view v;
    cr_assert_eq(zcp_array_view_init(&a, &os, &v, &e), ZCP_OK, "%s", e.message);
    cr_assert_eq(a.length, 50);
    const struct ArrowArray *items = a.children[0];
    cr_assert_eq(items->length, 49 + 8);
    cr_assert_eq(items->null_count, 8);
    cr_assert_eq(items->children[0]->children[0]->length, 2 * items->length);
    done(&a, &os, &v);
  }
  zcp_builder_release(b);
  cr_assert_eq(ta.live, 0);
}
