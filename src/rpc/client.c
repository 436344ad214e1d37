/* The control-plane client: one per peer. Calls from any thread share one connection;
 * each call takes a slot (bounded: the outstanding-request limit) and whichever waiting
 * caller finds nobody reading becomes the reader and hands answers to their slots, so a
 * lone call costs one write and one read, with no extra thread hop (leader/follower).
 * A monitor thread connects and reconnects, pings a peer that has been quiet for a
 * heartbeat, and declares it down when nothing arrives for down_after_ms; going down
 * fails every call in flight with ZCP_PEER_DOWN at once. No call ever waits past its
 * deadline. */
#include "common/platform.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "rpc/rpc.h"

#define READ_SLICE_MS 50

struct slot {
  bool used, done;
  uint64_t rid;
  int call_case;
  Zcpool__Response *resp;
  zcp_status_t st;
  char msg[160];
};

struct zcp__rpc_client {
  struct zcp__rpc_client_options opt;
  uint8_t key[ZCP_KEY_SIZE];
  pthread_mutex_t mu; /* guards everything below except `in` (the reader's) and `out` */
  pthread_cond_t cv;  /* slots, reader role and up/down changed; callers wait here */
  pthread_cond_t mon_cv; /* wakes the monitor (down, closing) */
  int waiters;           /* threads waiting on cv: no wake-up calls when there are none */
  pthread_mutex_t send_mu; /* one frame at a time; guards `out` and the fd's lifetime */
  int fd;
  bool up, reading, closing, reported_up;
  bool silent; /* went down for not answering (not for a broken connection) */
  uint64_t gen;
  int64_t last_rx_ms;
  char why[200];
  struct zcp__auth_dir in, out;
  struct zcp__rx rx; /* the reader's, like `in` */
  struct slot *slots;
  Zcpool__Challenge *hello; /* what the peer said at the last handshake */
  pthread_t monitor;
  bool has_monitor;
  struct zcp__rpc_counters counters;
  atomic_ullong own_ids;
};

const char *zcp__rpc_call_name(int call_case) {
  switch (call_case) {
    case ZCPOOL__REQUEST__CALL_PING:
      return "Ping";
    case ZCPOOL__REQUEST__CALL_MALLOC:
      return "Malloc";
    case ZCPOOL__REQUEST__CALL_REALLOC:
      return "Realloc";
    case ZCPOOL__REQUEST__CALL_FREE:
      return "Free";
    case ZCPOOL__REQUEST__CALL_FLUSH:
      return "Flush";
    case ZCPOOL__REQUEST__CALL_SET_STATE:
      return "SetState";
    case ZCPOOL__REQUEST__CALL_WAIT_STATE:
      return "WaitState";
    case ZCPOOL__REQUEST__CALL_PUBLISH:
      return "Publish";
    case ZCPOOL__REQUEST__CALL_DROP:
      return "Drop";
    case ZCPOOL__REQUEST__CALL_LEASE:
      return "Lease";
    case ZCPOOL__REQUEST__CALL_RELEASE:
      return "Release";
    case ZCPOOL__REQUEST__CALL_VERIFY:
      return "Verify";
    case ZCPOOL__REQUEST__CALL_SEAL:
      return "Seal";
    case ZCPOOL__REQUEST__CALL_SEND_TABLE_FULL:
      return "SendTableFull";
    case ZCPOOL__REQUEST__CALL_LIST:
      return "List";
    case ZCPOOL__REQUEST__CALL_DROP_CHUNKS:
      return "DropChunks";
    case ZCPOOL__REQUEST__CALL_LEAVE:
      return "Leave";
    default:
      return "call";
  }
}

struct zcp__rpc_counters *zcp__rpc_client_counters(struct zcp__rpc_client *c) {
  return &c->counters;
}

/* Under mu. Waking is a system call; on the fast path nobody waits. */
static void wake_locked(struct zcp__rpc_client *c) {
  if (c->waiters > 0) pthread_cond_broadcast(&c->cv);
}

