/* What every fuzz target does with a batch its parser accepted: read it. */
#ifndef ZCP_FUZZ_VALUES_H
#define ZCP_FUZZ_VALUES_H

#include <stdlib.h>

#include "zcpool/arrow.h"

/* Formats elements of every column: the getters read everything validation vouched for
 * (offsets, views, dictionary indices, union children, runs), so a batch that slipped
 * through shows as a bad read. Columns that need no bytes per row (null, run-end encoded)
 * can claim billions of rows in a few bytes, so long batches are sampled: the first and
 * last rows and a stride between. A batch whose view cannot be made aborts (a parser bug:
 * it accepted what is not a batch). */
static inline void zcp_fuzz_touch_values(const struct ArrowArray *batch,
                                         const struct ArrowSchema *schema) {
  struct zcp_array_view view;
  if (zcp_array_view_init(batch, schema, &view, NULL) != ZCP_OK) abort();
  char buf[256];
  int64_t n = view.length, stride = n > 4096 ? n / 1024 : 1;
  for (int64_t c = 0; c < view.n_children; c++) {
    for (int64_t i = 0; i < n; i += (i < 1024 || i >= n - 1024) ? 1 : stride) {
      zcp_array_view_format(&view.children[c], view.offset + i, buf, sizeof buf);
    }
  }
  zcp_array_view_reset(&view);
}

#endif
