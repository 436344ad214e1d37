/* Sharing commands of the "node" helper role (zcp_cluster_test.h), usable in the test
 * process too: build fixture batches in any node's region and share them, look them up
 * and check every value, leases, huge tables, DuckDB over a huge table. Every answer is
 * one line starting "st <status>". */
#ifndef ZCP_SHARE_CMDS_H
#define ZCP_SHARE_CMDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zcpool/cluster.h"

/* Runs one command line; false when line is not a sharing command. */
bool zcp_test_share_cmd(struct zcp_node *node, const char *line, char *out, size_t cap);

/* Checksum of the fixture's rows [first, first + n) as every check computes it (the
 * FNV-1a hash of every cell's text, row by row). */
uint64_t zcp_test_fixture_checksum(int64_t first, int64_t n);

#endif
