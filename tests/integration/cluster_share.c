/* Sharing across 3-4 node processes (this test is node 0; the others are this binary in
 * the "node" role, driven by the commands of zcp_share_cmds.c): shared batches built in
 * another node's region, looked up and checked value by value on every node; leases and
 * drop; a huge table whose chunks come from every node (one built in another node's
 * region), opened and checked everywhere and queried by DuckDB; incomplete and
 * overlapping huge tables; a killed owner, a restarted owner and creator; a descriptor
 * naming an unsealed block.
 *
 * The coherence proof (DESIGN §9): the emulated_* tests always run with non-coherent
 * regions under the emulator; with ZCP_EMULATE_NONCOHERENT=1 in the environment every
 * test does (CTest runs the binary so with each emulator policy and seed). The site
 * matrix runs the emulated_* tests once per protocol call site switched off and expects
 * a failure each time. */
#define _GNU_SOURCE 1
#include <criterion/criterion.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/sites.h"
#include "zcp_cluster_test.h"
#include "zcp_share_cmds.h"
#include "zcpool/hugetable.h"

#define CMD_MS ZCP_TEST_CMD_MS

/* `--list-sites` prints every protocol call site the library can switch off, one a line,
 * and exits: the site matrix (site_matrix.cmake) takes the list from here, so that it
 * is the library's own and cannot drift from the code. */
__attribute__((constructor)) static void helper_entry(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--list-sites") == 0) {
    for (int i = 0; zcp__site_names[i] != NULL; i++) printf("%s\n", zcp__site_names[i]);
    fflush(stdout);
    _exit(0);
  }
  zcp_proc_helper_main(argc, argv, zcp_test_node_dispatch);
}

static struct zcp_test_cluster tc;
static struct zcp_proc helper[4];
static struct zcp_node *self;

static void teardown(void) {
  zcp_test_nodes_down(&tc, &self);
}

TestSuite(cluster_share, .fini = teardown, .timeout = 90);

/* n nodes, 1..n-1 as helpers, all online. extra: more [cluster] keys. */
static void start(int n, bool noncoherent, const struct zcp_test_keys *extra) {
  /* Under the emulator (the emulated CTest runs, the site matrix) every test runs with
   * non-coherent regions, and every node emulates, this one too. */
  const char *emu = getenv("ZCP_EMULATE_NONCOHERENT");
  if (emu != NULL && strcmp(emu, "1") == 0) noncoherent = true;
  zcp_test_cluster_write(&tc, n, false, false, noncoherent, extra);
  tc.helper_env = noncoherent ? "ZCP_EMULATE_NONCOHERENT=1" : NULL;
  zcp_test_nodes_up(&tc, helper, n, &self);
}

/* Runs cmd on node id (0: here) and checks the answer starts with "st <want>". */
static void run(int id, const char *cmd, int want, char *out, size_t cap) {
  zcp_test_run(self, helper, id, cmd, want, out, cap);
}

static long long num(const char *out, int field) {
  return zcp_test_answer_num(out, field);
}

static uint64_t checksum_of(const char *out) {
  return zcp_test_answer_checksum(out);
}

