/* Clusters of 3-4 nodes, each a process of its own (this test is node 0; the others are
 * this binary started again in the "node" role): remote allocation from every node into
 * every other, an Arrow column built by one node in another's region and read by a third,
 * barriers, a node killed mid-run (the others get typed errors within the bound and keep
 * serving each other; the node comes back with a new epoch and its unsealed blocks are
 * reclaimed), a silent node declared down.
 * Every scenario runs over Unix sockets and, as root, over TCP with every node in a
 * network namespace of its own. */
#define _GNU_SOURCE 1
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zcp_cluster_test.h"
#include "zcpool/pool.h"

#define CMD_MS ZCP_TEST_CMD_MS

__attribute__((constructor)) static void helper_entry(int argc, char **argv) {
  zcp_proc_helper_main(argc, argv, zcp_test_node_dispatch);
}

enum mode { UNIX_SOCKETS, TCP_NETNS };

static struct zcp_test_cluster tc;
static struct zcp_proc helper[4];
static struct zcp_node *self;
static bool noncoherent; /* regions noncoherent, helper nodes under the emulator */

static void teardown(void) {
  zcp_test_nodes_down(&tc, &self);
}

TestSuite(cluster_nodes, .fini = teardown, .timeout = 60);

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sets up n nodes: 1..n-1 as helpers, 0 here; all online. False: skipped. */
static bool start(int n, enum mode mode) {
  zcp_test_cluster_write(&tc, n, mode == TCP_NETNS, mode == TCP_NETNS, noncoherent, NULL);
  tc.helper_env = noncoherent ? "ZCP_EMULATE_NONCOHERENT=1" : NULL;
  if (mode == TCP_NETNS) {
    char why[200];
    if (!zcp_test_netns_setup(&tc, why, sizeof why)) {
      cr_skip_test("skipped: %s", why);
      return false;
    }
    cr_assert(zcp_test_netns_enter(tc.netns[0]), "cannot enter %s", tc.netns[0]);
  }
  zcp_test_nodes_up(&tc, helper, n, &self);
  return true;
}

static void send_line(struct zcp_proc *p, const char *cmd) {
  size_t n = strlen(cmd);
  cr_assert_eq(write(p->to_child, cmd, n), (ssize_t)n);
  cr_assert_eq(write(p->to_child, "\n", 1), 1);
}

static void expect_line(struct zcp_proc *p, int id, const char *prefix, char *out,
                        int cap) {
  cr_assert(zcp_test_node_cmd(p, NULL, out, cap, CMD_MS), "node %d did not answer", id);
  cr_assert(strncmp(out, prefix, strlen(prefix)) == 0, "node %d: %s", id, out);
}

/* ---- scenarios ----------------------------------------------------------------------
 */

static void remote_allocation(enum mode mode) {
  if (!start(4, mode)) return;
  char out[600];
  /* Every helper into every other node, all at once, while node 0 does the same. */
  for (int i = 1; i < 4; i++) send_line(&helper[i], "alloc_all");
  struct zcp_error err = {0};
  for (int owner = 1; owner < 4; owner++) {
    void *p = NULL, *q = NULL;
    cr_assert_eq(zcp_node_alloc(self, owner, 5000, &p, &err), ZCP_OK, "%s", err.message);
    memset(p, 0xab, 5000);
    cr_assert_eq(zcp_node_realloc(self, owner, p, 5000, 200000, &q, &err), ZCP_OK, "%s",
                 err.message);
    cr_assert_eq(((unsigned char *)q)[4999], 0xab);
    cr_assert_eq(zcp_node_free(self, owner, q, &err), ZCP_OK, "%s", err.message);
    /* Freeing a block that is no longer live (or, when another node got it meanwhile,
     * not ours) is a typed error. */
    zcp_status_t st = zcp_node_free(self, owner, q, &err);
    cr_assert(st == ZCP_NOT_FOUND || st == ZCP_INVALID_ARGUMENT, "%d %s", st,
              err.message);
    cr_assert(strstr(err.message, "node") != NULL, "%s", err.message);
  }
  for (int i = 1; i < 4; i++) expect_line(&helper[i], i, "ok", out, sizeof out);
  /* Thesis mode: node 1 flushes its block in node 0's region on every node at once. */
  cr_assert(zcp_test_node_cmd(&helper[1], "flushown 0", out, sizeof out, CMD_MS));
  cr_assert(strncmp(out, "st 0", 4) == 0, "node 1: %s", out);
  /* Everything the others took from node 0's region went back. */
  struct zcp_node_status st;
  zcp_node_status(self, &st);
  cr_assert_eq(st.live_blocks, 0, "%lld blocks left", (long long)st.live_blocks);
  cr_assert_eq(st.peers_up, 3);
}

