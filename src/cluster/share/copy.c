/* Full copies: the thesis's SendTableFull baseline (DESIGN §6), what zero-copy sharing is
 * compared against. The sender streams the IPC writer's output into parts no larger
 * than the receiver's frame limit (a table of any size needs one part of memory, never
 * the whole stream) and sends them one after the other, each waiting for its answer, so
 * the receiver is never more than one part behind.
 *
 * The receiver decodes as parts arrive: each transfer has a decoder thread running the
 * IPC stream reader over a source that hands it the bytes of the part being served. The
 * handler of a part waits until the decoder has taken all of its bytes (the part stays
 * in the request, never copied again) and waits for more, or, for the last part, until
 * the table is rebuilt; so an error is the answer to the part that caused it, and the
 * receiver holds one part plus what the table needs (and the IPC reader's scratch
 * buffer, one message body). The reader
 * allocates from this node's pool through a wrapper that notices the pool running out,
 * which turns the reader's out-of-memory into ZCP_NO_SPACE. A transfer whose sender is
 * down, restarted, gave up, or sent nothing for call_timeout_ms is cancelled: its
 * decoder's next read fails, the reader frees what it built, and the name is free. */
#include "common/platform.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/share/share.h"
#include "common/util.h"
#include "zcpool/copy.h"
#include "zcpool/ipc.h"

struct transfer {
  struct zcp__copy *cp;
  int32_t client;
  uint64_t client_epoch;
  uint64_t id;
  char name[ZCP_COPY_NAME_MAX + 1];
  uint64_t next_seq;
  /* The part being fed to the decoder (bytes of a request its handler keeps alive). */
  const uint8_t *part;
  int64_t part_len, part_pos;
  bool feeding;  /* a handler is waiting for the decoder to take its part */
  bool fed_last; /* the last part was handed over: after its bytes, end of input */
  bool starved;  /* the decoder waits for the next part (all before it is decoded) */
  bool cancelled;
  zcp_status_t cancel_st; /* what the decoder's next read fails with */
  char why[200];          /* why cancelled */
  bool done;              /* the decoder ended (table kept, or error below) */
  zcp_status_t st;
  struct zcp_error err;
  int64_t bytes, rows, batches;
  int64_t last_ms; /* when the last part arrived */
  int handlers;    /* handlers looking at this transfer after it is done */
  struct transfer *next;
};

struct received {
  char name[ZCP_COPY_NAME_MAX + 1];
  struct zcp_table *table;
  struct received *next;
};

struct zcp__copy {
  struct zcp_node *node;
  pthread_mutex_t mu;
  pthread_cond_t cv; /* a part arrived or was taken, a transfer ended or was cancelled */
  struct transfer *transfers;
  struct received *tables;
  int threads; /* decoder threads alive */
  /* The pool as the decoders' allocator (a full region fails a copy with ZCP_NO_SPACE).
   * Arrays keep a pointer to the allocator that made them: it lives as long as the node.
   */
  struct zcp_allocator *pool;
  bool closing;
  atomic_ullong ids; /* transfer ids of this node as a sender */
};

/* ---- receiving -----------------------------------------------------------------------
 */

/* The decoder's byte source: fills buf from the parts as they come (a read may span
 * parts: the reader takes a short read of a message prefix for a truncated stream), and
 * ends only after the last part. */
static zcp_status_t source_read(void *ctx, void *buf, int64_t size, int64_t *got,
                                struct zcp_error *err) {
  struct transfer *t = ctx;
  struct zcp__copy *cp = t->cp;
  int idle_ms = cp->node->cfg.call_timeout_ms;
  uint8_t *out = buf;
  *got = 0;
  pthread_mutex_lock(&cp->mu);
  while (*got < size) {
    if (t->cancelled) {
      pthread_mutex_unlock(&cp->mu);
      return zcp_error_set(err, t->cancel_st, "%s", t->why);
    }
    if (t->part_pos < t->part_len) {
      int64_t n = ZCP_MIN(t->part_len - t->part_pos, size - *got);
      /* Under the lock: the handler may not return (and free the part) meanwhile. */
      memcpy(out + *got, t->part + t->part_pos, (size_t)n);
      t->part_pos += n;
      t->bytes += n;
      *got += n;
      if (t->part_pos == t->part_len) pthread_cond_broadcast(&cp->cv);
      continue;
    }
    if (t->fed_last) break; /* end of input */
    struct timespec ts;
    zcp__deadline_at(&ts, t->last_ms + idle_ms);
    t->starved = true;
    pthread_cond_broadcast(&cp->cv);
    int rc = pthread_cond_timedwait(&cp->cv, &cp->mu, &ts);
    t->starved = false;
    if (rc == ETIMEDOUT && t->part_pos == t->part_len && !t->fed_last && !t->cancelled &&
        zcp__now_ms() >= t->last_ms + idle_ms) {
      t->cancelled = true;
      t->cancel_st = ZCP_TIMEOUT;
      snprintf(t->why, sizeof t->why, "node %d sent no part for %d ms", (int)t->client,
               idle_ms);
    }
  }
  pthread_mutex_unlock(&cp->mu);
  return ZCP_OK;
}