Test(cluster_share, share_lookup_list_drop_across_nodes) {
  start(3, false, NULL);
  char out[1024];
  uint64_t want = zcp_test_fixture_checksum(0, 500);
  run(2, "used", 0, out, sizeof out);
  long long used0 = num(out, 2);
  /* Node 1 builds in node 2's region and shares; nodes 0 and 2 read it in place. */
  run(1, "share t1 2 0 500", 0, out, sizeof out);
  run(2, "used", 0, out, sizeof out);
  cr_assert_gt(num(out, 2), used0, "the batch lives in node 2's region");
  run(0, "lookup t1 0 500", 0, out, sizeof out);
  cr_assert_eq(checksum_of(out), want);
  run(2, "lookup t1 0 500", 0, out, sizeof out);
  cr_assert_eq(checksum_of(out), want);
  run(1, "lookup t1 0 500", 0, out, sizeof out);
  run(2, "list", 0, out, sizeof out);
  cr_assert(strstr(out, " t1/0/1/0") != NULL, "%s", out);
  /* The name is taken; only the creator drops. */
  run(0, "share t1 0 0 10", ZCP_BUSY, out, sizeof out);
  run(0, "drop t1 1000", ZCP_INVALID_ARGUMENT, out, sizeof out);
  run(0, "drop nosuch 1000", ZCP_NOT_FOUND, out, sizeof out);
  run(1, "drop t1 1000", 0, out, sizeof out);
  /* Gone everywhere, and its blocks are back in node 2's pool. */
  run(0, "lookup t1 0 500", ZCP_NOT_FOUND, out, sizeof out);
  run(2, "lookup t1 0 500", ZCP_NOT_FOUND, out, sizeof out);
  run(2, "used", 0, out, sizeof out);
  cr_assert_eq(num(out, 2), used0, "%s", out);
  run(0, "list", 0, out, sizeof out);
  cr_assert_str_eq(out, "st 0 0");
}

Test(cluster_share, unsealed_block_is_refused) {
  start(3, false, NULL);
  char out[1024];
  run(1, "unsealed 2", ZCP_BUSY, out, sizeof out);
  cr_assert(strstr(out, "not sealed") != NULL, "%s", out);
  run(1, "unsealed 1", ZCP_BUSY, out, sizeof out);
  run(0, "unsealed 1", ZCP_BUSY, out, sizeof out);
}

Test(cluster_share, drop_waits_for_a_lease_then_frees) {
  start(3, false, NULL);
  char out[1024];
  run(1, "used", 0, out, sizeof out);
  long long used0 = num(out, 2);
  run(0, "share t2 1 0 300", 0, out, sizeof out);
  run(2, "lease t2 60000", 0, out, sizeof out);
  unsigned long long id = (unsigned long long)num(out, 2);
  /* A drop that cannot wait long enough leaves the batch shared. */
  run(0, "drop t2 200", ZCP_TIMEOUT, out, sizeof out);
  cr_assert(strstr(out, "node(s) 2") != NULL, "%s", out);
  run(2, "lookup t2 0 300", 0, out, sizeof out);
  /* A drop in progress refuses new leases and completes once the lease is released. */
  struct zcp_test_drop_job job = {self, "t2", false, 20000, -1, {0}};
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, zcp_test_drop_thread, &job), 0);
  bool refused = false;
  for (int i = 0; i < 200 && !refused; i++) {
    cr_assert(zcp_test_node_cmd(&helper[1], "lease t2 60000", out, sizeof out, CMD_MS));
    refused = strncmp(out, "st 5 ", 5) == 0;
    if (!refused) {
      cr_assert(strncmp(out, "st 0 ", 5) == 0, "%s", out);
      char cmd[100];
      snprintf(cmd, sizeof cmd, "release t2 %lld", num(out, 2));
      run(1, cmd, 0, out, sizeof out);
      usleep(5000);
    }
  }
  cr_assert(refused, "a drop in progress still granted leases");
  char cmd[100];
  snprintf(cmd, sizeof cmd, "release t2 %llu", id);
  run(2, cmd, 0, out, sizeof out);
  pthread_join(th, NULL);
  cr_assert_eq(job.st, ZCP_OK, "%s", job.err.message);
  run(1, "used", 0, out, sizeof out);
  cr_assert_eq(num(out, 2), used0, "the creator freed its blocks: %s", out);
  run(2, "lookup t2 0 300", ZCP_NOT_FOUND, out, sizeof out);
}

Test(cluster_share, lease_expires) {
  start(3, false, NULL);
  char out[1024];
  run(1, "share t3 1 0 100", 0, out, sizeof out);
  run(2, "lease t3 300", 0, out, sizeof out);
  unsigned long long id = (unsigned long long)num(out, 2);
  /* Never released: the drop waits for the expiry, well within its timeout. */
  run(1, "drop t3 20000", 0, out, sizeof out);
  char cmd[100];
  snprintf(cmd, sizeof cmd, "release t3 %llu", id);
  run(2, cmd, ZCP_NOT_FOUND, out, sizeof out);
  run(0, "lease t3 100", ZCP_NOT_FOUND, out, sizeof out);
  run(0, "lease t3 0", ZCP_INVALID_ARGUMENT, out, sizeof out);
}

