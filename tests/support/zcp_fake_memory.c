/* Fake cluster memory: see zcp_fake_memory.h. */
#define _DEFAULT_SOURCE
#include "zcp_fake_memory.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FIRST_REGION_ID 10

struct fake_region {
  uint8_t *map; /* guard page, data, guard page */
  size_t map_size;
  uint8_t *base;
  int64_t size;
  uint64_t epoch;
  struct zcp_pool *pool;
};

struct zcp_fake_memory {
  struct fake_region *regions;
  int n;
  int next;      /* round robin */
  void **blocks; /* live blocks handed out by the allocator */
  int64_t n_blocks, cap_blocks;
  struct zcp_allocator alloc;
  struct zcp_descriptor_memory mem;
  zcp_status_t fail;
  int64_t resolve_calls;
};

static struct fake_region *region_of(struct zcp_fake_memory *m, const void *p) {
  for (int i = 0; i < m->n; i++) {
    struct fake_region *r = &m->regions[i];
    if ((const uint8_t *)p >= r->base && (const uint8_t *)p < r->base + r->size) return r;
  }
  return NULL;
}

static void forget_block(struct zcp_fake_memory *m, void *p) {
  for (int64_t i = 0; i < m->n_blocks; i++) {
    if (m->blocks[i] == p) {
      m->blocks[i] = m->blocks[--m->n_blocks];
      return;
    }
  }
}

static bool remember_block(struct zcp_fake_memory *m, void *p) {
  if (m->n_blocks == m->cap_blocks) {
    int64_t cap = m->cap_blocks ? m->cap_blocks * 2 : 64;
    void **b = realloc(m->blocks, (size_t)cap * sizeof *b);
    if (b == NULL) return false;
    m->blocks = b;
    m->cap_blocks = cap;
  }
  m->blocks[m->n_blocks++] = p;
  return true;
}

static zcp_status_t fake_allocate(struct zcp_allocator *self, int64_t size,
                                  int64_t alignment, void **out, struct zcp_error *err) {
  struct zcp_fake_memory *m = self->private_data;
  *out = NULL;
  for (int tries = 0; tries < m->n; tries++) {
    struct fake_region *r = &m->regions[m->next];
    m->next = (m->next + 1) % m->n;
    void *p = NULL;
    if (zcp_pool_alloc(r->pool, size, &p, NULL) == ZCP_OK) {
      if (!remember_block(m, p)) {
        if (zcp_pool_free(r->pool, p, NULL) != ZCP_OK) { /* just granted: cannot fail */
        }
        return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "fake memory: no room to record");
      }
      *out = p;
      return ZCP_OK;
    }
  }
  return zcp_error_set(err, ZCP_NO_SPACE, "fake memory: every region is full");
}

static zcp_status_t fake_reallocate(struct zcp_allocator *self, void *ptr,
                                    int64_t old_size, int64_t new_size, int64_t alignment,
                                    void **out, struct zcp_error *err) {
  struct zcp_fake_memory *m = self->private_data;
  struct fake_region *r = region_of(m, ptr);
  *out = NULL;
  if (r == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "fake memory: %p is in no region",
                         ptr);
  void *q = NULL;
  ZCP_RETURN_NOT_OK(zcp_pool_realloc(r->pool, ptr, new_size, &q, err));
  forget_block(m, ptr);
  (void)remember_block(m, q); /* the slot just freed: cannot fail */
  *out = q;
  return ZCP_OK;
}

static void fake_free(struct zcp_allocator *self, void *ptr, int64_t size) {
  struct zcp_fake_memory *m = self->private_data;
  struct fake_region *r = region_of(m, ptr);
  if (r == NULL) return;
  forget_block(m, ptr);
  if (zcp_pool_free(r->pool, ptr, NULL) != ZCP_OK) { /* not ours: a test bug */
  }
}

static zcp_status_t fake_locate(void *ctx, const void *p, int64_t length,
                                struct zcp_buffer_ref *out, struct zcp_error *err) {
  struct zcp_fake_memory *m = ctx;
  struct fake_region *r = region_of(m, p);
  if (r == NULL) return zcp_error_set(err, ZCP_NOT_FOUND, "%p is in no region", p);
  int64_t off = (const uint8_t *)p - r->base;
  if (length < 0 || length > r->size - off) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "%lld bytes at %p run past the region", (long long)length, p);
  }
  out->region = FIRST_REGION_ID + (int32_t)(r - m->regions);
  out->epoch = r->epoch;
  out->offset = off;
  out->length = length;
  return ZCP_OK;
}

/* One ref as the owner of its region would check it. */
static zcp_status_t resolve_one(struct zcp_fake_memory *m,
                                const struct zcp_buffer_ref *ref, const void **addr,
                                struct zcp_error *err) {
  int idx = ref->region - FIRST_REGION_ID;
  if (idx < 0 || idx >= m->n) {
    return zcp_error_set(err, ZCP_NOT_FOUND, "region %d is unknown", ref->region);
  }
  struct fake_region *r = &m->regions[idx];
  if (ref->epoch != r->epoch) {
    return zcp_error_set(err, ZCP_STALE, "region %d is at epoch %llu, not %llu",
                         ref->region, (unsigned long long)r->epoch,
                         (unsigned long long)ref->epoch);
  }
  int64_t size = zcp_pool_size(r->pool);
  if (ref->offset < 0 || ref->length < 0 || ref->offset >= size ||
      ref->length > size - ref->offset) {
    return zcp_error_set(
        err, ZCP_CORRUPT_INPUT, "[%lld, +%lld) is outside region %d (%lld bytes)",
        (long long)ref->offset, (long long)ref->length, ref->region, (long long)size);
  }
  zcp_status_t st = zcp_pool_find_block(r->pool, ref->offset, ref->length, NULL, err);
  if (st == ZCP_INVALID_ARGUMENT) {
    /* past its block, or not sealed: the start alone tells them apart */
    struct zcp_error e2;
    zcp_status_t at_start = zcp_pool_find_block(r->pool, ref->offset, 0, NULL, &e2);
    st = at_start == ZCP_INVALID_ARGUMENT ? ZCP_BUSY : ZCP_CORRUPT_INPUT;
    if (err != NULL) err->code = st;
  }
  if (st != ZCP_OK) return zcp_error_prefix(err, st, "region %d: ", ref->region);
  *addr = r->base + ref->offset;
  return ZCP_OK;
}

