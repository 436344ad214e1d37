/* Cluster key files: created 0600 with a fresh secret, never overwritten, refused when
 * others may read them or when they hold no key. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zcpool/cluster.h"

static void temp_path(char *buf, size_t cap) {
  static int seq;
  snprintf(buf, cap, "/tmp/zcp-key-%d-%d", (int)getpid(), seq++);
  unlink(buf);
}

Test(key, created_with_mode_0600_and_loads) {
  char path[64];
  temp_path(path, sizeof path);
  mode_t old = umask(0);
  struct zcp_error err = {0};
  cr_assert_eq(zcp_cluster_key_create(path, &err), ZCP_OK, "%s", err.message);
  umask(old);
  struct stat sb;
  cr_assert_eq(stat(path, &sb), 0);
  cr_assert_eq(sb.st_mode & 07777, 0600, "mode %o", (unsigned)(sb.st_mode & 07777));
  uint8_t a[ZCP_CLUSTER_KEY_SIZE], b[ZCP_CLUSTER_KEY_SIZE];
  cr_assert_eq(zcp_cluster_key_load(path, a, &err), ZCP_OK, "%s", err.message);
  /* A second key is a different secret. */
  char path2[64];
  temp_path(path2, sizeof path2);
  cr_assert_eq(zcp_cluster_key_create(path2, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_cluster_key_load(path2, b, &err), ZCP_OK, "%s", err.message);
  cr_assert(memcmp(a, b, sizeof a) != 0);
  unlink(path);
  unlink(path2);
}

Test(key, never_overwrites) {
  char path[64];
  temp_path(path, sizeof path);
  struct zcp_error err = {0};
  cr_assert_eq(zcp_cluster_key_create(path, &err), ZCP_OK, "%s", err.message);
  uint8_t a[ZCP_CLUSTER_KEY_SIZE], b[ZCP_CLUSTER_KEY_SIZE];
  cr_assert_eq(zcp_cluster_key_load(path, a, &err), ZCP_OK);
  cr_assert_eq(zcp_cluster_key_create(path, &err), ZCP_BUSY);
  cr_assert(strstr(err.message, path) != NULL, "%s", err.message);
  cr_assert_eq(zcp_cluster_key_load(path, b, &err), ZCP_OK);
  cr_assert(memcmp(a, b, sizeof a) == 0);
  unlink(path);
}

Test(key, refuses_looser_modes) {
  char path[64];
  temp_path(path, sizeof path);
  struct zcp_error err = {0};
  cr_assert_eq(zcp_cluster_key_create(path, &err), ZCP_OK, "%s", err.message);
  uint8_t k[ZCP_CLUSTER_KEY_SIZE];
  const mode_t modes[] = {0644, 0640, 0604, 0660, 0602};
  for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
    cr_assert_eq(chmod(path, modes[i]), 0);
    cr_assert_eq(zcp_cluster_key_load(path, k, &err), ZCP_AUTH_FAILED, "mode %o accepted",
                 (unsigned)modes[i]);
    char want[16];
    snprintf(want, sizeof want, "%04o", (unsigned)modes[i]);
    cr_assert(strstr(err.message, want) != NULL, "%s", err.message);
  }
  cr_assert_eq(chmod(path, 0400), 0);
  cr_assert_eq(zcp_cluster_key_load(path, k, &err), ZCP_OK, "%s", err.message);
  unlink(path);
}

Test(key, refuses_files_without_a_key) {
  char path[64];
  temp_path(path, sizeof path);
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
  cr_assert(fd >= 0);
  cr_assert_eq(write(fd, "abcd\n", 5), 5);
  close(fd);
  uint8_t k[ZCP_CLUSTER_KEY_SIZE];
  struct zcp_error err = {0};
  cr_assert_eq(zcp_cluster_key_load(path, k, &err), ZCP_CORRUPT_INPUT);
  cr_assert(strstr(err.message, path) != NULL, "%s", err.message);
  unlink(path);
  cr_assert_eq(zcp_cluster_key_load(path, k, &err), ZCP_NOT_FOUND);
}
