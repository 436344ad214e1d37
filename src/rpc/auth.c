/* Authentication: the cluster secret never leaves a node. At the handshake each side
 * proves it holds the secret with a keyed BLAKE2b hash over both sides' fresh nonces
 * (a recorded handshake is worthless the next time), and both derive one session key
 * per direction (a frame cannot be reflected back to its sender). Every later frame has
 * a MAC over its header and payload and a sequence number that must grow (a frame
 * replayed on the connection is dropped). */
#include "common/platform.h"

#include <sodium.h>
#include <string.h>

#include "common/util.h"
#include "rpc/rpc.h"

_Static_assert(crypto_generichash_KEYBYTES == ZCP_KEY_SIZE, "key size");

bool zcp__auth_init(void) {
  return sodium_init() >= 0;
}

void zcp__auth_random(uint8_t *out, size_t n) {
  randombytes_buf(out, n);
}

static void hash_u64(crypto_generichash_state *s, uint64_t v) {
  uint8_t b[8];
  zcp__store_le64(b, v);
  crypto_generichash_update(s, b, sizeof b);
}

void zcp__auth_proof(const uint8_t secret[ZCP_KEY_SIZE], const char *role,
                     const uint8_t client_nonce[ZCP_NONCE_SIZE],
                     const uint8_t server_nonce[ZCP_NONCE_SIZE], uint64_t cluster_id,
                     uint8_t out[ZCP_KEY_SIZE]) {
  crypto_generichash_state s;
  crypto_generichash_init(&s, secret, ZCP_KEY_SIZE, ZCP_KEY_SIZE);
  crypto_generichash_update(&s, (const uint8_t *)"zcpool proof ", 13);
  crypto_generichash_update(&s, (const uint8_t *)role, strlen(role));
  crypto_generichash_update(&s, client_nonce, ZCP_NONCE_SIZE);
  crypto_generichash_update(&s, server_nonce, ZCP_NONCE_SIZE);
  hash_u64(&s, cluster_id);
  crypto_generichash_final(&s, out, ZCP_KEY_SIZE);
}

bool zcp__auth_proof_equal(const uint8_t *a, const uint8_t *b, size_t n) {
  return sodium_memcmp(a, b, n) == 0;
}

static void derive(const uint8_t secret[ZCP_KEY_SIZE], const char *label,
                   const uint8_t *cn, const uint8_t *sn, uint8_t out[ZCP_KEY_SIZE]) {
  crypto_generichash_state s;
  crypto_generichash_init(&s, secret, ZCP_KEY_SIZE, ZCP_KEY_SIZE);
  crypto_generichash_update(&s, (const uint8_t *)label, strlen(label));
  crypto_generichash_update(&s, cn, ZCP_NONCE_SIZE);
  crypto_generichash_update(&s, sn, ZCP_NONCE_SIZE);
  crypto_generichash_final(&s, out, ZCP_KEY_SIZE);
}

void zcp__auth_session(const uint8_t secret[ZCP_KEY_SIZE],
                       const uint8_t client_nonce[ZCP_NONCE_SIZE],
                       const uint8_t server_nonce[ZCP_NONCE_SIZE],
                       uint8_t c2s[ZCP_KEY_SIZE], uint8_t s2c[ZCP_KEY_SIZE]) {
  derive(secret, "zcpool session client->server", client_nonce, server_nonce, c2s);
  derive(secret, "zcpool session server->client", client_nonce, server_nonce, s2c);
}

/* MAC over the first 24 header bytes (everything but the MAC itself) and the payload. */
static void mac(const uint8_t key[ZCP_KEY_SIZE], const struct zcp__frame_header *h,
                const uint8_t *payload, size_t len, uint8_t out[ZCP_FRAME_MAC_SIZE]) {
  uint8_t hb[ZCP_FRAME_HEADER_SIZE];
  zcp__frame_header_encode(h, hb);
  crypto_generichash_state s;
  crypto_generichash_init(&s, key, ZCP_KEY_SIZE, ZCP_FRAME_MAC_SIZE);
  crypto_generichash_update(&s, hb, ZCP_FRAME_MAC_OFFSET);
  if (len > 0) crypto_generichash_update(&s, payload, len);
  crypto_generichash_final(&s, out, ZCP_FRAME_MAC_SIZE);
}

void zcp__auth_seal(struct zcp__auth_dir *d, struct zcp__frame_header *h,
                    const uint8_t *payload, size_t len) {
  h->seq = ++d->seq;
  memset(h->mac, 0, sizeof h->mac);
  if (!d->on) {
    h->flags = (uint16_t)(h->flags & ~ZCP_FRAME_FLAG_MAC);
    return;
  }
  h->flags = (uint16_t)(h->flags | ZCP_FRAME_FLAG_MAC);
  mac(d->key, h, payload, len, h->mac);
}

zcp_status_t zcp__auth_open(struct zcp__auth_dir *d, const struct zcp__frame_header *h,
                            const uint8_t *payload, size_t len, bool *replay,
                            struct zcp_error *err) {
  *replay = false;
  if (d->on) {
    if (!(h->flags & ZCP_FRAME_FLAG_MAC))
      return zcp_error_set(err, ZCP_AUTH_FAILED,
                           "frame %llu carries no MAC on an authenticated connection",
                           (unsigned long long)h->seq);
    uint8_t want[ZCP_FRAME_MAC_SIZE];
    mac(d->key, h, payload, len, want);
    if (sodium_memcmp(want, h->mac, sizeof want) != 0)
      return zcp_error_set(err, ZCP_AUTH_FAILED, "frame %llu: MAC does not verify",
                           (unsigned long long)h->seq);
  }
  /* Checked after the MAC, so that only a genuine frame can be called a replay. */
  if (h->seq <= d->seq) {
    *replay = true;
    return zcp_error_set(err, ZCP_AUTH_FAILED,
                         "frame sequence number %llu is not above %llu (replayed)",
                         (unsigned long long)h->seq, (unsigned long long)d->seq);
  }
  d->seq = h->seq;
  return ZCP_OK;
}
