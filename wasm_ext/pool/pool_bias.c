/* pool_bias.c: a bias row added to every row of a float32 product in the shared memory, over the worker pool
 * (mk/wasm_threads.mk), for nn.functional.linear's addmm (backends/cpu/wasm_threads.py adds it to the pooled product
 * before the one copy back, instead of a second pass on Pyodide's thread).
 *
 * out[r][c] = out[r][c] + bias[c]: the side module's in-place add (a + b, one rounding), so the bits of
 * `out.add_(bias)` for any cut and any thread count (pool_rows.h).
 *
 * Arguments (int64 slots of tjs_args; wasm_threads.py's _ADD_ROWS packs them): outer, n, out, bias. */
#include "../tjs.h"
#include "../iter.h"
#include "pool_rows.h"

enum { AR_OUTER, AR_N, AR_OUT, AR_BIAS };

typedef struct {
  int64_t n;
  float *out;
  const float *bias;
} add_rows_job;

static void add_rows(void *ctx, int64_t r0, int64_t rows) {
  const add_rows_job *j = (const add_rows_job *)ctx;
  for (int64_t r = r0; r < r0 + rows; r++) {
    float *y = j->out + r * j->n;
    for (int64_t i = 0; i < j->n; i++) y[i] = y[i] + j->bias[i];
  }
}

TJS_EXPORT int tjs_pool_add_rows(void) {
  const int64_t outer = tjs_args[AR_OUTER];
  add_rows_job j = {tjs_args[AR_N], (float *)TJS_PTR(tjs_args[AR_OUT]), (const float *)TJS_PTR(tjs_args[AR_BIAS])};
  if (outer > 0 && j.n > 0) pool_rows(outer, j.n, add_rows, &j);
  return TJS_OK;
}
