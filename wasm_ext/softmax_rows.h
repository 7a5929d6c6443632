/* softmax_rows.h: float32 softmax rows with tjs_softmax's bits, for the kernels that compute softmax rows of their
 * own (attention.c's attention weights). Each module has one definition: reduce.c's (the side module, the native
 * library: tjs_softmax's own code) or pool/pool_softmax.c's (the shared-memory module, which has no reduce.c: Pyodide's
 * expf four at a time, the same bits). */
#ifndef TJS_SOFTMAX_ROWS_H
#define TJS_SOFTMAX_ROWS_H
#include <stdint.h>

/* y's rows = softmax of x's (rows of n floats, contiguous; y may be x) */
void tjs_softmax_rows_f32(const float *x, float *y, int64_t rows, int64_t n);
#endif
