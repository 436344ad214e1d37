/* Full copies (SendTableFull) between node processes: this test is node 0 and receives;
 * node 1 is this binary again in the "copier" role and sends the many-type fixture
 * table, whole or (to play a sender that dies or breaks the rules) as hand-made parts.
 * Checked: values identical after the copy, the copy in the receiver's own region, many
 * parts, a region too small (ZCP_NO_SPACE, nothing leaked), a name in use, a peer down,
 * a sender killed or gone quiet mid-transfer (its partial table freed), and parts out of
 * order, duplicated, oversized or beyond the open-transfer limit refused. */
#define _GNU_SOURCE 1
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arrow_json.h"
#include "cluster/share/share.h"
#include "zcp_cluster_test.h"
#include "zcp_fixture.h"
#include "zcpool/copy.h"
#include "zcpool/ipc.h"

#define CMD_MS ZCP_TEST_CMD_MS
#define BATCH_ROWS 1000

/* ---- the copier role -----------------------------------------------------------------
 */

static zcp_status_t fixture_stream(int64_t rows, struct zcp_ipc_buffer *buf,
                                   struct zcp_error *err) {
  struct zcp_table *t = NULL;
  ZCP_RETURN_NOT_OK(zcp_fixture_table(rows, BATCH_ROWS, NULL, &t, err));
  struct zcp_ipc_sink sink = zcp_ipc_sink_buffer(buf);
  struct zcp_ipc_writer *w = NULL;
  zcp_status_t st =
      zcp_ipc_writer_open(ZCP_IPC_STREAM, zcp_table_schema(t), &sink, NULL, &w, err);
  if (st == ZCP_OK) st = zcp_ipc_writer_write_table(w, t, err);
  if (w != NULL) {
    zcp_status_t cst = zcp_ipc_writer_close(w, err);
    if (st == ZCP_OK) st = cst;
  }
  zcp_table_release(t);
  return st;
}

static void copier_command(struct zcp_node *node, const char *line, char *out,
                           size_t cap) {
  struct zcp_error err = {0};
  zcp_status_t st = ZCP_OK;
  int peer = 0, last = 0, len = 0;
  long long id = 0, seq = 0, rows = 0, bytes = 0;
  char name[64] = "";
  if (strncmp(line, "online ", 7) == 0) {
    st = zcp_node_wait_online(node, atoi(line + 7), &err);
  } else if (sscanf(line, "send %d %63s %lld", &peer, name, &rows) == 3) {
    struct zcp_table *t = NULL;
    st = zcp_fixture_table(rows, BATCH_ROWS, NULL, &t, &err);
    if (st == ZCP_OK) st = zcp_node_send_table_full(node, peer, name, t, &err);
    zcp_table_release(t);
  } else if (sscanf(line, "head %d %lld %63s %lld %lld", &peer, &id, name, &rows,
                    &bytes) == 5) {
    /* The first `bytes` of the stream, as a sender would send them, and no more. */
    struct zcp_ipc_buffer buf = {0};
    st = fixture_stream(rows, &buf, &err);
    int64_t part = zcp_config_max_frame(zcp_node_config(node)) - ZCP_COPY_PART_OVERHEAD;
    if (st == ZCP_OK && bytes > buf.size)
      st = zcp_error_set(&err, ZCP_INVALID_ARGUMENT, "the stream has %lld bytes",
                         (long long)buf.size);
    for (int64_t off = 0, s = 0; st == ZCP_OK && off < bytes; off += part, s++) {
      int64_t n = bytes - off < part ? bytes - off : part;
      st =
          zcp__copy_send_part(node, peer, (uint64_t)id, (uint64_t)s, s == 0 ? name : NULL,
                              buf.data + off, n, false, false, &err);
    }
    zcp_ipc_buffer_reset(&buf);
  } else if (sscanf(line, "parts %d %lld %63s %lld %d", &peer, &id, name, &rows, &len) ==
             5) {
    /* The whole stream in parts of len bytes (message prefixes split across parts). */
    struct zcp_ipc_buffer buf = {0};
    st = fixture_stream(rows, &buf, &err);
    int64_t s = 0;
    for (int64_t off = 0; st == ZCP_OK && off < buf.size; off += len, s++) {
      int64_t n = buf.size - off < len ? buf.size - off : len;
      st =
          zcp__copy_send_part(node, peer, (uint64_t)id, (uint64_t)s, s == 0 ? name : NULL,
                              buf.data + off, n, off + n == buf.size, false, &err);
    }
    zcp_ipc_buffer_reset(&buf);
  } else if (sscanf(line, "part %d %lld %lld %d %d %63s", &peer, &id, &seq, &last, &len,
                    name) == 6) {
    uint8_t *data = calloc(1, (size_t)len + 1);
    st = zcp__copy_send_part(node, peer, (uint64_t)id, (uint64_t)seq,
                             strcmp(name, "-") == 0 ? NULL : name, data, len, last != 0,
                             false, &err);
    free(data);
  } else if (sscanf(line, "abort %d %lld", &peer, &id) == 2) {
    st = zcp__copy_send_part(node, peer, (uint64_t)id, 0, NULL, NULL, 0, false, true,
                             &err);
  } else {
    snprintf(out, cap, "fail unknown command '%s'", line);
    return;
  }
  snprintf(out, cap, "st %d %s", (int)st, st != ZCP_OK ? err.message : "");
}

