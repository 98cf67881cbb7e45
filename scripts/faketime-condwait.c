/*
 * Preloaded before libfaketime by scripts/vitest.mjs, only under `faketime`
 * (the date check). The embedded engine (chDB) reads the clock itself, so
 * libfaketime does not move it, but its timed waits go through glibc's
 * pthread_cond_timedwait, which libfaketime does intercept: it moves each
 * deadline back by the offset, 40 days into the past, every wait returns
 * at once and the engine's background threads spin (an idle `serve` burnt
 * ~2.5 CPU-seconds a second instead of 0.01). Waits called from the engine
 * go to glibc unchanged; every other caller (rsyslog, syslog-ng, whose
 * clocks libfaketime does move) still gets libfaketime's.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

typedef int (*timedwait_fn)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);

int pthread_cond_timedwait(pthread_cond_t *cond, pthread_mutex_t *mutex, const struct timespec *abstime) {
  static timedwait_fn glibc, next;
  if (!glibc) {
    void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
    glibc = (timedwait_fn)dlvsym(libc, "pthread_cond_timedwait", "GLIBC_2.3.2");
    next = (timedwait_fn)dlvsym(RTLD_NEXT, "pthread_cond_timedwait", "GLIBC_2.3.2");
    if (!next) next = glibc;
  }
  Dl_info caller;
  if (dladdr(__builtin_return_address(0), &caller) && caller.dli_fname && strstr(caller.dli_fname, "chdb")) return glibc(cond, mutex, abstime);
  return next(cond, mutex, abstime);
}
