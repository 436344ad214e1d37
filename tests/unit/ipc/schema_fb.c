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

/* Whether a reader opens over b's messages (b is reset after). */
static zcp_status_t opens(struct zcp_ipc_buffer *b, struct zcp_error *err) {
  struct zcp_ipc_memory mem;
  struct zcp_ipc_reader *r = NULL;
  zcp_status_t st = msg_open(b, &mem, &r, err);
  zcp_ipc_reader_close(r);
  zcp_ipc_buffer_reset(b);
  return st;
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

/* ---- what this reader refuses, and how ------------------------------------------------ */

/* A one-field schema message, the field's type built by `type` (or the schema altered by
 * the features / endianness given), read by the stream reader. */
struct refusal {
  const char *what;
  uint8_t type_type;
  zcp_fb_ref (*type)(struct zcp_fb_builder *fb, int64_t arg);
  int64_t arg;
  zcp_status_t want;
  const char *needle;
};

static zcp_fb_ref t_int(struct zcp_fb_builder *fb, int64_t bits) {
  return msg_int(fb, (int)bits, true);
}
static zcp_fb_ref t_short0(struct zcp_fb_builder *fb, int64_t v) { /* field 0 as a short */
  zcp__fb_table_start(fb);
  zcp__fb_add_scalar(fb, 0, 2, (uint64_t)(uint16_t)(int16_t)v);
  return zcp__fb_table_end(fb);
}
static zcp_fb_ref t_time(struct zcp_fb_builder *fb, int64_t unit) {
  zcp__fb_table_start(fb);
  zcp__fb_add_scalar(fb, 0, 2, (uint64_t)unit);
  zcp__fb_add_scalar(fb, 1, 4, 64);
  return zcp__fb_table_end(fb);
}
static zcp_fb_ref t_timezone(struct zcp_fb_builder *fb, int64_t len) {
  char tz[400];
  memset(tz, 'z', sizeof tz);
  zcp_fb_ref s = zcp__fb_string_create(fb, tz, len);
  zcp__fb_table_start(fb);
  zcp__fb_add_scalar(fb, 0, 2, 1);
  zcp__fb_add_ref(fb, 1, s);
  return zcp__fb_table_end(fb);
}
static zcp_fb_ref t_int0(struct zcp_fb_builder *fb, int64_t v) { /* field 0 as an int */
  zcp__fb_table_start(fb);
  zcp__fb_add_scalar(fb, 0, 4, (uint64_t)(uint32_t)(int32_t)v);
  return zcp__fb_table_end(fb);
}
static zcp_fb_ref t_empty(struct zcp_fb_builder *fb, int64_t unused) {
  (void)unused;
  return msg_empty(fb);
}

static zcp_status_t read_one_field(const struct refusal *c, struct zcp_error *err) {
  struct zcp_fb_builder fb;
  zcp__fb_builder_init(&fb);
  zcp_fb_ref type = c->type(&fb, c->arg);
  zcp_fb_ref field = msg_field(&fb, "col", c->type_type, type, 0, NULL, 0);
  struct zcp_ipc_buffer b = {0};
  msg_schema(&b, &fb, &field, 1, NULL, 0);
  msg_eos(&b);
  zcp__fb_builder_reset(&fb);
  return opens(&b, err);
}

Test(ipc_schema_fb, valid_types_this_reader_lacks_are_unsupported_impossible_ones_corrupt) {
  const zcp_status_t U = ZCP_UNSUPPORTED, C = ZCP_CORRUPT_INPUT;
  const struct refusal cases[] = {
      {"a type newer than the reader", 27, t_empty, 0, U,
       "Field.type_type 27 is a type this reader does not know (it knows 1..26)"},
      {"Int of 128 bits", ZCP_FB_T_INT, t_int, 128, U,
       "Int.bitWidth 128 is not supported (8, 16, 32 or 64)"},
      {"Int of 12 bits", ZCP_FB_T_INT, t_int, 12, U, "Int.bitWidth 12 is not supported"},
      {"Int of 0 bits", ZCP_FB_T_INT, t_int, 0, C, "Int.bitWidth 0 is not positive"},
      {"a fourth float precision", ZCP_FB_T_FLOAT, t_short0, 3, U,
       "FloatingPoint.precision 3 is not supported (this reader knows 0..2)"},
      {"a negative float precision", ZCP_FB_T_FLOAT, t_short0, -1, C,
       "FloatingPoint.precision -1 is negative"},
      {"a third date unit", ZCP_FB_T_DATE, t_short0, 2, U, "Date.unit 2 is not supported"},
      {"a fifth time unit", ZCP_FB_T_TIME, t_time, 4, U, "Time.unit 4 is not supported"},
      {"a fifth timestamp unit", ZCP_FB_T_TIMESTAMP, t_short0, 4, U,
       "Timestamp.unit 4 is not supported"},
      {"a fifth duration unit", ZCP_FB_T_DURATION, t_short0, 9, U,
       "Duration.unit 9 is not supported"},
      {"a fourth interval unit", ZCP_FB_T_INTERVAL, t_short0, 3, U,
       "Interval.unit 3 is not supported (this reader knows 0..2)"},
      {"a third union mode", ZCP_FB_T_UNION, t_short0, 2, U, "Union.mode 2 is not supported"},
      {"a 300-byte time zone", ZCP_FB_T_TIMESTAMP, t_timezone, 300, U,
       "Timestamp.timezone of 300 bytes is longer than the 256 supported"},
      {"fixed-size binary of 2^28 bytes", ZCP_FB_T_FIXED_BINARY, t_int0, 268435456, U,
       "FixedSizeBinary.byteWidth 268435456 is wider than the 268435455 supported"},
      {"fixed-size binary of -1 bytes", ZCP_FB_T_FIXED_BINARY, t_int0, -1, C,
       "FixedSizeBinary.byteWidth -1"},
      {"a decimal of precision 0", ZCP_FB_T_DECIMAL, t_int0, 0, C, "impossible parameters"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    struct zcp_error err = {0};
    zcp_status_t st = read_one_field(&cases[k], &err);
    cr_expect_eq(st, cases[k].want, "%s: %s (%s)", cases[k].what, zcp_status_str(st), err.message);
    cr_expect(strstr(err.message, cases[k].needle) != NULL, "%s: '%s' lacks '%s'", cases[k].what,
              err.message, cases[k].needle);
    cr_expect(strstr(err.message, "field 'col'") != NULL, "%s: the field is not named: %s",
              cases[k].what, err.message);
  }
}

/* A schema of one utf8 field with the given features, endianness and dictionary kind. */
static zcp_status_t read_schema_with(const int64_t *features, int n_features, int16_t endian,
                                     int16_t kind, struct zcp_error *err) {
  struct zcp_fb_builder fb;
  zcp__fb_builder_init(&fb);
  zcp_fb_ref field = msg_field(&fb, "col", ZCP_FB_T_UTF8, msg_empty(&fb),
                               kind >= 0 ? msg_dict(&fb, 0, 32, kind) : 0, NULL, 0);
  zcp_fb_ref fv = zcp__fb_refs_create(&fb, &field, 1), feat = 0;
  if (features != NULL) {
    uint8_t raw[64];
    for (int i = 0; i < n_features; i++) {
      for (int j = 0; j < 8; j++) raw[8 * i + j] = (uint8_t)((uint64_t)features[i] >> (8 * j));
    }
    feat = zcp__fb_vector_create(&fb, raw, n_features, 8, 8);
  }
  zcp__fb_table_start(&fb);
  if (endian != 0) zcp__fb_add_scalar(&fb, 0, 2, (uint64_t)(uint16_t)endian);
  zcp__fb_add_ref(&fb, 1, fv);
  if (feat) zcp__fb_add_ref(&fb, 3, feat);
  zcp_fb_ref schema = zcp__fb_table_end(&fb);
  struct zcp_ipc_buffer b = {0};
  msg_finish(&b, &fb, ZCP_FB_HEADER_SCHEMA, schema, NULL, 0, 0);
  msg_eos(&b);
  zcp__fb_builder_reset(&fb);
  return opens(&b, err);
}

Test(ipc_schema_fb, features_endianness_and_dictionary_kinds_this_reader_lacks) {
  struct zcp_error err = {0};
  const int64_t known[] = {1, 2}, newer[] = {1, 3};
  OKE(read_schema_with(known, 2, 0, -1, &err), &err);
  cr_expect_eq(read_schema_with(newer, 2, 0, -1, &err), ZCP_UNSUPPORTED);
  cr_expect(strstr(err.message, "Schema.features lists feature 3 is not supported") != NULL, "%s",
            err.message);
  cr_expect_eq(read_schema_with(NULL, 0, 1, -1, &err), ZCP_UNSUPPORTED);
  cr_expect(strstr(err.message, "big-endian IPC data is not supported") != NULL, "%s", err.message);
  cr_expect_eq(read_schema_with(NULL, 0, 2, -1, &err), ZCP_UNSUPPORTED);
  cr_expect(strstr(err.message, "Schema.endianness 2") != NULL, "%s", err.message);
  OKE(read_schema_with(NULL, 0, 0, 0, &err), &err);
  cr_expect_eq(read_schema_with(NULL, 0, 0, 1, &err), ZCP_UNSUPPORTED);
  cr_expect(strstr(err.message, "field 'col': DictionaryEncoding.dictionaryKind 1 is not "
                                "supported") != NULL,
            "%s", err.message);
}

Test(ipc_schema_fb, fields_nested_deeper_than_the_library_takes_are_unsupported) {
  struct zcp_fb_builder fb;
  zcp__fb_builder_init(&fb);
  zcp_fb_ref f = msg_field(&fb, "leaf", ZCP_FB_T_INT, msg_int(&fb, 32, true), 0, NULL, 0);
  for (int d = 0; d < ZCP_MAX_DEPTH; d++) {
    f = msg_field(&fb, "s", ZCP_FB_T_STRUCT, msg_empty(&fb), 0, &f, 1);
  }
  struct zcp_ipc_buffer b = {0};
  msg_schema(&b, &fb, &f, 1, NULL, 0);
  msg_eos(&b);
  zcp__fb_builder_reset(&fb);
  struct zcp_ipc_memory mem;
  struct zcp_ipc_reader *r = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(msg_open(&b, &mem, &r, &err), ZCP_UNSUPPORTED, "%s", err.message);
  cr_expect(strstr(err.message, "nested deeper than 64 levels are not supported") != NULL, "%s",
            err.message);
  zcp_ipc_buffer_reset(&b);
}
