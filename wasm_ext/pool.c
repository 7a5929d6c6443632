/* 2-D pooling over contiguous planes (N·C planes of H×W; 1-D pooling passes H = 1, KH = 1), PyTorch CPU semantics.
 *
 *   tjs_pool2d:          max or average, fixed windows (kernel, stride, padding, dilation) or adaptive windows
 *                        [floor(o·I/O), ceil((o+1)·I/O)). Max writes the flat index ih·W + iw of each maximum
 *                        (NaN wins, the last NaN of a window; ties keep the first); avg sums in the element type
 *                        in row-major order, then divides once (adaptive: sum / kh / kw, as ATen).
 *   tjs_pool2d_backward: the adjoint into a zeroed contiguous grad_input: max adds each gradient at its saved
 *                        index, avg adds gradient / divisor over the window.
 * Output sizes (ceil_mode) are computed in Python. f32 and f64 (forward also i64); Python upcasts halves.
 *
 * Arguments (both kernels): mode (0 max, 1 avg), adaptive, dtype, planes, H, W, OH, OW, KH, KW, SH, SW, PH, PW,
 * DH, DW, count_include_pad, divisor_override (0: none), a, b, idx — forward: a = in, b = out, idx (int64, 0 for
 * none); backward: a = grad_in, b = grad_out, idx.
 */
#include "tjs.h"
#include "iter.h"

typedef ptrdiff_t idx_t;

typedef struct {
  int mode, adaptive;
  idx_t planes, H, W, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW, cip, dov;
} pool_p;

static inline idx_t start_index(idx_t o, idx_t O, idx_t I) { return (o * I) / O; }
static inline idx_t end_index(idx_t o, idx_t O, idx_t I) { return ((o + 1) * I + O - 1) / O; }

/* the window of output (oh, ow): rows [h0, h1) step dh, cols [w0, w1) step dw, and the avg divisor */
static inline void window(const pool_p* p, idx_t oh, idx_t ow, idx_t* h0, idx_t* h1, idx_t* w0, idx_t* w1,
                          idx_t* div) {
  if (p->adaptive) {
    *h0 = start_index(oh, p->OH, p->H); *h1 = end_index(oh, p->OH, p->H);
    *w0 = start_index(ow, p->OW, p->W); *w1 = end_index(ow, p->OW, p->W);
    *div = 0;
    return;
  }
  if (p->mode == 0) {
    idx_t a = oh * p->SH - p->PH, b = ow * p->SW - p->PW;
    idx_t a1 = a + (p->KH - 1) * p->DH + 1, b1 = b + (p->KW - 1) * p->DW + 1;
    if (a1 > p->H) a1 = p->H;
    if (b1 > p->W) b1 = p->W;
    if (a < 0) a += (-a + p->DH - 1) / p->DH * p->DH;   /* the first tap at or past row 0 (no loop: O(1)) */
    if (b < 0) b += (-b + p->DW - 1) / p->DW * p->DW;
    *h0 = a; *h1 = a1; *w0 = b; *w1 = b1; *div = 0;
    return;
  }
  idx_t a = oh * p->SH - p->PH, b = ow * p->SW - p->PW;
  idx_t a1 = a + p->KH, b1 = b + p->KW;
  if (a1 > p->H + p->PH) a1 = p->H + p->PH;
  if (b1 > p->W + p->PW) b1 = p->W + p->PW;
  const idx_t pool_size = (a1 - a) * (b1 - b);
  if (a < 0) a = 0;
  if (b < 0) b = 0;
  if (a1 > p->H) a1 = p->H;
  if (b1 > p->W) b1 = p->W;
  *h0 = a; *h1 = a1; *w0 = b; *w1 = b1;
  *div = p->dov ? p->dov : (p->cip ? pool_size : (a1 - a) * (b1 - b));
}

#define POOL_FWD(T_, LOWEST) do {                                                                                 \
    const T_* x = (const T_*)pa; T_* y = (T_*)pb;                                                         \
    const idx_t dh = (p.mode == 0 && !p.adaptive) ? p.DH : 1, dw = (p.mode == 0 && !p.adaptive) ? p.DW : 1; \
    for (idx_t pl = 0; pl < p.planes; pl++) {                                                             \
      const T_* xp = x + pl * p.H * p.W;                                                                  \
      T_* yp = y + pl * p.OH * p.OW;                                                                      \
      int64_t* ip = idx ? idx + pl * p.OH * p.OW : 0;                                                     \
      for (idx_t oh = 0; oh < p.OH; oh++)                                                                 \
        for (idx_t ow = 0; ow < p.OW; ow++) {                                                             \
          idx_t h0, h1, w0, w1, div;                                                                      \
          window(&p, oh, ow, &h0, &h1, &w0, &w1, &div);                                                   \
          const idx_t o = oh * p.OW + ow;                                                                 \
          if (p.mode == 0) {                                                                              \
            idx_t mi = h0 * p.W + w0;                                                                     \
            T_ mv = LOWEST;                                                                 \
            for (idx_t ih = h0; ih < h1; ih += dh)                                                        \
              for (idx_t iw = w0; iw < w1; iw += dw) {                                                    \
                const idx_t k = ih * p.W + iw;                                                            \
                const T_ v = xp[k];                                                                       \
                if (v > mv || v != v) { mv = v; mi = k; }                                                 \
              }                                                                                           \
            yp[o] = mv;                                                                                   \
            if (ip) ip[o] = mi;                                                                           \
          } else {                                                                                        \
            if (h0 >= h1 || w0 >= w1) { yp[o] = 0; continue; }                                            \
            T_ s = 0;                                                                                     \
            for (idx_t ih = h0; ih < h1; ih++)                                                            \
              for (idx_t iw = w0; iw < w1; iw++) s = TJS_WRAP_ADD(s, xp[ih * p.W + iw]);                  \
            if (p.adaptive) yp[o] = s / (T_)(h1 - h0) / (T_)(w1 - w0);                                    \
            else yp[o] = s / (T_)div;                                                                     \
          }                                                                                               \
        }                                                                                                 \
    }                                                                                                     \
  } while (0)

