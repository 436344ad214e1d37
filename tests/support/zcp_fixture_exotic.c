/* See zcp_fixture.h: the rarer types. Values are functions of the row as in the main
 * fixture; tests compare producers and consumers against each other through the
 * printer, so the exact values matter less than covering every layout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zcp_fixture.h"

struct col {
  const char *name, *format;
  int n_children;
};

static const struct col kExotic[] = {
    {"nothing", "n", 0},    {"half", "e", 0},      {"big", "d:40,3,256", 0},
    {"dur", "tDm", 0},      {"months", "tiM", 0},  {"daytime", "tiD", 0},
    {"mdn", "tin", 0},      {"fsb", "w:3", 0},     {"bview", "vz", 0},
    {"lbin", "Z", 0},       {"llist", "+L", 1},    {"lview", "+vl", 1},
    {"pair", "+w:2", 1},    {"attrs", "+m", 1},    {"sunion", "+us:0,1", 2},
    {"dunion", "+ud:5,7", 2}, {"runs", "+r", 2},   {"d64", "tdm", 0},
    {"t32", "ttm", 0},      {"tsn", "tsn:", 0},    {"dict8", "c", 0},
    {"dec32", "d:9,2,32", 0}, {"dec64", "d:18,4,64", 0},
};
#define N_EXOTIC (int)(sizeof kExotic / sizeof kExotic[0])

zcp_status_t zcp_fixture_exotic_schema(struct ArrowSchema *out, struct zcp_error *err) {
  ZCP_RETURN_NOT_OK(zcp_schema_init("+s", "", 0, N_EXOTIC, out, err));
  zcp_status_t st = ZCP_OK;
  for (int c = 0; c < N_EXOTIC && st == ZCP_OK; c++) {
    const char *fmt = kExotic[c].format;
    bool unions_or_runs = fmt[0] == '+' && (fmt[1] == 'u' || fmt[1] == 'r');
    st = zcp_schema_set_child(out, c, fmt, kExotic[c].name,
                              unions_or_runs ? 0 : ARROW_FLAG_NULLABLE,
                              kExotic[c].n_children, err);
    if (st != ZCP_OK) break;
    struct ArrowSchema *f = out->children[c];
    if (strcmp(fmt, "+L") == 0 || strcmp(fmt, "+vl") == 0 || strcmp(fmt, "+w:2") == 0) {
      st = zcp_schema_set_child(f, 0, "i", "item", ARROW_FLAG_NULLABLE, 0, err);
    } else if (strcmp(fmt, "+m") == 0) {
      st = zcp_schema_set_child(f, 0, "+s", "entries", 0, 2, err);
      if (st == ZCP_OK)
        st = zcp_schema_set_child(f->children[0], 0, "u", "key", 0, 0, err);
      if (st == ZCP_OK)
        st = zcp_schema_set_child(f->children[0], 1, "i", "value", ARROW_FLAG_NULLABLE, 0,
                                  err);
    } else if (fmt[1] == 'u') {
      st = zcp_schema_set_child(f, 0, fmt[2] == 's' ? "i" : "l", "num",
                                ARROW_FLAG_NULLABLE, 0, err);
      if (st == ZCP_OK)
        st = zcp_schema_set_child(f, 1, "u", "text", ARROW_FLAG_NULLABLE, 0, err);
    } else if (strcmp(fmt, "+r") == 0) {
      st = zcp_schema_set_child(f, 0, "i", "run_ends", 0, 0, err);
      if (st == ZCP_OK)
        st = zcp_schema_set_child(f, 1, "u", "values", ARROW_FLAG_NULLABLE, 0, err);
    } else if (strcmp(kExotic[c].name, "dict8") == 0) {
      st = zcp_schema_alloc_dictionary(f);
      if (st == ZCP_OK)
        st = zcp_schema_init("U", "", ARROW_FLAG_NULLABLE, 0, f->dictionary, err);
    }
  }
  if (st != ZCP_OK) zcp_schema_release(out);
  return st;
}

static zcp_status_t append_exotic(struct zcp_builder *b, int c, int64_t r) {
  char s[64];
  bool null = zcp_fixture_null(r);
  const char *name = kExotic[c].name;
  const char *fmt = kExotic[c].format;
  if (strcmp(fmt, "n") == 0) return zcp_builder_append_null(b, 1);
  if (fmt[0] == '+' && fmt[1] == 'u') { /* unions: even rows numbers, odd rows text */
    int8_t ids[2] = {fmt[2] == 's' ? 0 : 5, fmt[2] == 's' ? 1 : 7};
    int which = (int)(r % 2);
    ZCP_RETURN_NOT_OK(zcp_builder_append_union(b, ids[which]));
    struct zcp_builder *ch = zcp_builder_union_child(b, ids[which]);
    if (null) return zcp_builder_append_null(ch, 1);
    if (which == 0) return zcp_builder_append_int(ch, r * 11);
    return zcp_builder_append_bytes(ch, s, snprintf(s, sizeof s, "u%lld", (long long)r));
  }
  if (strcmp(fmt, "+r") == 0) { /* a run per row: a struct child advances by one */
    struct zcp_builder *values = zcp_builder_child(b, 1);
    ZCP_RETURN_NOT_OK(null ? zcp_builder_append_null(values, 1)
                           : zcp_builder_append_bytes(values, s, snprintf(s, sizeof s, "run%lld",
                                                                          (long long)r)));
    return zcp_builder_append_run(b, 1);
  }
  if (null) return zcp_builder_append_null(b, 1);
  if (strcmp(name, "half") == 0) return zcp_builder_append_double(b, (double)(r % 64) * 0.5);
  if (strcmp(name, "big") == 0) return zcp_builder_append_int(b, -r * 1000003);
  if (strcmp(name, "dur") == 0 || strcmp(name, "months") == 0) {
    return zcp_builder_append_int(b, r * 3 - 100);
  }
  if (strcmp(name, "daytime") == 0) return zcp_builder_append_interval(b, 0, (int32_t)r, r * 7);
  if (strcmp(name, "mdn") == 0) {
    return zcp_builder_append_interval(b, (int32_t)(r % 12), (int32_t)r, r * 1000000007LL);
  }
  if (strcmp(name, "fsb") == 0) {
    char v[3] = {(char)r, (char)(r >> 8), 'z'};
    return zcp_builder_append_bytes(b, v, 3);
  }
  if (strcmp(name, "bview") == 0 || strcmp(name, "lbin") == 0) {
    int len = snprintf(s, sizeof s, r % 2 ? "%lld" : "binary-value-longer-than-twelve-%lld",
                     (long long)r);
    return zcp_builder_append_bytes(b, s, len);
  }
  if (fmt[0] == '+' && fmt[1] != 'm') { /* large list, list view, fixed-size list */
    struct zcp_builder *items = zcp_builder_child(b, 0);
    int64_t len = strcmp(fmt, "+w:2") == 0 ? 2 : r % 3;
    for (int64_t k = 0; k < len; k++) {
      ZCP_RETURN_NOT_OK(k == 1 && r % 5 == 0 ? zcp_builder_append_null(items, 1)
                                             : zcp_builder_append_int(items, r + k));
    }
    return zcp_builder_finish_element(b);
  }
  if (strcmp(fmt, "+m") == 0) {
    struct zcp_builder *entries = zcp_builder_child(b, 0);
    for (int64_t k = 0; k < r % 3; k++) {
      ZCP_RETURN_NOT_OK(zcp_builder_append_bytes(zcp_builder_child(entries, 0), s,
                                                 snprintf(s, sizeof s, "k%lld", (long long)k)));
      ZCP_RETURN_NOT_OK(zcp_builder_append_int(zcp_builder_child(entries, 1), r * k));
      ZCP_RETURN_NOT_OK(zcp_builder_finish_element(entries));
    }
    return zcp_builder_finish_element(b);
  }
  if (strcmp(name, "d64") == 0) return zcp_builder_append_int(b, (r % 1000) * 86400000LL);
  if (strcmp(name, "t32") == 0) return zcp_builder_append_int(b, (r % 86400) * 1000 + 5);
  if (strcmp(name, "tsn") == 0) return zcp_builder_append_int(b, r * 1000000000LL + 1);
  if (strcmp(name, "dict8") == 0) return zcp_builder_append_int(b, r % 3);
  if (strcmp(name, "dec32") == 0) return zcp_builder_append_int(b, fx_dec32(r));
  if (strcmp(name, "dec64") == 0) return zcp_builder_append_int(b, fx_dec64(r));
  return ZCP_INVALID_ARGUMENT;
}

