/* Helpers shared by the test programs: where the gold files and the interop packages
 * are, and a leak check around the default allocator. */
#ifndef ZCP_TEST_H
#define ZCP_TEST_H

#include <stdint.h>

/* Source tree root (ZCP_SOURCE_DIR from CTest, else "."). */
const char *zcp_test_source_dir(void);
/* Path of libduckdb.so from the npm package, or NULL (with a reason printed) if absent. */
const char *zcp_test_duckdb_lib(void);

#endif