static int copier_role(int argc, char **argv) {
  if (argc != 3) return 100;
  signal(SIGPIPE, SIG_IGN);
  setvbuf(stdout, NULL, _IOLBF, 0);
  struct zcp_node *node = zcp_test_role_open(argv[1], atoi(argv[2]));
  if (node == NULL) return 102;
  zcp_test_role_serve(node, copier_command);
  zcp_node_close(node);
  return 0;
}

static int dispatch(int argc, char **argv) {
  if (strcmp(argv[0], "copier") == 0) return copier_role(argc, argv);
  return 99;
}

__attribute__((constructor)) static void helper_entry(int argc, char **argv) {
  zcp_proc_helper_main(argc, argv, dispatch);
}

/* ---- the receiving test --------------------------------------------------------------
 */

static struct zcp_test_cluster tc;
static struct zcp_proc helper;
static struct zcp_node *self;

static void teardown(void) {
  zcp_test_nodes_down(&tc, &self);
}

TestSuite(cluster_copy, .fini = teardown, .timeout = 60);

static void start_with(const struct zcp_test_keys *extra, int call_timeout_ms) {
  struct zcp_test_keys keys = extra != NULL ? *extra : (struct zcp_test_keys){0};
  if (call_timeout_ms > 0) keys.call_timeout_ms = call_timeout_ms;
  zcp_test_cluster_write(&tc, 2, false, false, false, &keys);
  struct zcp_config *cfg = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_config_load(tc.config, &cfg, &err), ZCP_OK, "%s", err.message);
  zcp_status_t st = zcp_node_open(cfg, 0, &self, &err);
  zcp_config_free(cfg);
  cr_assert_eq(st, ZCP_OK, "%s", err.message);
  const char *args[] = {tc.config, "1", NULL};
  cr_assert(zcp_proc_spawn(&helper, NULL, "copier", args));
  char out[1200];
  cr_assert(zcp_test_node_cmd(&helper, NULL, out, sizeof out, 15000));
  cr_assert_str_eq(out, "ready");
  cr_assert_eq(zcp_node_wait_online(self, 10000, &err), ZCP_OK, "%s", err.message);
  cr_assert(zcp_test_node_cmd(&helper, "online 10000", out, sizeof out, CMD_MS));
  cr_assert_str_eq(out, "st 0 ", "%s", out);
}

static void start(const struct zcp_test_keys *extra) {
  start_with(extra, 0);
}