zcp_status_t zcp_fixture_exotic_batch(int64_t n, struct zcp_allocator *alloc,
                                      struct ArrowArray *out, struct zcp_error *err) {
  struct ArrowSchema schema;
  ZCP_RETURN_NOT_OK(zcp_fixture_exotic_schema(&schema, err));
  struct zcp_builder *b = NULL;
  zcp_status_t st = zcp_builder_init(&schema, alloc, &b, err);
  zcp_schema_release(&schema);
  if (st != ZCP_OK) return st;
  for (int c = 0; c < N_EXOTIC && st == ZCP_OK; c++) {
    if (strcmp(kExotic[c].name, "dict8") != 0) continue;
    struct zcp_builder *dict = zcp_builder_dictionary(zcp_builder_child(b, c));
    const char *words[] = {"alpha", "beta", "gamma"};
    for (int k = 0; k < 3 && st == ZCP_OK; k++) st = zcp_builder_append_string(dict, words[k]);
  }
  for (int64_t r = 0; r < n && st == ZCP_OK; r++) {
    for (int c = 0; c < N_EXOTIC && st == ZCP_OK; c++) {
      st = append_exotic(zcp_builder_child(b, c), c, r);
      if (st != ZCP_OK) {
        zcp_error_set(err, st, "fixture: column '%s' row %lld", kExotic[c].name, (long long)r);
      }
    }
    if (st == ZCP_OK) {
      st = zcp_builder_finish_element(b);
      if (st != ZCP_OK) zcp_error_set(err, st, "fixture: closing row %lld failed", (long long)r);
    }
  }
  if (st == ZCP_OK) st = zcp_builder_finish(b, out, NULL, err);
  zcp_builder_release(b);
  return st;
}

