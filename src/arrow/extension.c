/* Extension types as the printer sees them. An extension type is a storage type plus two
 * field metadata keys (ARROW:extension:name, ARROW:extension:metadata); everything in
 * zcpool already carries them untouched (schemas, IPC, descriptors). Only printing looks
 * inside, to show Arrow's canonical extension types (CanonicalExtensions.rst) as what
 * they mean: a UUID as a UUID, a tensor with its shape. Reads metadata only through the
 * checked reader; never allocates; a malformed parameter means "print the storage". */
#include <string.h>

#include "arrow/internal.h"

#define NAME_KEY "ARROW:extension:name"
#define META_KEY "ARROW:extension:metadata"

static bool is(struct zcp_string_view s, const char *lit) {
  size_t n = strlen(lit);
  return (size_t)s.size == n && memcmp(s.data, lit, n) == 0;
}

bool zcp__extension_of(const struct ArrowSchema *s, struct zcp__extension *out) {
  memset(out, 0, sizeof *out);
  if (s == NULL || s->metadata == NULL || zcp_metadata_size(s->metadata) < 0)
    return false;
  if (!zcp_metadata_get(s->metadata, NAME_KEY, &out->name)) return false;
  if (!zcp_metadata_get(s->metadata, META_KEY, &out->params)) {
    out->params = (struct zcp_string_view){"", 0};
  }
  struct zcp_format f;
  bool parsed = zcp_format_parse(s->format, &f, NULL) == ZCP_OK && s->dictionary == NULL;
  /* A canonical name on a storage type its definition does not allow is shown as any
   * other extension: the name and the storage. */
  out->kind = ZCP_EXT_OTHER;
  if (is(out->name, "arrow.uuid")) {
    if (parsed && f.type == ZCP_TYPE_FIXED_SIZE_BINARY && f.fixed_size == 16) {
      out->kind = ZCP_EXT_UUID;
    }
  } else if (is(out->name, "arrow.json")) {
    if (parsed && (f.type == ZCP_TYPE_STRING || f.type == ZCP_TYPE_LARGE_STRING ||
                   f.type == ZCP_TYPE_STRING_VIEW)) {
      out->kind = ZCP_EXT_JSON;
    }
  } else if (is(out->name, "arrow.bool8")) {
    if (parsed && f.type == ZCP_TYPE_INT8) out->kind = ZCP_EXT_BOOL8;
  } else if (is(out->name, "arrow.fixed_shape_tensor")) {
    if (parsed && f.type == ZCP_TYPE_FIXED_SIZE_LIST) out->kind = ZCP_EXT_TENSOR;
  } else if (is(out->name, "arrow.opaque")) {
    out->kind = ZCP_EXT_OPAQUE;
  }
  return true;
}

/* Skips JSON white space. */
static const char *skip_ws(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

int zcp__extension_shape(struct zcp_string_view params, int64_t *dims, int max) {
  /* The first "shape" key followed by ':' and an array of non-negative integers: enough
   * for the parameters Arrow's implementations write, without a JSON parser. */
  const char *p = params.data, *end = params.data + params.size;
  const char *key = NULL;
  for (const char *q = p; q + 7 <= end; q++) {
    if (memcmp(q, "\"shape\"", 7) == 0) {
      key = q + 7;
      break;
    }
  }
  if (key == NULL) return -1;
  p = skip_ws(key, end);
  if (p >= end || *p++ != ':') return -1;
  p = skip_ws(p, end);
  if (p >= end || *p++ != '[') return -1;
  int n = 0;
  p = skip_ws(p, end);
  if (p < end && *p == ']') return 0;
  for (;;) {
    p = skip_ws(p, end);
    if (p >= end || *p < '0' || *p > '9' || n >= max) return -1;
    int64_t v = 0;
    while (p < end && *p >= '0' && *p <= '9') {
      if (v > (INT64_MAX - 9) / 10) return -1;
      v = v * 10 + (*p++ - '0');
    }
    dims[n++] = v;
    p = skip_ws(p, end);
    if (p < end && *p == ',') {
      p++;
      continue;
    }
    return p < end && *p == ']' ? n : -1;
  }
}
