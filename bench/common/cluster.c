/* See cluster.h. */
#define _GNU_SOURCE 1
#include "cluster.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

int zcp_bench_msg_read(int fd, struct zcp_bench_msg *m, int timeout_ms) {
  uint8_t *p = (uint8_t *)m;
  size_t got = 0;
  int64_t deadline = zcp_bench_now_ns() + (int64_t)timeout_ms * 1000000;
  while (got < sizeof *m) {
    int64_t left_ms = (deadline - zcp_bench_now_ns()) / 1000000;
    if (left_ms <= 0) return 0;
    struct pollfd pfd = {fd, POLLIN, 0};
    int r = poll(&pfd, 1, (int)(left_ms > 60000 ? 60000 : left_ms));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) continue;
    ssize_t n = read(fd, p + got, sizeof *m - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) return 0;
    got += (size_t)n;
  }
  return 1;
}

bool zcp_bench_msg_write(int fd, const struct zcp_bench_msg *m) {
  const uint8_t *p = (const uint8_t *)m;
  size_t put = 0;
  while (put < sizeof *m) {
    ssize_t n = write(fd, p + put, sizeof *m - put);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    put += (size_t)n;
  }
  return true;
}

bool zcp_bench_quick(int argc, char **argv) {
  const char *q = getenv("ZCP_BENCH_QUICK");
  return (argc > 1 && strcmp(argv[1], "quick") == 0) ||
         (q != NULL && strcmp(q, "1") == 0);
}

double zcp_bench_load(void) {
  double l[1];
  return getloadavg(l, 1) == 1 ? l[0] : -1;
}

struct child {
  zcp_bench_child_fn fn;
  void *ctx;
};

/* A child node: opens its node from the cluster's config, waits for every other node,
 * says it is ready and runs the benchmark's loop. */
static int child_main(struct zcp_local *lc, int32_t id, int in_fd, int out_fd,
                      void *ctx) {
  const struct child *ch = ctx;
  struct zcp_error err = {0};
  struct zcp_node *node = NULL;
  struct zcp_bench_msg ready = {.op = 'r'};
  if (zcp_node_open(zcp_local_config(lc), id, &node, &err) != ZCP_OK ||
      zcp_node_wait_online(node, 60000, &err) != ZCP_OK) {
    ready.status = err.code != ZCP_OK ? err.code : ZCP_IO_ERROR;
    snprintf(ready.text, sizeof ready.text, "node %d: %.140s", (int)id, err.message);
    zcp_bench_msg_write(out_fd, &ready);
    zcp_node_close(node);
    return 1;
  }
  zcp_bench_msg_write(out_fd, &ready);
  if (ch->fn != NULL) ch->fn(node, in_fd, out_fd, ch->ctx);
  zcp_node_close(node);
  return 0;
}

/* Writes the cluster's config: regions rounded up to 2 MiB, a long call timeout (a
 * remote Malloc of a GiB block clears it first). */
static zcp_status_t configure(struct zcp_bench_cluster *c,
                              const struct zcp_bench_cluster_options *o,
                              struct zcp_error *err) {
  struct zcp_config *cfg = zcp_local_config(c->lc);
  ZCP_RETURN_NOT_OK(zcp_config_set_window_base(cfg, 0x520000000000ull, err));
  ZCP_RETURN_NOT_OK(zcp_config_set_protocol(cfg, o->protocol, err));
  ZCP_RETURN_NOT_OK(zcp_config_set_call_timeout_ms(cfg, 120000, err));
  if (o->max_frame > 0)
    ZCP_RETURN_NOT_OK(zcp_config_set_max_frame(cfg, o->max_frame, err));
  for (int i = 0; i < o->n_nodes; i++) {
    int64_t size = (o->region_size[i] + (2 << 20) - 1) / (2 << 20) * (2 << 20);
    ZCP_RETURN_NOT_OK(zcp_local_add_node(
        c->lc, NULL, size, o->noncoherent ? ZCP_NONCOHERENT : ZCP_COHERENT, err));
  }
  return zcp_local_write(c->lc, err);
}

bool zcp_bench_cluster_start(struct zcp_bench_cluster *c, const char *name,
                             const struct zcp_bench_cluster_options *o,
                             zcp_bench_child_fn child, void *ctx) {
  memset(c, 0, sizeof *c);
  c->n = o->n_nodes;
  char local_name[40];
  snprintf(local_name, sizeof local_name, "bench-%s", name);
  struct zcp_error err = {0};
  struct child ch = {child, ctx};
  zcp_status_t st = zcp_local_open(local_name, &c->lc, &err);
  if (st == ZCP_OK) st = configure(c, o, &err);
  /* Each child runs on its own copy of ch, taken at the fork. */
  for (int i = 1; i < c->n && st == ZCP_OK; i++)
    st = zcp_local_fork(c->lc, i, child_main, &ch, &err);
  if (st == ZCP_OK) st = zcp_node_open(zcp_local_config(c->lc), 0, &c->node, &err);
  if (st == ZCP_OK) st = zcp_node_wait_online(c->node, 60000, &err);
  if (st != ZCP_OK) {
    fprintf(stderr, "bench: cluster %s: %s\n", name, err.message);
    zcp_bench_cluster_stop(c);
    return false;
  }
  for (int i = 1; i < c->n; i++) {
    struct zcp_bench_msg m = {0};
    if (zcp_bench_msg_read(zcp_local_proc(c->lc, i)->from_child, &m, 60000) != 1 ||
        m.status != ZCP_OK) {
      fprintf(stderr, "bench: node %d did not come up%s%s\n", i, m.text[0] ? ": " : "",
              m.text);
      zcp_bench_cluster_stop(c);
      return false;
    }
  }
  return true;
}

void zcp_bench_cluster_stop(struct zcp_bench_cluster *c) {
  struct zcp_bench_msg q = {.op = 'q'};
  for (int i = 1; i < c->n; i++) {
    struct zcp_proc *p = zcp_local_proc(c->lc, i);
    if (p != NULL && p->pid > 0) zcp_proc_write(p, &q, sizeof q);
  }
  /* Children first: the parent's node holds nothing they need to close cleanly. */
  for (int i = 1; i < c->n; i++) zcp_local_wait(c->lc, i, 30000);
  zcp_node_close(c->node);
  c->node = NULL;
  zcp_local_close(c->lc); /* and the regions of children that had to be killed */
  c->lc = NULL;
}

bool zcp_bench_send(struct zcp_bench_cluster *c, int i, const struct zcp_bench_msg *cmd) {
  return zcp_proc_write(zcp_local_proc(c->lc, i), cmd, sizeof *cmd);
}

bool zcp_bench_answer(struct zcp_bench_cluster *c, int i, struct zcp_bench_msg *answer,
                      int timeout_ms) {
  if (zcp_bench_msg_read(zcp_local_proc(c->lc, i)->from_child, answer, timeout_ms) != 1) {
    fprintf(stderr, "bench: node %d did not answer\n", i);
    return false;
  }
  if (answer->status != ZCP_OK) {
    fprintf(stderr, "bench: node %d: %s\n", i, answer->text);
    return false;
  }
  return true;
}

bool zcp_bench_call(struct zcp_bench_cluster *c, int i, const struct zcp_bench_msg *cmd,
                    struct zcp_bench_msg *answer, int timeout_ms) {
  return zcp_bench_send(c, i, cmd) && zcp_bench_answer(c, i, answer, timeout_ms);
}
