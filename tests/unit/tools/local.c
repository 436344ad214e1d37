/* Local clusters: the directory, key and config a cluster gets, node processes that
 * open their nodes and find each other, and a close that kills and reaps what still runs
 * and removes every region, socket and file, also of nodes that were killed. */
#define _GNU_SOURCE 1
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "local.h"

static struct zcp_local *lc;
static struct zcp_node *node;

static void teardown(void) {
  zcp_node_close(node);
  node = NULL;
  zcp_local_close(lc);
  lc = NULL;
}

TestSuite(local, .fini = teardown, .timeout = 60);

static void open_cluster(int n) {
  struct zcp_error err = {0};
  cr_assert_eq(zcp_local_open("unit", &lc, &err), ZCP_OK, "%s", err.message);
  for (int i = 0; i < n; i++)
    cr_assert_eq(zcp_local_add_node(lc, NULL, 4 << 20, ZCP_COHERENT, &err), ZCP_OK, "%s",
                 err.message);
  cr_assert_eq(zcp_local_write(lc, &err), ZCP_OK, "%s", err.message);
}

static bool exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* /dev/shm/NAME of node i's shm:NAME region. */
static void region_path(int i, char *buf, size_t cap) {
  struct zcp_config_node n;
  cr_assert_eq(zcp_config_get_node(zcp_local_config(lc), i, &n, NULL), ZCP_OK);
  cr_assert(strncmp(n.device, "shm:", 4) == 0, "%s", n.device);
  snprintf(buf, cap, "/dev/shm/%s", n.device + 4);
}

Test(local, a_cluster_gets_a_directory_key_and_config_of_its_own) {
  open_cluster(3);
  const char *dir = zcp_local_dir(lc);
  cr_assert(strstr(dir, "/zcp-unit-") != NULL, "%s", dir);
  char key[300];
  snprintf(key, sizeof key, "%s/cluster.key", dir);
  struct stat st;
  cr_assert_eq(stat(key, &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0600);
  struct zcp_config *cfg = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_config_load(zcp_local_config_path(lc), &cfg, &err), ZCP_OK, "%s",
               err.message);
  cr_assert_str_eq(zcp_config_name(cfg), "unit");
  cr_assert_str_eq(zcp_config_key_file(cfg), key);
  cr_assert_eq(zcp_config_id(cfg), zcp_config_id(zcp_local_config(lc)));
  cr_assert_eq(zcp_config_n_nodes(cfg), 3);
  struct zcp_config_node n2;
  cr_assert_eq(zcp_config_get_node(cfg, 2, &n2, NULL), ZCP_OK);
  char want[300];
  snprintf(want, sizeof want, "unix:%s/node2.sock", dir);
  cr_assert_str_eq(n2.address, want);
  snprintf(want, sizeof want, "shm:%s-2", strrchr(dir, '/') + 1);
  cr_assert_str_eq(n2.device, want);
  zcp_config_free(cfg);
  /* Another cluster at the same time is another directory and another id. */
  struct zcp_local *other = NULL;
  cr_assert_eq(zcp_local_open("unit", &other, &err), ZCP_OK, "%s", err.message);
  cr_assert_str_neq(zcp_local_dir(other), dir);
  cr_assert_neq(zcp_config_id(zcp_local_config(other)),
                zcp_config_id(zcp_local_config(lc)));
  char other_dir[300];
  snprintf(other_dir, sizeof other_dir, "%s", zcp_local_dir(other));
  zcp_local_close(other);
  cr_assert_not(exists(other_dir));
}

/* A node process: opens node id, waits for the others, says 'r', leaves on any byte
 * (or stays, for ctx != NULL, until it is killed). */
static int node_main(struct zcp_local *c, int32_t id, int in_fd, int out_fd, void *ctx) {
  struct zcp_node *n = NULL;
  struct zcp_error err = {0};
  if (zcp_node_open(zcp_local_config(c), id, &n, &err) != ZCP_OK ||
      zcp_node_wait_online(n, 20000, &err) != ZCP_OK) {
    dprintf(2, "node %d: %s\n", (int)id, err.message);
    return 1;
  }
  if (write(out_fd, "r", 1) != 1) return 2;
  if (ctx != NULL) pause();
  char cmd;
  if (read(in_fd, &cmd, 1) != 1) return 3;
  zcp_node_close(n);
  return 0;
}

