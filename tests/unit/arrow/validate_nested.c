/* Validation of the nested layouts: lists, list views, fixed-size lists, structs, maps,
 * unions, run-end encoded arrays and dictionaries, each rejected at the level that should
 * notice; and random corruption of a valid tree of every layout, which must be rejected
 * or, when accepted at FULL, be safe to read with every getter. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/internal.h"
#include "validate_checks.h"

Test(validate_nested, list_child_must_cover_offsets) {
  static const int32_t off[] = {0, 2, 5};
  static const int64_t loff[] = {2, 3, 1};
  static const int32_t items[] = {1, 2, 3, 4};
  struct hand item, l;
  hand_init(&item, "i", "item", 4, 2, NULL, items);
  hand_child(hand_init(&l, "+l", "l", 2, 2, NULL, off), &item);
  fails_from(&l, ZCP_VALIDATE_DEFAULT, "column 'l' (list)",
             "last offset 5 at row 2 is past the end of the child array (4)");
  hand_child(hand_init(&l, "+L", "l", 2, 2, NULL, loff), &item);
  fails_from(&l, ZCP_VALIDATE_DEFAULT, "column 'l' (large_list)", "less than the first");
  static const int32_t ok_then_bad[] = {0, 3, 1, 4};
  hand_child(hand_init(&l, "+l", "l", 3, 2, NULL, ok_then_bad), &item);
  fails_from(&l, ZCP_VALIDATE_FULL, "offsets not monotonic at row 1 (3 > 1)", NULL);
}

Test(validate_nested, list_view_ranges_are_checked_at_full) {
  static const int32_t items[] = {1, 2, 3};
  static const int32_t off[] = {0, 2, 1};
  static const int32_t sizes[] = {1, 2, 1};
  static const int64_t off64[] = {0, -1};
  static const int64_t sizes64[] = {1, 1};
  struct hand item, lv;
  hand_init(&item, "i", "item", 3, 2, NULL, items);
  hand_child(hand_init(&lv, "+vl", "lv", 3, 3, NULL, off, sizes), &item);
  fails_from(&lv, ZCP_VALIDATE_FULL, "column 'lv' (list_view)",
             "at row 1 has offset 2 and size 2, outside the child's 3 rows");
  hand_child(hand_init(&lv, "+vL", "lv", 2, 3, NULL, off64, sizes64), &item);
  fails_from(&lv, ZCP_VALIDATE_FULL, "row 1 has offset -1", NULL);
  hand_child(hand_init(&lv, "+vl", "lv", 1, 3, NULL, off, NULL), &item);
  fails_from(&lv, ZCP_VALIDATE_MINIMAL, "sizes buffer is NULL", NULL);
}

Test(validate_nested, fixed_size_list_and_struct_children_must_be_long_enough) {
  static const int32_t items[] = {1, 2, 3, 4, 5};
  struct hand item, f, s, root;
  hand_init(&item, "i", "item", 5, 2, NULL, items);
  hand_child(hand_slice(hand_init(&f, "+w:2", "f", 3, 1, NULL), 1, 2, 0), &item);
  fails_from(&f, ZCP_VALIDATE_MINIMAL, "column 'f' (fixed_size_list)",
             "child 0 'item' has 5 rows, expected at least 6");
  hand_child(hand_slice(hand_init(&s, "+s", "s", 6, 1, NULL), 1, 5, 0), &item);
  fails_from(batch(&root, 5, &s), ZCP_VALIDATE_MINIMAL, "column 's' (struct)",
             "child 0 'item' has 5 rows, expected at least 6");
  /* huge fixed size times a big offset overflows instead of wrapping */
  hand_child(
      hand_slice(hand_init(&f, "+w:1000000", "f", 0, 1, NULL), INT64_MAX / 2, 0, 0),
      &item);
  fails_from(&f, ZCP_VALIDATE_MINIMAL, "overflows", NULL);
}

Test(validate_nested, map_keys_must_not_be_null_at_full) {
  static const int32_t keys[] = {1, 2, 3};
  static const uint8_t keys_valid[] = {0x05}; /* key row 1 null */
  static const int32_t vals[] = {4, 5, 6};
  static const int32_t offs[] = {0, 1, 3};
  struct hand k, val, entries, m;
  hand_slice(hand_init(&k, "i", "key", 3, 2, keys_valid, keys), 0, 3, 1);
  hand_init(&val, "i", "value", 3, 2, NULL, vals);
  hand_child(hand_child(hand_init(&entries, "+s", "entries", 3, 1, NULL), &k), &val);
  hand_child(hand_init(&m, "+m", "m", 2, 2, NULL, offs), &entries);
  fails_from(&m, ZCP_VALIDATE_FULL, "column 'm' (map)",
             "key 0 of the map at row 1 is null");
  /* the first map row alone references only valid keys */
  hand_slice(&m, 0, 1, 0);
  passes(&m);
}

