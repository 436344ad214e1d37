#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zcpool/fabric.h"

Test(cache, line_size_and_methods_are_known) {
  int64_t line = zcp_cache_line_size();
  cr_assert(line >= 32 && line <= 256 && (line & (line - 1)) == 0, "line %lld",
            (long long)line);
  cr_assert_str_neq(zcp_cache_flush_method(), "");
  cr_assert_str_neq(zcp_cache_writeback_method(), "");
#if defined(__x86_64__)
  cr_assert(strcmp(zcp_cache_flush_method(), "clflushopt") == 0 ||
            strcmp(zcp_cache_flush_method(), "clflush") == 0);
#endif
}

Test(cache, primitives_keep_data_and_count_lines) {
  int64_t line = zcp_cache_line_size();
  size_t n = 1 << 16;
  uint8_t *buf = aligned_alloc(4096, n);
  cr_assert_not_null(buf);
  for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)i;
  zcp_cache_stats_reset();
  zcp_cache_writeback(buf, (int64_t)n);
  zcp_cache_fence();
  zcp_cache_flush(buf, (int64_t)n);
  zcp_cache_fence();
  /* An unaligned range covers every line it touches: 2 bytes across a boundary = 2. */
  zcp_cache_invalidate(buf + line - 1, 2);
  zcp_cache_fence();
  zcp_cache_flush(buf, 0);
  zcp_cache_flush(NULL, 100);
  for (size_t i = 0; i < n; i++) cr_assert_eq(buf[i], (uint8_t)i, "byte %zu", i);
  struct zcp_cache_stats s;
  zcp_cache_stats_get(&s);
  cr_assert_eq(s.lines_written_back, (int64_t)n / line);
  cr_assert_eq(s.lines_flushed, (int64_t)n / line);
  cr_assert_eq(s.lines_invalidated, 2);
  cr_assert_eq(s.fences, 3);
  free(buf);
}

Test(cache, region_primitives_are_noops_on_coherent_regions) {
  struct zcp_device *dev = NULL;
  struct zcp_window *w = NULL;
  struct zcp_error err = {0};
  struct zcp_device_options o;
  zcp_device_options_init(&o);
  o.create = true;
  o.size = 2 << 20;
  cr_assert_eq(zcp_device_open("shm:", &o, &dev, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_window_reserve(ZCP_WINDOW_BASE_DEFAULT, 4 << 20, &w, &err), ZCP_OK);
  struct zcp_region_info info = {1, 0, 1, 2 << 20, ZCP_COHERENT};
  struct zcp_region *c = NULL, *nc = NULL;
  cr_assert_eq(zcp_region_map(w, 0, dev, ZCP_REGION_OWNER, &info, &c, &err), ZCP_OK);
  info.coherence = ZCP_NONCOHERENT;
  cr_assert_eq(zcp_region_map(w, 2 << 20, dev, ZCP_REGION_OWNER, &info, &nc, &err),
               ZCP_OK, "%s", err.message);
  zcp_cache_stats_reset();
  zcp_region_flush(c, zcp_region_data(c), 4096);
  zcp_region_writeback(c, zcp_region_data(c), 4096);
  zcp_region_invalidate(c, zcp_region_data(c), 4096);
  struct zcp_cache_stats s;
  zcp_cache_stats_get(&s);
  cr_assert_eq(s.lines_flushed + s.lines_written_back + s.lines_invalidated, 0);
  zcp_region_flush(nc, zcp_region_data(nc), 4096);
  zcp_region_writeback(nc, zcp_region_data(nc), 4096);
  zcp_region_invalidate(nc, zcp_region_data(nc), 4096);
  zcp_cache_stats_get(&s);
  int64_t lines = 4096 / zcp_cache_line_size();
  cr_assert_eq(s.lines_flushed, lines);
  cr_assert_eq(s.lines_written_back, lines);
  cr_assert_eq(s.lines_invalidated, lines);
  zcp_region_unmap(c);
  zcp_region_unmap(nc);
  zcp_window_release(w);
  zcp_device_close(dev);
}
