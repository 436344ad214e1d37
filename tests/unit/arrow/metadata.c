/* Tests of src/arrow/metadata.c: building blobs, looking keys up, iterating, and the
 * robustness of the reader and the checker on corrupt blobs. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/internal.h"

/* Appends a native-endian int32 to a hand-made blob. */
static char *put32(char *p, int32_t v) {
  memcpy(p, &v, 4);
  return p + 4;
}

static char *put_bytes(char *p, const char *s, int32_t n) {
  p = put32(p, n);
  memcpy(p, s, (size_t)n);
  return p + n;
}

Test(metadata, build_then_get_and_iterate) {
  const char *keys[] = {"ARROW:extension:name", "k", ""};
  const char *values[] = {"arrow.uuid", "", "empty key"};
  char *md = NULL;
  cr_assert_eq(zcp_metadata_build(3, keys, values, &md), ZCP_OK);
  cr_assert_not_null(md);

  int32_t count;
  memcpy(&count, md, 4);
  cr_assert_eq(count, 3);
  int64_t expected = 4 + (8 + 20 + 10) + (8 + 1 + 0) + (8 + 0 + 9);
  cr_assert_eq(zcp_metadata_size(md), expected);
  int64_t checked = -1;
  cr_assert_eq(zcp__metadata_check(md, expected, &checked, NULL), ZCP_OK);
  cr_assert_eq(checked, expected);
  cr_assert_eq(zcp__metadata_check(md, expected - 1, NULL, NULL), ZCP_CORRUPT_INPUT,
               "one byte short must be caught");

  struct zcp_string_view v;
  cr_assert(zcp_metadata_get(md, "ARROW:extension:name", &v));
  cr_assert_eq(v.size, 10);
  cr_assert(memcmp(v.data, "arrow.uuid", 10) == 0);
  cr_assert(zcp_metadata_get(md, "k", &v));
  cr_assert_eq(v.size, 0);
  cr_assert(zcp_metadata_get(md, "", &v));
  cr_assert_eq(v.size, 9);
  cr_assert_not(zcp_metadata_get(md, "ARROW", &v), "prefix of a key is not the key");
  cr_assert_not(zcp_metadata_get(md, "kk", &v));
  cr_assert_not(zcp_metadata_get(md, NULL, &v));
  cr_assert(zcp_metadata_get(md, "k", NULL), "value may be NULL");

  struct zcp_metadata_reader r;
  struct zcp_string_view k;
  zcp_metadata_reader_init(md, &r);
  for (int i = 0; i < 3; i++) {
    cr_assert(zcp_metadata_reader_next(&r, &k, &v), "pair %d", i);
    cr_assert_eq(k.size, (int64_t)strlen(keys[i]));
    cr_assert(memcmp(k.data, keys[i], (size_t)k.size) == 0, "key %d", i);
    cr_assert_eq(v.size, (int64_t)strlen(values[i]));
    cr_assert(memcmp(v.data, values[i], (size_t)v.size) == 0, "value %d", i);
  }
  cr_assert_not(zcp_metadata_reader_next(&r, &k, &v));
  cr_assert_not(zcp_metadata_reader_next(&r, &k, &v), "stays exhausted");
  free(md);
}

Test(metadata, null_and_empty_blobs) {
  cr_assert_eq(zcp_metadata_size(NULL), 0);
  struct zcp_metadata_reader r;
  struct zcp_string_view k, v;
  zcp_metadata_reader_init(NULL, &r);
  cr_assert_not(zcp_metadata_reader_next(&r, &k, &v));
  cr_assert_not(zcp_metadata_get(NULL, "a", &v));
  int64_t size = 99;
  cr_assert_eq(zcp__metadata_check(NULL, 0, &size, NULL), ZCP_OK);
  cr_assert_eq(size, 0);

  char *md = NULL;
  cr_assert_eq(zcp_metadata_build(0, NULL, NULL, &md), ZCP_OK);
  cr_assert_not_null(md);
  cr_assert_eq(zcp_metadata_size(md), 4);
  zcp_metadata_reader_init(md, &r);
  cr_assert_not(zcp_metadata_reader_next(&r, &k, &v));
  free(md);
}

