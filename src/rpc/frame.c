/* Frames: the 40-byte header of every control-plane message, and sending/receiving one
 * envelope as a frame. This file decides what a well-formed frame is; it must never act
 * on a payload whose header, length or MAC has not been checked first. */
#include "common/platform.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/util.h"
#include "rpc/rpc.h"

_Static_assert(offsetof(struct zcp__frame_header, magic) == 0, "frame magic");
_Static_assert(offsetof(struct zcp__frame_header, version) == 4, "frame version");
_Static_assert(offsetof(struct zcp__frame_header, flags) == 6, "frame flags");
_Static_assert(offsetof(struct zcp__frame_header, length) == 8, "frame length");
_Static_assert(offsetof(struct zcp__frame_header, reserved) == 12, "frame reserved");
_Static_assert(offsetof(struct zcp__frame_header, seq) == 16, "frame seq");
_Static_assert(offsetof(struct zcp__frame_header, mac) == ZCP_FRAME_MAC_OFFSET,
               "frame mac");
_Static_assert(sizeof(struct zcp__frame_header) == ZCP_FRAME_HEADER_SIZE, "frame size");

static void store_le16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static uint16_t load_le16(const uint8_t *p) {
  return (uint16_t)(p[0] | p[1] << 8);
}

void zcp__frame_header_encode(const struct zcp__frame_header *h, uint8_t *out) {
  zcp__store_le32(out + 0, h->magic);
  store_le16(out + 4, h->version);
  store_le16(out + 6, h->flags);
  zcp__store_le32(out + 8, h->length);
  zcp__store_le32(out + 12, h->reserved);
  zcp__store_le64(out + 16, h->seq);
  memcpy(out + ZCP_FRAME_MAC_OFFSET, h->mac, ZCP_FRAME_MAC_SIZE);
}

zcp_status_t zcp__frame_header_decode(const uint8_t *in, int64_t max_payload,
                                      struct zcp__frame_header *h,
                                      struct zcp_error *err) {
  h->magic = zcp__load_le32(in + 0);
  h->version = load_le16(in + 4);
  h->flags = load_le16(in + 6);
  h->length = zcp__load_le32(in + 8);
  h->reserved = zcp__load_le32(in + 12);
  h->seq = zcp__load_le64(in + 16);
  memcpy(h->mac, in + ZCP_FRAME_MAC_OFFSET, ZCP_FRAME_MAC_SIZE);
  if (h->magic != ZCP_FRAME_MAGIC)
    return zcp_error_set(err, ZCP_CORRUPT_INPUT,
                         "frame: magic is %#x, expected %#x (not a zcpool peer?)",
                         (unsigned)h->magic, (unsigned)ZCP_FRAME_MAGIC);
  if (h->version != ZCP_FRAME_VERSION)
    return zcp_error_set(err, ZCP_VERSION_MISMATCH, "frame: version %u, expected %u",
                         (unsigned)h->version, (unsigned)ZCP_FRAME_VERSION);
  if (h->reserved != 0 || (h->flags & ~ZCP_FRAME_FLAG_MAC) != 0)
    return zcp_error_set(err, ZCP_CORRUPT_INPUT,
                         "frame: reserved bits set (flags %#x, reserved %#x)",
                         (unsigned)h->flags, (unsigned)h->reserved);
  if ((int64_t)h->length > max_payload)
    return zcp_error_set(err, ZCP_NO_SPACE,
                         "frame: payload of %u bytes exceeds the limit of %lld bytes",
                         (unsigned)h->length, (long long)max_payload);
  return ZCP_OK;
}

void zcp__envelope_free(Zcpool__Envelope *env) {
  if (env != NULL) zcpool__envelope__free_unpacked(env, NULL);
}

zcp_status_t zcp__frame_send(int fd, struct zcp__auth_dir *d, const Zcpool__Envelope *env,
                             int timeout_ms, struct zcp__rpc_counters *cnt,
                             struct zcp_error *err) {
  size_t len = zcpool__envelope__get_packed_size(env);
  uint8_t stack[512];
  uint8_t *buf = stack;
  if (len + ZCP_FRAME_HEADER_SIZE > sizeof stack) {
    buf = malloc(len + ZCP_FRAME_HEADER_SIZE);
    if (buf == NULL)
      return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "frame: %zu bytes", len);
  }
  zcpool__envelope__pack(env, buf + ZCP_FRAME_HEADER_SIZE);
  struct zcp__frame_header h = {
      ZCP_FRAME_MAGIC, ZCP_FRAME_VERSION, 0, (uint32_t)len, 0, 0, {0}};
  zcp__auth_seal(d, &h, buf + ZCP_FRAME_HEADER_SIZE, len);
  zcp__frame_header_encode(&h, buf);
  int rc = zcp__sock_write_all(fd, buf, len + ZCP_FRAME_HEADER_SIZE, timeout_ms);
  int e = errno;
  if (buf != stack) free(buf);
  if (rc != 0)
    return zcp_error_set(err, ZCP_IO_ERROR, "frame: send failed: %s", strerror(e));
  if (cnt != NULL) {
    atomic_fetch_add_explicit(&cnt->frames_out, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&cnt->bytes_out, (long long)(len + ZCP_FRAME_HEADER_SIZE),
                              memory_order_relaxed);
  }
  return ZCP_OK;
}

