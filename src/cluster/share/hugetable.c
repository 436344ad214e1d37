/* Huge tables (thesis §3.6, §4.7; DESIGN §7): chunks added by any node, assembled and
 * committed by one, imported by every node as one table.
 *
 * Chunks and the manifest are catalog entries like shared batches (share.c), so they
 * reach every replica with one parallel Publish; a replica refuses a chunk that overlaps
 * one it holds. Commit and import wait on the catalog's condition variable, which every
 * arriving entry signals: no polling. The manifest lists the first row of every chunk,
 * so a reader imports exactly the chunks the committer checked. A chunk's schema is
 * compared by a fingerprint taken when it was added (the committer cannot decode every
 * chunk without asking every owner).
 *
 * Dropping (zcp_hugetable_drop) belongs to the committer, which holds the leases on the
 * table: it refuses new leases, waits for the live ones, takes the manifest out of every
 * replica (readers now see "not committed"), then asks every chunk's creator with
 * DropChunks to take its chunks out of every replica and free them (the creator frees,
 * thesis §3.10). A table that was never committed, or whose committer has restarted
 * since, has no leases: any node drops it. */
#include "common/platform.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/share/share.h"
#include "common/util.h"
#include "zcpool/descriptor.h"
#include "zcpool/hugetable.h"

/* FNV-1a over everything that makes a schema (formats, names, flags, metadata). */
static uint64_t hash_bytes(uint64_t h, const void *p, size_t n) {
  const uint8_t *b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
  return h;
}

static uint64_t hash_str(uint64_t h, const char *s) {
  return s == NULL ? hash_bytes(h, "\377", 1) : hash_bytes(h, s, strlen(s) + 1);
}

static uint64_t schema_hash(const struct ArrowSchema *s, uint64_t h, int depth) {
  if (s == NULL || depth > ZCP_MAX_DEPTH) return hash_bytes(h, "x", 1);
  h = hash_str(h, s->format);
  h = hash_str(h, s->name);
  h = hash_bytes(h, &s->flags, sizeof s->flags);
  int64_t meta = zcp_metadata_size(s->metadata); /* -1: malformed, hashed as none */
  h = hash_bytes(h, s->metadata == NULL ? "" : s->metadata, meta > 0 ? (size_t)meta : 0);
  h = hash_bytes(h, &s->n_children, sizeof s->n_children);
  for (int64_t i = 0; i < s->n_children; i++)
    h = schema_hash(s->children[i], h, depth + 1);
  if (s->dictionary != NULL) h = schema_hash(s->dictionary, h + 1, depth + 1);
  return h;
}

zcp_status_t zcp_hugetable_add_chunk(struct zcp_node *node, const char *name,
                                     int64_t first_row, const struct ArrowSchema *schema,
                                     struct ArrowArray *batch, struct zcp_error *err) {
  ZCP_RETURN_NOT_OK(zcp__share_name_check(node, "add_chunk", name, err));
  if (schema == NULL || batch == NULL || batch->release == NULL || first_row < 0 ||
      batch->length < 1 || batch->length > INT64_MAX - first_row)
    return zcp_error_set(
        err, ZCP_INVALID_ARGUMENT,
        "node %d: huge table '%s': chunk at row %lld: needs a batch of at "
        "least one row and a first row >= 0",
        (int)node->id, name, (long long)first_row);
  struct zcp__entry e;
  zcp__entry_own(&e, node, name, ZCP_SHARE_CHUNK, 0);
  e.first_row = first_row;
  e.schema_hash = schema_hash(schema, 0xcbf29ce484222325ull, 0);
  char what[ZCP_SHARE_NAME_MAX + 64];
  snprintf(what, sizeof what, "huge table '%s': chunk at row %lld", name,
           (long long)first_row);
  return zcp__share_seal_publish(node, what, &e, schema, batch, err);
}

/* The chunks of `name` in this replica, sorted by first row (the catalog's order).
 * Under mu. Returns how many; *out (malloc'd) points at the entries. */
