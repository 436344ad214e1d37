/* zcpool — the memory fabric: devices, identical-address windows, regions, cache control.
 *
 * A *device* is what backs a region: `shm:NAME` (POSIX shared memory), `shm:` (an
 * anonymous, sealed memfd, shared with children), or `file:PATH` (any mmap-able file or
 * character device: CXL /dev/daxX.Y, ThymesisFlow /dev/mishmem-s1, an ivshmem BAR under
 * /sys/bus/pci/devices/.../resourceN).
 *
 * A *window* is the one address range every node of a cluster reserves at the same base;
 * each region is mapped into its slot of the window, so a pointer into a region means the
 * same bytes in every process and on every node. Nothing is ever mapped outside the
 * window and a window that is taken is an error (never a silent move to another address).
 *
 * A *region* starts with a header written by its owner (magic, layout version, cluster,
 * owner, size, epoch, checksum); borrowers check it before use. The data area follows the
 * header at ZCP_REGION_DATA_OFFSET.
 *
 * Cache control implements the coherence protocol primitives: flush (write back and
 * invalidate), write-back only, invalidate, fence. On regions mapped `coherent` the
 * region variants are no-ops. With the non-coherent emulator on (tests only), primitives
 * on an emulated view act on the emulated caches instead.
 *
 * Handles (device, window, region) are opaque; each has an open/map and a close/unmap,
 * and belongs to the caller until it is closed. They are not thread-safe. */
#ifndef ZCPOOL_FABRIC_H
#define ZCPOOL_FABRIC_H

#include <stdbool.h>
#include <stdint.h>

#include "zcpool/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------
 * Devices
 * -------------------------------------------------------------------------------------
 */

struct zcp_device;

struct zcp_device_options {
  /* Bytes to create or to use. 0 when opening: use the whole detected size. When opening
   * an existing device, a non-zero size must not exceed what the device holds. */
  int64_t size;
  /* Create the device (shm:NAME, file:PATH of a regular file). Fails with ZCP_BUSY if it
   * exists already. Space is reserved at once (posix_fallocate), so a full file system
   * is an error now rather than a SIGBUS later. */
  bool create;
  /* With create: the group that may also use the device (mode 0660); -1: only the
   * creating user (mode 0600). */
  int64_t group;
};

/* Fills opts with the defaults: size 0, no create, group -1. */
ZCP_API void zcp_device_options_init(struct zcp_device_options *opts);

/* Opens (or creates) the device named by spec ("shm:NAME", "shm:", "file:PATH"). opts may
 * be NULL (open, whole size). On success *out is a handle the caller closes. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t
zcp_device_open(const char *spec, const struct zcp_device_options *opts,
                struct zcp_device **out, struct zcp_error *err);
/* Closes the handle (the device itself stays). NULL is fine. */
ZCP_API void zcp_device_close(struct zcp_device *dev);
/* Removes a named device (shm:NAME or a regular file:PATH); mappings stay valid. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_device_unlink(const char *spec,
                                                        struct zcp_error *err);

/* Usable size in bytes, the spec it was opened with, and its file descriptor (owned by
 * the handle; valid until close). */
ZCP_API int64_t zcp_device_size(const struct zcp_device *dev);
ZCP_API const char *zcp_device_spec(const struct zcp_device *dev);
ZCP_API int zcp_device_fd(const struct zcp_device *dev);

/* ---------------------------------------------------------------------------------------
 * Address windows
 * -------------------------------------------------------------------------------------
 */

/* A base that lies clear of everything Linux and the sanitizers place on x86-64: PIE
 * executables and their heap load at 0x55..-0x56.., libraries and stacks at 0x7f..,
 * AddressSanitizer's shadow ends at 0x10007fff8000 and its allocator starts at
 * 0x600000000000. Windows of up to 4 TiB fit below the executables. */
