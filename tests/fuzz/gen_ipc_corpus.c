/* Writes the seed corpus of the IPC fuzz targets: valid streams (and files) made by our
 * writer from the test fixtures, small enough for a fuzzer to mutate: the whole fixture
 * at a few sizes, the rarer types (decimal32 and decimal64 among them), each column
 * alone, schema-only streams, compressed bodies, dictionaries shared by two fields and
 * grown by deltas, batch message metadata, canonical extension types. Usage:
 * gen_ipc_corpus <directory> (created if absent). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "corpus_dir.h"
#include "zcp_fixture.h"
#include "zcpool/ipc.h"

static const char *dir;
static int written;

static void noop_release(struct ArrowArray *a) { a->release = NULL; }

static int save(const char *name, const struct zcp_ipc_buffer *buf) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (f == NULL || fwrite(buf->data, 1, (size_t)buf->size, f) != (size_t)buf->size) {
    fprintf(stderr, "gen_ipc_corpus: cannot write %s\n", path);
    if (f) fclose(f);
    return 1;
  }
  fclose(f);
  written++;
  return 0;
}

/* Writes n batches with one schema in the given format and options to <name>, each
 * batch's message with batch_metadata (may be NULL). */
static int write_opts(const char *name, const struct ArrowSchema *schema,
                      const struct ArrowArray *const *batches, int n,
                      enum zcp_ipc_format format, const struct zcp_ipc_write_options *opts,
                      const char *batch_metadata) {
  struct zcp_ipc_buffer buf = {0};
  struct zcp_ipc_sink sink = zcp_ipc_sink_buffer(&buf);
  struct zcp_error err = {0};
  struct zcp_ipc_writer *w = NULL;
  zcp_status_t st = zcp_ipc_writer_open(format, schema, &sink, opts, &w, &err);
  for (int k = 0; k < n && st == ZCP_OK; k++) {
    st = zcp_ipc_writer_write_with_metadata(w, batches[k], batch_metadata, &err);
  }
  if (w != NULL) {
    zcp_status_t cst = zcp_ipc_writer_close(w, st == ZCP_OK ? &err : NULL);
    if (st == ZCP_OK) st = cst;
  }
  int rc = 0;
  if (st != ZCP_OK) {
    fprintf(stderr, "gen_ipc_corpus: %s: %s\n", name, err.message);
    rc = 1;
  } else {
    rc = save(name, &buf);
  }
  zcp_ipc_buffer_reset(&buf);
  return rc;
}

static int write_one(const char *name, const struct ArrowSchema *schema,
                     const struct ArrowArray *const *batches, int n, enum zcp_ipc_format format,
                     enum zcp_ipc_compression comp) {
  struct zcp_ipc_write_options opts;
  zcp_ipc_write_options_init(&opts);
  opts.compression = comp;
  return write_opts(name, schema, batches, n, format, &opts, NULL);
}

/* The dictionary features: two fields sharing one id, a dictionary growing by deltas,
 * batch messages with custom metadata, and the canonical extension types. */
static int write_dictionary_features(void) {
  struct zcp_error err = {0};
  struct ArrowSchema s;
  struct ArrowArray b[3];
  const struct ArrowArray *p[3] = {&b[0], &b[1], &b[2]};
  struct zcp_ipc_write_options o;
  int rc = 0;
  if (zcp_fixture_shared_dict_schema(&s, &err) != ZCP_OK ||
      zcp_fixture_shared_dict_batch(0, 6, &b[0], &err) != ZCP_OK ||
      zcp_fixture_shared_dict_batch(6, 3, &b[1], &err) != ZCP_OK) {
    fprintf(stderr, "gen_ipc_corpus: %s\n", err.message);
    return 1;
  }
  const int64_t ids[2] = {3, 3};
  zcp_ipc_write_options_init(&o);
  o.dictionary_ids = ids;
  o.n_dictionary_ids = 2;
  rc |= write_opts("shared-dictionary.stream", &s, p, 2, ZCP_IPC_STREAM, &o, NULL);
  rc |= write_opts("shared-dictionary.file", &s, p, 2, ZCP_IPC_FILE, &o, NULL);
  char *md = NULL;
  const char *keys[] = {"origin"}, *values[] = {"gen_ipc_corpus"};
  if (zcp_metadata_build(1, keys, values, &md) != ZCP_OK) rc = 1;
  rc |= write_opts("batch-metadata.stream", &s, p, 2, ZCP_IPC_STREAM, &o, md);
  free(md);
  zcp_array_release(&b[0]);
  zcp_array_release(&b[1]);
  zcp_schema_release(&s);

  if (zcp_fixture_growing_dict_schema(&s, &err) != ZCP_OK) return 1;
  for (int k = 0; k < 3; k++) {
    if (zcp_fixture_growing_dict_batch(k, &b[k], &err) != ZCP_OK) return 1;
  }
  zcp_ipc_write_options_init(&o);
  o.dictionary_deltas = true;
  rc |= write_opts("delta-dictionaries.stream", &s, p, 3, ZCP_IPC_STREAM, &o, NULL);
  rc |= write_opts("delta-dictionaries.file", &s, p, 3, ZCP_IPC_FILE, &o, NULL);
  for (int k = 0; k < 3; k++) zcp_array_release(&b[k]);
  zcp_schema_release(&s);

  if (zcp_fixture_extension_schema(&s, &err) != ZCP_OK ||
      zcp_fixture_extension_batch(8, NULL, &b[0], &err) != ZCP_OK) {
    return 1;
  }
  zcp_ipc_write_options_init(&o);
  rc |= write_opts("extensions.stream", &s, p, 1, ZCP_IPC_STREAM, &o, NULL);
  zcp_array_release(&b[0]);
  zcp_schema_release(&s);
  return rc;
}

