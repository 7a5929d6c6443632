/* threads.c: the intra-op thread pool of the native build (see threads.h).
 *
 * Workers 1..n-1 are pthreads started on first need and kept (blocked on a condition variable between calls). A
 * call bumps `generation` under the lock and wakes them; each worker whose index is below the call's count runs the
 * task and counts itself done. Calls come one at a time (Python holds KERNEL_LOCK and the GIL around a kernel).
 * After fork() the child has none of the parent's workers: the atfork handler forgets them (and re-initialises the
 * lock, which a worker may have held at the fork), so the child starts its own on its next parallel call.
 *
 * The wasm32 build (Emscripten side module, no pthreads) compiles only the single-worker fallbacks.
 *
 * The shared-memory wasm build (TJS_WASM_SHARED, mk/wasm_threads.mk: gemm alone as a standalone module over an
 * imported shared WebAssembly.Memory) has a pool of Web Workers / worker_threads, each running its own instance of
 * the module over that memory (torch_js/backends/cpu/wasm_pool.js starts them). A worker sits in tjs_worker_main:
 * it waits for `pool_gen` to change, takes one of the call's n - 1 places while it is still open, and runs the task.
 * Only workers 1..n-1 serve a call of n threads: each sleeps on its own word (memory.atomic.wait32), the caller wakes
 * exactly those of them that sleep, and a worker that has just finished spins a little before it sleeps again, so
 * that the next call of a layer finds it awake, but only while its index is within the count. (Waking n - 1 of the
 * waiters on one shared word, as before, woke whichever slept while the last call's workers still spun: on a
 * 16-core host at 8 threads all 15 workers ended up spinning, 14 cores busy for 8 threads' work.) The caller never
 * waits for a worker that has not joined: workers that start late or are busy elsewhere simply take no tiles
 * (tiles_worker's shared counter hands every tile to whoever asks first).
 */
#include "tjs.h"
#include "threads.h"

TJS_EXPORT int32_t tjs_num_threads = 1;

#ifdef TJS_WASM_SHARED
static int32_t pool_ready;   /* workers in tjs_worker_main */
#endif

int tjs_threads_wanted(void) {
#if defined(TJS_WASM_SHARED)
  /* more tiles than workers only costs balance; fewer workers than the count: no worker would take them */
  int n = tjs_num_threads, have = __atomic_load_n(&pool_ready, __ATOMIC_SEQ_CST) + 1;
  if (n > have) n = have;
  return n < 1 ? 1 : n > TJS_MAX_THREADS ? TJS_MAX_THREADS : n;
#elif defined(__EMSCRIPTEN__) || defined(__wasm__)
  return 1;
#else
  int n = tjs_num_threads;
  return n < 1 ? 1 : n > TJS_MAX_THREADS ? TJS_MAX_THREADS : n;
#endif
}

#if defined(TJS_WASM_SHARED)

/* All int32 words of the one shared memory. A call: the caller writes the task and its places (pool_places = n - 1),
 * opens it (pool_open = its generation), bumps pool_gen and wakes n - 1 waiters; a worker counts itself in pool_busy,
 * then runs the task only if that generation is still open and it got a place. After its own share the caller closes
 * the call and waits for pool_busy to reach 0: a worker counted before the close may be inside the task; one counted
 * after it sees it closed (sequentially consistent atomics), so no worker touches the task (on the caller's stack)
 * once tjs_parallel returns. A worker's index (its scratch buffers) is its own, whichever place it takes. */
static int32_t pool_gen, pool_open, pool_busy, pool_places, pool_n;
/* tasks workers have run, all calls together: [0] all workers', [w] worker w's (tests check who takes part) */
static int32_t pool_joined[TJS_MAX_THREADS];
static tjs_task_fn pool_fn;
static void *pool_ctx;

/* worker w's sleep word, pool_sleep[w * SLEEP_STRIDE]: 1 while it sleeps or is about to (a cache line each, so that
 * one worker's word does not share a line with another's) */
#define SLEEP_STRIDE 16
static int32_t pool_sleep[TJS_MAX_THREADS * SLEEP_STRIDE];

/* polls of a word before sleeping on it (~1 ns each): the gap between two kernels of a layer, so that the next call
 * finds its workers awake (a wake-up costs a few tens of microseconds a worker, and the caller waits for the last
 * one that joins). A word JS may set (wasm_pool.js: TORCH_JS_POOL_SPIN in Node), for measuring. */
TJS_EXPORT int32_t tjs_pool_spin = 100000;

#define LOAD(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)

