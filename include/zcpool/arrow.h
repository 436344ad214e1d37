/* zcpool — the Arrow columnar core.
 *
 * The Arrow C Data and C Stream Interface structs (ABI-compatible with every other Arrow
 * implementation), format strings for every Arrow type, an allocator interface, builders
 * that place every data buffer through that allocator, read-only array views, full
 * validation, record batches / tables and their export as an ArrowArrayStream, and a
 * printer.
 *
 * Ownership follows the C Data Interface exactly: whoever holds a struct with a non-NULL
 * release callback owns it and must call release once; zcp_*_move() transfers ownership and
 * leaves a released (release == NULL) struct behind.
 *
 * Data buffers (validity, offsets, values, views, variadic data) always come from the
 * struct zcp_allocator given to the builder; the small struct trees and bookkeeping
 * (ArrowArray/ArrowSchema nodes, names, private data) come from the process heap, because
 * they are private to the process that holds them and never shared. */
#ifndef ZCPOOL_ARROW_H
#define ZCPOOL_ARROW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "zcpool/allocator.h"
#include "zcpool/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------
 * Arrow C Data Interface and C Stream Interface (ABI, from the Arrow specification).
 * Guarded as the specification asks so that this header coexists with other Arrow headers.
 * ------------------------------------------------------------------------------------- */
#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
  const char *format;
  const char *name;
  const char *metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema **children;
  struct ArrowSchema *dictionary;
  void (*release)(struct ArrowSchema *);
  void *private_data;
};

struct ArrowArray {
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void **buffers;
  struct ArrowArray **children;
  struct ArrowArray *dictionary;
  void (*release)(struct ArrowArray *);
  void *private_data;
};
#endif /* ARROW_C_DATA_INTERFACE */

#ifndef ARROW_C_STREAM_INTERFACE
#define ARROW_C_STREAM_INTERFACE
struct ArrowArrayStream {
  int (*get_schema)(struct ArrowArrayStream *, struct ArrowSchema *out);
  int (*get_next)(struct ArrowArrayStream *, struct ArrowArray *out);
  const char *(*get_last_error)(struct ArrowArrayStream *);
  void (*release)(struct ArrowArrayStream *);
  void *private_data;
};
#endif /* ARROW_C_STREAM_INTERFACE */

/* Moves: dst takes ownership, src is left released. dst must not hold a live struct. */
ZCP_API void zcp_schema_move(struct ArrowSchema *src, struct ArrowSchema *dst);
ZCP_API void zcp_array_move(struct ArrowArray *src, struct ArrowArray *dst);
ZCP_API void zcp_stream_move(struct ArrowArrayStream *src, struct ArrowArrayStream *dst);

/* Release if live (release != NULL); NULL and already released structs are fine. */
ZCP_API void zcp_schema_release(struct ArrowSchema *schema);
ZCP_API void zcp_array_release(struct ArrowArray *array);
ZCP_API void zcp_stream_release(struct ArrowArrayStream *stream);

/* ---------------------------------------------------------------------------------------
 * Types and format strings
 * ------------------------------------------------------------------------------------- */

/* Physical/logical type of one schema node. A dictionary-encoded column is not a type of
 * its own: its schema node carries the index type and a non-NULL `dictionary` child. */