static int write_variants(const char *stem, const struct ArrowSchema *schema,
                          const struct ArrowArray *const *batches, int n, bool all) {
  char name[256];
  int rc = 0;
  snprintf(name, sizeof name, "%s.stream", stem);
  rc |= write_one(name, schema, batches, n, ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_NONE);
  if (!all) return rc;
  snprintf(name, sizeof name, "%s.file", stem);
  rc |= write_one(name, schema, batches, n, ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_NONE);
  snprintf(name, sizeof name, "%s.lz4.stream", stem);
  rc |= write_one(name, schema, batches, n, ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_LZ4_FRAME);
  snprintf(name, sizeof name, "%s.zstd.stream", stem);
  rc |= write_one(name, schema, batches, n, ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_ZSTD);
  return rc;
}

/* One stream per column: a record batch of just that column, sharing its buffers. */
static int write_columns(const char *prefix, const struct ArrowSchema *schema,
                         struct ArrowArray *batch) {
  int rc = 0;
  for (int64_t c = 0; c < schema->n_children; c++) {
    struct ArrowSchema one;
    struct zcp_error err = {0};
    if (zcp_schema_init("+s", "", 0, 1, &one, &err) != ZCP_OK) return 1;
    zcp_schema_release(one.children[0]);
    if (zcp_schema_copy(schema->children[c], one.children[0], &err) != ZCP_OK) {
      zcp_schema_release(&one);
      return 1;
    }
    const void *no_validity[1] = {NULL};
    struct ArrowArray *child = batch->children[c];
    struct ArrowArray proj = {batch->length, 0, 0, 1, 1, no_validity, &child, NULL,
                              noop_release, NULL};
    const struct ArrowArray *batches[1] = {&proj};
    char name[256];
    snprintf(name, sizeof name, "%s-col-%s", prefix, schema->children[c]->name);
    rc |= write_variants(name, &one, batches, 1, false);
    zcp_schema_release(&one);
  }
  return rc;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: gen_ipc_corpus <directory>\n");
    return 2;
  }
  dir = argv[1];
  if (corpus_dir_create("gen_ipc_corpus", dir) != 0) return 1;
  struct zcp_error err = {0};
  struct ArrowSchema fx, ex;
  if (zcp_fixture_schema(&fx, &err) != ZCP_OK || zcp_fixture_exotic_schema(&ex, &err) != ZCP_OK) {
    fprintf(stderr, "gen_ipc_corpus: %s\n", err.message);
    return 1;
  }
  int rc = 0;
  rc |= write_variants("fixture-schema-only", &fx, NULL, 0, false);
  rc |= write_variants("exotic-schema-only", &ex, NULL, 0, false);
  const int64_t sizes[] = {0, 1, 5, 20};
  for (int k = 0; k < 4; k++) {
    struct ArrowArray a, b;
    if (zcp_fixture_batch(0, sizes[k], NULL, &a, &err) != ZCP_OK ||
        zcp_fixture_batch(sizes[k], 3, NULL, &b, &err) != ZCP_OK) {
      fprintf(stderr, "gen_ipc_corpus: %s\n", err.message);
      return 1;
    }
    const struct ArrowArray *batches[2] = {&a, &b};
    char stem[64];
    snprintf(stem, sizeof stem, "fixture-%lld-rows", (long long)sizes[k]);
    rc |= write_variants(stem, &fx, batches, 2, true);
    if (sizes[k] == 5) rc |= write_columns("fixture", &fx, &a);
    zcp_array_release(&a);
    zcp_array_release(&b);
    struct ArrowArray e;
    if (zcp_fixture_exotic_batch(sizes[k], NULL, &e, &err) != ZCP_OK) {
      fprintf(stderr, "gen_ipc_corpus: %s\n", err.message);
      return 1;
    }
    const struct ArrowArray *eb[1] = {&e};
    snprintf(stem, sizeof stem, "exotic-%lld-rows", (long long)sizes[k]);
    rc |= write_variants(stem, &ex, eb, 1, true);
    if (sizes[k] == 5) rc |= write_columns("exotic", &ex, &e);
    zcp_array_release(&e);
  }
  rc |= write_dictionary_features();
  zcp_schema_release(&fx);
  zcp_schema_release(&ex);
  printf("gen_ipc_corpus: %d inputs in %s%s\n", written, dir, rc ? " (some failed)" : "");
  return rc;
}
