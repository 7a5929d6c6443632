/* tjs_gemm: batched matrix multiply, out[bt] (contiguous M×N) = a[bt] (M×K) @ b[bt] (K×N), a and b strided.
 *
 * f32/f64: Goto/BLIS-style blocking. A is packed into MC×KC blocks of MR-row micro-panels and B into KC×NC
 * blocks of NR-column micro-panels (zero-padded at the edges), so any strides (transposed, 0 for broadcast)
 * cost only the packing. The micro-kernel keeps an MR×NR tile of C in vector registers: 4×8 for f32 (8 f4
 * accumulators; measured as the shape V8 register-allocates best), 4×4 for f64 (8 d2 accumulators).
 * With -mrelaxed-simd the multiply-add is f32x4.relaxed_madd (fused where the CPU has FMA). The native x86-64
 * build takes gemm_x86.c's AVX2+FMA / AVX-512 kernels instead where the CPU has them (same driver, gemm_blocked.h).
 * Small problems (M·N·K <= DIRECT_MAX), matrix-vector shapes (M == 1 or N == 1) and outer products take a
 * direct loop with no packing (f32: 1×16 register-accumulated row blocks when B's rows are contiguous).
 * Batches: out[bt] is contiguous; a B shared by all batches (b_bs == 0) with A's batches laid out like rows
 * folds into one (batch·M)×N product. Static packing buffers: 640 KiB (bss, zero bytes in the module file).
 * Measured in V8: noinline micro-kernel (+30%: a small function register-allocates well), k loop not
 * unrolled (unroll 2/4: 25-60% slower), NC 256/512/1024 within noise.
 * Integers: a plain triple loop in unsigned arithmetic (wrapping, as PyTorch CPU). bool/f16/bf16: TJS_ERR_DTYPE
 * (the Python side upcasts).
 *
 * Threads (native build, threads.h): with torch.set_num_threads(n > 1) a product is cut into tiles (below) that n
 * workers share; any tiling gives the same bits, so results do not depend on the thread count.
 *
 * Sizes are converted to ptrdiff_t once validated: in wasm32 that keeps address arithmetic in i32.
 */
#include "gemm_blocked.h"
#include "threads.h"

typedef float f4u __attribute__((vector_size(16), aligned(4), may_alias));
typedef double d2u __attribute__((vector_size(16), aligned(8), may_alias));

#ifdef __wasm_relaxed_simd__
#define MADD4(a, b, c) __builtin_wasm_relaxed_madd_f32x4((a), (b), (c))
#define MADD2(a, b, c) __builtin_wasm_relaxed_madd_f64x2((a), (b), (c))
#else
#define MADD4(a, b, c) ((c) + (a) * (b))
#define MADD2(a, b, c) ((c) + (a) * (b))
#endif

/* blocking: packed A block is MC×KC, packed B block KC×NC (both 128 KiB / 512 KiB for either type) */
#define MC_F 128
#ifndef NC_F
#define NC_F 512
#endif
#define MR_F 4
#define NR_F 8
#define MC_D 64
#define NC_D 256
#define MR_D 4
#define NR_D 4

#ifdef TJS_GEMM_X86
/* gemm_x86.c's kernels pack into these too */
static union { float f[MC_F * KC]; double d[MC_D * KC]; char x86[TJS_GEMM_X86_PACK_A_BYTES]; } pack_a
    __attribute__((aligned(64)));
static union { float f[KC * NC_F]; double d[KC * NC_D]; char x86[TJS_GEMM_X86_PACK_B_BYTES]; } pack_b
    __attribute__((aligned(64)));
#else
static union { float f[MC_F * KC]; double d[MC_D * KC]; } pack_a __attribute__((aligned(64)));
static union { float f[KC * NC_F]; double d[KC * NC_D]; } pack_b __attribute__((aligned(64)));
#endif
INLINE f4 splat4(float x) { return (f4){x, x, x, x}; }
INLINE d2 splat2(double x) { return (d2){x, x}; }

/* ------------------------------------------------------------------------------------------------------ */
/* f32 packing                                                                                            */

/* A block (mc×kc at a, strides rs/cs) -> MR_F-row micro-panels, each kc×MR_F (row index fastest) */
static void pack_a_f32(const float *a, idx_t rs, idx_t cs, idx_t mc, idx_t kc, float *restrict dst) {
  for (idx_t i = 0; i < mc; i += MR_F) {
    idx_t mr = imin(MR_F, mc - i);
    const float *ai = a + i * rs;
    if (mr == MR_F && cs == 1) {
      const float *r0 = ai, *r1 = ai + rs, *r2 = ai + 2 * rs, *r3 = ai + 3 * rs;
      for (idx_t k = 0; k < kc; k++) {
        dst[0] = r0[k]; dst[1] = r1[k]; dst[2] = r2[k]; dst[3] = r3[k];
        dst += 4;
      }
    } else if (mr == MR_F && rs == 1) {
      for (idx_t k = 0; k < kc; k++) {
        *(f4 *)dst = *(const f4u *)(ai + k * cs);
        dst += 4;
      }
    } else {
      for (idx_t k = 0; k < kc; k++) {
        const float *p = ai + k * cs;
        idx_t r = 0;
        for (; r < mr; r++) dst[r] = p[r * rs];
        for (; r < MR_F; r++) dst[r] = 0.0f;
        dst += MR_F;
      }
    }
  }
}

