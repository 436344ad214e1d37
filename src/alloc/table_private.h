/* The allocation table's record layout, shared by table.c (the rules) and table_check.c
 * (the self-check of its invariants, listed at the top of table.c). Internal to those two
 * files: everything else goes through table.h. */
#ifndef ZCP_ALLOC_TABLE_PRIVATE_H
#define ZCP_ALLOC_TABLE_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "alloc/table.h"
#include "alloc/tlsf.h"

enum { STATE_MOVING = 3 }; /* old half of a realloc whose copy is under way */
enum { STATE_TIERED = 4 }; /* a tier block: the real state is in its tier word */
enum { OP_ALLOC = 1, OP_REALLOC = 2, OP_FREE = 3 };
#define NIL ZCP__TLSF_NIL
#define FREED_RING 64

typedef unsigned long long ull;
typedef long long ll;

struct entry {
  int32_t node;
  uint8_t state;
  uint64_t epoch, request_id;
  uint32_t prev, next; /* the owning client's list */
};

/* A remembered answer: slot (request id % HISTORY) of a client. */
struct answer {
  uint64_t epoch, id;
  int64_t offset;
  uint8_t op;
};

struct client {
  uint64_t epoch; /* the newest epoch seen */
  int64_t quota, used, blocks;
  uint32_t head;
  struct answer history[ZCP_POOL_REQUEST_HISTORY];
};

struct zcp__table {
  pthread_mutex_t lock;
  struct zcp__tlsf *tlsf;
  int64_t size, line;
  int shift; /* log2(line) */
  int64_t max_request, default_quota;
  int32_t max_nodes;
  int64_t zero_mark; /* lines from here on were never handed out (range_is_zero) */
  struct entry *e;
  uint32_t e_cap;
  struct client **clients;
  struct {
    int64_t offset;
    int32_t node;
  } freed[FREED_RING]; /* recent frees, to explain a double free */
  unsigned freed_pos;
  uint64_t changes; /* for the periodic self-check of debug builds */
  struct zcp__tier_map tier;
};

/* The tier word of a tier block (its chunk exists while the block is one). */
static inline _Atomic uint32_t *tier_at(const struct zcp__table *t, uint32_t id) {
  return zcp__tier_word(&t->tier, zcp__tlsf_offset(t->tlsf, id));
}

/* Every invariant, with the lock held. */
ZCP_CHECK_RESULT zcp_status_t zcp__table_check_locked(struct zcp__table *t,
                                                      struct zcp_error *err);

#endif /* ZCP_ALLOC_TABLE_PRIVATE_H */
