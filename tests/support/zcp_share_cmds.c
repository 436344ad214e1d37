/* See zcp_share_cmds.h. Commands (OWNER: the node whose region holds the memory):
 *   share NAME OWNER FIRST N     fixture rows [FIRST, FIRST+N) shared as NAME
 *   lookup NAME FIRST N          import NAME, check every value; "st 0 CHECKSUM"
 *   list                         "st 0 COUNT name/kind/creator/stale ..."
 *   drop NAME MS                 drop (creator only)
 *   hdrop NAME MS                drop a huge table
 *   lease NAME TTL_MS            "st 0 ID";  release NAME ID
 *   chunk NAME OWNER FIRST N     huge table chunk of fixture rows
 *   chunk1 NAME OWNER FIRST N    a chunk of another schema (one int64 column)
 *   commit NAME TOTAL MS         commit;  open NAME TOTAL MS: open, check, checksum
 *   sql NAME TOTAL MS            open, register in DuckDB, check aggregates ("st 77" if
 *                                DuckDB is missing)
 *   unsealed OWNER               encode a batch in OWNER's region without sealing it and
 *                                import it: the status of the import
 *   used                         "st 0 BYTES BLOCKS" of this node's pool
 *   fill OWNER BYTES VALUE       a block in OWNER's region set to VALUE (a byte), written
 *                                back as a writer must, then freed: "st 0 ADDRESS 0"
 *   zeros OWNER BYTES            a fresh block in OWNER's region, then freed:
 *                                "st 0 ADDRESS NONZERO", how many of its bytes are not
 *                                the zeros it must hold
 *   emu                          "st 0 ON FILLED WRITTEN_BACK DROPPED EVICTED": whether
 *                                this process emulates non-coherent caches, and how much
 *                                it did (proves an emulated run really was one) */
#define _GNU_SOURCE 1
#include "zcp_share_cmds.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zcp_fixture.h"
#include "zcp_test.h"
#include "zcpool/descriptor.h"
#include "zcpool/fabric.h"
#include "zcpool/hugetable.h"
#include "zcpool/sql.h"

static uint64_t fnv(uint64_t h, const char *s) {
  for (; *s; s++) h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
  return (h ^ 0xff) * 0x100000001b3ull;
}

/* Compares every cell of t (rows [first, first + n)) with the fixture. */
static zcp_status_t check_table(struct zcp_table *t, int64_t first, int64_t n,
                                uint64_t *sum, char *why, size_t cap) {
  struct zcp_error err = {0};
  struct ArrowSchema rs;
  struct ArrowArray ra;
  if (zcp_table_num_rows(t) != n) {
    snprintf(why, cap, "%lld rows, want %lld", (long long)zcp_table_num_rows(t),
             (long long)n);
    return ZCP_CORRUPT_INPUT;
  }
  if (zcp_fixture_schema(&rs, &err) != ZCP_OK ||
      zcp_fixture_batch(first, n, NULL, &ra, &err) != ZCP_OK) {
    snprintf(why, cap, "fixture: %.200s", err.message);
    return err.code;
  }
  struct zcp_array_view rv, tv;
  zcp_status_t st = zcp_array_view_init(&ra, &rs, &rv, &err);
  uint64_t h = 0xcbf29ce484222325ull;
  int64_t row = 0;
  char a[256], b[256];
  for (int64_t k = 0; k < zcp_table_num_batches(t) && st == ZCP_OK; k++) {
    const struct ArrowArray *batch = zcp_table_batch(t, k);
    st = zcp_array_view_init(batch, zcp_table_schema(t), &tv, &err);
    if (st != ZCP_OK) break;
    for (int64_t i = 0; i < batch->length && st == ZCP_OK; i++, row++) {
      for (int64_t c = 0; c < rv.n_children && st == ZCP_OK; c++) {
        zcp_array_view_format(&rv.children[c], row, a, sizeof a);
        zcp_array_view_format(&tv.children[c], i, b, sizeof b);
        if (strcmp(a, b) != 0) {
          snprintf(why, cap, "row %lld column %lld: %.60s, want %.60s",
                   (long long)(first + row), (long long)c, b, a);
          st = ZCP_CORRUPT_INPUT;
        }
        h = fnv(h, b);
      }
    }
    zcp_array_view_reset(&tv);
  }
  if (st != ZCP_OK && why[0] == 0) snprintf(why, cap, "%.200s", err.message);
  zcp_array_view_reset(&rv);
  ra.release(&ra);
  rs.release(&rs);
  *sum = h;
  return st;
}

