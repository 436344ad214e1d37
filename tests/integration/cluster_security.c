/* The control plane under attack. For every call: a frame sent without credentials, a
 * handshake with the wrong key, a replayed frame, an oversized frame and garbage bytes
 * are each rejected, counted in the node's status, have no effect, and the node still
 * answers a correct client. Limits (outstanding requests, quota, frame size) answer with
 * typed errors and the node keeps serving. The attacker is this process speaking the
 * wire protocol by hand; the node under attack is node 0, opened here. */
#define _GNU_SOURCE 1
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc/rpc.h"
#include "zcp_cluster_test.h"

static struct zcp_test_cluster tc;
static struct zcp_config *cfg;
static struct zcp_config_node node0; /* its strings belong to cfg */
static struct zcp_node *node;
static uint8_t key[ZCP_KEY_SIZE];
static struct zcp__rpc_client *good;

static void setup(void) {
  zcp_test_cluster_write(
      &tc, 2, false, false, false,
      &(struct zcp_test_keys){
          .max_frame = 64 << 10, .max_outstanding = 4, .quota = 1 << 20});
  struct zcp_error err = {0};
  cr_assert_eq(zcp_config_load(tc.config, &cfg, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_config_get_node(cfg, 0, &node0, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_cluster_key_load(zcp_config_key_file(cfg), key, &err), ZCP_OK, "%s",
               err.message);
  cr_assert_eq(zcp_node_open(cfg, 0, &node, &err), ZCP_OK, "%s", err.message);
  /* The correct client: node 1's identity and key. */
  struct zcp__rpc_client_options co = {0};
  co.address = node0.address;
  co.peer_node = 0;
  co.cluster_id = zcp_config_id(cfg);
  co.node = 1;
  co.epoch = 42;
  co.key = key;
  co.max_frame = zcp_config_max_frame(cfg);
  co.max_outstanding = 4;
  co.heartbeat_ms = 100;
  co.down_after_ms = 2000;
  co.connect_ms = 2000;
  co.monitor = true; /* heartbeats keep it connected through slow tests */
  cr_assert_eq(zcp__rpc_client_open(&co, &good, &err), ZCP_OK, "%s", err.message);
  cr_assert(zcp__rpc_client_wait_up(good, 5000), "the correct client cannot connect");
}

static void teardown(void) {
  zcp__rpc_client_close(good);
  good = NULL;
  zcp_node_close(node);
  node = NULL;
  zcp_config_free(cfg);
  cfg = NULL;
  zcp_test_cluster_cleanup(&tc);
}

TestSuite(cluster_security, .init = setup, .fini = teardown, .timeout = 60);

static const int CALLS[] = {
    ZCPOOL__REQUEST__CALL_PING,      ZCPOOL__REQUEST__CALL_MALLOC,
    ZCPOOL__REQUEST__CALL_REALLOC,   ZCPOOL__REQUEST__CALL_FREE,
    ZCPOOL__REQUEST__CALL_FLUSH,     ZCPOOL__REQUEST__CALL_SET_STATE,
    ZCPOOL__REQUEST__CALL_WAIT_STATE};
#define N_CALLS ((int)(sizeof CALLS / sizeof *CALLS))

/* Storage for one request of each kind. */
struct call_msg {
  Zcpool__Request req;
  Zcpool__RequestHeader hdr;
  Zcpool__Ping ping;
  Zcpool__Malloc malloc_;
  Zcpool__Realloc realloc_;
  Zcpool__Free free_;
  Zcpool__Flush flush;
  Zcpool__SetState set_state;
  Zcpool__WaitState wait_state;
};

static void make_call(struct call_msg *m, int call, uint64_t rid) {
  *m = (struct call_msg){
      ZCPOOL__REQUEST__INIT, ZCPOOL__REQUEST_HEADER__INIT, ZCPOOL__PING__INIT,
      ZCPOOL__MALLOC__INIT,  ZCPOOL__REALLOC__INIT,        ZCPOOL__FREE__INIT,
      ZCPOOL__FLUSH__INIT,   ZCPOOL__SET_STATE__INIT,      ZCPOOL__WAIT_STATE__INIT};
  m->hdr.client_node = 1;
  m->hdr.client_epoch = 42;
  m->hdr.request_id = rid;
  m->hdr.timeout_ms = 200;
  m->req.header = &m->hdr;
  m->req.call_case = (Zcpool__Request__CallCase)call;
  m->malloc_.size = 4096;
  m->realloc_.size = 8192;
  m->set_state.value = 0xbad;
  m->set_state.mask = 0xfff;
  m->wait_state.value = 0xbad;
  m->wait_state.mask = 0xfff;
  switch (call) {
    case ZCPOOL__REQUEST__CALL_PING:
      m->req.ping = &m->ping;
      break;
    case ZCPOOL__REQUEST__CALL_MALLOC:
      m->req.malloc = &m->malloc_;
      break;
    case ZCPOOL__REQUEST__CALL_REALLOC:
      m->req.realloc = &m->realloc_;
      break;
    case ZCPOOL__REQUEST__CALL_FREE:
      m->req.free = &m->free_;
      break;
    case ZCPOOL__REQUEST__CALL_FLUSH:
      m->req.flush = &m->flush;
      break;
    case ZCPOOL__REQUEST__CALL_SET_STATE:
      m->req.set_state = &m->set_state;
      break;
    default:
      m->req.wait_state = &m->wait_state;
      break;
  }
}

/* A whole frame for env, sealed by d, into buf; returns its length. */
static size_t frame_bytes(struct zcp__auth_dir *d, Zcpool__Request *req, uint8_t *buf) {
  Zcpool__Envelope env = ZCPOOL__ENVELOPE__INIT;
  env.kind_case = ZCPOOL__ENVELOPE__KIND_REQUEST;
  env.request = req;
  size_t len = zcpool__envelope__pack(&env, buf + ZCP_FRAME_HEADER_SIZE);
  struct zcp__frame_header h = {
      ZCP_FRAME_MAGIC, ZCP_FRAME_VERSION, 0, (uint32_t)len, 0, 0, {0}};
  zcp__auth_seal(d, &h, buf + ZCP_FRAME_HEADER_SIZE, len);
  zcp__frame_header_encode(&h, buf);
  return len + ZCP_FRAME_HEADER_SIZE;
}

/* The handshake by hand, proving with secret (right or wrong). */
static zcp_status_t raw_connect(const uint8_t *secret, int *fd, struct zcp__auth_dir *in,
                                struct zcp__auth_dir *out) {
  memset(in, 0, sizeof *in);
  memset(out, 0, sizeof *out);
  cr_assert_eq(zcp__sock_connect(node0.address, 2000, fd, NULL), ZCP_OK);
  uint8_t cn[ZCP_NONCE_SIZE];
  zcp__auth_random(cn, sizeof cn);
  Zcpool__Hello h = ZCPOOL__HELLO__INIT;
  h.protocol_version = ZCP_RPC_PROTOCOL_VERSION;
  h.cluster_id = zcp_config_id(cfg);
  h.node = 1;
  h.epoch = 42;
  h.auth = true;
  h.nonce.data = cn;
  h.nonce.len = sizeof cn;
  Zcpool__Envelope env = ZCPOOL__ENVELOPE__INIT;
  env.kind_case = ZCPOOL__ENVELOPE__KIND_HELLO;
  env.hello = &h;
  cr_assert_eq(zcp__frame_send(*fd, out, &env, 2000, NULL, NULL), ZCP_OK);
  Zcpool__Envelope *rx = NULL;
  cr_assert_eq(zcp__frame_recv(*fd, in, 1 << 20, 2000, &rx, NULL, NULL), ZCP_OK);
  cr_assert_eq(rx->kind_case, ZCPOOL__ENVELOPE__KIND_CHALLENGE);
  cr_assert_eq(rx->challenge->status, 0, "%s", rx->challenge->message);
  uint8_t sn[ZCP_NONCE_SIZE], proof[ZCP_KEY_SIZE];
  memcpy(sn, rx->challenge->nonce.data, sizeof sn);
  zcp__envelope_free(rx);
  zcp__auth_proof(secret, "client", cn, sn, zcp_config_id(cfg), proof);
  Zcpool__Proof p = ZCPOOL__PROOF__INIT;
  p.proof.data = proof;
  p.proof.len = sizeof proof;
  env.kind_case = ZCPOOL__ENVELOPE__KIND_PROOF;
  env.proof = &p;
  cr_assert_eq(zcp__frame_send(*fd, out, &env, 2000, NULL, NULL), ZCP_OK);
  zcp__auth_session(secret, cn, sn, out->key, in->key);
  in->on = out->on = true;
  zcp_status_t st = zcp__frame_recv(*fd, in, 1 << 20, 2000, &rx, NULL, NULL);
  if (st == ZCP_OK) {
    cr_assert_eq(rx->kind_case, ZCPOOL__ENVELOPE__KIND_WELCOME);
    zcp__envelope_free(rx);
  }
  return st;
}

/* Reads one response within ms; ZCP_TIMEOUT when none comes, ZCP_PEER_DOWN on close. */
static zcp_status_t raw_response(int fd, struct zcp__auth_dir *in, int ms,
                                 Zcpool__Response **resp) {
  Zcpool__Envelope *rx = NULL;
  zcp_status_t st = zcp__frame_recv(fd, in, 1 << 20, ms, &rx, NULL, NULL);
  if (st != ZCP_OK) return st;
  cr_assert_eq(rx->kind_case, ZCPOOL__ENVELOPE__KIND_RESPONSE);
  *resp = rx->response;
  rx->kind_case = ZCPOOL__ENVELOPE__KIND__NOT_SET;
  zcp__envelope_free(rx);
  return ZCP_OK;
}

static void good_client_answers(void) {
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  Zcpool__Ping ping = ZCPOOL__PING__INIT;
  req.call_case = ZCPOOL__REQUEST__CALL_PING;
  req.ping = &ping;
  struct zcp_error err = {0};
  cr_assert_eq(zcp__rpc_call(good, &req, 2000, NULL, &err), ZCP_OK, "%s", err.message);
}

/* No effect: no block granted, state word untouched. */
static void nothing_happened(void) {
  struct zcp_node_status st;
  zcp_node_status(node, &st);
  cr_assert_eq(st.live_blocks, 0);
  cr_assert_eq(zcp_node_get_state(node), 0u);
}

static struct zcp_node_status status(void) {
  struct zcp_node_status st;
  zcp_node_status(node, &st);
  return st;
}

Test(cluster_security, calls_without_credentials_are_dropped_and_counted) {
  for (int i = 0; i < N_CALLS; i++) {
    int64_t before = status().frames_auth_failed;
    int fd;
    cr_assert_eq(zcp__sock_connect(node0.address, 2000, &fd, NULL), ZCP_OK);
    struct zcp__auth_dir none = {0};
    struct call_msg m;
    make_call(&m, CALLS[i], 1);
    uint8_t buf[1024];
    size_t n = frame_bytes(&none, &m.req, buf);
    cr_assert_eq(write(fd, buf, n), (ssize_t)n);
    /* No answer to the call: at most a refusal, then the connection closes. */
    Zcpool__Envelope *rx = NULL;
    struct zcp__auth_dir in = {0};
    zcp_status_t st = zcp__frame_recv(fd, &in, 1 << 20, 2000, &rx, NULL, NULL);
    if (st == ZCP_OK) {
      cr_assert_eq(rx->kind_case, ZCPOOL__ENVELOPE__KIND_CHALLENGE, "%s",
                   zcp__rpc_call_name(CALLS[i]));
      cr_assert_eq(rx->challenge->status, ZCP_AUTH_FAILED);
      zcp__envelope_free(rx);
    }
    close(fd);
    cr_assert_gt(status().frames_auth_failed, before, "%s not counted",
                 zcp__rpc_call_name(CALLS[i]));
    nothing_happened();
    good_client_answers();
  }
  /* A Hello that declines to authenticate is refused too. */
  int fd;
  cr_assert_eq(zcp__sock_connect(node0.address, 2000, &fd, NULL), ZCP_OK);
  Zcpool__Hello h = ZCPOOL__HELLO__INIT;
  h.protocol_version = ZCP_RPC_PROTOCOL_VERSION;
  h.cluster_id = zcp_config_id(cfg);
  h.node = 1;
  h.epoch = 42;
  Zcpool__Envelope env = ZCPOOL__ENVELOPE__INIT;
  env.kind_case = ZCPOOL__ENVELOPE__KIND_HELLO;
  env.hello = &h;
  struct zcp__auth_dir none = {0}, in = {0};
  cr_assert_eq(zcp__frame_send(fd, &none, &env, 2000, NULL, NULL), ZCP_OK);
  Zcpool__Envelope *rx = NULL;
  cr_assert_eq(zcp__frame_recv(fd, &in, 1 << 20, 2000, &rx, NULL, NULL), ZCP_OK);
  cr_assert_eq(rx->challenge->status, ZCP_AUTH_FAILED);
  cr_assert(strstr(rx->challenge->message, "authentication") != NULL, "%s",
            rx->challenge->message);
  zcp__envelope_free(rx);
  close(fd);
}

Test(cluster_security, wrong_key_fails_the_handshake_for_every_call) {
  uint8_t wrong[ZCP_KEY_SIZE];
  memcpy(wrong, key, sizeof wrong);
  wrong[7] ^= 0x40;
  for (int i = 0; i < N_CALLS; i++) {
    int64_t before = status().frames_auth_failed;
    int fd;
    struct zcp__auth_dir in, out;
    cr_assert_neq(raw_connect(wrong, &fd, &in, &out), ZCP_OK, "wrong key accepted");
    /* Whatever we send now under the wrong session key does nothing. */
    struct call_msg m;
    make_call(&m, CALLS[i], 1);
    uint8_t buf[1024];
    size_t n = frame_bytes(&out, &m.req, buf);
    ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
    (void)w;
    Zcpool__Response *resp = NULL;
    cr_assert_neq(raw_response(fd, &in, 300, &resp), ZCP_OK);
    close(fd);
    cr_assert_gt(status().frames_auth_failed, before);
    nothing_happened();
    good_client_answers();
  }
  /* And a client holding the wrong key refuses a server that cannot prove the right one;
   * the error says so. */
  struct zcp__rpc_client_options co = {0};
  co.address = node0.address;
  co.peer_node = 0;
  co.cluster_id = zcp_config_id(cfg);
  co.node = 1;
  co.epoch = 43;
  co.key = wrong;
  co.max_frame = zcp_config_max_frame(cfg);
  co.max_outstanding = 4;
  co.heartbeat_ms = 100;
  co.down_after_ms = 1000;
  co.connect_ms = 1000;
  struct zcp__rpc_client *c = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp__rpc_client_open(&co, &c, &err), ZCP_AUTH_FAILED, "%s", err.message);
  cr_assert(strstr(err.message, "key") != NULL, "%s", err.message);
}

Test(cluster_security, replayed_frames_are_dropped_for_every_call) {
  int fd;
  struct zcp__auth_dir in, out;
  cr_assert_eq(raw_connect(key, &fd, &in, &out), ZCP_OK);
  for (int i = 0; i < N_CALLS; i++) {
    struct call_msg m;
    make_call(&m, CALLS[i], 100 + (uint64_t)i);
    uint8_t buf[1024];
    size_t n = frame_bytes(&out, &m.req, buf);
    cr_assert_eq(write(fd, buf, n), (ssize_t)n);
    Zcpool__Response *resp = NULL;
    cr_assert_eq(raw_response(fd, &in, 2000, &resp), ZCP_OK);
    zcpool__response__free_unpacked(resp, NULL);
    struct zcp_node_status before = status();
    uint64_t word = zcp_node_get_state(node);
    /* The same bytes again: dropped and counted, not answered, no effect. */
    cr_assert_eq(write(fd, buf, n), (ssize_t)n);
    cr_assert_eq(raw_response(fd, &in, 300, &resp), ZCP_TIMEOUT, "%s replay answered",
                 zcp__rpc_call_name(CALLS[i]));
    struct zcp_node_status after = status();
    cr_assert_eq(after.frames_replayed, before.frames_replayed + 1);
    cr_assert_eq(after.live_blocks, before.live_blocks);
    cr_assert_eq(zcp_node_get_state(node), word);
    good_client_answers();
  }
  /* The connection itself still works for the next genuine frame. */
  struct call_msg m;
  make_call(&m, ZCPOOL__REQUEST__CALL_PING, 200);
  uint8_t buf[1024];
  size_t n = frame_bytes(&out, &m.req, buf);
  cr_assert_eq(write(fd, buf, n), (ssize_t)n);
  Zcpool__Response *resp = NULL;
  cr_assert_eq(raw_response(fd, &in, 2000, &resp), ZCP_OK);
  cr_assert_eq(resp->request_id, 200u);
  zcpool__response__free_unpacked(resp, NULL);
  close(fd);
}

Test(cluster_security, tampered_frames_are_dropped_for_every_call) {
  int fd;
  struct zcp__auth_dir in, out;
  cr_assert_eq(raw_connect(key, &fd, &in, &out), ZCP_OK);
  for (int i = 0; i < N_CALLS; i++) {
    struct call_msg m;
    make_call(&m, CALLS[i], 300 + (uint64_t)i);
    uint8_t buf[1024];
    size_t n = frame_bytes(&out, &m.req, buf);
    buf[n - 1] ^= 1; /* one payload bit */
    int64_t before = status().frames_auth_failed;
    cr_assert_eq(write(fd, buf, n), (ssize_t)n);
    Zcpool__Response *resp = NULL;
    cr_assert_eq(raw_response(fd, &in, 300, &resp), ZCP_TIMEOUT);
    cr_assert_eq(status().frames_auth_failed, before + 1);
    nothing_happened();
  }
  close(fd);
  good_client_answers();
}

Test(cluster_security, oversized_and_garbage_frames_close_only_that_connection) {
  for (int i = 0; i < N_CALLS; i++) {
    int fd;
    struct zcp__auth_dir in, out;
    cr_assert_eq(raw_connect(key, &fd, &in, &out), ZCP_OK);
    /* A genuine request whose header claims more than max_frame. */
    struct call_msg m;
    make_call(&m, CALLS[i], 400 + (uint64_t)i);
    uint8_t buf[1024];
    frame_bytes(&out, &m.req, buf);
    buf[8] = 0;
    buf[9] = 0;
    buf[10] = 0x10; /* 1 MiB > 64 KiB */
    int64_t before = status().frames_oversized;
    cr_assert_eq(write(fd, buf, ZCP_FRAME_HEADER_SIZE), ZCP_FRAME_HEADER_SIZE);
    Zcpool__Response *resp = NULL;
    cr_assert_eq(raw_response(fd, &in, 2000, &resp), ZCP_PEER_DOWN, "connection kept");
    close(fd);
    cr_assert_eq(status().frames_oversized, before + 1);
    /* Garbage after a good handshake. */
    cr_assert_eq(raw_connect(key, &fd, &in, &out), ZCP_OK);
    before = status().frames_garbage;
    uint8_t junk[200];
    zcp__auth_random(junk, sizeof junk);
    cr_assert_eq(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
    cr_assert_eq(raw_response(fd, &in, 2000, &resp), ZCP_PEER_DOWN);
    close(fd);
    cr_assert_eq(status().frames_garbage, before + 1);
    nothing_happened();
    good_client_answers();
  }
  /* Garbage instead of a Hello. */
  int fd;
  cr_assert_eq(zcp__sock_connect(node0.address, 2000, &fd, NULL), ZCP_OK);
  const char *tls = "\x16\x03\x01 this is not zcpool at all ..................";
  cr_assert_eq(write(fd, tls, strlen(tls)), (ssize_t)strlen(tls));
  struct zcp__auth_dir in = {0};
  Zcpool__Response *resp = NULL;
  cr_assert_eq(raw_response(fd, &in, 2000, &resp), ZCP_PEER_DOWN);
  close(fd);
  good_client_answers();
}

Test(cluster_security, limits_give_typed_errors_and_the_node_keeps_serving) {
  struct zcp_error err = {0};
  /* Quota: 1 MiB per peer. */
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  Zcpool__Malloc m = ZCPOOL__MALLOC__INIT;
  m.size = 2 << 20;
  req.call_case = ZCPOOL__REQUEST__CALL_MALLOC;
  req.malloc = &m;
  cr_assert_eq(zcp__rpc_call(good, &req, 2000, NULL, &err), ZCP_NO_SPACE, "%s",
               err.message);
  cr_assert(
      strstr(err.message, "node 0") != NULL && strstr(err.message, "node 1") != NULL,
      "%s", err.message);
  /* A request claiming another node's identity. */
  int fd;
  struct zcp__auth_dir in, out;
  cr_assert_eq(raw_connect(key, &fd, &in, &out), ZCP_OK);
  struct call_msg cm;
  make_call(&cm, ZCPOOL__REQUEST__CALL_MALLOC, 7);
  cm.hdr.client_node = 0;
  uint8_t buf[1024];
  size_t n = frame_bytes(&out, &cm.req, buf);
  cr_assert_eq(write(fd, buf, n), (ssize_t)n);
  Zcpool__Response *resp = NULL;
  cr_assert_eq(raw_response(fd, &in, 2000, &resp), ZCP_OK);
  cr_assert_eq(resp->status, ZCP_INVALID_ARGUMENT, "%s", resp->message);
  zcpool__response__free_unpacked(resp, NULL);
  /* Outstanding requests: the server keeps 4 waits per connection; the 5th is busy. */
  for (int i = 0; i < 5; i++) {
    make_call(&cm, ZCPOOL__REQUEST__CALL_WAIT_STATE, 10 + (uint64_t)i);
    cm.hdr.timeout_ms = 3000;
    n = frame_bytes(&out, &cm.req, buf);
    cr_assert_eq(write(fd, buf, n), (ssize_t)n);
  }
  cr_assert_eq(raw_response(fd, &in, 2000, &resp), ZCP_OK);
  cr_assert_eq(resp->request_id, 14u);
  cr_assert_eq(resp->status, ZCP_BUSY, "%s", resp->message);
  zcpool__response__free_unpacked(resp, NULL);
  cr_assert_geq(status().requests_busy, 1);
  good_client_answers();
  /* Setting the word answers the four waits at once, no polling. */
  zcp_node_set_state(node, 0xbad, 0xfff);
  for (int i = 0; i < 4; i++) {
    cr_assert_eq(raw_response(fd, &in, 1000, &resp), ZCP_OK);
    cr_assert_eq(resp->status, 0, "%s", resp->message);
    cr_assert_eq(resp->state->word, 0xbadu);
    zcpool__response__free_unpacked(resp, NULL);
  }
  close(fd);
  /* Client side: at most 4 calls in flight to one peer. */
  struct zcp__rpc_call calls[5];
  Zcpool__WaitState ws = ZCPOOL__WAIT_STATE__INIT;
  ws.value = 0x1000;
  ws.mask = 0x1000;
  req.call_case = ZCPOOL__REQUEST__CALL_WAIT_STATE;
  req.wait_state = &ws;
  for (int i = 0; i < 4; i++) {
    calls[i].request_id = 0;
    cr_assert_eq(zcp__rpc_call_start(good, &req, 2000, &calls[i], &err), ZCP_OK, "%s",
                 err.message);
  }
  calls[4].request_id = 0;
  cr_assert_eq(zcp__rpc_call_start(good, &req, 2000, &calls[4], &err), ZCP_BUSY);
  cr_assert(strstr(err.message, "outstanding") != NULL, "%s", err.message);
  zcp_node_set_state(node, 0x1000, 0x1000);
  for (int i = 0; i < 4; i++)
    cr_assert_eq(zcp__rpc_call_finish(&calls[i], NULL, &err), ZCP_OK, "%s", err.message);
}

Test(cluster_security, retried_requests_are_answered_idempotently) {
  int fd;
  struct zcp__auth_dir in, out;
  cr_assert_eq(raw_connect(key, &fd, &in, &out), ZCP_OK);
  int64_t offs[2];
  for (int k = 0; k < 2; k++) {
    struct call_msg m;
    make_call(&m, ZCPOOL__REQUEST__CALL_MALLOC, 77); /* same request id twice */
    uint8_t buf[1024];
    size_t n = frame_bytes(&out, &m.req, buf);
    cr_assert_eq(write(fd, buf, n), (ssize_t)n);
    Zcpool__Response *resp = NULL;
    cr_assert_eq(raw_response(fd, &in, 2000, &resp), ZCP_OK);
    cr_assert_eq(resp->status, 0, "%s", resp->message);
    offs[k] = resp->alloc->offset;
    zcpool__response__free_unpacked(resp, NULL);
  }
  cr_assert_eq(offs[0], offs[1], "a retry got a second block");
  cr_assert_eq(status().live_blocks, 1);
  close(fd);
}

static zcp_status_t flush(uint64_t address, int64_t length, struct zcp_error *err) {
  Zcpool__Range range = ZCPOOL__RANGE__INIT;
  range.address = address;
  range.length = length;
  Zcpool__Range *ranges[1] = {&range};
  Zcpool__Flush f = ZCPOOL__FLUSH__INIT;
  f.ranges = ranges;
  f.n_ranges = 1;
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  req.call_case = ZCPOOL__REQUEST__CALL_FLUSH;
  req.flush = &f;
  return zcp__rpc_call(good, &req, 2000, NULL, err);
}

Test(cluster_security, flush_accepts_only_ranges_the_caller_holds) {
  struct zcp_error err = {0};
  void *data = NULL;
  int64_t size = 0;
  cr_assert_eq(zcp_node_region_data(node, 0, &data, &size, &err), ZCP_OK);
  uint64_t base = (uint64_t)(uintptr_t)data;
  /* Node 1 (the correct client) takes a block... */
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  Zcpool__Malloc m = ZCPOOL__MALLOC__INIT;
  m.size = 4096;
  req.call_case = ZCPOOL__REQUEST__CALL_MALLOC;
  req.malloc = &m;
  Zcpool__Response *resp = NULL;
  cr_assert_eq(zcp__rpc_call(good, &req, 2000, &resp, &err), ZCP_OK, "%s", err.message);
  int64_t off = resp->alloc->offset;
  zcpool__response__free_unpacked(resp, NULL);
  /* ...and may flush it, or part of it. */
  cr_assert_eq(flush(base + (uint64_t)off, 4096, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(flush(base + (uint64_t)off + 128, 256, &err), ZCP_OK, "%s", err.message);
  /* Not past its end, not a block of node 0's own, not outside every region. */
  cr_assert_eq(flush(base + (uint64_t)off, 4096 + 128, &err), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(err.message, "node 1") != NULL, "%s", err.message);
  struct zcp_allocator *local = NULL;
  cr_assert_eq(zcp_node_allocator(node, 0, &local, &err), ZCP_OK);
  void *mine = NULL;
  cr_assert_eq(local->allocate(local, 4096, 128, &mine, &err), ZCP_OK, "%s", err.message);
  cr_assert_not_null(mine);
  cr_assert_eq(flush((uint64_t)(uintptr_t)mine, 128, &err), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(flush(0x1000, 64, &err), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(err.message, "no region") != NULL, "%s", err.message);
  local->free(local, mine, 4096);
  /* Once freed, the block is no longer node 1's to flush. */
  Zcpool__Free fr = ZCPOOL__FREE__INIT;
  fr.offset = off;
  req.call_case = ZCPOOL__REQUEST__CALL_FREE;
  req.free = &fr;
  cr_assert_eq(zcp__rpc_call(good, &req, 2000, NULL, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(flush(base + (uint64_t)off, 128, &err), ZCP_INVALID_ARGUMENT);
}