/* B block (kc×nc at b, strides rs/cs) -> NR_F-column micro-panels, each kc×NR_F (column index fastest) */
static void pack_b_f32(const float *b, idx_t rs, idx_t cs, idx_t kc, idx_t nc, float *restrict dst) {
  for (idx_t j = 0; j < nc; j += NR_F) {
    idx_t nr = imin(NR_F, nc - j);
    const float *bj = b + j * cs;
    if (nr == NR_F && cs == 1) {
      for (idx_t k = 0; k < kc; k++) {
        const float *p = bj + k * rs;
        *(f4 *)dst = *(const f4u *)p;
        *(f4 *)(dst + 4) = *(const f4u *)(p + 4);
        dst += NR_F;
      }
    } else if (nr == NR_F && rs == 1) {
      /* transposed B (x @ W.T): each packed column is a contiguous run of the source */
      for (idx_t c = 0; c < NR_F; c++) {
        const float *p = bj + c * cs;
        float *d = dst + c;
        for (idx_t k = 0; k < kc; k++) d[k * NR_F] = p[k];
      }
      dst += kc * NR_F;
    } else {
      for (idx_t k = 0; k < kc; k++) {
        const float *p = bj + k * rs;
        idx_t c = 0;
        for (; c < nr; c++) dst[c] = p[c * cs];
        for (; c < NR_F; c++) dst[c] = 0.0f;
        dst += NR_F;
      }
    }
  }
}

/* ------------------------------------------------------------------------------------------------------ */
/* f32 micro-kernel: C[mr×nr] (=|+=) Ap (kc×4) · Bp (kc×8), C row stride ldc                            */

NOINLINE void ukr_f32(idx_t kc, const float *restrict ap, const float *restrict bp, float *restrict c, idx_t ldc,
                    int accum, idx_t mr, idx_t nr) {
  f4 c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0}, c30 = {0}, c31 = {0};
  /* one k step per iteration: unrolling by 2 or 4 measured 25-40% slower in V8 (register pressure) */
  for (idx_t k = 0; k < kc; k++) {
    f4 b0 = *(const f4 *)bp, b1 = *(const f4 *)(bp + 4);
    f4 a;
    a = splat4(ap[0]); c00 = MADD4(a, b0, c00); c01 = MADD4(a, b1, c01);
    a = splat4(ap[1]); c10 = MADD4(a, b0, c10); c11 = MADD4(a, b1, c11);
    a = splat4(ap[2]); c20 = MADD4(a, b0, c20); c21 = MADD4(a, b1, c21);
    a = splat4(ap[3]); c30 = MADD4(a, b0, c30); c31 = MADD4(a, b1, c31);
    ap += MR_F;
    bp += NR_F;
  }
  if (mr == MR_F && nr == NR_F) {
    float *r0 = c, *r1 = c + ldc, *r2 = c + 2 * ldc, *r3 = c + 3 * ldc;
    if (accum) {
      c00 += *(f4u *)r0; c01 += *(f4u *)(r0 + 4);
      c10 += *(f4u *)r1; c11 += *(f4u *)(r1 + 4);
      c20 += *(f4u *)r2; c21 += *(f4u *)(r2 + 4);
      c30 += *(f4u *)r3; c31 += *(f4u *)(r3 + 4);
    }
    *(f4u *)r0 = c00; *(f4u *)(r0 + 4) = c01;
    *(f4u *)r1 = c10; *(f4u *)(r1 + 4) = c11;
    *(f4u *)r2 = c20; *(f4u *)(r2 + 4) = c21;
    *(f4u *)r3 = c30; *(f4u *)(r3 + 4) = c31;
  } else {
    float t[MR_F * NR_F] __attribute__((aligned(16)));
    *(f4 *)(t + 0) = c00; *(f4 *)(t + 4) = c01;
    *(f4 *)(t + 8) = c10; *(f4 *)(t + 12) = c11;
    *(f4 *)(t + 16) = c20; *(f4 *)(t + 20) = c21;
    *(f4 *)(t + 24) = c30; *(f4 *)(t + 28) = c31;
    for (idx_t r = 0; r < mr; r++) {
      float *cr = c + r * ldc;
      const float *tr = t + r * NR_F;
      if (accum)
        for (idx_t j = 0; j < nr; j++) cr[j] += tr[j];
      else
        for (idx_t j = 0; j < nr; j++) cr[j] = tr[j];
    }
  }
}

/* ------------------------------------------------------------------------------------------------------ */
/* f64 packing and micro-kernel (4×4, d2 accumulators)                                                    */

static void pack_a_f64(const double *a, idx_t rs, idx_t cs, idx_t mc, idx_t kc, double *restrict dst) {
  for (idx_t i = 0; i < mc; i += MR_D) {
    idx_t mr = imin(MR_D, mc - i);
    const double *ai = a + i * rs;
    if (mr == MR_D && cs == 1) {
      const double *r0 = ai, *r1 = ai + rs, *r2 = ai + 2 * rs, *r3 = ai + 3 * rs;
      for (idx_t k = 0; k < kc; k++) {
        dst[0] = r0[k]; dst[1] = r1[k]; dst[2] = r2[k]; dst[3] = r3[k];
        dst += 4;
      }
    } else {
      for (idx_t k = 0; k < kc; k++) {
        const double *p = ai + k * cs;
        idx_t r = 0;
        for (; r < mr; r++) dst[r] = p[r * rs];
        for (; r < MR_D; r++) dst[r] = 0.0;
        dst += MR_D;
      }
    }
  }
}

