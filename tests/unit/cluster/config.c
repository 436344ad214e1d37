/* Config files: a good file gives every value; each kind of mistake is refused with a
 * message naming the file, the line and the key. The builder: what it writes reads back
 * as the same config, its setters refuse what the loader refuses (naming the key), and
 * NULL arguments are typed errors. */
#define _GNU_SOURCE 1
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zcpool/cluster.h"

static const char *GOOD =
    "; a test cluster\n"
    "[cluster]\n"
    "name = demo\n"
    "id = 0xc1\n"
    "window_base = 0x500000000000\n"
    "key_file = demo.key\n"
    "heartbeat_ms = 100\n"
    "down_after_ms = 800\n"
    "max_frame = 64K\n"
    "quota = 1M\n"
    "\n"
    "[node.0]\n"
    "address = unix:/tmp/zcp-demo-0.sock\n"
    "device = shm:zcp-demo-0\n"
    "size = 8M\n"
    "\n"
    "[node.1]\n"
    "address = tcp://10.0.0.2:7000\n"
    "device = file:/dev/dax0.0\n"
    "size = 16M\n"
    "coherence = noncoherent\n";

Test(config, parses_every_key) {
  struct zcp_config *c = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_config_parse_string(GOOD, "/etc/zcpool/demo.ini", &c, &err), ZCP_OK,
               "%s", err.message);
  cr_assert_str_eq(zcp_config_name(c), "demo");
  cr_assert_eq(zcp_config_id(c), 0xc1u);
  cr_assert_eq(zcp_config_window_base(c), 0x500000000000u);
  cr_assert_str_eq(zcp_config_key_file(c), "/etc/zcpool/demo.key",
                   "relative to the config file");
  cr_assert(zcp_config_auth(c), "authentication is on by default");
  cr_assert_eq(zcp_config_heartbeat_ms(c), 100);
  cr_assert_eq(zcp_config_down_after_ms(c), 800);
  cr_assert_eq(zcp_config_max_frame(c), 64 << 10);
  cr_assert_eq(zcp_config_quota(c), 1 << 20);
  cr_assert_eq(zcp_config_n_nodes(c), 2);
  struct zcp_config_node n0, n1;
  cr_assert_eq(zcp_config_get_node(c, 0, &n0, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_config_get_node(c, 1, &n1, &err), ZCP_OK, "%s", err.message);
  cr_assert_str_eq(n0.address, "unix:/tmp/zcp-demo-0.sock");
  cr_assert_eq(n0.size, 8 << 20);
  cr_assert_eq(n0.coherence, ZCP_COHERENT);
  cr_assert_str_eq(n1.device, "file:/dev/dax0.0");
  cr_assert_eq(n1.coherence, ZCP_NONCOHERENT);
  zcp_config_free(c);
}

/* Replaces the first occurrence of `from` in GOOD by `to` and expects an error whose
 * message contains every string in want. */
static void expect_error(const char *from, const char *to, zcp_status_t code,
                         const char *const *want) {
  char text[2048];
  const char *at = strstr(GOOD, from);
  cr_assert(at != NULL, "fixture lacks %s", from);
  snprintf(text, sizeof text, "%.*s%s%s", (int)(at - GOOD), GOOD, to, at + strlen(from));
  struct zcp_config *c = NULL;
  struct zcp_error err = {0};
  zcp_status_t st = zcp_config_parse_string(text, "demo.ini", &c, &err);
  cr_assert_eq(st, code, "replacing '%s' by '%s': status %d (%s)", from, to, st,
               err.message);
  cr_assert_null(c, "no config on failure");
  for (int i = 0; want[i] != NULL; i++)
    cr_assert(strstr(err.message, want[i]) != NULL, "message '%s' lacks '%s'",
              err.message, want[i]);
}

Test(config, bad_size_names_file_line_and_key) {
  expect_error("size = 8M", "size = 8Q", ZCP_INVALID_ARGUMENT,
               (const char *[]){"demo.ini:15:", "'size'", "[node.0]", "'8Q'", NULL});
}

