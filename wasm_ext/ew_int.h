/* ew_int.h: integer/bool unary/binary kernels, a template included by elementwise.c once per type.
 * No include guard on purpose. The includer defines:
 *   T (uint8_t/int8_t/...), SUF (b8/u8/i8/i16/i32/i64), FN(name), WT (unsigned wrap type: uint32_t or
 *   uint64_t), IS_BOOL, IS_SIGNED, NBITS, TMIN, TMAX (as int64 constants).
 * Arithmetic wraps (done in WT); bool results are normalised to 0/1 (NB).
 */
#define NB(v) (IS_BOOL ? (T)((v) != 0) : (T)(v))

static inline T FN(tdiv_)(T a, T b) {   /* b != 0; INT_MIN / -1 wraps instead of trapping */
  if (IS_SIGNED && b == (T)-1) return (T)((WT)0 - (WT)a);
  return (T)(a / b);
}
static inline T FN(tmod_)(T a, T b) {   /* b != 0 */
  if (IS_SIGNED && b == (T)-1) return 0;
  return (T)(a % b);
}
static inline T FN(fdiv_)(T a, T b) {
  T q = FN(tdiv_)(a, b);
  if (IS_SIGNED && ((a < 0) != (b < 0)) && FN(tmod_)(a, b) != 0) q = (T)((WT)q - 1);
  return q;
}
static inline T FN(rem_)(T a, T b) {
  T r = FN(tmod_)(a, b);
  if (IS_SIGNED && r != 0 && ((r < 0) != (b < 0))) r = (T)((WT)r + (WT)b);
  return r;
}
static inline T FN(powi_)(T a, int64_t e) {
  if (e < 0) {
    if (a == 1) return 1;
    if (IS_SIGNED && a == (T)-1) return (e & 1) ? (T)-1 : (T)1;
    return 0;
  }
  WT r = 1, base = (WT)a;
  uint64_t k = (uint64_t)e;
  while (k) {
    if (k & 1) r *= base;
    base *= base;
    k >>= 1;
  }
  return NB(r);
}
static inline T FN(shl_)(T a, T b) {
  if ((IS_SIGNED && b < 0) || (int64_t)b >= NBITS) return 0;
  return (T)((WT)a << b);
}
static inline T FN(shr_)(T a, T b) {
  if ((IS_SIGNED && b < 0) || (int64_t)b >= NBITS - IS_SIGNED) return (T)(a >> (NBITS - IS_SIGNED));
  return (T)(a >> b);
}

static int FN(un_)(int op, tjs_iter* it, char* out, const char* in, double p0, double p1, double p2) {
  (void)p2;
  switch (op) {
  case TJS_UN_NEG: UMAP(T, T, NB((WT)0 - (WT)x)); break;
  case TJS_UN_ABS: UMAP(T, T, (IS_SIGNED && x < 0) ? (T)((WT)0 - (WT)x) : x); break;
  case TJS_UN_SIGN: case TJS_UN_SGN_NONZERO: UMAP(T, T, (T)((x > 0) - (x < 0))); break;
  case TJS_UN_SQUARE: UMAP(T, T, NB((WT)x * (WT)x)); break;
  case TJS_UN_RELU: UMAP(T, T, (IS_SIGNED && x < 0) ? (T)0 : x); break;
  case TJS_UN_CLAMP: case TJS_UN_HARDTANH: case TJS_UN_RELU6: {
    const T lo = op == TJS_UN_RELU6 ? (T)0 : (T)tjs_sat_i64(p0, TMIN, TMAX);
    const T hi = op == TJS_UN_RELU6 ? (T)6 : (T)tjs_sat_i64(p1, TMIN, TMAX);
    if (lo > hi) UMAP(T, T, hi);   /* PyTorch: min(max(x, lo), hi) */
    else UMAP(T, T, x < lo ? lo : (x > hi ? hi : x));
    break;
  }
  case TJS_UN_BITWISE_NOT: UMAP(T, T, IS_BOOL ? (T)!x : (T)~x); break;
  case TJS_UN_LOGICAL_NOT: UMAP(T, uint8_t, x == 0); break;
  case TJS_UN_ISNAN: case TJS_UN_ISINF: case TJS_UN_ISPOSINF: case TJS_UN_ISNEGINF:
    UMAP(T, uint8_t, 0); break;
  case TJS_UN_ISFINITE: UMAP(T, uint8_t, 1); break;
  case TJS_UN_SIGNBIT: UMAP(T, uint8_t, IS_SIGNED && x < 0); break;
  case TJS_UN_FLOOR: case TJS_UN_CEIL: case TJS_UN_ROUND: case TJS_UN_TRUNC: UMAP(T, T, x); break;
  case TJS_UN_POW_SCALAR: {
    if (p0 != p0 || p0 != (double)(int64_t)p0 || p0 < -9.2e18 || p0 > 9.2e18) return TJS_ERR_ARG;
    const int64_t e = (int64_t)p0;
    if (e == 0) UMAP(T, T, 1);
    else if (e == 1) UMAP(T, T, x);
    else if (e == 2) UMAP(T, T, NB((WT)x * (WT)x));
    else if (e == 3) UMAP(T, T, NB((WT)x * (WT)x * (WT)x));
    else UMAP1(T, T, FN(powi_)(x, e));
    break;
  }
  default:
    if (op < 0 || op > TJS_UN_SGN_NONZERO) return TJS_ERR_OP;
    return TJS_ERR_DTYPE;
  }
  return TJS_OK;
}

