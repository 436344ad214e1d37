/* Two-level segregated fit (TLSF, Masmano et al. 2004) over a range of cache lines.
 *
 * Free blocks sit in size-class lists: the first level is the power of two of the size,
 * the second level splits each power of two into SL_COUNT equal steps. Two bitmaps say
 * which lists are non-empty, so finding a fitting block is a couple of bit scans and
 * allocate/free are O(1). A request is rounded up to the next class boundary first, so
 * the head of any non-empty list at or above that class always fits ("good fit").
 *
 * What it must never do: store anything inside the managed range. Blocks are records in
 * a private array, linked in address order (physical neighbours, for coalescing) and in
 * their free list. Allocated blocks are found by start line through an open-addressing
 * map, and by any interior line through a hierarchical bitmap of allocated starts
 * (predecessor search, ~log64 steps) — descriptors ask "which block holds this range?".
 *
 * Invariants (zcp__tlsf_check verifies them all):
 *  I1 blocks in address order tile [0, total) exactly: each starts where the previous
 *     ends, each has >= 1 line;
 *  I2 no two physically adjacent blocks are both free (free coalesces at once);
 *  I3 every free block is in exactly one free list, the one of its size class; every
 *     list member is free and of that class; the links are consistent both ways;
 *  I4 bit sl of sl_bitmap[fl] is set iff list (fl, sl) is non-empty; bit fl of fl_bitmap
 *     iff sl_bitmap[fl] != 0;
 *  I5 the offset map holds exactly the allocated blocks, each under its start; the start
 *     bitmap has exactly their start lines set, and each upper level bit says "the word
 *     below is non-zero";
 *  I6 the counters (used/free lines, live/free blocks) agree with the walk, and spare
 *     records plus blocks account for every record. */
#include "alloc/tlsf.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define SL_BITS ZCP__TLSF_SL_BITS
#define SL_COUNT (1u << SL_BITS)
#define FL_COUNT ZCP__TLSF_FL_COUNT
#define MAX_LINES (UINT64_C(1) << 48)
#define NIL ZCP__TLSF_NIL
#define EMPTY_KEY UINT64_MAX

/* ---- size classes ------------------------------------------------------------------ */

static inline int msb64(uint64_t x) {
  return 63 - __builtin_clzll(x);
}

static inline void mapping(uint64_t size, unsigned *fl, unsigned *sl) {
  if (size < SL_COUNT) {
    *fl = 0;
    *sl = (unsigned)size;
  } else {
    int m = msb64(size);
    *fl = (unsigned)(m - (SL_BITS - 1));
    *sl = (unsigned)((size >> (m - SL_BITS)) & (SL_COUNT - 1));
  }
}

/* Class to search for a request: rounded up so every block of that class fits. */
static inline void mapping_search(uint64_t size, unsigned *fl, unsigned *sl) {
  if (size >= SL_COUNT) size += (UINT64_C(1) << (msb64(size) - SL_BITS)) - 1;
  mapping(size, fl, sl);
}

/* ---- hierarchical bitmap ----------------------------------------------------------- */

static bool hb_init(struct zcp__tlsf_hbits *h, uint64_t n) {
  memset(h, 0, sizeof *h);
  uint64_t m = n;
  do {
    uint64_t words = (m + 63) / 64;
    h->w[h->levels] = calloc(words, sizeof(uint64_t));
    if (h->w[h->levels] == NULL) return false;
    h->words[h->levels++] = words;
    m = words;
  } while (m > 1 && h->levels < ZCP__TLSF_HB_LEVELS);
  return true;
}

static void hb_free(struct zcp__tlsf_hbits *h) {
  for (int k = 0; k < h->levels; k++) free(h->w[k]);
}

static inline void hb_set(struct zcp__tlsf_hbits *h, uint64_t i) {
  for (int k = 0; k < h->levels; k++, i >>= 6) {
    uint64_t *p = &h->w[k][i >> 6];
    bool was = *p != 0;
    *p |= UINT64_C(1) << (i & 63);
    if (was) break;
  }
}

static inline void hb_clear(struct zcp__tlsf_hbits *h, uint64_t i) {
  for (int k = 0; k < h->levels; k++, i >>= 6) {
    uint64_t *p = &h->w[k][i >> 6];
    *p &= ~(UINT64_C(1) << (i & 63));
    if (*p != 0) break;
  }
}

static inline bool hb_get(const struct zcp__tlsf_hbits *h, uint64_t i) {
  return (h->w[0][i >> 6] >> (i & 63)) & 1;
}

