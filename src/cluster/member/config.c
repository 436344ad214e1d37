/* The cluster config in memory: its keys, what each accepts, the checks across keys,
 * and the builder that writes a file. Reading a file is config_load.c; both go through
 * the same per-key checks here (zcp__config_set_text for the loader, the typed setters
 * for programs), so a value a setter refuses is one a file may not hold either, and the
 * file zcp_config_write produces reads back as the same config. A config is never left
 * half-changed: a value is checked before it is stored. */
#include "common/platform.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/member/config.h"

/* ---- values ------------------------------------------------------------------------ */

/* "64M", "1G", "4096", "0x1000". */
static bool parse_size(const char *v, int64_t *out) {
  errno = 0;
  char *end;
  unsigned long long n = strtoull(v, &end, 0);
  if (end == v || errno != 0 || v[0] == '-') return false;
  int shift = 0;
  switch (*end) {
    case 'k':
    case 'K':
      shift = 10;
      break;
    case 'm':
    case 'M':
      shift = 20;
      break;
    case 'g':
    case 'G':
      shift = 30;
      break;
    case 't':
    case 'T':
      shift = 40;
      break;
    default:
      break;
  }
  if (shift != 0) end++;
  if (shift != 0 && (*end == 'i' || *end == 'I')) end++;
  if (shift != 0 && (*end == 'b' || *end == 'B')) end++;
  if (*end != '\0') return false;
  if (n > ((unsigned long long)INT64_MAX >> shift)) return false;
  *out = (int64_t)(n << shift);
  return true;
}

/* The shortest exact spelling parse_size reads back: "8M", "1536K", "1000". */
static void format_size(int64_t n, char *buf, size_t cap) {
  static const char units[] = "KMGT";
  int u = -1;
  while (n != 0 && u < 3 && n % ((int64_t)1 << (10 * (u + 2))) == 0) u++;
  if (u < 0)
    snprintf(buf, cap, "%" PRId64, n);
  else
    snprintf(buf, cap, "%" PRId64 "%c", n >> (10 * (u + 1)), units[u]);
}

static bool parse_u64(const char *v, uint64_t *out) {
  errno = 0;
  char *end;
  if (v[0] == '-') return false;
  unsigned long long n = strtoull(v, &end, 0);
  if (end == v || *end != '\0' || errno != 0) return false;
  *out = n;
  return true;
}

static bool parse_bool(const char *v, int64_t *out) {
  if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1"))
    *out = 1;
  else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no") ||
           !strcmp(v, "0"))
    *out = 0;
  else
    return false;
  return true;
}

/* A string a line of the file can hold as it is: inih strips blanks around a value, ends
 * the line at a newline and a value at " ;" (an inline comment). */
static bool str_ok(const char *v, size_t cap) {
  size_t n = strlen(v);
  if (n == 0 || n >= cap) return false;
  if (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' || v[n - 1] == '\t') return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)v[i];
    if (ch < 0x20 || ch == 0x7f) return false;
    if (ch == ';' && i > 0 && (v[i - 1] == ' ' || v[i - 1] == '\t')) return false;
  }
  return true;
}

/* ---- keys -------------------------------------------------------------------------- */

enum type { T_STR, T_U64, T_NUM, T_BOOL, T_PROTOCOL, T_COHERENCE };

struct key {
  const char *name;
  enum type type;
  const char *want; /* what a value must be, for messages */
};

#define VALUE_MAX_TEXT "180" /* ZCP__CONFIG_VALUE_MAX */
_Static_assert(ZCP__CONFIG_VALUE_MAX == 180, "VALUE_MAX_TEXT");
/* The longest line written: the longest key, " = ", a value, the newline; inih reads
 * lines of at most 199 bytes. */
_Static_assert(sizeof "call_timeout_ms = " - 1 + ZCP__CONFIG_VALUE_MAX + 1 <= 199,
               "a written line must fit inih's");

