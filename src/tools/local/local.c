/* See local.h. The directory is made with mkdtemp, so it is this cluster's alone, and
 * its name also names the regions: two clusters on one machine (two test processes, a
 * test and a benchmark) never meet. */
#define _GNU_SOURCE 1
#include "local.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zcpool/fabric.h"

struct zcp_local {
  char dir[200];
  char base[64]; /* the directory's own name */
  char config[232];
  struct zcp_config *cfg;
  bool written;
  struct zcp_proc proc[ZCP_CLUSTER_MAX_NODES];
};

static bool name_ok(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > 32) return false;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '-' || c == '_'))
      return false;
  }
  return true;
}

/* Different for every cluster this machine makes at about the same time. */
static uint64_t fresh_id(void) {
  static unsigned seq;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t id = ((uint64_t)getpid() << 40) ^ ((uint64_t)ts.tv_sec << 20) ^
                (uint64_t)ts.tv_nsec ^ ((uint64_t)++seq << 56);
  return id != 0 ? id : 1;
}

/* Removes the files in dir and dir itself (nothing here makes subdirectories). */
static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (d != NULL) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      char path[512];
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      unlink(path);
    }
    closedir(d);
  }
  rmdir(dir);
}

zcp_status_t zcp_local_open(const char *name, struct zcp_local **out,
                            struct zcp_error *err) {
  if (out != NULL) *out = NULL;
  if (name == NULL || out == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "zcp_local_open: %s is NULL",
                         name == NULL ? "the name" : "out");
  if (!name_ok(name))
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "local cluster name '%.40s': expected 1..32 letters, digits, "
                         "'-' or '_'",
                         name);
  struct zcp_local *lc = calloc(1, sizeof *lc);
  if (lc == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "local cluster %s", name);
  for (int i = 0; i < ZCP_CLUSTER_MAX_NODES; i++)
    lc->proc[i] = (struct zcp_proc){-1, -1, -1};
  const char *tmp = getenv("TMPDIR");
  if (tmp == NULL || tmp[0] == '\0') tmp = "/tmp";
  int len = snprintf(lc->dir, sizeof lc->dir, "%s/zcp-%s-XXXXXX", tmp, name);
  if (len < 0 || (size_t)len >= sizeof lc->dir) {
    free(lc);
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "temporary directory path too long: %s", tmp);
  }
  if (mkdtemp(lc->dir) == NULL) {
    int e = errno;
    free(lc);
    return zcp_error_set(err, ZCP_IO_ERROR, "cannot make a directory in %s: %s", tmp,
                         strerror(e));
  }
  snprintf(lc->base, sizeof lc->base, "%s", strrchr(lc->dir, '/') + 1);
  snprintf(lc->config, sizeof lc->config, "%s/cluster.ini", lc->dir);
  char key[sizeof lc->dir + 16];
  snprintf(key, sizeof key, "%s/cluster.key", lc->dir);
  zcp_status_t st = zcp_cluster_key_create(key, err);
  if (st == ZCP_OK) st = zcp_config_new(&lc->cfg, err);
  if (st == ZCP_OK) st = zcp_config_set_name(lc->cfg, name, err);
  if (st == ZCP_OK) st = zcp_config_set_id(lc->cfg, fresh_id(), err);
  if (st == ZCP_OK) st = zcp_config_set_key_file(lc->cfg, "cluster.key", err);
  if (st != ZCP_OK) {
    zcp_local_close(lc);
    return st;
  }
  *out = lc;
  return ZCP_OK;
}

struct zcp_config *zcp_local_config(struct zcp_local *lc) {
  return lc != NULL ? lc->cfg : NULL;
}

const char *zcp_local_dir(const struct zcp_local *lc) {
  return lc != NULL ? lc->dir : NULL;
}

const char *zcp_local_config_path(const struct zcp_local *lc) {
  return lc != NULL ? lc->config : NULL;
}

