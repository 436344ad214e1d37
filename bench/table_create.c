/* What does it cost to create a table that other nodes can read? Thesis Table 5.5 on
 * this machine: a 1 GiB uint64 column (one record batch) created
 *   (a) in local memory (this node's region) and
 *   (b) in remote memory (a peer node process's region, through zcp_node_allocator),
 * broken down into the steps of the coherence protocol (DESIGN §4):
 *   allocate   the pool's allocate (remote: the Malloc RPC). It includes the pre-write
 *              step, and the zeroing of a reused block (DESIGN §4: blocks are zeroed);
 *   pre-write  thesis mode: the zcp_node_flush broadcast zcp_node_alloc makes; default
 *              mode: the invalidation of a remote block's lines. Measured again, alone,
 *              right after the allocation (it is already inside "allocate");
 *   write      the values;
 *   write back zcp_node_seal_batch (seal at the owner, write back on non-coherent
 *              regions, fence);
 *   serialize  zcp_descriptor_encode;
 *   send       publishing the descriptor to the other node (what zcp_node_share does
 *              after sealing and encoding: the Publish broadcast).
 * Both protocols (import invalidation, the default, and the thesis's pre-write flush),
 * each with coherent regions (where the flush primitives are no-ops, as on any one-host
 * x86 setup) and with regions declared noncoherent (real clflushopt / clwb over the data,
 * no emulator). The thesis's figures are printed beside ours, with the baseline measured
 * in every round of this run: writing the same values into warm heap memory.
 *
 * Usage: bench_table_create [quick]   (ZCP_BENCH_QUICK=1: 4 MiB). CSV: table_create.csv
 */
#define _GNU_SOURCE 1
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "batch.h"
#include "bench.h"
#include "cluster.h"
#include "cluster/share/share.h"
#include "zcpool/descriptor.h"
#include "zcpool/fabric.h"

enum part { ALLOC, PRE, WRITE, SEAL, ENCODE, SEND, TOTAL, N_PARTS, BASE = N_PARTS };
static const char *const part_names[N_PARTS] = {"allocate (incl. pre-write)",
                                                "  of which pre-write step",
                                                "write",
                                                "write back (seal)",
                                                "serialize descriptor",
                                                "send (publish)",
                                                "total"};
/* Thesis Table 5.5 (ms): (a) remote memory, (b) local memory; -1: not a step there. */
static const double thesis_remote[N_PARTS] = {4.99,  51.84, 180,   60.32,
                                              0.058, 3.23,  300.44};
static const double thesis_local[N_PARTS] = {3.13, 51.84, 10, -1, 0.058, 3.23, 68.26};

static int64_t bytes;
static int warmup, reps;
static FILE *csv;
static uint64_t *heap; /* the baseline's buffer, touched once at start */

static void child(struct zcp_node *node, int in, int out, void *ctx) {
  struct zcp_bench_msg m;
  while (zcp_bench_msg_read(in, &m, ZCP_BENCH_CHILD_IDLE_MS) == 1 && m.op != 'q') {
  }
}

static const struct zcp_bench_columns column = {1, {"L"}, {"v"}, {8}};

