/* Catalog pulls: a node that comes up starts with an empty replica, and a node that was
 * cut off from a peer has missed its publications and drops. So whenever a peer comes up
 * (first connection or reconnection), this node asks it, with List, for the entries it
 * created at its current epoch and merges them (share.c): what is missing is added, what
 * it no longer has is removed. Every creator is the authority on its own entries, so
 * pulling from every peer that is up gives exactly the entries whose creator is up and
 * current.
 *
 * The pulls run in one thread of their own: the peer-up callback comes from a client's
 * monitor thread, which must not wait for a call. zcp_node_wait_online and
 * zcp_node_wait_peer wait until a peer's pull is done, so that a lookup right after them
 * sees what the cluster shares. */
#include "common/platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/internal.h"

void zcp__serve_list(struct zcp_node *node, const struct zcp__rpc_peer *who,
                     Zcpool__Response *resp) {
  (void)who;
  struct zcp__share *s = node->share;
  Zcpool__ListReply *r = malloc(sizeof *r);
  if (r == NULL) {
    zcp__reply_error(resp, ZCP_OUT_OF_MEMORY, "List: no memory");
    return;
  }
  zcpool__list_reply__init(r);
  pthread_mutex_lock(&s->mu);
  size_t n = 0;
  for (struct zcp__entry *e = s->entries; e != NULL; e = e->next) n++;
  r->entries = calloc(n + 1, sizeof *r->entries);
  r->generation = s->generation;
  bool oom = r->entries == NULL;
  for (struct zcp__entry *e = s->entries; e != NULL && !oom; e = e->next) {
    if (e->creator != node->id || e->creator_epoch != node->epoch) continue;
    /* Only what every replica took: a publish in progress may still be undone. */
    struct zcp__owned *o = zcp__owned_find(s, e->name, e->kind, e->first_row);
    if (o == NULL || !o->published || o->generation != e->generation) continue;
    Zcpool__Publish *m = malloc(sizeof *m);
    char *name = strdup(e->name);
    uint8_t *d = malloc((size_t)e->desc_size + 1);
    if (m == NULL || name == NULL || d == NULL) {
      free(m), free(name), free(d);
      oom = true;
      break;
    }
    zcpool__publish__init(m);
    m->name = name;
    m->kind = (Zcpool__EntryKind)e->kind;
    m->creator = e->creator;
    m->creator_epoch = e->creator_epoch;
    if (e->desc_size > 0) memcpy(d, e->desc, (size_t)e->desc_size);
    m->descriptor.data = d;
    m->descriptor.len = (size_t)e->desc_size;
    m->rows = e->rows;
    m->first_row = e->first_row;
    m->schema_hash = e->schema_hash;
    m->generation = e->generation;
    r->entries[r->n_entries++] = m;
  }
  pthread_mutex_unlock(&s->mu);
  resp->result_case = ZCPOOL__RESPONSE__RESULT_LIST;
  resp->list = r; /* freed by the server, also on failure */
  if (oom) zcp__reply_error(resp, ZCP_OUT_OF_MEMORY, "List: no memory");
}

/* Pulls peer's entries. ZCP_OK when its entries are now in our replica (or cannot be
 * had: an answer that is not a list); ZCP_PEER_DOWN or ZCP_TIMEOUT when not. */
