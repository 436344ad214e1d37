/* zcpool — the control plane's transport: frames, authentication, server and client.
 *
 * Internal to the library (the cluster layer is its only user; tests reach in to forge
 * frames). A frame is a fixed 40-byte little-endian header and a protobuf payload (one
 * zcpool.Envelope, proto/zcpool.proto):
 *
 *   offset  0  u32 magic "ZCPF"        offset 12  u32 reserved (0)
 *   offset  4  u16 frame version (1)   offset 16  u64 sequence number (per direction)
 *   offset  6  u16 flags               offset 24  16-byte MAC (keyed BLAKE2b)
 *   offset  8  u32 payload length
 *
 * After the handshake every frame of an authenticated connection carries a MAC over the
 * first 24 header bytes and the payload, under a session key per direction derived from
 * the cluster secret and both sides' nonces; its sequence number must exceed the last one
 * accepted. Anything else is dropped and counted, never acted upon. */
#ifndef ZCP_RPC_RPC_H
#define ZCP_RPC_RPC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/time.h"
#include "zcpool.pb-c.h"
#include "zcpool/status.h"

#define ZCP_RPC_PROTOCOL_VERSION 1u
#define ZCP_FRAME_MAGIC 0x4650435au /* "ZCPF" little-endian */
#define ZCP_FRAME_VERSION 1u
#define ZCP_FRAME_HEADER_SIZE 40
#define ZCP_FRAME_MAC_OFFSET 24
#define ZCP_FRAME_MAC_SIZE 16
#define ZCP_FRAME_FLAG_MAC 1u /* the MAC field is set and must verify */
#define ZCP_KEY_SIZE 32       /* cluster secret and session keys */
#define ZCP_NONCE_SIZE 32

struct zcp__frame_header {
  uint32_t magic;
  uint16_t version;
  uint16_t flags;
  uint32_t length;
  uint32_t reserved;
  uint64_t seq;
  uint8_t mac[ZCP_FRAME_MAC_SIZE];
};

/* Encodes h into 40 bytes at out (little-endian). */
void zcp__frame_header_encode(const struct zcp__frame_header *h, uint8_t *out);
/* Decodes and checks magic, version, reserved bytes and length <= max_payload. Errors:
 * ZCP_CORRUPT_INPUT (magic, reserved), ZCP_VERSION_MISMATCH, ZCP_NO_SPACE (too long). */
ZCP_CHECK_RESULT zcp_status_t zcp__frame_header_decode(const uint8_t *in,
                                                       int64_t max_payload,
                                                       struct zcp__frame_header *h,
                                                       struct zcp_error *err);

/* ---- authentication -----------------------------------------------------------------
 */

/* One direction of a connection: session key and the last sequence number. */
struct zcp__auth_dir {
  bool on;
  uint8_t key[ZCP_KEY_SIZE];
  uint64_t seq;
};

/* Calls libsodium's init once; false if it cannot start. */
bool zcp__auth_init(void);
void zcp__auth_random(uint8_t *out, size_t n);
/* Keyed hash proving knowledge of secret: role is "server" or "client". */
void zcp__auth_proof(const uint8_t secret[ZCP_KEY_SIZE], const char *role,
                     const uint8_t client_nonce[ZCP_NONCE_SIZE],
                     const uint8_t server_nonce[ZCP_NONCE_SIZE], uint64_t cluster_id,
                     uint8_t out[ZCP_KEY_SIZE]);
bool zcp__auth_proof_equal(const uint8_t *a, const uint8_t *b, size_t n);
/* Session keys for client->server and server->client frames. */
void zcp__auth_session(const uint8_t secret[ZCP_KEY_SIZE],
                       const uint8_t client_nonce[ZCP_NONCE_SIZE],
                       const uint8_t server_nonce[ZCP_NONCE_SIZE],
                       uint8_t c2s[ZCP_KEY_SIZE], uint8_t s2c[ZCP_KEY_SIZE]);
/* Seals a frame for sending: next sequence number, flags, MAC (when d->on). */
void zcp__auth_seal(struct zcp__auth_dir *d, struct zcp__frame_header *h,
                    const uint8_t *payload, size_t len);
/* Checks a received frame: ZCP_AUTH_FAILED (no or bad MAC, replayed or old sequence
 * number), with *replay set when only the sequence number was wrong. On success the
 * sequence number is recorded. */
ZCP_CHECK_RESULT zcp_status_t zcp__auth_open(struct zcp__auth_dir *d,
                                             const struct zcp__frame_header *h,
                                             const uint8_t *payload, size_t len,
                                             bool *replay, struct zcp_error *err);

/* ---- counters ------------------------------------------------------------------------
 */

/* What a server or client dropped; process-visible for tests and status. */
struct zcp__rpc_counters {
  atomic_llong frames_in;
  atomic_llong frames_out;
  atomic_llong bytes_in; /* whole frames read and written, header included */
  atomic_llong bytes_out;
  atomic_llong auth_failed; /* bad or missing MAC, failed handshakes */
  atomic_llong replayed;    /* sequence number not above the last one */
  atomic_llong oversized;   /* frame longer than the limit */
  atomic_llong garbage;     /* bad magic, version, payload that does not decode */
  atomic_llong busy;        /* outstanding-request limit hit */
  atomic_llong stale;       /* responses nobody waits for any more */
};

