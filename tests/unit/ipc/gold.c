/* Arrow's own IPC gold files (written by Arrow C++) read by our reader, stream and file,
 * copied and zero-copy, every value compared with the integration JSON next to them; then
 * every table written back by our writer (stream, file, LZ4 and ZSTD bodies), read again
 * and compared again. Every case in the folder is covered: a case our reader cannot read
 * fails its test. Each test prints a line per case so that the log says which pass. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow_json.h"
#include "ipc_messages.h"
#include "zcpool/ipc.h"

static char **names;
static int n_names;
static int64_t live_before;

static void setup(void) {
  if (zcp_json_gold_dir() == NULL) cr_skip_test("Arrow gold files absent (set ZCP_ARROW_TESTING)");
  n_names = zcp_json_gold_cases(&names);
  cr_assert_gt(n_names, 0, "no .json.gz in %s", zcp_json_gold_dir());
  live_before = zcp_allocator_default_live_bytes();
}

static void teardown(void) {
  zcp_json_gold_cases_free(names, n_names);
  names = NULL;
  n_names = 0;
}

TestSuite(gold, .init = setup, .fini = teardown, .timeout = 240);

static uint8_t *slurp(const char *name, const char *ext, int64_t *size) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s%s", zcp_json_gold_dir(), name, ext);
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *data = malloc((size_t)n + 1);
  cr_assert_eq(fread(data, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *size = n;
  return data;
}

static struct zcp_json_file *load_json(const char *name) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s.json.gz", zcp_json_gold_dir(), name);
  struct zcp_json_file *f = NULL;
  struct zcp_error err = {0};
  cr_assert_eq(zcp_json_file_load(path, &f, &err), ZCP_OK, "%s", err.message);
  return f;
}

/* Arrow C++ 1.0.0 wrote map fields into its .stream files with the canonical child names
 * (entries, key, value) while its .arrow_file and JSON keep the producer's (the bytes of
 * generated_map_non_canonical.stream hold no "some_entries"). Cases read from a stream are
 * held to the names that stream really has. */
static void canonical_map_names(json_t *fields) {
  size_t k;
  json_t *field;
  json_array_foreach(fields, k, field) {
    json_t *children = json_object_get(field, "children");
    const char *type = json_string_value(json_object_get(json_object_get(field, "type"), "name"));
    if (type != NULL && strcmp(type, "map") == 0) {
      json_t *entries = json_array_get(children, 0);
      json_object_set_new(entries, "name", json_string("entries"));
      json_t *kv = json_object_get(entries, "children");
      json_object_set_new(json_array_get(kv, 0), "name", json_string("key"));
      json_object_set_new(json_array_get(kv, 1), "name", json_string("value"));
    }
    canonical_map_names(children);
  }
}

/* Reads every batch from an open reader in order and compares it; closes the reader. */
static zcp_status_t check_reader(struct zcp_ipc_reader *r, struct zcp_json_file *f,
                                 struct zcp_error *err) {
  const struct ArrowSchema *schema = zcp_ipc_reader_schema(r);
  const char *md = schema->metadata ? schema->metadata : zcp_ipc_reader_metadata(r);
  zcp_status_t st = zcp_json_compare_schema(f, schema, md, err);
  int64_t n = 0;
  while (st == ZCP_OK) {
    struct ArrowArray batch;
    st = zcp_ipc_reader_next(r, &batch, err);
    if (st != ZCP_OK || batch.release == NULL) break;
    st = zcp_json_compare_batch(f, n++, &batch, schema, err);
    zcp_array_release(&batch);
  }
  if (st == ZCP_OK && n != zcp_json_file_num_batches(f)) {
    st = zcp_error_set(err, ZCP_CORRUPT_INPUT, "%lld batches, expected %lld", (long long)n,
                       (long long)zcp_json_file_num_batches(f));
  }
  zcp_ipc_reader_close(r);
  return st;
}

static zcp_status_t check_stream_bytes(const uint8_t *data, int64_t size,
                                       struct zcp_json_file *f, struct zcp_error *err) {
  struct zcp_ipc_memory mem = {data, size, 0};
  struct zcp_ipc_source src = zcp_ipc_source_memory(&mem);
  struct zcp_ipc_reader *r = NULL;
  ZCP_RETURN_NOT_OK(zcp_ipc_stream_reader_open(&src, NULL, &r, err));
  return check_reader(r, f, err);
}