Test(metadata, build_rejects_bad_arguments) {
  const char *keys[] = {"a", NULL};
  const char *values[] = {"b", "c"};
  char *md = (char *)1;
  cr_assert_eq(zcp_metadata_build(2, keys, values, &md), ZCP_INVALID_ARGUMENT);
  cr_assert_null(md, "out is cleared on failure");
  cr_assert_eq(zcp_metadata_build(-1, keys, values, &md), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_metadata_build(1, NULL, values, &md), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_metadata_build(1, keys, NULL, &md), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_metadata_build(1, keys, values, NULL), ZCP_INVALID_ARGUMENT);
  const char *null_value[] = {NULL};
  cr_assert_eq(zcp_metadata_build(1, keys, null_value, &md), ZCP_INVALID_ARGUMENT);
}

Test(metadata, bytes_are_not_strings) {
  /* A value with an embedded NUL: lengths, not terminators, delimit it. */
  char blob[64];
  char *p = put32(blob, 2);
  p = put_bytes(p, "bin", 3);
  p = put_bytes(p, "a\0b", 3);
  p = put_bytes(p, "z", 1);
  p = put_bytes(p, "last", 4);
  int64_t size = p - blob;
  cr_assert_eq(zcp_metadata_size(blob), size);
  struct zcp_string_view v;
  cr_assert(zcp_metadata_get(blob, "bin", &v));
  cr_assert_eq(v.size, 3);
  cr_assert(memcmp(v.data, "a\0b", 3) == 0);
  cr_assert(zcp_metadata_get(blob, "z", &v));
  cr_assert_eq(v.size, 4);
}

Test(metadata, negative_lengths_are_corrupt) {
  char blob[64];
  struct zcp_error e = {0};
  struct zcp_metadata_reader r;
  struct zcp_string_view k, v;

  put32(blob, -1);
  cr_assert_eq(zcp__metadata_check(blob, sizeof blob, NULL, &e), ZCP_CORRUPT_INPUT);
  cr_assert(strstr(e.message, "negative pair count -1") != NULL, "%s", e.message);
  cr_assert_eq(zcp_metadata_size(blob), -1);
  zcp_metadata_reader_init(blob, &r);
  cr_assert_not(zcp_metadata_reader_next(&r, &k, &v));

  /* second pair's key length is negative */
  char *p = put32(blob, 2);
  p = put_bytes(p, "a", 1);
  p = put_bytes(p, "b", 1);
  put32(p, -7);
  cr_assert_eq(zcp__metadata_check(blob, sizeof blob, NULL, &e), ZCP_CORRUPT_INPUT);
  cr_assert(strstr(e.message, "pair 1: negative key length -7") != NULL, "%s", e.message);
  cr_assert_eq(zcp_metadata_size(blob), -1);
  zcp_metadata_reader_init(blob, &r);
  cr_assert(zcp_metadata_reader_next(&r, &k, &v), "the good first pair is readable");
  cr_assert_not(zcp_metadata_reader_next(&r, &k, &v), "then the reader stops");
  cr_assert_not(zcp_metadata_reader_next(&r, &k, &v));
  cr_assert_not(zcp_metadata_get(blob, "zz", &v));

  /* first pair's value length is negative */
  p = put32(blob, 1);
  p = put_bytes(p, "a", 1);
  put32(p, INT32_MIN);
  cr_assert_eq(zcp__metadata_check(blob, sizeof blob, NULL, &e), ZCP_CORRUPT_INPUT);
  cr_assert(strstr(e.message, "pair 0: negative value length") != NULL, "%s", e.message);
  zcp_metadata_reader_init(blob, &r);
  cr_assert_not(zcp_metadata_reader_next(&r, &k, &v));
}

Test(metadata, check_never_reads_past_its_bound) {
  /* The blob claims a key far longer than the buffer: the bound must catch it. */
  char *blob = malloc(12);
  char *p = put32(blob, 1);
  p = put32(p, 1000000);
  memset(p, 'x', 4);
  struct zcp_error e = {0};
  cr_assert_eq(zcp__metadata_check(blob, 12, NULL, &e), ZCP_CORRUPT_INPUT);
  cr_assert(strstr(e.message, "runs past the end") != NULL, "%s", e.message);
  cr_assert_eq(zcp__metadata_check(blob, 3, NULL, &e), ZCP_CORRUPT_INPUT);
  cr_assert(strstr(e.message, "pair count") != NULL, "%s", e.message);
  /* count says 1 pair but the buffer ends before its key length */
  cr_assert_eq(zcp__metadata_check(blob, 6, NULL, &e), ZCP_CORRUPT_INPUT);
  cr_assert(strstr(e.message, "past the end") != NULL, "%s", e.message);
  free(blob);
}
