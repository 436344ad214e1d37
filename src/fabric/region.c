/* Regions: the header that the owner writes at offset 0 and every borrower checks, and
 * the mapping of a device into a window slot.
 *
 * The header is read by other processes and machines, so it has a magic, a layout
 * version, reserved bytes, a checksum, explicit little-endian access and pinned offsets.
 * The epoch changes whenever the owner re-initialises the region; a borrower that
 * expects another epoch is refused, so stale descriptors never reach reused memory. */
#include "common/platform.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "fabric/internal.h"

/* The on-memory layout. Only used for its offsets: fields are read and written with the
 * little-endian helpers, so the host byte order does not matter. */
struct region_header {
  uint64_t magic;
  uint32_t layout_version;
  uint32_t header_size;
  uint64_t cluster_id;
  uint32_t owner_id;
  uint32_t coherence;
  uint64_t size;
  uint64_t epoch;
  uint64_t data_offset;
  uint8_t reserved[64]; /* zero; room for later versions */
  uint64_t checksum;    /* FNV-1a 64 of bytes [0, 120) */
};
_Static_assert(offsetof(struct region_header, magic) == 0, "region header layout");
_Static_assert(offsetof(struct region_header, layout_version) == 8,
               "region header layout");
_Static_assert(offsetof(struct region_header, header_size) == 12, "region header layout");
_Static_assert(offsetof(struct region_header, cluster_id) == 16, "region header layout");
_Static_assert(offsetof(struct region_header, owner_id) == 24, "region header layout");
_Static_assert(offsetof(struct region_header, coherence) == 28, "region header layout");
_Static_assert(offsetof(struct region_header, size) == 32, "region header layout");
_Static_assert(offsetof(struct region_header, epoch) == 40, "region header layout");
_Static_assert(offsetof(struct region_header, data_offset) == 48, "region header layout");
_Static_assert(offsetof(struct region_header, reserved) == 56, "region header layout");
_Static_assert(offsetof(struct region_header, checksum) == 120, "region header layout");
_Static_assert(sizeof(struct region_header) == ZCP_REGION_DATA_OFFSET,
               "region header size");
_Static_assert(ZCP_REGION_DATA_OFFSET % 128 == 0, "data must start on a 128-byte line");

#define OFF(f) offsetof(struct region_header, f)

struct zcp_region {
  struct zcp_window *win;
  uint8_t *base;
  struct zcp_region_info info;
  bool emulated;
};

static uint64_t header_checksum(const uint8_t *h) {
  uint64_t x = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < OFF(checksum); i++) {
    x ^= h[i];
    x *= 0x100000001b3ull;
  }
  return x;
}

static const char *coherence_name(uint32_t c) {
  return c == ZCP_COHERENT      ? "coherent"
         : c == ZCP_NONCOHERENT ? "noncoherent"
                                : "unknown";
}

zcp_status_t zcp_region_header_write(void *base, const struct zcp_region_info *info,
                                     struct zcp_error *err) {
  if (info->size < ZCP_REGION_DATA_OFFSET ||
      (info->coherence != ZCP_COHERENT && info->coherence != ZCP_NONCOHERENT)) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "region of node %" PRIu32 ": size %lld or coherence %d invalid",
                         info->owner_id, (long long)info->size, (int)info->coherence);
  }
  uint8_t h[ZCP_REGION_DATA_OFFSET];
  memset(h, 0, sizeof h);
  zcp__store_le64(h + OFF(magic), ZCP_REGION_MAGIC);
  zcp__store_le32(h + OFF(layout_version), ZCP_REGION_LAYOUT_VERSION);
  zcp__store_le32(h + OFF(header_size), (uint32_t)ZCP_REGION_DATA_OFFSET);
  zcp__store_le64(h + OFF(cluster_id), info->cluster_id);
  zcp__store_le32(h + OFF(owner_id), info->owner_id);
  zcp__store_le32(h + OFF(coherence), (uint32_t)info->coherence);
  zcp__store_le64(h + OFF(size), (uint64_t)info->size);
  zcp__store_le64(h + OFF(epoch), info->epoch);
  zcp__store_le64(h + OFF(data_offset), (uint64_t)ZCP_REGION_DATA_OFFSET);
  zcp__store_le64(h + OFF(checksum), header_checksum(h));
  memcpy(base, h, sizeof h);
  return ZCP_OK;
}

