/* See zcp_cluster_test.h. */
#define _GNU_SOURCE 1
#include "zcp_cluster_test.h"

#include <criterion/criterion.h>

#include "zcp_share_cmds.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "zcpool/fabric.h"
#include "zcpool/pool.h"

static long long ms_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Names of network namespaces and bridges carry the test process's pid. */
static int tag(void) {
  return (int)getpid();
}

bool zcp_test_emulated(void) {
  const char *on = getenv("ZCP_EMULATE_NONCOHERENT");
  return on != NULL && strcmp(on, "1") == 0;
}

#define CHECK(call)                                                        \
  do {                                                                     \
    struct zcp_error e_ = {0};                                             \
    zcp_status_t st_ = (call);                                             \
    cr_assert_eq(st_, ZCP_OK, "writing the test cluster: %s", e_.message); \
  } while (0)

void zcp_test_cluster_write(struct zcp_test_cluster *tc, int n, bool tcp, bool netns,
                            bool noncoherent, const struct zcp_test_keys *extra) {
  static int seq;
  zcp_test_cluster_cleanup(tc); /* a test may write a second cluster over its first */
  memset(tc, 0, sizeof *tc);
  /* The emulated suite (DESIGN §9): with the switch on, every test cluster is
   * non-coherent, so each process (this one and the helpers, which inherit the
   * environment) maps its regions through the emulator instead of bypassing it. */
  if (zcp_test_emulated()) noncoherent = true;
  tc->n = n;
  tc->tcp = tcp;
  CHECK(zcp_local_open("test", &tc->lc, &e_));
  tc->dir = zcp_local_dir(tc->lc);
  tc->config = zcp_local_config_path(tc->lc);
  struct zcp_config *cfg = zcp_local_config(tc->lc);
  const struct zcp_test_keys none = {0}, *k = extra != NULL ? extra : &none;
  CHECK(zcp_config_set_heartbeat_ms(cfg, 100, &e_));
  CHECK(zcp_config_set_down_after_ms(cfg, 700, &e_));
  CHECK(zcp_config_set_call_timeout_ms(
      cfg, k->call_timeout_ms ? k->call_timeout_ms : 8000, &e_));
  if (k->max_frame != 0) CHECK(zcp_config_set_max_frame(cfg, k->max_frame, &e_));
  if (k->max_outstanding != 0)
    CHECK(zcp_config_set_max_outstanding(cfg, k->max_outstanding, &e_));
  if (k->quota != 0) CHECK(zcp_config_set_quota(cfg, k->quota, &e_));
  if (k->prewrite_flush)
    CHECK(zcp_config_set_protocol(cfg, ZCP_PROTOCOL_PREWRITE_FLUSH, &e_));
  int port = 20000 + (tag() * 7 + ++seq * 13) % 30000;
  for (int i = 0; i < n; i++) {
    char address[64];
    if (netns)
      snprintf(address, sizeof address, "tcp://10.%d.%d.%d:%d", 200, tag() % 250, i + 2,
               port);
    else
      snprintf(address, sizeof address, "tcp://127.0.0.1:%d", port + i);
    CHECK(zcp_local_add_node(tc->lc, tcp ? address : NULL, 8 << 20,
                             noncoherent ? ZCP_NONCOHERENT : ZCP_COHERENT, &e_));
  }
  CHECK(zcp_local_write(tc->lc, &e_));
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...) {
  char cmd[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  return system(cmd);
}

static int home_netns = -1; /* the namespace this process started in */

static void netns_down(struct zcp_test_cluster *tc) {
  /* The bridge lives in the namespace the test started in, not in the node's. */
  if (home_netns >= 0) {
    if (setns(home_netns, CLONE_NEWNET) != 0) perror("setns back");
    close(home_netns);
    home_netns = -1;
  }
  for (int i = 0; i < tc->n; i++) {
    if (tc->netns[i][0] == '\0') continue;
    sh("ip netns del %s >/dev/null 2>&1", tc->netns[i]);
    tc->netns[i][0] = '\0';
  }
  sh("ip link del zb%d >/dev/null 2>&1", tag());
}

void zcp_test_cluster_cleanup(struct zcp_test_cluster *tc) {
  if (tc->lc == NULL) return;
  netns_down(tc);
  zcp_local_close(tc->lc);
  tc->lc = NULL;
  tc->dir = tc->config = NULL;
}

/* Namespaces and bridges left by a test process that died before its cleanup (a crash
 * skips the suite's fini): their names carry the pid of a process that is gone. */
static void sweep_stale(void) {
  DIR *d = opendir("/run/netns");
  if (d == NULL) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    int pid = 0, idx = 0;
    if (sscanf(e->d_name, "zcpt%d-%d", &pid, &idx) != 2 || pid <= 0) continue;
    if (kill(pid, 0) == 0 || errno != ESRCH) continue;
    sh("ip netns del %s >/dev/null 2>&1", e->d_name);
    sh("ip link del zb%d >/dev/null 2>&1", pid);
  }
  closedir(d);
  d = opendir("/sys/class/net");
  if (d == NULL) return;
  while ((e = readdir(d)) != NULL) {
    int pid = 0;
    char rest = 0;
    if (sscanf(e->d_name, "zb%d%c", &pid, &rest) != 1 || pid <= 0) continue;
    if (kill(pid, 0) == 0 || errno != ESRCH) continue;
    sh("ip link del %s >/dev/null 2>&1", e->d_name);
  }
  closedir(d);
}