enum zcp_type {
  ZCP_TYPE_NA = 0,
  ZCP_TYPE_BOOL,
  ZCP_TYPE_INT8,
  ZCP_TYPE_UINT8,
  ZCP_TYPE_INT16,
  ZCP_TYPE_UINT16,
  ZCP_TYPE_INT32,
  ZCP_TYPE_UINT32,
  ZCP_TYPE_INT64,
  ZCP_TYPE_UINT64,
  ZCP_TYPE_HALF_FLOAT,
  ZCP_TYPE_FLOAT,
  ZCP_TYPE_DOUBLE,
  ZCP_TYPE_DECIMAL32,
  ZCP_TYPE_DECIMAL64,
  ZCP_TYPE_DECIMAL128,
  ZCP_TYPE_DECIMAL256,
  ZCP_TYPE_DATE32,
  ZCP_TYPE_DATE64,
  ZCP_TYPE_TIME32,
  ZCP_TYPE_TIME64,
  ZCP_TYPE_TIMESTAMP,
  ZCP_TYPE_DURATION,
  ZCP_TYPE_INTERVAL_MONTHS,
  ZCP_TYPE_INTERVAL_DAY_TIME,
  ZCP_TYPE_INTERVAL_MONTH_DAY_NANO,
  ZCP_TYPE_BINARY,
  ZCP_TYPE_STRING,
  ZCP_TYPE_LARGE_BINARY,
  ZCP_TYPE_LARGE_STRING,
  ZCP_TYPE_BINARY_VIEW,
  ZCP_TYPE_STRING_VIEW,
  ZCP_TYPE_FIXED_SIZE_BINARY,
  ZCP_TYPE_LIST,
  ZCP_TYPE_LARGE_LIST,
  ZCP_TYPE_LIST_VIEW,
  ZCP_TYPE_LARGE_LIST_VIEW,
  ZCP_TYPE_FIXED_SIZE_LIST,
  ZCP_TYPE_STRUCT,
  ZCP_TYPE_MAP,
  ZCP_TYPE_SPARSE_UNION,
  ZCP_TYPE_DENSE_UNION,
  ZCP_TYPE_RUN_END_ENCODED,
  ZCP_TYPE_COUNT_ /* number of types; not a type */
};

enum zcp_time_unit {
  ZCP_TIME_SECOND = 0,
  ZCP_TIME_MILLI = 1,
  ZCP_TIME_MICRO = 2,
  ZCP_TIME_NANO = 3,
};

#define ZCP_MAX_UNION_TYPES 128

/* A parsed format string. `timezone` points into the parsed string (not NUL-terminated
 * there: use timezone_len), or is NULL when the type has none. */
struct zcp_format {
  enum zcp_type type;
  enum zcp_time_unit unit;   /* time32/64, timestamp, duration */
  int32_t fixed_size;        /* fixed-size binary: bytes; fixed-size list: items */
  int32_t precision, scale;  /* decimal */
  const char *timezone;      /* timestamp; NULL when absent */
  int32_t timezone_len;      /* 0 for a timestamp without time zone */
  int32_t n_type_ids;        /* union: number of type ids (== n_children) */
  int8_t type_ids[ZCP_MAX_UNION_TYPES]; /* union: type id of child i */
};

/* Parses a C Data Interface format string ("i", "tsu:UTC", "d:38,10", "+us:0,1", ...).
 * Decimals take 32, 64, 128 (the default) or 256 bits with a precision of at most 9, 18,
 * 38 or 76 digits. Errors quote the format: ZCP_INVALID_ARGUMENT for what the
 * specification does not have, ZCP_UNSUPPORTED for what it has but this library does not
 * take (fixed-size binary wider than 268435455 bytes). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_format_parse(const char *format, struct zcp_format *out,
                                               struct zcp_error *err);

/* Writes the format string for f into buf (NUL-terminated). ZCP_NO_SPACE if cap is too
 * small; ZCP_INVALID_ARGUMENT for an impossible f. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_format_write(const struct zcp_format *f,
                                                       char *buf, size_t cap,
                                                       struct zcp_error *err);

/* "int32", "timestamp", "large_utf8", ... Never NULL. */
ZCP_API const char *zcp_type_name(enum zcp_type type);

/* Bits per value of a fixed-width type (1 for bool, 32 for decimal32, 128 for
 * decimal128, 64 for interval-day-time as two int32, ...); fixed-size binary needs the
 * format: use zcp_format_bit_width. 0 for variable-width and nested types. */
ZCP_API int32_t zcp_type_bit_width(enum zcp_type type);
ZCP_API int32_t zcp_format_bit_width(const struct zcp_format *f);

/* Number of buffers the C Data Interface layout prescribes for a type (validity
 * included); for binary/string views this is the minimum (3: validity, views, sizes of
 * variadic buffers) without the variadic data buffers. */