zcp_status_t zcp_region_header_check(const void *base, int64_t mapped_size,
                                     const struct zcp_region_info *expect,
                                     struct zcp_region_info *found,
                                     struct zcp_error *err) {
  if (mapped_size < ZCP_REGION_DATA_OFFSET) {
    return zcp_error_set(err, ZCP_CORRUPT_INPUT,
                         "region of node %" PRIu32
                         ": %lld bytes mapped, the header alone "
                         "needs %lld",
                         expect->owner_id, (long long)mapped_size,
                         (long long)ZCP_REGION_DATA_OFFSET);
  }
  /* Copy first: the owner may be rewriting the header while we look. */
  uint8_t h[ZCP_REGION_DATA_OFFSET];
  memcpy(h, base, sizeof h);
  uint32_t who = expect->owner_id;
  uint64_t magic = zcp__load_le64(h + OFF(magic));
  if (magic != ZCP_REGION_MAGIC) {
    return zcp_error_set(err, ZCP_CORRUPT_INPUT,
                         "region of node %" PRIu32 ": magic is %#" PRIx64
                         ", expected %#" PRIx64
                         " (not a zcpool region, or not initialised)",
                         who, magic, ZCP_REGION_MAGIC);
  }
  uint32_t version = zcp__load_le32(h + OFF(layout_version));
  if (version != ZCP_REGION_LAYOUT_VERSION) {
    return zcp_error_set(err, ZCP_VERSION_MISMATCH,
                         "region of node %" PRIu32 ": layout version %" PRIu32
                         ", this build reads %u",
                         who, version, ZCP_REGION_LAYOUT_VERSION);
  }
  uint64_t sum = zcp__load_le64(h + OFF(checksum));
  uint64_t want_sum = header_checksum(h);
  if (sum != want_sum) {
    return zcp_error_set(err, ZCP_CORRUPT_INPUT,
                         "region of node %" PRIu32 ": header checksum %#" PRIx64
                         ", computed %#" PRIx64,
                         who, sum, want_sum);
  }
  struct zcp_region_info got;
  got.cluster_id = zcp__load_le64(h + OFF(cluster_id));
  got.owner_id = zcp__load_le32(h + OFF(owner_id));
  uint32_t coherence = zcp__load_le32(h + OFF(coherence));
  got.coherence = (enum zcp_coherence)coherence;
  uint64_t size = zcp__load_le64(h + OFF(size));
  got.size = (int64_t)size;
  got.epoch = zcp__load_le64(h + OFF(epoch));
  uint32_t header_size = zcp__load_le32(h + OFF(header_size));
  uint64_t data_offset = zcp__load_le64(h + OFF(data_offset));
  if (header_size != ZCP_REGION_DATA_OFFSET || data_offset != ZCP_REGION_DATA_OFFSET) {
    return zcp_error_set(err, ZCP_CORRUPT_INPUT,
                         "region of node %" PRIu32 ": header size %" PRIu32
                         " / data offset %" PRIu64 ", expected %lld",
                         who, header_size, data_offset,
                         (long long)ZCP_REGION_DATA_OFFSET);
  }
  if (got.cluster_id != expect->cluster_id) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "region of node %" PRIu32 ": belongs to cluster %#" PRIx64
                         ", expected cluster %#" PRIx64,
                         who, got.cluster_id, expect->cluster_id);
  }
  if (got.owner_id != expect->owner_id) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "region of node %" PRIu32 ": header names owner node %" PRIu32,
                         who, got.owner_id);
  }
  if (expect->epoch != 0 && got.epoch != expect->epoch) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "region of node %" PRIu32 ": epoch is %" PRIu64
                         ", expected %" PRIu64 " (the owner re-initialised it)",
                         who, got.epoch, expect->epoch);
  }
  if (coherence != (uint32_t)expect->coherence) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "region of node %" PRIu32 ": owner says %s, expected %s", who,
                         coherence_name(coherence),
                         coherence_name((uint32_t)expect->coherence));
  }
  if (size < (uint64_t)ZCP_REGION_DATA_OFFSET || size > (uint64_t)mapped_size ||
      (expect->size != 0 && got.size != expect->size)) {
    return zcp_error_set(
        err, ZCP_CORRUPT_INPUT,
        "region of node %" PRIu32 ": header says %" PRIu64 " bytes, %lld are mapped%s",
        who, size, (long long)mapped_size, expect->size != 0 ? " and expected" : "");
  }
  if (found != NULL) *found = got;
  return ZCP_OK;
}