static int FN(bin_)(int op, tjs_iter* it, char* out, const char* pa, const char* pb, double alpha) {
  int zd_ = 0;
  switch (op) {
  case TJS_BIN_ADD:
    if (alpha == 1) BMAP(T, NB((WT)a + (WT)b));
    else { const WT al = (WT)tjs_fp2i_int64_t(alpha); BMAP(T, NB((WT)a + al * (WT)b)); }
    break;
  case TJS_BIN_SUB:
    if (alpha == 1) BMAP(T, NB((WT)a - (WT)b));
    else { const WT al = (WT)tjs_fp2i_int64_t(alpha); BMAP(T, NB((WT)a - al * (WT)b)); }
    break;
  case TJS_BIN_MUL: BMAP(T, NB((WT)a * (WT)b)); break;
  case TJS_BIN_FLOOR_DIVIDE: BMAP1(T, b == 0 ? (zd_ = 1, (T)0) : FN(fdiv_)(a, b)); break;
  case TJS_BIN_REMAINDER: BMAP1(T, b == 0 ? (zd_ = 1, (T)0) : FN(rem_)(a, b)); break;
  case TJS_BIN_FMOD: BMAP1(T, b == 0 ? (zd_ = 1, (T)0) : FN(tmod_)(a, b)); break;
  case TJS_BIN_TRUNC_DIVIDE: BMAP1(T, b == 0 ? (zd_ = 1, (T)0) : FN(tdiv_)(a, b)); break;
  case TJS_BIN_POW: BMAP1(T, FN(powi_)(a, (int64_t)b)); break;
  case TJS_BIN_MAXIMUM: case TJS_BIN_FMAX: BMAP(T, a > b ? a : b); break;
  case TJS_BIN_MINIMUM: case TJS_BIN_FMIN: BMAP(T, a < b ? a : b); break;
  case TJS_BIN_EQ: BMAP(uint8_t, a == b); break;
  case TJS_BIN_NE: BMAP(uint8_t, a != b); break;
  case TJS_BIN_LT: BMAP(uint8_t, a < b); break;
  case TJS_BIN_LE: BMAP(uint8_t, a <= b); break;
  case TJS_BIN_GT: BMAP(uint8_t, a > b); break;
  case TJS_BIN_GE: BMAP(uint8_t, a >= b); break;
  case TJS_BIN_LOGICAL_AND: BMAP(uint8_t, (a != 0) & (b != 0)); break;
  case TJS_BIN_LOGICAL_OR: BMAP(uint8_t, (a != 0) | (b != 0)); break;
  case TJS_BIN_LOGICAL_XOR: BMAP(uint8_t, (a != 0) ^ (b != 0)); break;
  case TJS_BIN_BITWISE_AND: BMAP(T, a & b); break;
  case TJS_BIN_BITWISE_OR: BMAP(T, a | b); break;
  case TJS_BIN_BITWISE_XOR: BMAP(T, a ^ b); break;
  case TJS_BIN_LSHIFT: BMAP(T, NB(FN(shl_)(a, b))); break;
  case TJS_BIN_RSHIFT: BMAP(T, FN(shr_)(a, b)); break;
  case TJS_BIN_DIV: case TJS_BIN_ATAN2: case TJS_BIN_HYPOT: case TJS_BIN_COPYSIGN: case TJS_BIN_XLOGY:
    return TJS_ERR_DTYPE;
  default: return TJS_ERR_OP;
  }
  return zd_ ? TJS_ERR_ZERO_DIV : TJS_OK;
}

#undef NB