/* Sends a command to the copier; returns the status it answered. */
static int copier(char *out, size_t cap, const char *fmt, ...) ZCP_PRINTF(3, 4);
static int copier(char *out, size_t cap, const char *fmt, ...) {
  char cmd[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  cr_assert(zcp_test_node_cmd(&helper, cmd, out, (int)cap, CMD_MS), "no answer to %s",
            cmd);
  int st = -1;
  cr_assert_eq(sscanf(out, "st %d", &st), 1, "%s: %s", cmd, out);
  return st;
}

static int64_t used_bytes(void) {
  struct zcp_node_status s;
  zcp_node_status(self, &s);
  return s.bytes_used;
}

/* Waits (bounded) until this node's region has `want` bytes in use; returns the last. */
static int64_t wait_used(bool (*ok)(int64_t have, int64_t want), int64_t want) {
  int64_t have = used_bytes();
  for (int i = 0; i < 1500 && !ok(have, want); i++) {
    usleep(10000);
    have = used_bytes();
  }
  return have;
}
static bool equal(int64_t have, int64_t want) {
  return have == want;
}
static bool above(int64_t have, int64_t want) {
  return have > want;
}

static void same_values(struct zcp_table *got, int64_t rows) {
  struct zcp_table *want = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_fixture_table(rows, BATCH_ROWS, NULL, &want, &err), ZCP_OK, "%s",
               err.message);
  cr_assert_eq(zcp_table_num_rows(got), rows);
  cr_assert_eq(zcp_table_num_batches(got), zcp_table_num_batches(want));
  for (int64_t i = 0; i < zcp_table_num_batches(want); i++) {
    json_t *a = NULL, *b = NULL;
    cr_assert_eq(
        zcp_json_batch_values(zcp_table_batch(got, i), zcp_table_schema(got), &a, &err),
        ZCP_OK, "%s", err.message);
    cr_assert_eq(
        zcp_json_batch_values(zcp_table_batch(want, i), zcp_table_schema(want), &b, &err),
        ZCP_OK, "%s", err.message);
    char where[256] = "";
    cr_assert(zcp_json_same(a, b, where, sizeof where), "batch %lld differs at %s",
              (long long)i, where);
    json_decref(a);
    json_decref(b);
  }
  zcp_table_release(want);
}

/* Every buffer of a (and its children, dictionaries) lies in [lo, hi). */
static int64_t buffers_inside(const struct ArrowArray *a, uintptr_t lo, uintptr_t hi) {
  int64_t n = 0;
  for (int64_t i = 0; i < a->n_buffers; i++) {
    uintptr_t p = (uintptr_t)a->buffers[i];
    if (p == 0) continue;
    cr_assert(p >= lo && p < hi, "buffer %#lx is outside the region [%#lx, %#lx)",
              (unsigned long)p, (unsigned long)lo, (unsigned long)hi);
    n++;
  }
  for (int64_t i = 0; i < a->n_children; i++) n += buffers_inside(a->children[i], lo, hi);
  if (a->dictionary != NULL) n += buffers_inside(a->dictionary, lo, hi);
  return n;
}

Test(cluster_copy, values_identical_in_own_region) {
  start(NULL);
  char out[1200];
  int64_t base = used_bytes();
  cr_assert_eq(copier(out, sizeof out, "send 0 fx 2500"), ZCP_OK, "%s", out);
  struct zcp_table *t = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_node_received_table(self, "fx", &t, &err), ZCP_OK, "%s", err.message);
  same_values(t, 2500);
  void *data = NULL;
  int64_t size = 0;
  cr_assert_eq(zcp_node_region_data(self, 0, &data, &size, &err), ZCP_OK, "%s",
               err.message);
  int64_t n = 0;
  for (int64_t i = 0; i < zcp_table_num_batches(t); i++)
    n += buffers_inside(zcp_table_batch(t, i), (uintptr_t)data, (uintptr_t)data + size);
  cr_assert_gt(n, 0);
  cr_assert_gt(used_bytes(), base);
  /* Dropped and released, the copy's memory is back in the pool. */
  cr_assert_eq(zcp_node_received_drop(self, "fx", &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_node_received_drop(self, "fx", &err), ZCP_NOT_FOUND);
  zcp_table_release(t);
  cr_assert_eq(used_bytes(), base);
  cr_assert_eq(zcp_node_received_table(self, "fx", &t, &err), ZCP_NOT_FOUND);
}

Test(cluster_copy, many_parts) {
  start(&(struct zcp_test_keys){.max_frame = 16 << 10});
  char out[1200];
  struct zcp_ipc_buffer buf = {0};
  struct zcp_error err = {0};
  cr_assert_eq(fixture_stream(6000, &buf, &err), ZCP_OK, "%s", err.message);
  cr_assert_gt(buf.size, 4 * 16 * 1024, "the stream must take several parts");
  zcp_ipc_buffer_reset(&buf);
  cr_assert_eq(copier(out, sizeof out, "send 0 big 6000"), ZCP_OK, "%s", out);
  struct zcp_table *t = NULL;
  cr_assert_eq(zcp_node_received_table(self, "big", &t, &err), ZCP_OK, "%s", err.message);
  same_values(t, 6000);
  zcp_table_release(t);
}