#define ZCP_WINDOW_BASE_DEFAULT ((uint64_t)0x500000000000ull)
/* Windows and region slots are multiples of this. */
#define ZCP_WINDOW_ALIGN ((int64_t)2 << 20)

struct zcp_window;

/* Reserves [base, base + size) (size rounded up to ZCP_WINDOW_ALIGN) with no access.
 * base must be ZCP_WINDOW_ALIGN-aligned. If any part of the range is in use, fails with
 * ZCP_BUSY and a message naming the range (and what holds it, when known). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_window_reserve(uint64_t base, int64_t size,
                                                         struct zcp_window **out,
                                                         struct zcp_error *err);
/* Unmaps everything in the window and frees the handle. NULL is fine. Regions mapped in
 * it must be unmapped first (their handles are not freed here). */
ZCP_API void zcp_window_release(struct zcp_window *win);
ZCP_API void *zcp_window_base(const struct zcp_window *win);
ZCP_API int64_t zcp_window_size(const struct zcp_window *win);

/* ---------------------------------------------------------------------------------------
 * Regions
 * -------------------------------------------------------------------------------------
 */

#define ZCP_REGION_MAGIC ((uint64_t)0x47524c4f4f50435aull) /* "ZCPOOLRG" little-endian \
                                                            */
#define ZCP_REGION_LAYOUT_VERSION 1u
/* Size of the header; the data area starts here (a multiple of 128: no data shares a
 * cache line with the header on any supported CPU). */
#define ZCP_REGION_DATA_OFFSET ((int64_t)128)

enum zcp_coherence {
  ZCP_COHERENT = 0,    /* hardware keeps caches coherent; cache primitives are no-ops */
  ZCP_NONCOHERENT = 1, /* the software protocol applies (DESIGN §4) */
};

/* What the header says (owner) or must say (borrower). */
struct zcp_region_info {
  uint64_t cluster_id;
  uint32_t owner_id;
  uint64_t epoch;
  int64_t size; /* whole region, header included */
  enum zcp_coherence coherence;
};

/* Writes a header for info at base (the first ZCP_REGION_DATA_OFFSET bytes). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_region_header_write(
    void *base, const struct zcp_region_info *info, struct zcp_error *err);
/* Checks the header at base, mapped_size bytes being mapped there, against expect
 * (expect->size 0: any size that fits the mapping; expect->epoch 0: any epoch). Fills
 * *found (may be NULL) with what the header says. Errors: ZCP_CORRUPT_INPUT (magic,
 * checksum, size), ZCP_VERSION_MISMATCH (layout), ZCP_INVALID_ARGUMENT (cluster, owner,
 * epoch or coherence differs), each naming the field with the expected and found value.
 */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_region_header_check(
    const void *base, int64_t mapped_size, const struct zcp_region_info *expect,
    struct zcp_region_info *found, struct zcp_error *err);

struct zcp_region;

enum zcp_region_role {
  ZCP_REGION_OWNER = 0,    /* writes the header (re-initialising the region) */
  ZCP_REGION_BORROWER = 1, /* checks the header */
};

/* Maps dev into win at byte offset slot (a multiple of ZCP_WINDOW_ALIGN) for info->size
 * bytes. The owner writes a fresh header (and, when non-coherent, writes it back); a
 * borrower invalidates and checks it. A borrower of a non-coherent region goes through
 * the emulator when it is on. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_region_map(struct zcp_window *win, int64_t slot,
                                                     struct zcp_device *dev,
                                                     enum zcp_region_role role,
                                                     const struct zcp_region_info *info,
                                                     struct zcp_region **out,
                                                     struct zcp_error *err);
/* Unmaps the region (its slot returns to the window's reservation). NULL is fine. */
ZCP_API void zcp_region_unmap(struct zcp_region *region);

ZCP_API void *zcp_region_base(const struct zcp_region *region);
ZCP_API void *zcp_region_data(const struct zcp_region *region);
ZCP_API int64_t zcp_region_data_size(const struct zcp_region *region);
ZCP_API const struct zcp_region_info *zcp_region_get_info(
    const struct zcp_region *region);

