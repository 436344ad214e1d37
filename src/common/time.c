/* The library's one clock and its deadlines (time.h). */
#include "common/platform.h"

#include "common/time.h"

int64_t zcp__now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void zcp__deadline_at(struct timespec *ts, int64_t at_ms) {
  ts->tv_sec = (time_t)(at_ms / 1000);
  ts->tv_nsec = (long)(at_ms % 1000) * 1000000;
}

void zcp__deadline(struct timespec *ts, int64_t ms_from_now) {
  if (ms_from_now < 0) ms_from_now = 0;
  clock_gettime(CLOCK_MONOTONIC, ts);
  ts->tv_sec += (time_t)(ms_from_now / 1000);
  ts->tv_nsec += (long)(ms_from_now % 1000) * 1000000;
  if (ts->tv_nsec >= 1000000000) {
    ts->tv_sec++;
    ts->tv_nsec -= 1000000000;
  }
}

void zcp__cond_init_monotonic(pthread_cond_t *cv) {
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(cv, &ca);
  pthread_condattr_destroy(&ca);
}
