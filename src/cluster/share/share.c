/* Sharing: every node's replica of the catalog, publishing to all nodes at once, and
 * the calls a reader and a creator make (share, import, list, drop).
 *
 * The catalog is replicated, not asked for: the creator publishes an entry to every
 * node in parallel (one round trip), so an import reads the local replica and talks only
 * to the owners of the memory it imports (memory.c). An entry is refused by any replica
 * that holds the same name from a live creator, and a refusal anywhere undoes the
 * publish everywhere, so two nodes cannot both win a name; when two publish it at the
 * same moment, the lower node id wins (serve_publish), so one of them always does.
 *
 * The node that created a batch frees it (thesis §3.10): share moves it into this node,
 * drop (after the leases, lease.c) takes it out of every replica and then releases it,
 * which gives its blocks back to their pools. */
#include "common/platform.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/share/share.h"
#include "zcpool/descriptor.h"

zcp_status_t zcp__share_name_check(struct zcp_node *node, const char *what,
                                   const char *name, struct zcp_error *err) {
  if (name == NULL || name[0] == '\0' || strlen(name) >= ZCP_SHARE_NAME_MAX)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "node %d: %s: a name must have 1..%d bytes", (int)node->id, what,
                         ZCP_SHARE_NAME_MAX - 1);
  return ZCP_OK;
}

/* ---- the replica --------------------------------------------------------------------
 */

static int entry_cmp(const char *name, enum zcp_share_kind kind, int64_t first_row,
                     const struct zcp__entry *e) {
  int c = strcmp(name, e->name);
  if (c != 0) return c;
  if (kind != e->kind) return kind < e->kind ? -1 : 1;
  if (kind != ZCP_SHARE_CHUNK || first_row == e->first_row) return 0;
  return first_row < e->first_row ? -1 : 1;
}

struct zcp__entry *zcp__catalog_find(struct zcp__share *s, const char *name,
                                     enum zcp_share_kind kind, int64_t first_row) {
  for (struct zcp__entry *e = s->entries; e != NULL; e = e->next)
    if (entry_cmp(name, kind, first_row, e) == 0) return e;
  return NULL;
}

static void entry_free(struct zcp__entry *e) {
  if (e == NULL) return;
  free(e->desc);
  free(e);
}

/* Unlinks and frees the entry (name, kind, first_row) of creator, of publication gen
 * when gen is not 0 (a late Drop of an earlier publication leaves a newer one alone);
 * false if absent. */
static bool catalog_remove(struct zcp__share *s, const char *name,
                           enum zcp_share_kind kind, int64_t first_row, int32_t creator,
                           uint64_t gen) {
  for (struct zcp__entry **pp = &s->entries; *pp != NULL; pp = &(*pp)->next) {
    struct zcp__entry *e = *pp;
    if (entry_cmp(name, kind, first_row, e) == 0 && e->creator == creator &&
        (gen == 0 || e->generation == gen)) {
      *pp = e->next;
      entry_free(e);
      pthread_cond_broadcast(&s->cv);
      return true;
    }
  }
  return false;
}

/* Does manifest m list a chunk starting at first_row? */
static bool manifest_lists(const struct zcp__entry *m, int64_t first_row) {
  for (int64_t i = 0; i + (int64_t)sizeof first_row <= m->desc_size; i += 8) {
    int64_t row;
    memcpy(&row, m->desc + i, sizeof row);
    if (row == first_row) return true;
  }
  return false;
}

/* May e join this replica? The same creator at a newer epoch replaces its own entry
 * (its earlier life is over); any other holder of the name refuses it (ZCP_BUSY, and
 * *holder says who). Under mu. */
