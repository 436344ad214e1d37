/* A small cluster for the sharing benchmarks, a local cluster of the harness
 * (src/tools/local): node 0 in the benchmark process, nodes 1..n-1 in forked child
 * processes on Unix sockets and shm regions named after the cluster's directory. Each
 * child opens its node, waits for the others and then runs the benchmark's command
 * loop; the parent talks to it over the harness's pipes with fixed-size messages.
 *
 * Children are forked before the parent opens its node (no thread exists yet), die with
 * the parent, give up after a long silence on their command pipe, and are reaped
 * (killed after a timeout) by zcp_bench_cluster_stop, which also removes the config,
 * the key and any region left behind.
 *
 * Peers are declared down after the default 1 s of silence: heartbeats are answered
 * while a connection serves a long call, so an owner that clears or flushes a GiB-sized
 * block is not taken for dead. */
#ifndef ZCP_BENCH_CLUSTER_H
#define ZCP_BENCH_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "local.h"
#include "zcpool/cluster.h"

#define ZCP_BENCH_MAX_NODES 8
/* A child that hears nothing for this long assumes the benchmark is gone. */
#define ZCP_BENCH_CHILD_IDLE_MS (10 * 60 * 1000)

/* One command or answer between the parent and a child node. */
struct zcp_bench_msg {
  char op;        /* the benchmark's own letters; 'q' ends a child */
  int32_t status; /* answers: a zcp_status_t */
  int64_t a, b;
  double value; /* answers: a time in ns, a sum, ... */
  char text[160];
};

struct zcp_bench_cluster {
  struct zcp_local *lc;
  int n;
  struct zcp_node *node; /* node 0, in this process */
};

struct zcp_bench_cluster_options {
  int n_nodes;
  int64_t
      region_size[ZCP_BENCH_MAX_NODES]; /* bytes, header included (rounded up to 2 MiB) */
  bool noncoherent;
  enum zcp_protocol protocol;
  int64_t max_frame; /* 0: the default */
};

/* What a child runs once its node is online: reads commands from in_fd, answers on
 * out_fd (zcp_bench_msg_read / _write), returns on 'q' or end of input. */
typedef void (*zcp_bench_child_fn)(struct zcp_node *node, int in_fd, int out_fd,
                                   void *ctx);

/* Starts the cluster; on error prints a message, stops what started and returns false. */
bool zcp_bench_cluster_start(struct zcp_bench_cluster *c, const char *name,
                             const struct zcp_bench_cluster_options *opts,
                             zcp_bench_child_fn child, void *ctx);
/* Tells every child to quit, reaps the children (SIGKILL after 30 s), closes node 0
 * and removes the config, key and any region left behind (zcp_local_close). */
void zcp_bench_cluster_stop(struct zcp_bench_cluster *c);

/* Sends a command to child node i and waits (up to timeout_ms) for its answer. */
bool zcp_bench_call(struct zcp_bench_cluster *c, int i, const struct zcp_bench_msg *cmd,
                    struct zcp_bench_msg *answer, int timeout_ms);
/* Sends without waiting; collect with zcp_bench_answer. */
bool zcp_bench_send(struct zcp_bench_cluster *c, int i, const struct zcp_bench_msg *cmd);
bool zcp_bench_answer(struct zcp_bench_cluster *c, int i, struct zcp_bench_msg *answer,
                      int timeout_ms);

/* Whole-message pipe I/O: 1 read, 0 end of input or timeout, -1 error. */
int zcp_bench_msg_read(int fd, struct zcp_bench_msg *m, int timeout_ms);
bool zcp_bench_msg_write(int fd, const struct zcp_bench_msg *m);

/* Quick (smoke) mode: argv[1] == "quick" or ZCP_BENCH_QUICK=1. */
bool zcp_bench_quick(int argc, char **argv);
/* The machine's load average over the last minute (-1 if unknown). */
double zcp_bench_load(void);

#endif