static void pack_b_f64(const double *b, idx_t rs, idx_t cs, idx_t kc, idx_t nc, double *restrict dst) {
  for (idx_t j = 0; j < nc; j += NR_D) {
    idx_t nr = imin(NR_D, nc - j);
    const double *bj = b + j * cs;
    if (nr == NR_D && cs == 1) {
      for (idx_t k = 0; k < kc; k++) {
        const double *p = bj + k * rs;
        *(d2 *)dst = *(const d2u *)p;
        *(d2 *)(dst + 2) = *(const d2u *)(p + 2);
        dst += NR_D;
      }
    } else if (nr == NR_D && rs == 1) {
      for (idx_t c = 0; c < NR_D; c++) {
        const double *p = bj + c * cs;
        double *d = dst + c;
        for (idx_t k = 0; k < kc; k++) d[k * NR_D] = p[k];
      }
      dst += kc * NR_D;
    } else {
      for (idx_t k = 0; k < kc; k++) {
        const double *p = bj + k * rs;
        idx_t c = 0;
        for (; c < nr; c++) dst[c] = p[c * cs];
        for (; c < NR_D; c++) dst[c] = 0.0;
        dst += NR_D;
      }
    }
  }
}

NOINLINE void ukr_f64(idx_t kc, const double *restrict ap, const double *restrict bp, double *restrict c, idx_t ldc,
                    int accum, idx_t mr, idx_t nr) {
  d2 c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0}, c30 = {0}, c31 = {0};
  for (idx_t k = 0; k < kc; k++) {
    d2 b0 = *(const d2 *)bp, b1 = *(const d2 *)(bp + 2);
    d2 a;
    a = splat2(ap[0]); c00 = MADD2(a, b0, c00); c01 = MADD2(a, b1, c01);
    a = splat2(ap[1]); c10 = MADD2(a, b0, c10); c11 = MADD2(a, b1, c11);
    a = splat2(ap[2]); c20 = MADD2(a, b0, c20); c21 = MADD2(a, b1, c21);
    a = splat2(ap[3]); c30 = MADD2(a, b0, c30); c31 = MADD2(a, b1, c31);
    ap += MR_D;
    bp += NR_D;
  }
  double t[MR_D * NR_D] __attribute__((aligned(16)));
  *(d2 *)(t + 0) = c00; *(d2 *)(t + 2) = c01;
  *(d2 *)(t + 4) = c10; *(d2 *)(t + 6) = c11;
  *(d2 *)(t + 8) = c20; *(d2 *)(t + 10) = c21;
  *(d2 *)(t + 12) = c30; *(d2 *)(t + 14) = c31;
  for (idx_t r = 0; r < mr; r++) {
    double *cr = c + r * ldc;
    const double *tr = t + r * NR_D;
    if (accum)
      for (idx_t j = 0; j < nr; j++) cr[j] += tr[j];
    else
      for (idx_t j = 0; j < nr; j++) cr[j] = tr[j];
  }
}

/* ------------------------------------------------------------------------------------------------------ */
/* blocked drivers (C contiguous with row stride ldc)                                                      */

/* how many units blocked_<T> cuts a product into, and the multiply-adds of the largest */
static int64_t blocked_units(idx_t M, idx_t N, idx_t K, idx_t MC, idx_t NC, idx_t MR, int64_t *cost) {
  idx_t kcb = even_block(K, KC, 8), mcb = even_block(M, MC, MR);
  *cost = (int64_t)mcb * NC * kcb;
  return ((int64_t)(N + NC - 1) / NC) * ((K + kcb - 1) / kcb) * ((M + mcb - 1) / mcb);
}

DEFINE_BLOCKED(blocked_f32, float, MC_F, NC_F, MR_F, NR_F, pack_a_f32, pack_b_f32, ukr_f32)
DEFINE_BLOCKED(blocked_f64, double, MC_D, NC_D, MR_D, NR_D, pack_a_f64, pack_b_f64, ukr_f64)

/* The blocked kernel every f32/f64 product takes: the ones above, or on x86-64 CPUs with AVX2+FMA gemm_x86.c's
 * widest (asked once, on the first product). Tiles, parts and units follow its blocking. */
typedef struct { idx_t mr, nr, mc, nc; } gemm_blocking;
#ifdef TJS_GEMM_X86
static int x86_isa = -1;
static tjs_gemm_kernel x86_f32, x86_f64;
#endif

static gemm_blocking blocking_of(int dtype) {
#ifdef TJS_GEMM_X86
  if (x86_isa > 0) {
    const tjs_gemm_kernel *k = dtype == TJS_F32 ? &x86_f32 : &x86_f64;
    return (gemm_blocking){k->mr, k->nr, k->mc, k->nc};
  }
#endif
  return dtype == TJS_F32 ? (gemm_blocking){MR_F, NR_F, MC_F, NC_F} : (gemm_blocking){MR_D, NR_D, MC_D, NC_D};
}

static int64_t units_of(int dtype, idx_t M, idx_t N, idx_t K, int64_t *cost) {
  gemm_blocking g = blocking_of(dtype);
  return blocked_units(M, N, K, g.mc, g.nc, g.mr, cost);
}

/* units [u0, u1) of an f32/f64 product by the blocked kernel, into c (row stride ldc) */
static void run_blocked(int dtype, idx_t M, idx_t N, idx_t K, const char *a, idx_t ars, idx_t acs, const char *b,
                        idx_t brs, idx_t bcs, char *c, idx_t ldc, int64_t u0, int64_t u1, void *pa, void *pb) {
#ifdef TJS_GEMM_X86
  if (x86_isa > 0) {
    if (dtype == TJS_F32)
      ((tjs_blocked_f32_fn)x86_f32.run)(M, N, K, (const float *)a, ars, acs, (const float *)b, brs, bcs, (float *)c,
                                        ldc, u0, u1, pa, pb);
    else
      ((tjs_blocked_f64_fn)x86_f64.run)(M, N, K, (const double *)a, ars, acs, (const double *)b, brs, bcs,
                                        (double *)c, ldc, u0, u1, pa, pb);
    return;
  }
#endif
  if (dtype == TJS_F32)
    blocked_f32(M, N, K, (const float *)a, ars, acs, (const float *)b, brs, bcs, (float *)c, ldc, u0, u1, pa, pb);
  else
    blocked_f64(M, N, K, (const double *)a, ars, acs, (const double *)b, brs, bcs, (double *)c, ldc, u0, u1, pa, pb);
}

