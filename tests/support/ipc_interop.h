/* Files for and from other Arrow libraries: our writer's output next to the values it
 * holds (as JSON for a script to compare), and our reader's view of their files as the
 * same JSON. See zcp_json_value in arrow_json.h for the form of the values. */
#ifndef ZCP_IPC_INTEROP_H
#define ZCP_IPC_INTEROP_H

#include <jansson.h>

#include "zcpool/ipc.h"

/* Writes the columns named in `columns` (NULL-terminated; NULL for all) of the batches
 * to dir/file in `format`, and records in expected (an object) under "files"/file:
 * {"format": "stream"|"file", "rows": n, "columns": {name: [values...]},
 * "formats": {name: format string}}, the values taken from the batches themselves. */
zcp_status_t zcp_interop_write(const char *dir, const char *file, enum zcp_ipc_format format,
                               enum zcp_ipc_compression compression,
                               const struct ArrowSchema *schema,
                               const struct ArrowArray *const *batches, int n_batches,
                               const char *const *columns, json_t *expected,
                               struct zcp_error *err);
/* Same with every write option (NULL: the defaults); when the options give dictionary
 * ids, the file's record also lists {"dictionary_ids": {column: id}} for the
 * dictionary-encoded top-level columns (which must then have no nested ones). */
zcp_status_t zcp_interop_write_opts(const char *dir, const char *file,
                                    enum zcp_ipc_format format,
                                    const struct zcp_ipc_write_options *opts,
                                    const struct ArrowSchema *schema,
                                    const struct ArrowArray *const *batches, int n_batches,
                                    const char *const *columns, json_t *expected,
                                    struct zcp_error *err);
/* Writes expected to dir/expected.json. */
zcp_status_t zcp_interop_save(const char *dir, json_t *expected, struct zcp_error *err);

/* Reads path (a stream, or a file when is_file) with our reader; *columns receives
 * {name: [values...]} of all batches, *rows and *batches the counts. */
zcp_status_t zcp_interop_read(const char *path, bool is_file, json_t **columns,
                              int64_t *rows, int64_t *batches, struct zcp_error *err);

#endif
