/* zcpool — full copies between nodes: the thesis's SendTableFull baseline.
 *
 * What zero-copy sharing is measured against: the sender writes a table as an Arrow IPC
 * stream and sends the bytes over the control connection, in parts that each fit the
 * receiver's frame limit; the receiver decodes the stream as the parts arrive into its
 * own region (its local pool is the IPC reader's allocator, with full validation) and
 * keeps the rebuilt table under a name. Nothing of the sender's memory is shared: the
 * copy is the receiver's, as with any RPC framework that ships Arrow data.
 *
 * The receiver keeps at most ZCP_COPY_MAX_TRANSFERS transfers open per sending node and
 * frees a partial table when its sender goes down, restarts, aborts, or sends nothing
 * for call_timeout_ms. */
#ifndef ZCPOOL_COPY_H
#define ZCPOOL_COPY_H

#include <stdint.h>

#include "zcpool/arrow.h"
#include "zcpool/cluster.h"
#include "zcpool/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ZCP_COPY_NAME_MAX 255       /* bytes of a received table's name */
#define ZCP_COPY_MAX_TRANSFERS 4    /* open transfers per sending node, at a receiver */
#define ZCP_COPY_PART_OVERHEAD 1024 /* bytes of a frame that are not stream bytes */

/* Copies table to node peer, which keeps it under name. Returns when the peer has
 * rebuilt the table, or with the peer's error: ZCP_BUSY (name in use there, or too many
 * transfers open), ZCP_NO_SPACE (its region is full; nothing of the copy is left
 * allocated there), ZCP_PEER_DOWN, ZCP_TIMEOUT, ZCP_CORRUPT_INPUT. The table stays the
 * caller's. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_node_send_table_full(struct zcp_node *node,
                                                               int32_t peer,
                                                               const char *name,
                                                               struct zcp_table *table,
                                                               struct zcp_error *err);
/* A table this node received under name: a new reference (zcp_table_release it, before
 * zcp_node_close: its buffers live in this node's region). ZCP_NOT_FOUND if none. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_node_received_table(struct zcp_node *node,
                                                              const char *name,
                                                              struct zcp_table **out,
                                                              struct zcp_error *err);
/* Forgets the table received under name (its memory goes back to the pool when the
 * last reference is released) and frees the name. ZCP_NOT_FOUND if none. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_node_received_drop(struct zcp_node *node,
                                                             const char *name,
                                                             struct zcp_error *err);

#ifdef __cplusplus
}
#endif
#endif /* ZCPOOL_COPY_H */
