/* The insides of struct zcp_config, for the cluster layer: the node code reads fields
 * directly. A config belongs to whoever loaded or made it (zcp_config_free releases
 * it); a node holds its own copy (struct zcp_node.cfg, copied by zcp_node_open), so
 * nothing in a node refers to the caller's config. */
#ifndef ZCP_CLUSTER_MEMBER_CONFIG_H
#define ZCP_CLUSTER_MEMBER_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "zcpool/cluster.h"

/* String values are bounded so that every `key = value` line zcp_config_write produces
 * fits the line inih reads (200 bytes with the newline): the longest key plus " = ",
 * the value and the newline. */
#define ZCP__CONFIG_VALUE_MAX 180

struct zcp__node_config {
  char address[ZCP__CONFIG_VALUE_MAX + 1]; /* tcp://host:port or unix:/path */
  char device[ZCP__CONFIG_VALUE_MAX + 1];  /* shm:NAME or file:/PATH */
  int64_t size;                            /* region bytes, header included */
  enum zcp_coherence coherence;
};

struct zcp_config {
  char path[512]; /* the file it came from or was written to ("" when neither) */
  char name[64];
  uint64_t cluster_id;
  uint64_t window_base;
  char key_file[ZCP__CONFIG_VALUE_MAX + 1];       /* as the file spells it */
  char key_path[512 + ZCP__CONFIG_VALUE_MAX + 2]; /* key_file resolved against path */
  bool auth;
  int32_t heartbeat_ms;
  int32_t down_after_ms;
  int32_t connect_ms;
  int32_t call_timeout_ms;
  int64_t max_frame;
  int32_t max_outstanding;
  int64_t quota;
  enum zcp_protocol protocol;
  int32_t n_nodes;
  struct zcp__node_config nodes[ZCP_CLUSTER_MAX_NODES];
};

/* Checks what no single key can say: name and id given, a key file when auth is on,
 * heartbeat_ms below down_after_ms, at least one node, addresses and devices distinct,
 * the window inside the user address space. Messages start with where ("file" or
 * "file:line" of the section concerned, when lines are known: cluster_line for
 * [cluster], node_line[i] for [node.i]; NULL node_line: no lines). */
ZCP_CHECK_RESULT zcp_status_t zcp__config_check(const struct zcp_config *cfg,
                                                const char *where, int cluster_line,
                                                const int *node_line,
                                                struct zcp_error *err);

/* ---- between config.c (the keys) and config_load.c (the file) -------------------- */

/* [cluster] keys and [node.N] keys, in the order a written file has them. */
enum {
  ZCP__K_NAME,
  ZCP__K_ID,
  ZCP__K_WINDOW_BASE,
  ZCP__K_KEY_FILE,
  ZCP__K_AUTH,
  ZCP__K_HEARTBEAT_MS,
  ZCP__K_DOWN_AFTER_MS,
  ZCP__K_CONNECT_MS,
  ZCP__K_CALL_TIMEOUT_MS,
  ZCP__K_MAX_FRAME,
  ZCP__K_MAX_OUTSTANDING,
  ZCP__K_QUOTA,
  ZCP__K_PROTOCOL,
  ZCP__K_CLUSTER_N
};
enum { ZCP__K_ADDRESS, ZCP__K_DEVICE, ZCP__K_SIZE, ZCP__K_COHERENCE, ZCP__K_NODE_N };

/* The index of a key by its name, or -1. */
int zcp__config_cluster_key(const char *name);
int zcp__config_node_key(const char *name);
const char *zcp__config_cluster_key_name(int k);
const char *zcp__config_node_key_name(int k);
/* Every field at its default; path as given. */
void zcp__config_defaults(struct zcp_config *cfg, const char *path);
/* Parses text as the value of key k of [cluster] (node < 0) or of [node.<node>], checks
 * it as the setters do and stores it. False (nothing stored) when it is not a valid
 * value; *want then says what is expected. */
bool zcp__config_set_text(struct zcp_config *cfg, int node, int k, const char *text,
                          const char **want);

#endif
