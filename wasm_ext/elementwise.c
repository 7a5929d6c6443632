/* Elementwise kernels: tjs_copy, tjs_fill, tjs_unary, tjs_binary, tjs_where (argument layouts: ABI.md).
 *
 * Every kernel coalesces its operands with iter.h, then walks rows of the inner-most dim. Each row takes a
 * straight loop when all its strides are 1 (explicit 16-byte SIMD for the cheap float ops, compiler
 * vectorisation for the rest) and, for binary ops, a loop with one operand held in a register when that
 * operand is broadcast (stride 0). Float ops are instantiated from ew_float.h, integer/bool ops from
 * ew_int.h.
 */
#include "tjs.h"
#include "iter.h"
#include "cvt.h"

/* Strided rows stay scalar (vectorising them only emulates gathers and bloats the wasm). */
#if defined(__clang__)
#define NOVEC _Pragma("clang loop vectorize(disable) interleave(disable)")
#else
#define NOVEC
#endif

#define XCAT_(a, b) a##b
#define XCAT(a, b) XCAT_(a, b)
#define FN(name) XCAT(name, SUF)

typedef float f4u __attribute__((vector_size(16), aligned(4), may_alias));
typedef double d2u __attribute__((vector_size(16), aligned(8), may_alias));
typedef int32_t i4v __attribute__((vector_size(16)));
typedef int64_t l2v __attribute__((vector_size(16)));

/* ---- loop shapes (use the names it, out, in / pa, pb that the kernels below define) ---- */

/* out[i] = EXPR(x) with x = in[i] (x has type IT_). */
#define UMAP(IT_, OT_, EXPR) do { do {                                                        \
    OT_* const o_ = (OT_*)out + it->off[0];                                                   \
    const IT_* const a_ = (const IT_*)in + it->off[1];                                        \
    const int64_t n_ = it->n, so_ = it->is[0], sa_ = it->is[1];                               \
    if (so_ == 1 && sa_ == 1) {                                                               \
      for (int64_t i_ = 0; i_ < n_; i_++) { const IT_ x = a_[i_]; (void)x; o_[i_] = (OT_)(EXPR); } \
    } else {                                                                                  \
      NOVEC for (int64_t i_ = 0; i_ < n_; i_++) {                                             \
        const IT_ x = a_[i_ * sa_]; (void)x; o_[i_ * so_] = (OT_)(EXPR);                      \
      }                                                                                       \
    }                                                                                         \
  } while (tjs_iter_next(it)); } while (0)

/* Same, T_ -> T_, with an explicit vector body VEXPR(vx) for contiguous rows. */
#define UMAPV(T_, EXPR, VEXPR) do { do {                                                      \
    T_* const o_ = (T_*)out + it->off[0];                                                     \
    const T_* const a_ = (const T_*)in + it->off[1];                                          \
    const int64_t n_ = it->n, so_ = it->is[0], sa_ = it->is[1];                               \
    if (so_ == 1 && sa_ == 1) {                                                               \
      int64_t i_ = 0;                                                                         \
      for (; i_ + VW <= n_; i_ += VW) { const V vx = *(const V*)(a_ + i_); *(V*)(o_ + i_) = (VEXPR); } \
      NOVEC for (; i_ < n_; i_++) { const T_ x = a_[i_]; o_[i_] = (T_)(EXPR); }                \
    } else {                                                                                  \
      NOVEC for (int64_t i_ = 0; i_ < n_; i_++) { const T_ x = a_[i_ * sa_]; o_[i_ * so_] = (T_)(EXPR); } \
    }                                                                                         \
  } while (tjs_iter_next(it)); } while (0)

