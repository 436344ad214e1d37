/* Sharing on a node alone in this process (its own region, no peers): bad arguments are
 * typed errors and leave the batch with the caller; a batch outside the cluster's memory
 * is refused; share, import, lease, drop and a one-chunk huge table work locally and the
 * pool gets its bytes back. The multi-node behaviour is in
 * tests/integration/cluster_share.c. */
#define _GNU_SOURCE 1
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "cluster/share/share.h"
#include "zcp_cluster_test.h"
#include "zcp_fixture.h"
#include "zcp_share_cmds.h"
#include "zcpool/hugetable.h"

static struct zcp_test_cluster tc;
static struct zcp_node *node;

static void teardown(void) {
  zcp_test_nodes_down(&tc, &node);
}

TestSuite(share, .fini = teardown, .timeout = 60);

static void open_one(void) {
  struct zcp_config *cfg = NULL;
  struct zcp_error err = {0};
  zcp_test_cluster_write(&tc, 1, false, false, false, NULL);
  cr_assert_eq(zcp_config_load(tc.config, &cfg, &err), ZCP_OK, "%s", err.message);
  zcp_status_t st = zcp_node_open(cfg, 0, &node, &err);
  zcp_config_free(cfg);
  cr_assert_eq(st, ZCP_OK, "%s", err.message);
}

static void cmd(const char *line, const char *want_prefix) {
  char out[1024];
  cr_assert(zcp_test_share_cmd(node, line, out, sizeof out), "%s", line);
  cr_assert(strncmp(out, want_prefix, strlen(want_prefix)) == 0, "%s: %s", line, out);
}

