/* The emulator in one process: a plain shared mapping of the device plays memory as
 * other nodes see it; an emulated borrower mapping of it (slot 1) plays this node's
 * caches, and the owner's mapping (slot 0) is emulated too. Every assertion here is about
 * staleness the emulator must produce or undo. */
#define _GNU_SOURCE 1
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zcpool/fabric.h"

#define MIB ((int64_t)1 << 20)
#define SIZE (2 * MIB)

static struct zcp_device *dev;
static struct zcp_window *win;
static struct zcp_region *own, *bor;
static uint8_t *memory; /* the device, mapped plainly */

static void setup_with(const struct zcp_emulator_options *opts) {
  struct zcp_error err = {0};
  struct zcp_device_options o;
  zcp_device_options_init(&o);
  o.create = true;
  o.size = SIZE;
  cr_assert_eq(zcp_emulator_enable(opts, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_device_open("shm:", &o, &dev, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_window_reserve(ZCP_WINDOW_BASE_DEFAULT, 2 * SIZE, &win, &err), ZCP_OK);
  struct zcp_region_info info = {1, 0, 1, SIZE, ZCP_NONCOHERENT};
  cr_assert_eq(zcp_region_map(win, 0, dev, ZCP_REGION_OWNER, &info, &own, &err), ZCP_OK,
               "%s", err.message);
  cr_assert_eq(zcp_region_map(win, SIZE, dev, ZCP_REGION_BORROWER, &info, &bor, &err),
               ZCP_OK, "%s", err.message);
  memory = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, zcp_device_fd(dev), 0);
  cr_assert_neq(memory, MAP_FAILED);
}

static void setup(void) {
  setup_with(NULL);
}

static void teardown(void) {
  if (memory != NULL && memory != MAP_FAILED) munmap(memory, SIZE);
  memory = NULL;
  zcp_region_unmap(bor);
  zcp_region_unmap(own);
  zcp_window_release(win);
  zcp_device_close(dev);
}

/* The same data byte as memory and as the borrower's (or the owner's) cache see it. */
static volatile uint64_t *mem(int64_t off) {
  return (volatile uint64_t *)(memory + ZCP_REGION_DATA_OFFSET + off);
}
static volatile uint64_t *owned(int64_t off) {
  return (volatile uint64_t *)((uint8_t *)zcp_region_data(own) + off);
}
static volatile uint64_t *cached(int64_t off) {
  return (volatile uint64_t *)((uint8_t *)zcp_region_data(bor) + off);
}

TestSuite(emulator, .init = setup, .fini = teardown);

Test(emulator, reads_stay_stale_until_invalidated) {
  /* Page 0 holds the header, which the borrower read (and so cached) when it mapped. */
  *mem(0) = 1;
  cr_assert_eq(*cached(0), 0, "the page filled at map time is already stale");
  int64_t off = 2 * sysconf(_SC_PAGESIZE);
  *mem(off) = 1;
  cr_assert_eq(*cached(off), 1, "first access fills from memory");
  *mem(off) = 2;
  cr_assert_eq(*cached(off), 1, "a filled page must stay stale");
  zcp_region_writeback(bor, (const void *)cached(off), 8);
  cr_assert_eq(*cached(off), 1, "write-back does not refresh");
  zcp_region_invalidate(bor, (const void *)cached(off), 8);
  zcp_cache_fence();
  cr_assert_eq(*cached(off), 2, "invalidation refills");
}

Test(emulator, writes_stay_private_until_written_back) {
  struct zcp_emulator_stats before, after;
  zcp_emulator_stats_get(&before);
  *cached(256) = 5;
  cr_assert_eq(*mem(256), 0);
  zcp_region_writeback(bor, (const void *)cached(0), 4096);
  zcp_cache_fence();
  cr_assert_eq(*mem(256), 5);
  zcp_emulator_stats_get(&after);
  cr_assert_eq(after.lines_written_back - before.lines_written_back, 1,
               "only the changed line is copied");
}

/* A node serves calls on several threads. While one thread invalidates a line of a page
 * (dropping the page), others keep using other lines of it: a write must not be lost
 * between the drop's write-back and the drop, and no read may see the page empty
 * (zeroed) or half refilled. */
#define RACE_ROUNDS 20000 /* drops of the page */
#define RACE_PAGE (2 * sysconf(_SC_PAGESIZE)) /* not filled at map time */
static atomic_int race_done;
static atomic_long race_lost, race_zero;

static atomic_ullong race_last;

static void *race_writer(void *arg) {
  (void)arg;
  uint64_t k = 0;
  while (!atomic_load(&race_done)) {
    *cached(RACE_PAGE) = ++k;
    if (*cached(RACE_PAGE) != k) atomic_fetch_add(&race_lost, 1);
  }
  atomic_store(&race_last, k);
  return NULL;
}

static void *race_reader(void *arg) {
  (void)arg;
  while (!atomic_load(&race_done)) {
    if (*cached(RACE_PAGE + 64 * 8) != 7) atomic_fetch_add(&race_zero, 1);
  }
  return NULL;
}

Test(emulator, threads_sharing_a_page_lose_nothing) {
  *mem(RACE_PAGE + 64 * 8) = 7;
  atomic_store(&race_done, 0);
  atomic_store(&race_lost, 0);
  atomic_store(&race_zero, 0);
  pthread_t w, r;
  cr_assert_eq(pthread_create(&w, NULL, race_writer, NULL), 0);
  cr_assert_eq(pthread_create(&r, NULL, race_reader, NULL), 0);
  for (int i = 0; i < RACE_ROUNDS; i++) {
    zcp_region_invalidate(bor, (const void *)cached(RACE_PAGE + 32 * 8), 8);
  }
  atomic_store(&race_done, 1);
  pthread_join(w, NULL);
  pthread_join(r, NULL);
  cr_assert_eq(atomic_load(&race_lost), 0, "writes lost to a concurrent drop");
  cr_assert_eq(atomic_load(&race_zero), 0, "reads saw a dropped or half-filled page");
  zcp_region_writeback(bor, (const void *)cached(RACE_PAGE), 8);
  zcp_cache_fence();
  cr_assert_eq(*mem(RACE_PAGE), atomic_load(&race_last), "the last write reaches memory");
}

Test(emulator, write_back_copies_lines_not_pages) {
  int64_t line = zcp_cache_line_size();
  cr_assert_eq(*cached(0), 0); /* fill the page */
  *mem(2 * line) = 77;         /* another node's line on the same page, in memory */
  *cached(0) = 9;              /* our line */
  zcp_region_writeback(bor, (const void *)cached(0), 4096);
  cr_assert_eq(*mem(0), 9);
  cr_assert_eq(*mem(2 * line), 77, "a clean stale line must not overwrite memory");
}

Test(emulator, flush_writes_back_and_drops) {
  struct zcp_emulator_stats before, after;
  *cached(512) = 3;
  *mem(1024) = 4;
  zcp_emulator_stats_get(&before);
  zcp_region_flush(bor, (const void *)cached(512), 8);
  zcp_cache_fence();
  zcp_emulator_stats_get(&after);
  cr_assert_eq(*mem(512), 3);
  cr_assert_eq(after.pages_dropped - before.pages_dropped, 1);
  cr_assert_eq(*cached(1024), 4, "the dropped page refills from memory");
}

Test(emulator, coherent_regions_and_plain_memory_are_untouched) {
  uint64_t local = 1;
  zcp_cache_flush(&local, 8);
  zcp_cache_invalidate(&local, 8);
  cr_assert_eq(local, 1);
}

Test(emulator, the_owner_view_is_a_cache_too) {
  /* The owner clears and copies blocks for others through its caches: its writes reach
   * memory only when written back, and it reads old data until it drops its lines. */
  int64_t off = 3 * sysconf(_SC_PAGESIZE);
  *owned(off) = 6;
  cr_assert_eq(*mem(off), 0, "the owner's write stays in its cache");
  zcp_region_writeback(own, (const void *)owned(off), 8);
  cr_assert_eq(*mem(off), 6);
  *mem(off) = 7;
  cr_assert_eq(*owned(off), 6, "the owner's filled page stays stale");
  zcp_region_invalidate(own, (const void *)owned(off), 8);
  cr_assert_eq(*owned(off), 7);
}

Test(emulator_alone, foreign_faults_still_kill) {
  struct zcp_error err = {0};
  cr_assert_eq(zcp_emulator_enable(NULL, &err), ZCP_OK);
  void *hole = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  cr_assert_neq(hole, MAP_FAILED);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    /* Under a sanitizer the fault is reported (as it should be): keep that expected
     * report out of the test log. */
    int null_fd = open("/dev/null", O_WRONLY);
    if (null_fd >= 0) dup2(null_fd, 2);
    alarm(10);
    *(volatile int *)hole = 1;
    _exit(0);
  }
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(!(WIFEXITED(status) && WEXITSTATUS(status) == 0),
            "a fault outside every view must not be swallowed");
  cr_assert(!(WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM),
            "the fault looped instead of reaching the default action");
}

