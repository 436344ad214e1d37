/* Arrow's integration JSON format (the ".json.gz" files next to the IPC gold files):
 * a schema with fields, types, children and dictionary encodings, record batches given
 * column by column (count, VALIDITY, DATA, OFFSET, SIZE, TYPE_ID, VIEWS,
 * VARIADIC_DATA_BUFFERS, children) and dictionary batches.
 *
 * The tests use it as the truth an IPC reader is held against: every value of a batch
 * read from the matching .stream / .arrow_file is compared with the JSON through the
 * zcp_array_view getters. It can also build the batches itself with our builders, which
 * is how the comparison is tested without any IPC code. Values compare logically (list
 * offsets may be rebased, runs split) except dictionary indices, which must be equal. */
#ifndef ZCP_ARROW_JSON_H
#define ZCP_ARROW_JSON_H

#include <stdint.h>

#include "zcpool/arrow.h"

struct zcp_json_file;

/* The gold files' folder: $ZCP_ARROW_TESTING, else <source>/../shared/arrow-testing; NULL
 * when it does not exist. */
const char *zcp_json_gold_dir(void);
/* Names of the gold cases (file names of the .json.gz without the extension), sorted,
 * into a malloc'd array of malloc'd strings; returns the count (-1 if unreadable). */
int zcp_json_gold_cases(char ***names);
void zcp_json_gold_cases_free(char **names, int n);

/* Loads a gzip-compressed (or plain) integration JSON file. */
zcp_status_t zcp_json_file_load(const char *path, struct zcp_json_file **out,
                                struct zcp_error *err);
void zcp_json_file_free(struct zcp_json_file *f);

int64_t zcp_json_file_num_batches(const struct zcp_json_file *f);
/* Rows of batch i. */
int64_t zcp_json_file_batch_rows(const struct zcp_json_file *f, int64_t i);

/* The schema the JSON describes, as a "+s" record batch schema. */
zcp_status_t zcp_json_file_schema(const struct zcp_json_file *f, struct ArrowSchema *out,
                                  struct zcp_error *err);

/* Compares a schema with the JSON one: names, nullability, types (compared parsed, so
 * "d:5,2" equals "d:5,2,128"), dictionary index types and ordering, map key sorting and
 * every metadata pair. root_metadata stands for the top-level metadata (which an IPC
 * reader may report apart from the schema). ZCP_CORRUPT_INPUT naming the field when they
 * differ. */
zcp_status_t zcp_json_compare_schema(const struct zcp_json_file *f,
                                     const struct ArrowSchema *schema,
                                     const char *root_metadata, struct zcp_error *err);

/* Compares every value of a record batch with batch i of the JSON. ZCP_CORRUPT_INPUT with
 * the column path, row, expected and actual value at the first difference. */
zcp_status_t zcp_json_compare_batch(const struct zcp_json_file *f, int64_t i,
                                    const struct ArrowArray *batch,
                                    const struct ArrowSchema *schema, struct zcp_error *err);

/* Builds batch i with our builders (every value as in the JSON; runs of run-end encoded
 * columns are one row each). */
zcp_status_t zcp_json_build_batch(const struct zcp_json_file *f, int64_t i,
                                  struct ArrowArray *out, struct zcp_error *err);

/* ---- canonical values, for comparing with other libraries ----------------------- */
#include <jansson.h>
/* Element i of a view as plain JSON, the form the interop scripts produce from what
 * Arrow JS / Polars read: null; bool; integers of every width, dates, times, timestamps,
 * durations and interval months as decimal strings; floats as numbers; decimals as their
 * unscaled integer string; strings as strings; binary of every kind as lowercase hex;
 * day-time intervals as [days, ms] and month-day-nano as [months, days, ns] (strings);
 * lists of every kind as arrays; maps as arrays of [key, value]; structs as objects;
 * unions, dictionaries and run-end encoded as the value they select. New reference. */
json_t *zcp_json_value(const struct zcp_array_view *v, int64_t i);
/* Every column of a record batch: {"name": [values...], ...} appended to *columns (an
 * object, created when NULL). */
zcp_status_t zcp_json_batch_values(const struct ArrowArray *batch,
                                   const struct ArrowSchema *schema, json_t **columns,
                                   struct zcp_error *err);
/* Deep equality where numbers compare by value (1 equals 1.0). On a difference, writes
 * its path into where (may be NULL). */
bool zcp_json_same(json_t *a, json_t *b, char *where, size_t cap);

/* ---- shared between arrow_json.c and arrow_json_build.c ---------------------------- */
#include <jansson.h>
#include <stdbool.h>
struct zcp_json_file {
  json_t *root;
  json_t *fields;       /* schema.fields */
  json_t *metadata;     /* schema.metadata or NULL */
  json_t *batches;      /* array */
  json_t *dictionaries; /* array or NULL */
};
/* The column of dictionary `id`, or NULL. */
json_t *zcp__json_dictionary(const struct zcp_json_file *f, int64_t id);
/* A copy of field without its "dictionary" member: the dictionary values' field. */
json_t *zcp__json_values_field(json_t *field);
/* Element j of an array member as an integer (JSON number or decimal string). */
bool zcp__json_int(json_t *col, const char *member, int64_t j, int64_t *out);
bool zcp__json_uint(json_t *col, const char *member, int64_t j, uint64_t *out);
bool zcp__json_valid(json_t *col, int64_t j);
/* Hex text to bytes; returns the byte count or -1. */
int64_t zcp__json_hex(const char *hex, uint8_t *out, int64_t cap);
/* Decimal text to `width` little-endian two's-complement bytes. */
bool zcp__json_decimal(const char *text, uint8_t *out, int width);
/* Expected bytes of element j of a binary/string/fixed-size/view column into *out
 * (malloc'd, free it); returns the size or -1. */
int64_t zcp__json_bytes(json_t *col, int64_t j, bool is_text, uint8_t **out);

#endif
