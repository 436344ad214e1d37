/* The owner's side of the coherence protocol (DESIGN §4, docs/protocol.md step 1).
 *
 * The owner clears every block it hands out and copies the block of a realloc that
 * moves, on its own memory bus (thesis §3.8.1), through its own caches. On a region
 * that is not cache-coherent with the clients, that work counts only once memory holds
 * it, and the owner must not keep lines of a block a client writes:
 *   - before: it drops its lines of the old block (the client wrote it to memory; the
 *     owner may hold an older copy) and of the lines it is about to write (a stale line
 *     of its own there could outlive the clearing, and is dropped as any writer's is in
 *     step 2);
 *   - after, for another node: it writes the cleared or copied lines back and drops them,
 *     drops the old block's lines it read, and fences before it answers. Otherwise its
 *     dirty lines could reach memory later, over what the client wrote, and its clean
 *     ones would be read instead of the client's data where nobody invalidates (the
 *     thesis protocol's importers do not).
 * For its own requests the owner writes the block next through the same caches and
 * sealing writes it back, so only the first drop of the new lines is done.
 *
 * The pool announces the work (struct zcp_pool_touch) and this hook does the cache side;
 * every step is a switchable site (common/sites.h). On coherent regions all are no-ops.
 */
#include "common/platform.h"

#include "cluster/internal.h"
#include "common/sites.h"

/* Each site asked by its literal name: the site matrix finds them in the sources. */
static bool invalidate_on(bool realloc) {
  return realloc ? zcp__site_enabled("realloc.owner_invalidate")
                 : zcp__site_enabled("alloc.owner_invalidate");
}
static bool writeback_on(bool realloc) {
  return realloc ? zcp__site_enabled("realloc.owner_writeback")
                 : zcp__site_enabled("alloc.owner_writeback");
}

void zcp__owner_touch(void *ctx, bool after, const struct zcp_pool_touch *t) {
  struct zcp_node *node = ctx;
  const struct zcp_region *r = node->region;
  if (zcp_region_get_info(r)->coherence != ZCP_NONCOHERENT) return;
  if (!after) {
    if (!invalidate_on(t->realloc)) return;
    if (t->from != NULL && !t->local) zcp_region_invalidate(r, t->from, t->from_len);
    zcp_region_invalidate(r, t->to, t->to_len);
  } else {
    if (t->local) return;
    if (writeback_on(t->realloc)) zcp_region_flush(r, t->to, t->to_len);
    if (t->from != NULL && invalidate_on(t->realloc))
      zcp_region_invalidate(r, t->from, t->from_len);
  }
  zcp_cache_fence();
}