static void wait_locked(struct zcp__rpc_client *c, const struct timespec *until) {
  c->waiters++;
  if (until != NULL)
    pthread_cond_timedwait(&c->cv, &c->mu, until);
  else
    pthread_cond_wait(&c->cv, &c->mu);
  c->waiters--;
}

/* Under mu. Fails every call in flight; the monitor reports it and reconnects. */
static void mark_down_locked(struct zcp__rpc_client *c, const char *why) {
  if (!c->up) return;
  c->up = false;
  snprintf(c->why, sizeof c->why, "%s", why);
  if (c->fd >= 0) shutdown(c->fd, SHUT_RDWR);
  for (int i = 0; i < c->opt.max_outstanding; i++) {
    struct slot *s = &c->slots[i];
    if (s->used && !s->done) {
      s->done = true;
      s->st = ZCP_PEER_DOWN;
      snprintf(s->msg, sizeof s->msg, "%s", why);
    }
  }
  wake_locked(c);
  pthread_cond_signal(&c->mon_cv);
}

enum zcp__peer_state zcp__rpc_client_state(struct zcp__rpc_client *c) {
  pthread_mutex_lock(&c->mu);
  bool up = c->up;
  pthread_mutex_unlock(&c->mu);
  return up ? ZCP_PEER_STATE_UP : ZCP_PEER_STATE_DOWN;
}

bool zcp__rpc_client_wait_up(struct zcp__rpc_client *c, int timeout_ms) {
  int64_t deadline = zcp__now_ms() + timeout_ms;
  struct timespec ts;
  zcp__deadline_at(&ts, deadline);
  pthread_mutex_lock(&c->mu);
  while (!c->up && !c->closing && zcp__now_ms() < deadline) wait_locked(c, &ts);
  bool up = c->up;
  pthread_mutex_unlock(&c->mu);
  return up;
}

/* ---- handshake ----------------------------------------------------------------------
 */

