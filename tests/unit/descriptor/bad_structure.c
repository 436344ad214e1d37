/* Bad descriptors refused before any memory is asked about or any array exists: bytes
 * that are not a descriptor, and descriptors whose structure contradicts itself (counts,
 * lengths, formats, sizes). Each must come back with the right status, a message naming
 * the problem, and nothing leaked (the sanitizer build checks the last). */
#include "bad_harness.h"

TestSuite(descriptor_bad_structure, .timeout = 120);

/* fixture columns */
enum {
  I8 = 0,
  I32 = 2,
  I64 = 3,
  BOOL = 10,
  STR = 11,
  SVIEW = 13,
  LIST = 19,
  STRUCT = 20,
  DICT = 21
};
/* exotic columns */
enum {
  XNULL = 0,
  XFSB = 7,
  XBVIEW = 8,
  XLLIST = 10,
  XFSL = 12,
  XMAP = 13,
  XSUNION = 14,
  XDUNION = 15,
  XRUNS = 16
};

static void m_bad_magic(pb_desc *d, struct world *w) {
  d->magic = 0x12345678;
}
static void m_bad_version(pb_desc *d, struct world *w) {
  d->version = 2;
}
static void m_no_schema(pb_desc *d, struct world *w) {
  zcpool__descriptor__field__free_unpacked(d->schema, NULL);
  d->schema = NULL;
}
static void m_no_batch(pb_desc *d, struct world *w) {
  zcpool__descriptor__node__free_unpacked(d->batch, NULL);
  d->batch = NULL;
}
static void m_root_not_struct(pb_desc *d, struct world *w) {
  set_bytes(&d->schema->format, "+l", 2);
}
static void m_unknown_format(pb_desc *d, struct world *w) {
  set_bytes(&colf(d, I32)->format, "Q", 1);
}
static void m_empty_format(pb_desc *d, struct world *w) {
  set_bytes(&colf(d, I32)->format, "", 0);
}
static void m_format_with_nul(pb_desc *d, struct world *w) {
  set_bytes(&colf(d, I32)->format, "i\0x", 3);
}
static void m_name_with_nul(pb_desc *d, struct world *w) {
  set_bytes(&colf(d, I32)->name, "a\0b", 3);
}
static void m_unknown_flags(pb_desc *d, struct world *w) {
  colf(d, I32)->flags = 64;
}
static void m_negative_flags(pb_desc *d, struct world *w) {
  colf(d, I32)->flags = -2;
}
static void m_format_beyond_limits(pb_desc *d, struct world *w) {
  set_bytes(&colf(d, I32)->format, "w:268435456", 11);
}
static void m_negative_length(pb_desc *d, struct world *w) {
  col(d, I32)->length = -1;
}
static void m_negative_offset(pb_desc *d, struct world *w) {
  col(d, I32)->offset = -3;
}
static void m_offset_overflow(pb_desc *d, struct world *w) {
  col(d, I32)->offset = INT64_MAX - 2;
}
static void m_null_count_over_length(pb_desc *d, struct world *w) {
  col(d, I32)->null_count = col(d, I32)->length + 1;
}
static void m_null_count_below_minus_one(pb_desc *d, struct world *w) {
  col(d, I32)->null_count = -2;
}
static void m_too_few_buffers(pb_desc *d, struct world *w) {
  shrink(&col(d, I32)->n_buffers, 1);
}
static void m_too_few_buffers_string(pb_desc *d, struct world *w) {
  shrink(&col(d, STR)->n_buffers, 2);
}
static void m_extra_buffer(pb_desc *d, struct world *w) {
  add_buffer(col(d, I64));
}
static void m_buffer_too_short(pb_desc *d, struct world *w) {
  pb_buffer *b = col(d, I64)->buffers[1];
  b->length = col(d, I64)->length * 8 - 1;
}
static void m_offsets_too_short(pb_desc *d, struct world *w) {
  col(d, STR)->buffers[1]->length = 8;
}
static void m_bitmap_too_short(pb_desc *d, struct world *w) {
  col(d, BOOL)->buffers[1]->length = 1;
}
static void m_absent_values(pb_desc *d, struct world *w) {
  make_absent(col(d, I64)->buffers[1]);
}
static void m_absent_with_location(pb_desc *d, struct world *w) {
  col(d, I64)->buffers[1]->present = false;
}
static void m_absent_validity_with_nulls(pb_desc *d, struct world *w) {
  cr_assert(col(d, I32)->null_count > 0);
  make_absent(col(d, I32)->buffers[0]);
}
static void m_negative_buffer_offset(pb_desc *d, struct world *w) {
  col(d, I64)->buffers[1]->offset = -128;
}
static void m_buffer_end_overflows(pb_desc *d, struct world *w) {
  col(d, I64)->buffers[1]->length = INT64_MAX;
}
static void m_list_without_child(pb_desc *d, struct world *w) {
  shrink(&colf(d, LIST)->n_children, 0);
  shrink(&col(d, LIST)->n_children, 0);
}
static void m_array_children_differ(pb_desc *d, struct world *w) {
  shrink(&col(d, STRUCT)->n_children, col(d, STRUCT)->n_children - 1);
}
static void m_batch_columns_differ(pb_desc *d, struct world *w) {
  shrink(&d->batch->n_children, 5);
}
static void m_dictionary_in_schema_only(pb_desc *d, struct world *w) {
  zcpool__descriptor__node__free_unpacked(col(d, DICT)->dictionary, NULL);
  col(d, DICT)->dictionary = NULL;
}
static void m_dictionary_float_indices(pb_desc *d, struct world *w) {
  set_bytes(&colf(d, DICT)->format, "f", 1);
}
static void m_variadic_sizes_on_int(pb_desc *d, struct world *w) {
  pb_node *n = col(d, I32);
  n->variadic_sizes = malloc(sizeof(int64_t));
  n->variadic_sizes[0] = 1;
  n->n_variadic_sizes = 1;
}
static void m_variadic_size_past_buffer(pb_desc *d, struct world *w) {
  pb_node *n = col(d, SVIEW);
  cr_assert_gt(n->n_variadic_sizes, 0);
  n->variadic_sizes[0] = n->buffers[2]->length + 1;
}
static void m_variadic_buffer_dropped(pb_desc *d, struct world *w) {
  pb_node *n = col(d, SVIEW);
  shrink(&n->n_buffers, n->n_buffers - 1);
}
static void m_root_too_long(pb_desc *d, struct world *w) {
  d->batch->length += 10; /* columns are shorter than the batch says */
}
static void m_list_child_too_short(pb_desc *d, struct world *w) {
  col(d, LIST)->children[0]->length = 1;
}

