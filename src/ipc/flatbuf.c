/* Flatbuffers for the Arrow IPC metadata, by hand: the format is small (tables with
 * vtables, vectors, strings, unions as a type byte plus a table offset) and a generated
 * reader would trust its input. Here every access is bounds-checked first; the builder
 * writes back to front, as flatbuffers' own builders do, so that every offset points
 * forward (to a higher address) as the format requires. */
#include "ipc/flatbuf.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* ---- reading ------------------------------------------------------------------------
 */

#define CORRUPT(...) zcp_error_set(err, ZCP_CORRUPT_INPUT, __VA_ARGS__)

static uint16_t ld16(const uint8_t *p) {
  return (uint16_t)(p[0] | p[1] << 8);
}

/* Fills a table at pos after checking its soffset, vtable and inline size. */
static zcp_status_t table_at(const uint8_t *buf, int64_t size, int64_t pos, int32_t depth,
                             struct zcp_fb_table *out, const char *what,
                             struct zcp_error *err) {
  if (depth > ZCP_FB_MAX_DEPTH) {
    return CORRUPT("flatbuffer %s: nested deeper than %d tables", what, ZCP_FB_MAX_DEPTH);
  }
  if (pos < 0 || pos > size - 4) {
    return CORRUPT("flatbuffer %s: table at %lld is outside the %lld-byte buffer", what,
                   (long long)pos, (long long)size);
  }
  int32_t soff = (int32_t)zcp__load_le32(buf + pos);
  int64_t vt = pos - (int64_t)soff;
  if (vt < 0 || vt > size - 4) {
    return CORRUPT("flatbuffer %s: vtable at %lld is outside the %lld-byte buffer", what,
                   (long long)vt, (long long)size);
  }
  int64_t vt_size = ld16(buf + vt), tbl_size = ld16(buf + vt + 2);
  if (vt_size < 4 || (vt_size & 1) || vt + vt_size > size) {
    return CORRUPT("flatbuffer %s: vtable of %lld bytes at %lld does not fit", what,
                   (long long)vt_size, (long long)vt);
  }
  if (tbl_size < 4 || pos + tbl_size > size) {
    return CORRUPT("flatbuffer %s: table of %lld bytes at %lld does not fit", what,
                   (long long)tbl_size, (long long)pos);
  }
  *out = (struct zcp_fb_table){buf, size, pos, vt, vt_size, tbl_size, depth};
  return ZCP_OK;
}

zcp_status_t zcp__fb_root(const uint8_t *buf, int64_t size, struct zcp_fb_table *out,
                          const char *what, struct zcp_error *err) {
  if (buf == NULL || size < 8) {
    return CORRUPT("flatbuffer %s: %lld bytes is too short", what, (long long)size);
  }
  return table_at(buf, size, zcp__load_le32(buf), 0, out, what, err);
}

/* Position of field id with `width` bytes, 0 when absent, -1 when out of bounds. */
static int64_t field_pos(const struct zcp_fb_table *t, int id, int64_t width) {
  int64_t slot = 4 + 2 * (int64_t)id;
  if (slot + 2 > t->vt_size) return 0;
  int64_t off = ld16(t->buf + t->vt_pos + slot);
  if (off == 0) return 0;
  if (off < 4 || off + width > t->tbl_size) return -1;
  return t->pos + off;
}

bool zcp__fb_has(const struct zcp_fb_table *t, int id) {
  return field_pos(t, id, 1) != 0;
}

static zcp_status_t scalar(const struct zcp_fb_table *t, int id, int width, uint64_t def,
                           uint64_t *out, const char *what, struct zcp_error *err) {
  int64_t p = field_pos(t, id, width);
  if (p < 0) return CORRUPT("flatbuffer %s: field is outside its table", what);
  if (p == 0) {
    *out = def;
    return ZCP_OK;
  }
  const uint8_t *b = t->buf + p;
  switch (width) {
    case 1:
      *out = b[0];
      break;
    case 2:
      *out = ld16(b);
      break;
    case 4:
      *out = zcp__load_le32(b);
      break;
    default:
      *out = zcp__load_le64(b);
      break;
  }
  return ZCP_OK;
}