ZCP_API int32_t zcp_type_n_buffers(enum zcp_type type);

/* ---------------------------------------------------------------------------------------
 * Schemas
 * ------------------------------------------------------------------------------------- */

/* Initialises a schema node owned by zcpool with a copy of format and name (name may be
 * NULL), the given ARROW_FLAG_* flags and n_children children. Each child starts as a
 * live placeholder ("n", the null type) owned by the node, so that at every step of the
 * construction the tree is valid and one zcp_schema_release of the root frees all of it.
 * Give the children their types with zcp_schema_set_child. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_schema_init(const char *format,
                                                      const char *name, int64_t flags,
                                                      int64_t n_children,
                                                      struct ArrowSchema *schema,
                                                      struct zcp_error *err);
/* Makes child i of parent (a node zcpool made: zcp_schema_init, zcp_schema_copy) a new
 * node, as zcp_schema_init makes one, and releases what the child held before (its
 * placeholder, or an earlier child with all of its own children). The parent owns the
 * new child: it is released with the parent, never on its own. On error (a bad format,
 * i out of range, a parent zcpool did not make) the child is left as it was. A record
 * batch struct<id: int64, tags: list<utf8>>:
 *   zcp_schema_init("+s", "", 0, 2, &schema, &err);
 *   zcp_schema_set_child(&schema, 0, "l", "id", 0, 0, &err);
 *   zcp_schema_set_child(&schema, 1, "+l", "tags", ARROW_FLAG_NULLABLE, 1, &err);
 *   zcp_schema_set_child(schema.children[1], 0, "u", "item", ARROW_FLAG_NULLABLE, 0,
 *                        &err); */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_schema_set_child(
    struct ArrowSchema *parent, int64_t i, const char *format, const char *name,
    int64_t flags, int64_t n_children, struct zcp_error *err);

/* Setters for a schema node created by zcp_schema_init (any node of such a tree). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_schema_set_format(struct ArrowSchema *schema,
                                                            const char *format);
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_schema_set_name(struct ArrowSchema *schema,
                                                          const char *name);
/* Copies a metadata blob in the C Data Interface encoding (NULL clears it). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_schema_set_metadata(struct ArrowSchema *schema,
                                                              const char *metadata);
/* Gives the node a dictionary schema node ("u" etc. are set on the node itself as the
 * index type); the returned node is to be initialised with zcp_schema_init. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t
zcp_schema_alloc_dictionary(struct ArrowSchema *schema);

/* Deep copy of any valid schema (ours or foreign). dst is initialised by the call. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_schema_copy(const struct ArrowSchema *src,
                                                      struct ArrowSchema *dst,
                                                      struct zcp_error *err);

/* Checks a schema tree: every format parses, child counts match the type (struct any,
 * list 1, map 1 struct of 2, union == type ids, run-end encoded 2 with integer run ends),
 * dictionary index types are integers, metadata is well formed, depth is bounded. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t
zcp_schema_validate(const struct ArrowSchema *schema, struct zcp_error *err);

/* Metadata blobs: int32 count, then per pair int32 key length, key bytes, int32 value
 * length, value bytes (native endian, as the C Data Interface says). */
struct zcp_metadata_reader {
  const char *next;
  int32_t remaining;
};
struct zcp_string_view {
  const char *data;
  int64_t size;
};
/* Starts reading a blob (NULL means no metadata: zero pairs). */
ZCP_API void zcp_metadata_reader_init(const char *metadata,
                                      struct zcp_metadata_reader *r);
/* Returns true and fills key/value while pairs remain. */
ZCP_API bool zcp_metadata_reader_next(struct zcp_metadata_reader *r,
                                      struct zcp_string_view *key,
                                      struct zcp_string_view *value);
/* Total size in bytes of a blob (0 for NULL, -1 when a count or length is negative). */
ZCP_API int64_t zcp_metadata_size(const char *metadata);
/* Finds key; returns true and fills value when present. */
ZCP_API bool zcp_metadata_get(const char *metadata, const char *key,
                              struct zcp_string_view *value);
