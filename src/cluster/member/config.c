/* The cluster config: one INI file, parsed with inih, checked completely before any node
 * acts on it. Every message names the file, the line and the key, because the person
 * reading it is editing that file. inih does not pass line numbers to handlers in the
 * Debian build, so the reader below counts lines itself. */
#include "common/platform.h"

#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zcpool/cluster.h"

struct parse {
  struct zcp_config *cfg;
  struct zcp_error *err;
  zcp_status_t st;
  int line;         /* line of the text inih is handling now */
  int section_line; /* line of the last [section] header read */
  int newlines;
  /* Source: a FILE or a string. */
  FILE *f;
  const char *text;
  size_t pos;
  int node_line[ZCP_CLUSTER_MAX_NODES];      /* where each [node.N] was first seen */
  unsigned seen_node[ZCP_CLUSTER_MAX_NODES]; /* keys present per node, one bit each */
  int cluster_line;
  unsigned seen_cluster;
};

/* Reads one line (fgets-like), recording the number of the line it starts. */
static char *reader(char *str, int num, void *stream) {
  struct parse *p = stream;
  p->line = p->newlines + 1;
  char *r;
  if (p->f != NULL) {
    r = fgets(str, num, p->f);
  } else {
    if (p->text[p->pos] == '\0') return NULL;
    int k = 0;
    while (k < num - 1 && p->text[p->pos] != '\0') {
      char ch = p->text[p->pos++];
      str[k++] = ch;
      if (ch == '\n') break;
    }
    str[k] = '\0';
    r = str;
  }
  if (r != NULL) {
    const char *t = r + strspn(r, " \t");
    if (*t == '[') p->section_line = p->line;
    if (strchr(r, '\n') != NULL) p->newlines++;
  }
  return r;
}

static int fail(struct parse *p, zcp_status_t st, const char *fmt, ...) ZCP_PRINTF(3, 4);
static int fail(struct parse *p, zcp_status_t st, const char *fmt, ...) {
  if (p->st != ZCP_OK) return 0; /* keep the first error */
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  p->st = zcp_error_set(p->err, st, "%s:%d: %s", p->cfg->path, p->line, msg);
  return 0;
}

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
      end++;
      break;
    case 'm':
    case 'M':
      shift = 20;
      end++;
      break;
    case 'g':
    case 'G':
      shift = 30;
      end++;
      break;
    case 't':
    case 'T':
      shift = 40;
      end++;
      break;
    default:
      break;
  }
  if (shift != 0 && (*end == 'i' || *end == 'I')) end++;
  if (shift != 0 && (*end == 'b' || *end == 'B')) end++;
  if (*end != '\0') return false;
  if (n > ((unsigned long long)INT64_MAX >> shift)) return false;
  *out = (int64_t)(n << shift);
  return true;
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

static bool parse_ms(const char *v, int32_t *out) {
  int64_t n;
  if (!parse_size(v, &n) || n <= 0 || n > INT32_MAX) return false;
  *out = (int32_t)n;
  return true;
}

static bool parse_bool(const char *v, bool *out) {
  if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1"))
    *out = true;
  else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no") ||
           !strcmp(v, "0"))
    *out = false;
  else
    return false;
  return true;
}

static bool copy_str(char *dst, size_t cap, const char *v) {
  size_t n = strlen(v);
  if (n == 0 || n >= cap) return false;
  memcpy(dst, v, n + 1);
  return true;
}

static const char *const CLUSTER_KEYS[] = {"name",
                                           "id",
                                           "window_base",
                                           "key_file",
                                           "auth",
                                           "heartbeat_ms",
                                           "down_after_ms",
                                           "connect_ms",
                                           "call_timeout_ms",
                                           "max_frame",
                                           "max_outstanding",
                                           "quota",
                                           "protocol",
                                           NULL};
static const char *const NODE_KEYS[] = {"address", "device", "size", "coherence", NULL};

static int key_index(const char *const *keys, const char *name) {
  for (int i = 0; keys[i] != NULL; i++)
    if (strcmp(keys[i], name) == 0) return i;
  return -1;
}