/* Checks that node id's process really emulates non-coherent caches and used them
 * (FILLED pages, WRITTEN_BACK lines); returns the pages it evicted at random. */
static long long emulated(int id, bool wrote) {
  char out[256];
  run(id, "emu", 0, out, sizeof out);
  cr_assert_eq(num(out, 2), 1, "node %d does not emulate: %s", id, out);
  cr_assert_gt(num(out, 3), 0, "node %d filled no page: %s", id, out);
  if (wrote) cr_assert_gt(num(out, 4), 0, "node %d wrote nothing back: %s", id, out);
  return num(out, 6);
}

#define CHUNK 2000 /* rows; with every fixture type a chunk spans many pages */

/* The proof test (DESIGN §9; the same with and without the emulator): each of four
 * nodes builds a chunk of a huge table of every fixture type, with nulls, in its own
 * region, and node 1 writes one more chunk into node 3's region; every node opens the
 * table, checks every value and the checksum; DuckDB on node 2 answers the right
 * aggregates. */
static void huge_table(bool noncoherent, const struct zcp_test_keys *extra) {
  start(4, noncoherent, extra);
  char out[1024], cmd[128];
  for (int i = 0; i < 4; i++) {
    snprintf(cmd, sizeof cmd, "chunk h %d %d %d", i, i * CHUNK, CHUNK);
    run(i, cmd, 0, out, sizeof out);
  }
  run(3, "used", 0, out, sizeof out);
  long long used3 = num(out, 2);
  snprintf(cmd, sizeof cmd, "chunk h 3 %d %d", 4 * CHUNK, CHUNK);
  run(1, cmd, 0, out, sizeof out);
  run(3, "used", 0, out, sizeof out);
  cr_assert_gt(num(out, 2), used3, "node 1's chunk lives in node 3's region: %s", out);
  snprintf(cmd, sizeof cmd, "chunk h 2 %d 100", CHUNK - 50);
  run(2, cmd, ZCP_CORRUPT_INPUT, out, sizeof out);
  cr_assert(strstr(out, "overlap") != NULL, "%s", out);
  const int total = 5 * CHUNK;
  char open_cmd[64];
  snprintf(cmd, sizeof cmd, "commit h %d 10000", total);
  run(3, cmd, 0, out, sizeof out);
  run(1, cmd, ZCP_BUSY, out, sizeof out);
  snprintf(cmd, sizeof cmd, "chunk h 1 %d 10", total);
  run(1, cmd, ZCP_BUSY, out, sizeof out);
  uint64_t want = zcp_test_fixture_checksum(0, total);
  snprintf(open_cmd, sizeof open_cmd, "open h %d 10000", total);
  for (int i = 0; i < 4; i++) {
    run(i, open_cmd, 0, out, sizeof out);
    cr_assert_eq(checksum_of(out), want, "node %d", i);
  }
  if (noncoherent) {
    long long evicted = 0;
    for (int i = 1; i < 4; i++) evicted += emulated(i, i == 1);
    const char *policy = getenv("ZCP_EMULATE_POLICY");
    if (policy != NULL && strcmp(policy, "random") == 0)
      cr_assert_gt(evicted, 0, "random eviction evicted nothing");
  }
  snprintf(cmd, sizeof cmd, "sql h %d 10000", total);
  cr_assert(zcp_test_node_cmd(&helper[2], cmd, out, sizeof out, CMD_MS));
  if (strncmp(out, "st 77", 5) == 0) { /* no DuckDB here: the rest has run */
    fprintf(stderr, "cluster_share: libduckdb not installed, the SQL step was skipped\n");
    return;
  }
  cr_assert(strncmp(out, "st 0 ", 5) == 0, "node 2: %s", out);
  cr_assert_eq(checksum_of(out), want, "node 2");
  /* The same stream on node 0. */
  struct zcp_error err = {0};
  struct zcp_table *t = NULL;
  cr_assert_eq(zcp_hugetable_import(self, "h", ZCP_VALIDATE_DEFAULT, 1000, &t, &err),
               ZCP_OK, "%s", err.message);
  struct ArrowArrayStream s;
  cr_assert_eq(zcp_table_export_stream(t, &s, &err), ZCP_OK, "%s", err.message);
  zcp_table_release(t);
  int64_t rows = 0;
  struct ArrowArray a;
  while (s.get_next(&s, &a) == 0 && a.release != NULL) {
    rows += a.length;
    a.release(&a);
  }
  s.release(&s);
  cr_assert_eq(rows, total);
}