/* Frees t once it is unlinked, its decoder has ended and no handler looks at it. Under
 * cp->mu. */
static void transfer_put_locked(struct transfer *t) {
  if (t->done && t->handlers == 0) free(t);
}

static void unlink_locked(struct zcp__copy *cp, struct transfer *t) {
  for (struct transfer **p = &cp->transfers; *p != NULL; p = &(*p)->next) {
    if (*p == t) {
      *p = t->next;
      return;
    }
  }
}

static void *decode_thread(void *arg) {
  struct transfer *t = arg;
  struct zcp__copy *cp = t->cp;
  struct zcp_ipc_source src = {source_read, t};
  struct zcp_ipc_read_options o;
  zcp_ipc_read_options_init(&o);
  o.alloc = cp->pool;
  o.validation = ZCP_VALIDATE_FULL;
  struct zcp_ipc_reader *r = NULL;
  struct zcp_table *table = NULL;
  struct zcp_error e = {0};
  zcp_status_t st = zcp_ipc_stream_reader_open(&src, &o, &r, &e);
  if (st == ZCP_OK) st = zcp_ipc_reader_read_table(r, &table, &e);
  if (st == ZCP_OK) {
    /* The end-of-stream marker must end the input too. */
    uint8_t extra[64];
    int64_t got = 0;
    st = source_read(t, extra, sizeof extra, &got, &e);
    if (st == ZCP_OK && got > 0)
      st = zcp_error_set(&e, ZCP_CORRUPT_INPUT, "bytes after the end-of-stream marker");
  }
  pthread_mutex_lock(&cp->mu);
  bool cancelled = t->cancelled;
  pthread_mutex_unlock(&cp->mu);
  if (st == ZCP_NO_SPACE && !cancelled) zcp_error_prefix(&e, st, "region full: ");
  struct received *rec = NULL;
  if (st == ZCP_OK) {
    rec = calloc(1, sizeof *rec);
    if (rec == NULL) st = zcp_error_set(&e, ZCP_OUT_OF_MEMORY, "no memory for a name");
  }
  if (st != ZCP_OK && table != NULL) zcp_table_release(table); /* frees its buffers */
  pthread_mutex_lock(&cp->mu);
  unlink_locked(cp, t);
  if (st == ZCP_OK && rec != NULL) {
    /* The name was reserved by this transfer since its first part. */
    snprintf(rec->name, sizeof rec->name, "%s", t->name);
    rec->table = table;
    rec->next = cp->tables;
    cp->tables = rec;
    t->rows = zcp_table_num_rows(table);
    t->batches = zcp_table_num_batches(table);
  }
  t->st = st;
  t->err = e;
  t->done = true;
  transfer_put_locked(t);
  cp->threads--;
  pthread_cond_broadcast(&cp->cv);
  pthread_mutex_unlock(&cp->mu);
  return NULL;
}

static struct transfer *find_locked(struct zcp__copy *cp, int32_t client, uint64_t epoch,
                                    uint64_t id) {
  for (struct transfer *t = cp->transfers; t != NULL; t = t->next)
    if (t->client == client && t->client_epoch == epoch && t->id == id) return t;
  return NULL;
}

static bool name_taken_locked(struct zcp__copy *cp, const char *name) {
  for (struct received *r = cp->tables; r != NULL; r = r->next)
    if (strcmp(r->name, name) == 0) return true;
  for (struct transfer *t = cp->transfers; t != NULL; t = t->next)
    if (strcmp(t->name, name) == 0) return true;
  return false;
}