static zcp_status_t pull(struct zcp_node *node, int32_t peer) {
  pthread_mutex_lock(&node->mu);
  uint64_t epoch = node->peers[peer].epoch;
  pthread_mutex_unlock(&node->mu);
  Zcpool__List m = ZCPOOL__LIST__INIT;
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  req.call_case = ZCPOOL__REQUEST__CALL_LIST;
  req.list = &m;
  Zcpool__Response *resp = NULL;
  struct zcp_error err = {0};
  zcp_status_t st = zcp__rpc_call(node->peers[peer].client, &req,
                                  node->cfg.call_timeout_ms, &resp, &err);
  if (st == ZCP_PEER_DOWN || st == ZCP_TIMEOUT) {
    if (resp != NULL) zcpool__response__free_unpacked(resp, NULL);
    return st;
  }
  if (st == ZCP_OK && resp->result_case == ZCPOOL__RESPONSE__RESULT_LIST) {
    const Zcpool__ListReply *r = resp->list;
    struct zcp__entry *v = calloc(r->n_entries + 1, sizeof *v);
    size_t n = 0;
    for (size_t i = 0; v != NULL && i < r->n_entries; i++) {
      const Zcpool__Publish *p = r->entries[i];
      /* From the network: only its own, well formed entries of the epoch it has. */
      if (p->name == NULL || p->name[0] == '\0' ||
          strlen(p->name) >= ZCP_SHARE_NAME_MAX || p->kind < 0 ||
          p->kind > ZCPOOL__ENTRY_KIND__ENTRY_MANIFEST || p->creator != peer ||
          p->creator_epoch != epoch || p->rows < 0 || p->first_row < 0 ||
          p->generation == 0 || p->generation > r->generation)
        continue;
      struct zcp__entry *e = &v[n++];
      snprintf(e->name, sizeof e->name, "%s", p->name);
      e->kind = (enum zcp_share_kind)p->kind;
      e->creator = p->creator;
      e->creator_epoch = p->creator_epoch;
      e->desc = p->descriptor.data;
      e->desc_size = (int64_t)p->descriptor.len;
      e->rows = p->rows;
      e->first_row = p->first_row;
      e->schema_hash = p->schema_hash;
      e->generation = p->generation;
    }
    if (v != NULL) zcp__catalog_merge(node, peer, epoch, v, n, r->generation);
    free(v);
  }
  if (resp != NULL) zcpool__response__free_unpacked(resp, NULL);
  pthread_mutex_lock(&node->mu);
  if (node->peers[peer].epoch == epoch) node->peers[peer].synced = true;
  pthread_cond_broadcast(&node->cv);
  pthread_mutex_unlock(&node->mu);
  return ZCP_OK;
}

static void *sync_main(void *arg) {
  struct zcp_node *node = arg;
  struct zcp__share *s = node->share;
  pthread_mutex_lock(&s->mu);
  while (!s->stopping) {
    int32_t peer = -1;
    for (int i = 0; i < node->cfg.n_nodes && peer < 0; i++)
      if (s->sync_pending[i]) peer = i;
    if (peer < 0) {
      pthread_cond_wait(&s->sync_cv, &s->mu);
      continue;
    }
    s->sync_pending[peer] = false;
    pthread_mutex_unlock(&s->mu);
    zcp_status_t st = pull(node, peer);
    bool again = false;
    if (st == ZCP_TIMEOUT) {
      /* Up but slow: ask again. Down: its next up asks again. */
      pthread_mutex_lock(&node->mu);
      again = node->peers[peer].up;
      pthread_mutex_unlock(&node->mu);
    }
    pthread_mutex_lock(&s->mu);
    if (again) s->sync_pending[peer] = true;
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

zcp_status_t zcp__sync_start(struct zcp_node *node, struct zcp_error *err) {
  struct zcp__share *s = node->share;
  if (pthread_create(&s->sync_thread, NULL, sync_main, node) != 0)
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "node %d: catalog pull thread",
                         (int)node->id);
  s->sync_started = true;
  return ZCP_OK;
}

void zcp__sync_stop(struct zcp_node *node) {
  struct zcp__share *s = node->share;
  if (!s->sync_started) return;
  pthread_mutex_lock(&s->mu);
  s->stopping = true;
  pthread_cond_broadcast(&s->sync_cv);
  pthread_cond_broadcast(&s->cv); /* a Publish waiting for a name gives up */
  pthread_mutex_unlock(&s->mu);
  pthread_join(s->sync_thread, NULL);
  s->sync_started = false;
}

void zcp__share_peer_up(struct zcp_node *node, int32_t peer) {
  struct zcp__share *s = node->share;
  if (s == NULL) return;
  pthread_mutex_lock(&s->mu);
  s->sync_pending[peer] = true;
  pthread_cond_signal(&s->sync_cv);
  pthread_mutex_unlock(&s->mu);
}
