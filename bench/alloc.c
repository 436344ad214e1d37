/* How fast is the owner's local allocation path, and what does building a column in a
 * pool cost compared with the heap?
 *
 * 1. Local allocate + free (zcp_pool_alloc / zcp_pool_free) against glibc malloc/free of
 *    the same sizes in the same run, two patterns: "pair" (free right after allocate) and
 *    "churn" (1024 live blocks, each step frees a random one and allocates a new one).
 *    Times are per allocate+free, measured over batches of 64, median and p99 of the
 *    batches. The pool clears every block it hands out (DESIGN §4), malloc does not, so
 *    calloc/free is shown as well. Goal: within 2x of malloc, under 200 ns.
 * 2. A 1 GiB int64 column built with zcp_builder through the pool allocator (the range is
 *    a 1.5 GiB anonymous mapping) against the same builder on the heap (NULL allocator).
 *
 * Usage: bench_alloc [quick]. CSV rows go to <results>/alloc.csv. */
#define _GNU_SOURCE 1
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"
#include "zcpool/zcpool.h"

#define BATCH 64
#define LIVE 1024

enum kind { KIND_POOL, KIND_MALLOC, KIND_CALLOC };
static const char *kind_name[] = {"pool", "malloc", "calloc"};

static struct zcp_pool *g_pool;

static inline void *do_alloc(enum kind k, size_t n) {
  void *p = NULL;
  switch (k) {
    case KIND_POOL:
      if (zcp_pool_alloc(g_pool, (int64_t)n, &p, NULL) != ZCP_OK) p = NULL;
      break;
    case KIND_MALLOC:
      p = malloc(n);
      break;
    case KIND_CALLOC:
      p = calloc(1, n);
      break;
  }
  if (p == NULL) {
    fprintf(stderr, "bench_alloc: %s of %zu bytes failed\n", kind_name[k], n);
    exit(1);
  }
  return p;
}

static inline void do_free(enum kind k, void *p) {
  if (k == KIND_POOL) {
    if (zcp_pool_free(g_pool, p, NULL) != ZCP_OK) {
      fprintf(stderr, "bench_alloc: pool free failed\n");
      exit(1);
    }
  } else {
    free(p);
  }
}

static uint64_t rng = 88172645463325252ull;
static inline uint64_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

/* Per-operation nanoseconds of `batches` batches into samples. */
static void run_pair(enum kind k, size_t size, double *samples, int batches) {
  for (int b = 0; b < batches; b++) {
    int64_t t0 = zcp_bench_now_ns();
    for (int i = 0; i < BATCH; i++) {
      void *p = do_alloc(k, size);
      zcp_bench_sink(p);
      do_free(k, p);
    }
    samples[b] = (double)(zcp_bench_now_ns() - t0) / BATCH;
  }
}

static void run_churn(enum kind k, size_t size, double *samples, int batches) {
  static void *live[LIVE];
  for (int i = 0; i < LIVE; i++) live[i] = do_alloc(k, size);
  for (int b = 0; b < batches; b++) {
    int64_t t0 = zcp_bench_now_ns();
    for (int i = 0; i < BATCH; i++) {
      uint64_t j = rnd() % LIVE;
      do_free(k, live[j]);
      /* sizes vary around `size` so that blocks of different classes interleave */
      live[j] = do_alloc(k, size / 2 + rnd() % (size + 1));
    }
    samples[b] = (double)(zcp_bench_now_ns() - t0) / BATCH;
  }
  for (int i = 0; i < LIVE; i++) do_free(k, live[i]);
}

static void latency(FILE *csv, int batches) {
  static const size_t sizes[] = {16, 64, 128, 256, 1024, 4096, 65536};
  double *s = malloc(sizeof(double) * (size_t)batches);
  printf("== local allocate+free, ns per pair (median / p99 over batches of %d)\n",
         BATCH);
  printf("%-6s %7s  %17s %17s %17s  %11s %11s\n", "kind", "bytes", "pool", "malloc",
         "calloc", "pool/malloc", "pool/calloc");
  for (int pattern = 0; pattern < 2; pattern++) {
    const char *pname = pattern ? "churn" : "pair";
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
      double med[3], p99[3];
      for (int k = 0; k < 3; k++) {
        /* warm up, then measure */
        if (pattern)
          run_churn((enum kind)k, sizes[i], s, batches / 10 + 1);
        else
          run_pair((enum kind)k, sizes[i], s, batches / 10 + 1);
        if (pattern)
          run_churn((enum kind)k, sizes[i], s, batches);
        else
          run_pair((enum kind)k, sizes[i], s, batches);
        med[k] = zcp_bench_percentile(s, batches, 50);
        p99[k] = zcp_bench_percentile(s, batches, 99);
        if (csv) {
          fprintf(csv, "latency_%s,%s,%zu,%.1f,%.1f\n", pname, kind_name[k], sizes[i],
                  med[k], p99[k]);
        }
      }
      printf("%-6s %7zu  %7.1f / %7.1f %7.1f / %7.1f %7.1f / %7.1f  %11.2f %11.2f\n",
             pname, sizes[i], med[0], p99[0], med[1], p99[1], med[2], p99[2],
             med[0] / med[1], med[0] / med[2]);
    }
  }
  free(s);
}

