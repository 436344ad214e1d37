/* The control-plane server of one node: accepts connections, runs the handshake, and
 * answers requests. Each connection has two threads: its reader answers Ping (the
 * heartbeat) at once, and hands every other request to the connection's worker, which
 * serves them one after another in arrival order. A long request (a Malloc whose block
 * must be cleared, a Realloc copying, a big Flush, a SendTableFull part being decoded)
 * therefore never holds up the heartbeat behind it, so a busy peer is not declared down,
 * while callers that rely on answers in order of arrival (SendTableFull's parts, the
 * sharing calls) still get them. The server keeps the node's state words itself,
 * because a WaitState must be answered the moment a change makes its condition true (no
 * polling) and must not hold up the connection's other requests: an open wait is a
 * record, bounded per connection, answered by the thread that changes the word or, at
 * its deadline, by the accept thread's sweep. A connection that misbehaves is dropped;
 * the server never stops serving the others because of it. */
#include "common/platform.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "rpc/rpc.h"

#define HANDSHAKE_MS 5000
#define WAIT_DEFAULT_MS 30000
#define WAIT_MAX_MS 600000

struct conn {
  struct zcp__rpc_server *srv;
  int fd;
  pthread_mutex_t send_mu; /* one frame at a time on the socket; guards out */
  struct zcp__auth_dir in, out;
  struct zcp__rx rx; /* the connection thread's */
  struct zcp__rpc_peer peer;
  int refs;  /* the connection thread + each open wait; under srv->mu */
  int waits; /* open WaitState requests; under srv->mu */
  bool closed;
  /* Requests other than Ping, waiting for the worker: a ring of q_cap envelopes. The
   * one being served is out of the ring, so at most q_cap + 1 requests of a connection
   * are held at once (the client's limit on calls in flight keeps it below that). */
  pthread_mutex_t q_mu;
  pthread_cond_t q_cv; /* a request arrived, or stop */
  Zcpool__Envelope **q;
  int q_cap, q_head, q_len; /* under q_mu */
  bool q_stop;              /* under q_mu: the connection is ending */
  pthread_t worker;
  struct conn *next;
};

struct zcp__rpc_server {
  struct zcp__rpc_server_options opt;
  uint8_t key[ZCP_KEY_SIZE];
  int listen_fd;
  pthread_t accept_thread;
  pthread_mutex_t mu;
  pthread_cond_t cv; /* state words changed, a thread ended, or stopping */
  uint64_t words[2];
  struct conn *conns;
  struct waiter *waiters; /* open WaitState requests of every connection */
  int threads;            /* connection threads alive */
  bool stopping;
  struct zcp__rpc_counters counters;
};

struct zcp__rpc_counters *zcp__rpc_server_counters(struct zcp__rpc_server *srv) {
  return &srv->counters;
}

static void sweep(struct zcp__rpc_server *srv);

bool zcp__state_condition_holds(uint64_t word, uint64_t value, uint64_t mask,
                                int condition) {
  if (condition == ZCPOOL__WAIT_CONDITION__WAIT_AT_LEAST)
    return (word & mask) >= (value & mask);
  return (word & mask) == (value & mask);
}

uint64_t zcp__rpc_server_set_state(struct zcp__rpc_server *srv, int word, uint64_t value,
                                   uint64_t mask) {
  pthread_mutex_lock(&srv->mu);
  uint64_t *w = &srv->words[word == ZCPOOL__STATE_WORD__STATE_BARRIER];
  *w = (*w & ~mask) | (value & mask);
  uint64_t now = *w;
  pthread_cond_broadcast(&srv->cv);
  bool any = srv->waiters != NULL;
  pthread_mutex_unlock(&srv->mu);
  if (any) sweep(srv);
  return now;
}

uint64_t zcp__rpc_server_get_state(struct zcp__rpc_server *srv, int word) {
  pthread_mutex_lock(&srv->mu);
  uint64_t v = srv->words[word == ZCPOOL__STATE_WORD__STATE_BARRIER];
  pthread_mutex_unlock(&srv->mu);
  return v;
}

