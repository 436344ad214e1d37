/* Nodes: one member of a cluster in this process. Initialising a node reserves the
 * cluster's window at the configured base and creates its own region afresh (a new
 * epoch: anything a previous incarnation handed out is gone); starting it serves calls
 * and connects the peers in the background, mapping their regions, each into its slot
 * of the window, when they first answer (and again when they come back with a new
 * epoch). What the calls mean is the business of the parts above (member.h): here they
 * are dispatched, and the peers' lives reported to the hooks.
 * Nothing here may block without a timeout, and a dead peer never takes the node down. */
#include "common/platform.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/member/member.h"
#include "common/util.h"

int32_t zcp_node_id(const struct zcp_node *node) {
  return node->id;
}
uint64_t zcp_node_epoch(const struct zcp_node *node) {
  return node->epoch;
}
const struct zcp_config *zcp_node_config(const struct zcp_node *node) {
  return &node->cfg;
}

static int64_t slot_size(int64_t size) {
  return zcp__round_up(size, ZCP_WINDOW_ALIGN);
}

/* ---- where memory is ---------------------------------------------------------------
 */

int zcp__member_owner_at(const struct zcp_node *node, uintptr_t addr) {
  for (int i = 0; i < node->cfg.n_nodes; i++) {
    uintptr_t lo = (uintptr_t)node->cfg.window_base + (uintptr_t)node->slot[i];
    if (addr >= lo && addr < lo + (uintptr_t)slot_size(node->cfg.nodes[i].size)) return i;
  }
  return -1;
}

const struct zcp_region *zcp__member_region_at_locked(struct zcp_node *node,
                                                      uint64_t addr, int64_t len) {
  int i = zcp__member_owner_at(node, (uintptr_t)addr);
  if (i < 0) return NULL;
  const struct zcp_region *r = i == node->id ? node->region : node->peers[i].region;
  if (r == NULL) return NULL;
  uint64_t lo = (uint64_t)(uintptr_t)zcp_region_data(r);
  uint64_t hi = lo + (uint64_t)zcp_region_data_size(r);
  if (addr >= lo && addr <= hi && len >= 0 && (uint64_t)len <= hi - addr) return r;
  return NULL;
}

zcp_status_t zcp__member_area(struct zcp_node *node, int32_t owner, const char *what,
                              struct zcp__area *out, struct zcp_error *err) {
  if (owner < 0 || owner >= node->cfg.n_nodes)
    return zcp_error_set(err, ZCP_NOT_FOUND, "node %d: %s: no node %d", (int)node->id,
                         what, (int)owner);
  if (owner == node->id) {
    *out =
        (struct zcp__area){zcp_region_data(node->region),
                           zcp_region_data_size(node->region), node->region, node->epoch};
    return ZCP_OK;
  }
  zcp_status_t st = ZCP_OK;
  pthread_mutex_lock(&node->mu);
  struct zcp__peer *p = &node->peers[owner];
  /* The client can know a peer is down a moment before on_down has told the node:
   * either one saying "down" means down. */
  if (p->region == NULL || !p->up ||
      zcp__rpc_client_state(p->client) != ZCP_PEER_STATE_UP) {
    st = zcp_error_set(err, ZCP_PEER_DOWN, "node %d: %s: owner down: node %d (%s)",
                       (int)node->id, what, (int)owner,
                       p->why[0] ? p->why : "not connected yet");
  } else {
    *out = (struct zcp__area){zcp_region_data(p->region), zcp_region_data_size(p->region),
                              p->region, p->epoch};
  }
  pthread_mutex_unlock(&node->mu);
  return st;
}

uint64_t zcp__node_epoch_of(struct zcp_node *node, int32_t i) {
  if (i == node->id) return node->epoch;
  pthread_mutex_lock(&node->mu);
  uint64_t e = node->peers[i].epoch;
  pthread_mutex_unlock(&node->mu);
  return e;
}

