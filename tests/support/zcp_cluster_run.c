/* See zcp_cluster_test.h: the parts every multi-node test file shares (starting node 0
 * here and the others as helpers, tearing them down, running commands and reading the
 * answers) and the loop every helper role runs. */
#define _GNU_SOURCE 1
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zcp_cluster_test.h"
#include "zcp_share_cmds.h"
#include "zcpool/hugetable.h"

struct zcp_node *zcp_test_role_open(const char *config, int id) {
  struct zcp_config *cfg = NULL;
  struct zcp_error err = {0};
  struct zcp_node *node = NULL;
  if (zcp_config_load(config, &cfg, &err) != ZCP_OK ||
      zcp_node_open(cfg, id, &node, &err) != ZCP_OK) {
    zcp_config_free(cfg);
    printf("fail %s\n", err.message);
    return NULL;
  }
  zcp_config_free(cfg);
  printf("ready\n");
  return node;
}

void zcp_test_role_serve(struct zcp_node *node, zcp_test_command_fn command) {
  char line[512], out[1024];
  while (fgets(line, sizeof line, stdin) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    if (strcmp(line, "quit") == 0) break;
    command(node, line, out, sizeof out);
    printf("%s\n", out);
  }
}

int zcp_test_node_dispatch(int argc, char **argv) {
  if (strcmp(argv[0], "node") == 0) return zcp_test_node_role(argc, argv);
  return 99;
}

void zcp_test_nodes_up(const struct zcp_test_cluster *tc, struct zcp_proc *helper, int n,
                       struct zcp_node **self) {
  struct zcp_config *cfg = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_config_load(tc->config, &cfg, &err), ZCP_OK, "%s", err.message);
  zcp_status_t st = zcp_node_open(cfg, 0, self, &err);
  zcp_config_free(cfg);
  cr_assert_eq(st, ZCP_OK, "%s", err.message);
  for (int i = 1; i < n; i++)
    cr_assert(zcp_test_node_start(&helper[i], tc, i), "node %d", i);
  cr_assert_eq(zcp_node_wait_online(*self, 10000, &err), ZCP_OK, "%s", err.message);
  char out[1024];
  for (int i = 1; i < n; i++) {
    cr_assert(
        zcp_test_node_cmd(&helper[i], "online 10000", out, sizeof out, ZCP_TEST_CMD_MS));
    cr_assert_str_eq(out, "ok ", "node %d: %s", i, out);
  }
}

void zcp_test_nodes_down(struct zcp_test_cluster *tc, struct zcp_node **self) {
  /* In the emulated suite node 0 (this process) must have gone through the emulator:
   * it is on and filled pages of the non-coherent regions, else the run proved nothing. */
  if (zcp_test_emulated() && *self != NULL) {
    struct zcp_emulator_stats es;
    zcp_emulator_stats_get(&es);
    cr_assert(zcp_emulator_enabled(), "ZCP_EMULATE_NONCOHERENT=1 but no emulation");
    cr_assert_gt(es.pages_filled, 0, "the emulator saw no access to the regions");
  }
  zcp_node_close(*self);
  *self = NULL;
  zcp_proc_kill_all();
  zcp_test_cluster_cleanup(tc);
}

void zcp_test_node_kill(struct zcp_proc *helper, struct zcp_node *self, int id) {
  struct zcp_error err = {0};
  kill(helper[id].pid, SIGKILL);
  cr_assert_eq(zcp_proc_wait(&helper[id], 5000), 128 + SIGKILL);
  cr_assert_eq(zcp_node_wait_peer(self, id, false, 5000, &err), ZCP_OK, "%s",
               err.message);
}

void zcp_test_node_restart(const struct zcp_test_cluster *tc, struct zcp_proc *helper,
                           struct zcp_node *self, int id) {
  struct zcp_error err = {0};
  char out[1024];
  cr_assert(zcp_test_node_start(&helper[id], tc, id));
  cr_assert_eq(zcp_node_wait_peer(self, id, true, 10000, &err), ZCP_OK, "%s",
               err.message);
  cr_assert(
      zcp_test_node_cmd(&helper[id], "online 10000", out, sizeof out, ZCP_TEST_CMD_MS));
  cr_assert_str_eq(out, "ok ", "%s", out);
}

void zcp_test_run(struct zcp_node *self, struct zcp_proc *helper, int id, const char *cmd,
                  int want, char *out, size_t cap) {
  if (id == 0) {
    cr_assert(zcp_test_share_cmd(self, cmd, out, cap), "%s", cmd);
  } else {
    cr_assert(zcp_test_node_cmd(&helper[id], cmd, out, (int)cap, ZCP_TEST_CMD_MS),
              "node %d did not answer %s", id, cmd);
  }
  int got = -1;
  cr_assert_eq(sscanf(out, "st %d", &got), 1, "node %d: %s: %s", id, cmd, out);
  cr_assert_eq(got, want, "node %d: %s: %s", id, cmd, out);
}

long long zcp_test_answer_num(const char *out, int field) {
  long long v = 0;
  const char *p = out;
  for (int i = 0; i < field && p != NULL; i++) {
    p = strchr(p, ' ');
    if (p != NULL) p++;
  }
  cr_assert(p != NULL && sscanf(p, "%lld", &v) == 1, "no field %d in %s", field, out);
  return v;
}

uint64_t zcp_test_answer_checksum(const char *out) {
  unsigned long long h = 0;
  cr_assert_eq(sscanf(out, "st 0 %llu", &h), 1, "%s", out);
  return h;
}

void *zcp_test_drop_thread(void *job) {
  struct zcp_test_drop_job *j = job;
  j->st = j->huge ? zcp_hugetable_drop(j->node, j->name, j->ms, &j->err)
                  : zcp_node_drop(j->node, j->name, j->ms, &j->err);
  return NULL;
}
