#define _GNU_SOURCE 1
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zcpool/fabric.h"

#define BASE ZCP_WINDOW_BASE_DEFAULT
#define MIB ((int64_t)1 << 20)

Test(window, reserves_at_the_base_and_rounds_to_2mib) {
  struct zcp_window *w = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_window_reserve(BASE, 3 * MIB, &w, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq((uint64_t)(uintptr_t)zcp_window_base(w), BASE);
  cr_assert_eq(zcp_window_size(w), 4 * MIB);
  zcp_window_release(w);
  /* Released: the same range can be reserved again. */
  cr_assert_eq(zcp_window_reserve(BASE, 4 * MIB, &w, &err), ZCP_OK, "%s", err.message);
  zcp_window_release(w);
  zcp_window_release(NULL);
}

Test(window, rejects_bad_base_and_size) {
  struct zcp_window *w = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_window_reserve(BASE + 4096, MIB, &w, &err), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(err.message, "2 MiB") != NULL, "%s", err.message);
  cr_assert_eq(zcp_window_reserve(0, MIB, &w, &err), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_window_reserve(BASE, 0, &w, &err), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_window_reserve(BASE, -1, &w, &err), ZCP_INVALID_ARGUMENT);
  cr_assert_null(w);
}

Test(window, taken_window_is_busy_names_the_range_and_keeps_the_occupant) {
  uint8_t *mine = mmap((void *)(uintptr_t)(BASE + 6 * MIB), 4096, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  cr_assert_eq((uintptr_t)mine, (uintptr_t)(BASE + 6 * MIB));
  mine[0] = 42;
  struct zcp_window *w = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_window_reserve(BASE, 8 * MIB, &w, &err), ZCP_BUSY);
  char range[64], occupant[64];
  snprintf(range, sizeof range, "%#" PRIx64 "-%#" PRIx64, BASE, BASE + 8 * MIB);
  snprintf(occupant, sizeof occupant, "%#" PRIx64 "-%#" PRIx64, BASE + 6 * MIB,
           BASE + 6 * MIB + 4096);
  cr_assert(strstr(err.message, range) != NULL, "%s", err.message);
  cr_assert(strstr(err.message, occupant) != NULL, "%s", err.message);
  cr_assert_eq(mine[0], 42);
  /* A second window over our own first one is taken too. */
  cr_assert_eq(zcp_window_reserve(BASE, 4 * MIB, &w, &err), ZCP_OK, "%s", err.message);
  struct zcp_window *w2 = NULL;
  cr_assert_eq(zcp_window_reserve(BASE, 2 * MIB, &w2, &err), ZCP_BUSY);
  zcp_window_release(w);
  munmap(mine, 4096);
}

Test(window, regions_stay_inside_and_never_overlap) {
  struct zcp_window *w = NULL;
  struct zcp_device *dev = NULL;
  struct zcp_error err = {0};
  struct zcp_device_options o;
  zcp_device_options_init(&o);
  o.create = true;
  o.size = 4 * MIB;
  cr_assert_eq(zcp_device_open("shm:", &o, &dev, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_window_reserve(BASE, 8 * MIB, &w, &err), ZCP_OK, "%s", err.message);
  struct zcp_region_info info = {1, 0, 1, 4 * MIB, ZCP_COHERENT};
  struct zcp_region *r = NULL, *r2 = NULL;
  cr_assert_eq(zcp_region_map(w, 6 * MIB, dev, ZCP_REGION_OWNER, &info, &r, &err),
               ZCP_INVALID_ARGUMENT, "past the end of the window");
  cr_assert(strstr(err.message, "end of the window") != NULL, "%s", err.message);
  cr_assert_eq(zcp_region_map(w, 1 * MIB, dev, ZCP_REGION_OWNER, &info, &r, &err),
               ZCP_INVALID_ARGUMENT, "slot not 2 MiB aligned");
  cr_assert_eq(zcp_region_map(w, 2 * MIB, dev, ZCP_REGION_OWNER, &info, &r, &err), ZCP_OK,
               "%s", err.message);
  info.size = 2 * MIB;
  cr_assert_eq(zcp_region_map(w, 4 * MIB, dev, ZCP_REGION_OWNER, &info, &r2, &err),
               ZCP_BUSY, "overlap");
  cr_assert(strstr(err.message, "overlaps") != NULL, "%s", err.message);
  cr_assert_eq(zcp_region_map(w, 0, dev, ZCP_REGION_BORROWER, &info, &r2, &err),
               ZCP_CORRUPT_INPUT, "the header says 4 MiB, 2 MiB mapped: %s", err.message);
  info.size = 4 * MIB;
  zcp_region_unmap(r);
  /* The slot went back to the reservation: nothing else can land there. */
  void *probe = mmap((void *)(uintptr_t)(BASE + 2 * MIB), 4096, PROT_READ,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  cr_assert_eq(probe, MAP_FAILED, "the unmapped slot must stay reserved");
  zcp_window_release(w);
  zcp_device_close(dev);
}
