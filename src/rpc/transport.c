/* Sockets of the control plane: "tcp://host:port" between hosts (TCP_NODELAY: frames are
 * small and latency is what matters) and "unix:/path" on one host. Every blocking
 * operation here takes a timeout; nothing may wait forever on a peer. */
#include "common/platform.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "rpc/rpc.h"

/* Parsed address: either a Unix path or a resolved TCP endpoint. */
struct addr {
  struct sockaddr_storage sa;
  socklen_t len;
  int family;
};

static zcp_status_t parse(const char *address, struct addr *a, struct zcp_error *err) {
  memset(a, 0, sizeof *a);
  if (strncmp(address, "unix:", 5) == 0) {
    struct sockaddr_un *un = (struct sockaddr_un *)&a->sa;
    const char *path = address + 5;
    if (path[0] == '\0' || strlen(path) >= sizeof un->sun_path)
      return zcp_error_set(
          err, ZCP_INVALID_ARGUMENT,
          "address '%s': Unix socket path empty or longer than %zu bytes", address,
          sizeof un->sun_path - 1);
    un->sun_family = AF_UNIX;
    strcpy(un->sun_path, path);
    a->len = (socklen_t)sizeof *un;
    a->family = AF_UNIX;
    return ZCP_OK;
  }
  if (strncmp(address, "tcp://", 6) == 0) {
    char host[256];
    const char *hp = address + 6;
    const char *colon = strrchr(hp, ':');
    if (colon == NULL || colon == hp || (size_t)(colon - hp) >= sizeof host ||
        colon[1] == '\0')
      return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                           "address '%s': expected tcp://host:port", address);
    memcpy(host, hp, (size_t)(colon - hp));
    host[colon - hp] = '\0';
    char *h = host;
    if (h[0] == '[' && h[strlen(h) - 1] == ']') {
      h[strlen(h) - 1] = '\0';
      h++;
    }
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(h, colon + 1, &hints, &res);
    if (rc != 0 || res == NULL)
      return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "address '%s': %s", address,
                           gai_strerror(rc));
    memcpy(&a->sa, res->ai_addr, res->ai_addrlen);
    a->len = res->ai_addrlen;
    a->family = res->ai_family;
    freeaddrinfo(res);
    return ZCP_OK;
  }
  return zcp_error_set(err, ZCP_INVALID_ARGUMENT,
                       "address '%s': expected tcp://host:port or unix:/path", address);
}

zcp_status_t zcp__sock_listen(const char *address, int *fd, struct zcp_error *err) {
  struct addr a;
  ZCP_RETURN_NOT_OK(parse(address, &a, err));
  int s = socket(a.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return zcp_error_set(err, ZCP_IO_ERROR, "listen on %s: socket: %s", address,
                         strerror(errno));
  if (a.family == AF_UNIX) {
    /* A socket file left by a killed node would make bind fail; it is ours to replace. */
    unlink(((struct sockaddr_un *)&a.sa)->sun_path);
  } else {
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  }
  if (bind(s, (struct sockaddr *)&a.sa, a.len) != 0 || listen(s, 64) != 0) {
    int e = errno;
    close(s);
    return zcp_error_set(err, e == EADDRINUSE ? ZCP_BUSY : ZCP_IO_ERROR,
                         "listen on %s: %s", address, strerror(e));
  }
  *fd = s;
  return ZCP_OK;
}

static void tune(int s, int family) {
  if (family != AF_UNIX) {
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
}

zcp_status_t zcp__sock_connect(const char *address, int timeout_ms, int *fd,
                               struct zcp_error *err) {
  struct addr a;
  ZCP_RETURN_NOT_OK(parse(address, &a, err));
  int s = socket(a.family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0)
    return zcp_error_set(err, ZCP_IO_ERROR, "connect to %s: socket: %s", address,
                         strerror(errno));
  int rc = connect(s, (struct sockaddr *)&a.sa, a.len);
  if (rc != 0 && (errno == EINPROGRESS || errno == EAGAIN)) {
    struct pollfd p = {s, POLLOUT, 0};
    rc = poll(&p, 1, timeout_ms);
    if (rc == 0) {
      close(s);
      return zcp_error_set(err, ZCP_TIMEOUT, "connect to %s: no answer within %d ms",
                           address, timeout_ms);
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &sl);
    if (rc < 0 || soerr != 0) {
      close(s);
      return zcp_error_set(err, ZCP_PEER_DOWN, "connect to %s: %s", address,
                           strerror(rc < 0 ? errno : soerr));
    }
  } else if (rc != 0) {
    int e = errno;
    close(s);
    return zcp_error_set(err, ZCP_PEER_DOWN, "connect to %s: %s", address, strerror(e));
  }
  /* Blocking from now on; reads and writes bound themselves with poll. */
  fcntl(s, F_SETFL, fcntl(s, F_GETFL) & ~O_NONBLOCK);
  tune(s, a.family);
  *fd = s;
  return ZCP_OK;
}

int zcp__sock_wait_readable(int fd, int timeout_ms) {
  struct pollfd p = {fd, POLLIN, 0};
  int rc;
  do {
    rc = poll(&p, 1, timeout_ms < 0 ? 0 : timeout_ms);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) return -1;
  return rc > 0 ? 1 : 0;
}

int zcp__sock_write_all(int fd, const void *buf, size_t n, int timeout_ms) {
  const uint8_t *p = buf;
  int64_t deadline = zcp__now_ms() + timeout_ms;
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0) {
      p += w;
      n -= (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      int64_t left = deadline - zcp__now_ms();
      struct pollfd q = {fd, POLLOUT, 0};
      if (left <= 0 || poll(&q, 1, (int)left) <= 0) {
        errno = ETIMEDOUT;
        return -1;
      }
      continue;
    }
    return -1;
  }
  return 0;
}

int zcp__sock_read_all(int fd, void *buf, size_t n, int timeout_ms) {
  uint8_t *p = buf;
  int64_t deadline = zcp__now_ms() + timeout_ms;
  while (n > 0) {
    ssize_t r = recv(fd, p, n, MSG_DONTWAIT);
    if (r > 0) {
      p += r;
      n -= (size_t)r;
      continue;
    }
    if (r == 0) return 0;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
    int64_t left = deadline - zcp__now_ms();
    if (left <= 0) {
      errno = ETIMEDOUT;
      return -1;
    }
    int rc = zcp__sock_wait_readable(fd, (int)left);
    if (rc < 0) return -1;
    if (rc == 0) {
      errno = ETIMEDOUT;
      return -1;
    }
  }
  return 1;
}