zcp_status_t zcp_node_region_data(struct zcp_node *node, int32_t owner, void **data,
                             int64_t *size, struct zcp_error *err) {
  *data = NULL;
  *size = 0;
  struct zcp__area a;
  ZCP_RETURN_NOT_OK(zcp__member_area(node, owner, "region", &a, err));
  *data = a.data;
  *size = a.size;
  return ZCP_OK;
}

/* ---- the peers' lives ----------------------------------------------------------------
 */

void zcp__member_hooks_add(struct zcp_node *node, const struct zcp__member_hooks *hooks) {
  ZCP_ASSERT(node->n_hooks < ZCP__MEMBER_HOOKS);
  node->hooks[node->n_hooks++] = hooks;
}

void zcp__member_gate_ready(struct zcp_node *node) {
  node->ready_gate = true;
}

void zcp__member_peer_ready(struct zcp_node *node, int32_t peer, uint64_t epoch) {
  pthread_mutex_lock(&node->mu);
  if (node->peers[peer].epoch == epoch) node->peers[peer].ready = true;
  pthread_cond_broadcast(&node->cv);
  pthread_mutex_unlock(&node->mu);
}

/* A client finished its handshake. A newer epoch of a node means its previous life is
 * over: the parts above let go of what it held. */
static void on_hello(void *ctx, const Zcpool__Hello *h) {
  struct zcp_node *node = ctx;
  pthread_mutex_lock(&node->mu);
  uint64_t old = node->client_epoch[h->node];
  if (h->epoch > old) node->client_epoch[h->node] = h->epoch;
  pthread_mutex_unlock(&node->mu);
  if (old == 0 || h->epoch <= old) return;
  for (int k = 0; k < node->n_hooks; k++)
    if (node->hooks[k]->client_restarted != NULL)
      node->hooks[k]->client_restarted(node, (int32_t)h->node, old, h->epoch);
}

static void unmap_peer(struct zcp__peer *p) {
  zcp_region_unmap(p->region);
  zcp_device_close(p->dev);
  p->region = NULL;
  p->dev = NULL;
}

/* The peer answered a handshake: map its region (again, if its epoch changed). */
static void on_up(void *ctx, int32_t id, const Zcpool__Challenge *ch) {
  struct zcp_node *node = ctx;
  struct zcp__peer *p = &node->peers[id];
  const struct zcp__node_config *nc = &node->cfg.nodes[id];
  const Zcpool__RegionInfo *ri = NULL;
  for (size_t i = 0; ch != NULL && i < ch->n_regions; i++)
    if (ch->regions[i]->owner == (uint32_t)id) ri = ch->regions[i];
  struct zcp_error err = {0};
  zcp_status_t st = ZCP_OK;
  pthread_mutex_lock(&node->mu);
  if (ri == NULL) {
    st = zcp_error_set(&err, ZCP_CORRUPT_INPUT, "node %d lends no region", (int)id);
  } else if (ri->size != nc->size || strcmp(ri->device, nc->device) != 0 ||
             ri->coherence != (uint32_t)nc->coherence) {
    st = zcp_error_set(&err, ZCP_INVALID_ARGUMENT,
                       "node %d lends %s of %lld bytes, the config says %s of %lld bytes",
                       (int)id, ri->device, (long long)ri->size, nc->device,
                       (long long)nc->size);
  } else if (p->region == NULL || p->epoch != ri->epoch) {
    unmap_peer(p);
    struct zcp_region_info info = {node->cfg.cluster_id, (uint32_t)id, ri->epoch,
                                   nc->size, nc->coherence};
    st = zcp_device_open(nc->device, NULL, &p->dev, &err);
    if (st == ZCP_OK)
      st = zcp_region_map(node->win, node->slot[id], p->dev, ZCP_REGION_BORROWER, &info,
                          &p->region, &err);
    if (st != ZCP_OK) unmap_peer(p);
  }
  bool came_up = st == ZCP_OK && ri != NULL;
  if (came_up) {
    p->epoch = ri->epoch;
    p->up = true;
    p->ready = !node->ready_gate; /* until the parts above say so */
    if (p->left && p->left_epoch != ri->epoch) p->left = false; /* a new life */
    p->why[0] = '\0';
  } else {
    /* Shown by zcp_node_wait_online and calls to that node. */
    snprintf(p->why, sizeof p->why, "cannot map its region: %.160s", err.message);
  }
  pthread_cond_broadcast(&node->cv);
  pthread_mutex_unlock(&node->mu);
  if (!came_up) return;
  for (int k = 0; k < node->n_hooks; k++)
    if (node->hooks[k]->peer_up != NULL) node->hooks[k]->peer_up(node, id);
}

