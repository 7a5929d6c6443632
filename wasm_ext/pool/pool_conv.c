/* pool_conv.c: im2col and col2im (wasm_ext/conv.c's tjs_im2col, tjs_col2im) shared out over the worker pool of the
 * shared-memory module (mk/wasm_threads.mk; only that module builds this file).
 *
 * tjs_pool_im2col and tjs_pool_col2im read their kernel's argument layout (kernel_abi "im2col", "col2im";
 * backends/cpu/wasm_threads.py stages the operands). The images are cut into groups of about CHUNK elements of
 * columns that the workers take from a shared counter; each group runs conv.c's own code on an argument block of its
 * own (N the group's images, the addresses moved to its first image). An image's columns are copied from that image
 * alone and its voxels summed from its own columns, in conv.c's order, so the bits are those of the one-thread
 * kernel whatever the thread count and the cut. */
#include "../tjs.h"
#include "../threads.h"
#include "pool_rows.h"

int tjs_im2col_from(const int64_t *A);   /* conv.c */
int tjs_col2im_from(const int64_t *A);

#define CHUNK (1 << 18)
#define SLOTS 32   /* im2col's layout: 31 slots; col2im's: 26 */

typedef struct {
  int64_t args[SLOTS];
  int64_t es;
  int col2im;
  int32_t rc;
} conv_job;

static void conv_piece(void *ctx, int64_t n0, int64_t count) {
  conv_job *j = (conv_job *)ctx;
  int64_t A[SLOTS];
  __builtin_memcpy(A, j->args, sizeof A);
  if (j->col2im) {
    const int64_t image = A[TJS_COL2IM_C] * A[TJS_COL2IM_D] * A[TJS_COL2IM_H] * A[TJS_COL2IM_W];
    A[TJS_COL2IM_N] = count;
    A[TJS_COL2IM_COLS] += n0 * A[TJS_COL2IM_COLS_STRIDES] * j->es;
    A[TJS_COL2IM_OUT] += n0 * image * j->es;
  } else {
    A[TJS_IM2COL_N] = count;
    A[TJS_IM2COL_IN] += n0 * A[TJS_IM2COL_IN_STRIDES] * j->es;
    A[TJS_IM2COL_OUT] += n0 * A[TJS_IM2COL_OUT_STRIDES] * j->es;
  }
  int rc = j->col2im ? tjs_col2im_from(A) : tjs_im2col_from(A);
  if (rc) __atomic_store_n(&j->rc, rc, __ATOMIC_RELAXED);
}

/* the images of the call in tjs_args (col2im: that layout, else im2col's) shared out; `work` an image's elements */
static int run_images(int col2im, int64_t images, int64_t work) {
  conv_job j;
  __builtin_memcpy(j.args, tjs_args, sizeof j.args);
  j.es = tjs_dtype_size((int)tjs_args[0]);   /* both layouts start with the dtype */
  if (!j.es) return TJS_ERR_DTYPE;
  j.col2im = col2im;
  j.rc = TJS_OK;
  if (images <= 0) return col2im ? tjs_col2im_from(j.args) : tjs_im2col_from(j.args);
  pool_pieces(images, work > 0 && CHUNK / work > 1 ? CHUNK / work : 1, conv_piece, &j);
  return j.rc;
}

TJS_EXPORT int tjs_pool_im2col(void) {
  const int64_t *A = tjs_args;
  int64_t r = A[TJS_IM2COL_C] * A[TJS_IM2COL_KD] * A[TJS_IM2COL_KH] * A[TJS_IM2COL_KW];
  return run_images(0, A[TJS_IM2COL_N], r * A[TJS_IM2COL_OD] * A[TJS_IM2COL_OH] * A[TJS_IM2COL_OW]);
}

TJS_EXPORT int tjs_pool_col2im(void) {
  const int64_t *A = tjs_args;
  int64_t r = A[TJS_COL2IM_C] * A[TJS_COL2IM_KD] * A[TJS_COL2IM_KH] * A[TJS_COL2IM_KW];
  return run_images(1, A[TJS_COL2IM_N], r * A[TJS_COL2IM_OD] * A[TJS_COL2IM_OH] * A[TJS_COL2IM_OW]);
}
