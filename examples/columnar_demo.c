/* The columnar core end to end, as a user sees it: build a table of sensor readings with
 * the builders, validate it, print its schema and first rows, hand it to DuckDB through
 * the Arrow C Stream Interface (no copy) and print what SQL says about it.
 *
 *   columnar_demo [rows]        (DuckDB from $ZCP_DUCKDB_LIB or the interop packages)
 *
 * `make demo-columnar` runs it; the main job (`make demo`) is examples/cluster_demo.c. */
#define _GNU_SOURCE 1
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "zcpool/zcpool.h"

#define DEFAULT_DUCKDB "tests/interop/node_modules/@duckdb/node-bindings-linux-x64/libduckdb.so"

static const char *kSensors[] = {"boiler", "chiller", "pump-1", "pump-2", "valve"};

static void die(const char *what, const struct zcp_error *err) {
  fprintf(stderr, "columnar_demo: %s: %s\n", what, err->message);
  exit(1);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* id int64 not null, sensor dictionary<utf8>, at timestamp[ms, UTC], reading double,
 * tags list<utf8>, ok bool */
static void make_schema(struct ArrowSchema *s, struct zcp_error *err) {
  struct {
    const char *format, *name;
    int64_t flags, children;
  } cols[] = {{"l", "id", 0, 0},
              {"i", "sensor", ARROW_FLAG_NULLABLE, 0},
              {"tsm:UTC", "recorded", 0, 0},
              {"g", "reading", ARROW_FLAG_NULLABLE, 0},
              {"+l", "tags", ARROW_FLAG_NULLABLE, 1},
              {"b", "ok", ARROW_FLAG_NULLABLE, 0}};
  if (zcp_schema_init("+s", "", 0, 6, s, err) != ZCP_OK) die("schema", err);
  for (int c = 0; c < 6; c++) {
    if (zcp_schema_set_child(s, c, cols[c].format, cols[c].name, cols[c].flags,
                             cols[c].children, err) != ZCP_OK) {
      die("schema", err);
    }
  }
  if (zcp_schema_set_child(s->children[4], 0, "u", "item", ARROW_FLAG_NULLABLE, 0, err) !=
          ZCP_OK ||
      zcp_schema_alloc_dictionary(s->children[1]) != ZCP_OK ||
      zcp_schema_init("u", "", 0, 0, s->children[1]->dictionary, err) != ZCP_OK) {
    die("schema", err);
  }
}

static zcp_status_t append_row(struct zcp_builder *b, int64_t id) {
  ZCP_RETURN_NOT_OK(zcp_builder_append_int(zcp_builder_child(b, 0), id));
  struct zcp_builder *sensor = zcp_builder_child(b, 1);
  ZCP_RETURN_NOT_OK(id % 17 == 5 ? zcp_builder_append_null(sensor, 1)
                                 : zcp_builder_append_int(sensor, id % 5));
  ZCP_RETURN_NOT_OK(
      zcp_builder_append_int(zcp_builder_child(b, 2), 1767225600000LL + id * 1000));
  struct zcp_builder *reading = zcp_builder_child(b, 3);
  ZCP_RETURN_NOT_OK(id % 11 == 7
                        ? zcp_builder_append_null(reading, 1)
                        : zcp_builder_append_double(reading, 20.0 + (double)(id % 100) * 0.1));
  struct zcp_builder *tags = zcp_builder_child(b, 4);
  struct zcp_builder *tag = zcp_builder_child(tags, 0);
  if (id % 3 == 0) ZCP_RETURN_NOT_OK(zcp_builder_append_string(tag, "calibrated"));
  if (id % 4 == 0) ZCP_RETURN_NOT_OK(zcp_builder_append_string(tag, "night"));
  ZCP_RETURN_NOT_OK(zcp_builder_finish_element(tags));
  ZCP_RETURN_NOT_OK(zcp_builder_append_int(zcp_builder_child(b, 5), id % 13 != 0));
  return zcp_builder_finish_element(b);
}

static void print_result(struct zcp_sql_result *r) {
  char cell[64];
  for (int64_t c = 0; c < zcp_sql_result_columns(r); c++) {
    printf("%-14s", zcp_sql_result_column_name(r, c));
  }
  printf("\n");
  for (int64_t row = 0; row < zcp_sql_result_rows(r); row++) {
    for (int64_t c = 0; c < zcp_sql_result_columns(r); c++) {
      printf("%-14s", zcp_sql_result_text(r, row, c, cell, sizeof cell));
    }
    printf("\n");
  }
}

int main(int argc, char **argv) {
  int64_t rows = argc > 1 ? strtoll(argv[1], NULL, 10) : 1000000;
  if (rows <= 0) {
    fprintf(stderr, "usage: columnar_demo [rows > 0]\n");
    return 2;
  }
  const int64_t batch_rows = 1 << 16;
  struct zcp_error err = {0};
  struct ArrowSchema schema;
  make_schema(&schema, &err);

  double t0 = now_s();
  struct zcp_table *table;
  struct zcp_builder *b;
  if (zcp_table_init(&schema, &table, &err) != ZCP_OK) die("table", &err);
  if (zcp_builder_init(&schema, NULL, &b, &err) != ZCP_OK) die("builder", &err);
  zcp_schema_release(&schema);
  struct zcp_builder *dict = zcp_builder_dictionary(zcp_builder_child(b, 1));
  for (int64_t first = 0; first < rows; first += batch_rows) {
    for (int k = 0; k < 5; k++) {
      if (zcp_builder_append_string(dict, kSensors[k]) != ZCP_OK) die("dictionary", &err);
    }
    for (int64_t id = first; id < rows && id < first + batch_rows; id++) {
      if (append_row(b, id) != ZCP_OK) die("append", &err);
    }
    struct ArrowArray batch;
    if (zcp_builder_finish(b, &batch, NULL, &err) != ZCP_OK) die("finish", &err);
    if (zcp_table_append(table, &batch, ZCP_VALIDATE_FULL, &err) != ZCP_OK) {
      die("validate", &err);
    }
  }
  zcp_builder_release(b);
  double t1 = now_s();
  printf("built and fully validated %" PRId64 " rows in %" PRId64 " batches: %.3f s\n\n",
         zcp_table_num_rows(table), zcp_table_num_batches(table), t1 - t0);

  printf("schema:\n");
  if (zcp_schema_print(stdout, zcp_table_schema(table), &err) != ZCP_OK) die("print", &err);
  printf("\nfirst rows:\n");
  if (zcp_batch_print(stdout, zcp_table_batch(table, 0), zcp_table_schema(table), 8,
                      &err) != ZCP_OK) {
    die("print", &err);
  }

  const char *lib = getenv("ZCP_DUCKDB_LIB");
  if (lib == NULL && access(DEFAULT_DUCKDB, R_OK) == 0) lib = DEFAULT_DUCKDB;
  struct zcp_sql *sql = NULL;
  if (lib == NULL || zcp_sql_open(lib, &sql, &err) != ZCP_OK) {
    printf("\nDuckDB not available (%s); run scripts/setup.sh for the SQL part\n",
           lib == NULL ? "no libduckdb.so" : err.message);
  } else {
    if (zcp_sql_register(sql, "readings", table, &err) != ZCP_OK) die("register", &err);
    const char *q =
        "SELECT sensor, count(*) AS n, round(avg(reading), 3) AS avg_reading, "
        "count(*) FILTER (WHERE list_contains(tags, 'night')) AS night, "
        "max(recorded)::VARCHAR AS last_seen FROM readings GROUP BY sensor ORDER BY sensor NULLS LAST";
    printf("\nDuckDB, reading the table in place:\n  %s\n\n", q);
    double t2 = now_s();
    struct zcp_sql_result *r;
    if (zcp_sql_query(sql, q, &r, &err) != ZCP_OK) die("query", &err);
    double t3 = now_s();
    print_result(r);
    printf("\nquery time: %.3f s\n", t3 - t2);
    zcp_sql_result_free(r);
    zcp_sql_close(sql, NULL);
  }
  zcp_table_release(table);
  if (zcp_allocator_default_live_bytes() != 0) {
    fprintf(stderr, "columnar_demo: %" PRId64 " bytes still allocated\n",
            zcp_allocator_default_live_bytes());
    return 1;
  }
  return 0;
}
