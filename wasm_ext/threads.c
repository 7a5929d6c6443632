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
 * it waits (memory.atomic.wait32) for `pool_gen` to change, takes one of the call's n - 1 places while it is still
 * open, and runs the task. The caller wakes n - 1 waiters, not the whole pool (a pool started for 16 threads that
 * runs at 2 would otherwise wake 15 workers a call and wait for each to look and leave), and a worker that has just
 * finished spins a little before it sleeps again, so that the next call of a layer finds it awake. The caller never
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
static int32_t pool_gen, pool_open, pool_busy, pool_places;
static int32_t pool_joined;   /* tasks workers have run, all calls together (tests check that workers take part) */
static tjs_task_fn pool_fn;
static void *pool_ctx;

/* polls of a word before sleeping on it: ~0.1-0.2 ms, the gap between the products of a layer (a wake-up costs a
 * few tens of microseconds a worker, and the caller waits for the last one that joins) */
#define POOL_SPIN 100000

#define LOAD(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)

/* worker w's loop (w >= 1, its own instance, its own stack): never returns */
TJS_EXPORT void tjs_worker_main(int32_t w) {
  int32_t seen = LOAD(&pool_gen);
  __atomic_fetch_add(&pool_ready, 1, __ATOMIC_SEQ_CST);
  for (;;) {
    int32_t g;
    for (int spin = 0; (g = LOAD(&pool_gen)) == seen && spin < POOL_SPIN; spin++) {}
    while ((g = LOAD(&pool_gen)) == seen) __builtin_wasm_memory_atomic_wait32(&pool_gen, seen, -1);
    seen = g;
    __atomic_fetch_add(&pool_busy, 1, __ATOMIC_SEQ_CST);
    if (LOAD(&pool_open) == g && __atomic_sub_fetch(&pool_places, 1, __ATOMIC_SEQ_CST) >= 0) {
      __atomic_fetch_add(&pool_joined, 1, __ATOMIC_SEQ_CST);
      pool_fn(pool_ctx, w);
    }
    if (__atomic_sub_fetch(&pool_busy, 1, __ATOMIC_SEQ_CST) == 0)
      __builtin_wasm_memory_atomic_notify(&pool_busy, 1);
  }
}

/* the words JS reads: workers that have entered tjs_worker_main (it waits on it while they start), tasks run */
TJS_EXPORT int32_t *tjs_pool_ready_word(void) { return &pool_ready; }
TJS_EXPORT int32_t *tjs_pool_joined_word(void) { return &pool_joined; }

void tjs_parallel(int n, tjs_task_fn fn, void *ctx) {
  if (n > TJS_MAX_THREADS) n = TJS_MAX_THREADS;
  int opened = n > 1 && LOAD(&pool_ready) > 0;
  if (opened) {
    pool_fn = fn;
    pool_ctx = ctx;
    STORE(&pool_places, n - 1);
    int32_t g = LOAD(&pool_gen) + 1;
    if (g == 0) g = 1;   /* 0 means closed */
    STORE(&pool_open, g);
    STORE(&pool_gen, g);
    __builtin_wasm_memory_atomic_notify(&pool_gen, (uint32_t)(n - 1));
  }
  fn(ctx, 0);
  if (opened) {
    STORE(&pool_open, 0);
    int32_t b;
    for (int spin = 0; LOAD(&pool_busy) != 0 && spin < POOL_SPIN; spin++) {}
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
