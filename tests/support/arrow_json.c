/* See arrow_json.h: loading the integration JSON, its schema, and comparing arrays with
 * it. The comparison walks the JSON element by element and asks the zcp_array_view
 * getters, so it holds any producer (our reader, our builders) to the same truth and
 * never looks at buffers a getter would not. */
#define _POSIX_C_SOURCE 200809L
#include "arrow_json.h"

#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "zcp_test.h"

/* ---- the gold folder --------------------------------------------------------------- */

const char *zcp_json_gold_dir(void) {
  static char path[4096];
  const char *env = getenv("ZCP_ARROW_TESTING");
  if (env != NULL) {
    snprintf(path, sizeof path, "%s", env);
  } else {
    snprintf(path, sizeof path, "%s/../shared/arrow-testing", zcp_test_source_dir());
  }
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? path : NULL;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int zcp_json_gold_cases(char ***names) {
  *names = NULL;
  const char *dir = zcp_json_gold_dir();
  DIR *d = dir ? opendir(dir) : NULL;
  if (d == NULL) return -1;
  int n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name);
    if (len <= 8 || strcmp(e->d_name + len - 8, ".json.gz") != 0) continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      *names = realloc(*names, (size_t)cap * sizeof **names);
    }
    (*names)[n++] = strndup(e->d_name, len - 8);
  }
  closedir(d);
  if (n > 0) qsort(*names, (size_t)n, sizeof **names, cmp_names);
  return n;
}

void zcp_json_gold_cases_free(char **names, int n) {
  for (int k = 0; k < n; k++) free(names[k]);
  free(names);
}

/* ---- loading ----------------------------------------------------------------------- */

zcp_status_t zcp_json_file_load(const char *path, struct zcp_json_file **out,
                                struct zcp_error *err) {
  gzFile gz = gzopen(path, "rb");
  if (gz == NULL) return zcp_error_set(err, ZCP_IO_ERROR, "cannot open %s", path);
  size_t cap = 1 << 20, size = 0;
  char *text = malloc(cap);
  int got;
  while (text != NULL && (got = gzread(gz, text + size, (unsigned)(cap - size - 1))) > 0) {
    size += (size_t)got;
    if (cap - size < 2) {
      char *bigger = realloc(text, cap * 2);
      if (bigger == NULL) free(text);
      text = bigger;
      cap *= 2;
    }
  }
  gzclose(gz);
  if (text == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "reading %s", path);
  json_error_t jerr;
  json_t *root = json_loadb(text, size, 0, &jerr);
  free(text);
  if (root == NULL) {
    return zcp_error_set(err, ZCP_CORRUPT_INPUT, "%s:%d: %s", path, jerr.line, jerr.text);
  }
  json_t *schema = json_object_get(root, "schema");
  struct zcp_json_file *f = calloc(1, sizeof *f);
  f->root = root;
  f->fields = json_object_get(schema, "fields");
  f->metadata = json_object_get(schema, "metadata");
  f->batches = json_object_get(root, "batches");
  f->dictionaries = json_object_get(root, "dictionaries");
  if (!json_is_array(f->fields) || !json_is_array(f->batches)) {
    zcp_json_file_free(f);
    return zcp_error_set(err, ZCP_CORRUPT_INPUT, "%s: no schema.fields or batches", path);
  }
  *out = f;
  return ZCP_OK;
}

void zcp_json_file_free(struct zcp_json_file *f) {
  if (f == NULL) return;
  json_decref(f->root);
  free(f);
}

int64_t zcp_json_file_num_batches(const struct zcp_json_file *f) {
  return (int64_t)json_array_size(f->batches);
}

int64_t zcp_json_file_batch_rows(const struct zcp_json_file *f, int64_t i) {
  return json_integer_value(json_object_get(json_array_get(f->batches, (size_t)i), "count"));
}

/* ---- small decoders ---------------------------------------------------------------- */

json_t *zcp__json_dictionary(const struct zcp_json_file *f, int64_t id) {
  size_t k;
  json_t *d;
  json_array_foreach(f->dictionaries, k, d) {
    if (json_integer_value(json_object_get(d, "id")) == id) {
      return json_array_get(json_object_get(json_object_get(d, "data"), "columns"), 0);
    }
  }
  return NULL;
}

json_t *zcp__json_values_field(json_t *field) {
  json_t *copy = json_copy(field);
  json_object_del(copy, "dictionary");
  return copy;
}

bool zcp__json_int(json_t *col, const char *member, int64_t j, int64_t *out) {
  json_t *v = json_array_get(json_object_get(col, member), (size_t)j);
  if (json_is_integer(v)) return *out = json_integer_value(v), true;
  if (json_is_boolean(v)) return *out = json_is_true(v), true;
  if (!json_is_string(v)) return false;
  char *end;
  *out = strtoll(json_string_value(v), &end, 10);
  return *end == 0;
}

