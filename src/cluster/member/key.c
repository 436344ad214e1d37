/* The cluster key: a per-cluster secret in a file that only its owner may read (0600).
 * It is created once, never overwritten, and refused when its mode lets anyone else see
 * it: a key others can read authenticates nobody. The file holds the secret in hex. */
#include "common/platform.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zcpool/cluster.h"

zcp_status_t zcp_cluster_key_create(const char *path, struct zcp_error *err) {
  if (sodium_init() < 0)
    return zcp_error_set(err, ZCP_IO_ERROR, "libsodium cannot start");
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return zcp_error_set(err, errno == EEXIST ? ZCP_BUSY : ZCP_IO_ERROR,
                         "key file %s: cannot create: %s%s", path, strerror(errno),
                         errno == EEXIST ? " (a key is never overwritten)" : "");
  /* The umask may have taken bits away, never added: still say exactly 0600. */
  fchmod(fd, 0600);
  uint8_t key[ZCP_CLUSTER_KEY_SIZE];
  randombytes_buf(key, sizeof key);
  char hex[2 * ZCP_CLUSTER_KEY_SIZE + 2];
  sodium_bin2hex(hex, sizeof hex, key, sizeof key);
  sodium_memzero(key, sizeof key);
  size_t n = strlen(hex);
  hex[n++] = '\n';
  bool ok = write(fd, hex, n) == (ssize_t)n && fsync(fd) == 0;
  int e = errno;
  sodium_memzero(hex, sizeof hex);
  close(fd);
  if (!ok) {
    unlink(path);
    return zcp_error_set(err, ZCP_IO_ERROR, "key file %s: cannot write: %s", path,
                         strerror(e));
  }
  return ZCP_OK;
}

zcp_status_t zcp_cluster_key_load(const char *path, uint8_t key[ZCP_CLUSTER_KEY_SIZE],
                                  struct zcp_error *err) {
  if (sodium_init() < 0)
    return zcp_error_set(err, ZCP_IO_ERROR, "libsodium cannot start");
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return zcp_error_set(err, errno == ENOENT ? ZCP_NOT_FOUND : ZCP_IO_ERROR,
                         "key file %s: cannot open: %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    close(fd);
    return zcp_error_set(err, ZCP_IO_ERROR, "key file %s: not a regular file", path);
  }
  if ((sb.st_mode & 077) != 0) {
    close(fd);
    return zcp_error_set(err, ZCP_AUTH_FAILED,
                         "key file %s: mode %04o lets others use it; expected 0600 "
                         "(chmod 600 %s)",
                         path, (unsigned)(sb.st_mode & 07777), path);
  }
  char hex[4 * ZCP_CLUSTER_KEY_SIZE];
  ssize_t n = read(fd, hex, sizeof hex - 1);
  close(fd);
  if (n < 0)
    return zcp_error_set(err, ZCP_IO_ERROR, "key file %s: %s", path, strerror(errno));
  hex[n] = '\0';
  size_t got = 0;
  const char *end = NULL;
  int rc =
      sodium_hex2bin(key, ZCP_CLUSTER_KEY_SIZE, hex, (size_t)n, "\n\r \t", &got, &end);
  bool trailing = end != NULL && strspn(end, "\n\r \t") != strlen(end);
  sodium_memzero(hex, sizeof hex);
  if (rc != 0 || got != ZCP_CLUSTER_KEY_SIZE || trailing)
    return zcp_error_set(err, ZCP_CORRUPT_INPUT,
                         "key file %s: expected %d hex digits of key, found %zu bytes",
                         path, 2 * ZCP_CLUSTER_KEY_SIZE, got);
  return ZCP_OK;
}