static zcp_status_t handshake(struct zcp__rpc_client *c, int fd, struct zcp__auth_dir *in,
                              struct zcp__auth_dir *out, Zcpool__Challenge **hello,
                              struct zcp_error *err) {
  bool auth = c->opt.key != NULL;
  uint8_t cn[ZCP_NONCE_SIZE];
  zcp__auth_random(cn, sizeof cn);
  Zcpool__Hello h = ZCPOOL__HELLO__INIT;
  h.protocol_version = ZCP_RPC_PROTOCOL_VERSION;
  h.cluster_id = c->opt.cluster_id;
  h.node = c->opt.node;
  h.epoch = c->opt.epoch;
  h.regions = c->opt.regions;
  h.n_regions = c->opt.n_regions;
  h.auth = auth;
  if (auth) {
    h.nonce.data = cn;
    h.nonce.len = sizeof cn;
  }
  Zcpool__Envelope env = ZCPOOL__ENVELOPE__INIT;
  env.kind_case = ZCPOOL__ENVELOPE__KIND_HELLO;
  env.hello = &h;
  int ms = c->opt.connect_ms;
  ZCP_RETURN_NOT_OK(zcp__frame_send(fd, out, &env, ms, &c->counters, err));
  Zcpool__Envelope *rx = NULL;
  ZCP_RETURN_NOT_OK(
      zcp__frame_recv(fd, in, c->opt.max_frame, ms, &rx, &c->counters, err));
  if (rx->kind_case != ZCPOOL__ENVELOPE__KIND_CHALLENGE) {
    zcp__envelope_free(rx);
    return zcp_error_set(err, ZCP_CORRUPT_INPUT, "handshake: expected a Challenge");
  }
  Zcpool__Challenge *ch = rx->challenge;
  zcp_status_t st = ZCP_OK;
  if (ch->status != 0) {
    st = zcp_error_set(err, (zcp_status_t)ch->status, "refused the handshake: %s",
                       ch->message);
  } else if (ch->node != c->opt.peer_node || ch->cluster_id != c->opt.cluster_id) {
    st = zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                       "answered as node %d of cluster %#llx, expected node %d of %#llx",
                       (int)ch->node, (unsigned long long)ch->cluster_id,
                       (int)c->opt.peer_node, (unsigned long long)c->opt.cluster_id);
  } else if (auth) {
    uint8_t want[ZCP_KEY_SIZE];
    if (ch->nonce.len != ZCP_NONCE_SIZE) {
      st = zcp_error_set(err, ZCP_AUTH_FAILED, "does not authenticate (no nonce)");
    } else {
      zcp__auth_proof(c->key, "server", cn, ch->nonce.data, c->opt.cluster_id, want);
      if (ch->proof.len != ZCP_KEY_SIZE ||
          !zcp__auth_proof_equal(ch->proof.data, want, ZCP_KEY_SIZE)) {
        atomic_fetch_add(&c->counters.auth_failed, 1);
        st = zcp_error_set(err, ZCP_AUTH_FAILED,
                           "failed to prove it holds the cluster key");
      }
    }
    if (st == ZCP_OK) {
      uint8_t proof[ZCP_KEY_SIZE];
      zcp__auth_proof(c->key, "client", cn, ch->nonce.data, c->opt.cluster_id, proof);
      Zcpool__Proof p = ZCPOOL__PROOF__INIT;
      p.proof.data = proof;
      p.proof.len = sizeof proof;
      env.kind_case = ZCPOOL__ENVELOPE__KIND_PROOF;
      env.proof = &p;
      st = zcp__frame_send(fd, out, &env, ms, &c->counters, err);
      zcp__auth_session(c->key, cn, ch->nonce.data, out->key, in->key);
      in->on = out->on = true;
    }
  }
  if (st != ZCP_OK) {
    zcp__envelope_free(rx);
    return st;
  }
  Zcpool__Envelope *wel = NULL;
  st = zcp__frame_recv(fd, in, c->opt.max_frame, ms, &wel, &c->counters, err);
  if (st != ZCP_OK || wel->kind_case != ZCPOOL__ENVELOPE__KIND_WELCOME) {
    zcp__envelope_free(wel);
    zcp__envelope_free(rx);
    return zcp_error_set(err, ZCP_AUTH_FAILED, "did not accept our key%s%s",
                         st != ZCP_OK ? ": " : "", st != ZCP_OK ? err->message : "");
  }
  zcp__envelope_free(wel);
  /* Keep the Challenge (peer epoch and regions), detached from its envelope. */
  rx->kind_case = ZCPOOL__ENVELOPE__KIND__NOT_SET;
  rx->challenge = NULL;
  zcp__envelope_free(rx);
  *hello = ch;
  return ZCP_OK;
}

/* Connects and shakes hands; on success installs the connection (under both locks). */
static zcp_status_t connect_once(struct zcp__rpc_client *c, struct zcp_error *err) {
  int fd = -1;
  zcp_status_t st = zcp__sock_connect(c->opt.address, c->opt.connect_ms, &fd, err);
  if (st != ZCP_OK) return st;
  struct zcp__auth_dir in = {0}, out = {0};
  Zcpool__Challenge *hello = NULL;
  st = handshake(c, fd, &in, &out, &hello, err);
  if (st != ZCP_OK) {
    close(fd);
    return st;
  }
  pthread_mutex_lock(&c->mu);
  while (c->reading) wait_locked(c, NULL);
  pthread_mutex_lock(&c->send_mu);
  if (c->fd >= 0) close(c->fd);
  c->fd = fd;
  c->in = in;
  c->out = out;
  c->rx.start = c->rx.end = 0;
  pthread_mutex_unlock(&c->send_mu);
  if (c->hello != NULL) zcpool__challenge__free_unpacked(c->hello, NULL);
  c->hello = hello;
  c->up = true;
  c->silent = false;
  c->gen++;
  c->last_rx_ms = zcp__now_ms();
  wake_locked(c);
  pthread_mutex_unlock(&c->mu);
  return ZCP_OK;
}

/* ---- calls --------------------------------------------------------------------------
 */

