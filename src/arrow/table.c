/* Tables: a schema plus an ordered list of record batches, and their export as an Arrow
 * C stream. Exports never copy data: every exported batch is a structural copy of the
 * table's batch that borrows its buffers and holds a reference on the table, so a
 * consumer may keep batches after releasing the stream (and the caller may release the
 * table right after exporting it).
 *
 * A table is not synchronised: append from one thread, and only before sharing it. The
 * reference count is atomic because exported batches may be released on any thread. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/internal.h"
#include "common/util.h"

struct zcp_table {
  atomic_int refs;
  struct ArrowSchema schema;
  int64_t n_columns;
  int64_t n_batches, cap_batches;
  struct ArrowArray **batches;        /* heap nodes so that pointers stay stable */
  const struct ArrowArray ***columns; /* columns[c][b] = batches[b]->children[c] */
  int64_t n_rows;
};

static void table_ref(struct zcp_table *t) { atomic_fetch_add(&t->refs, 1); }

static void table_unref(void *ctx) {
  struct zcp_table *t = ctx;
  if (t == NULL || atomic_fetch_sub(&t->refs, 1) != 1) return;
  for (int64_t b = 0; b < t->n_batches; b++) {
    zcp_array_release(t->batches[b]);
    free(t->batches[b]);
  }
  free(t->batches);
  if (t->columns != NULL) {
    for (int64_t c = 0; c < t->n_columns; c++) free(t->columns[c]);
    free(t->columns);
  }
  zcp_schema_release(&t->schema);
  free(t);
}

zcp_status_t zcp_table_init(const struct ArrowSchema *schema, struct zcp_table **out,
                            struct zcp_error *err) {
  if (out == NULL || schema == NULL || schema->release == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "table: schema is NULL or released");
  }
  *out = NULL;
  if (schema->format == NULL || strcmp(schema->format, "+s") != 0) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "table: schema must be a struct (\"+s\"), found \"%s\"",
                         schema->format ? schema->format : "(null)");
  }
  ZCP_RETURN_NOT_OK(zcp_schema_validate(schema, err));
  struct zcp_table *t = calloc(1, sizeof *t);
  if (t == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "table: out of memory");
  atomic_init(&t->refs, 1);
  zcp_status_t st = zcp_schema_copy(schema, &t->schema, err);
  if (st != ZCP_OK) {
    free(t);
    return st;
  }
  t->n_columns = schema->n_children;
  t->columns = calloc((size_t)(t->n_columns ? t->n_columns : 1), sizeof *t->columns);
  if (t->columns == NULL) {
    table_unref(t);
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "table: out of memory");
  }
  *out = t;
  return ZCP_OK;
}

void zcp_table_retain(struct zcp_table *t) { table_ref(t); }
void zcp_table_release(struct zcp_table *t) { table_unref(t); }

/* Grows the batch list and every column's chunk list to hold one more batch. */
static zcp_status_t reserve_batch(struct zcp_table *t) {
  if (t->n_batches < t->cap_batches) return ZCP_OK;
  int64_t cap = t->cap_batches ? t->cap_batches * 2 : 8;
  struct ArrowArray **b = realloc(t->batches, (size_t)cap * sizeof *b);
  if (b == NULL) return ZCP_OUT_OF_MEMORY;
  t->batches = b;
  for (int64_t c = 0; c < t->n_columns; c++) {
    const struct ArrowArray **col = realloc(t->columns[c], (size_t)cap * sizeof *col);
    if (col == NULL) return ZCP_OUT_OF_MEMORY;
    t->columns[c] = col;
  }
  t->cap_batches = cap;
  return ZCP_OK;
}

zcp_status_t zcp_table_append(struct zcp_table *t, struct ArrowArray *batch,
                              enum zcp_validate_level level, struct zcp_error *err) {
  if (t == NULL || batch == NULL || batch->release == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "table: batch is NULL or released");
  }
  if (batch->n_children != t->n_columns) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "table: batch has %lld columns, schema has %lld",
                         (long long)batch->n_children, (long long)t->n_columns);
  }
  zcp_status_t st = zcp_array_validate(batch, &t->schema, level, err);
  if (st != ZCP_OK) return zcp_error_prefix(err, st, "table: batch %lld: ",
                                            (long long)t->n_batches);
  int64_t rows;
  if (!zcp__add_i64(t->n_rows, batch->length, &rows)) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "table: row count overflows");
  }
  if (reserve_batch(t) != ZCP_OK) {
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "table: out of memory");
  }
  struct ArrowArray *node = malloc(sizeof *node);
  if (node == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "table: out of memory");
  zcp_array_move(batch, node);
  t->batches[t->n_batches] = node;
  for (int64_t c = 0; c < t->n_columns; c++) t->columns[c][t->n_batches] = node->children[c];
  t->n_batches++;
  t->n_rows = rows;
  return ZCP_OK;
}

const struct ArrowSchema *zcp_table_schema(const struct zcp_table *t) { return &t->schema; }
int64_t zcp_table_num_rows(const struct zcp_table *t) { return t->n_rows; }
int64_t zcp_table_num_columns(const struct zcp_table *t) { return t->n_columns; }
int64_t zcp_table_num_batches(const struct zcp_table *t) { return t->n_batches; }

const struct ArrowArray *zcp_table_batch(const struct zcp_table *t, int64_t i) {
  return (i >= 0 && i < t->n_batches) ? t->batches[i] : NULL;
}