static int64_t chunks_of(struct zcp__share *s, const char *name,
                         const struct zcp__entry ***out) {
  int64_t n = 0;
  for (const struct zcp__entry *e = s->entries; e != NULL; e = e->next)
    n += e->kind == ZCP_SHARE_CHUNK && strcmp(e->name, name) == 0;
  const struct zcp__entry **v = malloc((size_t)(n + 1) * sizeof *v);
  n = 0;
  for (const struct zcp__entry *e = s->entries; e != NULL && v != NULL; e = e->next)
    if (e->kind == ZCP_SHARE_CHUNK && strcmp(e->name, name) == 0) v[n++] = e;
  *out = v;
  return v == NULL ? -1 : n;
}

/* The first row in [0, total) no chunk covers, and where that gap ends; false when the
 * chunks cover every row. Chunks sorted. */
static bool first_gap(const struct zcp__entry *const *c, int64_t n, int64_t total,
                      int64_t *from, int64_t *to) {
  int64_t at = 0;
  for (int64_t i = 0; i < n && at < total; i++) {
    if (c[i]->first_row > at) {
      *from = at;
      *to = ZCP_MIN(c[i]->first_row, total);
      return true;
    }
    if (c[i]->first_row + c[i]->rows > at) at = c[i]->first_row + c[i]->rows;
  }
  *from = at;
  *to = total;
  return at < total;
}

zcp_status_t zcp_hugetable_commit(struct zcp_node *node, const char *name,
                                  int64_t total_rows, int timeout_ms,
                                  struct zcp_error *err) {
  ZCP_RETURN_NOT_OK(zcp__share_name_check(node, "commit", name, err));
  if (total_rows < 0)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "node %d: huge table '%s': %lld rows",
                         (int)node->id, name, (long long)total_rows);
  struct zcp__share *s = zcp__share_of(node);
  struct timespec deadline;
  zcp__deadline(&deadline, timeout_ms);
  const struct zcp__entry **c = NULL;
  int64_t n = 0, gap_from = 0, gap_to = 0;
  zcp_status_t st = ZCP_OK;
  pthread_mutex_lock(&s->mu);
  /* Wait until the chunks cover every row: woken by each arriving entry. */
  for (;;) {
    free(c);
    n = chunks_of(s, name, &c);
    if (n < 0) {
      st = zcp_error_set(err, ZCP_OUT_OF_MEMORY, "commit '%s'", name);
      break;
    }
    if (!first_gap(c, n, total_rows, &gap_from, &gap_to)) break;
    if (pthread_cond_timedwait(&s->cv, &s->mu, &deadline) == ETIMEDOUT) {
      free(c);
      n = chunks_of(s, name, &c);
      if (n >= 0 && !first_gap(c, n, total_rows, &gap_from, &gap_to)) break;
      st = zcp_error_set(
          err, ZCP_INCOMPLETE,
          "node %d: huge table '%s': after %d ms rows [%lld, %lld) of %lld "
          "are missing (%lld chunks present)",
          (int)node->id, name, timeout_ms, (long long)gap_from, (long long)gap_to,
          (long long)total_rows, (long long)(n < 0 ? 0 : n));
      break;
    }
  }
  if (st == ZCP_OK && zcp__catalog_find(s, name, ZCP_SHARE_MANIFEST, 0) != NULL)
    st = zcp_error_set(err, ZCP_BUSY, "node %d: huge table '%s' is committed already",
                       (int)node->id, name);
  int64_t *rows = NULL;
  for (int64_t i = 0; i < n && st == ZCP_OK; i++) {
    const struct zcp__entry *x = c[i];
    if (i > 0 && x->first_row < c[i - 1]->first_row + c[i - 1]->rows)
      st = zcp_error_set(err, ZCP_CORRUPT_INPUT,
                         "node %d: huge table '%s': chunks at rows %lld and %lld overlap",
                         (int)node->id, name, (long long)c[i - 1]->first_row,
                         (long long)x->first_row);
    else if (x->first_row + x->rows > total_rows)
      st = zcp_error_set(err, ZCP_CORRUPT_INPUT,
                         "node %d: huge table '%s': chunk [%lld, %lld) from node %d runs "
                         "past its %lld rows",
                         (int)node->id, name, (long long)x->first_row,
                         (long long)(x->first_row + x->rows), (int)x->creator,
                         (long long)total_rows);
    else if (x->schema_hash != c[0]->schema_hash)
      st = zcp_error_set(err, ZCP_CORRUPT_INPUT,
                         "node %d: huge table '%s': the chunk at row %lld (node %d) has "
                         "another schema than the chunk at row %lld",
                         (int)node->id, name, (long long)x->first_row, (int)x->creator,
                         (long long)c[0]->first_row);
  }
  if (st == ZCP_OK) {
    rows = malloc((size_t)(n + 1) * sizeof *rows);
    if (rows == NULL) st = zcp_error_set(err, ZCP_OUT_OF_MEMORY, "commit '%s'", name);
    for (int64_t i = 0; i < n && rows != NULL; i++) rows[i] = c[i]->first_row;
  }
  uint64_t gen = zcp__share_next_generation(s);
  pthread_mutex_unlock(&s->mu);
  free(c);
  if (st != ZCP_OK) return st;
  /* The manifest: the chunks' first rows, in order. */
  struct zcp__entry m;
  zcp__entry_own(&m, node, name, ZCP_SHARE_MANIFEST, gen);
  m.rows = total_rows;
  m.desc = (uint8_t *)rows;
  m.desc_size = n * (int64_t)sizeof *rows;
  st = zcp__share_publish(node, &m, NULL, err);
  free(rows);
  return st;
}

