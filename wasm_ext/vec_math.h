/* vec_math.h: float32 exp, expm1, log, log1p, tanh, erf, sin, cos and the activations built on them, VM_LANES lanes at a
 * time with GCC/Clang vector extensions: one source that compiles to simd128 in wasm and to SSE2 or AVX2 natively
 * (vec_unary.h runs them over tensors).
 *
 * Each function reduces its argument to a small interval and evaluates a polynomial fitted by
 * tools/fit_vec_math.py (coefficients rounded to float32; the script prints them); erf, GELU and tanh read tables
 * that the script writes (vec_erf_table.h, vec_tanh_table.h). No fused multiply-adds (-ffp-contract=off and none
 * written), so every target returns the same bits. Error against the correctly rounded result, checked on float32
 * inputs by tests/test_vector_math.py: exp, log, expm1, log1p <= 2 ulp, tanh, erf and GELU <= 3 ulp. Special values as
 * C99's libm: inf, NaN, -0, overflow to inf and gradual underflow.
 */
#ifndef TJS_VEC_MATH_H
#define TJS_VEC_MATH_H
#include "tjs.h"
#include "vec_erf_table.h"
#include "vec_tanh_table.h"

#ifndef VM_LANES
#define VM_LANES 4   /* one v128 in wasm, one xmm natively; vec_unary_avx2.c sets 8 (one ymm) */
#endif
typedef float vmf __attribute__((vector_size(VM_LANES * 4)));
typedef int32_t vmi __attribute__((vector_size(VM_LANES * 4)));
typedef uint32_t vmu __attribute__((vector_size(VM_LANES * 4)));   /* bit arithmetic that may wrap (NaN lanes) */
typedef float vmf_u __attribute__((vector_size(VM_LANES * 4), aligned(4), may_alias));   /* unaligned load/store */

#define VM_INLINE static inline __attribute__((always_inline))
#define VM_SIGN ((int32_t)0x80000000)

VM_INLINE vmf vm_sel(vmi m, vmf a, vmf b) { return (vmf)(((vmi)a & m) | ((vmi)b & ~m)); }
VM_INLINE vmf vm_abs(vmf x) { return (vmf)((vmi)x & 0x7fffffff); }
VM_INLINE vmf vm_with_sign(vmf mag, vmf sign_of) { return (vmf)((vmi)mag | ((vmi)sign_of & VM_SIGN)); }
VM_INLINE vmf vm_splat(float s) { return (vmf){0} + s; }
VM_INLINE int vm_any(vmi m) {   /* some lane set: OR of the mask's 64-bit words */
  uint64_t w[VM_LANES / 2], acc = 0;
  __builtin_memcpy(w, &m, sizeof m);
  for (int k = 0; k < VM_LANES / 2; k++) acc |= w[k];
  return acc != 0;
}

/* ln 2 in two parts: n * VM_LN2_HI is exact for |n| < 2^15 */
#define VM_LN2_HI 0.693359375f
#define VM_LN2_LO -2.12194440e-4f
#define VM_LOG2E 1.44269504088896341f
#define VM_ROUND_MAGIC 12582912.0f   /* 1.5 * 2^23: adding it rounds |v| < 2^22 to an integer in the low bits */

/* p * 2^n for n in [-150, 128], one rounding at most (when the result is subnormal): two exact power-of-two
 * factors, each a normal float, so p * 2^64 * 2^64 overflows and p * 2^-75 * 2^-75 underflows as it should */
VM_INLINE vmf vm_ldexp(vmf p, vmi n) {
  const vmu n1 = (vmu)(n >> 1), n2 = (vmu)n - n1;
  return p * (vmf)((n1 + 127) << 23) * (vmf)((n2 + 127) << 23);
}

