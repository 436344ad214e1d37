/* Seal tags: which publication each sealed block of this node's region was sealed for.
 *
 * Reuse safety (DESIGN §7). A replica that missed a drop (its node was partitioned) can
 * keep an entry whose memory has been freed and then reused, sealed again, by another
 * batch of the same creator; the allocation table would vouch for it (live, sealed,
 * held by that creator). So sealing records the publication's generation per block here,
 * and Verify compares it with the generation the entry names. The record is keyed by the
 * block's extent: sealing a block replaces every record that overlaps it (those blocks
 * are gone), which also bounds the table by the blocks the region can hold. A sorted
 * array: every change is a seal, which is already a network round trip or a publish. */
#include "common/platform.h"

#include <stdlib.h>
#include <string.h>

#include "cluster/memory/memory.h"

void zcp__tags_init(struct zcp__tags *t) {
  memset(t, 0, sizeof *t);
  pthread_mutex_init(&t->mu, NULL);
}

void zcp__tags_release(struct zcp__tags *t) {
  free(t->v);
  pthread_mutex_destroy(&t->mu);
  memset(t, 0, sizeof *t);
}

/* First index whose offset >= offset. Under mu. */
static size_t lower(const struct zcp__tags *t, int64_t offset) {
  return zcp__extents_lower(t->v, t->n, sizeof *t->v, offset);
}

void zcp__tags_put(struct zcp__tags *t, int64_t offset, int64_t size, uint64_t gen) {
  pthread_mutex_lock(&t->mu);
  /* Records overlapping [offset, offset + size): the one starting before it (at most
   * one, records never overlap each other) and those starting inside it. */
  size_t i = lower(t, offset);
  if (i > 0 && t->v[i - 1].offset + t->v[i - 1].size > offset) i--;
  size_t j = i;
  while (j < t->n && t->v[j].offset < offset + size) j++;
  if (j == i) {
    struct zcp__tag_rec *v = zcp__extents_open(t->v, &t->n, &t->cap, sizeof *v, i);
    if (v == NULL) { /* no record: Verify with a generation then refuses: safe */
      pthread_mutex_unlock(&t->mu);
      return;
    }
    t->v = v;
  } else if (j > i + 1) {
    zcp__extents_remove(t->v, &t->n, sizeof *t->v, i + 1, j);
  }
  t->v[i] = (struct zcp__tag_rec){offset, size, gen};
  pthread_mutex_unlock(&t->mu);
}

bool zcp__tags_get(struct zcp__tags *t, int64_t offset, int64_t size, uint64_t *gen) {
  pthread_mutex_lock(&t->mu);
  size_t i = lower(t, offset);
  bool ok = i < t->n && t->v[i].offset == offset && t->v[i].size == size;
  if (ok) *gen = t->v[i].gen;
  pthread_mutex_unlock(&t->mu);
  return ok;
}
