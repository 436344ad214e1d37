/* Byte sinks and sources for the IPC writer and reader: file descriptors (retrying on
 * EINTR and short transfers), a growable heap buffer, and memory. */
#include "common/platform.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "zcpool/ipc.h"

static zcp_status_t fd_write(void *ctx, const void *data, int64_t size,
                             struct zcp_error *err) {
  int fd = *(int *)ctx;
  const uint8_t *p = data;
  while (size > 0) {
    ssize_t n = write(fd, p, (size_t)ZCP_MIN(size, (int64_t)1 << 30));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return zcp_error_set(err, ZCP_IO_ERROR, "write to fd %d: %s", fd,
                           n < 0 ? strerror(errno) : "wrote nothing");
    }
    p += n;
    size -= n;
  }
  return ZCP_OK;
}

static zcp_status_t fd_read(void *ctx, void *buf, int64_t size, int64_t *got,
                            struct zcp_error *err) {
  int fd = *(int *)ctx;
  uint8_t *p = buf;
  *got = 0;
  while (*got < size) {
    ssize_t n = read(fd, p + *got, (size_t)ZCP_MIN(size - *got, (int64_t)1 << 30));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return zcp_error_set(err, ZCP_IO_ERROR, "read from fd %d: %s", fd, strerror(errno));
    if (n == 0) break;
    *got += n;
  }
  return ZCP_OK;
}

struct zcp_ipc_sink zcp_ipc_sink_fd(int *fd) {
  return (struct zcp_ipc_sink){fd_write, fd};
}

struct zcp_ipc_source zcp_ipc_source_fd(int *fd) {
  return (struct zcp_ipc_source){fd_read, fd};
}

static zcp_status_t buffer_write(void *ctx, const void *data, int64_t size,
                                 struct zcp_error *err) {
  struct zcp_ipc_buffer *b = ctx;
  int64_t need;
  if (size < 0 || !zcp__add_i64(b->size, size, &need)) {
    return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "write of %lld bytes",
                         (long long)size);
  }
  if (need > b->capacity) {
    int64_t cap = b->capacity ? b->capacity : 4096;
    while (cap < need) cap *= 2;
    uint8_t *p = realloc(b->data, (size_t)cap);
    if (p == NULL) {
      return zcp_error_set(err, ZCP_OUT_OF_MEMORY, "no memory for a %lld-byte IPC buffer",
                           (long long)cap);
    }
    b->data = p;
    b->capacity = cap;
  }
  if (size) memcpy(b->data + b->size, data, (size_t)size);
  b->size = need;
  return ZCP_OK;
}

struct zcp_ipc_sink zcp_ipc_sink_buffer(struct zcp_ipc_buffer *buf) {
  return (struct zcp_ipc_sink){buffer_write, buf};
}

void zcp_ipc_buffer_reset(struct zcp_ipc_buffer *buf) {
  if (buf == NULL) return;
  free(buf->data);
  memset(buf, 0, sizeof *buf);
}

static zcp_status_t memory_read(void *ctx, void *buf, int64_t size, int64_t *got,
                                struct zcp_error *err) {
  struct zcp_ipc_memory *m = ctx;
  int64_t n = ZCP_MIN(size, m->size - m->pos);
  if (n < 0) n = 0;
  if (n) memcpy(buf, m->data + m->pos, (size_t)n);
  m->pos += n;
  *got = n;
  return ZCP_OK;
}

struct zcp_ipc_source zcp_ipc_source_memory(struct zcp_ipc_memory *mem) {
  return (struct zcp_ipc_source){memory_read, mem};
}