/* The file format read both in order and by random access, batches in reverse. */
static zcp_status_t check_file_bytes(const uint8_t *data, int64_t size,
                                     enum zcp_ipc_file_mode mode, struct zcp_json_file *f,
                                     struct zcp_error *err) {
  struct zcp_ipc_reader *r = NULL;
  ZCP_RETURN_NOT_OK(zcp_ipc_file_reader_open(data, size, mode, NULL, &r, err));
  int64_t n = zcp_ipc_reader_num_batches(r);
  zcp_status_t st = ZCP_OK;
  if (n != zcp_json_file_num_batches(f)) {
    st = zcp_error_set(err, ZCP_CORRUPT_INPUT, "footer lists %lld batches, expected %lld",
                       (long long)n, (long long)zcp_json_file_num_batches(f));
  }
  for (int64_t i = n - 1; i >= 0 && st == ZCP_OK; i--) {
    struct ArrowArray batch;
    st = zcp_ipc_reader_read_batch(r, i, &batch, err);
    if (st != ZCP_OK) break;
    st = zcp_json_compare_batch(f, i, &batch, zcp_ipc_reader_schema(r), err);
    zcp_array_release(&batch);
  }
  zcp_ipc_reader_close(r);
  if (st != ZCP_OK) return st;
  ZCP_RETURN_NOT_OK(zcp_ipc_file_reader_open(data, size, mode, NULL, &r, err));
  return check_reader(r, f, err);
}

/* Runs check on every case, logs a line per case, and fails naming the cases that did
 * not pass. */
static void for_every_case(const char *what,
                           zcp_status_t (*check)(const char *name, struct zcp_json_file *f,
                                                 struct zcp_error *err)) {
  char failed_names[2048] = "";
  int failed = 0;
  for (int k = 0; k < n_names; k++) {
    struct zcp_json_file *f = load_json(names[k]);
    struct zcp_error err = {0};
    zcp_status_t st = check(names[k], f, &err);
    zcp_json_file_free(f);
    cr_log_info("gold %s: %-36s %s%s%s", what, names[k], st == ZCP_OK ? "ok" : "FAIL (",
                st == ZCP_OK ? "" : zcp_status_str(st), st == ZCP_OK ? "" : ")");
    if (st != ZCP_OK) {
      cr_log_error("gold %s: %s: %s", what, names[k], err.message);
      failed++;
      size_t len = strlen(failed_names);
      snprintf(failed_names + len, sizeof failed_names - len, " %s", names[k]);
    }
  }
  cr_expect_eq(failed, 0, "%s: %d of %d cases failed:%s", what, failed, n_names, failed_names);
  cr_expect_eq(zcp_allocator_default_live_bytes(), live_before, "%s: data buffers leaked", what);
}

static zcp_status_t stream_case(const char *name, struct zcp_json_file *f, struct zcp_error *err) {
  canonical_map_names(f->fields);
  int64_t size;
  uint8_t *data = slurp(name, ".stream", &size);
  zcp_status_t st = check_stream_bytes(data, size, f, err);
  free(data);
  return st;
}

static zcp_status_t file_case(const char *name, struct zcp_json_file *f, struct zcp_error *err) {
  int64_t size;
  uint8_t *data = slurp(name, ".arrow_file", &size);
  zcp_status_t st = check_file_bytes(data, size, ZCP_IPC_COPY, f, err);
  if (st == ZCP_OK) st = check_file_bytes(data, size, ZCP_IPC_ZERO_COPY, f, err);
  free(data);
  return st;
}

static zcp_status_t file_path_case(const char *name, struct zcp_json_file *f,
                                   struct zcp_error *err) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s.arrow_file", zcp_json_gold_dir(), name);
  struct zcp_ipc_reader *r = NULL;
  ZCP_RETURN_NOT_OK(
      zcp_ipc_file_reader_open_path(path, ZCP_IPC_ZERO_COPY, NULL, &r, err));
  /* Batches read zero-copy must stay readable after the reader is closed. */
  struct ArrowArray last = {0};
  int64_t n = zcp_ipc_reader_num_batches(r);
  zcp_status_t st = n > 0 ? zcp_ipc_reader_read_batch(r, n - 1, &last, err) : ZCP_OK;
  struct ArrowSchema schema = {0};
  if (st == ZCP_OK) st = zcp_schema_copy(zcp_ipc_reader_schema(r), &schema, err);
  zcp_ipc_reader_close(r);
  if (st == ZCP_OK && n > 0) st = zcp_json_compare_batch(f, n - 1, &last, &schema, err);
  zcp_array_release(&last);
  zcp_schema_release(&schema);
  return st;
}