Test(cluster_copy, tiny_parts) {
  start(NULL);
  char out[1200];
  cr_assert_eq(copier(out, sizeof out, "parts 0 5 tiny 60 3"), ZCP_OK, "%s", out);
  struct zcp_table *t = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_node_received_table(self, "tiny", &t, &err), ZCP_OK, "%s",
               err.message);
  same_values(t, 60);
  zcp_table_release(t);
}

Test(cluster_copy, region_too_small) {
  start(NULL);
  char out[1200];
  int64_t base = used_bytes();
  struct zcp_node_status s0, s1;
  zcp_node_status(self, &s0);
  /* The regions are 8 MiB: this stream is larger. */
  struct zcp_ipc_buffer buf = {0};
  struct zcp_error err = {0};
  cr_assert_eq(fixture_stream(120000, &buf, &err), ZCP_OK, "%s", err.message);
  cr_assert_gt(buf.size, 8 << 20);
  zcp_ipc_buffer_reset(&buf);
  cr_assert_eq(copier(out, sizeof out, "send 0 huge 120000"), ZCP_NO_SPACE, "%s", out);
  cr_assert(strstr(out, "region full") != NULL, "%s", out);
  zcp_node_status(self, &s1);
  cr_assert_eq(s1.bytes_used, base);
  cr_assert_eq(s1.live_blocks, s0.live_blocks);
  struct zcp_table *t = NULL;
  cr_assert_eq(zcp_node_received_table(self, "huge", &t, &err), ZCP_NOT_FOUND);
  /* The name is free again and the region still usable. */
  cr_assert_eq(copier(out, sizeof out, "send 0 huge 100"), ZCP_OK, "%s", out);
}

Test(cluster_copy, name_in_use) {
  start(NULL);
  char out[1200];
  cr_assert_eq(copier(out, sizeof out, "send 0 same 100"), ZCP_OK, "%s", out);
  int64_t used = used_bytes();
  cr_assert_eq(copier(out, sizeof out, "send 0 same 50"), ZCP_BUSY, "%s", out);
  cr_assert(strstr(out, "same") != NULL, "%s", out);
  cr_assert_eq(used_bytes(), used);
  struct zcp_error err = {0};
  cr_assert_eq(zcp_node_received_drop(self, "same", &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(copier(out, sizeof out, "send 0 same 50"), ZCP_OK, "%s", out);
  struct zcp_table *t = NULL;
  cr_assert_eq(zcp_node_received_table(self, "same", &t, &err), ZCP_OK, "%s",
               err.message);
  cr_assert_eq(zcp_table_num_rows(t), 50);
  zcp_table_release(t);
}

Test(cluster_copy, peer_down) {
  start(NULL);
  struct zcp_table *t = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_fixture_table(100, BATCH_ROWS, NULL, &t, &err), ZCP_OK, "%s",
               err.message);
  kill(helper.pid, SIGKILL);
  cr_assert_eq(zcp_proc_wait(&helper, 10000), 128 + SIGKILL);
  cr_assert_eq(zcp_node_wait_peer(self, 1, false, 10000, &err), ZCP_OK, "%s",
               err.message);
  cr_assert_eq(zcp_node_send_table_full(self, 1, "gone", t, &err), ZCP_PEER_DOWN, "%s",
               err.message);
  cr_assert(strstr(err.message, "gone") != NULL, "%s", err.message);
  cr_assert_eq(zcp_node_send_table_full(self, 0, "self", t, &err), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_node_send_table_full(self, 1, "", t, &err), ZCP_INVALID_ARGUMENT);
  zcp_table_release(t);
}

/* Has the copier send the first half of a 30000-row stream as transfer id, name. */
static void send_half(int id, const char *name, char *out, size_t cap) {
  struct zcp_ipc_buffer buf = {0};
  struct zcp_error err = {0};
  cr_assert_eq(fixture_stream(30000, &buf, &err), ZCP_OK, "%s", err.message);
  long long half = buf.size / 2;
  zcp_ipc_buffer_reset(&buf);
  cr_assert_eq(copier(out, cap, "head 0 %d %s 30000 %lld", id, name, half), ZCP_OK, "%s",
               out);
}

Test(cluster_copy, killed_sender_partial_freed) {
  start(&(struct zcp_test_keys){.max_frame = 64 << 10});
  char out[1200];
  int64_t base = used_bytes();
  /* Several whole batches are built here, then the sender dies. */
  send_half(7, "part", out, sizeof out);
  cr_assert_gt(wait_used(above, base), base);
  kill(helper.pid, SIGKILL);
  cr_assert_eq(zcp_proc_wait(&helper, 10000), 128 + SIGKILL);
  cr_assert_eq(wait_used(equal, base), base, "the partial table was not freed");
  struct zcp_table *t = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_node_received_table(self, "part", &t, &err), ZCP_NOT_FOUND);
}

