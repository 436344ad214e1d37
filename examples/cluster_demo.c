/* The main job: three nodes build one huge Arrow table in pooled memory and use it with
 * zero copies, next to a full IPC copy of the same table.
 *
 *   cluster_demo [rows_per_node]
 *
 * rows_per_node defaults to 1000000. DuckDB comes from $ZCP_DUCKDB_LIB or the interop
 * packages (see README).
 *
 * What happens:
 *   1. This process makes a 3-node local cluster (src/tools/local: a fresh temporary
 *      directory with the key, the config file written with the config builder, Unix
 *      sockets, shared-memory regions) and forks one process per node, which reads the
 *      config file as a node on another host would.
 *   2. Every node builds its chunk of the huge table "demo" (rows [i*R, (i+1)*R)):
 *      nodes 0 and 1 in their own region, node 2 in node 0's region through a remote
 *      pool.
 *   3. Every node seals its chunk and adds it to "demo" (only a descriptor of a few
 *      hundred bytes travels); node 0 commits the table.
 *   4. Every node imports the table (its buffers stay where they were built) and walks
 *      every value into a checksum; all three must agree.
 *   5. Node 1 hands the table to DuckDB (in place) and checks a GROUP BY against sums it
 *      computed by walking the arrays.
 *   6. For comparison node 0 sends the same table to node 1 as a full Arrow IPC copy over
 *      the control connection; node 1 checks the copy's checksum.
 * Then this process prints each step's time and the control-connection bytes it cost.
 * Exit code 0 only when every check passed. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "local.h"
#include "zcpool/zcpool.h"

#define N_NODES 3
#define DEFAULT_DUCKDB \
  "tests/interop/node_modules/@duckdb/node-bindings-linux-x64/libduckdb.so"
#define WAIT_MS 120000 /* bound of every wait inside a node */
#define DEADLINE_S 600 /* bound of the whole run, then the nodes are killed */
#define TABLE "demo"

/* The steps whose time and traffic the summary shows, in order. */
enum step { BUILD, SEAL, SHARE, OPEN, QUERY, COPY, N_STEPS };
static const char *kStepNames[N_STEPS] = {"build",         "seal",  "share",
                                          "assemble/open", "query", "full copy"};

/* What a node process tells the parent through its pipe when it ends. */
struct report {
  int32_t ok;              /* every check of this node passed */
  int32_t query;           /* 1: the query ran and matched; 0: DuckDB missing (skipped) */
  int64_t rows;            /* of the opened table */
  uint64_t checksum;       /* over every value of the opened table */
  double seconds[N_STEPS]; /* this node's own time in the step (0: nothing to do) */
  /* Control bytes this node sent: an idle barrier round alone, and from the barrier
   * before each step to the barrier after it (the barrier's own bytes included). */
  int64_t idle_bytes;
  int64_t step_bytes[N_STEPS];
};

static const char *kCities[] = {"Aarhus", "Bergen", "Cork", "Dresden", "Evora"};
#define N_CITIES 5

/* ---- the table: id int64, city utf8?, qty int32?, price double, ok bool, at ts[us] --
 */

static zcp_status_t make_schema(struct ArrowSchema *s, struct zcp_error *err) {
  static const struct {
    const char *format, *name;
    int64_t flags;
  } cols[] = {{"l", "id", 0},
              {"u", "city", ARROW_FLAG_NULLABLE},
              {"i", "qty", ARROW_FLAG_NULLABLE},
              {"g", "price", 0},
              {"b", "ok", 0},
              {"tsu:", "at", 0}};
  ZCP_RETURN_NOT_OK(zcp_schema_init("+s", "", 0, 6, s, err));
  for (int c = 0; c < 6; c++) {
    zcp_status_t st =
        zcp_schema_set_child(s, c, cols[c].format, cols[c].name, cols[c].flags, 0, err);
    if (st != ZCP_OK) {
      zcp_schema_release(s);
      return st;
    }
  }
  return ZCP_OK;
}

/* Row g's values; nulls in city and qty at fixed strides so every node can check them. */
static const char *city_of(int64_t g) {
  return g % 7 == 3 ? NULL : kCities[g % N_CITIES];
}
static bool qty_is_null(int64_t g) {
  return g % 11 == 0;
}