/* Builds a blob from n pairs into a malloc'd buffer (*out, free() it). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_metadata_build(int32_t n,
                                                         const char *const *keys,
                                                         const char *const *values,
                                                         char **out);

/* The allocator interface (struct zcp_allocator, the default heap allocator) is in
 * zcpool/allocator.h: builders allocate every data buffer through it. */

/* ---------------------------------------------------------------------------------------
 * Builders
 *
 * A builder appends values of one schema node; nested types have child builders. Every
 * data buffer grows through the allocator (doubling), stays 64-byte aligned (or the
 * allocator's alignment) and is padded with zeros to a multiple of it. Finishing yields
 * an ArrowArray (and optionally a copy of the schema) and resets the builder for reuse.
 *
 * Per type, what to append:
 *   null                     zcp_builder_append_null
 *   bool, ints, date, time,  zcp_builder_append_int / _uint (range-checked), or bulk
 *   timestamp, duration,     zcp_builder_append_values (native-endian values; for bool one
 *   interval months          byte per value, nonzero = true)
 *   half float, float,double zcp_builder_append_double (half float is rounded), or bulk
 *   decimal32/64/128/256     the unscaled value: zcp_builder_append_int / _uint (sign-
 *                            extended; must fit the width: int32 for decimal32) or
 *                            _append_bytes (4 / 8 / 16 / 32 little-endian two's-
 *                            complement bytes). Precision is not enforced on values
 *                            (Arrow's own files exceed it), only on the type
 *   interval day-time        zcp_builder_append_interval(b, 0, days, ms)
 *   interval month-day-nano  zcp_builder_append_interval(b, months, days, nanos)
 *   binary/string (all       zcp_builder_append_bytes / _append_string; strings are not
 *   offsets and views),      checked for UTF-8 here (validation does that)
 *   fixed-size binary        zcp_builder_append_bytes with exactly fixed_size bytes
 *   list, large list, list   append the items to zcp_builder_child(b, 0), then
 *   view, fixed-size list,   zcp_builder_finish_element(b)
 *   map                      (map: child 0 is the entries struct: append keys to its child
 *                            0, values to its child 1, finish_element on the entries
 *                            struct per entry, then finish_element on the map)
 *   struct                   append one value to every child, then finish_element
 *   sparse/dense union       zcp_builder_append_union(b, type_id), then one value to the
 *                            child with that type id (zcp_builder_union_child)
 *   run-end encoded          append one value to zcp_builder_child(b, 1), then
 *                            zcp_builder_append_run(b, run_length)
 *   dictionary-encoded       append the dictionary values to zcp_builder_dictionary(b) and
 *                            the indices to b itself with zcp_builder_append_int
 *
 * append_null(n) works for every type: structs and fixed-size lists append empty slots to
 * their children, lists repeat the offset, sparse unions append a null to the first
 * child's slot (unions have no validity of their own: the null is in the child), dense
 * unions append it to the first child, run-end encoded appends one null value and a run
 * of n.
 * ------------------------------------------------------------------------------------- */

struct zcp_builder;

/* Creates a builder for schema (copied; foreign schemas are fine) whose data buffers come
 * from alloc (NULL: the default heap allocator). The allocator must outlive the builder
 * and every array it finishes. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_builder_init(const struct ArrowSchema *schema,
                                               struct zcp_allocator *alloc,
                                               struct zcp_builder **out,
                                               struct zcp_error *err);
/* Frees the builder and any unfinished buffers. NULL is fine. */
ZCP_API void zcp_builder_release(struct zcp_builder *b);

/* The schema node this builder builds (owned by the builder). */
ZCP_API const struct ArrowSchema *zcp_builder_schema(const struct zcp_builder *b);
ZCP_API const struct zcp_format *zcp_builder_format(const struct zcp_builder *b);
/* Number of elements appended since init/finish. */
ZCP_API int64_t zcp_builder_length(const struct zcp_builder *b);
/* Child builders (borrowed; NULL when out of range), the union child of a type id, and
 * the builder of the dictionary values (NULL when the column is not dictionary-encoded). */
