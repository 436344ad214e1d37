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
 * zcp_node_wait_peer wait until a peer's pull is done, so that an import right after them
 * sees what the cluster shares. */
#include "common/platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/share/share.h"

/* Catalog order (share.c keeps entries sorted so): name, kind, first row (chunks). */
static int after_cmp(const Zcpool__List *m, const struct zcp__entry *e) {
  int c = strcmp(m->after_name, e->name);
  if (c != 0) return c;
  if ((int)m->after_kind != (int)e->kind)
    return (int)m->after_kind < (int)e->kind ? -1 : 1;
  if (e->kind != ZCP_SHARE_CHUNK || m->after_first_row == e->first_row) return 0;
  return m->after_first_row < e->first_row ? -1 : 1;
}

void zcp__serve_list(struct zcp_node *node, const struct zcp__rpc_peer *who,
                     const Zcpool__Request *req, Zcpool__Response *resp) {
  const Zcpool__List *m = req->list;
  (void)who;
  struct zcp__share *s = zcp__share_of(node);
  Zcpool__ListReply *r = malloc(sizeof *r);
  if (r == NULL) {
    zcp__reply_error(resp, ZCP_OUT_OF_MEMORY, "List: no memory");
    return;
  }
  zcpool__list_reply__init(r);
  bool after = m->has_after && m->after_name != NULL;
  /* A page fits a frame with room to spare (every node has the same max_frame). */
  const int64_t budget = node->cfg.max_frame / 2;
  int64_t bytes = 0;
  pthread_mutex_lock(&s->mu);
  size_t n = 0;
  for (struct zcp__entry *e = s->entries; e != NULL; e = e->next) n++;
  r->entries = calloc(n + 1, sizeof *r->entries);
  r->generation = s->generation;
  bool oom = r->entries == NULL;
  for (struct zcp__entry *e = s->entries; e != NULL && !oom; e = e->next) {
    if (e->creator != node->id || e->creator_epoch != node->epoch) continue;
    if (after && after_cmp(m, e) >= 0) continue;
    /* Only what every replica took: a publish in progress may still be undone. */
    struct zcp__owned *o = zcp__owned_find(s, e->name, e->kind, e->first_row);
    if (o == NULL || !o->published || o->generation != e->generation) continue;
    int64_t size = e->desc_size + (int64_t)strlen(e->name) + 64;
    if (r->n_entries > 0 && bytes + size > budget) {
      r->more = true;
      break;
    }
    bytes += size;
    Zcpool__Publish *p = malloc(sizeof *p);
    char *name = strdup(e->name);
    uint8_t *d = malloc((size_t)e->desc_size + 1);
    if (p == NULL || name == NULL || d == NULL) {
      free(p), free(name), free(d);
      oom = true;
      break;
    }
    zcpool__publish__init(p);
    zcp__entry_to_msg(e, p);
    if (e->desc_size > 0) memcpy(d, e->desc, (size_t)e->desc_size);
    p->name = name; /* the message owns copies: it outlives mu */
    p->descriptor.data = d;
    r->entries[r->n_entries++] = p;
  }
  pthread_mutex_unlock(&s->mu);
  resp->result_case = ZCPOOL__RESPONSE__RESULT_LIST;
  resp->list = r; /* freed by the server, also on failure */
  if (oom) zcp__reply_error(resp, ZCP_OUT_OF_MEMORY, "List: no memory");
}

/* The pages of one pull, kept until they are merged (the entries point into them). */
struct pages {
  Zcpool__Response **v;
  size_t n;
  struct zcp__entry *e;
  size_t ne, cap;
};

static void pages_free(struct pages *pg) {
  for (size_t i = 0; i < pg->n; i++) zcpool__response__free_unpacked(pg->v[i], NULL);
  free(pg->v);
  free(pg->e);
}

/* Takes the well-formed entries of one page (from the network: only peer's own, of
 * the epoch it has) into pg. */
