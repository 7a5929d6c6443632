/* im2col / col2im: the data movement of a convolution over up to three spatial dims (2-D passes D = 1, KD = 1;
 * 1-D also H = 1, KH = 1).
 *
 *   tjs_im2col: cols[n, r, l] = x[n, c, od·SD − PD + kd·DD, oh·SH − PH + kh·DH, ow·SW − PW + kw·DW]
 *               (0 outside the volume) with r = ((c·KD + kd)·KH + kh)·KW + kw and l = (od·OH + oh)·OW + ow.
 *   tjs_col2im: the adjoint, x[n, c, id, ih, iw] = Σ cols[...] over every (r, l) that reads (id, ih, iw); x is
 *               written contiguous (N, C, D, H, W) and zeroed first.
 *
 * cols is addressed through three strides (n, r, l), so one kernel writes F.unfold's (N, C·KD·KH·KW, L) layout
 * and conv's (C·KD·KH·KW, N, L) layout, in which a grouped convolution is a single batched gemm (batch = group)
 * with the weight as A and no copy of the weight per image. For each (n, r, od, oh) row the valid ow range is
 * found once, so the inner loop is a plain strided copy (a memcpy-shaped loop when SW = 1 and the l stride is 1).
 * im2col moves bytes (any dtype by element size); col2im accumulates and takes f32/f64/i64 (Python upcasts halves).
 */
#include "tjs.h"
#include "iter.h"

typedef ptrdiff_t idx_t;

/* ow range [lo, hi) whose input column ow·S + off lies in [0, W) */
static inline void valid_range(idx_t off, idx_t S, idx_t W, idx_t OW, idx_t* lo, idx_t* hi) {
  idx_t l = off >= 0 ? 0 : (-off + S - 1) / S;
  idx_t h = (W - off) > 0 ? (W - off + S - 1) / S : 0;
  if (l > OW) l = OW;
  if (h > OW) h = OW;
  if (h < l) h = l;
  *lo = l;
  *hi = h;
}

/* The loop both kernels share: the body (the macro's arguments) runs once per (n, c, kd, kh, kw, od, oh) with
 * r, that tap's row of cols, row, the (od, oh) row's first l, id/ih, the input depth and row it reads (either
 * may lie outside), woff = kw·DW − PW, the input column offset, and [lo, hi), the ow range whose column is
 * inside. */
#define FOR_EACH_ROW(...)                                                                                 \
  for (idx_t n = 0; n < N; n++)                                                                           \
    for (idx_t c = 0; c < C; c++)                                                                         \
      for (idx_t kd = 0; kd < KD; kd++)                                                                   \
        for (idx_t kh = 0; kh < KH; kh++)                                                                 \
          for (idx_t kw = 0; kw < KW; kw++) {                                                             \
            const idx_t r = ((c * KD + kd) * KH + kh) * KW + kw;                                          \
            const idx_t woff = kw * DW - PW;                                                              \
            idx_t lo, hi;                                                                                 \
            valid_range(woff, SW, W, OW, &lo, &hi);                                                       \
            for (idx_t od = 0; od < OD; od++) {                                                           \
              const idx_t id = od * SD - PD + kd * DD;                                                    \
              for (idx_t oh = 0; oh < OH; oh++) {                                                         \
                const idx_t ih = oh * SH - PH + kh * DH;                                                  \
                const idx_t row = (od * OH + oh) * OW;                                                    \
                __VA_ARGS__                                                                               \
              }                                                                                           \
            }                                                                                             \
          }

#define IM2COL(T_) do {                                                                                   \
    const T_* x = (const T_*)in; T_* y = (T_*)out;                                                        \
    FOR_EACH_ROW(                                                                                         \
      T_* dst = y + n * ysn + r * ysr + row * ysl;                                                        \
      if (id < 0 || id >= D || ih < 0 || ih >= H) { for (idx_t ow = 0; ow < OW; ow++) dst[ow * ysl] = 0; continue; } \
      const T_* src = x + n * xsn + c * xsc + id * xsd + ih * xsh + woff * xsw;                           \
      idx_t ow = 0;                                                                                       \
      for (; ow < lo; ow++) dst[ow * ysl] = 0;                                                            \
      if (ysl == 1 && SW * xsw == 1) { for (; ow < hi; ow++) dst[ow] = src[ow]; }                         \
      else { const idx_t s = SW * xsw; for (; ow < hi; ow++) dst[ow * ysl] = src[ow * s]; }               \
      for (; ow < OW; ow++) dst[ow * ysl] = 0;                                                            \
    )                                                                                                     \
  } while (0)

#define COL2IM(T_) do {                                                                                   \
    const T_* cp = (const T_*)in; T_* x = (T_*)out;                                                       \
    const idx_t total = N * C * D * H * W;                                                                \
    for (idx_t i = 0; i < total; i++) x[i] = 0;                                                           \
    FOR_EACH_ROW(                                                                                         \
      if (id < 0 || id >= D || ih < 0 || ih >= H) continue;                                               \
      const T_* src = cp + n * csn + r * csr + row * csl;                                                 \
      T_* dst = x + (((n * C + c) * D + id) * H + ih) * W + woff;                                         \
      for (idx_t ow = lo; ow < hi; ow++) dst[ow * SW] = TJS_WRAP_ADD(dst[ow * SW], src[ow * csl]);        \
    )                                                                                                     \
  } while (0)

