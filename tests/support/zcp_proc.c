/* See zcp_proc.h. */
#define _GNU_SOURCE 1
#include "zcp_proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ROLE_ENV "ZCP_TEST_HELPER_ROLE"

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
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) {
    perror("zcp_proc: /proc/self/exe");
    return false;
  }
  exe[n] = '\0';
  const char *argv[32];
  int k = 0;
  argv[k++] = exe;
  argv[k++] = role;
  for (int i = 0; args != NULL && args[i] != NULL && k < 31; i++) argv[k++] = args[i];
  argv[k] = NULL;
  char role_env[128];
  snprintf(role_env, sizeof role_env, "%s=%s", ROLE_ENV, role);
  const char *env[] = {role_env, extra_env, NULL};
  struct zcp_error err = {0};
  if (zcp_proc_exec(p, argv, env, &err) != ZCP_OK) {
    fprintf(stderr, "zcp_proc: %s: %s\n", role, err.message);
    return false;
  }
  return true;
}
