/* zcpool — status codes and error messages.
 *
 * Every fallible function in zcpool returns a zcp_status_t (0 = ok) and, when the caller
 * passes a non-NULL struct zcp_error, fills it with a message that names the thing that
 * was wrong ("column 3 (utf8): offsets not monotonic at row 17"). The enum is small and
 * closed: callers switch on it, people read the message. */
#ifndef ZCPOOL_STATUS_H
#define ZCPOOL_STATUS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Kinds of failure. Values are stable: they travel on the wire in later layers. */
typedef enum zcp_status {
  ZCP_OK = 0,
  ZCP_INVALID_ARGUMENT = 1, /* the caller passed something that can never work */
  ZCP_OUT_OF_MEMORY = 2,    /* an allocator (heap or pool) returned nothing */
  ZCP_NO_SPACE = 3,         /* a region, quota or fixed-size table is full */
  ZCP_NOT_FOUND = 4,        /* a name, node, region or block that does not exist */
  ZCP_BUSY = 5,             /* in use (leased, locked, window taken); try later */
  ZCP_TIMEOUT = 6,          /* a bounded wait ran out */
  ZCP_PEER_DOWN = 7,        /* the node on the other side is not answering */
  ZCP_AUTH_FAILED = 8,      /* bad key, bad MAC, replayed frame */
  ZCP_CORRUPT_INPUT = 9,    /* data from outside (array, file, frame) breaks the format */
  ZCP_VERSION_MISMATCH = 10,/* layout or protocol version we do not speak */
  ZCP_IO_ERROR = 11,        /* a system call failed; errno is in the message */
  ZCP_UNSUPPORTED = 12,     /* valid, but not implemented by this build */
  ZCP_STALE = 13,           /* refers to an earlier epoch of a region or node: look up again */
  ZCP_INCOMPLETE = 14,      /* a huge table whose chunks do not (yet) cover every row */
} zcp_status_t;

#define ZCP_ERROR_MESSAGE_MAX 512

/* A status plus a human message. Always optional: functions accept NULL. */
struct zcp_error {
  zcp_status_t code;
  char message[ZCP_ERROR_MESSAGE_MAX];
};

/* ZCP_API marks every function of the public API: the library is built with hidden
 * visibility, so only these are exported from libzcpool.so. Every public header includes
 * this one. */
#if defined(__GNUC__)
#define ZCP_API __attribute__((visibility("default")))
#define ZCP_CHECK_RESULT __attribute__((warn_unused_result))
#define ZCP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ZCP_API
#define ZCP_CHECK_RESULT
#define ZCP_PRINTF(f, a)
#endif

/* Returns a short constant name for a status ("corrupt input"). Never NULL. */
ZCP_API const char *zcp_status_str(zcp_status_t status);

/* Records code and a printf-style message in err (if non-NULL) and returns code, so that
 * `return zcp_error_set(err, ZCP_INVALID_ARGUMENT, "...")` reads naturally. */
ZCP_API zcp_status_t zcp_error_set(struct zcp_error *err, zcp_status_t code,
                                   const char *fmt, ...) ZCP_PRINTF(3, 4);

/* Prefixes the message already in err with more context ("column 2: " + message), sets
 * err->code to code and returns code. */
ZCP_API zcp_status_t zcp_error_prefix(struct zcp_error *err, zcp_status_t code,
                                      const char *fmt, ...) ZCP_PRINTF(3, 4);

/* Clears err to ZCP_OK with an empty message. NULL is fine. */
ZCP_API void zcp_error_clear(struct zcp_error *err);

/* Evaluate expr; if it is not ZCP_OK, return it from the enclosing function. */
#define ZCP_RETURN_NOT_OK(expr)              \
  do {                                       \
    zcp_status_t zcp_status__ = (expr);      \
    if (zcp_status__ != ZCP_OK) return zcp_status__; \
  } while (0)

#ifdef __cplusplus
}
#endif
#endif /* ZCPOOL_STATUS_H */
