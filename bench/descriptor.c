/* What do serializing and deserializing a batch's descriptor cost? Thesis Table 5.3 on
 * this machine: the thesis's 3-column batch (int64, int8, uint16) built in a node's
 * region (a one-node cluster in this process, its real pool), at 1 Ki and 1 Mi rows:
 *
 *   encode   zcp_descriptor_encode (looks at structure only);
 *   decode   zcp_descriptor_decode with the cluster's resolve (its own region: every
 *            buffer looked up in the pool's allocation table, no RPC) at each
 *            validation level (MINIMAL, DEFAULT, FULL), release of the imported structs
 *            not timed.
 *
 * Baselines printed beside them: the thesis's 58 µs / 19 µs, and the Arrow IPC stream
 * writer and reader (schema + batch, into / from memory) on the same batch, which copy
 * the data. Descriptor bytes are printed for both sizes: they do not depend on rows.
 *
 * Usage: bench_descriptor [quick]   (ZCP_BENCH_QUICK=1: fewer iterations). CSV:
 * descriptor.csv */
#define _GNU_SOURCE 1
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "bench.h"
#include "cluster.h"
#include "zcpool/descriptor.h"
#include "zcpool/ipc.h"

#define THESIS_SERIALIZE_US 58.0
#define THESIS_DESERIALIZE_US 19.0
#define ROUNDS 10

static const struct zcp_bench_columns *cols = &zcp_bench_thesis_columns;

static void die(const char *what, const struct zcp_error *err) {
  fprintf(stderr, "bench_descriptor: %s: %s\n", what, err != NULL ? err->message : "");
  exit(1);
}

struct stats {
  double median_us, p99_us;
};

static struct stats summarize(double *ns, int n) {
  return (struct stats){zcp_bench_percentile(ns, n, 50) / 1e3,
                        zcp_bench_percentile(ns, n, 99) / 1e3};
}

/* One round of n encodes into ns[0..n). */
static void time_encode(const struct ArrowSchema *schema, const struct ArrowArray *batch,
                        const struct zcp_descriptor_memory *mem, int n, double *ns) {
  struct zcp_error err = {0};
  for (int i = -n / 10; i < n; i++) {
    uint8_t *buf = NULL;
    int64_t size = 0;
    int64_t t0 = zcp_bench_now_ns();
    if (zcp_descriptor_encode(schema, batch, mem, &buf, &size, &err) != ZCP_OK)
      die("encode", &err);
    int64_t t1 = zcp_bench_now_ns();
    zcp_descriptor_free(buf);
    if (i >= 0) ns[i] = (double)(t1 - t0);
  }
}

/* One round of n decodes into ns[0..n). */
static void time_decode(const uint8_t *buf, int64_t size,
                        const struct zcp_descriptor_memory *mem,
                        enum zcp_validate_level level, int64_t rows, int n, double *ns) {
  struct zcp_error err = {0};
  for (int i = -n / 10; i < n; i++) {
    struct ArrowSchema s;
    struct ArrowArray a;
    int64_t t0 = zcp_bench_now_ns();
    if (zcp_descriptor_decode(buf, size, mem, level, &s, &a, &err) != ZCP_OK)
      die("decode", &err);
    int64_t t1 = zcp_bench_now_ns();
    if (a.length != rows) die("decode: wrong row count", NULL);
    zcp_array_release(&a);
    zcp_schema_release(&s);
    if (i >= 0) ns[i] = (double)(t1 - t0);
  }
}

/* The IPC stream of schema + batch into memory, then read back (heap, FULL validation).
 */
static void time_ipc(const struct ArrowSchema *schema, const struct ArrowArray *batch,
                     int iters, double *ns, struct stats *write, struct stats *read,
                     int64_t *bytes) {
  struct zcp_error err = {0};
  struct zcp_ipc_buffer buf = {0};
  for (int i = -iters / 10; i < iters; i++) {
    zcp_ipc_buffer_reset(&buf);
    struct zcp_ipc_sink sink = zcp_ipc_sink_buffer(&buf);
    struct zcp_ipc_writer *w = NULL;
    int64_t t0 = zcp_bench_now_ns();
    if (zcp_ipc_writer_open(ZCP_IPC_STREAM, schema, &sink, NULL, &w, &err) != ZCP_OK ||
        zcp_ipc_writer_write(w, batch, &err) != ZCP_OK ||
        zcp_ipc_writer_close(w, &err) != ZCP_OK)
      die("IPC write", &err);
    if (i >= 0) ns[i] = (double)(zcp_bench_now_ns() - t0);
  }
  *write = summarize(ns, iters);
  *bytes = buf.size;
  for (int i = -iters / 10; i < iters; i++) {
    struct zcp_ipc_memory m = {buf.data, buf.size, 0};
    struct zcp_ipc_source src = zcp_ipc_source_memory(&m);
    struct zcp_ipc_reader *r = NULL;
    struct ArrowArray a;
    int64_t t0 = zcp_bench_now_ns();
    if (zcp_ipc_stream_reader_open(&src, NULL, &r, &err) != ZCP_OK ||
        zcp_ipc_reader_next(r, &a, &err) != ZCP_OK)
      die("IPC read", &err);
    int64_t t1 = zcp_bench_now_ns();
    zcp_array_release(&a);
    zcp_ipc_reader_close(r);
    if (i >= 0) ns[i] = (double)(t1 - t0);
  }
  *read = summarize(ns, iters);
  zcp_ipc_buffer_reset(&buf);
}

static void row(const char *what, struct stats s, const char *vs) {
  printf("%-44s %12.2f %12.2f   %s\n", what, s.median_us, s.p99_us, vs);
}

