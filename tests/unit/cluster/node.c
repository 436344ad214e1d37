/* A node alone in this process: what opening refuses and how it says so (key file
 * missing or readable by others, window taken, address in use, unknown id), what a node
 * whose peers are absent answers (typed errors, bounded waits naming the missing node),
 * its local pool, state word and status. The multi-process behaviour is in the
 * integration tests. */
#define _GNU_SOURCE 1
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "rpc/rpc.h"
#include "zcp_cluster_test.h"

static struct zcp_test_cluster tc;
static struct zcp_node *node;

static struct zcp_config *cfg;

static void teardown(void) {
  zcp_test_nodes_down(&tc, &node);
  zcp_config_free(cfg);
  cfg = NULL;
}

TestSuite(node, .fini = teardown, .timeout = 30);

static void load(int n) {
  zcp_test_cluster_write(&tc, n, false, false, false, NULL);
  zcp_config_free(cfg);
  cfg = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_config_load(tc.config, &cfg, &err), ZCP_OK, "%s", err.message);
}

/* The cluster of cfg again, built anew, with node 0 at another address. */
static struct zcp_config *moved_node0(const char *address) {
  struct zcp_config *c = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_config_new(&c, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_config_set_name(c, zcp_config_name(cfg), &err), ZCP_OK, "%s",
               err.message);
  cr_assert_eq(zcp_config_set_id(c, zcp_config_id(cfg), &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_config_set_key_file(c, zcp_config_key_file(cfg), &err), ZCP_OK, "%s",
               err.message);
  for (int i = 0; i < zcp_config_n_nodes(cfg); i++) {
    struct zcp_config_node n;
    cr_assert_eq(zcp_config_get_node(cfg, i, &n, &err), ZCP_OK, "%s", err.message);
    cr_assert_eq(zcp_config_add_node(c, i == 0 ? address : n.address, n.device, n.size,
                                     n.coherence, &err),
                 ZCP_OK, "%s", err.message);
  }
  return c;
}

Test(node, refuses_missing_or_exposed_key_files) {
  load(1);
  struct zcp_error err = {0};
  cr_assert_eq(chmod(zcp_config_key_file(cfg), 0644), 0);
  cr_assert_eq(zcp_node_open(cfg, 0, &node, &err), ZCP_AUTH_FAILED);
  cr_assert(strstr(err.message, "node 0") != NULL && strstr(err.message, "0644") != NULL,
            "%s", err.message);
  unlink(zcp_config_key_file(cfg));
  cr_assert_eq(zcp_node_open(cfg, 0, &node, &err), ZCP_NOT_FOUND);
  cr_assert(strstr(err.message, zcp_config_key_file(cfg)) != NULL, "%s", err.message);
  cr_assert_null(node);
}

Test(node, refuses_unknown_ids_taken_windows_and_addresses) {
  load(2);
  struct zcp_error err = {0};
  cr_assert_eq(zcp_node_open(cfg, 2, &node, &err), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(err.message, "no node 2") != NULL, "%s", err.message);
  /* Something of ours sits in the window. */
  void *at = (void *)(uintptr_t)(zcp_config_window_base(cfg) + (4u << 20));
  void *mine =
      mmap(at, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  cr_assert_eq(mine, at);
  cr_assert_eq(zcp_node_open(cfg, 0, &node, &err), ZCP_BUSY);
  cr_assert(strstr(err.message, "node 0") != NULL, "%s", err.message);
  munmap(mine, 4096);
  /* The address is someone else's: a TCP port already listened on. */
  int fd = -1;
  cr_assert_eq(zcp__sock_listen("tcp://127.0.0.1:0", &fd, NULL), ZCP_OK);
  struct sockaddr_in sa;
  socklen_t sl = sizeof sa;
  cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
  char taken[64];
  snprintf(taken, sizeof taken, "tcp://127.0.0.1:%d", (int)ntohs(sa.sin_port));
  struct zcp_config *moved = moved_node0(taken);
  cr_assert_eq(zcp_node_open(moved, 0, &node, &err), ZCP_BUSY);
  zcp_config_free(moved);
  cr_assert(strstr(err.message, taken) != NULL, "%s", err.message);
  close(fd);
  /* After all those failures nothing is left behind: the node opens. */
  load(2);
  cr_assert_eq(zcp_node_open(cfg, 0, &node, &err), ZCP_OK, "%s", err.message);
}

Test(node, absent_peers_give_typed_errors_and_bounded_waits) {
  load(3);
  struct zcp_error err = {0};
  cr_assert_eq(zcp_node_open(cfg, 0, &node, &err), ZCP_OK, "%s", err.message);
  int64_t t0 = zcp__now_ms();
  cr_assert_eq(zcp_node_wait_online(node, 300, &err), ZCP_TIMEOUT);
  cr_assert_lt(zcp__now_ms() - t0, 1000);
  cr_assert(
      strstr(err.message, "node 1") != NULL && strstr(err.message, "node 2") != NULL,
      "%s", err.message);
  void *p = NULL;
  cr_assert_eq(zcp_node_alloc(node, 2, 64, &p, &err), ZCP_PEER_DOWN);
  cr_assert(strstr(err.message, "node 2") != NULL, "%s", err.message);
  struct zcp_allocator *remote = NULL;
  cr_assert_eq(zcp_node_allocator(node, 1, &remote, &err), ZCP_OK);
  p = (void *)1;
  cr_assert_eq(remote->allocate(remote, 64, 64, &p, &err), ZCP_PEER_DOWN);
  cr_assert_null(p);
  cr_assert(strstr(err.message, "node 1") != NULL, "%s", err.message);
  /* A builder over that pool passes the pool's reason on, not "out of memory". */
  struct ArrowSchema col;
  cr_assert_eq(zcp_schema_init("l", "x", 0, 0, &col, &err), ZCP_OK);
  struct zcp_builder *b = NULL;
  cr_assert_eq(zcp_builder_init(&col, remote, &b, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_builder_append_int(b, 1), ZCP_PEER_DOWN);
  cr_assert(strstr(zcp_builder_last_error(b), "owner down: node 1") != NULL, "%s",
            zcp_builder_last_error(b));
  zcp_builder_release(b);
  col.release(&col);
  cr_assert_eq(zcp_node_allocator(node, 3, &remote, &err), ZCP_NOT_FOUND);
  cr_assert_eq(zcp_node_ping(node, 0, 0, &err), ZCP_INVALID_ARGUMENT, "not a peer");
  cr_assert_eq(zcp_node_barrier(node, 300, &err), ZCP_PEER_DOWN);
  cr_assert_eq(zcp_node_wait_peer(node, 1, true, 100, &err), ZCP_TIMEOUT);
  /* Each peer says why it is down; ids outside the cluster are not found. */
  struct zcp_node_peer_status ps;
  cr_assert_eq(zcp_node_peer_status(node, 2, &ps, &err), ZCP_OK, "%s", err.message);
  cr_assert(!ps.up && !ps.region_mapped && ps.epoch == 0);
  cr_assert(ps.why[0] != '\0', "no reason given");
  cr_assert_eq(zcp_node_peer_status(node, 3, &ps, &err), ZCP_NOT_FOUND);
  cr_assert(strstr(err.message, "no node 3") != NULL, "%s", err.message);
  cr_assert_eq(zcp_node_peer_status(node, -1, &ps, &err), ZCP_NOT_FOUND);
  cr_assert_eq(zcp_node_peer_status(node, 1, NULL, &err), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_node_peer_status(NULL, 1, &ps, &err), ZCP_INVALID_ARGUMENT);
}

Test(node, local_pool_state_word_and_status) {
  load(1);
  struct zcp_error err = {0};
  cr_assert_eq(zcp_node_open(cfg, 0, &node, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_node_wait_online(node, 100, &err), ZCP_OK, "alone: online at once");
  struct zcp_allocator *local = NULL;
  cr_assert_eq(zcp_node_allocator(node, 0, &local, &err), ZCP_OK);
  void *p = NULL;
  cr_assert_eq(local->allocate(local, 1000, 64, &p, &err), ZCP_OK, "%s", err.message);
  cr_assert_not_null(p);
  cr_assert_eq((uintptr_t)p % 128, 0);
  cr_assert_geq((uint64_t)(uintptr_t)p, zcp_config_window_base(cfg), "inside the window");
  struct zcp_node_status st;
  zcp_node_status(node, &st);
  cr_assert_eq(st.id, 0);
  cr_assert_eq(st.live_blocks, 1);
  cr_assert_eq(st.bytes_used, 1024);
  cr_assert_eq(st.epoch, zcp_node_epoch(node));
  struct zcp_node_peer_status ps;
  cr_assert_eq(zcp_node_peer_status(node, 0, &ps, &err), ZCP_OK, "%s", err.message);
  cr_assert(ps.up && ps.region_mapped && ps.epoch == st.epoch && ps.why[0] == '\0');
  local->free(local, p, 1000);
  zcp_node_set_state(node, 0x5, 0xf);
  cr_assert_eq(zcp_node_get_state(node), 0x5u);
  cr_assert_eq(zcp_node_sync_wait(node, 0x10, 0x10, 100, &err), ZCP_OK);
  cr_assert_eq(zcp_node_get_state(node), 0x15u);
  cr_assert_eq(zcp_node_barrier(node, 100, &err), ZCP_OK);
  /* A second node opened on the same machine gets a later epoch. */
  uint64_t first = zcp_node_epoch(node);
  zcp_node_close(node);
  node = NULL;
  cr_assert_eq(zcp_node_open(cfg, 0, &node, &err), ZCP_OK, "%s", err.message);
  cr_assert_gt(zcp_node_epoch(node), first);
}
