/* PyTorch-exact CPU random number generation (mt19937 + ATen's CPU distribution transforms).
 *
 * Reference: PyTorch 2.13 CPU, AVX2 kernel build (the default on x86-64; AVX-512 machines run the same
 * normal kernel). Every rule here was checked bit for bit against real torch (tests/test_random.py).
 *
 * The generator state is a Python-owned 5056-byte buffer laid out EXACTLY as torch's
 * `Generator.get_state()` bytes (struct tjs_rng_state below), so get_state/set_state are byte copies.
 * Kernels keep the buffer canonical (fields torch zeroes stay zero; the double-normal cache value is
 * zeroed when the cache is consumed), so the bytes equal torch.get_rng_state() after the same calls.
 *
 * Floating point: the build uses -ffp-contract=off, so no multiply-add is fused unless written as one.
 * PyTorch's AVX2 build fuses some float32 multiply-adds (GCC contraction, `_mm256_fmadd_ps`); those are
 * written here as fma32(), an exact emulation of a correctly rounded fmaf() (float product is exact in
 * double; TwoSum error breaks float rounding ties). It needs no libm and no FMA instruction, so it
 * gives the same bits natively and in wasm32. sqrt/sqrtf are the (correctly rounded) builtins.
 * Double-precision math uses libm (log, log1p, sin, cos; fma for the fused float64 uniform_/normal_):
 * glibc natively, Pyodide's (musl) libm in wasm. Every float32/f16/bf16 output is bit-exact in both.
 * float64 outputs of normal (sin/cos/log/log1p) and exponential (log1p) follow the libm: musl's sin/cos
 * differ from glibc's by 1-3 ulp on ~3% of doubles, its log1p on ~0.1%, so float64 randn/exponential_
 * in Pyodide can differ from torch in the last bits (float32 results were identical on 10^6 samples).
 *
 * Kernel arguments: wasm_ext/ABI.md (slot indices in tjs_abi.h, both generated from kernel_abi.py).
 * All buffers are contiguous; n counts elements. Return TJS_OK or TJS_ERR_DTYPE.
 */
#include "tjs.h"

/* ---- state: byte layout of torch's CPUGeneratorImplState (5056 bytes, little-endian) ---------- */
typedef struct {
  uint64_t the_initial_seed;   /* 0 */
  int32_t left;                /* 8 */
  int32_t seeded;              /* 12 */
  uint64_t next;               /* 16 */
  uint64_t state[624];         /* 24 */
  double normal_x;             /* 5016, always 0 */
  double normal_y;             /* 5024, cached double normal sample (0 when invalid) */
  double normal_rho;           /* 5032, always 0 */
  int32_t normal_is_valid;     /* 5040 */
  int32_t pad0;                /* 5044 */
  float next_float_normal_sample; /* 5048 */
  uint8_t float_valid;         /* 5052 */
  uint8_t pad1[3];             /* 5053 */
} tjs_rng_state;
_Static_assert(sizeof(tjs_rng_state) == 5056, "state layout");
_Static_assert(__builtin_offsetof(tjs_rng_state, normal_y) == 5024, "state layout");
_Static_assert(__builtin_offsetof(tjs_rng_state, next_float_normal_sample) == 5048, "state layout");

#define MT_N 624
#define MT_M 397

typedef struct {
  uint32_t st[MT_N];
  int32_t left;
  uint32_t next;
} mt_t;

static void mt_load(mt_t *m, const tjs_rng_state *S) {
  for (int i = 0; i < MT_N; i++) m->st[i] = (uint32_t)S->state[i];
  m->left = S->left;
  m->next = (uint32_t)S->next;
}

static void mt_store(const mt_t *m, tjs_rng_state *S) {
  for (int i = 0; i < MT_N; i++) S->state[i] = m->st[i];
  S->left = m->left;
  S->next = m->next;
}

