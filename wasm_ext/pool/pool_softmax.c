/* pool_softmax.c: float32 softmax over contiguous rows shared out over the worker pool of the shared-memory module
 * (mk/wasm_threads.mk), for the attention weights of a transformer's forward.
 *
 * tjs_pool_softmax reads tjs_softmax's argument layout (kernel_abi "softmax": log dtype outer n out in) for float32
 * and log 0 (backends/cpu/wasm_threads.py copies the rows in and the result out; out may be in). Each row is
 * computed exactly as reduce.c's tjs_softmax computes it in the side module: its maximum (NaN if any), libm's expf
 * of each element minus it (libm_expf.h: Pyodide's expf, bit for bit), their sum in double in order, one reciprocal
 * rounded to float, one product an element. A row's result depends on that row alone, so any cut and any thread count
 * give the one-thread bits (pool_rows.h). attention.c computes its weights' rows with the same code. */
#include "../tjs.h"
#include "../threads.h"
#include "libm_expf.h"
#include "pool_rows.h"
#include "../softmax_rows.h"

typedef struct {
  int64_t n;
  float *out;
  const float *in;
} softmax_job;

typedef float softmax_f4u __attribute__((vector_size(16), aligned(4), may_alias));   /* unaligned rows */

void tjs_softmax_rows_f32(const float *x, float *y, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; r++, x += n, y += n) {
    float m = -__builtin_inff();
    int nan = 0;
    for (int64_t i = 0; i < n; i++) {
      m = x[i] > m ? x[i] : m;
      nan |= x[i] != x[i];
    }
    if (nan) m = (float)__builtin_nan("");
    double s = 0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {   /* four exponentials at a time; the sum still one element at a time, in order */
      const f4 e = libm_expf4(*(const softmax_f4u *)(x + i) - m);
      *(softmax_f4u *)(y + i) = e;
      s += (double)e[0];
      s += (double)e[1];
      s += (double)e[2];
      s += (double)e[3];
    }
    for (; i < n; i++) {
      const float e = libm_expf(x[i] - m);
      y[i] = e;
      s += (double)e;
    }
    const float inv = (float)(1.0 / s);
    for (int64_t i = 0; i < n; i++) y[i] *= inv;
  }
}

static void softmax_piece(void *ctx, int64_t r0, int64_t rows) {
  const softmax_job *j = (const softmax_job *)ctx;
  tjs_softmax_rows_f32(j->in + r0 * j->n, j->out + r0 * j->n, rows, j->n);
}

TJS_EXPORT int tjs_pool_softmax(void) {
  if (tjs_args[TJS_SOFTMAX_DTYPE] != TJS_F32) return TJS_ERR_DTYPE;
  if (tjs_args[TJS_SOFTMAX_LOG] != 0) return TJS_ERR_ARG;   /* log_softmax (libm's log) stays in the side module */
  const int64_t outer = tjs_args[TJS_SOFTMAX_OUTER];
  softmax_job j = {tjs_args[TJS_SOFTMAX_N], (float *)(uintptr_t)tjs_args[TJS_SOFTMAX_OUT],
                   (const float *)(uintptr_t)tjs_args[TJS_SOFTMAX_IN]};
  if (outer > 0 && j.n > 0) pool_rows(outer, j.n, softmax_piece, &j);
  return TJS_OK;
}