Test(descriptor_bad_structure, fixture_mutations) {
  struct world w;
  world_build(&w, WORLD_FIXTURE, 200, 2, 32 << 20);
  world_encode(&w);
  const enum zcp_validate_level M = ZCP_VALIDATE_MINIMAL, D = ZCP_VALIDATE_DEFAULT;
  const struct bad_case cases[] = {
      {"bad magic", m_bad_magic, ZCP_CORRUPT_INPUT, "magic", M},
      {"bad version", m_bad_version, ZCP_VERSION_MISMATCH, "version 2", M},
      {"missing schema", m_no_schema, ZCP_CORRUPT_INPUT, "schema is missing", M},
      {"missing batch", m_no_batch, ZCP_CORRUPT_INPUT, "batch is missing", M},
      {"root not a struct", m_root_not_struct, ZCP_CORRUPT_INPUT, "a batch is a struct",
       M},
      {"unknown format", m_unknown_format, ZCP_CORRUPT_INPUT,
       "column 2 (?): unknown format", M},
      {"empty format", m_empty_format, ZCP_CORRUPT_INPUT, "column 2", M},
      {"format with NUL", m_format_with_nul, ZCP_CORRUPT_INPUT, "holds NUL", M},
      {"name with NUL", m_name_with_nul, ZCP_CORRUPT_INPUT, "column 2 (int32): name", M},
      {"flags this build does not know", m_unknown_flags, ZCP_UNSUPPORTED,
       "column 2 (int32): flags 0x40 hold bits this build does not know (0x40)", M},
      {"negative flags", m_negative_flags, ZCP_CORRUPT_INPUT, "are negative", M},
      {"a format beyond this build's limits", m_format_beyond_limits, ZCP_UNSUPPORTED,
       "column 2 (?): format string \"w:268435456\": size 268435456 is larger than the "
       "268435455 this library supports",
       M},
      {"negative length", m_negative_length, ZCP_CORRUPT_INPUT,
       "column 2 (int32): length", M},
      {"negative offset", m_negative_offset, ZCP_CORRUPT_INPUT, "offset -3", M},
      {"offset + length overflows", m_offset_overflow, ZCP_CORRUPT_INPUT, "overflowing",
       M},
      {"null_count > length", m_null_count_over_length, ZCP_CORRUPT_INPUT, "null_count",
       M},
      {"null_count < -1", m_null_count_below_minus_one, ZCP_CORRUPT_INPUT,
       "null_count -2", M},
      {"too few buffers", m_too_few_buffers, ZCP_CORRUPT_INPUT,
       "has 1 buffers, the type needs 2", M},
      {"string with 2 buffers", m_too_few_buffers_string, ZCP_CORRUPT_INPUT,
       "column 11 (utf8)", M},
      {"extra buffer", m_extra_buffer, ZCP_CORRUPT_INPUT, "has 3 buffers", M},
      {"values too short", m_buffer_too_short, ZCP_CORRUPT_INPUT, "holds 1599 bytes", M},
      {"offsets too short", m_offsets_too_short, ZCP_CORRUPT_INPUT,
       "column 11 (utf8): buffer 1 holds 8", M},
      {"bitmap too short", m_bitmap_too_short, ZCP_CORRUPT_INPUT, "column 10 (bool)", M},
      {"absent values", m_absent_values, ZCP_CORRUPT_INPUT, "buffer 1 is absent", M},
      {"absent with location", m_absent_with_location, ZCP_CORRUPT_INPUT,
       "has a location", M},
      {"absent validity, nulls", m_absent_validity_with_nulls, ZCP_CORRUPT_INPUT,
       "validity buffer is absent", M},
      {"negative buffer offset", m_negative_buffer_offset, ZCP_CORRUPT_INPUT,
       "offset -128", M},
      {"buffer end overflows", m_buffer_end_overflows, ZCP_CORRUPT_INPUT,
       "buffer 1 has offset", M},
      {"list without child", m_list_without_child, ZCP_CORRUPT_INPUT, "the type needs 1",
       M},
      {"struct children differ", m_array_children_differ, ZCP_CORRUPT_INPUT,
       "array has 1 children", M},
      {"batch columns differ", m_batch_columns_differ, ZCP_CORRUPT_INPUT,
       "array has 5 children", M},
      {"dictionary in schema only", m_dictionary_in_schema_only, ZCP_CORRUPT_INPUT,
       "only one of", M},
      {"float dictionary indices", m_dictionary_float_indices, ZCP_CORRUPT_INPUT,
       "must be integers", M},
      {"variadic sizes on int32", m_variadic_sizes_on_int, ZCP_CORRUPT_INPUT,
       "not a view type", M},
      {"variadic size past buffer", m_variadic_size_past_buffer, ZCP_CORRUPT_INPUT,
       "variadic buffer 0", M},
      {"variadic buffer dropped", m_variadic_buffer_dropped, ZCP_CORRUPT_INPUT, "buffers",
       M},
      {"batch longer than columns", m_root_too_long, ZCP_CORRUPT_INPUT, "rows", M},
      {"list child too short", m_list_child_too_short, ZCP_CORRUPT_INPUT, "past the end",
       D},
  };
  run_cases(&w, cases, sizeof cases / sizeof cases[0]);
  world_free(&w);
}