static int im2col_from(const int64_t* A) {
  const int dt = (int)A[TJS_IM2COL_DTYPE];
  const idx_t N = (idx_t)A[TJS_IM2COL_N], C = (idx_t)A[TJS_IM2COL_C], D = (idx_t)A[TJS_IM2COL_D],
              H = (idx_t)A[TJS_IM2COL_H], W = (idx_t)A[TJS_IM2COL_W];
  const idx_t KD = (idx_t)A[TJS_IM2COL_KD], KH = (idx_t)A[TJS_IM2COL_KH], KW = (idx_t)A[TJS_IM2COL_KW],
              SD = (idx_t)A[TJS_IM2COL_SD], SH = (idx_t)A[TJS_IM2COL_SH], SW = (idx_t)A[TJS_IM2COL_SW],
              PD = (idx_t)A[TJS_IM2COL_PD], PH = (idx_t)A[TJS_IM2COL_PH], PW = (idx_t)A[TJS_IM2COL_PW],
              DD = (idx_t)A[TJS_IM2COL_DD], DH = (idx_t)A[TJS_IM2COL_DH], DW = (idx_t)A[TJS_IM2COL_DW],
              OD = (idx_t)A[TJS_IM2COL_OD], OH = (idx_t)A[TJS_IM2COL_OH], OW = (idx_t)A[TJS_IM2COL_OW];
  const char* in = (const char*)TJS_PTR(A[TJS_IM2COL_IN]);
  const idx_t xsn = (idx_t)A[TJS_IM2COL_IN_STRIDES], xsc = (idx_t)A[TJS_IM2COL_IN_STRIDES + 1],
              xsd = (idx_t)A[TJS_IM2COL_IN_STRIDES + 2], xsh = (idx_t)A[TJS_IM2COL_IN_STRIDES + 3],
              xsw = (idx_t)A[TJS_IM2COL_IN_STRIDES + 4];
  char* out = (char*)TJS_PTR(A[TJS_IM2COL_OUT]);
  const idx_t ysn = (idx_t)A[TJS_IM2COL_OUT_STRIDES], ysr = (idx_t)A[TJS_IM2COL_OUT_STRIDES + 1],
              ysl = (idx_t)A[TJS_IM2COL_OUT_STRIDES + 2];
  if (SW <= 0 || SH <= 0 || SD <= 0) return TJS_ERR_ARG;
  switch (dt) {
    case TJS_BOOL: case TJS_U8: case TJS_I8: IM2COL(uint8_t); break;
    case TJS_I16: case TJS_F16: case TJS_BF16: IM2COL(uint16_t); break;
    case TJS_I32: case TJS_F32: IM2COL(uint32_t); break;
    case TJS_I64: case TJS_F64: IM2COL(uint64_t); break;
    default: return TJS_ERR_DTYPE;
  }
  return TJS_OK;
}

static int col2im_from(const int64_t* A) {
  const int dt = (int)A[TJS_COL2IM_DTYPE];
  const idx_t N = (idx_t)A[TJS_COL2IM_N], C = (idx_t)A[TJS_COL2IM_C], D = (idx_t)A[TJS_COL2IM_D],
              H = (idx_t)A[TJS_COL2IM_H], W = (idx_t)A[TJS_COL2IM_W];
  const idx_t KD = (idx_t)A[TJS_COL2IM_KD], KH = (idx_t)A[TJS_COL2IM_KH], KW = (idx_t)A[TJS_COL2IM_KW],
              SD = (idx_t)A[TJS_COL2IM_SD], SH = (idx_t)A[TJS_COL2IM_SH], SW = (idx_t)A[TJS_COL2IM_SW],
              PD = (idx_t)A[TJS_COL2IM_PD], PH = (idx_t)A[TJS_COL2IM_PH], PW = (idx_t)A[TJS_COL2IM_PW],
              DD = (idx_t)A[TJS_COL2IM_DD], DH = (idx_t)A[TJS_COL2IM_DH], DW = (idx_t)A[TJS_COL2IM_DW],
              OD = (idx_t)A[TJS_COL2IM_OD], OH = (idx_t)A[TJS_COL2IM_OH], OW = (idx_t)A[TJS_COL2IM_OW];
  const char* in = (const char*)TJS_PTR(A[TJS_COL2IM_COLS]);
  const idx_t csn = (idx_t)A[TJS_COL2IM_COLS_STRIDES], csr = (idx_t)A[TJS_COL2IM_COLS_STRIDES + 1],
              csl = (idx_t)A[TJS_COL2IM_COLS_STRIDES + 2];
  char* out = (char*)TJS_PTR(A[TJS_COL2IM_OUT]);
  if (SW <= 0 || SH <= 0 || SD <= 0) return TJS_ERR_ARG;
  switch (dt) {
    case TJS_F32: COL2IM(float); break;
    case TJS_F64: COL2IM(double); break;
    case TJS_I64: COL2IM(int64_t); break;
    default: return TJS_ERR_DTYPE;
  }
  return TJS_OK;
}

/* the kernels over the argument block at A (their layouts): the shared-memory module's pooled im2col and col2im
 * (wasm_ext/pool/pool_conv.c) run them on ranges of images, each image's columns and voxels on its own */
int tjs_im2col_from(const int64_t* A) { return im2col_from(A); }
int tjs_col2im_from(const int64_t* A) { return col2im_from(A); }

TJS_EXPORT int tjs_im2col(void) { return im2col_from(tjs_args); }
TJS_EXPORT int tjs_col2im(void) { return col2im_from(tjs_args); }
