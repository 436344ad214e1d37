/* The client: many threads share one connection and all get their own answers; a call
 * that is not answered ends at its deadline; a server that stops answering heartbeats
 * is declared down within down_after_ms and every call in flight fails at once; the
 * monitor reconnects when the server comes back; the outstanding-call limit is a typed
 * error. Server and client run in this process. */
#define _GNU_SOURCE 1
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rpc/rpc.h"

static char addr[128];
static uint8_t key[ZCP_KEY_SIZE];
static struct zcp__rpc_server *srv;
static atomic_int stall_ms; /* the handler sleeps this long */
static atomic_int ups, downs;
static atomic_ullong seen_ids[8]; /* request ids of Malloc calls, in order */
static atomic_int n_seen;

static void handler(void *ctx, const struct zcp__rpc_peer *peer,
                    const Zcpool__Request *req, Zcpool__Response *resp) {
  if (req->call_case == ZCPOOL__REQUEST__CALL_MALLOC) {
    int k = atomic_fetch_add(&n_seen, 1);
    if (k < 8) atomic_store(&seen_ids[k], req->header->request_id);
  }
  int ms = atomic_load(&stall_ms);
  if (ms > 0) usleep((useconds_t)ms * 1000);
  Zcpool__PingReply *p = malloc(sizeof *p);
  zcpool__ping_reply__init(p);
  if (req->call_case == ZCPOOL__REQUEST__CALL_PING) p->payload = req->ping->payload;
  resp->result_case = ZCPOOL__RESPONSE__RESULT_PING;
  resp->ping = p;
}

static void start_server(void) {
  struct zcp__rpc_server_options so = {0};
  so.address = addr;
  so.cluster_id = 0xabc;
  so.node = 0;
  so.epoch = 5;
  so.key = key;
  so.max_frame = 1 << 16;
  so.max_outstanding = 8;
  so.idle_ms = 5000;
  so.max_nodes = 2;
  so.handler = handler;
  struct zcp_error err = {0};
  cr_assert_eq(zcp__rpc_server_start(&so, &srv, &err), ZCP_OK, "%s", err.message);
}

static void setup(void) {
  snprintf(addr, sizeof addr, "unix:/tmp/zcp-cli-%d.sock", (int)getpid());
  cr_assert(zcp__auth_init());
  zcp__auth_random(key, sizeof key);
  atomic_store(&stall_ms, 0);
  start_server();
}

static void teardown(void) {
  atomic_store(&stall_ms, 0);
  zcp__rpc_server_stop(srv);
  srv = NULL;
}

TestSuite(rpc_client, .init = setup, .fini = teardown, .timeout = 30);

static void on_up(void *ctx, int32_t peer, const Zcpool__Challenge *ch) {
  cr_assert_eq(ch->epoch, 5u);
  atomic_fetch_add(&ups, 1);
}
static void on_down(void *ctx, int32_t peer, const char *why) {
  atomic_fetch_add(&downs, 1);
}

static struct zcp__rpc_client *client_hb(bool monitor, int max_outstanding, int hb) {
  struct zcp__rpc_client_options co = {0};
  co.address = addr;
  co.peer_node = 0;
  co.cluster_id = 0xabc;
  co.node = 1;
  co.epoch = 9;
  co.key = key;
  co.max_frame = 1 << 16;
  co.max_outstanding = max_outstanding;
  co.heartbeat_ms = hb;
  co.down_after_ms = hb * 8;
  co.connect_ms = 500;
  co.monitor = monitor;
  co.on_up = on_up;
  co.on_down = on_down;
  struct zcp__rpc_client *c = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp__rpc_client_open(&co, &c, &err), ZCP_OK, "%s", err.message);
  if (monitor) cr_assert(zcp__rpc_client_wait_up(c, 3000));
  return c;
}

static struct zcp__rpc_client *client(bool monitor, int max_outstanding) {
  return client_hb(monitor, max_outstanding, 50);
}

