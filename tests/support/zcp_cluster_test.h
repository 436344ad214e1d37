/* Multi-node tests: write a cluster's config and key, start nodes as helper processes
 * that obey one-line commands on stdin and answer one line on stdout, and (as root) put
 * nodes in network namespaces of their own joined by a bridge. */
#ifndef ZCP_CLUSTER_TEST_H
#define ZCP_CLUSTER_TEST_H

#include <stdbool.h>

#include "zcp_proc.h"
#include "zcpool/cluster.h"

struct zcp_test_cluster {
  char dir[128];    /* holds the config and key files */
  char config[192]; /* config file path */
  int n;
  bool tcp;
  char netns[4][32];      /* per node, empty: the test's own namespace */
  const char *helper_env; /* NAME=VALUE for every helper node (e.g. the emulator) */
};

/* Writes the config and key of an n-node cluster. tcp: addresses tcp://ip:port, with ip
 * 127.0.0.1 or, when netns is set, each node's namespace address. Extra cluster keys
 * (e.g. "down_after_ms = 600\n") go into [cluster]. noncoherent: every region is. */
void zcp_test_cluster_write(struct zcp_test_cluster *tc, int n, bool tcp, bool netns,
                            bool noncoherent, const char *extra);
/* Removes files, shm objects and network namespaces of tc. Safe to call twice. */
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

#endif