/* out[i] = EXPR(a, b), a and b of the template type T. */
#define BMAP(OT_, EXPR) do { do {                                                             \
    OT_* const o_ = (OT_*)out + it->off[0];                                                   \
    const T* const a_ = (const T*)pa + it->off[1];                                            \
    const T* const b_ = (const T*)pb + it->off[2];                                            \
    const int64_t n_ = it->n, so_ = it->is[0], sa_ = it->is[1], sb_ = it->is[2];              \
    if (so_ == 1 && sa_ == 1 && sb_ == 1) {                                                   \
      for (int64_t i_ = 0; i_ < n_; i_++) { const T a = a_[i_], b = b_[i_]; o_[i_] = (OT_)(EXPR); } \
    } else if (so_ == 1 && sa_ == 1 && sb_ == 0) {                                            \
      const T b = b_[0];                                                                      \
      for (int64_t i_ = 0; i_ < n_; i_++) { const T a = a_[i_]; o_[i_] = (OT_)(EXPR); }        \
    } else if (so_ == 1 && sa_ == 0 && sb_ == 1) {                                            \
      const T a = a_[0];                                                                      \
      for (int64_t i_ = 0; i_ < n_; i_++) { const T b = b_[i_]; o_[i_] = (OT_)(EXPR); }        \
    } else {                                                                                  \
      NOVEC for (int64_t i_ = 0; i_ < n_; i_++) {                                             \
        const T a = a_[i_ * sa_], b = b_[i_ * sb_]; o_[i_ * so_] = (OT_)(EXPR);               \
      }                                                                                       \
    }                                                                                         \
  } while (tjs_iter_next(it)); } while (0)

/* Same, T -> T, with a vector body VEXPR(va, vb) for the three contiguous shapes. */
#define BMAPV(T_, EXPR, VEXPR) do { do {                                                      \
    T_* const o_ = (T_*)out + it->off[0];                                                     \
    const T_* const a_ = (const T_*)pa + it->off[1];                                          \
    const T_* const b_ = (const T_*)pb + it->off[2];                                          \
    const int64_t n_ = it->n, so_ = it->is[0], sa_ = it->is[1], sb_ = it->is[2];              \
    int64_t i_ = 0;                                                                           \
    if (so_ == 1 && sa_ == 1 && sb_ == 1) {                                                   \
      for (; i_ + VW <= n_; i_ += VW) {                                                       \
        const V va = *(const V*)(a_ + i_), vb = *(const V*)(b_ + i_); *(V*)(o_ + i_) = (VEXPR); \
      }                                                                                       \
      NOVEC for (; i_ < n_; i_++) { const T_ a = a_[i_], b = b_[i_]; o_[i_] = (T_)(EXPR); }          \
    } else if (so_ == 1 && sa_ == 1 && sb_ == 0) {                                            \
      const T_ b = b_[0]; const V vb = VSPLAT(b);                                             \
      for (; i_ + VW <= n_; i_ += VW) { const V va = *(const V*)(a_ + i_); *(V*)(o_ + i_) = (VEXPR); } \
      NOVEC for (; i_ < n_; i_++) { const T_ a = a_[i_]; o_[i_] = (T_)(EXPR); }                      \
    } else if (so_ == 1 && sa_ == 0 && sb_ == 1) {                                            \
      const T_ a = a_[0]; const V va = VSPLAT(a);                                             \
      for (; i_ + VW <= n_; i_ += VW) { const V vb = *(const V*)(b_ + i_); *(V*)(o_ + i_) = (VEXPR); } \
      NOVEC for (; i_ < n_; i_++) { const T_ b = b_[i_]; o_[i_] = (T_)(EXPR); }                      \
    } else {                                                                                  \
      NOVEC for (; i_ < n_; i_++) {                                                           \
        const T_ a = a_[i_ * sa_], b = b_[i_ * sb_]; o_[i_ * so_] = (T_)(EXPR);               \
      }                                                                                       \
    }                                                                                         \
  } while (tjs_iter_next(it)); } while (0)

/* One scalar loop for every row shape: for ops that cannot vectorise (libm calls, integer division). */
#define UMAP1(IT_, OT_, EXPR) do { do {                                                       \
    OT_* const o_ = (OT_*)out + it->off[0];                                                   \
    const IT_* const a_ = (const IT_*)in + it->off[1];                                        \
    const int64_t n_ = it->n, so_ = it->is[0], sa_ = it->is[1];                               \
    NOVEC for (int64_t i_ = 0; i_ < n_; i_++) {                                               \
      const IT_ x = a_[i_ * sa_]; o_[i_ * so_] = (OT_)(EXPR);                                 \
    }                                                                                         \
  } while (tjs_iter_next(it)); } while (0)
