/* The contract of the per-architecture cache primitives (cache_x86_64.c, cache_ppc64.c,
 * cache_aarch64.c; CMake compiles the one for the build machine). cache.c builds the
 * public zcp_cache_* functions on top: argument checks, the emulator, counters.
 *
 * Preconditions for every *_range function: start is a multiple of zcp__cache_line(),
 * start < end, and every line of [start, end) is mapped in this process. None of them
 * orders itself against later accesses: callers fence (DESIGN §4, step 3 and step 5). */
#ifndef ZCP_FABRIC_CACHE_H
#define ZCP_FABRIC_CACHE_H

#include <stdint.h>

/* Write back and invalidate each line (x86 clflushopt or clflush, POWER dcbf L=0, Arm dc
 * civac). */
void zcp__cache_flush_range(uintptr_t start, uintptr_t end);
/* Write back each line, keeping it cached where the CPU can (x86 clwb, POWER dcbst, Arm
 * dc cvac); otherwise the flush instruction. */
void zcp__cache_writeback_range(uintptr_t start, uintptr_t end);
/* Drop each line so the next load reads memory. User space has no discard-only
 * instruction on these CPUs, so this writes back dirty lines too. */
void zcp__cache_invalidate_range(uintptr_t start, uintptr_t end);
/* Full barrier for flushes, write-backs, loads and stores (mfence, hwsync, dsb sy). */
void zcp__cache_fence(void);
/* Line size the loops step by; a power of two, fixed after start-up. */
int64_t zcp__cache_line(void);
/* Instruction names chosen at start-up, for logs and benchmarks. */
const char *zcp__cache_flush_name(void);
const char *zcp__cache_writeback_name(void);

#endif /* ZCP_FABRIC_CACHE_H */