zcp_status_t zcp__fb_i64(const struct zcp_fb_table *t, int id, int64_t def, int64_t *out,
                         const char *what, struct zcp_error *err) {
  uint64_t v = 0;
  ZCP_RETURN_NOT_OK(scalar(t, id, 8, (uint64_t)def, &v, what, err));
  *out = (int64_t)v;
  return ZCP_OK;
}

zcp_status_t zcp__fb_i32(const struct zcp_fb_table *t, int id, int32_t def, int32_t *out,
                         const char *what, struct zcp_error *err) {
  uint64_t v = 0;
  ZCP_RETURN_NOT_OK(scalar(t, id, 4, (uint32_t)def, &v, what, err));
  *out = (int32_t)(uint32_t)v;
  return ZCP_OK;
}

zcp_status_t zcp__fb_i16(const struct zcp_fb_table *t, int id, int16_t def, int16_t *out,
                         const char *what, struct zcp_error *err) {
  uint64_t v = 0;
  ZCP_RETURN_NOT_OK(scalar(t, id, 2, (uint16_t)def, &v, what, err));
  *out = (int16_t)(uint16_t)v;
  return ZCP_OK;
}

zcp_status_t zcp__fb_u8(const struct zcp_fb_table *t, int id, uint8_t def, uint8_t *out,
                        const char *what, struct zcp_error *err) {
  uint64_t v = 0;
  ZCP_RETURN_NOT_OK(scalar(t, id, 1, def, &v, what, err));
  *out = (uint8_t)v;
  return ZCP_OK;
}

/* Follows the uoffset stored at position p; *target is where it points. */
static zcp_status_t follow(const uint8_t *buf, int64_t size, int64_t p, int64_t *target,
                           const char *what, struct zcp_error *err) {
  int64_t to = p + (int64_t)zcp__load_le32(buf + p);
  if (to > size - 4) {
    return CORRUPT("flatbuffer %s: offset at %lld points to %lld, past the %lld-byte end",
                   what, (long long)p, (long long)to, (long long)size);
  }
  *target = to;
  return ZCP_OK;
}

static zcp_status_t ref_field(const struct zcp_fb_table *t, int id, int64_t *target,
                              const char *what, struct zcp_error *err) {
  int64_t p = field_pos(t, id, 4);
  if (p < 0) return CORRUPT("flatbuffer %s: field is outside its table", what);
  if (p == 0) {
    *target = 0;
    return ZCP_OK;
  }
  return follow(t->buf, t->size, p, target, what, err);
}

zcp_status_t zcp__fb_table(const struct zcp_fb_table *t, int id, struct zcp_fb_table *out,
                           bool *present, const char *what, struct zcp_error *err) {
  int64_t to = 0;
  *present = false;
  ZCP_RETURN_NOT_OK(ref_field(t, id, &to, what, err));
  if (to == 0) return ZCP_OK;
  ZCP_RETURN_NOT_OK(table_at(t->buf, t->size, to, t->depth + 1, out, what, err));
  *present = true;
  return ZCP_OK;
}

/* A vector (or string) at position `to`: n elements of elem_size after the length. */
static zcp_status_t vector_at(const uint8_t *buf, int64_t size, int64_t to,
                              int64_t elem_size, int64_t extra, int64_t *n,
                              const char *what, struct zcp_error *err) {
  int64_t count = zcp__load_le32(buf + to), bytes;
  if (!zcp__mul_i64(count, elem_size, &bytes) || bytes > size - to - 4 - extra) {
    return CORRUPT(
        "flatbuffer %s: %lld elements of %lld bytes at %lld do not fit in "
        "%lld bytes",
        what, (long long)count, (long long)elem_size, (long long)to, (long long)size);
  }
  *n = count;
  return ZCP_OK;
}

zcp_status_t zcp__fb_string(const struct zcp_fb_table *t, int id, const char **data,
                            int64_t *size, const char *what, struct zcp_error *err) {
  int64_t to = 0, n = 0;
  *data = NULL;
  *size = 0;
  ZCP_RETURN_NOT_OK(ref_field(t, id, &to, what, err));
  if (to == 0) return ZCP_OK;
  ZCP_RETURN_NOT_OK(vector_at(t->buf, t->size, to, 1, 1, &n, what, err));
  *data = (const char *)t->buf + to + 4;
  *size = n;
  return ZCP_OK;
}