Test(share, bad_arguments_are_typed_and_leave_the_batch) {
  open_one();
  struct zcp_error err = {0};
  struct ArrowSchema s;
  struct ArrowArray a;
  cr_assert_eq(zcp_fixture_schema(&s, &err), ZCP_OK);
  /* Heap memory is not the cluster's: refused, and the batch is still ours. */
  cr_assert_eq(zcp_fixture_batch(0, 10, NULL, &a, &err), ZCP_OK);
  cr_assert_eq(zcp_node_share(node, "x", &s, &a, &err), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(err.message, "not in the cluster's memory") != NULL, "%s",
            err.message);
  cr_assert_not_null(a.release);
  cr_assert_eq(zcp_hugetable_add_chunk(node, "h", 0, &s, &a, &err), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_node_share(node, "", &s, &a, &err), ZCP_INVALID_ARGUMENT);
  char longname[300];
  memset(longname, 'n', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  cr_assert_eq(zcp_node_share(node, longname, &s, &a, &err), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_node_share(node, "x", &s, NULL, &err), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_hugetable_add_chunk(node, "h", -1, &s, &a, &err),
               ZCP_INVALID_ARGUMENT);
  a.release(&a);
  s.release(&s);
  struct zcp_table *t = NULL;
  cr_assert_eq(zcp_node_import(node, "x", ZCP_VALIDATE_FULL, &t, &err), ZCP_NOT_FOUND);
  cr_assert_null(t);
  cr_assert_eq(zcp_hugetable_commit(node, "h", -5, 0, &err), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_hugetable_import(node, "h", ZCP_VALIDATE_FULL, 0, &t, &err),
               ZCP_INCOMPLETE);
  uint64_t id = 0;
  cr_assert_eq(zcp_node_lease(node, "x", 1000, &id, &err), ZCP_NOT_FOUND);
  cr_assert_eq(zcp_node_lease(node, "x", 0, &id, &err), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_node_drop(node, "x", 0, &err), ZCP_NOT_FOUND);
}

Test(share, local_share_lease_drop_and_huge_table) {
  open_one();
  struct zcp_node_status st0, st1;
  zcp_node_status(node, &st0);
  cmd("share t 0 0 200", "st 0");
  cmd("share t 0 0 20", "st 5 "); /* the name is taken */
  char want[64];
  snprintf(want, sizeof want, "st 0 %llu",
           (unsigned long long)zcp_test_fixture_checksum(0, 200));
  cmd("lookup t 0 200", want);
  cmd("lookup t 1 200", "st 9 check: row 1 column 0"); /* the check itself can fail */
  cmd("lease t 60000", "st 0 1 ");
  cmd("drop t 50", "st 6 ");
  cmd("release t 1", "st 0");
  cmd("release t 1", "st 4 ");
  cmd("drop t 1000", "st 0");
  zcp_node_status(node, &st1);
  cr_assert_eq(st1.bytes_used, st0.bytes_used, "the drop gave the blocks back");
  cmd("chunk h 0 0 150", "st 0");
  cmd("chunk h 0 100 10", "st 9 ");
  cmd("open h 150 0", "st 14 ");
  cmd("commit h 150 1000", "st 0");
  snprintf(want, sizeof want, "st 0 %llu",
           (unsigned long long)zcp_test_fixture_checksum(0, 150));
  cmd("open h 150 1000", want);
  cmd("list", "st 0 2 h/1/0/0 h/2/0/0");
}

/* Serves a Publish of a huge table's entry as if node `from` had sent it. */
static zcp_status_t publish_from(int32_t from, enum zcp_share_kind kind, int64_t first_row,
                                 int64_t rows, const int64_t *listed, size_t n_listed) {
  Zcpool__Publish m = ZCPOOL__PUBLISH__INIT;
  m.name = "h";
  m.kind = (Zcpool__EntryKind)kind;
  m.creator = from;
  m.creator_epoch = 7;
  m.descriptor.data = (uint8_t *)listed;
  m.descriptor.len = n_listed * sizeof *listed;
  m.rows = rows;
  m.first_row = first_row;
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  req.call_case = ZCPOOL__REQUEST__CALL_PUBLISH;
  req.publish = &m;
  Zcpool__Response resp = ZCPOOL__RESPONSE__INIT;
  struct zcp__rpc_peer who = {from, 7};
  zcp__member_serve(node, &who, &req, &resp); /* the node's own dispatch */
  cr_assert_neq(resp.status, ZCP_UNSUPPORTED, "Publish is not served: %s", resp.message);
  free(resp.message == protobuf_c_empty_string ? NULL : resp.message);
  return (zcp_status_t)resp.status;
}

/* A chunk's Publish goes to every replica in parallel, so the committer may count a
 * chunk (its own replica has it) and its manifest may reach a third node before the
 * chunk does. That chunk must still be taken there; a chunk the manifest does not list
 * is refused as too late. */
Test(share, manifest_before_its_own_chunk_is_not_a_late_chunk) {
  struct zcp_config *cfg = NULL;
  struct zcp_error err = {0};
  zcp_test_cluster_write(&tc, 3, false, false, false, NULL);
  cr_assert_eq(zcp_config_load(tc.config, &cfg, &err), ZCP_OK, "%s", err.message);
  zcp_status_t st = zcp_node_open(cfg, 0, &node, &err);
  zcp_config_free(cfg);
  cr_assert_eq(st, ZCP_OK, "%s", err.message);
  int64_t first_rows[] = {0, 100};
  cr_assert_eq(publish_from(1, ZCP_SHARE_CHUNK, 0, 100, NULL, 0), ZCP_OK);
  cr_assert_eq(publish_from(1, ZCP_SHARE_MANIFEST, 0, 150, first_rows, 2), ZCP_OK);
  cr_assert_eq(publish_from(2, ZCP_SHARE_CHUNK, 100, 50, NULL, 0), ZCP_OK);
  cr_assert_eq(publish_from(2, ZCP_SHARE_CHUNK, 150, 10, NULL, 0), ZCP_BUSY);
  struct zcp_share_info *info = NULL;
  int64_t n = 0;
  cr_assert_eq(zcp_node_list(node, &info, &n, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(n, 3, "two chunks and the manifest");
  free(info);
}

/* DESIGN §7: the sealing node walks the values once; a batch that fails is neither
 * sealed nor shared; importers at DEFAULT rely on the record (a rogue writer's later
 * change is not seen there), FULL walks again and sees it. */
Test(share, values_are_checked_once_when_sealed) {
  open_one();
  struct zcp_error err = {0};
  struct zcp_allocator *pool = NULL;
  cr_assert_eq(zcp_node_allocator(node, 0, &pool, &err), ZCP_OK, "%s", err.message);
  struct ArrowSchema s;
  struct ArrowArray a;
  cr_assert_eq(zcp_fixture_schema(&s, &err), ZCP_OK);
  cr_assert_eq(zcp_fixture_batch(0, 200, pool, &a, &err), ZCP_OK, "%s", err.message);
  int32_t *loffs = (int32_t *)a.children[FX_LIST]->buffers[1];
  int32_t saved = loffs[100];
  loffs[100] = loffs[102] + 1; /* first and last fine, the middle goes backwards */
  cr_assert_eq(zcp_node_share(node, "bad", &s, &a, &err), ZCP_CORRUPT_INPUT);
  cr_assert(strstr(err.message, "not monotonic") != NULL, "%s", err.message);
  cr_assert_not_null(a.release, "a refused batch stays with the caller");
  cr_assert_eq(zcp_hugetable_add_chunk(node, "badh", 0, &s, &a, &err), ZCP_CORRUPT_INPUT);
  cr_assert(strstr(err.message, "not monotonic") != NULL, "%s", err.message);
  struct zcp_table *t = NULL;
  cr_assert_eq(zcp_node_import(node, "bad", ZCP_VALIDATE_MINIMAL, &t, &err),
               ZCP_NOT_FOUND, "nothing was published");
  struct zcp_block_info info;
  struct zcp_pool *mine = zcp__memory_of(node)->pool;
  zcp_status_t fb = zcp_pool_find_block(
      mine, (uint8_t *)loffs - (uint8_t *)zcp_pool_base(mine), 0, &info, &err);
  cr_assert(fb == ZCP_INVALID_ARGUMENT && strstr(err.message, "not sealed") != NULL,
            "nothing was sealed: %s", err.message);

  loffs[100] = saved;
  cr_assert_eq(zcp_node_share(node, "good", &s, &a, &err), ZCP_OK, "%s", err.message);
  /* A rogue writer changes the sealed offsets afterwards. */
  loffs[100] = loffs[102] + 1;
  cr_assert_eq(zcp_node_import(node, "good", ZCP_VALIDATE_DEFAULT, &t, &err), ZCP_OK,
               "DEFAULT relies on the seal's walk: %s", err.message);
  zcp_table_release(t);
  cr_assert_eq(zcp_node_import(node, "good", ZCP_VALIDATE_FULL, &t, &err),
               ZCP_CORRUPT_INPUT, "FULL walks everything again");
  cr_assert(strstr(err.message, "not monotonic") != NULL, "%s", err.message);
  loffs[100] = saved;

  /* Sealed without a walk (MINIMAL): an import at DEFAULT walks what it asks for. */
  cr_assert_eq(zcp_node_set_seal_check(node, ZCP_VALIDATE_MINIMAL, &err), ZCP_OK);
  cr_assert_eq(zcp_fixture_batch(0, 200, pool, &a, &err), ZCP_OK, "%s", err.message);
  int32_t *moffs = (int32_t *)a.children[FX_LIST]->buffers[1];
  moffs[100] = moffs[102] + 1;
  cr_assert_eq(zcp_node_share(node, "unchecked", &s, &a, &err), ZCP_OK, "%s",
               err.message);
  cr_assert_eq(zcp_node_import(node, "unchecked", ZCP_VALIDATE_DEFAULT, &t, &err),
               ZCP_CORRUPT_INPUT);
  cr_assert(strstr(err.message, "not monotonic") != NULL, "%s", err.message);

  /* FULL at seal refuses what only FULL sees (UTF-8). */
  cr_assert_eq(zcp_node_set_seal_check(node, ZCP_VALIDATE_FULL, &err), ZCP_OK);
  cr_assert_eq(zcp_fixture_batch(0, 200, pool, &a, &err), ZCP_OK, "%s", err.message);
  struct ArrowArray *str = a.children[FX_STR];
  ((uint8_t *)str->buffers[2])[((int32_t *)str->buffers[1])[1]] = 0xff;
  cr_assert_eq(zcp_node_share(node, "utf8", &s, &a, &err), ZCP_CORRUPT_INPUT);
  cr_assert(strstr(err.message, "UTF-8") != NULL, "%s", err.message);
  cr_assert_eq(zcp_node_set_seal_check(node, ZCP_VALIDATE_DEFAULT, &err), ZCP_OK);
  cr_assert_eq(zcp_node_share(node, "utf8", &s, &a, &err), ZCP_OK, "DEFAULT: %s",
               err.message);
  cr_assert_eq(zcp_node_set_seal_check(node, 5, &err), ZCP_INVALID_ARGUMENT);
  s.release(&s);
}
