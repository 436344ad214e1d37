/* Lifetime of shared memory across 3-4 node processes (this test is node 0; the others
 * are this binary in the "node" role, driven by the commands of zcp_share_cmds.c):
 * dropping huge tables (leases on the table, the committer's drop, every creator freeing
 * its chunks, the bytes back in every pool), a restarted node pulling the catalog from
 * its peers, memory freed and reused under an entry a replica still holds (refused by
 * holder and by publication), a Lease retried with the same request id, and two nodes
 * sharing one name at the same moment. */
#define _GNU_SOURCE 1
#include <criterion/criterion.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/share/share.h"
#include "zcp_cluster_test.h"
#include "zcp_share_cmds.h"
#include "zcpool/hugetable.h"

#define CMD_MS ZCP_TEST_CMD_MS

__attribute__((constructor)) static void helper_entry(int argc, char **argv) {
  zcp_proc_helper_main(argc, argv, zcp_test_node_dispatch);
}

static struct zcp_test_cluster tc;
static struct zcp_proc helper[4];
static struct zcp_node *self;

static void teardown(void) {
  zcp_test_nodes_down(&tc, &self);
}

TestSuite(cluster_lifetime, .fini = teardown, .timeout = 120);

/* n nodes, 1..n-1 as helpers, all online. extra: more [cluster] keys. */
static void start_with(int n, const struct zcp_test_keys *extra) {
  zcp_test_cluster_write(&tc, n, false, false, false, extra);
  zcp_test_nodes_up(&tc, helper, n, &self);
}

static void start(int n) {
  start_with(n, NULL);
}

/* Runs cmd on node id (0: here) and checks the answer starts with "st <want>". */
static void run(int id, const char *cmd, int want, char *out, size_t cap) {
  zcp_test_run(self, helper, id, cmd, want, out, cap);
}

/* Every node's replica lists nothing. */
static void none_listed(int n) {
  char out[1024];
  for (int i = 0; i < n; i++) {
    run(i, "list", 0, out, sizeof out);
    cr_assert_str_eq(out, "st 0 0", "node %d", i);
  }
}

/* Bytes used in every node's pool. */
static void used_all(int n, long long *used) {
  char out[1024];
  for (int i = 0; i < n; i++) {
    run(i, "used", 0, out, sizeof out);
    used[i] = zcp_test_answer_num(out, 2);
  }
}

Test(cluster_lifetime, huge_table_drop_waits_for_leases_and_frees_everywhere) {
  start(4);
  char out[1024], cmd[128];
  long long before[4], after[4];
  used_all(4, before);
  /* Chunks from nodes 1, 2 and 0, in the regions of nodes 1, 3 and 2; node 0 commits. */
  run(1, "chunk h 1 0 300", 0, out, sizeof out);
  run(2, "chunk h 3 300 200", 0, out, sizeof out);
  run(0, "chunk h 2 500 100", 0, out, sizeof out);
  run(0, "commit h 600 10000", 0, out, sizeof out);
  used_all(4, after);
  for (int i = 1; i < 4; i++)
    cr_assert_gt(after[i], before[i], "node %d holds a chunk", i);
  /* A reader on node 3 leases the whole table (at its committer). */
  run(3, "lease h 60000", 0, out, sizeof out);
  unsigned long long id = (unsigned long long)zcp_test_answer_num(out, 2);
  /* Only the committer drops a committed table. */
  run(1, "hdrop h 1000", ZCP_INVALID_ARGUMENT, out, sizeof out);
  cr_assert(strstr(out, "committer node 0") != NULL, "%s", out);
  run(2, "hdrop nosuch 1000", ZCP_NOT_FOUND, out, sizeof out);
  /* Too short a wait: the lease holds, nothing changes. */
  run(0, "hdrop h 200", ZCP_TIMEOUT, out, sizeof out);
  cr_assert(strstr(out, "node(s) 3") != NULL, "%s", out);
  run(2, "open h 600 10000", 0, out, sizeof out);
  cr_assert_eq(zcp_test_answer_checksum(out), zcp_test_fixture_checksum(0, 600));
  /* A drop in progress refuses new leases and completes once the lease is released. */
  struct zcp_test_drop_job job = {self, "h", true, 20000, -1, {0}};
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, zcp_test_drop_thread, &job), 0);
  bool refused = false;
  for (int i = 0; i < 200 && !refused; i++) {
    cr_assert(zcp_test_node_cmd(&helper[1], "lease h 60000", out, sizeof out, CMD_MS));
    refused = strncmp(out, "st 5 ", 5) == 0;
    if (!refused) {
      cr_assert(strncmp(out, "st 0 ", 5) == 0, "%s", out);
      snprintf(cmd, sizeof cmd, "release h %lld", zcp_test_answer_num(out, 2));
      run(1, cmd, 0, out, sizeof out);
      usleep(5000);
    }
  }
  cr_assert(refused, "a huge table being dropped still granted leases");
  snprintf(cmd, sizeof cmd, "release h %llu", id);
  run(3, cmd, 0, out, sizeof out);
  cr_assert_eq(pthread_join(th, NULL), 0);
  cr_assert_eq(job.st, ZCP_OK, "%s", job.err.message);
  /* The name is gone everywhere and every pool has its bytes back. */
  for (int i = 0; i < 4; i++) run(i, "open h 600 200", ZCP_INCOMPLETE, out, sizeof out);
  none_listed(4);
  used_all(4, after);
  for (int i = 0; i < 4; i++)
    cr_assert_eq(after[i], before[i], "node %d: %lld bytes used, %lld before", i,
                 after[i], before[i]);
  /* The name can be used again. */
  run(3, "chunk h 3 0 50", 0, out, sizeof out);
  run(3, "commit h 50 10000", 0, out, sizeof out);
  run(1, "open h 50 10000", 0, out, sizeof out);
}

