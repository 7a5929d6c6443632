/* torch_js kernel ABI, shared by every wasm_ext C file.
 *
 * One source builds twice: natively with gcc (CPython dev loop) and as a wasm32 Emscripten side module
 * with clang (Pyodide). Freestanding: no libc headers (the host's <math.h> breaks for wasm32), so the
 * few libm functions used are declared here and resolved at load time (glibc natively, Pyodide's libm in
 * wasm).
 *
 * Calling convention: Python writes a kernel's arguments into the exported int64 block `tjs_args`
 * (doubles are stored bit for bit in an int64 slot) and calls `int tjs_<name>(void)`. A call with no
 * arguments is the cheapest ctypes call there is (~0.2 us natively), and Python packs the block with a
 * single struct.pack_into. Pointers are byte addresses; strides and shapes are in elements. Python has
 * validated every shape, stride and bound before the call: kernels trust them and never allocate.
 * A kernel returns TJS_OK or an error code; detail for the error goes in `tjs_err`.
 */
#ifndef TJS_H
#define TJS_H
#include <stdint.h>
#include <stddef.h>
#include "tjs_abi.h"   /* where each kernel's arguments sit in tjs_args, TJS_MAX_DIMS, TJS_ARGS_LEN (generated) */

#define TJS_EXPORT __attribute__((visibility("default")))

typedef float f4 __attribute__((vector_size(16)));
typedef double d2 __attribute__((vector_size(16)));

extern int64_t tjs_args[TJS_ARGS_LEN];
extern int64_t tjs_err[4];
#ifdef TJS_DEBUG
/* TJS_DEBUG builds (make build-debug): bounds checks in iter.h and index.c record their first fault here
 * ({what, offset, lo, hi}); Python clears it before each call and reports TJS_ERR_BOUNDS when it is set. */
extern int64_t tjs_debug_fault[4];
#endif

/* dtype codes: keep in sync with torch_js/_dtype.py */
enum {
  TJS_BOOL = 0, TJS_U8 = 1, TJS_I8 = 2, TJS_I16 = 3, TJS_I32 = 4, TJS_I64 = 5,
  TJS_F16 = 6, TJS_BF16 = 7, TJS_F32 = 8, TJS_F64 = 9,
};

/* bytes of one element of dtype dt; 0 for a code that is none of the above */
static inline int tjs_dtype_size(int dt) {
  switch (dt) {
  case TJS_BOOL: case TJS_U8: case TJS_I8: return 1;
  case TJS_I16: case TJS_F16: case TJS_BF16: return 2;
  case TJS_I32: case TJS_F32: return 4;
  case TJS_I64: case TJS_F64: return 8;
  default: return 0;
  }
}

/* return codes */
enum {
  TJS_OK = 0,
  TJS_ERR_DTYPE = 1,        /* kernel has no implementation for this dtype/op pair */
  TJS_ERR_OP = 2,           /* unknown op code */
  TJS_ERR_ZERO_DIV = 3,     /* integer division or remainder by zero */
  TJS_ERR_INDEX = 4,        /* index out of range: tjs_err[0] = index, tjs_err[1] = size */
  TJS_ERR_ARG = 5,          /* bad argument (ndim too large, ...) */
  TJS_ERR_BOUNDS = 6,       /* TJS_DEBUG builds: an address outside the extent its arguments imply (nothing
                               written there) */
  TJS_MORE = 7,             /* a kernel run in parts (tjs_gemm): this part is done, call again for the next */
};


