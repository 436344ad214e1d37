/* The non-coherent emulator (DESIGN §9): makes a missing flush, write-back or
 * invalidation fail a test on coherent hardware.
 *
 * A non-coherent region, borrowed or this process's own (the owner clears and copies
 * blocks for its clients through its caches too), is mapped as a *view*: a private
 * anonymous mapping at
 * the shared address, with no access at first. The device itself is mapped a second
 * time elsewhere (the *memory*). The first access to a page of the view faults; the
 * handler copies the page from memory into the view and keeps a snapshot of it. From
 * then on the page is this process's "cache": reads see what was copied, however old,
 * and writes stay private. Write-back copies every line that differs from the snapshot
 * to memory; invalidation (and flush) writes back and drops the whole page, so the next
 * access refills it. Dropping a page also writes back and drops its other lines: real
 * caches may evict any line at any time, so this is allowed behaviour, but it can refresh
 * stale lines next to the range; tests that want the strictest staleness keep separate
 * objects on separate pages. The RANDOM_EVICT policy adds such evictions at random.
 *
 * Threads: a node serves calls on several threads, so filling, writing back and dropping
 * pages hold one spinlock (taken in the signal handler too, so never a mutex), a page is
 * filled in a scratch page and moved into place whole (no thread can see it half
 * copied), and a page being dropped is made read-only first (a racing write faults and
 * waits, instead of being lost between the write-back and the drop).
 *
 * Test-only: one process-wide table, not thread-safe against concurrent attach/detach;
 * the kernel does not fault-fill (read(2) into an unfilled view page gets EFAULT). */
#include "common/platform.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fabric/cache.h"
#include "fabric/internal.h"

#define MAX_VIEWS 64

enum { PAGE_EMPTY = 0, PAGE_FILLED = 1 };

struct view {
  int used;
  uintptr_t start, end;
  uint8_t *memory;   /* shared alias of the device */
  uint8_t *snapshot; /* what each filled page held when filled or last written back */
  uint8_t *state;    /* one byte per page */
  int64_t npages;
};

_Atomic int zcp__emulator_active;
static struct view views[MAX_VIEWS];
static int enabled;
static struct zcp_emulator_options options;
static uint64_t rng;
static long page_size;
static struct sigaction previous;
static _Atomic int64_t st_filled, st_lines, st_dropped, st_evicted;
static atomic_flag lock = ATOMIC_FLAG_INIT;

static void lock_take(void) {
  while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire)) {
  }
}

static void lock_give(void) {
  atomic_flag_clear_explicit(&lock, memory_order_release);
}

