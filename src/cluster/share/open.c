/* The node handle of the public API (zcpool/cluster.h), assembled from the three parts of
 * the cluster layer: the member part first (config, window, own region), then the memory
 * part over it (pools, the owner's calls) and this part (catalog, sharing calls, full
 * copies), each registering its calls and hooks; only then does the node serve and
 * connect its peers. Closing undoes it in the reverse order. */
#include "common/platform.h"

#include <stdlib.h>

#include "cluster/share/share.h"

zcp_status_t zcp_node_open(const struct zcp_config *cfg, int32_t id,
                           struct zcp_node **out, struct zcp_error *err) {
  if (out != NULL) *out = NULL;
  if (cfg == NULL || out == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "zcp_node_open: %s is NULL",
                         cfg == NULL ? "the config" : "out");
  /* A config made by the builder is checked as a whole only here (or when written). */
  const char *where = cfg->path[0] != '\0' ? cfg->path : "config";
  ZCP_RETURN_NOT_OK(zcp__config_check(cfg, where, 0, NULL, err));
  if (id < 0 || id >= cfg->n_nodes)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "%s: no node %d (nodes 0..%d)", where,
                         (int)id, (int)cfg->n_nodes - 1);
  struct zcp__share_node *sn = calloc(1, sizeof *sn);
  if (sn == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "node %d", (int)id);
  struct zcp_node *node = &sn->base.node;
  zcp_status_t st = zcp__member_init(node, cfg, id, err);
  if (st == ZCP_OK) st = zcp__memory_open(node, err);
  if (st == ZCP_OK) st = zcp__share_init(node, err);
  if (st == ZCP_OK) st = zcp__copy_init(node, err);
  if (st == ZCP_OK) st = zcp__member_start(node, err);
  /* After every client exists: the pulls call them (peers that came up meanwhile are
   * queued already). */
  if (st == ZCP_OK) st = zcp__sync_start(node, err);
  if (st != ZCP_OK) {
    zcp_error_prefix(err, st, "node %d of %s: ", (int)id, where);
    zcp_node_close(node);
    return st;
  }
  *out = node;
  return ZCP_OK;
}

void zcp_node_close(struct zcp_node *node) {
  if (node == NULL) return;
  /* Before anything goes: a slower peer still in our last barrier round must be able to
   * tell that we entered it, once we can no longer answer it ourselves. */
  zcp__barrier_announce_leave(node);
  /* Shared batches first: freeing one may call its region's owner. */
  zcp__share_close(node);
  zcp__member_stop(node);
  zcp__share_free(node);
  zcp__copy_release(node); /* its tables live in the pool */
  zcp__memory_close(node);
  zcp__member_release(node);
  free(zcp__share_node_of(node));
}