/* Waits under srv->mu; returns ZCP_OK, ZCP_TIMEOUT or ZCP_PEER_DOWN (stopping). */
static zcp_status_t wait_locked(struct zcp__rpc_server *srv, int word, uint64_t value,
                                uint64_t mask, int condition, int64_t timeout_ms,
                                uint64_t *seen) {
  struct timespec until;
  zcp__deadline(&until, timeout_ms);
  uint64_t *w = &srv->words[word == ZCPOOL__STATE_WORD__STATE_BARRIER];
  for (;;) {
    *seen = *w;
    if (zcp__state_condition_holds(*w, value, mask, condition)) return ZCP_OK;
    if (srv->stopping) return ZCP_PEER_DOWN;
    if (pthread_cond_timedwait(&srv->cv, &srv->mu, &until) == ETIMEDOUT) {
      *seen = *w;
      return zcp__state_condition_holds(*w, value, mask, condition) ? ZCP_OK
                                                                    : ZCP_TIMEOUT;
    }
  }
}

zcp_status_t zcp__rpc_server_wait_state(struct zcp__rpc_server *srv, int word,
                                        uint64_t value, uint64_t mask, int condition,
                                        int timeout_ms, uint64_t *seen,
                                        struct zcp_error *err) {
  uint64_t s = 0;
  pthread_mutex_lock(&srv->mu);
  zcp_status_t st = wait_locked(srv, word, value, mask, condition, timeout_ms, &s);
  pthread_mutex_unlock(&srv->mu);
  if (seen != NULL) *seen = s;
  if (st != ZCP_OK)
    return zcp_error_set(err, st,
                         "node %d: own state word is %#llx, waited %d ms for %#llx under "
                         "mask %#llx",
                         (int)srv->opt.node, (unsigned long long)s, timeout_ms,
                         (unsigned long long)value, (unsigned long long)mask);
  return ZCP_OK;
}

/* ---- connections --------------------------------------------------------------------
 */

static void conn_unref(struct conn *c) {
  struct zcp__rpc_server *srv = c->srv;
  pthread_mutex_lock(&srv->mu);
  bool last = --c->refs == 0;
  if (last) {
    for (struct conn **p = &srv->conns; *p != NULL; p = &(*p)->next) {
      if (*p == c) {
        *p = c->next;
        break;
      }
    }
  }
  pthread_mutex_unlock(&srv->mu);
  if (last) {
    close(c->fd);
    pthread_mutex_destroy(&c->send_mu);
    free(c);
  }
}

static void thread_done(struct zcp__rpc_server *srv) {
  pthread_mutex_lock(&srv->mu);
  srv->threads--;
  pthread_cond_broadcast(&srv->cv);
  pthread_mutex_unlock(&srv->mu);
}

static zcp_status_t send_env(struct conn *c, const Zcpool__Envelope *env) {
  pthread_mutex_lock(&c->send_mu);
  zcp_status_t st =
      zcp__frame_send(c->fd, &c->out, env, HANDSHAKE_MS, &c->srv->counters, NULL);
  pthread_mutex_unlock(&c->send_mu);
  return st;
}

static void send_response(struct conn *c, Zcpool__Response *resp) {
  Zcpool__Envelope env = ZCPOOL__ENVELOPE__INIT;
  env.kind_case = ZCPOOL__ENVELOPE__KIND_RESPONSE;
  env.response = resp;
  if (send_env(c, &env) != ZCP_OK) shutdown(c->fd, SHUT_RDWR);
}

static void set_status(Zcpool__Response *resp, zcp_status_t st, char *buf, size_t cap,
                       const char *fmt, ...) ZCP_PRINTF(5, 6);
static void set_status(Zcpool__Response *resp, zcp_status_t st, char *buf, size_t cap,
                       const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, cap, fmt, ap);
  va_end(ap);
  resp->status = (int32_t)st;
  resp->message = buf;
}

/* An open WaitState: answered by whoever changes the word (sweep), or when it expires
 * (the accept thread sweeps at least every 100 ms). No thread waits for it. */