static void column_across_nodes(enum mode mode) {
  if (!start(3, mode)) return;
  char out[600], cmd[700];
  /* Node 1 builds in node 0's region through its remote pool... */
  cr_assert(zcp_test_node_cmd(&helper[1], "build 0 20000", out, sizeof out, CMD_MS));
  cr_assert(strncmp(out, "ok ", 3) == 0, "node 1: %s", out);
  long long len = 0, nulls = 0;
  void *b0 = NULL, *b1 = NULL;
  cr_assert_eq(sscanf(out + 3, "%lld %lld %p %p", &len, &nulls, &b0, &b1), 4, "%s", out);
  cr_assert_eq(len, 20000);
  cr_assert_eq(nulls, (20000 + 6) / 7);
  /* ...the buffers are in node 0's region, held by node 1... */
  struct zcp_node_status st;
  zcp_node_status(self, &st);
  cr_assert_geq(st.live_blocks, 2);
  struct zcp_allocator *local = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_node_allocator(self, 0, &local, &err), ZCP_OK);
  /* ...and node 2 reads them at the same address, validated in full. */
  snprintf(cmd, sizeof cmd, "read %s", out + 3);
  cr_assert(zcp_test_node_cmd(&helper[2], cmd, out, sizeof out, CMD_MS));
  cr_assert_str_eq(out, "ok", "node 2: %s", out);
  /* Node 0 (the owner) sees the same values through the same pointers. */
  const int64_t *v = b1;
  cr_assert_eq(v[1], 3);
  cr_assert_eq(v[19998], 3 * 19998); /* row 19999 is null */
}

static void barriers(enum mode mode) {
  if (!start(4, mode)) return;
  char out[600];
  struct zcp_error err = {0};
  for (int i = 1; i < 4; i++) send_line(&helper[i], "barrier 40 10000");
  for (int r = 0; r < 40; r++)
    cr_assert_eq(zcp_node_barrier(self, 10000, &err), ZCP_OK, "round %d: %s", r,
                 err.message);
  for (int i = 1; i < 4; i++) expect_line(&helper[i], i, "ok", out, sizeof out);
  /* The thesis form: everyone sets bit 0 and waits for all. */
  for (int i = 1; i < 4; i++) send_line(&helper[i], "sync 1 1 10000");
  cr_assert_eq(zcp_node_sync_wait(self, 1, 1, 10000, &err), ZCP_OK, "%s", err.message);
  for (int i = 1; i < 4; i++) expect_line(&helper[i], i, "st 0", out, sizeof out);
  /* A condition no one meets ends in a timeout naming the node, not a hang. */
  long long t0 = now_ms();
  cr_assert_eq(zcp_node_sync_wait(self, 2, 2, 300, &err), ZCP_TIMEOUT, "%s", err.message);
  cr_assert_lt(now_ms() - t0, 2000);
  cr_assert(strstr(err.message, "node") != NULL, "%s", err.message);
}

/* Node 2 passes a barrier round and closes at once, while node 0 enters the round last:
 * node 0 may ask node 2 about the round after node 2 has gone, and must still pass (node
 * 2 told it the rounds it entered as it closed). A race, so it runs many times. */
static void barrier_with_a_peer_that_left(void) {
  char out[600];
  struct zcp_error err = {0};
  for (int run = 0; run < 25; run++) {
    if (!start(3, UNIX_SOCKETS)) return;
    send_line(&helper[1], "barrier 1 10000");
    /* Both lines at once: node 2 closes as soon as its barrier returns. */
    send_line(&helper[2], "barrier 1 10000\nquit");
    struct timespec late = {0, (20 + run % 5) * 1000 * 1000};
    nanosleep(&late, NULL);
    cr_assert_eq(zcp_node_barrier(self, 10000, &err), ZCP_OK, "run %d: %s", run,
                 err.message);
    expect_line(&helper[1], 1, "ok", out, sizeof out);
    expect_line(&helper[2], 2, "ok", out, sizeof out);
    cr_assert_eq(zcp_proc_wait(&helper[2], 10000), 0, "run %d: node 2 did not exit", run);
    zcp_test_nodes_down(&tc, &self);
  }
  /* A peer that closed before entering the round still fails it, by name. */
  if (!start(3, UNIX_SOCKETS)) return;
  send_line(&helper[2], "quit");
  cr_assert_eq(zcp_proc_wait(&helper[2], 10000), 0, "node 2 did not exit");
  send_line(&helper[1], "barrier 1 10000");
  cr_assert_eq(zcp_node_barrier(self, 10000, &err), ZCP_PEER_DOWN, "%s", err.message);
  cr_assert(strstr(err.message, "node 2") != NULL, "%s", err.message);
  expect_line(&helper[1], 1, "fail", out, sizeof out);
  cr_assert(strstr(out, "node 2") != NULL, "node 1: %s", out);
}

