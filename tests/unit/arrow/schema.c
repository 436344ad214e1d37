/* Tests of src/arrow/schema.c: building schema trees, deep copies (of ours and of
 * foreign trees), and validation, whose messages must name the offending field. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/internal.h"

#define OK(expr) cr_assert_eq((expr), ZCP_OK, "%s failed", #expr)

/* Re-makes child i of parent (a placeholder or an earlier child) as a node with its own
 * children. The child stays at the same address. */
static void reinit(struct ArrowSchema *parent, int64_t i, const char *format,
                   const char *name, int64_t flags, int64_t n_children) {
  struct zcp_error e = {0};
  cr_assert_eq(zcp_schema_set_child(parent, i, format, name, flags, n_children, &e),
               ZCP_OK, "%s", e.message);
}

static void set(struct ArrowSchema *s, const char *format, const char *name) {
  OK(zcp_schema_set_format(s, format));
  OK(zcp_schema_set_name(s, name));
}

static char *blob(const char *k, const char *v) {
  char *md = NULL;
  OK(zcp_metadata_build(1, &k, &v, &md));
  return md;
}

/* struct<
 *   a: list<item: struct<x: int32, y: map<utf8, int64>>> {"doc": "a list"},
 *   b: int32 dictionary of utf8 {"k": "v"} (dictionary has metadata too),
 *   c: dense_union<0: double, 5: utf8>,
 *   d: run_end_encoded<run_ends: int32, values: tsu:UTC>,
 *   "": fixed_size_list<3, float> > */
static void make_tree(struct ArrowSchema *root) {
  struct zcp_error e = {0};
  cr_assert_eq(zcp_schema_init("+s", "", 0, 5, root, &e), ZCP_OK, "%s", e.message);
  char *md = blob("schema", "root");
  OK(zcp_schema_set_metadata(root, md));
  free(md);

  struct ArrowSchema *a = root->children[0];
  reinit(root, 0, "+l", "a", ARROW_FLAG_NULLABLE, 1);
  md = blob("doc", "a list");
  OK(zcp_schema_set_metadata(a, md));
  free(md);
  struct ArrowSchema *item = a->children[0];
  reinit(a, 0, "+s", "item", ARROW_FLAG_NULLABLE, 2);
  set(item->children[0], "i", "x");
  struct ArrowSchema *y = item->children[1];
  reinit(item, 1, "+m", "y", ARROW_FLAG_NULLABLE | ARROW_FLAG_MAP_KEYS_SORTED, 1);
  struct ArrowSchema *entries = y->children[0];
  reinit(y, 0, "+s", "entries", 0, 2);
  set(entries->children[0], "u", "key");
  entries->children[0]->flags = 0;
  set(entries->children[1], "l", "value");

  struct ArrowSchema *b = root->children[1];
  set(b, "i", "b");
  md = blob("k", "v");
  OK(zcp_schema_set_metadata(b, md));
  free(md);
  OK(zcp_schema_alloc_dictionary(b));
  cr_assert_eq(zcp_schema_init("u", NULL, ARROW_FLAG_NULLABLE, 0, b->dictionary, &e),
               ZCP_OK);
  md = blob("dict", "yes");
  OK(zcp_schema_set_metadata(b->dictionary, md));
  free(md);

  struct ArrowSchema *c = root->children[2];
  reinit(root, 2, "+ud:0,5", "c", 0, 2);
  set(c->children[0], "g", "f");
  set(c->children[1], "u", "s");

  struct ArrowSchema *d = root->children[3];
  reinit(root, 3, "+r", "d", 0, 2);
  set(d->children[0], "i", "run_ends");
  d->children[0]->flags = 0;
  set(d->children[1], "tsu:UTC", "values");

  struct ArrowSchema *fsl = root->children[4];
  reinit(root, 4, "+w:3", NULL, 0, 1);
  set(fsl->children[0], "f", "item");
}