static void release_slot(struct zcp__rpc_client *c, struct slot *s) {
  if (s->resp != NULL) zcpool__response__free_unpacked(s->resp, NULL);
  memset(s, 0, sizeof *s);
  wake_locked(c);
}

zcp_status_t zcp__rpc_call_start(struct zcp__rpc_client *c, Zcpool__Request *req,
                                 int timeout_ms, struct zcp__rpc_call *call,
                                 struct zcp_error *err) {
  const char *name = zcp__rpc_call_name(req->call_case);
  pthread_mutex_lock(&c->mu);
  if (!c->up) {
    zcp_status_t st =
        zcp_error_set(err, ZCP_PEER_DOWN, "node %d (%s): %s: node is down (%s)",
                      (int)c->opt.peer_node, c->opt.address, name, c->why);
    pthread_mutex_unlock(&c->mu);
    return st;
  }
  int k = -1;
  for (int i = 0; i < c->opt.max_outstanding && k < 0; i++)
    if (!c->slots[i].used) k = i;
  if (k < 0) {
    atomic_fetch_add(&c->counters.busy, 1);
    pthread_mutex_unlock(&c->mu);
    return zcp_error_set(
        err, ZCP_BUSY, "node %d (%s): %s: %d requests already outstanding, the limit",
        (int)c->opt.peer_node, c->opt.address, name, (int)c->opt.max_outstanding);
  }
  uint64_t rid = call->request_id;
  if (rid == 0)
    rid = atomic_fetch_add(c->opt.request_ids != NULL ? c->opt.request_ids : &c->own_ids,
                           1) +
          1;
  struct slot *s = &c->slots[k];
  memset(s, 0, sizeof *s);
  s->used = true;
  s->rid = rid;
  s->call_case = req->call_case;
  uint64_t gen = c->gen;
  pthread_mutex_unlock(&c->mu);

  Zcpool__RequestHeader hdr = ZCPOOL__REQUEST_HEADER__INIT;
  hdr.client_node = c->opt.node;
  hdr.client_epoch = c->opt.epoch;
  hdr.request_id = rid;
  hdr.timeout_ms = (uint32_t)timeout_ms;
  Zcpool__RequestHeader *saved = req->header;
  req->header = &hdr;
  Zcpool__Envelope env = ZCPOOL__ENVELOPE__INIT;
  env.kind_case = ZCPOOL__ENVELOPE__KIND_REQUEST;
  env.request = req;
  struct zcp_error e2 = {0};
  pthread_mutex_lock(&c->send_mu);
  zcp_status_t st = ZCP_PEER_DOWN;
  if (c->gen == gen && c->fd >= 0)
    st = zcp__frame_send(c->fd, &c->out, &env, c->opt.down_after_ms, &c->counters, &e2);
  pthread_mutex_unlock(&c->send_mu);
  req->header = saved;
  if (st != ZCP_OK) {
    pthread_mutex_lock(&c->mu);
    if (c->gen == gen)
      mark_down_locked(c, e2.message[0] ? e2.message : "connection lost");
    release_slot(c, s);
    pthread_mutex_unlock(&c->mu);
    return zcp_error_set(err, ZCP_PEER_DOWN, "node %d (%s): %s: %s",
                         (int)c->opt.peer_node, c->opt.address, name,
                         e2.message[0] ? e2.message : "connection lost");
  }
  call->client = c;
  call->slot = k;
  call->request_id = rid;
  call->deadline_ms = zcp__now_ms() + timeout_ms;
  return ZCP_OK;
}

/* The reader hands one received envelope to its slot. Under mu. */
static void dispatch_locked(struct zcp__rpc_client *c, Zcpool__Envelope *env) {
  if (env->kind_case != ZCPOOL__ENVELOPE__KIND_RESPONSE) {
    atomic_fetch_add(&c->counters.garbage, 1);
    zcp__envelope_free(env);
    return;
  }
  Zcpool__Response *r = env->response;
  for (int i = 0; i < c->opt.max_outstanding; i++) {
    struct slot *s = &c->slots[i];
    if (s->used && !s->done && s->rid == r->request_id) {
      env->kind_case = ZCPOOL__ENVELOPE__KIND__NOT_SET;
      env->response = NULL;
      zcp__envelope_free(env);
      s->resp = r;
      s->done = true;
      s->st = (zcp_status_t)r->status;
      return;
    }
  }
  atomic_fetch_add(&c->counters.stale, 1); /* its caller gave up */
  zcp__envelope_free(env);
}

