/* The coherence protocol (DESIGN §4, import invalidation) under the non-coherent
 * emulator, with three processes: the owner of the region (this test), a writer and a
 * reader (helpers started from this binary, both borrowers, both emulated).
 *
 * The reader maps the region and reads it first, so its "cache" holds the old bytes.
 * The writer invalidates its block, writes, writes back and fences. The reader then
 * invalidates, fences and checks every value. That must pass; and with the write-back
 * removed, or the reader's invalidation removed, the reader must see stale values: the
 * emulator is what makes the missing step fail on this coherent machine. */
#define _GNU_SOURCE 1
#include <criterion/criterion.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zcp_proc.h"
#include "zcpool/fabric.h"

#define WINDOW_SIZE ((int64_t)16 << 20)
#define REGION_SIZE ((int64_t)4 << 20)
#define SLOT ((int64_t)2 << 20)
#define VALUES (256 * 1024 / 8) /* 256 KiB of values over 64 pages */
#define TIMEOUT_MS 20000

static uint64_t value(int64_t i) {
  return (uint64_t)i * 2654435761u + 1;
}

static const struct zcp_region_info region_info = {0xe1u, 0, 3, REGION_SIZE,
                                                   ZCP_NONCOHERENT};

/* Maps the region as a borrower in a helper; the emulator comes from the environment
 * (ZCP_EMULATE_NONCOHERENT=1) or from policy "random". */
static struct zcp_region *borrow(const char *spec, const char *policy) {
  struct zcp_error err = {0};
  if (strcmp(policy, "random") == 0) {
    struct zcp_emulator_options o = {ZCP_EMULATOR_RANDOM_EVICT, 7, 0.3};
    if (zcp_emulator_enable(&o, &err) != ZCP_OK) return NULL;
  }
  struct zcp_window *win = NULL;
  struct zcp_device *dev = NULL;
  struct zcp_region *r = NULL;
  if (zcp_window_reserve(ZCP_WINDOW_BASE_DEFAULT, WINDOW_SIZE, &win, &err) != ZCP_OK ||
      zcp_device_open(spec, NULL, &dev, &err) != ZCP_OK ||
      zcp_region_map(win, SLOT, dev, ZCP_REGION_BORROWER, &region_info, &r, &err) !=
          ZCP_OK) {
    fprintf(stderr, "borrow: %s\n", err.message);
    return NULL;
  }
  if (!zcp_emulator_enabled()) {
    fprintf(stderr, "borrow: the emulator is not on\n");
    return NULL;
  }
  return r; /* window and device live until the helper exits */
}

/* writer MODE SPEC POLICY: MODE "ok" follows the protocol, "nowb" skips the write-back.
 */
static int role_writer(int argc, char **argv) {
  if (argc != 4) return 100;
  struct zcp_region *r = borrow(argv[2], argv[3]);
  if (r == NULL) return 101;
  uint64_t *v = zcp_region_data(r);
  zcp_region_invalidate(r, v, VALUES * 8); /* step 2: our lines of the block */
  for (int64_t i = 0; i < VALUES; i++) v[i] = value(i);
  if (strcmp(argv[1], "nowb") != 0) zcp_region_writeback(r, v, VALUES * 8); /* step 3 */
  zcp_cache_fence();
  return 0;
}

/* reader MODE SPEC POLICY: reads everything (caching it), says 'r', waits for 'g', then
 * invalidates (unless MODE is "noinv"), fences and checks. Exit 0: all values right;
 * 3: some were stale (the count is printed). */
static int role_reader(int argc, char **argv) {
  if (argc != 4) return 100;
  struct zcp_region *r = borrow(argv[2], argv[3]);
  if (r == NULL) return 101;
  const volatile uint64_t *v = zcp_region_data(r);
  uint64_t sum = 0;
  for (int64_t i = 0; i < VALUES; i++) sum += v[i];
  if (sum != 0) return 102;
  if (write(1, "r", 1) != 1) return 103;
  char c;
  struct pollfd pfd = {0, POLLIN, 0};
  if (poll(&pfd, 1, TIMEOUT_MS) != 1 || read(0, &c, 1) != 1 || c != 'g') return 104;
  if (strcmp(argv[1], "noinv") != 0)
    zcp_region_invalidate(r, (const void *)v, VALUES * 8);
  zcp_cache_fence();
  int64_t stale = 0;
  for (int64_t i = 0; i < VALUES; i++) stale += v[i] != value(i);
  printf("%lld of %d values stale\n", (long long)stale, VALUES);
  return stale == 0 ? 0 : 3;
}

