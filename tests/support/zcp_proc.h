/* Helper processes for multi-process tests. A test starts helpers by re-running its own
 * binary in a named role (a fresh address space, as another node would have); every
 * helper gets a pipe on its stdin and stdout, dies with its parent, and is waited for
 * with a timeout. zcp_proc_kill_all() kills and reaps whatever is left: call it from the
 * suite's fini so that a failed assertion never leaves a helper behind. */
#ifndef ZCP_PROC_H
#define ZCP_PROC_H

#include <stdbool.h>
#include <sys/types.h>

struct zcp_proc {
  pid_t pid;
  int to_child;   /* the helper's stdin */
  int from_child; /* the helper's stdout */
};

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
/* Waits up to timeout_ms for the helper to exit. Returns its exit code, 128 + signal if
 * it was killed, or -1 on timeout (the helper is then killed and reaped). */
int zcp_proc_wait(struct zcp_proc *p, int timeout_ms);
/* Reads up to cap-1 bytes of the helper's stdout until it closes it or timeout_ms runs
 * out; NUL-terminates. Returns the byte count. */
int zcp_proc_read_all(struct zcp_proc *p, char *buf, int cap, int timeout_ms);
/* Reads exactly one byte within timeout_ms; false on timeout or end of file. */
bool zcp_proc_read_byte(struct zcp_proc *p, char *c, int timeout_ms);
bool zcp_proc_write_byte(struct zcp_proc *p, char c);
/* Kills (SIGKILL) and reaps every helper still running. */
void zcp_proc_kill_all(void);

#endif