static const struct key CLUSTER_KEYS[ZCP__K_CLUSTER_N] = {
    [ZCP__K_NAME] = {"name", T_STR, "a name of 1..63 bytes"},
    [ZCP__K_ID] = {"id", T_U64, "a non-zero 64-bit number"},
    [ZCP__K_WINDOW_BASE] = {"window_base", T_U64, "an address aligned to 2 MiB"},
    [ZCP__K_KEY_FILE] = {"key_file", T_STR, "a path of 1.." VALUE_MAX_TEXT " bytes"},
    [ZCP__K_AUTH] = {"auth", T_BOOL, "on or off"},
    [ZCP__K_HEARTBEAT_MS] = {"heartbeat_ms", T_NUM, "milliseconds > 0"},
    [ZCP__K_DOWN_AFTER_MS] = {"down_after_ms", T_NUM, "milliseconds > 0"},
    [ZCP__K_CONNECT_MS] = {"connect_ms", T_NUM, "milliseconds > 0"},
    [ZCP__K_CALL_TIMEOUT_MS] = {"call_timeout_ms", T_NUM, "milliseconds > 0"},
    [ZCP__K_MAX_FRAME] = {"max_frame", T_NUM, "a size from 1K to 1G"},
    [ZCP__K_MAX_OUTSTANDING] = {"max_outstanding", T_NUM, "a number from 1 to 4096"},
    [ZCP__K_QUOTA] = {"quota", T_NUM, "a size (0: unlimited)"},
    [ZCP__K_PROTOCOL] = {"protocol", T_PROTOCOL, "invalidate or prewrite-flush"},
};

static const struct key NODE_KEYS[ZCP__K_NODE_N] = {
    [ZCP__K_ADDRESS] = {"address", T_STR,
                        "tcp://host:port or unix:/path (at most " VALUE_MAX_TEXT
                        " bytes, a Unix one 107)"},
    [ZCP__K_DEVICE] = {"device", T_STR,
                       "shm:NAME or file:/PATH of at most " VALUE_MAX_TEXT " bytes"},
    [ZCP__K_SIZE] = {"size", T_NUM, "a size from 2M to 1T (K, M, G suffixes)"},
    [ZCP__K_COHERENCE] = {"coherence", T_COHERENCE, "coherent or noncoherent"},
};

static int find_key(const struct key *keys, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (strcmp(keys[i].name, name) == 0) return i;
  return -1;
}

int zcp__config_cluster_key(const char *name) {
  return find_key(CLUSTER_KEYS, ZCP__K_CLUSTER_N, name);
}
int zcp__config_node_key(const char *name) {
  return find_key(NODE_KEYS, ZCP__K_NODE_N, name);
}
const char *zcp__config_cluster_key_name(int k) {
  return CLUSTER_KEYS[k].name;
}
const char *zcp__config_node_key_name(int k) {
  return NODE_KEYS[k].name;
}

/* One value, typed: s for strings, u for 64-bit numbers, n for the others. */
struct value {
  const char *s;
  uint64_t u;
  int64_t n;
};

static bool parse_value(enum type t, const char *text, struct value *v) {
  switch (t) {
    case T_STR:
      v->s = text;
      return true;
    case T_U64:
      return parse_u64(text, &v->u);
    case T_NUM:
      return parse_size(text, &v->n);
    case T_BOOL:
      return parse_bool(text, &v->n);
    case T_PROTOCOL:
      v->n = !strcmp(text, "invalidate")       ? ZCP_PROTOCOL_INVALIDATE
             : !strcmp(text, "prewrite-flush") ? ZCP_PROTOCOL_PREWRITE_FLUSH
                                               : -1;
      return v->n >= 0;
    case T_COHERENCE:
      v->n = !strcmp(text, "coherent")      ? ZCP_COHERENT
             : !strcmp(text, "noncoherent") ? ZCP_NONCOHERENT
                                            : -1;
      return v->n >= 0;
  }
  return false;
}

/* A relative key file is relative to the config file, so that the same file works from
 * any working directory. */