static void cancel_locked(struct zcp__copy *cp, struct transfer *t, zcp_status_t st,
                          const char *why) {
  if (t->cancelled || t->done) return;
  t->cancelled = true;
  t->cancel_st = st;
  snprintf(t->why, sizeof t->why, "%s", why);
  pthread_cond_broadcast(&cp->cv);
}

/* Part 0: checks the name and the limits and starts the decoder. Under cp->mu. */
static zcp_status_t start_locked(struct zcp__copy *cp, const struct zcp__rpc_peer *who,
                                 const Zcpool__SendTableFull *m, struct transfer **out,
                                 struct zcp_error *err) {
  size_t len = m->name != NULL ? strlen(m->name) : 0;
  if (len == 0 || len > ZCP_COPY_NAME_MAX)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "transfer %" PRIu64 ": a name of 1..%d bytes is needed, not %zu",
                         m->transfer_id, ZCP_COPY_NAME_MAX, len);
  if (cp->closing) return zcp_error_set(err, ZCP_PEER_DOWN, "the node is closing");
  if (name_taken_locked(cp, m->name))
    return zcp_error_set(err, ZCP_BUSY, "a table named '%s' is here or on its way",
                         m->name);
  int open = 0;
  for (struct transfer *t = cp->transfers; t != NULL; t = t->next)
    open += t->client == who->node;
  if (open >= ZCP_COPY_MAX_TRANSFERS)
    return zcp_error_set(err, ZCP_BUSY, "node %d has %d transfers open, the limit",
                         (int)who->node, open);
  struct transfer *t = calloc(1, sizeof *t);
  if (t == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for a transfer");
  t->cp = cp;
  t->client = who->node;
  t->client_epoch = who->epoch;
  t->id = m->transfer_id;
  memcpy(t->name, m->name, len + 1);
  t->last_ms = zcp__now_ms();
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t th;
  int rc = pthread_create(&th, &attr, decode_thread, t);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    free(t);
    return zcp_error_set(err, ZCP_IO_ERROR, "cannot start a decoder thread: %s",
                         strerror(rc));
  }
  cp->threads++;
  t->next = cp->transfers;
  cp->transfers = t;
  *out = t;
  return ZCP_OK;
}

/* Hands the part in m to the decoder and waits until it has decoded what it can and
 * waits for more (or, for the last part, until the table is rebuilt); under cp->mu. */
static zcp_status_t feed_locked(struct zcp__copy *cp, struct transfer *t,
                                const Zcpool__SendTableFull *m, int64_t wait_ms,
                                Zcpool__SendTableFullReply *reply,
                                struct zcp_error *err) {
  t->part = m->data.data;
  t->part_len = (int64_t)m->data.len;
  t->part_pos = 0;
  t->fed_last = m->last;
  t->feeding = true;
  t->last_ms = zcp__now_ms();
  t->next_seq++;
  t->handlers++;
  pthread_cond_broadcast(&cp->cv);
  struct timespec ts;
  zcp__deadline(&ts, wait_ms);
  bool timed_out = false;
  /* Until the decoder has decoded all it can with this part and waits for the next, so
   * that an error in its bytes is this part's answer. */
  while (!t->done && (m->last || t->part_pos < t->part_len || !t->starved) && !timed_out)
    timed_out = pthread_cond_timedwait(&cp->cv, &cp->mu, &ts) == ETIMEDOUT;
  zcp_status_t st = ZCP_OK;
  if (t->done && t->st != ZCP_OK) {
    st = zcp_error_set(err, t->st, "%s", t->err.message);
  } else if (!t->done && (m->last || t->part_pos < t->part_len || !t->starved)) {
    cancel_locked(cp, t, ZCP_TIMEOUT, "the decoder took too long");
    st = zcp_error_set(err, ZCP_TIMEOUT, "the decoder took more than %lld ms",
                       (long long)wait_ms);
  }
  reply->bytes = t->bytes;
  reply->rows = t->rows;
  reply->batches = t->batches;
  /* The part goes with the request: the decoder must not look at it any more. */
  t->part = NULL;
  t->part_len = t->part_pos = 0;
  t->feeding = false;
  t->handlers--;
  transfer_put_locked(t);
  return st;
}

