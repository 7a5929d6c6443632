/* iter.h: N-d strided iteration over up to TJS_ITER_MAXOPS operands (header-only, static inline).
 *
 * Strides are in elements (per operand), exactly as the ABI passes them; offsets produced are in elements
 * too, so a kernel indexes its typed base pointers with them.
 *
 *   tjs_iter it;
 *   const int64_t* strides[3] = {out_strides, a_strides, b_strides};
 *   if (!tjs_iter_init(&it, ndim, shape, 3, strides)) return TJS_OK;   // 0 elements: nothing to do
 *   do {
 *     T* o = out + it.off[0]; const T* a = in_a + it.off[1]; const T* b = in_b + it.off[2];
 *     for (int64_t i = 0; i < it.n; i++)            // one "row": the inner-most (coalesced) dim
 *       o[i * it.is[0]] = a[i * it.is[1]] + b[i * it.is[2]];
 *   } while (tjs_iter_next(&it));
 *
 * tjs_iter_init drops size-1 dims, then merges adjacent dims whose strides are "contiguous" for every
 * operand (stride[d] == shape[d+1] * stride[d+1], which also merges broadcast dims: 0 == n * 0), so a
 * contiguous tensor, or a contiguous tensor op a broadcast scalar, becomes one row (it.nd == 1). It keeps
 * the row-major element order: the k-th element visited is element k of the original shape.
 * A 0-d tensor (ndim 0) is one row of one element. ndim must be <= TJS_MAX_DIMS (callers check).
 *
 * Fields after init: nd (coalesced ndim, >= 1), shape[]/strides[op][] (coalesced), n = shape[nd-1] (row
 * length), is[op] = inner stride of op, off[op] = element offset of the current row's first element,
 * rows = number of rows (product of shape[0..nd-2]), total = number of elements.
 * tjs_iter_reset(&it) rewinds to the first row (for re-walking the same pattern, e.g. reduce).
 *
 * TJS_DEBUG builds check every row handed out: each operand's row must lie within the element extent [lo, hi]
 * that its shape and strides imply (computed from the dims as given, before coalescing, with int64 overflow
 * counted as out of bounds). A row outside it ends the iteration before the kernel touches it (init reports an
 * empty space, next reports the end) and records the fault in tjs_debug_fault, which the Python side
 * (backends/cpu/library.py) turns into TJS_ERR_BOUNDS whatever the kernel returned.
 */
#ifndef TJS_ITER_H
#define TJS_ITER_H
#include "tjs.h"

#define TJS_ITER_MAXOPS 4

typedef struct {
  int nd, nops;
  int64_t n, rows, total;
  int64_t is[TJS_ITER_MAXOPS];
  int64_t off[TJS_ITER_MAXOPS];
  int64_t shape[TJS_MAX_DIMS];
  int64_t idx[TJS_MAX_DIMS];
  int64_t strides[TJS_ITER_MAXOPS][TJS_MAX_DIMS];
#ifdef TJS_DEBUG
  int64_t lo[TJS_ITER_MAXOPS], hi[TJS_ITER_MAXOPS];   /* each operand's implied element extent */
#endif
} tjs_iter;

#ifdef TJS_DEBUG
/* Record a bounds fault: what = 1 + the iterator operand (or a kernel's own code, index.c), the offending element
 * offset and the extent it left. The first fault of a call wins. */
static inline void tjs_debug_trip(int64_t what, int64_t at, int64_t lo, int64_t hi) {
  if (tjs_debug_fault[0]) return;
  tjs_debug_fault[0] = what;
  tjs_debug_fault[1] = at;
  tjs_debug_fault[2] = lo;
  tjs_debug_fault[3] = hi;
}