#define BMAP1(OT_, EXPR) do { do {                                                            \
    OT_* const o_ = (OT_*)out + it->off[0];                                                   \
    const T* const a_ = (const T*)pa + it->off[1];                                            \
    const T* const b_ = (const T*)pb + it->off[2];                                            \
    const int64_t n_ = it->n, so_ = it->is[0], sa_ = it->is[1], sb_ = it->is[2];              \
    NOVEC for (int64_t i_ = 0; i_ < n_; i_++) {                                               \
      const T a = a_[i_ * sa_], b = b_[i_ * sb_]; o_[i_ * so_] = (OT_)(EXPR);                 \
    }                                                                                         \
  } while (tjs_iter_next(it)); } while (0)

/* ---- float instantiations ---- */
#define T float
#define SUF f32
#define MF(fn) fn##f
#define BF(fn) __builtin_##fn##f
#define V f4u
#define VI i4v
#define VW 4
#define VABS ((i4v){0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff})
#define VSPLAT(s) ((V){(s), (s), (s), (s)})
#include "ew_float.h"
#undef T
#undef SUF
#undef MF
#undef BF
#undef V
#undef VI
#undef VW
#undef VABS
#undef VSPLAT

#define T double
#define SUF f64
#define MF(fn) fn
#define BF(fn) __builtin_##fn
#define V d2u
#define VI l2v
#define VW 2
#define VABS ((l2v){0x7fffffffffffffffLL, 0x7fffffffffffffffLL})
#define VSPLAT(s) ((V){(s), (s)})
#include "ew_float.h"
#undef T
#undef SUF
#undef MF
#undef BF
#undef V
#undef VI
#undef VW
#undef VABS
#undef VSPLAT

/* ---- integer instantiations ---- */
#define T uint8_t
#define SUF b8
#define WT uint32_t
#define IS_BOOL 1
#define IS_SIGNED 0
#define NBITS 8
#define TMIN 0
#define TMAX 1
#include "ew_int.h"
#undef T
#undef SUF
#undef WT
#undef IS_BOOL
#undef IS_SIGNED
#undef NBITS
#undef TMIN
#undef TMAX

#define T uint8_t
#define SUF u8
#define WT uint32_t
#define IS_BOOL 0
#define IS_SIGNED 0
#define NBITS 8
#define TMIN 0
#define TMAX 255
#include "ew_int.h"
#undef T
#undef SUF
#undef WT
#undef IS_BOOL
#undef IS_SIGNED
#undef NBITS
#undef TMIN
#undef TMAX

#define T int8_t
#define SUF i8
#define WT uint32_t
#define IS_BOOL 0
#define IS_SIGNED 1
#define NBITS 8
#define TMIN (-128)
#define TMAX 127
#include "ew_int.h"
#undef T
#undef SUF
#undef WT
#undef IS_BOOL
#undef IS_SIGNED
#undef NBITS
#undef TMIN
#undef TMAX

#define T int16_t
#define SUF i16
#define WT uint32_t
#define IS_BOOL 0
#define IS_SIGNED 1
#define NBITS 16
#define TMIN (-32768)
#define TMAX 32767
#include "ew_int.h"
#undef T
#undef SUF
#undef WT
#undef IS_BOOL
#undef IS_SIGNED
#undef NBITS
#undef TMIN
#undef TMAX

#define T int32_t
#define SUF i32
#define WT uint32_t
#define IS_BOOL 0
#define IS_SIGNED 1
#define NBITS 32
#define TMIN INT32_MIN
#define TMAX INT32_MAX
#include "ew_int.h"
#undef T
#undef SUF
#undef WT
#undef IS_BOOL
#undef IS_SIGNED
#undef NBITS
#undef TMIN
#undef TMAX

