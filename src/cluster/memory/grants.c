/* Which blocks of this node's region each remote client holds, as this node granted
 * them over RPC. The pool knows it too, but speaks only of sealed blocks to outsiders;
 * the server needs it for granted blocks as well, to accept a Flush only for ranges the
 * caller owns (DESIGN §6). A sorted array: clients hold few blocks at a time, and every
 * change is already a network round trip. */
#include "common/platform.h"

#include <stdlib.h>
#include <string.h>

#include "cluster/memory/memory.h"

void zcp__grants_init(struct zcp__grants *g) {
  memset(g, 0, sizeof *g);
  pthread_mutex_init(&g->mu, NULL);
}

void zcp__grants_release(struct zcp__grants *g) {
  free(g->v);
  pthread_mutex_destroy(&g->mu);
  memset(g, 0, sizeof *g);
}

/* First index whose offset >= offset. Under mu. */
static size_t lower(const struct zcp__grants *g, int64_t offset) {
  return zcp__extents_lower(g->v, g->n, sizeof *g->v, offset);
}

void zcp__grants_put(struct zcp__grants *g, int64_t offset, int64_t size, int32_t node,
                     uint64_t epoch) {
  pthread_mutex_lock(&g->mu);
  size_t i = lower(g, offset);
  if (!(i < g->n && g->v[i].offset == offset)) {
    struct zcp__grant_rec *v = zcp__extents_open(g->v, &g->n, &g->cap, sizeof *v, i);
    if (v == NULL) { /* then Flush of this block is refused: safe */
      pthread_mutex_unlock(&g->mu);
      return;
    }
    g->v = v;
  }
  g->v[i] = (struct zcp__grant_rec){offset, size, node, epoch};
  pthread_mutex_unlock(&g->mu);
}

void zcp__grants_drop(struct zcp__grants *g, int64_t offset) {
  pthread_mutex_lock(&g->mu);
  size_t i = lower(g, offset);
  if (i < g->n && g->v[i].offset == offset)
    zcp__extents_remove(g->v, &g->n, sizeof *g->v, i, i + 1);
  pthread_mutex_unlock(&g->mu);
}

void zcp__grants_drop_epoch(struct zcp__grants *g, int32_t node, uint64_t epoch) {
  pthread_mutex_lock(&g->mu);
  size_t k = 0;
  for (size_t i = 0; i < g->n; i++)
    if (!(g->v[i].node == node && g->v[i].epoch == epoch)) g->v[k++] = g->v[i];
  g->n = k;
  pthread_mutex_unlock(&g->mu);
}

bool zcp__grants_owns(struct zcp__grants *g, int32_t node, int64_t offset,
                      int64_t length) {
  pthread_mutex_lock(&g->mu);
  size_t i = lower(g, offset + 1); /* the block starting at or before offset is i - 1 */
  bool ok = false;
  if (i > 0) {
    const struct zcp__grant_rec *r = &g->v[i - 1];
    ok = r->node == node && offset >= r->offset && length >= 0 &&
         length <= r->offset + r->size - offset;
  }
  pthread_mutex_unlock(&g->mu);
  return ok;
}