zcp_status_t zcp_local_add_node(struct zcp_local *lc, const char *address, int64_t size,
                                enum zcp_coherence coherence, struct zcp_error *err) {
  if (lc == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "zcp_local_add_node: lc is NULL");
  int id = zcp_config_n_nodes(lc->cfg);
  char unix_address[sizeof lc->dir + 32], device[sizeof lc->base + 32];
  if (address == NULL) {
    snprintf(unix_address, sizeof unix_address, "unix:%s/node%d.sock", lc->dir, id);
    address = unix_address;
  }
  snprintf(device, sizeof device, "shm:%s-%d", lc->base, id);
  return zcp_config_add_node(lc->cfg, address, device, size, coherence, err);
}

zcp_status_t zcp_local_write(struct zcp_local *lc, struct zcp_error *err) {
  if (lc == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "zcp_local_write: lc is NULL");
  ZCP_RETURN_NOT_OK(zcp_config_write(lc->cfg, lc->config, err));
  lc->written = true;
  return ZCP_OK;
}

/* Node id may start a process now. */
static zcp_status_t may_start(struct zcp_local *lc, int32_t id, struct zcp_error *err) {
  if (lc == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "starting node %d: lc is NULL",
                         (int)id);
  if (id < 0 || id >= zcp_config_n_nodes(lc->cfg))
    return zcp_error_set(err, ZCP_NOT_FOUND, "%s: no node %d (nodes 0..%d)", lc->config,
                         (int)id, (int)zcp_config_n_nodes(lc->cfg) - 1);
  if (!lc->written)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "%s: starting node %d before the config is written", lc->config,
                         (int)id);
  if (lc->proc[id].pid > 0)
    return zcp_error_set(err, ZCP_BUSY, "%s: node %d runs already (pid %d)", lc->config,
                         (int)id, (int)lc->proc[id].pid);
  return ZCP_OK;
}

struct start {
  struct zcp_local *lc;
  int32_t id;
  zcp_local_node_fn fn;
  void *ctx;
};

static int run_node(int in_fd, int out_fd, void *ctx) {
  struct start *s = ctx;
  return s->fn(s->lc, s->id, in_fd, out_fd, s->ctx);
}

zcp_status_t zcp_local_fork(struct zcp_local *lc, int32_t id, zcp_local_node_fn fn,
                            void *ctx, struct zcp_error *err) {
  ZCP_RETURN_NOT_OK(may_start(lc, id, err));
  if (fn == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "starting node %d: no function",
                         (int)id);
  /* The child runs inside this call, on its copy of s. */
  struct start s = {lc, id, fn, ctx};
  return zcp_proc_fork(&lc->proc[id], run_node, &s, err);
}

zcp_status_t zcp_local_exec(struct zcp_local *lc, int32_t id, const char *const *argv,
                            const char *const *env, struct zcp_error *err) {
  ZCP_RETURN_NOT_OK(may_start(lc, id, err));
  return zcp_proc_exec(&lc->proc[id], argv, env, err);
}

struct zcp_proc *zcp_local_proc(struct zcp_local *lc, int32_t id) {
  if (lc == NULL || id < 0 || id >= zcp_config_n_nodes(lc->cfg)) return NULL;
  return &lc->proc[id];
}

int zcp_local_wait(struct zcp_local *lc, int32_t id, int timeout_ms) {
  return zcp_proc_wait(zcp_local_proc(lc, id), timeout_ms);
}

void zcp_local_close(struct zcp_local *lc) {
  if (lc == NULL) return;
  for (int i = 0; i < ZCP_CLUSTER_MAX_NODES; i++) zcp_proc_kill(&lc->proc[i]);
  /* A node removes its own region when it closes; one that was killed cannot. */
  for (int i = 0; i < zcp_config_n_nodes(lc->cfg); i++) {
    struct zcp_config_node n;
    if (zcp_config_get_node(lc->cfg, i, &n, NULL) != ZCP_OK) continue;
    if (strncmp(n.device, "shm:", 4) == 0) {
      zcp_status_t gone = zcp_device_unlink(n.device, NULL); /* absent is fine */
      (void)gone;
    }
  }
  if (lc->dir[0] != '\0') remove_dir(lc->dir);
  zcp_config_free(lc->cfg);
  free(lc);
}
