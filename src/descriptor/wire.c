/* The bytes of a descriptor: safe unpacking of untrusted input (a nesting check before
 * protobuf-c sees it, then magic and version) and zcp_descriptor_refs, which reads the
 * buffer references without building anything. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descriptor/internal.h"
#include "zcpool/arrow.h"

/* ---- nesting check ------------------------------------------------------------------
 * protobuf-c unpacks nested messages recursively and without a depth limit. Every level
 * of a descriptor (a Field or Node inside another) costs a few bytes of input, so a
 * small hostile message could nest deep enough to exhaust the stack. This walk reads
 * the wire format with an explicit stack and refuses nesting beyond what a valid
 * descriptor can have, before protobuf-c runs. It knows which fields hold messages. */

enum msg_kind { K_DESCRIPTOR, K_FIELD, K_NODE, K_LEAF };

/* The message kind of field `number` of a message of kind k (K_LEAF: not a message). */
static enum msg_kind sub_kind(enum msg_kind k, uint64_t number) {
  switch (k) {
    case K_DESCRIPTOR:
      return number == 3 ? K_FIELD : number == 4 ? K_NODE : K_LEAF;
    case K_FIELD:
      return (number == 6 || number == 7) ? K_FIELD : K_LEAF;
    case K_NODE:
      return (number == 6 || number == 7) ? K_NODE : K_LEAF;
    default:
      return K_LEAF;
  }
}

static bool read_varint(const uint8_t *p, size_t end, size_t *pos, uint64_t *out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64 && *pos < end; shift += 7) {
    uint8_t b = p[(*pos)++];
    v |= (uint64_t)(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *out = v;
      return true;
    }
  }
  return false;
}

/* Levels: the descriptor, then up to ZCP_MAX_DEPTH + 1 nested fields or nodes (a
 * dictionary counts as a level too). Deeper input is refused; malformed input is left
 * to protobuf-c, which reports it. */
#define MAX_LEVELS (ZCP_MAX_DEPTH + 3)

static zcp_status_t check_nesting(const uint8_t *buf, size_t size,
                                  struct zcp_error *err) {
  struct {
    enum msg_kind kind;
    size_t end;
  } stack[MAX_LEVELS];
  int top = 0;
  stack[0].kind = K_DESCRIPTOR;
  stack[0].end = size;
  size_t pos = 0;
  for (;;) {
    while (top > 0 && pos >= stack[top].end) top--;
    if (pos >= stack[top].end) return ZCP_OK;
    uint64_t key, len, ignored;
    if (!read_varint(buf, stack[top].end, &pos, &key)) return ZCP_OK;
    switch (key & 7) {
      case 0:
        if (!read_varint(buf, stack[top].end, &pos, &ignored)) return ZCP_OK;
        break;
      case 1:
        pos += 8;
        break;
      case 5:
        pos += 4;
        break;
      case 2: {
        if (!read_varint(buf, stack[top].end, &pos, &len)) return ZCP_OK;
        if (len > stack[top].end - pos) return ZCP_OK;
        enum msg_kind k = sub_kind(stack[top].kind, key >> 3);
        if (k == K_LEAF) {
          pos += (size_t)len;
          break;
        }
        if (top + 1 >= MAX_LEVELS) {
          return zcp_error_set(err, ZCP_CORRUPT_INPUT,
                               "descriptor: nesting deeper than %d levels",
                               ZCP_MAX_DEPTH);
        }
        top++;
        stack[top].kind = k;
        stack[top].end = pos + (size_t)len;
        break;
      }
      default:
        return ZCP_OK; /* groups or garbage: protobuf-c refuses them */
    }
  }
}

