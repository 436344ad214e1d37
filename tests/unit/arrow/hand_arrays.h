/* Hand-made arrays for the view and validation tests: static buffers wrapped in an
 * ArrowArray/ArrowSchema pair whose release callbacks do nothing, so that a test can lay
 * out any buffer (valid or not) exactly as a foreign producer would. */
#ifndef ZCP_TEST_HAND_ARRAYS_H
#define ZCP_TEST_HAND_ARRAYS_H

#include <stdarg.h>
#include <string.h>

#include "zcpool/arrow.h"

#define HAND_MAX_BUFFERS 8
#define HAND_MAX_CHILDREN 16

struct hand {
  struct ArrowArray array;
  struct ArrowSchema schema;
  const void *buffers[HAND_MAX_BUFFERS];
  struct ArrowArray *achildren[HAND_MAX_CHILDREN];
  struct ArrowSchema *schildren[HAND_MAX_CHILDREN];
};

static inline void hand_release_array(struct ArrowArray *a) {
  a->release = NULL;
}
static inline void hand_release_schema(struct ArrowSchema *s) {
  s->release = NULL;
}

/* A node of `format` with `length` rows, no nulls, offset 0 and the given buffers (pass
 * exactly n_buffers pointers). */
static inline struct hand *hand_init(struct hand *h, const char *format, const char *name,
                                     int64_t length, int n_buffers, ...) {
  memset(h, 0, sizeof *h);
  h->schema.format = format;
  h->schema.name = name;
  h->schema.flags = ARROW_FLAG_NULLABLE;
  h->schema.children = h->schildren;
  h->schema.release = hand_release_schema;
  h->array.length = length;
  h->array.n_buffers = n_buffers;
  h->array.buffers = h->buffers;
  h->array.children = h->achildren;
  h->array.release = hand_release_array;
  va_list ap;
  va_start(ap, n_buffers);
  for (int i = 0; i < n_buffers && i < HAND_MAX_BUFFERS; i++) {
    h->buffers[i] = va_arg(ap, const void *);
  }
  va_end(ap);
  return h;
}

static inline struct hand *hand_slice(struct hand *h, int64_t offset, int64_t length,
                                      int64_t null_count) {
  h->array.offset = offset;
  h->array.length = length;
  h->array.null_count = null_count;
  return h;
}

static inline struct hand *hand_child(struct hand *h, struct hand *child) {
  h->achildren[h->array.n_children++] = &child->array;
  h->schildren[h->schema.n_children++] = &child->schema;
  return h;
}

static inline struct hand *hand_dictionary(struct hand *h, struct hand *dict) {
  h->array.dictionary = &dict->array;
  h->schema.dictionary = &dict->schema;
  return h;
}

#endif