struct waiter {
  struct conn *c;
  uint64_t request_id;
  Zcpool__WaitState ws;
  int64_t timeout_ms, deadline_ms;
  zcp_status_t st;
  uint64_t seen;
  struct waiter *next;
};

/* Answers every wait whose condition holds now, that expired, or whose connection is
 * gone. Replies are sent outside the lock. */
static void sweep(struct zcp__rpc_server *srv) {
  struct waiter *done = NULL;
  int64_t now = zcp__now_ms();
  pthread_mutex_lock(&srv->mu);
  for (struct waiter **p = &srv->waiters; *p != NULL;) {
    struct waiter *w = *p;
    uint64_t word = srv->words[w->ws.word == ZCPOOL__STATE_WORD__STATE_BARRIER];
    bool holds =
        zcp__state_condition_holds(word, w->ws.value, w->ws.mask, w->ws.condition);
    bool gone = w->c->closed || srv->stopping;
    if (!holds && !gone && now < w->deadline_ms) {
      p = &w->next;
      continue;
    }
    w->st = holds ? ZCP_OK : gone ? ZCP_PEER_DOWN : ZCP_TIMEOUT;
    w->seen = word;
    w->c->waits--;
    *p = w->next;
    w->next = done;
    done = w;
  }
  pthread_mutex_unlock(&srv->mu);
  while (done != NULL) {
    struct waiter *w = done;
    done = w->next;
    if (w->st != ZCP_PEER_DOWN) {
      Zcpool__Response resp = ZCPOOL__RESPONSE__INIT;
      Zcpool__StateReply sr = ZCPOOL__STATE_REPLY__INIT;
      char msg[256];
      resp.request_id = w->request_id;
      sr.word = w->seen;
      resp.result_case = ZCPOOL__RESPONSE__RESULT_STATE;
      resp.state = &sr;
      if (w->st != ZCP_OK)
        set_status(&resp, w->st, msg, sizeof msg,
                   "node %d: state word is %#llx after %lld ms, waited for %#llx under "
                   "mask %#llx",
                   (int)srv->opt.node, (unsigned long long)w->seen,
                   (long long)w->timeout_ms, (unsigned long long)w->ws.value,
                   (unsigned long long)w->ws.mask);
      send_response(w->c, &resp);
    }
    conn_unref(w->c);
    free(w);
  }
}

/* Registers a wait for req, or answers at once. */
static void serve_wait(struct conn *c, const Zcpool__Request *req, Zcpool__Response *resp,
                       bool *answered, char *msg, size_t cap) {
  struct zcp__rpc_server *srv = c->srv;
  const Zcpool__WaitState *ws = req->wait_state;
  int64_t timeout =
      req->header->timeout_ms == 0 ? WAIT_DEFAULT_MS : req->header->timeout_ms;
  if (timeout > WAIT_MAX_MS) timeout = WAIT_MAX_MS;
  *answered = true;
  pthread_mutex_lock(&srv->mu);
  uint64_t word = srv->words[ws->word == ZCPOOL__STATE_WORD__STATE_BARRIER];
  if (zcp__state_condition_holds(word, ws->value, ws->mask, ws->condition)) {
    pthread_mutex_unlock(&srv->mu);
    resp->state->word = word;
    return;
  }
  if (c->waits >= srv->opt.max_outstanding) {
    pthread_mutex_unlock(&srv->mu);
    atomic_fetch_add(&srv->counters.busy, 1);
    set_status(resp, ZCP_BUSY, msg, cap,
               "node %d: node %d has %d waits open, the limit per connection",
               (int)srv->opt.node, (int)c->peer.node, (int)srv->opt.max_outstanding);
    return;
  }
  struct waiter *w = calloc(1, sizeof *w);
  if (w == NULL) {
    pthread_mutex_unlock(&srv->mu);
    set_status(resp, ZCP_OUT_OF_MEMORY, msg, cap, "node %d: no memory for a wait",
               (int)srv->opt.node);
    return;
  }
  w->c = c;
  w->request_id = req->header->request_id;
  w->ws = *ws;
  w->timeout_ms = timeout;
  w->deadline_ms = zcp__now_ms() + timeout;
  w->next = srv->waiters;
  srv->waiters = w;
  c->waits++;
  c->refs++;
  pthread_mutex_unlock(&srv->mu);
  *answered = false;
}

