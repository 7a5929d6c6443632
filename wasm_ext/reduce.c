/* Reductions: tjs_reduce, tjs_softmax, tjs_cumulative (argument layouts: ABI.md).
 *
 * tjs_reduce walks the kept (outer) dims with one iter.h iterator and, for each output element, the
 * reduced (inner) dims with a second one, so any strides work; a reduced run that is contiguous takes a
 * SIMD loop. Float sums accumulate in double (f32 lanes widened to double, 8 partial sums), integer sums
 * and products in wrapping int64, float products in the output type. MAX, MIN, ARGMAX, ARGMIN and the
 * _INDEX ops propagate NaN (the index is the first NaN's).
 */
#include "tjs.h"
#include "iter.h"
#include "cvt.h"
#include "softmax_rows.h"

typedef float f4u __attribute__((vector_size(16), aligned(4), may_alias));
typedef double d2u __attribute__((vector_size(16), aligned(8), may_alias));
typedef int32_t i4v __attribute__((vector_size(16)));
typedef float f2v __attribute__((vector_size(8)));

#define A tjs_args

#include "row_sum.h"

static double rsum_f64(const double* p, int64_t n, int64_t s) {
  double acc = 0;
  int64_t i = 0;
  if (s == 1 && n >= 16) {
    d2 a0 = {0, 0}, a1 = a0, a2 = a0, a3 = a0;
    for (; i + 8 <= n; i += 8) {
      a0 += *(const d2u*)(p + i);
      a1 += *(const d2u*)(p + i + 2);
      a2 += *(const d2u*)(p + i + 4);
      a3 += *(const d2u*)(p + i + 6);
    }
    a0 = (a0 + a1) + (a2 + a3);
    acc = a0[0] + a0[1];
  } else if (n >= 16) {
    double b0 = 0, b1 = 0, b2 = 0, b3 = 0;
    for (; i + 4 <= n; i += 4) {
      b0 += p[i * s]; b1 += p[(i + 1) * s]; b2 += p[(i + 2) * s]; b3 += p[(i + 3) * s];
    }
    acc = (b0 + b1) + (b2 + b3);
  }
  for (; i < n; i++) acc += p[i * s];
  return acc;
}

/* ---- loop shape: for every output element, INIT; every reduced row (p_, n_, s_, row_): ROW; FIN ---- */
#define RED_LOOP(IT_, INIT, ROW, FIN) do { do {                                              \
    for (int64_t j_ = 0; j_ < ot->n; j_++) {                                                  \
      const int64_t oo_ = ot->off[0] + j_ * ot->is[0];                                        \
      const IT_* const base_ = (const IT_*)in + (ot->off[1] + j_ * ot->is[1]);                \
      INIT;                                                                                   \
      if (ne) {                                                                               \
        int64_t row_ = 0;                                                                     \
        do {                                                                                  \
          const IT_* const p_ = base_ + it->off[0];                                           \
          const int64_t n_ = it->n, s_ = it->is[0];                                           \
          (void)row_; ROW; row_++;                                                            \
        } while (tjs_iter_next(it));                                                          \
      }                                                                                       \
      FIN;                                                                                    \
    }                                                                                         \
  } while (tjs_iter_next(ot)); } while (0)

/* Column shape: the reduced dims coalesce to one strided dim (stride != 1) while the innermost kept dim
 * is contiguous in both in and out (e.g. sum over dim 0 of a row-major matrix). Then COLB neighbouring
 * outputs are reduced together, walking the input row by row (cache friendly, vectorisable). */