/* ------------------------------------------------------------------------------------------------------ */
/* direct (unpacked) paths for small and matrix-vector shapes                                             */

NOINLINE void direct_f32(idx_t M, idx_t N, idx_t K, const float *a, idx_t ars, idx_t acs, const float *b, idx_t brs,
                       idx_t bcs, float *c, idx_t ldc) {
  if (N == 1) {
    for (idx_t i = 0; i < M; i++) {
      const float *ai = a + i * ars;
      float s;
      if (acs == 1 && brs == 1) {
        f4 s0 = {0}, s1 = {0};
        idx_t k = 0;
        for (; k + 8 <= K; k += 8) {
          s0 += *(const f4u *)(ai + k) * *(const f4u *)(b + k);
          s1 += *(const f4u *)(ai + k + 4) * *(const f4u *)(b + k + 4);
        }
        s0 += s1;
        s = (s0[0] + s0[2]) + (s0[1] + s0[3]);
        for (; k < K; k++) s += ai[k] * b[k];
      } else {
        s = 0.0f;
        for (idx_t k = 0; k < K; k++) s += ai[k * acs] * b[k * brs];
      }
      c[i * ldc] = s;
    }
    return;
  }
  for (idx_t i = 0; i < M; i++) {
    const float *ai = a + i * ars;
    float *ci = c + i * ldc;
    idx_t j = 0;
    if (bcs == 1) {
      /* register-accumulated row blocks: C[i, j:j+16] = sum_k A[i,k] * B[k, j:j+16] */
      for (; j + 16 <= N; j += 16) {
        f4 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
        const float *bk = b + j;
        for (idx_t k = 0; k < K; k++) {
          f4 av = splat4(ai[k * acs]);
          s0 = MADD4(av, *(const f4u *)bk, s0);
          s1 = MADD4(av, *(const f4u *)(bk + 4), s1);
          s2 = MADD4(av, *(const f4u *)(bk + 8), s2);
          s3 = MADD4(av, *(const f4u *)(bk + 12), s3);
          bk += brs;
        }
        *(f4u *)(ci + j) = s0; *(f4u *)(ci + j + 4) = s1;
        *(f4u *)(ci + j + 8) = s2; *(f4u *)(ci + j + 12) = s3;
      }
      for (; j + 4 <= N; j += 4) {
        f4 s0 = {0};
        const float *bk = b + j;
        for (idx_t k = 0; k < K; k++) {
          s0 = MADD4(splat4(ai[k * acs]), *(const f4u *)bk, s0);
          bk += brs;
        }
        *(f4u *)(ci + j) = s0;
      }
    }
    for (; j < N; j++) {
      const float *bj = b + j * bcs;
      float s = 0.0f;
      for (idx_t k = 0; k < K; k++) s += ai[k * acs] * bj[k * brs];
      ci[j] = s;
    }
  }
}

NOINLINE void direct_f64(idx_t M, idx_t N, idx_t K, const double *a, idx_t ars, idx_t acs, const double *b,
                       idx_t brs, idx_t bcs, double *c, idx_t ldc) {
  for (idx_t i = 0; i < M; i++) {
    const double *ai = a + i * ars;
    double *ci = c + i * ldc;
    if (bcs == 1 && N > 1) {
      for (idx_t j = 0; j < N; j++) ci[j] = 0.0;
      for (idx_t k = 0; k < K; k++) {
        double av = ai[k * acs];
        d2 a2 = splat2(av);
        const double *bk = b + k * brs;
        idx_t j = 0;
        for (; j + 2 <= N; j += 2) *(d2u *)(ci + j) = MADD2(a2, *(const d2u *)(bk + j), *(d2u *)(ci + j));
        for (; j < N; j++) ci[j] += av * bk[j];
      }
    } else {
      for (idx_t j = 0; j < N; j++) {
        const double *bj = b + j * bcs;
        double s = 0.0;
        for (idx_t k = 0; k < K; k++) s += ai[k * acs] * bj[k * brs];
        ci[j] = s;
      }
    }
  }
}

/* direct when the packing would not pay: tiny problems, matrix-vector, or an outer product (K == 1) */
#ifndef DIRECT_MAX
#define DIRECT_MAX 4096
#endif
INLINE int use_direct(idx_t M, idx_t N, idx_t K, idx_t bcs) {
  return M == 1 || N == 1 || (K == 1 && bcs == 1) || (int64_t)M * N * K <= DIRECT_MAX;
}

/* ------------------------------------------------------------------------------------------------------ */
/* integers: wrapping triple loop in unsigned arithmetic (U at least 32 bits so products never promote to int) */

#define DEFINE_INT_GEMM(NAME, T, U)                                                                        \
  static void NAME(idx_t M, idx_t N, idx_t K, const T *a, idx_t ars, idx_t acs, const T *b, idx_t brs,    \
                   idx_t bcs, T *c) {                                                                      \
    for (idx_t i = 0; i < M; i++) {                                                                        \
      const T *ai = a + i * ars;                                                                           \
      for (idx_t j = 0; j < N; j++) {                                                                      \
        const T *bj = b + j * bcs;                                                                         \
        U s = 0;                                                                                           \
        for (idx_t k = 0; k < K; k++) s += (U)ai[k * acs] * (U)bj[k * brs];                                \
        c[i * N + j] = (T)s;                                                                               \
      }                                                                                                    \
    }                                                                                                      \
  }