zcp_status_t zcp_fixture_shared_dict_schema(struct ArrowSchema *out, struct zcp_error *err) {
  ZCP_RETURN_NOT_OK(zcp_schema_init("+s", "", 0, 3, out, err));
  const char *fmt[3] = {"l", "i", "c"}, *name[3] = {"r", "paint", "trim"};
  zcp_status_t st = ZCP_OK;
  for (int c = 0; c < 3 && st == ZCP_OK; c++) {
    st = zcp_schema_set_child(out, c, fmt[c], name[c], c ? ARROW_FLAG_NULLABLE : 0, 0, err);
    if (st == ZCP_OK && c > 0) st = zcp_schema_alloc_dictionary(out->children[c]);
    if (st == ZCP_OK && c > 0) {
      st = zcp_schema_init("u", NULL, ARROW_FLAG_NULLABLE, 0, out->children[c]->dictionary, err);
    }
  }
  if (st != ZCP_OK) zcp_schema_release(out);
  return st;
}

zcp_status_t zcp_fixture_shared_dict_batch(int64_t first, int64_t n, struct ArrowArray *out,
                                           struct zcp_error *err) {
  struct ArrowSchema schema;
  ZCP_RETURN_NOT_OK(zcp_fixture_shared_dict_schema(&schema, err));
  struct zcp_builder *b = NULL;
  zcp_status_t st = zcp_builder_init(&schema, NULL, &b, err);
  zcp_schema_release(&schema);
  if (st != ZCP_OK) return st;
  for (int c = 1; c < 3 && st == ZCP_OK; c++) {
    struct zcp_builder *d = zcp_builder_dictionary(zcp_builder_child(b, c));
    for (int k = 0; k < 5 && st == ZCP_OK; k++) st = zcp_builder_append_string(d, zcp_fixture_colors[k]);
  }
  for (int64_t r = first; r < first + n && st == ZCP_OK; r++) {
    st = zcp_builder_append_int(zcp_builder_child(b, 0), r);
    if (st == ZCP_OK) st = zcp_builder_append_int(zcp_builder_child(b, 1), fx_dict_index(r));
    if (st == ZCP_OK) {
      st = zcp_fixture_null(r) ? zcp_builder_append_null(zcp_builder_child(b, 2), 1)
                               : zcp_builder_append_int(zcp_builder_child(b, 2), (r + 2) % 5);
    }
    if (st == ZCP_OK) st = zcp_builder_finish_element(b);
  }
  if (st != ZCP_OK) {
    zcp_error_set(err, st, "fixture: %s", zcp_builder_last_error(b));
  } else {
    st = zcp_builder_finish(b, out, NULL, err);
  }
  zcp_builder_release(b);
  return st;
}

