/* Child processes of the local-cluster harness: pipes both ways, exit codes, added
 * environment, a forked child holding only its own descriptors, timeouts that kill and
 * reap, kill_all leaving no child behind, and a write to a child that is gone failing
 * without killing the parent. */
#define _GNU_SOURCE 1
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"

TestSuite(proc, .fini = zcp_proc_kill_all, .timeout = 30);

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Gone: reaped (not our child any more) and no such process. */
static bool gone(pid_t pid) {
  return waitpid(pid, NULL, WNOHANG) < 0 && errno == ECHILD &&
         (kill(pid, 0) < 0 && errno == ESRCH);
}

static void sh(struct zcp_proc *p, const char *script, const char *const *env) {
  const char *argv[] = {"/bin/sh", "-c", script, NULL};
  struct zcp_error err = {0};
  cr_assert_eq(zcp_proc_exec(p, argv, env, &err), ZCP_OK, "%s", err.message);
  cr_assert_gt(p->pid, 0);
}

Test(proc, exec_talks_through_stdin_and_stdout_and_gives_the_exit_code) {
  struct zcp_proc p;
  sh(&p, "read x; echo \"got $x\"; exit 3", NULL);
  cr_assert(zcp_proc_write(&p, "hello\n", 6));
  char line[64];
  cr_assert(zcp_proc_read_line(&p, line, sizeof line, 5000));
  cr_assert_str_eq(line, "got hello");
  pid_t pid = p.pid;
  cr_assert_eq(zcp_proc_wait(&p, 5000), 3);
  cr_assert(gone(pid));
  cr_assert_eq(p.pid, -1);
  cr_assert_eq(p.to_child, -1);
  cr_assert_eq(zcp_proc_wait(&p, 100), -1, "nothing left to wait for");
}

Test(proc, exec_adds_and_replaces_environment_variables) {
  struct zcp_proc p;
  setenv("ZCP_PROC_TEST_B", "old", 1);
  sh(&p, "echo \"$ZCP_PROC_TEST_A $ZCP_PROC_TEST_B\"",
     (const char *const[]){"ZCP_PROC_TEST_A=one", "ZCP_PROC_TEST_B=two", NULL});
  char out[64];
  zcp_proc_read_all(&p, out, sizeof out, 5000);
  cr_assert_str_eq(out, "one two\n");
  cr_assert_eq(zcp_proc_wait(&p, 5000), 0);
  cr_assert_str_eq(getenv("ZCP_PROC_TEST_B"), "old", "the parent's is untouched");
}

/* The child: is fd `extra` (the parent's, inherited by the fork) closed here? Then
 * echo what comes in, once. */
static int echo_once(int in_fd, int out_fd, void *ctx) {
  int extra = *(int *)ctx;
  if (fcntl(extra, F_GETFD) != -1 || errno != EBADF) return 10;
  char buf[16];
  ssize_t n = read(in_fd, buf, sizeof buf);
  if (n <= 0 || write(out_fd, buf, (size_t)n) != n) return 11;
  return 7;
}

Test(proc, a_forked_child_keeps_only_its_own_pipes) {
  int extra[2];
  cr_assert_eq(pipe(extra), 0);
  /* Above the child's own 3 and 4, whatever this process has open. */
  int high = fcntl(extra[1], F_DUPFD, 50);
  cr_assert_geq(high, 50);
  close(extra[1]);
  extra[1] = high;
  struct zcp_proc p;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_proc_fork(&p, echo_once, &extra[1], &err), ZCP_OK, "%s", err.message);
  cr_assert(zcp_proc_write(&p, "ping", 4));
  char buf[5] = {0};
  cr_assert_eq(zcp_proc_read_exact(&p, buf, 4, 5000), 1);
  cr_assert_str_eq(buf, "ping");
  cr_assert_eq(zcp_proc_wait(&p, 5000), 7);
  /* The child held no copy of the extra pipe: closing ours ends it. */
  close(extra[1]);
  char c;
  cr_assert_eq(read(extra[0], &c, 1), 0);
  close(extra[0]);
}

Test(proc, a_child_past_its_timeout_is_killed_and_reaped) {
  struct zcp_proc p;
  sh(&p, "exec sleep 30", NULL);
  pid_t pid = p.pid;
  long long t0 = now_ms();
  cr_assert_eq(zcp_proc_wait(&p, 200), -1);
  cr_assert_lt(now_ms() - t0, 3000);
  cr_assert(gone(pid));
  char c;
  cr_assert_eq(zcp_proc_read_exact(&p, &c, 1, 10), -1, "pipes closed");
}

Test(proc, kill_and_kill_all_leave_no_child) {
  struct zcp_proc p[3];
  for (int i = 0; i < 3; i++) sh(&p[i], "exec sleep 30", NULL);
  pid_t pids[3] = {p[0].pid, p[1].pid, p[2].pid};
  zcp_proc_kill(&p[0]);
  cr_assert(gone(pids[0]));
  zcp_proc_kill(&p[0]); /* twice is fine */
  zcp_proc_kill_all();
  cr_assert(gone(pids[1]) && gone(pids[2]));
}

static int exit_at_once(int in_fd, int out_fd, void *ctx) {
  return 0;
}

Test(proc, writing_to_a_child_that_is_gone_fails_without_sigpipe) {
  struct zcp_proc p;
  cr_assert_eq(zcp_proc_fork(&p, exit_at_once, NULL, NULL), ZCP_OK);
  char c;
  cr_assert_eq(zcp_proc_read_exact(&p, &c, 1, 5000), 0, "end of output");
  struct timespec pause = {0, 50 * 1000 * 1000};
  nanosleep(&pause, NULL);
  cr_assert_not(zcp_proc_write(&p, "x", 1));
  cr_assert_eq(zcp_proc_wait(&p, 5000), 0);
  cr_assert_not(zcp_proc_write(&p, "x", 1), "no pipe after the reap");
}

Test(proc, bad_arguments_are_refused) {
  struct zcp_proc p;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_proc_exec(NULL, (const char *const[]){"/bin/true", NULL}, NULL, &err),
               ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_proc_exec(&p, (const char *const[]){NULL}, NULL, &err),
               ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_proc_fork(&p, NULL, NULL, &err), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_proc_wait(NULL, 10), -1);
  zcp_proc_kill(NULL);
  /* A program that does not exist: the child reports it by its exit code. */
  cr_assert_eq(
      zcp_proc_exec(&p, (const char *const[]){"/nonexistent/zcp", NULL}, NULL, &err),
      ZCP_OK);
  cr_assert_eq(zcp_proc_wait(&p, 5000), 121);
}