/* Builds rows [first, first + n) with every data buffer from pool. Space is reserved up
 * front, so a remote pool gets one Malloc per buffer instead of a Realloc per doubling.
 */
static zcp_status_t build_chunk(struct zcp_allocator *pool,
                                const struct ArrowSchema *schema, int64_t first,
                                int64_t n, struct ArrowArray *out,
                                struct zcp_error *err) {
  struct zcp_builder *b;
  ZCP_RETURN_NOT_OK(zcp_builder_init(schema, pool, &b, err));
  zcp_status_t st = ZCP_OK;
  for (int c = 0; c < 6 && st == ZCP_OK; c++)
    st = zcp_builder_reserve(zcp_builder_child(b, c), n, c == 1 ? n * 8 : 0);
  for (int64_t g = first; g < first + n && st == ZCP_OK; g++) {
    const char *city = city_of(g);
    st = zcp_builder_append_int(zcp_builder_child(b, 0), g);
    if (st == ZCP_OK)
      st = city == NULL ? zcp_builder_append_null(zcp_builder_child(b, 1), 1)
                        : zcp_builder_append_string(zcp_builder_child(b, 1), city);
    if (st == ZCP_OK)
      st = qty_is_null(g) ? zcp_builder_append_null(zcp_builder_child(b, 2), 1)
                          : zcp_builder_append_int(zcp_builder_child(b, 2), g % 100);
    if (st == ZCP_OK)
      st = zcp_builder_append_double(zcp_builder_child(b, 3), (double)(g % 1000) * 0.25);
    if (st == ZCP_OK) st = zcp_builder_append_int(zcp_builder_child(b, 4), g % 3 != 0);
    if (st == ZCP_OK)
      st = zcp_builder_append_int(zcp_builder_child(b, 5), 1767225600000000LL + g * 1000);
    if (st == ZCP_OK) st = zcp_builder_finish_element(b);
  }
  if (st != ZCP_OK) {
    /* The builder says why, with the pool's own words (a full region, an owner down). */
    zcp_error_set(err, st, "building the chunk at row %" PRId64 ": %s", first,
                  zcp_builder_last_error(b));
  } else {
    st = zcp_builder_finish(b, out, NULL, err);
  }
  zcp_builder_release(b);
  return st;
}

/* ---- walking the arrays in place -----------------------------------------------------
 */

/* What a walk over every value finds: the checksum every node compares, and per city
 * (index N_CITIES: null) the row count and qty sum that the SQL answer must match. */
struct walk {
  int64_t rows;
  uint64_t checksum;
  int64_t n[N_CITIES + 1], qty[N_CITIES + 1], qty_valid[N_CITIES + 1];
};

static uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h * 0x100000001b3ULL;
}
static bool is_valid(const struct ArrowArray *a, int64_t i) {
  const uint8_t *bits = a->buffers[0];
  return bits == NULL || (bits[i >> 3] >> (i & 7) & 1);
}

static void walk_table(const struct zcp_table *t, struct walk *w) {
  memset(w, 0, sizeof *w);
  w->checksum = 0xcbf29ce484222325ULL;
  for (int64_t b = 0; b < zcp_table_num_batches(t); b++) {
    const struct ArrowArray *batch = zcp_table_batch(t, b);
    const struct ArrowArray *const *col =
        (const struct ArrowArray *const *)batch->children;
    for (int64_t r = 0; r < batch->length; r++) {
      int64_t k[6]; /* the row's index in each column's buffers */
      for (int c = 0; c < 6; c++) k[c] = batch->offset + r + col[c]->offset;
      uint64_t h =
          mix(w->checksum, (uint64_t)((const int64_t *)col[0]->buffers[1])[k[0]]);
      int city = N_CITIES;
      if (is_valid(col[1], k[1])) {
        const int32_t *off = col[1]->buffers[1];
        const char *s = (const char *)col[1]->buffers[2] + off[k[1]];
        int32_t len = off[k[1] + 1] - off[k[1]];
        for (int32_t j = 0; j < len; j++) h = mix(h, (uint8_t)s[j]);
        for (int c = 0; c < N_CITIES; c++)
          if ((size_t)len == strlen(kCities[c]) &&
              memcmp(s, kCities[c], (size_t)len) == 0)
            city = c;
      } else {
        h = mix(h, UINT64_MAX);
      }
      w->n[city]++;
      if (is_valid(col[2], k[2])) {
        int32_t q = ((const int32_t *)col[2]->buffers[1])[k[2]];
        w->qty[city] += q;
        w->qty_valid[city]++;
        h = mix(h, (uint64_t)q);
      } else {
        h = mix(h, UINT64_MAX - 1);
      }
      uint64_t bits;
      memcpy(&bits, (const double *)col[3]->buffers[1] + k[3], sizeof bits);
      h = mix(h, bits);
      h = mix(h, ((const uint8_t *)col[4]->buffers[1])[k[4] >> 3] >> (k[4] & 7) & 1);
      h = mix(h, (uint64_t)((const int64_t *)col[5]->buffers[1])[k[5]]);
      w->checksum = h;
    }
    w->rows += batch->length;
  }
}

