/* ArrowSchema trees: creating our own nodes, deep copies of anyone's, and structural
 * validation of a whole tree.
 *
 * Invariant of every node we create: it is live (release set) and releasable at every
 * moment, including half-way through construction, so that a failure anywhere is
 * cleaned up by one zcp_schema_release. Children made by zcp_schema_init are live "n"
 * placeholders, which zcp_schema_set_child replaces in place; a dictionary from
 * zcp_schema_alloc_dictionary starts released (zeroed) until zcp_schema_init fills it.
 * Release tolerates released children and dictionaries: a consumer may move them out, as
 * the C Data Interface allows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/internal.h"
#include "common/util.h"

/* Metadata blobs of foreign schemas have no known size; this is the largest we accept. */
#define MAX_METADATA_BYTES INT32_MAX

static char *dup_str(const char *s) {
  if (s == NULL) return NULL;
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d != NULL) memcpy(d, s, n);
  return d;
}

static bool is_ours(const struct ArrowSchema *s) {
  return s != NULL && s->release == zcp__schema_release && s->private_data != NULL;
}

void zcp__schema_release(struct ArrowSchema *schema) {
  if (schema == NULL || schema->release == NULL) return;
  for (int64_t i = 0; i < schema->n_children; i++) {
    struct ArrowSchema *c = schema->children[i];
    if (c == NULL) continue;
    if (c->release != NULL) c->release(c);
    free(c);
  }
  free(schema->children);
  if (schema->dictionary != NULL) {
    if (schema->dictionary->release != NULL)
      schema->dictionary->release(schema->dictionary);
    free(schema->dictionary);
  }
  struct zcp__schema_private *p = schema->private_data;
  if (p != NULL) {
    free(p->format);
    free(p->name);
    free(p->metadata);
    free(p);
  }
  schema->release = NULL;
  schema->private_data = NULL;
}

/* Makes schema a live node of ours with copies of format and name and n_children child
 * structs, each a live "n" placeholder when `live_children`, else zeroed and released
 * (for copies, which fill them in). The format is not parsed here. On failure schema is
 * left released. */
static zcp_status_t init_node(struct ArrowSchema *schema, const char *format,
                              const char *name, int64_t flags, int64_t n_children,
                              bool live_children) {
  memset(schema, 0, sizeof *schema);
  if (n_children < 0 || (uint64_t)n_children > SIZE_MAX / sizeof(struct ArrowSchema *)) {
    return ZCP_INVALID_ARGUMENT;
  }
  struct zcp__schema_private *p = calloc(1, sizeof *p);
  if (p == NULL) return ZCP_OUT_OF_MEMORY;
  schema->private_data = p;
  schema->release = zcp__schema_release;
  schema->flags = flags;
  p->format = dup_str(format);
  p->name = dup_str(name);
  schema->format = p->format;
  schema->name = p->name;
  if (p->format == NULL || (name != NULL && p->name == NULL)) goto oom;
  if (n_children > 0) {
    schema->children = calloc((size_t)n_children, sizeof *schema->children);
    if (schema->children == NULL) goto oom;
  }
  for (int64_t i = 0; i < n_children; i++) {
    struct ArrowSchema *c = calloc(1, sizeof *c);
    if (c == NULL) goto oom;
    schema->children[i] = c;
    schema->n_children = i + 1; /* release frees exactly the children made so far */
    if (live_children &&
        init_node(c, "n", NULL, ARROW_FLAG_NULLABLE, 0, false) != ZCP_OK) {
      goto oom;
    }
  }
  return ZCP_OK;
oom:
  zcp__schema_release(schema);
  return ZCP_OUT_OF_MEMORY;
}

zcp_status_t zcp_schema_init(const char *format, const char *name, int64_t flags,
                             int64_t n_children, struct ArrowSchema *schema,
                             struct zcp_error *err) {
  if (schema == NULL) return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "schema is NULL");
  memset(schema, 0, sizeof *schema);
  struct zcp_format f;
  ZCP_RETURN_NOT_OK(zcp_format_parse(format, &f, err));
  if (n_children < 0) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "schema '%s' (%s): negative number of children %lld",
                         name ? name : "", zcp_type_name(f.type), (long long)n_children);
  }
  zcp_status_t st = init_node(schema, format, name, flags, n_children, true);
  if (st != ZCP_OK) {
    return zcp_error_set(err, st, "schema '%s' (%s) with %lld children: %s",
                         name ? name : "", zcp_type_name(f.type), (long long)n_children,
                         zcp_status_str(st));
  }
  return ZCP_OK;
}

