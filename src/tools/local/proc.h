/* Child processes of a local cluster (and of the tests' helper roles): started by
 * exec or by fork, each with a pipe to its input and one from its output, dying with
 * its parent, and always reaped. A child is waited for with a timeout and killed when it
 * runs past it; zcp_proc_kill_all() kills and reaps every child still running, so that
 * a failure on the parent's side (a failed assertion, an error path) leaves nothing
 * behind.
 *
 * Not thread-safe: start and reap children from one thread. Fork only before this
 * process has started threads (exec is fine at any time). */
#ifndef ZCP_TOOLS_LOCAL_PROC_H
#define ZCP_TOOLS_LOCAL_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "zcpool/status.h"

/* A child. Zero-initialised or after it was reaped: pid <= 0 and no pipes (-1; a
 * zero-initialised struct's 0s are never closed). Owned by the caller. */
struct zcp_proc {
  pid_t pid;
  int to_child;   /* the child's input: stdin after exec, in_fd after fork */
  int from_child; /* the child's output: stdout after exec, out_fd after fork */
};

/* A forked child's body; its return value is the child's exit code. */
typedef int (*zcp_proc_fn)(int in_fd, int out_fd, void *ctx);

/* Runs argv[0] (a path; NULL-terminated argv) with the pipes as stdin and stdout (stderr
 * stays the parent's). env (NULL-terminated NAME=VALUE strings, may be NULL) is added to
 * this process's environment, replacing variables of the same name. */
ZCP_CHECK_RESULT zcp_status_t zcp_proc_exec(struct zcp_proc *p, const char *const *argv,
                                            const char *const *env,
                                            struct zcp_error *err);
/* Forks a child that runs fn(in_fd, out_fd, ctx) and exits with its result. The child
 * keeps stdin, stdout, stderr and its two pipe ends; every other descriptor is closed
 * (so a child never holds another child's pipe open), and SIGINT and SIGTERM are back to
 * their defaults. */
ZCP_CHECK_RESULT zcp_status_t zcp_proc_fork(struct zcp_proc *p, zcp_proc_fn fn, void *ctx,
                                            struct zcp_error *err);

/* Waits up to timeout_ms for the child to exit and reaps it (closing the pipes). Returns
 * its exit code, 128 + signal if it was killed, or -1 on timeout (the child is then
 * killed and reaped) or when there is no child. */
int zcp_proc_wait(struct zcp_proc *p, int timeout_ms);
/* Kills (SIGKILL) and reaps the child and closes the pipes. No child is fine. */
void zcp_proc_kill(struct zcp_proc *p);
/* Kills and reaps every child this process started and has not reaped. */
void zcp_proc_kill_all(void);

/* Reading the child's output within timeout_ms. */
/* One byte; false on timeout or end of output. */
bool zcp_proc_read_byte(struct zcp_proc *p, char *c, int timeout_ms);
/* One line without its newline, NUL-terminated (cut at cap - 1 bytes); false on timeout
 * or end of output before the newline. */
bool zcp_proc_read_line(struct zcp_proc *p, char *out, int cap, int timeout_ms);
/* Exactly n bytes: 1 done, 0 end of output or timeout first, -1 error. */
int zcp_proc_read_exact(struct zcp_proc *p, void *buf, size_t n, int timeout_ms);
/* Up to cap - 1 bytes until the child closes its output or timeout_ms runs out;
 * NUL-terminates. Returns the byte count. */
int zcp_proc_read_all(struct zcp_proc *p, char *buf, int cap, int timeout_ms);

/* Writing to the child's input; false when the child has closed it (no SIGPIPE). */
bool zcp_proc_write(struct zcp_proc *p, const void *buf, size_t n);
bool zcp_proc_write_byte(struct zcp_proc *p, char c);

#endif
