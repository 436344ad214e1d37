/* Protocol call sites that a test can switch off, one at a time, to prove it is needed.
 *
 * DESIGN §9: with the non-coherent emulator on, the whole suite must pass, and with any
 * single write-back, invalidation or seal call site disabled some test must fail. Every
 * such call site asks zcp__site_enabled("<layer>.<what>") first; the environment variable
 * ZCP_DISABLE_SITE (a comma-separated list of names) switches sites off. Names are listed
 * in docs/protocol.md and by zcp__site_names, so the test that disables each in turn
 * cannot miss one. Read once per process; the cost of a call is a load and a compare.
 *
 * Only the test build of the library (ZCP_TEST_HOOKS, libzcpool_test.a) has the switch.
 * In the library that is installed every site is on, and the compiler folds the check
 * away: no environment variable can take a step out of the protocol there. */
#ifndef ZCP_COMMON_SITES_H
#define ZCP_COMMON_SITES_H

#include <stdbool.h>

#ifdef ZCP_TEST_HOOKS

/* Every site name, NULL-terminated. */
extern const char *const zcp__site_names[];

/* false when name is listed in ZCP_DISABLE_SITE. */
bool zcp__site_enabled(const char *name);

#else

static inline bool zcp__site_enabled(const char *name) {
  (void)name;
  return true;
}

#endif

#endif
