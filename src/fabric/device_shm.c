/* Shared-memory devices: `shm:NAME` (POSIX shm_open, visible to every process of the
 * host by name) and `shm:` (an anonymous memfd, shared with children and by passing the
 * descriptor, sealed against shrinking).
 *
 * Creation reserves the memory at once (posix_fallocate) so that a full tmpfs is an error
 * here and never a SIGBUS on first touch, and gives the device mode 0600 (or 0660 for a
 * group). This file must never map memory: that is window.c's job. */
#include "common/platform.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fabric/internal.h"

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#endif
#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING 0x0002U
#endif

/* POSIX wants exactly one leading slash and no other. */
static zcp_status_t shm_path(const char *name, char *out, size_t cap,
                             struct zcp_error *err) {
  size_t n = strlen(name);
  if (n == 0 || n + 2 > cap || strchr(name, '/') != NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "device shm:%s: name must be 1..%zu characters without '/'",
                         name, cap - 2);
  }
  out[0] = '/';
  memcpy(out + 1, name, n + 1);
  return ZCP_OK;
}

static zcp_status_t open_memfd(struct zcp_device *dev, const struct zcp_device_options *o,
                               struct zcp_error *err) {
  if (!o->create || o->size <= 0) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "device shm: (anonymous) can only be created, with a size > 0");
  }
  int fd = memfd_create("zcpool", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) {
    return zcp_error_set(err, ZCP_IO_ERROR, "device shm: (memfd): memfd_create: %s",
                         strerror(errno));
  }
  dev->fd = fd;
  dev->kind = ZCP__DEVICE_MEMFD;
  if (ftruncate(fd, o->size) != 0) {
    return zcp_error_set(err, ZCP_NO_SPACE,
                         "device shm: (memfd): cannot size to %lld bytes: %s",
                         (long long)o->size, strerror(errno));
  }
  ZCP_RETURN_NOT_OK(zcp__device_reserve(fd, o->size, dev->spec, err));
  ZCP_RETURN_NOT_OK(zcp__device_set_owner(fd, o->group, dev->spec, err));
  /* A shrunk backing file turns every access past the new end into SIGBUS in every
   * process that maps it; the seal makes that impossible. */
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    return zcp_error_set(err, ZCP_IO_ERROR, "device shm: (memfd): cannot seal: %s",
                         strerror(errno));
  }
  dev->size = o->size;
  return ZCP_OK;
}

zcp_status_t zcp__device_open_shm(struct zcp_device *dev, const char *name,
                                  const struct zcp_device_options *o,
                                  struct zcp_error *err) {
  if (name[0] == '\0') return open_memfd(dev, o, err);
  char path[256];
  ZCP_RETURN_NOT_OK(shm_path(name, path, sizeof path, err));
  dev->kind = ZCP__DEVICE_SHM;
  if (o->create) {
    if (o->size <= 0) {
      return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                           "device %s: creation needs a size > 0", dev->spec);
    }
    int fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      return zcp_error_set(err, errno == EEXIST ? ZCP_BUSY : ZCP_IO_ERROR,
                           "device %s: cannot create: %s", dev->spec, strerror(errno));
    }
    dev->fd = fd;
    zcp_status_t st = zcp__device_size_new(dev, o, err);
    if (st != ZCP_OK) shm_unlink(path); /* leave nothing half-made behind under the name */
    return st;
  }
  int fd = shm_open(path, O_RDWR | O_CLOEXEC, 0);
  if (fd < 0) {
    return zcp_error_set(err, errno == ENOENT ? ZCP_NOT_FOUND : ZCP_IO_ERROR,
                         "device %s: cannot open: %s", dev->spec, strerror(errno));
  }
  dev->fd = fd;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    return zcp_error_set(err, ZCP_IO_ERROR, "device %s: fstat: %s", dev->spec,
                         strerror(errno));
  }
  dev->size = (int64_t)st.st_size;
  if (dev->size == 0) {
    return zcp_error_set(err, ZCP_CORRUPT_INPUT, "device %s: is empty (0 bytes)",
                         dev->spec);
  }
  return ZCP_OK;
}

zcp_status_t zcp__device_unlink_shm(const char *name, struct zcp_error *err) {
  char path[256];
  ZCP_RETURN_NOT_OK(shm_path(name, path, sizeof path, err));
  if (shm_unlink(path) != 0) {
    return zcp_error_set(err, errno == ENOENT ? ZCP_NOT_FOUND : ZCP_IO_ERROR,
                         "device shm:%s: cannot unlink: %s", name, strerror(errno));
  }
  return ZCP_OK;
}
