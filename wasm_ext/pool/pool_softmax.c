/* pool_softmax.c: float32 softmax over contiguous rows shared out over the worker pool of the shared-memory module
 * (mk/wasm_threads.mk), for the attention weights of a transformer's forward.
 *
 * tjs_pool_softmax reads tjs_softmax's argument layout (kernel_abi "softmax": log dtype outer n out in) for float32
 * and log 0 (backends/cpu/wasm_threads.py copies the rows in and the result out; out may be in). The rows are cut
 * into pieces of about PIECE_ELEMS elements that the workers take from a shared counter, and each row is computed
 * exactly as reduce.c's tjs_softmax computes it in the side module: its maximum (NaN if any), libm's expf of each
 * element minus it (libm_expf.h: Pyodide's expf, bit for bit), their sum in double in order, one reciprocal rounded
 * to float, one product an element. A row's result depends on that row alone, so any cut and any thread count give
 * the one-thread bits. */
#include "../tjs.h"
#include "../threads.h"
#include "libm_expf.h"

#define PIECE_ELEMS 16384

typedef struct {
  int64_t outer, n, rows_per_piece, next;
  float *out;
  const float *in;
} softmax_job;

static void softmax_rows(const float *x, float *y, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; r++, x += n, y += n) {
    float m = -__builtin_inff();
    int nan = 0;
    for (int64_t i = 0; i < n; i++) {
      m = x[i] > m ? x[i] : m;
      nan |= x[i] != x[i];
    }
    if (nan) m = (float)__builtin_nan("");
    double s = 0;
    for (int64_t i = 0; i < n; i++) {
      const float e = libm_expf(x[i] - m);
      y[i] = e;
      s += (double)e;
    }
    const float inv = (float)(1.0 / s);
    for (int64_t i = 0; i < n; i++) y[i] *= inv;
  }
}

static void softmax_worker(void *ctx, int worker) {
  (void)worker;
  softmax_job *j = (softmax_job *)ctx;
  for (;;) {
    const int64_t r0 = tjs_fetch_add(&j->next, 1) * j->rows_per_piece;
    if (r0 >= j->outer) break;
    const int64_t rows = j->outer - r0 < j->rows_per_piece ? j->outer - r0 : j->rows_per_piece;
    softmax_rows(j->in + r0 * j->n, j->out + r0 * j->n, rows, j->n);
  }
}

TJS_EXPORT int tjs_pool_softmax(void) {
  if (tjs_args[TJS_SOFTMAX_DTYPE] != TJS_F32) return TJS_ERR_DTYPE;
  if (tjs_args[TJS_SOFTMAX_LOG] != 0) return TJS_ERR_ARG;   /* log_softmax (libm's log) stays in the side module */
  softmax_job j = {tjs_args[TJS_SOFTMAX_OUTER], tjs_args[TJS_SOFTMAX_N], 1, 0,
                   (float *)(uintptr_t)tjs_args[TJS_SOFTMAX_OUT], (const float *)(uintptr_t)tjs_args[TJS_SOFTMAX_IN]};
  if (j.outer <= 0 || j.n <= 0) return TJS_OK;
  if (j.n < PIECE_ELEMS) j.rows_per_piece = PIECE_ELEMS / j.n;
  const int64_t pieces = (j.outer + j.rows_per_piece - 1) / j.rows_per_piece;
  const int threads = tjs_threads_wanted();
  tjs_parallel(pieces < threads ? (int)pieces : threads, softmax_worker, &j);
  return TJS_OK;
}