zcp_status_t zcp_schema_set_child(struct ArrowSchema *parent, int64_t i,
                                  const char *format, const char *name, int64_t flags,
                                  int64_t n_children, struct zcp_error *err) {
  if (!is_ours(parent)) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "set child %lld: the parent is %s",
                         (long long)i,
                         parent == NULL            ? "NULL"
                         : parent->release == NULL ? "released"
                                                   : "not a node zcpool made");
  }
  const char *pname = parent->name != NULL ? parent->name : "";
  if (i < 0 || i >= parent->n_children) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "schema '%s' (%s): no child %lld, it has %lld", pname,
                         parent->format, (long long)i, (long long)parent->n_children);
  }
  /* Built aside first, so that a failure leaves the old child in place and the tree
   * valid. */
  struct ArrowSchema child;
  zcp_status_t st = zcp_schema_init(format, name, flags, n_children, &child, err);
  if (st != ZCP_OK) {
    return zcp_error_prefix(err, st, "schema '%s' (%s) child %lld: ", pname,
                            parent->format, (long long)i);
  }
  zcp_schema_release(parent->children[i]);
  zcp_schema_move(&child, parent->children[i]);
  return ZCP_OK;
}

zcp_status_t zcp_schema_set_format(struct ArrowSchema *schema, const char *format) {
  if (!is_ours(schema)) return ZCP_INVALID_ARGUMENT;
  struct zcp_format f;
  ZCP_RETURN_NOT_OK(zcp_format_parse(format, &f, NULL));
  char *copy = dup_str(format);
  if (copy == NULL) return ZCP_OUT_OF_MEMORY;
  struct zcp__schema_private *p = schema->private_data;
  free(p->format);
  p->format = copy;
  schema->format = copy;
  return ZCP_OK;
}

zcp_status_t zcp_schema_set_name(struct ArrowSchema *schema, const char *name) {
  if (!is_ours(schema)) return ZCP_INVALID_ARGUMENT;
  char *copy = dup_str(name);
  if (name != NULL && copy == NULL) return ZCP_OUT_OF_MEMORY;
  struct zcp__schema_private *p = schema->private_data;
  free(p->name);
  p->name = copy;
  schema->name = copy;
  return ZCP_OK;
}

/* Replaces the node's metadata with a copy of the first `size` bytes of md. */
static zcp_status_t put_metadata(struct ArrowSchema *schema, const char *md,
                                 int64_t size) {
  char *copy = NULL;
  if (md != NULL) {
    if ((uint64_t)size > SIZE_MAX) return ZCP_OUT_OF_MEMORY;
    copy = malloc((size_t)size);
    if (copy == NULL) return ZCP_OUT_OF_MEMORY;
    memcpy(copy, md, (size_t)size);
  }
  struct zcp__schema_private *p = schema->private_data;
  free(p->metadata);
  p->metadata = copy;
  schema->metadata = copy;
  return ZCP_OK;
}

zcp_status_t zcp_schema_set_metadata(struct ArrowSchema *schema, const char *metadata) {
  if (!is_ours(schema)) return ZCP_INVALID_ARGUMENT;
  int64_t size = 0;
  if (zcp__metadata_check(metadata, MAX_METADATA_BYTES, &size, NULL) != ZCP_OK) {
    return ZCP_INVALID_ARGUMENT;
  }
  return put_metadata(schema, metadata, size);
}

zcp_status_t zcp_schema_alloc_dictionary(struct ArrowSchema *schema) {
  if (!is_ours(schema) || schema->dictionary != NULL) return ZCP_INVALID_ARGUMENT;
  schema->dictionary = calloc(1, sizeof *schema->dictionary);
  return schema->dictionary != NULL ? ZCP_OK : ZCP_OUT_OF_MEMORY;
}

/* ---- Field paths for messages: "a.b", "[2]" for an unnamed child, ".<dictionary>". --
 */

struct path {
  char buf[256];
  size_t len;
};

static void path_append(struct path *p, const char *s) {
  size_t room = sizeof p->buf - 1 - p->len;
  size_t n = strlen(s);
  if (n > room) n = room;
  memcpy(p->buf + p->len, s, n);
  p->len += n;
  p->buf[p->len] = '\0';
}