zcp_status_t zcp__fb_vector(const struct zcp_fb_table *t, int id, int64_t elem_size,
                            struct zcp_fb_vector *out, const char *what,
                            struct zcp_error *err) {
  int64_t to = 0, n = 0;
  *out = (struct zcp_fb_vector){t->buf, t->size, 0, 0, t->depth};
  ZCP_RETURN_NOT_OK(ref_field(t, id, &to, what, err));
  if (to == 0) return ZCP_OK;
  ZCP_RETURN_NOT_OK(vector_at(t->buf, t->size, to, elem_size, 0, &n, what, err));
  out->data = to + 4;
  out->n = n;
  return ZCP_OK;
}

zcp_status_t zcp__fb_vector_table(const struct zcp_fb_vector *v, int64_t i,
                                  struct zcp_fb_table *out, const char *what,
                                  struct zcp_error *err) {
  int64_t to = 0;
  ZCP_RETURN_NOT_OK(follow(v->buf, v->size, v->data + 4 * i, &to, what, err));
  return table_at(v->buf, v->size, to, v->depth + 1, out, what, err);
}

zcp_status_t zcp__fb_vector_string(const struct zcp_fb_vector *v, int64_t i,
                                   const char **data, int64_t *size, const char *what,
                                   struct zcp_error *err) {
  int64_t to = 0, n = 0;
  ZCP_RETURN_NOT_OK(follow(v->buf, v->size, v->data + 4 * i, &to, what, err));
  ZCP_RETURN_NOT_OK(vector_at(v->buf, v->size, to, 1, 1, &n, what, err));
  *data = (const char *)v->buf + to + 4;
  *size = n;
  return ZCP_OK;
}

/* ---- building -----------------------------------------------------------------------
 */

void zcp__fb_builder_init(struct zcp_fb_builder *b) {
  memset(b, 0, sizeof *b);
}

void zcp__fb_builder_reset(struct zcp_fb_builder *b) {
  free(b->buf);
  memset(b, 0, sizeof *b);
}

/* Makes room for n more bytes in front and returns where they start. */
static uint8_t *prepend(struct zcp_fb_builder *b, int64_t n) {
  static uint8_t none[1];
  if (b->failed) return NULL;
  if (n == 0) return none; /* nothing to write; callers copy 0 bytes to it */
  if (b->cap - b->size < n) {
    int64_t cap = b->cap ? b->cap : 256;
    while (cap - b->size < n) cap *= 2;
    uint8_t *nb = malloc((size_t)cap);
    if (nb == NULL) {
      b->failed = true;
      return NULL;
    }
    if (b->size) memcpy(nb + cap - b->size, b->buf + b->cap - b->size, (size_t)b->size);
    free(b->buf);
    b->buf = nb;
    b->cap = cap;
  }
  b->size += n;
  uint8_t *p = b->buf + b->cap - b->size;
  memset(p, 0, (size_t)n);
  return p;
}

/* Pads so that after `then` more bytes the size is a multiple of align. */
static void align_for(struct zcp_fb_builder *b, int64_t then, int64_t align) {
  int64_t pad = (align - (b->size + then) % align) % align;
  if (pad) prepend(b, pad);
}

zcp_fb_ref zcp__fb_string_create(struct zcp_fb_builder *b, const char *data,
                                 int64_t size) {
  align_for(b, size + 1, 4);
  uint8_t *p = prepend(b, size + 1);
  if (p != NULL && size) memcpy(p, data, (size_t)size);
  p = prepend(b, 4);
  if (p != NULL) zcp__store_le32(p, (uint32_t)size);
  return b->size;
}

zcp_fb_ref zcp__fb_vector_create(struct zcp_fb_builder *b, const void *data, int64_t n,
                                 int64_t elem_size, int64_t align) {
  align_for(b, n * elem_size, ZCP_MAX(align, 4));
  uint8_t *p = prepend(b, n * elem_size);
  if (p != NULL && n) memcpy(p, data, (size_t)(n * elem_size));
  p = prepend(b, 4);
  if (p != NULL) zcp__store_le32(p, (uint32_t)n);
  return b->size;
}

