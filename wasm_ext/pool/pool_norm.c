/* pool_norm.c: float32 layer norm over contiguous rows shared out over the worker pool of the shared-memory module
 * (mk/wasm_threads.mk), for the norms of a transformer's forward (12 a MiniLM forward, ~0.7 ms each on one thread:
 * the composite's dozen ops).
 *
 * tjs_pool_layer_norm computes, row by row, exactly what nn.functional.layer_norm's composite computes on one thread
 * in the side module (nn/_functional/norm.py: _stats, then rsqrt, then the affine map), each step rounded to float32
 * as the composite's tensors are: mean = (float)rsum(x) / n (tjs_reduce's row sum, row_sum.h), d = x - mean,
 * var = (float)rsum(d * d) / n, rstd = 1 / sqrtf(var + (float)eps), y = (x - mean) * rstd, then * weight, then
 * + bias. A row's result depends on that row alone, so any cut and any thread count give the one-thread bits
 * (pool_rows.h).
 *
 * Arguments (int64 slots of tjs_args; backends/cpu/wasm_threads.py's _LAYER_NORM packs them): outer, n, out, mean,
 * rstd, x, weight (0: none), bias (0: none), eps (f64). out, mean and rstd are written; x is read. */
#include "../tjs.h"
#include "../threads.h"
#include "../iter.h"
#include "../row_sum.h"
#include "pool_rows.h"

enum { LN_OUTER, LN_N, LN_OUT, LN_MEAN, LN_RSTD, LN_X, LN_WEIGHT, LN_BIAS, LN_EPS };

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

TJS_EXPORT int tjs_pool_layer_norm(void) {
  const int64_t outer = tjs_args[LN_OUTER];
  norm_job j = {tjs_args[LN_N], (float *)TJS_PTR(tjs_args[LN_OUT]),
                (float *)TJS_PTR(tjs_args[LN_MEAN]), (float *)TJS_PTR(tjs_args[LN_RSTD]),
                (const float *)TJS_PTR(tjs_args[LN_X]), (const float *)TJS_PTR(tjs_args[LN_WEIGHT]),
                (const float *)TJS_PTR(tjs_args[LN_BIAS]), (float)tjs_arg_f64(LN_EPS)};
  if (outer > 0 && j.n > 0) pool_rows(outer, j.n, norm_rows, &j);
  return TJS_OK;
}
