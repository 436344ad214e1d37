/* How long until a peer can read a table? Thesis Figure 5.1 on this machine: a batch of
 * the thesis's three columns (int64, int8, uint16; 11 bytes a row) built in node 0's
 * region, made readable on node 1 (another process) in two ways:
 *
 *   share  zcp_node_share on node 0 (seal, describe, publish) + zcp_node_import on node 1
 *          (decode, Verify with the owner, DEFAULT validation): only the descriptor
 *          travels; node 1 then reads the data in place.
 *   copy   zcp_node_send_table_full (the baseline): an Arrow IPC stream over the control
 *          connection, rebuilt and fully validated in node 1's region. The table goes as
 *          batches of at most 64 MiB (the receiver holds one IPC message body in its
 *          heap), cut as zero-copy views of the same batch.
 *
 * Sizes are powers of 4 from 1 MiB to 4 GiB (ZCP_BENCH_MAX_BYTES caps them; the default
 * is lowered when /dev/shm or free memory cannot hold the table twice). The share time
 * should not depend on the size; the ratio copy / share is printed per size. Every size
 * is a prefix (a view) of one batch built once. Also printed: the bytes that crossed
 * the control connection between the two nodes for one share (share, import, drop) and
 * one copy (frames, headers and MACs included). CSV: share_vs_copy.csv; the plot
 * (log-log) share_vs_copy.png.
 *
 * Usage: bench_share_vs_copy [quick]   (ZCP_BENCH_QUICK=1: 1 and 4 MiB) */
#define _GNU_SOURCE 1
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "batch.h"
#include "bench.h"
#include "cluster.h"
#include "zcpool/copy.h"

#define BATCH_BYTES ((int64_t)64 << 20)
#define MAX_SIZES 16

static const struct zcp_bench_columns *cols = &zcp_bench_thesis_columns;
static const int row_bytes = 11;

static void answer(int out, zcp_status_t st, const struct zcp_error *err, double value) {
  struct zcp_bench_msg a = {.op = 'a', .status = st, .value = value};
  if (st != ZCP_OK) snprintf(a.text, sizeof a.text, "%.150s", err->message);
  zcp_bench_msg_write(out, &a);
}

/* Node 1: 'l' looks a shared batch up and answers the time it took; 'd' checks a
 * received copy and drops it. a = the rows expected. */
static void child(struct zcp_node *node, int in, int out, void *ctx) {
  struct zcp_bench_msg m;
  while (zcp_bench_msg_read(in, &m, ZCP_BENCH_CHILD_IDLE_MS) == 1 && m.op != 'q') {
    struct zcp_error err = {0};
    struct zcp_table *t = NULL;
    zcp_status_t st;
    double ns = 0;
    if (m.op == 'l') {
      int64_t t0 = zcp_bench_now_ns();
      st = zcp_node_import(node, m.text, ZCP_VALIDATE_DEFAULT, &t, &err);
      ns = (double)(zcp_bench_now_ns() - t0);
    } else {
      st = zcp_node_received_table(node, m.text, &t, &err);
    }
    if (st == ZCP_OK && zcp_table_num_rows(t) != m.a)
      st = zcp_error_set(&err, ZCP_CORRUPT_INPUT, "'%s': %lld rows, expected %lld",
                         m.text, (long long)zcp_table_num_rows(t), (long long)m.a);
    zcp_table_release(t);
    if (st == ZCP_OK && m.op == 'd') st = zcp_node_received_drop(node, m.text, &err);
    answer(out, st, &err, ns);
  }
}

/* Bytes a prefix of the batch of `rows` rows holds. */
static int64_t rows_for(int64_t bytes) {
  int64_t r = bytes / row_bytes / 64 * 64;
  return r < 64 ? 64 : r;
}

/* How much /dev/shm and free memory allow: the table and its copy, plus a margin. */
static int64_t memory_cap(void) {
  struct statvfs v;
  int64_t shm = statvfs("/dev/shm", &v) == 0 ? (int64_t)v.f_bavail * (int64_t)v.f_frsize
                                             : INT64_MAX;
  int64_t avail = INT64_MAX;
  FILE *f = fopen("/proc/meminfo", "r");
  if (f != NULL) {
    char line[256];
    long long kb;
    while (fgets(line, sizeof line, f) != NULL)
      if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1) avail = kb * 1024;
    fclose(f);
  }
  int64_t m = shm < avail ? shm : avail;
  return (m - ((int64_t)2 << 30)) / 2;
}

