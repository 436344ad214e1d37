/* zcpool — the command-line tool. For now it has the one command the control plane
 * needs from a person: creating a cluster's key file. The cluster commands (up, down,
 * status, put, ls, show, head, sql, get, drop, bench) come with the sharing layer.
 *
 *   zcpool key create PATH     a new random cluster secret, mode 0600 (never overwrites)
 *   zcpool key check PATH      exits 0 when PATH holds a usable key (mode and contents) */
#include <stdio.h>
#include <string.h>

#include "zcpool/zcpool.h"

static int usage(void) {
  fprintf(stderr,
          "usage: zcpool key create PATH   create a cluster key file (mode 0600)\n"
          "       zcpool key check PATH    check that PATH holds a usable key\n");
  return 2;
}

int main(int argc, char **argv) {
  if (argc != 4 || strcmp(argv[1], "key") != 0) return usage();
  struct zcp_error err = {0};
  zcp_status_t st;
  if (strcmp(argv[2], "create") == 0) {
    st = zcp_cluster_key_create(argv[3], &err);
  } else if (strcmp(argv[2], "check") == 0) {
    uint8_t key[ZCP_CLUSTER_KEY_SIZE];
    st = zcp_cluster_key_load(argv[3], key, &err);
    memset(key, 0, sizeof key);
  } else {
    return usage();
  }
  if (st != ZCP_OK) {
    fprintf(stderr, "zcpool: %s (%s)\n", err.message, zcp_status_str(st));
    return 1;
  }
  if (strcmp(argv[2], "create") == 0) printf("created %s\n", argv[3]);
  return 0;
}
