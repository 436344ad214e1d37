/* Builders of variable-length binary columns: binary and utf8 (int32 offsets), their
 * large forms (int64 offsets) and binary/utf8 views (16-byte views, values longer than
 * 12 bytes in variadic data buffers). Fixed-size binary single appends live with the
 * fixed-width types; its bulk append is here.
 *
 * Views never point into a buffer that may move: a variadic buffer grows until
 * ZCP__VIEW_BLOCK_MAX and then a new one is started, so no buffer is ever copied past
 * that size and a view's (buffer, offset) stays valid as the column grows. */
#include <stdlib.h>
#include <string.h>

#include "arrow/builder_internal.h"

#define VIEW_SIZE 16
#define VIEW_INLINE 12

bool zcp__is_binary_type(enum zcp_type t) {
  return t == ZCP_TYPE_BINARY || t == ZCP_TYPE_STRING || t == ZCP_TYPE_LARGE_BINARY ||
         t == ZCP_TYPE_LARGE_STRING || t == ZCP_TYPE_BINARY_VIEW ||
         t == ZCP_TYPE_STRING_VIEW;
}

static bool is_view(enum zcp_type t) {
  return t == ZCP_TYPE_BINARY_VIEW || t == ZCP_TYPE_STRING_VIEW;
}

static int64_t offset_width(enum zcp_type t) {
  return (t == ZCP_TYPE_LARGE_BINARY || t == ZCP_TYPE_LARGE_STRING) ? 8 : 4;
}

static void put_offset(uint8_t *p, int64_t width, int64_t v) {
  if (width == 4) {
    int32_t v32 = (int32_t)v;
    memcpy(p, &v32, 4);
  } else {
    memcpy(p, &v, 8);
  }
}

static int64_t max_offset(int64_t width) {
  return width == 4 ? INT32_MAX : INT64_MAX;
}

static zcp_status_t offsets_full(struct zcp_builder *b, int64_t end, int64_t more) {
  return zcp__builder_error(b, ZCP_NO_SPACE,
                            "%lld + %lld data bytes exceed the int32 offsets (use the "
                            "large type)",
                            (long long)end, (long long)more);
}

/* ---- views ---------------------------------------------------------------------------
 */

/* Makes room for `size` more bytes in the current variadic buffer, starting a new one
 * when the current one would grow past ZCP__VIEW_BLOCK_MAX. */
static zcp_status_t view_data_room(struct zcp_builder *b, int64_t size) {
  struct zcp__buf *cur = b->n_variadic > 0 ? &b->variadic[b->n_variadic - 1] : NULL;
  if (cur != NULL && cur->capacity - cur->size >= size) return ZCP_OK;
  if (cur != NULL && cur->size + size <= ZCP__VIEW_BLOCK_MAX) {
    return zcp__buf_reserve_capped(b, cur, size, ZCP__VIEW_BLOCK_MAX);
  }
  if (b->n_variadic >= INT32_MAX) {
    return zcp__builder_error(b, ZCP_NO_SPACE, "too many view data buffers");
  }
  if (b->n_variadic == b->cap_variadic) {
    int64_t cap = b->cap_variadic ? b->cap_variadic * 2 : 4;
    struct zcp__buf *v = realloc(b->variadic, (size_t)cap * sizeof *v);
    if (v == NULL) return zcp__builder_error(b, ZCP_OUT_OF_MEMORY, "out of memory");
    b->variadic = v;
    b->cap_variadic = cap;
  }
  int64_t start =
      cur != NULL ? ZCP_MIN(cur->capacity * 2, ZCP__VIEW_BLOCK_MAX) : ZCP__VIEW_BLOCK_MIN;
  struct zcp__buf fresh = {NULL, 0, 0};
  ZCP_RETURN_NOT_OK(zcp__buf_reserve(b, &fresh, ZCP_MAX(size, start)));
  b->variadic[b->n_variadic++] = fresh;
  return ZCP_OK;
}