bool zcp__json_uint(json_t *col, const char *member, int64_t j, uint64_t *out) {
  json_t *v = json_array_get(json_object_get(col, member), (size_t)j);
  if (json_is_integer(v)) return *out = (uint64_t)json_integer_value(v), true;
  if (!json_is_string(v)) return false;
  char *end;
  *out = strtoull(json_string_value(v), &end, 10);
  return *end == 0;
}

bool zcp__json_valid(json_t *col, int64_t j) {
  json_t *validity = json_object_get(col, "VALIDITY");
  if (validity == NULL) return true;
  json_t *v = json_array_get(validity, (size_t)j);
  return json_is_true(v) || json_integer_value(v) != 0;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int64_t zcp__json_hex(const char *hex, uint8_t *out, int64_t cap) {
  int64_t n = (int64_t)strlen(hex);
  if (n % 2 != 0 || n / 2 > cap) return -1;
  for (int64_t k = 0; k < n / 2; k++) {
    int hi = hex_digit(hex[2 * k]), lo = hex_digit(hex[2 * k + 1]);
    if (hi < 0 || lo < 0) return -1;
    out[k] = (uint8_t)(hi * 16 + lo);
  }
  return n / 2;
}

bool zcp__json_decimal(const char *text, uint8_t *out, int width) {
  bool neg = *text == '-';
  if (neg || *text == '+') text++;
  memset(out, 0, (size_t)width);
  if (*text == 0) return false;
  for (; *text; text++) {
    if (*text < '0' || *text > '9') return false;
    unsigned carry = (unsigned)(*text - '0');
    for (int k = 0; k < width; k++) { /* out = out * 10 + digit */
      unsigned x = out[k] * 10u + carry;
      out[k] = (uint8_t)x;
      carry = x >> 8;
    }
  }
  if (neg) { /* two's complement: invert and add one */
    unsigned carry = 1;
    for (int k = 0; k < width; k++) {
      unsigned x = (uint8_t)~out[k] + carry;
      out[k] = (uint8_t)x;
      carry = x >> 8;
    }
  }
  return true;
}

static int64_t copy_text(const char *s, bool is_text, uint8_t **out) {
  int64_t n = (int64_t)strlen(s);
  *out = malloc((size_t)n + 1);
  if (is_text) {
    memcpy(*out, s, (size_t)n);
    return n;
  }
  return zcp__json_hex(s, *out, n);
}

int64_t zcp__json_bytes(json_t *col, int64_t j, bool is_text, uint8_t **out) {
  *out = NULL;
  json_t *views = json_object_get(col, "VIEWS");
  if (views == NULL) {
    json_t *v = json_array_get(json_object_get(col, "DATA"), (size_t)j);
    return json_is_string(v) ? copy_text(json_string_value(v), is_text, out) : -1;
  }
  json_t *view = json_array_get(views, (size_t)j);
  json_t *inlined = json_object_get(view, "INLINED");
  if (json_is_string(inlined)) return copy_text(json_string_value(inlined), is_text, out);
  int64_t size = json_integer_value(json_object_get(view, "SIZE"));
  int64_t index = json_integer_value(json_object_get(view, "BUFFER_INDEX"));
  int64_t offset = json_integer_value(json_object_get(view, "OFFSET"));
  json_t *buf = json_array_get(json_object_get(col, "VARIADIC_DATA_BUFFERS"), (size_t)index);
  if (!json_is_string(buf)) return -1;
  uint8_t *all;
  int64_t n = copy_text(json_string_value(buf), false, &all);
  if (n < 0 || offset < 0 || size < 0 || offset + size > n) {
    free(all);
    return -1;
  }
  *out = malloc((size_t)size + 1);
  memcpy(*out, all + offset, (size_t)size);
  free(all);
  return size;
}

/* ---- schema ------------------------------------------------------------------------ */

static char unit_char(const char *unit) {
  if (unit == NULL) return '?';
  if (strcmp(unit, "SECOND") == 0) return 's';
  if (strcmp(unit, "MILLISECOND") == 0) return 'm';
  if (strcmp(unit, "MICROSECOND") == 0) return 'u';
  if (strcmp(unit, "NANOSECOND") == 0) return 'n';
  return '?';
}

/* Format string of a JSON type object. */
static bool type_format(json_t *type, char *buf, size_t cap) {
  const char *name = json_string_value(json_object_get(type, "name"));
  const char *unit = json_string_value(json_object_get(type, "unit"));
  int64_t bits = json_integer_value(json_object_get(type, "bitWidth"));
  if (name == NULL) return false;
  static const struct {
    const char *json, *format;
  } kSimple[] = {
      {"null", "n"},         {"bool", "b"},           {"binary", "z"},
      {"largebinary", "Z"},  {"utf8", "u"},           {"largeutf8", "U"},
      {"binaryview", "vz"},  {"utf8view", "vu"},      {"list", "+l"},
      {"largelist", "+L"},   {"listview", "+vl"},     {"largelistview", "+vL"},
      {"struct", "+s"},      {"map", "+m"},           {"runendencoded", "+r"},
  };
  for (size_t k = 0; k < sizeof kSimple / sizeof kSimple[0]; k++) {
    if (strcmp(name, kSimple[k].json) == 0) return snprintf(buf, cap, "%s", kSimple[k].format) > 0;
  }
  if (strcmp(name, "int") == 0) {
    bool sign = json_is_true(json_object_get(type, "isSigned"));
    const char *f = bits == 8 ? "cC" : bits == 16 ? "sS" : bits == 32 ? "iI" : bits == 64 ? "lL" : NULL;
    return f != NULL && snprintf(buf, cap, "%c", f[sign ? 0 : 1]) > 0;
  }
  if (strcmp(name, "floatingpoint") == 0) {
    const char *p = json_string_value(json_object_get(type, "precision"));
    const char *f = p == NULL ? NULL : strcmp(p, "HALF") == 0 ? "e" : strcmp(p, "SINGLE") == 0 ? "f" : "g";
    return f != NULL && snprintf(buf, cap, "%s", f) > 0;
  }
  if (strcmp(name, "fixedsizebinary") == 0) {
    return snprintf(buf, cap, "w:%lld", json_integer_value(json_object_get(type, "byteWidth"))) > 0;
  }
  if (strcmp(name, "fixedsizelist") == 0) {
    return snprintf(buf, cap, "+w:%lld", json_integer_value(json_object_get(type, "listSize"))) > 0;
  }
  if (strcmp(name, "decimal") == 0) {
    return snprintf(buf, cap, "d:%lld,%lld,%lld",
                    json_integer_value(json_object_get(type, "precision")),
                    json_integer_value(json_object_get(type, "scale")), (long long)(bits ? bits : 128)) > 0;
  }
  if (strcmp(name, "date") == 0) return snprintf(buf, cap, "td%c", unit && strcmp(unit, "DAY") == 0 ? 'D' : 'm') > 0;
  if (strcmp(name, "time") == 0) return snprintf(buf, cap, "tt%c", unit_char(unit)) > 0;
  if (strcmp(name, "duration") == 0) return snprintf(buf, cap, "tD%c", unit_char(unit)) > 0;
  if (strcmp(name, "timestamp") == 0) {
    const char *tz = json_string_value(json_object_get(type, "timezone"));
    return snprintf(buf, cap, "ts%c:%s", unit_char(unit), tz ? tz : "") > 0;
  }
  if (strcmp(name, "interval") == 0) {
    char c = strcmp(unit, "YEAR_MONTH") == 0 ? 'M' : strcmp(unit, "DAY_TIME") == 0 ? 'D' : 'n';
    return snprintf(buf, cap, "ti%c", c) > 0;
  }
  if (strcmp(name, "union") == 0) {
    const char *mode = json_string_value(json_object_get(type, "mode"));
    int n = snprintf(buf, cap, "+u%c:", mode && strcmp(mode, "DENSE") == 0 ? 'd' : 's');
    size_t k;
    json_t *id;
    json_array_foreach(json_object_get(type, "typeIds"), k, id) {
      n += snprintf(buf + n, cap - (size_t)n, "%s%lld", k ? "," : "", json_integer_value(id));
    }
    return true;
  }
  return false;
}

static char *metadata_blob(json_t *md) {
  size_t n = json_array_size(md), k;
  if (n == 0) return NULL;
  const char **keys = calloc(n, sizeof *keys), **values = calloc(n, sizeof *values);
  json_t *pair;
  json_array_foreach(md, k, pair) {
    keys[k] = json_string_value(json_object_get(pair, "key"));
    values[k] = json_string_value(json_object_get(pair, "value"));
  }
  char *blob = NULL;
  if (zcp_metadata_build((int32_t)n, keys, values, &blob) != ZCP_OK) blob = NULL;
  free(keys);
  free(values);
  return blob;
}

static zcp_status_t field_schema(json_t *field, struct ArrowSchema *out, struct zcp_error *err) {
  char fmt[1024];
  json_t *dict = json_object_get(field, "dictionary");
  json_t *children = json_object_get(field, "children");
  int64_t flags = json_is_true(json_object_get(field, "nullable")) ? ARROW_FLAG_NULLABLE : 0;
  json_t *type = json_object_get(field, "type");
  if (json_is_true(json_object_get(type, "keysSorted"))) flags |= ARROW_FLAG_MAP_KEYS_SORTED;
  if (!type_format(dict ? json_object_get(dict, "indexType") : type, fmt, sizeof fmt)) {
    return zcp_error_set(err, ZCP_UNSUPPORTED, "field '%s': JSON type not understood",
                         json_string_value(json_object_get(field, "name")));
  }
  if (dict && json_is_true(json_object_get(dict, "isOrdered"))) flags |= ARROW_FLAG_DICTIONARY_ORDERED;
  const char *name = json_string_value(json_object_get(field, "name"));
  size_t n = dict ? 0 : json_array_size(children);
  ZCP_RETURN_NOT_OK(zcp_schema_init(fmt, name, flags, (int64_t)n, out, err));
  char *md = metadata_blob(json_object_get(field, "metadata"));
  zcp_status_t st = zcp_schema_set_metadata(out, md);
  free(md);
  for (size_t k = 0; k < n && st == ZCP_OK; k++) {
    zcp_schema_release(out->children[k]);
    st = field_schema(json_array_get(children, k), out->children[k], err);
  }
  if (st == ZCP_OK && dict) {
    /* The dictionary node carries the value type only: name, nullability and metadata
     * belong to the field, i.e. to the index node. */
    json_t *values = zcp__json_values_field(field);
    json_object_set_new(values, "name", json_string(""));
    json_object_set_new(values, "nullable", json_true());
    json_object_del(values, "metadata");
    st = zcp_schema_alloc_dictionary(out);
    if (st == ZCP_OK) st = field_schema(values, out->dictionary, err);
    json_decref(values);
  }
  if (st != ZCP_OK) zcp_schema_release(out);
  return st;
}

zcp_status_t zcp_json_file_schema(const struct zcp_json_file *f, struct ArrowSchema *out,
                                  struct zcp_error *err) {
  size_t n = json_array_size(f->fields);
  ZCP_RETURN_NOT_OK(zcp_schema_init("+s", "", 0, (int64_t)n, out, err));
  char *md = metadata_blob(f->metadata);
  zcp_status_t st = zcp_schema_set_metadata(out, md);
  free(md);
  for (size_t k = 0; k < n && st == ZCP_OK; k++) {
    zcp_schema_release(out->children[k]);
    st = field_schema(json_array_get(f->fields, k), out->children[k], err);
  }
  if (st != ZCP_OK) zcp_schema_release(out);
  return st;
}

/* Normalised format string: parsed and written back. */
static bool normal_format(const char *format, char *buf, size_t cap) {
  struct zcp_format pf;
  return format != NULL && zcp_format_parse(format, &pf, NULL) == ZCP_OK &&
         zcp_format_write(&pf, buf, cap, NULL) == ZCP_OK;
}

static zcp_status_t compare_metadata(const char *want, const char *got, const char *what,
                                     struct zcp_error *err) {
  struct zcp_metadata_reader r;
  struct zcp_string_view k, v, g;
  int32_t nwant = 0, ngot = 0;
  zcp_metadata_reader_init(want, &r);
  while (zcp_metadata_reader_next(&r, &k, &v)) {
    nwant++;
    char key[256];
    snprintf(key, sizeof key, "%.*s", (int)k.size, k.data);
    if (!zcp_metadata_get(got, key, &g) || g.size != v.size || memcmp(g.data, v.data, (size_t)v.size) != 0) {
      return zcp_error_set(err, ZCP_CORRUPT_INPUT, "%s: metadata key '%s' missing or different",
                           what, key);
    }
  }
  zcp_metadata_reader_init(got, &r);
  while (zcp_metadata_reader_next(&r, &k, &v)) ngot++;
  if (ngot != nwant) {
    return zcp_error_set(err, ZCP_CORRUPT_INPUT, "%s: %d metadata pairs, expected %d", what,
                         ngot, nwant);
  }
  return ZCP_OK;
}

/* is_dictionary: a dictionary node, whose name and nullability mean nothing (producers
 * leave them empty or copy the field's). */
static zcp_status_t compare_node(const struct ArrowSchema *want, const struct ArrowSchema *got,
                                 const char *path, bool is_dictionary, struct zcp_error *err) {
  char wf[1100], gf[1100], sub[512];
  const char *wn = want->name ? want->name : "", *gn = got->name ? got->name : "";
  if (!is_dictionary && strcmp(wn, gn) != 0) {
    return zcp_error_set(err, ZCP_CORRUPT_INPUT, "%s: name '%s', expected '%s'", path, gn, wn);
  }
  if (!normal_format(want->format, wf, sizeof wf) || !normal_format(got->format, gf, sizeof gf) ||
      strcmp(wf, gf) != 0) {
    return zcp_error_set(err, ZCP_CORRUPT_INPUT, "%s: format '%s', expected '%s'", path,
                         got->format ? got->format : "(null)", want->format);
  }
  int64_t mask = is_dictionary ? ~(int64_t)ARROW_FLAG_NULLABLE : ~(int64_t)0;
  if ((want->flags & mask) != (got->flags & mask)) {
    return zcp_error_set(err, ZCP_CORRUPT_INPUT, "%s: flags %lld, expected %lld", path,
                         (long long)got->flags, (long long)want->flags);
  }
  ZCP_RETURN_NOT_OK(compare_metadata(want->metadata, got->metadata, path, err));
  if ((want->dictionary == NULL) != (got->dictionary == NULL)) {
    return zcp_error_set(err, ZCP_CORRUPT_INPUT, "%s: dictionary %s, expected %s", path,
                         got->dictionary ? "present" : "absent",
                         want->dictionary ? "present" : "absent");
  }
  if (want->dictionary) {
    snprintf(sub, sizeof sub, "%s.<dictionary>", path);
    ZCP_RETURN_NOT_OK(compare_node(want->dictionary, got->dictionary, sub, true, err));
  }
  if (want->n_children != got->n_children) {
    return zcp_error_set(err, ZCP_CORRUPT_INPUT, "%s: %lld children, expected %lld", path,
                         (long long)got->n_children, (long long)want->n_children);
  }
  for (int64_t k = 0; k < want->n_children; k++) {
    snprintf(sub, sizeof sub, "%s.%s", path, want->children[k]->name ? want->children[k]->name : "?");
    ZCP_RETURN_NOT_OK(compare_node(want->children[k], got->children[k], sub, false, err));
  }
  return ZCP_OK;
}

zcp_status_t zcp_json_compare_schema(const struct zcp_json_file *f,
                                     const struct ArrowSchema *schema,
                                     const char *root_metadata, struct zcp_error *err) {
  struct ArrowSchema want;
  ZCP_RETURN_NOT_OK(zcp_json_file_schema(f, &want, err));
  zcp_status_t st = compare_metadata(want.metadata, root_metadata, "schema", err);
  if (st == ZCP_OK && want.n_children != schema->n_children) {
    st = zcp_error_set(err, ZCP_CORRUPT_INPUT, "schema: %lld fields, expected %lld",
                       (long long)schema->n_children, (long long)want.n_children);
  }
  for (int64_t k = 0; k < want.n_children && st == ZCP_OK; k++) {
    char path[300];
    snprintf(path, sizeof path, "field %lld '%s'", (long long)k, want.children[k]->name);
    st = compare_node(want.children[k], schema->children[k], path, false, err);
  }
  zcp_schema_release(&want);
  return st;
}

/* ---- values ------------------------------------------------------------------------ */

struct cmp {
  const struct zcp_json_file *f;
  struct zcp_error *err;
  char path[1024];
  const struct zcp_array_view *seen[256]; /* dictionaries already compared */
  int n_seen;
};

static size_t push(struct cmp *c, const char *name, int64_t j) {
  size_t len = strlen(c->path);
  snprintf(c->path + len, sizeof c->path - len, "%s%s[%lld]", len ? "." : "",
           name ? name : "?", (long long)j);
  return len;
}

static bool fail(struct cmp *c, const char *fmt, ...) ZCP_PRINTF(2, 3);
static bool fail(struct cmp *c, const char *fmt, ...) {
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  zcp_error_set(c->err, ZCP_CORRUPT_INPUT, "%s: %s", c->path, msg);
  return false;
}

static bool cmp_elem(struct cmp *c, const struct zcp_array_view *v, int64_t i, json_t *field,
                     json_t *col, int64_t j);

/* Every element of a view against a JSON column of the same length. */
static bool cmp_column(struct cmp *c, const struct zcp_array_view *v, json_t *field,
                       json_t *col) {
  int64_t count = json_integer_value(json_object_get(col, "count"));
  if (v->length != count) return fail(c, "%lld rows, expected %lld", (long long)v->length, (long long)count);
  for (int64_t k = 0; k < count; k++) {
    if (!cmp_elem(c, v, k, field, col, k)) return false;
  }
  return true;
}

static bool cmp_dictionary(struct cmp *c, const struct zcp_array_view *v, json_t *field) {
  for (int k = 0; k < c->n_seen; k++) {
    if (c->seen[k] == v->dictionary) return true;
  }
  if (v->dictionary == NULL) return fail(c, "dictionary-encoded in the JSON, not here");
  if (c->n_seen < 256) c->seen[c->n_seen++] = v->dictionary;
  int64_t id = json_integer_value(json_object_get(json_object_get(field, "dictionary"), "id"));
  json_t *dcol = zcp__json_dictionary(c->f, id);
  if (dcol == NULL) return fail(c, "JSON has no dictionary %lld", (long long)id);
  json_t *values = zcp__json_values_field(field);
  size_t saved = strlen(c->path);
  snprintf(c->path + saved, sizeof c->path - saved, ".<dictionary %lld>", (long long)id);
  bool ok = cmp_column(c, v->dictionary, values, dcol);
  if (ok) c->path[saved] = 0;
  json_decref(values);
  return ok;
}

static bool cmp_bytes(struct cmp *c, const struct zcp_array_view *v, int64_t i, json_t *col,
                      int64_t j, bool is_text) {
  uint8_t *want;
  int64_t n = zcp__json_bytes(col, j, is_text, &want);
  struct zcp_string_view got = zcp_array_view_get_bytes(v, i);
  bool ok = n >= 0 && got.size == n && memcmp(got.data, want, (size_t)n) == 0;
  free(want);
  if (ok) return true;
  if (n < 0) return fail(c, "JSON value not understood");
  return fail(c, "%lld bytes '%.*s', expected %lld", (long long)got.size,
              (int)(got.size < 40 ? got.size : 40), got.data, (long long)n);
}

static bool cmp_number(struct cmp *c, const struct zcp_array_view *v, int64_t i, json_t *col,
                       int64_t j) {
  json_t *jv = json_array_get(json_object_get(col, "DATA"), (size_t)j);
  if (!json_is_number(jv)) return fail(c, "JSON value not a number");
  double want = json_number_value(jv), got = zcp_array_view_get_double(v, i);
  bool ok;
  switch (v->format.type) {
    case ZCP_TYPE_DOUBLE: ok = want == got || (isnan(want) && isnan(got)); break;
    case ZCP_TYPE_FLOAT: ok = (float)want == (float)got || (isnan(want) && isnan(got)); break;
    default: ok = fabs(want - got) <= fabs(want) / 1024 + 1e-7; break; /* half: 10-bit mantissa */
  }
  return ok || fail(c, "%.17g, expected %.17g", got, want);
}

static bool cmp_interval(struct cmp *c, const struct zcp_array_view *v, int64_t i, json_t *col,
                         int64_t j) {
  int32_t months, days;
  int64_t sub, want_m = 0, want_d = 0, want_s = 0;
  zcp_array_view_get_interval(v, i, &months, &days, &sub);
  json_t *o = json_array_get(json_object_get(col, "DATA"), (size_t)j);
  json_t *w[3] = {json_object_get(o, "months"), json_object_get(o, "days"),
                  json_object_get(o, v->format.type == ZCP_TYPE_INTERVAL_DAY_TIME ? "milliseconds" : "nanoseconds")};
  int64_t *dst[3] = {&want_m, &want_d, &want_s};
  for (int k = 0; k < 3; k++) {
    if (json_is_string(w[k])) *dst[k] = strtoll(json_string_value(w[k]), NULL, 10);
    else *dst[k] = json_integer_value(w[k]);
  }
  if (months == want_m && days == want_d && sub == want_s) return true;
  return fail(c, "interval (%d, %d, %lld), expected (%lld, %lld, %lld)", months, days,
              (long long)sub, (long long)want_m, (long long)want_d, (long long)want_s);
}

/* Child k of a JSON field / column. */
static json_t *jchild(json_t *o, size_t k) { return json_array_get(json_object_get(o, "children"), k); }

static bool cmp_list(struct cmp *c, const struct zcp_array_view *v, int64_t i, json_t *field,
                     json_t *col, int64_t j) {
  int64_t start, size, jstart, jend, jsize;
  zcp_array_view_get_list(v, i, &start, &size);
  if (v->format.type == ZCP_TYPE_FIXED_SIZE_LIST) {
    jsize = v->format.fixed_size;
    jstart = j * jsize;
  } else if (v->format.type == ZCP_TYPE_LIST_VIEW || v->format.type == ZCP_TYPE_LARGE_LIST_VIEW) {
    if (!zcp__json_int(col, "OFFSET", j, &jstart) || !zcp__json_int(col, "SIZE", j, &jsize)) {
      return fail(c, "JSON OFFSET/SIZE missing");
    }
  } else {
    if (!zcp__json_int(col, "OFFSET", j, &jstart) || !zcp__json_int(col, "OFFSET", j + 1, &jend)) {
      return fail(c, "JSON OFFSET missing");
    }
    jsize = jend - jstart;
  }
  if (size != jsize) return fail(c, "list of %lld items, expected %lld", (long long)size, (long long)jsize);
  json_t *cf = jchild(field, 0), *cc = jchild(col, 0);
  for (int64_t k = 0; k < size; k++) {
    size_t saved = push(c, json_string_value(json_object_get(cf, "name")), jstart + k);
    if (!cmp_elem(c, &v->children[0], start + k, cf, cc, jstart + k)) return false;
    c->path[saved] = 0;
  }
  return true;
}

static bool cmp_union(struct cmp *c, const struct zcp_array_view *v, int64_t i, json_t *field,
                      json_t *col, int64_t j) {
  int64_t want_id, jci;
  if (!zcp__json_int(col, "TYPE_ID", j, &want_id)) return fail(c, "JSON TYPE_ID missing");
  int8_t id = zcp_array_view_union_type_id(v, i);
  if (id != want_id) return fail(c, "type id %d, expected %lld", id, (long long)want_id);
  int64_t ci, child = zcp_array_view_union_child(v, i, &ci);
  if (child < 0) return fail(c, "type id %d selects no child", id);
  if (v->format.type == ZCP_TYPE_DENSE_UNION) {
    if (!zcp__json_int(col, "OFFSET", j, &jci)) return fail(c, "JSON OFFSET missing");
  } else {
    jci = j;
  }
  json_t *cf = jchild(field, (size_t)child), *cc = jchild(col, (size_t)child);
  size_t saved = push(c, json_string_value(json_object_get(cf, "name")), jci);
  if (!cmp_elem(c, &v->children[child], ci, cf, cc, jci)) return false;
  c->path[saved] = 0;
  return true;
}

static bool cmp_run(struct cmp *c, const struct zcp_array_view *v, int64_t i, json_t *field,
                    json_t *col, int64_t j) {
  json_t *ends = jchild(col, 0);
  int64_t n = json_integer_value(json_object_get(ends, "count")), k = 0, end = 0;
  while (k < n && zcp__json_int(ends, "DATA", k, &end) && end <= j) k++;
  if (k == n) return fail(c, "JSON run ends do not cover row %lld", (long long)j);
  json_t *cf = jchild(field, 1), *cc = jchild(col, 1);
  size_t saved = push(c, "values", k);
  if (!cmp_elem(c, &v->children[1], zcp_array_view_run_index(v, i), cf, cc, k)) return false;
  c->path[saved] = 0;
  return true;
}

static bool cmp_elem(struct cmp *c, const struct zcp_array_view *v, int64_t i, json_t *field,
                     json_t *col, int64_t j) {
  bool has_dict = json_object_get(field, "dictionary") != NULL;
  if (has_dict && !cmp_dictionary(c, v, field)) return false;
  if (json_object_get(col, "VALIDITY") != NULL) {
    bool want = zcp__json_valid(col, j), got = !zcp_array_view_is_null(v, i);
    if (want != got) return fail(c, "%s, expected %s", got ? "valid" : "null", want ? "valid" : "null");
    if (!want) return true;
  }
  if (has_dict) {
    int64_t want;
    if (!zcp__json_int(col, "DATA", j, &want)) return fail(c, "JSON index missing");
    int64_t got = zcp_array_view_get_int(v, i);
    return got == want || fail(c, "dictionary index %lld, expected %lld", (long long)got, (long long)want);
  }
  switch (v->format.type) {
    case ZCP_TYPE_NA:
      return true;
    case ZCP_TYPE_UINT64: {
      uint64_t want, got = zcp_array_view_get_uint(v, i);
      if (!zcp__json_uint(col, "DATA", j, &want)) return fail(c, "JSON value missing");
      return got == want || fail(c, "%llu, expected %llu", (unsigned long long)got, (unsigned long long)want);
    }
    case ZCP_TYPE_BOOL: case ZCP_TYPE_INT8: case ZCP_TYPE_UINT8: case ZCP_TYPE_INT16:
    case ZCP_TYPE_UINT16: case ZCP_TYPE_INT32: case ZCP_TYPE_UINT32: case ZCP_TYPE_INT64:
    case ZCP_TYPE_DATE32: case ZCP_TYPE_DATE64: case ZCP_TYPE_TIME32: case ZCP_TYPE_TIME64:
    case ZCP_TYPE_TIMESTAMP: case ZCP_TYPE_DURATION: case ZCP_TYPE_INTERVAL_MONTHS: {
      int64_t want, got = zcp_array_view_get_int(v, i);
      if (!zcp__json_int(col, "DATA", j, &want)) return fail(c, "JSON value missing");
      if (v->format.type == ZCP_TYPE_BOOL) got = got != 0;
      return got == want || fail(c, "%lld, expected %lld", (long long)got, (long long)want);
    }
    case ZCP_TYPE_HALF_FLOAT: case ZCP_TYPE_FLOAT: case ZCP_TYPE_DOUBLE:
      return cmp_number(c, v, i, col, j);
    case ZCP_TYPE_DECIMAL32: case ZCP_TYPE_DECIMAL64:
    case ZCP_TYPE_DECIMAL128: case ZCP_TYPE_DECIMAL256: {
      uint8_t want[32];
      int width = zcp_type_bit_width(v->format.type) / 8;
      const char *text = json_string_value(json_array_get(json_object_get(col, "DATA"), (size_t)j));
      if (text == NULL || !zcp__json_decimal(text, want, width)) return fail(c, "JSON decimal not understood");
      struct zcp_string_view got = zcp_array_view_get_bytes(v, i);
      if (got.size == width && memcmp(got.data, want, (size_t)width) == 0) return true;
      char buf[128];
      zcp_array_view_format(v, i, buf, sizeof buf);
      return fail(c, "decimal %s, expected %s (unscaled)", buf, text);
    }
    case ZCP_TYPE_INTERVAL_DAY_TIME: case ZCP_TYPE_INTERVAL_MONTH_DAY_NANO:
      return cmp_interval(c, v, i, col, j);
    case ZCP_TYPE_STRING: case ZCP_TYPE_LARGE_STRING: case ZCP_TYPE_STRING_VIEW:
      return cmp_bytes(c, v, i, col, j, true);
    case ZCP_TYPE_BINARY: case ZCP_TYPE_LARGE_BINARY: case ZCP_TYPE_BINARY_VIEW:
    case ZCP_TYPE_FIXED_SIZE_BINARY:
      return cmp_bytes(c, v, i, col, j, false);
    case ZCP_TYPE_LIST: case ZCP_TYPE_LARGE_LIST: case ZCP_TYPE_LIST_VIEW:
    case ZCP_TYPE_LARGE_LIST_VIEW: case ZCP_TYPE_FIXED_SIZE_LIST: case ZCP_TYPE_MAP:
      return cmp_list(c, v, i, field, col, j);
    case ZCP_TYPE_STRUCT:
      for (int64_t k = 0; k < v->n_children; k++) {
        json_t *cf = jchild(field, (size_t)k);
        size_t saved = push(c, json_string_value(json_object_get(cf, "name")), j);
        if (!cmp_elem(c, &v->children[k], v->offset + i, cf, jchild(col, (size_t)k), j)) return false;
        c->path[saved] = 0;
      }
      return true;
    case ZCP_TYPE_SPARSE_UNION: case ZCP_TYPE_DENSE_UNION:
      return cmp_union(c, v, i, field, col, j);
    case ZCP_TYPE_RUN_END_ENCODED:
      return cmp_run(c, v, i, field, col, j);
    default:
      return fail(c, "type %s not compared", zcp_type_name(v->format.type));
  }
}

zcp_status_t zcp_json_compare_batch(const struct zcp_json_file *f, int64_t i,
                                    const struct ArrowArray *batch,
                                    const struct ArrowSchema *schema, struct zcp_error *err) {
  json_t *jb = json_array_get(f->batches, (size_t)i);
  if (jb == NULL) return zcp_error_set(err, ZCP_NOT_FOUND, "JSON has no batch %lld", (long long)i);
  struct zcp_array_view view;
  ZCP_RETURN_NOT_OK(zcp_array_view_init(batch, schema, &view, err));
  struct cmp *c = calloc(1, sizeof *c);
  c->f = f;
  c->err = err;
  bool ok = true;
  int64_t count = json_integer_value(json_object_get(jb, "count"));
  json_t *cols = json_object_get(jb, "columns");
  if (view.length != count) {
    ok = fail(c, "batch %lld has %lld rows, expected %lld", (long long)i, (long long)view.length,
              (long long)count);
  } else if ((size_t)view.n_children != json_array_size(f->fields) ||
             json_array_size(cols) != json_array_size(f->fields)) {
    ok = fail(c, "batch %lld has %lld columns, expected %zu", (long long)i,
              (long long)view.n_children, json_array_size(f->fields));
  }
  for (int64_t k = 0; ok && k < view.n_children; k++) {
    json_t *field = json_array_get(f->fields, (size_t)k);
    snprintf(c->path, sizeof c->path, "batch %lld column %lld '%s'", (long long)i, (long long)k,
             json_string_value(json_object_get(field, "name")));
    /* A struct's children are addressed through its offset; columns through theirs. */
    struct zcp_array_view *col = &view.children[k];
    int64_t n = json_integer_value(json_object_get(json_array_get(cols, (size_t)k), "count"));
    if (n != count) ok = fail(c, "JSON column has %lld rows, batch %lld", (long long)n, (long long)count);
    for (int64_t r = 0; ok && r < count; r++) {
      size_t saved = strlen(c->path);
      snprintf(c->path + saved, sizeof c->path - saved, " row %lld", (long long)r);
      ok = cmp_elem(c, col, view.offset + r, field, json_array_get(cols, (size_t)k), r);
      if (ok) c->path[saved] = 0;
    }
  }
  free(c);
  zcp_array_view_reset(&view);
  return ok ? ZCP_OK : ZCP_CORRUPT_INPUT;
}