zcp_fb_ref zcp__fb_refs_create(struct zcp_fb_builder *b, const zcp_fb_ref *refs,
                               int64_t n) {
  align_for(b, n * 4, 4);
  uint8_t *p = prepend(b, n * 4);
  int64_t elem0 = b->size; /* distance from the end to element 0 */
  for (int64_t i = 0; p != NULL && i < n; i++) {
    zcp__store_le32(p + 4 * i, (uint32_t)(elem0 - 4 * i - refs[i]));
  }
  p = prepend(b, 4);
  if (p != NULL) zcp__store_le32(p, (uint32_t)n);
  return b->size;
}

void zcp__fb_table_start(struct zcp_fb_builder *b) {
  b->n_fields = 0;
  b->in_table = true;
}

static void add_field(struct zcp_fb_builder *b, int id, int width, bool is_ref,
                      uint64_t value) {
  if (b->n_fields >= ZCP_FB_MAX_FIELDS) {
    b->failed = true; /* our own schema never has this many fields */
    return;
  }
  b->fields[b->n_fields].id = id;
  b->fields[b->n_fields].width = width;
  b->fields[b->n_fields].is_ref = is_ref;
  b->fields[b->n_fields].value = value;
  b->n_fields++;
}

void zcp__fb_add_scalar(struct zcp_fb_builder *b, int id, int width, uint64_t value) {
  add_field(b, id, width, false, value);
}

void zcp__fb_add_ref(struct zcp_fb_builder *b, int id, zcp_fb_ref ref) {
  add_field(b, id, 4, true, (uint64_t)ref);
}

zcp_fb_ref zcp__fb_table_end(struct zcp_fb_builder *b) {
  int64_t pos[ZCP_FB_MAX_FIELDS];
  int64_t inline_size = 4, align = 4, n_slots = 0;
  /* Widest fields first so that each is aligned to its width within the table. */
  for (int w = 8; w >= 1; w /= 2) {
    for (int i = 0; i < b->n_fields; i++) {
      if (b->fields[i].width != w) continue;
      inline_size = zcp__round_up(inline_size, w);
      pos[i] = inline_size;
      inline_size += w;
      align = ZCP_MAX(align, w);
    }
  }
  for (int i = 0; i < b->n_fields; i++) n_slots = ZCP_MAX(n_slots, b->fields[i].id + 1);
  inline_size = zcp__round_up(inline_size, 2);
  align_for(b, inline_size, align);
  uint8_t *t = prepend(b, inline_size);
  int64_t table = b->size;
  for (int i = 0; t != NULL && i < b->n_fields; i++) {
    uint8_t *f = t + pos[i];
    uint64_t v = b->fields[i].value;
    if (b->fields[i].is_ref) v = (uint64_t)(table - pos[i] - (int64_t)v);
    switch (b->fields[i].width) {
      case 1:
        f[0] = (uint8_t)v;
        break;
      case 2:
        f[0] = (uint8_t)v;
        f[1] = (uint8_t)(v >> 8);
        break;
      case 4:
        zcp__store_le32(f, (uint32_t)v);
        break;
      default:
        zcp__store_le64(f, v);
        break;
    }
  }
  int64_t vt_size = 4 + 2 * n_slots;
  uint8_t *vt = prepend(b, vt_size);
  if (vt != NULL && t != NULL) {
    /* prepend may have moved the buffer: find the table again */
    t = b->buf + b->cap - table;
    vt[0] = (uint8_t)vt_size;
    vt[1] = (uint8_t)(vt_size >> 8);
    vt[2] = (uint8_t)inline_size;
    vt[3] = (uint8_t)(inline_size >> 8);
    for (int i = 0; i < b->n_fields; i++) {
      uint8_t *s = vt + 4 + 2 * b->fields[i].id;
      s[0] = (uint8_t)pos[i];
      s[1] = (uint8_t)(pos[i] >> 8);
    }
    zcp__store_le32(t, (uint32_t)(int32_t)(b->size - table));
  }
  b->n_fields = 0;
  b->in_table = false;
  return table;
}

zcp_status_t zcp__fb_finish(struct zcp_fb_builder *b, zcp_fb_ref root,
                            const uint8_t **data, int64_t *size, struct zcp_error *err) {
  align_for(b, 4, 8);
  uint8_t *p = prepend(b, 4);
  if (p == NULL || b->failed) {
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for IPC metadata");
  }
  zcp__store_le32(p, (uint32_t)(b->size - root));
  *data = b->buf + b->cap - b->size;
  *size = b->size;
  return ZCP_OK;
}
