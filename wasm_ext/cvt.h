/* cvt.h: scalar dtype conversions shared by the kernels (header-only, static inline, branch-free so the
 * compilers vectorize loops over them).
 *
 * f16 / bf16 are carried as uint16_t bit patterns:
 *   tjs_h2f / tjs_bf2f: exact widening to float (NaN payload kept).
 *   tjs_f2h: float -> f16, round to nearest even, overflow -> inf, NaN stays NaN with its sign and top
 *     payload bits, quiet bit set (as x86 F16C, which PyTorch CPU uses).
 *   tjs_f2bf: float -> bf16, round to nearest even, NaN -> 0x7fc0 (as c10::BFloat16).
 *   double -> f16/bf16 goes through float first, as PyTorch does.
 * float -> int (tjs_fp2i_*): what PyTorch CPU gives on x86 (static_cast compiled to cvttsd2si): truncate
 *   toward zero; int32/int64 targets give INT_MIN for NaN or out-of-range values; 8- and 16-bit targets
 *   convert to int32 that way, then wrap (so -1.0 -> uint8 255, 300.0 -> uint8 44, NaN -> 0).
 *   Branch-free and never traps (also without -mnontrapping-fptoint).
 */
#ifndef TJS_CVT_H
#define TJS_CVT_H
#include "tjs.h"

static inline uint32_t tjs_f2u(float f) { union { float f; uint32_t u; } v; v.f = f; return v.u; }
static inline float tjs_u2f(uint32_t u) { union { float f; uint32_t u; } v; v.u = u; return v.f; }
static inline uint64_t tjs_d2u(double f) { union { double f; uint64_t u; } v; v.f = f; return v.u; }
static inline double tjs_u2d(uint64_t u) { union { double f; uint64_t u; } v; v.u = u; return v.f; }

static inline float tjs_h2f(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t em = h & 0x7fffu;
  uint32_t r = tjs_f2u(tjs_u2f(em << 13) * 0x1p112f);     /* normals and subnormals (exact) */
  r = em >= 0x7c00u ? ((em << 13) | 0x7f800000u) : r;     /* inf / NaN */
  return tjs_u2f(r | sign);
}

static inline uint16_t tjs_f2h(float f) {
  uint32_t u = tjs_f2u(f);
  uint32_t sign = (u >> 16) & 0x8000u;
  u &= 0x7fffffffu;
  uint32_t n = (u + 0xc8000fffu + ((u >> 13) & 1u)) >> 13;          /* normal: rebias, round to even */
  uint32_t d = tjs_f2u(tjs_u2f(u) + 0.5f) - 0x3f000000u;              /* subnormal: let the FPU round */
  uint32_t r = u < 0x38800000u ? d : n;
  uint32_t big = u > 0x7f800000u ? (0x7e00u | ((u >> 13) & 0x3ffu)) : 0x7c00u;   /* NaN: quiet, keep payload */
  r = u >= 0x47800000u ? big : r;
  return (uint16_t)(r | sign);
}

static inline float tjs_bf2f(uint16_t b) { return tjs_u2f((uint32_t)b << 16); }

static inline uint16_t tjs_f2bf(float f) {
  uint32_t u = tjs_f2u(f);
  uint32_t r = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  return f != f ? (uint16_t)0x7fc0u : (uint16_t)r;
}

static inline int64_t tjs_fp2i_int64_t(double x) {
  return (x >= -9223372036854775808.0 && x < 9223372036854775808.0) ? (int64_t)x : INT64_MIN;
}
static inline int32_t tjs_fp2i_int32_t(double x) {
  return (x > -2147483649.0 && x < 2147483648.0) ? (int32_t)x : INT32_MIN;
}
static inline int16_t tjs_fp2i_int16_t(double x) { return (int16_t)(uint16_t)(uint32_t)tjs_fp2i_int32_t(x); }
static inline int8_t tjs_fp2i_int8_t(double x) { return (int8_t)(uint8_t)(uint32_t)tjs_fp2i_int32_t(x); }
static inline uint8_t tjs_fp2i_uint8_t(double x) { return (uint8_t)(uint32_t)tjs_fp2i_int32_t(x); }
/* float-input variants (same results; keep f32 loops in f32 lanes) */
static inline int32_t tjs_fp2i32_f(float x) {
  return (x >= -2147483648.0f && x < 2147483648.0f) ? (int32_t)x : INT32_MIN;
}

/* Saturating double -> int64 (for clamp bounds and the like): NaN -> 0. */
static inline int64_t tjs_sat_i64(double x, int64_t lo, int64_t hi) {
  if (x != x) return 0;
  if (x <= (double)lo) return lo;
  if (x >= (double)hi) return hi;
  return (int64_t)x;
}

#endif