/* Highest set bit <= i, or UINT64_MAX. */
static uint64_t hb_pred(const struct zcp__tlsf_hbits *h, uint64_t i) {
  int k = 0;
  for (;;) {
    uint64_t word = h->w[k][i >> 6] & (~UINT64_C(0) >> (63 - (i & 63)));
    if (word != 0) {
      uint64_t j = (i & ~UINT64_C(63)) | (uint64_t)msb64(word);
      while (k > 0) {
        k--;
        j = j * 64 + (uint64_t)msb64(h->w[k][j]);
      }
      return j;
    }
    if ((i >> 6) == 0 || k + 1 == h->levels) return UINT64_MAX;
    i = (i >> 6) - 1;
    k++;
  }
}

/* ---- offset map: start line -> allocated block id ---------------------------------- */

static inline uint64_t map_hash(uint64_t key) {
  return (key * UINT64_C(0x9E3779B97F4A7C15)) ^ (key >> 29);
}

static uint32_t map_get(const struct zcp__tlsf *t, uint64_t key) {
  for (uint64_t i = map_hash(key) & t->map_mask;; i = (i + 1) & t->map_mask) {
    if (t->map[i].key == key) return t->map[i].id;
    if (t->map[i].key == EMPTY_KEY) return NIL;
  }
}

static void map_put(struct zcp__tlsf *t, uint64_t key, uint32_t id) {
  uint64_t i = map_hash(key) & t->map_mask;
  while (t->map[i].key != EMPTY_KEY) i = (i + 1) & t->map_mask;
  t->map[i].key = key;
  t->map[i].id = id;
  t->map_used++;
}

/* Linear-probing delete by backward shift: no tombstones, so lookups stay short. */
static void map_del(struct zcp__tlsf *t, uint64_t key) {
  uint64_t i = map_hash(key) & t->map_mask;
  while (t->map[i].key != key) {
    ZCP_ASSERT(t->map[i].key != EMPTY_KEY);
    i = (i + 1) & t->map_mask;
  }
  uint64_t j = i;
  for (;;) {
    j = (j + 1) & t->map_mask;
    if (t->map[j].key == EMPTY_KEY) break;
    uint64_t home = map_hash(t->map[j].key) & t->map_mask;
    /* Move j into the hole at i unless its home lies cyclically in (i, j]. */
    bool stays = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
    if (!stays) {
      t->map[i] = t->map[j];
      i = j;
    }
  }
  t->map[i].key = EMPTY_KEY;
  t->map_used--;
}

static bool map_grow(struct zcp__tlsf *t, uint64_t slots) {
  struct zcp__tlsf_slot *old = t->map;
  uint64_t old_slots = old ? t->map_mask + 1 : 0;
  struct zcp__tlsf_slot *m = malloc(slots * sizeof *m);
  if (m == NULL) return false;
  for (uint64_t i = 0; i < slots; i++) m[i].key = EMPTY_KEY;
  t->map = m;
  t->map_mask = slots - 1;
  t->map_used = 0;
  for (uint64_t i = 0; i < old_slots; i++) {
    if (old[i].key != EMPTY_KEY) map_put(t, old[i].key, old[i].id);
  }
  free(old);
  return true;
}

/* ---- records and free lists -------------------------------------------------------- */

/* Records and map start room for ~1000 blocks and double when full: the heap is asked
 * rarely (log of the peak block count), so the steady allocation path never is. */
static bool records_grow(struct zcp__tlsf *t) {
  uint64_t want = t->cap ? (uint64_t)t->cap * 2 : 1024;
  if (want > NIL) want = NIL;
  if (want <= t->cap) return false;
  struct zcp__tlsf_block *nb = realloc(t->b, want * sizeof *nb);
  if (nb == NULL) return false;
  t->b = nb;
  /* Push the new records on the spare list, lowest id on top. */
  for (uint64_t i = want; i-- > t->cap;) {
    nb[i].used = ZCP__TLSF_SPARE;
    nb[i].next_free = t->spare;
    t->spare = (uint32_t)i;
    t->n_spare++;
  }
  t->cap = (uint32_t)want;
  return true;
}

static uint32_t record_take(struct zcp__tlsf *t) {
  uint32_t id = t->spare;
  ZCP_ASSERT(id != NIL); /* zcp__tlsf_prepare guarantees one */
  t->spare = t->b[id].next_free;
  t->n_spare--;
  return id;
}