DEFINE_INT_GEMM(gemm_i64, int64_t, uint64_t)
DEFINE_INT_GEMM(gemm_i32, int32_t, uint32_t)
DEFINE_INT_GEMM(gemm_i16, int16_t, uint32_t)
DEFINE_INT_GEMM(gemm_i8, int8_t, uint32_t)
DEFINE_INT_GEMM(gemm_u8, uint8_t, uint32_t)

/* ------------------------------------------------------------------------------------------------------ */

/* Work weights per multiply-add, so that a part takes about as long on every path (measured natively: the
 * blocked f32 kernel is the fastest; f64 has half the lanes; the direct loops and the integer triple loop
 * neither pack nor keep a register tile). */
#define W_BLOCKED_F32 1
#define W_BLOCKED_F64 2
#define W_DIRECT 4
#define W_INT 16

/* rows [r0, r1) of batch bt's product (direct and integer paths: each row computed on its own) or units
 * [r0, r1) of the blocked drivers */
static void run_batch(int dtype, int direct, idx_t M, idx_t N, idx_t K, const char *a, idx_t a_rs, idx_t a_cs,
                      const char *b, idx_t b_rs, idx_t b_cs, char *out, int64_t r0, int64_t r1) {
  idx_t ro = (idx_t)r0, rn = (idx_t)(r1 - r0);
  switch (dtype) {
    case TJS_F32:
      if (direct) direct_f32(rn, N, K, (const float *)a + ro * a_rs, a_rs, a_cs, (const float *)b, b_rs, b_cs,
                             (float *)out + ro * N, N);
      else run_blocked(dtype, M, N, K, a, a_rs, a_cs, b, b_rs, b_cs, out, N, r0, r1, &pack_a, &pack_b);
      break;
    case TJS_F64:
      if (direct) direct_f64(rn, N, K, (const double *)a + ro * a_rs, a_rs, a_cs, (const double *)b, b_rs, b_cs,
                             (double *)out + ro * N, N);
      else run_blocked(dtype, M, N, K, a, a_rs, a_cs, b, b_rs, b_cs, out, N, r0, r1, &pack_a, &pack_b);
      break;
#define INT_CASE(CODE, T, FN)                                                                               \
    case CODE:                                                                                             \
      FN(rn, N, K, (const T *)a + ro * a_rs, a_rs, a_cs, (const T *)b, b_rs, b_cs, (T *)out + ro * N);    \
      break;
    INT_CASE(TJS_I64, int64_t, gemm_i64)
    INT_CASE(TJS_I32, int32_t, gemm_i32)
    INT_CASE(TJS_I16, int16_t, gemm_i16)
    INT_CASE(TJS_I8, int8_t, gemm_i8)
    INT_CASE(TJS_U8, uint8_t, gemm_u8)
#undef INT_CASE
  }
}

/* ------------------------------------------------------------------------------------------------------ */
/* regions and tiles: the parts of a long product and the pieces the thread pool shares out                  */

/* A call computes one region of the product: batches [b0, b1) × rows [r0, r1) × columns [c0, c1) of C. The region
 * is cut into tiles, rectangles of one batch's C, each computed as a product of its own (A's rows, B's columns) by
 * the path the whole product takes, the tiles taken by up to tjs_num_threads workers. Any cut gives the whole
 * product's bits: the blocked drivers' sums for an element depend only on K's blocking (the same for every tile),
 * and the direct and integer loops compute each row on its own (their tiles are whole rows, as a direct loop's
 * columns would not all take the same vector path). So the tiling may follow the thread count (about
 * TILES_PER_THREAD tiles a worker, for balance), while the regions (parts, see tjs_gemm) follow the shape alone.
 * A tile repacks its B columns (cost ~ 1/rows) and its A rows (cost ~ 1/cols beyond the drivers' own NC blocks):
 * halving the larger side keeps that least; no tile goes below TILE_MIN_WORK weighted multiply-adds. */
#define TILES_PER_THREAD 2
#define TILE_MIN_WORK (1LL << 20)
#define TILE_MIN_ROWS 16
#define TILE_MIN_COLS 64

typedef struct {
  int dtype, direct;
  idx_t M, N, K, es, a_bs, a_rs, a_cs, b_bs, b_rs, b_cs;
  const char *a, *b;
  char *out;
  int64_t b0;                  /* the region's first batch */
  idx_t r0, r1, c0, c1;        /* its rows and columns */
  idx_t rows, cols;            /* tile size */
  int64_t per_row, per_batch;  /* tiles across the region's columns, in one batch of it */
  int64_t next, end;           /* the tiles not yet taken: [next, end) */
  const float *bias;           /* f32 only: added to every row of C by the tile that computes it (or NULL) */
  const float *bpre;           /* f32 only: B packed beforehand for all of N (prepack_b), or NULL */
  idx_t npad;                  /* its columns: N rounded up to NR_F */
} gemm_tiles;

INLINE idx_t round_up(idx_t n, idx_t m) { return (n + m - 1) / m * m; }
INLINE idx_t halve(idx_t n, idx_t m) { return round_up((n + 1) / 2, m); }

/* weighted multiply-adds of rows×cols elements, saturated (a K broadcast by stride 0 can be huge) */
INLINE int64_t work_of(idx_t rows, idx_t cols, int64_t elem_cost) {
  int64_t w;
  if (__builtin_mul_overflow((int64_t)rows * cols, elem_cost, &w)) return INT64_MAX;
  return w;
}

