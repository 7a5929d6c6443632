/* pool_softmax.h: pool_softmax.c's row softmax, for the kernels that compute softmax rows of their own
 * (pool_attention.c's attention weights). */
#ifndef TJS_POOL_SOFTMAX_H
#define TJS_POOL_SOFTMAX_H
#include <stdint.h>

/* y's rows = softmax of x's (rows of n floats, contiguous; y may be x): tjs_softmax's bits for float32 */
void pool_softmax_rows(const float *x, float *y, int64_t rows, int64_t n);
#endif