/* ---- one node ------------------------------------------------------------------------
 */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t bytes_sent(struct zcp_node *node) {
  struct zcp_node_status st;
  zcp_node_status(node, &st);
  return st.bytes_sent;
}

/* Node 1's query: DuckDB scans the table in place; its counts and sums must equal the
 * walk's. Returns 1 matched, 0 DuckDB not available, -1 failure. */
static int query(int id, struct zcp_table *t, const struct walk *w,
                 struct zcp_error *err) {
  const char *lib = getenv("ZCP_DUCKDB_LIB");
  if (lib == NULL && access(DEFAULT_DUCKDB, R_OK) == 0) lib = DEFAULT_DUCKDB;
  struct zcp_sql *sql = NULL;
  if (lib == NULL || zcp_sql_open(lib, &sql, err) != ZCP_OK) {
    printf(
        "node %d: DuckDB not found (%s), query step skipped; scripts/setup.sh installs "
        "it\n",
        id, lib == NULL ? "no libduckdb.so" : err->message);
    return 0;
  }
  const char *q =
      "SELECT city, count(*)::BIGINT AS n, sum(qty)::BIGINT AS qty, "
      "round(avg(price), 2) AS avg_price, count(*) FILTER (WHERE ok)::BIGINT AS ok "
      "FROM " TABLE " GROUP BY city ORDER BY city NULLS LAST";
  struct zcp_sql_result *r = NULL;
  int rc = -1;
  if (zcp_sql_register(sql, TABLE, t, err) != ZCP_OK ||
      zcp_sql_query(sql, q, &r, err) != ZCP_OK) {
    printf("node %d: DuckDB: %s\n", id, err->message);
    goto done;
  }
  printf("node %d: DuckDB, in place: %s\n", id, q);
  char cell[64];
  for (int64_t c = 0; c < zcp_sql_result_columns(r); c++)
    printf("%s%-10s", c == 0 ? "    " : "", zcp_sql_result_column_name(r, c));
  printf("\n");
  rc = zcp_sql_result_rows(r) == N_CITIES + 1 ? 1 : -1;
  for (int64_t row = 0; row < zcp_sql_result_rows(r); row++) {
    for (int64_t c = 0; c < zcp_sql_result_columns(r); c++)
      printf("%s%-10s", c == 0 ? "    " : "",
             zcp_sql_result_text(r, row, c, cell, sizeof cell));
    printf("\n");
    /* Rows come sorted by city with the null group last, as kCities is sorted. */
    int city = (int)row;
    bool null_city = zcp_sql_result_is_null(r, row, 0);
    if (city > N_CITIES || null_city != (city == N_CITIES) ||
        (!null_city &&
         strcmp(zcp_sql_result_text(r, row, 0, cell, sizeof cell), kCities[city]) != 0) ||
        zcp_sql_result_int(r, row, 1) != w->n[city] ||
        (w->qty_valid[city] > 0 && zcp_sql_result_int(r, row, 2) != w->qty[city])) {
      rc = -1;
    }
  }
  if (rc == 1)
    printf("node %d: every count and sum matches the walk over the arrays\n", id);
  else
    printf("node %d: the query's answer does NOT match the walk over the arrays\n", id);
done:
  zcp_sql_result_free(r);
  zcp_sql_close(sql, NULL);
  return rc;
}

