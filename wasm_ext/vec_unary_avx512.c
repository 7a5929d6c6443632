/* vec_unary.h at 16 lanes for x86-64 CPUs with AVX-512F (elementwise.c asks the CPU before calling it; same bits
 * as the 8- and 4-lane copies). Empty elsewhere. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(TJS_NO_AVX2)
#pragma GCC target("avx512f")
#define VM_LANES 16
#define VEC_UNARY_F32 __attribute__((noinline)) static int vec_unary_f32_body
#include "vec_unary.h"
VEC_UNARY_X86_ENTRY(tjs_vec_unary_f32_avx512)
#endif