/* One table creation; fills ms[part]. false on error (printed). */
static bool create_once(struct zcp_node *node, int owner, bool thesis, bool noncoherent,
                        int round, double *ms) {
  struct zcp_error err = {0};
  struct zcp_allocator *alloc = NULL;
  if (zcp_node_allocator(node, owner, &alloc, &err) != ZCP_OK) goto fail;
  int64_t t0 = zcp_bench_now_ns();
  void *v = NULL;
  zcp_status_t ast = alloc->allocate(alloc, bytes, alloc->alignment, &v, &err);
  int64_t t1 = zcp_bench_now_ns();
  uint64_t *p = v;
  if (ast != ZCP_OK) goto fail;
  /* The pre-write step alone, as zcp_node_alloc just did it. */
  if (thesis) {
    if (zcp_node_flush(node, p, bytes, &err) != ZCP_OK) goto fail;
  } else if (owner != zcp_node_id(node) && noncoherent) {
    zcp_cache_invalidate(p, bytes);
    zcp_cache_fence();
  }
  int64_t t2 = zcp_bench_now_ns();
  int64_t n = bytes / 8;
  for (int64_t i = 0; i < n; i++) p[i] = (uint64_t)i;
  int64_t t3 = zcp_bench_now_ns();
  /* The baseline, in every round: the same values into warm heap memory. */
  for (int64_t i = 0; i < n; i++) heap[i] = (uint64_t)i + (uint64_t)round;
  zcp_bench_sink(heap);
  ms[BASE] = (zcp_bench_now_ns() - t3) / 1e6;
  struct ArrowSchema schema;
  struct ArrowArray batch;
  void *data[1] = {p};
  if (!zcp_bench_schema(&column, &schema)) return false;
  if (!zcp_bench_batch_wrap(&column, n, data, alloc, &batch)) {
    zcp_schema_release(&schema);
    return false;
  }
  int64_t t4 = zcp_bench_now_ns();
  zcp_status_t st = zcp_node_seal_batch(node, &batch, &err);
  int64_t t5 = zcp_bench_now_ns();
  struct zcp_descriptor_memory mem;
  zcp_node_memory(node, &mem);
  struct zcp__entry e = {0};
  snprintf(e.name, sizeof e.name, "t%d", round);
  e.kind = ZCP_SHARE_TABLE;
  e.creator = zcp_node_id(node);
  e.creator_epoch = zcp_node_epoch(node);
  e.rows = n;
  if (st == ZCP_OK)
    st = zcp_descriptor_encode(&schema, &batch, &mem, &e.desc, &e.desc_size, &err);
  int64_t t6 = zcp_bench_now_ns();
  if (st == ZCP_OK) st = zcp__share_publish(node, &e, &batch, &err);
  int64_t t7 = zcp_bench_now_ns();
  zcp_descriptor_free(e.desc);
  zcp_schema_release(&schema);
  if (st != ZCP_OK) {
    zcp_array_release(&batch);
    goto fail;
  }
  /* Not timed: the creator frees the block once the entry is gone everywhere. */
  if (zcp_node_drop(node, e.name, 30000, &err) != ZCP_OK) goto fail;
  ms[ALLOC] = (t1 - t0) / 1e6;
  ms[PRE] = (t2 - t1) / 1e6;
  ms[WRITE] = (t3 - t2) / 1e6;
  ms[SEAL] = (t5 - t4) / 1e6;
  ms[ENCODE] = (t6 - t5) / 1e6;
  ms[SEND] = (t7 - t6) / 1e6;
  ms[TOTAL] = ms[ALLOC] + ms[WRITE] + ms[SEAL] + ms[ENCODE] + ms[SEND];
  return true;
fail:
  fprintf(stderr, "bench_table_create: %s\n", err.message);
  return false;
}

/* Median of each part over the measured rounds; cold[] gets the first round. */
static bool run_where(struct zcp_node *node, int owner, bool thesis, bool nc,
                      double *median, double *cold) {
  double samples[N_PARTS + 1][64];
  static int round;
  for (int r = 0; r < warmup + reps; r++) {
    double ms[N_PARTS + 1];
    if (!create_once(node, owner, thesis, nc, round++, ms)) return false;
    if (r == 0) memcpy(cold, ms, sizeof ms);
    if (r >= warmup)
      for (int k = 0; k <= N_PARTS; k++) samples[k][r - warmup] = ms[k];
  }
  for (int k = 0; k <= N_PARTS; k++)
    median[k] = zcp_bench_percentile(samples[k], reps, 50);
  return true;
}