static inline uint32_t mt_twist(uint32_t u, uint32_t v) {
  return (((u & 0x80000000u) | (v & 0x7fffffffu)) >> 1) ^ ((v & 1u) ? 0x9908b0dfu : 0u);
}

static void mt_next_state(mt_t *m) {
  uint32_t *p = m->st;
  m->left = MT_N;
  m->next = 0;
  int j;
  for (j = 0; j < MT_N - MT_M; j++) p[j] = p[j + MT_M] ^ mt_twist(p[j], p[j + 1]);
  for (; j < MT_N - 1; j++) p[j] = p[j + MT_M - MT_N] ^ mt_twist(p[j], p[j + 1]);
  p[MT_N - 1] = p[MT_M - 1] ^ mt_twist(p[MT_N - 1], p[0]);
}

static inline uint32_t mt_u32(mt_t *m) {
  if (--m->left == 0) mt_next_state(m);
  uint32_t y = m->st[m->next++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= y >> 18;
  return y;
}

static inline uint64_t mt_u64(mt_t *m) {
  uint64_t hi = mt_u32(m);
  uint64_t lo = mt_u32(m);
  return (hi << 32) | lo;
}

/* uniform [0,1): float32 from one u32 (low 24 bits), float64 from random64 (low 53 bits) */
static inline float unif_f32(mt_t *m) { return (float)(mt_u32(m) & 0xFFFFFFu) * 5.9604644775390625e-08f; }
static inline double unif_f64(mt_t *m) {
  return (double)(mt_u64(m) & ((1ull << 53) - 1)) * 1.1102230246251565404236316680908203125e-16;
}

/* ---- bit helpers, half types --------------------------------------------------------------------- */
static inline uint32_t f2u(float f) { union { float f; uint32_t u; } x; x.f = f; return x.u; }
static inline float u2f(uint32_t u) { union { float f; uint32_t u; } x; x.u = u; return x.f; }

static inline uint16_t f32_to_f16(float f) {   /* round to nearest even, as c10::Half */
  uint32_t x = f2u(f);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) return (uint16_t)(sign | (ax > 0x7f800000u ? 0x7e00u : 0x7c00u));
  if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);            /* rounds to >= 65520 -> inf */
  if (ax < 0x38800000u) {                                               /* subnormal half (< 2^-14) */
    float a = u2f(ax) + 0.5f;                                           /* add-magic: RNE to 2^-24 units */
    return (uint16_t)(sign | (f2u(a) - 0x3f000000u));
  }
  uint32_t mant_odd = (ax >> 13) & 1u;
  ax += 0xc8000fffu + mant_odd;                                         /* rebias exponent, RNE */
  return (uint16_t)(sign | (ax >> 13));
}

static inline float f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t e = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  if (e == 0x1f) return u2f(sign | 0x7f800000u | (mant << 13));
  if (e == 0) {
    float v = (float)mant * 5.9604644775390625e-08f;                    /* mant * 2^-24, exact */
    return sign ? -v : v;
  }
  return u2f(sign | ((e + 112u) << 23) | (mant << 13));
}