static void on_down(void *ctx, int32_t id, const char *why) {
  struct zcp_node *node = ctx;
  pthread_mutex_lock(&node->mu);
  node->peers[id].up = false;
  snprintf(node->peers[id].why, sizeof node->peers[id].why, "%.190s", why);
  pthread_cond_broadcast(&node->cv);
  pthread_mutex_unlock(&node->mu);
  for (int k = 0; k < node->n_hooks; k++)
    if (node->hooks[k]->peer_down != NULL) node->hooks[k]->peer_down(node, id);
}

/* Heartbeats and zcp_node_ping: the payload is echoed. */
static void serve_ping(struct zcp_node *node, const struct zcp__rpc_peer *who,
                       const Zcpool__Request *req, Zcpool__Response *resp) {
  Zcpool__PingReply *p = malloc(sizeof *p);
  if (p == NULL) return;
  zcpool__ping_reply__init(p);
  p->payload = req->ping->payload; /* the request outlives the send */
  resp->result_case = ZCPOOL__RESPONSE__RESULT_PING;
  resp->ping = p;
}

zcp_status_t zcp_node_ping(struct zcp_node *node, int32_t peer, int64_t payload_size,
                           struct zcp_error *err) {
  if (peer < 0 || peer >= node->cfg.n_nodes || peer == node->id)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "node %d: Ping: %d is not a peer",
                         (int)node->id, (int)peer);
  if (payload_size < 0 || payload_size > node->cfg.max_frame)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "node %d: Ping: payload of %lld bytes", (int)node->id,
                         (long long)payload_size);
  uint8_t stack[256];
  uint8_t *buf =
      payload_size <= (int64_t)sizeof stack ? stack : calloc(1, (size_t)payload_size);
  if (buf == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "Ping payload");
  memset(buf, 0x5a, (size_t)ZCP_MIN(payload_size, (int64_t)sizeof stack));
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  Zcpool__Ping m = ZCPOOL__PING__INIT;
  m.payload.data = buf;
  m.payload.len = (size_t)payload_size;
  req.call_case = ZCPOOL__REQUEST__CALL_PING;
  req.ping = &m;
  Zcpool__Response *resp = NULL;
  zcp_status_t st = zcp__member_call(node, peer, &req, &resp, err);
  if (st == ZCP_OK && (resp->result_case != ZCPOOL__RESPONSE__RESULT_PING ||
                       resp->ping->payload.len != (size_t)payload_size))
    st = zcp_error_set(err, ZCP_CORRUPT_INPUT, "node %d: Ping: node %d echoed %zu bytes",
                       (int)node->id, (int)peer,
                       resp->result_case == ZCPOOL__RESPONSE__RESULT_PING
                           ? resp->ping->payload.len
                           : (size_t)0);
  if (resp != NULL) zcpool__response__free_unpacked(resp, NULL);
  if (buf != stack) free(buf);
  return st;
}

/* ---- open / close -------------------------------------------------------------------
 */

