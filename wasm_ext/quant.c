/* tjs_quant_matmul: weight-only quantized matrix product, out (M×N) = x (M×K) @ W^T with W (N×K) kept packed.
 *
 * Schemes (kernel_abi.py's table has the layout):
 *   0  int8: w (N, K) int8, W[n, k] = w[n, k] · scales[n, k / group]. group = K is torch._weight_int8pack_mm's
 *      per-row scale; group = 32 with float16 scales is llama.cpp's Q8_0 with its scales split out.
 *   1  Q4_1 (group 32): w (N, K / 2) bytes, 16 per block of 32; byte j holds element j in its low nibble and
 *      element j + 16 in its high one (llama.cpp's order); W = scales · q + mins.
 * For each output column n the weight row is dequantised CHUNK elements at a time into a small aligned buffer
 * (never the whole matrix) and dotted with every row of x there, four float32 lanes at a time (relaxed fused
 * multiply-adds where the build has them, as gemm.c). Accumulation is float32, like PyTorch's CPU kernel.
 * Python splits long calls over ranges of n (backends/cpu/reduction.py), so out/w/scales arrive offset.
 */
#include "tjs.h"
#include "cvt.h"
#include "iter.h"

#define A tjs_args
#define CHUNK 256   /* weight elements dequantised at a time: a multiple of 32 (whole Q4_1 blocks) */

typedef float f4u __attribute__((vector_size(16), aligned(4), may_alias));
typedef ptrdiff_t idx_t;

#ifdef __wasm_relaxed_simd__
#define MADD4(a, b, c) __builtin_wasm_relaxed_madd_f32x4((a), (b), (c))
#else
#define MADD4(a, b, c) ((c) + (a) * (b))
#endif

static float wbuf[CHUNK] __attribute__((aligned(16)));

static inline float scale_at(const void *s, int dt, idx_t i) {
  if (dt == TJS_F32) return ((const float *)s)[i];
  if (dt == TJS_F16) return tjs_h2f(((const uint16_t *)s)[i]);
  return tjs_bf2f(((const uint16_t *)s)[i]);
}

/* int8 row q, elements [k0, k0 + len), scales of this row (one per group) -> wbuf */
static void dequant_int8(const int8_t *q, const void *srow, int sdt, idx_t group, idx_t k0, idx_t len) {
  idx_t j = 0;
  while (j < len) {
    idx_t g = (k0 + j) / group;
    idx_t end = (g + 1) * group - k0;
    if (end > len) end = len;
    const float s = scale_at(srow, sdt, g);
    for (; j < end; j++) wbuf[j] = (float)q[k0 + j] * s;
  }
}

/* Q4_1 row bytes q (16 per block), blocks of elements [k0, k0 + len) (k0, len multiples of 32) -> wbuf */
static void dequant_q4_1(const uint8_t *q, const void *srow, const void *mrow, int sdt, idx_t k0, idx_t len) {
  for (idx_t b = 0; b < len / 32; b++) {
    const idx_t blk = k0 / 32 + b;
    const float d = scale_at(srow, sdt, blk), m = scale_at(mrow, sdt, blk);
    const uint8_t *qs = q + blk * 16;
    float *dst = wbuf + b * 32;
    for (int j = 0; j < 16; j++) {
      dst[j] = (float)(qs[j] & 15) * d + m;
      dst[j + 16] = (float)(qs[j] >> 4) * d + m;
    }
  }
}

static float dot_chunk(const float *x, idx_t len) {
  f4 a0 = {0, 0, 0, 0}, a1 = {0, 0, 0, 0};
  idx_t j = 0;
  for (; j + 8 <= len; j += 8) {
    a0 = MADD4(*(const f4u *)(x + j), *(const f4 *)(wbuf + j), a0);
    a1 = MADD4(*(const f4u *)(x + j + 4), *(const f4 *)(wbuf + j + 4), a1);
  }
  for (; j + 4 <= len; j += 4) a0 = MADD4(*(const f4u *)(x + j), *(const f4 *)(wbuf + j), a0);
  a0 += a1;
  float s = (a0[0] + a0[1]) + (a0[2] + a0[3]);
  for (; j < len; j++) s += x[j] * wbuf[j];
  return s;
}

TJS_EXPORT int tjs_quant_matmul(void) {
  const int scheme = (int)A[TJS_QUANT_MATMUL_SCHEME];
  const idx_t M = (idx_t)A[TJS_QUANT_MATMUL_M], N = (idx_t)A[TJS_QUANT_MATMUL_N], K = (idx_t)A[TJS_QUANT_MATMUL_K];
  const idx_t group = (idx_t)A[TJS_QUANT_MATMUL_GROUP];
  const int sdt = (int)A[TJS_QUANT_MATMUL_SDTYPE];
  float *out = (float *)TJS_PTR(A[TJS_QUANT_MATMUL_OUT]);
  const idx_t out_rs = (idx_t)A[TJS_QUANT_MATMUL_OUT_RS];
  const float *x = (const float *)TJS_PTR(A[TJS_QUANT_MATMUL_X]);
  const idx_t x_rs = (idx_t)A[TJS_QUANT_MATMUL_X_RS];
  const char *w = (const char *)TJS_PTR(A[TJS_QUANT_MATMUL_W]);
  const char *scales = (const char *)TJS_PTR(A[TJS_QUANT_MATMUL_SCALES]);
  const char *mins = (const char *)TJS_PTR(A[TJS_QUANT_MATMUL_MINS]);
  if (sdt != TJS_F32 && sdt != TJS_F16 && sdt != TJS_BF16) return TJS_ERR_DTYPE;
  if (scheme < 0 || scheme > 1 || group <= 0 || (scheme == 1 && (group != 32 || K % 32))) return TJS_ERR_ARG;
  const idx_t ssize = sdt == TJS_F32 ? 4 : 2;
  const idx_t groups = (K + group - 1) / group;
  const idx_t wrow = scheme == 0 ? K : K / 2;
  for (idx_t m = 0; m < M; m++)
    for (idx_t n = 0; n < N; n++) out[m * out_rs + n] = 0.0f;
  for (idx_t n = 0; n < N; n++) {
    const char *srow = scales + n * groups * ssize;
    for (idx_t k0 = 0; k0 < K; k0 += CHUNK) {
      const idx_t len = K - k0 < CHUNK ? K - k0 : CHUNK;
      if (scheme == 0)
        dequant_int8((const int8_t *)(w + n * wrow), srow, sdt, group, k0, len);
      else
        dequant_q4_1((const uint8_t *)(w + n * wrow), srow, mins + n * groups * ssize, sdt, k0, len);
      for (idx_t m = 0; m < M; m++) out[m * out_rs + n] += dot_chunk(x + m * x_rs + k0, len);
    }
  }
  return TJS_OK;
}
