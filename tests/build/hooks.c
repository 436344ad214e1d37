/* Which build of the library has the test hooks (DESIGN §9).
 *
 *   hooks absent|present
 *
 * Asks for both hooks through the environment, ZCP_DISABLE_SITE=flush.local and
 * ZCP_EMULATE_NONCOHERENT=1, then opens a one-node cluster on a non-coherent
 * shared-memory region and flushes a page of it (zcp_node_flush, whose own flush is the
 * site flush.local). Where the hooks are live (the test build, libzcpool_test.a) the
 * first map turns the emulator on and the flush is skipped; where they are not
 * (libzcpool.so, as installed) the emulator stays off and the flush counts its lines.
 * Exit code 0 when that is what argv[1] expects, 1 when not, 2 when the node failed.
 *
 * Plain C on the public API only, so that it links libzcpool.so: the test support links
 * the test build. */
#define _GNU_SOURCE 1
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zcpool/zcpool.h"

struct files {
  char dir[64], key[96], config[96], sock[96], shm[64];
};

static int write_config(struct files *f, struct zcp_error *err) {
  snprintf(f->dir, sizeof f->dir, "/tmp/zcpool-hooks-XXXXXX");
  if (mkdtemp(f->dir) == NULL) {
    f->dir[0] = '\0';
    perror("hooks: mkdtemp");
    return -1;
  }
  snprintf(f->key, sizeof f->key, "%s/hooks.key", f->dir);
  snprintf(f->config, sizeof f->config, "%s/hooks.ini", f->dir);
  snprintf(f->sock, sizeof f->sock, "%s/node0.sock", f->dir);
  snprintf(f->shm, sizeof f->shm, "zcpool-hooks-%d", (int)getpid());
  if (zcp_cluster_key_create(f->key, err) != ZCP_OK) {
    fprintf(stderr, "hooks: %s\n", err->message);
    return -1;
  }
  FILE *out = fopen(f->config, "w");
  if (out == NULL) {
    perror("hooks: config");
    return -1;
  }
  fprintf(out,
          "[cluster]\nname = hooks\nid = 0x%x\nkey_file = hooks.key\n\n"
          "[node.0]\naddress = unix:%s\ndevice = shm:%s\nsize = 8M\n"
          "coherence = noncoherent\n",
          0x400000 + (int)getpid(), f->sock, f->shm);
  return fclose(out) == 0 ? 0 : -1;
}

static void remove_files(const struct files *f) {
  if (f->dir[0] == '\0') return;
  char path[160];
  snprintf(path, sizeof path, "/dev/shm/%s", f->shm);
  unlink(path);
  unlink(f->sock);
  unlink(f->key);
  unlink(f->config);
  rmdir(f->dir);
}

int main(int argc, char **argv) {
  if (argc != 2 || (strcmp(argv[1], "absent") != 0 && strcmp(argv[1], "present") != 0)) {
    fprintf(stderr, "usage: hooks absent|present\n");
    return 2;
  }
  bool expect_hooks = strcmp(argv[1], "present") == 0;
  setenv("ZCP_DISABLE_SITE", "flush.local", 1);
  setenv("ZCP_EMULATE_NONCOHERENT", "1", 1);

  struct zcp_error err = {0};
  struct files f = {0};
  struct zcp_config *cfg = NULL;
  struct zcp_node *node = NULL;
  int rc = 2;
  if (write_config(&f, &err) != 0) goto out;
  if (zcp_config_load(f.config, &cfg, &err) != ZCP_OK ||
      zcp_node_open(cfg, 0, &node, &err) != ZCP_OK) {
    fprintf(stderr, "hooks: %s\n", err.message);
    goto out;
  }
  bool emulated = zcp_emulator_enabled();
  void *data = NULL;
  int64_t size = 0;
  if (zcp_node_region_data(node, 0, &data, &size, &err) != ZCP_OK) {
    fprintf(stderr, "hooks: %s\n", err.message);
    goto out;
  }
  struct zcp_cache_stats before, after;
  zcp_cache_stats_get(&before);
  if (zcp_node_flush(node, data, 4096, &err) != ZCP_OK) {
    fprintf(stderr, "hooks: %s\n", err.message);
    goto out;
  }
  zcp_cache_stats_get(&after);
  int64_t flushed = after.lines_flushed - before.lines_flushed;
  printf("ZCP_EMULATE_NONCOHERENT=1: the emulator is %s\n", emulated ? "on" : "off");
  printf("ZCP_DISABLE_SITE=flush.local: the flush of a page flushed %" PRId64 " lines\n",
         flushed);
  bool hooks = emulated && flushed == 0;
  bool none = !emulated && flushed > 0;
  if (expect_hooks ? hooks : none) {
    printf("hooks %s, as expected\n", argv[1]);
    rc = 0;
  } else {
    printf("the test hooks should be %s in this library\n", argv[1]);
    rc = 1;
  }
out:
  zcp_node_close(node);
  zcp_config_free(cfg);
  remove_files(&f);
  return rc;
}