zcp_status_t zcp_fixture_growing_dict_schema(struct ArrowSchema *out, struct zcp_error *err) {
  ZCP_RETURN_NOT_OK(zcp_schema_init("+s", "", 0, 1, out, err));
  zcp_status_t st = zcp_schema_set_child(out, 0, "i", "word", ARROW_FLAG_NULLABLE, 0, err);
  if (st == ZCP_OK) st = zcp_schema_alloc_dictionary(out->children[0]);
  if (st == ZCP_OK) {
    st = zcp_schema_init("u", NULL, ARROW_FLAG_NULLABLE, 0, out->children[0]->dictionary, err);
  }
  if (st != ZCP_OK) zcp_schema_release(out);
  return st;
}

zcp_status_t zcp_fixture_growing_dict_batch(int k, struct ArrowArray *out,
                                            struct zcp_error *err) {
  struct ArrowSchema schema;
  ZCP_RETURN_NOT_OK(zcp_fixture_growing_dict_schema(&schema, err));
  struct zcp_builder *b = NULL;
  zcp_status_t st = zcp_builder_init(&schema, NULL, &b, err);
  zcp_schema_release(&schema);
  if (st != ZCP_OK) return st;
  struct zcp_builder *col = zcp_builder_child(b, 0);
  char w[16];
  for (int i = 0; i < 2 * k + 2 && st == ZCP_OK; i++) {
    snprintf(w, sizeof w, "w%d", i);
    st = zcp_builder_append_string(zcp_builder_dictionary(col), w);
  }
  for (int64_t r = 0; r < 10 && st == ZCP_OK; r++) {
    st = zcp_fixture_null(r) ? zcp_builder_append_null(col, 1)
                             : zcp_builder_append_int(col, (r * 7 + k) % (2 * k + 2));
    if (st == ZCP_OK) st = zcp_builder_finish_element(b);
  }
  if (st == ZCP_OK) st = zcp_builder_finish(b, out, NULL, err);
  zcp_builder_release(b);
  return st;
}

/* ---- canonical extension types -------------------------------------------------------- */

static const struct {
  const char *name, *format, *ext, *params;
} kExtensions[] = {
    {"id", "w:16", "arrow.uuid", ""},
    {"doc", "u", "arrow.json", "{}"},
    {"docv", "vu", "arrow.json", ""},
    {"ok", "c", "arrow.bool8", ""},
    {"tensor", "+w:6", "arrow.fixed_shape_tensor", "{\"shape\":[2,3],\"dim_names\":[\"y\",\"x\"]}"},
    {"blob", "z", "arrow.opaque", "{\"type_name\":\"geometry\",\"vendor_name\":\"PostGIS\"}"},
    {"gone", "n", "arrow.opaque", "{\"type_name\":\"varray\",\"vendor_name\":\"Oracle\"}"},
};
#define N_EXT (int)(sizeof kExtensions / sizeof kExtensions[0])
static char *ext_metadata[N_EXT];

