/* Helper roles for multi-process tests. A test starts helpers by re-running its own
 * binary in a named role (a fresh address space, as another node would have); the
 * process itself (pipes on its stdin and stdout, dying with its parent, waited for with
 * a timeout, zcp_proc_kill_all in the suite's fini so that a failed assertion never
 * leaves a helper behind) is the local-cluster harness's struct zcp_proc (proc.h). */
#ifndef ZCP_PROC_H
#define ZCP_PROC_H

#include <stdbool.h>

#include "proc.h"

/* A role's entry point: argv[0] is the role; returns the exit code. */
typedef int (*zcp_proc_role_fn)(int argc, char **argv);

/* Call from a constructor of the test binary (glibc passes argc/argv to constructors):
 * if this process was started as a helper, runs dispatch and exits with its result. */
void zcp_proc_helper_main(int argc, char **argv, zcp_proc_role_fn dispatch);

/* Starts the test binary again as a helper: argv = role, args... (NULL-terminated).
 * extra_env (may be NULL) is one NAME=VALUE put into the helper's environment.
 * Returns false (with a message on stderr) on failure. */
bool zcp_proc_spawn(struct zcp_proc *p, const char *extra_env, const char *role,
                    const char *const *args);

#endif