zcp_status_t zcp__rpc_call_finish(struct zcp__rpc_call *call, Zcpool__Response **resp,
                                  struct zcp_error *err) {
  struct zcp__rpc_client *c = call->client;
  struct slot *s = &c->slots[call->slot];
  if (resp != NULL) *resp = NULL;
  pthread_mutex_lock(&c->mu);
  const char *name = zcp__rpc_call_name(s->call_case);
  for (;;) {
    if (s->done) {
      zcp_status_t st = s->st;
      if (s->resp != NULL) {
        if (st != ZCP_OK) zcp_error_set(err, st, "%s", s->resp->message); /* names both */
        if (resp != NULL) {
          *resp = s->resp;
          s->resp = NULL;
        }
      } else {
        zcp_error_set(err, st, "node %d (%s): %s: node is down (%s)",
                      (int)c->opt.peer_node, c->opt.address, name, s->msg);
      }
      release_slot(c, s);
      pthread_mutex_unlock(&c->mu);
      return st;
    }
    int64_t now = zcp__now_ms();
    if (now >= call->deadline_ms) {
      zcp_error_set(err, ZCP_TIMEOUT,
                    "node %d (%s): %s request %llu not answered in time",
                    (int)c->opt.peer_node, c->opt.address, name,
                    (unsigned long long)call->request_id);
      release_slot(c, s);
      pthread_mutex_unlock(&c->mu);
      return ZCP_TIMEOUT;
    }
    if (!c->reading && c->up) {
      c->reading = true;
      int fd = c->fd;
      uint64_t gen = c->gen;
      pthread_mutex_unlock(&c->mu);
      int64_t slice = call->deadline_ms - now;
      if (slice > READ_SLICE_MS) slice = READ_SLICE_MS;
      int rc = zcp__rx_pending(&c->rx) ? 1 : zcp__sock_wait_readable(fd, (int)slice);
      Zcpool__Envelope *env = NULL;
      struct zcp_error e2 = {0};
      zcp_status_t st = ZCP_OK;
      if (rc > 0)
        st = zcp__frame_recv_buffered(fd, &c->rx, &c->in, c->opt.max_frame,
                                      c->opt.down_after_ms, &env, &c->counters, &e2);
      pthread_mutex_lock(&c->mu);
      c->reading = false;
      if (rc < 0) {
        if (c->gen == gen) mark_down_locked(c, "poll failed on the connection");
      } else if (rc > 0) {
        if (st == ZCP_OK) {
          c->last_rx_ms = zcp__now_ms();
          dispatch_locked(c, env);
        } else if (st != ZCP_AUTH_FAILED && c->gen == gen) {
          mark_down_locked(c, e2.message);
        }
      }
      wake_locked(c);
      continue;
    }
    struct timespec ts;
    zcp__deadline_at(&ts, ZCP_MIN(call->deadline_ms, now + READ_SLICE_MS));
    wait_locked(c, &ts);
  }
}

static uint64_t peer_epoch(struct zcp__rpc_client *c) {
  pthread_mutex_lock(&c->mu);
  uint64_t e = c->up && c->hello != NULL ? c->hello->epoch : 0;
  pthread_mutex_unlock(&c->mu);
  return e;
}

static bool went_silent(struct zcp__rpc_client *c) {
  pthread_mutex_lock(&c->mu);
  bool s = c->silent;
  pthread_mutex_unlock(&c->mu);
  return s;
}

