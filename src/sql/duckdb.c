/* SQL through DuckDB, loaded at run time. See include/zcpool/sql.h.
 *
 * Only the few DuckDB C API functions we call are declared here (the npm package that
 * ships libduckdb.so has no header). DuckDB's arrow_scan keeps a pointer to the stream
 * struct we register and copies it for every scan, so each registered table owns one
 * long-lived stream whose cursor is rewound before every query. Consequence, documented
 * in the header: one query scans a registered table once (a self-join needs the table
 * registered under a second name). */
#include "common/platform.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zcpool/sql.h"

/* ---- the DuckDB C API subset -------------------------------------------------------- */
typedef uint64_t duck_idx;
typedef struct duck_opaque {
  void *internal_ptr;
} * duck_handle;
typedef struct {
  duck_idx column_count, row_count, rows_changed; /* deprecated fields, never read */
  void *columns;
  char *error_message;
  void *internal_data;
} duck_result;
enum { DUCK_SUCCESS = 0 };

struct duck_api {
  void *lib;
  int (*open)(const char *path, duck_handle *db);
  void (*close)(duck_handle *db);
  int (*connect)(duck_handle db, duck_handle *conn);
  void (*disconnect)(duck_handle *conn);
  int (*query)(duck_handle conn, const char *sql, duck_result *out);
  void (*destroy_result)(duck_result *r);
  const char *(*result_error)(duck_result *r);
  duck_idx (*row_count)(duck_result *r);
  duck_idx (*column_count)(duck_result *r);
  const char *(*column_name)(duck_result *r, duck_idx col);
  bool (*value_is_null)(duck_result *r, duck_idx col, duck_idx row);
  int64_t (*value_int64)(duck_result *r, duck_idx col, duck_idx row);
  double (*value_double)(duck_result *r, duck_idx col, duck_idx row);
  char *(*value_varchar)(duck_result *r, duck_idx col, duck_idx row);
  void (*free)(void *p);
  int (*arrow_scan)(duck_handle conn, const char *name, void *stream);
};

static const char kDisabledOptimizers[] =
    "SET disabled_optimizers = 'filter_pushdown,unused_columns,join_filter_pushdown,"
    "sampling_pushdown,late_materialization,row_group_pruner'";

/* ---- zcp_sql -------------------------------------------------------------------------- */

/* A schema handed to DuckDB: DuckDB's struct borrows the nodes of `copy`. */
struct tracked_schema {
  struct ArrowSchema copy;
  struct zcp_sql *sql;
  struct tracked_schema *next;
};

struct sql_view {
  char *name;
  struct zcp_table *table;
  struct ArrowArrayStream stream; /* DuckDB keeps this address */
  struct zcp_sql *sql;
  int64_t next_batch;
  struct zcp_error error;
  struct sql_view *next;
};

struct zcp_sql {
  struct duck_api api;
  duck_handle db, conn;
  pthread_mutex_t lock; /* DuckDB may call streams from its worker threads */
  struct sql_view *views;
  struct tracked_schema *schemas;
  struct zcp_sql_stats stats;
};

struct zcp_sql_result {
  struct zcp_sql *sql;
  duck_result res;
};

static zcp_status_t load_api(struct duck_api *api, const char *path, struct zcp_error *err) {
  api->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (api->lib == NULL) {
    return zcp_error_set(err, ZCP_NOT_FOUND, "sql: cannot load DuckDB from %s: %s", path,
                         dlerror());
  }
  struct {
    const char *name;
    void **slot;
  } syms[] = {
      {"duckdb_open", (void **)&api->open},
      {"duckdb_close", (void **)&api->close},
      {"duckdb_connect", (void **)&api->connect},
      {"duckdb_disconnect", (void **)&api->disconnect},
      {"duckdb_query", (void **)&api->query},
      {"duckdb_destroy_result", (void **)&api->destroy_result},
      {"duckdb_result_error", (void **)&api->result_error},
      {"duckdb_row_count", (void **)&api->row_count},
      {"duckdb_column_count", (void **)&api->column_count},
      {"duckdb_column_name", (void **)&api->column_name},
      {"duckdb_value_is_null", (void **)&api->value_is_null},
      {"duckdb_value_int64", (void **)&api->value_int64},
      {"duckdb_value_double", (void **)&api->value_double},
      {"duckdb_value_varchar", (void **)&api->value_varchar},
      {"duckdb_free", (void **)&api->free},
      {"duckdb_arrow_scan", (void **)&api->arrow_scan},
  };
  for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
    *syms[i].slot = dlsym(api->lib, syms[i].name);
    if (*syms[i].slot == NULL) {
      zcp_status_t st = zcp_error_set(err, ZCP_NOT_FOUND, "sql: %s has no symbol %s", path,
                                      syms[i].name);
      dlclose(api->lib);
      api->lib = NULL;
      return st;
    }
  }
  return ZCP_OK;
}