static void print_config(const char *coh, const char *proto, const double *loc,
                         const double *rem, const double *cold_loc,
                         const double *cold_rem) {
  double base = (loc[BASE] + rem[BASE]) / 2;
  printf("\n%s regions, protocol %s: median of %d rounds after %d warm-up rounds (ms)\n",
         coh, proto, reps, warmup);
  printf("%-28s %10s %10s %12s %12s\n", "part", "local", "remote", "thesis local",
         "thesis remote");
  for (int k = 0; k < N_PARTS; k++) {
    char tl[32], tr[32];
    snprintf(tl, sizeof tl, thesis_local[k] < 0 ? "-" : "%.3f", thesis_local[k]);
    snprintf(tr, sizeof tr, "%.3f", thesis_remote[k]);
    printf("%-28s %10.3f %10.3f %12s %12s\n", part_names[k], loc[k], rem[k], tl, tr);
    if (csv != NULL)
      fprintf(csv, "%lld,%s,%s,%s,%.4f,%.4f,%.4f,%.4f,%.4f\n", (long long)bytes, coh,
              proto, part_names[k][0] == ' ' ? "pre-write step" : part_names[k], loc[k],
              rem[k], thesis_local[k], thesis_remote[k], base);
  }
  printf("%-28s %10.2fx %9.2fx  (total / writing warm heap memory, %.1f ms)\n",
         "vs baseline", loc[TOTAL] / base, rem[TOTAL] / base, base);
  printf("%-28s %10.3f %10.3f  (same values into warm heap memory, every round)\n",
         "baseline: heap write", loc[BASE], rem[BASE]);
  printf("%-28s %10.3f %10.3f  (first round: fresh memory, page faults)\n",
         "cold round: allocate", cold_loc[ALLOC], cold_rem[ALLOC]);
  printf("%-28s %10.3f %10.3f\n", "cold round: write", cold_loc[WRITE], cold_rem[WRITE]);
}

int main(int argc, char **argv) {
  bool quick = zcp_bench_quick(argc, argv);
  bytes = quick ? (4 << 20) : ((int64_t)1 << 30);
  warmup = quick ? 1 : 2;
  reps = quick ? 2 : 5;
  printf(
      "creating a %lld MiB uint64 table (thesis Table 5.5), load %.2f, flush method %s\n",
      (long long)(bytes >> 20), zcp_bench_load(), zcp_cache_flush_method());
  heap = mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
              -1, 0);
  if (heap == MAP_FAILED) {
    perror("bench_table_create: baseline buffer");
    return 1;
  }
  memset(heap, 1, (size_t)bytes);
  csv = zcp_bench_csv_open(
      "table_create",
      "bytes,coherence,protocol,part,local_ms,remote_ms,thesis_local_ms,"
      "thesis_remote_ms,baseline_heap_write_ms");
  for (int nc = 0; nc < 2; nc++) {
    for (int proto = 0; proto < 2; proto++) {
      struct zcp_bench_cluster c;
      struct zcp_bench_cluster_options o = {
          .n_nodes = 2,
          .noncoherent = nc,
          .protocol = proto ? ZCP_PROTOCOL_PREWRITE_FLUSH : ZCP_PROTOCOL_INVALIDATE};
      o.region_size[0] = o.region_size[1] = bytes + (64 << 20);
      if (!zcp_bench_cluster_start(&c, "create", &o, child, NULL)) return 1;
      double loc[N_PARTS + 1], rem[N_PARTS + 1], cloc[N_PARTS + 1], crem[N_PARTS + 1];
      bool ok = run_where(c.node, 0, proto, nc, loc, cloc) &&
                run_where(c.node, 1, proto, nc, rem, crem);
      zcp_bench_cluster_stop(&c);
      if (!ok) return 1;
      print_config(nc ? "noncoherent" : "coherent",
                   proto ? "prewrite-flush (thesis)" : "invalidate (default)", loc, rem,
                   cloc, crem);
    }
  }
  printf(
      "\nthesis: POWER9 + ThymesisFlow, gRPC; here: one x86 host, shm regions, Unix "
      "sockets; 'remote' memory is another process's region on the same host\n");
  if (csv != NULL) fclose(csv);
  munmap(heap, (size_t)bytes);
  return 0;
}