#define POOL_BWD(T_) do {                                                                                 \
    T_* gi = (T_*)pa; const T_* go = (const T_*)pb;                                                       \
    const idx_t in_sz = p.H * p.W, out_sz = p.OH * p.OW, total = p.planes * in_sz;                        \
    for (idx_t i = 0; i < total; i++) gi[i] = 0;                                                          \
    for (idx_t pl = 0; pl < p.planes; pl++) {                                                             \
      T_* gip = gi + pl * in_sz;                                                                          \
      const T_* gop = go + pl * out_sz;                                                                   \
      if (p.mode == 0) {                                                                                  \
        const int64_t* ip = idx + pl * out_sz;                                                            \
        for (idx_t o = 0; o < out_sz; o++) gip[ip[o]] += gop[o];                                          \
        continue;                                                                                         \
      }                                                                                                   \
      for (idx_t oh = 0; oh < p.OH; oh++)                                                                 \
        for (idx_t ow = 0; ow < p.OW; ow++) {                                                             \
          idx_t h0, h1, w0, w1, div;                                                                      \
          window(&p, oh, ow, &h0, &h1, &w0, &w1, &div);                                                   \
          if (h0 >= h1 || w0 >= w1) continue;                                                             \
          const T_ g = gop[oh * p.OW + ow];                                                               \
          const T_ d = p.adaptive ? g / (T_)(h1 - h0) / (T_)(w1 - w0) : g / (T_)div;                      \
          for (idx_t ih = h0; ih < h1; ih++)                                                              \
            for (idx_t iw = w0; iw < w1; iw++) gip[ih * p.W + iw] += d;                                   \
        }                                                                                                 \
    }                                                                                                     \
  } while (0)

static int read_args(pool_p* p, int* dt, char** pa, char** pb, int64_t** idx) {
  const int64_t* A = tjs_args;
  /* pool2d_backward has pool2d's layout (grad_in, grad_out in place of in, out): one reader for both */
  p->mode = (int)A[TJS_POOL2D_MODE]; p->adaptive = (int)A[TJS_POOL2D_ADAPTIVE]; *dt = (int)A[TJS_POOL2D_DTYPE];
  p->planes = (idx_t)A[TJS_POOL2D_PLANES]; p->H = (idx_t)A[TJS_POOL2D_H]; p->W = (idx_t)A[TJS_POOL2D_W];
  p->OH = (idx_t)A[TJS_POOL2D_OH]; p->OW = (idx_t)A[TJS_POOL2D_OW];
  p->KH = (idx_t)A[TJS_POOL2D_KH]; p->KW = (idx_t)A[TJS_POOL2D_KW]; p->SH = (idx_t)A[TJS_POOL2D_SH];
  p->SW = (idx_t)A[TJS_POOL2D_SW]; p->PH = (idx_t)A[TJS_POOL2D_PH]; p->PW = (idx_t)A[TJS_POOL2D_PW];
  p->DH = (idx_t)A[TJS_POOL2D_DH]; p->DW = (idx_t)A[TJS_POOL2D_DW];
  p->cip = (idx_t)A[TJS_POOL2D_COUNT_INCLUDE_PAD]; p->dov = (idx_t)A[TJS_POOL2D_DIVISOR_OVERRIDE];
  *pa = (char*)TJS_PTR(A[TJS_POOL2D_IN]); *pb = (char*)TJS_PTR(A[TJS_POOL2D_OUT]);
  *idx = (int64_t*)TJS_PTR(A[TJS_POOL2D_IDX]);
  if (p->mode < 0 || p->mode > 1) return TJS_ERR_OP;
  if (!p->adaptive && (p->DH <= 0 || p->DW <= 0 || p->SH <= 0 || p->SW <= 0)) return TJS_ERR_ARG;
  if (p->adaptive && (p->OH <= 0 || p->OW <= 0)) return TJS_ERR_ARG;
  return TJS_OK;
}

TJS_EXPORT int tjs_pool2d(void) {
  pool_p p; int dt; char *pa, *pb; int64_t* idx;
  int rc = read_args(&p, &dt, &pa, &pb, &idx);
  if (rc) return rc;
  if (dt == TJS_F32) POOL_FWD(float, -(float)__builtin_inf());
  else if (dt == TJS_F64) POOL_FWD(double, -__builtin_inf());
  else if (dt == TJS_I64) POOL_FWD(int64_t, INT64_MIN);   /* integer avg divides (truncating), as ATen */
  else return TJS_ERR_DTYPE;
  return TJS_OK;
}

TJS_EXPORT int tjs_pool2d_backward(void) {
  pool_p p; int dt; char *pa, *pb; int64_t* idx;
  int rc = read_args(&p, &dt, &pa, &pb, &idx);
  if (rc) return rc;
  if (p.mode == 0 && !idx) return TJS_ERR_ARG;
  if (dt == TJS_F32) POOL_BWD(float);
  else if (dt == TJS_F64) POOL_BWD(double);
  else return TJS_ERR_DTYPE;
  return TJS_OK;
}
