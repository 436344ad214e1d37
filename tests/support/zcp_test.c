/* See zcp_test.h. */
#include "zcp_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const char *zcp_test_source_dir(void) {
  const char *d = getenv("ZCP_SOURCE_DIR");
  return d != NULL ? d : ".";
}

const char *zcp_test_duckdb_lib(void) {
  static char path[4096];
  const char *env = getenv("ZCP_DUCKDB_LIB");
  if (env != NULL) return env;
  snprintf(path, sizeof path,
           "%s/tests/interop/node_modules/@duckdb/node-bindings-linux-x64/libduckdb.so",
           zcp_test_source_dir());
  if (access(path, R_OK) != 0) return NULL;
  return path;
}