zcp_status_t zcp_table_column(const struct zcp_table *t, int64_t i,
                              struct zcp_chunked_column *out, struct zcp_error *err) {
  if (t == NULL || out == NULL) return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "table: NULL");
  if (i < 0 || i >= t->n_columns) {
    return zcp_error_set(err, ZCP_NOT_FOUND, "table: no column %lld (table has %lld)",
                         (long long)i, (long long)t->n_columns);
  }
  out->schema = t->schema.children[i];
  out->length = t->n_rows;
  out->n_chunks = t->n_batches;
  out->chunks = t->columns[i];
  return ZCP_OK;
}

zcp_status_t zcp_table_export_batch(struct zcp_table *t, int64_t i, struct ArrowArray *out,
                                    struct ArrowSchema *out_schema, struct zcp_error *err) {
  if (t == NULL || out == NULL) return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "table: NULL");
  if (i < 0 || i >= t->n_batches) {
    return zcp_error_set(err, ZCP_NOT_FOUND, "table: no batch %lld (table has %lld)",
                         (long long)i, (long long)t->n_batches);
  }
  if (out_schema != NULL) ZCP_RETURN_NOT_OK(zcp_schema_copy(&t->schema, out_schema, err));
  table_ref(t);
  zcp_status_t st = zcp__array_share(t->batches[i], out, table_unref, t);
  if (st != ZCP_OK) {
    atomic_fetch_sub(&t->refs, 1); /* the caller still holds its own reference */
    if (out_schema != NULL) zcp_schema_release(out_schema);
    return zcp_error_set(err, st, "table: cannot export batch %lld", (long long)i);
  }
  return ZCP_OK;
}

/* ---- C stream export ---------------------------------------------------------------- */

struct table_stream {
  struct zcp_table *table;
  int64_t next;
  struct zcp_error error;
};

static int stream_get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  struct table_stream *ts = s->private_data;
  zcp_status_t st = zcp_schema_copy(&ts->table->schema, out, &ts->error);
  return st == ZCP_OK ? 0 : ENOMEM;
}

static int stream_get_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  struct table_stream *ts = s->private_data;
  if (ts->next >= ts->table->n_batches) {
    memset(out, 0, sizeof *out); /* end of stream: a released array */
    return 0;
  }
  zcp_status_t st = zcp_table_export_batch(ts->table, ts->next, out, NULL, &ts->error);
  if (st != ZCP_OK) return st == ZCP_OUT_OF_MEMORY ? ENOMEM : EINVAL;
  ts->next++;
  return 0;
}

static const char *stream_get_last_error(struct ArrowArrayStream *s) {
  struct table_stream *ts = s->private_data;
  return ts->error.code == ZCP_OK ? NULL : ts->error.message;
}

static void stream_release(struct ArrowArrayStream *s) {
  if (s->release == NULL) return;
  struct table_stream *ts = s->private_data;
  table_unref(ts->table);
  free(ts);
  s->release = NULL;
  s->private_data = NULL;
}

zcp_status_t zcp_table_export_stream(struct zcp_table *t, struct ArrowArrayStream *out,
                                     struct zcp_error *err) {
  if (t == NULL || out == NULL) return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "table: NULL");
  struct table_stream *ts = calloc(1, sizeof *ts);
  if (ts == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "table: out of memory");
  table_ref(t);
  ts->table = t;
  out->get_schema = stream_get_schema;
  out->get_next = stream_get_next;
  out->get_last_error = stream_get_last_error;
  out->release = stream_release;
  out->private_data = ts;
  return ZCP_OK;
}

/* ---- C stream import ---------------------------------------------------------------- */

static zcp_status_t stream_failed(struct ArrowArrayStream *s, int code, const char *what,
                                  struct zcp_error *err) {
  const char *msg = s->get_last_error != NULL ? s->get_last_error(s) : NULL;
  return zcp_error_set(err, code == ENOMEM ? ZCP_OUT_OF_MEMORY : ZCP_IO_ERROR,
                       "stream: %s failed (%s): %s", what, strerror(code),
                       msg != NULL ? msg : "no message");
}

zcp_status_t zcp_table_import_stream(struct ArrowArrayStream *stream,
                                     enum zcp_validate_level level, struct zcp_table **out,
                                     struct zcp_error *err) {
  if (stream == NULL || stream->release == NULL || out == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "stream: NULL or released");
  }
  *out = NULL;
  struct ArrowSchema schema;
  memset(&schema, 0, sizeof schema);
  struct zcp_table *t = NULL;
  zcp_status_t st;
  int rc = stream->get_schema(stream, &schema);
  if (rc != 0) {
    st = stream_failed(stream, rc, "get_schema", err);
    goto done;
  }
  st = zcp_table_init(&schema, &t, err);
  zcp_schema_release(&schema);
  if (st != ZCP_OK) goto done;
  for (;;) {
    struct ArrowArray batch;
    memset(&batch, 0, sizeof batch);
    rc = stream->get_next(stream, &batch);
    if (rc != 0) {
      st = stream_failed(stream, rc, "get_next", err);
      break;
    }
    if (batch.release == NULL) break;
    st = zcp_table_append(t, &batch, level, err);
    if (st != ZCP_OK) {
      zcp_array_release(&batch);
      break;
    }
  }
done:
  zcp_stream_release(stream);
  if (st != ZCP_OK) {
    zcp_table_release(t);
    return st;
  }
  *out = t;
  return ZCP_OK;
}