Test(local, forked_nodes_find_each_other_and_exit) {
  open_cluster(3);
  struct zcp_error err = {0};
  for (int i = 1; i < 3; i++)
    cr_assert_eq(zcp_local_fork(lc, i, node_main, NULL, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_node_open(zcp_local_config(lc), 0, &node, &err), ZCP_OK, "%s",
               err.message);
  cr_assert_eq(zcp_node_wait_online(node, 20000, &err), ZCP_OK, "%s", err.message);
  for (int i = 1; i < 3; i++) {
    char c = 0;
    cr_assert(zcp_proc_read_byte(zcp_local_proc(lc, i), &c, 20000) && c == 'r', "node %d",
              i);
    cr_assert(zcp_proc_write_byte(zcp_local_proc(lc, i), 'q'));
  }
  for (int i = 1; i < 3; i++) cr_assert_eq(zcp_local_wait(lc, i, 20000), 0, "node %d", i);
  cr_assert_eq(zcp_local_proc(lc, 1)->pid, -1, "reaped");
}

Test(local, close_kills_running_nodes_and_removes_their_regions) {
  open_cluster(2);
  struct zcp_error err = {0};
  cr_assert_eq(zcp_local_fork(lc, 1, node_main, "stay", &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_node_open(zcp_local_config(lc), 0, &node, &err), ZCP_OK, "%s",
               err.message);
  char c = 0;
  cr_assert(zcp_proc_read_byte(zcp_local_proc(lc, 1), &c, 20000) && c == 'r');
  pid_t pid = zcp_local_proc(lc, 1)->pid;
  char region[300], dir[300];
  region_path(1, region, sizeof region);
  snprintf(dir, sizeof dir, "%s", zcp_local_dir(lc));
  cr_assert(exists(region), "node 1's region %s", region);
  zcp_node_close(node);
  node = NULL;
  zcp_local_close(lc);
  lc = NULL;
  cr_assert(waitpid(pid, NULL, WNOHANG) < 0 && errno == ECHILD, "reaped");
  cr_assert(kill(pid, 0) < 0 && errno == ESRCH, "killed");
  cr_assert_not(exists(region), "the killed node's region is removed");
  cr_assert_not(exists(dir), "the directory is removed");
}

Test(local, exec_starts_a_program_as_a_node_process) {
  open_cluster(1);
  struct zcp_error err = {0};
  const char *argv[] = {"/bin/sh", "-c", "read x; echo \"$x $ZCP_LOCAL_TEST\"", NULL};
  const char *env[] = {"ZCP_LOCAL_TEST=env", NULL};
  cr_assert_eq(zcp_local_exec(lc, 0, argv, env, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_local_exec(lc, 0, argv, env, &err), ZCP_BUSY, "node 0 runs already");
  cr_assert(zcp_proc_write(zcp_local_proc(lc, 0), "hi\n", 3));
  char line[64];
  cr_assert(zcp_proc_read_line(zcp_local_proc(lc, 0), line, sizeof line, 5000));
  cr_assert_str_eq(line, "hi env");
  cr_assert_eq(zcp_local_wait(lc, 0, 5000), 0);
}

Test(local, bad_use_is_refused) {
  struct zcp_error err = {0};
  cr_assert_eq(zcp_local_open("no/slash", &lc, &err), ZCP_INVALID_ARGUMENT);
  cr_assert_null(lc);
  cr_assert_eq(zcp_local_open("", &lc, &err), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_local_open(NULL, &lc, &err), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_local_open("x", NULL, &err), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_local_open("unit", &lc, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_local_add_node(lc, NULL, 4 << 20, ZCP_COHERENT, &err), ZCP_OK);
  cr_assert_eq(zcp_local_fork(lc, 0, node_main, NULL, &err), ZCP_INVALID_ARGUMENT,
               "not written yet");
  cr_assert(strstr(err.message, "written") != NULL, "%s", err.message);
  cr_assert_eq(zcp_local_write(lc, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_local_fork(lc, 1, node_main, NULL, &err), ZCP_NOT_FOUND);
  cr_assert_eq(zcp_local_fork(lc, 0, NULL, NULL, &err), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_local_add_node(lc, "udp://x", 4 << 20, ZCP_COHERENT, &err),
               ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(err.message, "'address'") != NULL, "%s", err.message);
  cr_assert_null(zcp_local_proc(lc, 5));
  cr_assert_eq(zcp_local_wait(lc, 5, 10), -1);
  zcp_local_close(NULL);
}