/* The gold stream of case `name`, read whole into *out. */
static zcp_status_t read_gold_stream(const char *name, struct zcp_table **out,
                                     struct zcp_error *err) {
  int64_t size;
  uint8_t *data = slurp(name, ".stream", &size);
  struct zcp_ipc_memory mem = {data, size, 0};
  struct zcp_ipc_source src = zcp_ipc_source_memory(&mem);
  struct zcp_ipc_reader *r = NULL;
  zcp_status_t st = zcp_ipc_stream_reader_open(&src, NULL, &r, err);
  if (st == ZCP_OK) st = zcp_ipc_reader_read_table(r, out, err);
  free(data);
  return st;
}

/* Reads the gold stream into a table, writes it with our writer, checks the bytes. */
static zcp_status_t round_trip(const char *name, struct zcp_json_file *f,
                               enum zcp_ipc_format format, enum zcp_ipc_compression comp,
                               struct zcp_error *err) {
  canonical_map_names(f->fields);
  struct zcp_table *t = NULL;
  zcp_status_t st = read_gold_stream(name, &t, err);
  if (st != ZCP_OK) return zcp_error_prefix(err, st, "reading the gold stream: ");
  struct zcp_ipc_buffer buf = {0};
  struct zcp_ipc_sink sink = zcp_ipc_sink_buffer(&buf);
  struct zcp_ipc_write_options opts;
  zcp_ipc_write_options_init(&opts);
  opts.compression = comp;
  struct zcp_ipc_writer *w = NULL;
  st = zcp_ipc_writer_open(format, zcp_table_schema(t), &sink, &opts, &w, err);
  if (st == ZCP_OK) {
    st = zcp_ipc_writer_write_table(w, t, err);
    zcp_status_t cst = zcp_ipc_writer_close(w, st == ZCP_OK ? err : NULL);
    if (st == ZCP_OK) st = cst;
  }
  zcp_table_release(t);
  if (st != ZCP_OK) {
    zcp_ipc_buffer_reset(&buf);
    return zcp_error_prefix(err, st, "writing: ");
  }
  st = format == ZCP_IPC_STREAM ? check_stream_bytes(buf.data, buf.size, f, err)
                                : check_file_bytes(buf.data, buf.size, ZCP_IPC_COPY, f, err);
  zcp_ipc_buffer_reset(&buf);
  return st == ZCP_OK ? st : zcp_error_prefix(err, st, "reading what we wrote: ");
}

static zcp_status_t rt_stream(const char *n, struct zcp_json_file *f, struct zcp_error *e) {
  return round_trip(n, f, ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_NONE, e);
}
static zcp_status_t rt_file(const char *n, struct zcp_json_file *f, struct zcp_error *e) {
  return round_trip(n, f, ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_NONE, e);
}
static zcp_status_t rt_lz4(const char *n, struct zcp_json_file *f, struct zcp_error *e) {
  return round_trip(n, f, ZCP_IPC_STREAM, ZCP_IPC_COMPRESSION_LZ4_FRAME, e);
}
static zcp_status_t rt_zstd(const char *n, struct zcp_json_file *f, struct zcp_error *e) {
  return round_trip(n, f, ZCP_IPC_FILE, ZCP_IPC_COMPRESSION_ZSTD, e);
}

/* The dictionary ids of the JSON schema, pre-order (a field before its children). */
static void json_dict_ids(json_t *fields, int64_t *ids, int64_t *n, int64_t max) {
  size_t k;
  json_t *field;
  json_array_foreach(fields, k, field) {
    json_t *dict = json_object_get(field, "dictionary");
    if (dict != NULL && *n < max) ids[(*n)++] = json_integer_value(json_object_get(dict, "id"));
    json_dict_ids(json_object_get(field, "children"), ids, n, max);
  }
}

/* Arrow C++ 1.0 gave every field its own dictionary id in the binary files, where the
 * JSON of the nested-dictionary case shares one id among three fields. Written again
 * with the JSON's ids, each shared dictionary must go once, and read back the same. */
