/* Frames: the header round-trips bit for bit, every malformed header is refused with its
 * own status, and an envelope survives a trip through a socket pair. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc/rpc.h"

Test(frame, header_round_trips_little_endian) {
  struct zcp__frame_header h = {ZCP_FRAME_MAGIC,
                                ZCP_FRAME_VERSION,
                                ZCP_FRAME_FLAG_MAC,
                                300,
                                0,
                                0x0102030405060708ull,
                                {0}};
  for (int i = 0; i < ZCP_FRAME_MAC_SIZE; i++) h.mac[i] = (uint8_t)(0xa0 + i);
  uint8_t b[ZCP_FRAME_HEADER_SIZE];
  zcp__frame_header_encode(&h, b);
  cr_assert_eq(memcmp(b, "ZCPF", 4), 0, "magic reads ZCPF on the wire");
  cr_assert_eq(b[8], 300 & 0xff);
  cr_assert_eq(b[9], 300 >> 8);
  cr_assert_eq(b[16], 0x08, "sequence number little-endian");
  cr_assert_eq(b[23], 0x01);
  cr_assert_eq(b[24], 0xa0);
  struct zcp__frame_header d;
  cr_assert_eq(zcp__frame_header_decode(b, 1024, &d, NULL), ZCP_OK);
  cr_assert_eq(memcmp(&d, &h, sizeof h), 0);
}

Test(frame, refuses_bad_headers) {
  struct zcp__frame_header h = {ZCP_FRAME_MAGIC, ZCP_FRAME_VERSION, 0, 64, 0, 1, {0}};
  uint8_t b[ZCP_FRAME_HEADER_SIZE];
  struct zcp__frame_header d;
  struct zcp_error err = {0};
  zcp__frame_header_encode(&h, b);
  b[0] ^= 1;
  cr_assert_eq(zcp__frame_header_decode(b, 1024, &d, &err), ZCP_CORRUPT_INPUT);
  cr_assert(strstr(err.message, "magic") != NULL, "%s", err.message);
  h.version = 9;
  zcp__frame_header_encode(&h, b);
  cr_assert_eq(zcp__frame_header_decode(b, 1024, &d, &err), ZCP_VERSION_MISMATCH);
  h.version = ZCP_FRAME_VERSION;
  h.flags = 0x80;
  zcp__frame_header_encode(&h, b);
  cr_assert_eq(zcp__frame_header_decode(b, 1024, &d, &err), ZCP_CORRUPT_INPUT);
  h.flags = 0;
  h.reserved = 1;
  zcp__frame_header_encode(&h, b);
  cr_assert_eq(zcp__frame_header_decode(b, 1024, &d, &err), ZCP_CORRUPT_INPUT);
  h.reserved = 0;
  h.length = 1025;
  zcp__frame_header_encode(&h, b);
  cr_assert_eq(zcp__frame_header_decode(b, 1024, &d, &err), ZCP_NO_SPACE);
  cr_assert(strstr(err.message, "1025") != NULL && strstr(err.message, "1024") != NULL,
            "%s", err.message);
}

static void pair(int sv[2]) {
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

Test(frame, envelope_crosses_a_socket) {
  int sv[2];
  pair(sv);
  struct zcp__auth_dir tx = {0}, rx = {0};
  struct zcp__rpc_counters cnt = {0};
  Zcpool__Envelope env = ZCPOOL__ENVELOPE__INIT;
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  Zcpool__RequestHeader hdr = ZCPOOL__REQUEST_HEADER__INIT;
  Zcpool__Malloc m = ZCPOOL__MALLOC__INIT;
  hdr.client_node = 3;
  hdr.client_epoch = 77;
  hdr.request_id = 9;
  m.size = 4096;
  req.header = &hdr;
  req.call_case = ZCPOOL__REQUEST__CALL_MALLOC;
  req.malloc = &m;
  env.kind_case = ZCPOOL__ENVELOPE__KIND_REQUEST;
  env.request = &req;
  cr_assert_eq(zcp__frame_send(sv[0], &tx, &env, 1000, &cnt, NULL), ZCP_OK);
  Zcpool__Envelope *got = NULL;
  cr_assert_eq(zcp__frame_recv(sv[1], &rx, 1024, 1000, &got, &cnt, NULL), ZCP_OK);
  cr_assert_eq(got->kind_case, ZCPOOL__ENVELOPE__KIND_REQUEST);
  cr_assert_eq(got->request->header->client_node, 3);
  cr_assert_eq(got->request->header->client_epoch, 77u);
  cr_assert_eq(got->request->header->request_id, 9u);
  cr_assert_eq(got->request->malloc->size, 4096);
  cr_assert_eq(rx.seq, 1u);
  cr_assert_eq(atomic_load(&cnt.frames_in), 1);
  zcp__envelope_free(got);
  close(sv[0]);
  close(sv[1]);
}

Test(frame, garbage_payload_and_timeouts_are_typed) {
  int sv[2];
  pair(sv);
  struct zcp__auth_dir rx = {0};
  struct zcp__rpc_counters cnt = {0};
  Zcpool__Envelope *got = NULL;
  /* Nothing arrives: a timeout, not a hang. */
  cr_assert_eq(zcp__frame_recv(sv[1], &rx, 1024, 50, &got, &cnt, NULL), ZCP_TIMEOUT);
  /* A valid header around bytes that are not protobuf. */
  struct zcp__frame_header h = {ZCP_FRAME_MAGIC, ZCP_FRAME_VERSION, 0, 4, 0, 1, {0}};
  uint8_t b[ZCP_FRAME_HEADER_SIZE + 4];
  zcp__frame_header_encode(&h, b);
  memset(b + ZCP_FRAME_HEADER_SIZE, 0xff, 4);
  cr_assert_eq(write(sv[0], b, sizeof b), (ssize_t)sizeof b);
  cr_assert_eq(zcp__frame_recv(sv[1], &rx, 1024, 1000, &got, &cnt, NULL),
               ZCP_CORRUPT_INPUT);
  cr_assert_eq(atomic_load(&cnt.garbage), 1);
  /* Pure noise. */
  const char *noise = "GET / HTTP/1.1\r\nHost: example\r\nAccept: */*\r\n\r\n";
  cr_assert_eq(write(sv[0], noise, strlen(noise)), (ssize_t)strlen(noise));
  cr_assert_eq(zcp__frame_recv(sv[1], &rx, 1024, 1000, &got, &cnt, NULL),
               ZCP_CORRUPT_INPUT);
  cr_assert_eq(atomic_load(&cnt.garbage), 2);
  /* The other end goes away. */
  close(sv[0]);
  cr_assert_eq(zcp__frame_recv(sv[1], &rx, 1024, 1000, &got, &cnt, NULL), ZCP_PEER_DOWN);
  close(sv[1]);
}
