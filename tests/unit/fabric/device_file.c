#define _GNU_SOURCE 1
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zcpool/fabric.h"

static char dir[64];

static void make_dir(void) {
  snprintf(dir, sizeof dir, "/tmp/zcp-devfile-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void) {
  rmdir(dir);
}

TestSuite(device_file, .init = make_dir, .fini = remove_dir);

Test(device_file, creates_reserves_and_detects_size) {
  char spec[128];
  snprintf(spec, sizeof spec, "file:%s/region", dir);
  struct zcp_device_options o;
  zcp_device_options_init(&o);
  o.create = true;
  o.size = 3 << 20;
  struct zcp_device *dev = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_device_open(spec, &o, &dev, &err), ZCP_OK, "%s", err.message);
  struct stat st;
  cr_assert_eq(fstat(zcp_device_fd(dev), &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0600);
  cr_assert_geq((int64_t)st.st_blocks * 512, 3 << 20, "space must be reserved up front");
  zcp_device_close(dev);

  cr_assert_eq(zcp_device_open(spec, NULL, &dev, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_device_size(dev), 3 << 20);
  zcp_device_close(dev);
  zcp_device_options_init(&o);
  o.size = 1 << 20; /* use less than the device holds */
  cr_assert_eq(zcp_device_open(spec, &o, &dev, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_device_size(dev), 1 << 20);
  zcp_device_close(dev);
  o.size = 4 << 20; /* more than it holds */
  cr_assert_eq(zcp_device_open(spec, &o, &dev, &err), ZCP_NO_SPACE);
  cr_assert(strstr(err.message, "holds 3145728 bytes") != NULL, "%s", err.message);
  cr_assert_eq(zcp_device_unlink(spec, &err), ZCP_OK, "%s", err.message);
}

Test(device_file, character_device_needs_a_size_when_it_tells_none) {
  struct zcp_device *dev = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_device_open("file:/dev/zero", NULL, &dev, &err), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(err.message, "/dev/zero") && strstr(err.message, "size"), "%s",
            err.message);
  struct zcp_device_options o;
  zcp_device_options_init(&o);
  o.size = 1 << 20;
  cr_assert_eq(zcp_device_open("file:/dev/zero", &o, &dev, &err), ZCP_OK, "%s",
               err.message);
  cr_assert_eq(zcp_device_size(dev), 1 << 20);
  zcp_device_close(dev);
  cr_assert_eq(zcp_device_unlink("file:/dev/zero", &err), ZCP_INVALID_ARGUMENT);
}

Test(device_file, missing_and_empty_paths) {
  struct zcp_device *dev = NULL;
  struct zcp_error err = {0};
  char spec[128];
  snprintf(spec, sizeof spec, "file:%s/nothing", dir);
  cr_assert_eq(zcp_device_open(spec, NULL, &dev, &err), ZCP_NOT_FOUND);
  cr_assert(strstr(err.message, spec) != NULL, "%s", err.message);
  cr_assert_eq(zcp_device_open("file:", NULL, &dev, &err), ZCP_INVALID_ARGUMENT);
}

Test(device_file, full_tmpfs_is_an_error_at_creation_not_sigbus) {
  char mnt[128];
  snprintf(mnt, sizeof mnt, "%s/small", dir);
  cr_assert_eq(mkdir(mnt, 0700), 0);
  if (mount("tmpfs", mnt, "tmpfs", 0, "size=1m") != 0) {
    int e = errno;
    rmdir(mnt);
    cr_skip_test("cannot mount a small tmpfs (%s): needs root", strerror(e));
  }
  char spec[160];
  snprintf(spec, sizeof spec, "file:%s/region", mnt);
  struct zcp_device_options o;
  zcp_device_options_init(&o);
  o.create = true;
  o.size = 4 << 20;
  struct zcp_device *dev = NULL;
  struct zcp_error err = {0};
  zcp_status_t st = zcp_device_open(spec, &o, &dev, &err);
  /* Fits exactly what is left after a first device: the second one finds it full. */
  struct zcp_device *first = NULL;
  struct zcp_error err2 = {0};
  char spec2[160];
  snprintf(spec2, sizeof spec2, "file:%s/first", mnt);
  o.size = 768 << 10;
  zcp_status_t st2 = zcp_device_open(spec2, &o, &first, &err2);
  struct zcp_device *second = NULL;
  struct zcp_error err3 = {0};
  char spec3[160];
  snprintf(spec3, sizeof spec3, "file:%s/second", mnt);
  zcp_status_t st3 = zcp_device_open(spec3, &o, &second, &err3);
  zcp_device_close(first);
  zcp_device_close(second);
  umount(mnt);
  rmdir(mnt);
  cr_assert_eq(st, ZCP_NO_SPACE, "%d: %s", st, err.message);
  cr_assert(strstr(err.message, spec) != NULL, "%s", err.message);
  cr_assert_eq(st2, ZCP_OK, "%s", err2.message);
  cr_assert_eq(st3, ZCP_NO_SPACE, "%d: %s", st3, err3.message);
}
