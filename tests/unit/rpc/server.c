/* The server: refuses handshakes that cannot work (protocol version, cluster, node id,
 * authentication mode) with a reason; serves with authentication off when both sides
 * say so; answers waits when the word changes and at their deadline; drops clients that
 * fall silent; answers heartbeats while a long call of the same connection runs, serves
 * the other calls of a connection in arrival order and refuses them when its queue is
 * full. Server and clients run in this process. */
#define _GNU_SOURCE 1
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rpc/rpc.h"

static char addr[128];
static uint8_t key[ZCP_KEY_SIZE];
static struct zcp__rpc_server *srv;

/* The long call: a Flush stays in the handler until the test releases it (at most 20 s,
 * so that a failing test cannot hang the server). Free calls record their offsets in the
 * order the handler sees them. */
static pthread_mutex_t hold_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cv = PTHREAD_COND_INITIALIZER;
static bool in_hold, released; /* under hold_mu */
static int64_t freed[16];
static int n_freed;

static void hold_reset(void) {
  pthread_mutex_lock(&hold_mu);
  in_hold = released = false;
  n_freed = 0;
  pthread_mutex_unlock(&hold_mu);
}

static void hold_release(void) {
  pthread_mutex_lock(&hold_mu);
  released = true;
  pthread_cond_broadcast(&hold_cv);
  pthread_mutex_unlock(&hold_mu);
}

/* Waits until a Flush is in the handler; false after timeout_ms. */
static bool hold_wait_entered(int timeout_ms) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += timeout_ms / 1000;
  pthread_mutex_lock(&hold_mu);
  while (!in_hold && pthread_cond_timedwait(&hold_cv, &hold_mu, &until) != ETIMEDOUT) {
  }
  bool in = in_hold;
  pthread_mutex_unlock(&hold_mu);
  return in;
}

static bool hold_still_in(void) {
  pthread_mutex_lock(&hold_mu);
  bool in = in_hold;
  pthread_mutex_unlock(&hold_mu);
  return in;
}

static void hold(void) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 20;
  pthread_mutex_lock(&hold_mu);
  in_hold = true;
  pthread_cond_broadcast(&hold_cv);
  while (!released && pthread_cond_timedwait(&hold_cv, &hold_mu, &until) != ETIMEDOUT) {
  }
  in_hold = false;
  pthread_mutex_unlock(&hold_mu);
}

static void handler(void *ctx, const struct zcp__rpc_peer *peer,
                    const Zcpool__Request *req, Zcpool__Response *resp) {
  if (req->call_case == ZCPOOL__REQUEST__CALL_FLUSH) {
    hold();
    resp->message = strdup("flushed");
    return;
  }
  if (req->call_case == ZCPOOL__REQUEST__CALL_FREE) {
    pthread_mutex_lock(&hold_mu);
    if (n_freed < 16) freed[n_freed++] = req->free->offset;
    pthread_mutex_unlock(&hold_mu);
  }
  if (req->call_case == ZCPOOL__REQUEST__CALL_PING) {
    Zcpool__PingReply *p = malloc(sizeof *p);
    zcpool__ping_reply__init(p);
    resp->result_case = ZCPOOL__RESPONSE__RESULT_PING;
    resp->ping = p;
    return;
  }
  resp->status = ZCP_NOT_FOUND;
  resp->message = strdup("nothing here");
}

static void start_server(bool auth, int idle_ms) {
  static int seq;
  snprintf(addr, sizeof addr, "unix:/tmp/zcp-srv-%d-%d.sock", (int)getpid(), seq++);
  cr_assert(zcp__auth_init());
  zcp__auth_random(key, sizeof key);
  struct zcp__rpc_server_options so = {0};
  so.address = addr;
  so.cluster_id = 0xabc;
  so.node = 0;
  so.epoch = 5;
  so.key = auth ? key : NULL;
  so.max_frame = 1 << 16;
  so.max_outstanding = 8;
  so.idle_ms = idle_ms;
  so.max_nodes = 4;
  so.handler = handler;
  struct zcp_error err = {0};
  cr_assert_eq(zcp__rpc_server_start(&so, &srv, &err), ZCP_OK, "%s", err.message);
}

static void stop_server(void) {
  hold_release(); /* a held call would keep its connection's thread */
  zcp__rpc_server_stop(srv);
  srv = NULL;
}

TestSuite(rpc_server, .fini = stop_server, .timeout = 30);

static zcp_status_t open_client(int node, uint64_t cluster, const uint8_t *k,
                                struct zcp__rpc_client **c, struct zcp_error *err) {
  struct zcp__rpc_client_options co = {0};
  co.address = addr;
  co.peer_node = 0;
  co.cluster_id = cluster;
  co.node = node;
  co.epoch = 9;
  co.key = k;
  co.max_frame = 1 << 16;
  co.max_outstanding = 8;
  co.heartbeat_ms = 100;
  co.down_after_ms = 1000;
  co.connect_ms = 1000;
  return zcp__rpc_client_open(&co, c, err);
}

