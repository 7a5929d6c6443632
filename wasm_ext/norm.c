/* norm.c: tjs_layer_norm, float32 layer norm over contiguous rows in one pass a row, for the norms of a
 * transformer's forward (12 a MiniLM forward, ~0.7 ms each through the composite's dozen ops on one thread). The
 * side module runs it on Pyodide's thread, the native library on its threads, and the shared-memory module
 * (mk/wasm_threads.mk) on its worker pool: the rows are shared out by pool_rows.h in each.
 *
 * tjs_layer_norm computes, row by row, exactly what nn.functional.layer_norm's composite computes on one thread
 * in the side module (nn/_functional/norm.py: _stats, then rsqrt, then the affine map), each step rounded to float32
 * as the composite's tensors are: mean = (float)rsum(x) / n (tjs_reduce's row sum, row_sum.h), d = x - mean,
 * var = (float)rsum(d * d) / n, rstd = 1 / sqrtf(var + (float)eps), y = (x - mean) * rstd, then * weight, then
 * + bias. A row's result depends on that row alone, so any cut and any thread count give the one-thread bits
 * (pool_rows.h).
 *
 * Arguments: ABI.md (weight, bias 0: none). out, mean and rstd are written; x is read. */
#include "tjs.h"
#include "threads.h"
#include "iter.h"
#include "row_sum.h"
#include "pool/pool_rows.h"

typedef struct {
  int64_t n;
  float *out, *mean, *rstd;
  const float *x, *weight, *bias;
  float eps;
} norm_job;

static void norm_rows(void *ctx, int64_t r0, int64_t rows) {
  const norm_job *j = (const norm_job *)ctx;
  const int64_t n = j->n;
  const float fn = (float)n;
  for (int64_t r = r0; r < r0 + rows; r++) {
    const float *x = j->x + r * n;
    float *y = j->out + r * n;
    const float m = (float)rsum_f32(x, n, 1) / fn;
    for (int64_t i = 0; i < n; i++) {   /* the squared deviations, summed from y as the composite sums its tensor */
      const float d = x[i] - m;
      y[i] = d * d;
    }
    const float var = (float)rsum_f32(y, n, 1) / fn;
    const float rs = 1.0f / __builtin_sqrtf(var + j->eps);
    /* one pass for the composite's three ops: each product and sum still rounded to float (no contraction) */
    const float *w = j->weight, *b = j->bias;
    if (w && b)
      for (int64_t i = 0; i < n; i++) y[i] = (x[i] - m) * rs * w[i] + b[i];
    else if (w)
      for (int64_t i = 0; i < n; i++) y[i] = (x[i] - m) * rs * w[i];
    else if (b)
      for (int64_t i = 0; i < n; i++) y[i] = (x[i] - m) * rs + b[i];
    else
      for (int64_t i = 0; i < n; i++) y[i] = (x[i] - m) * rs;
    j->mean[r] = m;
    j->rstd[r] = rs;
  }
}

TJS_EXPORT int tjs_layer_norm(void) {
  const int64_t outer = tjs_args[TJS_LAYER_NORM_OUTER];
  norm_job j = {tjs_args[TJS_LAYER_NORM_N], (float *)TJS_PTR(tjs_args[TJS_LAYER_NORM_OUT]),
                (float *)TJS_PTR(tjs_args[TJS_LAYER_NORM_MEAN]), (float *)TJS_PTR(tjs_args[TJS_LAYER_NORM_RSTD]),
                (const float *)TJS_PTR(tjs_args[TJS_LAYER_NORM_X]),
                (const float *)TJS_PTR(tjs_args[TJS_LAYER_NORM_WEIGHT]),
                (const float *)TJS_PTR(tjs_args[TJS_LAYER_NORM_BIAS]), (float)tjs_arg_f64(TJS_LAYER_NORM_EPS)};
  if (outer > 0 && j.n > 0) pool_rows(outer, j.n, norm_rows, &j);
  return TJS_OK;
}
