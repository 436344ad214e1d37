/* Protocol call sites that a test can switch off, one at a time, to prove it is needed.
 *
 * DESIGN §9: with the non-coherent emulator on, the whole suite must pass, and with any
 * single write-back, invalidation or seal call site disabled some test must fail. Every
 * such call site asks zcp__site_enabled("<layer>.<what>") first; the environment variable
 * ZCP_DISABLE_SITE (a comma-separated list of names) switches sites off. Names are listed
 * in docs/protocol.md and by zcp__site_names, so the test that disables each in turn
 * cannot miss one. Read once per process; the cost of a call is a load and a compare. */
#ifndef ZCP_COMMON_SITES_H
#define ZCP_COMMON_SITES_H

#include <stdbool.h>

/* Every site name, NULL-terminated. */
extern const char *const zcp__site_names[];

/* false when name is listed in ZCP_DISABLE_SITE (tests only). */
bool zcp__site_enabled(const char *name);

#endif
