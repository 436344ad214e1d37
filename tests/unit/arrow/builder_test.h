/* Shared helpers of the builder tests: schema shorthands, a counting allocator that can
 * fail on demand and poisons fresh memory (so that unzeroed padding shows), and checks of
 * the layout rules every finished array must follow (alignment, capacity, zero padding,
 * a clean view). */
#ifndef ZCP_TEST_BUILDER_TEST_H
#define ZCP_TEST_BUILDER_TEST_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "zcpool/arrow.h"

#define OK(expr) cr_assert_eq((expr), ZCP_OK, "%s failed", #expr)
/* An append on builder b must succeed; prints the builder's message if not. */
#define BOK(b, expr) \
  cr_assert_eq((expr), ZCP_OK, "%s failed: %s", #expr, zcp_builder_last_error(b))

/* ---- schemas ---- */

/* A fresh schema node (format, name, n placeholder children). */
static inline void node(struct ArrowSchema *s, const char *format, const char *name,
                        int64_t n_children) {
  struct zcp_error e = {0};
  cr_assert_eq(zcp_schema_init(format, name, ARROW_FLAG_NULLABLE, n_children, s, &e),
               ZCP_OK, "%s", e.message);
}
/* Makes placeholder child i (made by its parent's init) a node. */
static inline void child(struct ArrowSchema *parent, int64_t i, const char *format,
                         const char *name, int64_t n_children) {
  struct zcp_error e = {0};
  cr_assert_eq(
      zcp_schema_set_child(parent, i, format, name, ARROW_FLAG_NULLABLE, n_children, &e),
      ZCP_OK, "%s", e.message);
}

/* ---- allocator ---- */

struct test_alloc {
  struct zcp_allocator base;
  int64_t live;    /* bytes */
  int64_t blocks;  /* live blocks */
  int64_t calls;   /* allocate + reallocate calls so far */
  int64_t fail_at; /* the call with this number (1-based) fails; 0 = none */
};

static inline bool ta_fail(struct test_alloc *t) {
  t->calls++;
  return t->fail_at != 0 && t->calls == t->fail_at;
}

static inline void *ta_block(int64_t size, int64_t alignment) {
  int64_t n = (size + alignment - 1) / alignment * alignment;
  return aligned_alloc((size_t)alignment, (size_t)(n > 0 ? n : alignment));
}

/* The failure a test allocator reports: the builder must pass its words on. */
static inline zcp_status_t ta_refuse(void **out, struct zcp_error *err) {
  *out = NULL;
  return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "test allocator: out of memory, as asked");
}

static inline zcp_status_t ta_allocate(struct zcp_allocator *self, int64_t size,
                                       int64_t alignment, void **out,
                                       struct zcp_error *err) {
  struct test_alloc *t = (struct test_alloc *)self;
  if (ta_fail(t)) return ta_refuse(out, err);
  void *p = ta_block(size, alignment);
  if (p == NULL) return ta_refuse(out, err);
  memset(p, 0xab, (size_t)size); /* poison: padding must be zeroed by the builder */
  t->live += size;
  t->blocks++;
  *out = p;
  return ZCP_OK;
}

static inline zcp_status_t ta_reallocate(struct zcp_allocator *self, void *ptr,
                                         int64_t old_size, int64_t new_size,
                                         int64_t alignment, void **out,
                                         struct zcp_error *err) {
  struct test_alloc *t = (struct test_alloc *)self;
  if (ta_fail(t)) return ta_refuse(out, err);
  void *q = ta_block(new_size, alignment);
  if (q == NULL) return ta_refuse(out, err);
  memset(q, 0xab, (size_t)new_size);
  memcpy(q, ptr, (size_t)(old_size < new_size ? old_size : new_size));
  free(ptr);
  t->live += new_size - old_size;
  *out = q;
  return ZCP_OK;
}

static inline void ta_free(struct zcp_allocator *self, void *ptr, int64_t size) {
  struct test_alloc *t = (struct test_alloc *)self;
  t->live -= size;
  t->blocks--;
  free(ptr);
}