int main(int argc, char **argv) {
  bool quick = zcp_bench_quick(argc, argv);
  int iters = quick ? 200 : 20000;
  int ipc_iters_small = quick ? 50 : 5000, ipc_iters_big = quick ? 5 : 50;
  struct zcp_bench_cluster c;
  struct zcp_bench_cluster_options o = {.n_nodes = 1};
  o.region_size[0] = 64 << 20;
  if (!zcp_bench_cluster_start(&c, "desc", &o, NULL, NULL)) return 1;
  struct zcp_error err = {0};
  struct zcp_allocator *alloc = NULL;
  struct ArrowSchema schema;
  if (zcp_node_allocator(c.node, 0, &alloc, &err) != ZCP_OK) die("pool", &err);
  if (!zcp_bench_schema(cols, &schema)) return 1;
  struct zcp_descriptor_memory mem;
  zcp_node_memory(c.node, &mem);
  double *ns[4];
  for (int i = 0; i < 4; i++) ns[i] = malloc(sizeof(double) * (size_t)iters);
  FILE *csv = zcp_bench_csv_open("descriptor", "rows,operation,median_us,p99_us,bytes");
  printf("descriptor of a batch of int64, int8, uint16 (thesis Table 5.3), load %.2f\n",
         zcp_bench_load());
  const int64_t sizes[2] = {1024, 1 << 20};
  int64_t desc_bytes[2];
  for (int k = 0; k < 2; k++) {
    int64_t rows = sizes[k];
    struct ArrowArray batch;
    if (!zcp_bench_batch_make(cols, rows, alloc, &batch)) return 1;
    if (zcp_node_seal_batch(c.node, &batch, &err) != ZCP_OK) die("seal", &err);
    uint8_t *buf = NULL;
    int64_t size = 0;
    if (zcp_descriptor_encode(&schema, &batch, &mem, &buf, &size, &err) != ZCP_OK)
      die("encode", &err);
    desc_bytes[k] = size;
    /* Rounds interleave the operations, so that a slow spell of the machine is spread
     * over all of them. */
    int per = iters / ROUNDS;
    for (int r = 0; r < ROUNDS; r++) {
      time_encode(&schema, &batch, &mem, per, ns[0] + r * per);
      for (int l = 0; l < 3; l++)
        time_decode(buf, size, &mem, (enum zcp_validate_level)l, rows, per,
                    ns[1 + l] + r * per);
    }
    struct stats enc = summarize(ns[0], per * ROUNDS), dec[3];
    for (int l = 0; l < 3; l++) dec[l] = summarize(ns[1 + l], per * ROUNDS);
    struct stats ipc_w, ipc_r;
    int64_t ipc_bytes = 0;
    time_ipc(&schema, &batch, k == 0 ? ipc_iters_small : ipc_iters_big, ns[0], &ipc_w,
             &ipc_r, &ipc_bytes);
    printf(
        "\n%lld rows (%lld data bytes): descriptor %lld bytes, IPC stream %lld bytes\n",
        (long long)rows, (long long)(rows * 11), (long long)size, (long long)ipc_bytes);
    printf("%-44s %12s %12s\n", "", "median us", "p99 us");
    char vs[96];
    snprintf(vs, sizeof vs, "thesis %.0f us (%.1fx faster); IPC writer takes %.1fx",
             THESIS_SERIALIZE_US, THESIS_SERIALIZE_US / enc.median_us,
             ipc_w.median_us / enc.median_us);
    row("encode (serialize)", enc, vs);
    const char *level[3] = {"MINIMAL", "DEFAULT", "FULL"};
    for (int l = 0; l < 3; l++) {
      char what[64];
      snprintf(what, sizeof what, "decode + resolve, %s validation", level[l]);
      snprintf(vs, sizeof vs, "thesis %.0f us (%.1fx faster); IPC reader takes %.1fx",
               THESIS_DESERIALIZE_US, THESIS_DESERIALIZE_US / dec[l].median_us,
               ipc_r.median_us / dec[l].median_us);
      row(what, dec[l], vs);
    }
    row("baseline: IPC stream write (schema + batch)", ipc_w, "copies the data");
    row("baseline: IPC stream read (FULL, heap)", ipc_r, "copies the data");
    if (csv != NULL) {
      fprintf(csv, "%lld,encode,%.3f,%.3f,%lld\n", (long long)rows, enc.median_us,
              enc.p99_us, (long long)size);
      for (int l = 0; l < 3; l++)
        fprintf(csv, "%lld,decode_%s,%.3f,%.3f,%lld\n", (long long)rows, level[l],
                dec[l].median_us, dec[l].p99_us, (long long)size);
      fprintf(csv, "%lld,ipc_write,%.3f,%.3f,%lld\n", (long long)rows, ipc_w.median_us,
              ipc_w.p99_us, (long long)ipc_bytes);
      fprintf(csv, "%lld,ipc_read_full,%.3f,%.3f,%lld\n", (long long)rows,
              ipc_r.median_us, ipc_r.p99_us, (long long)ipc_bytes);
      fprintf(csv, "%lld,thesis_serialize,%.3f,,\n", (long long)rows,
              THESIS_SERIALIZE_US);
      fprintf(csv, "%lld,thesis_deserialize,%.3f,,\n", (long long)rows,
              THESIS_DESERIALIZE_US);
    }
    zcp_descriptor_free(buf);
    zcp_array_release(&batch);
  }
  printf("\ndescriptor bytes: %lld for 1 Ki rows, %lld for 1 Mi rows (flat)\n",
         (long long)desc_bytes[0], (long long)desc_bytes[1]);
  if (csv != NULL) fclose(csv);
  for (int i = 0; i < 4; i++) free(ns[i]);
  zcp_schema_release(&schema);
  zcp_bench_cluster_stop(&c);
  return 0;
}
