/* Private contract between the files of src/descriptor: the generated protobuf-c types
 * and the safe unpacking of untrusted bytes shared by decode and refs. Not API. */
#ifndef ZCP_DESCRIPTOR_INTERNAL_H
#define ZCP_DESCRIPTOR_INTERNAL_H

#include <stddef.h>

#include "arrow/view_internal.h"
#include "descriptor.pb-c.h"
#include "zcpool/descriptor.h"

typedef Zcpool__Descriptor__Descriptor zcp__pb_descriptor;
typedef Zcpool__Descriptor__Field zcp__pb_field;
typedef Zcpool__Descriptor__Node zcp__pb_node;
typedef Zcpool__Descriptor__Buffer zcp__pb_buffer;
typedef Zcpool__Descriptor__KeyValue zcp__pb_kv;

/* Column paths in messages are struct zcp__path (arrow/view_internal.h) built by
 * position only (zcp__path_push with a NULL name): names in a descriptor are untrusted
 * and may be anything. */

/* Checks the nesting of the raw bytes without recursion (so that a hostile message
 * cannot exhaust the stack inside protobuf-c), then unpacks them and checks magic and
 * version. *out is freed with zcp__descriptor_unpacked_free. */
zcp_status_t zcp__descriptor_unpack(const uint8_t *buf, int64_t size,
                                    zcp__pb_descriptor **out, struct zcp_error *err);
void zcp__descriptor_unpacked_free(zcp__pb_descriptor *d);

#endif /* ZCP_DESCRIPTOR_INTERNAL_H */