/* Writes the view of one value at dst (room for the data made by view_data_room). */
static void write_view(struct zcp_builder *b, uint8_t *dst, const void *data,
                       int64_t size) {
  int32_t size32 = (int32_t)size;
  memset(dst, 0, VIEW_SIZE);
  memcpy(dst, &size32, 4);
  if (size <= VIEW_INLINE) {
    if (size > 0) memcpy(dst + 4, data, (size_t)size);
    return;
  }
  struct zcp__buf *cur = &b->variadic[b->n_variadic - 1];
  int32_t index = (int32_t)(b->n_variadic - 1), offset = (int32_t)cur->size;
  memcpy(dst + 4, data, 4); /* prefix */
  memcpy(dst + 8, &index, 4);
  memcpy(dst + 12, &offset, 4);
  memcpy(cur->data + cur->size, data, (size_t)size);
  cur->size += size;
}

static zcp_status_t view_value_ok(struct zcp_builder *b, int64_t size) {
  if (size > INT32_MAX) {
    return zcp__builder_error(b, ZCP_INVALID_ARGUMENT,
                              "a value of %lld bytes does not fit a view (int32 size)",
                              (long long)size);
  }
  return ZCP_OK;
}

/* ---- appends -------------------------------------------------------------------------
 */

zcp_status_t zcp__binary_append(struct zcp_builder *b, const void *data, int64_t size) {
  enum zcp_type t = b->format.type;
  if (is_view(t)) {
    ZCP_RETURN_NOT_OK(view_value_ok(b, size));
    ZCP_RETURN_NOT_OK(zcp__buf_reserve(b, &b->buf[0], VIEW_SIZE));
    ZCP_RETURN_NOT_OK(zcp__validity_reserve(b, 1, false));
    if (size > VIEW_INLINE) ZCP_RETURN_NOT_OK(view_data_room(b, size));
    write_view(b, b->buf[0].data + b->buf[0].size, data, size);
    b->buf[0].size += VIEW_SIZE;
  } else {
    int64_t w = offset_width(t);
    ZCP_RETURN_NOT_OK(zcp__builder_offsets_start(b, &b->buf[0], w));
    int64_t end = zcp__offsets_last(&b->buf[0], w), new_end;
    if (!zcp__add_i64(end, size, &new_end) || new_end > max_offset(w)) {
      return offsets_full(b, end, size);
    }
    ZCP_RETURN_NOT_OK(zcp__buf_reserve(b, &b->buf[0], w));
    ZCP_RETURN_NOT_OK(zcp__buf_reserve(b, &b->buf[1], size));
    ZCP_RETURN_NOT_OK(zcp__validity_reserve(b, 1, false));
    if (size > 0) memcpy(b->buf[1].data + b->buf[1].size, data, (size_t)size);
    b->buf[1].size += size;
    put_offset(b->buf[0].data + b->buf[0].size, w, new_end);
    b->buf[0].size += w;
  }
  zcp__validity_append(b, 1, true);
  b->length++;
  return ZCP_OK;
}

zcp_status_t zcp__binary_append_slots(struct zcp_builder *b, int64_t n, bool valid) {
  enum zcp_type t = b->format.type;
  int64_t w = is_view(t) ? VIEW_SIZE : offset_width(t), bytes;
  if (!zcp__mul_i64(n, w, &bytes)) {
    return zcp__builder_error(b, ZCP_OUT_OF_MEMORY, "%lld elements are too many",
                              (long long)n);
  }
  if (!is_view(t)) ZCP_RETURN_NOT_OK(zcp__builder_offsets_start(b, &b->buf[0], w));
  ZCP_RETURN_NOT_OK(zcp__buf_reserve(b, &b->buf[0], bytes));
  ZCP_RETURN_NOT_OK(zcp__validity_reserve(b, n, !valid));
  uint8_t *dst = b->buf[0].data + b->buf[0].size;
  if (is_view(t)) {
    memset(dst, 0, (size_t)bytes); /* size 0, nothing inline */
  } else {
    int64_t end = zcp__offsets_last(&b->buf[0], w);
    for (int64_t i = 0; i < n; i++) put_offset(dst + i * w, w, end);
  }
  b->buf[0].size += bytes;
  zcp__validity_append(b, n, valid);
  b->length += n;
  if (!valid) b->null_count += n;
  return ZCP_OK;
}