/* ---- unions ---------------------------------------------------------------- */

Test(validate_nested, union_type_ids_and_offsets_are_checked_at_full) {
  static const int8_t ids[] = {3, 1, 2};
  static const int8_t good_ids[] = {3, 1, 1};
  static const int32_t offs[] = {0, 0, 3};
  static const int32_t a_vals[] = {1, 2, 3};
  static const int64_t b_vals[] = {4, 5, 6};
  struct hand a, b, u, root;
  hand_init(&a, "i", "a", 3, 2, NULL, a_vals);
  hand_init(&b, "l", "b", 3, 2, NULL, b_vals);
  hand_child(hand_child(hand_init(&u, "+us:3,1", "u", 3, 1, ids), &a), &b);
  fails_from(batch(&root, 3, &u), ZCP_VALIDATE_FULL, "column 'u' (sparse_union)",
             "type id 2 at row 2 is not one of the union's");
  hand_child(hand_child(hand_init(&u, "+ud:3,1", "u", 3, 2, good_ids, offs), &a), &b);
  fails_from(&root, ZCP_VALIDATE_FULL, "column 'u' (dense_union)",
             "offset 3 at row 2 is outside child 'b' (type id 1) of 3 rows");
  /* sparse children must be as long as offset + length */
  hand_child(
      hand_child(hand_slice(hand_init(&u, "+us:3,1", "u", 3, 1, good_ids), 1, 3, 0), &a),
      &b);
  fails_from(&u, ZCP_VALIDATE_MINIMAL, "child 0 'a' has 3 rows, expected at least 4",
             NULL);
  /* no validity of their own */
  hand_child(
      hand_child(hand_slice(hand_init(&u, "+us:3,1", "u", 3, 1, good_ids), 0, 3, 1), &a),
      &b);
  fails_from(&u, ZCP_VALIDATE_MINIMAL, "has no validity bitmap but null_count is 1",
             NULL);
}

/* ---- run-end encoded ------------------------------------------------------- */

Test(validate_nested, run_ends_are_checked_at_every_level) {
  static const int32_t vals[] = {1, 2, 3};
  static const int32_t ends_dup[] = {2, 2, 5};
  static const int64_t ends_zero[] = {0, 3, 5};
  static const int16_t ends_short[] = {1, 2, 4};
  static const int32_t ends_ok[] = {1, 2, 5};
  struct hand re, rv, r, root;
  hand_init(&rv, "i", "values", 3, 2, NULL, vals);
  hand_init(&re, "i", "run_ends", 3, 2, NULL, ends_dup);
  hand_child(hand_child(hand_init(&r, "+r", "r", 5, 0), &re), &rv);
  fails_from(batch(&root, 5, &r), ZCP_VALIDATE_FULL, "column 'r' (run_end_encoded)",
             "run ends not strictly increasing at row 1 (2 >= 2)");
  hand_init(&re, "l", "run_ends", 3, 2, NULL, ends_zero);
  fails_from(&root, ZCP_VALIDATE_FULL,
             "run end 0 at row 0 of the run ends is not positive", NULL);
  hand_init(&re, "s", "run_ends", 3, 2, NULL, ends_short);
  fails_from(&root, ZCP_VALIDATE_DEFAULT, "last run end 4 is less than offset + length 5",
             NULL);
  hand_init(&re, "i", "run_ends", 3, 2, NULL, ends_ok);
  passes(&root);
  hand_slice(&rv, 0, 2, 0);
  fails_from(&root, ZCP_VALIDATE_MINIMAL,
             "values child has 2 rows, fewer than the 3 runs", NULL);
  hand_slice(&rv, 0, 3, 0);
  hand_slice(&re, 0, 0, 0);
  fails_from(&root, ZCP_VALIDATE_MINIMAL, "has 5 rows but no runs", NULL);
  static const uint8_t ends_valid[] = {0x05};
  hand_slice(hand_init(&re, "i", "run_ends", 3, 2, ends_valid, ends_ok), 0, 3, 1);
  fails_from(&root, ZCP_VALIDATE_MINIMAL, "run ends contain 1 nulls", NULL);
  hand_slice(&re, 0, 3, -1);
  fails_from(&root, ZCP_VALIDATE_FULL, "run ends contain nulls", NULL);
  hand_init(&re, "i", "run_ends", 3, 2, NULL, ends_ok);
  hand_slice(&r, 0, 5, 2);
  fails_from(&root, ZCP_VALIDATE_MINIMAL, "has no validity bitmap but null_count is 2",
             NULL);
}

