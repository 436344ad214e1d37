/* libFuzzer target: arbitrary bytes given to zcp_descriptor_decode over fake regions
 * that hold real batches (tests/fuzz/descriptor_world.h). Whatever decode accepts at
 * DEFAULT must be safe to read: every value of every column is formatted through the
 * array view getters, so a descriptor that slipped past the checks shows as a fault on
 * a guard page or an AddressSanitizer report. Also: what FULL accepts DEFAULT accepts,
 * MINIMAL never crashes, and zcp_descriptor_refs agrees with decode.
 *
 * Built with clang -fsanitize=fuzzer,address when ZCP_BUILD_FUZZ is on; in every build
 * the same function is linked into a replay driver that CTest runs over the seed corpus
 * (gen_descriptor_corpus) and the named regression inputs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "descriptor_world.h"
#include "fuzz_values.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dworld *world(void) {
  static struct dworld w;
  static int state; /* 0 new, 1 ready */
  if (state == 0) {
    if (dworld_init(&w) != 0) {
      fprintf(stderr, "descriptor_fuzz: cannot build the world\n");
      abort();
    }
    state = 1;
  }
  return &w;
}

static zcp_status_t decode(const uint8_t *data, size_t size,
                           enum zcp_validate_level level, bool touch) {
  struct dworld *w = world();
  struct ArrowSchema s;
  struct ArrowArray a;
  struct zcp_error err;
  zcp_status_t st = zcp_descriptor_decode(
      data, (int64_t)size, zcp_fake_memory_descriptor(w->fm), level, &s, &a, &err);
  if (st != ZCP_OK) {
    if (a.release != NULL || s.release != NULL || err.message[0] == '\0') abort();
    return st;
  }
  if (touch) zcp_fuzz_touch_values(&a, &s);
  zcp_array_release(&a);
  zcp_schema_release(&s);
  return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  zcp_status_t def = decode(data, size, ZCP_VALIDATE_DEFAULT, true);
  zcp_status_t full = decode(data, size, ZCP_VALIDATE_FULL, true);
  zcp_status_t min = decode(data, size, ZCP_VALIDATE_MINIMAL, false);
  if (full == ZCP_OK && def != ZCP_OK) abort(); /* levels must nest */
  if (def == ZCP_OK && min != ZCP_OK) abort();
  struct zcp_buffer_ref *refs = NULL;
  int64_t n = 0;
  zcp_status_t rst = zcp_descriptor_refs(data, (int64_t)size, &refs, &n, NULL);
  if (min == ZCP_OK && rst != ZCP_OK) abort();
  free(refs);
  return 0;
}
