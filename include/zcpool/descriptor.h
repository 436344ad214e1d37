/* zcpool — descriptors: one Arrow record batch whose buffers live in cluster regions,
 * as a few hundred bytes that another process can turn back into the same batch, in
 * place, because it maps the same regions at the same addresses (DESIGN §7).
 *
 * Encoding looks at the structure only (and at the last offset of a binary column, to
 * know how much of its data buffer is used): its cost depends on the number of columns,
 * not rows. Decoding treats the bytes as untrusted: it checks the structure, asks the
 * memory layer once about every buffer (region known, epoch current, inside one live
 * sealed block), checks buffer sizes against type and length, and validates values at
 * the level the caller asks for, all before the caller sees an array. The format is
 * proto/descriptor.proto; docs/descriptor.md describes it and the order of the checks. */
#ifndef ZCPOOL_DESCRIPTOR_H
#define ZCPOOL_DESCRIPTOR_H

#include <stdint.h>

#include "zcpool/arrow.h"
#include "zcpool/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ZCP_DESCRIPTOR_MAGIC 0x4450435aU /* "ZCPD" little-endian */
#define ZCP_DESCRIPTOR_VERSION 1
/* Largest encoded descriptor decode accepts (a descriptor is O(columns) bytes). */
#define ZCP_DESCRIPTOR_MAX_SIZE (64 * 1024 * 1024)

/* Where one buffer lies. */
struct zcp_buffer_ref {
  int32_t region; /* owner node id of the region */
  uint64_t epoch; /* the region's epoch */
  int64_t offset; /* from the region's data area start (the pool's offset 0) */
  int64_t length; /* bytes of the buffer the array uses */
};

/* How the descriptor layer learns about memory. The cluster supplies one; tests supply
 * fakes (tests/support/zcp_fake_memory.h). */
struct zcp_descriptor_memory {
  void *ctx;
  /* encode: which region, epoch and offset hold [p, p + length)? ZCP_NOT_FOUND if no
   * region. */
  zcp_status_t (*locate)(void *ctx, const void *p, int64_t length,
                         struct zcp_buffer_ref *out, struct zcp_error *err);
  /* decode: checks every buffer of one descriptor at once (so the cluster can ask each
   * owner once) and fills addrs[i] with the address of refs[i]. Expected errors: unknown
   * region ZCP_NOT_FOUND; epoch not current ZCP_STALE; range outside the region or
   * overflowing ZCP_CORRUPT_INPUT; not inside a live block (never allocated, freed)
   * ZCP_NOT_FOUND; straddling two blocks or running past its block ZCP_CORRUPT_INPUT;
   * block not sealed ZCP_BUSY; owner not answering ZCP_PEER_DOWN. It also does the
   * coherence work of an import (invalidating the ranges on non-coherent regions). */
  zcp_status_t (*resolve)(void *ctx, const struct zcp_buffer_ref *refs, int64_t n,
                          const void **addrs, struct zcp_error *err);
};

/* Encodes a record batch (struct schema "+s" and its struct array) whose every non-NULL
 * buffer lies in a region mem->locate knows. *out (free with zcp_descriptor_free) holds
 * *out_size bytes. Errors: ZCP_INVALID_ARGUMENT for a batch that is not well formed,
 * ZCP_NOT_FOUND (from locate) naming the column whose buffer is in no region. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t
zcp_descriptor_encode(const struct ArrowSchema *schema, const struct ArrowArray *array,
                      const struct zcp_descriptor_memory *mem, uint8_t **out,
                      int64_t *out_size, struct zcp_error *err);
/* Frees what encode returned. NULL is fine. */
ZCP_API void zcp_descriptor_free(uint8_t *buf);

/* Parses and checks structure, resolves all buffers (one resolve call), checks sizes
 * against type and length, then validates values at `level`:
 *   MINIMAL  structure and buffer sizes only (reads no data);
 *   DEFAULT  + every offset monotonic and in range, list view ranges, dictionary
 *            indices, union type ids and offsets, run ends, view references: everything
 *            a reader uses to address memory (O(rows));
 *   FULL     + UTF-8 and everything zcp_array_validate FULL checks.
 * Depth is bounded by ZCP_MAX_DEPTH. Bad descriptors are ZCP_CORRUPT_INPUT (or
 * ZCP_VERSION_MISMATCH for another format version) with a message naming the column
 * ("descriptor column 3 (utf8): ..."); a valid schema this build does not take (a
 * format beyond its limits, ArrowSchema flags it does not know) is ZCP_UNSUPPORTED,
 * naming the column too; resolve's errors come back as it gave them.
 * On success the caller owns *schema_out and *array_out; their release frees only what
 * decode allocated (struct trees, names, the variadic sizes), never region memory. On
 * failure both are left released. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_descriptor_decode(
    const uint8_t *buf, int64_t size, const struct zcp_descriptor_memory *mem,
    enum zcp_validate_level level, struct ArrowSchema *schema_out,
    struct ArrowArray *array_out, struct zcp_error *err);

/* What a batch's values were checked for before it was shared (DESIGN §7): the sealing
 * node walks them once, and its publication records the level that passed. */
enum zcp_checked {
  ZCP_CHECKED_NONE = 0,    /* nobody walked the values: an importer walks what it asks */
  ZCP_CHECKED_DEFAULT = 1, /* DEFAULT's data checks passed (offsets, indices, ids, ends) */
  ZCP_CHECKED_FULL = 2,    /* FULL passed (and UTF-8, and everything else) */
};

/* The checks that walk a batch's values, run once by the node that seals it for sharing
 * (DESIGN §7): DEFAULT walks every value a reader addresses memory with (every offset
 * monotonic and in range, list view ranges, dictionary indices, union type ids and
 * offsets, run ends, view references), FULL everything zcp_array_validate FULL checks
 * (UTF-8 too). *checked_out is what passed (ZCP_CHECKED_NONE for MINIMAL, which walks
 * nothing). A failure is ZCP_CORRUPT_INPUT naming the column and row. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_descriptor_check_values(
    const struct ArrowSchema *schema, const struct ArrowArray *batch,
    enum zcp_validate_level level, enum zcp_checked *checked_out, struct zcp_error *err);

/* zcp_descriptor_decode for a batch whose values were checked at seal as `checked` says
 * (the publication's record, taken from an authenticated member, never from the
 * descriptor's own bytes). Opening costs O(columns) where the record covers the level
 * asked: DEFAULT over ZCP_CHECKED_DEFAULT or FULL runs only the structure, memory and
 * first/last-offset checks; an import asking for more than was recorded walks the data,
 * and FULL always walks everything again (the reader that trusts no one). A member that
 * rewrites sealed memory afterwards is not caught below FULL: see docs/security.md. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_descriptor_decode_checked(
    const uint8_t *buf, int64_t size, const struct zcp_descriptor_memory *mem,
    enum zcp_validate_level level, enum zcp_checked checked,
    struct ArrowSchema *schema_out, struct ArrowArray *array_out, struct zcp_error *err);

/* The buffer refs only (the present ones, depth-first in tree order, a node's buffers
 * before its children and dictionary), without building or resolving anything; for
 * leases and tools. *refs is malloc'd (free()); NULL when *n is 0. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_descriptor_refs(const uint8_t *buf,
                                                          int64_t size,
                                                          struct zcp_buffer_ref **refs,
                                                          int64_t *n,
                                                          struct zcp_error *err);

#ifdef __cplusplus
}
#endif
#endif /* ZCPOOL_DESCRIPTOR_H */
