/* Bad descriptors made from good ones: encode a fixture batch, unpack the protobuf,
 * mutate it, pack it again and expect decode to refuse it with a given status and a
 * message containing a given text, leaving its outputs released. Mutators that shrink a
 * repeated field record the old count with shrink() so that the message is freed whole;
 * mutators that replace bytes use set_bytes() (protobuf-c frees what it points to). */
#ifndef ZCP_BAD_HARNESS_H
#define ZCP_BAD_HARNESS_H

#include "desc_test.h"
#include "descriptor.pb-c.h"

typedef Zcpool__Descriptor__Descriptor pb_desc;
typedef Zcpool__Descriptor__Field pb_field;
typedef Zcpool__Descriptor__Node pb_node;
typedef Zcpool__Descriptor__Buffer pb_buffer;

static struct {
  size_t *field;
  size_t value;
} g_restore[8];
static int g_n_restore;

static inline void shrink(size_t *count, size_t to) {
  g_restore[g_n_restore].field = count;
  g_restore[g_n_restore].value = *count;
  g_n_restore++;
  *count = to;
}

static inline void set_bytes(ProtobufCBinaryData *b, const void *data, size_t len) {
  free(b->data);
  b->data = malloc(len ? len : 1);
  memcpy(b->data, data, len);
  b->len = len;
}

static inline pb_node *col(pb_desc *d, int i) {
  return d->batch->children[i];
}
static inline pb_field *colf(pb_desc *d, int i) {
  return d->schema->children[i];
}

/* Packs d into a malloc'd buffer, then restores shrunk counts and frees d. */
static inline uint8_t *pack_and_free(pb_desc *d, int64_t *size) {
  size_t n = zcpool__descriptor__descriptor__get_packed_size(d);
  uint8_t *buf = malloc(n ? n : 1);
  zcpool__descriptor__descriptor__pack(d, buf);
  *size = (int64_t)n;
  for (int i = g_n_restore - 1; i >= 0; i--) *g_restore[i].field = g_restore[i].value;
  g_n_restore = 0;
  zcpool__descriptor__descriptor__free_unpacked(d, NULL);
  return buf;
}

/* Decodes and expects `want` with `text` in the message; outputs must be released. */
static inline void expect_refused(struct world *w, const uint8_t *buf, int64_t size,
                                  enum zcp_validate_level level, zcp_status_t want,
                                  const char *text, const char *what) {
  struct zcp_error err = {0};
  struct ArrowSchema s;
  struct ArrowArray a;
  zcp_status_t st = zcp_descriptor_decode(buf, size, w->mem, level, &s, &a, &err);
  cr_expect_eq(st, want, "%s: got %s (%s), want %s", what, zcp_status_str(st),
               err.message, zcp_status_str(want));
  cr_expect_null(s.release, "%s: schema left live", what);
  cr_expect_null(a.release, "%s: array left live", what);
  cr_expect_gt(strlen(err.message), 0, "%s: no message", what);
  if (text != NULL) {
    cr_expect_not_null(strstr(err.message, text), "%s: message '%s' lacks '%s'", what,
                       err.message, text);
  }
  if (st == ZCP_OK) {
    zcp_array_release(&a);
    zcp_schema_release(&s);
  }
}

typedef void (*mutator)(pb_desc *d, struct world *w);

struct bad_case {
  const char *name;
  mutator fn;
  zcp_status_t want;
  const char *text;
  enum zcp_validate_level level;
};

/* Runs each case on a fresh unpack of w's descriptor. */
static inline void run_cases(struct world *w, const struct bad_case *cases, size_t n) {
  for (size_t i = 0; i < n; i++) {
    pb_desc *d =
        zcpool__descriptor__descriptor__unpack(NULL, (size_t)w->desc_size, w->desc);
    cr_assert_not_null(d);
    cases[i].fn(d, w);
    int64_t size;
    uint8_t *buf = pack_and_free(d, &size);
    expect_refused(w, buf, size, cases[i].level, cases[i].want, cases[i].text,
                   cases[i].name);
    free(buf);
  }
}

/* Marks b absent, with no location, as an encoder writes an absent buffer. */
static inline void make_absent(pb_buffer *b) {
  b->present = false;
  b->region = 0;
  b->epoch = 0;
  b->offset = 0;
  b->length = 0;
}
/* Appends an empty (absent) buffer to n. */
static inline void add_buffer(pb_node *n) {
  n->buffers = realloc(n->buffers, (n->n_buffers + 1) * sizeof *n->buffers);
  pb_buffer *b = malloc(sizeof *b);
  zcpool__descriptor__buffer__init(b);
  n->buffers[n->n_buffers++] = b;
}
/* The first present buffer of a node. */
static inline pb_buffer *first_present(pb_node *n) {
  for (size_t i = 0; i < n->n_buffers; i++) {
    if (n->buffers[i]->present) return n->buffers[i];
  }
  cr_assert_fail("no present buffer");
  return NULL;
}

#endif