static zcp_status_t catalog_check(struct zcp_node *node, const struct zcp__entry *e,
                                  int32_t *holder, struct zcp_error *err) {
  struct zcp__share *s = zcp__share_of(node);
  *holder = -1;
  const char *kind = e->kind == ZCP_SHARE_TABLE ? "shared batch" : "huge table";
  for (struct zcp__entry *x = s->entries; x != NULL; x = x->next) {
    if (strcmp(x->name, e->name) != 0) continue;
    bool replaces = x->creator == e->creator && x->creator_epoch < e->creator_epoch;
    if (x->kind == e->kind && entry_cmp(e->name, e->kind, e->first_row, x) == 0) {
      if (replaces) continue;
      *holder = x->creator;
      return zcp_error_set(err, ZCP_BUSY, "node %d: %s '%s' exists (from node %d)",
                           (int)node->id, kind, e->name, (int)x->creator);
    }
    /* A chunk's Publish reaches the replicas in parallel: the committer may have counted
     * it (its own replica had it) and its manifest may arrive here first. A chunk the
     * manifest lists is that chunk (chunks never overlap); any other comes too late. */
    if (e->kind == ZCP_SHARE_CHUNK && x->kind == ZCP_SHARE_MANIFEST && !replaces &&
        !manifest_lists(x, e->first_row))
      return zcp_error_set(err, ZCP_BUSY, "node %d: huge table '%s' is committed already",
                           (int)node->id, e->name);
    if (e->kind == ZCP_SHARE_CHUNK && x->kind == ZCP_SHARE_CHUNK && !replaces &&
        e->first_row < x->first_row + x->rows && x->first_row < e->first_row + e->rows)
      return zcp_error_set(
          err, ZCP_CORRUPT_INPUT,
          "node %d: huge table '%s': rows [%lld, %lld) overlap the chunk "
          "[%lld, %lld) from node %d",
          (int)node->id, e->name, (long long)e->first_row,
          (long long)(e->first_row + e->rows), (long long)x->first_row,
          (long long)(x->first_row + x->rows), (int)x->creator);
  }
  return ZCP_OK;
}

/* Checks and inserts a copy of e (sorted). Under mu. */
static zcp_status_t catalog_put(struct zcp_node *node, const struct zcp__entry *e,
                                int32_t *holder, struct zcp_error *err) {
  struct zcp__share *s = zcp__share_of(node);
  ZCP_RETURN_NOT_OK(catalog_check(node, e, holder, err));
  struct zcp__entry *c = calloc(1, sizeof *c);
  uint8_t *d = malloc((size_t)e->desc_size + 1);
  if (c == NULL || d == NULL) {
    free(c);
    free(d);
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "node %d: catalog entry '%s'",
                         (int)node->id, e->name);
  }
  *c = *e;
  if (e->desc_size > 0) memcpy(d, e->desc, (size_t)e->desc_size);
  c->desc = d;
  /* Entries of the same creator's earlier life go: they are replaced. */
  for (struct zcp__entry **pp = &s->entries; *pp != NULL;) {
    struct zcp__entry *x = *pp;
    if (entry_cmp(e->name, e->kind, e->first_row, x) == 0 && x->creator == e->creator &&
        x->creator_epoch < e->creator_epoch) {
      *pp = x->next;
      entry_free(x);
    } else {
      pp = &x->next;
    }
  }
  struct zcp__entry **pp = &s->entries;
  while (*pp != NULL && entry_cmp(c->name, c->kind, c->first_row, *pp) > 0)
    pp = &(*pp)->next;
  c->next = *pp;
  *pp = c;
  pthread_cond_broadcast(&s->cv);
  return ZCP_OK;
}

