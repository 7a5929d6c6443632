/* vec_unary.h at 8 lanes for x86-64 CPUs with AVX2 but not AVX-512F (elementwise.c asks the CPU). GCC lowers
 * 32-byte vectors poorly without AVX, so the baseline build keeps its own 4-lane copy. Empty elsewhere. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(TJS_NO_AVX2)
#pragma GCC target("avx2")
#define VM_LANES 8
#define VEC_UNARY_F32 __attribute__((noinline)) static int vec_unary_f32_body
#include "vec_unary.h"
VEC_UNARY_X86_ENTRY(tjs_vec_unary_f32_avx2)
#endif
