/* zcpool — SQL over Arrow tables in place, through DuckDB.
 *
 * DuckDB is loaded at run time (dlopen) from a libduckdb.so the caller names, so that
 * libzcpool neither links against it nor needs its headers. Tables are handed to DuckDB
 * through the Arrow C Stream Interface: DuckDB reads the buffers where they are, no copy.
 *
 * DuckDB's C API keeps every ArrowSchema it asks a registered stream for and releases
 * some of them never (duckdb_arrow_scan and its bind step drop their release callbacks).
 * zcp_sql therefore hands out schemas it tracks itself: what DuckDB releases is counted,
 * what it keeps is reclaimed at zcp_sql_close, after DuckDB is closed. Arrays are not
 * affected: DuckDB releases every batch it reads.
 *
 * DuckDB's C API scan also expects the stream to apply the projections and filters the
 * optimizer pushes into it without ever passing them on; zcp_sql therefore turns those
 * optimizers off for its connection (`SET disabled_optimizers`): do not change that
 * setting through zcp_sql_query. */
#ifndef ZCPOOL_SQL_H
#define ZCPOOL_SQL_H

#include <stdint.h>

#include "zcpool/arrow.h"

#ifdef __cplusplus
extern "C" {
#endif

struct zcp_sql;
struct zcp_sql_result;

/* Loads DuckDB from libduckdb_path (NULL: the ZCP_DUCKDB_LIB environment variable) and
 * opens an in-memory database with one connection. ZCP_NOT_FOUND when the library cannot
 * be loaded or lacks a symbol, with the reason. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_sql_open(const char *libduckdb_path,
                                           struct zcp_sql **out, struct zcp_error *err);
/* Closes DuckDB, then releases every table reference and every schema DuckDB kept.
 * final_stats (may be NULL) receives the accounting of the whole session. */
struct zcp_sql_stats;
ZCP_API void zcp_sql_close(struct zcp_sql *sql, struct zcp_sql_stats *final_stats);

/* Makes table visible to SQL as `name` (a view that scans it in place). The table gets an
 * extra reference held until close. Re-registering a name replaces it. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_sql_register(struct zcp_sql *sql,
                                                       const char *name,
                                                       struct zcp_table *table,
                                                       struct zcp_error *err);

/* Runs one SQL statement; *out (when non-NULL) receives the materialised result, to be
 * freed with zcp_sql_result_free. Errors carry DuckDB's message. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_sql_query(struct zcp_sql *sql,
                                                    const char *query,
                                                    struct zcp_sql_result **out,
                                                    struct zcp_error *err);

ZCP_API int64_t zcp_sql_result_rows(const struct zcp_sql_result *r);
ZCP_API int64_t zcp_sql_result_columns(const struct zcp_sql_result *r);
/* Column name (owned by the result). */
ZCP_API const char *zcp_sql_result_column_name(const struct zcp_sql_result *r,
                                               int64_t col);
ZCP_API bool zcp_sql_result_is_null(const struct zcp_sql_result *r, int64_t row,
                                    int64_t col);
ZCP_API int64_t zcp_sql_result_int(const struct zcp_sql_result *r, int64_t row,
                                   int64_t col);
ZCP_API double zcp_sql_result_double(const struct zcp_sql_result *r, int64_t row,
                                     int64_t col);
/* Value as text, into buf (NUL-terminated, truncated to cap); returns buf. */
ZCP_API char *zcp_sql_result_text(const struct zcp_sql_result *r, int64_t row,
                                  int64_t col, char *buf, size_t cap);
ZCP_API void zcp_sql_result_free(struct zcp_sql_result *r);

/* Schema accounting since open: how many schemas DuckDB asked for, how many it released
 * itself, and (after close) how many zcp_sql reclaimed for it. */
struct zcp_sql_stats {
  int64_t schemas_exported;
  int64_t schemas_released;
  int64_t schemas_reclaimed;
};
ZCP_API void zcp_sql_stats(const struct zcp_sql *sql, struct zcp_sql_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* ZCPOOL_SQL_H */
