/* Running the Node.js scripts of the interop tests (Arrow JS, Polars): find node and the
 * npm packages scripts/setup.sh installs into tests/interop/node_modules, run a script
 * with a timeout, and capture what it prints. The child is always killed and reaped. */
#ifndef ZCP_NODE_H
#define ZCP_NODE_H

#include <stdbool.h>

/* NULL when node and every package named (NULL-terminated) are present, else a one-line
 * reason to skip with. */
const char *zcp_node_missing(const char *const *packages);
/* Runs `node tests/interop/<script> args...` (args NULL-terminated) with its stdout and
 * stderr captured into out (NUL-terminated, truncated to cap). Returns the exit code,
 * 128 + signal, or -1 when it could not start or ran past timeout_ms (then killed). */
int zcp_node_run(const char *script, const char *const *args, char *out, int cap,
                 int timeout_ms);

/* A fresh temporary directory (mkdtemp) into buf; false on failure. */
bool zcp_temp_dir(char *buf, int cap);
/* Removes the files in dir and dir itself (not recursive). */
void zcp_temp_dir_remove(const char *dir);

#endif
