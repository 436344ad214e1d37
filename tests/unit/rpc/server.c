/* The server: refuses handshakes that cannot work (protocol version, cluster, node id,
 * authentication mode) with a reason; serves with authentication off when both sides
 * say so; answers waits when the word changes and at their deadline; drops clients that
 * fall silent. Server and clients run in this process. */
#define _GNU_SOURCE 1
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rpc/rpc.h"

static char addr[128];
static uint8_t key[ZCP_KEY_SIZE];
static struct zcp__rpc_server *srv;

static void handler(void *ctx, const struct zcp__rpc_peer *peer,
                    const Zcpool__Request *req, Zcpool__Response *resp) {
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
