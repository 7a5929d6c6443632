/* ew_float.h: float unary/binary kernels, a template included by elementwise.c once per float type.
 * No include guard on purpose. The includer defines:
 *   T (float/double), SUF (f32/f64), MF(fn) (libm name: expf / exp), BF(fn) (builtin: __builtin_floorf),
 *   V (unaligned 16-byte vector of T), VI (matching signed int vector), VW (lanes), VABS (VI abs mask),
 *   FN(name) (name##SUF, for per-type helpers).
 * The loop macros UMAP/UMAPV/BMAP/BMAPV come from elementwise.c.
 */

static inline T FN(divfloor_)(T a, T b) {   /* c10::div_floor_floating */
  if (b == 0) return a / b;
  T mod = MF(fmod)(a, b);
  T div = (a - mod) / b;
  if (mod != 0 && (b < 0) != (mod < 0)) div -= (T)1;
  T fl;
  if (div != 0) {
    fl = BF(floor)(div);
    if (div - fl > (T)0.5) fl += (T)1;
  } else {
    fl = BF(copysign)((T)0, a / b);
  }
  return fl;
}

static inline T FN(remainder_)(T a, T b) {
  T mod = MF(fmod)(a, b);
  if (mod != 0 && (b < 0) != (mod < 0)) mod += b;
  return mod;
}

static inline T FN(madd_)(T x, T y, T z) {
  if (sizeof(T) == 4) {   /* x*y is exact in double; fix the sum's double rounding when it lands on a tie */
    const double p = (double)x * (double)y, zd = (double)z, s = p + zd;
    const double bb = s - p, e = (p - (s - bb)) + (zd - bb);   /* TwoSum: s + e == p + z exactly */
    uint64_t u = tjs_d2u(s);
    if ((u & 0x1fffffffu) == 0x10000000u && e != 0) u += ((e > 0) == (s > 0)) ? 1 : (uint64_t)-1;
    return (T)tjs_u2d(u);
  }
  return MF(fma)(x, y, z);
}
static inline T FN(sign_)(T x) { return (T)((0 < x) - (x < 0)); }
static inline T FN(clamp_)(T x, T lo, T hi) {   /* NaN test kept apart: see vclamp_ (loops vectorize this too) */
  T r = x < lo ? lo : x;
  r = r > hi ? hi : r;
  return x != x ? x : r;
}
static inline T FN(maxnan_)(T a, T b) { return (a != a || b != b) ? a + b : (a > b ? a : b); }
static inline T FN(minnan_)(T a, T b) { return (a != a || b != b) ? a + b : (a < b ? a : b); }
static inline T FN(fmax_)(T a, T b) { return a != a ? b : (b != b ? a : (a > b ? a : b)); }
static inline T FN(fmin_)(T a, T b) { return a != a ? b : (b != b ? a : (a < b ? a : b)); }
static inline V FN(vsel_)(VI m, V a, V b) { return (V)(((VI)a & m) | ((VI)b & ~m)); }
static inline V FN(vmaxnan_)(V a, V b) {
  VI nan = (a != a) | (b != b);
  return FN(vsel_)(nan, a + b, FN(vsel_)(a > b, a, b));
}
static inline V FN(vminnan_)(V a, V b) {
  VI nan = (a != a) | (b != b);
  return FN(vsel_)(nan, a + b, FN(vsel_)(a < b, a, b));
}
static inline V FN(vclamp_)(V x, T lo, T hi) {
  V r = FN(vsel_)(x < lo, VSPLAT(lo), x);
  r = FN(vsel_)(r > hi, VSPLAT(hi), r);
  /* NaN stays NaN: with -mrelaxed-simd clang turns the two selects into relaxed min/max, whose NaN lanes are
     the engine's choice (V8 gives the bound) */
  return FN(vsel_)(x != x, x, r);
}
static inline T FN(xlogy_)(T x, T y) {
  if (y != y) return y;
  if (x == 0) return 0;
  return x * MF(log)(y);
}
static inline T FN(softplus_)(T x, T beta, T thr) {
  return (x * beta) > thr ? x : MF(log1p)(MF(exp)(x * beta)) / beta;
}
static inline T FN(elu_)(T x, T negcoef, T poscoef, T negiptcoef) {
  return x <= 0 ? MF(expm1)(x * negiptcoef) * negcoef : x * poscoef;
}