/* Checks that two trees are equal node by node and share no memory. */
static void assert_same_tree(const struct ArrowSchema *x, const struct ArrowSchema *y,
                             int depth) {
  cr_assert_lt(depth, 100);
  cr_assert_not_null(y->release);
  cr_assert_str_eq(x->format, y->format);
  cr_assert_neq((void *)x->format, (void *)y->format);
  if (x->name == NULL) {
    cr_assert_null(y->name);
  } else {
    cr_assert_str_eq(x->name, y->name);
    cr_assert_neq((void *)x->name, (void *)y->name);
  }
  cr_assert_eq(x->flags, y->flags, "flags of %s", x->format);
  int64_t mx = zcp_metadata_size(x->metadata), my = zcp_metadata_size(y->metadata);
  cr_assert_eq(mx, my);
  if (x->metadata != NULL) {
    cr_assert_neq((void *)x->metadata, (void *)y->metadata);
    cr_assert(memcmp(x->metadata, y->metadata, (size_t)mx) == 0);
  } else {
    cr_assert_null(y->metadata);
  }
  cr_assert_eq(x->n_children, y->n_children);
  for (int64_t i = 0; i < x->n_children; i++) {
    cr_assert_neq(x->children[i], y->children[i]);
    assert_same_tree(x->children[i], y->children[i], depth + 1);
  }
  cr_assert_eq(x->dictionary == NULL, y->dictionary == NULL);
  if (x->dictionary != NULL) assert_same_tree(x->dictionary, y->dictionary, depth + 1);
}

Test(schema, init_copies_strings_and_makes_placeholder_children) {
  char format[] = "+s", name[] = "batch";
  struct ArrowSchema s;
  OK(zcp_schema_init(format, name, ARROW_FLAG_NULLABLE, 3, &s, NULL));
  format[0] = 'X';
  name[0] = 'X';
  cr_assert_str_eq(s.format, "+s");
  cr_assert_str_eq(s.name, "batch");
  cr_assert_eq(s.flags, ARROW_FLAG_NULLABLE);
  cr_assert_null(s.metadata);
  cr_assert_null(s.dictionary);
  cr_assert_eq(s.n_children, 3);
  for (int i = 0; i < 3; i++) {
    struct ArrowSchema *c = s.children[i];
    cr_assert_not_null(c->release, "child %d is live", i);
    cr_assert_str_eq(c->format, "n");
    cr_assert_null(c->name);
    cr_assert_eq(c->n_children, 0);
  }
  /* a placeholder tree is already valid: struct of nulls */
  OK(zcp_schema_validate(&s, NULL));
  zcp_schema_release(&s);
  cr_assert_null(s.release);
  zcp_schema_release(&s); /* released twice is fine through the helper */

  OK(zcp_schema_init("i", NULL, 0, 0, &s, NULL));
  cr_assert_null(s.name);
  cr_assert_null(s.children);
  zcp_schema_release(&s);
}

Test(schema, init_rejects_bad_input) {
  struct ArrowSchema s;
  struct zcp_error e = {0};
  cr_assert_eq(zcp_schema_init("+q", "x", 0, 0, &s, &e), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(e.message, "\"+q\"") != NULL, "%s", e.message);
  cr_assert_null(s.release, "left released");
  cr_assert_eq(zcp_schema_init(NULL, "x", 0, 0, &s, &e), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_schema_init("+s", "cols", 0, -1, &s, &e), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(e.message, "cols") != NULL, "%s", e.message);
  cr_assert_null(s.release);
  cr_assert_eq(zcp_schema_init("i", NULL, 0, 0, NULL, &e), ZCP_INVALID_ARGUMENT);
}