static uint64_t fresh_epoch(void) {
  /* Wall-clock microseconds: larger at every restart, also across hosts, without any
   * state kept on disk. */
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Creates this node's device afresh: a stale shm object of a killed incarnation is
 * removed first; a file device (a DAX device, a BAR) is opened as it is. */
static zcp_status_t create_device(struct zcp_node *node, bool *fresh,
                                  struct zcp_error *err) {
  const struct zcp__node_config *nc = &node->cfg.nodes[node->id];
  struct zcp_device_options o;
  zcp_device_options_init(&o);
  o.size = nc->size;
  *fresh = false;
  if (strncmp(nc->device, "shm:", 4) == 0) {
    zcp_status_t gone = zcp_device_unlink(nc->device, NULL); /* absent is fine */
    (void)gone;
    o.create = true;
    *fresh = true;
    return zcp_device_open(nc->device, &o, &node->dev, err);
  }
  zcp_status_t st = zcp_device_open(nc->device, &o, &node->dev, err);
  if (st == ZCP_NOT_FOUND || st == ZCP_IO_ERROR) {
    o.create = true;
    st = zcp_device_open(nc->device, &o, &node->dev, err);
    *fresh = st == ZCP_OK;
  }
  return st;
}

static zcp_status_t open_region(struct zcp_node *node, struct zcp_error *err) {
  const struct zcp__node_config *nc = &node->cfg.nodes[node->id];
  ZCP_RETURN_NOT_OK(create_device(node, &node->region_fresh, err));
  struct zcp_region_info info = {node->cfg.cluster_id, (uint32_t)node->id, node->epoch,
                                 nc->size, nc->coherence};
  return zcp_region_map(node->win, node->slot[node->id], node->dev, ZCP_REGION_OWNER,
                        &info, &node->region, err);
}

zcp_status_t zcp__member_start(struct zcp_node *node, struct zcp_error *err) {
  const struct zcp_config *c = &node->cfg;
  const struct zcp__node_config *nc = &c->nodes[node->id];
  zcpool__region_info__init(&node->region_msg);
  node->region_msg.owner = (uint32_t)node->id;
  node->region_msg.epoch = node->epoch;
  node->region_msg.size = nc->size;
  node->region_msg.coherence = (uint32_t)nc->coherence;
  node->region_msg.device = (char *)nc->device;
  node->region_list[0] = &node->region_msg;
  struct zcp__rpc_server_options so = {0};
  so.address = nc->address;
  so.cluster_id = c->cluster_id;
  so.node = node->id;
  so.epoch = node->epoch;
  so.key = c->auth ? node->key : NULL;
  so.max_frame = c->max_frame;
  so.max_outstanding = c->max_outstanding;
  so.idle_ms = c->down_after_ms * 3;
  so.max_nodes = c->n_nodes;
  so.regions = node->region_list;
  so.n_regions = 1;
  so.handler = zcp__member_serve;
  so.on_hello = on_hello;
  so.ctx = node;
  ZCP_RETURN_NOT_OK(zcp__rpc_server_start(&so, &node->srv, err));
  for (int i = 0; i < c->n_nodes; i++) {
    struct zcp__peer *p = &node->peers[i];
    if (i == node->id) continue;
    snprintf(p->why, sizeof p->why, "not connected yet");
    struct zcp__rpc_client_options co = {0};
    co.address = c->nodes[i].address;
    co.peer_node = i;
    co.cluster_id = c->cluster_id;
    co.node = node->id;
    co.epoch = node->epoch;
    co.key = c->auth ? node->key : NULL;
    co.regions = node->region_list;
    co.n_regions = 1;
    co.max_frame = c->max_frame;
    co.max_outstanding = c->max_outstanding;
    co.heartbeat_ms = c->heartbeat_ms;
    co.down_after_ms = c->down_after_ms;
    co.connect_ms = c->connect_ms;
    co.monitor = true;
    co.request_ids = &node->request_ids;
    co.on_up = on_up;
    co.on_down = on_down;
    co.ctx = node;
    ZCP_RETURN_NOT_OK(zcp__rpc_client_open(&co, &p->client, err));
  }
  return ZCP_OK;
}

zcp_status_t zcp__member_init(struct zcp_node *node, const struct zcp_config *cfg,
                              int32_t id, struct zcp_error *err) {
  pthread_mutex_init(&node->mu, NULL);
  zcp__cond_init_monotonic(&node->cv);
  node->cfg = *cfg;
  node->id = id;
  node->epoch = fresh_epoch();
  zcp__member_handle(node, ZCPOOL__REQUEST__CALL_PING, serve_ping);
  zcp__barrier_attach(node);
  if (id < 0 || id >= cfg->n_nodes) /* zcp_node_open checked; this is the invariant */
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "no node %d (nodes 0..%d)", (int)id,
                         (int)cfg->n_nodes - 1);
  if (cfg->auth) ZCP_RETURN_NOT_OK(zcp_cluster_key_load(cfg->key_path, node->key, err));
  int64_t total = 0;
  for (int i = 0; i < cfg->n_nodes; i++) {
    node->slot[i] = total;
    total += slot_size(cfg->nodes[i].size);
  }
  ZCP_RETURN_NOT_OK(zcp_window_reserve(cfg->window_base, total, &node->win, err));
  return open_region(node, err);
}