static int FN(un_)(int op, tjs_iter* it, char* out, const char* in, double p0, double p1, double p2) {
  const T t0 = (T)p0, t1 = (T)p1, t2 = (T)p2;
  switch (op) {
  case TJS_UN_NEG: UMAPV(T, -x, -vx); break;
  case TJS_UN_ABS: UMAPV(T, BF(fabs)(x), (V)((VI)vx & VABS)); break;
  case TJS_UN_EXP: UMAP1(T, T, MF(exp)(x)); break;
  case TJS_UN_LOG: UMAP1(T, T, MF(log)(x)); break;
  case TJS_UN_SQRT: UMAP(T, T, BF(sqrt)(x)); break;
  case TJS_UN_RSQRT: UMAP(T, T, (T)1 / BF(sqrt)(x)); break;
  case TJS_UN_SIN: UMAP1(T, T, MF(sin)(x)); break;
  case TJS_UN_COS: UMAP1(T, T, MF(cos)(x)); break;
  case TJS_UN_TAN: UMAP1(T, T, MF(tan)(x)); break;
  case TJS_UN_TANH: UMAP1(T, T, MF(tanh)(x)); break;
  case TJS_UN_SIGMOID: UMAP1(T, T, (T)1 / ((T)1 + MF(exp)(-x))); break;
  case TJS_UN_RELU: UMAPV(T, x < 0 ? (T)0 : x, (V)((VI)vx & ~(vx < 0))); break;
  case TJS_UN_LOG1P: UMAP1(T, T, MF(log1p)(x)); break;
  case TJS_UN_EXPM1: UMAP1(T, T, MF(expm1)(x)); break;
  case TJS_UN_ASIN: UMAP1(T, T, MF(asin)(x)); break;
  case TJS_UN_ACOS: UMAP1(T, T, MF(acos)(x)); break;
  case TJS_UN_ATAN: UMAP1(T, T, MF(atan)(x)); break;
  case TJS_UN_SIGN: case TJS_UN_SGN_NONZERO: UMAP(T, T, FN(sign_)(x)); break;
  case TJS_UN_FLOOR: UMAP(T, T, BF(floor)(x)); break;
  case TJS_UN_CEIL: UMAP(T, T, BF(ceil)(x)); break;
  case TJS_UN_ROUND: UMAP(T, T, BF(rint)(x)); break;
  case TJS_UN_TRUNC: UMAP(T, T, BF(trunc)(x)); break;
  case TJS_UN_FRAC: UMAP(T, T, x - BF(trunc)(x)); break;
  case TJS_UN_RECIPROCAL: UMAPV(T, (T)1 / x, (T)1 / vx); break;
  case TJS_UN_SQUARE: UMAPV(T, x * x, vx * vx); break;
  case TJS_UN_ERF: UMAP1(T, T, MF(erf)(x)); break;
  case TJS_UN_ERFC: UMAP1(T, T, MF(erfc)(x)); break;
  case TJS_UN_ISNAN: UMAP(T, uint8_t, x != x); break;
  case TJS_UN_ISINF: UMAP(T, uint8_t, BF(fabs)(x) == (T)__builtin_inf()); break;
  case TJS_UN_ISFINITE: UMAP(T, uint8_t, BF(fabs)(x) < (T)__builtin_inf()); break;
  case TJS_UN_ISPOSINF: UMAP(T, uint8_t, x == (T)__builtin_inf()); break;
  case TJS_UN_ISNEGINF: UMAP(T, uint8_t, x == -(T)__builtin_inf()); break;
  case TJS_UN_SIGNBIT: UMAP(T, uint8_t, __builtin_signbit(x) != 0); break;
  case TJS_UN_LOGICAL_NOT: UMAP(T, uint8_t, x == 0); break;
  case TJS_UN_CLAMP: case TJS_UN_HARDTANH:
    UMAPV(T, FN(clamp_)(x, t0, t1), FN(vclamp_)(vx, t0, t1)); break;
  case TJS_UN_RELU6: UMAP(T, T, FN(clamp_)(x, (T)0, (T)6)); break;
  case TJS_UN_POW_SCALAR:
    if (p0 == 0) UMAP(T, T, (T)1);
    else if (p0 == 1) UMAP(T, T, x);
    else if (p0 == 2) UMAPV(T, x * x, vx * vx);
    else if (p0 == 3) UMAPV(T, x * x * x, vx * vx * vx);
    else if (p0 == -2) UMAPV(T, (T)1 / (x * x), (T)1 / (vx * vx));
    else if (p0 == 0.5) UMAP(T, T, BF(sqrt)(x));
    else if (p0 == -0.5) UMAP(T, T, (T)1 / BF(sqrt)(x));
    else if (p0 == -1) UMAPV(T, (T)1 / x, (T)1 / vx);
    else UMAP1(T, T, MF(pow)(x, t0));
    break;
  case TJS_UN_RPOW_SCALAR: UMAP1(T, T, MF(pow)(t0, x)); break;
  case TJS_UN_GELU_ERF: UMAP1(T, T, x * (T)0.5 * ((T)1 + MF(erf)(x * (T)0.70710678118654752440))); break;
  case TJS_UN_GELU_TANH: {
    const T kb = (T)0.79788456080286535588, kk = (T)0.044715;
    UMAP1(T, T, (T)0.5 * x * ((T)1 + MF(tanh)(kb * (x + kk * (x * x * x)))));
    break;
  }
  case TJS_UN_SILU: UMAP1(T, T, x / ((T)1 + MF(exp)(-x))); break;
  case TJS_UN_SOFTPLUS: UMAP1(T, T, FN(softplus_)(x, t0, t1)); break;
  case TJS_UN_LEAKY_RELU: UMAP(T, T, x > 0 ? x : x * t0); break;
  case TJS_UN_ELU: { const T nc = (T)(p0 * p1); UMAP1(T, T, FN(elu_)(x, nc, t1, t2)); break; }
  case TJS_UN_SELU: {
    const T sc = (T)1.0507009873554804934193349852946, nc = (T)(1.6732632423543772848170429916717 * 1.0507009873554804934193349852946);
    UMAP1(T, T, FN(elu_)(x, nc, sc, (T)1)); break;
  }
  case TJS_UN_LOG2: UMAP1(T, T, MF(log2)(x)); break;
  case TJS_UN_EXP2: UMAP1(T, T, MF(exp2)(x)); break;
  case TJS_UN_LOG10: UMAP1(T, T, MF(log10)(x)); break;
  case TJS_UN_SINH: UMAP1(T, T, MF(sinh)(x)); break;
  case TJS_UN_COSH: UMAP1(T, T, MF(cosh)(x)); break;
  case TJS_UN_ASINH: UMAP1(T, T, MF(asinh)(x)); break;
  case TJS_UN_ACOSH: UMAP1(T, T, MF(acosh)(x)); break;
  case TJS_UN_ATANH: UMAP1(T, T, MF(atanh)(x)); break;
  case TJS_UN_MISH: UMAP1(T, T, x * MF(tanh)(MF(log1p)(MF(exp)(x)))); break;
  case TJS_UN_HARDSIGMOID: UMAP(T, T, FN(clamp_)(x + (T)3, (T)0, (T)6) / (T)6); break;
  case TJS_UN_HARDSWISH: UMAP(T, T, x * FN(clamp_)(x + (T)3, (T)0, (T)6) / (T)6); break;
  case TJS_UN_LOGSIGMOID: UMAP1(T, T, (x < 0 ? x : (T)0) - MF(log1p)(MF(exp)(-BF(fabs)(x)))); break;
  case TJS_UN_LGAMMA: UMAP1(T, T, MF(lgamma)(x)); break;
  case TJS_UN_BITWISE_NOT: return TJS_ERR_DTYPE;
  default: return TJS_ERR_OP;
  }
  return TJS_OK;
}

