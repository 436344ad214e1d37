/* Identical addresses (DESIGN §3): one window per cluster, reserved at the same base in
 * every process with mmap(PROT_NONE, MAP_FIXED_NOREPLACE); regions are mapped into it
 * with MAP_FIXED.
 *
 * MAP_FIXED replaces whatever is mapped at the address, so this file must never use it
 * outside a range it reserved itself, and must never hand out overlapping slots. When
 * the window is taken we fail and name the range: silently choosing another address
 * would break every pointer other nodes hold. */
#include "common/platform.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/util.h"
#include "fabric/internal.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define WINDOW_MAX_MAPPINGS 256

struct mapping {
  uintptr_t start, end;
};

struct zcp_window {
  uintptr_t base;
  int64_t size;
  int n_mappings;
  struct mapping mappings[WINDOW_MAX_MAPPINGS];
};

/* Finds the first line of /proc/self/maps that overlaps [lo, hi) and describes it in
 * out ("0x...-0x... [heap]"); empty if none is found. */
static void describe_occupant(uintptr_t lo, uintptr_t hi, char *out, size_t cap) {
  out[0] = '\0';
  FILE *f = fopen("/proc/self/maps", "re");
  if (f == NULL) return;
  char line[512];
  while (fgets(line, sizeof line, f) != NULL) {
    unsigned long long a = 0, b = 0;
    if (sscanf(line, "%llx-%llx", &a, &b) != 2) continue;
    if (a < hi && b > lo) {
      const char *name = strrchr(line, ' ');
      size_t n = name != NULL ? strcspn(name + 1, "\n") : 0;
      snprintf(out, cap, "%#llx-%#llx%s%.*s", a, b, n > 0 ? " " : "", (int)n,
               n > 0 ? name + 1 : "");
      break;
    }
  }
  fclose(f);
}

zcp_status_t zcp_window_reserve(uint64_t base, int64_t size, struct zcp_window **out,
                                struct zcp_error *err) {
  *out = NULL;
  if (size <= 0 || size > ((int64_t)1 << 46)) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "window at %#" PRIx64 ": size %lld out of range", base,
                         (long long)size);
  }
  if (base == 0 || base % (uint64_t)ZCP_WINDOW_ALIGN != 0) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "window base %#" PRIx64 " is not a non-zero multiple of 2 MiB",
                         base);
  }
  size = zcp__round_up(size, ZCP_WINDOW_ALIGN);
  if (base + (uint64_t)size < base) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "window at %#" PRIx64 " wraps", base);
  }
  uint64_t end = base + (uint64_t)size;
  void *want = (void *)(uintptr_t)base;
  void *p =
      mmap(want, (size_t)size, PROT_NONE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  if (p == MAP_FAILED || p != want) {
    int e = errno;
    /* A kernel without MAP_FIXED_NOREPLACE treats the address as a hint and maps
     * elsewhere: that is also "taken", and the stray mapping must go. */
    if (p != MAP_FAILED) munmap(p, (size_t)size);
    char who[320];
    describe_occupant((uintptr_t)base, (uintptr_t)end, who, sizeof who);
    if (p == MAP_FAILED && e != EEXIST) {
      return zcp_error_set(err, e == ENOMEM ? ZCP_OUT_OF_MEMORY : ZCP_IO_ERROR,
                           "window %#" PRIx64 "-%#" PRIx64 ": cannot reserve: %s", base,
                           end, strerror(e));
    }
    return zcp_error_set(err, ZCP_BUSY,
                         "window %#" PRIx64 "-%#" PRIx64
                         " is taken%s%s; choose another "
                         "base for the cluster",
                         base, end, who[0] ? " by " : "", who);
  }
  struct zcp_window *w = calloc(1, sizeof *w);
  if (w == NULL) {
    munmap(p, (size_t)size);
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "window %#" PRIx64, base);
  }
  w->base = (uintptr_t)base;
  w->size = size;
  *out = w;
  return ZCP_OK;
}

void zcp_window_release(struct zcp_window *win) {
  if (win == NULL) return;
  munmap((void *)win->base, (size_t)win->size);
  free(win);
}

void *zcp_window_base(const struct zcp_window *win) {
  return (void *)win->base;
}
int64_t zcp_window_size(const struct zcp_window *win) {
  return win->size;
}

bool zcp__window_contains(const struct zcp_window *win, const void *addr,
                          int64_t length) {
  uintptr_t a = (uintptr_t)addr;
  return length > 0 && a >= win->base && (uint64_t)length <= (uint64_t)win->size &&
         a - win->base <= (uint64_t)win->size - (uint64_t)length;
}

zcp_status_t zcp__window_map_fixed(struct zcp_window *win, void *addr, int64_t length,
                                   int fd, bool shared, struct zcp_error *err) {
  uintptr_t a = (uintptr_t)addr;
  long page = sysconf(_SC_PAGESIZE);
  if (!zcp__window_contains(win, addr, length) || a % (uintptr_t)page != 0 ||
      length % page != 0) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "mapping %#" PRIxPTR
                         "+%lld: not page-aligned inside window "
                         "%#" PRIxPTR "-%#" PRIxPTR,
                         a, (long long)length, win->base,
                         win->base + (uintptr_t)win->size);
  }
  for (int i = 0; i < win->n_mappings; i++) {
    const struct mapping *m = &win->mappings[i];
    if (a < m->end && a + (uintptr_t)length > m->start) {
      return zcp_error_set(err, ZCP_BUSY,
                           "mapping %#" PRIxPTR "-%#" PRIxPTR
                           " overlaps region at "
                           "%#" PRIxPTR "-%#" PRIxPTR " in the window",
                           a, a + (uintptr_t)length, m->start, m->end);
    }
  }
  if (win->n_mappings == WINDOW_MAX_MAPPINGS) {
    return zcp_error_set(err, ZCP_NO_SPACE, "window %#" PRIxPTR ": more than %d regions",
                         win->base, WINDOW_MAX_MAPPINGS);
  }
  /* MAP_FIXED is safe here: the range is inside our own reservation (checked above). */
  void *p = shared ? mmap(addr, (size_t)length, PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_FIXED, fd, 0)
                   : mmap(addr, (size_t)length, PROT_NONE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
  if (p == MAP_FAILED) {
    int e = errno;
    /* A failed MAP_FIXED may have unmapped the old range: put the reservation back. */
    zcp__window_unmap_fixed(win, addr, length);
    return zcp_error_set(err, e == ENOMEM ? ZCP_OUT_OF_MEMORY : ZCP_IO_ERROR,
                         "mapping %#" PRIxPTR "-%#" PRIxPTR ": mmap: %s", a,
                         a + (uintptr_t)length, strerror(e));
  }
  win->mappings[win->n_mappings].start = a;
  win->mappings[win->n_mappings].end = a + (uintptr_t)length;
  win->n_mappings++;
  return ZCP_OK;
}

void zcp__window_unmap_fixed(struct zcp_window *win, void *addr, int64_t length) {
  if (!zcp__window_contains(win, addr, length)) return;
  /* Replace, never unmap: a hole in the window could be taken by any later mmap. */
  void *p = mmap(addr, (size_t)length, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
  ZCP_UNUSED(p);
  for (int i = 0; i < win->n_mappings; i++) {
    if (win->mappings[i].start == (uintptr_t)addr) {
      win->mappings[i] = win->mappings[--win->n_mappings];
      break;
    }
  }
}