static void free_result(Zcpool__Response *resp, const Zcpool__Response *orig) {
  /* The handler's result message and text are malloc'd; ours are on the stack. */
  if (resp->message != orig->message) free(resp->message);
  switch (resp->result_case) {
    case ZCPOOL__RESPONSE__RESULT_PING:
      free(resp->ping);
      break;
    case ZCPOOL__RESPONSE__RESULT_ALLOC:
      free(resp->alloc);
      break;
    case ZCPOOL__RESPONSE__RESULT_FLUSH:
      free(resp->flush);
      break;
    case ZCPOOL__RESPONSE__RESULT_LEASE:
      free(resp->lease);
      break;
    case ZCPOOL__RESPONSE__RESULT_VERIFY: /* repeated fields: malloc'd arrays too */
      free(resp->verify->status);
      free(resp->verify);
      break;
    case ZCPOOL__RESPONSE__RESULT_LIST: /* every part malloc'd */
      zcpool__list_reply__free_unpacked(resp->list, NULL);
      break;
    case ZCPOOL__RESPONSE__RESULT_SEAL:
      free(resp->seal->block_offsets);
      free(resp->seal->block_sizes);
      free(resp->seal);
      break;
    case ZCPOOL__RESPONSE__RESULT_SEND_TABLE_FULL:
      free(resp->send_table_full);
      break;
    default:
      break;
  }
}

static void serve_request(struct conn *c, const Zcpool__Request *req) {
  struct zcp__rpc_server *srv = c->srv;
  Zcpool__Response resp = ZCPOOL__RESPONSE__INIT;
  Zcpool__StateReply sr = ZCPOOL__STATE_REPLY__INIT;
  char msg[256];
  if (req->header == NULL) {
    set_status(&resp, ZCP_INVALID_ARGUMENT, msg, sizeof msg,
               "node %d: request from node %d has no header", (int)srv->opt.node,
               (int)c->peer.node);
    send_response(c, &resp);
    return;
  }
  resp.request_id = req->header->request_id;
  if (req->header->client_node != c->peer.node ||
      req->header->client_epoch != c->peer.epoch) {
    set_status(
        &resp, ZCP_INVALID_ARGUMENT, msg, sizeof msg,
        "node %d: request %llu claims node %d epoch %llu on the connection of node "
        "%d epoch %llu",
        (int)srv->opt.node, (unsigned long long)req->header->request_id,
        (int)req->header->client_node, (unsigned long long)req->header->client_epoch,
        (int)c->peer.node, (unsigned long long)c->peer.epoch);
    send_response(c, &resp);
    return;
  }
  switch (req->call_case) {
    case ZCPOOL__REQUEST__CALL_SET_STATE:
      sr.word = zcp__rpc_server_set_state(srv, ZCPOOL__STATE_WORD__STATE_USER,
                                          req->set_state->value, req->set_state->mask);
      resp.result_case = ZCPOOL__RESPONSE__RESULT_STATE;
      resp.state = &sr;
      break;
    case ZCPOOL__REQUEST__CALL_WAIT_STATE: {
      resp.result_case = ZCPOOL__RESPONSE__RESULT_STATE;
      resp.state = &sr;
      bool answered = true;
      serve_wait(c, req, &resp, &answered, msg, sizeof msg);
      if (!answered) return;
      break;
    }
    case ZCPOOL__REQUEST__CALL__NOT_SET:
      set_status(&resp, ZCP_UNSUPPORTED, msg, sizeof msg,
                 "node %d: request %llu from node %d names no call this node knows",
                 (int)srv->opt.node, (unsigned long long)req->header->request_id,
                 (int)c->peer.node);
      break;
    default: {
      Zcpool__Response orig = resp;
      srv->opt.handler(srv->opt.ctx, &c->peer, req, &resp);
      send_response(c, &resp);
      free_result(&resp, &orig);
      return;
    }
  }
  send_response(c, &resp);
}