/* Copies of the descriptors of the manifest's chunks, when all are here. Under mu. */
struct chunk_copy {
  uint8_t *desc;
  int64_t size, first_row;
  int32_t creator;
  uint64_t creator_epoch, generation;
  enum zcp_checked checked;
};

static bool gather(struct zcp__share *s, const char *name, struct chunk_copy **out,
                   int64_t *n, char *why, size_t cap) {
  const struct zcp__entry *m = zcp__catalog_find(s, name, ZCP_SHARE_MANIFEST, 0);
  const struct zcp__entry **c = NULL;
  int64_t nc = chunks_of(s, name, &c);
  int64_t from = 0, to = 0;
  if (m == NULL) {
    if (nc >= 0 && first_gap(c, nc, INT64_MAX, &from, &to))
      snprintf(why, cap, "not committed (%lld chunks cover rows [0, %lld))",
               (long long)nc, (long long)from);
    free(c);
    return false;
  }
  free(c);
  int64_t k = m->desc_size / (int64_t)sizeof(int64_t);
  struct chunk_copy *v = calloc((size_t)k + 1, sizeof *v);
  if (v == NULL) return false;
  for (int64_t i = 0; i < k; i++) {
    int64_t row;
    memcpy(&row, m->desc + i * (int64_t)sizeof row, sizeof row);
    const struct zcp__entry *e = zcp__catalog_find(s, name, ZCP_SHARE_CHUNK, row);
    if (e == NULL) {
      snprintf(why, cap, "committed, but the chunk at row %lld has not arrived",
               (long long)row);
      for (int64_t j = 0; j < i; j++) free(v[j].desc);
      free(v);
      return false;
    }
    v[i] = (struct chunk_copy){malloc((size_t)e->desc_size + 1),
                               e->desc_size,
                               row,
                               e->creator,
                               e->creator_epoch,
                               e->generation,
                               e->checked};
    if (v[i].desc != NULL) memcpy(v[i].desc, e->desc, (size_t)e->desc_size);
  }
  *out = v;
  *n = k;
  return true;
}

