/* pool_planes.c: max and average pooling (wasm_ext/pool.c's tjs_pool) shared out over the worker pool of the
 * shared-memory module (mk/wasm_threads.mk; only that module builds this file).
 *
 * tjs_pool_planes reads tjs_pool's argument layout (kernel_abi "pool"; backends/cpu/wasm_threads.py copies the
 * input in and the output and indices out). The planes are cut into groups of about CHUNK output elements that the
 * workers take from a shared counter, each group pooled by pool.c's own code (tjs_pool_range). A plane is pooled on
 * its own and its indices are within the plane, so the bits are those of the one-thread kernel whatever the thread
 * count and the cut. */
#include "../tjs.h"
#include "../threads.h"

int tjs_pool_range(const int64_t *A, int64_t p0, int64_t p1);   /* pool.c */

#define CHUNK 32768

typedef struct {
  const int64_t *args;
  int64_t planes, per, next;
  int32_t rc;
} planes_job;

static void planes_worker(void *ctx, int worker) {
  (void)worker;
  planes_job *j = (planes_job *)ctx;
  for (;;) {
    int64_t p0 = tjs_fetch_add(&j->next, 1) * j->per;
    if (p0 >= j->planes) break;
    int64_t p1 = j->planes - p0 < j->per ? j->planes : p0 + j->per;
    int rc = tjs_pool_range(j->args, p0, p1);
    if (rc) __atomic_store_n(&j->rc, rc, __ATOMIC_RELAXED);
  }
}

TJS_EXPORT int tjs_pool_planes(void) {
  const int64_t *A = tjs_args;
  int64_t planes = A[TJS_POOL_PLANES];
  int64_t out_sz = A[TJS_POOL_OD] * A[TJS_POOL_OH] * A[TJS_POOL_OW];
  if (planes <= 0 || out_sz <= 0) return tjs_pool_range(A, 0, planes < 0 ? 0 : planes);
  int64_t per = CHUNK / out_sz < 1 ? 1 : CHUNK / out_sz;
  planes_job j = {A, planes, per, 0, TJS_OK};
  int64_t groups = (planes + per - 1) / per;
  int threads = tjs_threads_wanted();
  tjs_parallel(groups < threads ? (int)groups : threads, planes_worker, &j);
  return j.rc;
}