/* Bytes node 0 has sent and received on all its control connections so far: every byte
 * between node 0 and node 1 (heartbeats included). */
static int64_t wire_bytes(struct zcp_node *node) {
  static struct zcp_node_status st;
  zcp_node_status(node, &st);
  return st.bytes_sent + st.bytes_received;
}

static double share_once(struct zcp_bench_cluster *c, const struct ArrowSchema *schema,
                         const struct ArrowArray *big, int64_t rows, const char *name) {
  struct zcp_error err = {0};
  struct ArrowArray view;
  if (!zcp_bench_batch_view(cols, big, 0, rows, &view)) return -1;
  int64_t t0 = zcp_bench_now_ns();
  zcp_status_t st = zcp_node_share(c->node, name, schema, &view, &err);
  int64_t t1 = zcp_bench_now_ns();
  if (st != ZCP_OK) {
    zcp_array_release(&view);
    fprintf(stderr, "bench_share_vs_copy: %s\n", err.message);
    return -1;
  }
  struct zcp_bench_msg cmd = {.op = 'l', .a = rows}, ans;
  snprintf(cmd.text, sizeof cmd.text, "%s", name);
  if (!zcp_bench_call(c, 1, &cmd, &ans, 120000)) return -1;
  if (zcp_node_drop(c->node, name, 30000, &err) != ZCP_OK) {
    fprintf(stderr, "bench_share_vs_copy: %s\n", err.message);
    return -1;
  }
  return (double)(t1 - t0) + ans.value;
}

static double copy_once(struct zcp_bench_cluster *c, const struct ArrowSchema *schema,
                        const struct ArrowArray *big, int64_t rows, const char *name) {
  struct zcp_error err = {0};
  struct zcp_table *t = NULL;
  if (zcp_table_init(schema, &t, &err) != ZCP_OK) goto fail;
  int64_t per = rows_for(BATCH_BYTES);
  for (int64_t r = 0; r < rows; r += per) {
    struct ArrowArray view;
    if (!zcp_bench_batch_view(cols, big, r, rows - r < per ? rows - r : per, &view)) {
      zcp_table_release(t);
      return -1;
    }
    if (zcp_table_append(t, &view, ZCP_VALIDATE_MINIMAL, &err) != ZCP_OK) {
      zcp_array_release(&view);
      zcp_table_release(t);
      goto fail;
    }
  }
  int64_t t0 = zcp_bench_now_ns();
  zcp_status_t st = zcp_node_send_table_full(c->node, 1, name, t, &err);
  int64_t t1 = zcp_bench_now_ns();
  zcp_table_release(t);
  if (st != ZCP_OK) goto fail;
  struct zcp_bench_msg cmd = {.op = 'd', .a = rows}, ans;
  snprintf(cmd.text, sizeof cmd.text, "%s", name);
  if (!zcp_bench_call(c, 1, &cmd, &ans, 120000)) return -1;
  return (double)(t1 - t0);
fail:
  fprintf(stderr, "bench_share_vs_copy: %s\n", err.message);
  return -1;
}