zcp_status_t zcp_hugetable_import(struct zcp_node *node, const char *name,
                                  enum zcp_validate_level level, int timeout_ms,
                                  struct zcp_table **out, struct zcp_error *err) {
  *out = NULL;
  ZCP_RETURN_NOT_OK(zcp__share_name_check(node, "import", name, err));
  struct zcp__share *s = zcp__share_of(node);
  struct timespec deadline;
  zcp__deadline(&deadline, timeout_ms);
  struct chunk_copy *c = NULL;
  int64_t n = 0;
  char why[256] = "not committed (no chunks)";
  zcp_status_t st = ZCP_OK;
  pthread_mutex_lock(&s->mu);
  while (!gather(s, name, &c, &n, why, sizeof why)) {
    if (pthread_cond_timedwait(&s->cv, &s->mu, &deadline) == ETIMEDOUT) {
      if (gather(s, name, &c, &n, why, sizeof why)) break;
      st = zcp_error_set(err, ZCP_INCOMPLETE, "node %d: huge table '%s' after %d ms: %s",
                         (int)node->id, name, timeout_ms, why);
      break;
    }
  }
  pthread_mutex_unlock(&s->mu);
  if (st != ZCP_OK) return st;
  struct zcp_table *t = NULL;
  for (int64_t i = 0; i < n && st == ZCP_OK; i++) {
    char what[ZCP_SHARE_NAME_MAX + 64];
    snprintf(what, sizeof what, "huge table '%s' chunk at row %lld", name,
             (long long)c[i].first_row);
    uint64_t now = zcp__node_epoch_of(node, c[i].creator);
    if (c[i].desc == NULL) {
      st = zcp_error_set(err, ZCP_OUT_OF_MEMORY, "%s", what);
      break;
    }
    if (c[i].creator_epoch < now) {
      st = zcp_error_set(err, ZCP_STALE, "node %d: %s: its creator node %d has restarted",
                         (int)node->id, what, (int)c[i].creator);
      break;
    }
    struct ArrowSchema schema = {0};
    struct ArrowArray array = {0};
    struct zcp__entry ce = {0};
    ce.creator = c[i].creator;
    ce.creator_epoch = c[i].creator_epoch;
    ce.generation = c[i].generation;
    ce.checked = c[i].checked;
    st = zcp__share_import(node, what, &ce, c[i].desc, c[i].size, level, &schema, &array,
                           err);
    if (st != ZCP_OK) break;
    if (t == NULL) st = zcp_table_init(&schema, &t, err);
    /* decode validated the values at level already */
    if (st == ZCP_OK) st = zcp_table_append(t, &array, ZCP_VALIDATE_MINIMAL, err);
    if (st != ZCP_OK) zcp_error_prefix(err, st, "node %d: %s: ", (int)node->id, what);
    if (array.release != NULL) array.release(&array);
    schema.release(&schema);
  }
  for (int64_t i = 0; i < n; i++) free(c[i].desc);
  free(c);
  if (st == ZCP_OK && t == NULL)
    st = zcp_error_set(err, ZCP_INCOMPLETE, "node %d: huge table '%s' has no chunks",
                       (int)node->id, name);
  if (st != ZCP_OK) {
    zcp_table_release(t);
    return st;
  }
  *out = t;
  return ZCP_OK;
}

/* ---- drop ---------------------------------------------------------------------------
 */

/* Takes this node's chunks of `name` out of every replica and frees them. */
static int64_t drop_own_chunks(struct zcp_node *node, const char *name) {
  struct zcp__share *s = zcp__share_of(node);
  struct zcp__owned *mine = NULL;
  pthread_mutex_lock(&s->mu);
  for (struct zcp__owned **pp = &s->owned; *pp != NULL;) {
    struct zcp__owned *o = *pp;
    if (o->kind == ZCP_SHARE_CHUNK && o->published && strcmp(o->name, name) == 0) {
      *pp = o->next;
      o->next = mine;
      mine = o;
    } else {
      pp = &o->next;
    }
  }
  pthread_mutex_unlock(&s->mu);
  int64_t n = 0;
  while (mine != NULL) {
    struct zcp__owned *o = mine;
    mine = o->next;
    struct zcp__entry e = {0};
    snprintf(e.name, sizeof e.name, "%s", o->name);
    e.kind = ZCP_SHARE_CHUNK;
    e.first_row = o->first_row;
    e.creator = node->id;
    e.generation = o->generation;
    zcp__share_unpublish(node, &e);
    /* Out of every replica first, then the creator frees. */
    if (o->batch.release != NULL) o->batch.release(&o->batch);
    zcp__lease_free_all(o);
    free(o);
    n++;
  }
  return n;
}