Test(schema, setters) {
  struct ArrowSchema s;
  OK(zcp_schema_init("i", "a", 0, 0, &s, NULL));
  OK(zcp_schema_set_format(&s, "tsn:Asia/Tokyo"));
  cr_assert_str_eq(s.format, "tsn:Asia/Tokyo");
  cr_assert_eq(zcp_schema_set_format(&s, "tsx:"), ZCP_INVALID_ARGUMENT);
  cr_assert_str_eq(s.format, "tsn:Asia/Tokyo", "a rejected format leaves the old one");
  cr_assert_eq(zcp_schema_set_format(&s, NULL), ZCP_INVALID_ARGUMENT);
  OK(zcp_schema_set_name(&s, "renamed"));
  cr_assert_str_eq(s.name, "renamed");
  OK(zcp_schema_set_name(&s, NULL));
  cr_assert_null(s.name);

  char *md = blob("key", "value");
  OK(zcp_schema_set_metadata(&s, md));
  cr_assert_neq((void *)s.metadata, (void *)md, "metadata is copied");
  free(md);
  struct zcp_string_view v;
  cr_assert(zcp_metadata_get(s.metadata, "key", &v));
  cr_assert_eq(v.size, 5);
  OK(zcp_schema_set_metadata(&s, NULL));
  cr_assert_null(s.metadata);
  char bad[8];
  int32_t neg = -2;
  memcpy(bad, &neg, 4);
  cr_assert_eq(zcp_schema_set_metadata(&s, bad), ZCP_INVALID_ARGUMENT);
  cr_assert_null(s.metadata);

  OK(zcp_schema_alloc_dictionary(&s));
  cr_assert_not_null(s.dictionary);
  cr_assert_null(s.dictionary->release, "dictionary starts released");
  cr_assert_eq(zcp_schema_alloc_dictionary(&s), ZCP_INVALID_ARGUMENT,
               "only one dictionary");
  zcp_schema_release(&s); /* with the dictionary never initialised */

  struct ArrowSchema foreign = {.format = "i", .release = NULL};
  cr_assert_eq(zcp_schema_set_name(&foreign, "x"), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_schema_set_format(&foreign, "l"), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_schema_set_metadata(&foreign, NULL), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_schema_alloc_dictionary(&foreign), ZCP_INVALID_ARGUMENT);
}

/* The release callback of a schema another library made. */
static void not_ours_release(struct ArrowSchema *s) {
  s->release = NULL;
}

Test(schema, set_child_builds_a_tree_in_place_with_one_release) {
  struct ArrowSchema s;
  struct zcp_error e = {0};
  OK(zcp_schema_init("+s", "batch", 0, 3, &s, &e));
  struct ArrowSchema *slots[3] = {s.children[0], s.children[1], s.children[2]};
  OK(zcp_schema_set_child(&s, 0, "l", "id", 0, 0, &e));
  OK(zcp_schema_set_child(&s, 1, "+l", "tags", ARROW_FLAG_NULLABLE, 1, &e));
  OK(zcp_schema_set_child(s.children[1], 0, "u", "item", ARROW_FLAG_NULLABLE, 0, &e));
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(s.children[i], slots[i], "child %d is filled where it was", i);
    cr_assert_not_null(s.children[i]->release, "child %d is live", i);
  }
  cr_assert_str_eq(s.children[0]->format, "l");
  cr_assert_str_eq(s.children[0]->name, "id");
  cr_assert_eq(s.children[0]->flags, 0);
  cr_assert_str_eq(s.children[1]->format, "+l");
  cr_assert_eq(s.children[1]->flags, ARROW_FLAG_NULLABLE);
  cr_assert_eq(s.children[1]->n_children, 1);
  cr_assert_str_eq(s.children[1]->children[0]->format, "u");
  cr_assert_str_eq(s.children[1]->children[0]->name, "item");
  /* a child never set keeps its placeholder: the tree is valid at every step */
  cr_assert_str_eq(s.children[2]->format, "n");
  OK(zcp_schema_validate(&s, &e));

  /* the tree is the parent's: a copy and a builder see the children, and one release
   * of the root frees every node (the sanitizer build checks for leaks and double
   * frees) */
  struct ArrowSchema copy;
  OK(zcp_schema_copy(&s, &copy, &e));
  cr_assert_str_eq(copy.children[1]->children[0]->name, "item");
  zcp_schema_release(&copy);
  struct zcp_builder *b = NULL;
  OK(zcp_builder_init(&s, NULL, &b, &e));
  cr_assert_not_null(zcp_builder_child(zcp_builder_child(b, 1), 0));
  zcp_builder_release(b);
  zcp_schema_release(&s);
  cr_assert_null(s.release);
}

