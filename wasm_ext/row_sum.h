/* row_sum.h: rsum_f32, the float32 row sum into double of tjs_reduce (reduce.c) and of the pool's layer norm
 * (norm.c), whose means must be the reduction's bit for bit.
 *
 * f32, contiguous: blocks of 1024 summed in float by 8 SIMD accumulators (32 lanes, so 32 additions per
 * lane), the lanes combined pairwise, each block total added in double: fast and relative error ~1e-7. */
#ifndef TJS_ROW_SUM_H
#define TJS_ROW_SUM_H
#include <stdint.h>

typedef float tjs_rsum_f4u __attribute__((vector_size(16), aligned(4), may_alias));

static inline double rsum_f32(const float* p, int64_t n, int64_t s) {
  double acc = 0;
  int64_t i = 0;
  if (s == 1) {
    while (n - i >= 32) {
      int64_t blk = n - i < 1024 ? n - i : 1024;
      blk &= ~(int64_t)31;
      const tjs_rsum_f4u z = {0, 0, 0, 0};
      tjs_rsum_f4u a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
      const float* q = p + i;
      for (int64_t k = 0; k < blk; k += 32) {
        a0 += *(const tjs_rsum_f4u*)(q + k);      a1 += *(const tjs_rsum_f4u*)(q + k + 4);
        a2 += *(const tjs_rsum_f4u*)(q + k + 8);  a3 += *(const tjs_rsum_f4u*)(q + k + 12);
        a4 += *(const tjs_rsum_f4u*)(q + k + 16); a5 += *(const tjs_rsum_f4u*)(q + k + 20);
        a6 += *(const tjs_rsum_f4u*)(q + k + 24); a7 += *(const tjs_rsum_f4u*)(q + k + 28);
      }
      const tjs_rsum_f4u t = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
      acc += ((double)t[0] + (double)t[1]) + ((double)t[2] + (double)t[3]);
      i += blk;
    }
    for (; i < n; i++) acc += (double)p[i];
    return acc;
  }
  double b0 = 0, b1 = 0, b2 = 0, b3 = 0;
  for (; i + 4 <= n; i += 4) {
    b0 += (double)p[i * s]; b1 += (double)p[(i + 1) * s]; b2 += (double)p[(i + 2) * s]; b3 += (double)p[(i + 3) * s];
  }
  for (; i < n; i++) b0 += (double)p[i * s];
  return (b0 + b1) + (b2 + b3);
}
#endif