static zcp_status_t ping(struct zcp__rpc_client *c, uint32_t tag, int ms,
                         struct zcp_error *err) {
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  Zcpool__Ping p = ZCPOOL__PING__INIT;
  p.payload.data = (uint8_t *)&tag;
  p.payload.len = sizeof tag;
  req.call_case = ZCPOOL__REQUEST__CALL_PING;
  req.ping = &p;
  Zcpool__Response *resp = NULL;
  zcp_status_t st = zcp__rpc_call(c, &req, ms, &resp, err);
  if (st == ZCP_OK) {
    uint32_t back = 0;
    cr_assert_eq(resp->ping->payload.len, sizeof back);
    memcpy(&back, resp->ping->payload.data, sizeof back);
    cr_assert_eq(back, tag, "an answer went to the wrong caller");
  }
  if (resp != NULL) zcpool__response__free_unpacked(resp, NULL);
  return st;
}

struct worker {
  struct zcp__rpc_client *c;
  int id;
  int failures;
};

static void *work(void *arg) {
  struct worker *w = arg;
  for (int i = 0; i < 300; i++) {
    struct zcp_error err = {0};
    if (ping(w->c, (uint32_t)(w->id * 100000 + i), 5000, &err) != ZCP_OK) w->failures++;
  }
  return NULL;
}

Test(rpc_client, threads_share_one_connection_and_get_their_own_answers) {
  struct zcp__rpc_client *c = client(true, 8);
  pthread_t t[6];
  struct worker w[6];
  for (int i = 0; i < 6; i++) {
    w[i] = (struct worker){c, i, 0};
    pthread_create(&t[i], NULL, work, &w[i]);
  }
  for (int i = 0; i < 6; i++) {
    pthread_join(t[i], NULL);
    cr_assert_eq(w[i].failures, 0, "thread %d: %d calls failed", i, w[i].failures);
  }
  zcp__rpc_client_close(c);
}

Test(rpc_client, unanswered_call_ends_at_its_deadline) {
  struct zcp__rpc_client *c = client(false, 8);
  atomic_store(&stall_ms, 400);
  struct zcp_error err = {0};
  int64_t t0 = zcp__now_ms();
  cr_assert_eq(ping(c, 1, 100, &err), ZCP_TIMEOUT, "%s", err.message);
  int64_t took = zcp__now_ms() - t0;
  cr_assert_lt(took, 300, "%lld ms", (long long)took);
  cr_assert(strstr(err.message, "node 0") != NULL && strstr(err.message, "Ping") != NULL,
            "%s", err.message);
  atomic_store(&stall_ms, 0);
  /* The late answer is dropped as stale; the next call gets its own. */
  cr_assert_eq(ping(c, 2, 2000, &err), ZCP_OK, "%s", err.message);
  cr_assert_geq(atomic_load(&zcp__rpc_client_counters(c)->stale), 1);
  zcp__rpc_client_close(c);
}

Test(rpc_client, silent_server_is_declared_down_and_calls_fail_at_once) {
  atomic_store(&ups, 0);
  atomic_store(&downs, 0);
  struct zcp__rpc_client *c = client(true, 8);
  /* The monitor reports the connection right after it is made. */
  for (int i = 0; i < 200 && atomic_load(&ups) == 0; i++) usleep(5 * 1000);
  cr_assert_eq(atomic_load(&ups), 1);
  atomic_store(&stall_ms, 3000); /* heartbeats go unanswered */
  struct zcp_error err = {0};
  int64_t t0 = zcp__now_ms();
  cr_assert_eq(ping(c, 3, 10000, &err), ZCP_PEER_DOWN, "%s", err.message);
  int64_t took = zcp__now_ms() - t0;
  cr_assert_lt(took, 400 + 50 + 300, "declared down after %lld ms", (long long)took);
  /* Calls now fail without waiting. */
  t0 = zcp__now_ms();
  cr_assert_eq(ping(c, 4, 10000, &err), ZCP_PEER_DOWN);
  cr_assert_lt(zcp__now_ms() - t0, 50);
  atomic_store(&stall_ms, 0);
  zcp__rpc_client_close(c);
}

