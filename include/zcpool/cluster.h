/* zcpool — clusters: the config file, the cluster key, and nodes.
 *
 * A cluster is a fixed set of nodes described by one INI file that every node holds:
 *
 *   [cluster]
 *   name = demo
 *   id = 0xc1                     ; 64-bit cluster id (regions and peers must agree)
 *   window_base = 0x500000000000  ; where every node maps the whole cluster
 *   key_file = demo.key           ; relative paths are relative to the config file
 *   auth = on                     ; off: no handshake proof, no MACs (tests only)
 *   heartbeat_ms = 200            ; ping a quiet peer this often
 *   down_after_ms = 1000          ; a peer silent this long is down
 *   connect_ms = 1000, call_timeout_ms = 10000
 *   max_frame = 1M, max_outstanding = 64, quota = 0 (bytes per peer; 0 unlimited)
 *   protocol = invalidate         ; or prewrite-flush (thesis mode, DESIGN §4)
 *
 *   [node.0]
 *   address = unix:/run/zcpool/demo-0.sock   ; or tcp://10.0.0.1:7000
 *   device = shm:zcp-demo-0                  ; or file:/dev/dax0.0
 *   size = 64M
 *   coherence = coherent                     ; or noncoherent
 *
 * Node ids run 0..N-1. Every error names the file, the line and the key. Programs that
 * write such a file build it with zcp_config_new and the setters below.
 *
 * A node (struct zcp_node) is one member of the cluster in this process: it reserves
 * the window, creates and maps its own region (a fresh epoch each time it opens), starts
 * its server, connects to every peer and maps their regions as they come up. Pools for
 * any node are struct zcp_allocator: the local pool for its own region, a remote pool
 * (Malloc/Realloc/Free over RPC to the owner) for the others; pointers from either are
 * valid at the same address on every node. All node functions are thread-safe. */
#ifndef ZCPOOL_CLUSTER_H
#define ZCPOOL_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "zcpool/arrow.h"
#include "zcpool/fabric.h"
#include "zcpool/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ZCP_CLUSTER_MAX_NODES 64
#define ZCP_CLUSTER_KEY_SIZE 32

/* ---- config -------------------------------------------------------------------------
 *
 * struct zcp_config is an opaque handle. zcp_config_load and zcp_config_parse_string
 * allocate one from a file; zcp_config_new starts an empty one that the setters fill
 * and zcp_config_write writes out. Either way the caller owns it and releases it with
 * zcp_config_free. Setters check a value as the loader checks the same key in a file
 * (an out-of-range value leaves the config unchanged and names the key); what no single
 * key can say (required keys, heartbeat below down_after, the window fitting the user
 * address space) is checked by zcp_config_write and zcp_node_open. String accessors
 * return memory of the config: valid until it is freed. */

/* The coherence protocol on non-coherent regions (DESIGN §4). */
enum zcp_protocol {
  /* importers invalidate what a descriptor references before reading (default) */
  ZCP_PROTOCOL_INVALIDATE = 0,
  /* thesis §3.9/§3.11: every new block is flushed on every node before it is written;
   * importers then skip invalidation */
  ZCP_PROTOCOL_PREWRITE_FLUSH = 1,
};

struct zcp_config;

/* Reads and checks a config file into a new config (*out; NULL on failure). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_config_load(const char *path, struct zcp_config **out,
                                              struct zcp_error *err);
/* The same from text; name stands for the file in messages and relative paths. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_config_parse_string(const char *text, const char *name,
                                                      struct zcp_config **out,
                                                      struct zcp_error *err);
/* Releases a config. NULL is fine. */
ZCP_API void zcp_config_free(struct zcp_config *cfg);

