/* Replays inputs through a fuzz target without libFuzzer: every file named on the
 * command line, and every file in every directory named (not recursive). Missing
 * directories are skipped with a line, so that a fresh tree without a corpus passes.
 * A crash or sanitizer report is the failure; the exit code is 0 otherwise. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return 0;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  /* An exact-size copy, so that reading one byte past the input is caught. */
  uint8_t *data = malloc(n > 0 ? (size_t)n : 1);
  size_t got = fread(data, 1, (size_t)n, f);
  fclose(f);
  LLVMFuzzerTestOneInput(data, got);
  free(data);
  return 1;
}

int main(int argc, char **argv) {
  int files = 0;
  for (int a = 1; a < argc; a++) {
    struct stat st;
    if (stat(argv[a], &st) != 0) {
      printf("replay: %s absent, skipped\n", argv[a]);
      continue;
    }
    if (!S_ISDIR(st.st_mode)) {
      files += replay_file(argv[a]);
      continue;
    }
    DIR *d = opendir(argv[a]);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.') continue;
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", argv[a], e->d_name);
      if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) files += replay_file(path);
    }
    if (d) closedir(d);
  }
  printf("replay: %d inputs, no crash\n", files);
  return 0;
}
