/* The README's example, compiled by the build so that it stays true: a two-column record
 * batch built, validated, put in a table, printed and exported as an Arrow C stream. */
#include <stdio.h>

#include "zcpool/zcpool.h"

#define CHECK(expr)                                                      \
  do {                                                                   \
    if ((expr) != ZCP_OK) {                                              \
      fprintf(stderr, "quickstart: %s: %s\n", #expr, err.message);      \
      return 1;                                                          \
    }                                                                    \
  } while (0)

int main(void) {
  struct zcp_error err = {0};
  struct ArrowSchema schema; /* a record batch: struct<id: int64, name: utf8> */
  CHECK(zcp_schema_init("+s", "", 0, 2, &schema, &err));
  /* the two children start as placeholders; each gets its type in place */
  CHECK(zcp_schema_set_child(&schema, 0, "l", "id", 0, 0, &err));
  CHECK(zcp_schema_set_child(&schema, 1, "u", "name", ARROW_FLAG_NULLABLE, 0, &err));

  struct zcp_builder *b; /* NULL allocator: the heap; a pool later */
  CHECK(zcp_builder_init(&schema, NULL, &b, &err));
  for (int64_t i = 0; i < 3; i++) {
    CHECK(zcp_builder_append_int(zcp_builder_child(b, 0), i));
    CHECK(zcp_builder_append_string(zcp_builder_child(b, 1), i == 1 ? "one" : "other"));
    CHECK(zcp_builder_finish_element(b)); /* closes one row of the struct */
  }
  struct ArrowArray batch; /* a standard Arrow C Data Interface array */
  CHECK(zcp_builder_finish(b, &batch, NULL, &err));
  zcp_builder_release(b);
  CHECK(zcp_array_validate(&batch, &schema, ZCP_VALIDATE_FULL, &err));

  struct zcp_table *t;
  CHECK(zcp_table_init(&schema, &t, &err));
  CHECK(zcp_table_append(t, &batch, ZCP_VALIDATE_DEFAULT, &err)); /* batch moved into t */
  CHECK(zcp_batch_print(stdout, zcp_table_batch(t, 0), zcp_table_schema(t), -1, &err));

  struct ArrowArrayStream stream; /* any Arrow consumer reads this, no copy */
  CHECK(zcp_table_export_stream(t, &stream, &err));
  zcp_table_release(t); /* the stream keeps the table alive */
  struct ArrowArray next;
  int batches = 0;
  while (stream.get_next(&stream, &next) == 0 && next.release != NULL) {
    batches++;
    next.release(&next);
  }
  stream.release(&stream);
  zcp_schema_release(&schema);
  printf("the stream gave %d batch(es)\n", batches);
  return zcp_allocator_default_live_bytes() == 0 ? 0 : 1;
}