static inline uint16_t f32_to_bf16(float f) {  /* round to nearest even, NaN -> 0x7fc0, as c10::BFloat16 */
  uint32_t x = f2u(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return 0x7fc0u;
  x += 0x7fffu + ((x >> 16) & 1u);
  return (uint16_t)(x >> 16);
}

static inline float bf16_to_f32(uint16_t h) { return u2f((uint32_t)h << 16); }

/* value -> element i of a buffer of `dtype`; double results reach half types through float, like
 * static_cast<c10::Half>(double) does */
static inline void store_f(void *out, int64_t i, int dtype, double v) {
  switch (dtype) {
    case TJS_F32: ((float *)out)[i] = (float)v; break;
    case TJS_F64: ((double *)out)[i] = v; break;
    case TJS_F16: ((uint16_t *)out)[i] = f32_to_f16((float)v); break;
    case TJS_BF16: ((uint16_t *)out)[i] = f32_to_bf16((float)v); break;
  }
}

static inline void store_01(void *out, int64_t i, int dtype, int b) {
  switch (dtype) {
    case TJS_BOOL: case TJS_U8: case TJS_I8: ((uint8_t *)out)[i] = (uint8_t)b; break;
    case TJS_I16: ((int16_t *)out)[i] = (int16_t)b; break;
    case TJS_I32: ((int32_t *)out)[i] = b; break;
    case TJS_I64: ((int64_t *)out)[i] = b; break;
    case TJS_F16: ((uint16_t *)out)[i] = b ? 0x3c00u : 0; break;
    case TJS_BF16: ((uint16_t *)out)[i] = b ? 0x3f80u : 0; break;
    case TJS_F32: ((float *)out)[i] = (float)b; break;
    case TJS_F64: ((double *)out)[i] = (double)b; break;
  }
}

static inline int is_float_dtype(int d) { return d == TJS_F32 || d == TJS_F64 || d == TJS_F16 || d == TJS_BF16; }
static inline int is_any_dtype(int d) { return d >= TJS_BOOL && d <= TJS_F64; }

/* ---- exact float32 fused multiply-add ------------------------------------------------------------ */
/* a*b is exact in double (24+24 bits). s = round53(a*b + c); rounding s to float gives the correctly
 * rounded result unless s sits exactly halfway between two floats, where the TwoSum error decides.
 * Fast path: s in the normal float range and its low 29 mantissa bits not exactly 0x10000000 (a tie). */
static float fma32_slow(double p, double cd, double s) {
  float r = (float)s;
  double rd = (double)r;
  if (rd == s || s - s != 0.0 || r - r != 0.0) return r;   /* exact, or inf/nan */
  double d = s - rd;                                          /* exact */
  uint32_t u = f2u(r);
  int up = d > 0;
  float g;                                                    /* float neighbour of r on s's side */
  if ((u & 0x7fffffffu) == 0) g = up ? u2f(1u) : u2f(0x80000001u);
  else g = ((u >> 31) == 0) == up ? u2f(u + 1) : u2f(u - 1);
  if ((double)g - s != d) return r;                           /* not a tie */
  double bb = s - p;
  double e = (p - (s - bb)) + (cd - bb);                      /* a*b + c == s + e exactly */
  if (e == 0.0) return r;                                     /* true tie: round to even (the cast) */
  return ((e > 0) == up) ? g : r;
}

static inline float fma32(float a, float b, float c) {
  double p = (double)a * (double)b;
  double cd = (double)c;
  double s = p + cd;
  union { double d; uint64_t u; } x;
  x.d = s;
  if (__builtin_expect((x.u & 0x1fffffffu) != 0x10000000u && ((x.u >> 52) & 0x7ffu) >= 897u, 1))
    return (float)s;
  return fma32_slow(p, cd, s);
}

/* ---- seed ---------------------------------------------------------------------------------------- */
TJS_EXPORT int tjs_rng_seed(void) {
  tjs_rng_state *S = (tjs_rng_state *)(intptr_t)tjs_args[TJS_RNG_SEED_STATE];
  uint64_t seed = (uint64_t)tjs_args[TJS_RNG_SEED_SEED];
  uint8_t *b = (uint8_t *)S;
  for (int i = 0; i < (int)sizeof(tjs_rng_state); i++) b[i] = 0;
  S->the_initial_seed = seed;
  uint32_t x = (uint32_t)(seed & 0xffffffffu);
  S->state[0] = x;
  for (int j = 1; j < MT_N; j++) {
    x = 1812433253u * (x ^ (x >> 30)) + (uint32_t)j;
    S->state[j] = x;
  }
  S->left = 1;
  S->seeded = 1;
  S->next = 0;
  return TJS_OK;
}

/* ---- uniform_(from, to) -------------------------------------------------------------------------- */
TJS_EXPORT int tjs_rng_uniform(void) {
  tjs_rng_state *S = (tjs_rng_state *)(intptr_t)tjs_args[TJS_RNG_UNIFORM_STATE];
  void *out = (void *)(intptr_t)tjs_args[TJS_RNG_UNIFORM_OUT];
  int64_t n = tjs_args[TJS_RNG_UNIFORM_N];
  int dtype = (int)tjs_args[TJS_RNG_UNIFORM_DTYPE];
  double from_ = tjs_arg_f64(TJS_RNG_UNIFORM_FROM), to_ = tjs_arg_f64(TJS_RNG_UNIFORM_TO);
  if (!is_float_dtype(dtype)) return TJS_ERR_DTYPE;
  mt_t m;
  mt_load(&m, S);
  if (dtype == TJS_F32) {
    float *o = (float *)out;
    float from = (float)from_, to = (float)to_;
    float range = to - from;
    for (int64_t i = 0; i < n; i++) {
      float v = fma32(unif_f32(&m), range, from);
      o[i] = (v == to) ? from : v;
    }
  } else if (dtype == TJS_F64) {
    double *o = (double *)out;
    double range = to_ - from_;
    for (int64_t i = 0; i < n; i++) {
      double v = fma(unif_f64(&m), range, from_);
      o[i] = (v == to_) ? from_ : v;
    }
  } else {
    /* Half / BFloat16: the float32 computation above (24-bit uniform, float from/to, fused), rounded to
     * the half type; a result that rounds to half(to) becomes half(from) */
    uint16_t *o = (uint16_t *)out;
    int h = dtype == TJS_F16;
    float from = (float)from_, to = (float)to_;
    float range = to - from;
    uint16_t hfrom = h ? f32_to_f16(from) : f32_to_bf16(from);
    uint16_t hto = h ? f32_to_f16(to) : f32_to_bf16(to);
    for (int64_t i = 0; i < n; i++) {
      float v = fma32(unif_f32(&m), range, from);
      uint16_t r = h ? f32_to_f16(v) : f32_to_bf16(v);
      o[i] = (r == hto || ((r | hto) & 0x7fffu) == 0) ? hfrom : r;   /* half compare: -0 == +0 */
    }
  }
  mt_store(&m, S);
  return TJS_OK;
}

/* ---- normal -------------------------------------------------------------------------------------- */
/* avx_mathfun log256_ps / sincos256_ps and PyTorch's normal_fill_16_AVX2, with the multiply-adds that
 * PyTorch's GCC build fuses. Written lane-parallel over the 8 lanes of a block (every step is a loop
 * over j) so the 8 independent dependency chains overlap; each lane's arithmetic is exactly one AVX lane. */
#define LANES for (int j = 0; j < 8; j++)

static void am_log8(float *xs) {                               /* in place, x in (0, 1] */
  float x[8], e[8], z[8], y[8];
  LANES {
    float v = xs[j];
    if (!(v >= 1.17549435e-38f)) v = 1.17549435e-38f;         /* _mm256_max_ps(x, min_norm_pos) */
    uint32_t u = f2u(v);
    int32_t imm0 = (int32_t)(u >> 23) - 0x7f;
    v = u2f((u & ~0x7f800000u) | 0x3f000000u);                 /* mantissa in [0.5, 1) */
    float ef = (float)imm0 + 1.0f;
    int mask = v < 0.707106781186547524f;
    float tmp = mask ? v : 0.0f;
    v = v - 1.0f;
    ef = ef - (mask ? 1.0f : 0.0f);
    x[j] = v + tmp;
    e[j] = ef;
    z[j] = x[j] * x[j];
    y[j] = 7.0376836292E-2f;
  }
  static const float P[8] = {-1.1514610310E-1f, 1.1676998740E-1f, -1.2420140846E-1f, 1.4249322787E-1f,
                             -1.6668057665E-1f, 2.0000714765E-1f, -2.4999993993E-1f, 3.3333331174E-1f};
  for (int k = 0; k < 8; k++) LANES y[j] = fma32(y[j], x[j], P[k]);
  LANES {
    float yy = y[j] * x[j];
    yy = fma32(yy, z[j], e[j] * -2.12194440e-4f);
    yy = fma32(-z[j], 0.5f, yy);
    xs[j] = (x[j] + yy) + e[j] * 0.693359375f;
  }
}

static void am_sincos8(const float *xin, float *sp, float *cp) {   /* xin >= 0 */
  float x[8], z[8], c[8], s[8];
  int32_t jj[8];
  LANES {
    float v = u2f(f2u(xin[j]) & 0x7fffffffu);
    int32_t q = (int32_t)(v * 1.27323954473516f);              /* cvttps */
    q = (q + 1) & ~1;
    float y = (float)q;
    jj[j] = q;
    v = fma32(y, -0.78515625f, v);
    v = fma32(y, -2.4187564849853515625e-4f, v);
    v = fma32(y, -3.77489497744594108e-8f, v);
    x[j] = v;
    z[j] = v * v;
  }
  LANES c[j] = fma32(2.443315711809948E-005f, z[j], -1.388731625493765E-003f);
  LANES c[j] = fma32(c[j], z[j], 4.166664568298827E-002f);
  LANES c[j] = fma32(c[j] * z[j], z[j], -(z[j] * 0.5f));
  LANES s[j] = fma32(-1.9515295891E-4f, z[j], 8.3321608736E-3f);
  LANES s[j] = fma32(s[j], z[j], -1.6666654611E-1f);
  LANES s[j] = fma32(s[j] * z[j], x[j], x[j]);
  LANES {
    float cc = c[j] + 1.0f, ss = s[j];
    int32_t q = jj[j];
    uint32_t sign_sin = (f2u(xin[j]) & 0x80000000u) ^ (((uint32_t)q & 4u) << 29);
    uint32_t sign_cos = ((~(uint32_t)(q - 2)) & 4u) << 29;
    int poly_mask = (q & 2) == 0;
    float ysin2 = poly_mask ? ss : 0.0f;                        /* select by and/andnot, then add/sub */
    float ysin1 = poly_mask ? 0.0f : cc;
    ss = ss - ysin2;
    cc = cc - ysin1;
    sp[j] = u2f(f2u(ysin1 + ysin2) ^ sign_sin);
    cp[j] = u2f(f2u(cc + ss) ^ sign_cos);
  }
}

static void normal_block_f32(float *d, float mean, float std) {
  const float two_pi = 6.28318530717958647692f;
  float lg[8], th[8], sn[8], cs[8];
  LANES {
    lg[j] = 1.0f - d[j];
    th[j] = two_pi * d[j + 8];
  }
  am_log8(lg);
  am_sincos8(th, sn, cs);
  LANES {
    float radius = __builtin_sqrtf(-2.0f * lg[j]);
    d[j] = fma32(radius * cs[j], std, mean);
    d[j + 8] = fma32(radius * sn[j], std, mean);
  }
}

#define TWO_PI_D 6.283185307179586476925286766559

static void normal_block_f64(double *d, double mean, double std) {
  for (int j = 0; j < 8; j++) {
    double u1 = 1.0 - d[j];
    double u2 = d[j + 8];
    double radius = __builtin_sqrt(-2.0 * log(u1));
    double theta = TWO_PI_D * u2;
    d[j] = fma(radius * cos(theta), std, mean);
    d[j + 8] = fma(radius * sin(theta), std, mean);
  }
}

/* at::normal_distribution<double> with the generator's next_double_normal_sample cache */
static inline double normal_scalar(mt_t *m, tjs_rng_state *S, double mean, double std) {
  if (S->normal_is_valid) {
    double v = S->normal_y;
    S->normal_is_valid = 0;
    S->normal_y = 0.0;
    return fma(v, std, mean);
  }
  double u1 = unif_f64(m);
  double u2 = unif_f64(m);
  double r = __builtin_sqrt(-2.0 * log1p(-u2));
  double theta = TWO_PI_D * u1;
  S->normal_y = r * sin(theta);
  S->normal_is_valid = 1;
  return fma(r * cos(theta), std, mean);
}

TJS_EXPORT int tjs_rng_normal(void) {
  tjs_rng_state *S = (tjs_rng_state *)(intptr_t)tjs_args[TJS_RNG_NORMAL_STATE];
  void *out = (void *)(intptr_t)tjs_args[TJS_RNG_NORMAL_OUT];
  int64_t n = tjs_args[TJS_RNG_NORMAL_N];
  int dtype = (int)tjs_args[TJS_RNG_NORMAL_DTYPE];
  double mean = tjs_arg_f64(TJS_RNG_NORMAL_MEAN), std = tjs_arg_f64(TJS_RNG_NORMAL_STD);
  int vectorized = tjs_args[TJS_RNG_NORMAL_VECTORIZED] != 0 && n >= 16;
  if (!is_float_dtype(dtype)) return TJS_ERR_DTYPE;
  mt_t m;
  mt_load(&m, S);
  if (vectorized && dtype == TJS_F32) {
    float *o = (float *)out;
    float fm = (float)mean, fs = (float)std;
    for (int64_t i = 0; i < n; i++) o[i] = unif_f32(&m);
    for (int64_t i = 0; i + 16 <= n; i += 16) normal_block_f32(o + i, fm, fs);
    if (n % 16 != 0) {
      float *t = o + n - 16;
      for (int i = 0; i < 16; i++) t[i] = unif_f32(&m);
      normal_block_f32(t, fm, fs);
    }
  } else if (vectorized && (dtype == TJS_F16 || dtype == TJS_BF16)) {
    /* half types: the same float32 block math, but each block draws its own 16 uniforms (so the tail
     * block's draws follow the full blocks' directly: 16*ceil(n/16) draws), then rounds to the type */
    uint16_t *o = (uint16_t *)out;
    int h = dtype == TJS_F16;
    float fm = (float)mean, fs = (float)std, t[16];
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
      for (int j = 0; j < 16; j++) t[j] = unif_f32(&m);
      normal_block_f32(t, fm, fs);
      for (int j = 0; j < 16; j++) o[i + j] = h ? f32_to_f16(t[j]) : f32_to_bf16(t[j]);
    }
    if (n % 16 != 0) {
      for (int j = 0; j < 16; j++) t[j] = unif_f32(&m);
      normal_block_f32(t, fm, fs);
      for (int j = 0; j < 16; j++) o[n - 16 + j] = h ? f32_to_f16(t[j]) : f32_to_bf16(t[j]);
    }
  } else if (vectorized) {
    double *o = (double *)out;
    for (int64_t i = 0; i < n; i++) o[i] = unif_f64(&m);
    for (int64_t i = 0; i + 16 <= n; i += 16) normal_block_f64(o + i, mean, std);
    if (n % 16 != 0) {
      double *t = o + n - 16;
      for (int i = 0; i < 16; i++) t[i] = unif_f64(&m);
      normal_block_f64(t, mean, std);
    }
  } else {
    for (int64_t i = 0; i < n; i++) store_f(out, i, dtype, normal_scalar(&m, S, mean, std));
  }
  mt_store(&m, S);
  return TJS_OK;
}