/* cuts the region (nb batches) into about `target` tiles; returns their number */
static int64_t tile_region(gemm_tiles *t, int64_t nb, int64_t elem_cost, int64_t target) {
  gemm_blocking g = blocking_of(t->dtype);
  idx_t mr = t->direct ? 1 : g.mr, nr = g.nr, nc = g.nc, min_rows = t->direct ? 1 : TILE_MIN_ROWS;
  idx_t R = t->r1 - t->r0, C = t->c1 - t->c0, rows = R, cols = C;
  for (;;) {
    int64_t count = nb * ((R + rows - 1) / rows) * ((C + cols - 1) / cols);
    if (count >= target || work_of(rows, cols, elem_cost) / 2 < TILE_MIN_WORK) break;
    if (t->direct) {
      if (rows < 2) break;
      rows = halve(rows, mr);
    } else if (cols > nc) {
      cols = halve(cols, nr);   /* the drivers repack A every NC columns anyway */
    } else if (rows >= cols && rows >= 2 * min_rows) {
      rows = halve(rows, mr);
    } else if (cols >= 2 * TILE_MIN_COLS) {
      cols = halve(cols, nr);
    } else if (rows >= 2 * min_rows) {
      rows = halve(rows, mr);
    } else {
      break;
    }
  }
  t->rows = rows;
  t->cols = cols;
  t->per_row = (C + cols - 1) / cols;
  t->per_batch = t->per_row * ((R + rows - 1) / rows);
  t->next = 0;
  t->end = nb * t->per_batch;
  return t->end;
}

/* Prepacked B (tjs_pool_gemm: a model's weight, resident in the pool's memory, used by every forward): pack_b_f32 of
 * all N columns for each of K's kcb blocks, block pc at bpre + pc·npad, the panel of column g (a multiple of NR_F)
 * at + g·kc. A tile then reads its B panels there instead of packing them again (at 8 threads a 384-column weight
 * was packed once per 64-row tile: 4 times a product); the ukr sees the same floats in the same order, so the same
 * bits. blocked_f32_pre: blocked_f32's units over all of an m×n tile (columns from col0 of the prepacked B). */
NOINLINE void blocked_f32_pre(idx_t M, idx_t N, idx_t K, const float *a, idx_t ars, idx_t acs, const float *bpre,
                              idx_t npad, idx_t col0, float *c, idx_t ldc, float *pa) {
  idx_t kcb = even_block(K, KC, 8), mcb = even_block(M, MC_F, MR_F);
  for (idx_t jc = 0; jc < N; jc += NC_F)
    for (idx_t pc = 0; pc < K; pc += kcb)
      for (idx_t ic = 0; ic < M; ic += mcb) {
        idx_t nc = imin(NC_F, N - jc), kc = imin(kcb, K - pc), mc = imin(mcb, M - ic);
        const float *pb = bpre + pc * npad + (col0 + jc) * kc;
        pack_a_f32(a + ic * ars + pc * acs, ars, acs, mc, kc, pa);
        for (idx_t jr = 0; jr < nc; jr += NR_F)
          for (idx_t ir = 0; ir < mc; ir += MR_F)
            ukr_f32(kc, pa + ir * kc, pb + jr * kc, c + (ic + ir) * ldc + jc + jr, ldc, pc > 0, imin(MR_F, mc - ir),
                    imin(NR_F, nc - jr));
      }
}

/* the packing of a prepacked B, in pieces of PREPACK_COLS columns of one k block that the workers share */
#define PREPACK_COLS 128
typedef struct { const float *b; idx_t brs, bcs, K, N, kcb, npad; float *dst; int64_t per_block, next, end; } prepack_job;

static void prepack_worker(void *ctx, int worker) {
  (void)worker;
  prepack_job *j = (prepack_job *)ctx;
  for (int64_t i; (i = tjs_fetch_add(&j->next, 1)) < j->end;) {
    idx_t pc = (idx_t)(i / j->per_block) * j->kcb, g = (idx_t)(i % j->per_block) * PREPACK_COLS;
    idx_t kc = imin(j->kcb, j->K - pc);
    pack_b_f32(j->b + pc * j->brs + g * j->bcs, j->brs, j->bcs, kc, imin(PREPACK_COLS, j->N - g),
               j->dst + pc * j->npad + g * kc);
  }
}

static void prepack_b(const float *b, idx_t brs, idx_t bcs, idx_t K, idx_t N, float *dst, int threads) {
  idx_t kcb = even_block(K, KC, 8);
  int64_t per_block = (N + PREPACK_COLS - 1) / PREPACK_COLS;
  prepack_job j = {b, brs, bcs, K, N, kcb, round_up(N, NR_F), dst, per_block, 0, per_block * ((K + kcb - 1) / kcb)};
  tjs_parallel(j.end < threads ? (int)j.end : threads, prepack_worker, &j);
}

/* c[r][j] += bias[j] for rows [r0, r0 + rows) and columns [c0, c0 + cols) of a row-major C (row stride ldc): the
 * side module's in-place add (y + b, one rounding), so `mm` then `add_(bias)`'s bits, whichever tile adds it */
static void add_bias_f32(float *c, idx_t ldc, idx_t r0, idx_t rows, idx_t c0, idx_t cols, const float *bias) {
  for (idx_t r = r0; r < r0 + rows; r++) {
    float *y = c + r * ldc + c0;
    const float *b = bias + c0;
    for (idx_t j = 0; j < cols; j++) y[j] = y[j] + b[j];
  }
}