Test(cluster_lifetime, uncommitted_huge_table_dropped_by_any_node) {
  start(3);
  char out[1024];
  long long before[3], after[3];
  used_all(3, before);
  run(1, "chunk u 2 0 100", 0, out, sizeof out);
  run(2, "chunk u 1 200 100", 0, out, sizeof out);
  run(0, "hdrop u 1000", 0, out, sizeof out);
  none_listed(3);
  used_all(3, after);
  for (int i = 0; i < 3; i++) cr_assert_eq(after[i], before[i], "node %d", i);
  run(0, "hdrop u 1000", ZCP_NOT_FOUND, out, sizeof out);
}

/* The committer dies and comes back: its leases went with its earlier life, so any node
 * drops the table; the stale manifest and chunk go out of every replica as well, and
 * the chunk of the node that is still there is freed. */
Test(cluster_lifetime, huge_table_of_a_restarted_committer) {
  start(3);
  char out[1024];
  long long before[3], after[3];
  used_all(3, before);
  run(1, "chunk h 1 0 100", 0, out, sizeof out);
  run(2, "chunk h 0 100 100", 0, out, sizeof out);
  run(1, "commit h 200 10000", 0, out, sizeof out);
  run(0, "lease h 60000", 0, out, sizeof out);
  zcp_test_node_kill(helper, self, 1);
  zcp_test_node_restart(&tc, helper, self, 1);
  run(2, "waitpeer 1 1 10000", 0, out, sizeof out);
  run(0, "open h 200 1000", ZCP_STALE, out, sizeof out);
  run(2, "hdrop h 1000", 0, out, sizeof out);
  none_listed(3);
  used_all(3, after);
  cr_assert_eq(after[0], before[0], "node 2's chunk in node 0's region is freed");
  run(0, "hdrop h 1000", ZCP_NOT_FOUND, out, sizeof out);
}

Test(cluster_lifetime, restarted_node_pulls_the_catalog) {
  start(3);
  char out[1024];
  /* Shared before node 2 restarts: memory in nodes 0 and 1, creators 0 and 1. */
  run(1, "share t 0 0 500", 0, out, sizeof out);
  run(0, "share s 1 100 200", 0, out, sizeof out);
  run(0, "chunk h 0 0 100", 0, out, sizeof out);
  run(1, "chunk h 1 100 150", 0, out, sizeof out);
  run(1, "commit h 250 10000", 0, out, sizeof out);
  run(2, "lookup t 0 500", 0, out, sizeof out);
  zcp_test_node_kill(helper, self, 2);
  /* A new life: its replica starts empty and is filled from its peers. */
  zcp_test_node_restart(&tc, helper, self, 2);
  run(2, "list", 0, out, sizeof out);
  cr_assert_eq(zcp_test_answer_num(out, 2), 5, "%s", out);
  run(2, "lookup t 0 500", 0, out, sizeof out);
  cr_assert_eq(zcp_test_answer_checksum(out), zcp_test_fixture_checksum(0, 500));
  run(2, "lookup s 100 200", 0, out, sizeof out);
  cr_assert_eq(zcp_test_answer_checksum(out), zcp_test_fixture_checksum(100, 200));
  run(2, "open h 250 10000", 0, out, sizeof out);
  cr_assert_eq(zcp_test_answer_checksum(out), zcp_test_fixture_checksum(0, 250));
  /* Drops reach it as before; and it shares again under its new life. */
  run(1, "drop t 1000", 0, out, sizeof out);
  run(2, "lookup t 0 500", ZCP_NOT_FOUND, out, sizeof out);
  run(2, "share r 2 0 50", 0, out, sizeof out);
  run(0, "lookup r 0 50", 0, out, sizeof out);
}