/* ---- integers ------------------------------------------------------------------------------------ */
TJS_EXPORT int tjs_rng_randint(void) {
  tjs_rng_state *S = (tjs_rng_state *)(intptr_t)tjs_args[TJS_RNG_RANDINT_STATE];
  int64_t *o = (int64_t *)(intptr_t)tjs_args[TJS_RNG_RANDINT_OUT];
  int64_t n = tjs_args[TJS_RNG_RANDINT_N];
  uint64_t low = (uint64_t)tjs_args[TJS_RNG_RANDINT_LOW];
  uint64_t range = (uint64_t)tjs_args[TJS_RNG_RANDINT_RANGE];
  mt_t m;
  mt_load(&m, S);
  if (range == 0) {
    for (int64_t i = 0; i < n; i++) o[i] = (int64_t)mt_u64(&m);
  } else if (range >= (1ull << 28)) {
    for (int64_t i = 0; i < n; i++) o[i] = (int64_t)(mt_u64(&m) % range + low);
  } else {
    uint32_t r32 = (uint32_t)range;
    for (int64_t i = 0; i < n; i++) o[i] = (int64_t)((uint64_t)(mt_u32(&m) % r32) + low);
  }
  mt_store(&m, S);
  return TJS_OK;
}

TJS_EXPORT int tjs_rng_random_bits(void) {
  tjs_rng_state *S = (tjs_rng_state *)(intptr_t)tjs_args[TJS_RNG_RANDOM_BITS_STATE];
  void *out = (void *)(intptr_t)tjs_args[TJS_RNG_RANDOM_BITS_OUT];
  int64_t n = tjs_args[TJS_RNG_RANDOM_BITS_N];
  int dtype = (int)tjs_args[TJS_RNG_RANDOM_BITS_DTYPE];
  if (!is_any_dtype(dtype)) return TJS_ERR_DTYPE;
  mt_t m;
  mt_load(&m, S);
  for (int64_t i = 0; i < n; i++) {
    switch (dtype) {
      case TJS_BOOL: ((uint8_t *)out)[i] = (uint8_t)(mt_u32(&m) & 1u); break;
      case TJS_U8: ((uint8_t *)out)[i] = (uint8_t)(mt_u32(&m) % 256u); break;
      case TJS_I8: ((int8_t *)out)[i] = (int8_t)(mt_u32(&m) % 128u); break;
      case TJS_I16: ((int16_t *)out)[i] = (int16_t)(mt_u32(&m) % 32768u); break;
      case TJS_I32: ((int32_t *)out)[i] = (int32_t)(mt_u32(&m) % 2147483648u); break;
      case TJS_I64: ((int64_t *)out)[i] = (int64_t)(mt_u64(&m) % 9223372036854775808ull); break;
      case TJS_F16: ((uint16_t *)out)[i] = f32_to_f16((float)(mt_u32(&m) % 2049u)); break;
      case TJS_BF16: ((uint16_t *)out)[i] = f32_to_bf16((float)(mt_u32(&m) % 257u)); break;
      case TJS_F32: ((float *)out)[i] = (float)(mt_u32(&m) % 16777217u); break;
      case TJS_F64: ((double *)out)[i] = (double)(mt_u64(&m) % 9007199254740993ull); break;
    }
  }
  mt_store(&m, S);
  return TJS_OK;
}