/* A new config holding only the defaults (no name, id or nodes yet): window_base
 * ZCP_WINDOW_BASE_DEFAULT, auth on, heartbeat_ms 200, down_after_ms 1000, connect_ms
 * 1000, call_timeout_ms 10000, max_frame 1M, max_outstanding 64, quota 0, protocol
 * invalidate. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_config_new(struct zcp_config **out,
                                             struct zcp_error *err);

/* [cluster] keys, as the file spells them. name: 1..63 bytes; id: non-zero; window_base:
 * 2 MiB-aligned; key_file: a path, relative to the config file's directory (NULL: none,
 * for auth off); the *_ms keys: > 0; max_frame: 1K..1G; max_outstanding: 1..4096;
 * quota: bytes per peer, 0 unlimited. A string (here and in zcp_config_add_node) is at
 * most 180 bytes, so that its line fits the reader's 200, and holds no control
 * character, no blank at either end and no " ;" (a comment in the file). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_config_set_name(struct zcp_config *cfg,
                                                  const char *name,
                                                  struct zcp_error *err);
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_config_set_id(struct zcp_config *cfg, uint64_t id,
                                                struct zcp_error *err);
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_config_set_window_base(struct zcp_config *cfg,
                                                         uint64_t base,
                                                         struct zcp_error *err);
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_config_set_key_file(struct zcp_config *cfg,
                                                      const char *path,
                                                      struct zcp_error *err);
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_config_set_auth(struct zcp_config *cfg, bool on,
                                                  struct zcp_error *err);
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_config_set_heartbeat_ms(struct zcp_config *cfg,
                                                          int32_t ms,
                                                          struct zcp_error *err);
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_config_set_down_after_ms(struct zcp_config *cfg,
                                                           int32_t ms,
                                                           struct zcp_error *err);
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_config_set_connect_ms(struct zcp_config *cfg,
                                                        int32_t ms,
                                                        struct zcp_error *err);
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_config_set_call_timeout_ms(struct zcp_config *cfg,
                                                             int32_t ms,
                                                             struct zcp_error *err);
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_config_set_max_frame(struct zcp_config *cfg,
                                                       int64_t bytes,
                                                       struct zcp_error *err);
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_config_set_max_outstanding(struct zcp_config *cfg,
                                                             int32_t n,
                                                             struct zcp_error *err);
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_config_set_quota(struct zcp_config *cfg, int64_t bytes,
                                                   struct zcp_error *err);
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_config_set_protocol(struct zcp_config *cfg,
                                                      enum zcp_protocol protocol,
                                                      struct zcp_error *err);
/* Adds [node.N], N = the number of nodes so far: address tcp://host:port or unix:/path,
 * device shm:NAME or file:/PATH (neither another node's), size 2M..1T (header
 * included). ZCP_NO_SPACE past ZCP_CLUSTER_MAX_NODES. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_config_add_node(struct zcp_config *cfg,
                                                  const char *address, const char *device,
                                                  int64_t size,
                                                  enum zcp_coherence coherence,
                                                  struct zcp_error *err);

/* Checks the whole config and writes it to path as an INI file that zcp_config_load
 * reads back with every value the same (written to a temporary file, then renamed over
 * path). Afterwards cfg stands for that file: zcp_config_path is path and a relative
 * key file is relative to its directory, as when loading it. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_config_write(struct zcp_config *cfg, const char *path,
                                               struct zcp_error *err);

/* What the config says. The file it came from or was written to ("" for a new config
 * not yet written); the key file resolved against that file's directory ("" when
 * none). NULL cfg reads as empty (NULL strings, zeros). */