bool zcp_test_netns_setup(struct zcp_test_cluster *tc, char *why, int cap) {
  if (geteuid() != 0) {
    snprintf(why, (size_t)cap, "network namespaces need root");
    return false;
  }
  if (sh("ip -V >/dev/null 2>&1") != 0) {
    snprintf(why, (size_t)cap, "the ip command (iproute2) is missing");
    return false;
  }
  int t = tag();
  sweep_stale();
  netns_down(tc);
  if (sh("ip link add zb%d type bridge && ip link set zb%d up", t, t) != 0) {
    snprintf(why, (size_t)cap, "cannot create a bridge (no CAP_NET_ADMIN?)");
    return false;
  }
  for (int i = 0; i < tc->n; i++) {
    snprintf(tc->netns[i], sizeof tc->netns[i], "zcpt%d-%d", t, i);
    int rc =
        sh("ip netns add %s && "
           "ip link add zv%da%d type veth peer name zv%db%d && "
           "ip link set zv%da%d master zb%d up && "
           "ip link set zv%db%d netns %s && "
           "ip -n %s addr add 10.200.%d.%d/24 dev zv%db%d && "
           "ip -n %s link set zv%db%d up && ip -n %s link set lo up",
           tc->netns[i], t, i, t, i, t, i, t, t, i, tc->netns[i], tc->netns[i], t % 250,
           i + 2, t, i, tc->netns[i], t, i, tc->netns[i]);
    if (rc != 0) {
      snprintf(why, (size_t)cap, "cannot set up namespace %s", tc->netns[i]);
      netns_down(tc);
      return false;
    }
  }
  return true;
}