zcp_status_t zcp__descriptor_unpack(const uint8_t *buf, int64_t size,
                                    zcp__pb_descriptor **out, struct zcp_error *err) {
  *out = NULL;
  if (buf == NULL && size != 0) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "descriptor: buffer is NULL");
  }
  if (size <= 0) {
    return zcp_error_set(err, ZCP_CORRUPT_INPUT, "descriptor: %lld bytes is empty",
                         (long long)size);
  }
  if (size > ZCP_DESCRIPTOR_MAX_SIZE) {
    return zcp_error_set(
        err, ZCP_CORRUPT_INPUT,
        "descriptor: %lld bytes is more than the %d a descriptor may have",
        (long long)size, ZCP_DESCRIPTOR_MAX_SIZE);
  }
  ZCP_RETURN_NOT_OK(check_nesting(buf, (size_t)size, err));
  zcp__pb_descriptor *d = zcpool__descriptor__descriptor__unpack(NULL, (size_t)size, buf);
  if (d == NULL) {
    return zcp_error_set(
        err, ZCP_CORRUPT_INPUT,
        "descriptor: %lld bytes are not a well-formed descriptor message",
        (long long)size);
  }
  if (d->magic != ZCP_DESCRIPTOR_MAGIC) {
    uint32_t magic = d->magic;
    zcp__descriptor_unpacked_free(d);
    return zcp_error_set(err, ZCP_CORRUPT_INPUT,
                         "descriptor: magic 0x%08x is not a descriptor's (0x%08x)", magic,
                         ZCP_DESCRIPTOR_MAGIC);
  }
  if (d->version ==
      0) { /* absent: a truncated or hand-made message, not another version */
    zcp__descriptor_unpacked_free(d);
    return zcp_error_set(err, ZCP_CORRUPT_INPUT, "descriptor: the version is missing");
  }
  if (d->version != ZCP_DESCRIPTOR_VERSION) {
    uint32_t version = d->version;
    zcp__descriptor_unpacked_free(d);
    return zcp_error_set(err, ZCP_VERSION_MISMATCH,
                         "descriptor: version %u, this build reads version %d", version,
                         ZCP_DESCRIPTOR_VERSION);
  }
  if (d->schema == NULL || d->batch == NULL) {
    bool schema = d->schema == NULL;
    zcp__descriptor_unpacked_free(d);
    return zcp_error_set(err, ZCP_CORRUPT_INPUT, "descriptor: the %s is missing",
                         schema ? "schema" : "batch");
  }
  *out = d;
  return ZCP_OK;
}

void zcp__descriptor_unpacked_free(zcp__pb_descriptor *d) {
  if (d != NULL) zcpool__descriptor__descriptor__free_unpacked(d, NULL);
}

/* ---- refs ----------------------------------------------------------------------------
 */

struct ref_list {
  struct zcp_buffer_ref *refs;
  int64_t n, cap;
};

static zcp_status_t collect(const zcp__pb_node *node, int depth, struct ref_list *l,
                            struct zcp_error *err) {
  if (depth > ZCP_MAX_DEPTH + 1) {
    return zcp_error_set(err, ZCP_CORRUPT_INPUT, "descriptor: nesting deeper than %d",
                         ZCP_MAX_DEPTH);
  }
  for (size_t i = 0; i < node->n_buffers; i++) {
    const zcp__pb_buffer *b = node->buffers[i];
    if (!b->present) continue;
    if (l->n == l->cap) {
      int64_t cap = l->cap ? l->cap * 2 : 16;
      struct zcp_buffer_ref *r = realloc(l->refs, (size_t)cap * sizeof *r);
      if (r == NULL)
        return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "descriptor: out of memory");
      l->refs = r;
      l->cap = cap;
    }
    l->refs[l->n++] = (struct zcp_buffer_ref){
        .region = b->region, .epoch = b->epoch, .offset = b->offset, .length = b->length};
  }
  for (size_t i = 0; i < node->n_children; i++) {
    ZCP_RETURN_NOT_OK(collect(node->children[i], depth + 1, l, err));
  }
  if (node->dictionary != NULL) {
    ZCP_RETURN_NOT_OK(collect(node->dictionary, depth + 1, l, err));
  }
  return ZCP_OK;
}

zcp_status_t zcp_descriptor_refs(const uint8_t *buf, int64_t size,
                                 struct zcp_buffer_ref **refs, int64_t *n,
                                 struct zcp_error *err) {
  if (refs == NULL || n == NULL) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "descriptor refs: NULL output");
  }
  *refs = NULL;
  *n = 0;
  zcp__pb_descriptor *d;
  ZCP_RETURN_NOT_OK(zcp__descriptor_unpack(buf, size, &d, err));
  struct ref_list l = {0};
  zcp_status_t st = collect(d->batch, 0, &l, err);
  zcp__descriptor_unpacked_free(d);
  if (st != ZCP_OK) {
    free(l.refs);
    return st;
  }
  *refs = l.refs;
  *n = l.n;
  return ZCP_OK;
}