static zcp_status_t ping(struct zcp__rpc_client *c, struct zcp_error *err) {
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  Zcpool__Ping p = ZCPOOL__PING__INIT;
  req.call_case = ZCPOOL__REQUEST__CALL_PING;
  req.ping = &p;
  return zcp__rpc_call(c, &req, 2000, NULL, err);
}

Test(rpc_server, refuses_handshakes_that_cannot_work) {
  start_server(true, 5000);
  struct zcp__rpc_client *c = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(open_client(1, 0xdef, key, &c, &err), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(err.message, "cluster") != NULL, "%s", err.message);
  cr_assert_eq(open_client(0, 0xabc, key, &c, &err), ZCP_INVALID_ARGUMENT, "its own id");
  cr_assert_eq(open_client(4, 0xabc, key, &c, &err), ZCP_INVALID_ARGUMENT,
               "out of range");
  cr_assert(strstr(err.message, "node id 4") != NULL, "%s", err.message);
  cr_assert_eq(open_client(1, 0xabc, NULL, &c, &err), ZCP_AUTH_FAILED);
  cr_assert(strstr(err.message, "authentication") != NULL, "%s", err.message);
  /* A protocol version from the future. */
  int fd;
  cr_assert_eq(zcp__sock_connect(addr, 1000, &fd, NULL), ZCP_OK);
  Zcpool__Hello h = ZCPOOL__HELLO__INIT;
  h.protocol_version = 99;
  h.cluster_id = 0xabc;
  h.node = 1;
  Zcpool__Envelope env = ZCPOOL__ENVELOPE__INIT;
  env.kind_case = ZCPOOL__ENVELOPE__KIND_HELLO;
  env.hello = &h;
  struct zcp__auth_dir none = {0}, in = {0};
  cr_assert_eq(zcp__frame_send(fd, &none, &env, 1000, NULL, NULL), ZCP_OK);
  Zcpool__Envelope *rx = NULL;
  cr_assert_eq(zcp__frame_recv(fd, &in, 1 << 16, 1000, &rx, NULL, NULL), ZCP_OK);
  cr_assert_eq(rx->challenge->status, ZCP_VERSION_MISMATCH);
  cr_assert(strstr(rx->challenge->message, "protocol 99") != NULL, "%s",
            rx->challenge->message);
  zcp__envelope_free(rx);
  close(fd);
  /* And the right client gets in. */
  cr_assert_eq(open_client(1, 0xabc, key, &c, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(ping(c, &err), ZCP_OK, "%s", err.message);
  zcp__rpc_client_close(c);
}

Test(rpc_server, serves_without_authentication_when_both_say_so) {
  start_server(false, 5000);
  struct zcp__rpc_client *c = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(open_client(1, 0xabc, key, &c, &err), ZCP_AUTH_FAILED, "key refused");
  cr_assert_eq(open_client(1, 0xabc, NULL, &c, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(ping(c, &err), ZCP_OK, "%s", err.message);
  /* A handler's error comes back with its status and message. */
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  Zcpool__Free f = ZCPOOL__FREE__INIT;
  req.call_case = ZCPOOL__REQUEST__CALL_FREE;
  req.free = &f;
  cr_assert_eq(zcp__rpc_call(c, &req, 2000, NULL, &err), ZCP_NOT_FOUND);
  cr_assert_str_eq(err.message, "nothing here");
  zcp__rpc_client_close(c);
}

struct setter {
  int delay_ms;
  uint64_t value;
};

static void *set_later(void *arg) {
  struct setter *s = arg;
  usleep((useconds_t)s->delay_ms * 1000);
  zcp__rpc_server_set_state(srv, ZCPOOL__STATE_WORD__STATE_USER, s->value, s->value);
  return NULL;
}

Test(rpc_server, waits_are_answered_when_the_word_changes_or_at_their_deadline) {
  start_server(true, 5000);
  struct zcp__rpc_client *c = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(open_client(1, 0xabc, key, &c, &err), ZCP_OK, "%s", err.message);
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  Zcpool__WaitState ws = ZCPOOL__WAIT_STATE__INIT;
  ws.value = 4;
  ws.mask = 4;
  req.call_case = ZCPOOL__REQUEST__CALL_WAIT_STATE;
  req.wait_state = &ws;
  pthread_t t;
  struct setter s = {100, 4};
  pthread_create(&t, NULL, set_later, &s);
  int64_t t0 = zcp__now_ms();
  Zcpool__Response *resp = NULL;
  cr_assert_eq(zcp__rpc_call(c, &req, 5000, &resp, &err), ZCP_OK, "%s", err.message);
  int64_t took = zcp__now_ms() - t0;
  pthread_join(t, NULL);
  cr_assert_geq(took, 90);
  cr_assert_lt(took, 1000, "answered %lld ms after the change", (long long)took);
  cr_assert_eq(resp->state->word, 4u);
  zcpool__response__free_unpacked(resp, NULL);
  /* At least: a counter that went past the value satisfies it. */
  zcp__rpc_server_set_state(srv, ZCPOOL__STATE_WORD__STATE_BARRIER, 7, UINT64_MAX);
  ws.word = ZCPOOL__STATE_WORD__STATE_BARRIER;
  ws.condition = ZCPOOL__WAIT_CONDITION__WAIT_AT_LEAST;
  ws.value = 5;
  ws.mask = UINT64_MAX;
  cr_assert_eq(zcp__rpc_call(c, &req, 1000, NULL, &err), ZCP_OK, "%s", err.message);
  /* A condition that never holds: the server answers a timeout at the deadline. */
  ws.value = 9;
  t0 = zcp__now_ms();
  cr_assert_eq(zcp__rpc_call(c, &req, 300, NULL, &err), ZCP_TIMEOUT);
  cr_assert_lt(zcp__now_ms() - t0, 1000);
  /* Local waits too. */
  uint64_t seen = 0;
  cr_assert_eq(
      zcp__rpc_server_wait_state(srv, ZCPOOL__STATE_WORD__STATE_USER, 4, 4,
                                 ZCPOOL__WAIT_CONDITION__WAIT_EQUAL, 100, &seen, &err),
      ZCP_OK);
  cr_assert_eq(
      zcp__rpc_server_wait_state(srv, ZCPOOL__STATE_WORD__STATE_USER, 8, 8,
                                 ZCPOOL__WAIT_CONDITION__WAIT_EQUAL, 100, &seen, &err),
      ZCP_TIMEOUT);
  cr_assert(strstr(err.message, "0x4") != NULL, "%s", err.message);
  zcp__rpc_client_close(c);
}

Test(rpc_server, drops_a_client_that_falls_silent) {
  start_server(true, 300);
  struct zcp__rpc_client *c = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(open_client(1, 0xabc, key, &c, &err), ZCP_OK, "%s", err.message);
  usleep(600 * 1000); /* no monitor, no heartbeats */
  cr_assert_eq(ping(c, &err), ZCP_PEER_DOWN, "%s", err.message);
  zcp__rpc_client_close(c);
}

static atomic_int downs;
static void on_down(void *ctx, int32_t peer, const char *why) {
  atomic_fetch_add(&downs, 1);
}

/* A client of the test server that pings when quiet for heartbeat_ms. With monitor on it
 * declares the server down after down_after_ms (on_down counts it) and is waited up. */
static struct zcp__rpc_client *heartbeat_client(int heartbeat_ms, int down_after_ms,
                                                int max_outstanding, bool monitor) {
  struct zcp__rpc_client_options co = {0};
  co.address = addr;
  co.peer_node = 0;
  co.cluster_id = 0xabc;
  co.node = 1;
  co.epoch = 9;
  co.key = key;
  co.max_frame = 1 << 16;
  co.max_outstanding = max_outstanding;
  co.heartbeat_ms = heartbeat_ms;
  co.down_after_ms = down_after_ms;
  co.connect_ms = 1000;
  co.monitor = monitor;
  if (monitor) co.on_down = on_down;
  struct zcp__rpc_client *c = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp__rpc_client_open(&co, &c, &err), ZCP_OK, "%s", err.message);
  if (monitor) cr_assert(zcp__rpc_client_wait_up(c, 5000), "the client never came up");
  return c;
}

/* Down after 5 quiet heartbeats. */
static struct zcp__rpc_client *monitored_client(int heartbeat_ms, int max_outstanding) {
  return heartbeat_client(heartbeat_ms, 5 * heartbeat_ms, max_outstanding, true);
}

static void start_flush(struct zcp__rpc_client *c, struct zcp__rpc_call *call) {
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  Zcpool__Flush f = ZCPOOL__FLUSH__INIT;
  req.call_case = ZCPOOL__REQUEST__CALL_FLUSH;
  req.flush = &f;
  struct zcp_error err = {0};
  *call = (struct zcp__rpc_call){0};
  cr_assert_eq(zcp__rpc_call_start(c, &req, 25000, call, &err), ZCP_OK, "%s",
               err.message);
  cr_assert(hold_wait_entered(5000), "the Flush never reached the handler");
}

static zcp_status_t start_free(struct zcp__rpc_client *c, int64_t offset,
                               struct zcp__rpc_call *call) {
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  Zcpool__Free f = ZCPOOL__FREE__INIT;
  f.offset = offset;
  req.call_case = ZCPOOL__REQUEST__CALL_FREE;
  req.free = &f;
  *call = (struct zcp__rpc_call){0};
  return zcp__rpc_call_start(c, &req, 10000, call, NULL);
}

Test(rpc_server, heartbeats_are_answered_while_a_long_call_of_the_connection_runs) {
  hold_reset();
  atomic_store(&downs, 0);
  start_server(true, 5000);
  struct zcp__rpc_client *c = monitored_client(100, 8);
  struct zcp__rpc_call flush;
  start_flush(c, &flush);
  /* The call stays in the handler for four times down_after_ms; heartbeats go out on
   * the same connection all along. */
  usleep(4 * 500 * 1000);
  cr_assert_eq(atomic_load(&downs), 0, "a peer busy with one call was declared down");
  cr_assert_eq(zcp__rpc_client_state(c), ZCP_PEER_STATE_UP);
  struct zcp_error err = {0};
  cr_assert_eq(ping(c, &err), ZCP_OK, "%s", err.message);
  cr_assert(hold_still_in(), "the Ping was answered only after the long call");
  /* And the long call's answer arrives once it is done. */
  hold_release();
  Zcpool__Response *resp = NULL;
  cr_assert_eq(zcp__rpc_call_finish(&flush, &resp, &err), ZCP_OK, "%s", err.message);
  cr_assert_str_eq(resp->message, "flushed");
  zcpool__response__free_unpacked(resp, NULL);
  cr_assert_eq(atomic_load(&downs), 0);
  zcp__rpc_client_close(c);
}

Test(rpc_server, calls_of_a_connection_are_served_in_order_and_a_full_queue_is_busy) {
  hold_reset();
  start_server(true, 5000); /* max_outstanding 8 */
  struct zcp_error err = {0};
  /* max_outstanding 16: more than the server queues. */
  struct zcp__rpc_client *c = heartbeat_client(100, 1000, 16, false);
  struct zcp__rpc_call flush, frees[9];
  start_flush(c, &flush);
  /* The worker is held: eight calls wait in its queue, the ninth finds it full. */
  for (int i = 0; i < 9; i++)
    cr_assert_eq(start_free(c, 100 + i, &frees[i]), ZCP_OK, "call %d not sent", i);
  cr_assert_eq(zcp__rpc_call_finish(&frees[8], NULL, &err), ZCP_BUSY, "%s", err.message);
  cr_assert(strstr(err.message, "8 requests") != NULL && strstr(err.message, "Free"),
            "%s", err.message);
  cr_assert_geq(atomic_load(&zcp__rpc_server_counters(srv)->busy), 1);
  cr_assert_eq(ping(c, &err), ZCP_OK, "a full queue holds up a Ping: %s", err.message);
  cr_assert(hold_still_in());
  hold_release();
  cr_assert_eq(zcp__rpc_call_finish(&flush, NULL, &err), ZCP_OK, "%s", err.message);
  for (int i = 0; i < 8; i++)
    cr_assert_eq(zcp__rpc_call_finish(&frees[i], NULL, &err), ZCP_NOT_FOUND, "%s",
                 err.message);
  pthread_mutex_lock(&hold_mu);
  int n = n_freed;
  int64_t got[16];
  memcpy(got, freed, sizeof got);
  pthread_mutex_unlock(&hold_mu);
  cr_assert_eq(n, 8, "the handler saw %d Free calls", n);
  for (int i = 0; i < 8; i++)
    cr_assert_eq(got[i], 100 + i, "call %d served as number %d", (int)got[i] - 100, i);
  zcp__rpc_client_close(c);
}

Test(rpc_server, a_connection_closed_during_a_long_call_ends_cleanly) {
  hold_reset();
  start_server(true, 5000);
  struct zcp__rpc_client *c = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(open_client(1, 0xabc, key, &c, &err), ZCP_OK, "%s", err.message);
  struct zcp__rpc_call flush, frees[3];
  start_flush(c, &flush);
  for (int i = 0; i < 3; i++) cr_assert_eq(start_free(c, i, &frees[i]), ZCP_OK);
  /* The client goes away with one call in the handler and three queued; the worker is
   * ended and the queue dropped once the call returns (ASan checks the teardown). */
  zcp__rpc_client_close(c);
  hold_release();
  /* The server goes on serving others, on a new connection of the same node too. */
  cr_assert_eq(open_client(1, 0xabc, key, &c, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(ping(c, &err), ZCP_OK, "%s", err.message);
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  Zcpool__Free f = ZCPOOL__FREE__INIT;
  req.call_case = ZCPOOL__REQUEST__CALL_FREE;
  req.free = &f;
  cr_assert_eq(zcp__rpc_call(c, &req, 5000, NULL, &err), ZCP_NOT_FOUND, "%s",
               err.message);
  zcp__rpc_client_close(c);
}