static void m_union_ids_vs_children(pb_desc *d, struct world *w) {
  set_bytes(&colf(d, XSUNION)->format, "+us:0,1,2", 9);
}
static void m_map_entries_not_struct(pb_desc *d, struct world *w) {
  set_bytes(&colf(d, XMAP)->children[0]->format, "+l", 2);
}
static void m_run_ends_float(pb_desc *d, struct world *w) {
  set_bytes(&colf(d, XRUNS)->children[0]->format, "f", 1);
}
static void m_run_ends_too_few(pb_desc *d, struct world *w) {
  col(d, XRUNS)->children[0]->length = 2;
  col(d, XRUNS)->children[0]->null_count = 0;
}
static void m_null_with_buffer(pb_desc *d, struct world *w) {
  cr_assert_eq(col(d, XNULL)->n_buffers, 0);
  add_buffer(col(d, XNULL));
}
static void m_fsb_too_short(pb_desc *d, struct world *w) {
  col(d, XFSB)->buffers[1]->length = 3 * col(d, XFSB)->length - 1;
}
static void m_fsl_child_too_short(pb_desc *d, struct world *w) {
  col(d, XFSL)->children[0]->length = 3;
  col(d, XFSL)->children[0]->null_count = -1;
}
static void m_dense_offsets_short(pb_desc *d, struct world *w) {
  col(d, XDUNION)->buffers[1]->length = 4;
}
static void m_large_list_offsets_short(pb_desc *d, struct world *w) {
  col(d, XLLIST)->buffers[1]->length = 8;
}
static void m_views_short(pb_desc *d, struct world *w) {
  col(d, XBVIEW)->buffers[1]->length = 16;
}