int main(int argc, char **argv) {
  bool quick = zcp_bench_quick(argc, argv);
  int64_t max_bytes = quick ? (4 << 20) : ((int64_t)4 << 30);
  const char *env = getenv("ZCP_BENCH_MAX_BYTES");
  if (env != NULL && atoll(env) > 0 && atoll(env) < max_bytes) max_bytes = atoll(env);
  int64_t cap = memory_cap();
  while (max_bytes > cap && max_bytes > (1 << 20)) {
    printf("note: %lld MiB does not fit twice in /dev/shm and free memory; lowering\n",
           (long long)(max_bytes >> 20));
    max_bytes /= 4;
  }
  int64_t sizes[MAX_SIZES];
  int n_sizes = 0;
  for (int64_t s = 1 << 20; s <= max_bytes && n_sizes < MAX_SIZES; s *= 4)
    sizes[n_sizes++] = s;
  int64_t max_rows = rows_for(sizes[n_sizes - 1]);

  struct zcp_bench_cluster c;
  struct zcp_bench_cluster_options o = {.n_nodes = 2, .max_frame = 8 << 20};
  o.region_size[0] = max_rows * row_bytes + (64 << 20);
  o.region_size[1] = max_rows * row_bytes + (256 << 20);
  if (!zcp_bench_cluster_start(&c, "svc", &o, child, NULL)) return 1;
  struct zcp_error err = {0};
  struct zcp_allocator *alloc = NULL;
  struct ArrowSchema schema;
  struct ArrowArray big;
  if (zcp_node_allocator(c.node, 0, &alloc, &err) != ZCP_OK ||
      !zcp_bench_schema(cols, &schema)) {
    zcp_bench_cluster_stop(&c);
    return 1;
  }
  int64_t t0 = zcp_bench_now_ns();
  if (!zcp_bench_batch_make(cols, max_rows, alloc, &big)) {
    zcp_schema_release(&schema);
    zcp_bench_cluster_stop(&c);
    return 1;
  }
  printf(
      "time until node 1 can read a batch of int64, int8, uint16 built on node 0 (thesis "
      "Fig. 5.1)\nload %.2f; batch of %lld rows built in %.2f s; copy: IPC stream in "
      "frames of %lld MiB, batches of <= 64 MiB\n",
      zcp_bench_load(), (long long)max_rows, (zcp_bench_now_ns() - t0) / 1e9,
      (long long)(o.max_frame >> 20));
  printf("%10s %12s %14s %14s %12s %10s %12s %14s\n", "MiB", "rows", "share us",
         "copy ms", "copy/share", "copy GB/s", "share wire", "copy wire");
  FILE *csv = zcp_bench_csv_open(
      "share_vs_copy",
      "bytes,rows,reps,share_median_us,copy_median_us,ratio_copy_share,share_wire_bytes,"
      "copy_wire_bytes");
  char dat[600];
  snprintf(dat, sizeof dat, "%s/share_vs_copy.dat", zcp_bench_out_dir());
  FILE *d = fopen(dat, "w");
  bool ok = true;
  static int seq;
  for (int k = 0; k < n_sizes && ok; k++) {
    int64_t rows = rows_for(sizes[k]);
    int reps = quick ? 2 : sizes[k] <= (64 << 20) ? 7 : sizes[k] <= (256 << 20) ? 5 : 3;
    double share[16], copy[16];
    int64_t share_wire = 0, copy_wire = 0;
    for (int r = 0; r < reps && ok; r++) {
      char name[64];
      snprintf(name, sizeof name, "s%d", seq++);
      int64_t w0 = wire_bytes(c.node);
      share[r] = share_once(&c, &schema, &big, rows, name);
      int64_t w1 = wire_bytes(c.node);
      snprintf(name, sizeof name, "c%d", seq++);
      copy[r] = copy_once(&c, &schema, &big, rows, name);
      int64_t w2 = wire_bytes(c.node);
      share_wire = w1 - w0;
      copy_wire = w2 - w1;
      ok = share[r] >= 0 && copy[r] >= 0;
    }
    if (!ok) break;
    double s = zcp_bench_percentile(share, reps, 50) / 1e3;
    double cp = zcp_bench_percentile(copy, reps, 50) / 1e3;
    printf("%10.1f %12lld %14.1f %14.2f %11.0fx %10.2f %12lld %14lld\n",
           (double)rows * row_bytes / (1 << 20), (long long)rows, s, cp / 1e3, cp / s,
           (double)rows * row_bytes / (cp * 1e3), (long long)share_wire,
           (long long)copy_wire);
    if (csv != NULL)
      fprintf(csv, "%lld,%lld,%d,%.2f,%.2f,%.1f,%lld,%lld\n",
              (long long)(rows * row_bytes), (long long)rows, reps, s, cp, cp / s,
              (long long)share_wire, (long long)copy_wire);
    if (d != NULL)
      fprintf(d, "%.4f %.4f %.4f\n", (double)rows * row_bytes / (1 << 20), s / 1e3,
              cp / 1e3);
  }
  if (d != NULL) fclose(d);
  if (csv != NULL) fclose(csv);
  zcp_array_release(&big);
  zcp_schema_release(&schema);
  zcp_bench_cluster_stop(&c);
  if (!ok) return 1;
  printf(
      "share: zcp_node_share + the peer's zcp_node_import (DEFAULT validation); copy: "
      "zcp_node_send_table_full until the peer has rebuilt it; medians\n");
  zcp_bench_plot(
      "share_vs_copy",
      "set logscale xy\nset grid\nset key top left\n"
      "set title 'Time until a peer can read the table (thesis Fig. 5.1)'\n"
      "set xlabel 'table size (MiB)'\nset ylabel 'time (ms)'\n"
      "plot dir.'/share_vs_copy.dat' using 1:3 with linespoints lw 2 title "
      "'full copy (SendTableFull, IPC stream)', "
      "'' using 1:2 with linespoints lw 2 title 'descriptor share (share + import)'");
  return 0;
}
