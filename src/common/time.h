/* Time for every wait in the library: one monotonic clock, one way to turn a timeout into
 * the absolute deadline that pthread_cond_timedwait takes, and one way to make a
 * condition variable wait on that clock. Wall-clock time never bounds a wait here: a
 * clock step (NTP, an operator) would stretch or cut every timeout. */
#ifndef ZCP_COMMON_TIME_H
#define ZCP_COMMON_TIME_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Milliseconds on the monotonic clock (an arbitrary origin: compare, never print). */
int64_t zcp__now_ms(void);
/* The absolute monotonic time ms_from_now milliseconds from now (<= 0: now). */
void zcp__deadline(struct timespec *ts, int64_t ms_from_now);
/* The absolute monotonic time of at_ms, a value of zcp__now_ms's clock. */
void zcp__deadline_at(struct timespec *ts, int64_t at_ms);
/* Initialises cv to time its waits on the monotonic clock (the clock of the two above).
 */
void zcp__cond_init_monotonic(pthread_cond_t *cv);

#endif