Test(cluster_share, huge_table_from_every_node) {
  huge_table(false, NULL);
}

Test(cluster_share, emulated_noncoherent_huge_table) {
  huge_table(true, NULL);
}

/* Memory freed by a drop is reused: the reader's emulated cache still holds the first
 * batch's lines, the writer's too; only the protocol makes both see the second. */
static void reuse(bool noncoherent, const struct zcp_test_keys *extra) {
  start(3, noncoherent, extra);
  char out[1024];
  run(1, "share a 0 0 300", 0, out, sizeof out);
  run(2, "lookup a 0 300", 0, out, sizeof out);
  run(1, "drop a 1000", 0, out, sizeof out);
  run(1, "share b 0 300 300", 0, out, sizeof out);
  run(2, "lookup b 300 300", 0, out, sizeof out);
  cr_assert_eq(checksum_of(out), zcp_test_fixture_checksum(300, 300));
  run(1, "lookup b 300 300", 0, out, sizeof out);
}

Test(cluster_share, emulated_reused_memory_is_read_fresh) {
  reuse(true, NULL);
}

Test(cluster_share, emulated_prewrite_flush_mode) {
  reuse(true, &(struct zcp_test_keys){.prewrite_flush = true});
  char out[1024];
  run(1, "share p 2 0 400", 0, out, sizeof out);
  run(2, "lookup p 0 400", 0, out, sizeof out);
  cr_assert_eq(checksum_of(out), zcp_test_fixture_checksum(0, 400));
  run(0, "lookup p 0 400", 0, out, sizeof out);
}

/* The owner clears a block it hands out again through its own caches: they still hold
 * the first lines of its region as zeros from writing the header (the emulator's cache
 * has the whole page), while memory holds what a client wrote there since. Only the
 * owner's dropping of its lines before clearing, and its write-back after, make the
 * second client see zeros. Nodes 1 and 2 are the clients, node 3 the owner. */
static void reused_block(int owner) {
  char out[1024], cmd[64];
  snprintf(cmd, sizeof cmd, "fill %d 2048 171", owner);
  run(1, cmd, 0, out, sizeof out);
  long long first = num(out, 2);
  snprintf(cmd, sizeof cmd, "zeros %d 2048", owner);
  run(2, cmd, 0, out, sizeof out);
  cr_assert_eq(num(out, 2), first, "the second block reuses the first's memory: %s", out);
  cr_assert_eq(num(out, 3), 0, "node 2 read what node 1 wrote in a cleared block: %s",
               out);
}

Test(cluster_share, emulated_owner_clears_reused_memory) {
  start(4, true, NULL);
  reused_block(3);
  reused_block(3);
}

