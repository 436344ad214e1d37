/* See bench.h. */
#define _GNU_SOURCE 1
#include "bench.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int64_t zcp_bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double zcp_bench_percentile(double *samples, int n, double p) {
  if (n <= 0) return 0;
  qsort(samples, (size_t)n, sizeof *samples, cmp_double);
  double idx = p / 100.0 * (n - 1);
  int lo = (int)idx;
  if (lo >= n - 1) return samples[n - 1];
  double frac = idx - lo;
  return samples[lo] * (1 - frac) + samples[lo + 1] * frac;
}

const char *zcp_bench_out_dir(void) {
  const char *dir = getenv("ZCP_BENCH_OUT");
  return dir != NULL ? dir : "bench/results";
}

FILE *zcp_bench_csv_open(const char *name, const char *header) {
  const char *dir = zcp_bench_out_dir();
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "bench: cannot create %s: %s\n", dir, strerror(errno));
    return NULL;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.csv", dir, name);
  struct stat st;
  int fresh = stat(path, &st) != 0 || st.st_size == 0;
  FILE *f = fopen(path, "a");
  if (f == NULL) {
    fprintf(stderr, "bench: cannot open %s: %s\n", path, strerror(errno));
    return NULL;
  }
  if (fresh) fprintf(f, "%s\n", header);
  return f;
}

void zcp_bench_sink(const void *p) {
  __asm__ volatile("" : : "r"(p) : "memory");
}

bool zcp_bench_plot(const char *name, const char *script) {
  if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
    fprintf(stderr, "bench: gnuplot not found, no %s.png\n", name);
    return false;
  }
  FILE *g = popen("gnuplot", "w");
  if (g == NULL) {
    fprintf(stderr, "bench: cannot run gnuplot: %s\n", strerror(errno));
    return false;
  }
  const char *dir = zcp_bench_out_dir();
  fprintf(g, "set terminal pngcairo size 900,560 font ',11'\nset output '%s/%s.png'\n",
          dir, name);
  fprintf(g, "dir = '%s'\n%s\n", dir, script);
  int st = pclose(g);
  if (st != 0) {
    fprintf(stderr, "bench: gnuplot failed for %s.png\n", name);
    return false;
  }
  printf("plot: %s/%s.png\n", dir, name);
  return true;
}