/* Frames of 8 KiB: node 1's entries come to a restarted node in many List pages. */
Test(cluster_lifetime, catalog_pull_in_pages) {
  start_with(3, &(struct zcp_test_keys){.max_frame = 8 << 10});
  char out[1024], cmd[128];
  for (int i = 0; i < 24; i++) {
    snprintf(cmd, sizeof cmd, "share p%02d %d %d 5", i, i % 3, i * 5);
    run(1, cmd, 0, out, sizeof out);
  }
  zcp_test_node_kill(helper, self, 2);
  zcp_test_node_restart(&tc, helper, self, 2);
  run(2, "list", 0, out, sizeof out);
  /* p02 lay in node 2's region: stale now, and still listed. */
  cr_assert_eq(zcp_test_answer_num(out, 2), 24, "%s", out);
  for (int i = 0; i < 24; i += 7) {
    if (i % 3 == 2) continue;
    snprintf(cmd, sizeof cmd, "lookup p%02d %d 5", i, i * 5);
    run(2, cmd, 0, out, sizeof out);
    cr_assert_eq(zcp_test_answer_checksum(out), zcp_test_fixture_checksum(i * 5, 5));
  }
}

/* A copy of this node's replica entry (name, shared batch). */
static struct zcp__entry save_entry(const char *name) {
  struct zcp__entry e = {0};
  pthread_mutex_lock(&zcp__share_of(self)->mu);
  struct zcp__entry *x = zcp__catalog_find(zcp__share_of(self), name, ZCP_SHARE_TABLE, 0);
  if (x != NULL) {
    e = *x;
    e.next = NULL;
    e.desc = malloc((size_t)x->desc_size);
    if (e.desc != NULL) memcpy(e.desc, x->desc, (size_t)x->desc_size);
  }
  pthread_mutex_unlock(&zcp__share_of(self)->mu);
  cr_assert(x != NULL && e.desc != NULL, "no entry '%s' here", name);
  return e;
}

/* The entry's buffers are where the other entry's are: the memory was reused. */
static void assert_same_memory(const struct zcp__entry *old, const char *name) {
  struct zcp__entry now = save_entry(name);
  bool same = now.desc_size == old->desc_size &&
              memcmp(now.desc, old->desc, (size_t)old->desc_size) == 0;
  free(now.desc);
  cr_assert(same, "'%s' does not lie where '%s' lay: the pool did not reuse it", name,
            old->name);
}

/* A replica that missed a drop (its node was cut off) still holds the entry. */
static void put_back(const struct zcp__entry *e) {
  zcp__catalog_merge(self, e->creator, e->creator_epoch, e, 1, 0);
  char out[1024];
  run(0, "list", 0, out, sizeof out);
  char want[160];
  snprintf(want, sizeof want, " %s/0/%d/0", e->name, (int)e->creator);
  cr_assert(strstr(out, want) != NULL, "%s", out);
}

Test(cluster_lifetime, freed_and_reused_memory_is_refused) {
  start(3);
  char out[1024];
  /* Same creator: node 1 shares a in node 2's region, drops it, shares b with the same
   * rows; b's blocks are a's, held by node 1 again and sealed again. Only the
   * publication tells them apart (Verify at node 2, over the network). */
  run(1, "share a 2 0 300", 0, out, sizeof out);
  run(0, "lookup a 0 300", 0, out, sizeof out);
  struct zcp__entry a = save_entry("a");
  run(1, "drop a 1000", 0, out, sizeof out);
  run(1, "share b 2 0 300", 0, out, sizeof out);
  assert_same_memory(&a, "b");
  put_back(&a);
  run(0, "lookup a 0 300", ZCP_STALE, out, sizeof out);
  cr_assert(strstr(out, "freed and reused") != NULL, "%s", out);
  cr_assert(strstr(out, "publication") != NULL, "%s", out);
  run(0, "lookup b 0 300", 0, out, sizeof out);
  free(a.desc);
  /* Another creator: node 1's c in node 0's region (checked here, locally), dropped,
   * and the same memory taken by node 2 for d. The holder tells them apart. */
  run(1, "share c 0 0 200", 0, out, sizeof out);
  struct zcp__entry c = save_entry("c");
  run(1, "drop c 1000", 0, out, sizeof out);
  run(2, "share d 0 0 200", 0, out, sizeof out);
  assert_same_memory(&c, "d");
  put_back(&c);
  run(0, "lookup c 0 200", ZCP_STALE, out, sizeof out);
  cr_assert(strstr(out, "held by node 2") != NULL, "%s", out);
  run(0, "lookup d 0 200", 0, out, sizeof out);
  free(c.desc);
  /* When node 1 comes up again (here: as if it had reconnected), the pull of its
   * entries takes out those it dropped meanwhile, and only those. */
  pthread_mutex_lock(&self->mu);
  self->peers[1].ready = false;
  pthread_mutex_unlock(&self->mu);
  zcp__sync_peer_up(self, 1);
  struct zcp_error err = {0};
  cr_assert_eq(zcp_node_wait_peer(self, 1, true, 10000, &err), ZCP_OK, "%s", err.message);
  run(0, "list", 0, out, sizeof out);
  cr_assert_str_eq(out, "st 0 2 b/0/1/0 d/0/2/0");
}