/* Runs node id to the end; fills *rep. Returns the exit code. Every step ends with a
 * barrier, so the steps' times and bytes do not overlap. */
static int run_node(const char *config_path, int id, int64_t rows, struct report *rep) {
  struct zcp_error err = {0};
  struct zcp_config *cfg = NULL;
  struct zcp_node *node = NULL;
  struct zcp_table *table = NULL;
  struct ArrowSchema schema = {0};
  struct ArrowArray chunk = {0};
  const char *what = "config";
  int64_t mark = 0;
  double t0;
#define CHECK(call, step_what)       \
  do {                               \
    what = (step_what);              \
    if ((call) != ZCP_OK) goto fail; \
  } while (0)
  /* Ends step s: a barrier, then the bytes since the previous mark. */
#define END_STEP(s)                                          \
  do {                                                       \
    CHECK(zcp_node_barrier(node, WAIT_MS, &err), "barrier"); \
    int64_t b = bytes_sent(node);                            \
    rep->step_bytes[s] = b - mark;                           \
    mark = b;                                                \
  } while (0)

  CHECK(zcp_config_load(config_path, &cfg, &err), "config");
  CHECK(zcp_node_open(cfg, id, &node, &err), "open");
  zcp_config_free(cfg); /* the node keeps its own copy */
  cfg = NULL;
  CHECK(zcp_node_wait_online(node, WAIT_MS, &err), "waiting for the other nodes");
  printf("node %d: online, pid %d\n", id, (int)getpid());
  CHECK(make_schema(&schema, &err), "schema");
  /* One idle round: what a barrier alone costs, to take off the steps' bytes. */
  CHECK(zcp_node_barrier(node, WAIT_MS, &err), "barrier");
  mark = bytes_sent(node);
  CHECK(zcp_node_barrier(node, WAIT_MS, &err), "barrier");
  rep->idle_bytes = bytes_sent(node) - mark;
  mark += rep->idle_bytes;

  /* 2. build: node 2 writes its chunk into node 0's memory through a remote pool. */
  int32_t owner = id == 2 ? 0 : id;
  struct zcp_allocator *pool;
  t0 = now_s();
  CHECK(zcp_node_allocator(node, owner, &pool, &err), "pool");
  CHECK(build_chunk(pool, &schema, id * rows, rows, &chunk, &err), "build");
  rep->seconds[BUILD] = now_s() - t0;
  printf("node %d: built rows [%" PRId64 ", %" PRId64 ") in %s: %.3f s\n", id, id * rows,
         (id + 1) * rows,
         owner == id ? "its own region" : "node 0's region, through a remote pool",
         rep->seconds[BUILD]);
  END_STEP(BUILD);

  /* 3. seal (write-back, blocks become read-only for everyone), add, commit. */
  t0 = now_s();
  CHECK(zcp_node_seal_batch(node, &chunk, &err), "seal");
  rep->seconds[SEAL] = now_s() - t0;
  END_STEP(SEAL);
  t0 = now_s();
  CHECK(zcp_hugetable_add_chunk(node, TABLE, id * rows, &schema, &chunk, &err),
        "add chunk");
  if (id == 0) {
    CHECK(zcp_hugetable_commit(node, TABLE, N_NODES * rows, WAIT_MS, &err), "commit");
    printf("node 0: committed \"%s\": %" PRId64 " rows in %d chunks\n", TABLE,
           N_NODES * rows, N_NODES);
  }
  rep->seconds[SHARE] = now_s() - t0;
  END_STEP(SHARE);

  /* 4. every node assembles the table from the descriptors and reads it in place. */
  t0 = now_s();
  CHECK(zcp_hugetable_import(node, TABLE, ZCP_VALIDATE_DEFAULT, WAIT_MS, &table, &err),
        "open table");
  rep->seconds[OPEN] = now_s() - t0;
  struct walk w;
  t0 = now_s();
  walk_table(table, &w);
  rep->rows = w.rows;
  rep->checksum = w.checksum;
  printf("node %d: opened \"%s\" in %.3f s: %" PRId64 " rows in %" PRId64
         " batches, checksum %016" PRIx64 " (walked in %.3f s)\n",
         id, TABLE, rep->seconds[OPEN], w.rows, zcp_table_num_batches(table), w.checksum,
         now_s() - t0);
  END_STEP(OPEN);

  /* 5. node 1 asks DuckDB. */
  if (id == 1) {
    t0 = now_s();
    rep->query = query(id, table, &w, &err);
    rep->seconds[QUERY] = now_s() - t0;
    what = "query";
    if (rep->query < 0) goto fail;
  }
  END_STEP(QUERY);

  /* 6. the baseline: node 0 copies the whole table to node 1 as an Arrow IPC stream. */
  if (id == 0) {
    t0 = now_s();
    CHECK(zcp_node_send_table_full(node, 1, TABLE "-copy", table, &err), "full copy");
    rep->seconds[COPY] = now_s() - t0;
    printf("node 0: sent a full IPC copy of \"%s\" to node 1: %.3f s\n", TABLE,
           rep->seconds[COPY]);
  }
  END_STEP(COPY);
  if (id == 1) {
    struct zcp_table *copy = NULL;
    CHECK(zcp_node_received_table(node, TABLE "-copy", &copy, &err), "received copy");
    struct walk wc;
    walk_table(copy, &wc);
    zcp_table_release(copy);
    CHECK(zcp_node_received_drop(node, TABLE "-copy", &err), "dropping the copy");
    printf("node 1: the copy (in node 1's own region): %" PRId64
           " rows, checksum %016" PRIx64 "%s\n",
           wc.rows, wc.checksum,
           wc.checksum == w.checksum ? " (the same)" : " (DIFFERENT)");
    what = "checking the copy";
    if (wc.rows != w.rows || wc.checksum != w.checksum) goto fail;
  }

  /* Nobody leaves while another node still reads its region. A node that has passed
   * this barrier closes at once; a slower node's barrier still passes, since a closing
   * node tells its peers the rounds it entered. */
  zcp_table_release(table);
  table = NULL;
  what = "final barrier";
  if (zcp_node_barrier(node, WAIT_MS, &err) != ZCP_OK) goto fail;
  /* Node 2's chunk lives in node 0's region and node 2 frees it when it closes: node 0
   * closes last. */
  if (id == 0) {
    for (int p = 1; p < N_NODES; p++)
      if (zcp_node_wait_peer(node, p, false, 10000, &err) != ZCP_OK)
        fprintf(stderr, "node 0: %s\n", err.message);
  }
  zcp_schema_release(&schema);
  zcp_node_close(node);
  rep->ok = 1;
  return 0;

fail:
  fprintf(stderr, "node %d: %s: %s\n", id, what, err.message[0] ? err.message : "failed");
  zcp_config_free(cfg);
  if (chunk.release != NULL) chunk.release(&chunk);
  zcp_table_release(table);
  if (schema.release != NULL) zcp_schema_release(&schema);
  zcp_node_close(node);
  return 1;
#undef CHECK
#undef END_STEP
}