#define T int64_t
#define SUF i64
#define WT uint64_t
#define IS_BOOL 0
#define IS_SIGNED 1
#define NBITS 64
#define TMIN INT64_MIN
#define TMAX INT64_MAX
#include "ew_int.h"
#undef T
#undef SUF
#undef WT
#undef IS_BOOL
#undef IS_SIGNED
#undef NBITS
#undef TMIN
#undef TMAX

/* ---- float32 transcendental ops through vec_math.h: 4 lanes here, 8 and 16 in vec_unary_avx2.c / _avx512.c ---- */
#define VEC_UNARY_F32 __attribute__((noinline)) static int un_vm4_f32
#include "vec_unary.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(TJS_NO_AVX2)
int tjs_vec_unary_f32_avx2(int op, tjs_iter* it, char* out, const char* in, double p0, double p1, double p2);
int tjs_vec_unary_f32_avx512(int op, tjs_iter* it, char* out, const char* in, double p0, double p1, double p2);
static int un_vm_f32(int op, tjs_iter* it, char* out, const char* in, double p0, double p1, double p2) {
  static int isa = -1;   /* 2: AVX-512F, 1: AVX2, 0: baseline */
  if (isa < 0) {
    __builtin_cpu_init();
    isa = __builtin_cpu_supports("avx512f") ? 2 : __builtin_cpu_supports("avx2") ? 1 : 0;
  }
  if (isa == 2) return tjs_vec_unary_f32_avx512(op, it, out, in, p0, p1, p2);
  if (isa == 1) return tjs_vec_unary_f32_avx2(op, it, out, in, p0, p1, p2);
  return un_vm4_f32(op, it, out, in, p0, p1, p2);
}
#else
#define un_vm_f32 un_vm4_f32
#endif

#define A tjs_args

/* ---- tjs_unary ---- */
TJS_EXPORT int tjs_unary(void) {
  const int op = (int)A[TJS_UNARY_OP], dt = (int)A[TJS_UNARY_DTYPE], nd = (int)A[TJS_UNARY_NDIM];
  if (nd < 0 || nd > TJS_MAX_DIMS) return TJS_ERR_ARG;
  if (op < 0 || op > TJS_UN_SGN_NONZERO) return TJS_ERR_OP;
  char* out = (char*)TJS_PTR(A[TJS_UNARY_OUT]);
  const char* in = (const char*)TJS_PTR(A[TJS_UNARY_IN]);
  const int64_t* st[2] = {&A[TJS_UNARY_OUT_STRIDES(nd)], &A[TJS_UNARY_IN_STRIDES(nd)]};
  const double p0 = tjs_arg_f64(TJS_UNARY_P0(nd)), p1 = tjs_arg_f64(TJS_UNARY_P1(nd)),
               p2 = tjs_arg_f64(TJS_UNARY_P2(nd));
  tjs_iter itv;
  if (!tjs_iter_init(&itv, nd, &A[TJS_UNARY_SHAPE], 2, st))
    return (dt == TJS_F16 || dt == TJS_BF16) ? TJS_ERR_DTYPE : TJS_OK;
  switch (dt) {
  case TJS_F32: {
    const int r = un_vm_f32(op, &itv, out, in, p0, p1, p2);
    return r != TJS_ERR_OP ? r : un_f32(op, &itv, out, in, p0, p1, p2);
  }
  case TJS_F64: return un_f64(op, &itv, out, in, p0, p1, p2);
  case TJS_BOOL: return un_b8(op, &itv, out, in, p0, p1, p2);
  case TJS_U8: return un_u8(op, &itv, out, in, p0, p1, p2);
  case TJS_I8: return un_i8(op, &itv, out, in, p0, p1, p2);
  case TJS_I16: return un_i16(op, &itv, out, in, p0, p1, p2);
  case TJS_I32: return un_i32(op, &itv, out, in, p0, p1, p2);
  case TJS_I64: return un_i64(op, &itv, out, in, p0, p1, p2);
  default: return TJS_ERR_DTYPE;
  }
}

