/* Writes the seed corpus of the descriptor fuzz target: descriptors of the batches of
 * its world (descriptor_world.h), whole, sliced, and each column alone. Usage:
 * gen_descriptor_corpus <directory> (created if absent). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus_dir.h"
#include "descriptor_world.h"

static const char *dir;
static int written, failed;

static void noop_release(struct ArrowArray *a) {
  a->release = NULL;
}
static void noop_schema_release(struct ArrowSchema *s) {
  s->release = NULL;
}

static void save(const char *name, const struct ArrowSchema *schema,
                 const struct ArrowArray *batch,
                 const struct zcp_descriptor_memory *mem) {
  uint8_t *buf = NULL;
  int64_t size = 0;
  struct zcp_error err = {0};
  if (zcp_descriptor_encode(schema, batch, mem, &buf, &size, &err) != ZCP_OK) {
    fprintf(stderr, "gen_descriptor_corpus: %s: %s\n", name, err.message);
    failed++;
    return;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (f == NULL || fwrite(buf, 1, (size_t)size, f) != (size_t)size) {
    fprintf(stderr, "gen_descriptor_corpus: cannot write %s\n", path);
    failed++;
  } else {
    written++;
  }
  if (f) fclose(f);
  zcp_descriptor_free(buf);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: gen_descriptor_corpus <directory>\n");
    return 2;
  }
  dir = argv[1];
  if (corpus_dir_create("gen_descriptor_corpus", dir) != 0) return 1;
  struct dworld w;
  if (dworld_init(&w) != 0) {
    fprintf(stderr, "gen_descriptor_corpus: cannot build the world\n");
    return 1;
  }
  const struct zcp_descriptor_memory *mem = zcp_fake_memory_descriptor(w.fm);
  const char *names[DWORLD_BATCHES] = {"fixture", "exotic", "extensions"};
  for (int b = 0; b < DWORLD_BATCHES; b++) {
    char name[128];
    snprintf(name, sizeof name, "%s_all", names[b]);
    save(name, &w.schema[b], &w.batch[b], mem);
    struct ArrowArray slice = w.batch[b];
    slice.offset = 3;
    slice.length -= 5;
    slice.null_count = -1;
    slice.release = noop_release;
    snprintf(name, sizeof name, "%s_slice", names[b]);
    save(name, &w.schema[b], &slice, mem);
    /* each column alone: a one-child struct borrowing the column */
    for (int64_t c = 0; c < w.batch[b].n_children; c++) {
      struct ArrowSchema s1 = w.schema[b];
      s1.n_children = 1;
      s1.children = &w.schema[b].children[c];
      s1.release = noop_schema_release;
      struct ArrowArray a1 = w.batch[b];
      a1.n_children = 1;
      a1.children = &w.batch[b].children[c];
      a1.release = noop_release;
      snprintf(name, sizeof name, "%s_col%02lld", names[b], (long long)c);
      save(name, &s1, &a1, mem);
    }
  }
  dworld_free(&w);
  printf("gen_descriptor_corpus: %d descriptors in %s\n", written, dir);
  return failed ? 1 : 0;
}
