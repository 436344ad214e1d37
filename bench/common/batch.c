/* See batch.h. */
#include "batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct zcp_bench_columns zcp_bench_thesis_columns = {
    3, {"l", "c", "S"}, {"a_int64", "b_int8", "c_uint16"}, {8, 1, 2}};

bool zcp_bench_schema(const struct zcp_bench_columns *cols, struct ArrowSchema *out) {
  struct zcp_error err = {0};
  if (zcp_schema_init("+s", NULL, 0, cols->n, out, &err) != ZCP_OK) {
    fprintf(stderr, "bench: schema: %s\n", err.message);
    return false;
  }
  for (int i = 0; i < cols->n; i++)
    if (zcp_schema_set_format(out->children[i], cols->format[i]) != ZCP_OK ||
        zcp_schema_set_name(out->children[i], cols->name[i]) != ZCP_OK) {
      fprintf(stderr, "bench: schema: column %d\n", i);
      zcp_schema_release(out);
      return false;
    }
  return true;
}

/* Everything one hand-made batch owns, in one allocation. */
struct owned {
  struct zcp_allocator *alloc;
  int n;
  int64_t size[ZCP_BENCH_MAX_COLUMNS];
  void *data[ZCP_BENCH_MAX_COLUMNS];
  struct ArrowArray child[ZCP_BENCH_MAX_COLUMNS];
  struct ArrowArray *children[ZCP_BENCH_MAX_COLUMNS];
  const void *buffers[ZCP_BENCH_MAX_COLUMNS][2];
  const void *top_buffers[1];
};

static void release_child(struct ArrowArray *a) {
  a->release = NULL;
}

static void release_batch(struct ArrowArray *a) {
  struct owned *o = a->private_data;
  if (o->alloc != NULL)
    for (int i = 0; i < o->n; i++)
      if (o->data[i] != NULL) o->alloc->free(o->alloc, o->data[i], o->size[i]);
  free(o);
  a->release = NULL;
}

bool zcp_bench_batch_wrap(const struct zcp_bench_columns *cols, int64_t rows,
                          void *const *data, struct zcp_allocator *alloc,
                          struct ArrowArray *out) {
  struct owned *o = calloc(1, sizeof *o);
  if (o == NULL) {
    fprintf(stderr, "bench: batch: out of memory\n");
    return false;
  }
  o->alloc = alloc;
  o->n = cols->n;
  for (int i = 0; i < cols->n; i++) {
    o->size[i] = rows * cols->width[i];
    o->data[i] = data[i];
    o->buffers[i][0] = NULL;
    o->buffers[i][1] = data[i];
    o->child[i] = (struct ArrowArray){.length = rows,
                                      .n_buffers = 2,
                                      .buffers = o->buffers[i],
                                      .release = release_child};
    o->children[i] = &o->child[i];
  }
  *out = (struct ArrowArray){.length = rows,
                             .n_buffers = 1,
                             .n_children = cols->n,
                             .buffers = o->top_buffers,
                             .children = o->children,
                             .release = release_batch,
                             .private_data = o};
  return true;
}

bool zcp_bench_batch_make(const struct zcp_bench_columns *cols, int64_t rows,
                          struct zcp_allocator *alloc, struct ArrowArray *out) {
  void *data[ZCP_BENCH_MAX_COLUMNS] = {0};
  for (int i = 0; i < cols->n; i++) {
    int64_t size = rows * cols->width[i];
    struct zcp_error err = {0};
    if (alloc->allocate(alloc, size > 0 ? size : 1, alloc->alignment, &data[i], &err) !=
        ZCP_OK) {
      fprintf(stderr, "bench: cannot allocate %lld bytes for column %d: %s\n",
              (long long)size, i, err.message);
      for (int j = 0; j < i; j++) alloc->free(alloc, data[j], rows * cols->width[j]);
      return false;
    }
    switch (cols->width[i]) {
      case 1:
        for (int64_t r = 0; r < rows; r++) ((uint8_t *)data[i])[r] = (uint8_t)r;
        break;
      case 2:
        for (int64_t r = 0; r < rows; r++) ((uint16_t *)data[i])[r] = (uint16_t)r;
        break;
      case 4:
        for (int64_t r = 0; r < rows; r++) ((uint32_t *)data[i])[r] = (uint32_t)r;
        break;
      default:
        for (int64_t r = 0; r < rows; r++) ((uint64_t *)data[i])[r] = (uint64_t)r;
        break;
    }
  }
  if (!zcp_bench_batch_wrap(cols, rows, data, alloc, out)) {
    for (int i = 0; i < cols->n; i++) alloc->free(alloc, data[i], rows * cols->width[i]);
    return false;
  }
  return true;
}

bool zcp_bench_batch_view(const struct zcp_bench_columns *cols,
                          const struct ArrowArray *src, int64_t first, int64_t rows,
                          struct ArrowArray *out) {
  void *data[ZCP_BENCH_MAX_COLUMNS] = {0};
  for (int i = 0; i < cols->n; i++)
    data[i] = (uint8_t *)src->children[i]->buffers[1] + first * cols->width[i];
  return zcp_bench_batch_wrap(cols, rows, data, NULL, out);
}
