/* Leases: a reader pins a shared batch at its creator for a while, so that the creator
 * does not free memory the reader still reads (DESIGN §7). A lease lives at the creator
 * only, with a time to live: a reader that dies simply lets it expire. zcp_node_drop
 * refuses new leases and waits, on the catalog's condition variable, until the last
 * lease is released or has expired — woken by a release, or at the next expiry, never
 * polling.
 *
 * A huge table is leased as a whole at its committer (the manifest's creator), which
 * is the node that drops it. Lease is idempotent: a Lease retried by the RPC layer after
 * a broken connection (same node, epoch and request id) finds the lease it made. */
#include "common/platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/share/share.h"

/* Removes expired leases of o. Under mu. */
static void purge(struct zcp__owned *o, int64_t now) {
  for (struct zcp__lease **pp = &o->leases; *pp != NULL;) {
    struct zcp__lease *l = *pp;
    if (l->expires_ms <= now) {
      *pp = l->next;
      free(l);
    } else {
      pp = &l->next;
    }
  }
}

void zcp__lease_free_all(struct zcp__owned *o) {
  purge(o, INT64_MAX);
}

static const char *kind_name(enum zcp_share_kind kind) {
  return kind == ZCP_SHARE_MANIFEST ? "committed huge table" : "batch";
}

zcp_status_t zcp__lease_grant(struct zcp_node *node, const char *name,
                              enum zcp_share_kind kind, int32_t holder,
                              uint64_t holder_epoch, uint64_t request_id, int64_t ttl_ms,
                              uint64_t *id, struct zcp_error *err) {
  struct zcp__owned *o = kind == ZCP_SHARE_CHUNK
                             ? NULL
                             : zcp__owned_find(zcp__share_of(node), name, kind, 0);
  if (o == NULL || !o->published)
    return zcp_error_set(err, ZCP_NOT_FOUND, "node %d: lease: node %d has no %s '%s'",
                         (int)node->id, (int)node->id, kind_name(kind), name);
  if (o->dropping)
    return zcp_error_set(err, ZCP_BUSY, "node %d: lease: '%s' is being dropped",
                         (int)node->id, name);
  int64_t now = zcp__now_ms();
  purge(o, now);
  for (struct zcp__lease *x = o->leases; x != NULL && request_id != 0; x = x->next)
    if (x->node == holder && x->holder_epoch == holder_epoch &&
        x->request_id == request_id) {
      *id = x->id; /* a retry: the lease the first request made */
      return ZCP_OK;
    }
  struct zcp__lease *l = malloc(sizeof *l);
  if (l == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "lease '%s'", name);
  l->id = ++zcp__share_of(node)->next_lease;
  l->node = holder;
  l->holder_epoch = holder_epoch;
  l->request_id = request_id;
  l->expires_ms = now + ttl_ms;
  l->next = o->leases;
  o->leases = l;
  *id = l->id;
  return ZCP_OK;
}

zcp_status_t zcp__lease_end(struct zcp_node *node, const char *name,
                            enum zcp_share_kind kind, int32_t holder, uint64_t id,
                            struct zcp_error *err) {
  struct zcp__owned *o = kind == ZCP_SHARE_CHUNK
                             ? NULL
                             : zcp__owned_find(zcp__share_of(node), name, kind, 0);
  if (o != NULL) {
    purge(o, zcp__now_ms());
    for (struct zcp__lease **pp = &o->leases; *pp != NULL; pp = &(*pp)->next) {
      /* Only the holder ends its lease. */
      if ((*pp)->id != id || (*pp)->node != holder) continue;
      struct zcp__lease *l = *pp;
      *pp = l->next;
      free(l);
      pthread_cond_broadcast(&zcp__share_of(node)->cv);
      return ZCP_OK;
    }
  }
  return zcp_error_set(err, ZCP_NOT_FOUND,
                       "node %d: no lease %llu on '%s' (released or expired)",
                       (int)node->id, (unsigned long long)id, name);
}

zcp_status_t zcp__lease_wait_none(struct zcp_node *node, struct zcp__owned *o,
                                  const struct timespec *deadline, int timeout_ms,
                                  struct zcp_error *err) {
  for (;;) {
    int64_t now = zcp__now_ms();
    purge(o, now);
    if (o->leases == NULL) return ZCP_OK;
    int64_t next = INT64_MAX;
    for (struct zcp__lease *l = o->leases; l != NULL; l = l->next)
      if (l->expires_ms < next) next = l->expires_ms;
    struct timespec at;
    zcp__deadline(&at, next - now);
    bool last = at.tv_sec > deadline->tv_sec ||
                (at.tv_sec == deadline->tv_sec && at.tv_nsec >= deadline->tv_nsec);
    if (last) at = *deadline;
    int rc =
        pthread_cond_timedwait(&zcp__share_of(node)->cv, &zcp__share_of(node)->mu, &at);
    if (rc == ETIMEDOUT && last) {
      purge(o, zcp__now_ms());
      if (o->leases == NULL) return ZCP_OK;
      char who[200] = "";
      size_t n = 0;
      for (struct zcp__lease *l = o->leases; l != NULL && n < sizeof who - 16;
           l = l->next)
        n += (size_t)snprintf(who + n, sizeof who - n, " %d", (int)l->node);
      return zcp_error_set(err, ZCP_TIMEOUT,
                           "node %d: drop '%s': still leased after %d ms by node(s)%s",
                           (int)node->id, o->name, timeout_ms, who);
    }
  }
}

