/* Reading a cluster config file: parsed with inih, checked completely before any node
 * acts on it. Every message names the file, the line and the key, because the person
 * reading it is editing that file. inih does not pass line numbers to handlers in the
 * Debian build, so the reader below counts lines itself; it also refuses a line longer
 * than inih's buffer, which inih would otherwise cut into two lines. The values go
 * through the same checks as the setters (config.c). */
#include "common/platform.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/member/config.h"

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
  if (r == NULL) return NULL;
  size_t len = strlen(r);
  if (len == (size_t)num - 1 && r[len - 1] != '\n') {
    /* A full buffer: the line goes on unless only its newline (or nothing) is left. */
    int next = p->text != NULL ? (unsigned char)p->text[p->pos] : getc(p->f);
    if (p->text == NULL && next != EOF) ungetc(next, p->f);
    if (next != EOF && next != '\0' && next != '\n') {
      fail(p, ZCP_INVALID_ARGUMENT, "line longer than %d bytes", num - 2);
      return NULL; /* inih stops at the end of input; p->st tells why */
    }
  }
  const char *t = r + strspn(r, " \t");
  if (*t == '[') p->section_line = p->line;
  if (strchr(r, '\n') != NULL) p->newlines++;
  return r;
}

static int cluster_key(struct parse *p, const char *name, const char *v) {
  int k = zcp__config_cluster_key(name);
  if (k < 0) return fail(p, ZCP_INVALID_ARGUMENT, "unknown key '%s' in [cluster]", name);
  if (p->seen_cluster & (1u << k))
    return fail(p, ZCP_INVALID_ARGUMENT, "key '%s' in [cluster] given twice", name);
  p->seen_cluster |= 1u << k;
  const char *want = "";
  if (!zcp__config_set_text(p->cfg, -1, k, v, &want))
    return fail(p, ZCP_INVALID_ARGUMENT, "key '%s' in [cluster]: '%s' is not %s", name, v,
                want);
  return 1;
}

static int node_key(struct parse *p, int id, const char *name, const char *v) {
  int k = zcp__config_node_key(name);
  if (k < 0)
    return fail(p, ZCP_INVALID_ARGUMENT, "unknown key '%s' in [node.%d]", name, id);
  if (p->seen_node[id] & (1u << k))
    return fail(p, ZCP_INVALID_ARGUMENT, "key '%s' in [node.%d] given twice", name, id);
  p->seen_node[id] |= 1u << k;
  const char *want = "";
  if (!zcp__config_set_text(p->cfg, id, k, v, &want))
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

/* What only the file can get wrong (a missing section, key or node id), then the checks
 * every config goes through. */
static zcp_status_t finish(struct parse *p) {
  struct zcp_config *c = p->cfg;
  struct zcp_error *err = p->err;
  if (p->seen_cluster == 0)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "%s: no [cluster] section", c->path);
  int n = 0;
  while (n < ZCP_CLUSTER_MAX_NODES && p->node_line[n] != 0) n++;
  for (int i = n; i < ZCP_CLUSTER_MAX_NODES; i++)
    if (p->node_line[i] != 0)
      return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                           "%s:%d: [node.%d] given but [node.%d] is missing (ids run "
                           "0..N-1)",
                           c->path, p->node_line[i], i, n);
  for (int i = 0; i < n; i++)
    for (int k = 0; k < ZCP__K_NODE_N; k++)
      if (k != ZCP__K_COHERENCE && !(p->seen_node[i] & (1u << k)))
        return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "%s:%d: [node.%d] lacks key '%s'",
                             c->path, p->node_line[i], i, zcp__config_node_key_name(k));
  c->n_nodes = n;
  return zcp__config_check(c, c->path, p->cluster_line, p->node_line, err);
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

/* Parses from p's source into a new config, handed over only when it is whole. */
static zcp_status_t parse(struct parse *p, const char *path, struct zcp_config **out) {
  struct zcp_config *cfg = NULL;
  zcp_status_t st = zcp_config_new(&cfg, p->err);
  if (st != ZCP_OK) return st;
  zcp__config_defaults(cfg, path);
  p->cfg = cfg;
  st = run(p);
  if (st != ZCP_OK) {
    zcp_config_free(cfg);
    return st;
  }
  *out = cfg;
  return ZCP_OK;
}

zcp_status_t zcp_config_load(const char *path, struct zcp_config **out,
                             struct zcp_error *err) {
  if (out != NULL) *out = NULL;
  if (path == NULL || out == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "zcp_config_load: %s is NULL",
                         path == NULL ? "the path" : "out");
  if (path[0] == '\0' || strlen(path) >= sizeof((struct zcp_config *)0)->path)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "config path of %zu bytes: %.100s",
                         strlen(path), path);
  struct parse p = {0};
  p.err = err;
  p.f = fopen(path, "r");
  if (p.f == NULL)
    return zcp_error_set(err, errno == ENOENT ? ZCP_NOT_FOUND : ZCP_IO_ERROR,
                         "%s: cannot open: %s", path, strerror(errno));
  zcp_status_t st = parse(&p, path, out);
  fclose(p.f);
  return st;
}

zcp_status_t zcp_config_parse_string(const char *text, const char *name,
                                     struct zcp_config **out, struct zcp_error *err) {
  if (out != NULL) *out = NULL;
  if (text == NULL || name == NULL || out == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "zcp_config_parse_string: %s is NULL",
                         text == NULL   ? "the text"
                         : name == NULL ? "the name"
                                        : "out");
  if (strlen(name) >= sizeof((struct zcp_config *)0)->path)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "config name of %zu bytes: %.100s",
                         strlen(name), name);
  struct parse p = {0};
  p.err = err;
  p.text = text;
  return parse(&p, name, out);
}