static void run_tile(const gemm_tiles *t, int64_t i, void *pa, void *pb) {
  int64_t bt = t->b0 + i / t->per_batch, r = i % t->per_batch, cost;
  idx_t r0 = t->r0 + (idx_t)(r / t->per_row) * t->rows, c0 = t->c0 + (idx_t)(r % t->per_row) * t->cols;
  idx_t m = imin(t->rows, t->r1 - r0), n = imin(t->cols, t->c1 - c0), es = t->es, bi = (idx_t)bt;
  const char *a = t->a + bi * t->a_bs * es, *b = t->b + bi * t->b_bs * es;
  char *out = t->out + bi * t->M * t->N * es;
  if (t->direct) {
    run_batch(t->dtype, 1, t->M, t->N, t->K, a, t->a_rs, t->a_cs, b, t->b_rs, t->b_cs, out, r0, r0 + m);
  } else if (t->bpre) {
    blocked_f32_pre(m, n, t->K, (const float *)(a + r0 * t->a_rs * es), t->a_rs, t->a_cs, t->bpre, t->npad, c0,
                    (float *)(out + (r0 * t->N + c0) * es), t->N, pa);
  } else {
    int64_t units = units_of(t->dtype, m, n, t->K, &cost);
    run_blocked(t->dtype, m, n, t->K, a + r0 * t->a_rs * es, t->a_rs, t->a_cs, b + c0 * t->b_cs * es, t->b_rs,
                t->b_cs, out + (r0 * t->N + c0) * es, t->N, 0, units, pa, pb);
  }
  /* the tile's elements are final (every k block summed): its bias now, while they sit in this worker's cache */
  if (t->bias) add_bias_f32((float *)out, t->N, r0, m, c0, n, t->bias);
}

/* a worker: takes tiles until none is left (which worker computes a tile does not change its bits) */
static void tiles_worker(void *ctx, int worker) {
  gemm_tiles *t = (gemm_tiles *)ctx;
  void *pa = &pack_a, *pb = &pack_b;
  if (worker > 0 && !t->direct) {
    char *scratch = (char *)tjs_worker_scratch(worker, sizeof pack_a + sizeof pack_b);
    if (!scratch) return;   /* no memory for its buffers: the others take its tiles */
    pa = scratch;
    pb = scratch + sizeof pack_a;
  }
  for (;;) {
    int64_t i = tjs_fetch_add(&t->next, 1);
    if (i >= t->end) break;
    run_tile(t, i, pa, pb);
  }
}

/* Parts: a product of more than part_work weighted multiply-adds (<= 0: TJS_GEMM_DEFAULT_PART_WORK) is computed
 * region by region, one call each: groups of whole batches where a batch fits a part, else row bands × blocks of NC
 * columns (all columns on the direct and integer paths; each band repacks B: at the default part size a band has
 * 256 rows for K = 2048, so the cost is ~1/band of the packing), or, where all rows make one band, all rows × as many
 * NC blocks as a part holds.
 * The call runs part `part` and returns TJS_MORE while later parts remain. The regions depend on the shape alone
 * (a product's parts may run at different thread counts), and which path a batch takes is decided on the whole
 * product, so every part computes its elements exactly as one call would. */