static void record_give(struct zcp__tlsf *t, uint32_t id) {
  t->b[id].used = ZCP__TLSF_SPARE;
  t->b[id].next_free = t->spare;
  t->spare = id;
  t->n_spare++;
}

static void list_insert(struct zcp__tlsf *t, uint32_t id) {
  struct zcp__tlsf_block *blk = &t->b[id];
  unsigned fl, sl;
  mapping(blk->size, &fl, &sl);
  uint32_t head = t->heads[fl][sl];
  blk->used = ZCP__TLSF_FREE;
  blk->prev_free = NIL;
  blk->next_free = head;
  if (head != NIL) t->b[head].prev_free = id;
  t->heads[fl][sl] = id;
  t->sl_bitmap[fl] |= 1u << sl;
  t->fl_bitmap |= UINT64_C(1) << fl;
  t->free_blocks++;
}

/* Takes free block id off the list of class (fl, sl): its class before a size change. */
static void list_remove_at(struct zcp__tlsf *t, uint32_t id, unsigned fl, unsigned sl) {
  struct zcp__tlsf_block *blk = &t->b[id];
  if (blk->prev_free != NIL) {
    t->b[blk->prev_free].next_free = blk->next_free;
  } else {
    t->heads[fl][sl] = blk->next_free;
    if (blk->next_free == NIL) {
      t->sl_bitmap[fl] &= ~(1u << sl);
      if (t->sl_bitmap[fl] == 0) t->fl_bitmap &= ~(UINT64_C(1) << fl);
    }
  }
  if (blk->next_free != NIL) t->b[blk->next_free].prev_free = blk->prev_free;
  t->free_blocks--;
}

static void list_remove(struct zcp__tlsf *t, uint32_t id) {
  unsigned fl, sl;
  mapping(t->b[id].size, &fl, &sl);
  list_remove_at(t, id, fl, sl);
}

/* A listed free block changed size (it was old_size): move it only if its class changed.
 * Carving from or merging into a large free block rarely changes its class, so the common
 * split and coalesce touch no list at all. */
static void list_reclass(struct zcp__tlsf *t, uint32_t id, uint64_t old_size) {
  unsigned f0, s0, f1, s1;
  mapping(old_size, &f0, &s0);
  mapping(t->b[id].size, &f1, &s1);
  if (f0 == f1 && s0 == s1) return;
  list_remove_at(t, id, f0, s0);
  list_insert(t, id);
}

/* Splits `lines` off the front of block id; the rest becomes a new free block. */
static void split_tail_free(struct zcp__tlsf *t, uint32_t id, uint64_t lines) {
  struct zcp__tlsf_block *blk = &t->b[id];
  if (blk->size == lines) return;
  uint32_t r = record_take(t);
  blk = &t->b[id];
  struct zcp__tlsf_block *rest = &t->b[r];
  rest->off = blk->off + lines;
  rest->size = blk->size - lines;
  rest->prev_phys = id;
  rest->next_phys = blk->next_phys;
  if (blk->next_phys != NIL) t->b[blk->next_phys].prev_phys = r;
  blk->next_phys = r;
  blk->size = lines;
  list_insert(t, r);
}

/* Absorbs the physical successor `n` (free, already off its list) into id. */
static void absorb_next(struct zcp__tlsf *t, uint32_t id, uint32_t n) {
  struct zcp__tlsf_block *blk = &t->b[id];
  blk->size += t->b[n].size;
  blk->next_phys = t->b[n].next_phys;
  if (blk->next_phys != NIL) t->b[blk->next_phys].prev_phys = id;
  record_give(t, n);
}

/* ---- API --------------------------------------------------------------------------- */

zcp_status_t zcp__tlsf_init(struct zcp__tlsf **out, uint64_t lines,
                            struct zcp_error *err) {
  *out = NULL;
  if (lines == 0 || lines > MAX_LINES) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "allocator range of %llu lines: expected 1 to 2^48 lines",
                         (unsigned long long)lines);
  }
  struct zcp__tlsf *t = calloc(1, sizeof *t);
  if (t == NULL) goto oom;
  t->total = lines;
  t->spare = NIL;
  for (unsigned f = 0; f < FL_COUNT; f++) {
    for (unsigned s = 0; s < SL_COUNT; s++) t->heads[f][s] = NIL;
  }
  if (!hb_init(&t->starts, lines) || !records_grow(t) || !map_grow(t, 2048)) goto oom;
  uint32_t id = record_take(t);
  t->b[id].off = 0;
  t->b[id].size = lines;
  t->b[id].prev_phys = t->b[id].next_phys = NIL;
  t->first_phys = id;
  list_insert(t, id);
  *out = t;
  return ZCP_OK;