uint64_t zcp_test_fixture_checksum(int64_t first, int64_t n) {
  struct zcp_error err = {0};
  struct ArrowSchema rs;
  struct ArrowArray ra;
  if (zcp_fixture_schema(&rs, &err) != ZCP_OK) return 0;
  if (zcp_fixture_batch(first, n, NULL, &ra, &err) != ZCP_OK) {
    rs.release(&rs);
    return 0;
  }
  struct zcp_table *t = NULL;
  uint64_t h = 0;
  char why[300] = "";
  if (zcp_table_init(&rs, &t, &err) == ZCP_OK &&
      zcp_table_append(t, &ra, ZCP_VALIDATE_DEFAULT, &err) == ZCP_OK)
    (void)check_table(t, first, n, &h, why, sizeof why);
  if (ra.release != NULL) ra.release(&ra);
  rs.release(&rs);
  zcp_table_release(t);
  return h;
}

/* A fixture batch of rows [first, first + n) in owner's region (one=true: a single
 * int64 column "x" instead). */
static zcp_status_t build(struct zcp_node *node, int owner, int64_t first, int64_t n,
                          bool one, struct ArrowSchema *s, struct ArrowArray *a,
                          struct zcp_error *err) {
  struct zcp_allocator *alloc = NULL;
  ZCP_RETURN_NOT_OK(zcp_node_allocator(node, owner, &alloc, err));
  if (!one) {
    ZCP_RETURN_NOT_OK(zcp_fixture_schema(s, err));
    zcp_status_t st = zcp_fixture_batch(first, n, alloc, a, err);
    if (st != ZCP_OK) s->release(s);
    return st;
  }
  struct ArrowSchema col;
  struct zcp_builder *b = NULL;
  ZCP_RETURN_NOT_OK(zcp_schema_init("+s", "", 0, 1, s, err));
  zcp_status_t st = zcp_schema_set_format(s->children[0], "l") == ZCP_OK &&
                            zcp_schema_set_name(s->children[0], "x") == ZCP_OK
                        ? ZCP_OK
                        : zcp_error_set(err, ZCP_OUT_OF_MEMORY, "schema");
  s->children[0]->flags = ARROW_FLAG_NULLABLE;
  if (st == ZCP_OK) st = zcp_schema_copy(s, &col, err);
  if (st == ZCP_OK) {
    st = zcp_builder_init(&col, alloc, &b, err);
    col.release(&col);
  }
  for (int64_t i = 0; i < n && st == ZCP_OK; i++) {
    st = zcp_builder_append_int(zcp_builder_child(b, 0), first + i);
    if (st == ZCP_OK) st = zcp_builder_finish_element(b);
  }
  struct ArrowSchema out_s;
  if (st == ZCP_OK) st = zcp_builder_finish(b, a, &out_s, err);
  if (st == ZCP_OK) out_s.release(&out_s);
  zcp_builder_release(b);
  if (st != ZCP_OK) s->release(s);
  return st;
}

static void answer(char *out, size_t cap, zcp_status_t st, const char *extra,
                   const struct zcp_error *err) {
  snprintf(out, cap, "st %d %s%s", (int)st, extra, st != ZCP_OK ? err->message : "");
}

