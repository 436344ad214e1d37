#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "zcpool/fabric.h"

#define MIB ((int64_t)1 << 20)

static uint8_t header[ZCP_REGION_DATA_OFFSET];
static const struct zcp_region_info good = {0xc1u, 3, 7, 4 * MIB, ZCP_NONCOHERENT};

static void write_good(void) {
  cr_assert_eq(zcp_region_header_write(header, &good, NULL), ZCP_OK);
}

static zcp_status_t check(const struct zcp_region_info *expect, struct zcp_error *err) {
  return zcp_region_header_check(header, 4 * MIB, expect, NULL, err);
}

Test(region, header_round_trips_in_little_endian) {
  write_good();
  /* Magic "ZCPOOLRG", version 1, cluster 0xc1, owner 3, size, epoch: pinned bytes. */
  cr_assert_eq(memcmp(header, "ZCPOOLRG", 8), 0);
  cr_assert_eq(header[8], 1);
  cr_assert_eq(header[12], 128);
  cr_assert_eq(header[16], 0xc1);
  cr_assert_eq(header[24], 3);
  cr_assert_eq(header[28], 1);
  cr_assert_eq(header[32 + 2], 0x40); /* 4 MiB = 0x400000 */
  cr_assert_eq(header[40], 7);
  for (int i = 56; i < 120; i++) cr_assert_eq(header[i], 0, "reserved byte %d", i);
  struct zcp_region_info found;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_region_header_check(header, 4 * MIB, &good, &found, &err), ZCP_OK,
               "%s", err.message);
  cr_assert_eq(found.cluster_id, good.cluster_id);
  cr_assert_eq(found.owner_id, good.owner_id);
  cr_assert_eq(found.epoch, good.epoch);
  cr_assert_eq(found.size, good.size);
  cr_assert_eq(found.coherence, good.coherence);
  struct zcp_region_info any = good;
  any.epoch = 0;
  any.size = 0;
  cr_assert_eq(check(&any, &err), ZCP_OK, "epoch 0 and size 0 accept any: %s",
               err.message);
}

Test(region, refuses_what_differs_and_says_what) {
  struct zcp_error err = {0};
  struct zcp_region_info e;
  write_good();
  e = good;
  e.cluster_id = 0xc2;
  cr_assert_eq(check(&e, &err), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(err.message, "cluster 0xc1, expected cluster 0xc2"), "%s",
            err.message);
  e = good;
  e.epoch = 6;
  cr_assert_eq(check(&e, &err), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(err.message, "epoch is 7, expected 6"), "%s", err.message);
  e = good;
  e.owner_id = 2;
  cr_assert_eq(check(&e, &err), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(err.message, "owner node 3"), "%s", err.message);
  e = good;
  e.coherence = ZCP_COHERENT;
  cr_assert_eq(check(&e, &err), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(err.message, "noncoherent, expected coherent"), "%s", err.message);
  e = good;
  e.size = 2 * MIB;
  cr_assert_eq(check(&e, &err), ZCP_CORRUPT_INPUT);
  cr_assert_eq(zcp_region_header_check(header, 2 * MIB, &good, NULL, &err),
               ZCP_CORRUPT_INPUT, "header bigger than the mapping");
  cr_assert(strstr(err.message, "4194304 bytes, 2097152 are mapped"), "%s", err.message);
}

Test(region, refuses_bad_magic_version_and_checksum) {
  struct zcp_error err = {0};
  write_good();
  header[0] = 'X';
  cr_assert_eq(check(&good, &err), ZCP_CORRUPT_INPUT);
  cr_assert(strstr(err.message, "magic"), "%s", err.message);
  write_good();
  header[8] = 2;
  cr_assert_eq(check(&good, &err), ZCP_VERSION_MISMATCH);
  cr_assert(strstr(err.message, "layout version 2"), "%s", err.message);
  write_good();
  header[60] ^= 1; /* a reserved byte: only the checksum notices */
  cr_assert_eq(check(&good, &err), ZCP_CORRUPT_INPUT);
  cr_assert(strstr(err.message, "checksum"), "%s", err.message);
  memset(header, 0, sizeof header);
  cr_assert_eq(check(&good, &err), ZCP_CORRUPT_INPUT, "a zeroed region is not a region");
}

Test(region, owner_and_borrower_see_one_region_at_two_slots) {
  struct zcp_device *dev = NULL;
  struct zcp_window *w = NULL;
  struct zcp_error err = {0};
  struct zcp_device_options o;
  zcp_device_options_init(&o);
  o.create = true;
  o.size = 2 * MIB;
  cr_assert_eq(zcp_device_open("shm:", &o, &dev, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_window_reserve(ZCP_WINDOW_BASE_DEFAULT, 4 * MIB, &w, &err), ZCP_OK,
               "%s", err.message);
  struct zcp_region_info info = {9, 1, 5, 2 * MIB, ZCP_COHERENT};
  struct zcp_region *own = NULL, *bor = NULL;
  struct zcp_region_info wrong = info;
  wrong.epoch = 4;
  cr_assert_eq(zcp_region_map(w, 0, dev, ZCP_REGION_OWNER, &info, &own, &err), ZCP_OK,
               "%s", err.message);
  cr_assert_eq(zcp_region_map(w, 2 * MIB, dev, ZCP_REGION_BORROWER, &wrong, &bor, &err),
               ZCP_INVALID_ARGUMENT);
  cr_assert_null(bor);
  cr_assert_eq(zcp_region_map(w, 2 * MIB, dev, ZCP_REGION_BORROWER, &info, &bor, &err),
               ZCP_OK, "%s", err.message);
  uint8_t *d = zcp_region_data(own);
  cr_assert_eq((uintptr_t)d % 128, 0);
  cr_assert_eq(d - (uint8_t *)zcp_region_base(own), ZCP_REGION_DATA_OFFSET);
  cr_assert_eq(zcp_region_data_size(own), 2 * MIB - ZCP_REGION_DATA_OFFSET);
  strcpy((char *)d, "hello");
  cr_assert_str_eq((const char *)zcp_region_data(bor), "hello");
  cr_assert_eq(zcp_region_get_info(bor)->epoch, 5);
  zcp_region_unmap(bor);
  zcp_region_unmap(own);
  zcp_window_release(w);
  zcp_device_close(dev);
}