void zcp__member_stop(struct zcp_node *node) {
  /* Clients first: after this no callback touches the peers' mappings. */
  for (int i = 0; i < node->cfg.n_nodes; i++) {
    zcp__rpc_client_close(node->peers[i].client);
    node->peers[i].client = NULL;
  }
  zcp__rpc_server_stop(node->srv);
  node->srv = NULL;
}

void zcp__member_release(struct zcp_node *node) {
  for (int i = 0; i < node->cfg.n_nodes; i++) unmap_peer(&node->peers[i]);
  zcp_region_unmap(node->region);
  node->region = NULL;
  if (node->dev != NULL) {
    const char *spec = zcp_device_spec(node->dev);
    /* Best effort: the next open of this node removes a leftover anyway. */
    zcp_status_t gone =
        strncmp(spec, "shm:", 4) == 0 ? zcp_device_unlink(spec, NULL) : ZCP_OK;
    (void)gone;
  }
  zcp_device_close(node->dev);
  node->dev = NULL;
  zcp_window_release(node->win);
  node->win = NULL;
  pthread_mutex_destroy(&node->mu);
  pthread_cond_destroy(&node->cv);
  memset(node->key, 0, sizeof node->key);
}

/* ---- waiting and status -------------------------------------------------------------
 */

/* Under node->mu. The client can know a peer is down a moment before the monitor has
 * told the node (on_down): either one saying "down" means down. */
static bool peer_up_locked(struct zcp_node *node, int i) {
  return node->peers[i].up &&
         zcp__rpc_client_state(node->peers[i].client) == ZCP_PEER_STATE_UP;
}

/* Up, and made ready by every part above that gates readiness: what the
 * waits wait for. */
static bool peer_ready_locked(struct zcp_node *node, int i) {
  return peer_up_locked(node, i) && node->peers[i].ready;
}

zcp_status_t zcp_node_wait_online(struct zcp_node *node, int timeout_ms,
                                  struct zcp_error *err) {
  struct timespec ts;
  zcp__deadline(&ts, timeout_ms);
  pthread_mutex_lock(&node->mu);
  for (;;) {
    int missing = -1;
    for (int i = 0; i < node->cfg.n_nodes && missing < 0; i++)
      if (i != node->id && !peer_ready_locked(node, i)) missing = i;
    if (missing < 0) break;
    if (pthread_cond_timedwait(&node->cv, &node->mu, &ts) == ETIMEDOUT) {
      char list[400] = "";
      size_t n = 0;
      for (int i = 0; i < node->cfg.n_nodes; i++)
        if (i != node->id && !peer_ready_locked(node, i) && n < sizeof list - 1)
          n += (size_t)snprintf(list + n, sizeof list - n, "%s node %d (%.120s)",
                                n ? ";" : "", i, node->peers[i].why);
      pthread_mutex_unlock(&node->mu);
      return zcp_error_set(err, ZCP_TIMEOUT, "node %d: after %d ms still waiting for%s",
                           (int)node->id, timeout_ms, list);
    }
  }
  pthread_mutex_unlock(&node->mu);
  return ZCP_OK;
}