/* ---- tjs_binary ---- */
TJS_EXPORT int tjs_binary(void) {
  const int op = (int)A[TJS_BINARY_OP], dt = (int)A[TJS_BINARY_DTYPE], nd = (int)A[TJS_BINARY_NDIM];
  if (nd < 0 || nd > TJS_MAX_DIMS) return TJS_ERR_ARG;
  if (op < 0 || op > TJS_BIN_TRUNC_DIVIDE) return TJS_ERR_OP;
  char* out = (char*)TJS_PTR(A[TJS_BINARY_OUT]);
  const char* pa = (const char*)TJS_PTR(A[TJS_BINARY_A]);
  const char* pb = (const char*)TJS_PTR(A[TJS_BINARY_B]);
  const int64_t* st[3] = {&A[TJS_BINARY_OUT_STRIDES(nd)], &A[TJS_BINARY_A_STRIDES(nd)], &A[TJS_BINARY_B_STRIDES(nd)]};
  const double alpha = tjs_arg_f64(TJS_BINARY_ALPHA(nd));
  tjs_iter itv;
  if (!tjs_iter_init(&itv, nd, &A[TJS_BINARY_SHAPE], 3, st))
    return (dt == TJS_F16 || dt == TJS_BF16) ? TJS_ERR_DTYPE : TJS_OK;
  switch (dt) {
  case TJS_F32: return bin_f32(op, &itv, out, pa, pb, alpha);
  case TJS_F64: return bin_f64(op, &itv, out, pa, pb, alpha);
  case TJS_BOOL: return bin_b8(op, &itv, out, pa, pb, alpha);
  case TJS_U8: return bin_u8(op, &itv, out, pa, pb, alpha);
  case TJS_I8: return bin_i8(op, &itv, out, pa, pb, alpha);
  case TJS_I16: return bin_i16(op, &itv, out, pa, pb, alpha);
  case TJS_I32: return bin_i32(op, &itv, out, pa, pb, alpha);
  case TJS_I64: return bin_i64(op, &itv, out, pa, pb, alpha);
  default: return TJS_ERR_DTYPE;
  }
}

/* ---- tjs_copy ---- */
static int copy_bits(tjs_iter* it, char* out, const char* in, int size) {
  switch (size) {
  case 1: UMAP(uint8_t, uint8_t, x); break;
  case 2: UMAP(uint16_t, uint16_t, x); break;
  case 4: UMAP(uint32_t, uint32_t, x); break;
  case 8: UMAP(uint64_t, uint64_t, x); break;
  default: return TJS_ERR_DTYPE;
  }
  return TJS_OK;
}

/* NUMX: expression of an integer/bool x; FLTX(v): applied to a float or double value. */
#define COPY_FROM_ANY(OT_, NUMX, FLTX)                                              \
  switch (din) {                                                                    \
  case TJS_BOOL: case TJS_U8: UMAP(uint8_t, OT_, NUMX); break;                      \
  case TJS_I8: UMAP(int8_t, OT_, NUMX); break;                                      \
  case TJS_I16: UMAP(int16_t, OT_, NUMX); break;                                    \
  case TJS_I32: UMAP(int32_t, OT_, NUMX); break;                                    \
  case TJS_I64: UMAP(int64_t, OT_, NUMX); break;                                    \
  case TJS_F32: UMAP(float, OT_, FLTX(x)); break;                                   \
  case TJS_F64: UMAP(double, OT_, FLTX(x)); break;                                  \
  case TJS_F16: UMAP(uint16_t, OT_, FLTX(tjs_h2f(x))); break;                       \
  case TJS_BF16: UMAP(uint16_t, OT_, FLTX(tjs_bf2f(x))); break;                     \
  default: return TJS_ERR_DTYPE;                                                    \
  }

#define CV_NZ(v) ((v) != 0)
#define CV_ID(v) (v)
#define CV_U8(v) tjs_fp2i_uint8_t(v)
#define CV_I8(v) tjs_fp2i_int8_t(v)
#define CV_I16(v) tjs_fp2i_int16_t(v)
#define CV_I32(v) _Generic((v), float: tjs_fp2i32_f, default: tjs_fp2i_int32_t)(v)
#define CV_I64(v) tjs_fp2i_int64_t(v)
#define CV_H(v) tjs_f2h((float)(v))
#define CV_BH(v) tjs_f2bf((float)(v))