Test(config, bad_address_names_file_line_and_key) {
  expect_error(
      "tcp://10.0.0.2:7000", "udp://x", ZCP_INVALID_ARGUMENT,
      (const char *[]){"demo.ini:18:", "'address'", "[node.1]", "tcp://host:port", NULL});
}

Test(config, unknown_key_and_section) {
  expect_error("quota = 1M", "quotum = 1M", ZCP_INVALID_ARGUMENT,
               (const char *[]){"demo.ini:10:", "unknown key 'quotum'", NULL});
  expect_error("[node.1]", "[nodes]", ZCP_INVALID_ARGUMENT,
               (const char *[]){"demo.ini:18:", "unknown section [nodes]", NULL});
}

Test(config, duplicate_key) {
  expect_error("size = 16M", "size = 16M\nsize = 32M", ZCP_INVALID_ARGUMENT,
               (const char *[]){"demo.ini:21:", "'size'", "twice", NULL});
}

Test(config, bad_values_in_cluster_section) {
  expect_error("id = 0xc1", "id = 0", ZCP_INVALID_ARGUMENT,
               (const char *[]){"demo.ini:4:", "'id'", NULL});
  expect_error("window_base = 0x500000000000", "window_base = 0x500000001000",
               ZCP_INVALID_ARGUMENT, (const char *[]){"demo.ini:5:", "2 MiB", NULL});
  expect_error("heartbeat_ms = 100", "heartbeat_ms = -5", ZCP_INVALID_ARGUMENT,
               (const char *[]){"demo.ini:7:", "'heartbeat_ms'", NULL});
  expect_error(
      "heartbeat_ms = 100", "heartbeat_ms = 900", ZCP_INVALID_ARGUMENT,
      (const char *[]){"demo.ini:2:", "'heartbeat_ms'", "'down_after_ms'", NULL});
  expect_error("\n[node.0]", "auth = maybe\n[node.0]", ZCP_INVALID_ARGUMENT,
               (const char *[]){"demo.ini:11:", "'auth'", "on or off", NULL});
}

Test(config, missing_keys_and_nodes) {
  expect_error("size = 8M\n", "", ZCP_INVALID_ARGUMENT,
               (const char *[]){"demo.ini:12:", "[node.0] lacks key 'size'", NULL});
  expect_error("[node.0]", "[node.2]", ZCP_INVALID_ARGUMENT,
               (const char *[]){"demo.ini:17:", "[node.1]", "[node.0] is missing", NULL});
  expect_error("key_file = demo.key\n", "", ZCP_INVALID_ARGUMENT,
               (const char *[]){"demo.ini:2:", "'key_file'", NULL});
  expect_error("name = demo\n", "", ZCP_INVALID_ARGUMENT,
               (const char *[]){"demo.ini:2:", "lacks key 'name'", NULL});
}

Test(config, shared_address_or_device) {
  expect_error("file:/dev/dax0.0", "shm:zcp-demo-0", ZCP_INVALID_ARGUMENT,
               (const char *[]){"demo.ini:17:", "'device'", "node 0's", NULL});
}

Test(config, syntax_error_names_the_line) {
  expect_error("name = demo", "name demo", ZCP_INVALID_ARGUMENT,
               (const char *[]){"demo.ini:3:", "not an INI line", NULL});
}

Test(config, loads_a_file_and_reports_missing_files) {
  char path[] = "/tmp/zcp-config-XXXXXX";
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  cr_assert_eq(write(fd, GOOD, strlen(GOOD)), (ssize_t)strlen(GOOD));
  close(fd);
  struct zcp_config *c = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_config_load(path, &c, &err), ZCP_OK, "%s", err.message);
  cr_assert_str_eq(zcp_config_key_file(c), "/tmp/demo.key");
  cr_assert_str_eq(zcp_config_path(c), path);
  zcp_config_free(c);
  unlink(path);
  cr_assert_eq(zcp_config_load(path, &c, &err), ZCP_NOT_FOUND);
  cr_assert_null(c);
  cr_assert(strstr(err.message, path) != NULL, "%s", err.message);
}