ZCP_API struct zcp_builder *zcp_builder_child(struct zcp_builder *b, int64_t i);
ZCP_API struct zcp_builder *zcp_builder_union_child(struct zcp_builder *b,
                                                    int8_t type_id);
ZCP_API struct zcp_builder *zcp_builder_dictionary(struct zcp_builder *b);

/* Makes room for `additional` more elements (and, for binary types, `additional_bytes`
 * more data bytes) so that the next appends do not reallocate. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_builder_reserve(struct zcp_builder *b,
                                                          int64_t additional,
                                                          int64_t additional_bytes);

ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_builder_append_null(struct zcp_builder *b,
                                                              int64_t n);
/* Appends n valid "zero" values (0, empty string, empty list, struct of empties). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_builder_append_empty(struct zcp_builder *b,
                                                               int64_t n);
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_builder_append_int(struct zcp_builder *b,
                                                             int64_t value);
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_builder_append_uint(struct zcp_builder *b,
                                                              uint64_t value);
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_builder_append_double(struct zcp_builder *b,
                                                                double value);
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_builder_append_bytes(struct zcp_builder *b,
                                                               const void *data,
                                                               int64_t size);
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_builder_append_string(struct zcp_builder *b,
                                                                const char *str);
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_builder_append_interval(struct zcp_builder *b,
                                                                  int32_t months,
                                                                  int32_t days,
                                                                  int64_t sub_day);

/* Bulk append of n fixed-width values laid out as in the Arrow values buffer (memcpy
 * fast path; bool takes one byte per value). `validity` may be NULL (all valid) or point
 * to n bytes, nonzero = valid. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_builder_append_values(struct zcp_builder *b,
                                                                const void *values,
                                                                const uint8_t *validity,
                                                                int64_t n);
/* Bulk append of n binary/string values given as n+1 int32 offsets into data (offsets
 * need not start at 0). validity as above. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_builder_append_binaries(struct zcp_builder *b,
                                                                  const int32_t *offsets,
                                                                  const void *data,
                                                                  const uint8_t *validity,
                                                                  int64_t n);

/* Closes one element of a list / large list / list view / fixed-size list / map / struct
 * after its children were appended; checks the children agree (struct: every child one
 * longer; fixed-size list: exactly fixed_size more items). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_builder_finish_element(struct zcp_builder *b);
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_builder_append_union(struct zcp_builder *b,
                                                               int8_t type_id);
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_builder_append_run(struct zcp_builder *b,
                                                             int64_t run_length);

/* Finishes: *out receives the array (and *out_schema, when non-NULL, a copy of the
 * schema); the builder is reset to length 0 with the same schema. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_builder_finish(struct zcp_builder *b,
                                                         struct ArrowArray *out,
                                                         struct ArrowSchema *out_schema,
                                                         struct zcp_error *err);

/* The message of the last failed call on any builder of b's tree ("" if none), e.g.
 * "column 'tags' (fixed_size_list): fixed-size list expects 3 items per element, got 2".
 * Appends take no struct zcp_error; this is where their messages go. */
ZCP_API const char *zcp_builder_last_error(const struct zcp_builder *b);

/* Allocated size in bytes of buffer i of an array that zcpool made (builder output or a
 * node of one), or -1 for arrays we did not make. Used by validation and descriptors. */
ZCP_API int64_t zcp_array_buffer_capacity(const struct ArrowArray *array, int64_t i);

/* ---------------------------------------------------------------------------------------
 * Array views: read access to any ArrowArray + ArrowSchema pair (ours or foreign) without
 * copying. Index i is logical (the array's offset is added by the view).
 * ------------------------------------------------------------------------------------- */

#define ZCP_MAX_DEPTH 64 /* deepest nesting any zcpool function accepts */