/* Appends the child's name (or its index when unnamed); returns the length to pop to. */
static size_t path_push(struct path *p, const char *name, int64_t index) {
  size_t old = p->len;
  if (name != NULL && name[0] != '\0') {
    if (p->len > 0) path_append(p, ".");
    path_append(p, name);
  } else {
    char idx[24];
    snprintf(idx, sizeof idx, "[%lld]", (long long)index);
    path_append(p, idx);
  }
  return old;
}

static void path_pop(struct path *p, size_t len) {
  p->len = len;
  p->buf[len] = '\0';
}

/* "field 'a.b'" or "schema root" when the path is empty. */
static const char *where(const struct path *p, char *buf, size_t cap) {
  if (p->len == 0) {
    snprintf(buf, cap, "schema root");
  } else {
    snprintf(buf, cap, "field '%s'", p->buf);
  }
  return buf;
}

/* ---- Deep copy ----------------------------------------------------------------------
 */

static zcp_status_t copy_node(const struct ArrowSchema *src, struct ArrowSchema *dst,
                              int depth, struct path *path, struct zcp_error *err) {
  char at[300];
  memset(dst, 0, sizeof *dst);
  if (src == NULL || src->release == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "schema copy: %s is %s",
                         where(path, at, sizeof at), src == NULL ? "NULL" : "released");
  }
  if (depth > ZCP_MAX_DEPTH) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "schema copy: %s is nested deeper than %d levels",
                         where(path, at, sizeof at), ZCP_MAX_DEPTH);
  }
  if (src->format == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "schema copy: %s has no format",
                         where(path, at, sizeof at));
  }
  if (src->n_children < 0 || (src->n_children > 0 && src->children == NULL)) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "schema copy: %s has %lld children and children array %p",
                         where(path, at, sizeof at), (long long)src->n_children,
                         (void *)src->children);
  }
  int64_t md_size = 0;
  if (zcp__metadata_check(src->metadata, MAX_METADATA_BYTES, &md_size, err) != ZCP_OK) {
    return zcp_error_prefix(err, ZCP_INVALID_ARGUMENT,
                            "schema copy: %s: ", where(path, at, sizeof at));
  }
  zcp_status_t st =
      init_node(dst, src->format, src->name, src->flags, src->n_children, false);
  if (st == ZCP_OK) st = put_metadata(dst, src->metadata, md_size);
  if (st != ZCP_OK) {
    zcp__schema_release(dst);
    return zcp_error_set(err, st, "schema copy: %s: %s", where(path, at, sizeof at),
                         zcp_status_str(st));
  }
  for (int64_t i = 0; i < src->n_children && st == ZCP_OK; i++) {
    const struct ArrowSchema *c = src->children[i];
    size_t mark = path_push(path, c != NULL ? c->name : NULL, i);
    st = copy_node(c, dst->children[i], depth + 1, path, err);
    path_pop(path, mark);
  }
  if (st == ZCP_OK && src->dictionary != NULL) {
    st = zcp_schema_alloc_dictionary(dst);
    if (st == ZCP_OK) {
      size_t mark = path->len;
      path_append(path, ".<dictionary>");
      st = copy_node(src->dictionary, dst->dictionary, depth + 1, path, err);
      path_pop(path, mark);
    } else {
      (void)zcp_error_set(err, st, "schema copy: %s: dictionary: %s",
                          where(path, at, sizeof at), zcp_status_str(st));
    }
  }
  if (st != ZCP_OK) zcp__schema_release(dst);
  return st;
}

zcp_status_t zcp_schema_copy(const struct ArrowSchema *src, struct ArrowSchema *dst,
                             struct zcp_error *err) {
  if (dst == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "schema copy: dst is NULL");
  struct path path = {{0}, 0};
  if (src != NULL && src->name != NULL && src->release != NULL) {
    path_append(&path, src->name);
  }
  return copy_node(src, dst, 0, &path, err);
}

/* ---- Validation ---------------------------------------------------------------------
 */

static bool is_integer(enum zcp_type t) {
  return t >= ZCP_TYPE_INT8 && t <= ZCP_TYPE_UINT64;
}

