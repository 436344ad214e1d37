/* Schema <-> flatbuffer: every type of the columnar core, nullability, map key order,
 * union type ids, dictionary encodings (index type, ordering) and metadata survive a
 * trip through a schema message. */
#include "ipc_messages.h"

static const char *const flat[] = {"n",
                                   "b",
                                   "c",
                                   "C",
                                   "s",
                                   "S",
                                   "i",
                                   "I",
                                   "l",
                                   "L",
                                   "e",
                                   "f",
                                   "g",
                                   "z",
                                   "Z",
                                   "vz",
                                   "u",
                                   "U",
                                   "vu",
                                   "d:38,10",
                                   "d:40,3,256",
                                   "d:9,2,32",
                                   "d:18,-3,64",
                                   "w:5",
                                   "tdD",
                                   "tdm",
                                   "tts",
                                   "ttm",
                                   "ttu",
                                   "ttn",
                                   "tss:",
                                   "tsm:UTC",
                                   "tsu:Europe/Paris",
                                   "tsn:",
                                   "tDs",
                                   "tDm",
                                   "tDu",
                                   "tDn",
                                   "tiM",
                                   "tiD",
                                   "tin"};
#define N_FLAT ((int64_t)(sizeof flat / sizeof flat[0]))

static void set(struct ArrowSchema *parent, int64_t i, const char *format,
                const char *name, int64_t flags, int64_t n_children) {
  cr_assert_eq(zcp_schema_set_child(parent, i, format, name, flags, n_children, NULL),
               ZCP_OK, "%s", format);
}

static void build(struct ArrowSchema *root) {
  int64_t n = N_FLAT + 12;
  cr_assert_eq(zcp_schema_init("+s", "", 0, n, root, NULL), ZCP_OK);
  int64_t k = 0;
  for (; k < N_FLAT; k++) {
    char name[16];
    snprintf(name, sizeof name, "f%lld", (long long)k);
    set(root, k, flat[k], name, k % 2 ? ARROW_FLAG_NULLABLE : 0, 0);
  }
  const char *lists[] = {"+l", "+L", "+vl", "+vL", "+w:3"};
  for (int i = 0; i < 5; i++, k++) {
    set(root, k, lists[i], lists[i], ARROW_FLAG_NULLABLE, 1);
    set(root->children[k], 0, "i", "item", ARROW_FLAG_NULLABLE, 0);
  }
  struct ArrowSchema *st = root->children[k];
  set(root, k++, "+s", "struct", ARROW_FLAG_NULLABLE, 2);
  set(st, 0, "u", "a", 0, 0);
  set(st, 1, "tsu:UTC", "b", ARROW_FLAG_NULLABLE, 0);
  struct ArrowSchema *m = root->children[k];
  set(root, k++, "+m", "map", ARROW_FLAG_NULLABLE | ARROW_FLAG_MAP_KEYS_SORTED, 1);
  set(m, 0, "+s", "entries", 0, 2);
  set(m->children[0], 0, "u", "key", 0, 0);
  set(m->children[0], 1, "l", "value", ARROW_FLAG_NULLABLE, 0);
  const char *unions[] = {"+us:0,1", "+ud:5,7"};
  for (int i = 0; i < 2; i++, k++) {
    set(root, k, unions[i], unions[i], 0, 2);
    set(root->children[k], 0, "i", "x", ARROW_FLAG_NULLABLE, 0);
    set(root->children[k], 1, "u", "y", ARROW_FLAG_NULLABLE, 0);
  }
  struct ArrowSchema *r = root->children[k];
  set(root, k++, "+r", "ree", 0, 2);
  set(r, 0, "s", "run_ends", 0, 0);
  set(r, 1, "U", "values", ARROW_FLAG_NULLABLE, 0);
  /* dictionary-encoded, ordered, with int8 indices, its values a list of dictionary-
   * encoded strings (a nested dictionary) */
  struct ArrowSchema *d = root->children[k];
  set(root, k++, "c", "dict", ARROW_FLAG_NULLABLE | ARROW_FLAG_DICTIONARY_ORDERED, 0);
  cr_assert_eq(zcp_schema_alloc_dictionary(d), ZCP_OK);
  cr_assert_eq(zcp_schema_init("+l", NULL, ARROW_FLAG_NULLABLE, 1, d->dictionary, NULL),
               ZCP_OK);
  set(d->dictionary, 0, "I", "item", ARROW_FLAG_NULLABLE, 0);
  cr_assert_eq(zcp_schema_alloc_dictionary(d->dictionary->children[0]), ZCP_OK);
  cr_assert_eq(zcp_schema_init("u", NULL, ARROW_FLAG_NULLABLE, 0,
                               d->dictionary->children[0]->dictionary, NULL),
               ZCP_OK);
  /* an extension type: metadata on an ordinary storage type */
  struct ArrowSchema *x = root->children[k];
  set(root, k++, "w:16", "uuid", ARROW_FLAG_NULLABLE, 0);
  char *md;
  const char *keys[] = {"ARROW:extension:name", "ARROW:extension:metadata"};
  const char *vals[] = {"arrow.uuid", ""};
  cr_assert_eq(zcp_metadata_build(2, keys, vals, &md), ZCP_OK);
  cr_assert_eq(zcp_schema_set_metadata(x, md), ZCP_OK);
  cr_assert_eq(zcp_schema_set_metadata(root, md), ZCP_OK);
  free(md);
  cr_assert_eq(k, n);
}