/* the current row of every operand inside its extent? */
static inline int tjs_iter_row_ok(tjs_iter* it) {
  for (int k = 0; k < it->nops; k++) {
    int64_t a = it->off[k], span, b;
    if (__builtin_mul_overflow(it->n - 1, it->is[k], &span) || __builtin_add_overflow(a, span, &b)) {
      tjs_debug_trip(1 + k, a, it->lo[k], it->hi[k]);
      return 0;
    }
    if ((a < b ? a : b) < it->lo[k] || (a < b ? b : a) > it->hi[k]) {
      tjs_debug_trip(1 + k, a < it->lo[k] || a > it->hi[k] ? a : b, it->lo[k], it->hi[k]);
      return 0;
    }
  }
  return 1;
}
#endif

/* Returns 0 when the iteration space is empty (some dim has size 0), else 1. */
static inline int tjs_iter_init(tjs_iter* it, int ndim, const int64_t* shape, int nops,
                                const int64_t* const* strides) {
  int nd = 0;
  it->nops = nops;
  int64_t total = 1;
#ifdef TJS_DEBUG
  int overflow = 0;
  for (int k = 0; k < nops; k++) {
    int64_t lo = 0, hi = 0, span;
    for (int d = 0; d < ndim; d++) {
      if (shape[d] <= 1) continue;
      if (__builtin_mul_overflow(shape[d] - 1, strides[k][d], &span) ||
          __builtin_add_overflow(span < 0 ? lo : hi, span, span < 0 ? &lo : &hi))
        overflow = 1 + k;
    }
    it->lo[k] = lo;
    it->hi[k] = hi;
  }
#endif
  for (int d = 0; d < ndim; d++) {
    int64_t s = shape[d];
    if (s == 0) total = 0;
    if (s == 1) continue;
    total *= s;
    if (nd > 0) {
      int merge = 1;
      for (int k = 0; k < nops; k++)
        if (it->strides[k][nd - 1] != s * strides[k][d]) { merge = 0; break; }
      if (merge) {
        it->shape[nd - 1] *= s;
        for (int k = 0; k < nops; k++) it->strides[k][nd - 1] = strides[k][d];
        continue;
      }
    }
    it->shape[nd] = s;
    for (int k = 0; k < nops; k++) it->strides[k][nd] = strides[k][d];
    nd++;
  }
  if (nd == 0) {
    it->shape[0] = 1;
    for (int k = 0; k < nops; k++) it->strides[k][0] = 0;
    nd = 1;
  }
  it->nd = nd;
  it->total = total;
  it->n = it->shape[nd - 1];
  it->rows = total ? total / it->n : 0;
  for (int k = 0; k < nops; k++) { it->is[k] = it->strides[k][nd - 1]; it->off[k] = 0; }
  for (int d = 0; d < nd; d++) it->idx[d] = 0;
#ifdef TJS_DEBUG
  if (total != 0 && overflow) {
    tjs_debug_trip(overflow, 0, it->lo[overflow - 1], it->hi[overflow - 1]);
    return 0;
  }
  if (total != 0 && !tjs_iter_row_ok(it)) return 0;
#endif
  return total != 0;
}

static inline void tjs_iter_reset(tjs_iter* it) {
  for (int k = 0; k < it->nops; k++) it->off[k] = 0;
  for (int d = 0; d < it->nd; d++) it->idx[d] = 0;
}

/* Advance to the next row; returns 0 after the last row (and leaves the iterator rewound).
 * Not inlined: it runs once per row, and kernels call it from hundreds of loops. */
__attribute__((noinline, unused)) static int tjs_iter_next(tjs_iter* it) {
  for (int d = it->nd - 2; d >= 0; d--) {
    if (++it->idx[d] < it->shape[d]) {
      for (int k = 0; k < it->nops; k++) it->off[k] += it->strides[k][d];
#ifdef TJS_DEBUG
      return tjs_iter_row_ok(it);
#else
      return 1;
#endif
    }
    it->idx[d] = 0;
    for (int k = 0; k < it->nops; k++) it->off[k] -= (it->shape[d] - 1) * it->strides[k][d];
  }
  return 0;
}

/* Pointer from an ABI byte address. */
#define TJS_PTR(v) ((void*)(uintptr_t)(v))

#endif