/* ---- sockets ------------------------------------------------------------------------
 */

/* Listens on "tcp://host:port" or "unix:/path" (a stale socket file is replaced). */
ZCP_CHECK_RESULT zcp_status_t zcp__sock_listen(const char *address, int *fd,
                                               struct zcp_error *err);
/* Connects within timeout_ms (TCP_NODELAY on TCP). */
ZCP_CHECK_RESULT zcp_status_t zcp__sock_connect(const char *address, int timeout_ms,
                                                int *fd, struct zcp_error *err);
/* Writes all of buf; -1 with errno on failure (never SIGPIPE). */
int zcp__sock_write_all(int fd, const void *buf, size_t n, int timeout_ms);
/* Reads exactly n bytes within timeout_ms: 1 ok, 0 end of stream, -1 error/timeout. */
int zcp__sock_read_all(int fd, void *buf, size_t n, int timeout_ms);
/* Waits until fd is readable: 1 readable, 0 timeout, -1 error. */
int zcp__sock_wait_readable(int fd, int timeout_ms);

/* Sends one envelope as a frame (sealed by d). Returns ZCP_IO_ERROR on failure. */
ZCP_CHECK_RESULT zcp_status_t zcp__frame_send(int fd, struct zcp__auth_dir *d,
                                              const Zcpool__Envelope *env, int timeout_ms,
                                              struct zcp__rpc_counters *cnt,
                                              struct zcp_error *err);
/* Reads one frame and decodes its envelope (*out freed with zcp__envelope_free).
 * ZCP_AUTH_FAILED frames were read completely and may be skipped (stream still in sync);
 * every other error leaves the stream unusable. Counters record what was dropped. */
ZCP_CHECK_RESULT zcp_status_t zcp__frame_recv(int fd, struct zcp__auth_dir *d,
                                              int64_t max_payload, int timeout_ms,
                                              Zcpool__Envelope **out,
                                              struct zcp__rpc_counters *cnt,
                                              struct zcp_error *err);
void zcp__envelope_free(Zcpool__Envelope *env);

/* Bytes received ahead of the frame being read: one recv then usually brings a whole
 * small frame (header and payload) instead of two. Owned by one reader at a time. */
struct zcp__rx {
  size_t start, end;
  uint8_t data[4096];
};
static inline bool zcp__rx_pending(const struct zcp__rx *rx) {
  return rx->end > rx->start;
}
/* zcp__frame_recv through rx. */
ZCP_CHECK_RESULT zcp_status_t
zcp__frame_recv_buffered(int fd, struct zcp__rx *rx, struct zcp__auth_dir *d,
                         int64_t max_payload, int timeout_ms, Zcpool__Envelope **out,
                         struct zcp__rpc_counters *cnt, struct zcp_error *err);

/* ---- server -------------------------------------------------------------------------
 */

struct zcp__rpc_server;

/* Who is calling, as the handshake established. */
struct zcp__rpc_peer {
  int32_t node;
  uint64_t epoch;
};

/* Serves one request (anything but WaitState and SetState, which the server keeps).
 * Fills resp->status/message and the result (allocated with malloc; the server frees
 * the result message and its message string after sending). Called concurrently: from
 * every connection, and within one connection for a Ping (its reader thread) while one
 * other call runs (its worker thread); the other calls of a connection come one at a
 * time, in arrival order. */
typedef void (*zcp__rpc_handler)(void *ctx, const struct zcp__rpc_peer *peer,
                                 const Zcpool__Request *req, Zcpool__Response *resp);
/* A client finished its handshake (a new epoch of that node means the old one is dead).
 */
typedef void (*zcp__rpc_hello_fn)(void *ctx, const Zcpool__Hello *hello);

struct zcp__rpc_server_options {
  const char *address;
  uint64_t cluster_id;
  int32_t node;
  uint64_t epoch;
  const uint8_t *key;      /* cluster secret; NULL: authentication off */
  int64_t max_frame;       /* payload bytes */
  int32_t max_outstanding; /* per connection: calls queued for its worker, open waits */
  int32_t idle_ms;         /* a client silent this long is dropped */
  int32_t max_nodes;       /* node ids 0..max_nodes-1 */
  /* Regions this node lends (sent in Challenge); borrowed, must outlive the server. */
  Zcpool__RegionInfo **regions;
  size_t n_regions;
  zcp__rpc_handler handler;
  zcp__rpc_hello_fn on_hello;
  void *ctx;
};

ZCP_CHECK_RESULT zcp_status_t
zcp__rpc_server_start(const struct zcp__rpc_server_options *opt,
                      struct zcp__rpc_server **out, struct zcp_error *err);