static void cmd_open_check(struct zcp_node *node, const char *name, int64_t total, int ms,
                           bool sql, char *out, size_t cap) {
  struct zcp_error err = {0};
  struct zcp_table *t = NULL;
  zcp_status_t st = zcp_hugetable_import(node, name, ZCP_VALIDATE_FULL, ms, &t, &err);
  if (st != ZCP_OK) return answer(out, cap, st, "", &err);
  char why[300] = "", extra[64];
  uint64_t h = 0;
  st = check_table(t, 0, total, &h, why, sizeof why);
  if (st != ZCP_OK) {
    zcp_table_release(t);
    snprintf(out, cap, "st %d check: %s", (int)st, why);
    return;
  }
  snprintf(extra, sizeof extra, "%" PRIu64 " ", h);
  if (!sql) {
    zcp_table_release(t);
    return answer(out, cap, st, extra, &err);
  }
  const char *lib = zcp_test_duckdb_lib();
  if (lib == NULL) {
    zcp_table_release(t);
    snprintf(out, cap, "st 77 no libduckdb");
    return;
  }
  __int128 s64 = 0, s32 = 0;
  int64_t n32 = 0;
  for (int64_t r = 0; r < total; r++) {
    s64 += fx_i64(r);
    if (zcp_fixture_null(r)) continue;
    n32++;
    s32 += fx_i32(r);
  }
  struct zcp_sql *q = NULL;
  struct zcp_sql_result *res = NULL;
  st = zcp_sql_open(lib, &q, &err);
  if (st == ZCP_OK) st = zcp_sql_register(q, "t", t, &err);
  if (st == ZCP_OK)
    st = zcp_sql_query(q,
                       "SELECT count(*), count(i32), sum(i32)::BIGINT, "
                       "(sum(i64) % 1000000007)::BIGINT FROM t",
                       &res, &err);
  if (st == ZCP_OK) {
    int64_t want[4] = {total, n32, (int64_t)s32, (int64_t)(s64 % 1000000007)};
    for (int c = 0; c < 4 && st == ZCP_OK; c++) {
      int64_t got = zcp_sql_result_int(res, 0, c);
      if (got != want[c]) {
        st = ZCP_CORRUPT_INPUT;
        snprintf(err.message, sizeof err.message, "sql column %d: %lld, want %lld", c,
                 (long long)got, (long long)want[c]);
      }
    }
  }
  zcp_sql_result_free(res);
  zcp_sql_close(q, NULL);
  zcp_table_release(t);
  answer(out, cap, st, extra, &err);
}

/* fill / zeros: raw blocks, for the owner's clearing of reused memory. */
static void cmd_block(struct zcp_node *node, int owner, int64_t bytes, int value,
                      char *out, size_t cap) {
  struct zcp_error err = {0};
  uint8_t *p = NULL;
  zcp_status_t st = zcp_node_alloc(node, owner, bytes, (void **)&p, &err);
  if (st != ZCP_OK) {
    answer(out, cap, st, "", &err);
    return;
  }
  int64_t nonzero = 0;
  if (value >= 0) {
    memset(p, value, (size_t)bytes);
    zcp_cache_writeback(p, bytes);
    zcp_cache_fence();
  } else {
    for (int64_t i = 0; i < bytes; i++) nonzero += p[i] != 0;
  }
  st = zcp_node_free(node, owner, p, &err);
  char extra[64];
  snprintf(extra, sizeof extra, "%llu %lld ", (unsigned long long)(uintptr_t)p,
           (long long)nonzero);
  answer(out, cap, st, extra, &err);
}

static void cmd_unsealed(struct zcp_node *node, int owner, char *out, size_t cap) {
  struct zcp_error err = {0};
  struct ArrowSchema s, s2;
  struct ArrowArray a, a2;
  zcp_status_t st = build(node, owner, 0, 100, false, &s, &a, &err);
  if (st != ZCP_OK) return answer(out, cap, st, "build ", &err);
  struct zcp_descriptor_memory mem;
  zcp_node_memory(node, &mem);
  uint8_t *d = NULL;
  int64_t size = 0;
  st = zcp_descriptor_encode(&s, &a, &mem, &d, &size, &err);
  if (st == ZCP_OK) {
    st = zcp_descriptor_decode(d, size, &mem, ZCP_VALIDATE_DEFAULT, &s2, &a2, &err);
    if (st == ZCP_OK) {
      s2.release(&s2);
      a2.release(&a2);
    }
  }
  zcp_descriptor_free(d);
  a.release(&a);
  s.release(&s);
  answer(out, cap, st, "", &err);
}