#define COLB 256
#define COL_OK (ne && it->nd == 1 && it->is[0] != 1 && ot->is[0] == 1 && ot->is[1] == 1)
#define COL_LOOP(IT_, AT_, INITV, STEP, STORE) do { do {                                     \
    const IT_* const cb_ = (const IT_*)in + ot->off[1];                                       \
    const int64_t ob_ = ot->off[0], R_ = it->n, rs_ = it->is[0];                              \
    for (int64_t j0_ = 0; j0_ < ot->n; j0_ += COLB) {                                         \
      const int64_t w_ = ot->n - j0_ < COLB ? ot->n - j0_ : COLB;                             \
      AT_ acc_[COLB];                                                                         \
      for (int64_t j_ = 0; j_ < w_; j_++) acc_[j_] = INITV;                                   \
      for (int64_t r_ = 0; r_ < R_; r_++) {                                                   \
        const IT_* const row_ = cb_ + r_ * rs_ + j0_;                                         \
        for (int64_t j_ = 0; j_ < w_; j_++) { const IT_ v = row_[j_]; AT_ a = acc_[j_]; STEP; acc_[j_] = a; } \
      }                                                                                       \
      for (int64_t j_ = 0; j_ < w_; j_++) { const int64_t oo_ = ob_ + j0_ + j_; const AT_ a = acc_[j_]; STORE; } \
    }                                                                                         \
  } while (tjs_iter_next(ot)); } while (0)

static void store_d(int dt, char* out, int64_t o, double v) {
  if (dt == TJS_F32) ((float*)out)[o] = (float)v;
  else ((double*)out)[o] = v;
}
static void store_i(int dt, char* out, int64_t o, uint64_t v) {
  switch (dt) {
  case TJS_BOOL: ((uint8_t*)out)[o] = v != 0; break;
  case TJS_U8: case TJS_I8: ((uint8_t*)out)[o] = (uint8_t)v; break;
  case TJS_I16: ((uint16_t*)out)[o] = (uint16_t)v; break;
  case TJS_I32: ((uint32_t*)out)[o] = (uint32_t)v; break;
  default: ((uint64_t*)out)[o] = v; break;
  }
}

#define ISINT(dt) ((dt) >= TJS_BOOL && (dt) <= TJS_I64)
#define ISFLT(dt) ((dt) == TJS_F32 || (dt) == TJS_F64)

/* SUM into double (dout float) */
#define SUM_D_INT(IT_) RED_LOOP(IT_, double acc = 0,                                        \
    for (int64_t i_ = 0; i_ < n_; i_++) acc += (double)p_[i_ * s_], store_d(dout, out, oo_, acc))
/* SUM / PROD into wrapping int64 (dout int) */
#define SUM_I(IT_, u_) RED_LOOP(IT_, uint64_t acc = 0,                                          \
    for (int64_t i_ = 0; i_ < n_; i_++) acc += (uint64_t)(int64_t)p_[i_ * s_], store_i(dout, out, oo_, acc))
#define PROD_I(IT_, u_) RED_LOOP(IT_, uint64_t acc = 1,                                         \
    for (int64_t i_ = 0; i_ < n_; i_++) acc *= (uint64_t)(int64_t)p_[i_ * s_], store_i(dout, out, oo_, acc))
/* PROD in the output float type AT_ */
#define PROD_F(IT_, AT_) RED_LOOP(IT_, AT_ acc = 1,                                         \
    for (int64_t i_ = 0; i_ < n_; i_++) acc *= (AT_)p_[i_ * s_], ((AT_*)out)[oo_] = acc)

/* MAX / MIN: CMP is > or <; floats propagate NaN */
#define MAXMIN_F(T_, CMP, INITV) RED_LOOP(T_, T_ m = INITV,                                 \
    for (int64_t i_ = 0; i_ < n_; i_++) { const T_ v = p_[i_ * s_]; m = (v CMP m || v != v) ? v : m; }, \
    ((T_*)out)[oo_] = m)
#define MAXMIN_I(T_, CMP, INITV) RED_LOOP(T_, T_ m = INITV,                                 \
    for (int64_t i_ = 0; i_ < n_; i_++) { const T_ v = p_[i_ * s_]; m = (v CMP m) ? v : m; }, \
    ((T_*)out)[oo_] = m)