void zcp__catalog_merge(struct zcp_node *node, int32_t peer, uint64_t epoch,
                        const struct zcp__entry *v, size_t n, uint64_t gen_at) {
  struct zcp__share *s = zcp__share_of(node);
  pthread_mutex_lock(&s->mu);
  /* Its entries of this epoch that it no longer has were dropped while we did not
   * listen (unless published after it answered). */
  for (struct zcp__entry **pp = &s->entries; *pp != NULL;) {
    struct zcp__entry *x = *pp;
    bool listed = false;
    for (size_t i = 0; i < n && !listed; i++)
      listed = entry_cmp(v[i].name, v[i].kind, v[i].first_row, x) == 0 &&
               v[i].generation == x->generation;
    if (x->creator == peer && x->creator_epoch == epoch && x->generation <= gen_at &&
        !listed) {
      *pp = x->next;
      entry_free(x);
    } else {
      pp = &x->next;
    }
  }
  for (size_t i = 0; i < n; i++) {
    struct zcp__entry *x = zcp__catalog_find(s, v[i].name, v[i].kind, v[i].first_row);
    if (x != NULL && x->creator == peer && x->creator_epoch == epoch &&
        x->generation == v[i].generation)
      continue; /* we have it */
    if (x != NULL && x->creator == peer && x->creator_epoch <= epoch)
      catalog_remove(s, x->name, x->kind, x->first_row, peer, x->generation);
    /* Refused when another creator holds the name here: that one stays. */
    int32_t holder;
    zcp_status_t st = catalog_put(node, &v[i], &holder, NULL);
    (void)st;
  }
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

struct zcp__owned *zcp__owned_find(struct zcp__share *s, const char *name,
                                   enum zcp_share_kind kind, int64_t first_row) {
  for (struct zcp__owned *o = s->owned; o != NULL; o = o->next)
    if (strcmp(o->name, name) == 0 && o->kind == kind &&
        (kind != ZCP_SHARE_CHUNK || o->first_row == first_row))
      return o;
  return NULL;
}

void zcp__owned_unlink(struct zcp__share *s, struct zcp__owned *o) {
  for (struct zcp__owned **pp = &s->owned; *pp != NULL; pp = &(*pp)->next)
    if (*pp == o) {
      *pp = o->next;
      break;
    }
}

zcp_status_t zcp__owned_begin_drop(struct zcp_node *node, struct zcp__owned *o,
                                   const struct timespec *deadline, int timeout_ms,
                                   struct zcp_error *err) {
  if (o->dropping || !o->published)
    return zcp_error_set(err, ZCP_BUSY, "node %d: drop '%s': already being dropped",
                         (int)node->id, o->name);
  o->dropping = true; /* no new leases from now on */
  zcp_status_t st = zcp__lease_wait_none(node, o, deadline, timeout_ms, err);
  if (st != ZCP_OK) o->dropping = false;
  return st;
}

void zcp__entry_own(struct zcp__entry *e, struct zcp_node *node, const char *name,
                    enum zcp_share_kind kind, uint64_t generation) {
  memset(e, 0, sizeof *e);
  snprintf(e->name, sizeof e->name, "%s", name);
  e->kind = kind;
  e->creator = node->id;
  e->creator_epoch = node->epoch;
  e->generation = generation;
}

uint64_t zcp__share_next_generation(struct zcp__share *s) {
  return ++s->generation;
}

/* ---- publish ------------------------------------------------------------------------
 */

static void fill_drop(Zcpool__Drop *m, Zcpool__Request *req, const struct zcp__entry *e) {
  zcpool__drop__init(m);
  m->name = (char *)e->name;
  m->kind = (Zcpool__EntryKind)e->kind;
  m->creator = e->creator;
  m->first_row = e->first_row;
  m->generation = e->generation;
  req->call_case = ZCPOOL__REQUEST__CALL_DROP;
  req->drop = m;
}

/* Removes e from every peer's replica (best effort: a node that is down has lost its
 * replica or will find the creator's epoch stale). */
static void unpublish(struct zcp_node *node, const struct zcp__entry *e) {
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  Zcpool__Drop m;
  fill_drop(&m, &req, e);
  zcp_status_t st =
      zcp__node_broadcast(node, &req, node->cfg.call_timeout_ms, "Drop", NULL);
  (void)st;
}

void zcp__share_unpublish(struct zcp_node *node, const struct zcp__entry *e) {
  unpublish(node, e);
  pthread_mutex_lock(&zcp__share_of(node)->mu);
  catalog_remove(zcp__share_of(node), e->name, e->kind, e->first_row, e->creator,
                 e->generation);
  pthread_mutex_unlock(&zcp__share_of(node)->mu);
}

void zcp__owned_retire(struct zcp_node *node, struct zcp__owned *o) {
  struct zcp__share *s = zcp__share_of(node);
  struct zcp__entry e;
  zcp__entry_own(&e, node, o->name, o->kind, o->generation);
  e.first_row = o->first_row;
  unpublish(node, &e);
  pthread_mutex_lock(&s->mu);
  catalog_remove(s, e.name, e.kind, e.first_row, e.creator, e.generation);
  zcp__owned_unlink(s, o);
  pthread_mutex_unlock(&s->mu);
  /* The creator frees: the blocks go back to their pools (a manifest holds none). */
  if (o->batch.release != NULL) o->batch.release(&o->batch);
  zcp__lease_free_all(o);
  free(o);
}

zcp_status_t zcp__share_seal_publish(struct zcp_node *node, const char *what,
                                     struct zcp__entry *e,
                                     const struct ArrowSchema *schema,
                                     struct ArrowArray *batch, struct zcp_error *err) {
  /* The values are walked once, here, by the sealing node (DESIGN §7): a batch that
   * fails is neither sealed nor shared, and importers rely on what passed. */
  enum zcp_validate_level check = atomic_load(&zcp__share_of(node)->seal_check);
  zcp_status_t cs = zcp_descriptor_check_values(schema, batch, check, &e->checked, err);
  if (cs != ZCP_OK) return zcp_error_prefix(err, cs, "node %d: %s: ", (int)node->id, what);
  pthread_mutex_lock(&zcp__share_of(node)->mu);
  uint64_t gen = zcp__share_next_generation(zcp__share_of(node));
  pthread_mutex_unlock(&zcp__share_of(node)->mu);
  ZCP_RETURN_NOT_OK(zcp__seal_batch(node, batch, gen, err));
  struct zcp_descriptor_memory mem;
  zcp_node_memory(node, &mem);
  e->generation = gen;
  e->rows = batch->length;
  zcp_status_t st =
      zcp_descriptor_encode(schema, batch, &mem, &e->desc, &e->desc_size, err);
  if (st != ZCP_OK)
    return zcp_error_prefix(err, st, "node %d: %s: ", (int)node->id, what);
  st = zcp__share_publish(node, e, batch, err);
  zcp_descriptor_free(e->desc);
  e->desc = NULL;
  return st;
}

zcp_status_t zcp__share_publish(struct zcp_node *node, const struct zcp__entry *e,
                                struct ArrowArray *batch, struct zcp_error *err) {
  struct zcp__share *s = zcp__share_of(node);
  /* Every publication has an owned record at its creator (a manifest's holds no batch,
   * only the leases on its huge table). */
  struct zcp__owned *o = calloc(1, sizeof *o);
  if (o == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "publish '%s'", e->name);
  snprintf(o->name, sizeof o->name, "%s", e->name);
  o->kind = e->kind;
  o->first_row = e->first_row;
  o->generation = e->generation;
  pthread_mutex_lock(&s->mu);
  int32_t holder;
  zcp_status_t st = catalog_put(node, e, &holder, err);
  if (st == ZCP_OK && o != NULL) {
    o->next = s->owned;
    s->owned = o;
  }
  pthread_mutex_unlock(&s->mu);
  if (st != ZCP_OK) {
    free(o);
    return st;
  }
  Zcpool__Publish m = ZCPOOL__PUBLISH__INIT;
  zcp__entry_to_msg(e, &m);
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  req.call_case = ZCPOOL__REQUEST__CALL_PUBLISH;
  req.publish = &m;
  st = zcp__node_broadcast(node, &req, node->cfg.call_timeout_ms, "Publish", err);
  pthread_mutex_lock(&s->mu);
  if (st != ZCP_OK) {
    catalog_remove(s, e->name, e->kind, e->first_row, e->creator, e->generation);
    zcp__owned_unlink(s, o);
  } else {
    o->published = true;
    if (batch != NULL) {
      o->batch = *batch; /* moved: this node frees it */
      batch->release = NULL;
    }
  }
  pthread_mutex_unlock(&s->mu);
  if (st != ZCP_OK) {
    free(o);
    unpublish(node, e);
  }
  return st;
}

/* ---- serving ------------------------------------------------------------------------
 */

void zcp__entry_to_msg(const struct zcp__entry *e, Zcpool__Publish *m) {
  m->name = (char *)e->name;
  m->kind = (Zcpool__EntryKind)e->kind;
  m->creator = e->creator;
  m->creator_epoch = e->creator_epoch;
  m->descriptor.data = e->desc;
  m->descriptor.len = (size_t)e->desc_size;
  m->rows = e->rows;
  m->first_row = e->first_row;
  m->schema_hash = e->schema_hash;
  m->generation = e->generation;
  m->checked = (uint32_t)e->checked;
}

bool zcp__entry_from_msg(const Zcpool__Publish *m, struct zcp__entry *e) {
  if (m->name == NULL || m->name[0] == '\0' || strlen(m->name) >= ZCP_SHARE_NAME_MAX ||
      m->kind < 0 || m->kind > ZCPOOL__ENTRY_KIND__ENTRY_MANIFEST || m->rows < 0 ||
      m->first_row < 0 || m->descriptor.len > (size_t)INT64_MAX / 2 ||
      m->checked > ZCP_CHECKED_FULL)
    return false;
  memset(e, 0, sizeof *e);
  snprintf(e->name, sizeof e->name, "%s", m->name);
  e->kind = (enum zcp_share_kind)m->kind;
  e->creator = m->creator;
  e->creator_epoch = m->creator_epoch;
  e->desc = m->descriptor.data;
  e->desc_size = (int64_t)m->descriptor.len;
  e->rows = m->rows;
  e->first_row = m->first_row;
  e->schema_hash = m->schema_hash;
  e->generation = m->generation;
  e->checked = (enum zcp_checked)m->checked;
  return true;
}

static void serve_publish(struct zcp_node *node, const struct zcp__rpc_peer *who,
                          const Zcpool__Request *req, Zcpool__Response *resp) {
  const Zcpool__Publish *m = req->publish;
  char msg[ZCP_ERROR_MESSAGE_MAX + 64];
  struct zcp_error err = {0};
  struct zcp__entry e = {0};
  if (!zcp__entry_from_msg(m, &e) || m->creator != who->node ||
      m->creator_epoch != who->epoch) {
    snprintf(msg, sizeof msg, "node %d: Publish from node %d: malformed entry",
             (int)node->id, (int)who->node);
    zcp__reply_error(resp, ZCP_INVALID_ARGUMENT, msg);
    return;
  }
  /* Two nodes publishing one name at once: the lower node id wins. Held here by a higher
   * node id's entry, the Publish waits for that entry to go, which it will if that
   * publish is still in flight: the lower node holds its own entry already (it puts it
   * before it sends), so it refuses the higher one, which then undoes its publish. An
   * entry that stays was there first; the wait is bounded. */
  struct zcp__share *s = zcp__share_of(node);
  struct timespec deadline;
  zcp__deadline(&deadline, node->cfg.call_timeout_ms / 2);
  pthread_mutex_lock(&s->mu);
  zcp_status_t st;
  for (;;) {
    int32_t holder = -1;
    st = catalog_put(node, &e, &holder, &err);
    if (st != ZCP_BUSY || holder <= e.creator || s->stopping) break;
    if (pthread_cond_timedwait(&s->cv, &s->mu, &deadline) == ETIMEDOUT) {
      st = catalog_put(node, &e, &holder, &err);
      break;
    }
  }
  pthread_mutex_unlock(&s->mu);
  if (st != ZCP_OK) zcp__reply_error(resp, st, err.message);
}

static void serve_lease(struct zcp_node *node, const struct zcp__rpc_peer *who,
                        const Zcpool__Request *req, Zcpool__Response *resp) {
  const Zcpool__Lease *m = req->lease;
  uint64_t request_id = req->header->request_id;
  struct zcp_error err = {0};
  uint64_t id = 0;
  zcp_status_t st = ZCP_OK;
  if (m->name == NULL || m->ttl_ms < 1 || m->ttl_ms > 3600000 ||
      (m->kind != ZCPOOL__ENTRY_KIND__ENTRY_TABLE &&
       m->kind != ZCPOOL__ENTRY_KIND__ENTRY_MANIFEST))
    st = zcp_error_set(&err, ZCP_INVALID_ARGUMENT,
                       "node %d: Lease: bad name, kind or ttl", (int)node->id);
  if (st == ZCP_OK) {
    pthread_mutex_lock(&zcp__share_of(node)->mu);
    /* By request id: a retry after a broken connection gets the same lease. */
    st = zcp__lease_grant(node, m->name, (enum zcp_share_kind)m->kind, who->node,
                          who->epoch, request_id, m->ttl_ms, &id, &err);
    pthread_mutex_unlock(&zcp__share_of(node)->mu);
  }
  if (st != ZCP_OK) {
    zcp__reply_error(resp, st, err.message);
    return;
  }
  Zcpool__LeaseReply *r = malloc(sizeof *r);
  if (r == NULL) return;
  zcpool__lease_reply__init(r);
  r->lease_id = id;
  r->expires_in_ms = m->ttl_ms;
  resp->result_case = ZCPOOL__RESPONSE__RESULT_LEASE;
  resp->lease = r;
}

static void serve_drop(struct zcp_node *node, const struct zcp__rpc_peer *who,
                       const Zcpool__Request *req, Zcpool__Response *resp) {
  struct zcp_error err = {0};
  const Zcpool__Drop *m = req->drop;
  bool valid = m->name != NULL && m->creator >= 0 && m->creator < node->cfg.n_nodes;
  uint64_t now = valid ? zcp__node_epoch_of(node, m->creator) : 0;
  /* The creator takes its entries out of the replicas; anyone may take out an entry
   * whose creator has restarted since (stale: nothing can read it any more). */
  pthread_mutex_lock(&zcp__share_of(node)->mu);
  struct zcp__entry *x =
      valid ? zcp__catalog_find(zcp__share_of(node), m->name,
                                (enum zcp_share_kind)m->kind, m->first_row)
            : NULL;
  bool may = x != NULL && x->creator == m->creator &&
             (m->creator == who->node || x->creator_epoch < now);
  bool gone =
      may && catalog_remove(zcp__share_of(node), m->name, (enum zcp_share_kind)m->kind,
                            m->first_row, m->creator, m->generation);
  pthread_mutex_unlock(&zcp__share_of(node)->mu);
  if (!gone) {
    zcp_error_set(&err, ZCP_NOT_FOUND, "node %d: Drop from node %d: no such entry",
                  (int)node->id, (int)who->node);
    zcp__reply_error(resp, err.code, err.message);
  }
}

static void serve_release(struct zcp_node *node, const struct zcp__rpc_peer *who,
                          const Zcpool__Request *req, Zcpool__Response *resp) {
  struct zcp_error err = {0};
  pthread_mutex_lock(&zcp__share_of(node)->mu);
  const Zcpool__Release *m = req->release;
  zcp_status_t st = m->name == NULL
                        ? zcp_error_set(&err, ZCP_INVALID_ARGUMENT, "Release: no name")
                        : zcp__lease_end(node, m->name, (enum zcp_share_kind)m->kind,
                                         who->node, m->lease_id, &err);
  pthread_mutex_unlock(&zcp__share_of(node)->mu);
  if (st != ZCP_OK) zcp__reply_error(resp, st, err.message);
}

/* ---- share, import, list, drop ------------------------------------------------------
 */

zcp_status_t zcp__share_import(struct zcp_node *node, const char *what,
                               const struct zcp__entry *e, const uint8_t *desc,
                               int64_t size, enum zcp_validate_level level,
                               struct ArrowSchema *schema, struct ArrowArray *array,
                               struct zcp_error *err) {
  /* The creator holds every block (it built the batch) and sealed it for this
   * publication: anything else is memory freed and reused since. */
  struct zcp__expect ex = {node, e->creator, e->creator_epoch, e->generation};
  struct zcp_descriptor_memory mem;
  zcp__node_memory_expect(&ex, &mem);
  zcp_status_t st = zcp_descriptor_decode_checked(desc, size, &mem, level, e->checked, schema,
                                                   array, err);
  if (st != ZCP_OK) zcp_error_prefix(err, st, "node %d: %s: ", (int)node->id, what);
  return st;
}

zcp_status_t zcp_node_share(struct zcp_node *node, const char *name,
                            const struct ArrowSchema *schema, struct ArrowArray *batch,
                            struct zcp_error *err) {
  ZCP_RETURN_NOT_OK(zcp__share_name_check(node, "share", name, err));
  if (schema == NULL || batch == NULL || batch->release == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "node %d: share '%s': no batch",
                         (int)node->id, name);
  pthread_mutex_lock(&zcp__share_of(node)->mu);
  struct zcp__entry *x = zcp__catalog_find(zcp__share_of(node), name, ZCP_SHARE_TABLE, 0);
  int32_t holder = x != NULL ? x->creator : -1;
  pthread_mutex_unlock(&zcp__share_of(node)->mu);
  if (holder >= 0 && holder != node->id)
    return zcp_error_set(err, ZCP_BUSY,
                         "node %d: shared batch '%s' exists (from node %d)",
                         (int)node->id, name, (int)holder);
  struct zcp__entry e;
  zcp__entry_own(&e, node, name, ZCP_SHARE_TABLE, 0);
  char what[ZCP_SHARE_NAME_MAX + 16];
  snprintf(what, sizeof what, "share '%s'", name);
  return zcp__share_seal_publish(node, what, &e, schema, batch, err);
}

zcp_status_t zcp_node_import(struct zcp_node *node, const char *name,
                             enum zcp_validate_level level, struct zcp_table **out,
                             struct zcp_error *err) {
  *out = NULL;
  ZCP_RETURN_NOT_OK(zcp__share_name_check(node, "import", name, err));
  pthread_mutex_lock(&zcp__share_of(node)->mu);
  struct zcp__entry *x = zcp__catalog_find(zcp__share_of(node), name, ZCP_SHARE_TABLE, 0);
  struct zcp__entry e = {0};
  uint8_t *desc = NULL;
  if (x != NULL) {
    e = *x;
    desc = malloc((size_t)x->desc_size + 1);
    if (desc != NULL) memcpy(desc, x->desc, (size_t)x->desc_size);
  }
  pthread_mutex_unlock(&zcp__share_of(node)->mu);
  if (x == NULL)
    return zcp_error_set(err, ZCP_NOT_FOUND, "node %d: no shared batch '%s'",
                         (int)node->id, name);
  if (desc == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "import '%s'", name);
  zcp_status_t st = ZCP_OK;
  uint64_t now = zcp__node_epoch_of(node, e.creator);
  if (e.creator_epoch < now)
    st = zcp_error_set(err, ZCP_STALE,
                       "node %d: shared batch '%s': its creator node %d has restarted "
                       "(epoch %" PRIu64 ", now %" PRIu64 ")",
                       (int)node->id, name, (int)e.creator, e.creator_epoch, now);
  struct ArrowSchema schema = {0};
  struct ArrowArray array = {0};
  char what[ZCP_SHARE_NAME_MAX + 32];
  snprintf(what, sizeof what, "shared batch '%s'", name);
  if (st == ZCP_OK)
    st =
        zcp__share_import(node, what, &e, desc, e.desc_size, level, &schema, &array, err);
  free(desc);
  if (st != ZCP_OK) return st;
  struct zcp_table *t = NULL;
  st = zcp_table_init(&schema, &t, err);
  /* decode validated the values at level already */
  if (st == ZCP_OK) st = zcp_table_append(t, &array, ZCP_VALIDATE_MINIMAL, err);
  if (array.release != NULL) array.release(&array);
  schema.release(&schema);
  if (st != ZCP_OK) {
    zcp_table_release(t);
    return zcp_error_prefix(err, st, "node %d: %s: ", (int)node->id, what);
  }
  *out = t;
  return ZCP_OK;
}

zcp_status_t zcp_node_list(struct zcp_node *node, struct zcp_share_info **out, int64_t *n,
                           struct zcp_error *err) {
  uint64_t epochs[ZCP_CLUSTER_MAX_NODES];
  for (int i = 0; i < node->cfg.n_nodes; i++) epochs[i] = zcp__node_epoch_of(node, i);
  *out = NULL;
  *n = 0;
  pthread_mutex_lock(&zcp__share_of(node)->mu);
  int64_t count = 0;
  for (struct zcp__entry *e = zcp__share_of(node)->entries; e != NULL; e = e->next)
    count++;
  struct zcp_share_info *v = calloc((size_t)count + 1, sizeof *v);
  if (v == NULL) {
    pthread_mutex_unlock(&zcp__share_of(node)->mu);
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "node %d: list", (int)node->id);
  }
  int64_t k = 0;
  for (struct zcp__entry *e = zcp__share_of(node)->entries; e != NULL; e = e->next, k++) {
    struct zcp_share_info *i = &v[k];
    snprintf(i->name, sizeof i->name, "%s", e->name);
    i->kind = e->kind;
    i->creator = e->creator;
    i->creator_epoch = e->creator_epoch;
    i->rows = e->rows;
    i->first_row = e->first_row;
    i->descriptor_size = e->desc_size;
    i->stale = e->creator_epoch < epochs[e->creator];
  }
  pthread_mutex_unlock(&zcp__share_of(node)->mu);
  *out = v;
  *n = count;
  return ZCP_OK;
}

