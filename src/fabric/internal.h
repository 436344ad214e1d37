/* Declarations shared by the files of the fabric layer, never by other layers. */
#ifndef ZCP_FABRIC_INTERNAL_H
#define ZCP_FABRIC_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "zcpool/fabric.h"

enum zcp__device_kind {
  ZCP__DEVICE_SHM = 0,   /* shm_open */
  ZCP__DEVICE_MEMFD = 1, /* anonymous memfd, sealed */
  ZCP__DEVICE_FILE = 2,  /* regular file */
  ZCP__DEVICE_CHAR = 3,  /* character device (dax, mishmem) */
  ZCP__DEVICE_BLOCK = 4, /* block device */
};

struct zcp_device {
  char *spec;
  int fd;
  int64_t size;
  enum zcp__device_kind kind;
};

/* Opens shm:NAME / shm: (device_shm.c) into dev (spec already set). */
zcp_status_t zcp__device_open_shm(struct zcp_device *dev, const char *name,
                                  const struct zcp_device_options *opts,
                                  struct zcp_error *err);
zcp_status_t zcp__device_unlink_shm(const char *name, struct zcp_error *err);
/* Reserves size bytes of backing store for fd (free-space check, then posix_fallocate),
 * so that a full file system fails here and not with SIGBUS on first touch. */
/* Sizes a device just created (dev->fd open, o->size > 0): ftruncate, reserve the space,
 * set the group; on success dev->size is set. The caller removes the name on failure. */
zcp_status_t zcp__device_size_new(struct zcp_device *dev, const struct zcp_device_options *o,
                                  struct zcp_error *err);
zcp_status_t zcp__device_reserve(int fd, int64_t size, const char *spec,
                                 struct zcp_error *err);
/* Applies the creation mode: 0600, or 0660 with group. */
zcp_status_t zcp__device_set_owner(int fd, int64_t group, const char *spec,
                                   struct zcp_error *err);

/* Maps length bytes of fd at file offset 0 to addr, which must lie inside win (window.c).
 * shared: MAP_SHARED of fd; otherwise an anonymous private mapping with no access (the
 * emulator's view). */
zcp_status_t zcp__window_map_fixed(struct zcp_window *win, void *addr, int64_t length,
                                   int fd, bool shared, struct zcp_error *err);
/* Returns [addr, addr + length) to the reservation (PROT_NONE, no backing). */
void zcp__window_unmap_fixed(struct zcp_window *win, void *addr, int64_t length);
bool zcp__window_contains(const struct zcp_window *win, const void *addr, int64_t length);

/* Emulator switches (emulator_env.c, test build of the library only): at the first region
 * map, reads the environment once and enables the emulator if asked. A no-op in the
 * installed library, which reads no environment variable. */
#ifdef ZCP_TEST_HOOKS
void zcp__emulator_from_env(void);
#else
static inline void zcp__emulator_from_env(void) {}
#endif
/* Emulator (emulator.c). */
/* Makes [addr, addr + length) an emulated view of fd (the view must already be an
 * inaccessible private mapping inside a window). */
zcp_status_t zcp__emulator_attach(void *addr, int64_t length, int fd,
                                  struct zcp_error *err);
void zcp__emulator_detach(void *addr, int64_t length);
/* Cache operations on emulated views. Return false if [p, p+len) touches no emulated
 * view (the caller then does the hardware operation). */
enum zcp__emu_op { ZCP__EMU_FLUSH, ZCP__EMU_WRITEBACK, ZCP__EMU_INVALIDATE };
bool zcp__emulator_cache_op(enum zcp__emu_op op, const void *p, int64_t len);
/* Non-zero once any view is attached: checked (relaxed) on every cache call. */
extern _Atomic int zcp__emulator_active;

#endif /* ZCP_FABRIC_INTERNAL_H */