zcp_status_t zcp_node_wait_peer(struct zcp_node *node, int32_t peer, bool up,
                                int timeout_ms, struct zcp_error *err) {
  if (peer < 0 || peer >= node->cfg.n_nodes || peer == node->id)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "node %d: %d is not a peer",
                         (int)node->id, (int)peer);
  struct timespec ts;
  zcp__deadline(&ts, timeout_ms);
  pthread_mutex_lock(&node->mu);
  /* Up means ready (made ready by the parts above); down means down. */
  while ((up ? peer_ready_locked(node, peer) : peer_up_locked(node, peer)) != up) {
    if (pthread_cond_timedwait(&node->cv, &node->mu, &ts) == ETIMEDOUT) {
      bool now = up ? peer_ready_locked(node, peer) : peer_up_locked(node, peer);
      pthread_mutex_unlock(&node->mu);
      if (now == up) return ZCP_OK;
      return zcp_error_set(err, ZCP_TIMEOUT, "node %d: node %d still %s after %d ms",
                           (int)node->id, (int)peer, up ? "down" : "up", timeout_ms);
    }
  }
  pthread_mutex_unlock(&node->mu);
  return ZCP_OK;
}

void zcp__member_status(struct zcp_node *node, struct zcp_node_status *out) {
  memset(out, 0, sizeof *out);
  out->id = node->id;
  out->epoch = node->epoch;
  out->n_nodes = node->cfg.n_nodes;
  out->region_size = node->cfg.nodes[node->id].size;
  struct zcp__rpc_counters *c = zcp__rpc_server_counters(node->srv);
  out->frames_auth_failed = atomic_load(&c->auth_failed);
  out->frames_replayed = atomic_load(&c->replayed);
  out->frames_oversized = atomic_load(&c->oversized);
  out->frames_garbage = atomic_load(&c->garbage);
  out->requests_busy = atomic_load(&c->busy);
  out->bytes_sent = atomic_load(&c->bytes_out);
  out->bytes_received = atomic_load(&c->bytes_in);
  for (int i = 0; i < node->cfg.n_nodes; i++) {
    if (i == node->id || node->peers[i].client == NULL) continue;
    struct zcp__rpc_counters *pc = zcp__rpc_client_counters(node->peers[i].client);
    out->bytes_sent += atomic_load(&pc->bytes_out);
    out->bytes_received += atomic_load(&pc->bytes_in);
  }
  pthread_mutex_lock(&node->mu);
  for (int i = 0; i < node->cfg.n_nodes; i++)
    if (i != node->id) out->peers_up += peer_up_locked(node, i);
  pthread_mutex_unlock(&node->mu);
}

zcp_status_t zcp_node_peer_status(struct zcp_node *node, int32_t peer,
                                  struct zcp_node_peer_status *out,
                                  struct zcp_error *err) {
  if (node == NULL || out == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "zcp_node_peer_status: %s is NULL",
                         node == NULL ? "the node" : "out");
  memset(out, 0, sizeof *out);
  if (peer < 0 || peer >= node->cfg.n_nodes)
    return zcp_error_set(err, ZCP_NOT_FOUND, "node %d: no node %d in cluster %s (0..%d)",
                         (int)node->id, (int)peer, node->cfg.name,
                         (int)node->cfg.n_nodes - 1);
  if (peer == node->id) {
    *out = (struct zcp_node_peer_status){.up = true, .epoch = node->epoch,
                                         .region_mapped = true};
    return ZCP_OK;
  }
  pthread_mutex_lock(&node->mu);
  const struct zcp__peer *p = &node->peers[peer];
  out->up = peer_up_locked(node, peer);
  out->epoch = p->epoch;
  out->region_mapped = p->region != NULL;
  if (!out->up)
    snprintf(out->why, sizeof out->why, "%s",
             p->why[0] != '\0' ? p->why : "its connection is not up");
  pthread_mutex_unlock(&node->mu);
  return ZCP_OK;
}