static int cluster_key(struct parse *p, const char *name, const char *v) {
  struct zcp_config *c = p->cfg;
  int k = key_index(CLUSTER_KEYS, name);
  if (k < 0) return fail(p, ZCP_INVALID_ARGUMENT, "unknown key '%s' in [cluster]", name);
  if (p->seen_cluster & (1u << k))
    return fail(p, ZCP_INVALID_ARGUMENT, "key '%s' in [cluster] given twice", name);
  p->seen_cluster |= 1u << k;
  bool ok = true;
  const char *want = "";
  int64_t n = 0;
  switch (k) {
    case 0:
      ok = copy_str(c->name, sizeof c->name, v);
      want = "a name of 1..63 bytes";
      break;
    case 1:
      ok = parse_u64(v, &c->cluster_id) && c->cluster_id != 0;
      want = "a non-zero 64-bit number";
      break;
    case 2:
      ok = parse_u64(v, &c->window_base) && c->window_base != 0 &&
           c->window_base % (uint64_t)ZCP_WINDOW_ALIGN == 0;
      want = "an address aligned to 2 MiB";
      break;
    case 3:
      ok = copy_str(c->key_file, sizeof c->key_file, v);
      want = "a path";
      break;
    case 4:
      ok = parse_bool(v, &c->auth);
      want = "on or off";
      break;
    case 5:
      ok = parse_ms(v, &c->heartbeat_ms);
      want = "milliseconds > 0";
      break;
    case 6:
      ok = parse_ms(v, &c->down_after_ms);
      want = "milliseconds > 0";
      break;
    case 7:
      ok = parse_ms(v, &c->connect_ms);
      want = "milliseconds > 0";
      break;
    case 8:
      ok = parse_ms(v, &c->call_timeout_ms);
      want = "milliseconds > 0";
      break;
    case 9:
      ok = parse_size(v, &c->max_frame) && c->max_frame >= 1024 &&
           c->max_frame <= ((int64_t)1 << 30);
      want = "a size from 1K to 1G";
      break;
    case 10:
      ok = parse_size(v, &n) && n >= 1 && n <= 4096;
      c->max_outstanding = (int32_t)n;
      want = "a number from 1 to 4096";
      break;
    case 11:
      ok = parse_size(v, &c->quota);
      want = "a size (0: unlimited)";
      break;
    case 12:
      ok = strcmp(v, "invalidate") == 0 || strcmp(v, "prewrite-flush") == 0;
      c->protocol =
          ok && v[0] == 'p' ? ZCP_PROTOCOL_PREWRITE_FLUSH : ZCP_PROTOCOL_INVALIDATE;
      want = "invalidate or prewrite-flush";
      break;
    default:
      break;
  }
  if (!ok)
    return fail(p, ZCP_INVALID_ARGUMENT, "key '%s' in [cluster]: '%s' is not %s", name, v,
                want);
  return 1;
}

static int node_key(struct parse *p, int id, const char *name, const char *v) {
  struct zcp_node_config *n = &p->cfg->nodes[id];
  int k = key_index(NODE_KEYS, name);
  if (k < 0)
    return fail(p, ZCP_INVALID_ARGUMENT, "unknown key '%s' in [node.%d]", name, id);
  if (p->seen_node[id] & (1u << k))
    return fail(p, ZCP_INVALID_ARGUMENT, "key '%s' in [node.%d] given twice", name, id);
  p->seen_node[id] |= 1u << k;
  bool ok = true;
  const char *want = "";
  switch (k) {
    case 0:
      ok = copy_str(n->address, sizeof n->address, v) &&
           ((strncmp(v, "tcp://", 6) == 0 && strchr(v + 6, ':') != NULL) ||
            (strncmp(v, "unix:/", 6) == 0 && strlen(v) < 5 + 108));
      want = "tcp://host:port or unix:/path (at most 107 bytes)";
      break;
    case 1:
      ok = copy_str(n->device, sizeof n->device, v) &&
           ((strncmp(v, "shm:", 4) == 0 && v[4] != '\0') || strncmp(v, "file:/", 6) == 0);
      want = "shm:NAME or file:/PATH";
      break;
    case 2:
      ok = parse_size(v, &n->size) && n->size >= ZCP_WINDOW_ALIGN &&
           n->size <= ((int64_t)1 << 40);
      want = "a size from 2M to 1T (K, M, G suffixes)";
      break;
    case 3:
      if (!strcmp(v, "coherent"))
        n->coherence = ZCP_COHERENT;
      else if (!strcmp(v, "noncoherent"))
        n->coherence = ZCP_NONCOHERENT;
      else
        ok = false;
      want = "coherent or noncoherent";
      break;
    default:
      break;
  }
  if (!ok)
    return fail(p, ZCP_INVALID_ARGUMENT, "key '%s' in [node.%d]: '%s' is not %s", name,
                id, v, want);
  return 1;
}

static int handler(void *user, const char *section, const char *name, const char *value) {
  struct parse *p = user;
  if (p->st != ZCP_OK) return 0;
  if (strcmp(section, "cluster") == 0) {
    if (p->cluster_line == 0) p->cluster_line = p->section_line;
    return cluster_key(p, name, value);
  }
  if (strncmp(section, "node.", 5) == 0) {
    char *end;
    errno = 0;
    long id = strtol(section + 5, &end, 10);
    if (end == section + 5 || *end != '\0' || errno != 0 || id < 0 ||
        id >= ZCP_CLUSTER_MAX_NODES)
      return fail(p, ZCP_INVALID_ARGUMENT,
                  "key '%s' in [%s]: node ids are numbers from 0 to %d", name, section,
                  ZCP_CLUSTER_MAX_NODES - 1);
    if (p->node_line[id] == 0) p->node_line[id] = p->section_line;
    return node_key(p, (int)id, name, value);
  }
  return fail(p, ZCP_INVALID_ARGUMENT,
              "key '%s' in unknown section [%s] (expected [cluster] or [node.N])", name,
              section);
}

