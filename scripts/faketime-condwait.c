/*
 * Preloaded before libfaketime by scripts/vitest.mjs, only under `faketime`
 * (the date check). The embedded engine (chDB) reads the clock itself, so
 * libfaketime does not move it, but its timed waits go through glibc's
 * pthread_cond_timedwait, which libfaketime does intercept: it moves each
 * deadline back by the offset, 40 days into the past, every wait returns
 * at once and the engine's background threads spin (an idle `serve` burnt
 * ~2.5 CPU-seconds a second instead of 0.01). This hands the waits to
 * glibc unchanged. Node's own waits are on the monotonic clock, which
 * scripts/vitest.mjs keeps real, so they need no shift either.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <time.h>

typedef int (*timedwait_fn)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);

int pthread_cond_timedwait(pthread_cond_t *cond, pthread_mutex_t *mutex, const struct timespec *abstime) {
  static timedwait_fn real;
  if (!real) {
    void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
    real = (timedwait_fn)dlvsym(libc, "pthread_cond_timedwait", "GLIBC_2.3.2");
  }
  return real(cond, mutex, abstime);
}