/* op codes: torch_js/backends/cpu/library.py reads these enums from this header (tests check it) */
enum {
  TJS_UN_NEG = 0,
  TJS_UN_ABS = 1,
  TJS_UN_EXP = 2,
  TJS_UN_LOG = 3,
  TJS_UN_SQRT = 4,
  TJS_UN_RSQRT = 5,
  TJS_UN_SIN = 6,
  TJS_UN_COS = 7,
  TJS_UN_TAN = 8,
  TJS_UN_TANH = 9,
  TJS_UN_SIGMOID = 10,
  TJS_UN_RELU = 11,
  TJS_UN_LOG1P = 12,
  TJS_UN_EXPM1 = 13,
  TJS_UN_ASIN = 14,
  TJS_UN_ACOS = 15,
  TJS_UN_ATAN = 16,
  TJS_UN_SIGN = 17,
  TJS_UN_FLOOR = 18,
  TJS_UN_CEIL = 19,
  TJS_UN_ROUND = 20,
  TJS_UN_TRUNC = 21,
  TJS_UN_FRAC = 22,
  TJS_UN_RECIPROCAL = 23,
  TJS_UN_SQUARE = 24,
  TJS_UN_ERF = 25,
  TJS_UN_ERFC = 26,
  TJS_UN_ISNAN = 27,
  TJS_UN_ISINF = 28,
  TJS_UN_ISFINITE = 29,
  TJS_UN_LOGICAL_NOT = 30,
  TJS_UN_BITWISE_NOT = 31,
  TJS_UN_CLAMP = 32,
  TJS_UN_POW_SCALAR = 33,
  TJS_UN_RPOW_SCALAR = 34,
  TJS_UN_GELU_ERF = 35,
  TJS_UN_GELU_TANH = 36,
  TJS_UN_SILU = 37,
  TJS_UN_SOFTPLUS = 38,
  TJS_UN_LEAKY_RELU = 39,
  TJS_UN_ELU = 40,
  TJS_UN_HARDTANH = 41,
  TJS_UN_LOG2 = 42,
  TJS_UN_EXP2 = 43,
  TJS_UN_LOG10 = 44,
  TJS_UN_SINH = 45,
  TJS_UN_COSH = 46,
  TJS_UN_ASINH = 47,
  TJS_UN_ACOSH = 48,
  TJS_UN_ATANH = 49,
  TJS_UN_SIGNBIT = 50,
  TJS_UN_ISPOSINF = 51,
  TJS_UN_ISNEGINF = 52,
  TJS_UN_MISH = 53,
  TJS_UN_HARDSIGMOID = 54,
  TJS_UN_HARDSWISH = 55,
  TJS_UN_LOGSIGMOID = 56,
  TJS_UN_RELU6 = 57,
  TJS_UN_SELU = 58,
  TJS_UN_LGAMMA = 59,
  TJS_UN_SGN_NONZERO = 60,
};
enum {
  TJS_BIN_ADD = 0,
  TJS_BIN_SUB = 1,
  TJS_BIN_MUL = 2,
  TJS_BIN_DIV = 3,
  TJS_BIN_FLOOR_DIVIDE = 4,
  TJS_BIN_REMAINDER = 5,
  TJS_BIN_FMOD = 6,
  TJS_BIN_POW = 7,
  TJS_BIN_MAXIMUM = 8,
  TJS_BIN_MINIMUM = 9,
  TJS_BIN_FMAX = 10,
  TJS_BIN_FMIN = 11,
  TJS_BIN_ATAN2 = 12,
  TJS_BIN_EQ = 13,
  TJS_BIN_NE = 14,
  TJS_BIN_LT = 15,
  TJS_BIN_LE = 16,
  TJS_BIN_GT = 17,
  TJS_BIN_GE = 18,
  TJS_BIN_LOGICAL_AND = 19,
  TJS_BIN_LOGICAL_OR = 20,
  TJS_BIN_LOGICAL_XOR = 21,
  TJS_BIN_BITWISE_AND = 22,
  TJS_BIN_BITWISE_OR = 23,
  TJS_BIN_BITWISE_XOR = 24,
  TJS_BIN_LSHIFT = 25,
  TJS_BIN_RSHIFT = 26,
  TJS_BIN_HYPOT = 27,
  TJS_BIN_COPYSIGN = 28,
  TJS_BIN_XLOGY = 29,
  TJS_BIN_TRUNC_DIVIDE = 30,
};
enum {
  TJS_RED_SUM = 0,
  TJS_RED_PROD = 1,
  TJS_RED_MAX = 2,
  TJS_RED_MIN = 3,
  TJS_RED_ARGMAX = 4,
  TJS_RED_ARGMIN = 5,
  TJS_RED_ANY = 6,
  TJS_RED_ALL = 7,
  TJS_RED_MAX_INDEX = 8,
  TJS_RED_MIN_INDEX = 9,
  TJS_RED_COUNT_NONZERO = 10,
};

static inline double tjs_arg_f64(int i) { union { int64_t i; double d; } u; u.i = tjs_args[i]; return u.d; }

/* tjs_index_offsets' flags */
#define TJS_INDEX_ACCUMULATE 1
#define TJS_INDEX_NO_NEGATIVE 2

/* a + b that wraps for int64 as PyTorch's CPU kernels do (signed overflow is undefined in C); plain + for floats */
#define TJS_WRAP_ADD(a, b) _Generic((a), int64_t: (int64_t)((uint64_t)(a) + (uint64_t)(b)), default: (a) + (b))

/* libm, resolved at load time */
float expf(float); float logf(float); float sqrtf(float); float sinf(float); float cosf(float);
float tanf(float); float tanhf(float); float log1pf(float); float expm1f(float); float asinf(float);
float acosf(float); float atanf(float); float atan2f(float, float); float powf(float, float);
float floorf(float); float ceilf(float); float truncf(float); float rintf(float); float erff(float);
float erfcf(float); float fmodf(float, float); float log2f(float); float exp2f(float); float sinhf(float);
float coshf(float); float asinhf(float); float acoshf(float); float atanhf(float); float log10f(float);
float fmaf(float, float, float); float hypotf(float, float); float lgammaf(float);
double exp(double); double log(double); double sqrt(double); double sin(double); double cos(double);
double tan(double); double tanh(double); double log1p(double); double expm1(double); double asin(double);
double acos(double); double atan(double); double atan2(double, double); double pow(double, double);
double floor(double); double ceil(double); double trunc(double); double rint(double); double erf(double);
double erfc(double); double fmod(double, double); double log2(double); double exp2(double); double sinh(double);
double cosh(double); double asinh(double); double acosh(double); double atanh(double); double log10(double);
double fma(double, double, double); double hypot(double, double); double lgamma(double);

#endif
