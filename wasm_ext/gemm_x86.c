/* tjs_gemm's blocked kernels for x86-64 CPUs with AVX2+FMA or AVX-512F (native gcc build; empty elsewhere, so the
 * wasm modules are as before). gemm.c asks tjs_gemm_x86_kernels once which to use: the widest the CPU runs, or
 * TORCH_JS_GEMM_ISA=baseline|avx2|avx512 (a narrower one, for tests and comparisons).
 *
 * The same Goto/BLIS scheme and driver as gemm.c's (gemm_blocked.h: KC, the units, the k order) with wider
 * micro-tiles held in 12-16 vector registers and fused multiply-adds, as MKL's and oneDNN's kernels use:
 *   AVX2+FMA: f32 6×16, f64 6×8 (12 ymm accumulators);  AVX-512F: f32 8×32, f64 8×16 (16 zmm accumulators).
 * Bits: an element of C is Σ_k fma(a_k, b_k, ·) from zero over each k block, the blocks added in order, whatever
 * its place in a micro-tile (edge tiles run the same loop over zero-padded panels), so any tiling, and so any
 * thread count, gives the same bits; a given CPU always takes the same kernel, so a run gives the bits of the last.
 * Each entry ends with vzeroupper: dirty upper register halves would slow the SSE code that runs next (libm,
 * PyTorch's kernels in the same process). */
#include "gemm_blocked.h"

#ifdef TJS_GEMM_X86
#include <immintrin.h>

char *getenv(const char *name);

/* A packing: mc×kc block at a (strides rs, cs) -> MR-row micro-panels, kc×MR each (row index fastest), zero rows
 * past mc. B packing: kc×nc block -> NR-column micro-panels, kc×NR each (column index fastest), zero columns past nc. */
#define DEFINE_PACK(PACK_A, PACK_B, T, MR, NR)                                                              \
  static void PACK_A(const T *a, idx_t rs, idx_t cs, idx_t mc, idx_t kc, T *restrict dst) {                \
    for (idx_t i = 0; i < mc; i += MR) {                                                                   \
      idx_t mr = imin(MR, mc - i);                                                                         \
      const T *ai = a + i * rs;                                                                            \
      if (mr == MR && cs == 1) {                                                                           \
        for (idx_t k = 0; k < kc; k++, dst += MR)                                                          \
          _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) dst[r] = ai[r * rs + k];                   \
      } else if (mr == MR && rs == 1) {                                                                    \
        for (idx_t k = 0; k < kc; k++, dst += MR)                                                          \
          _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) dst[r] = ai[k * cs + r];                   \
      } else {                                                                                             \
        for (idx_t k = 0; k < kc; k++, dst += MR) {                                                        \
          idx_t r = 0;                                                                                     \
          for (; r < mr; r++) dst[r] = ai[k * cs + r * rs];                                                \
          for (; r < MR; r++) dst[r] = 0;                                                                  \
        }                                                                                                  \
      }                                                                                                    \
    }                                                                                                      \
  }                                                                                                        \
  static void PACK_B(const T *b, idx_t rs, idx_t cs, idx_t kc, idx_t nc, T *restrict dst) {                \
    idx_t j = 0;                                                                                           \
    if (cs == 1 && nc >= NR) {                                                                             \
      /* row-major B: each source row read once along its length (the panel-by-panel order read kc rows    \
       * a panel, 128-byte pieces of kc streams, and stalled on memory: a third of a conv's gemm time) */   \
      const idx_t full = nc / NR;                                                                          \
      for (idx_t k = 0; k < kc; k++) {                                                                     \
        const T *src = b + k * rs;                                                                         \
        T *d = dst + k * NR;                                                                               \
        for (idx_t q = 0; q < full; q++)                                                                   \
          _Pragma("GCC unroll 32") for (int c = 0; c < NR; c++) d[q * kc * NR + c] = src[q * NR + c];      \
      }                                                                                                    \
      j = full * NR;                                                                                       \
      dst += full * kc * NR;                                                                               \
    }                                                                                                      \
    for (; j < nc; j += NR) {                                                                              \
      idx_t nr = imin(NR, nc - j);                                                                         \
      const T *bj = b + j * cs;                                                                            \
      if (nr == NR && cs == 1) {                                                                           \
        for (idx_t k = 0; k < kc; k++, dst += NR)                                                          \
          _Pragma("GCC unroll 32") for (int c = 0; c < NR; c++) dst[c] = bj[k * rs + c];                   \
      } else if (nr == NR && rs == 1) {                                                                    \
        /* transposed B (x @ W.T): each packed column is a contiguous run of the source */                 \
        for (int c = 0; c < NR; c++)                                                                       \
          for (idx_t k = 0; k < kc; k++) dst[k * NR + c] = bj[c * cs + k];                                \
        dst += kc * NR;                                                                                    \
      } else {                                                                                             \
        for (idx_t k = 0; k < kc; k++, dst += NR) {                                                        \
          idx_t c = 0;                                                                                     \
          for (; c < nr; c++) dst[c] = bj[k * rs + c * cs];                                                \
          for (; c < NR; c++) dst[c] = 0;                                                                  \
        }                                                                                                  \
      }                                                                                                    \
    }                                                                                                      \
  }