oom:
  zcp__tlsf_release(t);
  return zcp_error_set(err, ZCP_OUT_OF_MEMORY,
                       "allocator metadata for a range of %llu lines: heap exhausted",
                       (unsigned long long)lines);
}

void zcp__tlsf_release(struct zcp__tlsf *t) {
  if (t == NULL) return;
  hb_free(&t->starts);
  free(t->map);
  free(t->b);
  free(t);
}

zcp_status_t zcp__tlsf_prepare_slow(struct zcp__tlsf *t) {
  /* Alloc and resize take at most one record; keep the map at most half full. */
  if (t->n_spare < 1 && !records_grow(t)) return ZCP_OUT_OF_MEMORY;
  if ((t->map_used + 1) * 2 > t->map_mask + 1 && !map_grow(t, (t->map_mask + 1) * 2)) {
    return ZCP_OUT_OF_MEMORY;
  }
  return ZCP_OK;
}

zcp_status_t zcp__tlsf_alloc(struct zcp__tlsf *t, uint64_t lines, uint32_t *id) {
  *id = NIL;
  if (lines == 0 || lines > t->total) return ZCP_NO_SPACE;
  unsigned fl, sl;
  uint32_t c = NIL;
  mapping_search(lines, &fl, &sl);
  if (fl >= FL_COUNT) return ZCP_NO_SPACE;
  uint32_t bits = t->sl_bitmap[fl] & (~0u << sl);
  if (bits == 0) {
    uint64_t fbits = fl + 1 < FL_COUNT ? t->fl_bitmap & (~UINT64_C(0) << (fl + 1)) : 0;
    if (fbits == 0) {
      /* The rounded class is empty, but a block of the exact class may still fit (the
       * last lines of a range, or a request near the range size): scan that one list. */
      mapping(lines, &fl, &sl);
      c = t->heads[fl][sl];
      while (c != NIL && t->b[c].size < lines) c = t->b[c].next_free;
      if (c == NIL) return ZCP_NO_SPACE;
      goto found_block;
    }
    fl = (unsigned)__builtin_ctzll(fbits);
    bits = t->sl_bitmap[fl];
  }
  sl = (unsigned)__builtin_ctz(bits);
  c = t->heads[fl][sl];
  ZCP_ASSERT(c != NIL && t->b[c].size >= lines);
found_block:;
  uint32_t a = c;
  struct zcp__tlsf_block *blk = &t->b[c];
  if (blk->size == lines) {
    list_remove(t, c);
  } else {
    /* Carve the front into a new record; the free tail keeps its record. */
    a = record_take(t);
    blk = &t->b[c];
    struct zcp__tlsf_block *nb = &t->b[a];
    nb->off = blk->off;
    nb->size = lines;
    nb->prev_phys = blk->prev_phys;
    nb->next_phys = c;
    if (blk->prev_phys != NIL)
      t->b[blk->prev_phys].next_phys = a;
    else
      t->first_phys = a;
    blk->prev_phys = a;
    uint64_t old = blk->size;
    blk->off += lines;
    blk->size -= lines;
    list_reclass(t, c, old);
  }
  t->b[a].used = ZCP__TLSF_USED;
  map_put(t, t->b[a].off, a);
  hb_set(&t->starts, t->b[a].off);
  t->used_lines += lines;
  t->live_blocks++;
  *id = a;
  return ZCP_OK;
}

void zcp__tlsf_free(struct zcp__tlsf *t, uint32_t id) {
  struct zcp__tlsf_block *blk = &t->b[id];
  ZCP_ASSERT(blk->used == ZCP__TLSF_USED);
  map_del(t, blk->off);
  hb_clear(&t->starts, blk->off);
  t->used_lines -= blk->size;
  t->live_blocks--;
  uint32_t n = blk->next_phys, p = blk->prev_phys;
  bool next_free = n != NIL && t->b[n].used == ZCP__TLSF_FREE;
  bool prev_free = p != NIL && t->b[p].used == ZCP__TLSF_FREE;
  if (prev_free) { /* the previous free block grows over this one (and the next) */
    uint64_t old = t->b[p].size;
    if (next_free) {
      list_remove(t, n);
      absorb_next(t, id, n);
    }
    absorb_next(t, p, id);
    list_reclass(t, p, old);
  } else if (next_free) { /* the next free block grows backwards over this one */
    struct zcp__tlsf_block *nb = &t->b[n];
    uint64_t old = nb->size;
    nb->off = blk->off;
    nb->size += blk->size;
    nb->prev_phys = p;
    if (p != NIL)
      t->b[p].next_phys = n;
    else
      t->first_phys = n;
    record_give(t, id);
    list_reclass(t, n, old);
  } else {
    list_insert(t, id);
  }
}