zcp_status_t zcp__binary_reserve(struct zcp_builder *b, int64_t additional,
                                 int64_t additional_bytes) {
  enum zcp_type t = b->format.type;
  int64_t w = is_view(t) ? VIEW_SIZE : offset_width(t), bytes;
  if (!zcp__mul_i64(additional + (b->buf[0].size == 0 && !is_view(t)), w, &bytes)) {
    return zcp__builder_error(b, ZCP_OUT_OF_MEMORY, "%lld elements are too many",
                              (long long)additional);
  }
  ZCP_RETURN_NOT_OK(zcp__buf_reserve(b, &b->buf[0], bytes));
  ZCP_RETURN_NOT_OK(zcp__validity_reserve(b, additional, false));
  if (!is_view(t)) return zcp__buf_reserve(b, &b->buf[1], additional_bytes);
  if (additional_bytes == 0) return ZCP_OK;
  return view_data_room(b, ZCP_MIN(additional_bytes, ZCP__VIEW_BLOCK_MAX));
}

/* ---- bulk ----------------------------------------------------------------------------
 */

/* Checks caller offsets: start >= 0 and non-decreasing. */
static zcp_status_t check_offsets(struct zcp_builder *b, const int32_t *offsets,
                                  int64_t n) {
  if (offsets[0] < 0) {
    return zcp__builder_error(b, ZCP_INVALID_ARGUMENT, "first offset %d is negative",
                              offsets[0]);
  }
  for (int64_t i = 0; i < n; i++) {
    if (offsets[i + 1] < offsets[i]) {
      return zcp__builder_error(b, ZCP_INVALID_ARGUMENT,
                                "offsets decrease at value %lld (%d after %d)",
                                (long long)i, offsets[i + 1], offsets[i]);
    }
  }
  return ZCP_OK;
}

static zcp_status_t bulk_offsets(struct zcp_builder *b, const int32_t *offsets,
                                 const uint8_t *data, int64_t n) {
  int64_t w = offset_width(b->format.type);
  int64_t total = (int64_t)offsets[n] - offsets[0];
  ZCP_RETURN_NOT_OK(zcp__builder_offsets_start(b, &b->buf[0], w));
  int64_t end = zcp__offsets_last(&b->buf[0], w), new_end;
  if (!zcp__add_i64(end, total, &new_end) || new_end > max_offset(w)) {
    return offsets_full(b, end, total);
  }
  ZCP_RETURN_NOT_OK(zcp__buf_reserve(b, &b->buf[0], n * w));
  ZCP_RETURN_NOT_OK(zcp__buf_reserve(b, &b->buf[1], total));
  uint8_t *dst = b->buf[0].data + b->buf[0].size;
  int64_t delta = end - offsets[0];
  if (w == 4) {
    int32_t *o = (int32_t *)(void *)dst;
    for (int64_t i = 0; i < n; i++) o[i] = (int32_t)(offsets[i + 1] + delta);
  } else {
    int64_t *o = (int64_t *)(void *)dst;
    for (int64_t i = 0; i < n; i++) o[i] = offsets[i + 1] + delta;
  }
  if (total > 0)
    memcpy(b->buf[1].data + b->buf[1].size, data + offsets[0], (size_t)total);
  b->buf[0].size += n * w;
  b->buf[1].size += total;
  return ZCP_OK;
}