struct zcp_array_view {
  const struct ArrowArray *array;
  const struct ArrowSchema *schema;
  struct zcp_format format;
  int64_t length, offset, null_count;
  /* Layout buffers with their types' meaning: [0] validity (may be NULL), then values /
   * offsets / type ids / views as the type prescribes. */
  const uint8_t *buffers[3];
  /* Known byte size of each layout buffer, or -1 when unknown. Filled from
   * zcp_array_buffer_capacity for our arrays; callers that know better (IPC, descriptors)
   * may set them before validating. */
  int64_t buffer_size[3];
  /* Binary/string views: variadic data buffers and their sizes (from the last buffer). */
  int64_t n_variadic;
  const uint8_t *const *variadic;
  const int64_t *variadic_size;
  int64_t n_children;
  struct zcp_array_view *children;   /* n_children views */
  struct zcp_array_view *dictionary; /* NULL unless dictionary-encoded */
  int32_t depth;
};

/* Builds a view of array + schema (recursively). Checks the structure (formats parse,
 * buffer and child counts match the type, lengths/offsets non-negative, depth bounded)
 * but not the data: validate for that. Release with zcp_array_view_reset. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_array_view_init(const struct ArrowArray *array,
                                                  const struct ArrowSchema *schema,
                                                  struct zcp_array_view *view,
                                                  struct zcp_error *err);
ZCP_API void zcp_array_view_reset(struct zcp_array_view *view);

ZCP_API bool zcp_array_view_is_null(const struct zcp_array_view *v, int64_t i);
/* Integer-like (bool, ints, dates, times, timestamps, durations, interval months,
 * dictionary indices). */
ZCP_API int64_t zcp_array_view_get_int(const struct zcp_array_view *v, int64_t i);
ZCP_API uint64_t zcp_array_view_get_uint(const struct zcp_array_view *v, int64_t i);
/* Floats (half float widened), and integers converted. */
ZCP_API double zcp_array_view_get_double(const struct zcp_array_view *v, int64_t i);
/* Binary, string (every offset width and views), fixed-size binary, decimals (4, 8,
 * 16 or 32 raw bytes: the unscaled value, little-endian two's complement). */
ZCP_API struct zcp_string_view zcp_array_view_get_bytes(const struct zcp_array_view *v, int64_t i);
/* interval day-time (months = 0, sub_day = ms) and month-day-nano. */
ZCP_API void zcp_array_view_get_interval(const struct zcp_array_view *v, int64_t i,
                                         int32_t *months, int32_t *days,
                                         int64_t *sub_day);
/* List-likes (list, large list, list views, fixed-size list, map): the range of child
 * items of element i. */
ZCP_API void zcp_array_view_get_list(const struct zcp_array_view *v, int64_t i,
                                     int64_t *start, int64_t *size);
/* Unions: the type id of element i, the child index it selects and the index in that
 * child. */
ZCP_API int8_t zcp_array_view_union_type_id(const struct zcp_array_view *v, int64_t i);
ZCP_API int64_t zcp_array_view_union_child(const struct zcp_array_view *v, int64_t i,
                                           int64_t *child_index);
/* Run-end encoded: the index in the values child of logical element i (binary search). */
ZCP_API int64_t zcp_array_view_run_index(const struct zcp_array_view *v, int64_t i);

/* ---------------------------------------------------------------------------------------
 * Validation
 * ------------------------------------------------------------------------------------- */

enum zcp_validate_level {
  /* structure only: buffer and child counts, lengths, buffer sizes from the known
   * capacities; reads no data */
  ZCP_VALIDATE_MINIMAL = 0,
  /* + first/last offsets, run ends' last value, variadic buffer references: O(columns) */
  ZCP_VALIDATE_DEFAULT = 1,
  /* + every offset monotonic and in range, UTF-8, null counts, union type ids and
   * offsets, dictionary indices, run ends: O(data) */
  ZCP_VALIDATE_FULL = 2,
};

/* Validates array against schema. Errors are ZCP_CORRUPT_INPUT (or ZCP_INVALID_ARGUMENT
 * for structural misuse) with a message naming the column path and row. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_array_validate(const struct ArrowArray *array,
                                                         const struct ArrowSchema *schema,
                                                         enum zcp_validate_level level,
                                                         struct zcp_error *err);
/* Same on a view whose buffer sizes the caller may have filled in. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t
zcp_array_view_validate(const struct zcp_array_view *view, enum zcp_validate_level level,
                        struct zcp_error *err);
/* True when the bytes are well-formed UTF-8. */
ZCP_API bool zcp_utf8_valid(const uint8_t *data, int64_t size);