zcp_status_t zcp__rpc_call(struct zcp__rpc_client *c, Zcpool__Request *req,
                           int timeout_ms, Zcpool__Response **resp,
                           struct zcp_error *err) {
  struct zcp__rpc_call call = {0};
  if (resp != NULL) *resp = NULL;
  int64_t deadline = zcp__now_ms() + timeout_ms;
  uint64_t epoch = peer_epoch(c);
  ZCP_RETURN_NOT_OK(zcp__rpc_call_start(c, req, timeout_ms, &call, err));
  zcp_status_t st = zcp__rpc_call_finish(&call, resp, err);
  if (st != ZCP_PEER_DOWN || !c->opt.monitor || epoch == 0 || went_silent(c)) return st;
  /* The connection broke after the request left. If the same incarnation of the peer
   * is back within two heartbeats, send the same request id again: the server answers
   * a retry as it answered the first time. A new epoch means the peer restarted and the
   * request's world is gone; a peer that stopped answering is not waited for again; a
   * dead peer costs the caller those two heartbeats. */
  int64_t left = deadline - zcp__now_ms();
  int wait = (int)ZCP_MIN(left, 2 * (int64_t)c->opt.heartbeat_ms);
  if (wait <= 0 || !zcp__rpc_client_wait_up(c, wait) || peer_epoch(c) != epoch) return st;
  left = deadline - zcp__now_ms();
  if (left <= 0) return st;
  uint64_t rid = call.request_id;
  memset(&call, 0, sizeof call);
  call.request_id = rid;
  struct zcp_error again = {0};
  if (zcp__rpc_call_start(c, req, (int)left, &call, &again) != ZCP_OK) return st;
  return zcp__rpc_call_finish(&call, resp, err);
}

/* ---- monitor ------------------------------------------------------------------------
 */

static void report(struct zcp__rpc_client *c) {
  pthread_mutex_lock(&c->mu);
  bool up = c->up, was = c->reported_up;
  c->reported_up = up;
  char why[sizeof c->why];
  memcpy(why, c->why, sizeof why);
  pthread_mutex_unlock(&c->mu);
  if (was && !up && c->opt.on_down != NULL)
    c->opt.on_down(c->opt.ctx, c->opt.peer_node, why);
  if (!was && up && c->opt.on_up != NULL)
    c->opt.on_up(c->opt.ctx, c->opt.peer_node, c->hello);
}

static void heartbeat(struct zcp__rpc_client *c) {
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  Zcpool__Ping ping = ZCPOOL__PING__INIT;
  req.call_case = ZCPOOL__REQUEST__CALL_PING;
  req.ping = &ping;
  struct zcp_error err = {0};
  zcp_status_t st = zcp__rpc_call(c, &req, c->opt.down_after_ms, NULL, &err);
  if (st == ZCP_TIMEOUT) {
    pthread_mutex_lock(&c->mu);
    char why[200];
    snprintf(why, sizeof why, "no answer to heartbeats for %d ms",
             (int)c->opt.down_after_ms);
    if (c->up) c->silent = true;
    mark_down_locked(c, why);
    pthread_mutex_unlock(&c->mu);
  }
}

static void *monitor_thread(void *arg) {
  struct zcp__rpc_client *c = arg;
  int64_t next_try = 0;
  int retry_ms = ZCP_MIN(c->opt.heartbeat_ms, 100);
  for (;;) {
    report(c);
    pthread_mutex_lock(&c->mu);
    if (c->closing) {
      pthread_mutex_unlock(&c->mu);
      break;
    }
    bool up = c->up;
    int64_t now = zcp__now_ms();
    int64_t quiet = now - c->last_rx_ms;
    if (up && quiet >= c->opt.down_after_ms) {
      char why[200];
      snprintf(why, sizeof why, "nothing heard for %lld ms", (long long)quiet);
      c->silent = true;
      mark_down_locked(c, why);
      pthread_mutex_unlock(&c->mu);
      continue;
    }
    pthread_mutex_unlock(&c->mu);
    if (!up) {
      if (now >= next_try) {
        struct zcp_error err = {0};
        if (connect_once(c, &err) != ZCP_OK) {
          pthread_mutex_lock(&c->mu);
          snprintf(c->why, sizeof c->why, "%.190s", err.message);
          pthread_mutex_unlock(&c->mu);
          next_try = zcp__now_ms() + retry_ms;
        }
        continue;
      }
    } else if (quiet >= c->opt.heartbeat_ms) {
      heartbeat(c);
      continue;
    }
    struct timespec ts;
    zcp__deadline_at(&ts, zcp__now_ms() + ZCP_MAX(retry_ms / 2, 5));
    pthread_mutex_lock(&c->mu);
    if (!c->closing) pthread_cond_timedwait(&c->mon_cv, &c->mu, &ts);
    pthread_mutex_unlock(&c->mu);
  }
  return NULL;
}

