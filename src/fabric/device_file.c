/* File devices (`file:PATH`): regular files, character devices (CXL /dev/daxX.Y,
 * ThymesisFlow /dev/mishmem-s1), block devices, and PCI BARs exposed by sysfs
 * (/sys/bus/pci/devices/.../resourceN, which report their size as a file size). Also the
 * entry points common to every device kind.
 *
 * The size of a device comes from the kind: st_size for files, BLKGETSIZE64 for block
 * devices, /sys/dev/char/MAJ:MIN/size for character devices (device-DAX publishes it
 * there); a device that tells nothing needs an explicit size. This file never maps. */
#include "common/platform.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fabric/internal.h"

void zcp_device_options_init(struct zcp_device_options *opts) {
  opts->size = 0;
  opts->create = false;
  opts->group = -1;
}

/* MemAvailable from /proc/meminfo in bytes; INT64_MAX when unknown. */
static int64_t memory_available(void) {
  FILE *f = fopen("/proc/meminfo", "re");
  if (f == NULL) return INT64_MAX;
  char line[128];
  long long kb = -1;
  while (fgets(line, sizeof line, f) != NULL) {
    if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1) break;
  }
  fclose(f);
  return kb >= 0 ? (int64_t)kb * 1024 : INT64_MAX;
}

zcp_status_t zcp__device_reserve(int fd, int64_t size, const char *spec,
                                 struct zcp_error *err) {
  struct stat st;
  struct statvfs vfs;
  if (fstat(fd, &st) == 0 && fstatvfs(fd, &vfs) == 0 && vfs.f_frsize > 0) {
    /* Checked first because posix_fallocate on a nearly full tmpfs would first take all
     * the memory that is left (from every other user of the host) and then fail. */
    int64_t have = (int64_t)st.st_blocks * 512;
    int64_t avail = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
    /* A file system without a limit (memfd's) reports no blocks: memory is the limit. */
    if (vfs.f_blocks == 0) avail = memory_available();
    if (size - have > avail) {
      return zcp_error_set(err, ZCP_NO_SPACE,
                           "device %s: needs %lld bytes, its file system has %lld free",
                           spec, (long long)(size - have), (long long)avail);
    }
  }
  int rc = posix_fallocate(fd, 0, size);
  if (rc == ENOSPC || rc == EFBIG) {
    return zcp_error_set(err, ZCP_NO_SPACE, "device %s: cannot reserve %lld bytes: %s",
                         spec, (long long)size, strerror(rc));
  }
  if (rc != 0 && rc != EOPNOTSUPP && rc != EINVAL) {
    return zcp_error_set(err, ZCP_IO_ERROR, "device %s: posix_fallocate: %s", spec,
                         strerror(rc));
  }
  return ZCP_OK;
}

zcp_status_t zcp__device_set_owner(int fd, int64_t group, const char *spec,
                                   struct zcp_error *err) {
  if (group >= 0 && fchown(fd, (uid_t)-1, (gid_t)group) != 0) {
    return zcp_error_set(err, ZCP_IO_ERROR, "device %s: cannot give to group %lld: %s",
                         spec, (long long)group, strerror(errno));
  }
  if (fchmod(fd, group >= 0 ? 0660 : 0600) != 0) {
    return zcp_error_set(err, ZCP_IO_ERROR, "device %s: chmod: %s", spec,
                         strerror(errno));
  }
  return ZCP_OK;
}

/* device-DAX (and other drivers) publish the size in bytes here. */
zcp_status_t zcp__device_size_new(struct zcp_device *dev, const struct zcp_device_options *o,
                                  struct zcp_error *err) {
  if (ftruncate(dev->fd, o->size) != 0) {
    return zcp_error_set(err,
                         errno == EFBIG || errno == ENOSPC ? ZCP_NO_SPACE : ZCP_IO_ERROR,
                         "device %s: cannot size to %lld bytes: %s", dev->spec,
                         (long long)o->size, strerror(errno));
  }
  ZCP_RETURN_NOT_OK(zcp__device_reserve(dev->fd, o->size, dev->spec, err));
  ZCP_RETURN_NOT_OK(zcp__device_set_owner(dev->fd, o->group, dev->spec, err));
  dev->size = o->size;
  return ZCP_OK;
}

static int64_t char_device_size(dev_t rdev) {
  char path[96];
  snprintf(path, sizeof path, "/sys/dev/char/%u:%u/size", major(rdev), minor(rdev));
  FILE *f = fopen(path, "re");
  if (f == NULL) return -1;
  long long v = -1;
  if (fscanf(f, "%lld", &v) != 1) v = -1;
  fclose(f);
  return (int64_t)v;
}