static void resolve_key(const char *path, const char *key_file, char *out, size_t cap) {
  const char *slash = strrchr(path, '/');
  if (key_file[0] == '\0' || key_file[0] == '/' || slash == NULL)
    snprintf(out, cap, "%s", key_file);
  else
    snprintf(out, cap, "%.*s/%s", (int)(slash - path), path, key_file);
}

static bool ms_ok(int64_t n) {
  return n > 0 && n <= INT32_MAX;
}

/* Checks v for [cluster] key k and stores it; false (c unchanged) when out of range. */
static bool store_cluster(struct zcp_config *c, int k, const struct value *v) {
  switch (k) {
    case ZCP__K_NAME:
      if (!str_ok(v->s, sizeof c->name)) return false;
      snprintf(c->name, sizeof c->name, "%s", v->s);
      return true;
    case ZCP__K_ID:
      if (v->u == 0) return false;
      c->cluster_id = v->u;
      return true;
    case ZCP__K_WINDOW_BASE:
      if (v->u == 0 || v->u % (uint64_t)ZCP_WINDOW_ALIGN != 0) return false;
      c->window_base = v->u;
      return true;
    case ZCP__K_KEY_FILE:
      if (v->s == NULL) {
        c->key_file[0] = c->key_path[0] = '\0';
        return true;
      }
      if (!str_ok(v->s, sizeof c->key_file)) return false;
      snprintf(c->key_file, sizeof c->key_file, "%s", v->s);
      resolve_key(c->path, c->key_file, c->key_path, sizeof c->key_path);
      return true;
    case ZCP__K_AUTH:
      c->auth = v->n != 0;
      return true;
    case ZCP__K_HEARTBEAT_MS:
      if (!ms_ok(v->n)) return false;
      c->heartbeat_ms = (int32_t)v->n;
      return true;
    case ZCP__K_DOWN_AFTER_MS:
      if (!ms_ok(v->n)) return false;
      c->down_after_ms = (int32_t)v->n;
      return true;
    case ZCP__K_CONNECT_MS:
      if (!ms_ok(v->n)) return false;
      c->connect_ms = (int32_t)v->n;
      return true;
    case ZCP__K_CALL_TIMEOUT_MS:
      if (!ms_ok(v->n)) return false;
      c->call_timeout_ms = (int32_t)v->n;
      return true;
    case ZCP__K_MAX_FRAME:
      if (v->n < 1024 || v->n > ((int64_t)1 << 30)) return false;
      c->max_frame = v->n;
      return true;
    case ZCP__K_MAX_OUTSTANDING:
      if (v->n < 1 || v->n > 4096) return false;
      c->max_outstanding = (int32_t)v->n;
      return true;
    case ZCP__K_QUOTA:
      if (v->n < 0) return false;
      c->quota = v->n;
      return true;
    case ZCP__K_PROTOCOL:
      if (v->n != ZCP_PROTOCOL_INVALIDATE && v->n != ZCP_PROTOCOL_PREWRITE_FLUSH)
        return false;
      c->protocol = (enum zcp_protocol)v->n;
      return true;
    default:
      return false;
  }
}

static bool address_ok(const char *v) {
  if (!str_ok(v, ZCP__CONFIG_VALUE_MAX + 1)) return false;
  if (strncmp(v, "tcp://", 6) == 0) return strchr(v + 6, ':') != NULL;
  /* sun_path holds 108 bytes with the NUL. */
  return strncmp(v, "unix:/", 6) == 0 && strlen(v) < 5 + 108;
}

static bool device_ok(const char *v) {
  return str_ok(v, ZCP__CONFIG_VALUE_MAX + 1) &&
         ((strncmp(v, "shm:", 4) == 0 && v[4] != '\0') || strncmp(v, "file:/", 6) == 0);
}