/* ---- the parent: cluster files, node processes, summary ------------------------------
 */

static volatile sig_atomic_t g_stop; /* SIGINT/SIGTERM: kill the nodes, clean up */
static void on_signal(int sig) {
  g_stop = sig;
}

/* The cluster: its config built key by key and written into the cluster's directory. */
/* The test suite's emulator switch (DESIGN §9): ZCP_EMULATE_NONCOHERENT=1, with the
 * policy from ZCP_EMULATE_POLICY=stale|random and the seed from ZCP_EMULATE_SEED as
 * `make test-emulated` sets them. The regions are then declared non-coherent and the
 * emulator is turned on here, before the nodes are forked, so that every node maps them
 * through it: the library itself reads no such variable, a program asks for the
 * emulator. Returns 1 when emulating, 0 when not, -1 when it would not start. */
static int emulate_from_env(struct zcp_error *err) {
  const char *on = getenv("ZCP_EMULATE_NONCOHERENT");
  if (on == NULL || strcmp(on, "1") != 0) return 0;
  struct zcp_emulator_options o = {ZCP_EMULATOR_KEEP_STALE, 1, 0.0};
  const char *policy = getenv("ZCP_EMULATE_POLICY");
  if (policy != NULL && strcmp(policy, "random") == 0) {
    o.policy = ZCP_EMULATOR_RANDOM_EVICT;
    o.evict_per_fault = 0.25;
  }
  const char *seed = getenv("ZCP_EMULATE_SEED");
  if (seed != NULL) o.seed = strtoull(seed, NULL, 0);
  if (zcp_emulator_enable(&o, err) != ZCP_OK) {
    fprintf(stderr, "cluster_demo: %s\n", err->message);
    return -1;
  }
  return 1;
}