static zcp_status_t rt_json_ids(const char *name, struct zcp_json_file *f,
                                struct zcp_error *err) {
  canonical_map_names(f->fields);
  int64_t ids[64], n_ids = 0;
  json_dict_ids(f->fields, ids, &n_ids, 64);
  struct zcp_table *t = NULL;
  zcp_status_t st = read_gold_stream(name, &t, err);
  if (st != ZCP_OK) return st;
  struct zcp_ipc_buffer buf = {0};
  struct zcp_ipc_sink sink = zcp_ipc_sink_buffer(&buf);
  struct zcp_ipc_write_options opts;
  zcp_ipc_write_options_init(&opts);
  opts.dictionary_ids = ids;
  opts.n_dictionary_ids = n_ids;
  struct zcp_ipc_writer *w = NULL;
  st = zcp_ipc_writer_open(ZCP_IPC_STREAM, zcp_table_schema(t), &sink, &opts, &w, err);
  if (st == ZCP_OK) {
    st = zcp_ipc_writer_write_table(w, t, err);
    zcp_status_t cst = zcp_ipc_writer_close(w, st == ZCP_OK ? err : NULL);
    if (st == ZCP_OK) st = cst;
  }
  zcp_table_release(t);
  if (st == ZCP_OK) st = check_stream_bytes(buf.data, buf.size, f, err);
  if (st == ZCP_OK) { /* the reader gives the ids back */
    struct zcp_ipc_memory again = {buf.data, buf.size, 0};
    struct zcp_ipc_source src2 = zcp_ipc_source_memory(&again);
    struct zcp_ipc_reader *r = NULL;
    st = zcp_ipc_stream_reader_open(&src2, NULL, &r, err);
    int64_t n_got = 0;
    const int64_t *got = st == ZCP_OK ? zcp_ipc_reader_dictionary_ids(r, &n_got) : NULL;
    for (int64_t i = 0; st == ZCP_OK && i < n_ids; i++) {
      if (n_got != n_ids || got[i] != ids[i]) {
        st = zcp_error_set(err, ZCP_CORRUPT_INPUT, "dictionary id %lld read back differs",
                           (long long)i);
      }
    }
    if (r != NULL) zcp_ipc_reader_close(r);
  }
  /* as many dictionary messages per batch as distinct ids, at most */
  int64_t distinct = 0;
  for (int64_t i = 0; i < n_ids; i++) {
    bool seen = false;
    for (int64_t j = 0; j < i; j++) seen |= ids[j] == ids[i];
    distinct += !seen;
  }
  int n_dict = msg_count(&buf, 0, ZCP_FB_HEADER_DICTIONARY, NULL);
  if (st == ZCP_OK && n_dict > distinct * zcp_json_file_num_batches(f)) {
    st = zcp_error_set(err, ZCP_CORRUPT_INPUT, "%d dictionary messages for %lld ids", n_dict,
                       (long long)distinct);
  }
  if (st == ZCP_OK && strcmp(name, "generated_nested_dictionary") == 0 && n_dict != 3) {
    st = zcp_error_set(err, ZCP_CORRUPT_INPUT,
                       "%d dictionary messages, the JSON shares 5 fields among 3", n_dict);
  }
  zcp_ipc_buffer_reset(&buf);
  return st;
}

Test(gold, written_with_the_json_dictionary_ids_shared_dictionaries_go_once) {
  for_every_case("rewrite-json-ids", rt_json_ids);
}

Test(gold, every_case_has_a_stream_a_file_and_json) {
  for (int k = 0; k < n_names; k++) {
    char path[4200];
    const char *exts[] = {".stream", ".arrow_file"};
    for (int e = 0; e < 2; e++) {
      snprintf(path, sizeof path, "%s/%s%s", zcp_json_gold_dir(), names[k], exts[e]);
      FILE *fp = fopen(path, "rb");
      cr_expect_not_null(fp, "%s is missing", path);
      if (fp) fclose(fp);
    }
  }
}

Test(gold, streams_match_their_json) { for_every_case("stream", stream_case); }
Test(gold, files_match_their_json_copied_and_zero_copy) { for_every_case("file", file_case); }
Test(gold, mapped_files_outlive_their_reader) { for_every_case("mapped", file_path_case); }
Test(gold, our_stream_of_every_case_reads_back_equal) { for_every_case("rewrite-stream", rt_stream); }
Test(gold, our_file_of_every_case_reads_back_equal) { for_every_case("rewrite-file", rt_file); }
Test(gold, our_lz4_stream_of_every_case_reads_back_equal) { for_every_case("rewrite-lz4", rt_lz4); }
Test(gold, our_zstd_file_of_every_case_reads_back_equal) { for_every_case("rewrite-zstd", rt_zstd); }
