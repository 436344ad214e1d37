/* Authentication: proofs depend on the secret and both nonces; a frame's MAC covers its
 * header and payload; the sequence number stops replays; keys differ per direction. */
#include <criterion/criterion.h>
#include <string.h>

#include "rpc/rpc.h"

static uint8_t secret[ZCP_KEY_SIZE], other[ZCP_KEY_SIZE];
static uint8_t cn[ZCP_NONCE_SIZE], sn[ZCP_NONCE_SIZE];

static void setup(void) {
  cr_assert(zcp__auth_init());
  zcp__auth_random(secret, sizeof secret);
  memcpy(other, secret, sizeof other);
  other[0] ^= 1;
  zcp__auth_random(cn, sizeof cn);
  zcp__auth_random(sn, sizeof sn);
}

TestSuite(auth, .init = setup);

Test(auth, proofs_need_the_secret_and_the_nonces) {
  uint8_t a[ZCP_KEY_SIZE], b[ZCP_KEY_SIZE];
  zcp__auth_proof(secret, "client", cn, sn, 0xc1, a);
  zcp__auth_proof(secret, "client", cn, sn, 0xc1, b);
  cr_assert(zcp__auth_proof_equal(a, b, sizeof a));
  zcp__auth_proof(other, "client", cn, sn, 0xc1, b);
  cr_assert(!zcp__auth_proof_equal(a, b, sizeof a), "wrong key gives another proof");
  zcp__auth_proof(secret, "server", cn, sn, 0xc1, b);
  cr_assert(!zcp__auth_proof_equal(a, b, sizeof a), "server and client proofs differ");
  uint8_t sn2[ZCP_NONCE_SIZE];
  memcpy(sn2, sn, sizeof sn2);
  sn2[5] ^= 0x10;
  zcp__auth_proof(secret, "client", cn, sn2, 0xc1, b);
  cr_assert(!zcp__auth_proof_equal(a, b, sizeof a), "a recorded proof fails a new nonce");
  zcp__auth_proof(secret, "client", cn, sn, 0xc2, b);
  cr_assert(!zcp__auth_proof_equal(a, b, sizeof a), "bound to the cluster id");
}

static void session(struct zcp__auth_dir *tx, struct zcp__auth_dir *rx) {
  uint8_t c2s[ZCP_KEY_SIZE], s2c[ZCP_KEY_SIZE];
  zcp__auth_session(secret, cn, sn, c2s, s2c);
  cr_assert(memcmp(c2s, s2c, sizeof c2s) != 0, "one key per direction");
  memset(tx, 0, sizeof *tx);
  memset(rx, 0, sizeof *rx);
  tx->on = rx->on = true;
  memcpy(tx->key, c2s, sizeof c2s);
  memcpy(rx->key, c2s, sizeof c2s);
}

Test(auth, mac_verifies_and_detects_every_change) {
  struct zcp__auth_dir tx, rx;
  session(&tx, &rx);
  uint8_t payload[64];
  memset(payload, 7, sizeof payload);
  struct zcp__frame_header h = {
      ZCP_FRAME_MAGIC, ZCP_FRAME_VERSION, 0, sizeof payload, 0, 0, {0}};
  zcp__auth_seal(&tx, &h, payload, sizeof payload);
  cr_assert_eq(h.seq, 1u);
  cr_assert(h.flags & ZCP_FRAME_FLAG_MAC);
  bool replay = false;
  struct zcp__auth_dir probe = rx;
  cr_assert_eq(zcp__auth_open(&probe, &h, payload, sizeof payload, &replay, NULL),
               ZCP_OK);
  /* A flipped payload bit, a changed length field, a forged sequence number, a MAC
   * stripped: each refused and not called a replay. */
  payload[10] ^= 1;
  probe = rx;
  cr_assert_eq(zcp__auth_open(&probe, &h, payload, sizeof payload, &replay, NULL),
               ZCP_AUTH_FAILED);
  cr_assert(!replay);
  payload[10] ^= 1;
  struct zcp__frame_header bad = h;
  bad.seq = 5;
  probe = rx;
  cr_assert_eq(zcp__auth_open(&probe, &bad, payload, sizeof payload, &replay, NULL),
               ZCP_AUTH_FAILED);
  bad = h;
  bad.flags = 0;
  probe = rx;
  cr_assert_eq(zcp__auth_open(&probe, &bad, payload, sizeof payload, &replay, NULL),
               ZCP_AUTH_FAILED);
  /* Sealed under the other direction's key: refused (no reflection). */
  uint8_t c2s[ZCP_KEY_SIZE], s2c[ZCP_KEY_SIZE];
  zcp__auth_session(secret, cn, sn, c2s, s2c);
  struct zcp__auth_dir back = {.on = true};
  memcpy(back.key, s2c, sizeof s2c);
  struct zcp__frame_header r = {
      ZCP_FRAME_MAGIC, ZCP_FRAME_VERSION, 0, sizeof payload, 0, 0, {0}};
  zcp__auth_seal(&back, &r, payload, sizeof payload);
  probe = rx;
  cr_assert_eq(zcp__auth_open(&probe, &r, payload, sizeof payload, &replay, NULL),
               ZCP_AUTH_FAILED);
}

Test(auth, replayed_and_old_frames_are_refused) {
  struct zcp__auth_dir tx, rx;
  session(&tx, &rx);
  uint8_t payload[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  struct zcp__frame_header f[3];
  for (int i = 0; i < 3; i++) {
    f[i] =
        (struct zcp__frame_header){ZCP_FRAME_MAGIC, ZCP_FRAME_VERSION, 0, 8, 0, 0, {0}};
    zcp__auth_seal(&tx, &f[i], payload, sizeof payload);
  }
  bool replay = false;
  cr_assert_eq(zcp__auth_open(&rx, &f[0], payload, 8, &replay, NULL), ZCP_OK);
  cr_assert_eq(zcp__auth_open(&rx, &f[2], payload, 8, &replay, NULL), ZCP_OK,
               "a gap is fine (a dropped frame)");
  struct zcp_error err = {0};
  cr_assert_eq(zcp__auth_open(&rx, &f[2], payload, 8, &replay, &err), ZCP_AUTH_FAILED);
  cr_assert(replay, "the same frame again is a replay");
  cr_assert(strstr(err.message, "replayed") != NULL, "%s", err.message);
  cr_assert_eq(zcp__auth_open(&rx, &f[1], payload, 8, &replay, NULL), ZCP_AUTH_FAILED);
  cr_assert(replay, "an older genuine frame is a replay");
  cr_assert_eq(rx.seq, 3u);
}

Test(auth, without_auth_frames_carry_no_mac_but_still_count) {
  struct zcp__auth_dir tx = {0}, rx = {0};
  uint8_t payload[4] = {0};
  struct zcp__frame_header h = {ZCP_FRAME_MAGIC, ZCP_FRAME_VERSION, 0, 4, 0, 0, {0}};
  zcp__auth_seal(&tx, &h, payload, 4);
  cr_assert_eq(h.flags & ZCP_FRAME_FLAG_MAC, 0);
  bool replay = false;
  cr_assert_eq(zcp__auth_open(&rx, &h, payload, 4, &replay, NULL), ZCP_OK);
  cr_assert_eq(zcp__auth_open(&rx, &h, payload, 4, &replay, NULL), ZCP_AUTH_FAILED);
}