/* e^r - 1 for |r| <= ln2/2 (plus the rounding slack of the reduction): r + r^2 P(r) */
VM_INLINE vmf vm_expm1_reduced(vmf r) {
  vmf p = 1.375140739e-03f * r + 8.368915878e-03f;
  p = p * r + 4.166953266e-02f;
  p = p * r + 1.666651815e-01f;
  p = p * r + 4.999998808e-01f;
  return r + (r * r) * p;
}

/* x = n ln2 + r: n (integer vector and float) and r, with |r| <= ln2/2. x is clamped to [-104, 89] first, where
 * e^x is 0 and inf in float32 anyway; a NaN lane comes back with garbage n and the callers restore the NaN. */
typedef struct { vmf r, nf; vmi n; } vm_reduced;
VM_INLINE vm_reduced vm_reduce_ln2_unclamped(vmf x) {   /* |x| < 2^15 */
  const vmf t = x * VM_LOG2E + VM_ROUND_MAGIC;
  vm_reduced o;
  o.n = (vmi)((vmu)t - (vmu)vm_splat(VM_ROUND_MAGIC));
  o.nf = t - VM_ROUND_MAGIC;
  o.r = (x - o.nf * VM_LN2_HI) - o.nf * VM_LN2_LO;
  return o;
}
VM_INLINE vm_reduced vm_reduce_ln2(vmf x) {
  x = vm_sel(x < -104.0f, vm_splat(-104.0f), x);
  x = vm_sel(x > 89.0f, vm_splat(89.0f), x);
  return vm_reduce_ln2_unclamped(x);
}

VM_INLINE vmf vm_exp(vmf x) {
  const vm_reduced k = vm_reduce_ln2(x);
  const vmf e = vm_ldexp(1.0f + vm_expm1_reduced(k.r), k.n);
  return vm_sel(x != x, x, e);   /* NaN: the clamp may have replaced it (relaxed SIMD min/max) */
}

/* e^x - 1: 2^n (e^r - 1) + (2^n - 1) while 2^n - 1 is exact (|n| <= 24), else e^x - 1 (one rounding of a
 * result that is -1 or huge next to 1). n == 0 gives e^r - 1 itself, so tiny x returns x. */
VM_INLINE vmf vm_expm1(vmf x) {
  const vm_reduced k = vm_reduce_ln2(x);
  const vmf em1 = vm_expm1_reduced(k.r);
  const vmi in_range = (k.n >= -24) & (k.n <= 24);
  const vmf s = (vmf)(((vmu)(k.n & in_range) + 127) << 23);
  const vmf near = s * em1 + (s - 1.0f);
  const vmf far = vm_ldexp(1.0f + em1, k.n) - 1.0f;
  const vmf r = vm_sel(in_range, near, far);
  return vm_sel((x != x) | (x == 0.0f), x, r);   /* NaN, and -0 (r + r^2 P(r) gives +0 for r = -0) */
}

/* log(1 + f) for the reduced f = m - 1, m in [sqrt(1/2), sqrt(2)), as f - (f^2/2 - s (f^2/2 + R)) with
 * s = f / (2 + f), R = s^2 Q(s^2) (log(1+f) = 2 atanh(s)); plus n ln2 in two parts. */
VM_INLINE vmf vm_log_reduced(vmf f, vmf nf) {
  const vmf s = f / (2.0f + f), z = s * s;
  vmf q = 2.358540446e-01f * z + 2.853710949e-01f;
  q = q * z + 4.000034034e-01f;
  q = q * z + 6.666666269e-01f;
  const vmf R = z * q, hfsq = 0.5f * f * f;
  return nf * VM_LN2_HI - ((hfsq - (s * (hfsq + R) + nf * VM_LN2_LO)) - f);
}

