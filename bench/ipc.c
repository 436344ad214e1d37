/* How fast does a table go through the Arrow IPC format, next to moving the same bytes
 * without it?
 *
 * Builds a table of about 1 GiB (ZCP_BENCH_BYTES) with an int64, a double, a utf8 and a
 * list<int32> column in batches of 1 Mi rows, then in the same run, interleaved, REPS
 * times each:
 *   memory  memcpy of the stream's bytes (baseline); our writer into a preallocated
 *           buffer; our stream reader from memory (copying), with full validation (the
 *           default: offsets, UTF-8) and with minimal validation; our file reader
 *           zero-copy (full validation)
 *   TCP     a raw loopback transfer of the same bytes between two threads (baseline);
 *           our writer on one end of the socket and our stream reader on the other
 * Reports the median and best GB/s (bytes of the IPC stream per second) and the ratios to
 * the baseline of the same medium; appends a row per case to bench/results/ipc.csv.
 * ZCP_BENCH_REPS sets the repetitions (default 5). */
#define _GNU_SOURCE 1
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "zcpool/ipc.h"

#define BATCH_ROWS (1 << 20)
#define MAX_REPS 31

static int64_t env_int(const char *name, int64_t fallback) {
  const char *v = getenv(name);
  return v != NULL && atoll(v) > 0 ? atoll(v) : fallback;
}

static void die(const char *what, const struct zcp_error *err) {
  fprintf(stderr, "bench_ipc: %s: %s\n", what, err ? err->message : strerror(errno));
  exit(1);
}

/* ---- the table ---------------------------------------------------------------------- */

/* A record batch that owns its columns, each built by its own builder (the struct
 * builder checks children one row at a time; whole columns are much faster). */
struct owned {
  struct ArrowArray cols[4];
  struct ArrowArray *children[4];
  const void *buffers[1];
};

static void owned_release(struct ArrowArray *a) {
  struct owned *o = a->private_data;
  for (int c = 0; c < 4; c++) zcp_array_release(&o->cols[c]);
  free(o);
  a->release = NULL;
}

/* Row r: id r, score r / 3, name "user-<r>-<r % 13 x's>", tags: r % 7 ints. */
static void build_batch(struct zcp_builder *const *cols, int64_t first, int64_t n,
                        struct ArrowArray *out) {
  int64_t *ids = malloc((size_t)n * sizeof *ids);
  double *scores = malloc((size_t)n * sizeof *scores);
  int32_t *offsets = malloc((size_t)(n + 1) * sizeof *offsets);
  char *text = malloc((size_t)n * 40);
  offsets[0] = 0;
  for (int64_t k = 0; k < n; k++) {
    int64_t r = first + k;
    ids[k] = r;
    scores[k] = (double)r / 3;
    int len = sprintf(text + offsets[k], "user-%lld-%.*s", (long long)r, (int)(r % 13),
                      "xxxxxxxxxxxxx");
    offsets[k + 1] = offsets[k] + len;
  }
  if (zcp_builder_append_values(cols[0], ids, NULL, n) != ZCP_OK) die(zcp_builder_last_error(cols[0]), NULL);
  if (zcp_builder_append_values(cols[1], scores, NULL, n) != ZCP_OK) die(zcp_builder_last_error(cols[1]), NULL);
  if (zcp_builder_append_binaries(cols[2], offsets, text, NULL, n) != ZCP_OK) {
    die(zcp_builder_last_error(cols[2]), NULL);
  }
  struct zcp_builder *items = zcp_builder_child(cols[3], 0);
  for (int64_t k = 0; k < n; k++) {
    int32_t vals[7];
    int64_t len = (first + k) % 7;
    for (int64_t j = 0; j < len; j++) vals[j] = (int32_t)(first + k + j);
    if ((len > 0 && zcp_builder_append_values(items, vals, NULL, len) != ZCP_OK) ||
        zcp_builder_finish_element(cols[3]) != ZCP_OK) {
      die(zcp_builder_last_error(cols[3]), NULL);
    }
  }
  struct owned *o = calloc(1, sizeof *o);
  struct zcp_error err = {0};
  for (int c = 0; c < 4; c++) {
    if (zcp_builder_finish(cols[c], &o->cols[c], NULL, &err) != ZCP_OK) die("finish", &err);
    o->children[c] = &o->cols[c];
  }
  *out = (struct ArrowArray){n, 0, 0, 1, 4, o->buffers, o->children, NULL, owned_release, o};
  free(ids);
  free(scores);
  free(offsets);
  free(text);
}