bool zcp_test_netns_enter(const char *name) {
  if (home_netns < 0) home_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  char path[128];
  snprintf(path, sizeof path, "/run/netns/%s", name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = setns(fd, CLONE_NEWNET) == 0;
  close(fd);
  return ok;
}

bool zcp_test_node_cmd(struct zcp_proc *p, const char *cmd, char *out, int cap,
                       int timeout_ms) {
  if (cmd != NULL &&
      (!zcp_proc_write(p, cmd, strlen(cmd)) || !zcp_proc_write(p, "\n", 1)))
    return false;
  return zcp_proc_read_line(p, out, cap, timeout_ms);
}

bool zcp_test_node_start(struct zcp_proc *p, const struct zcp_test_cluster *tc, int id) {
  char ids[16];
  snprintf(ids, sizeof ids, "%d", id);
  const char *args[] = {tc->config, ids, tc->netns[id][0] ? tc->netns[id] : "-", NULL};
  if (!zcp_proc_spawn(p, tc->helper_env, "node", args)) return false;
  char line[512];
  if (!zcp_test_node_cmd(p, NULL, line, sizeof line, 15000)) return false;
  if (strcmp(line, "ready") != 0) {
    fprintf(stderr, "node %d: %s\n", id, line);
    return false;
  }
  return true;
}

/* ---- the node role ------------------------------------------------------------------
 */

static uint8_t pattern(int64_t i, int seed) {
  return (uint8_t)(i * 31 + seed * 7 + 1);
}

/* Allocates, grows and frees blocks in every other node's region, checking contents. */
static void cmd_alloc_all(struct zcp_node *node, int skip, char *out, size_t cap) {
  const struct zcp_config *cfg = zcp_node_config(node);
  struct zcp_error err = {0};
  for (int owner = 0; owner < zcp_config_n_nodes(cfg); owner++) {
    if (owner == zcp_node_id(node) || owner == skip) continue;
    void *p[3] = {0};
    const int64_t sizes[3] = {1, 1000, 70000};
    for (int k = 0; k < 3; k++) {
      if (zcp_node_alloc(node, owner, sizes[k], &p[k], &err) != ZCP_OK) {
        snprintf(out, cap, "fail alloc in node %d: %s", owner, err.message);
        return;
      }
      for (int64_t i = 0; i < sizes[k]; i++) ((uint8_t *)p[k])[i] = pattern(i, k);
    }
    void *q = NULL;
    if (zcp_node_realloc(node, owner, p[1], 1000, 300000, &q, &err) != ZCP_OK) {
      snprintf(out, cap, "fail realloc in node %d: %s", owner, err.message);
      return;
    }
    for (int64_t i = 0; i < 1000; i++) {
      if (((uint8_t *)q)[i] != pattern(i, 1)) {
        snprintf(out, cap, "fail realloc in node %d lost byte %lld", owner, (long long)i);
        return;
      }
    }
    p[1] = q;
    for (int k = 0; k < 3; k++) {
      if (zcp_node_free(node, owner, p[k], &err) != ZCP_OK) {
        snprintf(out, cap, "fail free in node %d: %s", owner, err.message);
        return;
      }
    }
    /* A second free of the same block is refused by the owner: not found, or (when
     * another node got the same block meanwhile) not ours. */
    zcp_status_t st = zcp_node_free(node, owner, p[0], &err);
    if (st != ZCP_NOT_FOUND && st != ZCP_INVALID_ARGUMENT) {
      snprintf(out, cap, "fail double free in node %d answered %d", owner, (int)st);
      return;
    }
  }
  snprintf(out, cap, "ok");
}

/* Built columns stay alive (their buffers are read by other nodes) until "quit". */
static struct ArrowArray keep[16];
static int kept;

/* build OWNER N [nowb]: an int64 column of N rows (every 7th null, value 3*i) built
 * through OWNER's pool, written back to memory at the end (protocol step 3) unless nowb;
 * answers the buffer addresses. */
static void cmd_build(struct zcp_node *node, int owner, int64_t n, bool writeback,
                      char *out, size_t cap) {
  struct zcp_allocator *alloc = NULL;
  struct zcp_error err = {0};
  struct zcp_builder *b = NULL;
  struct ArrowArray arr;
  struct ArrowSchema sch;
  struct ArrowSchema col;
  if (zcp_schema_init("l", "x", ARROW_FLAG_NULLABLE, 0, &col, &err) != ZCP_OK) {
    snprintf(out, cap, "fail %s", err.message);
    return;
  }
  zcp_status_t ist = zcp_node_allocator(node, owner, &alloc, &err);
  if (ist == ZCP_OK) ist = zcp_builder_init(&col, alloc, &b, &err);
  col.release(&col);
  if (ist != ZCP_OK) {
    snprintf(out, cap, "fail %s", err.message);
    return;
  }
  for (int64_t i = 0; i < n; i++) {
    zcp_status_t st =
        i % 7 == 0 ? zcp_builder_append_null(b, 1) : zcp_builder_append_int(b, 3 * i);
    if (st != ZCP_OK) {
      snprintf(out, cap, "fail append %lld: %s", (long long)i, zcp_builder_last_error(b));
      zcp_builder_release(b);
      return;
    }
  }
  if (zcp_builder_finish(b, &arr, &sch, &err) != ZCP_OK) {
    snprintf(out, cap, "fail finish: %s", err.message);
    zcp_builder_release(b);
    return;
  }
  zcp_builder_release(b);
  if (writeback) {
    if (arr.buffers[0] != NULL) zcp_cache_writeback(arr.buffers[0], (n + 7) / 8);
    zcp_cache_writeback(arr.buffers[1], n * 8);
    zcp_cache_fence();
  }
  snprintf(out, cap, "ok %lld %lld %p %p", (long long)arr.length,
           (long long)arr.null_count, arr.buffers[0], arr.buffers[1]);
  /* The buffers stay in the pool for readers; only our structs go. */
  sch.release(&sch);
  if (kept < 16)
    keep[kept++] = arr;
  else
    arr.release(&arr);
}

static void noop_release(struct ArrowArray *a) {
  a->release = NULL;
}
static void noop_schema_release(struct ArrowSchema *s) {
  s->release = NULL;
}

/* read LEN NULLS VALIDITY VALUES: validates in place and checks every value. */
static void cmd_read(const char *args, char *out, size_t cap) {
  long long len = 0, nulls = 0;
  void *b0 = NULL, *b1 = NULL;
  if (sscanf(args, "%lld %lld %p %p", &len, &nulls, &b0, &b1) != 4) {
    snprintf(out, cap, "fail bad read command");
    return;
  }
  /* Protocol step 5: drop whatever our caches hold of the buffers, then read. */
  if (b0 != NULL) zcp_cache_invalidate(b0, (len + 7) / 8);
  zcp_cache_invalidate(b1, len * 8);
  zcp_cache_fence();
  const void *bufs[2] = {b0, b1};
  struct ArrowArray a = {len, nulls, 0, 2, 0, bufs, NULL, NULL, noop_release, NULL};
  struct ArrowSchema s = {
      "l", "x", NULL, ARROW_FLAG_NULLABLE, 0, NULL, NULL, noop_schema_release, NULL};
  struct zcp_error err = {0};
  if (zcp_array_validate(&a, &s, ZCP_VALIDATE_FULL, &err) != ZCP_OK) {
    snprintf(out, cap, "fail validate: %s", err.message);
    return;
  }
  const uint8_t *valid = b0;
  const int64_t *v = b1;
  for (int64_t i = 0; i < len; i++) {
    bool is_valid = valid == NULL || (valid[i >> 3] >> (i & 7)) & 1;
    if (is_valid != (i % 7 != 0) || (is_valid && v[i] != 3 * i)) {
      snprintf(out, cap, "fail row %lld", (long long)i);
      return;
    }
  }
  snprintf(out, cap, "ok");
}

/* hammer PEER MS: allocate and free in PEER's region until an error or MS pass. Answers
 * "st CODE MAXCALL_MS CALLS message". */
static void cmd_hammer(struct zcp_node *node, int peer, int ms, char *out, size_t cap) {
  long long end = ms_now() + ms, worst = 0, calls = 0;
  struct zcp_error err = {0};
  zcp_status_t st = ZCP_OK;
  while (ms_now() < end) {
    long long t0 = ms_now();
    void *p = NULL;
    st = zcp_node_alloc(node, peer, 4096, &p, &err);
    if (st == ZCP_OK) st = zcp_node_free(node, peer, p, &err);
    long long dt = ms_now() - t0;
    if (dt > worst) worst = dt;
    calls++;
    if (st != ZCP_OK) break;
  }
  snprintf(out, cap, "st %d %lld %lld %s", (int)st, worst, calls, st ? err.message : "");
}

static void node_command(struct zcp_node *node, const char *line, char *out, size_t cap) {
  struct zcp_error err = {0};
  int a = 0, b = 0;
  long long x = 0, y = 0;
  int c = 0;
  if (strncmp(line, "online ", 7) == 0) {
    zcp_status_t st = zcp_node_wait_online(node, atoi(line + 7), &err);
    snprintf(out, cap, "%s %s", st ? "fail" : "ok", st ? err.message : "");
  } else if (strcmp(line, "alloc_all") == 0) {
    cmd_alloc_all(node, -1, out, cap);
  } else if (sscanf(line, "alloc_except %d", &a) == 1) {
    cmd_alloc_all(node, a, out, cap);
  } else if (sscanf(line, "build %d %lld", &a, &x) == 2) {
    cmd_build(node, a, x, strstr(line, "nowb") == NULL, out, cap);
  } else if (strncmp(line, "read ", 5) == 0) {
    cmd_read(line + 5, out, cap);
  } else if (sscanf(line, "barrier %d %d", &a, &b) == 2) {
    zcp_status_t st = ZCP_OK;
    for (int i = 0; i < a && st == ZCP_OK; i++) st = zcp_node_barrier(node, b, &err);
    snprintf(out, cap, "%s %s", st ? "fail" : "ok", st ? err.message : "");
  } else if (sscanf(line, "sync %lli %lli %d", &x, &y, &a) == 3) {
    zcp_status_t st = zcp_node_sync_wait(node, (uint64_t)x, (uint64_t)y, a, &err);
    snprintf(out, cap, "st %d %s", (int)st, st ? err.message : "");
  } else if (sscanf(line, "alloc %d %lld", &a, &x) == 2) {
    long long t0 = ms_now();
    void *p = NULL;
    zcp_status_t st = zcp_node_alloc(node, a, x, &p, &err);
    snprintf(out, cap, "st %d %lld %s", (int)st, ms_now() - t0, st ? err.message : "");
  } else if (sscanf(line, "flushown %d", &a) == 1) {
    /* Thesis mode: a block of ours in node a's region, flushed on every node. */
    void *p = NULL;
    zcp_status_t st = zcp_node_alloc(node, a, 4096, &p, &err);
    if (st == ZCP_OK) st = zcp_node_flush(node, p, 4096, &err);
    if (st == ZCP_OK) st = zcp_node_free(node, a, p, &err);
    snprintf(out, cap, "st %d %s", (int)st, st ? err.message : "");
  } else if (sscanf(line, "grab %d %d", &a, &b) == 2) {
    /* Blocks granted and never sealed nor freed: what a node that dies leaves. */
    zcp_status_t st = ZCP_OK;
    for (int i = 0; i < b && st == ZCP_OK; i++) {
      void *p = NULL;
      st = zcp_node_alloc(node, a, 1000, &p, &err);
    }
    snprintf(out, cap, "st %d %s", (int)st, st ? err.message : "");
  } else if (sscanf(line, "hammer %d %d", &a, &b) == 2) {
    cmd_hammer(node, a, b, out, cap);
  } else if (sscanf(line, "waitpeer %d %d %d", &a, &b, &c) == 3) {
    zcp_status_t st = zcp_node_wait_peer(node, a, b != 0, c, &err);
    struct zcp_node_peer_status s = {0};
    if (zcp_node_peer_status(node, a, &s, NULL) != ZCP_OK) s.epoch = 0;
    snprintf(out, cap, "st %d %llu %s", (int)st, (unsigned long long)s.epoch,
             st ? err.message : "");
  } else if (zcp_test_share_cmd(node, line, out, cap)) {
    /* sharing, leases, huge tables: zcp_share_cmds.c */
  } else if (strcmp(line, "epoch") == 0) {
    snprintf(out, cap, "%llu", (unsigned long long)zcp_node_epoch(node));
  } else {
    snprintf(out, cap, "fail unknown command '%s'", line);
  }
}

int zcp_test_node_role(int argc, char **argv) {
  if (argc != 4) return 100;
  signal(SIGPIPE, SIG_IGN);
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (strcmp(argv[3], "-") != 0 && !zcp_test_netns_enter(argv[3])) {
    printf("fail cannot enter namespace %s\n", argv[3]);
    return 101;
  }
  struct zcp_node *node = zcp_test_role_open(argv[1], atoi(argv[2]));
  if (node == NULL) return 102;
  zcp_test_role_serve(node, node_command);
  for (int i = 0; i < kept; i++) keep[i].release(&keep[i]);
  zcp_node_close(node);
  return 0;
}