/* f32 max/min of a row, NaN-propagating; contiguous rows use 4 SIMD accumulators. */
static inline float fmaxnan(float a, float b, int is_max) {
  return ((is_max ? b > a : b < a) || b != b) ? b : a;
}
static float rmax_f32(const float* p, int64_t n, int64_t s, int is_max) {
  float m = is_max ? -__builtin_inff() : __builtin_inff();
  int64_t i = 0;
  if (s == 1 && n >= 16) {
    const f4 init = {m, m, m, m};
    f4 v0 = init, v1 = init, v2 = init, v3 = init;
#if defined(__wasm_simd128__)
#define VMX_(acc, x) acc = is_max ? __builtin_wasm_max_f32x4(acc, x) : __builtin_wasm_min_f32x4(acc, x)
#else
#define VMX_(acc, x) do { const i4v t_ = (is_max ? (x > acc) : (x < acc)) | (x != x);          \
    acc = (f4)(((i4v)x & t_) | ((i4v)acc & ~t_)); } while (0)
#endif
    for (; i + 16 <= n; i += 16) {
      const f4 x0 = *(const f4u*)(p + i), x1 = *(const f4u*)(p + i + 4);
      const f4 x2 = *(const f4u*)(p + i + 8), x3 = *(const f4u*)(p + i + 12);
      VMX_(v0, x0); VMX_(v1, x1); VMX_(v2, x2); VMX_(v3, x3);
    }
#undef VMX_
    for (int k = 0; k < 4; k++) {
      m = fmaxnan(m, v0[k], is_max); m = fmaxnan(m, v1[k], is_max);
      m = fmaxnan(m, v2[k], is_max); m = fmaxnan(m, v3[k], is_max);
    }
  }
  for (; i < n; i++) m = fmaxnan(m, p[i * s], is_max);
  return m;
}

/* ARG / _INDEX: value and first index; floats: first NaN wins */
#define ARG_F(T_, CMP, INITV, FIN) RED_LOOP(T_, T_ m = INITV; int64_t idx = 0,               \
    if (m == m) { for (int64_t i_ = 0; i_ < n_; i_++) { const T_ v = p_[i_ * s_];           \
        if (v CMP m || v != v) { m = v; idx = row_ * n_ + i_; if (v != v) break; } } },     \
    FIN)
#define ARG_I(T_, CMP, INITV, FIN) RED_LOOP(T_, T_ m = INITV; int64_t idx = 0,               \
    for (int64_t i_ = 0; i_ < n_; i_++) { const T_ v = p_[i_ * s_];                          \
      if (v CMP m) { m = v; idx = row_ * n_ + i_; } },                                         \
    FIN)

/* ANY / ALL / COUNT_NONZERO with nonzero test NZ(v) */
#define LOGIC(T_, NZ) do {                                                                    \
    if (op == TJS_RED_ANY) RED_LOOP(T_, int acc = 0,                                          \
        for (int64_t i_ = 0; i_ < n_; i_++) acc |= NZ(p_[i_ * s_]), ((uint8_t*)out)[oo_] = (uint8_t)acc); \
    else if (op == TJS_RED_ALL) RED_LOOP(T_, int acc = 1,                                     \
        for (int64_t i_ = 0; i_ < n_; i_++) acc &= NZ(p_[i_ * s_]), ((uint8_t*)out)[oo_] = (uint8_t)acc); \
    else RED_LOOP(T_, int64_t acc = 0,                                                        \
        for (int64_t i_ = 0; i_ < n_; i_++) acc += NZ(p_[i_ * s_]), ((int64_t*)out)[oo_] = acc); \
  } while (0)
#define NZ_NUM(v) ((v) != 0)
#define NZ_H(v) (((v) & 0x7fffu) != 0)

#define INT_CASES(M, ...)                                                                     \
  case TJS_BOOL: case TJS_U8: M(uint8_t, __VA_ARGS__); break;                                 \
  case TJS_I8: M(int8_t, __VA_ARGS__); break;                                                 \
  case TJS_I16: M(int16_t, __VA_ARGS__); break;                                               \
  case TJS_I32: M(int32_t, __VA_ARGS__); break;                                               \
  case TJS_I64: M(int64_t, __VA_ARGS__); break;

