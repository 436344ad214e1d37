/* Does opening a shared table cost O(columns), not O(rows)? (DESIGN §7.) A huge table of
 * four chunks with a nullable utf8 column and a list<int32> column, from 1 M to 100 M
 * rows, built in node 0's region and sealed (the values walked once there, at DEFAULT),
 * then imported with zcp_hugetable_import at DEFAULT, which relies on the seal's record,
 * and at FULL, which walks every value again: FULL is the baseline, measured in the same
 * run on the same table. The goal: DEFAULT flat within noise across the sizes.
 *
 * Each size is timed in alternation (DEFAULT, FULL), medians; the pages were touched
 * when the table was built. Usage: bench_open_rows [quick] [max_rows]
 * (ZCP_BENCH_QUICK=1: 10 k and 40 k rows). CSV and PNG: open_rows. */
#define _GNU_SOURCE 1
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cluster.h"
#include "zcpool/hugetable.h"

#define CHUNKS 4

/* Row r: "v<r>" (null when r % 11 == 5) and [r, r + 1, ...] of length r % 4. */
static zcp_status_t build_chunk(struct zcp_node *node, struct zcp_allocator *alloc,
                                const char *name, int64_t first, int64_t rows,
                                struct zcp_error *err) {
  struct ArrowSchema s;
  ZCP_RETURN_NOT_OK(zcp_schema_init("+s", "", 0, 2, &s, err));
  zcp_status_t st = zcp_schema_set_child(&s, 0, "u", "s", ARROW_FLAG_NULLABLE, 0, err);
  if (st == ZCP_OK) st = zcp_schema_set_child(&s, 1, "+l", "l", 0, 1, err);
  if (st == ZCP_OK) st = zcp_schema_set_child(s.children[1], 0, "i", "item", 0, 0, err);
  struct zcp_builder *b = NULL;
  if (st == ZCP_OK) st = zcp_builder_init(&s, alloc, &b, err);
  struct zcp_builder *str = st == ZCP_OK ? zcp_builder_child(b, 0) : NULL;
  struct zcp_builder *list = st == ZCP_OK ? zcp_builder_child(b, 1) : NULL;
  struct zcp_builder *item = st == ZCP_OK ? zcp_builder_child(list, 0) : NULL;
  char text[32];
  for (int64_t r = first; r < first + rows && st == ZCP_OK; r++) {
    if (r % 11 == 5) {
      st = zcp_builder_append_null(str, 1);
    } else {
      snprintf(text, sizeof text, "v%" PRId64, r);
      st = zcp_builder_append_string(str, text);
    }
    for (int64_t k = 0; k < r % 4 && st == ZCP_OK; k++)
      st = zcp_builder_append_int(item, r + k);
    if (st == ZCP_OK) st = zcp_builder_finish_element(list);
    if (st == ZCP_OK) st = zcp_builder_finish_element(b);
  }
  struct ArrowArray batch = {0};
  if (st == ZCP_OK) st = zcp_builder_finish(b, &batch, NULL, err);
  else if (b != NULL) zcp_error_set(err, st, "%s", zcp_builder_last_error(b));
  zcp_builder_release(b);
  if (st == ZCP_OK) st = zcp_hugetable_add_chunk(node, name, first, &s, &batch, err);
  if (batch.release != NULL) batch.release(&batch);
  if (s.release != NULL) s.release(&s);
  return st;
}

/* Median import time (ms) at each level, alternating. */
static bool time_opens(struct zcp_node *node, const char *name, int64_t rows, int reps,
                       double *def_ms, double *full_ms, struct zcp_error *err) {
  double d[32], f[32];
  for (int r = 0; r < reps; r++) {
    for (int k = 0; k < 2; k++) {
      enum zcp_validate_level level = k == 0 ? ZCP_VALIDATE_DEFAULT : ZCP_VALIDATE_FULL;
      struct zcp_table *t = NULL;
      int64_t t0 = zcp_bench_now_ns();
      zcp_status_t st = zcp_hugetable_import(node, name, level, 10000, &t, err);
      int64_t t1 = zcp_bench_now_ns();
      if (st != ZCP_OK) return false;
      bool whole = zcp_table_num_rows(t) == rows;
      zcp_table_release(t);
      if (!whole) {
        zcp_error_set(err, ZCP_CORRUPT_INPUT, "table '%s' has the wrong rows", name);
        return false;
      }
      (k == 0 ? d : f)[r] = (double)(t1 - t0) / 1e6;
    }
  }
  *def_ms = zcp_bench_percentile(d, reps, 50);
  *full_ms = zcp_bench_percentile(f, reps, 50);
  return true;
}