bool zcp__tlsf_resize(struct zcp__tlsf *t, uint32_t id, uint64_t lines) {
  struct zcp__tlsf_block *blk = &t->b[id];
  ZCP_ASSERT(blk->used == ZCP__TLSF_USED && lines >= 1);
  uint64_t old = blk->size;
  if (lines == old) return true;
  uint32_t n = blk->next_phys;
  bool next_free = n != NIL && t->b[n].used == ZCP__TLSF_FREE;
  if (lines > old) {
    if (!next_free || old + t->b[n].size < lines) return false;
    list_remove(t, n);
    absorb_next(t, id, n);
    split_tail_free(t, id, lines);
  } else {
    if (next_free) {
      list_remove(t, n);
      absorb_next(t, id, n);
    }
    split_tail_free(t, id, lines);
  }
  t->used_lines = t->used_lines - old + lines;
  return true;
}

uint32_t zcp__tlsf_find(const struct zcp__tlsf *t, uint64_t off) {
  if (off >= t->total) return NIL;
  return map_get(t, off);
}

uint32_t zcp__tlsf_find_containing(const struct zcp__tlsf *t, uint64_t off) {
  if (off >= t->total) return NIL;
  uint64_t s = hb_pred(&t->starts, off);
  if (s == UINT64_MAX) return NIL;
  uint32_t id = map_get(t, s);
  if (id == NIL || off >= t->b[id].off + t->b[id].size) return NIL;
  return id;
}

uint32_t zcp__tlsf_first_allocated(const struct zcp__tlsf *t) {
  uint32_t id = t->first_phys;
  while (id != NIL && t->b[id].used != ZCP__TLSF_USED) id = t->b[id].next_phys;
  return id;
}

uint32_t zcp__tlsf_next_allocated(const struct zcp__tlsf *t, uint32_t id) {
  id = t->b[id].next_phys;
  while (id != NIL && t->b[id].used != ZCP__TLSF_USED) id = t->b[id].next_phys;
  return id;
}

void zcp__tlsf_stats(const struct zcp__tlsf *t, struct zcp__tlsf_stats *out) {
  out->total_lines = t->total;
  out->used_lines = t->used_lines;
  out->free_lines = t->total - t->used_lines;
  out->live_blocks = t->live_blocks;
  out->free_blocks = t->free_blocks;
  out->largest_free = 0;
  if (t->fl_bitmap != 0) {
    unsigned fl = (unsigned)msb64(t->fl_bitmap);
    unsigned sl = 31u - (unsigned)__builtin_clz(t->sl_bitmap[fl]);
    for (uint32_t c = t->heads[fl][sl]; c != NIL; c = t->b[c].next_free) {
      if (t->b[c].size > out->largest_free) out->largest_free = t->b[c].size;
    }
  }
}

/* ---- self-check -------------------------------------------------------------------- */

#define CHECK(cond, ...)                                                    \
  do {                                                                      \
    if (!(cond)) return zcp_error_set(err, ZCP_CORRUPT_INPUT, __VA_ARGS__); \
  } while (0)

