/* Advanced indexing in one general form (index, gather, scatter, index_select, index_add, take, put, ...).
 *
 *   tjs_index_offsets: offs (=|+=) wrap(idx) · dim_stride, bounds-checked (negative indices wrap unless refused:
 *                      gather and index_select take none); called once per indexed dim,
 *                      so offs ends up holding each result element's source (or target) element offset.
 *   tjs_take:          out[i] = src[offs[i] + Σ i_d·src_strides_d]
 *   tjs_put:           dst[offs[i] + Σ i_d·dst_strides_d] (+)= val[i], in row-major index order (last wins)
 *
 * idx and offs are int64; offsets and strides count elements. take/put only move bytes (the dtype sets the
 * element size); put with accumulate adds per dtype: floats add, ints wrap, bool ors, f16/bf16 add in f32 and
 * round back after every addition (what c10::Half / c10::BFloat16 arithmetic does).
 *
 * take/put also receive the byte range of the gathered / scattered storage ([start, end)). A TJS_DEBUG build
 * walks every index once before moving anything and returns TJS_ERR_BOUNDS (nothing written) if an element falls
 * outside it; the strided operands are checked by iter.h.
 */
#include "tjs.h"
#include "iter.h"
#include "cvt.h"

typedef ptrdiff_t idx_t;

TJS_EXPORT int tjs_index_offsets(void) {
  int ndim = (int)tjs_args[TJS_INDEX_OFFSETS_NDIM];
  if (ndim < 0 || ndim > TJS_MAX_DIMS) return TJS_ERR_ARG;
  int64_t *offs = (int64_t *)TJS_PTR(tjs_args[TJS_INDEX_OFFSETS_OFFS]);
  const int64_t *idx = (const int64_t *)TJS_PTR(tjs_args[TJS_INDEX_OFFSETS_IDX]);
  const int64_t *shape = tjs_args + TJS_INDEX_OFFSETS_SHAPE;
  const int64_t *strides[2] = {tjs_args + TJS_INDEX_OFFSETS_OFFS_STRIDES(ndim),
                               tjs_args + TJS_INDEX_OFFSETS_IDX_STRIDES(ndim)};
  int64_t dim_size = tjs_args[TJS_INDEX_OFFSETS_DIM_SIZE(ndim)];
  int64_t dim_stride = tjs_args[TJS_INDEX_OFFSETS_DIM_STRIDE(ndim)];
  const int flags = (int)tjs_args[TJS_INDEX_OFFSETS_FLAGS(ndim)];
  const int accumulate = flags & TJS_INDEX_ACCUMULATE;
  const int64_t lowest = (flags & TJS_INDEX_NO_NEGATIVE) ? 0 : -dim_size;

  tjs_iter it;
  if (!tjs_iter_init(&it, ndim, shape, 2, strides)) return TJS_OK;
  idx_t n = (idx_t)it.n, so = (idx_t)it.is[0], si = (idx_t)it.is[1];
  do {
    int64_t *o = offs + it.off[0];
    const int64_t *x = idx + it.off[1];
    for (idx_t i = 0; i < n; i++) {
      int64_t v = x[i * si];
      if (v < lowest || v >= dim_size) {
        tjs_err[0] = v;
        tjs_err[1] = dim_size;
        return TJS_ERR_INDEX;
      }
      if (v < 0) v += dim_size;
      int64_t d = v * dim_stride;
      if (accumulate) o[i * so] += d;
      else o[i * so] = d;
    }
  } while (tjs_iter_next(&it));
  return TJS_OK;
}

/* ------------------------------------------------------------------------------------------------------ */

#define TAKE_LOOP(T)                                                                                       \
  do {                                                                                                     \
    T *o = (T *)out + it.off[0];                                                                           \
    const T *s = (const T *)src + it.off[1];                                                               \
    const int64_t *f = offs + it.off[2];                                                                   \
    if (so == 1 && sf == 1 && ss == 0)                                                                     \
      for (idx_t i = 0; i < n; i++) o[i] = s[(idx_t)f[i]];                                                 \
    else                                                                                                   \
      for (idx_t i = 0; i < n; i++) o[i * so] = s[(idx_t)f[i * sf] + i * ss];                              \
  } while (0)

#ifdef TJS_DEBUG
/* every element `base[it.off[op] + offs[i] + i·is[op]]` (es bytes) inside the bytes [start, end)? Walks the whole
 * space and leaves the iterator rewound. */
static int indices_in(tjs_iter *it, int op, int fop, const void *base, int es, const int64_t *offs, int64_t start,
                      int64_t end) {
  const int64_t n = it->n, s = it->is[op], sf = it->is[fop], b = (int64_t)(uintptr_t)base;
  do {
    const int64_t *f = offs + it->off[fop];
    for (int64_t i = 0; i < n; i++) {
      int64_t t = 0, at = 0;
      if (__builtin_mul_overflow(i, s, &t) || __builtin_add_overflow(it->off[op], t, &t) ||
          __builtin_add_overflow(t, f[i * sf], &t) || __builtin_mul_overflow(t, (int64_t)es, &at) ||
          __builtin_add_overflow(at, b, &at) || at < start || at > end - es) {
        tjs_debug_trip(100 + op, t, start, end);
        return 0;
      }
    }
  } while (tjs_iter_next(it));
  return !tjs_debug_fault[0];
}
#endif

