/* What does zcp_cache_flush add to the flush instruction itself?
 *
 * Flushes a 1 GiB buffer (size from ZCP_BENCH_BYTES) with zcp_cache_flush and with a
 * bare loop of the same instruction (the one chosen at start-up: clflushopt or clflush
 * on x86-64, dcbf on POWER, dc civac on Arm), each followed by one fence, in the same
 * run and interleaved. Two cases: "touched" (every line written just before, so the
 * last part of the buffer is dirty in the caches) and "untouched" (flushed just before,
 * so nothing is cached). Also zcp_cache_writeback against its bare loop. Prints the
 * median time, GB/s and the ratios zcp / bare of the medians and of the best runs (the
 * goal is < 1.10; on a shared machine the best runs are the steadier figure); appends a
 * row per case to bench/results/fabric_flush.csv. */
#define _GNU_SOURCE 1 /* MAP_ANONYMOUS */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"
#include "zcpool/fabric.h"

#define REPS 15

static uint8_t *buf;
static int64_t bytes;

/* The bare loops: exactly the instruction the library chose, nothing around it. */
#if defined(__x86_64__)
static void bare(const char *method, uintptr_t s, uintptr_t e) {
  if (strcmp(method, "clflushopt") == 0) {
    for (uintptr_t p = s; p < e; p += 64) {
      __asm__ volatile("clflushopt %0" : "+m"(*(volatile char *)p));
    }
  } else if (strcmp(method, "clwb") == 0) {
    for (uintptr_t p = s; p < e; p += 64) {
      __asm__ volatile("clwb %0" : "+m"(*(volatile char *)p));
    }
  } else {
    for (uintptr_t p = s; p < e; p += 64) {
      __asm__ volatile("clflush %0" : "+m"(*(volatile char *)p));
    }
  }
  __asm__ volatile("mfence" ::: "memory");
}
#elif defined(__powerpc64__)
static void bare(const char *method, uintptr_t s, uintptr_t e) {
  if (strcmp(method, "dcbst") == 0) {
    for (uintptr_t p = s; p < e; p += 128)
      __asm__ volatile("dcbst 0,%0" : : "r"(p) : "memory");
  } else {
    for (uintptr_t p = s; p < e; p += 128)
      __asm__ volatile("dcbf 0,%0,0" : : "r"(p) : "memory");
  }
  __asm__ volatile("sync" ::: "memory");
}
#elif defined(__aarch64__)
static void bare(const char *method, uintptr_t s, uintptr_t e) {
  uintptr_t line = (uintptr_t)zcp_cache_line_size();
  if (strcmp(method, "dc cvac") == 0) {
    for (uintptr_t p = s; p < e; p += line)
      __asm__ volatile("dc cvac, %0" : : "r"(p) : "memory");
  } else {
    for (uintptr_t p = s; p < e; p += line)
      __asm__ volatile("dc civac, %0" : : "r"(p) : "memory");
  }
  __asm__ volatile("dsb sy" ::: "memory");
}
#else
#error "no bare flush loop for this architecture"
#endif

static void touch(void) {
  for (int64_t i = 0; i < bytes; i += 64) buf[i]++;
}

static double timed_bare(const char *method) {
  int64_t t0 = zcp_bench_now_ns();
  bare(method, (uintptr_t)buf, (uintptr_t)buf + (uintptr_t)bytes);
  return (double)(zcp_bench_now_ns() - t0);
}

static double timed_zcp(int writeback) {
  int64_t t0 = zcp_bench_now_ns();
  if (writeback) {
    zcp_cache_writeback(buf, bytes);
  } else {
    zcp_cache_flush(buf, bytes);
  }
  zcp_cache_fence();
  return (double)(zcp_bench_now_ns() - t0);
}

static void run_case(FILE *csv, const char *op, const char *method, int writeback,
                     int touched) {
  double b[REPS], z[REPS];
  for (int r = 0; r < REPS; r++) {
    /* Interleaved, in alternating order, and each side prepared the same way, so that
     * drift and the neighbours on a shared machine hit both alike. */
    for (int side = 0; side < 2; side++) {
      int zcp = (side + r) % 2;
      if (touched) {
        touch();
      } else {
        timed_bare(method);
      }
      if (zcp) {
        z[r] = timed_zcp(writeback);
      } else {
        b[r] = timed_bare(method);
      }
    }
  }
  double bm = zcp_bench_percentile(b, REPS, 50), zm = zcp_bench_percentile(z, REPS, 50);
  double bmin = zcp_bench_percentile(b, REPS, 0), zmin = zcp_bench_percentile(z, REPS, 0);
  double gb = (double)bytes / 1e9;
  printf(
      "%-9s %-9s %-10s bare %7.1f ms %6.2f GB/s  zcp %7.1f ms %6.2f GB/s  "
      "ratio median %.3f best %.3f\n",
      op, touched ? "touched" : "untouched", method, bm / 1e6, gb / (bm / 1e9), zm / 1e6,
      gb / (zm / 1e9), zm / bm, zmin / bmin);
  if (csv != NULL) {
    fprintf(csv, "%s,%s,%s,%" PRId64 ",%d,%.0f,%.0f,%.4f,%.0f,%.0f,%.4f\n", op,
            touched ? "touched" : "untouched", method, bytes, REPS, bm, zm, zm / bm, bmin,
            zmin, zmin / bmin);
  }
}

int main(void) {
  const char *env = getenv("ZCP_BENCH_BYTES");
  bytes = env != NULL ? strtoll(env, NULL, 0) : (int64_t)1 << 30;
  if (bytes < 4096) bytes = 4096;
  buf = mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
             0);
  if (buf == MAP_FAILED) {
    fprintf(stderr, "bench: cannot map %" PRId64 " bytes\n", bytes);
    return 1;
  }
  memset(buf, 1, (size_t)bytes); /* page faults out of the way */
  printf("fabric_flush: %" PRId64 " MiB, line %" PRId64 " B, flush %s, write-back %s\n",
         bytes >> 20, zcp_cache_line_size(), zcp_cache_flush_method(),
         zcp_cache_writeback_method());
  FILE *csv = zcp_bench_csv_open("fabric_flush",
                                 "op,case,method,bytes,reps,bare_ns_median,zcp_ns_median,"
                                 "ratio_median,bare_ns_min,zcp_ns_min,ratio_min");
  run_case(csv, "flush", zcp_cache_flush_method(), 0, 1);
  run_case(csv, "flush", zcp_cache_flush_method(), 0, 0);
  run_case(csv, "writeback", zcp_cache_writeback_method(), 1, 1);
  run_case(csv, "writeback", zcp_cache_writeback_method(), 1, 0);
  struct zcp_cache_stats s;
  zcp_cache_stats_get(&s);
  printf("counters: %" PRId64 " lines flushed, %" PRId64 " written back, %" PRId64
         " fences\n",
         s.lines_flushed, s.lines_written_back, s.fences);
  if (csv != NULL) fclose(csv);
  zcp_bench_sink(buf);
  munmap(buf, (size_t)bytes);
  return 0;
}