static zcp_status_t open_file(struct zcp_device *dev, const char *path,
                              const struct zcp_device_options *o, struct zcp_error *err) {
  if (path[0] == '\0') {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "device %s: empty path", dev->spec);
  }
  if (o->create) {
    if (o->size <= 0) {
      return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                           "device %s: creation needs a size > 0", dev->spec);
    }
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      return zcp_error_set(err, errno == EEXIST ? ZCP_BUSY : ZCP_IO_ERROR,
                           "device %s: cannot create: %s", dev->spec, strerror(errno));
    }
    dev->fd = fd;
    dev->kind = ZCP__DEVICE_FILE;
    zcp_status_t st = zcp__device_size_new(dev, o, err);
    if (st != ZCP_OK) unlink(path); /* leave nothing half-made behind under the name */
    return st;
  }
  int fd = open(path, O_RDWR | O_CLOEXEC);
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
  int64_t size = -1;
  if (S_ISREG(st.st_mode)) {
    dev->kind = ZCP__DEVICE_FILE;
    size = (int64_t)st.st_size;
  } else if (S_ISBLK(st.st_mode)) {
    dev->kind = ZCP__DEVICE_BLOCK;
    uint64_t b = 0;
    if (ioctl(fd, BLKGETSIZE64, &b) == 0 && b <= INT64_MAX) size = (int64_t)b;
  } else if (S_ISCHR(st.st_mode)) {
    dev->kind = ZCP__DEVICE_CHAR;
    size = char_device_size(st.st_rdev);
  } else {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "device %s: not a file, block or character device", dev->spec);
  }
  if (size < 0) {
    if (o->size <= 0) {
      return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                           "device %s: cannot tell its size; give one explicitly",
                           dev->spec);
    }
    size = o->size;
  }
  if (o->size > size) {
    return zcp_error_set(err, ZCP_NO_SPACE,
                         "device %s: holds %lld bytes, %lld were asked for", dev->spec,
                         (long long)size, (long long)o->size);
  }
  if (o->size > 0) size = o->size;
  if (size == 0) {
    return zcp_error_set(err, ZCP_CORRUPT_INPUT, "device %s: is empty (0 bytes)",
                         dev->spec);
  }
  dev->size = size;
  return ZCP_OK;
}

zcp_status_t zcp_device_open(const char *spec, const struct zcp_device_options *opts,
                             struct zcp_device **out, struct zcp_error *err) {
  *out = NULL;
  struct zcp_device_options defaults;
  zcp_device_options_init(&defaults);
  const struct zcp_device_options *o = opts != NULL ? opts : &defaults;
  if (spec == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "device: no spec given");
  }
  if (o->size < 0) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "device %s: negative size %lld", spec,
                         (long long)o->size);
  }
  struct zcp_device *dev = calloc(1, sizeof *dev);
  if (dev == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "device %s", spec);
  dev->fd = -1;
  dev->spec = strdup(spec);
  if (dev->spec == NULL) {
    free(dev);
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "device %s", spec);
  }
  zcp_status_t st;
  if (strncmp(spec, "shm:", 4) == 0) {
    st = zcp__device_open_shm(dev, spec + 4, o, err);
  } else if (strncmp(spec, "file:", 5) == 0) {
    st = open_file(dev, spec + 5, o, err);
  } else {
    st = zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                       "device %s: unknown kind (expected shm:NAME or file:PATH)", spec);
  }
  if (st != ZCP_OK) {
    zcp_device_close(dev);
    return st;
  }
  *out = dev;
  return ZCP_OK;
}

void zcp_device_close(struct zcp_device *dev) {
  if (dev == NULL) return;
  if (dev->fd >= 0) close(dev->fd);
  free(dev->spec);
  free(dev);
}

zcp_status_t zcp_device_unlink(const char *spec, struct zcp_error *err) {
  if (spec != NULL && strncmp(spec, "shm:", 4) == 0 && spec[4] != '\0') {
    return zcp__device_unlink_shm(spec + 4, err);
  }
  if (spec != NULL && strncmp(spec, "file:", 5) == 0) {
    struct stat st;
    if (stat(spec + 5, &st) == 0 && !S_ISREG(st.st_mode)) {
      return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                           "device %s: only regular files are removed", spec);
    }
    if (unlink(spec + 5) != 0) {
      return zcp_error_set(err, errno == ENOENT ? ZCP_NOT_FOUND : ZCP_IO_ERROR,
                           "device %s: cannot unlink: %s", spec, strerror(errno));
    }
    return ZCP_OK;
  }
  return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "device %s: nothing to unlink",
                       spec != NULL ? spec : "(null)");
}

int64_t zcp_device_size(const struct zcp_device *dev) {
  return dev->size;
}
const char *zcp_device_spec(const struct zcp_device *dev) {
  return dev->spec;
}
int zcp_device_fd(const struct zcp_device *dev) {
  return dev->fd;
}