static void expect_same(const struct ArrowSchema *a, const struct ArrowSchema *b,
                        const char *path) {
  cr_assert_str_eq(a->format, b->format, "%s", path);
  cr_assert_str_eq(a->name ? a->name : "", b->name ? b->name : "", "%s", path);
  cr_assert_eq(a->flags, b->flags, "%s (%s)", path, a->format);
  int64_t ma = zcp_metadata_size(a->metadata), mb = zcp_metadata_size(b->metadata);
  cr_assert_eq(ma, mb, "%s metadata", path);
  if (ma > 0) cr_assert_eq(memcmp(a->metadata, b->metadata, (size_t)ma), 0, "%s", path);
  cr_assert_eq(a->n_children, b->n_children, "%s", path);
  for (int64_t i = 0; i < a->n_children; i++)
    expect_same(a->children[i], b->children[i], path);
  cr_assert_eq(a->dictionary == NULL, b->dictionary == NULL, "%s", path);
  if (a->dictionary) expect_same(a->dictionary, b->dictionary, path);
}

Test(ipc_schema_fb, every_type_survives_a_schema_message) {
  struct ArrowSchema s;
  build(&s);
  struct zcp_error err = {0};
  OKE(zcp_schema_validate(&s, &err), &err);
  for (int f = 0; f < 2; f++) {
    struct zcp_ipc_buffer b = {0};
    struct zcp_ipc_sink sink = zcp_ipc_sink_buffer(&b);
    struct zcp_ipc_writer *w;
    OKE(zcp_ipc_writer_open(f, &s, &sink, NULL, &w, &err), &err);
    OKE(zcp_ipc_writer_close(w, &err), &err);
    struct zcp_table *t;
    OKE(ipc_read_bytes(b.data, b.size, f, ZCP_IPC_COPY, &t, &err), &err);
    cr_assert_eq(zcp_table_num_batches(t), 0);
    const struct ArrowSchema *back = zcp_table_schema(t);
    for (int64_t i = 0; i < s.n_children; i++) {
      expect_same(s.children[i], back->children[i], s.children[i]->name);
    }
    expect_same(&s, back, "root");
    zcp_table_release(t);
    zcp_ipc_buffer_reset(&b);
  }
  zcp_schema_release(&s);
}

Test(ipc_schema_fb, rejects_non_struct_schemas) {
  struct ArrowSchema s;
  cr_assert_eq(zcp_schema_init("i", "x", 0, 0, &s, NULL), ZCP_OK);
  struct zcp_ipc_buffer b = {0};
  struct zcp_ipc_sink sink = zcp_ipc_sink_buffer(&b);
  struct zcp_ipc_writer *w;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_ipc_writer_open(ZCP_IPC_STREAM, &s, &sink, NULL, &w, &err),
               ZCP_INVALID_ARGUMENT);
  zcp_ipc_buffer_reset(&b);
  zcp_schema_release(&s);
}

/* A schema whose one field is a Decimal table of the given width (0: absent, which
 * Schema.fbs makes 128). */
static zcp_status_t read_decimal_schema(int32_t bits, struct zcp_ipc_reader **r,
                                        struct zcp_ipc_buffer *b, struct zcp_error *err) {
  struct zcp_fb_builder fb;
  zcp__fb_builder_init(&fb);
  zcp__fb_table_start(&fb);
  zcp__fb_add_scalar(&fb, 0, 4, 7);
  zcp__fb_add_scalar(&fb, 1, 4, 3);
  if (bits != 0) zcp__fb_add_scalar(&fb, 2, 4, (uint64_t)(uint32_t)bits);
  zcp_fb_ref dec = zcp__fb_table_end(&fb);
  zcp_fb_ref field = msg_field(&fb, "amount", ZCP_FB_T_DECIMAL, dec, 0, NULL, 0);
  memset(b, 0, sizeof *b);
  msg_schema(b, &fb, &field, 1, NULL, 0);
  msg_eos(b);
  zcp__fb_builder_reset(&fb);
  static struct zcp_ipc_memory mem;
  return msg_open(b, &mem, r, err);
}

Test(ipc_schema_fb, decimal_bit_widths_32_64_128_256_are_read) {
  const struct {
    int32_t bits;
    const char *format;
  } cases[] = {{32, "d:7,3,32"}, {64, "d:7,3,64"}, {0, "d:7,3"}, {128, "d:7,3"},
               {256, "d:7,3,256"}};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    struct zcp_ipc_reader *r;
    struct zcp_ipc_buffer b;
    struct zcp_error err = {0};
    OKE(read_decimal_schema(cases[k].bits, &r, &b, &err), &err);
    cr_assert_str_eq(zcp_ipc_reader_schema(r)->children[0]->format, cases[k].format);
    zcp_ipc_reader_close(r);
    zcp_ipc_buffer_reset(&b);
  }
}

Test(ipc_schema_fb, decimal_bit_widths_the_format_does_not_define_are_corrupt) {
  const int32_t bad[] = {16, 96, 512, -32, 1};
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    struct zcp_ipc_reader *r = NULL;
    struct zcp_ipc_buffer b;
    struct zcp_error err = {0};
    cr_assert_eq(read_decimal_schema(bad[k], &r, &b, &err), ZCP_CORRUPT_INPUT, "%d: %s",
                 (int)bad[k], err.message);
    cr_assert_null(r);
    char want[64];
    snprintf(want, sizeof want, "Decimal.bitWidth %d is not 32, 64, 128 or 256", (int)bad[k]);
    cr_assert(strstr(err.message, want) != NULL, "%s", err.message);
    cr_assert(strstr(err.message, "amount") != NULL, "the field is named: %s", err.message);
    zcp_ipc_buffer_reset(&b);
  }
}