TJS_EXPORT int tjs_take(void) {
  int dtype = (int)tjs_args[TJS_TAKE_DTYPE];
  int ndim = (int)tjs_args[TJS_TAKE_NDIM];
  if (ndim < 0 || ndim > TJS_MAX_DIMS) return TJS_ERR_ARG;
  int es = tjs_dtype_size(dtype);
  if (!es) return TJS_ERR_DTYPE;
  void *out = TJS_PTR(tjs_args[TJS_TAKE_OUT]);
  const void *src = TJS_PTR(tjs_args[TJS_TAKE_SRC]);
  const int64_t *offs = (const int64_t *)TJS_PTR(tjs_args[TJS_TAKE_OFFS]);
  const int64_t *shape = tjs_args + TJS_TAKE_SHAPE;
  const int64_t *strides[3] = {tjs_args + TJS_TAKE_OUT_STRIDES(ndim), tjs_args + TJS_TAKE_SRC_STRIDES(ndim),
                               tjs_args + TJS_TAKE_OFFS_STRIDES(ndim)};
  const int64_t src_start = tjs_args[TJS_TAKE_SRC_START(ndim)], src_end = tjs_args[TJS_TAKE_SRC_END(ndim)];
  (void)src_start; (void)src_end;

  tjs_iter it;
  if (!tjs_iter_init(&it, ndim, shape, 3, strides)) return TJS_OK;
#ifdef TJS_DEBUG
  if (!indices_in(&it, 1, 2, src, es, offs, src_start, src_end)) return TJS_ERR_BOUNDS;
#endif
  idx_t n = (idx_t)it.n, so = (idx_t)it.is[0], ss = (idx_t)it.is[1], sf = (idx_t)it.is[2];
  do {
    switch (es) {
      case 1: TAKE_LOOP(uint8_t); break;
      case 2: TAKE_LOOP(uint16_t); break;
      case 4: TAKE_LOOP(uint32_t); break;
      default: TAKE_LOOP(uint64_t); break;
    }
  } while (tjs_iter_next(&it));
  return TJS_OK;
}

/* ------------------------------------------------------------------------------------------------------ */

/* EXPR combines the current target value `d` with the value `v` */
#define PUT_LOOP(T, EXPR)                                                                                  \
  do {                                                                                                     \
    const T *vp = (const T *)val + it.off[0];                                                              \
    T *dp = (T *)dst + it.off[1];                                                                          \
    const int64_t *f = offs + it.off[2];                                                                   \
    for (idx_t i = 0; i < n; i++) {                                                                        \
      T *t = dp + (idx_t)f[i * sf] + i * sd;                                                               \
      T v = vp[i * sv];                                                                                    \
      T d = *t;                                                                                            \
      (void)d;                                                                                             \
      *t = (EXPR);                                                                                         \
    }                                                                                                      \
  } while (0)

TJS_EXPORT int tjs_put(void) {
  int dtype = (int)tjs_args[TJS_PUT_DTYPE];
  int accumulate = (int)tjs_args[TJS_PUT_ACCUMULATE];
  int ndim = (int)tjs_args[TJS_PUT_NDIM];
  if (ndim < 0 || ndim > TJS_MAX_DIMS) return TJS_ERR_ARG;
  int es = tjs_dtype_size(dtype);
  if (!es) return TJS_ERR_DTYPE;
  void *dst = TJS_PTR(tjs_args[TJS_PUT_DST]);
  const void *val = TJS_PTR(tjs_args[TJS_PUT_VAL]);
  const int64_t *offs = (const int64_t *)TJS_PTR(tjs_args[TJS_PUT_OFFS]);
  const int64_t *shape = tjs_args + TJS_PUT_SHAPE;
  const int64_t *strides[3] = {tjs_args + TJS_PUT_VAL_STRIDES(ndim), tjs_args + TJS_PUT_DST_STRIDES(ndim),
                               tjs_args + TJS_PUT_OFFS_STRIDES(ndim)};
  const int64_t dst_start = tjs_args[TJS_PUT_DST_START(ndim)], dst_end = tjs_args[TJS_PUT_DST_END(ndim)];
  (void)dst_start; (void)dst_end;

  tjs_iter it;
  if (!tjs_iter_init(&it, ndim, shape, 3, strides)) return TJS_OK;
#ifdef TJS_DEBUG
  if (!indices_in(&it, 1, 2, dst, es, offs, dst_start, dst_end)) return TJS_ERR_BOUNDS;
#endif
  idx_t n = (idx_t)it.n, sv = (idx_t)it.is[0], sd = (idx_t)it.is[1], sf = (idx_t)it.is[2];
  do {
    if (!accumulate) {
      switch (es) {
        case 1: PUT_LOOP(uint8_t, v); break;
        case 2: PUT_LOOP(uint16_t, v); break;
        case 4: PUT_LOOP(uint32_t, v); break;
        default: PUT_LOOP(uint64_t, v); break;
      }
      continue;
    }
    switch (dtype) {
      case TJS_F32: PUT_LOOP(float, d + v); break;
      case TJS_F64: PUT_LOOP(double, d + v); break;
      case TJS_BOOL: PUT_LOOP(uint8_t, (uint8_t)((d | v) != 0)); break;
      case TJS_U8: case TJS_I8: PUT_LOOP(uint8_t, (uint8_t)(d + v)); break;
      case TJS_I16: PUT_LOOP(uint16_t, (uint16_t)(d + v)); break;
      case TJS_I32: PUT_LOOP(uint32_t, d + v); break;
      case TJS_I64: PUT_LOOP(uint64_t, d + v); break;
      case TJS_F16: PUT_LOOP(uint16_t, tjs_f2h(tjs_h2f(d) + tjs_h2f(v))); break;
      case TJS_BF16: PUT_LOOP(uint16_t, tjs_f2bf(tjs_bf2f(d) + tjs_bf2f(v))); break;
    }
  } while (tjs_iter_next(&it));
  return TJS_OK;
}