static void serve_part(struct zcp_node *node, const struct zcp__rpc_peer *who,
                       const Zcpool__Request *req, Zcpool__Response *resp) {
  struct zcp__copy *cp = zcp__share_node_of(node)->copy;
  const Zcpool__SendTableFull *m = req->send_table_full;
  struct zcp_error err = {0};
  zcp_status_t st = ZCP_OK;
  Zcpool__SendTableFullReply *reply = malloc(sizeof *reply);
  if (reply == NULL) {
    zcp__reply_error(resp, ZCP_OUT_OF_MEMORY, "no memory for a reply");
    return;
  }
  zcpool__send_table_full_reply__init(reply);
  int64_t limit = node->cfg.max_frame - ZCP_COPY_PART_OVERHEAD;
  int64_t wait_ms = req->header->timeout_ms != 0
                        ? (int64_t)req->header->timeout_ms * 9 / 10
                        : (int64_t)node->cfg.call_timeout_ms;
  pthread_mutex_lock(&cp->mu);
  struct transfer *t = find_locked(cp, who->node, who->epoch, m->transfer_id);
  if (m->abort) {
    if (t != NULL) {
      /* Answered when the partial table is freed, so that the sender can count on it. */
      cancel_locked(cp, t, ZCP_PEER_DOWN, "the sender gave up");
      t->handlers++;
      struct timespec ts;
      zcp__deadline(&ts, wait_ms);
      while (!t->done)
        if (pthread_cond_timedwait(&cp->cv, &cp->mu, &ts) == ETIMEDOUT) break;
      t->handlers--;
      transfer_put_locked(t);
    }
  } else if ((int64_t)m->data.len > limit) {
    st = zcp_error_set(&err, ZCP_INVALID_ARGUMENT,
                       "part %" PRIu64 " of transfer %" PRIu64
                       " holds %zu bytes, more than the %lld a part may",
                       m->seq, m->transfer_id, m->data.len, (long long)limit);
  } else if (t == NULL && m->seq != 0) {
    st = zcp_error_set(&err, ZCP_NOT_FOUND,
                       "part %" PRIu64 " of transfer %" PRIu64
                       ", which is not open (never started, or dropped)",
                       m->seq, m->transfer_id);
  } else if (t != NULL && (m->seq != t->next_seq || t->feeding)) {
    st = zcp_error_set(
        &err, ZCP_INVALID_ARGUMENT,
        "part %" PRIu64 " of transfer %" PRIu64 " out of order (%s %" PRIu64 ")", m->seq,
        m->transfer_id, m->seq < t->next_seq ? "duplicate; next is" : "expected",
        t->next_seq);
  } else {
    if (t == NULL) st = start_locked(cp, who, m, &t, &err);
    if (st == ZCP_OK) st = feed_locked(cp, t, m, wait_ms, reply, &err);
  }
  pthread_mutex_unlock(&cp->mu);
  if (st != ZCP_OK) {
    free(reply);
    char msg[ZCP_ERROR_MESSAGE_MAX + 96];
    snprintf(msg, sizeof msg, "node %d: SendTableFull from node %d: %s", (int)node->id,
             (int)who->node, err.message);
    zcp__reply_error(resp, st, msg);
    return;
  }
  resp->result_case = ZCPOOL__RESPONSE__RESULT_SEND_TABLE_FULL;
  resp->send_table_full = reply;
}

void zcp__copy_client_gone(struct zcp_node *node, int32_t client, uint64_t epoch) {
  struct zcp__copy *cp = zcp__share_node_of(node)->copy;
  if (cp == NULL) return;
  char why[96];
  snprintf(why, sizeof why, "node %d %s", (int)client,
           epoch == 0 ? "went down" : "restarted");
  pthread_mutex_lock(&cp->mu);
  for (struct transfer *t = cp->transfers; t != NULL; t = t->next)
    if (t->client == client && (epoch == 0 || t->client_epoch < epoch))
      cancel_locked(cp, t, ZCP_PEER_DOWN, why);
  pthread_mutex_unlock(&cp->mu);
}

zcp_status_t zcp__copy_init(struct zcp_node *node, struct zcp_error *err) {
  struct zcp__copy *cp = calloc(1, sizeof *cp);
  if (cp == NULL) return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for copies");
  cp->node = node;
  cp->pool = zcp_pool_allocator(zcp__memory_of(node)->pool);
  pthread_mutex_init(&cp->mu, NULL);
  zcp__cond_init_monotonic(&cp->cv);
  zcp__share_node_of(node)->copy = cp;
  zcp__member_handle(node, ZCPOOL__REQUEST__CALL_SEND_TABLE_FULL, serve_part);
  return ZCP_OK;
}