zcp_status_t zcp_node_drop(struct zcp_node *node, const char *name, int timeout_ms,
                           struct zcp_error *err) {
  ZCP_RETURN_NOT_OK(zcp__share_name_check(node, "drop", name, err));
  struct zcp__share *s = zcp__share_of(node);
  struct timespec deadline;
  zcp__deadline(&deadline, timeout_ms);
  pthread_mutex_lock(&s->mu);
  struct zcp__owned *o = zcp__owned_find(s, name, ZCP_SHARE_TABLE, 0);
  zcp_status_t st = ZCP_OK;
  if (o == NULL) {
    struct zcp__entry *x = zcp__catalog_find(s, name, ZCP_SHARE_TABLE, 0);
    st = x != NULL
             ? zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                             "node %d: drop '%s': only its creator node %d drops it",
                             (int)node->id, name, (int)x->creator)
             : zcp_error_set(err, ZCP_NOT_FOUND, "node %d: drop: no shared batch '%s'",
                             (int)node->id, name);
  } else {
    st = zcp__owned_begin_drop(node, o, &deadline, timeout_ms, err);
  }
  pthread_mutex_unlock(&s->mu);
  if (st != ZCP_OK) return st;
  zcp__owned_retire(node, o);
  return ZCP_OK;
}

zcp_status_t zcp_node_set_seal_check(struct zcp_node *node, enum zcp_validate_level level,
                                     struct zcp_error *err) {
  if (level < ZCP_VALIDATE_MINIMAL || level > ZCP_VALIDATE_FULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "node %d: seal check: no level %d",
                         (int)node->id, (int)level);
  atomic_store(&zcp__share_of(node)->seal_check, (int)level);
  return ZCP_OK;
}