Test(rpc_client, reconnects_when_the_server_comes_back) {
  atomic_store(&ups, 0);
  atomic_store(&downs, 0);
  struct zcp__rpc_client *c = client(true, 8);
  struct zcp_error err = {0};
  cr_assert_eq(ping(c, 5, 2000, &err), ZCP_OK, "%s", err.message);
  zcp__rpc_server_stop(srv);
  srv = NULL;
  cr_assert_eq(ping(c, 6, 2000, &err), ZCP_PEER_DOWN, "%s", err.message);
  start_server();
  for (int i = 0; i < 300 && (zcp__rpc_client_state(c) != ZCP_PEER_STATE_UP ||
                              atomic_load(&ups) < 2);
       i++)
    usleep(10 * 1000);
  cr_assert_eq(ping(c, 7, 2000, &err), ZCP_OK, "%s", err.message);
  cr_assert_geq(atomic_load(&downs), 1);
  cr_assert_eq(atomic_load(&ups), 2);
  zcp__rpc_client_close(c);
}

Test(rpc_client, outstanding_limit_is_a_typed_error) {
  struct zcp__rpc_client *c = client(false, 2);
  atomic_store(&stall_ms, 200);
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  Zcpool__Ping p = ZCPOOL__PING__INIT;
  req.call_case = ZCPOOL__REQUEST__CALL_PING;
  req.ping = &p;
  struct zcp__rpc_call calls[3] = {0};
  struct zcp_error err = {0};
  cr_assert_eq(zcp__rpc_call_start(c, &req, 2000, &calls[0], &err), ZCP_OK);
  cr_assert_eq(zcp__rpc_call_start(c, &req, 2000, &calls[1], &err), ZCP_OK);
  cr_assert_eq(zcp__rpc_call_start(c, &req, 2000, &calls[2], &err), ZCP_BUSY);
  cr_assert(strstr(err.message, "2 requests already outstanding") != NULL, "%s",
            err.message);
  cr_assert_eq(zcp__rpc_call_finish(&calls[0], NULL, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp__rpc_call_finish(&calls[1], NULL, &err), ZCP_OK, "%s", err.message);
  calls[2].request_id = 0;
  cr_assert_eq(zcp__rpc_call_start(c, &req, 2000, &calls[2], &err), ZCP_OK,
               "slot reused");
  cr_assert_eq(zcp__rpc_call_finish(&calls[2], NULL, &err), ZCP_OK, "%s", err.message);
  zcp__rpc_client_close(c);
}

static void *restart_server(void *arg) {
  usleep(50 * 1000); /* the call is in the handler now */
  zcp__rpc_server_stop(srv);
  srv = NULL;
  start_server();
  return NULL;
}

Test(rpc_client, call_cut_off_by_a_reconnect_is_retried_with_the_same_id) {
  struct zcp__rpc_client *c = client_hb(true, 8, 400);
  atomic_store(&n_seen, 0);
  atomic_store(&stall_ms, 300);
  pthread_t t;
  pthread_create(&t, NULL, restart_server, NULL);
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  Zcpool__Malloc m = ZCPOOL__MALLOC__INIT;
  req.call_case = ZCPOOL__REQUEST__CALL_MALLOC;
  req.malloc = &m;
  struct zcp_error err = {0};
  zcp_status_t st = zcp__rpc_call(c, &req, 5000, NULL, &err);
  pthread_join(t, NULL);
  atomic_store(&stall_ms, 0);
  cr_assert_eq(st, ZCP_OK, "%s", err.message);
  cr_assert_eq(atomic_load(&n_seen), 2, "the server saw the call %d times",
               atomic_load(&n_seen));
  cr_assert_eq(atomic_load(&seen_ids[0]), atomic_load(&seen_ids[1]), "a new request id");
  zcp__rpc_client_close(c);
}
