/* Does a huge table read as fast as local memory? A table of one int64 column whose
 * chunks are built by 4 node processes, each in its own region (zcp_hugetable_add_chunk),
 * committed by node 0 and imported there (zcp_hugetable_import, DEFAULT validation);
 * node 0 then sums every value, chunk by chunk, in place. The baseline, in the same run:
 * the same sum, by the same function, over one local array of the same length.
 *
 * Both are warmed the same way (one untimed pass each: first touches on this VM cost
 * about 1 GB/s and would otherwise dominate), then timed in alternation; medians. The
 * goal is at least 90 % of the local speed.
 *
 * Usage: bench_hugetable_scan [quick]   (ZCP_BENCH_QUICK=1: 4 MiB). CSV:
 * hugetable_scan.csv */
#define _GNU_SOURCE 1
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "batch.h"
#include "bench.h"
#include "cluster.h"
#include "zcpool/hugetable.h"

#define NODES 4
static const struct zcp_bench_columns column = {1, {"l"}, {"x"}, {8}};
static const char *const table_name = "scan";

/* The measured loop, for both sides. */
__attribute__((noinline)) static int64_t sum(const int64_t *p, int64_t n) {
  int64_t s = 0;
  for (int64_t i = 0; i < n; i++) s += p[i];
  return s;
}

/* Builds rows [first, first + rows) (value = row number) in this node's region and adds
 * them as a chunk. */
static zcp_status_t add_chunk(struct zcp_node *node, int64_t first, int64_t rows,
                              struct zcp_error *err) {
  struct zcp_allocator *alloc = NULL;
  ZCP_RETURN_NOT_OK(zcp_node_allocator(node, zcp_node_id(node), &alloc, err));
  void *v = NULL;
  ZCP_RETURN_NOT_OK(alloc->allocate(alloc, rows * 8, alloc->alignment, &v, err));
  int64_t *p = v;
  for (int64_t i = 0; i < rows; i++) p[i] = first + i;
  struct ArrowSchema schema;
  struct ArrowArray batch;
  void *data[1] = {p};
  if (!zcp_bench_schema(&column, &schema)) {
    alloc->free(alloc, p, rows * 8);
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "schema");
  }
  if (!zcp_bench_batch_wrap(&column, rows, data, alloc, &batch)) {
    alloc->free(alloc, p, rows * 8);
    zcp_schema_release(&schema);
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "batch");
  }
  zcp_status_t st =
      zcp_hugetable_add_chunk(node, table_name, first, &schema, &batch, err);
  if (st != ZCP_OK) zcp_array_release(&batch);
  zcp_schema_release(&schema);
  return st;
}

/* Nodes 1..3: 'b' builds and adds rows [a, a + b). */
static void child(struct zcp_node *node, int in, int out, void *ctx) {
  struct zcp_bench_msg m;
  while (zcp_bench_msg_read(in, &m, ZCP_BENCH_CHILD_IDLE_MS) == 1 && m.op != 'q') {
    struct zcp_error err = {0};
    struct zcp_bench_msg a = {.op = 'a'};
    a.status = add_chunk(node, m.a, m.b, &err);
    if (a.status != ZCP_OK) snprintf(a.text, sizeof a.text, "%.150s", err.message);
    zcp_bench_msg_write(out, &a);
  }
}

static int64_t sum_table(const struct zcp_chunked_column *col) {
  int64_t s = 0;
  for (int64_t k = 0; k < col->n_chunks; k++) {
    const struct ArrowArray *a = col->chunks[k];
    s += sum((const int64_t *)a->buffers[1] + a->offset, a->length);
  }
  return s;
}