/* Where a lease on `name` lives, from the replica: a shared batch's creator, or a
 * committed huge table's committer. */
static zcp_status_t creator_of(struct zcp_node *node, const char *name, int32_t *out,
                               enum zcp_share_kind *kind, struct zcp_error *err) {
  ZCP_RETURN_NOT_OK(zcp__share_name_check(node, "lease", name, err));
  pthread_mutex_lock(&zcp__share_of(node)->mu);
  struct zcp__entry *e = zcp__catalog_find(zcp__share_of(node), name, ZCP_SHARE_TABLE, 0);
  *kind = ZCP_SHARE_TABLE;
  if (e == NULL) {
    e = zcp__catalog_find(zcp__share_of(node), name, ZCP_SHARE_MANIFEST, 0);
    *kind = ZCP_SHARE_MANIFEST;
  }
  *out = e != NULL ? e->creator : -1;
  pthread_mutex_unlock(&zcp__share_of(node)->mu);
  if (*out < 0)
    return zcp_error_set(err, ZCP_NOT_FOUND,
                         "node %d: lease: no shared batch or committed huge table '%s'",
                         (int)node->id, name);
  return ZCP_OK;
}

zcp_status_t zcp_node_lease(struct zcp_node *node, const char *name, int64_t ttl_ms,
                            uint64_t *lease_id, struct zcp_error *err) {
  *lease_id = 0;
  if (ttl_ms < 1 || ttl_ms > 3600000)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "node %d: lease: ttl %lld ms is not in 1 ms .. 1 h",
                         (int)node->id, (long long)ttl_ms);
  int32_t c = -1;
  enum zcp_share_kind kind;
  ZCP_RETURN_NOT_OK(creator_of(node, name, &c, &kind, err));
  if (c == node->id) {
    pthread_mutex_lock(&zcp__share_of(node)->mu);
    zcp_status_t st = zcp__lease_grant(node, name, kind, node->id, node->epoch, 0, ttl_ms,
                                       lease_id, err);
    pthread_mutex_unlock(&zcp__share_of(node)->mu);
    return st;
  }
  Zcpool__Lease m = ZCPOOL__LEASE__INIT;
  m.name = (char *)name;
  m.ttl_ms = ttl_ms;
  m.kind = (Zcpool__EntryKind)kind;
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  req.call_case = ZCPOOL__REQUEST__CALL_LEASE;
  req.lease = &m;
  Zcpool__Response *resp = NULL;
  zcp_status_t st =
      zcp__rpc_call(node->peers[c].client, &req, node->cfg.call_timeout_ms, &resp, err);
  if (st == ZCP_OK && resp->result_case != ZCPOOL__RESPONSE__RESULT_LEASE)
    st = zcp_error_set(err, ZCP_CORRUPT_INPUT, "node %d answered Lease without a lease",
                       (int)c);
  if (st == ZCP_OK) *lease_id = resp->lease->lease_id;
  if (resp != NULL) zcpool__response__free_unpacked(resp, NULL);
  return st;
}

zcp_status_t zcp_node_lease_release(struct zcp_node *node, const char *name,
                                    uint64_t lease_id, struct zcp_error *err) {
  int32_t c = -1;
  enum zcp_share_kind kind;
  ZCP_RETURN_NOT_OK(creator_of(node, name, &c, &kind, err));
  if (c == node->id) {
    pthread_mutex_lock(&zcp__share_of(node)->mu);
    zcp_status_t st = zcp__lease_end(node, name, kind, node->id, lease_id, err);
    pthread_mutex_unlock(&zcp__share_of(node)->mu);
    return st;
  }
  Zcpool__Release m = ZCPOOL__RELEASE__INIT;
  m.name = (char *)name;
  m.lease_id = lease_id;
  m.kind = (Zcpool__EntryKind)kind;
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  req.call_case = ZCPOOL__REQUEST__CALL_RELEASE;
  req.release = &m;
  Zcpool__Response *resp = NULL;
  zcp_status_t st =
      zcp__rpc_call(node->peers[c].client, &req, node->cfg.call_timeout_ms, &resp, err);
  if (resp != NULL) zcpool__response__free_unpacked(resp, NULL);
  return st;
}