static zcp_status_t bulk_views(struct zcp_builder *b, const int32_t *offsets,
                               const uint8_t *data, int64_t n) {
  ZCP_RETURN_NOT_OK(zcp__buf_reserve(b, &b->buf[0], n * VIEW_SIZE));
  uint8_t *dst = b->buf[0].data + b->buf[0].size;
  for (int64_t i = 0; i < n; i++) {
    int64_t size = (int64_t)offsets[i + 1] - offsets[i];
    /* On failure here the views written so far are not committed; only unreferenced
     * bytes remain in the data buffers. */
    if (size > VIEW_INLINE) ZCP_RETURN_NOT_OK(view_data_room(b, size));
    write_view(b, dst + i * VIEW_SIZE, size > 0 ? data + offsets[i] : NULL, size);
  }
  b->buf[0].size += n * VIEW_SIZE;
  return ZCP_OK;
}

static zcp_status_t bulk_fixed(struct zcp_builder *b, const int32_t *offsets,
                               const uint8_t *data, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    if ((int64_t)offsets[i + 1] - offsets[i] != b->width) {
      return zcp__builder_error(
          b, ZCP_INVALID_ARGUMENT, "value %lld has %lld bytes, expected exactly %lld",
          (long long)i, (long long)offsets[i + 1] - offsets[i], (long long)b->width);
    }
  }
  int64_t bytes = (int64_t)offsets[n] - offsets[0]; /* == n * width, checked above */
  ZCP_RETURN_NOT_OK(zcp__buf_reserve(b, &b->buf[0], bytes));
  if (bytes > 0)
    memcpy(b->buf[0].data + b->buf[0].size, data + offsets[0], (size_t)bytes);
  b->buf[0].size += bytes;
  return ZCP_OK;
}

zcp_status_t zcp_builder_append_binaries(struct zcp_builder *b, const int32_t *offsets,
                                         const void *data, const uint8_t *validity,
                                         int64_t n) {
  if (b == NULL) return ZCP_INVALID_ARGUMENT;
  enum zcp_type t = b->format.type;
  if (!zcp__is_binary_type(t) && t != ZCP_TYPE_FIXED_SIZE_BINARY) {
    return zcp__builder_error(b, ZCP_INVALID_ARGUMENT,
                              "append_binaries does not apply to this type");
  }
  if (n < 0 || (n > 0 && offsets == NULL)) {
    return zcp__builder_error(b, ZCP_INVALID_ARGUMENT, "bad offsets (n %lld)",
                              (long long)n);
  }
  if (n == 0) return ZCP_OK;
  ZCP_RETURN_NOT_OK(check_offsets(b, offsets, n));
  int64_t room;
  if (!zcp__mul_i64(n, VIEW_SIZE, &room)) {
    return zcp__builder_error(b, ZCP_OUT_OF_MEMORY, "%lld values are too many",
                              (long long)n);
  }
  if (data == NULL && offsets[n] > 0) {
    return zcp__builder_error(b, ZCP_INVALID_ARGUMENT, "data is NULL");
  }
  int64_t len;
  if (!zcp__add_i64(b->length, n, &len)) {
    return zcp__builder_error(b, ZCP_NO_SPACE, "too many elements");
  }
  int64_t nulls = zcp__count_nulls(validity, n);
  if (nulls == 0) validity = NULL;
  /* Validity room first: the value writers below commit their buffers last. */
  ZCP_RETURN_NOT_OK(zcp__validity_reserve(b, n, nulls > 0));
  if (is_view(t)) {
    ZCP_RETURN_NOT_OK(bulk_views(b, offsets, data, n));
  } else if (t == ZCP_TYPE_FIXED_SIZE_BINARY) {
    ZCP_RETURN_NOT_OK(bulk_fixed(b, offsets, data, n));
  } else {
    ZCP_RETURN_NOT_OK(bulk_offsets(b, offsets, data, n));
  }
  zcp__validity_append_bytes(b, validity, n);
  b->length = len;
  b->null_count += nulls;
  return ZCP_OK;
}