TJS_EXPORT int tjs_rng_randperm(void) {
  tjs_rng_state *S = (tjs_rng_state *)(intptr_t)tjs_args[TJS_RNG_RANDPERM_STATE];
  int64_t *o = (int64_t *)(intptr_t)tjs_args[TJS_RNG_RANDPERM_OUT];
  int64_t n = tjs_args[TJS_RNG_RANDPERM_N];
  mt_t m;
  mt_load(&m, S);
  if (n < (int64_t)(0xffffffffu / 20)) {
    for (int64_t i = 0; i < n; i++) o[i] = i;
    for (int64_t i = 0; i < n - 1; i++) {
      int64_t z = (int64_t)(mt_u32(&m) % (uint64_t)(n - i));
      int64_t sav = o[i];
      o[i] = o[z + i];
      o[z + i] = sav;
    }
  } else {
    for (int64_t i = 0; i < n; i++) {
      int64_t z = (int64_t)(mt_u64(&m) % (uint64_t)(i + 1));
      o[i] = o[z];
      o[z] = i;
    }
  }
  mt_store(&m, S);
  return TJS_OK;
}

/* ---- bernoulli, exponential ---------------------------------------------------------------------- */
TJS_EXPORT int tjs_rng_bernoulli_tensor(void) {
  tjs_rng_state *S = (tjs_rng_state *)(intptr_t)tjs_args[TJS_RNG_BERNOULLI_TENSOR_STATE];
  void *out = (void *)(intptr_t)tjs_args[TJS_RNG_BERNOULLI_TENSOR_OUT];
  const void *p = (const void *)(intptr_t)tjs_args[TJS_RNG_BERNOULLI_TENSOR_P];
  int64_t n = tjs_args[TJS_RNG_BERNOULLI_TENSOR_N];
  int pd = (int)tjs_args[TJS_RNG_BERNOULLI_TENSOR_P_DTYPE], od = (int)tjs_args[TJS_RNG_BERNOULLI_TENSOR_OUT_DTYPE];
  if (!is_float_dtype(pd) || !is_any_dtype(od)) return TJS_ERR_DTYPE;
  mt_t m;
  mt_load(&m, S);
  for (int64_t i = 0; i < n; i++) {
    int b;
    if (pd == TJS_F64) {
      b = unif_f64(&m) < ((const double *)p)[i];
    } else {
      float pv = pd == TJS_F32 ? ((const float *)p)[i]
               : pd == TJS_F16 ? f16_to_f32(((const uint16_t *)p)[i]) : bf16_to_f32(((const uint16_t *)p)[i]);
      b = unif_f32(&m) < pv;
    }
    store_01(out, i, od, b);
  }
  mt_store(&m, S);
  return TJS_OK;
}