static uint64_t next_random(void) {
  /* xorshift64: reproducible from the seed, good enough to pick pages. */
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static struct view *find_view(uintptr_t a) {
  for (int i = 0; i < MAX_VIEWS; i++) {
    if (views[i].used && a >= views[i].start && a < views[i].end) return &views[i];
  }
  return NULL;
}

/* Fills page i (lock held). Copying in place would let another thread read the page
 * half copied, so the copy is made in a scratch page which then replaces it at once. */
static void fill_page(struct view *v, int64_t i) {
  uint8_t *page = (uint8_t *)v->start + i * page_size;
  uint8_t *scratch = mmap(NULL, (size_t)page_size, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (scratch == MAP_FAILED) abort(); /* test-only: no way to go on */
  memcpy(scratch, v->memory + i * page_size, (size_t)page_size);
  memcpy(v->snapshot + i * page_size, scratch, (size_t)page_size);
  if (mremap(scratch, (size_t)page_size, (size_t)page_size, MREMAP_MAYMOVE | MREMAP_FIXED,
             page) == MAP_FAILED)
    abort();
  v->state[i] = PAGE_FILLED;
  atomic_fetch_add_explicit(&st_filled, 1, memory_order_relaxed);
}

/* Copies the lines of page i within [lo, hi) (byte offsets in the view) that differ
 * from the snapshot to memory. */
static void writeback_lines(struct view *v, int64_t i, int64_t lo, int64_t hi) {
  int64_t line = zcp__cache_line();
  int64_t p0 = i * page_size;
  if (lo < p0) lo = p0;
  if (hi > p0 + page_size) hi = p0 + page_size;
  lo &= ~(line - 1);
  const uint8_t *cache = (const uint8_t *)v->start;
  for (int64_t off = lo; off < hi; off += line) {
    if (memcmp(cache + off, v->snapshot + off, (size_t)line) != 0) {
      memcpy(v->memory + off, cache + off, (size_t)line);
      memcpy(v->snapshot + off, cache + off, (size_t)line);
      atomic_fetch_add_explicit(&st_lines, 1, memory_order_relaxed);
    }
  }
}

/* Writes back every dirty line of page i (a real cache would on eviction) and drops it.
 */
static void drop_page(struct view *v, int64_t i) {
  if (v->state[i] != PAGE_FILLED) return;
  uint8_t *page = (uint8_t *)v->start + i * page_size;
  /* Read-only first: a write racing the drop faults and waits for the lock, then finds
   * the page empty and refills it; and no access can see the page zeroed. */
  mprotect(page, (size_t)page_size, PROT_READ);
  writeback_lines(v, i, i * page_size, (i + 1) * page_size);
  mprotect(page, (size_t)page_size, PROT_NONE);
  madvise(page, (size_t)page_size, MADV_DONTNEED);
  madvise(v->snapshot + i * page_size, (size_t)page_size, MADV_DONTNEED);
  v->state[i] = PAGE_EMPTY;
  atomic_fetch_add_explicit(&st_dropped, 1, memory_order_relaxed);
}

static void maybe_evict(const struct view *just_filled, int64_t filled_page) {
  if (options.policy != ZCP_EMULATOR_RANDOM_EVICT) return;
  double r = (double)(next_random() >> 11) / 9007199254740992.0; /* [0, 1) */
  if (r >= options.evict_per_fault) return;
  int n = 0;
  for (int k = 0; k < MAX_VIEWS; k++) n += views[k].used;
  if (n == 0) return;
  int pick = (int)(next_random() % (uint64_t)n);
  for (int k = 0; k < MAX_VIEWS; k++) {
    if (!views[k].used || pick-- != 0) continue;
    struct view *v = &views[k];
    int64_t i = (int64_t)(next_random() % (uint64_t)v->npages);
    if (v->state[i] == PAGE_FILLED && !(v == just_filled && i == filled_page)) {
      drop_page(v, i);
      atomic_fetch_add_explicit(&st_evicted, 1, memory_order_relaxed);
    }
    return;
  }
}

static void on_segv(int sig, siginfo_t *si, void *uc) {
  uintptr_t a = (uintptr_t)si->si_addr;
  struct view *v = find_view(a);
  if (v != NULL) {
    int64_t i = (int64_t)((a - v->start) / (uintptr_t)page_size);
    lock_take();
    if (v->state[i] == PAGE_EMPTY) {
      fill_page(v, i);
      maybe_evict(v, i);
    }
    /* Filled now, by us or by another thread (or this was a write into a page being
     * dropped, which is empty or refilled by now): the faulting access runs again. */
    lock_give();
    return;
  }
  /* Not ours: hand it to whoever had SIGSEGV before (a sanitizer, the default). */
  if (previous.sa_flags & SA_SIGINFO) {
    previous.sa_sigaction(sig, si, uc);
    return;
  }
  if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    previous.sa_handler(sig);
    return;
  }
  signal(sig, SIG_DFL); /* the access faults again and the process dies as it should */
}

zcp_status_t zcp_emulator_enable(const struct zcp_emulator_options *opts,
                                 struct zcp_error *err) {
  struct zcp_emulator_options o = {ZCP_EMULATOR_KEEP_STALE, 1, 0.0};
  if (opts != NULL) o = *opts;
  if (o.policy != ZCP_EMULATOR_KEEP_STALE && o.policy != ZCP_EMULATOR_RANDOM_EVICT) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "emulator: unknown policy %d",
                         (int)o.policy);
  }
  if (!(o.evict_per_fault >= 0.0 && o.evict_per_fault <= 1.0)) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "emulator: eviction chance %g is not in [0, 1]",
                         o.evict_per_fault);
  }
  options = o;
  rng = o.seed != 0 ? o.seed : 0x9e3779b97f4a7c15ull;
  if (enabled) return ZCP_OK;
  page_size = sysconf(_SC_PAGESIZE);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGSEGV, &sa, &previous) != 0) {
    return zcp_error_set(err, ZCP_IO_ERROR,
                         "emulator: cannot install SIGSEGV handler: %s", strerror(errno));
  }
  enabled = 1;
  return ZCP_OK;
}

