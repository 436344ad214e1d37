/* See zcp_proc.h. */
#define _GNU_SOURCE 1
#include "zcp_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROLE_ENV "ZCP_TEST_HELPER_ROLE"
#define MAX_LIVE 64

static pid_t live[MAX_LIVE];

static void track(pid_t pid) {
  for (int i = 0; i < MAX_LIVE; i++) {
    if (live[i] == 0) {
      live[i] = pid;
      return;
    }
  }
}

static void untrack(pid_t pid) {
  for (int i = 0; i < MAX_LIVE; i++) {
    if (live[i] == pid) live[i] = 0;
  }
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void zcp_proc_helper_main(int argc, char **argv, zcp_proc_role_fn dispatch) {
  const char *role = getenv(ROLE_ENV);
  if (role == NULL || argc < 2) return;
  unsetenv(ROLE_ENV);
  fflush(NULL);
  int rc = dispatch(argc - 1, argv + 1);
  fflush(NULL);
  _exit(rc);
}

bool zcp_proc_spawn(struct zcp_proc *p, const char *extra_env, const char *role,
                    const char *const *args) {
  int in[2], out[2];
  p->pid = -1;
  p->to_child = p->from_child = -1;
  if (pipe2(in, O_CLOEXEC) != 0) return false;
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return false;
  }
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) {
    close(in[0]);
    close(in[1]);
    close(out[0]);
    close(out[1]);
    return false;
  }
  exe[n] = '\0';
  const char *argv[32];
  int k = 0;
  argv[k++] = exe;
  argv[k++] = role;
  for (int i = 0; args != NULL && args[i] != NULL && k < 31; i++) argv[k++] = args[i];
  argv[k] = NULL;
  pid_t parent = getpid();
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "zcp_proc: fork: %s\n", strerror(errno));
    close(in[0]);
    close(in[1]);
    close(out[0]);
    close(out[1]);
    return false;
  }
  if (pid == 0) {
    /* Die with the test, whatever happens to it. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(120);
    dup2(in[0], 0);
    dup2(out[1], 1);
    setenv(ROLE_ENV, role, 1);
    if (extra_env != NULL) putenv((char *)extra_env);
    execv(exe, (char *const *)argv);
    _exit(121);
  }
  close(in[0]);
  close(out[1]);
  p->pid = pid;
  p->to_child = in[1];
  p->from_child = out[0];
  track(pid);
  return true;
}

static void close_pipes(struct zcp_proc *p) {
  if (p->to_child >= 0) close(p->to_child);
  if (p->from_child >= 0) close(p->from_child);
  p->to_child = p->from_child = -1;
}

int zcp_proc_wait(struct zcp_proc *p, int timeout_ms) {
  if (p->pid <= 0) return -1;
  long long deadline = now_ms() + timeout_ms;
  int status = 0;
  for (;;) {
    pid_t r = waitpid(p->pid, &status, WNOHANG);
    if (r == p->pid) break;
    if (r < 0 && errno != EINTR) return -1;
    if (now_ms() > deadline) {
      kill(p->pid, SIGKILL);
      waitpid(p->pid, &status, 0);
      untrack(p->pid);
      p->pid = -1;
      close_pipes(p);
      return -1;
    }
    struct timespec ts = {0, 2 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  untrack(p->pid);
  p->pid = -1;
  close_pipes(p);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

int zcp_proc_read_all(struct zcp_proc *p, char *buf, int cap, int timeout_ms) {
  long long deadline = now_ms() + timeout_ms;
  int len = 0;
  while (len < cap - 1) {
    long long left = deadline - now_ms();
    if (left <= 0) break;
    struct pollfd pfd = {p->from_child, POLLIN, 0};
    int r = poll(&pfd, 1, (int)left);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    ssize_t n = read(p->from_child, buf + len, (size_t)(cap - 1 - len));
    if (n <= 0) break;
    len += (int)n;
  }
  buf[len] = '\0';
  return len;
}

bool zcp_proc_read_byte(struct zcp_proc *p, char *c, int timeout_ms) {
  struct pollfd pfd = {p->from_child, POLLIN, 0};
  if (poll(&pfd, 1, timeout_ms) <= 0) return false;
  return read(p->from_child, c, 1) == 1;
}

bool zcp_proc_write_byte(struct zcp_proc *p, char c) {
  return write(p->to_child, &c, 1) == 1;
}

void zcp_proc_kill_all(void) {
  for (int i = 0; i < MAX_LIVE; i++) {
    if (live[i] > 0) {
      kill(live[i], SIGKILL);
      waitpid(live[i], NULL, 0);
      live[i] = 0;
    }
  }
}