static void killed_node(enum mode mode) {
  if (!start(4, mode)) return;
  const int bound_ms = 700 + 100 + 500; /* down_after + heartbeat + slack */
  char out[600];
  struct zcp_node_status st;
  struct zcp_node_peer_status peer;
  cr_assert_eq(zcp_node_peer_status(self, 3, &peer, NULL), ZCP_OK);
  uint64_t old_epoch = peer.epoch;
  /* Node 3 holds blocks in node 0's region that it will never seal or free. */
  cr_assert(zcp_test_node_cmd(&helper[3], "grab 0 5", out, sizeof out, CMD_MS));
  cr_assert(strncmp(out, "st 0", 4) == 0, "node 3: %s", out);
  zcp_node_status(self, &st);
  cr_assert_eq(st.live_blocks, 5);
  /* Node 1 hammers node 3 while node 3 dies. */
  send_line(&helper[1], "hammer 3 10000");
  struct timespec pause = {0, 200 * 1000 * 1000};
  nanosleep(&pause, NULL);
  kill(helper[3].pid, SIGKILL);
  long long killed_at = now_ms();
  cr_assert_eq(zcp_proc_wait(&helper[3], 5000), 128 + SIGKILL);
  expect_line(&helper[1], 1, "st 7 ", out, sizeof out);
  long long worst = 0, calls = 0;
  cr_assert_eq(sscanf(out + 5, "%lld %lld", &worst, &calls), 2, "%s", out);
  cr_assert_gt(calls, 1, "%s", out);
  cr_assert_lt(worst, bound_ms, "a call took %lld ms: %s", worst, out);
  /* Node 0 sees it down within the bound, and calls fail at once, typed. */
  struct zcp_error err = {0};
  cr_assert_eq(zcp_node_wait_peer(self, 3, false, bound_ms, &err), ZCP_OK, "%s",
               err.message);
  cr_assert_lt(now_ms() - killed_at, bound_ms + 200);
  void *p = NULL;
  long long t0 = now_ms();
  cr_assert_eq(zcp_node_alloc(self, 3, 64, &p, &err), ZCP_PEER_DOWN, "%s", err.message);
  /* "At once": far below the 8 s call timeout, with room for a loaded sanitizer run. */
  cr_assert_lt(now_ms() - t0, 1000);
  cr_assert(strstr(err.message, "node 3") != NULL, "%s", err.message);
  cr_assert_eq(zcp_node_barrier(self, 2000, &err), ZCP_PEER_DOWN, "%s", err.message);
  /* The others keep serving each other. */
  cr_assert(zcp_test_node_cmd(&helper[1], "alloc_except 3", out, sizeof out, CMD_MS));
  cr_assert_str_eq(out, "ok", "node 1: %s", out);
  cr_assert(zcp_test_node_cmd(&helper[2], "alloc 3 64", out, sizeof out, CMD_MS));
  cr_assert(strncmp(out, "st 7 ", 5) == 0, "node 2: %s", out);
  cr_assert(zcp_test_node_cmd(&helper[2], "alloc_except 3", out, sizeof out, CMD_MS));
  cr_assert_str_eq(out, "ok", "node 2: %s", out);
  /* Node 3 comes back with a new epoch and rejoins. */
  cr_assert(zcp_test_node_start(&helper[3], &tc, 3));
  cr_assert_eq(zcp_node_wait_peer(self, 3, true, 10000, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_node_peer_status(self, 3, &peer, NULL), ZCP_OK);
  cr_assert_gt(peer.epoch, old_epoch);
  zcp_node_status(self, &st);
  /* Its new epoch told node 0 the old one is dead: its blocks were reclaimed. */
  for (int i = 0; i < 200 && st.live_blocks != 0; i++) {
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
    zcp_node_status(self, &st);
  }
  cr_assert_eq(st.live_blocks, 0, "%lld blocks of the dead node left",
               (long long)st.live_blocks);
  cr_assert_eq(st.reclaimed_blocks, 5);
  cr_assert(zcp_test_node_cmd(&helper[3], "online 10000", out, sizeof out, CMD_MS));
  cr_assert_str_eq(out, "ok ", "node 3: %s", out);
  cr_assert(zcp_test_node_cmd(&helper[1], "waitpeer 3 1 10000", out, sizeof out, CMD_MS));
  cr_assert(strncmp(out, "st 0 ", 5) == 0, "node 1: %s", out);
  cr_assert(zcp_test_node_cmd(&helper[3], "alloc_all", out, sizeof out, CMD_MS));
  cr_assert_str_eq(out, "ok", "node 3: %s", out);
  cr_assert(zcp_test_node_cmd(&helper[1], "alloc_all", out, sizeof out, CMD_MS));
  cr_assert_str_eq(out, "ok", "node 1: %s", out);
  cr_assert_eq(zcp_node_alloc(self, 3, 64, &p, &err), ZCP_OK, "%s", err.message);
}

/* Waits until every thread of pid has stopped (SIGSTOP is delivered asynchronously). */
static void wait_stopped(pid_t pid) {
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  for (int i = 0; i < 200; i++) {
    FILE *f = fopen(path, "r");
    if (f == NULL) break;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')');
    if (rp != NULL && rp[1] == ' ' && rp[2] == 'T') break;
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  struct timespec settle = {0, 50 * 1000 * 1000};
  nanosleep(&settle, NULL);
}

static void silent_node(enum mode mode) {
  if (!start(3, mode)) return;
  struct zcp_error err = {0};
  kill(helper[2].pid, SIGSTOP);
  wait_stopped(helper[2].pid);
  long long t0 = now_ms();
  void *p = NULL;
  zcp_status_t st = zcp_node_alloc(self, 2, 64, &p, &err);
  long long took = now_ms() - t0;
  kill(helper[2].pid, SIGCONT);
  cr_assert_eq(st, ZCP_PEER_DOWN, "%s", err.message);
  cr_assert_lt(took, 700 + 100 + 500, "declared down after %lld ms", took);
  /* Awake again, same epoch: it is up again and serves. */
  cr_assert_eq(zcp_node_wait_peer(self, 2, true, 10000, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_node_alloc(self, 2, 64, &p, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_node_free(self, 2, p, &err), ZCP_OK, "%s", err.message);
}

Test(cluster_nodes, remote_alloc_realloc_free_every_node_into_every_other) {
  remote_allocation(UNIX_SOCKETS);
}
Test(cluster_nodes, column_built_by_node1_in_node0_read_by_node2) {
  column_across_nodes(UNIX_SOCKETS);
}
Test(cluster_nodes, barriers_and_sync_wait) {
  barriers(UNIX_SOCKETS);
}

/* Non-coherent regions, helper nodes under the emulator (DESIGN §9): the column built
 * remotely is right where the protocol is followed, and wrong in memory where the
 * writer skips its write-back. */
Test(cluster_nodes, barrier_passes_when_a_peer_that_passed_it_has_closed) {
  barrier_with_a_peer_that_left();
}
Test(cluster_nodes, noncoherent_column_needs_the_protocol) {
  noncoherent = true;
  column_across_nodes(UNIX_SOCKETS);
  char out[600];
  cr_assert(zcp_test_node_cmd(&helper[1], "build 0 20000 nowb", out, sizeof out, CMD_MS));
  cr_assert(strncmp(out, "ok ", 3) == 0, "node 1: %s", out);
  long long len = 0, nulls = 0;
  void *b0 = NULL, *b1 = NULL;
  cr_assert_eq(sscanf(out + 3, "%lld %lld %p %p", &len, &nulls, &b0, &b1), 4, "%s", out);
  const volatile int64_t *v = b1;
  cr_assert_neq(v[19998], 3 * 19998, "the emulator let an unwritten-back value through");
}
Test(cluster_nodes, killed_node_gives_typed_errors_and_rejoins_with_new_epoch) {
  killed_node(UNIX_SOCKETS);
}
Test(cluster_nodes, silent_node_is_declared_down_within_the_bound) {
  silent_node(UNIX_SOCKETS);
}

/* Status counts the control connection's bytes, both ways, whole frames: a ping with a
 * 100000-byte payload each way shows up on both sides of node 0's counters. */
Test(cluster_nodes, status_counts_control_bytes_both_ways) {
  if (!start(2, UNIX_SOCKETS)) return;
  struct zcp_error err = {0};
  struct zcp_node_status before, after;
  zcp_node_status(self, &before);
  cr_assert_eq(zcp_node_ping(self, 1, 100000, &err), ZCP_OK, "%s", err.message);
  zcp_node_status(self, &after);
  int64_t sent = after.bytes_sent - before.bytes_sent;
  int64_t received = after.bytes_received - before.bytes_received;
  cr_assert_geq(sent, 100000, "sent %lld", (long long)sent);
  cr_assert_geq(received, 100000, "received %lld", (long long)received);
  /* Heartbeats may add a few small frames, never another payload's worth. */
  cr_assert_lt(sent, 150000, "sent %lld", (long long)sent);
  cr_assert_lt(received, 150000, "received %lld", (long long)received);
}

Test(cluster_nodes, netns_remote_allocation) {
  remote_allocation(TCP_NETNS);
}
Test(cluster_nodes, netns_column_across_nodes) {
  column_across_nodes(TCP_NETNS);
}
Test(cluster_nodes, netns_barriers) {
  barriers(TCP_NETNS);
}
Test(cluster_nodes, netns_killed_node) {
  killed_node(TCP_NETNS);
}
Test(cluster_nodes, netns_silent_node) {
  silent_node(TCP_NETNS);
}
