/* The blocked gemm driver, shared by gemm.c (its baseline kernels, the only ones in wasm) and gemm_x86.c (AVX2+FMA
 * and AVX-512 kernels of the native x86-64 build, chosen at run time). See gemm.c for the blocking scheme. */
#ifndef TJS_GEMM_BLOCKED_H
#define TJS_GEMM_BLOCKED_H
#include "tjs.h"

typedef ptrdiff_t idx_t;

#define INLINE static inline __attribute__((always_inline))
#define NOINLINE static __attribute__((noinline))

/* k blocking (every kernel: an element's k blocks, and so its bits, depend on K alone) */
#define KC 256

INLINE idx_t imin(idx_t a, idx_t b) { return a < b ? a : b; }

/* split n into ceil(n/blk) near-equal blocks, each a multiple of `mult` where possible */
INLINE idx_t even_block(idx_t n, idx_t blk, idx_t mult) {
  idx_t nb = (n + blk - 1) / blk;
  idx_t b = (n + nb - 1) / nb;
  b = (b + mult - 1) / mult * mult;
  return b > blk ? blk : b;
}

/* Units of work: the (jc, pc, ic) blocks of the loops below, numbered in their order. A driver call runs units
 * [u0, u1) of blocked_units(); run in pieces, every C element gets the same k blocks added in the same order
 * (the block sizes depend on M, N, K only), so the result is bit-identical to one call over all units. A
 * piece that starts inside a (jc, pc) block packs its B panel again. pa, pb: the packing buffers (pack_a, pack_b's
 * sizes), the statics on the calling thread, a worker's own scratch on the others.
 * UKR(kc, Ap, Bp, C, ldc, accum, mr, nr): C[mr×nr] = (accum ? C + : ) Σ_k Ap[k]·Bp[k], the k sum from zero in
 * order (each element by the same code path, whatever its place in the tile). */
#define DEFINE_BLOCKED(NAME, T, MC, NC, MR, NR, PA, PB, UKR)                                          \
  NOINLINE void NAME(idx_t M, idx_t N, idx_t K, const T *a, idx_t ars, idx_t acs, const T *b, idx_t brs,  \
                     idx_t bcs, T *c, idx_t ldc, int64_t u0, int64_t u1, T *pa, T *pb) {                   \
    idx_t kcb = even_block(K, KC, 8);                                                                      \
    idx_t mcb = even_block(M, MC, MR);                                                                     \
    int64_t ni = (M + mcb - 1) / mcb, np = (K + kcb - 1) / kcb, packed = -1;                               \
    for (int64_t u = u0; u < u1; u++) {                                                                    \
      int64_t jp = u / ni;                                                                                 \
      idx_t ic = (idx_t)(u % ni) * mcb, pc = (idx_t)(jp % np) * kcb, jc = (idx_t)(jp / np) * NC;           \
      idx_t nc = imin(NC, N - jc), kc = imin(kcb, K - pc), mc = imin(mcb, M - ic);                         \
      if (jp != packed) {                                                                                  \
        PB(b + pc * brs + jc * bcs, brs, bcs, kc, nc, pb);                                                 \
        packed = jp;                                                                                       \
      }                                                                                                    \
      PA(a + ic * ars + pc * acs, ars, acs, mc, kc, pa);                                                   \
      for (idx_t jr = 0; jr < nc; jr += NR) {                                                              \
        idx_t nr = imin(NR, nc - jr);                                                                      \
        const T *bp = pb + jr * kc;                                                                        \
        T *cj = c + ic * ldc + jc + jr;                                                                    \
        for (idx_t ir = 0; ir < mc; ir += MR)                                                              \
          UKR(kc, pa + ir * kc, bp, cj + ir * ldc, ldc, pc > 0, imin(MR, mc - ir), nr);                    \
      }                                                                                                    \
    }                                                                                                      \
  }

/* the x86-64 kernels (gemm_x86.c): native gcc builds only; TJS_NO_AVX2 keeps the baseline kernels alone */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(TJS_NO_AVX2)
#define TJS_GEMM_X86 1
typedef void (*tjs_blocked_f32_fn)(idx_t, idx_t, idx_t, const float *, idx_t, idx_t, const float *, idx_t, idx_t,
                                   float *, idx_t, int64_t, int64_t, float *, float *);
typedef void (*tjs_blocked_f64_fn)(idx_t, idx_t, idx_t, const double *, idx_t, idx_t, const double *, idx_t, idx_t,
                                   double *, idx_t, int64_t, int64_t, double *, double *);
/* a blocked kernel and its blocking: micro-tile mr×nr, A blocks of mc rows, B blocks of nc columns */
typedef struct { void *run; idx_t mr, nr, mc, nc; } tjs_gemm_kernel;
/* the packing buffers' sizes in bytes: every kernel's MC×KC (A) and KC×NC (B) fit */
#define TJS_GEMM_X86_PACK_A_BYTES (192 * KC * 4)
#define TJS_GEMM_X86_PACK_B_BYTES (KC * 512 * 4)
/* fills f32 and f64 with the widest kernels the CPU runs; returns 0 (baseline kernels) when it has no AVX2+FMA */
__attribute__((visibility("hidden"))) int tjs_gemm_x86_kernels(tjs_gemm_kernel *f32, tjs_gemm_kernel *f64);
#endif

#endif