/* 2^x = 2^n e^{(x - n) ln2}, n = round(x) (x - n is exact) */
VM_INLINE vmf vm_exp2(vmf x) {
  vmf xc = vm_sel(x < -151.0f, vm_splat(-151.0f), x);
  xc = vm_sel(xc > 129.0f, vm_splat(129.0f), xc);
  const vmf t = xc + VM_ROUND_MAGIC, nf = t - VM_ROUND_MAGIC;
  const vmi n = (vmi)((vmu)t - (vmu)vm_splat(VM_ROUND_MAGIC));
  const vmf e = vm_ldexp(1.0f + vm_expm1_reduced((xc - nf) * 0.693147180559945309f), n);
  return vm_sel(x != x, x, e);
}

/* x = m 2^n with m in [sqrt(1/2), sqrt(2)) (subnormal x scaled by 2^23 first); returns f = m - 1 (exact) and n */
VM_INLINE vmf vm_split_exponent(vmf x, vmf* nf) {
  const vmi sub = x < 1.17549435e-38f;
  x = vm_sel(sub, x * 8388608.0f, x);
  const vmu ix = (vmu)x + (0x3f800000 - 0x3f3504f3);
  *nf = __builtin_convertvector(((vmi)ix >> 23) - 127 - (sub & 23), vmf);
  return (vmf)((ix & 0x007fffff) + 0x3f3504f3) - 1.0f;
}

/* the value at 0, negative and non-finite inputs of log and log1p (u = x or 1 + x); others keep r */
VM_INLINE vmf vm_log_special(vmf u, vmf r) {
  const float inf = __builtin_inff();
  r = vm_sel(u == inf, u, r);
  r = vm_sel(u == 0.0f, vm_splat(-inf), r);
  return vm_sel((u < 0.0f) | (u != u), vm_splat(__builtin_nanf("")), r);
}

VM_INLINE vmf vm_log(vmf x) {
  vmf nf;
  const vmf f = vm_split_exponent(x, &nf);
  return vm_log_special(x, vm_log_reduced(f, nf));
}

/* log2(x) = n + log(m) log2(e) and log10(x) = n log10(2) + log(m) log10(e): a power of two gives n exactly */
VM_INLINE vmf vm_log2(vmf x) {
  vmf nf;
  const vmf f = vm_split_exponent(x, &nf);
  return vm_log_special(x, vm_log_reduced(f, vm_splat(0.0f)) * 1.44269504088896341f + nf);
}
VM_INLINE vmf vm_log10(vmf x) {
  vmf nf;
  const vmf f = vm_split_exponent(x, &nf);
  const vmf lm = vm_log_reduced(f, vm_splat(0.0f)) * 0.434294481903251828f;
  return vm_log_special(x, (nf * 4.60503898e-06f + lm) + nf * 0.301025390625f);   /* log10(2) in two parts */
}

/* log(1 + x) = log(u) + (x - (u - 1)) / u with u = 1 + x rounded: the quotient restores what the rounding of u
 * lost (it is x itself when u == 1) */
VM_INLINE vmf vm_log1p(vmf x) {
  const vmf u = 1.0f + x;
  vmf nf;
  const vmf f = vm_split_exponent(u, &nf);
  const vmi finite_nonzero = (vm_abs(u) < __builtin_inff()) & (u != 0.0f);
  const vmf c = vm_sel(finite_nonzero, (x - (u - 1.0f)) / u, vm_splat(0.0f));
  const vmf r = vm_log_special(u, vm_log_reduced(f, nf) + c);
  return vm_sel(x == 0.0f, x, r);   /* -0 */
}

/* erf and GELU from tables (vec_erf_table.h, tools/fit_vec_math.py) of a function f and its derivative's magnitude at
 * r = i / 128: a = |x| rounds to the nearest r (a + 2^16 rounds it so), and with d = a - r (exact, |d| <= 1/256) the
 * Taylor series in d, whose coefficients are Hermite polynomials of r (f'(r) times one):
 *   erf(r + d) = erf(r) + c,  c = s d (1 - r d + (2r^2 - 1)/3 d^2 - r (2r^2 - 3)/6 d^3),  s = 2/sqrt(pi) e^{-r^2}
 *   Q(r + d) = Q(r) - c,      c = p d (1 - r/2 d + (r^2 - 1)/6 d^2 - r (r^2 - 3)/24 d^3),  p = e^{-r^2/2} / sqrt(2 pi)
 * with Q(x) = erfc(x / sqrt(2)) / 2, the normal distribution's upper tail (the next term is under 1e-8 of c on the
 * rows). No branch and no polynomial on an interval of a: one row per lane, a few multiply-adds. */