zcp_status_t zcp_sql_open(const char *path, struct zcp_sql **out, struct zcp_error *err) {
  if (out == NULL) return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "sql: out is NULL");
  *out = NULL;
  if (path == NULL) path = getenv("ZCP_DUCKDB_LIB");
  if (path == NULL || *path == '\0') {
    return zcp_error_set(err, ZCP_NOT_FOUND,
                         "sql: no DuckDB library given (set ZCP_DUCKDB_LIB to libduckdb.so)");
  }
  struct zcp_sql *sql = calloc(1, sizeof *sql);
  if (sql == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "sql: out of memory");
  zcp_status_t st = load_api(&sql->api, path, err);
  if (st != ZCP_OK) {
    free(sql);
    return st;
  }
  pthread_mutex_init(&sql->lock, NULL);
  if (sql->api.open(NULL, &sql->db) != DUCK_SUCCESS) {
    zcp_sql_close(sql, NULL);
    return zcp_error_set(err, ZCP_IO_ERROR, "sql: duckdb_open failed");
  }
  if (sql->api.connect(sql->db, &sql->conn) != DUCK_SUCCESS) {
    zcp_sql_close(sql, NULL);
    return zcp_error_set(err, ZCP_IO_ERROR, "sql: duckdb_connect failed");
  }
  /* duckdb_arrow_scan registers DuckDB's "arrow_scan", which pushes projections and
   * filters into the producer and trusts it to apply them, but the C API never tells the
   * producer what they are: with those optimizers on, DuckDB reads the wrong columns and
   * unfiltered rows. Keep every pushdown into the scan off for this connection. */
  duck_result res;
  memset(&res, 0, sizeof res);
  int rc = sql->api.query(sql->conn, kDisabledOptimizers, &res);
  sql->api.destroy_result(&res);
  if (rc != DUCK_SUCCESS) {
    zcp_sql_close(sql, NULL);
    return zcp_error_set(err, ZCP_IO_ERROR, "sql: cannot turn off DuckDB scan pushdowns");
  }
  *out = sql;
  return ZCP_OK;
}

void zcp_sql_close(struct zcp_sql *sql, struct zcp_sql_stats *final_stats) {
  if (sql == NULL) return;
  if (sql->conn != NULL) sql->api.disconnect(&sql->conn);
  if (sql->db != NULL) sql->api.close(&sql->db);
  /* DuckDB is gone: nothing can use the views' streams or the schemas any more. */
  for (struct sql_view *v = sql->views, *n; v != NULL; v = n) {
    n = v->next;
    zcp_table_release(v->table);
    free(v->name);
    free(v);
  }
  for (struct tracked_schema *t = sql->schemas, *n; t != NULL; t = n) {
    n = t->next;
    if (t->copy.release != NULL) {
      sql->stats.schemas_reclaimed++;
      zcp_schema_release(&t->copy);
    }
    free(t);
  }
  if (final_stats != NULL) *final_stats = sql->stats;
  if (sql->api.lib != NULL) dlclose(sql->api.lib);
  pthread_mutex_destroy(&sql->lock);
  free(sql);
}

void zcp_sql_stats(const struct zcp_sql *sql, struct zcp_sql_stats *out) { *out = sql->stats; }

/* ---- the stream DuckDB scans ------------------------------------------------------- */

static void tracked_release(struct ArrowSchema *s) {
  struct tracked_schema *t = s->private_data;
  pthread_mutex_lock(&t->sql->lock);
  if (t->copy.release != NULL) {
    zcp_schema_release(&t->copy);
    t->sql->stats.schemas_released++;
  }
  pthread_mutex_unlock(&t->sql->lock);
  s->release = NULL;
}

static int view_get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  struct sql_view *v = s->private_data;
  struct tracked_schema *t = calloc(1, sizeof *t);
  if (t == NULL) return ENOMEM;
  if (zcp_schema_copy(zcp_table_schema(v->table), &t->copy, &v->error) != ZCP_OK) {
    free(t);
    return ENOMEM;
  }
  t->sql = v->sql;
  *out = t->copy; /* borrows the nodes; the root's release is ours */
  out->release = tracked_release;
  out->private_data = t;
  pthread_mutex_lock(&v->sql->lock);
  t->next = v->sql->schemas;
  v->sql->schemas = t;
  v->sql->stats.schemas_exported++;
  pthread_mutex_unlock(&v->sql->lock);
  return 0;
}