/* Sends Lease for name to node peer with request id *rid (0: a fresh one, set here);
 * returns the lease id granted. */
static uint64_t lease_call(int32_t peer, const char *name, uint64_t *rid) {
  Zcpool__Lease m = ZCPOOL__LEASE__INIT;
  m.name = (char *)name;
  m.ttl_ms = 60000;
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  req.call_case = ZCPOOL__REQUEST__CALL_LEASE;
  req.lease = &m;
  struct zcp__rpc_call call;
  call.request_id = *rid;
  struct zcp_error err = {0};
  cr_assert_eq(zcp__rpc_call_start(self->peers[peer].client, &req, 5000, &call, &err),
               ZCP_OK, "%s", err.message);
  *rid = call.request_id;
  Zcpool__Response *resp = NULL;
  zcp_status_t st = zcp__rpc_call_finish(&call, &resp, &err);
  cr_assert_eq(st, ZCP_OK, "%s", err.message);
  cr_assert_eq(resp->result_case, ZCPOOL__RESPONSE__RESULT_LEASE);
  uint64_t id = resp->lease->lease_id;
  zcpool__response__free_unpacked(resp, NULL);
  return id;
}

Test(cluster_lifetime, retried_lease_is_granted_once) {
  start(2);
  char out[1024];
  struct zcp_error err = {0};
  run(1, "share t 1 0 100", 0, out, sizeof out);
  uint64_t rid = 0;
  uint64_t first = lease_call(1, "t", &rid);
  cr_assert_neq(rid, 0);
  /* The RPC layer's retry after a broken connection: the same request id again. */
  uint64_t again = lease_call(1, "t", &rid);
  cr_assert_eq(again, first, "a retried Lease granted a second lease");
  /* One release ends the only lease: the drop need not wait. */
  cr_assert_eq(zcp_node_lease_release(self, "t", first, &err), ZCP_OK, "%s", err.message);
  run(1, "drop t 3000", 0, out, sizeof out);
}

/* Nodes 1..3 share one name at the same moment, round after round: exactly one wins
 * every time (never none), and every replica names the same creator. */
Test(cluster_lifetime, racing_shares_of_one_name_have_one_winner) {
  start(4);
  char out[1024], cmd[128];
  int wins[4] = {0};
  for (int round = 0; round < 40; round++) {
    /* Everything but the newline first, so that the three start together. */
    for (int i = 1; i < 4; i++) {
      snprintf(cmd, sizeof cmd, "share race%d %d 0 20", round, i);
      cr_assert_eq(write(helper[i].to_child, cmd, strlen(cmd)), (ssize_t)strlen(cmd));
    }
    for (int i = 1; i < 4; i++) cr_assert_eq(write(helper[i].to_child, "\n", 1), 1);
    int winner = -1;
    for (int i = 1; i < 4; i++) {
      cr_assert(zcp_test_node_cmd(&helper[i], NULL, out, sizeof out, CMD_MS), "node %d",
                i);
      int st = -1;
      cr_assert_eq(sscanf(out, "st %d", &st), 1, "%s", out);
      if (st == 0) {
        cr_assert_eq(winner, -1, "round %d: nodes %d and %d both won", round, winner, i);
        winner = i;
      } else {
        cr_assert_eq(st, ZCP_BUSY, "round %d: node %d: %s", round, i, out);
      }
    }
    cr_assert_neq(winner, -1, "round %d: every node was refused", round);
    wins[winner]++;
    char want[64];
    snprintf(want, sizeof want, " race%d/0/%d/0", round, winner);
    for (int i = 0; i < 4; i++) {
      run(i, "list", 0, out, sizeof out);
      cr_assert(strstr(out, want) != NULL, "round %d: node %d: %s", round, i, out);
    }
    snprintf(cmd, sizeof cmd, "lookup race%d 0 20", round);
    run(0, cmd, 0, out, sizeof out);
    snprintf(cmd, sizeof cmd, "drop race%d 1000", round);
    run(winner, cmd, 0, out, sizeof out);
  }
  cr_log_info("wins: node 1 %d, node 2 %d, node 3 %d", wins[1], wins[2], wins[3]);
}