/* Sends a refusing Challenge and counts it. */
static void refuse(struct conn *c, zcp_status_t st, const char *msg) {
  Zcpool__Challenge ch = ZCPOOL__CHALLENGE__INIT;
  ch.protocol_version = ZCP_RPC_PROTOCOL_VERSION;
  ch.cluster_id = c->srv->opt.cluster_id;
  ch.node = c->srv->opt.node;
  ch.status = (int32_t)st;
  ch.message = (char *)msg;
  Zcpool__Envelope env = ZCPOOL__ENVELOPE__INIT;
  env.kind_case = ZCPOOL__ENVELOPE__KIND_CHALLENGE;
  env.challenge = &ch;
  (void)send_env(c, &env);
  if (st == ZCP_AUTH_FAILED) atomic_fetch_add(&c->srv->counters.auth_failed, 1);
}

static bool handshake(struct conn *c) {
  struct zcp__rpc_server *srv = c->srv;
  Zcpool__Envelope *env = NULL;
  char msg[256];
  zcp_status_t st = zcp__frame_recv(c->fd, &c->in, srv->opt.max_frame, HANDSHAKE_MS, &env,
                                    &srv->counters, NULL);
  if (st != ZCP_OK) return false;
  if (env->kind_case != ZCPOOL__ENVELOPE__KIND_HELLO) {
    /* A call before the handshake is an unauthenticated frame. */
    atomic_fetch_add(&srv->counters.auth_failed, 1);
    refuse(c, ZCP_AUTH_FAILED, "expected Hello before anything else");
    zcp__envelope_free(env);
    return false;
  }
  const Zcpool__Hello *h = env->hello;
  bool auth = srv->opt.key != NULL;
  if (h->protocol_version != ZCP_RPC_PROTOCOL_VERSION) {
    snprintf(msg, sizeof msg, "node %d speaks protocol %u, node %d speaks %u",
             (int)h->node, (unsigned)h->protocol_version, (int)srv->opt.node,
             ZCP_RPC_PROTOCOL_VERSION);
    refuse(c, ZCP_VERSION_MISMATCH, msg);
  } else if (h->cluster_id != srv->opt.cluster_id) {
    snprintf(msg, sizeof msg, "node %d is in cluster %#llx, node %d in cluster %#llx",
             (int)h->node, (unsigned long long)h->cluster_id, (int)srv->opt.node,
             (unsigned long long)srv->opt.cluster_id);
    refuse(c, ZCP_INVALID_ARGUMENT, msg);
  } else if (h->node < 0 || h->node >= srv->opt.max_nodes || h->node == srv->opt.node) {
    snprintf(msg, sizeof msg, "node id %d is not a peer of node %d (0..%d)", (int)h->node,
             (int)srv->opt.node, (int)srv->opt.max_nodes - 1);
    refuse(c, ZCP_INVALID_ARGUMENT, msg);
  } else if (h->auth != auth || (auth && h->nonce.len != ZCP_NONCE_SIZE)) {
    snprintf(msg, sizeof msg, "node %d requires %s", (int)srv->opt.node,
             auth ? "authentication (a key file)" : "authentication off");
    refuse(c, ZCP_AUTH_FAILED, msg);
  } else {
    st = ZCP_OK;
    goto accepted;
  }
  zcp__envelope_free(env);
  return false;
accepted:;
  uint8_t cn[ZCP_NONCE_SIZE] = {0}, sn[ZCP_NONCE_SIZE], proof[ZCP_KEY_SIZE];
  if (auth) memcpy(cn, h->nonce.data, ZCP_NONCE_SIZE);
  zcp__auth_random(sn, sizeof sn);
  c->peer.node = h->node;
  c->peer.epoch = h->epoch;
  Zcpool__Challenge ch = ZCPOOL__CHALLENGE__INIT;
  ch.protocol_version = ZCP_RPC_PROTOCOL_VERSION;
  ch.cluster_id = srv->opt.cluster_id;
  ch.node = srv->opt.node;
  ch.epoch = srv->opt.epoch;
  ch.regions = srv->opt.regions;
  ch.n_regions = srv->opt.n_regions;
  if (auth) {
    zcp__auth_proof(srv->key, "server", cn, sn, srv->opt.cluster_id, proof);
    ch.nonce.data = sn;
    ch.nonce.len = sizeof sn;
    ch.proof.data = proof;
    ch.proof.len = sizeof proof;
  }
  Zcpool__Envelope out = ZCPOOL__ENVELOPE__INIT;
  out.kind_case = ZCPOOL__ENVELOPE__KIND_CHALLENGE;
  out.challenge = &ch;
  if (send_env(c, &out) != ZCP_OK) {
    zcp__envelope_free(env);
    return false;
  }
  if (auth) {
    Zcpool__Envelope *pe = NULL;
    st = zcp__frame_recv(c->fd, &c->in, srv->opt.max_frame, HANDSHAKE_MS, &pe,
                         &srv->counters, NULL);
    uint8_t want[ZCP_KEY_SIZE];
    zcp__auth_proof(srv->key, "client", cn, sn, srv->opt.cluster_id, want);
    bool ok = st == ZCP_OK && pe->kind_case == ZCPOOL__ENVELOPE__KIND_PROOF &&
              pe->proof->proof.len == ZCP_KEY_SIZE &&
              zcp__auth_proof_equal(pe->proof->proof.data, want, ZCP_KEY_SIZE);
    zcp__envelope_free(pe);
    if (!ok) {
      if (st == ZCP_OK) atomic_fetch_add(&srv->counters.auth_failed, 1);
      zcp__envelope_free(env);
      return false;
    }
    zcp__auth_session(srv->key, cn, sn, c->in.key, c->out.key);
    c->in.on = c->out.on = true;
  }
  Zcpool__Welcome wel = ZCPOOL__WELCOME__INIT;
  wel.max_frame = (uint32_t)srv->opt.max_frame;
  wel.max_outstanding = (uint32_t)srv->opt.max_outstanding;
  out.kind_case = ZCPOOL__ENVELOPE__KIND_WELCOME;
  out.welcome = &wel;
  bool sent = send_env(c, &out) == ZCP_OK;
  if (sent && srv->opt.on_hello != NULL) srv->opt.on_hello(srv->opt.ctx, h);
  zcp__envelope_free(env);
  return sent;
}