static struct zcp_table *build_table(int64_t target_bytes) {
  struct zcp_error err = {0};
  struct ArrowSchema s;
  const char *names[] = {"id", "score", "name", "tags"}, *formats[] = {"l", "g", "u", "+l"};
  if (zcp_schema_init("+s", "", 0, 4, &s, &err) != ZCP_OK) die("schema", &err);
  for (int c = 0; c < 4; c++) {
    if (zcp_schema_set_child(&s, c, formats[c], names[c], 0, c == 3, &err) != ZCP_OK)
      die("schema", &err);
  }
  if (zcp_schema_set_child(s.children[3], 0, "i", "item", 0, 0, &err) != ZCP_OK)
    die("schema", &err);
  struct zcp_table *t = NULL;
  struct zcp_builder *cols[4];
  if (zcp_table_init(&s, &t, &err) != ZCP_OK) die("table", &err);
  for (int c = 0; c < 4; c++) {
    if (zcp_builder_init(s.children[c], NULL, &cols[c], &err) != ZCP_OK)
      die("builder", &err);
  }
  zcp_schema_release(&s);
  /* ~8 + 8 + 4 + 16 + 4 + 12 bytes a row. */
  int64_t rows = target_bytes / 52;
  for (int64_t first = 0; first < rows; first += BATCH_ROWS) {
    struct ArrowArray batch;
    build_batch(cols, first, rows - first < BATCH_ROWS ? rows - first : BATCH_ROWS, &batch);
    if (zcp_table_append(t, &batch, ZCP_VALIDATE_DEFAULT, &err) != ZCP_OK) die("append", &err);
  }
  for (int c = 0; c < 4; c++) zcp_builder_release(cols[c]);
  return t;
}

/* ---- sinks -------------------------------------------------------------------------- */

struct fixed {
  uint8_t *data;
  int64_t size, cap;
};

static zcp_status_t fixed_write(void *ctx, const void *data, int64_t size, struct zcp_error *err) {
  struct fixed *f = ctx;
  if (f->size + size > f->cap) return zcp_error_set(err, ZCP_NO_SPACE, "bench buffer full");
  memcpy(f->data + f->size, data, (size_t)size);
  f->size += size;
  return ZCP_OK;
}

static void write_table(struct zcp_table *t, enum zcp_ipc_format format,
                        const struct zcp_ipc_sink *sink) {
  struct zcp_error err = {0};
  struct zcp_ipc_writer *w = NULL;
  if (zcp_ipc_writer_open(format, zcp_table_schema(t), sink, NULL, &w, &err) != ZCP_OK ||
      zcp_ipc_writer_write_table(w, t, &err) != ZCP_OK ||
      zcp_ipc_writer_close(w, &err) != ZCP_OK) {
    die("write", &err);
  }
}

/* Reads every batch and releases it; returns the rows seen. */
static int64_t drain(struct zcp_ipc_reader *r) {
  struct zcp_error err = {0};
  int64_t rows = 0;
  for (;;) {
    struct ArrowArray batch;
    if (zcp_ipc_reader_next(r, &batch, &err) != ZCP_OK) die("read", &err);
    if (batch.release == NULL) break;
    rows += batch.length;
    zcp_array_release(&batch);
  }
  zcp_ipc_reader_close(r);
  return rows;
}

/* ---- sockets ------------------------------------------------------------------------ */