TJS_EXPORT int tjs_copy(void) {
  const int dout = (int)A[TJS_COPY_DTYPE_OUT], din = (int)A[TJS_COPY_DTYPE_IN], nd = (int)A[TJS_COPY_NDIM];
  if (nd < 0 || nd > TJS_MAX_DIMS) return TJS_ERR_ARG;
  char* out = (char*)TJS_PTR(A[TJS_COPY_OUT]);
  const char* in = (const char*)TJS_PTR(A[TJS_COPY_IN]);
  const int64_t* st[2] = {&A[TJS_COPY_OUT_STRIDES(nd)], &A[TJS_COPY_IN_STRIDES(nd)]};
  if (!tjs_dtype_size(dout) || !tjs_dtype_size(din)) return TJS_ERR_DTYPE;
  tjs_iter itv, *it = &itv;
  if (!tjs_iter_init(it, nd, &A[TJS_COPY_SHAPE], 2, st)) return TJS_OK;
  if (dout == din) return copy_bits(it, out, in, tjs_dtype_size(din));
  switch (dout) {
  case TJS_BOOL: COPY_FROM_ANY(uint8_t, x != 0, CV_NZ); break;
  case TJS_U8: COPY_FROM_ANY(uint8_t, x, CV_U8); break;
  case TJS_I8: COPY_FROM_ANY(int8_t, x, CV_I8); break;
  case TJS_I16: COPY_FROM_ANY(int16_t, x, CV_I16); break;
  case TJS_I32: COPY_FROM_ANY(int32_t, x, CV_I32); break;
  case TJS_I64: COPY_FROM_ANY(int64_t, x, CV_I64); break;
  case TJS_F32: COPY_FROM_ANY(float, x, CV_ID); break;
  case TJS_F64: COPY_FROM_ANY(double, x, CV_ID); break;
  case TJS_F16: COPY_FROM_ANY(uint16_t, tjs_f2h((float)x), CV_H); break;
  case TJS_BF16: COPY_FROM_ANY(uint16_t, tjs_f2bf((float)x), CV_BH); break;
  default: return TJS_ERR_DTYPE;
  }
  return TJS_OK;
}

/* ---- tjs_fill ---- */
#define FILLMAP(ET_, VAL) do { const ET_ v_ = (VAL); do {                                    \
    ET_* const o_ = (ET_*)out + it->off[0];                                                  \
    const int64_t n_ = it->n, so_ = it->is[0];                                               \
    if (so_ == 1) { for (int64_t i_ = 0; i_ < n_; i_++) o_[i_] = v_; }                       \
    else { NOVEC for (int64_t i_ = 0; i_ < n_; i_++) o_[i_ * so_] = v_; }                          \
  } while (tjs_iter_next(it)); } while (0)

TJS_EXPORT int tjs_fill(void) {
  const int dt = (int)A[TJS_FILL_DTYPE], nd = (int)A[TJS_FILL_NDIM];
  if (nd < 0 || nd > TJS_MAX_DIMS) return TJS_ERR_ARG;
  char* out = (char*)TJS_PTR(A[TJS_FILL_OUT]);
  const int64_t* st[1] = {&A[TJS_FILL_OUT_STRIDES(nd)]};
  const double v = tjs_arg_f64(TJS_FILL_VALUE(nd));
  const int64_t vi = A[TJS_FILL_VALUE_I64(nd)];
  if (!tjs_dtype_size(dt)) return TJS_ERR_DTYPE;
  tjs_iter itv, *it = &itv;
  if (!tjs_iter_init(it, nd, &A[TJS_FILL_SHAPE], 1, st)) return TJS_OK;
  switch (dt) {
  case TJS_BOOL: FILLMAP(uint8_t, vi != 0); break;
  case TJS_U8: case TJS_I8: FILLMAP(uint8_t, (uint8_t)vi); break;
  case TJS_I16: FILLMAP(uint16_t, (uint16_t)vi); break;
  case TJS_I32: FILLMAP(uint32_t, (uint32_t)vi); break;
  case TJS_I64: FILLMAP(uint64_t, (uint64_t)vi); break;
  case TJS_F32: FILLMAP(float, (float)v); break;
  case TJS_F64: FILLMAP(double, v); break;
  case TJS_F16: FILLMAP(uint16_t, tjs_f2h((float)v)); break;
  case TJS_BF16: FILLMAP(uint16_t, tjs_f2bf((float)v)); break;
  default: return TJS_ERR_DTYPE;
  }
  return TJS_OK;
}