/* The same for [node.N] key k. */
static bool store_node(struct zcp__node_config *n, int k, const struct value *v) {
  switch (k) {
    case ZCP__K_ADDRESS:
      if (!address_ok(v->s)) return false;
      snprintf(n->address, sizeof n->address, "%s", v->s);
      return true;
    case ZCP__K_DEVICE:
      if (!device_ok(v->s)) return false;
      snprintf(n->device, sizeof n->device, "%s", v->s);
      return true;
    case ZCP__K_SIZE:
      if (v->n < ZCP_WINDOW_ALIGN || v->n > ((int64_t)1 << 40)) return false;
      n->size = v->n;
      return true;
    case ZCP__K_COHERENCE:
      if (v->n != ZCP_COHERENT && v->n != ZCP_NONCOHERENT) return false;
      n->coherence = (enum zcp_coherence)v->n;
      return true;
    default:
      return false;
  }
}

bool zcp__config_set_text(struct zcp_config *cfg, int node, int k, const char *text,
                          const char **want) {
  const struct key *key = node < 0 ? &CLUSTER_KEYS[k] : &NODE_KEYS[k];
  *want = key->want;
  struct value v = {0};
  if (!parse_value(key->type, text, &v)) return false;
  return node < 0 ? store_cluster(cfg, k, &v) : store_node(&cfg->nodes[node], k, &v);
}

void zcp__config_defaults(struct zcp_config *c, const char *path) {
  memset(c, 0, sizeof *c);
  snprintf(c->path, sizeof c->path, "%s", path);
  c->window_base = ZCP_WINDOW_BASE_DEFAULT;
  c->auth = true;
  c->heartbeat_ms = 200;
  c->down_after_ms = 1000;
  c->connect_ms = 1000;
  c->call_timeout_ms = 10000;
  c->max_frame = (int64_t)1 << 20;
  c->max_outstanding = 64;
}

/* ---- checks across keys ------------------------------------------------------------ */

/* "where:line: " or "where: ". */
static const char *at(char *buf, size_t cap, const char *where, int line) {
  if (line > 0)
    snprintf(buf, cap, "%s:%d", where, line);
  else
    snprintf(buf, cap, "%s", where);
  return buf;
}

zcp_status_t zcp__config_check(const struct zcp_config *c, const char *where,
                               int cluster_line, const int *node_line,
                               struct zcp_error *err) {
  char w[600];
  const char *cw = at(w, sizeof w, where, cluster_line);
  if (c->name[0] == '\0')
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "%s: [cluster] lacks key 'name'", cw);
  if (c->cluster_id == 0)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "%s: [cluster] lacks key 'id'", cw);
  if (c->auth && c->key_file[0] == '\0')
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "%s: [cluster] lacks key 'key_file' (needed with auth = on)",
                         cw);
  if (c->heartbeat_ms >= c->down_after_ms)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "%s: [cluster] key 'heartbeat_ms' (%d) must be below "
                         "'down_after_ms' (%d)",
                         cw, c->heartbeat_ms, c->down_after_ms);
  if (c->n_nodes <= 0 || c->n_nodes > ZCP_CLUSTER_MAX_NODES)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "%s: no [node.N] sections", where);
  uint64_t total = 0;
  for (int i = 0; i < c->n_nodes; i++) {
    const struct zcp__node_config *nc = &c->nodes[i];
    const char *nw = at(w, sizeof w, where, node_line != NULL ? node_line[i] : 0);
    for (int j = 0; j < i; j++) {
      if (strcmp(c->nodes[j].address, nc->address) == 0)
        return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                             "%s: key 'address' in [node.%d]: '%s' is node %d's too", nw,
                             i, nc->address, j);
      if (strcmp(c->nodes[j].device, nc->device) == 0)
        return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                             "%s: key 'device' in [node.%d]: '%s' is node %d's too", nw,
                             i, nc->device, j);
    }
    /* Sizes are at most 1T each and there are at most 64: no overflow. */
    total += (uint64_t)((nc->size + ZCP_WINDOW_ALIGN - 1) / ZCP_WINDOW_ALIGN *
                        ZCP_WINDOW_ALIGN);
  }
  if (c->window_base + total > ((uint64_t)1 << 47) || c->window_base + total < total)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "%s: key 'window_base' in [cluster]: %#" PRIx64 " + %" PRIu64
                         " bytes of regions runs past the user address space",
                         at(w, sizeof w, where, cluster_line), c->window_base, total);
  return ZCP_OK;
}

