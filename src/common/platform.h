/* The one place that asks the C library for more than C11: POSIX and GNU extensions
 * (mmap flags, memfd, aligned_alloc details). Include it first in any .c file that
 * needs them. */
#ifndef ZCP_COMMON_PLATFORM_H
#define ZCP_COMMON_PLATFORM_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#endif
