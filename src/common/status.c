/* Status names and error messages. Never allocates: messages live in the caller's
 * struct zcp_error, so reporting an out-of-memory error cannot itself fail. */
#include "common/platform.h" /* strnlen is POSIX */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "zcpool/status.h"

const char *zcp_status_str(zcp_status_t status) {
  switch (status) {
    case ZCP_OK: return "ok";
    case ZCP_INVALID_ARGUMENT: return "invalid argument";
    case ZCP_OUT_OF_MEMORY: return "out of memory";
    case ZCP_NO_SPACE: return "no space";
    case ZCP_NOT_FOUND: return "not found";
    case ZCP_BUSY: return "busy";
    case ZCP_TIMEOUT: return "timeout";
    case ZCP_PEER_DOWN: return "peer down";
    case ZCP_AUTH_FAILED: return "authentication failed";
    case ZCP_CORRUPT_INPUT: return "corrupt input";
    case ZCP_VERSION_MISMATCH: return "version mismatch";
    case ZCP_IO_ERROR: return "I/O error";
    case ZCP_UNSUPPORTED: return "unsupported";
    case ZCP_STALE: return "stale";
    case ZCP_INCOMPLETE: return "incomplete";
  }
  return "unknown status";
}

zcp_status_t zcp_error_set(struct zcp_error *err, zcp_status_t code, const char *fmt, ...) {
  if (err == NULL) return code;
  err->code = code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return code;
}

zcp_status_t zcp_error_prefix(struct zcp_error *err, zcp_status_t code, const char *fmt, ...) {
  if (err == NULL) return code;
  char prefix[ZCP_ERROR_MESSAGE_MAX];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  if (n < 0) return code;
  size_t plen = strlen(prefix);
  size_t mlen = strnlen(err->message, sizeof err->message - 1);
  if (plen >= sizeof err->message - 1) plen = sizeof err->message - 1;
  if (plen + mlen >= sizeof err->message) mlen = sizeof err->message - 1 - plen;
  memmove(err->message + plen, err->message, mlen);
  memcpy(err->message, prefix, plen);
  err->message[plen + mlen] = '\0';
  err->code = code;
  return code;
}

void zcp_error_clear(struct zcp_error *err) {
  if (err == NULL) return;
  err->code = ZCP_OK;
  err->message[0] = '\0';
}