/* ---- the connection's worker -------------------------------------------------------
 */

/* Serves the queued requests of c in arrival order until the connection ends. */
static void *conn_worker(void *arg) {
  struct conn *c = arg;
  pthread_mutex_lock(&c->q_mu);
  for (;;) {
    while (c->q_len == 0 && !c->q_stop) pthread_cond_wait(&c->q_cv, &c->q_mu);
    if (c->q_stop) break; /* what is still queued has no one to answer */
    Zcpool__Envelope *env = c->q[c->q_head];
    c->q_head = (c->q_head + 1) % c->q_cap;
    c->q_len--;
    pthread_mutex_unlock(&c->q_mu);
    serve_request(c, env->request);
    zcp__envelope_free(env);
    pthread_mutex_lock(&c->q_mu);
  }
  pthread_mutex_unlock(&c->q_mu);
  return NULL;
}

/* Hands env to the worker (which then owns it); false when the queue is full. */
static bool enqueue(struct conn *c, Zcpool__Envelope *env) {
  pthread_mutex_lock(&c->q_mu);
  bool room = c->q_len < c->q_cap;
  if (room) {
    c->q[(c->q_head + c->q_len) % c->q_cap] = env;
    c->q_len++;
    pthread_cond_signal(&c->q_cv);
  }
  pthread_mutex_unlock(&c->q_mu);
  return room;
}