void zcp__copy_release(struct zcp_node *node) {
  struct zcp__copy *cp = zcp__share_node_of(node)->copy;
  if (cp == NULL) return;
  zcp__share_node_of(node)->copy = NULL;
  pthread_mutex_lock(&cp->mu);
  cp->closing = true;
  for (struct transfer *t = cp->transfers; t != NULL; t = t->next)
    cancel_locked(cp, t, ZCP_PEER_DOWN, "the node is closing");
  /* Decoders end at their next read; bounded so that close cannot hang. */
  struct timespec ts;
  zcp__deadline(&ts, 10000);
  while (cp->threads > 0)
    if (pthread_cond_timedwait(&cp->cv, &cp->mu, &ts) == ETIMEDOUT) break;
  bool leaked = cp->threads > 0;
  struct received *r = cp->tables;
  cp->tables = NULL;
  pthread_mutex_unlock(&cp->mu);
  while (r != NULL) {
    struct received *next = r->next;
    zcp_table_release(r->table);
    free(r);
    r = next;
  }
  if (leaked) return; /* a decoder still references cp: leave it */
  pthread_mutex_destroy(&cp->mu);
  pthread_cond_destroy(&cp->cv);
  free(cp);
}

zcp_status_t zcp_node_received_table(struct zcp_node *node, const char *name,
                                     struct zcp_table **out, struct zcp_error *err) {
  *out = NULL;
  if (name == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "node %d: no name", (int)node->id);
  struct zcp__copy *cp = zcp__share_node_of(node)->copy;
  pthread_mutex_lock(&cp->mu);
  for (struct received *r = cp->tables; r != NULL; r = r->next) {
    if (strcmp(r->name, name) == 0) {
      zcp_table_retain(r->table);
      *out = r->table;
      break;
    }
  }
  pthread_mutex_unlock(&cp->mu);
  if (*out == NULL)
    return zcp_error_set(err, ZCP_NOT_FOUND, "node %d: no table '%s' was received",
                         (int)node->id, name);
  return ZCP_OK;
}

zcp_status_t zcp_node_received_drop(struct zcp_node *node, const char *name,
                                    struct zcp_error *err) {
  if (name == NULL)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "node %d: no name", (int)node->id);
  struct zcp__copy *cp = zcp__share_node_of(node)->copy;
  struct received *found = NULL;
  pthread_mutex_lock(&cp->mu);
  for (struct received **p = &cp->tables; *p != NULL; p = &(*p)->next) {
    if (strcmp((*p)->name, name) == 0) {
      found = *p;
      *p = found->next;
      break;
    }
  }
  pthread_mutex_unlock(&cp->mu);
  if (found == NULL)
    return zcp_error_set(err, ZCP_NOT_FOUND, "node %d: no table '%s' was received",
                         (int)node->id, name);
  zcp_table_release(found->table);
  free(found);
  return ZCP_OK;
}

/* ---- sending -------------------------------------------------------------------------
 */

zcp_status_t zcp__copy_send_part(struct zcp_node *node, int32_t peer,
                                 uint64_t transfer_id, uint64_t seq, const char *name,
                                 const uint8_t *data, int64_t len, bool last, bool abort,
                                 struct zcp_error *err) {
  if (peer < 0 || peer >= node->cfg.n_nodes || peer == node->id)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "node %d: %d is not a peer",
                         (int)node->id, (int)peer);
  if (zcp__rpc_client_state(node->peers[peer].client) != ZCP_PEER_STATE_UP) {
    pthread_mutex_lock(&node->mu);
    zcp_status_t st = zcp_error_set(err, ZCP_PEER_DOWN, "node %d: node %d is down (%s)",
                                    (int)node->id, (int)peer, node->peers[peer].why);
    pthread_mutex_unlock(&node->mu);
    return st;
  }
  Zcpool__SendTableFull m = ZCPOOL__SEND_TABLE_FULL__INIT;
  m.transfer_id = transfer_id;
  m.seq = seq;
  m.name = (char *)(name != NULL ? name : "");
  m.data.data = (uint8_t *)data;
  m.data.len = (size_t)len;
  m.last = last;
  m.abort = abort;
  Zcpool__Request req = ZCPOOL__REQUEST__INIT;
  req.call_case = ZCPOOL__REQUEST__CALL_SEND_TABLE_FULL;
  req.send_table_full = &m;
  Zcpool__Response *resp = NULL;
  zcp_status_t st = zcp__rpc_call(node->peers[peer].client, &req,
                                  node->cfg.call_timeout_ms, &resp, err);
  if (st == ZCP_OK && !abort &&
      resp->result_case != ZCPOOL__RESPONSE__RESULT_SEND_TABLE_FULL)
    st = zcp_error_set(err, ZCP_CORRUPT_INPUT, "node %d answered a part with no result",
                       (int)peer);
  if (resp != NULL) zcpool__response__free_unpacked(resp, NULL);
  return st;
}