ZCP_API const char *zcp_config_path(const struct zcp_config *cfg);
ZCP_API const char *zcp_config_name(const struct zcp_config *cfg);
ZCP_API uint64_t zcp_config_id(const struct zcp_config *cfg);
ZCP_API uint64_t zcp_config_window_base(const struct zcp_config *cfg);
ZCP_API const char *zcp_config_key_file(const struct zcp_config *cfg);
ZCP_API bool zcp_config_auth(const struct zcp_config *cfg);
ZCP_API int32_t zcp_config_heartbeat_ms(const struct zcp_config *cfg);
ZCP_API int32_t zcp_config_down_after_ms(const struct zcp_config *cfg);
ZCP_API int32_t zcp_config_connect_ms(const struct zcp_config *cfg);
ZCP_API int32_t zcp_config_call_timeout_ms(const struct zcp_config *cfg);
ZCP_API int64_t zcp_config_max_frame(const struct zcp_config *cfg);
ZCP_API int32_t zcp_config_max_outstanding(const struct zcp_config *cfg);
ZCP_API int64_t zcp_config_quota(const struct zcp_config *cfg);
ZCP_API enum zcp_protocol zcp_config_protocol(const struct zcp_config *cfg);
ZCP_API int32_t zcp_config_n_nodes(const struct zcp_config *cfg);

/* One [node.N] section. The strings belong to the config. */
struct zcp_config_node {
  const char *address;
  const char *device;
  int64_t size; /* region bytes, header included */
  enum zcp_coherence coherence;
};
/* Node id's section; ZCP_NOT_FOUND for an id outside 0..n-1. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_config_get_node(const struct zcp_config *cfg,
                                                  int32_t id, struct zcp_config_node *out,
                                                  struct zcp_error *err);

/* ---- cluster key --------------------------------------------------------------------
 */

/* Creates a key file with a fresh random secret, mode 0600. Fails with ZCP_BUSY if the
 * file exists (a key is never overwritten). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_cluster_key_create(const char *path,
                                                             struct zcp_error *err);
/* Reads a key file. Refuses (ZCP_AUTH_FAILED) a file that group or others may read or
 * write, and (ZCP_CORRUPT_INPUT) one that does not hold a key. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_cluster_key_load(
    const char *path, uint8_t key[ZCP_CLUSTER_KEY_SIZE], struct zcp_error *err);

/* ---- nodes --------------------------------------------------------------------------
 */

struct zcp_node;

/* Opens node `id` of the cluster described by cfg. The node keeps a copy of cfg: the
 * caller may free it at once. Checks cfg as zcp_config_write does, creates the region's
 * device afresh (a new epoch), maps it, and starts serving; peers are connected in the
 * background. Errors name the node and what failed (window taken, device, address). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_node_open(const struct zcp_config *cfg,
                                                    int32_t id, struct zcp_node **out,
                                                    struct zcp_error *err);
/* Tells every peer (waiting at most 2 s for their answers) the barrier rounds this node
 * entered, then stops serving, disconnects, unmaps everything and removes its own shm
 * device. Peers see it down. NULL is fine. */
ZCP_API void zcp_node_close(struct zcp_node *node);

ZCP_API int32_t zcp_node_id(const struct zcp_node *node);
ZCP_API uint64_t zcp_node_epoch(const struct zcp_node *node);
/* The node's copy of its config. Borrowed: valid until zcp_node_close. */
ZCP_API const struct zcp_config *zcp_node_config(const struct zcp_node *node);