static void defaults(struct zcp_config *c, const char *path) {
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

/* Checks what no single line can: required keys, contiguous ids, the window. */
static zcp_status_t finish(struct parse *p) {
  struct zcp_config *c = p->cfg;
  struct zcp_error *err = p->err;
  if (p->seen_cluster == 0)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "%s: no [cluster] section", c->path);
  const int required_cluster[] = {0, 1};
  for (size_t i = 0; i < sizeof required_cluster / sizeof *required_cluster; i++) {
    int k = required_cluster[i];
    if (!(p->seen_cluster & (1u << k)))
      return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "%s:%d: [cluster] lacks key '%s'",
                           c->path, p->cluster_line, CLUSTER_KEYS[k]);
  }
  if (c->auth && c->key_file[0] == '\0')
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "%s:%d: [cluster] lacks key 'key_file' (needed with auth = on)",
                         c->path, p->cluster_line);
  if (c->heartbeat_ms >= c->down_after_ms)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "%s:%d: [cluster] key 'heartbeat_ms' (%d) must be below "
                         "'down_after_ms' (%d)",
                         c->path, p->cluster_line, c->heartbeat_ms, c->down_after_ms);
  int n = 0;
  while (n < ZCP_CLUSTER_MAX_NODES && p->node_line[n] != 0) n++;
  for (int i = n; i < ZCP_CLUSTER_MAX_NODES; i++)
    if (p->node_line[i] != 0)
      return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                           "%s:%d: [node.%d] given but [node.%d] is missing (ids run "
                           "0..N-1)",
                           c->path, p->node_line[i], i, n);
  if (n == 0)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "%s: no [node.N] sections", c->path);
  int64_t total = 0;
  for (int i = 0; i < n; i++) {
    struct zcp_node_config *nc = &c->nodes[i];
    nc->id = i;
    for (int k = 0; k < 3; k++)
      if (!(p->seen_node[i] & (1u << k)))
        return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "%s:%d: [node.%d] lacks key '%s'",
                             c->path, p->node_line[i], i, NODE_KEYS[k]);
    for (int j = 0; j < i; j++) {
      if (strcmp(c->nodes[j].address, nc->address) == 0)
        return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                             "%s:%d: key 'address' in [node.%d]: '%s' is node %d's too",
                             c->path, p->node_line[i], i, nc->address, j);
      if (strcmp(c->nodes[j].device, nc->device) == 0)
        return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                             "%s:%d: key 'device' in [node.%d]: '%s' is node %d's too",
                             c->path, p->node_line[i], i, nc->device, j);
    }
    total += (nc->size + ZCP_WINDOW_ALIGN - 1) / ZCP_WINDOW_ALIGN * ZCP_WINDOW_ALIGN;
  }
  if (c->window_base + (uint64_t)total > ((uint64_t)1 << 47) ||
      c->window_base + (uint64_t)total < c->window_base)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "%s:%d: key 'window_base' in [cluster]: %#" PRIx64
                         " + %lld bytes of regions runs past the user address space",
                         c->path, p->cluster_line, c->window_base, (long long)total);
  c->n_nodes = n;
  /* A relative key file is relative to the config file, so that the same file works
   * from any working directory. */
  if (c->key_file[0] != '\0' && c->key_file[0] != '/') {
    const char *slash = strrchr(c->path, '/');
    if (slash != NULL) {
      char joined[sizeof c->key_file];
      int len = snprintf(joined, sizeof joined, "%.*s/%s", (int)(slash - c->path),
                         c->path, c->key_file);
      if (len < 0 || (size_t)len >= sizeof joined)
        return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                             "%s:%d: key 'key_file' in [cluster]: path too long", c->path,
                             p->cluster_line);
      memcpy(c->key_file, joined, (size_t)len + 1);
    }
  }
  return ZCP_OK;
}

static zcp_status_t run(struct parse *p) {
  int rc = ini_parse_stream(reader, p, handler, p);
  if (p->st != ZCP_OK) return p->st;
  if (rc > 0)
    return zcp_error_set(p->err, ZCP_INVALID_ARGUMENT,
                         "%s:%d: not an INI line (expected [section] or key = value)",
                         p->cfg->path, rc);
  if (rc < 0)
    return zcp_error_set(p->err, ZCP_IO_ERROR, "%s: cannot be read", p->cfg->path);
  return finish(p);
}

zcp_status_t zcp_config_load(const char *path, struct zcp_config *out,
                             struct zcp_error *err) {
  if (strlen(path) >= sizeof out->path)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "config path too long: %s", path);
  struct parse p = {0};
  p.cfg = out;
  p.err = err;
  defaults(out, path);
  p.f = fopen(path, "r");
  if (p.f == NULL)
    return zcp_error_set(err, errno == ENOENT ? ZCP_NOT_FOUND : ZCP_IO_ERROR,
                         "%s: cannot open: %s", path, strerror(errno));
  zcp_status_t st = run(&p);
  fclose(p.f);
  return st;
}

zcp_status_t zcp_config_parse_string(const char *text, const char *name,
                                     struct zcp_config *out, struct zcp_error *err) {
  struct parse p = {0};
  p.cfg = out;
  p.err = err;
  defaults(out, name);
  p.text = text;
  return run(&p);
}