Test(descriptor_bad_structure, rare_type_mutations) {
  struct world w;
  world_build(&w, WORLD_EXOTIC, 120, 2, 32 << 20);
  world_encode(&w);
  const enum zcp_validate_level M = ZCP_VALIDATE_MINIMAL;
  const struct bad_case cases[] = {
      {"union type ids vs children", m_union_ids_vs_children, ZCP_CORRUPT_INPUT,
       "column 14 (sparse_union)", M},
      {"map entries not a struct", m_map_entries_not_struct, ZCP_CORRUPT_INPUT,
       "descriptor", M},
      {"float run ends", m_run_ends_float, ZCP_CORRUPT_INPUT, "descriptor", M},
      {"run ends too few", m_run_ends_too_few, ZCP_CORRUPT_INPUT, "run end",
       ZCP_VALIDATE_DEFAULT},
      {"null type with a buffer", m_null_with_buffer, ZCP_CORRUPT_INPUT,
       "column 0 (null): has 1 buffers", M},
      {"fixed-size binary too short", m_fsb_too_short, ZCP_CORRUPT_INPUT, "column 7", M},
      {"fixed-size list child too short", m_fsl_child_too_short, ZCP_CORRUPT_INPUT,
       "rows", M},
      {"dense union offsets short", m_dense_offsets_short, ZCP_CORRUPT_INPUT,
       "column 15 (dense_union)", M},
      {"large list offsets short", m_large_list_offsets_short, ZCP_CORRUPT_INPUT,
       "column 10", M},
      {"views short", m_views_short, ZCP_CORRUPT_INPUT, "column 8", M},
  };
  run_cases(&w, cases, sizeof cases / sizeof cases[0]);
  world_free(&w);
}

/* Bytes that are not a descriptor at all. */
Test(descriptor_bad_structure, bytes) {
  struct world w;
  world_build(&w, WORLD_FIXTURE, 20, 1, 16 << 20);
  world_encode(&w);
  /* every proper prefix: protobuf-c refuses it, or the batch (the last field) is missing
   */
  for (int64_t n = 0; n < w.desc_size; n++) {
    struct ArrowSchema s;
    struct ArrowArray a;
    struct zcp_error err = {0};
    zcp_status_t st =
        zcp_descriptor_decode(w.desc, n, w.mem, ZCP_VALIDATE_FULL, &s, &a, &err);
    cr_assert_eq(st, ZCP_CORRUPT_INPUT, "prefix of %lld bytes: %s", (long long)n,
                 err.message);
    cr_assert_null(a.release);
  }
  uint8_t garbage[512];
  uint32_t x = 12345;
  for (int round = 0; round < 200; round++) {
    for (size_t i = 0; i < sizeof garbage; i++) {
      x = x * 1103515245u + 12345u;
      garbage[i] = (uint8_t)(x >> 16);
    }
    expect_refused(&w, garbage, 1 + round * 2, ZCP_VALIDATE_FULL, ZCP_CORRUPT_INPUT,
                   "descriptor", "garbage");
  }
  expect_refused(&w, (const uint8_t *)"", 0, ZCP_VALIDATE_FULL, ZCP_CORRUPT_INPUT,
                 "empty", "empty");
  struct ArrowSchema s;
  struct ArrowArray a;
  cr_expect_eq(zcp_descriptor_decode(NULL, 10, w.mem, ZCP_VALIDATE_FULL, &s, &a, NULL),
               ZCP_INVALID_ARGUMENT);
  cr_expect_eq(zcp_descriptor_decode(w.desc, w.desc_size, w.mem,
                                     (enum zcp_validate_level)7, &s, &a, NULL),
               ZCP_INVALID_ARGUMENT);
  struct zcp_buffer_ref *refs = NULL;
  int64_t n = 0;
  cr_expect_eq(zcp_descriptor_refs(w.desc, w.desc_size / 2, &refs, &n, NULL),
               ZCP_CORRUPT_INPUT);
  cr_expect_null(refs);
  world_free(&w);
}