static int view_get_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  struct sql_view *v = s->private_data;
  pthread_mutex_lock(&v->sql->lock);
  int64_t i = v->next_batch;
  if (i < zcp_table_num_batches(v->table)) v->next_batch++;
  pthread_mutex_unlock(&v->sql->lock);
  if (i >= zcp_table_num_batches(v->table)) {
    memset(out, 0, sizeof *out);
    return 0;
  }
  return zcp_table_export_batch(v->table, i, out, NULL, &v->error) == ZCP_OK ? 0 : ENOMEM;
}

static const char *view_get_last_error(struct ArrowArrayStream *s) {
  struct sql_view *v = s->private_data;
  return v->error.code == ZCP_OK ? NULL : v->error.message;
}

/* DuckDB never releases the registered stream; zcp_sql_close frees it. */
static void view_release(struct ArrowArrayStream *s) { s->release = NULL; }

zcp_status_t zcp_sql_register(struct zcp_sql *sql, const char *name, struct zcp_table *table,
                              struct zcp_error *err) {
  if (sql == NULL || name == NULL || table == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "sql: NULL argument to register");
  }
  struct sql_view *v = calloc(1, sizeof *v);
  char *copy = strdup(name);
  if (v == NULL || copy == NULL) {
    free(v);
    free(copy);
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "sql: out of memory");
  }
  v->name = copy;
  v->sql = sql;
  zcp_table_retain(table);
  v->table = table;
  v->stream.get_schema = view_get_schema;
  v->stream.get_next = view_get_next;
  v->stream.get_last_error = view_get_last_error;
  v->stream.release = view_release;
  v->stream.private_data = v;
  if (sql->api.arrow_scan(sql->conn, name, &v->stream) != DUCK_SUCCESS) {
    zcp_table_release(table);
    free(copy);
    free(v);
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "sql: DuckDB refused table '%s' (unsupported type?)", name);
  }
  v->next = sql->views;
  sql->views = v;
  return ZCP_OK;
}

/* ---- queries ------------------------------------------------------------------------- */

zcp_status_t zcp_sql_query(struct zcp_sql *sql, const char *query, struct zcp_sql_result **out,
                           struct zcp_error *err) {
  if (out != NULL) *out = NULL;
  if (sql == NULL || query == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "sql: NULL query");
  }
  struct zcp_sql_result *r = calloc(1, sizeof *r);
  if (r == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "sql: out of memory");
  r->sql = sql;
  pthread_mutex_lock(&sql->lock);
  for (struct sql_view *v = sql->views; v != NULL; v = v->next) v->next_batch = 0;
  pthread_mutex_unlock(&sql->lock);
  if (sql->api.query(sql->conn, query, &r->res) != DUCK_SUCCESS) {
    const char *msg = sql->api.result_error(&r->res);
    zcp_status_t st = zcp_error_set(err, ZCP_INVALID_ARGUMENT, "sql: %s",
                                    msg != NULL ? msg : "query failed");
    sql->api.destroy_result(&r->res);
    free(r);
    return st;
  }
  if (out != NULL) {
    *out = r;
  } else {
    zcp_sql_result_free(r);
  }
  return ZCP_OK;
}

int64_t zcp_sql_result_rows(const struct zcp_sql_result *r) {
  return (int64_t)r->sql->api.row_count((duck_result *)&r->res);
}

int64_t zcp_sql_result_columns(const struct zcp_sql_result *r) {
  return (int64_t)r->sql->api.column_count((duck_result *)&r->res);
}

const char *zcp_sql_result_column_name(const struct zcp_sql_result *r, int64_t col) {
  return r->sql->api.column_name((duck_result *)&r->res, (duck_idx)col);
}

bool zcp_sql_result_is_null(const struct zcp_sql_result *r, int64_t row, int64_t col) {
  return r->sql->api.value_is_null((duck_result *)&r->res, (duck_idx)col, (duck_idx)row);
}

int64_t zcp_sql_result_int(const struct zcp_sql_result *r, int64_t row, int64_t col) {
  return r->sql->api.value_int64((duck_result *)&r->res, (duck_idx)col, (duck_idx)row);
}

double zcp_sql_result_double(const struct zcp_sql_result *r, int64_t row, int64_t col) {
  return r->sql->api.value_double((duck_result *)&r->res, (duck_idx)col, (duck_idx)row);
}

char *zcp_sql_result_text(const struct zcp_sql_result *r, int64_t row, int64_t col, char *buf,
                          size_t cap) {
  if (cap == 0) return buf;
  char *v = r->sql->api.value_varchar((duck_result *)&r->res, (duck_idx)col, (duck_idx)row);
  if (v == NULL) {
    snprintf(buf, cap, "NULL");
    return buf;
  }
  snprintf(buf, cap, "%s", v);
  r->sql->api.free(v);
  return buf;
}

void zcp_sql_result_free(struct zcp_sql_result *r) {
  if (r == NULL) return;
  r->sql->api.destroy_result(&r->res);
  free(r);
}