/* micro-kernel: C[mr×nr] (= | +=) Ap (kc×MR) · Bp (kc×NR), NV vectors V of L lanes a row of the tile */
#define DEFINE_UKR(NAME, T, V, MR, NV, L, SET1, FMA, LOAD, LOADU, STORE, STOREU, ADD, ZERO)                  \
  static __attribute__((noinline)) void NAME(idx_t kc, const T *restrict ap, const T *restrict bp,         \
                                             T *restrict c, idx_t ldc, int accum, idx_t mr, idx_t nr) {    \
    V acc[MR][NV];                                                                                         \
    _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++)                                                  \
      _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) acc[r][v] = ZERO();                             \
    for (idx_t k = 0; k < kc; k++) {                                                                       \
      V bv[NV];                                                                                            \
      _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) bv[v] = LOAD(bp + v * L);                       \
      _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) {                                              \
        V av = SET1(ap[r]);                                                                                \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) acc[r][v] = FMA(av, bv[v], acc[r][v]);        \
      }                                                                                                    \
      ap += MR;                                                                                            \
      bp += NV * L;                                                                                        \
    }                                                                                                      \
    if (mr == MR && nr == NV * L) {                                                                        \
      _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++)                                                \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) {                                             \
          T *p = c + r * ldc + v * L;                                                                      \
          STOREU(p, accum ? ADD(LOADU(p), acc[r][v]) : acc[r][v]);                                         \
        }                                                                                                  \
    } else {                                                                                               \
      T t[MR * NV * L] __attribute__((aligned(64)));                                                       \
      _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++)                                                \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) STORE(t + (r * NV + v) * L, acc[r][v]);       \
      for (idx_t r = 0; r < mr; r++) {                                                                     \
        T *cr = c + r * ldc;                                                                               \
        const T *tr = t + r * NV * L;                                                                      \
        if (accum)                                                                                         \
          for (idx_t j = 0; j < nr; j++) cr[j] = cr[j] + tr[j];                                            \
        else                                                                                               \
          for (idx_t j = 0; j < nr; j++) cr[j] = tr[j];                                                    \
      }                                                                                                    \
    }                                                                                                      \
  }

/* one ISA's f32 or f64 kernel: packing, micro-kernel, driver and its entry (the driver, then vzeroupper) */
#define DEFINE_KERNEL(ID, T, V, MR, NV, L, MC, NC, SET1, FMA, LOAD, LOADU, STORE, STOREU, ADD, ZERO)         \
  DEFINE_PACK(pack_a_##ID, pack_b_##ID, T, MR, (NV * L))                                                   \
  DEFINE_UKR(ukr_##ID, T, V, MR, NV, L, SET1, FMA, LOAD, LOADU, STORE, STOREU, ADD, ZERO)                  \
  DEFINE_BLOCKED(blocked_##ID, T, MC, NC, MR, (NV * L), pack_a_##ID, pack_b_##ID, ukr_##ID)                \
  static void run_##ID(idx_t M, idx_t N, idx_t K, const T *a, idx_t ars, idx_t acs, const T *b, idx_t brs,  \
                       idx_t bcs, T *c, idx_t ldc, int64_t u0, int64_t u1, T *pa, T *pb) {                 \
    blocked_##ID(M, N, K, a, ars, acs, b, brs, bcs, c, ldc, u0, u1, pa, pb);                               \
    _mm256_zeroupper();                                                                                    \
  }                                                                                                        \
  static const tjs_gemm_kernel kernel_##ID = {(void *)run_##ID, MR, NV * L, MC, NC};

#pragma GCC push_options
#pragma GCC target("avx2,fma")
DEFINE_KERNEL(f32_avx2, float, __m256, 6, 2, 8, 144, 512, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_load_ps,
              _mm256_loadu_ps, _mm256_store_ps, _mm256_storeu_ps, _mm256_add_ps, _mm256_setzero_ps)
DEFINE_KERNEL(f64_avx2, double, __m256d, 6, 2, 4, 72, 256, _mm256_set1_pd, _mm256_fmadd_pd, _mm256_load_pd,
              _mm256_loadu_pd, _mm256_store_pd, _mm256_storeu_pd, _mm256_add_pd, _mm256_setzero_pd)
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
DEFINE_KERNEL(f32_avx512, float, __m512, 8, 2, 16, 128, 512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_load_ps,
              _mm512_loadu_ps, _mm512_store_ps, _mm512_storeu_ps, _mm512_add_ps, _mm512_setzero_ps)
DEFINE_KERNEL(f64_avx512, double, __m512d, 8, 2, 8, 64, 256, _mm512_set1_pd, _mm512_fmadd_pd, _mm512_load_pd,
              _mm512_loadu_pd, _mm512_store_pd, _mm512_storeu_pd, _mm512_add_pd, _mm512_setzero_pd)
#pragma GCC pop_options

_Static_assert(144 * KC * 4 <= TJS_GEMM_X86_PACK_A_BYTES && 72 * KC * 8 <= TJS_GEMM_X86_PACK_A_BYTES,
               "pack_a too small");
_Static_assert(KC * 512 * 4 <= TJS_GEMM_X86_PACK_B_BYTES && KC * 256 * 8 <= TJS_GEMM_X86_PACK_B_BYTES,
               "pack_b too small");

static int streq(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

int tjs_gemm_x86_kernels(tjs_gemm_kernel *f32, tjs_gemm_kernel *f64) {
  __builtin_cpu_init();
  int isa = __builtin_cpu_supports("avx512f") ? 2
            : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
  const char *want = getenv("TORCH_JS_GEMM_ISA");
  if (want) {
    int w = streq(want, "avx512") ? 2 : streq(want, "avx2") ? 1 : streq(want, "baseline") ? 0 : isa;
    if (w < isa) isa = w;
  }
  if (isa == 2) *f32 = kernel_f32_avx512, *f64 = kernel_f64_avx512;
  else if (isa == 1) *f32 = kernel_f32_avx2, *f64 = kernel_f64_avx2;
  return isa;
}
#endif