Test(config, protocol_key) {
  struct zcp_config *c = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_config_parse_string(GOOD, "demo.ini", &c, &err), ZCP_OK, "%s",
               err.message);
  cr_assert_eq(zcp_config_protocol(c), ZCP_PROTOCOL_INVALIDATE, "the default");
  zcp_config_free(c);
  char text[2048];
  snprintf(text, sizeof text, "%s", GOOD);
  char *at = strstr(text, "quota = 1M\n");
  memmove(at + 26, at, strlen(at) + 1);
  memcpy(at, "protocol = prewrite-flush\n", 26);
  cr_assert_eq(zcp_config_parse_string(text, "demo.ini", &c, &err), ZCP_OK, "%s",
               err.message);
  cr_assert_eq(zcp_config_protocol(c), ZCP_PROTOCOL_PREWRITE_FLUSH);
  zcp_config_free(c);
  expect_error("quota = 1M", "protocol = flush", ZCP_INVALID_ARGUMENT,
               (const char *[]){"demo.ini:10:", "'protocol'", "prewrite-flush", NULL});
}

Test(config, a_line_longer_than_the_reader_takes_is_refused_by_number) {
  char key[300], line[400];
  memset(key, 'k', sizeof key - 1);
  key[sizeof key - 1] = '\0';
  snprintf(line, sizeof line, "key_file = %s", key);
  expect_error("key_file = demo.key", line, ZCP_INVALID_ARGUMENT,
               (const char *[]){"demo.ini:6:", "line longer than", NULL});
}

/* ---- the builder ------------------------------------------------------------------- */

static char dir[64];

