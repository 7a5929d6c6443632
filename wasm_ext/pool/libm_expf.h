/* libm_expf.h: expf as Pyodide's libm computes it, for kernels of the shared-memory module (mk/wasm_threads.mk) that
 * must give the side module's bits. The side module's libm calls are Pyodide's own (Emscripten's musl), and musl's
 * expf is ARM's optimized-routines algorithm: x/ln2 = k/N + r, 2^(k/N) from a 32-entry table, 2^(r/N) by a cubic in
 * double precision, one rounding to float at the end. Its table and coefficients (musl's exp2f_data.c) are compiled
 * from the zig toolchain's copy of musl, not restated here. Wasm has no fused multiply-add and the double operations
 * are IEEE, so the same operations in the same order return the same bits whichever compiler built them (checked
 * over all 2^32 inputs against Pyodide's expf when this was written; tests/test_wasm_threads.py compares softmax
 * bits). */
#ifndef TJS_LIBM_EXPF_H
#define TJS_LIBM_EXPF_H
#include <stdint.h>
#include "exp2f_data.h"
#include "../tjs.h"

static inline uint32_t libm_f32_bits(float f) { uint32_t u; __builtin_memcpy(&u, &f, 4); return u; }

static inline float libm_expf(float x) {
  const uint32_t top = libm_f32_bits(x) >> 20, abstop = top & 0x7ff;
  if (__builtin_expect(abstop >= (libm_f32_bits(88.0f) >> 20), 0)) {   /* |x| >= 88, inf or NaN */
    if (libm_f32_bits(x) == libm_f32_bits(-__builtin_inff())) return 0.0f;
    if (abstop >= (libm_f32_bits(__builtin_inff()) >> 20)) return x + x;
    if (x > 0x1.62e42ep6f) return 0x1p97f * 0x1p97f;      /* above log(2^128): inf */
    if (x < -0x1.9fe368p6f) return 0x1p-95f * 0x1p-95f;   /* below log(2^-150): 0 */
  }
  const double z = __exp2f_data.invln2_scaled * (double)x;
  double kd = z + __exp2f_data.shift;   /* rounds z to an integer k in the low bits */
  uint64_t ki, t;
  __builtin_memcpy(&ki, &kd, 8);
  kd -= __exp2f_data.shift;
  const double r = z - kd;
  t = __exp2f_data.tab[ki % (1 << EXP2F_TABLE_BITS)] + (ki << (52 - EXP2F_TABLE_BITS));
  double s;
  __builtin_memcpy(&s, &t, 8);
  const double *c = __exp2f_data.poly_scaled;
  const double p = c[0] * r + c[1], r2 = r * r;
  double y = c[2] * r + 1;
  y = p * r2 + y;
  return (float)(y * s);
}

/* libm_expf of four lanes at once: the same double operations on two lanes each (f64x2 arithmetic is IEEE, lane by
 * lane, with no contraction), so each lane's bits are libm_expf's. Lanes with |x| >= 88, inf or NaN go through
 * libm_expf itself. */
typedef float libm_f2 __attribute__((vector_size(8)));
typedef uint64_t libm_u2 __attribute__((vector_size(16)));
typedef uint32_t libm_u4 __attribute__((vector_size(16)));

static inline d2 libm_expf_core2(libm_f2 x) {
  const d2 z = __exp2f_data.invln2_scaled * __builtin_convertvector(x, d2);
  d2 kd = z + __exp2f_data.shift;
  const libm_u2 ki = (libm_u2)kd;
  kd -= __exp2f_data.shift;
  const d2 r = z - kd;
  const libm_u2 t = (libm_u2){__exp2f_data.tab[ki[0] % (1 << EXP2F_TABLE_BITS)],
                              __exp2f_data.tab[ki[1] % (1 << EXP2F_TABLE_BITS)]} + (ki << (52 - EXP2F_TABLE_BITS));
  const double *c = __exp2f_data.poly_scaled;
  const d2 p = c[0] * r + c[1], r2 = r * r;
  d2 y = c[2] * r + 1;
  y = p * r2 + y;
  return y * (d2)t;
}

static inline f4 libm_expf4(f4 x) {
  const libm_f2 lo = __builtin_convertvector(libm_expf_core2(__builtin_shufflevector(x, x, 0, 1)), libm_f2);
  const libm_f2 hi = __builtin_convertvector(libm_expf_core2(__builtin_shufflevector(x, x, 2, 3)), libm_f2);
  f4 y = __builtin_shufflevector(lo, hi, 0, 1, 2, 3);
  const libm_u4 special = (((libm_u4)x >> 20) & 0x7ff) >= (libm_f32_bits(88.0f) >> 20);
  if (special[0] | special[1] | special[2] | special[3])
    for (int i = 0; i < 4; i++)
      if (special[i]) y[i] = libm_expf(x[i]);
  return y;
}
#endif