/* Every node's current epoch as this node knows it (taken before share->mu). */
static void epochs_now(struct zcp_node *node, uint64_t *epochs) {
  for (int i = 0; i < node->cfg.n_nodes; i++) epochs[i] = zcp__node_epoch_of(node, i);
}

/* Who may drop: the committer of a committed table (a current manifest: a committer
 * that has restarted since took its leases with it), anyone otherwise. Under mu. */
static int32_t committer_of(struct zcp__share *s, const char *name,
                            const uint64_t *epochs) {
  const struct zcp__entry *m = zcp__catalog_find(s, name, ZCP_SHARE_MANIFEST, 0);
  return m != NULL && m->creator_epoch >= epochs[m->creator] ? m->creator : -1;
}

void zcp__serve_drop_chunks(struct zcp_node *node, const struct zcp__rpc_peer *who,
                            const Zcpool__Request *req, Zcpool__Response *resp) {
  const Zcpool__DropChunks *m = req->drop_chunks;
  char msg[ZCP_SHARE_NAME_MAX + 128];
  if (m->name == NULL || m->name[0] == '\0' || strlen(m->name) >= ZCP_SHARE_NAME_MAX) {
    zcp__reply_error(resp, ZCP_INVALID_ARGUMENT, "DropChunks: bad name");
    return;
  }
  uint64_t epochs[ZCP_CLUSTER_MAX_NODES];
  epochs_now(node, epochs);
  pthread_mutex_lock(&zcp__share_of(node)->mu);
  int32_t committer = committer_of(zcp__share_of(node), m->name, epochs);
  pthread_mutex_unlock(&zcp__share_of(node)->mu);
  if (committer >= 0 && committer != who->node) {
    snprintf(msg, sizeof msg,
             "node %d: DropChunks from node %d: huge table '%s' is committed by node %d",
             (int)node->id, (int)who->node, m->name, (int)committer);
    zcp__reply_error(resp, ZCP_INVALID_ARGUMENT, msg);
    return;
  }
  (void)drop_own_chunks(node, m->name);
}

/* The drop once it may go ahead: leases, the manifest, then every creator's chunks. */
static zcp_status_t drop_all(struct zcp_node *node, const char *name, int32_t committer,
                             const bool *creators, int timeout_ms,
                             struct zcp_error *err) {
  struct zcp__share *s = zcp__share_of(node);
  struct timespec deadline;
  zcp__deadline(&deadline, timeout_ms);
  /* Every chunk's creator must be there to free its chunk: nothing changes otherwise. */
  pthread_mutex_lock(&node->mu);
  int32_t down = -1;
  for (int i = 0; i < node->cfg.n_nodes && down < 0; i++)
    if (creators[i] && i != node->id &&
        (!node->peers[i].up ||
         zcp__rpc_client_state(node->peers[i].client) != ZCP_PEER_STATE_UP))
      down = i;
  pthread_mutex_unlock(&node->mu);
  if (down >= 0)
    return zcp_error_set(err, ZCP_PEER_DOWN,
                         "node %d: drop '%s': node %d, which added a chunk, is down",
                         (int)node->id, name, (int)down);
  zcp_status_t st = ZCP_OK;
  struct zcp__owned *o = NULL;
  if (committer == node->id) {
    pthread_mutex_lock(&s->mu);
    o = zcp__owned_find(s, name, ZCP_SHARE_MANIFEST, 0);
    if (o == NULL)
      st = zcp_error_set(err, ZCP_BUSY, "node %d: drop '%s': already being dropped",
                         (int)node->id, name);
    else
      st = zcp__owned_begin_drop(node, o, &deadline, timeout_ms, err);
    pthread_mutex_unlock(&s->mu);
    if (st != ZCP_OK) return st;
    /* Readers now find it uncommitted; then the chunks go. */
    zcp__owned_retire(node, o);
  }
  /* Every other creator at once (DropChunks), ours meanwhile. */
  struct zcp__rpc_call calls[ZCP_CLUSTER_MAX_NODES];
  Zcpool__DropChunks dc = ZCPOOL__DROP_CHUNKS__INIT;
  dc.name = (char *)name;
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  req.call_case = ZCPOOL__REQUEST__CALL_DROP_CHUNKS;
  req.drop_chunks = &dc;
  for (int i = 0; i < node->cfg.n_nodes; i++) {
    calls[i].client = NULL;
    if (!creators[i] || i == node->id) continue;
    calls[i].request_id = 0;
    struct zcp_error e = {0};
    zcp_status_t cs = zcp__rpc_call_start(node->peers[i].client, &req,
                                          node->cfg.call_timeout_ms, &calls[i], &e);
    if (cs != ZCP_OK) {
      calls[i].client = NULL;
      if (st == ZCP_OK)
        st = zcp_error_set(err, cs, "node %d: drop '%s': %s", (int)node->id, name,
                           e.message);
    }
  }
  if (creators[node->id]) (void)drop_own_chunks(node, name);
  for (int i = 0; i < node->cfg.n_nodes; i++) {
    if (calls[i].client == NULL) continue;
    struct zcp_error e = {0};
    zcp_status_t cs = zcp__rpc_call_finish(&calls[i], NULL, &e);
    if (cs != ZCP_OK && st == ZCP_OK)
      st = zcp_error_set(err, cs, "node %d: drop '%s': %s", (int)node->id, name,
                         e.message);
  }
  return st;
}