zcp_status_t zcp__rpc_client_open(const struct zcp__rpc_client_options *opt,
                                  struct zcp__rpc_client **out, struct zcp_error *err) {
  *out = NULL;
  if (!zcp__auth_init())
    return zcp_error_set(err, ZCP_IO_ERROR, "libsodium cannot start");
  if (opt->max_outstanding <= 0 || opt->max_frame <= 0 || opt->down_after_ms <= 0 ||
      opt->heartbeat_ms <= 0 || opt->connect_ms <= 0)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "rpc client: limits must be positive");
  struct zcp__rpc_client *c = calloc(1, sizeof *c);
  if (c == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "rpc client");
  c->opt = *opt;
  c->opt.address = strdup(opt->address);
  c->slots = calloc((size_t)opt->max_outstanding, sizeof *c->slots);
  if (c->opt.address == NULL || c->slots == NULL) {
    free((char *)c->opt.address);
    free(c->slots);
    free(c);
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "rpc client");
  }
  if (opt->key != NULL) {
    memcpy(c->key, opt->key, ZCP_KEY_SIZE);
    c->opt.key = c->key;
  }
  c->fd = -1;
  snprintf(c->why, sizeof c->why, "not connected yet");
  pthread_mutex_init(&c->mu, NULL);
  pthread_mutex_init(&c->send_mu, NULL);
  zcp__cond_init_monotonic(&c->cv);
  zcp__cond_init_monotonic(&c->mon_cv);
  zcp_status_t st = ZCP_OK;
  if (!opt->monitor) {
    st = connect_once(c, err);
    if (st != ZCP_OK)
      zcp_error_prefix(err, st, "node %d (%s): ", (int)opt->peer_node, opt->address);
  } else {
    int rc = pthread_create(&c->monitor, NULL, monitor_thread, c);
    if (rc != 0)
      st = zcp_error_set(err, ZCP_IO_ERROR, "rpc client: cannot start a thread: %s",
                         strerror(rc));
    else
      c->has_monitor = true;
  }
  if (st != ZCP_OK) {
    zcp__rpc_client_close(c);
    return st;
  }
  *out = c;
  return ZCP_OK;
}

void zcp__rpc_client_close(struct zcp__rpc_client *c) {
  if (c == NULL) return;
  pthread_mutex_lock(&c->mu);
  c->closing = true;
  mark_down_locked(c, "client closed");
  pthread_cond_broadcast(&c->cv);
  pthread_cond_signal(&c->mon_cv);
  pthread_mutex_unlock(&c->mu);
  if (c->has_monitor) pthread_join(c->monitor, NULL);
  pthread_mutex_lock(&c->mu);
  while (c->reading) wait_locked(c, NULL);
  pthread_mutex_unlock(&c->mu);
  if (c->fd >= 0) close(c->fd);
  for (int i = 0; i < c->opt.max_outstanding; i++)
    if (c->slots[i].resp != NULL) zcpool__response__free_unpacked(c->slots[i].resp, NULL);
  if (c->hello != NULL) zcpool__challenge__free_unpacked(c->hello, NULL);
  pthread_mutex_destroy(&c->mu);
  pthread_mutex_destroy(&c->send_mu);
  pthread_cond_destroy(&c->cv);
  pthread_cond_destroy(&c->mon_cv);
  free(c->slots);
  free((char *)c->opt.address);
  free(c);
}