/* ---- dictionaries ---------------------------------------------------------- */

Test(validate_nested, dictionary_indices_and_the_dictionary_itself) {
  static const int32_t idx[] = {0, 2, 1, -1};
  static const uint8_t idx_valid[] = {0x07}; /* row 3 null: its -1 is not looked at */
  static const uint32_t big_idx[] = {0, 3};
  static const int32_t d_off[] = {0, 1, 2, 3};
  static const char d_data[] = "ab\xFF";
  static const char d_ok[] = "abc";
  struct hand dict, d, root;
  hand_init(&dict, "u", NULL, 3, 3, NULL, d_off, d_ok);
  hand_dictionary(hand_slice(hand_init(&d, "i", "d", 4, 2, idx_valid, idx), 0, 4, 1),
                  &dict);
  passes(batch(&root, 4, &d));
  hand_init(&d, "i", "d", 4, 2, NULL, idx);
  hand_dictionary(&d, &dict);
  fails_from(&root, ZCP_VALIDATE_FULL, "column 'd' (int32)",
             "dictionary index -1 at row 3 is outside [0, 3)");
  hand_dictionary(hand_init(&d, "I", "d", 2, 2, NULL, big_idx), &dict);
  hand_slice(&root, 0, 2, 0);
  fails_from(&root, ZCP_VALIDATE_FULL, "dictionary index 3 at row 1 is outside [0, 3)",
             NULL);
  hand_init(&dict, "u", NULL, 3, 3, NULL, d_off, d_data);
  hand_dictionary(hand_init(&d, "i", "d", 2, 2, NULL, idx), &dict);
  fails_from(&root, ZCP_VALIDATE_FULL, "column 'd.[dictionary]' (utf8)",
             "invalid UTF-8 at row 2");
}

/* ---- random corruption ------------------------------------------------------ */

/* A record batch with one column of each layout, built as zcpool nodes whose buffers are
 * exact-size heap blocks (so that ASan sees any read past them and validation knows
 * every size). Buffers are owned by the fixture, not by the nodes. */
struct fixture {
  struct ArrowArray root;
  struct hand schemas[32];
  int n_schemas;
  void *blocks[96];
  int64_t block_size[96];
  int n_blocks;
};

static void put(struct fixture *f, struct ArrowArray *a, int64_t i, const void *src,
                int64_t size) {
  void *p = malloc((size_t)size);
  memcpy(p, src, (size_t)size);
  f->blocks[f->n_blocks] = p;
  f->block_size[f->n_blocks++] = size;
  zcp__array_set_buffer(a, i, p, size);
}

static struct ArrowArray *node(struct ArrowArray *a, int64_t n_buffers,
                               int64_t n_children, int64_t length, int64_t null_count) {
  cr_assert_eq(zcp__array_init_node(a, n_buffers, n_children, NULL), ZCP_OK);
  a->length = length;
  a->null_count = null_count;
  return a;
}

static struct hand *field(struct fixture *f, const char *format, const char *name) {
  return hand_init(&f->schemas[f->n_schemas++], format, name, 0, 0);
}

#define PUT(a, i, arr) put(f, a, i, arr, (int64_t)sizeof(arr))