static void socket_pair(int *a, int *b) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof addr;
  if (l < 0 || bind(l, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(l, 1) != 0 ||
      getsockname(l, (struct sockaddr *)&addr, &len) != 0) {
    die("listen", NULL);
  }
  *a = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(*a, (struct sockaddr *)&addr, sizeof addr) != 0) die("connect", NULL);
  *b = accept(l, NULL, NULL);
  if (*b < 0) die("accept", NULL);
  close(l);
}

struct sender {
  int fd;
  const uint8_t *raw; /* raw bytes to send, or NULL to write the table */
  int64_t size;
  struct zcp_table *table;
};

static void *send_main(void *arg) {
  struct sender *s = arg;
  if (s->raw != NULL) {
    for (int64_t off = 0; off < s->size;) {
      ssize_t n = send(s->fd, s->raw + off, (size_t)(s->size - off < (1 << 20) ? s->size - off : (1 << 20)), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) die("send", NULL);
      off += n;
    }
  } else {
    struct zcp_ipc_sink sink = zcp_ipc_sink_fd(&s->fd);
    write_table(s->table, ZCP_IPC_STREAM, &sink);
  }
  shutdown(s->fd, SHUT_WR);
  return NULL;
}

/* ---- the cases ---------------------------------------------------------------------- */

enum { C_MEMCPY, C_WRITE, C_READ, C_READ_MIN, C_READ_ZC, C_RAW_TCP, C_IPC_TCP, N_CASES };
static const char *kNames[N_CASES] = {"memcpy", "ipc_write_memory", "ipc_read_memory",
                                      "ipc_read_memory_minimal", "ipc_file_read_zero_copy",
                                      "raw_tcp", "ipc_tcp"};
static const int kBaseline[N_CASES] = {C_MEMCPY, C_MEMCPY, C_MEMCPY, C_MEMCPY,
                                       C_MEMCPY, C_RAW_TCP, C_RAW_TCP};