#define VM_ERF_SHIFT (8388608.0f / VM_ERF_STEPS)   /* 2^23 / 128: the sum's last place is 1/128 */
#if VM_LANES == 4
#define VM_EVEN 0, 2, 4, 6
#define VM_ODD 1, 3, 5, 7
#elif VM_LANES == 8
#define VM_EVEN 0, 2, 4, 6, 8, 10, 12, 14
#define VM_ODD 1, 3, 5, 7, 9, 11, 13, 15
#else
#define VM_EVEN 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30
#define VM_ODD 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31
#endif
/* the two columns of rows[i[k]]: one 8-byte load per lane, then the columns apart (simd128: v128.load64_lane and two
 * shuffles). Faster than x86's gather instructions on AMD Zen 4 (vpgatherdd: gelu 0.31 -> 0.43 ms at 16 lanes) */
VM_INLINE void vm_rows(const float (*rows)[2], vmu i, vmf* c0, vmf* c1) {
  typedef uint64_t vm_u64 __attribute__((vector_size(VM_LANES * 4)));
  typedef uint64_t vm_u64_a __attribute__((aligned(4), may_alias));
  vm_u64 lo, hi;
  for (int k = 0; k < VM_LANES / 2; k++) {
    lo[k] = *(const vm_u64_a*)rows[i[k]];
    hi[k] = *(const vm_u64_a*)rows[i[k + VM_LANES / 2]];
  }
  *c0 = __builtin_shufflevector((vmf)lo, (vmf)hi, VM_EVEN);
  *c1 = __builtin_shufflevector((vmf)lo, (vmf)hi, VM_ODD);
}
/* the row nearest a >= 0 (i, clamped to last: lanes past the last row, inf and NaN too, read that row and the
 * callers replace them), its r and d = a - r */
typedef struct { vmu i; vmf r, d; } vm_row;
VM_INLINE vm_row vm_nearest_row(vmf a, uint32_t last) {
  const vmf z = a + VM_ERF_SHIFT;
  vm_row k;
  k.i = (vmu)z - (vmu)vm_splat(VM_ERF_SHIFT);
  const vmu past = (vmu)(k.i > last);
  k.i = (k.i & ~past) | (last & past);
  k.r = z - VM_ERF_SHIFT;
  k.d = a - k.r;
  return k;
}

/* c of the series above (gauss: Q's, else erf's) and the row's f(r) in *f_r */
VM_INLINE vmf vm_row_series(const float (*rows)[2], uint32_t last, int gauss, vmf a, vmf* f_r) {
  const vm_row k = vm_nearest_row(a, last);
  const vmf r = k.r, d = k.d, r2 = r * r;
  vmf s;
  vm_rows(rows, k.i, f_r, &s);
  const vmf c1 = gauss ? 0.5f * r : r;
  const vmf c2 = gauss ? (r2 - 1.0f) * (1.0f / 6.0f) : (r2 + r2 - 1.0f) * (1.0f / 3.0f);
  const vmf c3 = gauss ? r * (0.125f - r2 * (1.0f / 24.0f)) : r * (0.5f - r2 * (1.0f / 3.0f));
  const vmf sd = s * d;
  return sd + sd * (((c3 * d + c2) * d - c1) * d);
}