/* ---- life -------------------------------------------------------------------------- */

/* A peer that came up has its entries pulled; one that went down or restarted finishes
 * none of the full copies it was sending us. */
static void peer_down(struct zcp_node *node, int32_t peer) {
  zcp__copy_client_gone(node, peer, 0);
}

static void client_restarted(struct zcp_node *node, int32_t client, uint64_t old_epoch,
                             uint64_t epoch) {
  zcp__copy_client_gone(node, client, epoch);
}

static const struct zcp__member_hooks hooks = {.peer_up = zcp__sync_peer_up,
                                               .peer_down = peer_down,
                                               .client_restarted = client_restarted};

zcp_status_t zcp__share_init(struct zcp_node *node, struct zcp_error *err) {
  struct zcp__share *s = calloc(1, sizeof *s);
  if (s == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "catalog");
  pthread_mutex_init(&s->mu, NULL);
  zcp__cond_init_monotonic(&s->cv);
  zcp__cond_init_monotonic(&s->sync_cv);
  atomic_init(&s->seal_check, ZCP_VALIDATE_DEFAULT);
  zcp__share_node_of(node)->share = s;
  zcp__member_handle(node, ZCPOOL__REQUEST__CALL_PUBLISH, serve_publish);
  zcp__member_handle(node, ZCPOOL__REQUEST__CALL_DROP, serve_drop);
  zcp__member_handle(node, ZCPOOL__REQUEST__CALL_LEASE, serve_lease);
  zcp__member_handle(node, ZCPOOL__REQUEST__CALL_RELEASE, serve_release);
  zcp__member_handle(node, ZCPOOL__REQUEST__CALL_LIST, zcp__serve_list);
  zcp__member_handle(node, ZCPOOL__REQUEST__CALL_DROP_CHUNKS, zcp__serve_drop_chunks);
  zcp__member_hooks_add(node, &hooks);
  /* A peer that comes up is ready once its catalog entries are in the replica. */
  zcp__member_gate_ready(node);
  return ZCP_OK;
}

void zcp__share_close(struct zcp_node *node) {
  struct zcp__share *s = zcp__share_of(node);
  if (s == NULL) return;
  zcp__sync_stop(node); /* before the clients it calls go */
  pthread_mutex_lock(&s->mu);
  struct zcp__owned *o = s->owned;
  s->owned = NULL;
  pthread_mutex_unlock(&s->mu);
  while (o != NULL) {
    struct zcp__owned *next = o->next;
    if (o->batch.release != NULL) o->batch.release(&o->batch);
    zcp__lease_free_all(o);
    free(o);
    o = next;
  }
}

void zcp__share_free(struct zcp_node *node) {
  struct zcp__share *s = zcp__share_of(node);
  if (s == NULL) return;
  /* The server has stopped: nothing else touches the replica now. */
  struct zcp__entry *e = s->entries;
  while (e != NULL) {
    struct zcp__entry *next = e->next;
    entry_free(e);
    e = next;
  }
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  pthread_cond_destroy(&s->sync_cv);
  free(s);
  zcp__share_node_of(node)->share = NULL;
}
