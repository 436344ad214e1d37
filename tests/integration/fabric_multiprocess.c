/* Identical addresses across processes: every helper is this binary started again (a
 * fresh address space, as another node has), reserves the cluster window at the same
 * base, maps the region and must find the same bytes behind the same pointer. Also: a
 * taken window fails cleanly and names the range; a region of the wrong cluster or epoch
 * is refused. */
#define _GNU_SOURCE 1
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zcp_proc.h"
#include "zcpool/fabric.h"

#define WINDOW_SIZE ((int64_t)64 << 20)
#define REGION_SIZE ((int64_t)4 << 20)
#define SLOT ((int64_t)8 << 20)
#define PATTERN_LEN 65536
#define HELPERS 3
#define TIMEOUT_MS 20000

static uint8_t pattern_byte(int64_t i) {
  return (uint8_t)(i * 7 + 13);
}

/* A stamp line per helper, each on its own 128-byte line after the pattern. */
static volatile uint64_t *stamp_slot(void *data, int idx) {
  return (volatile uint64_t *)((uint8_t *)data + PATTERN_LEN + 128 * idx);
}

/* ---- helper roles ---------------------------------------------------------------- */

/* borrow SPEC CLUSTER OWNER EPOCH IDX: map as borrower; on success check the pattern,
 * stamp our line, print the data pointer. Exit code: the status. */
static int role_borrow(int argc, char **argv) {
  if (argc != 6) return 100;
  struct zcp_error err = {0};
  struct zcp_region_info info = {strtoull(argv[2], NULL, 0), (uint32_t)atoi(argv[3]),
                                 strtoull(argv[4], NULL, 0), REGION_SIZE, ZCP_COHERENT};
  int idx = atoi(argv[5]);
  struct zcp_window *win = NULL;
  struct zcp_device *dev = NULL;
  struct zcp_region *region = NULL;
  zcp_status_t st = zcp_window_reserve(ZCP_WINDOW_BASE_DEFAULT, WINDOW_SIZE, &win, &err);
  if (st == ZCP_OK) st = zcp_device_open(argv[1], NULL, &dev, &err);
  if (st == ZCP_OK)
    st = zcp_region_map(win, SLOT, dev, ZCP_REGION_BORROWER, &info, &region, &err);
  if (st != ZCP_OK) {
    printf("%s\n", err.message);
    return (int)st;
  }
  const uint8_t *data = zcp_region_data(region);
  for (int64_t i = 0; i < PATTERN_LEN; i++) {
    if (data[i] != pattern_byte(i)) {
      printf("byte %lld is %u, expected %u\n", (long long)i, data[i], pattern_byte(i));
      return 101;
    }
  }
  *stamp_slot(zcp_region_data(region), idx) = 0xab00u + (uint64_t)idx;
  printf("%p\n", zcp_region_data(region));
  zcp_region_unmap(region);
  zcp_device_close(dev);
  zcp_window_release(win);
  return 0;
}

/* taken: put a mapping of our own inside the window's range, then try to reserve the
 * window. Must fail with ZCP_BUSY, print the message, and leave our mapping intact. */
