/* See zcp_node.h. */
#define _POSIX_C_SOURCE 200809L
#include "zcp_node.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zcp_test.h"

static bool node_on_path(void) {
  const char *path = getenv("PATH");
  if (path == NULL) return false;
  char *copy = strdup(path), *save = NULL;
  bool found = false;
  for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
    char exe[4096];
    snprintf(exe, sizeof exe, "%s/node", dir);
    found = access(exe, X_OK) == 0;
  }
  free(copy);
  return found;
}

const char *zcp_node_missing(const char *const *packages) {
  static char reason[512];
  if (!node_on_path()) return "node not installed (run scripts/setup.sh)";
  for (int k = 0; packages[k] != NULL; k++) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/interop/node_modules/%s/package.json",
             zcp_test_source_dir(), packages[k]);
    if (access(dir, R_OK) != 0) {
      snprintf(reason, sizeof reason, "npm package %s not installed (run scripts/setup.sh)",
               packages[k]);
      return reason;
    }
  }
  return NULL;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int zcp_node_run(const char *script, const char *const *args, char *out, int cap,
                 int timeout_ms) {
  char path[4096];
  snprintf(path, sizeof path, "%s/tests/interop/%s", zcp_test_source_dir(), script);
  const char *argv[32] = {"node", path};
  int argc = 2;
  for (int k = 0; args[k] != NULL && argc < 31; k++) argv[argc++] = args[k];
  argv[argc] = NULL;
  int fds[2];
  if (pipe(fds) != 0) return -1;
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return -1;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a crashed test */
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    execvp("node", (char *const *)argv);
    _exit(127);
  }
  close(fds[1]);
  int len = 0;
  int64_t deadline = now_ms() + timeout_ms;
  bool timed_out = false;
  for (;;) {
    int64_t left = deadline - now_ms();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    struct pollfd p = {fds[0], POLLIN, 0};
    int r = poll(&p, 1, (int)(left < 1000 ? left : 1000));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char tmp[4096];
    ssize_t n = read(fds[0], tmp, sizeof tmp);
    if (n <= 0) break;
    int room = cap - 1 - len;
    if (room > 0) {
      memcpy(out + len, tmp, (size_t)(n < room ? n : room));
      len += (int)(n < room ? n : room);
    }
  }
  out[len] = 0;
  close(fds[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return -1;
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

bool zcp_temp_dir(char *buf, int cap) {
  const char *tmp = getenv("TMPDIR");
  snprintf(buf, (size_t)cap, "%s/zcp-interop-XXXXXX", tmp ? tmp : "/tmp");
  return mkdtemp(buf) != NULL;
}

void zcp_temp_dir_remove(const char *dir) {
  DIR *d = opendir(dir);
  if (d == NULL) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unlink(path);
  }
  closedir(d);
  rmdir(dir);
}