static int reduce_sum_prod(int op, int din, int dout, tjs_iter* ot, tjs_iter* it, int ne, char* out, const char* in) {
  if (op == TJS_RED_SUM && ISFLT(dout) && ISFLT(din) && COL_OK) {
    if (din == TJS_F32) COL_LOOP(float, double, 0, a += (double)v, store_d(dout, out, oo_, a));
    else COL_LOOP(double, double, 0, a += v, store_d(dout, out, oo_, a));
    return TJS_OK;
  }
  if (op == TJS_RED_SUM && ISFLT(dout)) {
    switch (din) {
    case TJS_F32: RED_LOOP(float, double acc = 0, acc += rsum_f32(p_, n_, s_), store_d(dout, out, oo_, acc)); break;
    case TJS_F64: RED_LOOP(double, double acc = 0, acc += rsum_f64(p_, n_, s_), store_d(dout, out, oo_, acc)); break;
    case TJS_BOOL: case TJS_U8: SUM_D_INT(uint8_t); break;
    case TJS_I8: SUM_D_INT(int8_t); break;
    case TJS_I16: SUM_D_INT(int16_t); break;
    case TJS_I32: SUM_D_INT(int32_t); break;
    case TJS_I64: SUM_D_INT(int64_t); break;
    default: return TJS_ERR_DTYPE;
    }
    return TJS_OK;
  }
  if (ISINT(dout)) {
    if (!ISINT(din)) return TJS_ERR_DTYPE;
    if (op == TJS_RED_SUM) {
      switch (din) { INT_CASES(SUM_I, 0) }
    } else {
      switch (din) { INT_CASES(PROD_I, 0) }
    }
    return TJS_OK;
  }
  /* PROD into float */
  if (dout == TJS_F32) {
    switch (din) {
    case TJS_F32: PROD_F(float, float); break;
    case TJS_F64: PROD_F(double, float); break;
    INT_CASES(PROD_F, float)
    default: return TJS_ERR_DTYPE;
    }
  } else if (dout == TJS_F64) {
    switch (din) {
    case TJS_F32: PROD_F(float, double); break;
    case TJS_F64: PROD_F(double, double); break;
    INT_CASES(PROD_F, double)
    default: return TJS_ERR_DTYPE;
    }
  } else {
    return TJS_ERR_DTYPE;
  }
  return TJS_OK;
}

#define SMAX_I(T_, MN, MX) do {                                                               \
    if (op == TJS_RED_MAX) MAXMIN_I(T_, >, MN);                                               \
    else if (op == TJS_RED_MIN) MAXMIN_I(T_, <, MX);                                          \
    else if (op == TJS_RED_ARGMAX) ARG_I(T_, >, MN, ((int64_t*)out)[oo_] = idx);              \
    else if (op == TJS_RED_ARGMIN) ARG_I(T_, <, MX, ((int64_t*)out)[oo_] = idx);              \
    else if (op == TJS_RED_MAX_INDEX) ARG_I(T_, >, MN, (((T_*)out)[oo_] = m, ((int64_t*)out2)[oo_] = idx)); \
    else ARG_I(T_, <, MX, (((T_*)out)[oo_] = m, ((int64_t*)out2)[oo_] = idx));               \
  } while (0)
#define SMAX_F(T_) do {                                                                       \
    const T_ inf_ = (T_)__builtin_inf();                                                      \
    if (op == TJS_RED_MAX) MAXMIN_F(T_, >, -inf_);                                            \
    else if (op == TJS_RED_MIN) MAXMIN_F(T_, <, inf_);                                        \
    else if (op == TJS_RED_ARGMAX) ARG_F(T_, >, -inf_, ((int64_t*)out)[oo_] = idx);           \
    else if (op == TJS_RED_ARGMIN) ARG_F(T_, <, inf_, ((int64_t*)out)[oo_] = idx);            \
    else if (op == TJS_RED_MAX_INDEX) ARG_F(T_, >, -inf_, (((T_*)out)[oo_] = m, ((int64_t*)out2)[oo_] = idx)); \
    else ARG_F(T_, <, inf_, (((T_*)out)[oo_] = m, ((int64_t*)out2)[oo_] = idx));             \
  } while (0)

#define COL_MAXMIN(T_) do {                                                                   \
    if (op == TJS_RED_MAX) COL_LOOP(T_, T_, -(T_)__builtin_inf(), a = (v > a || v != v) ? v : a, ((T_*)out)[oo_] = a); \
    else COL_LOOP(T_, T_, (T_)__builtin_inf(), a = (v < a || v != v) ? v : a, ((T_*)out)[oo_] = a); \
  } while (0)