int main(int argc, char **argv) {
  bool quick = zcp_bench_quick(argc, argv);
  int64_t max_rows = 100000000;
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "quick") != 0) max_rows = strtoll(argv[i], NULL, 10);
  const int64_t all[] = {1000000, 3000000, 10000000, 30000000, 100000000};
  const int64_t small[] = {10000, 40000};
  const int64_t *sizes = quick ? small : all;
  int n_sizes = quick ? 2 : 5;
  while (!quick && n_sizes > 1 && sizes[n_sizes - 1] > max_rows) n_sizes--;
  const int reps = quick ? 3 : 7;
  int64_t largest = sizes[n_sizes - 1];
  struct zcp_bench_cluster c;
  struct zcp_bench_cluster_options o = {.n_nodes = 1};
  o.region_size[0] = largest * 40 + (64 << 20); /* ~24 bytes a row, and slack */
  if (!zcp_bench_cluster_start(&c, "open", &o, NULL, NULL)) return 1;
  struct zcp_error err = {0};
  struct zcp_allocator *alloc = NULL;
  bool ok = zcp_node_allocator(c.node, 0, &alloc, &err) == ZCP_OK;
  FILE *csv = zcp_bench_csv_open("open_rows", "rows,chunks,reps,default_ms,full_ms,build_s");
  printf("importing a huge table (utf8 with nulls, list<int32>; %d chunks), load %.2f\n",
         CHUNKS, zcp_bench_load());
  printf("%12s %12s %12s %12s\n", "rows", "DEFAULT ms", "FULL ms", "FULL/DEFAULT");
  for (int i = 0; i < n_sizes && ok; i++) {
    int64_t rows = sizes[i];
    char name[32];
    snprintf(name, sizeof name, "open%" PRId64, rows);
    int64_t t0 = zcp_bench_now_ns();
    for (int k = 0; k < CHUNKS && ok; k++)
      ok = build_chunk(c.node, alloc, name, rows / CHUNKS * k,
                       k == CHUNKS - 1 ? rows - rows / CHUNKS * k : rows / CHUNKS,
                       &err) == ZCP_OK;
    ok = ok && zcp_hugetable_commit(c.node, name, rows, 10000, &err) == ZCP_OK;
    double build_s = (double)(zcp_bench_now_ns() - t0) / 1e9;
    double def = 0, full = 0;
    ok = ok && time_opens(c.node, name, rows, reps, &def, &full, &err);
    if (ok) {
      printf("%12" PRId64 " %12.3f %12.3f %12.1f\n", rows, def, full, full / def);
      if (csv != NULL)
        fprintf(csv, "%" PRId64 ",%d,%d,%.4f,%.4f,%.2f\n", rows, CHUNKS, reps, def, full,
                build_s);
    }
    ok = ok && zcp_hugetable_drop(c.node, name, 10000, &err) == ZCP_OK;
  }
  if (csv != NULL) fclose(csv);
  if (!ok) fprintf(stderr, "bench_open_rows: %s\n", err.message);
  zcp_bench_cluster_stop(&c);
  if (!ok) return 1;
  if (!quick)
    zcp_bench_plot("open_rows",
                   "set title 'Opening a shared table: DEFAULT relies on the seal, FULL "
                   "walks'\n"
                   "set xlabel 'rows'; set ylabel 'import time (ms)'\n"
                   "set logscale xy; set key top left; set datafile separator ','\n"
                   "plot dir.'/open_rows.csv' using 1:4 skip 1 with linespoints title "
                   "'DEFAULT (values checked at seal)', "
                   "'' using 1:5 skip 1 with linespoints title 'FULL (walks every value)'\n");
  return 0;
}
