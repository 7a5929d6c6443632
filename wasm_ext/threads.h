/* threads.h: the kernels' intra-op thread pool (threads.c).
 *
 * tjs_num_threads is torch.set_num_threads's value, written by Python (ctypes) into the library's global. Natively a
 * kernel that splits its work calls tjs_parallel(n, fn, ctx): fn(ctx, w) runs once for every worker w in [0, n),
 * w = 0 on the calling thread, the others on persistent pthreads; it returns once all have returned. A kernel makes
 * its result independent of n by cutting the work into pieces that do not depend on n, each computed by the same
 * code whichever worker takes it. The wasm32 side module has no threads: tjs_parallel runs fn(ctx, 0) alone; the
 * shared-memory wasm build (TJS_WASM_SHARED) hands the other workers to instances in Web Workers (threads.c).
 */
#ifndef TJS_THREADS_H
#define TJS_THREADS_H
#include <stddef.h>
#include <stdint.h>

#define TJS_MAX_THREADS 64

extern int32_t tjs_num_threads;

typedef void (*tjs_task_fn)(void *ctx, int worker);

/* the workers a kernel may use now: tjs_num_threads within [1, TJS_MAX_THREADS] (TJS_WASM_SHARED: at most the
 * workers running, plus the caller); 1 in the wasm32 side module */
int tjs_threads_wanted(void);

/* runs fn(ctx, w) for w in [0, n) (fewer where threads could not be started; always w = 0 on the caller) */
void tjs_parallel(int n, tjs_task_fn fn, void *ctx);

/* worker w's scratch buffer of at least `bytes` (64-byte aligned, kept between calls), or NULL when it cannot be
 * allocated; only worker w may use it, and only inside its fn. Worker 0 keeps its static buffers: never asked. */
void *tjs_worker_scratch(int worker, size_t bytes);

/* an atomic fetch-and-add for the pieces' counter (a real atomic where the build has -matomics) */
static inline int64_t tjs_fetch_add(int64_t *p, int64_t v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }

#endif