zcp_status_t zcp_region_map(struct zcp_window *win, int64_t slot, struct zcp_device *dev,
                            enum zcp_region_role role, const struct zcp_region_info *info,
                            struct zcp_region **out, struct zcp_error *err) {
  *out = NULL;
  long page = sysconf(_SC_PAGESIZE);
  int64_t size = info->size;
  if (slot < 0 || slot % ZCP_WINDOW_ALIGN != 0 || size <= ZCP_REGION_DATA_OFFSET ||
      size % page != 0) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "region of node %" PRIu32
                         ": slot %lld must be a multiple of 2 MiB "
                         "and size %lld a multiple of the page size",
                         info->owner_id, (long long)slot, (long long)size);
  }
  if (size > zcp_device_size(dev)) {
    return zcp_error_set(err, ZCP_NO_SPACE,
                         "region of node %" PRIu32 ": %lld bytes, device %s holds %lld",
                         info->owner_id, (long long)size, zcp_device_spec(dev),
                         (long long)zcp_device_size(dev));
  }
  int64_t end;
  if (!zcp__add_i64(slot, size, &end) || end > zcp_window_size(win)) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "region of node %" PRIu32
                         ": slot %lld + %lld bytes passes the end "
                         "of the window (%lld bytes)",
                         info->owner_id, (long long)slot, (long long)size,
                         (long long)zcp_window_size(win));
  }
  zcp__emulator_from_env();
  struct zcp_region *r = calloc(1, sizeof *r);
  if (r == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "region");
  r->win = win;
  r->base = (uint8_t *)zcp_window_base(win) + slot;
  r->info = *info;
  /* The owner's own view is emulated too: it clears, copies and builds through its
   * caches like everyone else, and the protocol must show that memory gets it. */
  r->emulated = info->coherence == ZCP_NONCOHERENT && zcp_emulator_enabled();
  zcp_status_t st =
      zcp__window_map_fixed(win, r->base, size, zcp_device_fd(dev), !r->emulated, err);
  if (st != ZCP_OK) {
    free(r);
    return st;
  }
  if (r->emulated) {
    st = zcp__emulator_attach(r->base, size, zcp_device_fd(dev), err);
    if (st != ZCP_OK) {
      zcp__window_unmap_fixed(win, r->base, size);
      free(r);
      return st;
    }
  }
  if (role == ZCP_REGION_OWNER) {
    st = zcp_region_header_write(r->base, info, err);
    /* Borrowers read the header from memory: it must get there. */
    zcp_region_writeback(r, r->base, ZCP_REGION_DATA_OFFSET);
    if (info->coherence == ZCP_NONCOHERENT) zcp_cache_fence();
  } else {
    /* Our caches may hold a header from an earlier epoch. */
    zcp_region_invalidate(r, r->base, ZCP_REGION_DATA_OFFSET);
    if (info->coherence == ZCP_NONCOHERENT) zcp_cache_fence();
    st = zcp_region_header_check(r->base, size, info, NULL, err);
  }
  if (st != ZCP_OK) {
    zcp_region_unmap(r);
    return st;
  }
  *out = r;
  return ZCP_OK;
}

void zcp_region_unmap(struct zcp_region *region) {
  if (region == NULL) return;
  if (region->emulated) zcp__emulator_detach(region->base, region->info.size);
  zcp__window_unmap_fixed(region->win, region->base, region->info.size);
  free(region);
}

void *zcp_region_base(const struct zcp_region *region) {
  return region->base;
}
void *zcp_region_data(const struct zcp_region *region) {
  return region->base + ZCP_REGION_DATA_OFFSET;
}
int64_t zcp_region_data_size(const struct zcp_region *region) {
  return region->info.size - ZCP_REGION_DATA_OFFSET;
}
const struct zcp_region_info *zcp_region_get_info(const struct zcp_region *region) {
  return &region->info;
}

void zcp_region_flush(const struct zcp_region *region, const void *p, int64_t len) {
  if (region->info.coherence == ZCP_NONCOHERENT) zcp_cache_flush(p, len);
}
void zcp_region_writeback(const struct zcp_region *region, const void *p, int64_t len) {
  if (region->info.coherence == ZCP_NONCOHERENT) zcp_cache_writeback(p, len);
}
void zcp_region_invalidate(const struct zcp_region *region, const void *p, int64_t len) {
  if (region->info.coherence == ZCP_NONCOHERENT) zcp_cache_invalidate(p, len);
}