/* ---- the builder ------------------------------------------------------------------- */

static const char *name_of(const struct zcp_config *c) {
  return c->path[0] != '\0' ? c->path : "new config";
}

zcp_status_t zcp_config_new(struct zcp_config **out, struct zcp_error *err) {
  if (out == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "zcp_config_new: out is NULL");
  *out = malloc(sizeof **out);
  if (*out == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "a config");
  zcp__config_defaults(*out, "");
  return ZCP_OK;
}

void zcp_config_free(struct zcp_config *cfg) {
  free(cfg);
}

/* Stores v for [cluster] key k; shown is how the value reads in a message. */
static zcp_status_t set(struct zcp_config *cfg, int k, const struct value *v,
                        const char *shown, struct zcp_error *err) {
  if (cfg == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "setting '%s': the config is NULL",
                         CLUSTER_KEYS[k].name);
  if (CLUSTER_KEYS[k].type == T_STR && v->s == NULL && k != ZCP__K_KEY_FILE)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "%s: key '%s' in [cluster]: NULL",
                         name_of(cfg), CLUSTER_KEYS[k].name);
  if (!store_cluster(cfg, k, v))
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "%s: key '%s' in [cluster]: %s is not %s", name_of(cfg),
                         CLUSTER_KEYS[k].name, shown, CLUSTER_KEYS[k].want);
  return ZCP_OK;
}

static zcp_status_t set_str(struct zcp_config *cfg, int k, const char *s,
                            struct zcp_error *err) {
  char shown[ZCP__CONFIG_VALUE_MAX + 8];
  snprintf(shown, sizeof shown, "'%.*s'", ZCP__CONFIG_VALUE_MAX, s != NULL ? s : "");
  return set(cfg, k, &(struct value){.s = s}, shown, err);
}

static zcp_status_t set_u64(struct zcp_config *cfg, int k, uint64_t u,
                            struct zcp_error *err) {
  char shown[32];
  snprintf(shown, sizeof shown, "%#" PRIx64, u);
  return set(cfg, k, &(struct value){.u = u}, shown, err);
}

static zcp_status_t set_num(struct zcp_config *cfg, int k, int64_t n,
                            struct zcp_error *err) {
  char shown[32];
  snprintf(shown, sizeof shown, "%" PRId64, n);
  return set(cfg, k, &(struct value){.n = n}, shown, err);
}