static int dispatch(int argc, char **argv) {
  if (strcmp(argv[0], "writer") == 0) return role_writer(argc, argv);
  if (strcmp(argv[0], "reader") == 0) return role_reader(argc, argv);
  return 99;
}

__attribute__((constructor)) static void helper_entry(int argc, char **argv) {
  zcp_proc_helper_main(argc, argv, dispatch);
}

TestSuite(fabric_emulator, .fini = zcp_proc_kill_all, .timeout = 120);

struct outcome {
  int reader_rc;
  int64_t in_memory; /* values that reached memory, as the owner sees it */
  char reader_out[256];
};

static struct outcome run(const char *writer_mode, const char *reader_mode,
                          const char *policy) {
  struct outcome out = {0};
  struct zcp_error err = {0};
  char spec[64];
  static int seq;
  snprintf(spec, sizeof spec, "shm:zcp-emu-%d-%d", (int)getpid(), seq++);
  struct zcp_device_options o;
  zcp_device_options_init(&o);
  o.create = true;
  o.size = REGION_SIZE;
  struct zcp_device *dev = NULL;
  struct zcp_window *win = NULL;
  struct zcp_region *own = NULL;
  cr_assert_eq(zcp_device_open(spec, &o, &dev, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_window_reserve(ZCP_WINDOW_BASE_DEFAULT, WINDOW_SIZE, &win, &err),
               ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_region_map(win, SLOT, dev, ZCP_REGION_OWNER, &region_info, &own, &err),
               ZCP_OK, "%s", err.message);

  const char *env = "ZCP_EMULATE_NONCOHERENT=1";
  const char *rargs[] = {reader_mode, spec, policy, NULL};
  struct zcp_proc reader, writer;
  cr_assert(zcp_proc_spawn(&reader, env, "reader", rargs));
  char c = 0;
  cr_assert(zcp_proc_read_byte(&reader, &c, TIMEOUT_MS) && c == 'r',
            "the reader did not get ready (exit %d)", zcp_proc_wait(&reader, 1000));
  const char *wargs[] = {writer_mode, spec, policy, NULL};
  cr_assert(zcp_proc_spawn(&writer, env, "writer", wargs));
  int wrc = zcp_proc_wait(&writer, TIMEOUT_MS);
  cr_assert_eq(wrc, 0, "writer exited %d", wrc);
  /* Publish: tell the reader the data is there. */
  cr_assert(zcp_proc_write_byte(&reader, 'g'));
  zcp_proc_read_all(&reader, out.reader_out, sizeof out.reader_out, TIMEOUT_MS);
  out.reader_rc = zcp_proc_wait(&reader, TIMEOUT_MS);
  const uint64_t *v = zcp_region_data(own);
  /* Under the emulator the owner's view is a cache too: read memory, not it. */
  zcp_region_invalidate(own, v, VALUES * (int64_t)sizeof *v);
  zcp_cache_fence();
  for (int64_t i = 0; i < VALUES; i++) out.in_memory += v[i] == value(i);
  zcp_region_unmap(own);
  zcp_window_release(win);
  zcp_device_close(dev);
  cr_assert_eq(zcp_device_unlink(spec, &err), ZCP_OK, "%s", err.message);
  return out;
}

Test(fabric_emulator, protocol_passes) {
  struct outcome o = run("ok", "ok", "stale");
  cr_assert_eq(o.reader_rc, 0, "reader exited %d: %s", o.reader_rc, o.reader_out);
  cr_assert_eq(o.in_memory, VALUES);
}

Test(fabric_emulator, protocol_passes_with_random_early_eviction) {
  struct outcome o = run("ok", "ok", "random");
  cr_assert_eq(o.reader_rc, 0, "reader exited %d: %s", o.reader_rc, o.reader_out);
}

Test(fabric_emulator, missing_writeback_gives_stale_reads) {
  struct outcome o = run("nowb", "ok", "stale");
  cr_assert_eq(o.reader_rc, 3, "the reader must see stale data; exit %d: %s", o.reader_rc,
               o.reader_out);
  cr_assert_eq(o.in_memory, 0, "nothing may reach memory without a write-back");
  cr_log_info("without write-back: %s", o.reader_out);
}

Test(fabric_emulator, missing_reader_invalidation_gives_stale_reads) {
  struct outcome o = run("ok", "noinv", "stale");
  cr_assert_eq(o.reader_rc, 3, "the reader must see stale data; exit %d: %s", o.reader_rc,
               o.reader_out);
  cr_assert_eq(o.in_memory, VALUES, "the writer did its part");
  cr_log_info("without reader invalidation: %s", o.reader_out);
}