int main(void) {
  int64_t target = env_int("ZCP_BENCH_BYTES", 1LL << 30);
  int reps = (int)env_int("ZCP_BENCH_REPS", 5);
  if (reps > MAX_REPS) reps = MAX_REPS;
  int64_t t0 = zcp_bench_now_ns();
  struct zcp_table *t = build_table(target);
  printf("bench_ipc: table of %lld rows in %lld batches (id int64, score double, name utf8, "
         "tags list<int32>) built in %.1f s\n",
         (long long)zcp_table_num_rows(t), (long long)zcp_table_num_batches(t),
         (zcp_bench_now_ns() - t0) / 1e9);

  /* The stream once, for its size and as the input of reads and baselines. */
  struct zcp_ipc_buffer stream = {0}, file = {0};
  struct zcp_ipc_sink sb = zcp_ipc_sink_buffer(&stream), fb = zcp_ipc_sink_buffer(&file);
  write_table(t, ZCP_IPC_STREAM, &sb);
  write_table(t, ZCP_IPC_FILE, &fb);
  int64_t bytes = stream.size;
  struct fixed dst = {malloc((size_t)bytes + (1 << 20)), 0, bytes + (1 << 20)};
  memset(dst.data, 1, (size_t)dst.cap); /* fault the pages in before timing */
  printf("bench_ipc: IPC stream %.3f GiB, file %.3f GiB; %d repetitions each\n",
         bytes / 1073741824.0, file.size / 1073741824.0, reps);

  double secs[N_CASES][MAX_REPS];
  for (int rep = 0; rep < reps; rep++) {
    for (int c = 0; c < N_CASES; c++) {
      int64_t start = zcp_bench_now_ns(), rows = -1;
      switch (c) {
        case C_MEMCPY:
          memcpy(dst.data, stream.data, (size_t)bytes);
          zcp_bench_sink(dst.data);
          break;
        case C_WRITE: {
          dst.size = 0;
          struct zcp_ipc_sink sink = {fixed_write, &dst};
          write_table(t, ZCP_IPC_STREAM, &sink);
          break;
        }
        case C_READ: case C_READ_MIN: {
          struct zcp_ipc_memory mem = {stream.data, stream.size, 0};
          struct zcp_ipc_source src = zcp_ipc_source_memory(&mem);
          struct zcp_ipc_read_options opts;
          zcp_ipc_read_options_init(&opts);
          if (c == C_READ_MIN) opts.validation = ZCP_VALIDATE_MINIMAL;
          struct zcp_ipc_reader *r = NULL;
          struct zcp_error err = {0};
          if (zcp_ipc_stream_reader_open(&src, &opts, &r, &err) != ZCP_OK)
            die("open", &err);
          rows = drain(r);
          break;
        }
        case C_READ_ZC: {
          struct zcp_ipc_reader *r = NULL;
          struct zcp_error err = {0};
          if (zcp_ipc_file_reader_open(file.data, file.size, ZCP_IPC_ZERO_COPY, NULL, &r,
                                       &err) != ZCP_OK) {
            die("open", &err);
          }
          rows = drain(r);
          break;
        }
        case C_RAW_TCP: case C_IPC_TCP: {
          int a, b;
          socket_pair(&a, &b);
          struct sender s = {a, c == C_RAW_TCP ? stream.data : NULL, bytes, t};
          pthread_t th;
          pthread_create(&th, NULL, send_main, &s);
          if (c == C_RAW_TCP) {
            for (int64_t got = 0;;) {
              ssize_t n = recv(b, dst.data + got, (size_t)(dst.cap - got), 0);
              if (n < 0 && errno == EINTR) continue;
              if (n <= 0) break;
              got += n;
            }
          } else {
            struct zcp_ipc_source src = zcp_ipc_source_fd(&b);
            struct zcp_ipc_reader *r = NULL;
            struct zcp_error err = {0};
            if (zcp_ipc_stream_reader_open(&src, NULL, &r, &err) != ZCP_OK)
              die("open", &err);
            rows = drain(r);
          }
          pthread_join(th, NULL);
          close(a);
          close(b);
          break;
        }
      }
      secs[c][rep] = (zcp_bench_now_ns() - start) / 1e9;
      if (rows >= 0 && rows != zcp_table_num_rows(t)) {
        fprintf(stderr, "bench_ipc: %s read %lld rows, expected %lld\n", kNames[c],
                (long long)rows, (long long)zcp_table_num_rows(t));
        return 1;
      }
    }
  }

  FILE *csv = zcp_bench_csv_open("ipc", "case,bytes,reps,median_s,best_s,median_gbps,best_gbps,"
                                        "baseline,ratio_median,ratio_best");
  double med[N_CASES], best[N_CASES];
  for (int c = 0; c < N_CASES; c++) {
    med[c] = zcp_bench_percentile(secs[c], reps, 50);
    best[c] = secs[c][0]; /* sorted by the percentile call */
  }
  printf("\n%-26s %10s %10s %10s %12s %12s\n", "case", "median s", "GB/s med", "GB/s best",
         "vs baseline", "(best/best)");
  for (int c = 0; c < N_CASES; c++) {
    int bl = kBaseline[c];
    double rm = med[bl] / med[c], rb = best[bl] / best[c];
    printf("%-26s %10.3f %10.2f %10.2f %11.2fx %11.2fx  (baseline %s)\n", kNames[c], med[c],
           bytes / med[c] / 1e9, bytes / best[c] / 1e9, rm, rb, kNames[bl]);
    if (csv) {
      fprintf(csv, "%s,%lld,%d,%.6f,%.6f,%.3f,%.3f,%s,%.3f,%.3f\n", kNames[c], (long long)bytes,
              reps, med[c], best[c], bytes / med[c] / 1e9, bytes / best[c] / 1e9, kNames[bl], rm, rb);
    }
  }
  printf("(ratio = baseline time / case time: above 1 is faster than moving the raw bytes)\n");
  if (csv) fclose(csv);
  free(dst.data);
  zcp_ipc_buffer_reset(&stream);
  zcp_ipc_buffer_reset(&file);
  zcp_table_release(t);
  return 0;
}