static zcp_status_t fake_resolve(void *ctx, const struct zcp_buffer_ref *refs, int64_t n,
                                 const void **addrs, struct zcp_error *err) {
  struct zcp_fake_memory *m = ctx;
  m->resolve_calls++;
  if (m->fail != ZCP_OK) {
    return zcp_error_set(err, m->fail, "fake memory: resolve fails with %s",
                         zcp_status_str(m->fail));
  }
  for (int64_t i = 0; i < n; i++) {
    ZCP_RETURN_NOT_OK(resolve_one(m, &refs[i], &addrs[i], err));
  }
  return ZCP_OK;
}

zcp_status_t zcp_fake_memory_init(struct zcp_fake_memory **out, int n_regions,
                                  int64_t region_size, struct zcp_error *err) {
  *out = NULL;
  if (n_regions <= 0 || region_size <= 0) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "fake memory: bad sizes");
  }
  struct zcp_fake_memory *m = calloc(1, sizeof *m);
  if (m == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "fake memory");
  m->regions = calloc((size_t)n_regions, sizeof *m->regions);
  if (m->regions == NULL) {
    free(m);
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "fake memory");
  }
  m->n = n_regions;
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t size = ((size_t)region_size + page - 1) / page * page;
  for (int i = 0; i < n_regions; i++) {
    struct fake_region *r = &m->regions[i];
    r->map_size = size + 2 * page;
    r->map = mmap(NULL, r->map_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r->map == MAP_FAILED) {
      r->map = NULL;
      zcp_fake_memory_release(m);
      return zcp_error_set(err, ZCP_IO_ERROR, "fake memory: mmap failed");
    }
    r->base = r->map + page;
    r->size = (int64_t)size;
    r->epoch = 1;
    if (mprotect(r->base, size, PROT_READ | PROT_WRITE) != 0) {
      zcp_fake_memory_release(m);
      return zcp_error_set(err, ZCP_IO_ERROR, "fake memory: mprotect failed");
    }
    struct zcp_pool_options opt;
    zcp_pool_options_init(&opt);
    opt.range_is_zero = true;
    zcp_status_t st = zcp_pool_init(r->base, (int64_t)size, &opt, &r->pool, err);
    if (st != ZCP_OK) {
      zcp_fake_memory_release(m);
      return st;
    }
  }
  m->alloc.allocate = fake_allocate;
  m->alloc.reallocate = fake_reallocate;
  m->alloc.free = fake_free;
  m->alloc.alignment = ZCP_POOL_LINE_SIZE;
  m->alloc.private_data = m;
  m->mem.ctx = m;
  m->mem.locate = fake_locate;
  m->mem.resolve = fake_resolve;
  *out = m;
  return ZCP_OK;
}

void zcp_fake_memory_release(struct zcp_fake_memory *m) {
  if (m == NULL) return;
  for (int i = 0; i < m->n; i++) {
    zcp_pool_release(m->regions[i].pool);
    if (m->regions[i].map != NULL) munmap(m->regions[i].map, m->regions[i].map_size);
  }
  free(m->regions);
  free(m->blocks);
  free(m);
}

struct zcp_allocator *zcp_fake_memory_allocator(struct zcp_fake_memory *m) {
  return &m->alloc;
}

zcp_status_t zcp_fake_memory_seal_all(struct zcp_fake_memory *m, struct zcp_error *err) {
  for (int64_t i = 0; i < m->n_blocks; i++) {
    struct fake_region *r = region_of(m, m->blocks[i]);
    if (r == NULL)
      return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "fake memory: lost block");
    ZCP_RETURN_NOT_OK(zcp_pool_seal(r->pool, m->blocks[i], err));
  }
  return ZCP_OK;
}

const struct zcp_descriptor_memory *zcp_fake_memory_descriptor(
    struct zcp_fake_memory *m) {
  return &m->mem;
}

int zcp_fake_memory_n_regions(const struct zcp_fake_memory *m) {
  return m->n;
}
struct zcp_pool *zcp_fake_memory_pool(struct zcp_fake_memory *m, int i) {
  return m->regions[i].pool;
}
uint8_t *zcp_fake_memory_base(struct zcp_fake_memory *m, int i) {
  return m->regions[i].base;
}
int32_t zcp_fake_memory_region_id(const struct zcp_fake_memory *m, int i) {
  return FIRST_REGION_ID + i;
}
void zcp_fake_memory_set_epoch(struct zcp_fake_memory *m, int i, uint64_t epoch) {
  m->regions[i].epoch = epoch;
}
void zcp_fake_memory_fail_resolve(struct zcp_fake_memory *m, zcp_status_t status) {
  m->fail = status;
}
int64_t zcp_fake_memory_resolve_calls(const struct zcp_fake_memory *m) {
  return m->resolve_calls;
}