/* The writer's sink: fills a part, sends it when full. */
struct sender {
  struct zcp_node *node;
  int32_t peer;
  const char *name;
  uint64_t id, seq;
  uint8_t *buf;
  int64_t len, cap;
};

static zcp_status_t send_buffered(struct sender *s, bool last, struct zcp_error *err) {
  zcp_status_t st =
      zcp__copy_send_part(s->node, s->peer, s->id, s->seq, s->seq == 0 ? s->name : NULL,
                          s->buf, s->len, last, false, err);
  s->seq++;
  s->len = 0;
  return st;
}

static zcp_status_t sink_write(void *ctx, const void *data, int64_t size,
                               struct zcp_error *err) {
  struct sender *s = ctx;
  const uint8_t *p = data;
  while (size > 0) {
    int64_t n = s->cap - s->len < size ? s->cap - s->len : size;
    memcpy(s->buf + s->len, p, (size_t)n);
    s->len += n;
    p += n;
    size -= n;
    if (s->len == s->cap) ZCP_RETURN_NOT_OK(send_buffered(s, false, err));
  }
  return ZCP_OK;
}

zcp_status_t zcp_node_send_table_full(struct zcp_node *node, int32_t peer,
                                      const char *name, struct zcp_table *table,
                                      struct zcp_error *err) {
  size_t nlen = name != NULL ? strlen(name) : 0;
  if (table == NULL || nlen == 0 || nlen > ZCP_COPY_NAME_MAX)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "node %d: SendTableFull needs a table and a name of 1..%d bytes",
                         (int)node->id, ZCP_COPY_NAME_MAX);
  if (peer < 0 || peer >= node->cfg.n_nodes || peer == node->id)
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                         "node %d: SendTableFull of '%s': %d is not a peer",
                         (int)node->id, name, (int)peer);
  /* Every node of a cluster has the same max_frame (the config is shared). */
  struct sender s = {
      node, peer, name, atomic_fetch_add(&zcp__share_node_of(node)->copy->ids, 1) + 1,
      0,    NULL, 0,    node->cfg.max_frame - ZCP_COPY_PART_OVERHEAD};
  s.buf = malloc((size_t)s.cap);
  if (s.buf == NULL)
    return zcp_error_set(err, ZCP_OUT_OF_MEMORY,
                         "node %d: no memory for a %lld-byte part", (int)node->id,
                         (long long)s.cap);
  struct zcp_ipc_sink sink = {sink_write, &s};
  struct zcp_ipc_writer *w = NULL;
  zcp_status_t st =
      zcp_ipc_writer_open(ZCP_IPC_STREAM, zcp_table_schema(table), &sink, NULL, &w, err);
  if (st == ZCP_OK) st = zcp_ipc_writer_write_table(w, table, err);
  if (w != NULL) {
    zcp_status_t cst = zcp_ipc_writer_close(w, st == ZCP_OK ? err : NULL);
    if (st == ZCP_OK) st = cst;
  }
  if (st == ZCP_OK) st = send_buffered(&s, true, err);
  if (st != ZCP_OK && s.seq > 0) {
    /* Best effort: the receiver drops the transfer by itself anyway (error, timeout). */
    zcp_status_t ab =
        zcp__copy_send_part(node, peer, s.id, s.seq, NULL, NULL, 0, false, true, NULL);
    (void)ab;
  }
  free(s.buf);
  if (st != ZCP_OK)
    zcp_error_prefix(err, st,
                     "node %d: SendTableFull of '%s' to node %d: ", (int)node->id, name,
                     (int)peer);
  return st;
}
