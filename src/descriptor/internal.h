/* Private contract between the files of src/descriptor: the generated protobuf-c types,
 * the column paths that name a node in messages, and the safe unpacking of untrusted
 * bytes shared by decode and refs. Not API. */
#ifndef ZCP_DESCRIPTOR_INTERNAL_H
#define ZCP_DESCRIPTOR_INTERNAL_H

#include <stddef.h>

#include "descriptor.pb-c.h"
#include "zcpool/descriptor.h"

typedef Zcpool__Descriptor__Descriptor zcp__pb_descriptor;
typedef Zcpool__Descriptor__Field zcp__pb_field;
typedef Zcpool__Descriptor__Node zcp__pb_node;
typedef Zcpool__Descriptor__Buffer zcp__pb_buffer;
typedef Zcpool__Descriptor__KeyValue zcp__pb_kv;

/* The column a node is ("3", "3.0", "3.[dictionary]"; "<batch>" for the root), by
 * position: names in a descriptor are untrusted and may be anything. */
struct zcp__dpath {
  char buf[192];
  size_t len;
};
void zcp__dpath_init(struct zcp__dpath *p);
size_t zcp__dpath_push(struct zcp__dpath *p, int64_t index);
size_t zcp__dpath_push_dictionary(struct zcp__dpath *p);
void zcp__dpath_pop(struct zcp__dpath *p, size_t saved);
const char *zcp__dpath_str(const struct zcp__dpath *p);

/* Checks the nesting of the raw bytes without recursion (so that a hostile message
 * cannot exhaust the stack inside protobuf-c), then unpacks them and checks magic and
 * version. *out is freed with zcp__descriptor_unpacked_free. */
zcp_status_t zcp__descriptor_unpack(const uint8_t *buf, int64_t size,
                                    zcp__pb_descriptor **out, struct zcp_error *err);
void zcp__descriptor_unpacked_free(zcp__pb_descriptor *d);

#endif /* ZCP_DESCRIPTOR_INTERNAL_H */