/* ---- tjs_where ---- */
#define WMAP(ET_) do { do {                                                                   \
    ET_* const o_ = (ET_*)out + it->off[0];                                                   \
    const uint8_t* const c_ = (const uint8_t*)cond + it->off[1];                              \
    const ET_* const a_ = (const ET_*)pa + it->off[2];                                        \
    const ET_* const b_ = (const ET_*)pb + it->off[3];                                        \
    const int64_t n_ = it->n, so_ = it->is[0], sc_ = it->is[1], sa_ = it->is[2], sb_ = it->is[3]; \
    /* both sides loaded before the select (a bit mask where all are contiguous): branch-free, vectorisable \
     * loops, where a branch on random conditions (PReLU's x > 0) mispredicted half the time */            \
    if (so_ == 1 && sc_ == 1 && sa_ == 1 && sb_ == 1) {                                       \
      for (int64_t i_ = 0; i_ < n_; i_++) {                                                   \
        const ET_ m = (ET_)0 - (ET_)(c_[i_] != 0);                                            \
        o_[i_] = (a_[i_] & m) | (b_[i_] & ~m);                                                \
      }                                                                                       \
    } else if (so_ == 1 && sc_ == 1 && sa_ == 1 && sb_ == 0) {                                \
      const ET_ b = b_[0];                                                                    \
      for (int64_t i_ = 0; i_ < n_; i_++) { const ET_ a = a_[i_]; o_[i_] = c_[i_] ? a : b; }  \
    } else if (so_ == 1 && sc_ == 1 && sa_ == 0 && sb_ == 1) {                                \
      const ET_ a = a_[0];                                                                    \
      for (int64_t i_ = 0; i_ < n_; i_++) { const ET_ b = b_[i_]; o_[i_] = c_[i_] ? a : b; }  \
    } else {                                                                                  \
      NOVEC for (int64_t i_ = 0; i_ < n_; i_++)                                               \
        o_[i_ * so_] = c_[i_ * sc_] ? a_[i_ * sa_] : b_[i_ * sb_];                            \
    }                                                                                         \
  } while (tjs_iter_next(it)); } while (0)

TJS_EXPORT int tjs_where(void) {
  const int dt = (int)A[TJS_WHERE_DTYPE], nd = (int)A[TJS_WHERE_NDIM];
  if (nd < 0 || nd > TJS_MAX_DIMS) return TJS_ERR_ARG;
  char* out = (char*)TJS_PTR(A[TJS_WHERE_OUT]);
  const char* cond = (const char*)TJS_PTR(A[TJS_WHERE_COND]);
  const char* pa = (const char*)TJS_PTR(A[TJS_WHERE_A]);
  const char* pb = (const char*)TJS_PTR(A[TJS_WHERE_B]);
  const int64_t* st[4] = {&A[TJS_WHERE_OUT_STRIDES(nd)], &A[TJS_WHERE_COND_STRIDES(nd)], &A[TJS_WHERE_A_STRIDES(nd)],
                          &A[TJS_WHERE_B_STRIDES(nd)]};
  const int size = tjs_dtype_size(dt);
  if (!size) return TJS_ERR_DTYPE;
  tjs_iter itv, *it = &itv;
  if (!tjs_iter_init(it, nd, &A[TJS_WHERE_SHAPE], 4, st)) return TJS_OK;
  switch (size) {
  case 1: WMAP(uint8_t); break;
  case 2: WMAP(uint16_t); break;
  case 4: WMAP(uint32_t); break;
  default: WMAP(uint64_t); break;
  }
  return TJS_OK;
}