zcp_status_t zcp_hugetable_drop(struct zcp_node *node, const char *name, int timeout_ms,
                                struct zcp_error *err) {
  ZCP_RETURN_NOT_OK(zcp__share_name_check(node, "drop", name, err));
  struct zcp__share *s = zcp__share_of(node);
  bool creators[ZCP_CLUSTER_MAX_NODES] = {false};
  bool any = false;
  uint64_t epochs[ZCP_CLUSTER_MAX_NODES];
  epochs_now(node, epochs);
  /* Entries of creators that have restarted since: nobody frees their memory any more
   * (it went with their earlier life), but they go out of every replica too. */
  struct zcp__entry *stale = NULL;
  int64_t n_stale = 0, cap = 0;
  pthread_mutex_lock(&s->mu);
  int32_t committer = committer_of(s, name, epochs);
  for (const struct zcp__entry *e = s->entries; e != NULL; e = e->next) {
    if (strcmp(e->name, name) != 0 || e->kind == ZCP_SHARE_TABLE) continue;
    if (e->creator_epoch < epochs[e->creator]) {
      if (n_stale == cap) {
        cap = cap * 2 + 4;
        struct zcp__entry *v = realloc(stale, (size_t)cap * sizeof *v);
        if (v == NULL) break; /* those stay listed, stale */
        stale = v;
      }
      stale[n_stale] = *e;
      stale[n_stale].desc = NULL;
      stale[n_stale++].next = NULL;
    } else if (e->kind == ZCP_SHARE_CHUNK) {
      any = creators[e->creator] = true;
    }
  }
  pthread_mutex_unlock(&s->mu);
  zcp_status_t st = ZCP_OK;
  if (committer < 0 && !any && n_stale == 0)
    st = zcp_error_set(err, ZCP_NOT_FOUND, "node %d: drop: no huge table '%s'",
                       (int)node->id, name);
  else if (committer >= 0 && committer != node->id)
    st = zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                       "node %d: drop '%s': only its committer node %d drops it",
                       (int)node->id, name, (int)committer);
  if (st == ZCP_OK) st = drop_all(node, name, committer, creators, timeout_ms, err);
  /* Readers of the stale entries got ZCP_STALE already; now they get nothing. */
  for (int64_t i = 0; i < n_stale && st == ZCP_OK; i++)
    zcp__share_unpublish(node, &stale[i]);
  free(stale);
  return st;
}
