/* Checks shared by the validation tests: an array passes every level, or fails from a
 * given level on with a message containing the given pieces. */
#ifndef ZCP_TEST_VALIDATE_CHECKS_H
#define ZCP_TEST_VALIDATE_CHECKS_H

#include <criterion/criterion.h>
#include <string.h>

#include "hand_arrays.h"

static const char *const level_names[] = {"MINIMAL", "DEFAULT", "FULL"};

static inline void passes(struct hand *h) {
  for (int l = ZCP_VALIDATE_MINIMAL; l <= ZCP_VALIDATE_FULL; l++) {
    struct zcp_error err = {0};
    zcp_status_t st =
        zcp_array_validate(&h->array, &h->schema, (enum zcp_validate_level)l, &err);
    cr_assert_eq(st, ZCP_OK, "%s: %s", level_names[l], err.message);
  }
}

/* Passes below `level`, fails from it on with both needles in the message. */
static inline void fails_from(struct hand *h, enum zcp_validate_level level,
                              const char *needle1, const char *needle2) {
  for (int l = ZCP_VALIDATE_MINIMAL; l <= ZCP_VALIDATE_FULL; l++) {
    struct zcp_error err = {0};
    zcp_status_t st =
        zcp_array_validate(&h->array, &h->schema, (enum zcp_validate_level)l, &err);
    if (l < (int)level) {
      cr_assert_eq(st, ZCP_OK, "%s should pass: %s", level_names[l], err.message);
      continue;
    }
    cr_assert_eq(st, ZCP_CORRUPT_INPUT, "%s should fail with '%s' (got %d: %s)",
                 level_names[l], needle1, st, err.message);
    cr_assert(strstr(err.message, needle1) != NULL, "'%s' lacks '%s'", err.message,
              needle1);
    cr_assert(needle2 == NULL || strstr(err.message, needle2) != NULL, "'%s' lacks '%s'",
              err.message, needle2);
  }
}

/* Non-OK from init or validation at every level, whatever the code. */
static inline void rejected(struct hand *h, const char *needle) {
  for (int l = ZCP_VALIDATE_MINIMAL; l <= ZCP_VALIDATE_FULL; l++) {
    struct zcp_error err = {0};
    zcp_status_t st =
        zcp_array_validate(&h->array, &h->schema, (enum zcp_validate_level)l, &err);
    cr_assert_neq(st, ZCP_OK, "%s should fail with '%s'", level_names[l], needle);
    cr_assert(strstr(err.message, needle) != NULL, "'%s' lacks '%s'", err.message,
              needle);
  }
}

/* A record batch root ("+s", nameless) over the given columns. */
static inline struct hand *batch(struct hand *root, int64_t length, struct hand *col) {
  hand_init(root, "+s", NULL, length, 1, NULL);
  return hand_child(root, col);
}

static inline void make_view(uint8_t out[16], const char *s, int32_t buf, int32_t off) {
  memset(out, 0, 16);
  int32_t len = (int32_t)strlen(s);
  memcpy(out, &len, 4);
  if (len <= 12) {
    memcpy(out + 4, s, (size_t)len);
  } else {
    memcpy(out + 4, s, 4);
    memcpy(out + 8, &buf, 4);
    memcpy(out + 12, &off, 4);
  }
}

#endif
