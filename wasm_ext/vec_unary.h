/* vec_unary.h: the float32 unary ops of vec_math.h over a tjs_iter's rows, a template included once per vector
 * width: elementwise.c (VM_LANES 4: simd128 in wasm, SSE2 natively) and, on x86-64, vec_unary_avx2.c (8 lanes)
 * and vec_unary_avx512.c (16), each built for its ISA and chosen at run time. The includer defines VEC_UNARY_F32
 * (the function's name, with its storage class). Every width runs the same operations lane by lane, so they
 * return the same bits.
 */
#include "iter.h"
#include "vec_math.h"

#ifndef VEC_UNARY_H
#define VEC_UNARY_H
#if defined(__clang__)
#define VM_NOVEC _Pragma("clang loop vectorize(disable) interleave(disable)")
#else
#define VM_NOVEC
#endif

/* out = VEXPR(vx) VM_LANES elements at a time on every row: contiguous rows load and store directly, two vectors
 * an iteration (two independent chains of the function's dependent steps side by side: wasm engines do not
 * interleave them; exp, sigmoid, silu, gelu_tanh 15-25% faster in V8), the tail and strided rows go through a
 * zero-padded lane buffer, so an element's result does not depend on the layout */
#define VMAPF32(VEXPR) do { do {                                                              \
    float* const o_ = (float*)out + it->off[0];                                               \
    const float* const a_ = (const float*)in + it->off[1];                                    \
    const int64_t n_ = it->n, so_ = it->is[0], sa_ = it->is[1];                               \
    int64_t i_ = 0;                                                                           \
    if (so_ == 1 && sa_ == 1) {                                                               \
      for (; i_ + 2 * VM_LANES <= n_; i_ += 2 * VM_LANES) {                                   \
        vmf r0_, r1_;                                                                         \
        { const vmf vx = *(const vmf_u*)(a_ + i_); r0_ = (VEXPR); }                           \
        { const vmf vx = *(const vmf_u*)(a_ + i_ + VM_LANES); r1_ = (VEXPR); }                \
        *(vmf_u*)(o_ + i_) = r0_; *(vmf_u*)(o_ + i_ + VM_LANES) = r1_;                        \
      }                                                                                       \
      for (; i_ + VM_LANES <= n_; i_ += VM_LANES) {                                           \
        const vmf vx = *(const vmf_u*)(a_ + i_); *(vmf_u*)(o_ + i_) = (VEXPR);                \
      }                                                                                       \
    }                                                                                         \
    for (; i_ < n_; i_ += VM_LANES) {                                                         \
      const int m_ = n_ - i_ < VM_LANES ? (int)(n_ - i_) : VM_LANES;                          \
      vmf vx = {0};                                                                           \
      VM_NOVEC for (int k_ = 0; k_ < m_; k_++) vx[k_] = a_[(i_ + k_) * sa_];                  \
      const vmf r_ = (VEXPR);                                                                 \
      VM_NOVEC for (int k_ = 0; k_ < m_; k_++) o_[(i_ + k_) * so_] = r_[k_];                  \
    }                                                                                         \
  } while (tjs_iter_next(it)); } while (0)

/* The exported entry of an x86 AVX copy (vec_unary_avx2.c, _avx512.c): the template as vec_unary_f32_body, then
 * vzeroupper, which GCC left out at the body's return. Dirty upper register halves would slow every SSE instruction
 * that runs next, in libm or in PyTorch's kernels sharing the process (their erf and exp took 2x as long). */
#define VEC_UNARY_X86_ENTRY(NAME)                                                                      \
  __attribute__((visibility("hidden"))) int NAME(int op, tjs_iter* it, char* out, const char* in,     \
                                                 double p0, double p1, double p2) {                  \
    const int r = vec_unary_f32_body(op, it, out, in, p0, p1, p2);                                   \
    __builtin_ia32_vzeroupper();                                                                     \
    return r;                                                                                        \
  }
#endif

/* TJS_ERR_OP for the ops it leaves to the scalar kernels */
VEC_UNARY_F32(int op, tjs_iter* it, char* out, const char* in, double p0, double p1, double p2) {
  const float t0 = (float)p0, t1 = (float)p1, t2 = (float)p2;
  switch (op) {
  case TJS_UN_EXP: VMAPF32(vm_exp(vx)); break;
  case TJS_UN_EXPM1: VMAPF32(vm_expm1(vx)); break;
  case TJS_UN_LOG: VMAPF32(vm_log(vx)); break;
  case TJS_UN_LOG1P: VMAPF32(vm_log1p(vx)); break;
  case TJS_UN_TANH: VMAPF32(vm_tanh(vx)); break;
  case TJS_UN_ERF: VMAPF32(vm_erf(vx)); break;
  case TJS_UN_SIGMOID: VMAPF32(vm_sigmoid(vx)); break;
  case TJS_UN_SILU: VMAPF32(vm_silu(vx)); break;
  case TJS_UN_GELU_ERF: VMAPF32(vm_gelu_erf(vx)); break;
  case TJS_UN_GELU_TANH: VMAPF32(vm_gelu_tanh(vx)); break;
  /* sin and cos stay with libm: vm_sin/vm_cos (2.3 ulp) round a fifth of a period's values otherwise than
   * PyTorch's kernels do, visibly in programs that print fitted coefficients near zero (tests/test_programs.py) */
  case TJS_UN_EXP2: VMAPF32(vm_exp2(vx)); break;
  case TJS_UN_LOG2: VMAPF32(vm_log2(vx)); break;
  case TJS_UN_LOG10: VMAPF32(vm_log10(vx)); break;
  case TJS_UN_SOFTPLUS: VMAPF32(vm_softplus(vx, t0, t1)); break;
  case TJS_UN_LOGSIGMOID: VMAPF32(vm_logsigmoid(vx)); break;
  case TJS_UN_MISH: VMAPF32(vm_mish(vx)); break;
  case TJS_UN_ELU: { const float nc = (float)(p0 * p1); VMAPF32(vm_elu(vx, nc, t1, t2)); break; }
  case TJS_UN_SELU: {   /* ew_float.h's constants */
    const float sc = (float)1.0507009873554804934193349852946,
                nc = (float)(1.6732632423543772848170429916717 * 1.0507009873554804934193349852946);
    VMAPF32(vm_elu(vx, nc, sc, 1.0f)); break;
  }
  default: return TJS_ERR_OP;
  }
  return TJS_OK;
}