Test(schema, set_child_replaces_a_child_and_everything_under_it) {
  struct ArrowSchema s;
  OK(zcp_schema_init("+s", "", 0, 1, &s, NULL));
  OK(zcp_schema_set_child(&s, 0, "+s", "old", 0, 2, NULL));
  OK(zcp_schema_set_child(s.children[0], 1, "+l", "deep", 0, 1, NULL));
  char *md = blob("k", "v");
  OK(zcp_schema_set_metadata(s.children[0], md));
  free(md);
  OK(zcp_schema_alloc_dictionary(s.children[0]->children[0]));
  /* the old subtree (children, metadata, an uninitialised dictionary) goes */
  OK(zcp_schema_set_child(&s, 0, "tsu:UTC", "new", ARROW_FLAG_NULLABLE, 0, NULL));
  cr_assert_str_eq(s.children[0]->format, "tsu:UTC");
  cr_assert_str_eq(s.children[0]->name, "new");
  cr_assert_null(s.children[0]->metadata);
  cr_assert_eq(s.children[0]->n_children, 0);
  OK(zcp_schema_validate(&s, NULL));
  zcp_schema_release(&s);

  /* a slot a consumer moved out (released) is filled again */
  OK(zcp_schema_init("+s", "", 0, 1, &s, NULL));
  struct ArrowSchema taken;
  zcp_schema_move(s.children[0], &taken);
  cr_assert_null(s.children[0]->release);
  OK(zcp_schema_set_child(&s, 0, "g", "x", 0, 0, NULL));
  cr_assert_str_eq(s.children[0]->format, "g");
  OK(zcp_schema_validate(&s, NULL));
  zcp_schema_release(&taken);
  zcp_schema_release(&s);
}