static int gemm_call(const float *bias, char *bpack) {
  int dtype = (int)tjs_args[TJS_GEMM_DTYPE];
  int64_t batch = tjs_args[TJS_GEMM_BATCH];
  idx_t M = (idx_t)tjs_args[TJS_GEMM_M], N = (idx_t)tjs_args[TJS_GEMM_N], K = (idx_t)tjs_args[TJS_GEMM_K];
  char *out = (char *)(uintptr_t)tjs_args[TJS_GEMM_OUT];
  const char *a = (const char *)(uintptr_t)tjs_args[TJS_GEMM_A];
  const char *b = (const char *)(uintptr_t)tjs_args[TJS_GEMM_B];
  idx_t a_bs = (idx_t)tjs_args[TJS_GEMM_A_BS], a_rs = (idx_t)tjs_args[TJS_GEMM_A_RS],
        a_cs = (idx_t)tjs_args[TJS_GEMM_A_CS];
  idx_t b_bs = (idx_t)tjs_args[TJS_GEMM_B_BS], b_rs = (idx_t)tjs_args[TJS_GEMM_B_RS],
        b_cs = (idx_t)tjs_args[TJS_GEMM_B_CS];
  int64_t part = tjs_args[TJS_GEMM_PART], part_work = tjs_args[TJS_GEMM_PART_WORK];

  size_t esz;
  switch (dtype) {
    case TJS_F32: case TJS_I32: esz = 4; break;
    case TJS_F64: case TJS_I64: esz = 8; break;
    case TJS_I16: esz = 2; break;
    case TJS_I8: case TJS_U8: esz = 1; break;
    default: return TJS_ERR_DTYPE;
  }
  if (part < 0) return TJS_ERR_ARG;
  if (batch <= 0 || M <= 0 || N <= 0) return TJS_OK;
  if (K <= 0) {
    /* empty sum: zeros (all dtypes here have all-zero-bits zero); memory-bound, so all in part 0 */
    if (part == 0) {
      __builtin_memset(out, 0, (size_t)batch * (size_t)M * (size_t)N * esz);
      if (bias) add_bias_f32((float *)out, N, 0, (idx_t)batch * M, 0, N, bias);
    }
    return TJS_OK;
  }
  /* a row index can stand in for a batch index: with M == 1 the row stride is free */
  if (M == 1) a_rs = a_bs;
  /* B shared by every batch and A's batches stacked like rows: one (batch·M)×N×K product */
  if (batch > 1 && b_bs == 0 && a_bs == M * a_rs) {
    M *= (idx_t)batch;
    batch = 1;
  }
#ifdef TJS_GEMM_X86
  if (x86_isa < 0) x86_isa = tjs_gemm_x86_kernels(&x86_f32, &x86_f64);
#endif
  int is_float = dtype == TJS_F32 || dtype == TJS_F64;
  int direct = !is_float || use_direct(M, N, K, b_cs);
  int64_t elem_cost = (int64_t)K * (direct ? (is_float ? W_DIRECT : W_INT) : dtype == TJS_F32 ? W_BLOCKED_F32
                                                                                            : W_BLOCKED_F64);
  if (part_work <= 0) part_work = TJS_GEMM_DEFAULT_PART_WORK;
  int threads = tjs_threads_wanted();
  int64_t batch_work = work_of(M, N, elem_cost), all;
  int single = !__builtin_mul_overflow(batch_work, batch, &all) && all <= part_work;
  /* bpack: a 64-byte header whose first int32 says whether the B that follows is packed (the caller zeroes it when
   * B changes), used on the blocked f32 path where every batch reads the one B */
  const float *bpre = NULL;
  if (bpack && dtype == TJS_F32 && !direct && (batch == 1 || b_bs == 0)) {
    int32_t *ready = (int32_t *)bpack;
    bpre = (const float *)(bpack + 64);
    if (!*ready) {
      prepack_b((const float *)b, b_rs, b_cs, K, N, (float *)bpre, threads);
      *ready = 1;
    }
  }
  if (single && threads == 1 && !bpre) {
    /* one part on one thread (every small product) */
    idx_t c_bs = M * N, es = (idx_t)esz;
    int64_t units = direct ? M : units_of(dtype, M, N, K, &all);
    for (int64_t bt = 0; bt < batch; bt++) {
      idx_t bi = (idx_t)bt;
      run_batch(dtype, direct, M, N, K, a + bi * a_bs * es, a_rs, a_cs, b + bi * b_bs * es, b_rs, b_cs,
                out + bi * c_bs * es, 0, units);
    }
    if (bias) add_bias_f32((float *)out, N, 0, (idx_t)batch * M, 0, N, bias);
    return TJS_OK;
  }
  gemm_tiles t = {dtype, direct, M, N, K, (idx_t)esz, a_bs, a_rs, a_cs, b_bs, b_rs, b_cs, a, b, out,
                  0, 0, M, 0, N};
  t.bias = bias;
  t.bpre = bpre;
  t.npad = round_up(N, NR_F);
  int64_t nb = batch, parts = 1;
  if (single) {
    if (part > 0) return TJS_OK;
  } else if (batch_work <= part_work) {
    int64_t per = part_work / batch_work;   /* whole batches a part */
    parts = (batch + per - 1) / per;
    if (part >= parts) return TJS_OK;
    t.b0 = part * per;
    nb = batch - t.b0 < per ? batch - t.b0 : per;
  } else {
    gemm_blocking g = blocking_of(dtype);
    idx_t nc = direct ? N : g.nc, colw = imin(nc, N), mr = direct ? 1 : g.mr;
    int64_t band = part_work / work_of(1, colw, elem_cost);
    if (!direct) band = band / mr * mr;
    if (band < mr) band = mr;
    if (band > M) band = M;
    int64_t bands = (M + band - 1) / band;
    band = (M + bands - 1) / bands;   /* bands of even height (the last one a sliver kept a thread alone) */
    if (!direct) band = imin(round_up((idx_t)band, mr), M);
    bands = (M + band - 1) / band;
    if (bands == 1 && colw < N) {
      /* all rows in one band: a part takes as many NC blocks as part_work allows (a short wide product, a
       * convolution's, was otherwise cut into parts of one block: a call and a wait for the workers each) */
      int64_t per = part_work / work_of(M, colw, elem_cost);
      int64_t nblk = (N + colw - 1) / colw;
      if (per >= nblk) {
        colw = N;
      } else if (per > 1) {
        int64_t groups = (nblk + per - 1) / per;   /* parts of even width */
        colw = (idx_t)((nblk + groups - 1) / groups) * colw;
      }
    }
    int64_t blocks = (N + colw - 1) / colw, per_batch = bands * blocks;
    parts = batch * per_batch;
    if (part >= parts) return TJS_OK;
    int64_t r = part % per_batch;
    t.b0 = part / per_batch;
    nb = 1;
    t.r0 = (idx_t)(r / blocks * band);
    t.r1 = imin(t.r0 + (idx_t)band, M);
    t.c0 = (idx_t)(r % blocks) * colw;
    t.c1 = imin(t.c0 + colw, N);
  }
  int64_t tiles = tile_region(&t, nb, elem_cost, (int64_t)threads * TILES_PER_THREAD);
  tjs_parallel(tiles < threads ? (int)tiles : threads, tiles_worker, &t);
  return part + 1 < parts ? TJS_MORE : TJS_OK;
}

TJS_EXPORT int tjs_gemm(void) { return gemm_call(NULL, NULL); }

/* linear's bias + mat1 @ mat2 (kernel_abi "addmm": gemm's slots, then the bias): each tile adds the bias to its own
 * elements once they are final, while they are in cache, instead of a second pass over the output. bpack: where B
 * is kept packed between calls (the shared-memory module's, pool_gemm.c), or NULL. */
_Static_assert(TJS_ADDMM_PART_WORK == TJS_GEMM_PART_WORK, "tjs_addmm's slots begin with tjs_gemm's");
static int addmm_call(char *bpack) {
  const float *bias = (const float *)(uintptr_t)tjs_args[TJS_ADDMM_BIAS];
  if (bias && tjs_args[TJS_ADDMM_DTYPE] != TJS_F32) return TJS_ERR_DTYPE;
  return gemm_call(bias, bpack);
}

TJS_EXPORT int tjs_addmm(void) { return addmm_call(NULL); }

#ifdef TJS_WASM_SHARED
/* The shared-memory module's pooled product (wasm_ext/pool/pool_gemm.c's tjs_pool_gemm): addmm with B kept packed. */
int tjs_addmm_with(char *bpack) { return addmm_call(bpack); }
#endif
