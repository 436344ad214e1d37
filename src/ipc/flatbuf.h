/* Hand-written flatbuffers for the Arrow IPC metadata: a verifying reader and a
 * back-to-front builder. Not API.
 *
 * The reader never touches a byte it has not bounds-checked: every table, vtable,
 * vector and string is checked against the buffer before use, nesting is bounded, and
 * failures are ZCP_CORRUPT_INPUT naming the field that was wrong ("Message.header").
 * The builder writes the canonical little-endian layout: a root uoffset, tables preceded
 * by their vtables, vectors and strings with a uint32 length, everything aligned to its
 * size relative to the end of the finished buffer (whose size is a multiple of 8). */
#ifndef ZCP_IPC_FLATBUF_H
#define ZCP_IPC_FLATBUF_H

#include <stdbool.h>
#include <stdint.h>

#include "zcpool/status.h"

#define ZCP_FB_MAX_DEPTH 200 /* tables nested deeper than this are rejected */

/* ---- reading ------------------------------------------------------------------------
 */

struct zcp_fb_table {
  const uint8_t *buf;
  int64_t size;
  int64_t pos;      /* table start */
  int64_t vt_pos;   /* vtable start */
  int64_t vt_size;  /* vtable bytes */
  int64_t tbl_size; /* inline table bytes */
  int32_t depth;
};

struct zcp_fb_vector {
  const uint8_t *buf;
  int64_t size;
  int64_t data; /* position of element 0 */
  int64_t n;
  int32_t depth;
};

/* The root table of buf (its first 4 bytes are the root offset). */
zcp_status_t zcp__fb_root(const uint8_t *buf, int64_t size, struct zcp_fb_table *out,
                          const char *what, struct zcp_error *err);
/* True when field id is present. */
bool zcp__fb_has(const struct zcp_fb_table *t, int id);
/* Scalars: *out = the field, or def when absent. */
zcp_status_t zcp__fb_i64(const struct zcp_fb_table *t, int id, int64_t def, int64_t *out,
                         const char *what, struct zcp_error *err);
zcp_status_t zcp__fb_i32(const struct zcp_fb_table *t, int id, int32_t def, int32_t *out,
                         const char *what, struct zcp_error *err);
zcp_status_t zcp__fb_i16(const struct zcp_fb_table *t, int id, int16_t def, int16_t *out,
                         const char *what, struct zcp_error *err);
zcp_status_t zcp__fb_u8(const struct zcp_fb_table *t, int id, uint8_t def, uint8_t *out,
                        const char *what, struct zcp_error *err);
/* Sub-table; *present false (and out untouched) when absent. */
zcp_status_t zcp__fb_table(const struct zcp_fb_table *t, int id, struct zcp_fb_table *out,
                           bool *present, const char *what, struct zcp_error *err);
/* String: *data NULL when absent; size excludes the terminating NUL. */
zcp_status_t zcp__fb_string(const struct zcp_fb_table *t, int id, const char **data,
                            int64_t *size, const char *what, struct zcp_error *err);
/* Vector of elements of elem_size bytes (structs, scalars, or 4 for offsets); an absent
 * vector has n = 0. */
zcp_status_t zcp__fb_vector(const struct zcp_fb_table *t, int id, int64_t elem_size,
                            struct zcp_fb_vector *out, const char *what,
                            struct zcp_error *err);
/* Element i of a vector of tables / of strings. */
zcp_status_t zcp__fb_vector_table(const struct zcp_fb_vector *v, int64_t i,
                                  struct zcp_fb_table *out, const char *what,
                                  struct zcp_error *err);
zcp_status_t zcp__fb_vector_string(const struct zcp_fb_vector *v, int64_t i,
                                   const char **data, int64_t *size, const char *what,
                                   struct zcp_error *err);
/* Address of element i of a vector of structs / scalars (checked by zcp__fb_vector). */
static inline const uint8_t *zcp__fb_elem(const struct zcp_fb_vector *v, int64_t i,
                                          int64_t elem_size) {
  return v->buf + v->data + i * elem_size;
}

/* ---- building -----------------------------------------------------------------------
 */

#define ZCP_FB_MAX_FIELDS 16

/* An object already written, as its distance from the end of the buffer. */
typedef int64_t zcp_fb_ref;

struct zcp_fb_builder {
  uint8_t *buf; /* data occupies buf[cap - size, cap) */
  int64_t cap, size;
  bool failed; /* out of memory: every later call is a no-op; finish reports it */
  int n_fields;
  struct {
    int id, width; /* width 1/2/4/8; offsets have width 4 and is_ref */
    bool is_ref;
    uint64_t value; /* scalar bits, or the target ref */
  } fields[ZCP_FB_MAX_FIELDS];
  bool in_table;
};

void zcp__fb_builder_init(struct zcp_fb_builder *b);
void zcp__fb_builder_reset(struct zcp_fb_builder *b);
zcp_fb_ref zcp__fb_string_create(struct zcp_fb_builder *b, const char *data,
                                 int64_t size);
/* A vector of n elements of elem_size bytes (little-endian), aligned to align. */
zcp_fb_ref zcp__fb_vector_create(struct zcp_fb_builder *b, const void *data, int64_t n,
                                 int64_t elem_size, int64_t align);
/* A vector of offsets to tables / strings already written. */
zcp_fb_ref zcp__fb_refs_create(struct zcp_fb_builder *b, const zcp_fb_ref *refs,
                               int64_t n);
void zcp__fb_table_start(struct zcp_fb_builder *b);
void zcp__fb_add_scalar(struct zcp_fb_builder *b, int id, int width, uint64_t value);
void zcp__fb_add_ref(struct zcp_fb_builder *b, int id, zcp_fb_ref ref);
zcp_fb_ref zcp__fb_table_end(struct zcp_fb_builder *b);
/* Writes the root offset; data and size then hold the finished flatbuffer (owned by b).
 */
zcp_status_t zcp__fb_finish(struct zcp_fb_builder *b, zcp_fb_ref root,
                            const uint8_t **data, int64_t *size, struct zcp_error *err);

#endif /* ZCP_IPC_FLATBUF_H */