static int reduce_select(int op, int din, tjs_iter* ot, tjs_iter* it, int ne, char* out, char* out2, const char* in) {
  if ((op == TJS_RED_MAX || op == TJS_RED_MIN) && COL_OK) {
    if (din == TJS_F32) { COL_MAXMIN(float); return TJS_OK; }
    if (din == TJS_F64) { COL_MAXMIN(double); return TJS_OK; }
  }
  switch (din) {
  case TJS_F32:
    if (op == TJS_RED_MAX || op == TJS_RED_MIN) {
      const int is_max = op == TJS_RED_MAX;
      RED_LOOP(float, float m = is_max ? -__builtin_inff() : __builtin_inff(),
               m = fmaxnan(m, rmax_f32(p_, n_, s_, is_max), is_max), ((float*)out)[oo_] = m);
    } else {
      SMAX_F(float);
    }
    break;
  case TJS_F64: SMAX_F(double); break;
  case TJS_BOOL: case TJS_U8: SMAX_I(uint8_t, 0, 255); break;
  case TJS_I8: SMAX_I(int8_t, -128, 127); break;
  case TJS_I16: SMAX_I(int16_t, -32768, 32767); break;
  case TJS_I32: SMAX_I(int32_t, INT32_MIN, INT32_MAX); break;
  case TJS_I64: SMAX_I(int64_t, INT64_MIN, INT64_MAX); break;
  default: return TJS_ERR_DTYPE;
  }
  return TJS_OK;
}

static int reduce_logic(int op, int din, tjs_iter* ot, tjs_iter* it, int ne, char* out, const char* in) {
  switch (din) {
  case TJS_BOOL: case TJS_U8: case TJS_I8: LOGIC(uint8_t, NZ_NUM); break;
  case TJS_I16: LOGIC(int16_t, NZ_NUM); break;
  case TJS_I32: LOGIC(int32_t, NZ_NUM); break;
  case TJS_I64: LOGIC(int64_t, NZ_NUM); break;
  case TJS_F32: LOGIC(float, NZ_NUM); break;
  case TJS_F64: LOGIC(double, NZ_NUM); break;
  case TJS_F16: case TJS_BF16: LOGIC(uint16_t, NZ_H); break;
  default: return TJS_ERR_DTYPE;
  }
  return TJS_OK;
}

TJS_EXPORT int tjs_reduce(void) {
  const int op = (int)A[TJS_REDUCE_OP], din = (int)A[TJS_REDUCE_DTYPE_IN], dout = (int)A[TJS_REDUCE_DTYPE_OUT],
            nd = (int)A[TJS_REDUCE_NDIM], nred = (int)A[TJS_REDUCE_NRED];
  if (nd < 0 || nd > TJS_MAX_DIMS || nred < 0 || nred > nd) return TJS_ERR_ARG;
  if (op < 0 || op > TJS_RED_COUNT_NONZERO) return TJS_ERR_OP;
  if (din < 0 || din > TJS_F64 || dout < 0 || dout > TJS_F64) return TJS_ERR_DTYPE;
  char* out = (char*)TJS_PTR(A[TJS_REDUCE_OUT]);
  char* out2 = (char*)TJS_PTR(A[TJS_REDUCE_OUT2]);
  const char* in = (const char*)TJS_PTR(A[TJS_REDUCE_IN]);
  const int64_t* shape = &A[TJS_REDUCE_SHAPE];
  const int64_t* istr = &A[TJS_REDUCE_IN_STRIDES(nd)];
  const int64_t* ostr = &A[TJS_REDUCE_OUT_STRIDES(nd)];
  const int nkeep = nd - nred;
  tjs_iter otv, itv;
  const int64_t* so[2] = {ostr, istr};
  const int64_t* si[1] = {istr + nkeep};
  if (!tjs_iter_init(&otv, nkeep, shape, 2, so)) return TJS_OK;
  const int ne = tjs_iter_init(&itv, nred, shape + nkeep, 1, si);
  switch (op) {
  case TJS_RED_SUM: case TJS_RED_PROD: return reduce_sum_prod(op, din, dout, &otv, &itv, ne, out, in);
  case TJS_RED_ANY: case TJS_RED_ALL: case TJS_RED_COUNT_NONZERO: return reduce_logic(op, din, &otv, &itv, ne, out, in);
  default:
    if (!ne) return TJS_ERR_ARG;
    return reduce_select(op, din, &otv, &itv, ne, out, out2, in);
  }
}