zcp_status_t zcp__tlsf_check(const struct zcp__tlsf *t, struct zcp_error *err) {
  typedef unsigned long long ull;
  /* I1, I2, I5 (map side), I6: walk blocks in address order. */
  uint64_t pos = 0, used = 0, live = 0, nfree = 0, nblocks = 0;
  uint32_t prev = NIL;
  for (uint32_t id = t->first_phys; id != NIL; id = t->b[id].next_phys) {
    const struct zcp__tlsf_block *blk = &t->b[id];
    CHECK(id < t->cap, "block record %u out of %u records", id, t->cap);
    CHECK(++nblocks <= t->cap, "address-order list loops");
    CHECK(blk->used != ZCP__TLSF_SPARE, "block %u at line %llu is a spare record", id,
          (ull)blk->off);
    CHECK(blk->prev_phys == prev, "block %u at line %llu: previous link %u, expected %u",
          id, (ull)blk->off, blk->prev_phys, prev);
    CHECK(blk->off == pos, "block %u starts at line %llu, expected %llu (gap or overlap)",
          id, (ull)blk->off, (ull)pos);
    CHECK(blk->size >= 1, "block %u at line %llu is empty", id, (ull)blk->off);
    if (blk->used == ZCP__TLSF_USED) {
      used += blk->size;
      live++;
      CHECK(map_get(t, blk->off) == id,
            "allocated block %u at line %llu missing from map", id, (ull)blk->off);
      CHECK(hb_get(&t->starts, blk->off),
            "allocated block %u at line %llu: start bit clear", id, (ull)blk->off);
    } else {
      nfree++;
      CHECK(prev == NIL || t->b[prev].used != ZCP__TLSF_FREE,
            "free blocks at lines %llu and %llu are adjacent (not coalesced)",
            (ull)t->b[prev].off, (ull)blk->off);
      CHECK(!hb_get(&t->starts, blk->off),
            "free block at line %llu has its start bit set", (ull)blk->off);
    }
    pos += blk->size;
    prev = id;
  }
  CHECK(pos == t->total, "blocks cover %llu lines, range has %llu", (ull)pos,
        (ull)t->total);
  CHECK(used == t->used_lines, "allocated blocks hold %llu lines, counter says %llu",
        (ull)used, (ull)t->used_lines);
  CHECK(live == t->live_blocks, "%llu allocated blocks, counter says %llu", (ull)live,
        (ull)t->live_blocks);
  CHECK(nfree == t->free_blocks, "%llu free blocks, counter says %llu", (ull)nfree,
        (ull)t->free_blocks);
  CHECK(t->map_used == live, "map holds %llu entries for %llu allocated blocks",
        (ull)t->map_used, (ull)live);
  CHECK(nblocks + t->n_spare == t->cap, "%llu blocks + %u spare records != %u records",
        (ull)nblocks, t->n_spare, t->cap);
  /* I3, I4: every list, every bitmap bit. */
  uint64_t listed = 0;
  for (unsigned fl = 0; fl < FL_COUNT; fl++) {
    CHECK(((t->fl_bitmap >> fl) & 1) == (t->sl_bitmap[fl] != 0),
          "first-level bit %u disagrees with its second-level bitmap", fl);
    for (unsigned sl = 0; sl < SL_COUNT; sl++) {
      uint32_t head = t->heads[fl][sl];
      CHECK(((t->sl_bitmap[fl] >> sl) & 1) == (head != NIL),
            "bitmap bit (%u, %u) disagrees with its free list", fl, sl);
      uint32_t p = NIL;
      for (uint32_t c = head; c != NIL; c = t->b[c].next_free) {
        CHECK(c < t->cap && ++listed <= nfree, "free list (%u, %u) loops or is too long",
              fl, sl);
        const struct zcp__tlsf_block *blk = &t->b[c];
        unsigned f2, s2;
        mapping(blk->size, &f2, &s2);
        CHECK(blk->used == ZCP__TLSF_FREE,
              "list (%u, %u) holds non-free block at line %llu", fl, sl, (ull)blk->off);
        CHECK(f2 == fl && s2 == sl,
              "free block of %llu lines at line %llu is in list (%u, %u), belongs in "
              "(%u, %u)",
              (ull)blk->size, (ull)blk->off, fl, sl, f2, s2);
        CHECK(blk->prev_free == p, "free list (%u, %u): back link of line %llu broken",
              fl, sl, (ull)blk->off);
        p = c;
      }
    }
  }
  CHECK(listed == nfree, "free lists hold %llu blocks, address order has %llu",
        (ull)listed, (ull)nfree);
  /* I5, bitmap side: popcount of the start bits, and each summary bit. */
  uint64_t bits = 0;
  for (uint64_t i = 0; i < t->starts.words[0]; i++) {
    bits += (uint64_t)__builtin_popcountll(t->starts.w[0][i]);
  }
  CHECK(bits == live, "%llu start bits set for %llu allocated blocks", (ull)bits,
        (ull)live);
  for (int k = 1; k < t->starts.levels; k++) {
    for (uint64_t i = 0; i < t->starts.words[k - 1]; i++) {
      bool up = (t->starts.w[k][i >> 6] >> (i & 63)) & 1;
      CHECK(up == (t->starts.w[k - 1][i] != 0),
            "start bitmap level %d word %llu: summary "
            "bit disagrees",
            k, (ull)i);
    }
  }
  return ZCP_OK;
}