static int64_t run_random(uint64_t seed) {
  struct zcp_emulator_options opts = {ZCP_EMULATOR_RANDOM_EVICT, seed, 0.5};
  setup_with(&opts);
  struct zcp_emulator_stats before, after;
  zcp_emulator_stats_get(&before);
  int64_t page = sysconf(_SC_PAGESIZE);
  uint64_t sum = 0;
  for (int round = 0; round < 4; round++) {
    for (int64_t off = 0; off + 8 <= SIZE - ZCP_REGION_DATA_OFFSET; off += page) {
      sum += *cached(off);
    }
  }
  cr_assert_eq(sum, 0);
  zcp_emulator_stats_get(&after);
  teardown();
  return after.pages_evicted - before.pages_evicted;
}

Test(emulator_alone, random_eviction_is_reproducible_from_the_seed) {
  int64_t a = run_random(42), b = run_random(42);
  cr_assert_gt(a, 0, "with a 50%% chance per fill some pages must be evicted");
  cr_assert_eq(a, b, "same seed, same evictions (%lld vs %lld)", (long long)a,
               (long long)b);
  struct zcp_error err = {0};
  struct zcp_emulator_options bad = {ZCP_EMULATOR_RANDOM_EVICT, 1, 1.5};
  cr_assert_eq(zcp_emulator_enable(&bad, &err), ZCP_INVALID_ARGUMENT);
}