/* ---- softmax over contiguous rows ---- */
/* float32 natively on x86-64: the row's exponentials 4 lanes at a time by vec_math.h's exp (<= 2 ulp, the bits of
 * torch.exp there) and four running double sums, where libm's expf one at a time and one chain of sums took 4x as
 * long as PyTorch's softmax. In wasm: Pyodide's expf four lanes at a time (pool/libm_expf.h: libm's bits; the
 * exponentials of attention's short rows took most of its time) and one sum in order, so the bits are those of libm's
 * expf one at a time. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include "vec_math.h"
#define SOFTMAX_VEC_EXP 1
#define SOFTMAX_SUMS4 1
static void exp_row_f32(const float* x, float* e, int64_t n, float m) {
  int64_t i = 0;
  for (; i + VM_LANES <= n; i += VM_LANES) *(vmf_u*)(e + i) = vm_exp(*(const vmf_u*)(x + i) - m);
  if (i < n) {
    vmf v = {0};
    for (int64_t k = 0; k < n - i; k++) v[k] = x[i + k];
    v = vm_exp(v - m);
    for (int64_t k = 0; k < n - i; k++) e[i + k] = v[k];
  }
}
#elif defined(__wasm__)
#include "pool/libm_expf.h"
#define SOFTMAX_VEC_EXP 1
#define SOFTMAX_SUMS4 0
static void exp_row_f32(const float* x, float* e, int64_t n, float m) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) *(f4u*)(e + i) = libm_expf4(*(const f4u*)(x + i) - m);
  for (; i < n; i++) e[i] = libm_expf(x[i] - m);
}
#endif

#define SOFTMAX(T_, EXP, LOG, VEC) do {                                                       \
    const T_* x = (const T_*)in; T_* y = (T_*)out;                                            \
    for (int64_t r = 0; r < outer; r++, x += n, y += n) {                                     \
      T_ m = -(T_)__builtin_inf(); int nan = 0;                                               \
      for (int64_t i = 0; i < n; i++) { m = x[i] > m ? x[i] : m; nan |= x[i] != x[i]; }       \
      if (nan) m = (T_)__builtin_nan("");                                                     \
      double s = 0;                                                                           \
      if (VEC) {   /* y holds the exponentials first (log: until the last loop overwrites them) */ \
        SOFTMAX_EXP_ROW(x, y, n, m);                                                          \
        if (SOFTMAX_SUMS4) {                                                                  \
          double s4[4] = {0, 0, 0, 0};   /* four running sums: one chain was latency-bound */  \
          int64_t i = 0;                                                                      \
          for (; i + 4 <= n; i += 4)                                                          \
            for (int k = 0; k < 4; k++) s4[k] += (double)y[i + k];                            \
          for (; i < n; i++) s4[0] += (double)y[i];                                           \
          s = (s4[0] + s4[1]) + (s4[2] + s4[3]);                                              \
        } else {                                                                              \
          for (int64_t i = 0; i < n; i++) s += (double)y[i];                                  \
        }                                                                                     \
      }                                                                                       \
      if (lg) {                                                                               \
        if (!(VEC)) for (int64_t i = 0; i < n; i++) s += (double)EXP(x[i] - m);               \
        const T_ lse = (T_)LOG(s);                                                            \
        for (int64_t i = 0; i < n; i++) y[i] = (x[i] - m) - lse;                              \
      } else {                                                                                \
        if (!(VEC))                                                                           \
          for (int64_t i = 0; i < n; i++) { const T_ e = EXP(x[i] - m); y[i] = e; s += (double)e; } \
        const T_ inv = (T_)(1.0 / s);                                                         \
        for (int64_t i = 0; i < n; i++) y[i] *= inv;                                          \
      }                                                                                       \
    }                                                                                         \
  } while (0)
