/* Schema metadata blobs in the C Data Interface encoding: an int32 pair count, then per
 * pair an int32 key length, the key bytes, an int32 value length and the value bytes,
 * all native endian and unaligned.
 *
 * Blobs often come from other libraries, so nothing here trusts a length: the reader
 * stops at the first negative one, and zcp__metadata_check never reads beyond the bound
 * it is given. Keys and values are bytes, not NUL-terminated strings. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/internal.h"
#include "common/util.h"

/* Blobs are unaligned: always go through memcpy. */
static int32_t load_i32(const char *p) {
  int32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

static void store_i32(char *p, int32_t v) {
  memcpy(p, &v, sizeof v);
}

zcp_status_t zcp__metadata_check(const char *md, int64_t max_size, int64_t *size,
                                 struct zcp_error *err) {
  if (size != NULL) *size = 0;
  if (md == NULL) return ZCP_OK;
  if (max_size < 4) {
    return zcp_error_set(err, ZCP_CORRUPT_INPUT,
                         "metadata: %lld bytes cannot hold the pair count",
                         (long long)max_size);
  }
  int32_t count = load_i32(md);
  if (count < 0) {
    return zcp_error_set(err, ZCP_CORRUPT_INPUT, "metadata: negative pair count %d",
                         (int)count);
  }
  int64_t pos = 4;
  for (int32_t i = 0; i < count; i++) {
    for (int part = 0; part < 2; part++) {
      const char *what = part == 0 ? "key" : "value";
      if (max_size - pos < 4) {
        return zcp_error_set(err, ZCP_CORRUPT_INPUT,
                             "metadata pair %d: %s length at byte %lld is past the end "
                             "(%lld bytes)",
                             (int)i, what, (long long)pos, (long long)max_size);
      }
      int32_t len = load_i32(md + pos);
      pos += 4;
      if (len < 0) {
        return zcp_error_set(err, ZCP_CORRUPT_INPUT,
                             "metadata pair %d: negative %s length %d", (int)i, what,
                             (int)len);
      }
      if (max_size - pos < len) {
        return zcp_error_set(
            err, ZCP_CORRUPT_INPUT,
            "metadata pair %d: %s of %d bytes at byte %lld runs past the "
            "end (%lld bytes)",
            (int)i, what, (int)len, (long long)pos, (long long)max_size);
      }
      pos += len;
    }
  }
  if (size != NULL) *size = pos;
  return ZCP_OK;
}

void zcp_metadata_reader_init(const char *metadata, struct zcp_metadata_reader *r) {
  r->next = metadata;
  r->remaining = 0;
  if (metadata == NULL) return;
  int32_t count = load_i32(metadata);
  r->next = metadata + 4;
  r->remaining = count > 0 ? count : 0;
}

bool zcp_metadata_reader_next(struct zcp_metadata_reader *r, struct zcp_string_view *key,
                              struct zcp_string_view *value) {
  if (r->remaining <= 0 || r->next == NULL) return false;
  int32_t klen = load_i32(r->next);
  if (klen < 0) goto malformed;
  const char *k = r->next + 4;
  int32_t vlen = load_i32(k + klen);
  if (vlen < 0) goto malformed;
  const char *v = k + klen + 4;
  r->next = v + vlen;
  r->remaining--;
  if (key != NULL) *key = (struct zcp_string_view){k, klen};
  if (value != NULL) *value = (struct zcp_string_view){v, vlen};
  return true;
malformed:
  /* A negative length means the blob is corrupt: report no more pairs rather than
   * walking backwards through memory. */
  r->remaining = 0;
  return false;
}

int64_t zcp_metadata_size(const char *metadata) {
  int64_t size;
  /* Without a known buffer size the only bound is the largest representable one;
   * negative lengths are still caught (-1). */
  if (zcp__metadata_check(metadata, INT64_MAX, &size, NULL) != ZCP_OK) return -1;
  return size;
}

bool zcp_metadata_get(const char *metadata, const char *key,
                      struct zcp_string_view *value) {
  if (key == NULL) return false;
  size_t klen = strlen(key);
  struct zcp_metadata_reader r;
  struct zcp_string_view k, v;
  zcp_metadata_reader_init(metadata, &r);
  while (zcp_metadata_reader_next(&r, &k, &v)) {
    if ((size_t)k.size == klen && memcmp(k.data, key, klen) == 0) {
      if (value != NULL) *value = v;
      return true;
    }
  }
  return false;
}

zcp_status_t zcp_metadata_build(int32_t n, const char *const *keys,
                                const char *const *values, char **out) {
  if (out == NULL) return ZCP_INVALID_ARGUMENT;
  *out = NULL;
  if (n < 0 || (n > 0 && (keys == NULL || values == NULL))) return ZCP_INVALID_ARGUMENT;
  int64_t total = 4;
  for (int32_t i = 0; i < n; i++) {
    if (keys[i] == NULL || values[i] == NULL) return ZCP_INVALID_ARGUMENT;
    size_t kl = strlen(keys[i]), vl = strlen(values[i]);
    if (kl > INT32_MAX || vl > INT32_MAX) return ZCP_INVALID_ARGUMENT;
    if (!zcp__add_i64(total, 8 + (int64_t)kl + (int64_t)vl, &total)) {
      return ZCP_INVALID_ARGUMENT;
    }
  }
  if ((uint64_t)total > SIZE_MAX) return ZCP_OUT_OF_MEMORY;
  char *blob = malloc((size_t)total);
  if (blob == NULL) return ZCP_OUT_OF_MEMORY;
  char *p = blob;
  store_i32(p, n);
  p += 4;
  for (int32_t i = 0; i < n; i++) {
    const char *parts[2] = {keys[i], values[i]};
    for (int j = 0; j < 2; j++) {
      int32_t len = (int32_t)strlen(parts[j]);
      store_i32(p, len);
      memcpy(p + 4, parts[j], (size_t)len);
      p += 4 + len;
    }
  }
  *out = blob;
  return ZCP_OK;
}