/* Waits until every peer is up (connected, authenticated, region mapped, and the
 * catalog entries it created pulled into this node's replica). ZCP_TIMEOUT names the
 * peers still missing. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_node_wait_online(struct zcp_node *node,
                                                           int timeout_ms,
                                                           struct zcp_error *err);
/* Waits until peer is up as zcp_node_wait_online means it (or, with up false, down). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_node_wait_peer(struct zcp_node *node,
                                                         int32_t peer, bool up,
                                                         int timeout_ms,
                                                         struct zcp_error *err);

/* The pool of node `owner`'s region, as an allocator for builders. Local when owner is
 * this node, remote otherwise. Borrowed: valid until zcp_node_close. A remote pool's
 * allocate fails with the call's status and message ("owner down: node 2 ...", a quota,
 * a full region), which builders pass on. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_node_allocator(struct zcp_node *node,
                                                         int32_t owner,
                                                         struct zcp_allocator **out,
                                                         struct zcp_error *err);

/* Direct calls with status (what the allocator interface wraps). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_node_alloc(struct zcp_node *node, int32_t owner,
                                                     int64_t size, void **out,
                                                     struct zcp_error *err);
/* Remote allocation keeps the coherence protocol (DESIGN §4) on non-coherent regions:
 * a new block's lines are invalidated here before it is handed out, and realloc writes
 * back the old_size bytes written so far before the owner copies them. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_node_realloc(struct zcp_node *node,
                                                       int32_t owner, void *ptr,
                                                       int64_t old_size, int64_t new_size,
                                                       void **out, struct zcp_error *err);
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_node_free(struct zcp_node *node, int32_t owner,
                                                    void *ptr, struct zcp_error *err);
/* The data area of owner's region (where its pool's offsets start) and its size;
 * ZCP_PEER_DOWN while a peer's region is not mapped. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_node_region_data(struct zcp_node *node,
                                                           int32_t owner, void **data,
                                                           int64_t *size,
                                                           struct zcp_error *err);
/* Round trip to a peer (its server), payload_size bytes each way. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_node_ping(struct zcp_node *node, int32_t peer,
                                                    int64_t payload_size,
                                                    struct zcp_error *err);
/* Thesis mode: asks every peer, in parallel, to flush [p, p + len) from its caches (p
 * inside a mapped region), and flushes it here too. The region's owner accepts only a
 * range inside a block this node holds; the other peers check that the range lies in a
 * region they map (only the owner knows who holds what). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_node_flush(struct zcp_node *node, const void *p,
                                                     int64_t len, struct zcp_error *err);

/* ---- state words and barriers (barrier.c) ------------------------------------------ */

/* Sets this node's state word: state = (state & ~mask) | (flags & mask). */
ZCP_API void zcp_node_set_state(struct zcp_node *node, uint64_t flags, uint64_t mask);
ZCP_API uint64_t zcp_node_get_state(struct zcp_node *node);
/* Thesis sync_wait: sets this node's bits under mask to flags, then waits until every
 * node's state word has (word & mask) == (flags & mask). Asks all peers in parallel;
 * each answers when its word matches (no polling). Errors: ZCP_TIMEOUT, ZCP_PEER_DOWN
 * naming the node. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_node_sync_wait(struct zcp_node *node,
                                                         uint64_t flags, uint64_t mask,
                                                         int timeout_ms,
                                                         struct zcp_error *err);
/* A reusable barrier over all nodes (a generation counter next to the state word, so
 * that rounds can follow each other without the race of reused flag bits). A node may
 * close right after its barrier returns: a peer still in that round counts it as having
 * entered (zcp_node_close tells every peer the rounds it entered). Errors: ZCP_TIMEOUT,
 * ZCP_PEER_DOWN (or ZCP_IO_ERROR for a cut connection) naming a node that is down or
 * closed before entering the round. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_node_barrier(struct zcp_node *node,
                                                       int timeout_ms,
                                                       struct zcp_error *err);

/* ---- sharing (share.c, memory.c, lease.c) -------------------------------------------
 *
 * A shared batch lives where it was built (any node's region); only its descriptor
 * travels. Every node keeps a replica of the catalog (name -> creator node and epoch,
 * kind, descriptor, rows), filled by the creator's parallel Publish to every node, so a
 * import is local: decode the descriptor, verify the buffers with their regions' owners
 * (one Verify call per owner, in parallel), invalidate them on non-coherent regions and
 * read in place.
 *
 * Lifetime (thesis §3.10, "the creator frees"): zcp_node_share moves the batch into the
 * node; the creator releases it (freeing its pool blocks) when zcp_node_drop completes,
 * or when the node closes. Drop belongs to the creator: it refuses new leases, waits
 * until every lease is released or expired (bounded by its timeout), removes the entry
 * from every replica, then frees. Huge tables: zcp_hugetable_drop (hugetable.h).
 *
 * Names: a name belongs to one creator at a time (ZCP_BUSY for the others). When two
 * nodes share one name at the same moment, the lower node id wins and the other gets
 * ZCP_BUSY; one of them always wins.
 *
 * Reuse safety: every publication has a generation (a counter of its creator); its
 * blocks are sealed for it, and an import asks each owner whether every block is still
 * held by the entry's creator and sealed for that publication. An entry that outlived
 * its memory (a replica that missed a drop) is ZCP_STALE, "freed and reused", never a
 * read of another batch's data.
 *
 * Faults: a reader whose batch lives in the region of a node that is down gets
 * ZCP_PEER_DOWN ("owner down"); a region or creator that came back with a new epoch
 * makes the entry ZCP_STALE (it stays listed, marked stale, until its creator shares
 * the name again, which replaces it). Whenever a peer comes up (a node starting or
 * restarting, a connection coming back), this node pulls the entries that peer created
 * at its current epoch into its replica, and drops those of that epoch the peer no
 * longer has: a restarted node sees everything whose creator is up. */

