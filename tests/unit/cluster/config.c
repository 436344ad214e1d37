/* Config files: a good file gives every value; each kind of mistake is refused with a
 * message naming the file, the line and the key. */
#define _GNU_SOURCE 1
#include <criterion/criterion.h>
#include <stdio.h>
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
  struct zcp_config c;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_config_parse_string(GOOD, "/etc/zcpool/demo.ini", &c, &err), ZCP_OK,
               "%s", err.message);
  cr_assert_str_eq(c.name, "demo");
  cr_assert_eq(c.cluster_id, 0xc1u);
  cr_assert_eq(c.window_base, 0x500000000000u);
  cr_assert_str_eq(c.key_file, "/etc/zcpool/demo.key", "relative to the config file");
  cr_assert(c.auth, "authentication is on by default");
  cr_assert_eq(c.heartbeat_ms, 100);
  cr_assert_eq(c.down_after_ms, 800);
  cr_assert_eq(c.max_frame, 64 << 10);
  cr_assert_eq(c.quota, 1 << 20);
  cr_assert_eq(c.n_nodes, 2);
  cr_assert_str_eq(c.nodes[0].address, "unix:/tmp/zcp-demo-0.sock");
  cr_assert_eq(c.nodes[0].size, 8 << 20);
  cr_assert_eq(c.nodes[0].coherence, ZCP_COHERENT);
  cr_assert_str_eq(c.nodes[1].device, "file:/dev/dax0.0");
  cr_assert_eq(c.nodes[1].coherence, ZCP_NONCOHERENT);
}

/* Replaces the first occurrence of `from` in GOOD by `to` and expects an error whose
 * message contains every string in want. */
static void expect_error(const char *from, const char *to, zcp_status_t code,
                         const char *const *want) {
  char text[2048];
  const char *at = strstr(GOOD, from);
  cr_assert(at != NULL, "fixture lacks %s", from);
  snprintf(text, sizeof text, "%.*s%s%s", (int)(at - GOOD), GOOD, to, at + strlen(from));
  struct zcp_config c;
  struct zcp_error err = {0};
  zcp_status_t st = zcp_config_parse_string(text, "demo.ini", &c, &err);
  cr_assert_eq(st, code, "replacing '%s' by '%s': status %d (%s)", from, to, st,
               err.message);
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
  struct zcp_config c;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_config_load(path, &c, &err), ZCP_OK, "%s", err.message);
  cr_assert_str_eq(c.key_file, "/tmp/demo.key");
  unlink(path);
  cr_assert_eq(zcp_config_load(path, &c, &err), ZCP_NOT_FOUND);
  cr_assert(strstr(err.message, path) != NULL, "%s", err.message);
}

Test(config, protocol_key) {
  struct zcp_config c;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_config_parse_string(GOOD, "demo.ini", &c, &err), ZCP_OK, "%s",
               err.message);
  cr_assert_eq(c.protocol, ZCP_PROTOCOL_INVALIDATE, "the default");
  char text[2048];
  snprintf(text, sizeof text, "%s", GOOD);
  char *at = strstr(text, "quota = 1M\n");
  memmove(at + 26, at, strlen(at) + 1);
  memcpy(at, "protocol = prewrite-flush\n", 26);
  cr_assert_eq(zcp_config_parse_string(text, "demo.ini", &c, &err), ZCP_OK, "%s",
               err.message);
  cr_assert_eq(c.protocol, ZCP_PROTOCOL_PREWRITE_FLUSH);
  expect_error("quota = 1M", "protocol = flush", ZCP_INVALID_ARGUMENT,
               (const char *[]){"demo.ini:10:", "'protocol'", "prewrite-flush", NULL});
}