Test(emulator_alone, environment_switch_turns_it_on_with_its_policy) {
  setenv("ZCP_EMULATE_NONCOHERENT", "1", 1);
  setenv("ZCP_EMULATE_POLICY", "random", 1);
  setenv("ZCP_EMULATE_SEED", "5", 1);
  cr_assert(!zcp_emulator_enabled());
  struct zcp_error err = {0};
  struct zcp_device_options o;
  zcp_device_options_init(&o);
  o.create = true;
  o.size = SIZE;
  cr_assert_eq(zcp_device_open("shm:", &o, &dev, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_window_reserve(ZCP_WINDOW_BASE_DEFAULT, 2 * SIZE, &win, &err), ZCP_OK);
  struct zcp_region_info info = {1, 0, 1, SIZE, ZCP_NONCOHERENT};
  cr_assert_eq(zcp_region_map(win, 0, dev, ZCP_REGION_OWNER, &info, &own, &err), ZCP_OK);
  cr_assert(zcp_emulator_enabled(), "the first map reads the environment");
  cr_assert_eq(zcp_region_map(win, SIZE, dev, ZCP_REGION_BORROWER, &info, &bor, &err),
               ZCP_OK, "%s", err.message);
  int64_t page = sysconf(_SC_PAGESIZE);
  uint64_t sum = 0;
  for (int64_t off = 0; off + 8 <= SIZE - ZCP_REGION_DATA_OFFSET; off += page) {
    sum += *cached(off);
  }
  cr_assert_eq(sum, 0);
  struct zcp_emulator_stats s;
  zcp_emulator_stats_get(&s);
  cr_assert_gt(s.pages_filled, 0);
  cr_assert_gt(s.pages_evicted, 0, "ZCP_EMULATE_POLICY=random must evict early");
  teardown();
}