/* worker w's loop (w >= 1, its own instance, its own stack): never returns. Sleeping: it says so (its word = 1),
 * looks at pool_gen once more, then waits while the word is 1; a caller bumps pool_gen first, then takes the word
 * back to 0 and wakes it if it was 1. Sequentially consistent, so either the worker sees the new generation or the
 * caller sees it asleep. */
TJS_EXPORT void tjs_worker_main(int32_t w) {
  int32_t *sleep_word = &pool_sleep[w * SLEEP_STRIDE];
  int32_t seen = LOAD(&pool_gen);
  __atomic_fetch_add(&pool_ready, 1, __ATOMIC_SEQ_CST);
  for (;;) {
    int32_t g;
    if (w < LOAD(&pool_n))   /* one of the last call's workers: the next call (the same count) wants it too */
      for (int spin = 0, limit = LOAD(&tjs_pool_spin); LOAD(&pool_gen) == seen && spin < limit; spin++) {}
    while ((g = LOAD(&pool_gen)) == seen) {
      STORE(sleep_word, 1);
      if (LOAD(&pool_gen) == seen) __builtin_wasm_memory_atomic_wait32(sleep_word, 1, -1);
      STORE(sleep_word, 0);
    }
    seen = g;
    __atomic_fetch_add(&pool_busy, 1, __ATOMIC_SEQ_CST);
    if (LOAD(&pool_open) == g && w < LOAD(&pool_n) && __atomic_sub_fetch(&pool_places, 1, __ATOMIC_SEQ_CST) >= 0) {
      __atomic_fetch_add(&pool_joined[0], 1, __ATOMIC_SEQ_CST);
      __atomic_fetch_add(&pool_joined[w], 1, __ATOMIC_SEQ_CST);
      pool_fn(pool_ctx, w);
    }
    if (__atomic_sub_fetch(&pool_busy, 1, __ATOMIC_SEQ_CST) == 0)
      __builtin_wasm_memory_atomic_notify(&pool_busy, 1);
  }
}

/* the words JS reads: workers that have entered tjs_worker_main (it waits on it while they start), tasks run (the
 * first of TJS_MAX_THREADS words) */
TJS_EXPORT int32_t *tjs_pool_ready_word(void) { return &pool_ready; }
TJS_EXPORT int32_t *tjs_pool_joined_word(void) { return pool_joined; }

void tjs_parallel(int n, tjs_task_fn fn, void *ctx) {
  if (n > TJS_MAX_THREADS) n = TJS_MAX_THREADS;
  int opened = n > 1 && LOAD(&pool_ready) > 0;
  if (opened) {
    pool_fn = fn;
    pool_ctx = ctx;
    STORE(&pool_places, n - 1);
    STORE(&pool_n, n);
    int32_t g = LOAD(&pool_gen) + 1;
    if (g == 0) g = 1;   /* 0 means closed */
    STORE(&pool_open, g);
    STORE(&pool_gen, g);
    for (int w = 1; w < n; w++)   /* workers 1..n-1 that sleep (the others spin and see pool_gen, or do not serve) */
      if (__atomic_exchange_n(&pool_sleep[w * SLEEP_STRIDE], 0, __ATOMIC_SEQ_CST) == 1)
        __builtin_wasm_memory_atomic_notify(&pool_sleep[w * SLEEP_STRIDE], 1);
  }
  fn(ctx, 0);
  if (opened) {
    STORE(&pool_open, 0);
    int32_t b;
    for (int spin = 0, limit = LOAD(&tjs_pool_spin); LOAD(&pool_busy) != 0 && spin < limit; spin++) {}
    while ((b = LOAD(&pool_busy)) != 0) __builtin_wasm_memory_atomic_wait32(&pool_busy, b, -1);
  }
}

/* workers' packing buffers: fresh pages from memory.grow (the memory is the pool's alone; nothing is freed) */
static void *scratch[TJS_MAX_THREADS];
static size_t scratch_bytes[TJS_MAX_THREADS];

void *tjs_worker_scratch(int worker, size_t bytes) {
  if (worker <= 0 || worker >= TJS_MAX_THREADS) return NULL;
  if (scratch_bytes[worker] < bytes) {
    size_t pages = (bytes + 65535) / 65536;
    intptr_t old = __builtin_wasm_memory_grow(0, pages);
    if (old < 0) return NULL;
    scratch[worker] = (void *)(old * 65536);
    scratch_bytes[worker] = pages * 65536;
  }
  return scratch[worker];
}

#elif defined(__EMSCRIPTEN__) || defined(__wasm__)

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
