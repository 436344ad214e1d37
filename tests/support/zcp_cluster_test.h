/* Multi-node tests: a local cluster (the harness's struct zcp_local: a directory with
 * the config and key, regions named after it) built for a test, nodes started as helper
 * processes that obey one-line commands on stdin and answer one line on stdout, and (as
 * root) nodes in network namespaces of their own joined by a bridge. */
#ifndef ZCP_CLUSTER_TEST_H
#define ZCP_CLUSTER_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "local.h"
#include "zcp_proc.h"
#include "zcpool/cluster.h"

struct zcp_test_cluster {
  struct zcp_local *lc;
  const char *dir;    /* holds the config and key files (lc's) */
  const char *config; /* config file path (lc's) */
  int n;
  bool tcp;
  char netns[4][32];      /* per node, empty: the test's own namespace */
  const char *helper_env; /* NAME=VALUE for every helper node (e.g. the emulator) */
};

/* True when ZCP_EMULATE_NONCOHERENT=1: the suite runs under the non-coherent emulator
 * and every test cluster is written non-coherent whatever the test asked. */
bool zcp_test_emulated(void);
/* [cluster] keys a test sets beyond the suite's (heartbeat_ms 100, down_after_ms 700,
 * call_timeout_ms 8000, the rest at the defaults); 0 or false keeps a key as it is. */
struct zcp_test_keys {
  int64_t max_frame;
  int32_t max_outstanding;
  int64_t quota;
  int32_t call_timeout_ms;
  bool prewrite_flush; /* protocol = prewrite-flush */
};

/* Writes the config and key of an n-node cluster (8 MiB regions). tcp: addresses
 * tcp://ip:port, with ip 127.0.0.1 or, when netns is set, each node's namespace
 * address. extra (may be NULL): more [cluster] keys. noncoherent: every region is
 * (forced on when zcp_test_emulated()). Asserts. */
void zcp_test_cluster_write(struct zcp_test_cluster *tc, int n, bool tcp, bool netns,
                            bool noncoherent, const struct zcp_test_keys *extra);
/* Removes files, shm regions and network namespaces of tc (zcp_local_close). Safe to
 * call twice. */
void zcp_test_cluster_cleanup(struct zcp_test_cluster *tc);

/* Network namespaces: false (and a message saying why) when not root or `ip` fails. */
bool zcp_test_netns_setup(struct zcp_test_cluster *tc, char *why, int cap);
/* Moves the calling process (before it starts threads) into node id's namespace. */
bool zcp_test_netns_enter(const char *name);

/* Starts node id as a helper ("node" role) and waits for its "ready" line. */
bool zcp_test_node_start(struct zcp_proc *p, const struct zcp_test_cluster *tc, int id);
/* Sends one command line and reads one answer line (without the newline). */
bool zcp_test_node_cmd(struct zcp_proc *p, const char *cmd, char *out, int cap,
                       int timeout_ms);

/* The "node" role: call from the test binary's helper dispatch. */
int zcp_test_node_role(int argc, char **argv);
/* A helper dispatch that knows the "node" role only. */
int zcp_test_node_dispatch(int argc, char **argv);

/* ---- helper roles and the tests that drive them (zcp_cluster_run.c) ---------------- */

/* How long a test waits for a helper's answer to one command. */
#define ZCP_TEST_CMD_MS 20000

/* One command of a helper role: a line in, one answer line (without newline) out. */
typedef void (*zcp_test_command_fn)(struct zcp_node *node, const char *line, char *out,
                                    size_t cap);
/* Opens node id of the cluster at config and prints "ready", or prints "fail <why>" and
 * returns NULL. */
struct zcp_node *zcp_test_role_open(const char *config, int id);
/* Answers every line on stdin with command, one line each, until "quit" or the end. */
void zcp_test_role_serve(struct zcp_node *node, zcp_test_command_fn command);

/* Opens node 0 here (*self) and nodes 1..n-1 of tc (written already) as "node" helpers
 * in helper[1..n-1], and waits until every node sees every other online. Asserts. */
void zcp_test_nodes_up(const struct zcp_test_cluster *tc, struct zcp_proc *helper, int n,
                       struct zcp_node **self);
/* A suite's teardown: closes *self, kills and reaps every helper, removes tc's files. */
void zcp_test_nodes_down(struct zcp_test_cluster *tc, struct zcp_node **self);
/* Kills helper node id, reaps it and waits until self sees it down. Asserts. */
void zcp_test_node_kill(struct zcp_proc *helper, struct zcp_node *self, int id);
/* Starts helper node id again (a new life) and waits until it is up for self and sees
 * every node online. Asserts. */
void zcp_test_node_restart(const struct zcp_test_cluster *tc, struct zcp_proc *helper,
                           struct zcp_node *self, int id);
/* A drop that waits (for leases) on a thread of its own while the test goes on. */
struct zcp_test_drop_job {
  struct zcp_node *node;
  const char *name;
  bool huge; /* zcp_hugetable_drop, else zcp_node_drop */
  int ms;
  zcp_status_t st;
  struct zcp_error err;
};
/* The thread's body: runs the drop of job (a struct zcp_test_drop_job). */
void *zcp_test_drop_thread(void *job);
/* Runs a sharing command on node id (0: self here, else helper[id]) and asserts that it
 * answered and that the answer starts with "st <want>". */
void zcp_test_run(struct zcp_node *self, struct zcp_proc *helper, int id, const char *cmd,
                  int want, char *out, size_t cap);
/* The number in space-separated field `field` (0: the first) of an answer. Asserts. */
long long zcp_test_answer_num(const char *out, int field);
/* The checksum of an "st 0 <checksum>" answer. Asserts. */
uint64_t zcp_test_answer_checksum(const char *out);

#endif
