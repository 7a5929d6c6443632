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
#include "pool_rows.h"

int tjs_pool_range(const int64_t *A, int64_t p0, int64_t p1);   /* pool.c */

#define CHUNK 32768

typedef struct {
  const int64_t *args;
  int32_t rc;
} planes_job;

static void planes_piece(void *ctx, int64_t p0, int64_t count) {
  planes_job *j = (planes_job *)ctx;
  int rc = tjs_pool_range(j->args, p0, p0 + count);
  if (rc) __atomic_store_n(&j->rc, rc, __ATOMIC_RELAXED);
}

TJS_EXPORT int tjs_pool_planes(void) {
  const int64_t *A = tjs_args;
  int64_t planes = A[TJS_POOL_PLANES];
  int64_t out_sz = A[TJS_POOL_OD] * A[TJS_POOL_OH] * A[TJS_POOL_OW];
  if (planes <= 0 || out_sz <= 0) return tjs_pool_range(A, 0, planes < 0 ? 0 : planes);
  planes_job j = {A, TJS_OK};
  pool_pieces(planes, CHUNK / out_sz < 1 ? 1 : CHUNK / out_sz, planes_piece, &j);
  return j.rc;
}