/* Type-specific checks of the children (already known non-NULL and live). */
static zcp_status_t check_children(const struct ArrowSchema *s,
                                   const struct zcp_format *f, const char *at,
                                   struct zcp_error *err) {
  const char *tname = zcp_type_name(f->type);
  if (f->type == ZCP_TYPE_MAP) {
    const struct ArrowSchema *entries = s->children[0];
    if (entries->format == NULL || strcmp(entries->format, "+s") != 0) {
      return zcp_error_set(
          err, ZCP_INVALID_ARGUMENT,
          "%s (map): entries child must be a struct \"+s\", found \"%s\"", at,
          entries->format ? entries->format : "(null)");
    }
    if (entries->flags & ARROW_FLAG_NULLABLE) {
      return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                           "%s (map): entries struct must not be nullable", at);
    }
    if (entries->n_children != 2) {
      return zcp_error_set(
          err, ZCP_INVALID_ARGUMENT,
          "%s (map): entries struct must have 2 children (keys, values), "
          "found %lld",
          at, (long long)entries->n_children);
    }
  }
  if (f->type == ZCP_TYPE_RUN_END_ENCODED) {
    struct zcp_format rf;
    const char *rfmt = s->children[0]->format;
    if (rfmt == NULL || zcp_format_parse(rfmt, &rf, NULL) != ZCP_OK ||
        (rf.type != ZCP_TYPE_INT16 && rf.type != ZCP_TYPE_INT32 &&
         rf.type != ZCP_TYPE_INT64)) {
      return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                           "%s (%s): run ends (child 0) must be int16, int32 or int64 "
                           "(\"s\", \"i\", \"l\"), found \"%s\"",
                           at, tname, rfmt ? rfmt : "(null)");
    }
  }
  return ZCP_OK;
}

static zcp_status_t validate_node(const struct ArrowSchema *s, int depth,
                                  struct path *path, struct zcp_error *err) {
  char at[300];
  where(path, at, sizeof at);
  if (s == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "%s: schema is NULL", at);
  if (s->release == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "%s: schema is released", at);
  }
  if (depth > ZCP_MAX_DEPTH) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "%s: nested deeper than %d levels",
                         at, ZCP_MAX_DEPTH);
  }
  struct zcp_format f;
  if (zcp_format_parse(s->format, &f, err) != ZCP_OK) {
    return zcp_error_prefix(err, ZCP_INVALID_ARGUMENT, "%s: ", at);
  }
  const char *tname = zcp_type_name(f.type);
  if (zcp__metadata_check(s->metadata, MAX_METADATA_BYTES, NULL, err) != ZCP_OK) {
    return zcp_error_prefix(err, ZCP_INVALID_ARGUMENT, "%s (%s): ", at, tname);
  }
  if (s->n_children < 0 || (s->n_children > 0 && s->children == NULL)) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "%s (%s): %lld children with children array %p", at, tname,
                         (long long)s->n_children, (void *)s->children);
  }
  int64_t want = zcp__format_n_children(&f);
  if (want >= 0 && s->n_children != want) {
    return zcp_error_set(
        err, ZCP_INVALID_ARGUMENT, "%s (%s): expected %lld %s, found %lld", at, tname,
        (long long)want, want == 1 ? "child" : "children", (long long)s->n_children);
  }
  for (int64_t i = 0; i < s->n_children; i++) {
    const struct ArrowSchema *c = s->children[i];
    if (c == NULL || c->release == NULL) {
      return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "%s (%s): child %lld is %s", at,
                           tname, (long long)i, c == NULL ? "NULL" : "released");
    }
  }
  ZCP_RETURN_NOT_OK(check_children(s, &f, at, err));
  if (s->dictionary != NULL && !is_integer(f.type)) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "%s (%s): dictionary indices must be an integer type", at,
                         tname);
  }
  for (int64_t i = 0; i < s->n_children; i++) {
    size_t mark = path_push(path, s->children[i]->name, i);
    zcp_status_t st = validate_node(s->children[i], depth + 1, path, err);
    path_pop(path, mark);
    if (st != ZCP_OK) return st;
  }
  if (s->dictionary != NULL) {
    size_t mark = path->len;
    path_append(path, ".<dictionary>");
    zcp_status_t st = validate_node(s->dictionary, depth + 1, path, err);
    path_pop(path, mark);
    if (st != ZCP_OK) return st;
  }
  return ZCP_OK;
}

zcp_status_t zcp_schema_validate(const struct ArrowSchema *schema,
                                 struct zcp_error *err) {
  struct path path = {{0}, 0};
  if (schema != NULL && schema->release != NULL && schema->name != NULL) {
    path_append(&path, schema->name);
  }
  return validate_node(schema, 0, &path, err);
}