/* erf: 1 from the end of its rows (r = 4) on; erf rounds to 1 from 3.8325 */
#define VM_ERF_ONE ((VM_ERF_ROWS - 0.5f) / VM_ERF_STEPS)
VM_INLINE vmf vm_erf(vmf x) {
  const vmf a = vm_abs(x);
  vmf f_r;
  const vmf c = vm_row_series(vm_erf_rows, VM_ERF_ROWS - 1, 0, a, &f_r);
  return vm_with_sign(vm_sel(a >= VM_ERF_ONE, vm_splat(1.0f), f_r + c), x);   /* NaN: f_r + c is NaN */
}

/* tanh from its rows {T, S} = {tanh(r), 1 - tanh(r)^2} (vec_tanh_table.h) as erf's: with d = |x| - r,
 * tanh(r + d) = T + S d (1 - T d + (T^2 - 1/3) d^2) (the next term is under 1e-8 of the last); 1 from the end of
 * the rows (r = 9.25) on, where tanh rounds to 1 */
#define VM_TANH_ONE ((VM_TANH_ROWS - 0.5f) / VM_ERF_STEPS)
VM_INLINE vmf vm_tanh(vmf x) {
  const vmf a = vm_abs(x);
  const vm_row k = vm_nearest_row(a, VM_TANH_ROWS - 1);
  vmf t, s;
  vm_rows(vm_tanh_rows, k.i, &t, &s);
  const vmf sd = s * k.d, y = t + (sd + sd * (((t * t - 1.0f / 3.0f) * k.d - t) * k.d));
  return vm_with_sign(vm_sel(a >= VM_TANH_ONE, vm_splat(1.0f), y), x);   /* NaN: y is NaN */
}

/* sin and cos: x = j pi/2 + r, |r| <= pi/4, with pi/2 in four parts (the first three of 12 bits, so j times them
 * is exact while |j| < 2^12, and r keeps its relative accuracy next to the multiples of pi/2); then sin r = r + r^3 S(r^2) or cos r = 1 - r^2/2 + r^4 C(r^2) by the quadrant j mod 4.
 * Lanes with |x| > VM_TRIG_MAX (and inf, NaN) take libm's sinf/cosf, whose reduction is exact at any size. */
#define VM_TRIG_MAX 6000.0f
VM_INLINE vmf vm_sincos(vmf x, int cosine) {
  const vmf a = vm_abs(x);   /* sin is odd, cos even: reduce |x| (-0 keeps its sign) */
  const vmf t = a * 0.636619772367581343f + VM_ROUND_MAGIC, jf = t - VM_ROUND_MAGIC;
  const vmu j = (vmu)t - (vmu)vm_splat(VM_ROUND_MAGIC) + (uint32_t)cosine;   /* cos x = sin(x + pi/2) */
  const vmf r = (((a - jf * 1.570312500e+00f) - jf * 4.837512970e-04f) - jf * 7.549533620e-08f)
                - jf * 2.563344068e-12f, w = r * r;
  vmf sp = -1.951595332e-04f * w + 8.332165889e-03f;
  sp = sp * w - 1.666665524e-01f;
  const vmf sin_r = r + r * (w * sp);
  vmf cp = 2.443585254e-05f * w - 1.388734207e-03f;
  cp = cp * w + 4.166664556e-02f;
  const vmf cos_r = (1.0f - 0.5f * w) + (w * w) * cp;
  const vmf v = vm_sel((vmi)((j & 1) != 0), cos_r, sin_r);
  vmf out = (vmf)((vmu)v ^ ((j & 2) << 30));   /* quadrants 2 and 3: negated */
  if (!cosine) out = (vmf)((vmi)out ^ ((vmi)x & VM_SIGN));
  const vmi far = ~(vm_abs(x) <= VM_TRIG_MAX);
  if (vm_any(far))
    for (int k = 0; k < VM_LANES; k++)
      if (far[k]) out[k] = cosine ? cosf(x[k]) : sinf(x[k]);
  return out;
}
VM_INLINE vmf vm_sin(vmf x) { return vm_sincos(x, 0); }
VM_INLINE vmf vm_cos(vmf x) { return vm_sincos(x, 1); }

