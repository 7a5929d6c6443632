/* threads.c: the intra-op thread pool of the native build (see threads.h).
 *
 * Workers 1..n-1 are pthreads started on first need and kept (blocked on a condition variable between calls). A
 * call bumps `generation` under the lock and wakes them; each worker whose index is below the call's count runs the
 * task and counts itself done. Calls come one at a time (Python holds KERNEL_LOCK and the GIL around a kernel).
 * After fork() the child has none of the parent's workers: the atfork handler forgets them (and re-initialises the
 * lock, which a worker may have held at the fork), so the child starts its own on its next parallel call.
 *
 * The wasm32 build (Emscripten side module, no pthreads) compiles only the single-worker fallbacks.
 */
#include "tjs.h"
#include "threads.h"

TJS_EXPORT int32_t tjs_num_threads = 1;

int tjs_threads_wanted(void) {
#if defined(__EMSCRIPTEN__) || defined(__wasm__)
  return 1;
#else
  int n = tjs_num_threads;
  return n < 1 ? 1 : n > TJS_MAX_THREADS ? TJS_MAX_THREADS : n;
#endif
}

#if defined(__EMSCRIPTEN__) || defined(__wasm__)

void tjs_parallel(int n, tjs_task_fn fn, void *ctx) {
  (void)n;
  fn(ctx, 0);
}

void *tjs_worker_scratch(int worker, size_t bytes) {
  (void)worker;
  (void)bytes;
  return NULL;
}

#else

#include <pthread.h>
#include <stdlib.h>

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;   /* a new generation: workers look at the task */
static pthread_cond_t all_done = PTHREAD_COND_INITIALIZER;
static int started;                /* workers running: indices 1..started */
static uint64_t generation;        /* bumped by every call */
static tjs_task_fn task_fn;
static void *task_ctx;
static int task_workers;           /* workers 0..task_workers-1 run this generation's task */
static int pending;                /* of those, pthreads still running it */
static int atfork_registered;

static uint64_t first_seen[TJS_MAX_THREADS];   /* the generation before a worker's first task */
static void *scratch[TJS_MAX_THREADS];
static size_t scratch_bytes[TJS_MAX_THREADS];

static void *worker_main(void *arg) {
  int w = (int)(intptr_t)arg;
  pthread_mutex_lock(&pool_lock);
  uint64_t seen = first_seen[w];
  for (;;) {
    while (generation == seen) pthread_cond_wait(&wake, &pool_lock);
    seen = generation;
    if (w >= task_workers) continue;
    tjs_task_fn fn = task_fn;
    void *ctx = task_ctx;
    pthread_mutex_unlock(&pool_lock);
    fn(ctx, w);
    pthread_mutex_lock(&pool_lock);
    if (--pending == 0) pthread_cond_signal(&all_done);
  }
  return NULL;
}

static void before_fork(void) { pthread_mutex_lock(&pool_lock); }
static void after_fork_parent(void) { pthread_mutex_unlock(&pool_lock); }
static void after_fork_child(void) {
  pthread_mutex_init(&pool_lock, NULL);
  pthread_cond_init(&wake, NULL);
  pthread_cond_init(&all_done, NULL);
  started = 0;   /* the parent's workers do not exist here; their scratch buffers are still ours to reuse */
}

/* starts workers up to index n-1 (called under the lock); returns how many workers (caller included) there are */
static int ensure_workers(int n) {
  if (!atfork_registered) {
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
    atfork_registered = 1;
  }
  while (started < n - 1) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    first_seen[started + 1] = generation;   /* the call that starts it bumps generation after this */
    int rc = pthread_create(&t, &attr, worker_main, (void *)(intptr_t)(started + 1));
    pthread_attr_destroy(&attr);
    if (rc != 0) break;   /* out of threads: run with those there are */
    started++;
  }
  return started + 1 < n ? started + 1 : n;
}

void tjs_parallel(int n, tjs_task_fn fn, void *ctx) {
  if (n > TJS_MAX_THREADS) n = TJS_MAX_THREADS;
  if (n > 1) {
    pthread_mutex_lock(&pool_lock);
    n = ensure_workers(n);
    if (n > 1) {
      task_fn = fn;
      task_ctx = ctx;
      task_workers = n;
      pending = n - 1;
      generation++;
      pthread_cond_broadcast(&wake);
    }
    pthread_mutex_unlock(&pool_lock);
  }
  fn(ctx, 0);
  if (n > 1) {
    pthread_mutex_lock(&pool_lock);
    while (pending > 0) pthread_cond_wait(&all_done, &pool_lock);
    pthread_mutex_unlock(&pool_lock);
  }
}

void *tjs_worker_scratch(int worker, size_t bytes) {
  if (worker <= 0 || worker >= TJS_MAX_THREADS) return NULL;
  if (scratch_bytes[worker] < bytes) {
    free(scratch[worker]);
    scratch[worker] = NULL;
    scratch_bytes[worker] = 0;
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes) != 0) return NULL;
    scratch[worker] = p;
    scratch_bytes[worker] = bytes;
  }
  return scratch[worker];
}

#endif
