/* zcpool — huge tables: one table whose chunks are built by many nodes (thesis §3.6,
 * §4.7, DESIGN §7).
 *
 * Any node adds a chunk (a record batch and the row it starts at; its memory may lie in
 * any node's region); the chunk is sealed, described and published to every node like a
 * shared batch, and its node frees it when the table is dropped or that node closes.
 * One node commits: it waits until the chunks cover [0, total_rows), checks that they
 * neither overlap nor leave a gap and share one schema, and publishes a manifest to
 * every node. Any node then imports the table: it waits for the manifest (woken by its
 * arrival, never polling) and imports every chunk, in row order, into one struct
 * zcp_table; zcp_table_export_stream gives every node the same ArrowArrayStream, read
 * in place. Readers may lease the committed table (zcp_node_lease on its name); its
 * committer drops it (zcp_hugetable_drop). */
#ifndef ZCPOOL_HUGETABLE_H
#define ZCPOOL_HUGETABLE_H

#include <stdint.h>

#include "zcpool/arrow.h"
#include "zcpool/cluster.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Adds rows [first_row, first_row + batch->length) of huge table `name`. Its values are
 * walked once before the seal, as zcp_node_share does (zcp_node_set_seal_check), so that
 * zcp_hugetable_import at DEFAULT costs O(columns). The batch is moved into the node on
 * success (left with the caller on failure). Errors: a chunk
 * overlapping one already added, ZCP_CORRUPT_INPUT naming both; a committed table,
 * ZCP_BUSY; ZCP_PEER_DOWN when a node cannot be told. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_hugetable_add_chunk(
    struct zcp_node *node, const char *name, int64_t first_row,
    const struct ArrowSchema *schema, struct ArrowArray *batch, struct zcp_error *err);
/* Assembles and commits the table: waits up to timeout_ms for the chunks to cover
 * [0, total_rows). ZCP_INCOMPLETE names the first missing row range; overlapping chunks,
 * a chunk past total_rows or chunks of different schemas are ZCP_CORRUPT_INPUT; an
 * already committed table is ZCP_BUSY. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_hugetable_commit(struct zcp_node *node,
                                                           const char *name,
                                                           int64_t total_rows,
                                                           int timeout_ms,
                                                           struct zcp_error *err);
/* Waits up to timeout_ms for the manifest and every chunk it lists, then imports them
 * (validated at level) into one table. ZCP_INCOMPLETE after the timeout says what is
 * missing; import errors are those of zcp_node_import. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_hugetable_import(struct zcp_node *node,
                                                   const char *name,
                                                   enum zcp_validate_level level,
                                                   int timeout_ms, struct zcp_table **out,
                                                   struct zcp_error *err);

/* Drops huge table `name`: takes it out of every replica and has every chunk's creator
 * free its chunk (the creator frees). A committed table is dropped by its committer only
 * (elsewhere ZCP_INVALID_ARGUMENT naming it), which holds the leases on it
 * (zcp_node_lease on the table's name): new leases are refused (ZCP_BUSY), live ones
 * waited for up to timeout_ms (then ZCP_TIMEOUT naming the holders; the table stays).
 * A table never committed, or whose committer has restarted since, has no leases and
 * any node drops it (stale entries go out of every replica too). A chunk's creator that
 * is down fails the drop before anything changes (ZCP_PEER_DOWN). ZCP_NOT_FOUND: no
 * chunk and no manifest of that name here. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_hugetable_drop(struct zcp_node *node,
                                                         const char *name, int timeout_ms,
                                                         struct zcp_error *err);

#ifdef __cplusplus
}
#endif
#endif /* ZCPOOL_HUGETABLE_H */