static zcp_status_t make_cluster(struct zcp_local **lc, int64_t region_bytes,
                                 bool emulated, struct zcp_error *err) {
  ZCP_RETURN_NOT_OK(zcp_local_open("demo", lc, err));
  struct zcp_config *cfg = zcp_local_config(*lc);
  ZCP_RETURN_NOT_OK(zcp_config_set_heartbeat_ms(cfg, 500, err));
  ZCP_RETURN_NOT_OK(zcp_config_set_down_after_ms(cfg, 5000, err));
  ZCP_RETURN_NOT_OK(zcp_config_set_call_timeout_ms(cfg, 60000, err));
  /* Under the emulator (emulate_from_env) the regions are declared non-coherent, so
   * every node maps them through it (DESIGN §9). */
  for (int i = 0; i < N_NODES; i++)
    ZCP_RETURN_NOT_OK(zcp_local_add_node(*lc, NULL, region_bytes,
                                         emulated ? ZCP_NONCOHERENT : ZCP_COHERENT, err));
  return zcp_local_write(*lc, err);
}

/* A node process: runs node id to the end and sends the parent its report. */
static int node_process(struct zcp_local *lc, int32_t id, int in_fd, int out_fd,
                        void *ctx) {
  const int64_t *rows = ctx;
  setvbuf(stdout, NULL, _IOLBF, 0); /* whole lines from each node */
  struct report r = {0};
  int code = run_node(zcp_local_config_path(lc), id, *rows, &r);
  ssize_t n = write(out_fd, &r, sizeof r);
  return n == (ssize_t)sizeof r ? code : 1;
}

static void print_time(double s) {
  if (s < 1)
    printf("%9.3f ms", s * 1e3);
  else
    printf("%9.3f s ", s);
}

static void print_bytes(int64_t b) {
  if (b < 10 * 1024)
    printf("%10" PRId64 " B  ", b);
  else if (b < 10 * 1024 * 1024)
    printf("%10.1f KiB", (double)b / 1024);
  else
    printf("%10.1f MiB", (double)b / (1024 * 1024));
}

/* Prints the table of steps; false when the nodes disagree. */
static bool summarize(const struct report rep[N_NODES], int64_t rows) {
  double secs[N_STEPS] = {0};
  int64_t bytes[N_STEPS] = {0};
  for (int s = 0; s < N_STEPS; s++) {
    for (int i = 0; i < N_NODES; i++) {
      if (rep[i].seconds[s] > secs[s]) secs[s] = rep[i].seconds[s];
      bytes[s] += rep[i].step_bytes[s] - rep[i].idle_bytes; /* less the barrier */
    }
    if (bytes[s] < 0) bytes[s] = 0;
  }
  printf("\nstep            time (slowest node)   control bytes (all nodes)\n");
  for (int s = 0; s < N_STEPS; s++) {
    if (s == QUERY && rep[1].query == 0) {
      printf("%-16s   (skipped: no DuckDB)\n", kStepNames[s]);
      continue;
    }
    if (s == COPY) printf("\n");
    printf("%-16s", kStepNames[s]);
    print_time(secs[s]);
    printf("            ");
    print_bytes(bytes[s]);
    printf("\n");
  }
  double zc_s = secs[SEAL] + secs[SHARE] + secs[OPEN];
  int64_t zc_b = bytes[SEAL] + bytes[SHARE] + bytes[OPEN];
  printf("\nzero-copy path (seal + share + open):");
  print_time(zc_s);
  print_bytes(zc_b);
  printf("\nfull IPC copy to one node:           ");
  print_time(secs[COPY]);
  print_bytes(bytes[COPY]);
  printf("  (%.0fx the time, %.0fx the bytes)\n", zc_s > 0 ? secs[COPY] / zc_s : 0,
         zc_b > 0 ? (double)bytes[COPY] / (double)zc_b : 0);
  printf("(bytes: every frame every node sent, less one idle barrier round per step)\n");

  bool agree = true;
  for (int i = 0; i < N_NODES; i++)
    agree = agree && rep[i].rows == N_NODES * rows && rep[i].checksum == rep[0].checksum;
  if (agree)
    printf("\nall %d nodes read the same %" PRId64 " rows, checksum %016" PRIx64 "\n",
           N_NODES, rep[0].rows, rep[0].checksum);
  else
    printf("\nthe nodes DISAGREE about the table\n");
  return agree;
}