const char *zcp_fixture_extension_metadata(int c) {
  if (c < 0 || c >= N_EXT) return NULL;
  if (ext_metadata[c] == NULL) {
    const char *keys[] = {"ARROW:extension:name", "ARROW:extension:metadata"};
    const char *values[] = {kExtensions[c].ext, kExtensions[c].params};
    if (zcp_metadata_build(2, keys, values, &ext_metadata[c]) != ZCP_OK) return NULL;
  }
  return ext_metadata[c];
}

zcp_status_t zcp_fixture_extension_schema(struct ArrowSchema *out, struct zcp_error *err) {
  ZCP_RETURN_NOT_OK(zcp_schema_init("+s", "", 0, N_EXT, out, err));
  zcp_status_t st = ZCP_OK;
  for (int c = 0; c < N_EXT && st == ZCP_OK; c++) {
    bool tensor = strcmp(kExtensions[c].format, "+w:6") == 0;
    st = zcp_schema_set_child(out, c, kExtensions[c].format, kExtensions[c].name,
                              tensor ? 0 : ARROW_FLAG_NULLABLE, tensor ? 1 : 0, err);
    if (st == ZCP_OK && tensor) {
      st = zcp_schema_set_child(out->children[c], 0, "f", "item", 0, 0, err);
    }
    const char *md = zcp_fixture_extension_metadata(c);
    if (st == ZCP_OK) st = md != NULL ? zcp_schema_set_metadata(out->children[c], md) : ZCP_OUT_OF_MEMORY;
  }
  if (st != ZCP_OK) zcp_schema_release(out);
  return st;
}

static zcp_status_t append_extension(struct zcp_builder *b, int c, int64_t r) {
  const char *name = kExtensions[c].name;
  char s[96];
  if (strcmp(name, "tensor") == 0) {
    for (int k = 0; k < 6; k++) {
      ZCP_RETURN_NOT_OK(zcp_builder_append_double(zcp_builder_child(b, 0), (double)(r * 10 + k)));
    }
    return zcp_builder_finish_element(b);
  }
  if (zcp_fixture_null(r) || strcmp(name, "gone") == 0) return zcp_builder_append_null(b, 1);
  if (strcmp(name, "id") == 0) {
    uint8_t u[16];
    for (int k = 0; k < 16; k++) u[k] = (uint8_t)(r * 16 + k);
    return zcp_builder_append_bytes(b, u, 16);
  }
  if (strcmp(name, "doc") == 0) {
    return zcp_builder_append_bytes(b, s, snprintf(s, sizeof s, "{\"row\": %lld}", (long long)r));
  }
  if (strcmp(name, "docv") == 0) {
    return zcp_builder_append_bytes(
        b, s, snprintf(s, sizeof s, "{\"row\": %lld, \"note\": \"a\\nb\"}", (long long)r));
  }
  if (strcmp(name, "ok") == 0) return zcp_builder_append_int(b, r % 3);
  if (strcmp(name, "blob") == 0) {
    uint8_t g[3] = {0x01, (uint8_t)r, 0xff};
    return zcp_builder_append_bytes(b, g, 3);
  }
  return ZCP_INVALID_ARGUMENT;
}

zcp_status_t zcp_fixture_extension_batch(int64_t n, struct zcp_allocator *alloc,
                                         struct ArrowArray *out, struct zcp_error *err) {
  struct ArrowSchema schema;
  ZCP_RETURN_NOT_OK(zcp_fixture_extension_schema(&schema, err));
  struct zcp_builder *b = NULL;
  zcp_status_t st = zcp_builder_init(&schema, alloc, &b, err);
  zcp_schema_release(&schema);
  if (st != ZCP_OK) return st;
  for (int64_t r = 0; r < n && st == ZCP_OK; r++) {
    for (int c = 0; c < N_EXT && st == ZCP_OK; c++) {
      st = append_extension(zcp_builder_child(b, c), c, r);
      if (st != ZCP_OK) zcp_error_set(err, st, "fixture: %s", zcp_builder_last_error(b));
    }
    if (st == ZCP_OK) st = zcp_builder_finish_element(b);
  }
  if (st == ZCP_OK) st = zcp_builder_finish(b, out, NULL, err);
  zcp_builder_release(b);
  return st;
}