static void count(atomic_llong *c) {
  atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/* Reads exactly n bytes into dst, first from rx, refilling rx for small reads. Returns
 * like zcp__sock_read_all. */
static int read_exact(int fd, struct zcp__rx *rx, uint8_t *dst, size_t n,
                      int64_t deadline) {
  while (n > 0) {
    if (rx != NULL && zcp__rx_pending(rx)) {
      size_t k = ZCP_MIN(n, rx->end - rx->start);
      memcpy(dst, rx->data + rx->start, k);
      rx->start += k;
      dst += k;
      n -= k;
      continue;
    }
    int64_t left = deadline - zcp__now_ms();
    if (rx == NULL || n >= sizeof rx->data)
      return zcp__sock_read_all(fd, dst, n, left > 0 ? (int)left : 0);
    ssize_t r = recv(fd, rx->data, sizeof rx->data, MSG_DONTWAIT);
    if (r > 0) {
      rx->start = 0;
      rx->end = (size_t)r;
      continue;
    }
    if (r == 0) return 0;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
    if (left <= 0) {
      errno = ETIMEDOUT;
      return -1;
    }
    int pr = zcp__sock_wait_readable(fd, (int)left);
    if (pr < 0) return -1;
    if (pr == 0) {
      errno = ETIMEDOUT;
      return -1;
    }
  }
  return 1;
}

zcp_status_t zcp__frame_recv(int fd, struct zcp__auth_dir *d, int64_t max_payload,
                             int timeout_ms, Zcpool__Envelope **out,
                             struct zcp__rpc_counters *cnt, struct zcp_error *err) {
  return zcp__frame_recv_buffered(fd, NULL, d, max_payload, timeout_ms, out, cnt, err);
}

zcp_status_t zcp__frame_recv_buffered(int fd, struct zcp__rx *rx, struct zcp__auth_dir *d,
                                      int64_t max_payload, int timeout_ms,
                                      Zcpool__Envelope **out,
                                      struct zcp__rpc_counters *cnt,
                                      struct zcp_error *err) {
  *out = NULL;
  uint8_t hb[ZCP_FRAME_HEADER_SIZE];
  int64_t deadline = zcp__now_ms() + timeout_ms;
  int rc = read_exact(fd, rx, hb, sizeof hb, deadline);
  if (rc == 0) return zcp_error_set(err, ZCP_PEER_DOWN, "connection closed by the peer");
  if (rc < 0 && (errno == ECONNRESET || errno == EPIPE))
    return zcp_error_set(err, ZCP_PEER_DOWN, "connection reset by the peer");
  if (rc < 0)
    return zcp_error_set(err, errno == ETIMEDOUT ? ZCP_TIMEOUT : ZCP_IO_ERROR,
                         "frame: receive failed: %s", strerror(errno));
  struct zcp__frame_header h;
  zcp_status_t st = zcp__frame_header_decode(hb, max_payload, &h, err);
  if (st != ZCP_OK) {
    if (cnt != NULL) count(st == ZCP_NO_SPACE ? &cnt->oversized : &cnt->garbage);
    return st;
  }
  uint8_t stack[512];
  uint8_t *payload = stack;
  if (h.length > sizeof stack) {
    payload = malloc(h.length);
    if (payload == NULL)
      return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "frame: %u bytes", (unsigned)h.length);
  }
  rc = h.length == 0 ? 1 : read_exact(fd, rx, payload, h.length, deadline);
  if (rc <= 0) {
    if (payload != stack) free(payload);
    return zcp_error_set(err, rc == 0 ? ZCP_PEER_DOWN : ZCP_IO_ERROR,
                         "frame: payload of %u bytes cut short", (unsigned)h.length);
  }
  bool replay = false;
  st = zcp__auth_open(d, &h, payload, h.length, &replay, err);
  if (st != ZCP_OK) {
    if (cnt != NULL) count(replay ? &cnt->replayed : &cnt->auth_failed);
    if (payload != stack) free(payload);
    return st;
  }
  Zcpool__Envelope *env = zcpool__envelope__unpack(NULL, h.length, payload);
  if (payload != stack) free(payload);
  if (env == NULL) {
    if (cnt != NULL) count(&cnt->garbage);
    return zcp_error_set(err, ZCP_CORRUPT_INPUT,
                         "frame: payload of %u bytes is not a zcpool message",
                         (unsigned)h.length);
  }
  if (cnt != NULL) {
    count(&cnt->frames_in);
    atomic_fetch_add_explicit(&cnt->bytes_in,
                              (long long)h.length + ZCP_FRAME_HEADER_SIZE,
                              memory_order_relaxed);
  }
  *out = env;
  return ZCP_OK;
}