static int role_taken(int argc, char **argv) {
  (void)argc;
  (void)argv;
  void *at = (void *)(uintptr_t)(ZCP_WINDOW_BASE_DEFAULT + (16u << 20));
  char *mine = mmap(at, 4096, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (mine != at) return 102;
  strcpy(mine, "still here");
  struct zcp_window *win = NULL;
  struct zcp_error err = {0};
  zcp_status_t st = zcp_window_reserve(ZCP_WINDOW_BASE_DEFAULT, WINDOW_SIZE, &win, &err);
  printf("%s\n", err.message);
  if (st != ZCP_BUSY || win != NULL) return 103;
  if (strcmp(mine, "still here") != 0) return 104;
  /* The range next to ours is still free: nothing was left reserved. */
  st = zcp_window_reserve(ZCP_WINDOW_BASE_DEFAULT, 16 << 20, &win, &err);
  if (st != ZCP_OK) return 105;
  zcp_window_release(win);
  return 0;
}

static int dispatch(int argc, char **argv) {
  if (strcmp(argv[0], "borrow") == 0) return role_borrow(argc, argv);
  if (strcmp(argv[0], "taken") == 0) return role_taken(argc, argv);
  return 99;
}

__attribute__((constructor)) static void helper_entry(int argc, char **argv) {
  zcp_proc_helper_main(argc, argv, dispatch);
}

/* ---- the owner side ---------------------------------------------------------------- */

struct owner {
  char spec[64];
  struct zcp_device *dev;
  struct zcp_window *win;
  struct zcp_region *region;
};

static void owner_setup(struct owner *o, uint64_t cluster, uint64_t epoch) {
  struct zcp_error err = {0};
  static int seq;
  snprintf(o->spec, sizeof o->spec, "shm:zcp-it-%d-%d", (int)getpid(), seq++);
  struct zcp_device_options opts;
  zcp_device_options_init(&opts);
  opts.create = true;
  opts.size = REGION_SIZE;
  cr_assert_eq(zcp_device_open(o->spec, &opts, &o->dev, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_window_reserve(ZCP_WINDOW_BASE_DEFAULT, WINDOW_SIZE, &o->win, &err),
               ZCP_OK, "%s", err.message);
  struct zcp_region_info info = {cluster, 0, epoch, REGION_SIZE, ZCP_COHERENT};
  cr_assert_eq(
      zcp_region_map(o->win, SLOT, o->dev, ZCP_REGION_OWNER, &info, &o->region, &err),
      ZCP_OK, "%s", err.message);
  uint8_t *data = zcp_region_data(o->region);
  for (int64_t i = 0; i < PATTERN_LEN; i++) data[i] = pattern_byte(i);
}

static void owner_teardown(struct owner *o) {
  zcp_region_unmap(o->region);
  zcp_window_release(o->win);
  zcp_device_close(o->dev);
  if (zcp_device_unlink(o->spec, NULL) != ZCP_OK)
    cr_log_warn("cannot unlink %s", o->spec);
}

/* Runs a borrow helper; returns its exit code and its output in out. */
static int borrow(const struct owner *o, uint64_t cluster, uint64_t epoch, int idx,
                  char *out, int cap) {
  char c[32], e[32], i[16];
  snprintf(c, sizeof c, "%#" PRIx64, cluster);
  snprintf(e, sizeof e, "%" PRIu64, epoch);
  snprintf(i, sizeof i, "%d", idx);
  const char *args[] = {o->spec, c, "0", e, i, NULL};
  struct zcp_proc p;
  cr_assert(zcp_proc_spawn(&p, NULL, "borrow", args));
  zcp_proc_read_all(&p, out, cap, TIMEOUT_MS);
  return zcp_proc_wait(&p, TIMEOUT_MS);
}

TestSuite(fabric_multiprocess, .fini = zcp_proc_kill_all, .timeout = 120);

Test(fabric_multiprocess, same_pointer_reads_same_bytes_in_every_process) {
  struct owner o;
  owner_setup(&o, 0xc1u, 7);
  char want[32];
  snprintf(want, sizeof want, "%p\n", zcp_region_data(o.region));
  /* Start all helpers before waiting for any: they run side by side. */
  struct zcp_proc p[HELPERS];
  for (int k = 0; k < HELPERS; k++) {
    char i[16];
    snprintf(i, sizeof i, "%d", k);
    const char *args[] = {o.spec, "0xc1", "0", "7", i, NULL};
    cr_assert(zcp_proc_spawn(&p[k], NULL, "borrow", args));
  }
  for (int k = 0; k < HELPERS; k++) {
    char out[256];
    zcp_proc_read_all(&p[k], out, sizeof out, TIMEOUT_MS);
    int rc = zcp_proc_wait(&p[k], TIMEOUT_MS);
    cr_assert_eq(rc, 0, "helper %d exited %d: %s", k, rc, out);
    cr_assert_str_eq(out, want, "helper %d saw the data at %s, the owner at %s", k, out,
                     want);
    /* And what the helper wrote through that pointer is what we read through ours. */
    cr_assert_eq(*stamp_slot(zcp_region_data(o.region), k), 0xab00u + (uint64_t)k);
  }
  owner_teardown(&o);
}

Test(fabric_multiprocess, taken_window_fails_and_names_the_range) {
  const char *args[] = {NULL};
  struct zcp_proc p;
  cr_assert(zcp_proc_spawn(&p, NULL, "taken", args));
  char out[600];
  zcp_proc_read_all(&p, out, sizeof out, TIMEOUT_MS);
  int rc = zcp_proc_wait(&p, TIMEOUT_MS);
  cr_assert_eq(rc, 0, "helper exited %d: %s", rc, out);
  char range[64];
  snprintf(range, sizeof range, "%#" PRIx64 "-%#" PRIx64, ZCP_WINDOW_BASE_DEFAULT,
           ZCP_WINDOW_BASE_DEFAULT + (uint64_t)WINDOW_SIZE);
  cr_assert(strstr(out, range) != NULL, "message '%s' does not name %s", out, range);
  cr_assert(strstr(out, "taken") != NULL, "message: %s", out);
}

Test(fabric_multiprocess, refuses_region_of_wrong_cluster_or_epoch) {
  struct owner o;
  owner_setup(&o, 0xc1u, 7);
  char out[600];
  int rc = borrow(&o, 0xc1u, 7, 0, out, sizeof out);
  cr_assert_eq(rc, 0, "right cluster and epoch: exit %d: %s", rc, out);
  rc = borrow(&o, 0xc2u, 7, 1, out, sizeof out);
  cr_assert_eq(rc, ZCP_INVALID_ARGUMENT, "wrong cluster: exit %d: %s", rc, out);
  cr_assert(strstr(out, "cluster 0xc1") && strstr(out, "expected cluster 0xc2"), "%s",
            out);
  rc = borrow(&o, 0xc1u, 6, 2, out, sizeof out);
  cr_assert_eq(rc, ZCP_INVALID_ARGUMENT, "wrong epoch: exit %d: %s", rc, out);
  cr_assert(strstr(out, "epoch is 7, expected 6") != NULL, "%s", out);

  /* The owner re-initialises the region: the old epoch is refused from now on. */
  zcp_region_unmap(o.region);
  struct zcp_error err = {0};
  struct zcp_region_info info = {0xc1u, 0, 8, REGION_SIZE, ZCP_COHERENT};
  cr_assert_eq(
      zcp_region_map(o.win, SLOT, o.dev, ZCP_REGION_OWNER, &info, &o.region, &err),
      ZCP_OK, "%s", err.message);
  uint8_t *data = zcp_region_data(o.region);
  for (int64_t i = 0; i < PATTERN_LEN; i++) data[i] = pattern_byte(i);
  rc = borrow(&o, 0xc1u, 7, 0, out, sizeof out);
  cr_assert_eq(rc, ZCP_INVALID_ARGUMENT, "stale epoch: exit %d: %s", rc, out);
  cr_assert(strstr(out, "epoch is 8, expected 7") != NULL, "%s", out);
  rc = borrow(&o, 0xc1u, 8, 0, out, sizeof out);
  cr_assert_eq(rc, 0, "new epoch: exit %d: %s", rc, out);
  owner_teardown(&o);
}

Test(fabric_multiprocess, oversized_shm_is_an_error_not_a_crash) {
  /* The owner side of an over-large region: the process must get ZCP_NO_SPACE and live.
   */
  char spec[64];
  snprintf(spec, sizeof spec, "shm:zcp-it-big-%d", (int)getpid());
  struct zcp_device_options opts;
  zcp_device_options_init(&opts);
  opts.create = true;
  opts.size = (int64_t)1 << 44; /* 16 TiB: more than any /dev/shm here */
  struct zcp_device *dev = NULL;
  struct zcp_error err = {0};
  zcp_status_t st = zcp_device_open(spec, &opts, &dev, &err);
  cr_assert_eq(st, ZCP_NO_SPACE, "status %d: %s", st, err.message);
  cr_assert(strstr(err.message, spec) != NULL, "%s", err.message);
  cr_assert_eq(zcp_device_open(spec, NULL, &dev, &err), ZCP_NOT_FOUND,
               "a failed creation must not leave the device behind");
}
