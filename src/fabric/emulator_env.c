/* The emulator's environment switches (DESIGN §9), compiled into the test build of the
 * library only (ZCP_TEST_HOOKS).
 *
 * ZCP_EMULATE_NONCOHERENT=1 turns the non-coherent emulator on at the first region map,
 * with the policy from ZCP_EMULATE_POLICY=stale|random and the seed from
 * ZCP_EMULATE_SEED, so that the whole test suite runs again under the emulator without a
 * change (make test-emulated). The installed library never reads them: a program that
 * wants the emulator calls zcp_emulator_enable. An emulator already turned on by that
 * call keeps its options. */
#include <stdlib.h>
#include <string.h>

#include "fabric/internal.h"

#ifndef ZCP_TEST_HOOKS
#error "emulator_env.c is part of the test build of the library only (ZCP_TEST_HOOKS)"
#endif

void zcp__emulator_from_env(void) {
  static int checked;
  if (checked || zcp_emulator_enabled()) return;
  checked = 1;
  const char *on = getenv("ZCP_EMULATE_NONCOHERENT");
  if (on == NULL || strcmp(on, "1") != 0) return;
  struct zcp_emulator_options o = {ZCP_EMULATOR_KEEP_STALE, 1, 0.0};
  const char *policy = getenv("ZCP_EMULATE_POLICY");
  if (policy != NULL && strcmp(policy, "random") == 0) {
    o.policy = ZCP_EMULATOR_RANDOM_EVICT;
    o.evict_per_fault = 0.25;
  }
  const char *seed = getenv("ZCP_EMULATE_SEED");
  if (seed != NULL) o.seed = strtoull(seed, NULL, 0);
  /* A test switch: if it cannot be honoured, run coherent rather than fail the map. */
  if (zcp_emulator_enable(&o, NULL) != ZCP_OK) return;
}