zcp_status_t zcp_config_set_name(struct zcp_config *cfg, const char *name,
                                 struct zcp_error *err) {
  return set_str(cfg, ZCP__K_NAME, name, err);
}
zcp_status_t zcp_config_set_id(struct zcp_config *cfg, uint64_t id,
                               struct zcp_error *err) {
  return set_u64(cfg, ZCP__K_ID, id, err);
}
zcp_status_t zcp_config_set_window_base(struct zcp_config *cfg, uint64_t base,
                                        struct zcp_error *err) {
  return set_u64(cfg, ZCP__K_WINDOW_BASE, base, err);
}
zcp_status_t zcp_config_set_key_file(struct zcp_config *cfg, const char *path,
                                     struct zcp_error *err) {
  return set_str(cfg, ZCP__K_KEY_FILE, path, err);
}
zcp_status_t zcp_config_set_auth(struct zcp_config *cfg, bool on, struct zcp_error *err) {
  return set_num(cfg, ZCP__K_AUTH, on, err);
}
zcp_status_t zcp_config_set_heartbeat_ms(struct zcp_config *cfg, int32_t ms,
                                         struct zcp_error *err) {
  return set_num(cfg, ZCP__K_HEARTBEAT_MS, ms, err);
}
zcp_status_t zcp_config_set_down_after_ms(struct zcp_config *cfg, int32_t ms,
                                          struct zcp_error *err) {
  return set_num(cfg, ZCP__K_DOWN_AFTER_MS, ms, err);
}
zcp_status_t zcp_config_set_connect_ms(struct zcp_config *cfg, int32_t ms,
                                       struct zcp_error *err) {
  return set_num(cfg, ZCP__K_CONNECT_MS, ms, err);
}
zcp_status_t zcp_config_set_call_timeout_ms(struct zcp_config *cfg, int32_t ms,
                                            struct zcp_error *err) {
  return set_num(cfg, ZCP__K_CALL_TIMEOUT_MS, ms, err);
}
zcp_status_t zcp_config_set_max_frame(struct zcp_config *cfg, int64_t bytes,
                                      struct zcp_error *err) {
  return set_num(cfg, ZCP__K_MAX_FRAME, bytes, err);
}
zcp_status_t zcp_config_set_max_outstanding(struct zcp_config *cfg, int32_t n,
                                            struct zcp_error *err) {
  return set_num(cfg, ZCP__K_MAX_OUTSTANDING, n, err);
}
zcp_status_t zcp_config_set_quota(struct zcp_config *cfg, int64_t bytes,
                                  struct zcp_error *err) {
  return set_num(cfg, ZCP__K_QUOTA, bytes, err);
}
zcp_status_t zcp_config_set_protocol(struct zcp_config *cfg, enum zcp_protocol protocol,
                                     struct zcp_error *err) {
  return set_num(cfg, ZCP__K_PROTOCOL, (int64_t)protocol, err);
}

zcp_status_t zcp_config_add_node(struct zcp_config *cfg, const char *address,
                                 const char *device, int64_t size,
                                 enum zcp_coherence coherence, struct zcp_error *err) {
  if (cfg == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "adding a node: the config is NULL");
  int id = cfg->n_nodes;
  if (id >= ZCP_CLUSTER_MAX_NODES)
    return zcp_error_set(err, ZCP_NO_SPACE,
                         "%s: [node.%d]: a cluster has at most %d nodes", name_of(cfg),
                         id, ZCP_CLUSTER_MAX_NODES);
  struct zcp__node_config n = {0};
  const struct value v[ZCP__K_NODE_N] = {
      [ZCP__K_ADDRESS] = {.s = address},
      [ZCP__K_DEVICE] = {.s = device},
      [ZCP__K_SIZE] = {.n = size},
      [ZCP__K_COHERENCE] = {.n = (int64_t)coherence},
  };
  for (int k = 0; k < ZCP__K_NODE_N; k++) {
    char shown[ZCP__CONFIG_VALUE_MAX + 8];
    if (NODE_KEYS[k].type == T_STR)
      snprintf(shown, sizeof shown, "'%.*s'", ZCP__CONFIG_VALUE_MAX,
               v[k].s != NULL ? v[k].s : "(NULL)");
    else
      snprintf(shown, sizeof shown, "%" PRId64, v[k].n);
    if ((NODE_KEYS[k].type == T_STR && v[k].s == NULL) || !store_node(&n, k, &v[k]))
      return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                           "%s: key '%s' in [node.%d]: %s is not %s", name_of(cfg),
                           NODE_KEYS[k].name, id, shown, NODE_KEYS[k].want);
  }
  for (int j = 0; j < id; j++) {
    if (strcmp(cfg->nodes[j].address, n.address) == 0)
      return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                           "%s: key 'address' in [node.%d]: '%s' is node %d's too",
                           name_of(cfg), id, n.address, j);
    if (strcmp(cfg->nodes[j].device, n.device) == 0)
      return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                           "%s: key 'device' in [node.%d]: '%s' is node %d's too",
                           name_of(cfg), id, n.device, j);
  }
  cfg->nodes[id] = n;
  cfg->n_nodes = id + 1;
  return ZCP_OK;
}

