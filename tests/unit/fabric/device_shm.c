#define _GNU_SOURCE 1
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zcpool/fabric.h"

static void name(char *out, size_t cap, const char *what) {
  snprintf(out, cap, "shm:zcp-unit-%s-%d", what, (int)getpid());
}

static struct zcp_device_options create_opts(int64_t size) {
  struct zcp_device_options o;
  zcp_device_options_init(&o);
  o.create = true;
  o.size = size;
  return o;
}

Test(device_shm, creates_0600_opens_by_name_and_unlinks) {
  char spec[64];
  name(spec, sizeof spec, "a");
  struct zcp_device_options o = create_opts(1 << 20);
  struct zcp_device *dev = NULL, *again = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_device_open(spec, &o, &dev, &err), ZCP_OK, "%s", err.message);
  struct stat st;
  cr_assert_eq(fstat(zcp_device_fd(dev), &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0600);
  cr_assert_eq(zcp_device_size(dev), 1 << 20);
  cr_assert_str_eq(zcp_device_spec(dev), spec);
  cr_assert_eq(zcp_device_open(spec, NULL, &again, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_device_size(again), 1 << 20);
  zcp_device_close(again);
  /* Creating it again is refused: someone else's region must never be re-initialised. */
  cr_assert_eq(zcp_device_open(spec, &o, &again, &err), ZCP_BUSY);
  cr_assert(strstr(err.message, spec) != NULL, "%s", err.message);
  zcp_device_close(dev);
  cr_assert_eq(zcp_device_unlink(spec, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_device_open(spec, NULL, &again, &err), ZCP_NOT_FOUND);
  cr_assert_eq(zcp_device_unlink(spec, &err), ZCP_NOT_FOUND);
}

Test(device_shm, group_option_gives_0660) {
  char spec[64];
  name(spec, sizeof spec, "g");
  struct zcp_device_options o = create_opts(1 << 16);
  o.group = (int64_t)getgid();
  struct zcp_device *dev = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_device_open(spec, &o, &dev, &err), ZCP_OK, "%s", err.message);
  struct stat st;
  cr_assert_eq(fstat(zcp_device_fd(dev), &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0660);
  cr_assert_eq(st.st_gid, getgid());
  zcp_device_close(dev);
  cr_assert_eq(zcp_device_unlink(spec, &err), ZCP_OK);
}

Test(device_shm, anonymous_memfd_is_sealed_against_shrinking) {
  struct zcp_device_options o = create_opts(1 << 20);
  struct zcp_device *dev = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_device_open("shm:", &o, &dev, &err), ZCP_OK, "%s", err.message);
  int seals = fcntl(zcp_device_fd(dev), F_GET_SEALS);
  cr_assert(seals & F_SEAL_SHRINK, "seals %#x", seals);
  cr_assert_neq(ftruncate(zcp_device_fd(dev), 4096), 0, "shrinking must be refused");
  cr_assert_eq(zcp_device_size(dev), 1 << 20);
  zcp_device_close(dev);
  /* Only creation makes sense for an anonymous device. */
  cr_assert_eq(zcp_device_open("shm:", NULL, &dev, &err), ZCP_INVALID_ARGUMENT);
}

Test(device_shm, oversized_creation_is_no_space_not_sigbus) {
  char spec[64];
  name(spec, sizeof spec, "big");
  struct zcp_device_options o = create_opts((int64_t)1 << 44);
  struct zcp_device *dev = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_device_open(spec, &o, &dev, &err), ZCP_NO_SPACE, "%s", err.message);
  cr_assert(strstr(err.message, spec) && strstr(err.message, "free"), "%s", err.message);
  cr_assert_eq(zcp_device_open(spec, NULL, &dev, &err), ZCP_NOT_FOUND,
               "nothing may be left under the name");
  cr_assert_eq(zcp_device_open("shm:", &o, &dev, &err), ZCP_NO_SPACE, "%s", err.message);
}

Test(device_shm, rejects_bad_names_and_kinds) {
  struct zcp_device *dev = NULL;
  struct zcp_error err = {0};
  struct zcp_device_options o = create_opts(4096);
  cr_assert_eq(zcp_device_open("shm:a/b", &o, &dev, &err), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(err.message, "shm:a/b") != NULL, "%s", err.message);
  cr_assert_eq(zcp_device_open("nvme:x", &o, &dev, &err), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(err.message, "nvme:x") != NULL, "%s", err.message);
  o.size = 0;
  cr_assert_eq(zcp_device_open("shm:zcp-unit-zero", &o, &dev, &err),
               ZCP_INVALID_ARGUMENT);
  cr_assert_null(dev);
}
