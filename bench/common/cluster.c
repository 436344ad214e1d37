/* See cluster.h. */
#define _GNU_SOURCE 1
#include "cluster.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "zcpool/fabric.h"

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

static void write_config(struct zcp_bench_cluster *c, const char *name,
                         const struct zcp_bench_cluster_options *o) {
  FILE *f = fopen(c->config, "w");
  if (f == NULL) return;
  fprintf(
      f,
      "[cluster]\nname = %s\nid = 0x%x\nwindow_base = 0x520000000000\n"
      "key_file = key\nprotocol = %s\ncall_timeout_ms = 120000\n",
      name, 0xbe00 + (int)getpid() % 256,
      o->protocol == ZCP_PROTOCOL_PREWRITE_FLUSH ? "prewrite-flush" : "invalidate");
  if (o->max_frame > 0) fprintf(f, "max_frame = %lld\n", (long long)o->max_frame);
  for (int i = 0; i < o->n_nodes; i++)
    fprintf(f,
            "[node.%d]\naddress = unix:%s/%d.sock\ndevice = shm:zcp-bench-%d-%s-%d\n"
            "size = %lld\ncoherence = %s\n",
            i, c->dir, i, (int)getpid(), name, i,
            (long long)((o->region_size[i] + (2 << 20) - 1) / (2 << 20) * (2 << 20)),
            o->noncoherent ? "noncoherent" : "coherent");
  fclose(f);
}

static void child_main(struct zcp_bench_cluster *c, int id, int in_fd, int out_fd,
                       zcp_bench_child_fn fn, void *ctx) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  struct zcp_config *cfg = NULL;
  struct zcp_error err = {0};
  struct zcp_node *node = NULL;
  struct zcp_bench_msg ready = {.op = 'r'};
  if (zcp_config_load(c->config, &cfg, &err) != ZCP_OK ||
      zcp_node_open(cfg, id, &node, &err) != ZCP_OK ||
      zcp_node_wait_online(node, 60000, &err) != ZCP_OK) {
    ready.status = err.code != ZCP_OK ? err.code : ZCP_IO_ERROR;
    snprintf(ready.text, sizeof ready.text, "node %d: %.140s", id, err.message);
    zcp_bench_msg_write(out_fd, &ready);
    zcp_node_close(node);
    zcp_config_free(cfg);
    _exit(1);
  }
  zcp_config_free(cfg);
  zcp_bench_msg_write(out_fd, &ready);
  fn(node, in_fd, out_fd, ctx);
  zcp_node_close(node);
  _exit(0);
}

bool zcp_bench_cluster_start(struct zcp_bench_cluster *c, const char *name,
                             const struct zcp_bench_cluster_options *o,
                             zcp_bench_child_fn child, void *ctx) {
  memset(c, 0, sizeof *c);
  c->n = o->n_nodes;
  for (int i = 0; i < c->n; i++) c->to[i] = c->from[i] = -1;
  snprintf(c->dir, sizeof c->dir, "/tmp/zcp-bench-%s-%d", name, (int)getpid());
  if (mkdir(c->dir, 0700) != 0 && errno != EEXIST) {
    fprintf(stderr, "bench: cannot create %s: %s\n", c->dir, strerror(errno));
    return false;
  }
  char key[192];
  snprintf(key, sizeof key, "%s/key", c->dir);
  snprintf(c->config, sizeof c->config, "%s/cluster.ini", c->dir);
  struct zcp_error err = {0};
  unlink(key);
  if (zcp_cluster_key_create(key, &err) != ZCP_OK) {
    fprintf(stderr, "bench: %s\n", err.message);
    return false;
  }
  write_config(c, name, o);
  fflush(stdout);
  fflush(stderr);
  for (int i = 1; i < c->n; i++) {
    int down[2], up[2];
    if (pipe(down) != 0 || pipe(up) != 0) {
      perror("bench: pipe");
      zcp_bench_cluster_stop(c);
      return false;
    }
    pid_t pid = fork();
    if (pid < 0) {
      perror("bench: fork");
      zcp_bench_cluster_stop(c);
      return false;
    }
    if (pid == 0) {
      close(down[1]);
      close(up[0]);
      for (int j = 1; j < i; j++) close(c->to[j]), close(c->from[j]);
      child_main(c, i, down[0], up[1], child, ctx);
    }
    close(down[0]);
    close(up[1]);
    c->pid[i] = pid;
    c->to[i] = down[1];
    c->from[i] = up[0];
  }
  struct zcp_config *cfg = NULL;
  zcp_status_t st = zcp_config_load(c->config, &cfg, &err);
  if (st == ZCP_OK) st = zcp_node_open(cfg, 0, &c->node, &err);
  zcp_config_free(cfg);
  if (st != ZCP_OK || zcp_node_wait_online(c->node, 60000, &err) != ZCP_OK) {
    fprintf(stderr, "bench: node 0: %s\n", err.message);
    zcp_bench_cluster_stop(c);
    return false;
  }
  for (int i = 1; i < c->n; i++) {
    struct zcp_bench_msg m;
    if (zcp_bench_msg_read(c->from[i], &m, 60000) != 1 || m.status != ZCP_OK) {
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
  for (int i = 1; i < c->n; i++)
    if (c->to[i] >= 0) zcp_bench_msg_write(c->to[i], &q);
  /* Children first: the parent's node holds nothing they need to close cleanly. */
  for (int i = 1; i < c->n; i++) {
    if (c->pid[i] <= 0) continue;
    int64_t deadline = zcp_bench_now_ns() + 30 * 1000000000LL;
    int st;
    while (waitpid(c->pid[i], &st, WNOHANG) == 0) {
      if (zcp_bench_now_ns() > deadline) {
        kill(c->pid[i], SIGKILL);
        waitpid(c->pid[i], &st, 0);
        break;
      }
      struct timespec ts = {0, 5000000};
      nanosleep(&ts, NULL);
    }
    c->pid[i] = 0;
  }
  for (int i = 1; i < c->n; i++) {
    if (c->to[i] >= 0) close(c->to[i]);
    if (c->from[i] >= 0) close(c->from[i]);
    c->to[i] = c->from[i] = -1;
  }
  zcp_node_close(c->node);
  c->node = NULL;
  /* Regions of children that had to be killed. */
  struct zcp_config *cfg = NULL;
  struct zcp_error err = {0};
  if (zcp_config_load(c->config, &cfg, &err) == ZCP_OK)
    for (int i = 0; i < zcp_config_n_nodes(cfg); i++) {
      char path[300];
      struct zcp_config_node n;
      if (zcp_config_get_node(cfg, i, &n, NULL) != ZCP_OK ||
          zcp_device_unlink(n.device, NULL) != ZCP_OK) {
        /* already gone: the usual case */
      }
      snprintf(path, sizeof path, "%s/%d.sock", c->dir, i);
      unlink(path);
    }
  zcp_config_free(cfg);
  char key[192];
  snprintf(key, sizeof key, "%s/key", c->dir);
  unlink(key);
  unlink(c->config);
  rmdir(c->dir);
}

bool zcp_bench_send(struct zcp_bench_cluster *c, int i, const struct zcp_bench_msg *cmd) {
  return zcp_bench_msg_write(c->to[i], cmd);
}

bool zcp_bench_answer(struct zcp_bench_cluster *c, int i, struct zcp_bench_msg *answer,
                      int timeout_ms) {
  if (zcp_bench_msg_read(c->from[i], answer, timeout_ms) != 1) {
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