/* ---- writing ----------------------------------------------------------------------- */

/* The text of [cluster] key k as the file spells it; false: the key is not written. */
static bool cluster_text(const struct zcp_config *c, int k, char *buf, size_t cap) {
  switch (k) {
    case ZCP__K_NAME:
      snprintf(buf, cap, "%s", c->name);
      return true;
    case ZCP__K_ID:
      snprintf(buf, cap, "%#" PRIx64, c->cluster_id);
      return true;
    case ZCP__K_WINDOW_BASE:
      snprintf(buf, cap, "%#" PRIx64, c->window_base);
      return true;
    case ZCP__K_KEY_FILE:
      snprintf(buf, cap, "%s", c->key_file);
      return c->key_file[0] != '\0';
    case ZCP__K_AUTH:
      snprintf(buf, cap, "%s", c->auth ? "on" : "off");
      return true;
    case ZCP__K_HEARTBEAT_MS:
      snprintf(buf, cap, "%d", (int)c->heartbeat_ms);
      return true;
    case ZCP__K_DOWN_AFTER_MS:
      snprintf(buf, cap, "%d", (int)c->down_after_ms);
      return true;
    case ZCP__K_CONNECT_MS:
      snprintf(buf, cap, "%d", (int)c->connect_ms);
      return true;
    case ZCP__K_CALL_TIMEOUT_MS:
      snprintf(buf, cap, "%d", (int)c->call_timeout_ms);
      return true;
    case ZCP__K_MAX_FRAME:
      format_size(c->max_frame, buf, cap);
      return true;
    case ZCP__K_MAX_OUTSTANDING:
      snprintf(buf, cap, "%d", (int)c->max_outstanding);
      return true;
    case ZCP__K_QUOTA:
      format_size(c->quota, buf, cap);
      return true;
    case ZCP__K_PROTOCOL:
      snprintf(
          buf, cap, "%s",
          c->protocol == ZCP_PROTOCOL_PREWRITE_FLUSH ? "prewrite-flush" : "invalidate");
      return true;
    default:
      return false;
  }
}

static void node_text(const struct zcp__node_config *n, int k, char *buf, size_t cap) {
  switch (k) {
    case ZCP__K_ADDRESS:
      snprintf(buf, cap, "%s", n->address);
      break;
    case ZCP__K_DEVICE:
      snprintf(buf, cap, "%s", n->device);
      break;
    case ZCP__K_SIZE:
      format_size(n->size, buf, cap);
      break;
    default:
      snprintf(buf, cap, "%s",
               n->coherence == ZCP_NONCOHERENT ? "noncoherent" : "coherent");
      break;
  }
}

static void write_text(const struct zcp_config *c, FILE *f) {
  char v[ZCP__CONFIG_VALUE_MAX + 1];
  fprintf(f, "[cluster]\n");
  for (int k = 0; k < ZCP__K_CLUSTER_N; k++)
    if (cluster_text(c, k, v, sizeof v)) fprintf(f, "%s = %s\n", CLUSTER_KEYS[k].name, v);
  for (int i = 0; i < c->n_nodes; i++) {
    fprintf(f, "\n[node.%d]\n", i);
    for (int k = 0; k < ZCP__K_NODE_N; k++) {
      node_text(&c->nodes[i], k, v, sizeof v);
      fprintf(f, "%s = %s\n", NODE_KEYS[k].name, v);
    }
  }
}

