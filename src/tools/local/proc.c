/* See proc.h. Every child started here is recorded until it is reaped, so that
 * zcp_proc_kill_all can kill only what is ours and still unreaped (a reaped pid may
 * belong to someone else by then). The environment of an exec'd child is built before
 * the fork: between fork and exec a child of a threaded parent may only make
 * async-signal-safe calls. */
#define _GNU_SOURCE 1
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_LIVE 256

static pid_t live[MAX_LIVE]; /* children started and not yet reaped */

static void track(pid_t pid) {
  for (int i = 0; i < MAX_LIVE; i++) {
    if (live[i] == 0) {
      live[i] = pid;
      return;
    }
  }
}

static void untrack(pid_t pid) {
  for (int i = 0; i < MAX_LIVE; i++)
    if (live[i] == pid) live[i] = 0;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Descriptors 0..2 are never closed: a zeroed struct zcp_proc holds no pipes. */
static void close_fd(int *fd) {
  if (*fd > 2) close(*fd);
  *fd = -1;
}

static void close_pipes(struct zcp_proc *p) {
  close_fd(&p->to_child);
  close_fd(&p->from_child);
}

/* Two pipes, both ends close-on-exec: in[0]/out[1] are the child's. */
static zcp_status_t make_pipes(int in[2], int out[2], struct zcp_error *err) {
  if (pipe2(in, O_CLOEXEC) != 0)
    return zcp_error_set(err, ZCP_IO_ERROR, "pipe: %s", strerror(errno));
  if (pipe2(out, O_CLOEXEC) != 0) {
    int e = errno;
    close(in[0]);
    close(in[1]);
    return zcp_error_set(err, ZCP_IO_ERROR, "pipe: %s", strerror(e));
  }
  return ZCP_OK;
}

static void close4(int in[2], int out[2]) {
  close(in[0]);
  close(in[1]);
  close(out[0]);
  close(out[1]);
}

/* The parent's side after a fork. */
static void adopt(struct zcp_proc *p, pid_t pid, int in[2], int out[2]) {
  close(in[0]);
  close(out[1]);
  p->pid = pid;
  p->to_child = in[1];
  p->from_child = out[0];
  track(pid);
}

/* In a child: die with the parent, whatever happens to it. */
static void die_with(pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(120);
}

/* environ with the NAME=VALUE strings of add put in (replacing the same names). The
 * array is malloc'd; the strings are borrowed. */
static char **merged_env(const char *const *add) {
  size_t n = 0, k = 0;
  while (environ[n] != NULL) n++;
  while (add != NULL && add[k] != NULL) k++;
  char **env = malloc((n + k + 1) * sizeof *env);
  if (env == NULL) return NULL;
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    bool replaced = false;
    for (size_t j = 0; j < k && !replaced; j++) {
      const char *eq = strchr(add[j], '=');
      size_t len = eq != NULL ? (size_t)(eq - add[j]) + 1 : strlen(add[j]);
      replaced = strncmp(environ[i], add[j], len) == 0;
    }
    if (!replaced) env[m++] = environ[i];
  }
  for (size_t j = 0; j < k; j++) env[m++] = (char *)add[j];
  env[m] = NULL;
  return env;
}

zcp_status_t zcp_proc_exec(struct zcp_proc *p, const char *const *argv,
                           const char *const *env, struct zcp_error *err) {
  if (p == NULL || argv == NULL || argv[0] == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "zcp_proc_exec: %s is NULL",
                         p == NULL ? "the process" : "the program");
  p->pid = -1;
  p->to_child = p->from_child = -1;
  char **envp = merged_env(env);
  if (envp == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "environment");
  int in[2], out[2];
  zcp_status_t st = make_pipes(in, out, err);
  if (st != ZCP_OK) {
    free(envp);
    return st;
  }
  pid_t parent = getpid();
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close4(in, out);
    free(envp);
    return zcp_error_set(err, ZCP_IO_ERROR, "fork: %s", strerror(e));
  }
  if (pid == 0) {
    die_with(parent);
    dup2(in[0], 0);
    dup2(out[1], 1);
    execve(argv[0], (char *const *)argv, envp);
    _exit(121);
  }
  free(envp);
  adopt(p, pid, in, out);
  return ZCP_OK;
}

/* In a forked child: in and out become 3 and 4, everything above is closed. */
static void keep_only(int in, int out) {
  int a = fcntl(in, F_DUPFD, 5), b = fcntl(out, F_DUPFD, 5);
  if (a < 0 || b < 0 || dup2(a, 3) != 3 || dup2(b, 4) != 4) _exit(122);
  if (close_range(5, ~0u, 0) != 0)
    for (int fd = 5; fd < 4096; fd++) close(fd);
}

