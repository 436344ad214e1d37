/* The corpus generators' output directory: created with its parents (mkdir -p). */
#ifndef ZCP_CORPUS_DIR_H
#define ZCP_CORPUS_DIR_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* 0 when dir exists afterwards; otherwise prints why, naming the program. */
static inline int corpus_dir_create(const char *program, const char *dir) {
  char parent[4096];
  snprintf(parent, sizeof parent, "%s", dir);
  for (char *p = parent + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    mkdir(parent, 0755);
    *p = '/';
  }
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "%s: cannot create %s: %s\n", program, dir, strerror(errno));
    return 1;
  }
  return 0;
}

#endif