bool zcp_emulator_enabled(void) {
  return enabled != 0;
}

zcp_status_t zcp__emulator_attach(void *addr, int64_t length, int fd,
                                  struct zcp_error *err) {
  struct view *v = NULL;
  for (int i = 0; i < MAX_VIEWS && v == NULL; i++) {
    if (!views[i].used) v = &views[i];
  }
  if (v == NULL) {
    return zcp_error_set(err, ZCP_NO_SPACE, "emulator: more than %d emulated regions",
                         MAX_VIEWS);
  }
  uint8_t *memory = mmap(NULL, (size_t)length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (memory == MAP_FAILED) {
    return zcp_error_set(err, ZCP_IO_ERROR, "emulator: cannot map memory alias: %s",
                         strerror(errno));
  }
  uint8_t *snapshot = mmap(NULL, (size_t)length, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  int64_t npages = length / page_size;
  uint8_t *state = calloc((size_t)npages, 1);
  if (snapshot == MAP_FAILED || state == NULL) {
    munmap(memory, (size_t)length);
    if (snapshot != MAP_FAILED) munmap(snapshot, (size_t)length);
    free(state);
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "emulator: view of %lld bytes",
                         (long long)length);
  }
  v->start = (uintptr_t)addr;
  v->end = (uintptr_t)addr + (uintptr_t)length;
  v->memory = memory;
  v->snapshot = snapshot;
  v->state = state;
  v->npages = npages;
  v->used = 1; /* last: the handler may run at any time */
  atomic_store_explicit(&zcp__emulator_active, 1, memory_order_relaxed);
  return ZCP_OK;
}

void zcp__emulator_detach(void *addr, int64_t length) {
  struct view *v = find_view((uintptr_t)addr);
  if (v == NULL) return;
  v->used = 0;
  munmap(v->memory, (size_t)length);
  munmap(v->snapshot, (size_t)length);
  free(v->state);
  memset(v, 0, sizeof *v);
}

bool zcp__emulator_cache_op(enum zcp__emu_op op, const void *p, int64_t len) {
  uintptr_t a = (uintptr_t)p, b = a + (uintptr_t)len;
  bool any = false;
  for (int k = 0; k < MAX_VIEWS; k++) {
    struct view *v = &views[k];
    if (!v->used || a >= v->end || b <= v->start) continue;
    any = true;
    int64_t lo = (int64_t)((a > v->start ? a : v->start) - v->start);
    int64_t hi = (int64_t)((b < v->end ? b : v->end) - v->start);
    lock_take();
    for (int64_t i = lo / page_size; i * page_size < hi; i++) {
      if (v->state[i] != PAGE_FILLED) continue;
      if (op == ZCP__EMU_WRITEBACK) {
        writeback_lines(v, i, lo, hi);
      } else {
        drop_page(v, i); /* writes back first: user-mode invalidation cannot discard */
      }
    }
    lock_give();
  }
  return any;
}

void zcp_emulator_stats_get(struct zcp_emulator_stats *out) {
  out->pages_filled = atomic_load_explicit(&st_filled, memory_order_relaxed);
  out->lines_written_back = atomic_load_explicit(&st_lines, memory_order_relaxed);
  out->pages_dropped = atomic_load_explicit(&st_dropped, memory_order_relaxed);
  out->pages_evicted = atomic_load_explicit(&st_evicted, memory_order_relaxed);
}
