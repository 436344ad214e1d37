/* How close does building an Arrow column come to plain memory copying?
 *
 * Appends a 1 GiB int64 column (size from ZCP_BENCH_BYTES) to a fresh builder and
 * finishes it, three ways — one bulk append into a reserved builder, bulk appends of 1 Mi
 * values into a growing builder, and one zcp_builder_append_int per value — next to the
 * baseline of the same run: allocating a fresh buffer and memcpy'ing the same bytes into
 * it (page faults included on both sides), and memcpy into already-touched memory.
 * Prints GB/s and each figure's ratio to the baseline; appends a row per method to
 * bench/results/builder_append.csv. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "zcpool/arrow.h"

#define REPS 7

static int64_t n_values;
static int64_t *src;

static void check(zcp_status_t st, struct zcp_error *err) {
  if (st != ZCP_OK) {
    fprintf(stderr, "bench: %s (%s)\n", err->message, zcp_status_str(st));
    exit(1);
  }
}

static struct zcp_builder *new_builder(void) {
  struct ArrowSchema s;
  struct zcp_error err = {0};
  struct zcp_builder *b;
  check(zcp_schema_init("l", "v", 0, 0, &s, &err), &err);
  check(zcp_builder_init(&s, NULL, &b, &err), &err);
  zcp_schema_release(&s);
  return b;
}

static void finish_and_check(struct zcp_builder *b) {
  struct ArrowArray a;
  struct zcp_error err = {0};
  check(zcp_builder_finish(b, &a, NULL, &err), &err);
  const int64_t *v = a.buffers[1];
  if (a.length != n_values || v[n_values - 1] != src[n_values - 1] || v[0] != src[0]) {
    fprintf(stderr, "bench: built column is wrong\n");
    exit(1);
  }
  zcp_bench_sink(v);
  a.release(&a);
  zcp_builder_release(b);
}

static double run_memcpy_fresh(void) {
  int64_t t0 = zcp_bench_now_ns();
  int64_t *dst = aligned_alloc(64, (size_t)n_values * 8);
  memcpy(dst, src, (size_t)n_values * 8);
  zcp_bench_sink(dst);
  free(dst);
  return (double)(zcp_bench_now_ns() - t0);
}

static int64_t *touched;
static double run_memcpy_touched(void) {
  int64_t t0 = zcp_bench_now_ns();
  memcpy(touched, src, (size_t)n_values * 8);
  zcp_bench_sink(touched);
  return (double)(zcp_bench_now_ns() - t0);
}

static double run_bulk_reserved(void) {
  struct zcp_error err = {0};
  int64_t t0 = zcp_bench_now_ns();
  struct zcp_builder *b = new_builder();
  check(zcp_builder_reserve(b, n_values, 0), &err);
  check(zcp_builder_append_values(b, src, NULL, n_values), &err);
  finish_and_check(b);
  return (double)(zcp_bench_now_ns() - t0);
}

static double run_bulk_growing(void) {
  struct zcp_error err = {0};
  const int64_t chunk = 1 << 20;
  int64_t t0 = zcp_bench_now_ns();
  struct zcp_builder *b = new_builder();
  for (int64_t i = 0; i < n_values; i += chunk) {
    int64_t n = n_values - i < chunk ? n_values - i : chunk;
    check(zcp_builder_append_values(b, src + i, NULL, n), &err);
  }
  finish_and_check(b);
  return (double)(zcp_bench_now_ns() - t0);
}

static double run_single(void) {
  struct zcp_error err = {0};
  int64_t t0 = zcp_bench_now_ns();
  struct zcp_builder *b = new_builder();
  for (int64_t i = 0; i < n_values; i++) check(zcp_builder_append_int(b, src[i]), &err);
  finish_and_check(b);
  return (double)(zcp_bench_now_ns() - t0);
}

int main(void) {
  int64_t bytes = 1LL << 30;
  const char *env = getenv("ZCP_BENCH_BYTES");
  if (env != NULL) bytes = strtoll(env, NULL, 10);
  n_values = bytes / 8;
  src = aligned_alloc(64, (size_t)n_values * 8);
  touched = aligned_alloc(64, (size_t)n_values * 8);
  if (src == NULL || touched == NULL) {
    fprintf(stderr, "bench: cannot allocate 2 x %" PRId64 " bytes\n", bytes);
    return 1;
  }
  for (int64_t i = 0; i < n_values; i++) src[i] = i * 2654435761LL;
  memset(touched, 1, (size_t)n_values * 8);

  struct {
    const char *name;
    double (*run)(void);
    double median;
  } methods[] = {
      {"memcpy into fresh buffer (baseline)", run_memcpy_fresh, 0},
      {"memcpy into touched buffer", run_memcpy_touched, 0},
      {"builder bulk append, reserved", run_bulk_reserved, 0},
      {"builder bulk append, 1 Mi chunks, growing", run_bulk_growing, 0},
      {"builder append_int per value", run_single, 0},
  };
  int n_methods = (int)(sizeof methods / sizeof methods[0]);
    /* Interleave methods across repetitions, and rotate which goes first, so that drift
   * and the after-effects of one method on the next hit all of them alike. */
  double all[8][REPS];
  if (n_methods > 8) return 1;
  for (int r = 0; r < REPS; r++) {
    for (int k = 0; k < n_methods; k++) {
      int m = (r + k) % n_methods;
      all[m][r] = methods[m].run();
    }
  }
  FILE *csv = zcp_bench_csv_open("builder_append",
                                 "method,bytes,median_s,gb_per_s,ratio_to_memcpy_fresh");
  printf("appending %" PRId64 " int64 values (%.2f GiB), median of %d runs\n", n_values,
         (double)bytes / (1 << 30), REPS);
  printf("%-44s %10s %10s %8s\n", "method", "seconds", "GB/s", "ratio");
  for (int m = 0; m < n_methods; m++) {
    methods[m].median = zcp_bench_percentile(all[m], REPS, 50) / 1e9;
  }
  for (int m = 0; m < n_methods; m++) {
    double gbs = (double)bytes / methods[m].median / 1e9;
    double ratio = methods[0].median / methods[m].median;
    printf("%-44s %10.4f %10.2f %7.2fx\n", methods[m].name, methods[m].median, gbs, ratio);
    if (csv != NULL) {
      fprintf(csv, "\"%s\",%" PRId64 ",%.6f,%.3f,%.3f\n", methods[m].name, bytes,
              methods[m].median, gbs, ratio);
    }
  }
  if (csv != NULL) fclose(csv);
  printf("(ratio = baseline time / method time: 1.00x is memcpy speed)\n");
  free(src);
  free(touched);
  return 0;
}