Test(cluster_copy, quiet_sender_times_out) {
  start_with(&(struct zcp_test_keys){.max_frame = 64 << 10}, 1500);
  char out[1200];
  int64_t base = used_bytes();
  send_half(8, "quiet", out, sizeof out);
  /* The sender lives on but sends nothing more: after call_timeout_ms it is dropped. */
  cr_assert_eq(wait_used(equal, base), base, "the partial table was not freed");
  cr_assert_eq(copier(out, sizeof out, "part 0 8 1 0 0 -"), ZCP_NOT_FOUND, "%s", out);
  /* The name is free again. */
  cr_assert_eq(copier(out, sizeof out, "send 0 quiet 100"), ZCP_OK, "%s", out);
}

Test(cluster_copy, bad_parts_refused) {
  start(&(struct zcp_test_keys){.max_frame = 16 << 10});
  char out[1200];
  int64_t base = used_bytes();
  cr_assert_eq(copier(out, sizeof out, "part 0 1 0 0 0 p1"), ZCP_OK, "%s", out);
  cr_assert_eq(copier(out, sizeof out, "part 0 1 2 0 0 -"), ZCP_INVALID_ARGUMENT, "%s",
               out);
  cr_assert(strstr(out, "out of order") != NULL, "%s", out);
  cr_assert_eq(copier(out, sizeof out, "part 0 1 1 0 0 -"), ZCP_OK, "%s", out);
  cr_assert_eq(copier(out, sizeof out, "part 0 1 1 0 0 -"), ZCP_INVALID_ARGUMENT, "%s",
               out);
  cr_assert(strstr(out, "duplicate") != NULL, "%s", out);
  cr_assert_eq(copier(out, sizeof out, "part 0 1 0 0 0 p1"), ZCP_INVALID_ARGUMENT, "%s",
               out);
  /* Fits the frame, not the part limit. */
  cr_assert_eq(copier(out, sizeof out, "part 0 1 2 0 %d -", 16 * 1024 - 512),
               ZCP_INVALID_ARGUMENT, "%s", out);
  cr_assert_eq(copier(out, sizeof out, "part 0 99 3 0 0 -"), ZCP_NOT_FOUND, "%s", out);
  /* A transfer under a name in use, a transfer without a name. */
  cr_assert_eq(copier(out, sizeof out, "part 0 2 0 0 0 p1"), ZCP_BUSY, "%s", out);
  cr_assert_eq(copier(out, sizeof out, "part 0 2 0 0 0 -"), ZCP_INVALID_ARGUMENT, "%s",
               out);
  /* At most ZCP_COPY_MAX_TRANSFERS open per sender. */
  for (int i = 1; i < ZCP_COPY_MAX_TRANSFERS; i++)
    cr_assert_eq(copier(out, sizeof out, "part 0 %d 0 0 0 p%d", 10 + i, 10 + i), ZCP_OK,
                 "%s", out);
  cr_assert_eq(copier(out, sizeof out, "part 0 20 0 0 0 p20"), ZCP_BUSY, "%s", out);
  cr_assert(strstr(out, "transfers open") != NULL, "%s", out);
  /* Garbage for a stream: the decoder refuses it, and the transfer is gone. */
  cr_assert_eq(copier(out, sizeof out, "part 0 1 2 1 64 -"), ZCP_CORRUPT_INPUT, "%s",
               out);
  cr_assert_eq(copier(out, sizeof out, "part 0 1 3 0 0 -"), ZCP_NOT_FOUND, "%s", out);
  for (int i = 1; i < ZCP_COPY_MAX_TRANSFERS; i++)
    cr_assert_eq(copier(out, sizeof out, "abort 0 %d", 10 + i), ZCP_OK, "%s", out);
  /* Room again, and nothing left allocated. */
  cr_assert_eq(copier(out, sizeof out, "send 0 p1 100"), ZCP_OK, "%s", out);
  struct zcp_error err = {0};
  cr_assert_eq(zcp_node_received_drop(self, "p1", &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(wait_used(equal, base), base);
}