/* Answers a request that found the worker's queue full. */
static void answer_busy(struct conn *c, const Zcpool__Request *req) {
  struct zcp__rpc_server *srv = c->srv;
  Zcpool__Response resp = ZCPOOL__RESPONSE__INIT;
  char msg[256];
  if (req->header != NULL) resp.request_id = req->header->request_id;
  atomic_fetch_add(&srv->counters.busy, 1);
  set_status(&resp, ZCP_BUSY, msg, sizeof msg,
             "node %d: %s from node %d refused: %d requests of that connection are "
             "already queued, the limit",
             (int)srv->opt.node, zcp__rpc_call_name((int)req->call_case),
             (int)c->peer.node, c->q_cap);
  send_response(c, &resp);
}

/* Starts the worker of c; false (nothing to undo) if it cannot. */
static bool worker_start(struct conn *c) {
  struct zcp__rpc_server *srv = c->srv;
  c->q_cap = srv->opt.max_outstanding > 0 ? srv->opt.max_outstanding : 1;
  c->q = calloc((size_t)c->q_cap, sizeof *c->q);
  if (c->q == NULL) return false;
  pthread_mutex_init(&c->q_mu, NULL);
  pthread_cond_init(&c->q_cv, NULL);
  if (pthread_create(&c->worker, NULL, conn_worker, c) != 0) {
    pthread_mutex_destroy(&c->q_mu);
    pthread_cond_destroy(&c->q_cv);
    free(c->q);
    c->q = NULL;
    return false;
  }
  return true;
}

/* Ends the worker of c: waits for the request it is serving (the socket is shut down
 * already, so its answer fails at once), then drops what is still queued. */
static void worker_stop(struct conn *c) {
  pthread_mutex_lock(&c->q_mu);
  c->q_stop = true;
  pthread_cond_signal(&c->q_cv);
  pthread_mutex_unlock(&c->q_mu);
  pthread_join(c->worker, NULL);
  for (; c->q_len > 0; c->q_len--) {
    zcp__envelope_free(c->q[c->q_head]);
    c->q_head = (c->q_head + 1) % c->q_cap;
  }
  pthread_mutex_destroy(&c->q_mu);
  pthread_cond_destroy(&c->q_cv);
  free(c->q);
  c->q = NULL;
}

static void *conn_thread(void *arg) {
  struct conn *c = arg;
  struct zcp__rpc_server *srv = c->srv;
  bool worker = false;
  if (handshake(c) && (worker = worker_start(c))) {
    for (;;) {
      /* Sleep in poll until a frame starts (one system call less than a read that would
       * find nothing); a client silent for idle_ms is gone. */
      if (!zcp__rx_pending(&c->rx) &&
          zcp__sock_wait_readable(c->fd, srv->opt.idle_ms) <= 0)
        break;
      Zcpool__Envelope *env = NULL;
      zcp_status_t st =
          zcp__frame_recv_buffered(c->fd, &c->rx, &c->in, srv->opt.max_frame,
                                   srv->opt.idle_ms, &env, &srv->counters, NULL);
      if (st == ZCP_AUTH_FAILED) continue; /* dropped and counted; stream still in step */
      if (st != ZCP_OK) break;
      if (env->kind_case != ZCPOOL__ENVELOPE__KIND_REQUEST) {
        atomic_fetch_add(&srv->counters.garbage, 1);
        zcp__envelope_free(env);
        break;
      }
      /* A heartbeat is answered now, whatever the worker is busy with: the handler is
       * reentrant (many connections call it at once), and a Ping reads nothing that the
       * request being served could change. */
      if (env->request->call_case == ZCPOOL__REQUEST__CALL_PING) {
        serve_request(c, env->request);
        zcp__envelope_free(env);
      } else if (!enqueue(c, env)) {
        answer_busy(c, env->request);
        zcp__envelope_free(env);
      }
    }
  }
  shutdown(c->fd, SHUT_RDWR);
  if (worker) worker_stop(c);
  /* Waits of a closed connection have no one to answer: end them now. The worker has
   * ended, so no new wait of this connection can appear after this. */
  pthread_mutex_lock(&srv->mu);
  c->closed = true;
  pthread_mutex_unlock(&srv->mu);
  sweep(srv);
  conn_unref(c);
  thread_done(srv);
  return NULL;
}

