/* The dictionary-encoded fields of an IPC schema and their dictionary ids. An id may be
 * given to several fields (Columnar.rst, "Dictionary Messages": a dictionary "can even
 * be used for multiple fields"): they then share one dictionary, sent once, replaced and
 * extended by deltas once for all of them. What makes sharing possible is that one
 * DictionaryBatch decodes against one value type, so fields that share an id must lay
 * their values out the same way (formats, children, nested dictionary ids); their names,
 * metadata, nullability and index types may differ, since nothing is read through them.
 * A dictionary used inside its own values could never be decoded and is refused. */
#include <stdlib.h>
#include <string.h>

#include "ipc/internal.h"

void zcp__ipc_dict_fields_reset(struct zcp__ipc_dict_fields *d) {
  free(d->items);
  free(d->ids);
  free(d->by_node);
  memset(d, 0, sizeof *d);
}

zcp_status_t zcp__ipc_dict_add(struct zcp__ipc_dict_fields *d, int64_t id,
                               const struct ArrowSchema *node) {
  if (d->n == d->cap) {
    int64_t cap = d->cap ? d->cap * 2 : 8;
    void *p = realloc(d->items, (size_t)cap * sizeof *d->items);
    if (p == NULL) return ZCP_OUT_OF_MEMORY;
    d->items = p;
    d->cap = cap;
  }
  d->items[d->n++] = (struct zcp__ipc_dict_field){id, node, -1};
  return ZCP_OK;
}

int64_t zcp__ipc_dict_find(const struct zcp__ipc_dict_fields *d, int64_t id) {
  int64_t lo = 0, hi = d->n_ids;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (d->ids[mid].id < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < d->n_ids && d->ids[lo].id == id ? lo : -1;
}

int64_t zcp__ipc_dict_find_node(const struct zcp__ipc_dict_fields *d,
                                const struct ArrowSchema *node) {
  int64_t lo = 0, hi = d->by_node != NULL ? d->n : 0;
  uintptr_t key = (uintptr_t)node;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (d->by_node[mid].node < key)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (d->by_node == NULL || lo >= d->n || d->by_node[lo].node != key) return -1;
  return d->by_node[lo].slot;
}

static int by_id(const void *a, const void *b) {
  const struct zcp__ipc_dict_id *x = a, *y = b;
  if (x->id != y->id) return (x->id > y->id) - (x->id < y->id);
  return (x->first > y->first) - (x->first < y->first); /* pre-order among equal ids */
}

static int by_node(const void *a, const void *b) {
  uintptr_t x = ((const struct zcp__ipc_dict_node *)a)->node;
  uintptr_t y = ((const struct zcp__ipc_dict_node *)b)->node;
  return (x > y) - (x < y);
}

static const char *name_of(const struct ArrowSchema *s) {
  return s->name != NULL ? s->name : "";
}

/* Whether two value schemas lay their data out the same way: equal formats, children
 * laid out alike, and dictionary-encoded nodes at the same places with the same ids. */
static bool same_layout(const struct zcp__ipc_dict_fields *d, const struct ArrowSchema *a,
                        const struct ArrowSchema *b, int depth) {
  if (depth > ZCP_MAX_DEPTH || strcmp(a->format, b->format) != 0 ||
      a->n_children != b->n_children ||
      (a->dictionary == NULL) != (b->dictionary == NULL)) {
    return false;
  }
  if (a->dictionary != NULL &&
      zcp__ipc_dict_find_node(d, a) != zcp__ipc_dict_find_node(d, b)) {
    return false;
  }
  for (int64_t i = 0; i < a->n_children; i++) {
    if (!same_layout(d, a->children[i], b->children[i], depth + 1)) return false;
  }
  return true;
}

/* Whether a dictionary-encoded node with dictionary `slot` lies below s. */
static bool uses_slot(const struct zcp__ipc_dict_fields *d, const struct ArrowSchema *s,
                      int64_t slot, int depth) {
  if (depth > ZCP_MAX_DEPTH) return false;
  for (int64_t i = 0; i < s->n_children; i++) {
    const struct ArrowSchema *c = s->children[i];
    if (c->dictionary != NULL) {
      if (zcp__ipc_dict_find_node(d, c) == slot) return true;
      if (uses_slot(d, c->dictionary, slot, depth + 1)) return true;
    }
    if (uses_slot(d, c, slot, depth + 1)) return true;
  }
  return false;
}

zcp_status_t zcp__ipc_dict_index(struct zcp__ipc_dict_fields *d, zcp_status_t code,
                                 struct zcp_error *err) {
  free(d->ids);
  free(d->by_node);
  d->ids = NULL;
  d->by_node = NULL;
  d->n_ids = 0;
  if (d->n == 0) return ZCP_OK;
  d->ids = malloc((size_t)d->n * sizeof *d->ids);
  d->by_node = malloc((size_t)d->n * sizeof *d->by_node);
  if (d->ids == NULL || d->by_node == NULL) {
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for dictionary ids");
  }
  /* distinct ids, each with the first field (in pre-order) that uses it */
  for (int64_t k = 0; k < d->n; k++)
    d->ids[k] = (struct zcp__ipc_dict_id){d->items[k].id, k};
  qsort(d->ids, (size_t)d->n, sizeof *d->ids, by_id);
  int64_t n_ids = 0;
  for (int64_t k = 0; k < d->n; k++) {
    if (n_ids > 0 && d->ids[n_ids - 1].id == d->ids[k].id) continue;
    d->ids[n_ids++] = d->ids[k];
  }
  d->n_ids = n_ids;
  for (int64_t k = 0; k < d->n; k++) {
    d->items[k].slot = zcp__ipc_dict_find(d, d->items[k].id);
    d->by_node[k] =
        (struct zcp__ipc_dict_node){(uintptr_t)d->items[k].node, d->items[k].slot};
  }
  qsort(d->by_node, (size_t)d->n, sizeof *d->by_node, by_node);
  for (int64_t k = 0; k < d->n; k++) {
    const struct zcp__ipc_dict_field *f = &d->items[k];
    const struct zcp__ipc_dict_field *first = &d->items[d->ids[f->slot].first];
    if (f != first && !same_layout(d, first->node->dictionary, f->node->dictionary, 0)) {
      return zcp_error_set(err, code,
                           "fields '%s' and '%s' share dictionary %lld but their values "
                           "differ in type (%s and %s)",
                           name_of(first->node), name_of(f->node), (long long)f->id,
                           first->node->dictionary->format, f->node->dictionary->format);
    }
    if (uses_slot(d, f->node->dictionary, f->slot, 0)) {
      return zcp_error_set(err, code,
                           "field '%s': dictionary %lld is used inside its own values",
                           name_of(f->node), (long long)f->id);
    }
  }
  return ZCP_OK;
}