zcp_status_t zcp_config_write(struct zcp_config *cfg, const char *path,
                              struct zcp_error *err) {
  if (cfg == NULL || path == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "zcp_config_write: %s is NULL",
                         cfg == NULL ? "the config" : "the path");
  if (path[0] == '\0' || strlen(path) >= sizeof cfg->path)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "config path of %zu bytes (expected 1..%zu)", strlen(path),
                         sizeof cfg->path - 1);
  ZCP_RETURN_NOT_OK(zcp__config_check(cfg, path, 0, NULL, err));
  /* Written whole under another name and renamed: a node reading path meanwhile sees
   * the old file or the new one, never a part. */
  char tmp[sizeof cfg->path + 32];
  snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid());
  FILE *f = fopen(tmp, "w");
  if (f == NULL)
    return zcp_error_set(err, ZCP_IO_ERROR, "%s: cannot write: %s", tmp, strerror(errno));
  write_text(cfg, f);
  bool ok = !ferror(f);
  int saved = errno;
  if (fclose(f) != 0 && ok) {
    ok = false;
    saved = errno;
  }
  if (ok && rename(tmp, path) != 0) {
    ok = false;
    saved = errno;
  }
  if (!ok) {
    unlink(tmp);
    return zcp_error_set(err, ZCP_IO_ERROR, "%s: cannot write: %s", path,
                         strerror(saved));
  }
  snprintf(cfg->path, sizeof cfg->path, "%s", path);
  resolve_key(cfg->path, cfg->key_file, cfg->key_path, sizeof cfg->key_path);
  return ZCP_OK;
}

/* ---- accessors --------------------------------------------------------------------- */

#define READ(expr, none) return cfg != NULL ? (expr) : (none)

const char *zcp_config_path(const struct zcp_config *cfg) {
  READ(cfg->path, NULL);
}
const char *zcp_config_name(const struct zcp_config *cfg) {
  READ(cfg->name, NULL);
}
uint64_t zcp_config_id(const struct zcp_config *cfg) {
  READ(cfg->cluster_id, 0);
}
uint64_t zcp_config_window_base(const struct zcp_config *cfg) {
  READ(cfg->window_base, 0);
}
const char *zcp_config_key_file(const struct zcp_config *cfg) {
  READ(cfg->key_path, NULL);
}
bool zcp_config_auth(const struct zcp_config *cfg) {
  READ(cfg->auth, false);
}
int32_t zcp_config_heartbeat_ms(const struct zcp_config *cfg) {
  READ(cfg->heartbeat_ms, 0);
}
int32_t zcp_config_down_after_ms(const struct zcp_config *cfg) {
  READ(cfg->down_after_ms, 0);
}
int32_t zcp_config_connect_ms(const struct zcp_config *cfg) {
  READ(cfg->connect_ms, 0);
}
int32_t zcp_config_call_timeout_ms(const struct zcp_config *cfg) {
  READ(cfg->call_timeout_ms, 0);
}
int64_t zcp_config_max_frame(const struct zcp_config *cfg) {
  READ(cfg->max_frame, 0);
}
int32_t zcp_config_max_outstanding(const struct zcp_config *cfg) {
  READ(cfg->max_outstanding, 0);
}
int64_t zcp_config_quota(const struct zcp_config *cfg) {
  READ(cfg->quota, 0);
}
enum zcp_protocol zcp_config_protocol(const struct zcp_config *cfg) {
  READ(cfg->protocol, ZCP_PROTOCOL_INVALIDATE);
}
int32_t zcp_config_n_nodes(const struct zcp_config *cfg) {
  READ(cfg->n_nodes, 0);
}

zcp_status_t zcp_config_get_node(const struct zcp_config *cfg, int32_t id,
                                 struct zcp_config_node *out, struct zcp_error *err) {
  if (cfg == NULL || out == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "zcp_config_get_node: %s is NULL",
                         cfg == NULL ? "the config" : "out");
  if (id < 0 || id >= cfg->n_nodes)
    return zcp_error_set(err, ZCP_NOT_FOUND, "%s: no node %d (nodes 0..%d)", name_of(cfg),
                         (int)id, (int)cfg->n_nodes - 1);
  const struct zcp__node_config *n = &cfg->nodes[id];
  *out = (struct zcp_config_node){n->address, n->device, n->size, n->coherence};
  return ZCP_OK;
}