/* Stops accepting, closes every connection, joins every thread. NULL ok. */
void zcp__rpc_server_stop(struct zcp__rpc_server *srv);
struct zcp__rpc_counters *zcp__rpc_server_counters(struct zcp__rpc_server *srv);
/* The node's state words (STATE_USER, STATE_BARRIER): set answers the waits it satisfies.
 */
uint64_t zcp__rpc_server_set_state(struct zcp__rpc_server *srv, int word, uint64_t value,
                                   uint64_t mask);
uint64_t zcp__rpc_server_get_state(struct zcp__rpc_server *srv, int word);
/* Waits locally (no RPC) until the condition holds on this node's word. */
ZCP_CHECK_RESULT zcp_status_t zcp__rpc_server_wait_state(struct zcp__rpc_server *srv,
                                                         int word, uint64_t value,
                                                         uint64_t mask, int condition,
                                                         int timeout_ms, uint64_t *seen,
                                                         struct zcp_error *err);
bool zcp__state_condition_holds(uint64_t word, uint64_t value, uint64_t mask,
                                int condition);

/* ---- client -------------------------------------------------------------------------
 */

struct zcp__rpc_client;

enum zcp__peer_state { ZCP_PEER_STATE_DOWN = 0, ZCP_PEER_STATE_UP = 1 };

/* Called (from the client's monitor thread, no lock held) when the peer comes up after a
 * handshake (with what it said) or goes down (why). */
typedef void (*zcp__rpc_peer_up_fn)(void *ctx, int32_t peer, const Zcpool__Challenge *ch);
typedef void (*zcp__rpc_peer_down_fn)(void *ctx, int32_t peer, const char *why);

struct zcp__rpc_client_options {
  const char *address;
  int32_t peer_node; /* expected node id of the server */
  uint64_t cluster_id;
  int32_t node; /* this node */
  uint64_t epoch;
  const uint8_t *key;           /* NULL: authentication off */
  Zcpool__RegionInfo **regions; /* sent in Hello; borrowed */
  size_t n_regions;
  int64_t max_frame;
  int32_t max_outstanding; /* calls in flight to this peer */
  int32_t heartbeat_ms;    /* ping when idle this long */
  int32_t down_after_ms;   /* no frame for this long: the peer is down */
  int32_t connect_ms;      /* one connection attempt */
  bool monitor;            /* run the heartbeat/reconnect thread (false: connect once) */
  atomic_ullong *request_ids; /* shared request-id counter of this node */
  zcp__rpc_peer_up_fn on_up;
  zcp__rpc_peer_down_fn on_down;
  void *ctx;
};

/* Creates the client. With monitor, a thread connects (and reconnects) in the background
 * and the call returns at once; without, it connects once now and fails if it cannot. */
ZCP_CHECK_RESULT zcp_status_t
zcp__rpc_client_open(const struct zcp__rpc_client_options *opt,
                     struct zcp__rpc_client **out, struct zcp_error *err);
void zcp__rpc_client_close(struct zcp__rpc_client *c);
enum zcp__peer_state zcp__rpc_client_state(struct zcp__rpc_client *c);
/* Waits until the peer is up or timeout_ms pass. */
bool zcp__rpc_client_wait_up(struct zcp__rpc_client *c, int timeout_ms);
struct zcp__rpc_counters *zcp__rpc_client_counters(struct zcp__rpc_client *c);

/* An outstanding call. */
struct zcp__rpc_call {
  struct zcp__rpc_client *client;
  int slot;
  uint64_t request_id;
  int64_t deadline_ms;
};

/* Sends req (its header is filled here: node, epoch, request id, timeout). Errors:
 * ZCP_PEER_DOWN, ZCP_BUSY (outstanding limit), ZCP_IO_ERROR. A request_id of 0 in
 * *call asks for a fresh id; non-zero retries that id. */
ZCP_CHECK_RESULT zcp_status_t zcp__rpc_call_start(struct zcp__rpc_client *c,
                                                  Zcpool__Request *req, int timeout_ms,
                                                  struct zcp__rpc_call *call,
                                                  struct zcp_error *err);
/* Waits for the answer. *resp (free with zcpool__response__free_unpacked(resp, NULL)) is
 * set when the server answered, whatever its status; the returned status is the
 * server's status, or ZCP_TIMEOUT / ZCP_PEER_DOWN. Messages name the peer and the call.
 */
ZCP_CHECK_RESULT zcp_status_t zcp__rpc_call_finish(struct zcp__rpc_call *call,
                                                   Zcpool__Response **resp,
                                                   struct zcp_error *err);
/* start + finish; with a monitor, a call whose connection broke after it was sent (not
 * one whose peer stopped answering) is sent again with the same request id if the same
 * epoch of the peer is back within two heartbeats (servers answer retries
 * idempotently). */
ZCP_CHECK_RESULT zcp_status_t zcp__rpc_call(struct zcp__rpc_client *c,
                                            Zcpool__Request *req, int timeout_ms,
                                            Zcpool__Response **resp,
                                            struct zcp_error *err);
const char *zcp__rpc_call_name(int call_case);

#endif