static bool take_page(struct pages *pg, Zcpool__Response *resp, int32_t peer,
                      uint64_t epoch) {
  Zcpool__Response **v = realloc(pg->v, (pg->n + 1) * sizeof *v);
  if (v == NULL) return false;
  pg->v = v;
  pg->v[pg->n++] = resp;
  const Zcpool__ListReply *r = resp->list;
  if (pg->ne + r->n_entries > pg->cap) {
    size_t cap = pg->cap * 2 + r->n_entries + 8;
    struct zcp__entry *e = realloc(pg->e, cap * sizeof *e);
    if (e == NULL) return false;
    pg->e = e;
    pg->cap = cap;
  }
  for (size_t i = 0; i < r->n_entries; i++) {
    const Zcpool__Publish *p = r->entries[i];
    struct zcp__entry *e = &pg->e[pg->ne];
    if (!zcp__entry_from_msg(p, e) || p->creator != peer || p->creator_epoch != epoch ||
        p->generation == 0 || p->generation > r->generation)
      continue;
    pg->ne++;
  }
  return true;
}

/* Pulls peer's entries, page after page, then merges them. ZCP_OK when they are in our
 * replica (or cannot be had: an answer that is not a list); ZCP_PEER_DOWN or
 * ZCP_TIMEOUT when not. */
static zcp_status_t pull(struct zcp_node *node, int32_t peer) {
  pthread_mutex_lock(&node->mu);
  uint64_t epoch = node->peers[peer].epoch;
  pthread_mutex_unlock(&node->mu);
  struct pages pg = {0};
  uint64_t gen_at = 0;
  bool whole = false;
  zcp_status_t st = ZCP_OK;
  Zcpool__List m = ZCPOOL__LIST__INIT;
  char after[ZCP_SHARE_NAME_MAX];
  for (;;) {
    Zcpool__Request req = ZCPOOL__REQUEST__INIT;
    req.call_case = ZCPOOL__REQUEST__CALL_LIST;
    req.list = &m;
    Zcpool__Response *resp = NULL;
    struct zcp_error err = {0};
    st = zcp__rpc_call(node->peers[peer].client, &req, node->cfg.call_timeout_ms, &resp,
                       &err);
    if (st != ZCP_OK || resp->result_case != ZCPOOL__RESPONSE__RESULT_LIST) {
      if (resp != NULL) zcpool__response__free_unpacked(resp, NULL);
      break;
    }
    /* Drops after the first page: removals judge by what existed then. */
    if (pg.n == 0) gen_at = resp->list->generation;
    bool more = resp->list->more && resp->list->n_entries > 0;
    const Zcpool__Publish *last =
        more ? resp->list->entries[resp->list->n_entries - 1] : NULL;
    if (last != NULL) {
      snprintf(after, sizeof after, "%s", last->name != NULL ? last->name : "");
      m.has_after = true;
      m.after_name = after;
      m.after_kind = last->kind;
      m.after_first_row = last->first_row;
    }
    if (!take_page(&pg, resp, peer, epoch)) {
      if (pg.n == 0 || pg.v[pg.n - 1] != resp)
        zcpool__response__free_unpacked(resp, NULL);
      break; /* out of memory: merge nothing, but do not retry forever */
    }
    if (!more) {
      whole = true;
      break;
    }
  }
  if (whole) zcp__catalog_merge(node, peer, epoch, pg.e, pg.ne, gen_at);
  pages_free(&pg);
  if (st == ZCP_PEER_DOWN || st == ZCP_TIMEOUT) return st;
  zcp__member_peer_ready(node, peer, epoch);
  return ZCP_OK;
}

static void *sync_main(void *arg) {
  struct zcp_node *node = arg;
  struct zcp__share *s = zcp__share_of(node);
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
  struct zcp__share *s = zcp__share_of(node);
  if (pthread_create(&s->sync_thread, NULL, sync_main, node) != 0)
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "node %d: catalog pull thread",
                         (int)node->id);
  s->sync_started = true;
  return ZCP_OK;
}

void zcp__sync_stop(struct zcp_node *node) {
  struct zcp__share *s = zcp__share_of(node);
  if (!s->sync_started) return;
  pthread_mutex_lock(&s->mu);
  s->stopping = true;
  pthread_cond_broadcast(&s->sync_cv);
  pthread_cond_broadcast(&s->cv); /* a Publish waiting for a name gives up */
  pthread_mutex_unlock(&s->mu);
  pthread_join(s->sync_thread, NULL);
  s->sync_started = false;
}

void zcp__sync_peer_up(struct zcp_node *node, int32_t peer) {
  struct zcp__share *s = zcp__share_of(node);
  if (s == NULL) return;
  pthread_mutex_lock(&s->mu);
  s->sync_pending[peer] = true;
  pthread_cond_signal(&s->sync_cv);
  pthread_mutex_unlock(&s->mu);
}