static int FN(bin_)(int op, tjs_iter* it, char* out, const char* pa, const char* pb, double alpha) {
  switch (op) {
  /* alpha != 1: a + alpha * b with one rounding, as PyTorch's fused multiply-add (f32: the product is
   * exact in double; f64: fma). */
  case TJS_BIN_ADD:
    if (alpha == 1) BMAPV(T, a + b, va + vb);
    else { const T al = (T)alpha; BMAP(T, FN(madd_)(al, b, a)); }
    break;
  case TJS_BIN_SUB:
    if (alpha == 1) BMAPV(T, a - b, va - vb);
    else { const T al = -(T)alpha; BMAP(T, FN(madd_)(al, b, a)); }
    break;
  case TJS_BIN_MUL: BMAPV(T, a * b, va * vb); break;
  case TJS_BIN_DIV: BMAPV(T, a / b, va / vb); break;
  case TJS_BIN_FLOOR_DIVIDE: BMAP1(T, FN(divfloor_)(a, b)); break;
  case TJS_BIN_REMAINDER: BMAP1(T, FN(remainder_)(a, b)); break;
  case TJS_BIN_FMOD: BMAP1(T, MF(fmod)(a, b)); break;
  case TJS_BIN_TRUNC_DIVIDE: BMAP(T, BF(trunc)(a / b)); break;
  case TJS_BIN_POW: BMAP1(T, MF(pow)(a, b)); break;
  case TJS_BIN_MAXIMUM: BMAPV(T, FN(maxnan_)(a, b), FN(vmaxnan_)(va, vb)); break;
  case TJS_BIN_MINIMUM: BMAPV(T, FN(minnan_)(a, b), FN(vminnan_)(va, vb)); break;
  case TJS_BIN_FMAX: BMAP(T, FN(fmax_)(a, b)); break;
  case TJS_BIN_FMIN: BMAP(T, FN(fmin_)(a, b)); break;
  case TJS_BIN_ATAN2: BMAP1(T, MF(atan2)(a, b)); break;
  case TJS_BIN_HYPOT: BMAP1(T, MF(hypot)(a, b)); break;
  case TJS_BIN_COPYSIGN: BMAP(T, BF(copysign)(a, b)); break;
  case TJS_BIN_XLOGY: BMAP1(T, FN(xlogy_)(a, b)); break;
  case TJS_BIN_EQ: BMAP(uint8_t, a == b); break;
  case TJS_BIN_NE: BMAP(uint8_t, a != b); break;
  case TJS_BIN_LT: BMAP(uint8_t, a < b); break;
  case TJS_BIN_LE: BMAP(uint8_t, a <= b); break;
  case TJS_BIN_GT: BMAP(uint8_t, a > b); break;
  case TJS_BIN_GE: BMAP(uint8_t, a >= b); break;
  case TJS_BIN_LOGICAL_AND: BMAP(uint8_t, (a != 0) & (b != 0)); break;
  case TJS_BIN_LOGICAL_OR: BMAP(uint8_t, (a != 0) | (b != 0)); break;
  case TJS_BIN_LOGICAL_XOR: BMAP(uint8_t, (a != 0) ^ (b != 0)); break;
  case TJS_BIN_BITWISE_AND: case TJS_BIN_BITWISE_OR: case TJS_BIN_BITWISE_XOR:
  case TJS_BIN_LSHIFT: case TJS_BIN_RSHIFT:
    return TJS_ERR_DTYPE;
  default: return TJS_ERR_OP;
  }
  return TJS_OK;
}
