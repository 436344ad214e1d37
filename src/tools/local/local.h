/* A local cluster: every node on this host, in processes of their own. A fresh
 * directory holds the cluster's key and config file, the nodes' Unix sockets, and names
 * their shared-memory regions; the config is built with the config builder
 * (zcpool/cluster.h) and written there, and the node processes are started by exec or
 * fork (proc.h) and owned by the cluster. zcp_local_close always kills and reaps every
 * node process still running and removes everything the cluster put on the machine
 * (regions of killed nodes included). The tests, the benchmarks and the examples start
 * their clusters with it.
 *
 * It lives outside the library on purpose: a library embedded in an application must
 * not fork, reap or kill processes, and the cluster is built only with the public API.
 *
 * Typical use:
 *   zcp_local_open("demo", &lc, &err);
 *   for (...) zcp_local_add_node(lc, NULL, 64 << 20, ZCP_COHERENT, &err);
 *   zcp_config_set_call_timeout_ms(zcp_local_config(lc), 60000, &err);
 *   zcp_local_write(lc, &err);
 *   zcp_local_fork(lc, 1, run_node, ctx, &err);      (or zcp_local_exec)
 *   ... zcp_node_open(zcp_local_config(lc), 0, &node, &err) here ...
 *   zcp_local_wait(lc, 1, 10000);
 *   zcp_local_close(lc); */
#ifndef ZCP_TOOLS_LOCAL_LOCAL_H
#define ZCP_TOOLS_LOCAL_LOCAL_H

#include <stdint.h>

#include "proc.h"
#include "zcpool/cluster.h"

struct zcp_local;

/* Makes a fresh directory ($TMPDIR, else /tmp: zcp-<name>-XXXXXX), creates a new key in
 * it (cluster.key, mode 0600), and starts the config: name, a fresh cluster id, key_file
 * cluster.key, the other keys at their defaults and no nodes yet. name: 1..32 bytes of
 * letters, digits, '-' and '_'. */
ZCP_CHECK_RESULT zcp_status_t zcp_local_open(const char *name, struct zcp_local **out,
                                             struct zcp_error *err);

/* The config being built (change any key before zcp_local_write). Borrowed: valid until
 * zcp_local_close. */
struct zcp_config *zcp_local_config(struct zcp_local *lc);
/* The directory and the config file in it (<dir>/cluster.ini). */
const char *zcp_local_dir(const struct zcp_local *lc);
const char *zcp_local_config_path(const struct zcp_local *lc);

/* Adds the next node: at address, or (NULL) at unix:<dir>/node<id>.sock; its region
 * shm:<directory name>-<id>. */
ZCP_CHECK_RESULT zcp_status_t zcp_local_add_node(struct zcp_local *lc,
                                                 const char *address, int64_t size,
                                                 enum zcp_coherence coherence,
                                                 struct zcp_error *err);
/* Writes the config file (again after a change). */
ZCP_CHECK_RESULT zcp_status_t zcp_local_write(struct zcp_local *lc,
                                              struct zcp_error *err);

/* A node process's body after a fork: node id of lc, reading commands from in_fd and
 * answering on out_fd as the caller likes. Returns the exit code. */
typedef int (*zcp_local_node_fn)(struct zcp_local *lc, int32_t id, int in_fd, int out_fd,
                                 void *ctx);

/* Starts node id's process by fork (zcp_proc_fork) or by exec (zcp_proc_exec: argv and
 * env as there). The config must be written; ZCP_BUSY while node id's previous process
 * still runs. */
ZCP_CHECK_RESULT zcp_status_t zcp_local_fork(struct zcp_local *lc, int32_t id,
                                             zcp_local_node_fn fn, void *ctx,
                                             struct zcp_error *err);
ZCP_CHECK_RESULT zcp_status_t zcp_local_exec(struct zcp_local *lc, int32_t id,
                                             const char *const *argv,
                                             const char *const *env,
                                             struct zcp_error *err);
/* Node id's process: its pid and pipes (pid <= 0 when none runs). Borrowed. NULL for an
 * id outside the cluster. */
struct zcp_proc *zcp_local_proc(struct zcp_local *lc, int32_t id);
/* Waits up to timeout_ms for node id's process to exit, as zcp_proc_wait. */
int zcp_local_wait(struct zcp_local *lc, int32_t id, int timeout_ms);

/* Kills and reaps every node process still running, removes every node's shm region
 * and Unix socket, every file in the directory and the directory, and frees lc. NULL is
 * fine. */
void zcp_local_close(struct zcp_local *lc);

#endif