Test(schema, set_child_errors_leave_the_child_as_it_was) {
  struct ArrowSchema s;
  struct zcp_error e = {0};
  OK(zcp_schema_init("+s", "batch", 0, 2, &s, NULL));
  OK(zcp_schema_set_child(&s, 0, "i", "kept", 0, 0, NULL));

  /* an invalid format for a child: named, with the parent and the index */
  cr_assert_eq(zcp_schema_set_child(&s, 0, "+q", "bad", 0, 0, &e), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(e.code, ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(e.message, "\"+q\"") != NULL, "%s", e.message);
  cr_assert(strstr(e.message, "'batch'") != NULL, "%s", e.message);
  cr_assert(strstr(e.message, "child 0") != NULL, "%s", e.message);
  cr_assert_str_eq(s.children[0]->format, "i", "the old child stays");
  cr_assert_str_eq(s.children[0]->name, "kept");
  cr_assert_eq(zcp_schema_set_child(&s, 1, NULL, "x", 0, 0, &e), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_schema_set_child(&s, 1, "+s", "cols", 0, -1, &e),
               ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(e.message, "cols") != NULL, "%s", e.message);
  cr_assert_str_eq(s.children[1]->format, "n", "the placeholder stays");
  cr_assert_eq(zcp_schema_set_child(&s, 1, "+q", "x", 0, 0, NULL), ZCP_INVALID_ARGUMENT,
               "without an error struct too");

  /* no such child */
  cr_assert_eq(zcp_schema_set_child(&s, 2, "i", "x", 0, 0, &e), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(e.message, "no child 2, it has 2") != NULL, "%s", e.message);
  cr_assert_eq(zcp_schema_set_child(&s, -1, "i", "x", 0, 0, &e), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_schema_set_child(s.children[0], 0, "i", "x", 0, 0, &e),
               ZCP_INVALID_ARGUMENT, "a leaf has no children");
  OK(zcp_schema_validate(&s, &e));
  zcp_schema_release(&s);

  /* a parent zcpool did not make, a released one, none */
  cr_assert_eq(zcp_schema_set_child(&s, 0, "i", "x", 0, 0, &e), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(e.message, "released") != NULL, "%s", e.message);
  struct ArrowSchema child = {.format = "n", .release = not_ours_release};
  struct ArrowSchema *children[1] = {&child};
  struct ArrowSchema foreign = {
      .format = "+s", .n_children = 1, .children = children, .release = not_ours_release};
  cr_assert_eq(zcp_schema_set_child(&foreign, 0, "i", "x", 0, 0, &e),
               ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(e.message, "not a node zcpool made") != NULL, "%s", e.message);
  cr_assert_str_eq(child.format, "n", "a foreign child is not touched");
  cr_assert_not_null(child.release);
  cr_assert_eq(zcp_schema_set_child(NULL, 0, "i", "x", 0, 0, &e), ZCP_INVALID_ARGUMENT);
}

Test(schema, deep_tree_validates_and_copies) {
  struct ArrowSchema root, copy;
  make_tree(&root);
  struct zcp_error e = {0};
  cr_assert_eq(zcp_schema_validate(&root, &e), ZCP_OK, "%s", e.message);
  cr_assert_eq(zcp_schema_copy(&root, &copy, &e), ZCP_OK, "%s", e.message);
  assert_same_tree(&root, &copy, 0);
  zcp_schema_release(&root);
  /* the copy stands on its own */
  cr_assert_eq(zcp_schema_validate(&copy, &e), ZCP_OK, "%s", e.message);
  struct zcp_string_view v;
  cr_assert(zcp_metadata_get(copy.children[1]->dictionary->metadata, "dict", &v));
  cr_assert_eq(v.size, 3);
  cr_assert_str_eq(copy.children[0]->children[0]->children[1]->format, "+m");
  /* and a copy of a copy is the same again; also after moving */
  struct ArrowSchema moved, copy2;
  zcp_schema_move(&copy, &moved);
  cr_assert_null(copy.release);
  OK(zcp_schema_copy(&moved, &copy2, NULL));
  assert_same_tree(&moved, &copy2, 0);
  zcp_schema_release(&moved);
  zcp_schema_release(&copy2);
}

/* A schema tree made by "another library": static strings, its own release. */
static int foreign_releases;
static void foreign_release(struct ArrowSchema *s) {
  foreign_releases++;
  s->release = NULL;
}

Test(schema, copies_foreign_schema_without_releasing_it) {
  static char md[32];
  char *p = md;
  int32_t one = 1, klen = 2, vlen = 3;
  memcpy(p, &one, 4);
  memcpy(p + 4, &klen, 4);
  memcpy(p + 8, "ab", 2);
  memcpy(p + 10, &vlen, 4);
  memcpy(p + 14, "cde", 3);
  struct ArrowSchema leaf = {.format = "vu",
                             .name = "s",
                             .flags = ARROW_FLAG_NULLABLE,
                             .metadata = md,
                             .release = foreign_release};
  struct ArrowSchema dict = {.format = "U", .release = foreign_release};
  struct ArrowSchema idx = {.format = "C",
                            .name = "codes",
                            .dictionary = &dict,
                            .flags = ARROW_FLAG_DICTIONARY_ORDERED,
                            .release = foreign_release};
  struct ArrowSchema *kids[] = {&leaf, &idx};
  struct ArrowSchema root = {.format = "+s",
                             .name = "",
                             .n_children = 2,
                             .children = kids,
                             .release = foreign_release};
  OK(zcp_schema_validate(&root, NULL));
  struct ArrowSchema copy;
  struct zcp_error e = {0};
  cr_assert_eq(zcp_schema_copy(&root, &copy, &e), ZCP_OK, "%s", e.message);
  cr_assert_eq(foreign_releases, 0, "copy must not release its source");
  assert_same_tree(&root, &copy, 0);
  cr_assert_eq(copy.release, zcp__schema_release, "the copy is ours");
  OK(zcp_schema_set_name(copy.children[0], "renamed"));
  cr_assert_str_eq(leaf.name, "s");
  zcp_schema_release(&copy);
  cr_assert_eq(foreign_releases, 0);
}

Test(schema, copy_failure_leaves_dst_released) {
  struct ArrowSchema a = {.format = "i", .name = "ok", .release = foreign_release};
  struct ArrowSchema *kids[] = {&a, NULL};
  struct ArrowSchema root = {.format = "+s",
                             .name = "",
                             .n_children = 2,
                             .children = kids,
                             .release = foreign_release};
  struct ArrowSchema dst;
  struct zcp_error e = {0};
  cr_assert_eq(zcp_schema_copy(&root, &dst, &e), ZCP_INVALID_ARGUMENT);
  cr_assert_null(dst.release);
  cr_assert(strstr(e.message, "field '[1]' is NULL") != NULL, "%s", e.message);

  struct ArrowSchema gone = {.format = "i", .name = "gone", .release = NULL};
  kids[1] = &gone;
  cr_assert_eq(zcp_schema_copy(&root, &dst, &e), ZCP_INVALID_ARGUMENT);
  cr_assert_null(dst.release);
  cr_assert(strstr(e.message, "'gone' is released") != NULL, "%s", e.message);

  struct ArrowSchema nofmt = {.format = NULL, .name = "nf", .release = foreign_release};
  kids[1] = &nofmt;
  cr_assert_eq(zcp_schema_copy(&root, &dst, &e), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(e.message, "'nf' has no format") != NULL, "%s", e.message);

  char bad_md[8];
  int32_t neg = -1;
  memcpy(bad_md, &neg, 4);
  struct ArrowSchema badmd = {
      .format = "i", .name = "m", .metadata = bad_md, .release = foreign_release};
  kids[1] = &badmd;
  cr_assert_eq(zcp_schema_copy(&root, &dst, &e), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(e.message, "'m'") != NULL && strstr(e.message, "negative") != NULL,
            "%s", e.message);
  cr_assert_null(dst.release);

  cr_assert_eq(zcp_schema_copy(NULL, &dst, &e), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_schema_copy(&root, NULL, &e), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(foreign_releases, 0);
}

/* A chain of n nested lists ending in int32. */
static void make_chain(struct ArrowSchema *s, int n) {
  OK(zcp_schema_init("+l", "l0", 0, 1, s, NULL));
  struct ArrowSchema *list = s;
  for (int i = 1; i < n; i++) {
    reinit(list, 0, "+l", "l", 0, 1);
    list = list->children[0];
  }
  set(list->children[0], "i", "leaf");
}

Test(schema, depth_is_bounded) {
  struct ArrowSchema s, copy;
  struct zcp_error e = {0};
  make_chain(&s, ZCP_MAX_DEPTH);
  cr_assert_eq(zcp_schema_validate(&s, &e), ZCP_OK, "%s", e.message);
  OK(zcp_schema_copy(&s, &copy, NULL));
  zcp_schema_release(&copy);
  zcp_schema_release(&s);

  make_chain(&s, ZCP_MAX_DEPTH + 1);
  cr_assert_eq(zcp_schema_validate(&s, &e), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(e.message, "deeper than 64") != NULL, "%s", e.message);
  cr_assert(strstr(e.message, "field 'l0.l.l") != NULL, "%s", e.message);
  cr_assert_eq(zcp_schema_copy(&s, &copy, &e), ZCP_INVALID_ARGUMENT);
  cr_assert_null(copy.release);
  cr_assert(strstr(e.message, "deeper") != NULL, "%s", e.message);
  zcp_schema_release(&s);
}

/* Validates root and checks the status and that the message contains `want`. */
static void expect_invalid(const struct ArrowSchema *root, const char *want) {
  struct zcp_error e = {0};
  cr_assert_eq(zcp_schema_validate(root, &e), ZCP_INVALID_ARGUMENT, "expected '%s'",
               want);
  cr_assert(strstr(e.message, want) != NULL, "expected '%s' in: %s", want, e.message);
}

Test(schema, validate_list_child_count_names_path) {
  struct ArrowSchema root;
  OK(zcp_schema_init("+s", "", 0, 1, &root, NULL));
  reinit(&root, 0, "+s", "a", 0, 1);
  reinit(root.children[0], 0, "+l", "b", 0, 2);
  expect_invalid(&root, "field 'a.b' (list): expected 1 child, found 2");
  reinit(root.children[0], 0, "+vL", "b", 0, 0);
  expect_invalid(&root, "field 'a.b' (large_list_view): expected 1 child, found 0");
  reinit(root.children[0], 0, "+w:2", "b", 0, 3);
  expect_invalid(&root, "field 'a.b' (fixed_size_list): expected 1 child, found 3");
  reinit(root.children[0], 0, "+L", "b", 0, 1);
  OK(zcp_schema_validate(&root, NULL));
  zcp_schema_release(&root);
}

Test(schema, validate_primitive_with_children) {
  struct ArrowSchema root;
  OK(zcp_schema_init("+s", "", 0, 2, &root, NULL));
  set(root.children[0], "i", "ok");
  reinit(&root, 1, "u", "x", 0, 1);
  expect_invalid(&root, "field 'x' (utf8): expected 0 children, found 1");
  zcp_schema_release(&root);

  /* unnamed children are named by index */
  OK(zcp_schema_init("+s", NULL, 0, 2, &root, NULL));
  reinit(&root, 1, "+s", NULL, 0, 1);
  reinit(root.children[1], 0, "g", "", 0, 1);
  expect_invalid(&root, "field '[1][0]' (double)");
  zcp_schema_release(&root);

  /* the root itself */
  OK(zcp_schema_init("i", NULL, 0, 1, &root, NULL));
  expect_invalid(&root, "schema root (int32): expected 0 children, found 1");
  zcp_schema_release(&root);
}

Test(schema, validate_map_layout) {
  struct ArrowSchema root;
  OK(zcp_schema_init("+s", "", 0, 1, &root, NULL));
  struct ArrowSchema *m = root.children[0];

  reinit(&root, 0, "+m", "m", 0, 2);
  expect_invalid(&root, "field 'm' (map): expected 1 child, found 2");

  reinit(&root, 0, "+m", "m", 0, 1);
  set(m->children[0], "+l", "entries");
  expect_invalid(&root, "field 'm' (map): entries child must be a struct");

  reinit(m, 0, "+s", "entries", ARROW_FLAG_NULLABLE, 2);
  expect_invalid(&root, "field 'm' (map): entries struct must not be nullable");

  reinit(m, 0, "+s", "entries", 0, 3);
  expect_invalid(&root, "field 'm' (map): entries struct must have 2 children");

  reinit(m, 0, "+s", "entries", 0, 2);
  set(m->children[0]->children[0], "u", "key");
  set(m->children[0]->children[1], "+l", "value");
  expect_invalid(&root, "field 'm.entries.value' (list): expected 1 child, found 0");
  OK(zcp_schema_set_format(m->children[0]->children[1], "i"));
  OK(zcp_schema_validate(&root, NULL));
  zcp_schema_release(&root);
}

Test(schema, validate_unions_and_run_end_encoded) {
  struct ArrowSchema root;
  OK(zcp_schema_init("+s", "", 0, 2, &root, NULL));
  reinit(&root, 0, "+ud:0,1,7", "u", 0, 2);
  expect_invalid(&root, "field 'u' (dense_union): expected 3 children, found 2");
  reinit(&root, 0, "+us:", "u", 0, 1);
  expect_invalid(&root, "field 'u' (sparse_union): expected 0 children, found 1");
  reinit(&root, 0, "+us:3", "u", 0, 1);

  reinit(&root, 1, "+r", "r", 0, 1);
  expect_invalid(&root, "field 'r' (run_end_encoded): expected 2 children, found 1");
  reinit(&root, 1, "+r", "r", 0, 2);
  set(root.children[1]->children[0], "I", "run_ends");
  expect_invalid(&root, "field 'r' (run_end_encoded): run ends (child 0) must be int16");
  set(root.children[1]->children[0], "u", "run_ends");
  expect_invalid(&root, "found \"u\"");
  const char *ok_ends[] = {"s", "i", "l"};
  for (int i = 0; i < 3; i++) {
    set(root.children[1]->children[0], ok_ends[i], "run_ends");
    OK(zcp_schema_validate(&root, NULL));
  }
  zcp_schema_release(&root);
}

Test(schema, validate_dictionary) {
  struct ArrowSchema root;
  OK(zcp_schema_init("+s", "", 0, 1, &root, NULL));
  struct ArrowSchema *col = root.children[0];
  set(col, "u", "cat");
  OK(zcp_schema_alloc_dictionary(col));
  expect_invalid(&root, "field 'cat' (utf8): dictionary indices must be an integer");
  OK(zcp_schema_set_format(col, "g"));
  expect_invalid(&root, "field 'cat' (double): dictionary indices must be an integer");
  OK(zcp_schema_set_format(col, "S"));
  expect_invalid(&root, "field 'cat.<dictionary>': schema is released");
  OK(zcp_schema_init("+l", "values", 0, 0, col->dictionary, NULL));
  expect_invalid(&root, "field 'cat.<dictionary>' (list): expected 1 child, found 0");
  zcp_schema_release(col->dictionary);
  OK(zcp_schema_init("u", NULL, 0, 0, col->dictionary, NULL));
  const char *idx[] = {"c", "C", "s", "S", "i", "I", "l", "L"};
  for (int i = 0; i < 8; i++) {
    OK(zcp_schema_set_format(col, idx[i]));
    OK(zcp_schema_validate(&root, NULL));
  }
  zcp_schema_release(&root);
}

Test(schema, validate_bad_format_metadata_and_released_nodes) {
  struct ArrowSchema root;
  OK(zcp_schema_init("+s", "", 0, 2, &root, NULL));
  set(root.children[0], "i", "a");
  set(root.children[1], "l", "b");

  /* formats set by hand (foreign producers) are parsed by validate */
  struct zcp__schema_private *p = root.children[0]->private_data;
  const char *saved = root.children[0]->format;
  root.children[0]->format = "d:40,2";
  expect_invalid(&root, "field 'a': invalid format string \"d:40,2\"");
  root.children[0]->format = NULL;
  expect_invalid(&root, "field 'a': format string is NULL");
  root.children[0]->format = saved;
  cr_assert_eq(p->format, saved);

  char bad_md[16];
  int32_t one = 1, neg = -4;
  memcpy(bad_md, &one, 4);
  memcpy(bad_md + 4, &neg, 4);
  root.children[1]->metadata = bad_md; /* not freed: private copy is still NULL */
  expect_invalid(&root, "field 'b' (int64): metadata pair 0: negative key length -4");
  root.children[1]->metadata = NULL;
  OK(zcp_schema_validate(&root, NULL));

  struct ArrowSchema *kept = root.children[1];
  struct ArrowSchema moved;
  zcp_schema_move(kept, &moved); /* a consumer moved the child out */
  expect_invalid(&root, "schema root (struct): child 1 is released");
  zcp_schema_release(&moved);
  zcp_schema_release(&root); /* frees the moved-from child struct without releasing it */

  struct zcp_error e = {0};
  cr_assert_eq(zcp_schema_validate(NULL, &e), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_schema_validate(&root, &e), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(e.message, "released") != NULL, "%s", e.message);
}

Test(schema, validate_foreign_children_array_mismatch) {
  struct ArrowSchema root = {.format = "+s",
                             .name = "t",
                             .n_children = 2,
                             .children = NULL,
                             .release = foreign_release};
  expect_invalid(&root, "field 't' (struct): 2 children with children array");
  root.n_children = -1;
  expect_invalid(&root, "field 't' (struct): -1 children");
  cr_assert_eq(foreign_releases, 0);
}