int main(int argc, char **argv) {
  int64_t rows = argc > 1 ? strtoll(argv[1], NULL, 10) : 1000000;
  if (argc > 2 || rows <= 0 || rows > 100000000) {
    fprintf(stderr, "usage: cluster_demo [rows_per_node, 1..100000000]\n");
    return 2;
  }
  /* Two chunks in node 0's region, a chunk and the full copy in node 1's: ~60 bytes a
   * row each, with room to spare. */
  int64_t region_bytes = ((rows * 3 * 64 + (64 << 20)) >> 20) << 20;
  struct zcp_error err = {0};
  struct zcp_local *lc = NULL;
  int rc = 1;
  struct report rep[N_NODES];
  memset(rep, 0, sizeof rep);
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  int emulated = emulate_from_env(&err);
  if (emulated < 0) goto out;
  if (make_cluster(&lc, region_bytes, emulated == 1, &err) != ZCP_OK) {
    fprintf(stderr, "cluster_demo: %s\n", err.message);
    goto out;
  }
  struct zcp_config_node first;
  if (zcp_config_get_node(zcp_local_config(lc), 0, &first, &err) != ZCP_OK) goto out;
  printf("zcpool cluster demo: %d node processes, %" PRId64
         " rows each, huge table \"%s\"%s\n",
         N_NODES, rows, TABLE, emulated ? " (non-coherent regions, emulated)" : "");
  printf("cluster files in %s, regions %s..%d of %" PRId64 " MiB\n\n", zcp_local_dir(lc),
         first.device, N_NODES - 1, region_bytes >> 20);
  fflush(stdout);

  for (int i = 0; i < N_NODES; i++) {
    if (zcp_local_fork(lc, i, node_process, &rows, &err) != ZCP_OK) {
      fprintf(stderr, "cluster_demo: node %d: %s\n", i, err.message);
      goto out;
    }
  }

  /* Collect every node's report, bounded by DEADLINE_S. */
  bool got[N_NODES] = {false}, done[N_NODES] = {false};
  double deadline = now_s() + DEADLINE_S;
  for (int left = N_NODES; left > 0 && !g_stop;) {
    struct pollfd pf[N_NODES];
    for (int i = 0; i < N_NODES; i++)
      pf[i] =
          (struct pollfd){done[i] ? -1 : zcp_local_proc(lc, i)->from_child, POLLIN, 0};
    int ms = (int)((deadline - now_s()) * 1000);
    if (ms <= 0) {
      fprintf(stderr, "cluster_demo: the nodes did not finish within %d s\n", DEADLINE_S);
      break;
    }
    if (poll(pf, N_NODES, ms) < 0 && errno != EINTR) break;
    for (int i = 0; i < N_NODES; i++) {
      if (done[i] || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      got[i] =
          zcp_proc_read_exact(zcp_local_proc(lc, i), &rep[i], sizeof rep[i], 1000) == 1;
      done[i] = true;
      left--;
    }
  }
  if (g_stop) fprintf(stderr, "cluster_demo: interrupted\n");

  bool ok = true;
  for (int i = 0; i < N_NODES; i++) {
    /* No report in time: killed. Otherwise the node is closing and exits shortly. */
    if (!got[i]) zcp_proc_kill(zcp_local_proc(lc, i));
    int code = got[i] ? zcp_local_wait(lc, i, 30000) : -1;
    if (!got[i] || !rep[i].ok || code != 0) {
      fprintf(stderr, "cluster_demo: node %d failed\n", i);
      ok = false;
    }
  }
  if (ok) ok = summarize(rep, rows);
  rc = ok ? 0 : 1;

out:
  zcp_local_close(lc); /* kills what still runs, removes regions, sockets and files */
  return rc;
}