static inline void ta_init(struct test_alloc *t, int64_t alignment) {
  memset(t, 0, sizeof *t);
  t->base.allocate = ta_allocate;
  t->base.reallocate = ta_reallocate;
  t->base.free = ta_free;
  t->base.alignment = alignment;
}

/* ---- builders ---- */

static inline struct zcp_builder *make_builder(const struct ArrowSchema *s,
                                               struct zcp_allocator *a) {
  struct zcp_builder *b = NULL;
  struct zcp_error e = {0};
  cr_assert_eq(zcp_builder_init(s, a, &b, &e), ZCP_OK, "%s", e.message);
  return b;
}

/* A builder for a single node of `format` named `name`. */
static inline struct zcp_builder *simple_builder(const char *format, const char *name,
                                                 struct zcp_allocator *a) {
  struct ArrowSchema s;
  node(&s, format, name, 0);
  struct zcp_builder *b = make_builder(&s, a);
  zcp_schema_release(&s);
  return b;
}

/* Every buffer of every node: aligned to `align`, capacity known and a multiple of it. */
static inline void check_layout(const struct ArrowArray *a, int64_t align) {
  for (int64_t i = 0; i < a->n_buffers; i++) {
    if (a->buffers[i] == NULL) continue;
    cr_assert_eq((uintptr_t)a->buffers[i] % (uintptr_t)align, 0, "buffer %lld unaligned",
                 (long long)i);
    int64_t cap = zcp_array_buffer_capacity(a, i);
    cr_assert(cap > 0 && cap % align == 0, "buffer %lld capacity %lld", (long long)i,
              (long long)cap);
  }
  for (int64_t i = 0; i < a->n_children; i++) check_layout(a->children[i], align);
  if (a->dictionary != NULL) check_layout(a->dictionary, align);
}

/* Bytes [used, capacity) of buffer i are zero. */
static inline void check_padding(const struct ArrowArray *a, int64_t i, int64_t used) {
  const uint8_t *p = a->buffers[i];
  int64_t cap = zcp_array_buffer_capacity(a, i);
  cr_assert(cap >= used, "buffer %lld: capacity %lld < %lld", (long long)i,
            (long long)cap, (long long)used);
  for (int64_t k = used; k < cap; k++) {
    cr_assert_eq(p[k], 0, "buffer %lld: padding byte %lld is %d", (long long)i,
                 (long long)k, p[k]);
  }
}

/* Finishes b into *a and *s, checks the layout, validates fully and opens a view. */
static inline void finish(struct zcp_builder *b, struct ArrowArray *a,
                          struct ArrowSchema *s, struct zcp_array_view *v) {
  struct zcp_error e = {0};
  cr_assert_eq(zcp_builder_finish(b, a, s, &e), ZCP_OK, "%s", e.message);
  cr_assert_eq(zcp_builder_length(b), 0);
  check_layout(a, 64);
  cr_assert_eq(zcp_array_validate(a, s, ZCP_VALIDATE_FULL, &e), ZCP_OK, "%s", e.message);
  cr_assert_eq(zcp_array_view_init(a, s, v, &e), ZCP_OK, "%s", e.message);
}

static inline void done(struct ArrowArray *a, struct ArrowSchema *s,
                        struct zcp_array_view *v) {
  zcp_array_view_reset(v);
  zcp_array_release(a);
  zcp_schema_release(s);
}

static inline int32_t i32_at(const struct ArrowArray *a, int64_t buf, int64_t i) {
  int32_t v;
  memcpy(&v, (const uint8_t *)a->buffers[buf] + 4 * i, 4);
  return v;
}
static inline int64_t i64_at(const struct ArrowArray *a, int64_t buf, int64_t i) {
  int64_t v;
  memcpy(&v, (const uint8_t *)a->buffers[buf] + 8 * i, 8);
  return v;
}
static inline bool bit_at(const struct ArrowArray *a, int64_t buf, int64_t i) {
  return (((const uint8_t *)a->buffers[buf])[i / 8] >> (i % 8)) & 1;
}

#endif
