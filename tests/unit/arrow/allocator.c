/* Tests of src/arrow/allocator.c: the default heap allocator's alignment, its live-byte
 * counter (exact, and correct under concurrent use) and reallocation of small and big
 * (mapped) blocks, including growing across the boundary between them. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "zcpool/arrow.h"

/* The interface's calls as pointers (NULL on failure), for the checks of contents and
 * alignment below; the statuses have tests of their own. */
static void *get(struct zcp_allocator *a, int64_t size, int64_t alignment) {
  void *p = NULL;
  return a->allocate(a, size, alignment, &p, NULL) == ZCP_OK ? p : NULL;
}
static void *grow(struct zcp_allocator *a, void *ptr, int64_t old_size, int64_t new_size,
                  int64_t alignment) {
  void *p = NULL;
  return a->reallocate(a, ptr, old_size, new_size, alignment, &p, NULL) == ZCP_OK ? p
                                                                                  : NULL;
}

Test(allocator, default_is_aligned_and_counts_live_bytes) {
  struct zcp_allocator *a = zcp_allocator_default();
  cr_assert_eq(a->alignment, 64);
  int64_t before = zcp_allocator_default_live_bytes();
  int64_t sizes[] = {0, 1, 63, 64, 65, 1000, 1 << 20, (1 << 20) + 1, 5 << 20};
  void *p[9];
  int64_t total = 0;
  for (int i = 0; i < 9; i++) {
    p[i] = get(a, sizes[i], 64);
    cr_assert_not_null(p[i]);
    cr_assert_eq((uintptr_t)p[i] % 64, 0, "size %lld", (long long)sizes[i]);
    memset(p[i], 1, (size_t)sizes[i]);
    total += sizes[i];
  }
  cr_assert_eq(zcp_allocator_default_live_bytes() - before, total);
  for (int i = 0; i < 9; i++) a->free(a, p[i], sizes[i]);
  cr_assert_eq(zcp_allocator_default_live_bytes(), before);
  void *q = get(a, 100, 4096);
  cr_assert_eq((uintptr_t)q % 4096, 0);
  a->free(a, q, 100);
  q = get(a, 3 << 20, 1 << 16);
  cr_assert_eq((uintptr_t)q % (1 << 16), 0, "big block with a large alignment");
  memset(q, 2, 3 << 20);
  a->free(a, q, 3 << 20);
  struct zcp_error err = {0};
  void *none = (void *)1;
  cr_assert_eq(a->allocate(a, 64, 48, &none, &err), ZCP_INVALID_ARGUMENT,
               "alignment must be a power of two");
  cr_assert_null(none);
  cr_assert(strstr(err.message, "alignment 48") != NULL, "%s", err.message);
  cr_assert_eq(a->allocate(a, -1, 64, &none, &err), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(err.message, "-1 bytes") != NULL, "%s", err.message);
  cr_assert_eq(zcp_allocator_default_live_bytes(), before);
}

Test(allocator, reallocate_keeps_contents_across_sizes) {
  struct zcp_allocator *a = zcp_allocator_default();
  int64_t before = zcp_allocator_default_live_bytes();
  int64_t sizes[] = {64, 4096, 512 << 10, 2 << 20, 16 << 20, 3 << 20, 1000, 64};
  int64_t size = 64;
  uint8_t *p = get(a, size, 128);
  for (int64_t k = 0; k < size; k++) p[k] = (uint8_t)(k * 7);
  for (int i = 1; i < 8; i++) {
    int64_t next = sizes[i];
    uint8_t *q = grow(a, p, size, next, 128);
    cr_assert_not_null(q);
    cr_assert_eq((uintptr_t)q % 128, 0);
    int64_t keep = size < next ? size : next;
    for (int64_t k = 0; k < keep; k += 997) {
      cr_assert_eq(q[k], (uint8_t)(k * 7), "step %d byte %lld", i, (long long)k);
    }
    for (int64_t k = keep; k < next; k++) q[k] = (uint8_t)(k * 7);
    cr_assert_eq(zcp_allocator_default_live_bytes() - before, next);
    p = q;
    size = next;
  }
  a->free(a, p, size);
  cr_assert_eq(zcp_allocator_default_live_bytes(), before);
}

static void *churn(void *arg) {
  struct zcp_allocator *a = zcp_allocator_default();
  for (int i = 0; i < 2000; i++) {
    int64_t n = 64 + (i % 50) * 64;
    void *p = get(a, n, 64);
    if (p == NULL) return arg;
    p = grow(a, p, n, 2 * n, 64);
    if (p == NULL) return arg;
    a->free(a, p, 2 * n);
  }
  return NULL;
}

Test(allocator, live_bytes_are_exact_under_threads) {
  int64_t before = zcp_allocator_default_live_bytes();
  pthread_t t[4];
  for (int i = 0; i < 4; i++) cr_assert_eq(pthread_create(&t[i], NULL, churn, NULL), 0);
  for (int i = 0; i < 4; i++) {
    void *r;
    pthread_join(t[i], &r);
    cr_assert_null(r);
  }
  cr_assert_eq(zcp_allocator_default_live_bytes(), before);
}
