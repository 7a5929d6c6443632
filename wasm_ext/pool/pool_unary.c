/* pool_unary.c: float32 transcendental maps (vec_math.h's exp, log, tanh, erf, sigmoid, silu, GELU, ...) shared
 * out over the worker pool of the shared-memory module (mk/wasm_threads.mk; only that module builds this file, so
 * the native library and Pyodide's side module do not have it).
 *
 * tjs_pool_unary reads tjs_unary's argument layout (kernel_abi "unary": op dtype ndim out in shape strides p0 p1
 * p2) for one contiguous float32 run (ndim 1, both strides 1; backends/cpu/wasm_threads.py copies the operand in
 * and the result out). The run is cut into pieces (pool_rows.h: rows of one element) that the workers take in
 * turn; each piece goes through vec_unary.h's template, the very code that tjs_unary runs on one thread in the side module
 * (VM_LANES 4, no fused multiply-adds), and every lane's result depends on that lane's input alone, so the bits
 * are those of the one-thread op whatever the thread count and the cut. TJS_ERR_OP for the ops the template
 * leaves to libm (Python sends only those it has). */
#include "../tjs.h"
#include "pool_rows.h"

#define VEC_UNARY_F32 static int pool_vec_unary_f32
#include "../vec_unary.h"

typedef struct {
  int op;
  float *out;
  const float *in;
  double p0, p1, p2;
  int32_t failed;
} unary_job;

/* elements [i0, i0 + len) of the run */
static void unary_piece(void *ctx, int64_t i0, int64_t len) {
  unary_job *j = (unary_job *)ctx;
  const int64_t one = 1;
  const int64_t *st[2] = {&one, &one};
  tjs_iter it;
  tjs_iter_init(&it, 1, &len, 2, st);
  if (pool_vec_unary_f32(j->op, &it, (char *)(j->out + i0), (const char *)(j->in + i0), j->p0, j->p1, j->p2))
    __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
}

TJS_EXPORT int tjs_pool_unary(void) {
  const int nd = (int)tjs_args[TJS_UNARY_NDIM];
  if (tjs_args[TJS_UNARY_DTYPE] != TJS_F32) return TJS_ERR_DTYPE;
  if (nd != 1 || tjs_args[TJS_UNARY_OUT_STRIDES(1)] != 1 || tjs_args[TJS_UNARY_IN_STRIDES(1)] != 1)
    return TJS_ERR_ARG;
  const int64_t n = tjs_args[TJS_UNARY_SHAPE];
  unary_job j = {(int)tjs_args[TJS_UNARY_OP], (float *)TJS_PTR(tjs_args[TJS_UNARY_OUT]),
                 (const float *)TJS_PTR(tjs_args[TJS_UNARY_IN]), tjs_arg_f64(TJS_UNARY_P0(1)),
                 tjs_arg_f64(TJS_UNARY_P1(1)), tjs_arg_f64(TJS_UNARY_P2(1)), 0};
  if (n <= 0) return TJS_OK;
  pool_rows(n, 1, unary_piece, &j);   /* POOL_ROWS_PIECE elements a piece */
  return j.failed ? TJS_ERR_OP : TJS_OK;
}