bool zcp_test_share_cmd(struct zcp_node *node, const char *line, char *out, size_t cap) {
  char name[ZCP_SHARE_NAME_MAX];
  int owner = 0, ms = 0;
  long long first = 0, n = 0;
  unsigned long long id = 0;
  struct zcp_error err = {0};
  zcp_status_t st;
  struct ArrowSchema s;
  struct ArrowArray a;
  bool one = strncmp(line, "chunk1 ", 7) == 0;
  if (sscanf(line, "share %127s %d %lld %lld", name, &owner, &first, &n) == 4 ||
      sscanf(line, "chunk %127s %d %lld %lld", name, &owner, &first, &n) == 4 ||
      sscanf(line, "chunk1 %127s %d %lld %lld", name, &owner, &first, &n) == 4) {
    st = build(node, owner, first, n, one, &s, &a, &err);
    if (st == ZCP_OK) {
      st = line[0] == 's' ? zcp_node_share(node, name, &s, &a, &err)
                          : zcp_hugetable_add_chunk(node, name, first, &s, &a, &err);
      if (a.release != NULL) a.release(&a); /* not moved: the share failed */
      s.release(&s);
    }
    answer(out, cap, st, "", &err);
  } else if (sscanf(line, "lookup %127s %lld %lld", name, &first, &n) == 3) {
    struct zcp_table *t = NULL;
    st = zcp_node_import(node, name, ZCP_VALIDATE_FULL, &t, &err);
    if (st != ZCP_OK) return answer(out, cap, st, "", &err), true;
    char why[300] = "";
    uint64_t h = 0;
    st = check_table(t, first, n, &h, why, sizeof why);
    zcp_table_release(t);
    if (st != ZCP_OK)
      snprintf(out, cap, "st %d check: %s", (int)st, why);
    else
      snprintf(out, cap, "st 0 %" PRIu64, h);
  } else if (strcmp(line, "list") == 0) {
    struct zcp_share_info *v = NULL;
    int64_t k = 0;
    st = zcp_node_list(node, &v, &k, &err);
    if (st != ZCP_OK) return answer(out, cap, st, "", &err), true;
    int at = snprintf(out, cap, "st 0 %lld", (long long)k);
    for (int64_t i = 0; i < k && at < (int)cap - 1; i++)
      at += snprintf(out + at, cap - (size_t)at, " %s/%d/%d/%d", v[i].name,
                     (int)v[i].kind, (int)v[i].creator, (int)v[i].stale);
    free(v);
  } else if (sscanf(line, "drop %127s %d", name, &ms) == 2) {
    st = zcp_node_drop(node, name, ms, &err);
    answer(out, cap, st, "", &err);
  } else if (sscanf(line, "hdrop %127s %d", name, &ms) == 2) {
    st = zcp_hugetable_drop(node, name, ms, &err);
    answer(out, cap, st, "", &err);
  } else if (sscanf(line, "lease %127s %d", name, &ms) == 2) {
    uint64_t lid = 0;
    char extra[32];
    st = zcp_node_lease(node, name, ms, &lid, &err);
    snprintf(extra, sizeof extra, "%llu ", (unsigned long long)lid);
    answer(out, cap, st, extra, &err);
  } else if (sscanf(line, "release %127s %llu", name, &id) == 2) {
    st = zcp_node_lease_release(node, name, id, &err);
    answer(out, cap, st, "", &err);
  } else if (sscanf(line, "commit %127s %lld %d", name, &n, &ms) == 3) {
    st = zcp_hugetable_commit(node, name, n, ms, &err);
    answer(out, cap, st, "", &err);
  } else if (sscanf(line, "open %127s %lld %d", name, &n, &ms) == 3) {
    cmd_open_check(node, name, n, ms, false, out, cap);
  } else if (sscanf(line, "sql %127s %lld %d", name, &n, &ms) == 3) {
    cmd_open_check(node, name, n, ms, true, out, cap);
  } else if (sscanf(line, "unsealed %d", &owner) == 1) {
    cmd_unsealed(node, owner, out, cap);
  } else if (sscanf(line, "fill %d %lld %d", &owner, &n, &ms) == 3) {
    cmd_block(node, owner, n, ms & 0xff, out, cap);
  } else if (sscanf(line, "zeros %d %lld", &owner, &n) == 2) {
    cmd_block(node, owner, n, -1, out, cap);
  } else if (strcmp(line, "used") == 0) {
    struct zcp_node_status ns;
    zcp_node_status(node, &ns);
    snprintf(out, cap, "st 0 %lld %lld", (long long)ns.bytes_used,
             (long long)ns.live_blocks);
  } else if (strcmp(line, "emu") == 0) {
    struct zcp_emulator_stats es;
    zcp_emulator_stats_get(&es);
    snprintf(out, cap, "st 0 %d %lld %lld %lld %lld", (int)zcp_emulator_enabled(),
             (long long)es.pages_filled, (long long)es.lines_written_back,
             (long long)es.pages_dropped, (long long)es.pages_evicted);
  } else {
    return false;
  }
  return true;
}