/* ---------------------------------------------------------------------------------------
 * Record batches, chunked columns, tables, streams
 *
 * A record batch is an ArrowArray of struct type ("+s") with its ArrowSchema; its
 * children are the columns. A table is a schema plus an ordered list of batches sharing
 * it; column i of a table is a chunked column (one chunk per batch).
 * ------------------------------------------------------------------------------------- */

struct zcp_table;

/* Creates an empty table with a copy of schema (must be a struct "+s" schema). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_table_init(const struct ArrowSchema *schema,
                                             struct zcp_table **out,
                                             struct zcp_error *err);
/* Takes one more reference on t; each needs its own zcp_table_release. */
ZCP_API void zcp_table_retain(struct zcp_table *t);
/* Drops the caller's reference; the table is freed when no exported stream or batch
 * uses it any more. NULL is fine. */
ZCP_API void zcp_table_release(struct zcp_table *t);
/* Appends a batch (moved into the table) after checking it against the table's schema
 * at the given validation level. On error the batch is left with the caller. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_table_append(struct zcp_table *t,
                                                       struct ArrowArray *batch,
                                                       enum zcp_validate_level level,
                                                       struct zcp_error *err);
ZCP_API const struct ArrowSchema *zcp_table_schema(const struct zcp_table *t);
ZCP_API int64_t zcp_table_num_rows(const struct zcp_table *t);
ZCP_API int64_t zcp_table_num_columns(const struct zcp_table *t);
ZCP_API int64_t zcp_table_num_batches(const struct zcp_table *t);
/* Borrowed batch i (owned by the table). */
ZCP_API const struct ArrowArray *zcp_table_batch(const struct zcp_table *t, int64_t i);

/* A chunked column: borrowed pointers into the table, valid while it lives. */
struct zcp_chunked_column {
  const struct ArrowSchema *schema;
  int64_t length;
  int64_t n_chunks;
  const struct ArrowArray *const *chunks;
};
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_table_column(const struct zcp_table *t,
                                                       int64_t i,
                                                       struct zcp_chunked_column *out,
                                                       struct zcp_error *err);

/* Exports the table as a C stream: one ArrowArray per batch, in order, each sharing the
 * table's buffers (no copy). The stream holds a reference to the table: the caller may
 * release its own right away. Every exported batch may outlive the stream. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_table_export_stream(
    struct zcp_table *t, struct ArrowArrayStream *out, struct zcp_error *err);
/* Exports batch i alone (shared, no copy) with a copy of the schema. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t
zcp_table_export_batch(struct zcp_table *t, int64_t i, struct ArrowArray *out,
                       struct ArrowSchema *out_schema, struct zcp_error *err);
/* Drains a stream into a new table (batches moved, fully validated at `level`); the
 * stream is released either way. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t
zcp_table_import_stream(struct ArrowArrayStream *stream, enum zcp_validate_level level,
                        struct zcp_table **out, struct zcp_error *err);

/* ---------------------------------------------------------------------------------------
 * Printing
 * ------------------------------------------------------------------------------------- */

/* "name: type not null {key: value}" lines, nested types indented. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_schema_print(FILE *f,
                                                       const struct ArrowSchema *schema,
                                                       struct zcp_error *err);
/* A text table of up to max_rows rows (all when < 0) of a record batch. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_batch_print(FILE *f,
                                                      const struct ArrowArray *batch,
                                                      const struct ArrowSchema *schema,
                                                      int64_t max_rows,
                                                      struct zcp_error *err);
/* Formats element i of a view ("null", "42", "\"abc\"", "[1, 2]", "{a: 1}", timestamps as
 * ISO 8601) into buf; returns the length it wanted (like snprintf). */
ZCP_API int64_t zcp_array_view_format(const struct zcp_array_view *v, int64_t i,
                                      char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* ZCPOOL_ARROW_H */