static void fixture_build(struct fixture *f) {
  memset(f, 0, sizeof *f);
  static const uint8_t valid6[] = {0x2D}; /* 101101: rows 1, 4 null */
  static const int32_t i32[] = {1, 2, 3, 4, 5, 6};
  static const int32_t s_off[] = {0, 1, 3, 3, 6, 7, 9};
  static const char s_data[] = {'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'};
  static const char v_data[] = "0123456789abcdefghijklmnop";
  static const int64_t v_sizes[] = {26};
  static uint8_t views[6][16];
  make_view(views[0], "tiny", 0, 0);
  make_view(views[1], "0123456789abc", 0, 0);
  make_view(views[2], "", 0, 0);
  make_view(views[3], "defghijklmnop", 0, 13);
  make_view(views[4], "twelve bytes", 0, 0);
  make_view(views[5], "56789abcdefghijk", 0, 5);
  static const int32_t l_off[] = {0, 2, 2, 3, 5, 5, 6};
  static const int8_t u_ids[] = {0, 1, 1, 0, 1, 0};
  static const int32_t u_off[] = {0, 0, 1, 1, 2, 2};
  static const int32_t u_ints[] = {10, 20, 30};
  static const int32_t u_str_off[] = {0, 2, 2, 5};
  static const char u_str[] = {'x', 'y', 'z', 'z', 'y'};
  static const int32_t run_ends[] = {2, 3, 6};
  static const int64_t run_vals[] = {100, 200, 300};
  static const int8_t dict_idx[] = {2, 0, 1, 1, 0, 2};
  static const int32_t dict_off[] = {0, 3, 6, 9};
  static const char dict_data[] = {'r', 'e', 'd', 'g', 'r', 'n', 'b', 'l', 'u'};
  static const int32_t m_off[] = {0, 1, 1, 3, 3, 4, 4};
  static const int32_t k_off[] = {0, 1, 2, 3, 4};
  static const char k_data[] = {'k', 'l', 'm', 'n'};
  static const int32_t m_vals[] = {7, 8, 9, 10};
  static const int32_t lv_off[] = {4, 0, 2, 1, 0, 5};
  static const int32_t lv_size[] = {2, 0, 3, 1, 6, 1};
  static const int16_t fsl_vals[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  static const int8_t su_ids[] = {5, 7, 7, 5, 5, 7};
  static const int8_t su_x[] = {1, 2, 3, 4, 5, 6};
  static const double su_y[] = {0.5, 1.5, 2.5, 3.5, 4.5, 5.5};
  static const uint16_t half[] = {0x3C00, 0x4000, 0x4200, 0x4400, 0x4500, 0x4600};

  struct hand *rs = field(f, "+s", NULL);
  struct ArrowArray *root = node(&f->root, 1, 12, 6, 2);
  PUT(root, 0, valid6);
  struct ArrowArray **c = root->children;

  hand_child(rs, field(f, "i", "i32"));
  PUT(node(c[0], 2, 0, 6, 2), 0, valid6);
  PUT(c[0], 1, i32);

  hand_child(rs, field(f, "u", "s"));
  node(c[1], 3, 0, 6, -1);
  PUT(c[1], 1, s_off);
  PUT(c[1], 2, s_data);

  hand_child(rs, field(f, "vu", "v"));
  node(c[2], 4, 0, 6, 0);
  PUT(c[2], 1, views);
  put(f, c[2], 2, v_data, 26);
  PUT(c[2], 3, v_sizes);

  struct hand *ls = field(f, "+l", "l");
  hand_child(rs, ls);
  hand_child(ls, field(f, "i", "item"));
  PUT(node(c[3], 2, 1, 6, 0), 1, l_off);
  PUT(node(c[3]->children[0], 2, 0, 6, 0), 1, i32);

  struct hand *us = field(f, "+ud:0,1", "u");
  hand_child(rs, us);
  hand_child(us, field(f, "i", "a"));
  hand_child(us, field(f, "u", "b"));
  node(c[4], 2, 2, 6, 0);
  PUT(c[4], 0, u_ids);
  PUT(c[4], 1, u_off);
  PUT(node(c[4]->children[0], 2, 0, 3, 0), 1, u_ints);
  node(c[4]->children[1], 3, 0, 3, 0);
  PUT(c[4]->children[1], 1, u_str_off);
  PUT(c[4]->children[1], 2, u_str);

  struct hand *res = field(f, "+r", "r");
  hand_child(rs, res);
  hand_child(res, field(f, "i", "run_ends"));
  hand_child(res, field(f, "l", "values"));
  node(c[5], 0, 2, 6, 0);
  PUT(node(c[5]->children[0], 2, 0, 3, 0), 1, run_ends);
  PUT(node(c[5]->children[1], 2, 0, 3, 0), 1, run_vals);

  struct hand *ds = field(f, "c", "d");
  hand_child(rs, ds);
  hand_dictionary(ds, field(f, "u", NULL));
  PUT(node(c[6], 2, 0, 6, 0), 1, dict_idx);
  cr_assert_eq(zcp__array_alloc_dictionary(c[6]), ZCP_OK);
  node(c[6]->dictionary, 3, 0, 3, 0);
  PUT(c[6]->dictionary, 1, dict_off);
  PUT(c[6]->dictionary, 2, dict_data);

  struct hand *ms = field(f, "+m", "m");
  struct hand *es = field(f, "+s", "entries");
  hand_child(rs, ms);
  hand_child(ms, es);
  hand_child(es, field(f, "u", "key"));
  hand_child(es, field(f, "i", "value"));
  PUT(node(c[7], 2, 1, 6, 0), 1, m_off);
  struct ArrowArray *e = node(c[7]->children[0], 1, 2, 4, 0);
  node(e->children[0], 3, 0, 4, 0);
  PUT(e->children[0], 1, k_off);
  PUT(e->children[0], 2, k_data);
  PUT(node(e->children[1], 2, 0, 4, 0), 1, m_vals);

  struct hand *lvs = field(f, "+vl", "lv");
  hand_child(rs, lvs);
  hand_child(lvs, field(f, "i", "item"));
  node(c[8], 3, 1, 6, 0);
  PUT(c[8], 1, lv_off);
  PUT(c[8], 2, lv_size);
  PUT(node(c[8]->children[0], 2, 0, 6, 0), 1, i32);

  struct hand *fs = field(f, "+w:2", "f");
  hand_child(rs, fs);
  hand_child(fs, field(f, "s", "item"));
  node(c[9], 1, 1, 6, 0);
  PUT(node(c[9]->children[0], 2, 0, 12, 0), 1, fsl_vals);

  struct hand *sus = field(f, "+us:5,7", "su");
  hand_child(rs, sus);
  hand_child(sus, field(f, "c", "x"));
  hand_child(sus, field(f, "g", "y"));
  PUT(node(c[10], 1, 2, 6, 0), 0, su_ids);
  PUT(node(c[10]->children[0], 2, 0, 6, 0), 1, su_x);
  PUT(node(c[10]->children[1], 2, 0, 6, 0), 1, su_y);

  hand_child(rs, field(f, "e", "h"));
  PUT(node(c[11], 2, 0, 6, 0), 1, half);
}

static void fixture_free(struct fixture *f) {
  f->root.release(&f->root);
  for (int i = 0; i < f->n_blocks; i++) free(f->blocks[i]);
}

/* Every node of the tree, for mutating lengths and offsets. */
static int collect(struct ArrowArray *a, struct ArrowArray **out, int n) {
  out[n++] = a;
  for (int64_t i = 0; i < a->n_children; i++) n = collect(a->children[i], out, n);
  if (a->dictionary != NULL) n = collect(a->dictionary, out, n);
  return n;
}

/* Calls every getter that applies on every row of every node; a view valid at FULL must
 * answer within its buffers and children. */
static uint64_t touch(const struct zcp_array_view *v) {
  uint64_t sink = 0;
  for (int64_t i = 0; i < v->length; i++) {
    sink += zcp_array_view_is_null(v, i);
    int64_t start, size, ci;
    switch (v->format.type) {
      case ZCP_TYPE_BINARY:
      case ZCP_TYPE_STRING:
      case ZCP_TYPE_LARGE_BINARY:
      case ZCP_TYPE_LARGE_STRING:
      case ZCP_TYPE_BINARY_VIEW:
      case ZCP_TYPE_STRING_VIEW:
      case ZCP_TYPE_FIXED_SIZE_BINARY: {
        struct zcp_string_view s = zcp_array_view_get_bytes(v, i);
        for (int64_t k = 0; k < s.size; k++) sink += (uint8_t)s.data[k];
        break;
      }
      case ZCP_TYPE_LIST:
      case ZCP_TYPE_LARGE_LIST:
      case ZCP_TYPE_LIST_VIEW:
      case ZCP_TYPE_LARGE_LIST_VIEW:
      case ZCP_TYPE_FIXED_SIZE_LIST:
      case ZCP_TYPE_MAP:
        zcp_array_view_get_list(v, i, &start, &size);
        cr_assert(start >= 0 && size >= 0 && start + size <= v->children[0].length);
        break;
      case ZCP_TYPE_SPARSE_UNION:
      case ZCP_TYPE_DENSE_UNION: {
        int64_t child = zcp_array_view_union_child(v, i, &ci);
        cr_assert(child >= 0 && ci >= 0 && ci < v->children[child].length);
        break;
      }
      case ZCP_TYPE_RUN_END_ENCODED:
        cr_assert(zcp_array_view_run_index(v, i) < v->children[1].length);
        sink += (uint64_t)zcp_array_view_get_int(v, i);
        break;
      case ZCP_TYPE_STRUCT:
      case ZCP_TYPE_NA:
        break;
      default:
        sink += (uint64_t)zcp_array_view_get_int(v, i);
        sink += (uint64_t)zcp_array_view_get_double(v, i);
        break;
    }
  }
  for (int64_t k = 0; k < v->n_children; k++) sink += touch(&v->children[k]);
  if (v->dictionary != NULL) sink += touch(v->dictionary);
  return sink;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(uint64_t n) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state % n;
}

static int64_t interesting(void) {
  static const int64_t values[] = {
      0, 1, 2, 3, 5, 6, 7, 12, 13, -1, -2, INT64_MAX, INT64_MAX - 1, INT64_MIN, 1 << 20};
  return rnd(3) == 0 ? (int64_t)rnd(10) : values[rnd(sizeof values / sizeof values[0])];
}

Test(validate_nested, random_corruption_is_rejected_or_safe_to_read) {
  struct fixture *f = malloc(sizeof *f);
  fixture_build(f);
  struct zcp_error err;
  cr_assert_eq(
      zcp_array_validate(&f->root, &f->schemas[0].schema, ZCP_VALIDATE_FULL, &err),
      ZCP_OK, "%s", err.message);
  struct zcp_array_view v;
  cr_assert_eq(zcp_array_view_init(&f->root, &f->schemas[0].schema, &v, NULL), ZCP_OK);
  touch(&v);
  zcp_array_view_reset(&v);
  fixture_free(f);

  /* ZCP_CORRUPTION_ITERS / _SEED let a longer run hunt further; the default is quick. */
  const char *env_iters = getenv("ZCP_CORRUPTION_ITERS");
  const char *env_seed = getenv("ZCP_CORRUPTION_SEED");
  int iters = env_iters != NULL ? atoi(env_iters) : 4000;
  if (env_seed != NULL) rng_state = strtoull(env_seed, NULL, 0) * 2 + 1;
  int accepted = 0, rejected_n = 0;
  for (int iter = 0; iter < iters; iter++) {
    fixture_build(f);
    int n_mut = 1 + (int)rnd(3);
    for (int m = 0; m < n_mut; m++) {
      if (rnd(3) != 0) {
        int b = (int)rnd((uint64_t)f->n_blocks);
        uint8_t *p = f->blocks[b];
        int64_t at = (int64_t)rnd((uint64_t)f->block_size[b]);
        p[at] = rnd(2) ? (uint8_t)rnd(256) : (uint8_t)(p[at] + (rnd(2) ? 1 : -1));
      } else {
        struct ArrowArray *nodes[64];
        int n = collect(&f->root, nodes, 0);
        struct ArrowArray *a = nodes[rnd((uint64_t)n)];
        switch (rnd(3)) {
          case 0:
            a->length = interesting();
            break;
          case 1:
            a->offset = interesting();
            break;
          default:
            a->null_count = interesting();
            break;
        }
      }
    }
    for (int l = ZCP_VALIDATE_MINIMAL; l <= ZCP_VALIDATE_FULL; l++) {
      zcp_status_t st = zcp_array_validate(&f->root, &f->schemas[0].schema,
                                           (enum zcp_validate_level)l, &err);
      cr_assert(st == ZCP_OK || st == ZCP_CORRUPT_INPUT, "iter %d: %d %s", iter, st,
                err.message);
      if (st != ZCP_OK)
        cr_assert(strstr(err.message, "column '") != NULL, "%s", err.message);
      if (l == ZCP_VALIDATE_FULL) {
        if (st == ZCP_OK) {
          accepted++;
          cr_assert_eq(zcp_array_view_init(&f->root, &f->schemas[0].schema, &v, NULL),
                       ZCP_OK);
          touch(&v);
          zcp_array_view_reset(&v);
        } else {
          rejected_n++;
        }
      }
    }
    fixture_free(f);
  }
  free(f);
  cr_log_info("corruption: %d accepted at FULL, %d rejected", accepted, rejected_n);
  cr_assert(accepted > 0 && rejected_n > 0, "accepted %d, rejected %d", accepted,
            rejected_n);
}