#ifdef SOFTMAX_VEC_EXP
#define SOFTMAX_EXP_ROW(x, e, n, m) exp_row_f32((const float*)(x), (float*)(e), n, (float)(m))
#else
#define SOFTMAX_VEC_EXP 0
#define SOFTMAX_SUMS4 1
#define SOFTMAX_EXP_ROW(x, e, n, m) ((void)0)
#endif

/* softmax_rows.h's rows for the kernels of this module that compute softmax rows of their own (attention.c) */
void tjs_softmax_rows_f32(const float* x_, float* y_, int64_t outer, int64_t n) {
  const int lg = 0;
  const char* in = (const char*)x_;
  char* out = (char*)y_;
  SOFTMAX(float, expf, log, SOFTMAX_VEC_EXP);
}

TJS_EXPORT int tjs_softmax(void) {
  const int lg = (int)A[TJS_SOFTMAX_LOG], dt = (int)A[TJS_SOFTMAX_DTYPE];
  const int64_t outer = A[TJS_SOFTMAX_OUTER], n = A[TJS_SOFTMAX_N];
  char* out = (char*)TJS_PTR(A[TJS_SOFTMAX_OUT]);
  const char* in = (const char*)TJS_PTR(A[TJS_SOFTMAX_IN]);
  if (dt == TJS_F32) SOFTMAX(float, expf, log, SOFTMAX_VEC_EXP);
  else if (dt == TJS_F64) SOFTMAX(double, exp, log, 0);
  else return TJS_ERR_DTYPE;
  return TJS_OK;
}

/* ---- cumsum / cumprod over [outer, n, inner] ---- */
#define CUM_CHUNK 256
#define CUM(T_, AT_, OPEQ, INIT) do {                                                         \
    const T_* x = (const T_*)in; T_* y = (T_*)out;                                            \
    for (int64_t o = 0; o < outer; o++) {                                                     \
      const int64_t base = o * n * inner;                                                     \
      if (inner == 1) {                                                                       \
        AT_ acc = INIT;                                                                       \
        for (int64_t i = 0; i < n; i++) { acc OPEQ (AT_)x[base + i]; y[base + i] = (T_)acc; } \
        continue;                                                                             \
      }                                                                                       \
      for (int64_t j0 = 0; j0 < inner; j0 += CUM_CHUNK) {                                     \
        const int64_t m = inner - j0 < CUM_CHUNK ? inner - j0 : CUM_CHUNK;                    \
        AT_ acc[CUM_CHUNK];                                                                   \
        for (int64_t j = 0; j < m; j++) acc[j] = INIT;                                        \
        for (int64_t i = 0; i < n; i++) {                                                     \
          const int64_t row = base + i * inner + j0;                                          \
          for (int64_t j = 0; j < m; j++) { acc[j] OPEQ (AT_)x[row + j]; y[row + j] = (T_)acc[j]; } \
        }                                                                                     \
      }                                                                                       \
    }                                                                                         \
  } while (0)

TJS_EXPORT int tjs_cumulative(void) {
  const int op = (int)A[TJS_CUMULATIVE_OP], dt = (int)A[TJS_CUMULATIVE_DTYPE];
  const int64_t outer = A[TJS_CUMULATIVE_OUTER], n = A[TJS_CUMULATIVE_N], inner = A[TJS_CUMULATIVE_INNER];
  char* out = (char*)TJS_PTR(A[TJS_CUMULATIVE_OUT]);
  const char* in = (const char*)TJS_PTR(A[TJS_CUMULATIVE_IN]);
  if (op != 0 && op != 1) return TJS_ERR_OP;
  switch (dt) {
  case TJS_F32: if (op == 0) CUM(float, double, +=, 0); else CUM(float, double, *=, 1); break;
  case TJS_F64: if (op == 0) CUM(double, double, +=, 0); else CUM(double, double, *=, 1); break;
  case TJS_I64: if (op == 0) CUM(int64_t, uint64_t, +=, 0); else CUM(int64_t, uint64_t, *=, 1); break;
  default: return TJS_ERR_DTYPE;
  }
  return TJS_OK;
}