/* Protocol primitives on a range of a region: no-ops when the region is coherent. */
ZCP_API void zcp_region_flush(const struct zcp_region *region, const void *p,
                              int64_t len);
ZCP_API void zcp_region_writeback(const struct zcp_region *region, const void *p,
                                  int64_t len);
ZCP_API void zcp_region_invalidate(const struct zcp_region *region, const void *p,
                                   int64_t len);

/* ---------------------------------------------------------------------------------------
 * Cache control (always acts; see the region variants above for the coherent no-op)
 * -------------------------------------------------------------------------------------
 */

/* Write back every dirty line of [p, p + len) and drop it from the caches. */
ZCP_API void zcp_cache_flush(const void *p, int64_t len);
/* Write back every dirty line of [p, p + len); lines may stay cached. Where the CPU has
 * no write-back-only instruction this is a flush. */
ZCP_API void zcp_cache_writeback(const void *p, int64_t len);
/* Drop [p, p + len) from the caches, so the next read comes from memory. User space can
 * only do this with a flush on the supported CPUs, so dirty lines are written back too.
 */
ZCP_API void zcp_cache_invalidate(const void *p, int64_t len);
/* Orders every earlier flush, write-back, invalidation, load and store before every later
 * one (x86 mfence, POWER hwsync, Arm dsb sy). */
ZCP_API void zcp_cache_fence(void);

/* Cache line size the primitives step by (64 on x86-64 and Arm, 128 on POWER). */
ZCP_API int64_t zcp_cache_line_size(void);
/* Name of the flush instruction chosen at start-up ("clflushopt", "clflush", "dcbf"...).
 */
ZCP_API const char *zcp_cache_flush_method(void);
ZCP_API const char *zcp_cache_writeback_method(void);

/* Counters since start or the last reset (process-wide, relaxed). */
struct zcp_cache_stats {
  int64_t lines_flushed;
  int64_t lines_written_back;
  int64_t lines_invalidated;
  int64_t fences;
};
ZCP_API void zcp_cache_stats_get(struct zcp_cache_stats *out);
ZCP_API void zcp_cache_stats_reset(void);

/* ---------------------------------------------------------------------------------------
 * Non-coherent emulator (tests only; DESIGN §9)
 * -------------------------------------------------------------------------------------
 */

enum zcp_emulator_policy {
  ZCP_EMULATOR_KEEP_STALE = 0,   /* filled pages stay until invalidated */
  ZCP_EMULATOR_RANDOM_EVICT = 1, /* also evict (write back, drop) random pages early */
};

struct zcp_emulator_options {
  enum zcp_emulator_policy policy;
  uint64_t seed;          /* for RANDOM_EVICT */
  double evict_per_fault; /* RANDOM_EVICT: chance to evict one page on each page fill */
};

/* Turns the emulator on for regions mapped from now on in this process (borrowed,
 * non-coherent ones). Installs a SIGSEGV handler that fills pages; faults elsewhere go to
 * the previous handler. The test build of the library (libzcpool_test.a) also turns it
 * on at the first region map when the environment has ZCP_EMULATE_NONCOHERENT=1 (policy
 * from ZCP_EMULATE_POLICY=stale|random, seed from ZCP_EMULATE_SEED); the installed
 * library reads no environment. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t
zcp_emulator_enable(const struct zcp_emulator_options *opts, struct zcp_error *err);
ZCP_API bool zcp_emulator_enabled(void);

/* Pages filled, lines copied back to memory and pages dropped by the emulator. */
struct zcp_emulator_stats {
  int64_t pages_filled;
  int64_t lines_written_back;
  int64_t pages_dropped;
  int64_t pages_evicted;
};
ZCP_API void zcp_emulator_stats_get(struct zcp_emulator_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* ZCPOOL_FABRIC_H */