Test(cluster_share, incomplete_and_mismatched_huge_tables) {
  start(3, false, NULL);
  char out[1024];
  run(1, "chunk g 1 0 100", 0, out, sizeof out);
  run(2, "chunk g 2 200 100", 0, out, sizeof out);
  run(1, "commit g 300 300", ZCP_INCOMPLETE, out, sizeof out);
  cr_assert(strstr(out, "[100, 200)") != NULL, "%s", out);
  run(2, "open g 300 300", ZCP_INCOMPLETE, out, sizeof out);
  cr_assert(strstr(out, "not committed") != NULL, "%s", out);
  /* The missing rows come, but with another schema. */
  run(0, "chunk1 g 0 100 100", 0, out, sizeof out);
  run(1, "commit g 300 300", ZCP_CORRUPT_INPUT, out, sizeof out);
  cr_assert(strstr(out, "schema") != NULL, "%s", out);
  /* A chunk past the end. */
  run(0, "chunk k 0 0 50", 0, out, sizeof out);
  run(0, "commit k 40 300", ZCP_CORRUPT_INPUT, out, sizeof out);
}

Test(cluster_share, killed_owner_then_stale_after_restart) {
  start(3, false, NULL);
  char out[1024];
  struct zcp_error err = {0};
  run(1, "share t4 2 0 200", 0, out, sizeof out);
  run(1, "share t5 1 0 200", 0, out, sizeof out);
  run(0, "lookup t4 0 200", 0, out, sizeof out);
  /* The owner of t4's memory dies. */
  kill(helper[2].pid, SIGKILL);
  cr_assert_eq(zcp_proc_wait(&helper[2], 5000), 128 + SIGKILL);
  cr_assert_eq(zcp_node_wait_peer(self, 2, false, 5000, &err), ZCP_OK, "%s", err.message);
  run(0, "lookup t4 0 200", ZCP_PEER_DOWN, out, sizeof out);
  cr_assert(strstr(out, "owner down") != NULL, "%s", out);
  run(0, "lookup t5 0 200", 0, out, sizeof out);
  /* It comes back with a new epoch: t4 names memory of its earlier life. */
  cr_assert(zcp_test_node_start(&helper[2], &tc, 2));
  cr_assert_eq(zcp_node_wait_peer(self, 2, true, 10000, &err), ZCP_OK, "%s", err.message);
  run(0, "lookup t4 0 200", ZCP_STALE, out, sizeof out);
  /* The creator of t5 dies and comes back: t5 is stale too. It held a shared (sealed)
   * batch and three unsealed blocks in node 0's region: only the unsealed ones are
   * reclaimed when its new epoch says hello. */
  cr_assert(zcp_test_node_cmd(&helper[1], "online 10000", out, sizeof out, CMD_MS));
  run(1, "share t6 0 0 100", 0, out, sizeof out);
  run(1, "grab 0 3", 0, out, sizeof out);
  struct zcp_node_status ns;
  zcp_node_status(self, &ns);
  int64_t live = ns.live_blocks;
  kill(helper[1].pid, SIGKILL);
  cr_assert_eq(zcp_proc_wait(&helper[1], 5000), 128 + SIGKILL);
  cr_assert_eq(zcp_node_wait_peer(self, 1, false, 5000, &err), ZCP_OK, "%s", err.message);
  cr_assert(zcp_test_node_start(&helper[1], &tc, 1));
  cr_assert_eq(zcp_node_wait_peer(self, 1, true, 10000, &err), ZCP_OK, "%s", err.message);
  cr_assert(zcp_test_node_cmd(&helper[1], "online 10000", out, sizeof out, CMD_MS));
  cr_assert_str_eq(out, "ok ", "%s", out);
  /* A call on that connection is served after its hello has been handled. */
  cr_assert(zcp_test_node_cmd(&helper[1], "alloc 0 64", out, sizeof out, CMD_MS));
  cr_assert(strncmp(out, "st 0 ", 5) == 0, "%s", out);
  zcp_node_status(self, &ns);
  cr_assert_eq(ns.reclaimed_blocks, 3);
  cr_assert_eq(ns.live_blocks, live - 3 + 1, "the sealed blocks stay");
  run(0, "lookup t5 0 200", ZCP_STALE, out, sizeof out);
  run(0, "lookup t6 0 100", ZCP_STALE, out, sizeof out);
  run(0, "list", 0, out, sizeof out);
  cr_assert(strstr(out, " t5/0/1/1") != NULL, "%s", out);
}