int main(int argc, char **argv) {
  bool quick = zcp_bench_quick(argc, argv);
  const int64_t total = quick ? ((int64_t)1 << 19) : ((int64_t)1 << 27);
  const int64_t chunk = total / NODES;
  const int reps = quick ? 3 : 11;
  struct zcp_bench_cluster c;
  struct zcp_bench_cluster_options o = {.n_nodes = NODES};
  for (int i = 0; i < NODES; i++) o.region_size[i] = chunk * 8 + (32 << 20);
  if (!zcp_bench_cluster_start(&c, "scan", &o, child, NULL)) return 1;
  struct zcp_error err = {0};
  bool ok = true;
  int64_t t0 = zcp_bench_now_ns();
  for (int i = 1; i < NODES && ok; i++) {
    struct zcp_bench_msg cmd = {.op = 'b', .a = i * chunk, .b = chunk};
    ok = zcp_bench_send(&c, i, &cmd);
  }
  ok = ok && add_chunk(c.node, 0, chunk, &err) == ZCP_OK;
  for (int i = 1; i < NODES && ok; i++) {
    struct zcp_bench_msg a;
    ok = zcp_bench_answer(&c, i, &a, 300000);
  }
  int64_t t1 = zcp_bench_now_ns();
  struct zcp_table *t = NULL;
  ok = ok && zcp_hugetable_commit(c.node, table_name, total, 60000, &err) == ZCP_OK;
  int64_t t2 = zcp_bench_now_ns();
  ok = ok && zcp_hugetable_import(c.node, table_name, ZCP_VALIDATE_DEFAULT, 60000, &t,
                                  &err) == ZCP_OK;
  int64_t t3 = zcp_bench_now_ns();
  struct zcp_chunked_column col;
  ok = ok && zcp_table_column(t, 0, &col, &err) == ZCP_OK;
  int64_t *local = MAP_FAILED;
  if (ok) {
    local = mmap(NULL, (size_t)(total * 8), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ok = local != MAP_FAILED;
    if (!ok) zcp_error_set(&err, ZCP_OUT_OF_MEMORY, "local array");
  }
  double tab_ns[32], loc_ns[32];
  const int64_t expect = total * (total - 1) / 2;
  if (ok) {
    for (int64_t i = 0; i < total; i++) local[i] = i;
    /* Warm-up: one pass each (the table's pages are mapped into this process). */
    ok = sum_table(&col) == expect && sum(local, total) == expect;
    if (!ok)
      zcp_error_set(&err, ZCP_CORRUPT_INPUT, "sums differ from %lld", (long long)expect);
  }
  for (int r = 0; r < reps && ok; r++) {
    int64_t a = zcp_bench_now_ns();
    int64_t s1 = sum_table(&col);
    int64_t b = zcp_bench_now_ns();
    int64_t s2 = sum(local, total);
    int64_t e = zcp_bench_now_ns();
    tab_ns[r] = (double)(b - a);
    loc_ns[r] = (double)(e - b);
    ok = s1 == expect && s2 == expect;
  }
  if (!ok) fprintf(stderr, "bench_hugetable_scan: %s\n", err.message);
  if (local != MAP_FAILED) munmap(local, (size_t)(total * 8));
  int64_t n_chunks = ok ? col.n_chunks : 0;
  zcp_table_release(t);
  zcp_bench_cluster_stop(&c);
  if (!ok) return 1;
  double tab = zcp_bench_percentile(tab_ns, reps, 50) / 1e6;
  double loc = zcp_bench_percentile(loc_ns, reps, 50) / 1e6;
  double gb = (double)total * 8 / 1e9;
  printf(
      "sum of an int64 column of %lld rows (%.0f MiB) over %d node processes, load "
      "%.2f\n",
      (long long)total, (double)total * 8 / (1 << 20), NODES, zcp_bench_load());
  printf("chunks built and added in %.2f s, commit %.2f ms, open (%lld chunks) %.2f ms\n",
         (t1 - t0) / 1e9, (t2 - t1) / 1e6, (long long)n_chunks, (t3 - t2) / 1e6);
  printf("%-44s %10s %10s\n", "median of alternating passes", "ms", "GB/s");
  printf("%-44s %10.2f %10.2f\n", "local array (baseline)", loc, gb / (loc / 1e3));
  printf("%-44s %10.2f %10.2f   %.1f%% of local speed (goal >= 90%%)\n",
         "huge table, read in place from 4 regions", tab, gb / (tab / 1e3),
         100 * loc / tab);
  FILE *csv = zcp_bench_csv_open(
      "hugetable_scan", "rows,nodes,reps,table_ms,local_ms,speed_vs_local,open_ms");
  if (csv != NULL) {
    fprintf(csv, "%lld,%d,%d,%.3f,%.3f,%.4f,%.3f\n", (long long)total, NODES, reps, tab,
            loc, loc / tab, (t3 - t2) / 1e6);
    fclose(csv);
  }
  return 0;
}