#define ZCP_SHARE_NAME_MAX 128 /* bytes of a name, NUL included */

struct zcp_descriptor_memory;

/* The cluster's memory for descriptors (include/zcpool/descriptor.h): locate turns an
 * address into (owner's region, its epoch, offset from its data area) by the window's
 * layout; resolve checks the ranges with their owners (see above). Borrowed. */
ZCP_API void zcp_node_memory(struct zcp_node *node, struct zcp_descriptor_memory *out);

/* Seals every block a buffer of batch lies in (children, dictionaries and variadic
 * buffers included): locally, or with one Seal call per other owner, in parallel. Only
 * the node that holds a block may seal it; sealed blocks are left alone. Then writes
 * each block back to memory on non-coherent regions and fences (protocol step 3). A
 * buffer outside the cluster's memory is ZCP_INVALID_ARGUMENT. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_node_seal_batch(struct zcp_node *node,
                                                          const struct ArrowArray *batch,
                                                          struct zcp_error *err);

/* Seals, describes and publishes batch (a "+s" record batch over schema) under name on
 * every node. Before it seals, the node walks the batch's values once at its seal check
 * level (zcp_node_set_seal_check; DEFAULT unless set): a batch that fails is neither
 * sealed nor shared (ZCP_CORRUPT_INPUT naming the column and row), and the publication
 * records what passed so that importers need not walk the values again. On success the
 * batch is moved into the node (batch->release is NULL afterwards); on failure it stays
 * with the caller. A name in use is ZCP_BUSY (also for the loser of two shares at once:
 * the higher node id); a peer that is down fails the call with ZCP_PEER_DOWN (nothing
 * stays published). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_node_share(struct zcp_node *node,
                                                     const char *name,
                                                     const struct ArrowSchema *schema,
                                                     struct ArrowArray *batch,
                                                     struct zcp_error *err);
/* The level at which this node walks the values of every batch it shares or adds as a
 * huge-table chunk, before sealing it: DEFAULT (every value a reader addresses memory
 * with: offsets, dictionary indices, union ids, run ends; the default), FULL (UTF-8 and
 * everything else too), or MINIMAL (none: importers then walk what they ask for). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_node_set_seal_check(struct zcp_node *node,
                                                      enum zcp_validate_level level,
                                                      struct zcp_error *err);
/* Imports the shared batch `name` from this node's replica into a new table (validated
 * at level) whose buffers point into the regions. At DEFAULT the cost is O(columns) when
 * the creator checked the values at seal (zcp_descriptor_decode_checked); FULL walks
 * everything again. Errors: ZCP_NOT_FOUND, ZCP_STALE
 * (creator or region restarted, or the memory freed and reused), ZCP_PEER_DOWN (owner
 * down), ZCP_BUSY (a block not sealed), ZCP_CORRUPT_INPUT. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_node_import(struct zcp_node *node,
                                                      const char *name,
                                                      enum zcp_validate_level level,
                                                      struct zcp_table **out,
                                                      struct zcp_error *err);

enum zcp_share_kind {
  ZCP_SHARE_TABLE = 0,    /* zcp_node_share */
  ZCP_SHARE_CHUNK = 1,    /* zcp_hugetable_add_chunk */
  ZCP_SHARE_MANIFEST = 2, /* zcp_hugetable_commit */
};