zcp_status_t zcp_proc_fork(struct zcp_proc *p, zcp_proc_fn fn, void *ctx,
                           struct zcp_error *err) {
  if (p == NULL || fn == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "zcp_proc_fork: %s is NULL",
                         p == NULL ? "the process" : "the function");
  p->pid = -1;
  p->to_child = p->from_child = -1;
  int in[2], out[2];
  ZCP_RETURN_NOT_OK(make_pipes(in, out, err));
  pid_t parent = getpid();
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close4(in, out);
    return zcp_error_set(err, ZCP_IO_ERROR, "fork: %s", strerror(e));
  }
  if (pid == 0) {
    die_with(parent);
    memset(live, 0, sizeof live); /* the parent's children are not this one's */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    keep_only(in[0], out[1]);
    int rc = fn(3, 4, ctx);
    fflush(NULL);
    _exit(rc);
  }
  adopt(p, pid, in, out);
  return ZCP_OK;
}

static int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

int zcp_proc_wait(struct zcp_proc *p, int timeout_ms) {
  if (p == NULL) return -1;
  if (p->pid <= 0) {
    close_pipes(p);
    return -1;
  }
  int64_t deadline = now_ms() + timeout_ms;
  int status = 0;
  int rc = -1;
  for (;;) {
    pid_t r = waitpid(p->pid, &status, WNOHANG);
    if (r == p->pid) {
      rc = exit_code(status);
      break;
    }
    if (r < 0 && errno != EINTR) break; /* not our child (any more) */
    if (now_ms() > deadline) {
      kill(p->pid, SIGKILL);
      while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    struct timespec ts = {0, 2 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  untrack(p->pid);
  p->pid = -1;
  close_pipes(p);
  return rc;
}

void zcp_proc_kill(struct zcp_proc *p) {
  if (p == NULL) return;
  if (p->pid > 0) {
    kill(p->pid, SIGKILL);
    while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR) {
    }
    untrack(p->pid);
  }
  p->pid = -1;
  close_pipes(p);
}

void zcp_proc_kill_all(void) {
  for (int i = 0; i < MAX_LIVE; i++) {
    if (live[i] <= 0) continue;
    kill(live[i], SIGKILL);
    while (waitpid(live[i], NULL, 0) < 0 && errno == EINTR) {
    }
    live[i] = 0;
  }
}

/* Waits until fd is readable or the deadline passes; false on timeout. */
static bool readable(int fd, int64_t deadline) {
  for (;;) {
    int64_t left = deadline - now_ms();
    if (left <= 0) return false;
    struct pollfd pfd = {fd, POLLIN, 0};
    int r = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

int zcp_proc_read_exact(struct zcp_proc *p, void *buf, size_t n, int timeout_ms) {
  if (p == NULL || p->from_child < 0) return -1;
  int64_t deadline = now_ms() + timeout_ms;
  size_t got = 0;
  while (got < n) {
    if (!readable(p->from_child, deadline)) return 0;
    ssize_t r = read(p->from_child, (char *)buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) return 0;
    got += (size_t)r;
  }
  return 1;
}

bool zcp_proc_read_byte(struct zcp_proc *p, char *c, int timeout_ms) {
  return zcp_proc_read_exact(p, c, 1, timeout_ms) == 1;
}

bool zcp_proc_read_line(struct zcp_proc *p, char *out, int cap, int timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  int len = 0;
  out[0] = '\0';
  for (;;) {
    int64_t left = deadline - now_ms();
    char c;
    if (left <= 0 || !zcp_proc_read_byte(p, &c, (int)left)) return false;
    if (c == '\n') break;
    if (len < cap - 1) out[len++] = c;
  }
  out[len] = '\0';
  return true;
}

int zcp_proc_read_all(struct zcp_proc *p, char *buf, int cap, int timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  int len = 0;
  while (p != NULL && p->from_child >= 0 && len < cap - 1) {
    if (!readable(p->from_child, deadline)) break;
    ssize_t n = read(p->from_child, buf + len, (size_t)(cap - 1 - len));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += (int)n;
  }
  buf[len] = '\0';
  return len;
}

bool zcp_proc_write(struct zcp_proc *p, const void *buf, size_t n) {
  if (p == NULL || p->to_child < 0) return false;
  /* A child that is gone must not take the parent with it (SIGPIPE) before the parent
   * has cleaned up: the signal is blocked here, and one this write raised is taken. */
  sigset_t pipe_only, old;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  size_t put = 0;
  bool broken = false;
  while (put < n) {
    ssize_t w = write(p->to_child, (const char *)buf + put, n - put);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      broken = w < 0 && errno == EPIPE;
      break;
    }
    put += (size_t)w;
  }
  if (broken && !sigismember(&old, SIGPIPE)) {
    struct timespec none = {0, 0};
    while (sigtimedwait(&pipe_only, NULL, &none) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return put == n;
}

bool zcp_proc_write_byte(struct zcp_proc *p, char c) {
  return zcp_proc_write(p, &c, 1);
}