static void *accept_thread(void *arg) {
  struct zcp__rpc_server *srv = arg;
  for (;;) {
    pthread_mutex_lock(&srv->mu);
    bool stop = srv->stopping;
    pthread_mutex_unlock(&srv->mu);
    if (stop) break;
    sweep(srv); /* expired waits */
    if (zcp__sock_wait_readable(srv->listen_fd, 100) <= 0) continue;
    int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) continue;
    if (strncmp(srv->opt.address, "tcp://", 6) == 0) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    struct conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
      close(fd);
      continue;
    }
    c->srv = srv;
    c->fd = fd;
    c->refs = 1;
    c->peer.node = -1;
    pthread_mutex_init(&c->send_mu, NULL);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_mutex_lock(&srv->mu);
    c->next = srv->conns;
    srv->conns = c;
    srv->threads++;
    pthread_t t;
    int rc = pthread_create(&t, &attr, conn_thread, c);
    if (rc != 0) srv->threads--;
    pthread_mutex_unlock(&srv->mu);
    pthread_attr_destroy(&attr);
    if (rc != 0) conn_unref(c);
  }
  return NULL;
}

zcp_status_t zcp__rpc_server_start(const struct zcp__rpc_server_options *opt,
                                   struct zcp__rpc_server **out, struct zcp_error *err) {
  *out = NULL;
  if (!zcp__auth_init())
    return zcp_error_set(err, ZCP_IO_ERROR, "node %d: libsodium cannot start", opt->node);
  struct zcp__rpc_server *srv = calloc(1, sizeof *srv);
  if (srv == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "rpc server");
  srv->opt = *opt;
  if (opt->key != NULL) {
    memcpy(srv->key, opt->key, ZCP_KEY_SIZE);
    srv->opt.key = srv->key;
  }
  srv->opt.address = strdup(opt->address);
  pthread_mutex_init(&srv->mu, NULL);
  zcp__cond_init_monotonic(&srv->cv);
  zcp_status_t st = zcp__sock_listen(opt->address, &srv->listen_fd, err);
  if (st != ZCP_OK) {
    zcp_error_prefix(err, st, "node %d: ", (int)opt->node);
    free((char *)srv->opt.address);
    free(srv);
    return st;
  }
  int rc = pthread_create(&srv->accept_thread, NULL, accept_thread, srv);
  if (rc != 0) {
    close(srv->listen_fd);
    free((char *)srv->opt.address);
    free(srv);
    return zcp_error_set(err, ZCP_IO_ERROR, "node %d: cannot start the server thread: %s",
                         (int)opt->node, strerror(rc));
  }
  *out = srv;
  return ZCP_OK;
}

void zcp__rpc_server_stop(struct zcp__rpc_server *srv) {
  if (srv == NULL) return;
  pthread_mutex_lock(&srv->mu);
  srv->stopping = true;
  pthread_cond_broadcast(&srv->cv);
  pthread_mutex_unlock(&srv->mu);
  shutdown(srv->listen_fd, SHUT_RDWR); /* wakes the accept thread's poll at once */
  pthread_join(srv->accept_thread, NULL);
  sweep(srv); /* drops every open wait */
  close(srv->listen_fd);
  if (strncmp(srv->opt.address, "unix:", 5) == 0) unlink(srv->opt.address + 5);
  pthread_mutex_lock(&srv->mu);
  for (struct conn *c = srv->conns; c != NULL; c = c->next) shutdown(c->fd, SHUT_RDWR);
  /* Connection threads end when their socket does; bounded, so that a wedged thread
   * cannot hang close. */
  struct timespec until;
  zcp__deadline(&until, 10000);
  while (srv->threads > 0) {
    if (pthread_cond_timedwait(&srv->cv, &srv->mu, &until) == ETIMEDOUT) break;
  }
  bool leaked = srv->threads > 0;
  pthread_mutex_unlock(&srv->mu);
  if (leaked) return; /* threads still reference srv: leave it */
  free((char *)srv->opt.address);
  pthread_mutex_destroy(&srv->mu);
  pthread_cond_destroy(&srv->cv);
  free(srv);
}