struct zcp_share_info {
  char name[ZCP_SHARE_NAME_MAX];
  enum zcp_share_kind kind;
  int32_t creator;
  uint64_t creator_epoch;
  int64_t rows;      /* manifest: total rows */
  int64_t first_row; /* chunks */
  int64_t descriptor_size;
  bool stale; /* the creator has come back with a newer epoch */
};

/* Every entry of this node's replica, sorted by name (then kind, first row). Free *out
 * with free(). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_node_list(struct zcp_node *node,
                                                    struct zcp_share_info **out,
                                                    int64_t *n, struct zcp_error *err);
/* Drops a shared batch; only its creator may (ZCP_INVALID_ARGUMENT elsewhere). Waits up
 * to timeout_ms for leases (then ZCP_TIMEOUT naming the holders; the batch stays). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_node_drop(struct zcp_node *node,
                                                    const char *name, int timeout_ms,
                                                    struct zcp_error *err);

/* Leases (explicit, not tied to a table): pins the shared batch `name` at its creator,
 * or the committed huge table `name` at its committer, for ttl_ms (1 ms .. 1 h);
 * *lease_id names it for zcp_node_lease_release (by this node only). A batch or table
 * being dropped refuses new leases with ZCP_BUSY. A lease that is never released
 * expires. A Lease the RPC layer retries after a broken connection gets the lease the
 * first attempt made, never a second one. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_node_lease(struct zcp_node *node,
                                                     const char *name, int64_t ttl_ms,
                                                     uint64_t *lease_id,
                                                     struct zcp_error *err);
/* ZCP_NOT_FOUND when the lease is unknown (released or expired). */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_node_lease_release(struct zcp_node *node,
                                                             const char *name,
                                                             uint64_t lease_id,
                                                             struct zcp_error *err);

/* ---- status --------------------------------------------------------------------------
 */

struct zcp_node_status {
  int32_t id;
  uint64_t epoch;
  int32_t n_nodes;
  int32_t peers_up;
  int64_t region_size;
  int64_t bytes_used; /* in this node's region */
  int64_t bytes_free;
  int64_t live_blocks;
  /* What the server dropped: unauthenticated, replayed, oversized, malformed frames, and
   * requests refused by a limit. */
  int64_t frames_auth_failed, frames_replayed, frames_oversized, frames_garbage,
      requests_busy;
  /* Granted, never sealed blocks taken back from nodes that came back with a new epoch
   * (their previous life is over). */
  int64_t reclaimed_blocks, reclaimed_bytes;
  /* Control-connection traffic since open, whole frames (header and MAC included), over
   * every peer connection in both roles (calls this node made, calls it served). Summed
   * over all nodes, bytes_sent is every byte that crossed the control connections. */
  int64_t bytes_sent, bytes_received;
};

ZCP_API void zcp_node_status(struct zcp_node *node, struct zcp_node_status *out);

/* How this node sees one peer (itself: up, its own epoch, mapped). */
struct zcp_node_peer_status {
  bool up;            /* connected, authenticated and its region mapped */
  uint64_t epoch;     /* the peer's epoch when last seen (0: never) */
  bool region_mapped; /* a mapping of its region is in place (also while it is down) */
  char why[200];      /* why it is not up ("" when up) */
};
/* The state of peer as this node sees it. ZCP_NOT_FOUND for an id outside 0..n-1. */
ZCP_API ZCP_CHECK_RESULT zcp_status_t zcp_node_peer_status(struct zcp_node *node, int32_t peer,
                                                   struct zcp_node_peer_status *out,
                                                   struct zcp_error *err);

#ifdef __cplusplus
}
#endif
#endif /* ZCPOOL_CLUSTER_H */