/* sigmoid(x) = 1 / (1 + e^-x), as e^x / (1 + e^x) for x < 0 so that it follows e^x down to the subnormals
 * instead of stopping at 0 where e^-x overflows; silu(x) = x sigmoid(x) with the same two forms */
VM_INLINE vmf vm_sigmoid(vmf x) {
  const vmf e = vm_exp(-vm_abs(x));
  return vm_sel(x < 0.0f, e, vm_splat(1.0f)) / (1.0f + e);
}
/* x < 0: e^x carries a factor 2^32 until the last multiply, so that the results among the subnormals (x < -87)
 * are rounded once, not made from a subnormal e^x's few bits; below -120 the result is -0 (NaN for -inf) */
VM_INLINE vmf vm_silu(vmf x) {
  const vmf a = vm_abs(x);
  const vm_reduced k = vm_reduce_ln2_unclamped(-vm_sel(a > 120.0f, vm_splat(120.0f), a));
  const vmf p = 1.0f + vm_expm1_reduced(k.r), e = vm_ldexp(p, k.n), e_2p32 = vm_ldexp(p, (vmi)((vmu)k.n + 32));
  const vmf neg = vm_sel(x < -120.0f, x * 0.0f, (x * e_2p32) / (1.0f + e) * 2.3283064365386963e-10f);
  return vm_sel(x < 0.0f, neg, x / (1.0f + e));
}
/* GELU, x Phi(x) = x (1 + erf(x / sqrt 2)) / 2: x Q(-x) for x < 0 and x (1 - Q(x)) above, with Q from its own rows
 * in x itself (no rounded x / sqrt 2, whose error the tail's steep Q would multiply by x^2, and no 1 - erf
 * cancelling); 0 past the last row (x < -12.754, where GELU is -2e-36) */
#define VM_GELU_ZERO ((VM_GELU_ROWS - 0.5f) / VM_ERF_STEPS)
VM_INLINE vmf vm_gelu_erf(vmf x) {
  const vmf a = vm_abs(x);
  vmf q_r;
  const vmf c = vm_row_series(vm_gelu_rows, VM_GELU_ROWS - 1, 1, a, &q_r);
  const vmf q = vm_sel(a >= VM_GELU_ZERO, vm_splat(0.0f), q_r - c);   /* NaN: q_r - c is NaN */
  return x * vm_sel(x < 0.0f, q, 1.0f - q);
}
/* 0.5 x (1 + tanh(u)) == x sigmoid(2u): no cancellation for negative x, and inf/NaN as the tanh form */
VM_INLINE vmf vm_gelu_tanh(vmf x) {
  const vmf u = 0.79788456080286535588f * (x + 0.044715f * (x * x * x));
  return x / (1.0f + vm_exp(-(u + u)));
}

/* the activations as PyTorch writes them, on the functions above */
VM_INLINE vmf vm_softplus(vmf x, float beta, float threshold) {
  const vmf z = x * beta;
  return vm_sel(z > threshold, x, vm_log1p(vm_exp(z)) / beta);
}
VM_INLINE vmf vm_logsigmoid(vmf x) {
  return vm_sel(x < 0.0f, x, vm_splat(0.0f)) - vm_log1p(vm_exp(-vm_abs(x)));
}
VM_INLINE vmf vm_mish(vmf x) { return x * vm_tanh(vm_log1p(vm_exp(x))); }
/* elu, selu, celu: x <= 0 ? expm1(x input_scale) alpha scale : x scale */
VM_INLINE vmf vm_elu(vmf x, float neg_coef, float pos_coef, float input_scale) {
  return vm_sel(x <= 0.0f, vm_expm1(x * input_scale) * neg_coef, x * pos_coef);
}

#endif