static void make_dir(void) {
  snprintf(dir, sizeof dir, "/tmp/zcp-config-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void) {
  if (dir[0] == '\0') return;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  cr_assert_eq(system(cmd), 0);
  dir[0] = '\0';
}

TestSuite(builder, .fini = remove_dir);

#define OK(call)                                            \
  do {                                                      \
    struct zcp_error e_ = {0};                              \
    zcp_status_t st_ = (call);                              \
    cr_assert_eq(st_, ZCP_OK, "%s: %s", #call, e_.message); \
    (void)e_;                                               \
  } while (0)

/* A config with every key away from its default, and nodes of every kind. */
static struct zcp_config *everything(void) {
  struct zcp_config *c = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_config_new(&c, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_config_set_name(c, "round-trip", &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_config_set_id(c, 0xfeedc0ffee123ull, &err), ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_config_set_window_base(c, 0x540000000000ull, &err), ZCP_OK);
  cr_assert_eq(zcp_config_set_key_file(c, "keys/the.key", &err), ZCP_OK);
  cr_assert_eq(zcp_config_set_heartbeat_ms(c, 150, &err), ZCP_OK);
  cr_assert_eq(zcp_config_set_down_after_ms(c, 4500, &err), ZCP_OK);
  cr_assert_eq(zcp_config_set_connect_ms(c, 333, &err), ZCP_OK);
  cr_assert_eq(zcp_config_set_call_timeout_ms(c, 12345, &err), ZCP_OK);
  cr_assert_eq(zcp_config_set_max_frame(c, 1536 << 10, &err), ZCP_OK);
  cr_assert_eq(zcp_config_set_max_outstanding(c, 7, &err), ZCP_OK);
  cr_assert_eq(zcp_config_set_quota(c, 123456789, &err), ZCP_OK);
  cr_assert_eq(zcp_config_set_protocol(c, ZCP_PROTOCOL_PREWRITE_FLUSH, &err), ZCP_OK);
  cr_assert_eq(zcp_config_add_node(c, "unix:/tmp/zcp-rt-0.sock", "shm:zcp-rt-0", 8 << 20,
                                   ZCP_COHERENT, &err),
               ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_config_add_node(c, "tcp://10.1.2.3:7001", "file:/dev/dax0.0",
                                   (int64_t)3 << 30, ZCP_NONCOHERENT, &err),
               ZCP_OK, "%s", err.message);
  cr_assert_eq(zcp_config_add_node(c, "tcp://[::1]:7002", "shm:zcp-rt-2",
                                   (6 << 20) + 4096, ZCP_NONCOHERENT, &err),
               ZCP_OK, "%s", err.message);
  return c;
}

static void expect_same(const struct zcp_config *a, const struct zcp_config *b) {
  cr_assert_str_eq(zcp_config_path(a), zcp_config_path(b));
  cr_assert_str_eq(zcp_config_name(a), zcp_config_name(b));
  cr_assert_eq(zcp_config_id(a), zcp_config_id(b));
  cr_assert_eq(zcp_config_window_base(a), zcp_config_window_base(b));
  cr_assert_str_eq(zcp_config_key_file(a), zcp_config_key_file(b));
  cr_assert_eq(zcp_config_auth(a), zcp_config_auth(b));
  cr_assert_eq(zcp_config_heartbeat_ms(a), zcp_config_heartbeat_ms(b));
  cr_assert_eq(zcp_config_down_after_ms(a), zcp_config_down_after_ms(b));
  cr_assert_eq(zcp_config_connect_ms(a), zcp_config_connect_ms(b));
  cr_assert_eq(zcp_config_call_timeout_ms(a), zcp_config_call_timeout_ms(b));
  cr_assert_eq(zcp_config_max_frame(a), zcp_config_max_frame(b));
  cr_assert_eq(zcp_config_max_outstanding(a), zcp_config_max_outstanding(b));
  cr_assert_eq(zcp_config_quota(a), zcp_config_quota(b));
  cr_assert_eq(zcp_config_protocol(a), zcp_config_protocol(b));
  cr_assert_eq(zcp_config_n_nodes(a), zcp_config_n_nodes(b));
  for (int i = 0; i < zcp_config_n_nodes(a); i++) {
    struct zcp_config_node x, y;
    cr_assert_eq(zcp_config_get_node(a, i, &x, NULL), ZCP_OK);
    cr_assert_eq(zcp_config_get_node(b, i, &y, NULL), ZCP_OK);
    cr_assert_str_eq(x.address, y.address, "node %d", i);
    cr_assert_str_eq(x.device, y.device, "node %d", i);
    cr_assert_eq(x.size, y.size, "node %d", i);
    cr_assert_eq(x.coherence, y.coherence, "node %d", i);
  }
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f, "%s", path);
  static char buf[2][4096];
  static int which;
  char *b = buf[which++ % 2];
  size_t n = fread(b, 1, sizeof buf[0] - 1, f);
  b[n] = '\0';
  fclose(f);
  return b;
}

Test(builder, what_it_writes_loads_back_the_same) {
  make_dir();
  struct zcp_config *built = everything();
  struct zcp_error err = {0};
  char path[128], again[128];
  snprintf(path, sizeof path, "%s/cluster.ini", dir);
  snprintf(again, sizeof again, "%s/again.ini", dir);
  cr_assert_eq(zcp_config_write(built, path, &err), ZCP_OK, "%s", err.message);
  /* Written, the config stands for its file: path and key file as a load gives. */
  char key[160];
  snprintf(key, sizeof key, "%s/keys/the.key", dir);
  cr_assert_str_eq(zcp_config_path(built), path);
  cr_assert_str_eq(zcp_config_key_file(built), key);
  struct zcp_config *loaded = NULL;
  cr_assert_eq(zcp_config_load(path, &loaded, &err), ZCP_OK, "%s\n%s", err.message,
               slurp(path));
  expect_same(built, loaded);
  /* And the loaded one writes the same text again. */
  cr_assert_eq(zcp_config_write(loaded, again, &err), ZCP_OK, "%s", err.message);
  char *a = slurp(path), *b = slurp(again);
  cr_assert_str_eq(a, b);
  cr_assert(strstr(a, "max_frame = 1536K\n") != NULL, "%s", a);
  cr_assert(strstr(a, "size = 3G\n") != NULL, "%s", a);
  cr_assert(access(path, F_OK) == 0 && access(again, F_OK) == 0);
  zcp_config_free(built);
  zcp_config_free(loaded);
}

Test(builder, defaults_round_trip_and_auth_off_needs_no_key) {
  make_dir();
  struct zcp_config *c = NULL, *back = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_config_new(&c, &err), ZCP_OK);
  cr_assert_str_eq(zcp_config_path(c), "");
  cr_assert_eq(zcp_config_window_base(c), ZCP_WINDOW_BASE_DEFAULT);
  cr_assert(zcp_config_auth(c));
  cr_assert_eq(zcp_config_heartbeat_ms(c), 200);
  cr_assert_eq(zcp_config_down_after_ms(c), 1000);
  cr_assert_eq(zcp_config_call_timeout_ms(c), 10000);
  cr_assert_eq(zcp_config_max_frame(c), 1 << 20);
  cr_assert_eq(zcp_config_max_outstanding(c), 64);
  OK(zcp_config_set_name(c, "plain", &e_));
  OK(zcp_config_set_id(c, 1, &e_));
  OK(zcp_config_set_auth(c, false, &e_));
  OK(zcp_config_add_node(c, "unix:/tmp/p.sock", "shm:p", 2 << 20, ZCP_COHERENT, &e_));
  char path[128];
  snprintf(path, sizeof path, "%s/plain.ini", dir);
  cr_assert_eq(zcp_config_write(c, path, &err), ZCP_OK, "%s", err.message);
  cr_assert(strstr(slurp(path), "key_file") == NULL, "no key file written");
  cr_assert_eq(zcp_config_load(path, &back, &err), ZCP_OK, "%s", err.message);
  expect_same(c, back);
  /* An absolute key file stays as it is. */
  OK(zcp_config_set_key_file(c, "/etc/zcpool/k", &e_));
  cr_assert_str_eq(zcp_config_key_file(c), "/etc/zcpool/k");
  OK(zcp_config_set_key_file(c, NULL, &e_));
  cr_assert_str_eq(zcp_config_key_file(c), "");
  zcp_config_free(c);
  zcp_config_free(back);
}

/* A setter refuses a value with the key's name and leaves the config as it was. */
#define REFUSED(call, key)                                                           \
  do {                                                                               \
    struct zcp_error e_ = {0};                                                       \
    cr_assert_eq((call), ZCP_INVALID_ARGUMENT, "%s accepted", #call);                \
    cr_assert(strstr(e_.message, "'" key "'") != NULL, "%s: %s", #call, e_.message); \
  } while (0)

Test(builder, setters_refuse_what_a_file_may_not_hold) {
  struct zcp_config *c = everything();
  REFUSED(zcp_config_set_name(c, "", &e_), "name");
  REFUSED(zcp_config_set_name(c, NULL, &e_), "name");
  char long_name[100];
  memset(long_name, 'n', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = '\0';
  REFUSED(zcp_config_set_name(c, long_name, &e_), "name");
  REFUSED(zcp_config_set_name(c, " padded", &e_), "name");
  REFUSED(zcp_config_set_name(c, "two\nlines", &e_), "name");
  REFUSED(zcp_config_set_name(c, "a ;comment", &e_), "name");
  REFUSED(zcp_config_set_id(c, 0, &e_), "id");
  REFUSED(zcp_config_set_window_base(c, 0x500000001000ull, &e_), "window_base");
  REFUSED(zcp_config_set_window_base(c, 0, &e_), "window_base");
  REFUSED(zcp_config_set_key_file(c, "", &e_), "key_file");
  char long_path[300];
  memset(long_path, 'p', sizeof long_path - 1);
  long_path[sizeof long_path - 1] = '\0';
  REFUSED(zcp_config_set_key_file(c, long_path, &e_), "key_file");
  REFUSED(zcp_config_set_heartbeat_ms(c, 0, &e_), "heartbeat_ms");
  REFUSED(zcp_config_set_down_after_ms(c, -5, &e_), "down_after_ms");
  REFUSED(zcp_config_set_connect_ms(c, 0, &e_), "connect_ms");
  REFUSED(zcp_config_set_call_timeout_ms(c, -1, &e_), "call_timeout_ms");
  REFUSED(zcp_config_set_max_frame(c, 1000, &e_), "max_frame");
  REFUSED(zcp_config_set_max_frame(c, ((int64_t)1 << 30) + 1, &e_), "max_frame");
  REFUSED(zcp_config_set_max_outstanding(c, 0, &e_), "max_outstanding");
  REFUSED(zcp_config_set_max_outstanding(c, 4097, &e_), "max_outstanding");
  REFUSED(zcp_config_set_quota(c, -1, &e_), "quota");
  REFUSED(zcp_config_set_protocol(c, (enum zcp_protocol)7, &e_), "protocol");
  /* Nothing changed. */
  struct zcp_config *fresh = everything();
  expect_same(c, fresh);
  zcp_config_free(fresh);
  zcp_config_free(c);
}

Test(builder, add_node_refuses_bad_and_duplicate_nodes) {
  struct zcp_config *c = everything();
  REFUSED(zcp_config_add_node(c, "udp://x:1", "shm:n3", 8 << 20, ZCP_COHERENT, &e_),
          "address");
  REFUSED(zcp_config_add_node(c, "tcp://nohost", "shm:n3", 8 << 20, ZCP_COHERENT, &e_),
          "address");
  char long_unix[140] = "unix:/";
  memset(long_unix + 6, 'u', 120);
  long_unix[126] = '\0';
  REFUSED(zcp_config_add_node(c, long_unix, "shm:n3", 8 << 20, ZCP_COHERENT, &e_),
          "address");
  REFUSED(zcp_config_add_node(c, NULL, "shm:n3", 8 << 20, ZCP_COHERENT, &e_), "address");
  REFUSED(zcp_config_add_node(c, "tcp://h:1", "shm:", 8 << 20, ZCP_COHERENT, &e_),
          "device");
  REFUSED(zcp_config_add_node(c, "tcp://h:1", "file:rel", 8 << 20, ZCP_COHERENT, &e_),
          "device");
  REFUSED(zcp_config_add_node(c, "tcp://h:1", NULL, 8 << 20, ZCP_COHERENT, &e_),
          "device");
  REFUSED(zcp_config_add_node(c, "tcp://h:1", "shm:n3", 1 << 20, ZCP_COHERENT, &e_),
          "size");
  REFUSED(zcp_config_add_node(c, "tcp://h:1", "shm:n3", ((int64_t)1 << 40) + 1,
                              ZCP_COHERENT, &e_),
          "size");
  REFUSED(
      zcp_config_add_node(c, "tcp://h:1", "shm:n3", 8 << 20, (enum zcp_coherence)5, &e_),
      "coherence");
  /* Another node's address or device. */
  struct zcp_error err = {0};
  cr_assert_eq(zcp_config_add_node(c, "tcp://10.1.2.3:7001", "shm:n3", 8 << 20,
                                   ZCP_COHERENT, &err),
               ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(err.message, "[node.3]") != NULL && strstr(err.message, "node 1's"),
            "%s", err.message);
  cr_assert_eq(
      zcp_config_add_node(c, "tcp://h:1", "shm:zcp-rt-0", 8 << 20, ZCP_COHERENT, &err),
      ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(err.message, "'device'") != NULL && strstr(err.message, "node 0's"),
            "%s", err.message);
  cr_assert_eq(zcp_config_n_nodes(c), 3, "nothing added");
  /* At most ZCP_CLUSTER_MAX_NODES. */
  for (int i = 3; i < ZCP_CLUSTER_MAX_NODES; i++) {
    char a[64], d[64];
    snprintf(a, sizeof a, "tcp://h:%d", 9000 + i);
    snprintf(d, sizeof d, "shm:n%d", i);
    cr_assert_eq(zcp_config_add_node(c, a, d, 2 << 20, ZCP_COHERENT, &err), ZCP_OK, "%s",
                 err.message);
  }
  cr_assert_eq(
      zcp_config_add_node(c, "tcp://h:1", "shm:last", 2 << 20, ZCP_COHERENT, &err),
      ZCP_NO_SPACE);
  cr_assert(strstr(err.message, "64") != NULL, "%s", err.message);
  zcp_config_free(c);
}

/* write refuses an incomplete or inconsistent config by the key, and writes nothing. */
static void expect_unwritable(struct zcp_config *c, const char *want) {
  char path[128];
  snprintf(path, sizeof path, "%s/bad.ini", dir);
  struct zcp_error err = {0};
  cr_assert_eq(zcp_config_write(c, path, &err), ZCP_INVALID_ARGUMENT, "%s", want);
  cr_assert(strstr(err.message, want) != NULL, "'%s' lacks '%s'", err.message, want);
  cr_assert(strstr(err.message, path) != NULL, "'%s' names no file", err.message);
  cr_assert(access(path, F_OK) != 0, "nothing written");
  cr_assert_str_eq(zcp_config_path(c), "", "still a new config");
  struct zcp_node *node = NULL;
  cr_assert_eq(zcp_node_open(c, 0, &node, &err), ZCP_INVALID_ARGUMENT, "%s", want);
  cr_assert(strstr(err.message, want) != NULL, "'%s' lacks '%s'", err.message, want);
  cr_assert_null(node);
}

Test(builder, write_and_open_check_the_whole_config) {
  make_dir();
  struct zcp_config *c = NULL;
  cr_assert_eq(zcp_config_new(&c, NULL), ZCP_OK);
  expect_unwritable(c, "lacks key 'name'");
  OK(zcp_config_set_name(c, "partial", &e_));
  expect_unwritable(c, "lacks key 'id'");
  OK(zcp_config_set_id(c, 9, &e_));
  expect_unwritable(c, "'key_file'");
  OK(zcp_config_set_key_file(c, "k", &e_));
  expect_unwritable(c, "no [node.N]");
  OK(zcp_config_add_node(c, "unix:/tmp/x.sock", "shm:x", (int64_t)1 << 40, ZCP_COHERENT,
                         &e_));
  OK(zcp_config_set_heartbeat_ms(c, 5000, &e_));
  expect_unwritable(c, "'heartbeat_ms' (5000) must be below 'down_after_ms'");
  OK(zcp_config_set_heartbeat_ms(c, 100, &e_));
  OK(zcp_config_set_window_base(c, 0x7f8000000000ull, &e_));
  expect_unwritable(c, "'window_base'");
  zcp_config_free(c);
}

Test(builder, null_arguments_are_typed_errors) {
  struct zcp_config *c = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_config_load(NULL, &c, &err), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_config_load("x.ini", NULL, &err), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_config_load("", &c, &err), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_config_parse_string(NULL, "x", &c, &err), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_config_parse_string(GOOD, NULL, &c, &err), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_config_parse_string(GOOD, "x", NULL, &err), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_config_new(NULL, &err), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_config_set_name(NULL, "x", &err), ZCP_INVALID_ARGUMENT);
  cr_assert(strstr(err.message, "'name'") != NULL, "%s", err.message);
  cr_assert_eq(zcp_config_set_quota(NULL, 1, NULL), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(
      zcp_config_add_node(NULL, "tcp://h:1", "shm:x", 2 << 20, ZCP_COHERENT, &err),
      ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_config_write(NULL, "/tmp/x.ini", &err), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_config_get_node(NULL, 0, &(struct zcp_config_node){0}, &err),
               ZCP_INVALID_ARGUMENT);
  cr_assert_null(zcp_config_name(NULL));
  cr_assert_eq(zcp_config_n_nodes(NULL), 0);
  cr_assert_eq(zcp_node_open(NULL, 0, &(struct zcp_node *){NULL}, &err),
               ZCP_INVALID_ARGUMENT);
  zcp_config_free(NULL);
  c = everything();
  cr_assert_eq(zcp_config_write(c, NULL, &err), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_config_get_node(c, 0, NULL, &err), ZCP_INVALID_ARGUMENT);
  cr_assert_eq(zcp_config_get_node(c, 3, &(struct zcp_config_node){0}, &err),
               ZCP_NOT_FOUND);
  cr_assert(strstr(err.message, "no node 3") != NULL, "%s", err.message);
  cr_assert_eq(zcp_config_get_node(c, -1, &(struct zcp_config_node){0}, &err),
               ZCP_NOT_FOUND);
  zcp_config_free(c);
}

Test(builder, write_reports_a_directory_it_cannot_write) {
  struct zcp_config *c = everything();
  struct zcp_error err = {0};
  cr_assert_eq(zcp_config_write(c, "/nonexistent-zcp/dir/c.ini", &err), ZCP_IO_ERROR);
  cr_assert(strstr(err.message, "/nonexistent-zcp/dir/c.ini") != NULL, "%s", err.message);
  zcp_config_free(c);
}
