/* Shared helpers of the benchmark programs: a monotonic clock, summary statistics and
 * CSV output. Every benchmark measures its baseline in the same run and prints ratios. */
#ifndef ZCP_BENCH_H
#define ZCP_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Monotonic time in nanoseconds. */
int64_t zcp_bench_now_ns(void);
/* Sorts samples in place and returns the p-th percentile (0..100). */
double zcp_bench_percentile(double *samples, int n, double p);
/* Opens bench/results/<name>.csv (directory from ZCP_BENCH_OUT, else bench/results),
 * writing the header line when the file is new. Returns NULL (with a message) on error.
 */
FILE *zcp_bench_csv_open(const char *name, const char *header);
/* Draws <results>/<name>.png with gnuplot (when it is installed): `script` is run after
 * the terminal and output are set, with the variable `dir` holding the results
 * directory. Returns false (and says why) when no PNG was drawn. */
bool zcp_bench_plot(const char *name, const char *script);
/* The results directory (ZCP_BENCH_OUT, else bench/results). */
const char *zcp_bench_out_dir(void);
/* Keeps the compiler from discarding a computed value. */
void zcp_bench_sink(const void *p);

#endif