TJS_EXPORT int tjs_rng_bernoulli_scalar(void) {
  tjs_rng_state *S = (tjs_rng_state *)(intptr_t)tjs_args[TJS_RNG_BERNOULLI_SCALAR_STATE];
  void *out = (void *)(intptr_t)tjs_args[TJS_RNG_BERNOULLI_SCALAR_OUT];
  int64_t n = tjs_args[TJS_RNG_BERNOULLI_SCALAR_N];
  double p = tjs_arg_f64(TJS_RNG_BERNOULLI_SCALAR_P);
  int od = (int)tjs_args[TJS_RNG_BERNOULLI_SCALAR_OUT_DTYPE];
  if (!is_any_dtype(od)) return TJS_ERR_DTYPE;
  mt_t m;
  mt_load(&m, S);
  for (int64_t i = 0; i < n; i++) store_01(out, i, od, unif_f64(&m) < p);
  mt_store(&m, S);
  return TJS_OK;
}

TJS_EXPORT int tjs_rng_exponential(void) {
  tjs_rng_state *S = (tjs_rng_state *)(intptr_t)tjs_args[TJS_RNG_EXPONENTIAL_STATE];
  void *out = (void *)(intptr_t)tjs_args[TJS_RNG_EXPONENTIAL_OUT];
  int64_t n = tjs_args[TJS_RNG_EXPONENTIAL_N];
  double lambd = tjs_arg_f64(TJS_RNG_EXPONENTIAL_LAMBD);
  int dtype = (int)tjs_args[TJS_RNG_EXPONENTIAL_DTYPE];
  if (!is_float_dtype(dtype)) return TJS_ERR_DTYPE;
  double scale = -1.0 / lambd;
  mt_t m;
  mt_load(&m, S);
  for (int64_t i = 0; i < n; i++) store_f(out, i, dtype, scale * log1p(-unif_f64(&m)));
  mt_store(&m, S);
  return TJS_OK;
}