/* A list of lists of ... nested past ZCP_MAX_DEPTH, built by hand. */
static uint8_t *deep_descriptor(int depth, int64_t *size) {
  pb_desc d;
  zcpool__descriptor__descriptor__init(&d);
  d.magic = ZCP_DESCRIPTOR_MAGIC;
  d.version = ZCP_DESCRIPTOR_VERSION;
  pb_field *fields = calloc((size_t)depth + 2, sizeof *fields);
  pb_node *nodes = calloc((size_t)depth + 2, sizeof *nodes);
  pb_field **fchild = calloc((size_t)depth + 2, sizeof *fchild);
  pb_node **nchild = calloc((size_t)depth + 2, sizeof *nchild);
  for (int i = 0; i <= depth + 1; i++) {
    zcpool__descriptor__field__init(&fields[i]);
    zcpool__descriptor__node__init(&nodes[i]);
    const char *fmt = i == 0 ? "+s" : i == depth + 1 ? "n" : "+l";
    fields[i].format.data = (uint8_t *)fmt;
    fields[i].format.len = strlen(fmt);
    if (i <= depth) {
      fchild[i] = &fields[i + 1];
      nchild[i] = &nodes[i + 1];
      fields[i].children = &fchild[i];
      fields[i].n_children = 1;
      nodes[i].children = &nchild[i];
      nodes[i].n_children = 1;
    }
  }
  d.schema = &fields[0];
  d.batch = &nodes[0];
  *size = (int64_t)zcpool__descriptor__descriptor__get_packed_size(&d);
  uint8_t *buf = malloc((size_t)*size);
  zcpool__descriptor__descriptor__pack(&d, buf);
  free(fields);
  free(nodes);
  free(fchild);
  free(nchild);
  return buf;
}

/* Writes varint v ending just before *end (building backwards); returns the new end. */
static uint8_t *put_varint_back(uint8_t *end, uint64_t v) {
  uint8_t tmp[10];
  int n = 0;
  do {
    tmp[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    v >>= 7;
  } while (v != 0);
  end -= n;
  memcpy(end, tmp, (size_t)n);
  return end;
}

/* Descriptor{magic, version, schema: Field{format "+l", children: Field{... depth}}}. */
static uint8_t *raw_deep_descriptor(int depth, int64_t *size) {
  size_t cap = (size_t)depth * 16 + 64;
  uint8_t *buf = malloc(cap), *end = buf + cap, *p = end;
  for (int i = 0; i < depth; i++) {
    size_t inner = (size_t)(end - p);
    p = put_varint_back(p, inner);
    *--p = 0x32; /* field 6 (children), length-delimited */
    p -= 2;
    memcpy(p, "+l", 2);
    *--p = 2;
    *--p = 0x0a; /* field 1 (format) */
  }
  p = put_varint_back(p, (uint64_t)(end - p));
  *--p = 0x1a; /* Descriptor field 3 (schema) */
  *--p = 1;
  *--p = 0x10; /* version 1 */
  uint32_t magic = ZCP_DESCRIPTOR_MAGIC;
  p -= 4;
  memcpy(p, &magic, 4);
  *--p = 0x0d; /* field 1 (magic), fixed32 */
  *size = end - p;
  uint8_t *out = malloc((size_t)*size);
  memcpy(out, p, (size_t)*size);
  free(buf);
  return out;
}

Test(descriptor_bad_structure, depth) {
  struct world w;
  world_build(&w, WORLD_FIXTURE, 1, 1, 16 << 20);
  int64_t size;
  /* struct + 62 lists + null: within the limit, but the lists' buffers are missing */
  uint8_t *buf = deep_descriptor(62, &size);
  expect_refused(&w, buf, size, ZCP_VALIDATE_FULL, ZCP_CORRUPT_INPUT, "buffers",
                 "depth 62");
  free(buf);
  buf = deep_descriptor(70, &size);
  expect_refused(&w, buf, size, ZCP_VALIDATE_FULL, ZCP_CORRUPT_INPUT, "nesting deeper",
                 "depth 70");
  struct zcp_buffer_ref *refs = NULL;
  int64_t n = 0;
  cr_expect_eq(zcp_descriptor_refs(buf, size, &refs, &n, NULL), ZCP_CORRUPT_INPUT);
  free(buf);
  /* deep enough that a recursive unpack could exhaust the stack: raw bytes, since
   * protobuf-c's own packer would recurse as deep */
  buf = raw_deep_descriptor(100000, &size);
  expect_refused(&w, buf, size, ZCP_VALIDATE_FULL, ZCP_CORRUPT_INPUT, "nesting deeper",
                 "depth 100000");
  free(buf);
  world_free(&w);
}
