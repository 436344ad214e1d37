/* Switchable protocol call sites (see sites.h). Never consulted on a read path.
 * Compiled into the test build of the library only. */
#include "common/sites.h"

#ifndef ZCP_TEST_HOOKS
#error "sites.c is part of the test build of the library only (ZCP_TEST_HOOKS)"
#endif

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Keep in step with docs/protocol.md ("Call sites"); the site matrix test checks this
 * list against the zcp__site_enabled calls in src/. Sites are added by the layer that
 * owns the call; an unknown name in ZCP_DISABLE_SITE is simply never matched. */
const char *const zcp__site_names[] = {
    "alloc.invalidate",       /* remote Malloc (invalidate mode): drop our lines of it */
    "realloc.writeback",      /* remote Realloc: what we wrote goes to memory first */
    "realloc.invalidate",     /* remote Realloc: drop our lines of the moved block */
    "alloc.owner_invalidate", /* owner: drop lines, then clear */
    "alloc.owner_writeback",  /* owner: a cleared block to memory */
    "realloc.owner_invalidate", /* owner: drop old/new block lines */
    "realloc.owner_writeback",  /* owner: the copy goes to memory */
    "seal.owner",               /* seal on finish: the owner marks the blocks sealed */
    "seal.writeback",           /* seal on finish: write every block back, then fence */
    "import.invalidate",        /* import: drop our lines of every referenced range */
    "prewrite.flush",           /* thesis mode: flush a new block on every node */
    "flush.local",              /* Flush: the caller flushes the range itself */
    "flush.serve",              /* Flush: a peer flushes the range it was sent */
    NULL,
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char disabled[512]; /* ",a,b," so that a lookup is one strstr */

static void load(void) {
  const char *v = getenv("ZCP_DISABLE_SITE");
  if (v == NULL || *v == '\0' || strlen(v) + 3 > sizeof disabled) return;
  disabled[0] = ',';
  strcpy(disabled + 1, v);
  strcat(disabled, ",");
}

bool zcp__site_enabled(const char *name) {
  pthread_once(&once, load);
  if (disabled[0] == '\0') return true;
  char key[96];
  size_t n = strlen(name);
  if (n + 3 > sizeof key) return true;
  key[0] = ',';
  memcpy(key + 1, name, n);
  key[n + 1] = ',';
  key[n + 2] = '\0';
  return strstr(disabled, key) == NULL;
}
