/* See ipc_interop.h. */
#define _POSIX_C_SOURCE 200809L
#include "ipc_interop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arrow_json.h"

static void noop_release(struct ArrowArray *a) { a->release = NULL; }

static bool wanted(const char *name, const char *const *columns) {
  if (columns == NULL) return true;
  for (int k = 0; columns[k] != NULL; k++) {
    if (strcmp(columns[k], name) == 0) return true;
  }
  return false;
}

zcp_status_t zcp_interop_write(const char *dir, const char *file, enum zcp_ipc_format format,
                               enum zcp_ipc_compression compression,
                               const struct ArrowSchema *schema,
                               const struct ArrowArray *const *batches, int n_batches,
                               const char *const *columns, json_t *expected,
                               struct zcp_error *err) {
  struct zcp_ipc_write_options opts;
  zcp_ipc_write_options_init(&opts);
  opts.compression = compression;
  return zcp_interop_write_opts(dir, file, format, &opts, schema, batches, n_batches, columns,
                                expected, err);
}

zcp_status_t zcp_interop_write_opts(const char *dir, const char *file,
                                    enum zcp_ipc_format format,
                                    const struct zcp_ipc_write_options *opts,
                                    const struct ArrowSchema *schema,
                                    const struct ArrowArray *const *batches, int n_batches,
                                    const char *const *columns, json_t *expected,
                                    struct zcp_error *err) {
  /* The projection: a schema of the chosen children and per batch a struct array that
   * borrows the chosen child arrays. */
  int64_t pick[256], n = 0;
  for (int64_t c = 0; c < schema->n_children && n < 256; c++) {
    if (wanted(schema->children[c]->name, columns)) pick[n++] = c;
  }
  struct ArrowSchema proj;
  ZCP_RETURN_NOT_OK(zcp_schema_init("+s", "", 0, n, &proj, err));
  zcp_status_t st = zcp_schema_set_metadata(&proj, schema->metadata);
  for (int64_t k = 0; k < n && st == ZCP_OK; k++) {
    zcp_schema_release(proj.children[k]);
    st = zcp_schema_copy(schema->children[pick[k]], proj.children[k], err);
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  FILE *f = st == ZCP_OK ? fopen(path, "wb") : NULL;
  if (st == ZCP_OK && f == NULL) st = zcp_error_set(err, ZCP_IO_ERROR, "cannot create %s", path);
  struct zcp_ipc_buffer buf = {0};
  struct zcp_ipc_sink sink = zcp_ipc_sink_buffer(&buf);
  struct zcp_ipc_writer *w = NULL;
  if (st == ZCP_OK) st = zcp_ipc_writer_open(format, &proj, &sink, opts, &w, err);
  json_t *values = NULL;
  int64_t rows = 0;
  for (int b = 0; b < n_batches && st == ZCP_OK; b++) {
    struct ArrowArray *children[256];
    for (int64_t k = 0; k < n; k++) children[k] = batches[b]->children[pick[k]];
    const void *no_validity[1] = {NULL};
    struct ArrowArray one = {batches[b]->length, 0, batches[b]->offset, 1, n, no_validity,
                             children, NULL, noop_release, NULL};
    st = zcp_ipc_writer_write(w, &one, err);
    if (st == ZCP_OK) st = zcp_json_batch_values(&one, &proj, &values, err);
    rows += batches[b]->length;
  }
  if (w != NULL) {
    zcp_status_t cst = zcp_ipc_writer_close(w, st == ZCP_OK ? err : NULL);
    if (st == ZCP_OK) st = cst;
  }
  if (st == ZCP_OK && fwrite(buf.data, 1, (size_t)buf.size, f) != (size_t)buf.size) {
    st = zcp_error_set(err, ZCP_IO_ERROR, "writing %s", path);
  }
  if (f != NULL) fclose(f);
  zcp_ipc_buffer_reset(&buf);
  zcp_schema_release(&proj);
  if (st == ZCP_OK) {
    json_t *files = json_object_get(expected, "files");
    if (files == NULL) json_object_set_new(expected, "files", files = json_object());
    json_t *formats = json_object();
    for (int64_t k = 0; k < n; k++) {
      json_object_set_new(formats, schema->children[pick[k]]->name,
                          json_string(schema->children[pick[k]]->format));
    }
    json_t *spec = json_pack("{s:s, s:I, s:o, s:o}", "format",
                             format == ZCP_IPC_FILE ? "file" : "stream", "rows",
                             (json_int_t)rows, "columns", values ? values : json_object(),
                             "formats", formats);
    if (opts != NULL && opts->dictionary_ids != NULL) {
      /* the ids of dictionary-encoded top-level columns (nested ones are not named) */
      json_t *ids = json_object();
      int64_t k = 0;
      for (int64_t c = 0; c < n && k < opts->n_dictionary_ids; c++) {
        const struct ArrowSchema *col = schema->children[pick[c]];
        if (col->dictionary == NULL) continue;
        json_object_set_new(ids, col->name, json_integer(opts->dictionary_ids[k++]));
      }
      json_object_set_new(spec, "dictionary_ids", ids);
    }
    json_object_set_new(files, file, spec);
  } else {
    json_decref(values);
  }
  return st;
}

zcp_status_t zcp_interop_save(const char *dir, json_t *expected, struct zcp_error *err) {
  char path[4096];
  snprintf(path, sizeof path, "%s/expected.json", dir);
  if (json_dump_file(expected, path, JSON_COMPACT) != 0) {
    return zcp_error_set(err, ZCP_IO_ERROR, "cannot write %s", path);
  }
  return ZCP_OK;
}

zcp_status_t zcp_interop_read(const char *path, bool is_file, json_t **columns,
                              int64_t *rows, int64_t *batches, struct zcp_error *err) {
  struct zcp_ipc_reader *r = NULL;
  int fd = -1;
  *columns = NULL;
  *rows = *batches = 0;
  if (is_file) {
    ZCP_RETURN_NOT_OK(zcp_ipc_file_reader_open_path(path, ZCP_IPC_COPY, NULL, &r, err));
  } else {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return zcp_error_set(err, ZCP_IO_ERROR, "cannot open %s", path);
    fd = dup(fileno(f));
    fclose(f);
    struct zcp_ipc_source src = zcp_ipc_source_fd(&fd);
    zcp_status_t st = zcp_ipc_stream_reader_open(&src, NULL, &r, err);
    if (st != ZCP_OK) {
      close(fd);
      return st;
    }
  }
  const struct ArrowSchema *schema = zcp_ipc_reader_schema(r);
  zcp_status_t st = ZCP_OK;
  for (;;) {
    struct ArrowArray batch;
    st = zcp_ipc_reader_next(r, &batch, err);
    if (st != ZCP_OK || batch.release == NULL) break;
    st = zcp_json_batch_values(&batch, schema, columns, err);
    *rows += batch.length;
    ++*batches;
    zcp_array_release(&batch);
    if (st != ZCP_OK) break;
  }
  if (*columns == NULL) *columns = json_object();
  zcp_ipc_reader_close(r);
  if (fd >= 0) close(fd);
  return st;
}