/* Builds an int64 column of `bytes` bytes with bulk appends; returns seconds. */
static double build_column(struct zcp_allocator *alloc, int64_t bytes) {
  struct ArrowSchema schema;
  struct zcp_error err = {0};
  struct zcp_builder *b = NULL;
  if (zcp_schema_init("l", "v", 0, 0, &schema, &err) != ZCP_OK ||
      zcp_builder_init(&schema, alloc, &b, &err) != ZCP_OK) {
    fprintf(stderr, "bench_alloc: %s\n", err.message);
    exit(1);
  }
  enum { CHUNK = 1 << 16 };
  static int64_t chunk[CHUNK];
  for (int64_t i = 0; i < CHUNK; i++) chunk[i] = i * 7;
  int64_t n = bytes / 8;
  int64_t t0 = zcp_bench_now_ns();
  for (int64_t done = 0; done < n; done += CHUNK) {
    if (zcp_builder_append_values(b, chunk, NULL, CHUNK) != ZCP_OK) {
      fprintf(stderr, "bench_alloc: append failed at row %lld\n", (long long)done);
      exit(1);
    }
  }
  struct ArrowArray array;
  if (zcp_builder_finish(b, &array, NULL, &err) != ZCP_OK) {
    fprintf(stderr, "bench_alloc: %s\n", err.message);
    exit(1);
  }
  double secs = (double)(zcp_bench_now_ns() - t0) / 1e9;
  zcp_bench_sink(array.buffers[1]);
  array.release(&array);
  zcp_builder_release(b);
  zcp_schema_release(&schema);
  return secs;
}

static void column(FILE *csv, int64_t bytes) {
  int64_t range = bytes + bytes / 2;
  printf("\n== building a %lld MiB int64 column (bulk appends of 64 Ki values)\n",
         (long long)(bytes >> 20));
  double heap = 1e30, pool = 1e30;
  for (int rep = 0; rep < 3; rep++) {
    double h = build_column(NULL, bytes);
    if (h < heap) heap = h;
    /* A fresh mapping each time, so both sides pay their page faults. */
    void *mem = mmap(NULL, (size_t)range, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) {
      perror("bench_alloc: mmap");
      exit(1);
    }
    struct zcp_pool_options o;
    zcp_pool_options_init(&o);
    o.range_is_zero = true; /* a fresh anonymous mapping */
    struct zcp_pool *p;
    struct zcp_error err = {0};
    if (zcp_pool_init(mem, range, &o, &p, &err) != ZCP_OK) {
      fprintf(stderr, "bench_alloc: %s\n", err.message);
      exit(1);
    }
    double q = build_column(zcp_pool_allocator(p), bytes);
    if (q < pool) pool = q;
    zcp_pool_release(p);
    munmap(mem, (size_t)range);
  }
  double gib = (double)bytes / (1 << 30);
  printf("heap: %.3f s (%.2f GiB/s)   pool: %.3f s (%.2f GiB/s)   pool/heap: %.2f\n",
         heap, gib / heap, pool, gib / pool, pool / heap);
  if (csv) {
    fprintf(csv, "column,heap,%lld,%.4f,\n", (long long)bytes, heap);
    fprintf(csv, "column,pool,%lld,%.4f,\n", (long long)bytes, pool);
  }
}

int main(int argc, char **argv) {
  bool quick = argc > 1 && strcmp(argv[1], "quick") == 0;
  static uint8_t *range;
  const int64_t range_size = 256 << 20;
  range = aligned_alloc(4096, (size_t)range_size);
  memset(range, 0,
         (size_t)range_size); /* fault it in: we time the allocator, not the OS */
  struct zcp_error err = {0};
  /* Like a region: its first page holds the region header (DESIGN §3), the pool gets
   * the rest. */
  if (zcp_pool_init(range + 4096, range_size - 4096, NULL, &g_pool, &err) != ZCP_OK) {
    fprintf(stderr, "bench_alloc: %s\n", err.message);
    return 1;
  }
  FILE *csv = zcp_bench_csv_open("alloc", "test,kind,bytes,median_ns_or_s,p99_ns");
  latency(csv, quick ? 2000 : 20000);
  zcp_pool_release(g_pool);
  free(range);
  column(csv, quick ? (int64_t)64 << 20 : (int64_t)1 << 30);
  if (csv) fclose(csv);
  return 0;
}
